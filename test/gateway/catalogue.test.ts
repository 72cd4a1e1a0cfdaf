// The error catalogue (as fastify's test/internals/errors.test.js): every FST_HAPROXY_* export is
// an @fastify/error constructor whose code is its name, with an HTTP status, and README.md's
// Errors table documents exactly these codes.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as errors from '../../lib/errors.js'

const catalogue = Object.entries(errors).filter(([name]) => name.startsWith('FST_HAPROXY_')) as Array<[string, new (...a: string[]) => Error & { code: string, statusCode?: number }]>

test('every FST_HAPROXY_* key equals its .code and carries an HTTP status', () => {
  assert.ok(catalogue.length >= 10, `found ${catalogue.length} codes`)
  for (const [name, E] of catalogue) {
    const err = new E('a', 'b', 'c')
    assert.ok(err instanceof Error, name)
    assert.equal(err.code, name)
    assert.equal(err.name, 'FastifyError', name)
    assert.ok(Number.isInteger(err.statusCode) && err.statusCode! >= 400 && err.statusCode! < 600, `${name}: status ${err.statusCode}`)
  }
})

test('README.md\'s Errors table lists exactly the catalogue', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('\n## Errors'), readme.indexOf('\n## ', readme.indexOf('\n## Errors') + 1))
  const documented = [...section.matchAll(/^\| `(FST_HAPROXY_[A-Z_]+)` \| (\d{3}) \|/gm)]
  const byCode = new Map(documented.map(m => [m[1]!, Number(m[2])]))
  for (const [name, E] of catalogue) {
    assert.ok(byCode.has(name), `${name} is missing from README.md's Errors table`)
    assert.equal(byCode.get(name), new E('a', 'b', 'c').statusCode, `${name}: the README's status`)
  }
  assert.deepEqual([...byCode.keys()].sort(), catalogue.map(([name]) => name).sort(), 'the README documents no code the catalogue lacks')
})
