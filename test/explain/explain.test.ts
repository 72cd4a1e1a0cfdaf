// explain: a request walked through the rules without being sent — by app.haproxy.explain(),
// the runtime API's `explain` command and `fastify-haproxy explain`.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { upstream } from '../gateway/fixtures.js'

const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

const CONFIG = (a: string, b: string): string => [
  'defaults', ' mode http', ' timeout connect 1s', ' timeout client 5s', ' timeout server 5s',
  'frontend fe', ' bind :1',
  ' acl is_api path_beg /api',
  ' acl blocked hdr(user-agent) -m sub BadBot',
  ' http-request deny if blocked',
  ' use_backend api if is_api',
  ' default_backend web',
  'backend api', ' balance uri', ` server a1 ${a}`, ` server a2 ${b}`,
  'backend web', ` server w1 ${a}`, ` server w2 ${b}`, ''
].join('\n')

test('app.haproxy.explain: ACL values and results, rules in order, backend and server, nothing sent', async () => {
  const a = await upstream('a')
  const b = await upstream('b')
  const app = Fastify()
  await app.register(haproxyRouter, { config: CONFIG(a.addr, b.addr), defaultBackend: 'always' })
  await app.ready()
  try {
    const e = app.haproxy.explain({ method: 'GET', url: '/api/users', headers: { 'user-agent': 'curl' } })
    assert.equal(e.backend, 'api')
    assert.ok(e.server === 'a1' || e.server === 'a2')
    // balance uri: the same URI gives the same server, as the real pick
    assert.equal(app.haproxy.explain({ url: '/api/users' }).server, e.server)
    assert.deepEqual(e.steps.slice(1, 5), [
      '  acl is_api path_beg /api  (line 8): path_beg = "/api/users" → true',
      '  acl blocked hdr(user-agent) -m sub BadBot  (line 9): hdr(user-agent) = ["curl"] → false',
      '  http-request deny if blocked  (line 10): skipped',
      '  use_backend api if is_api  (line 11): chosen'
    ])
    const denied = app.haproxy.explain({ url: '/', headers: { 'user-agent': 'BadBot/1' } })
    assert.equal(denied.decision, 'deny 403')
    const web = app.haproxy.explain({ url: '/home' })
    assert.equal(web.backend, 'web')
    assert.deepEqual(web.candidates, ['w1', 'w2'])
    assert.equal(a.seen.length + b.seen.length, 0, 'nothing was sent')
    assert.match(app.haproxy.command('explain GET /api/x User-Agent:\\ BadBot'), /http-request deny if blocked {2}\(line 10\): applies\n {2}→ the request is answered by the rules: deny 403\n\n$/)
  } finally {
    await app.close()
    await Promise.all([a.close(), b.close()])
  }
})

test('fastify-haproxy explain -f cfg "GET /path" -H "Host: x"', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-explain-'))
  try {
    writeFileSync(join(dir, 'h.cfg'), CONFIG('127.0.0.1:1', '127.0.0.1:2'))
    const r = spawnSync(process.execPath, [cliPath, 'explain', '-f', join(dir, 'h.cfg'), 'GET /api/v1', '-H', 'Host: example.com'], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^frontend fe: GET \/api\/v1\n/)
    assert.match(r.stdout, /use_backend api if is_api {2}\(line 11\): chosen\n/)
    assert.match(r.stdout, /backend api \(balance uri\): server a[12] would be picked now\n$/)
    const bad = spawnSync(process.execPath, [cliPath, 'explain', '-f', join(dir, 'h.cfg')], { encoding: 'utf8' })
    assert.equal(bad.status, 1)
    assert.match(bad.stderr, /^Usage : fastify-haproxy explain/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
