// `show ssl cert [<file>]`: the certificate files of the TLS binds and one file's details
// (serial, validity, DNS names, algorithm, fingerprint, subject, issuer, chain), compared with
// real HAProxy 2.6 on the same files, at each level.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, head, skipWithoutHaproxy, startBoth } from '../differential/harness.js'
import { makeCa, makeLeaf } from '../tls/certs.js'
import { askBoth, waitForSocket } from './client.js'

test('show ssl cert: the loaded files and their certificates as haproxy 2.6 shows them', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const ca = makeCa('Test CA')
  const dir = ca.dir
  const leaf = makeLeaf(ca, join(dir, 'b-leaf.pem'), 'a.test', ['a.test', '*.b.test'])
  // the leaf, its chain and its key in one file, as HAProxy reads a `crt`
  const chained = join(dir, 'a-chain.pem')
  writeFileSync(chained, leaf.certOnly + readFileSync(ca.cert, 'latin1') + leaf.key)
  const tlsPorts = [await freePort(), await freePort()]
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${dir}/admin-${port}.sock level admin`,
    `    stats socket ${dir}/operator-${port}.sock level operator`,
    `    stats socket ${dir}/user-${port}.sock level user`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    `    bind 127.0.0.1:${tlsPorts.shift()!} ssl crt ${leaf.pem} crt ${chained}`,
    '    default_backend be',
    'backend be',
    '    server s1 127.0.0.1:1',
    ''
  ].join('\n'))
  try {
    for (const p of [both.haproxy.port, both.ours.port]) await waitForSocket(join(dir, `admin-${p}.sock`))
    for (const level of ['admin', 'operator', 'user']) {
      for (const cmd of ['show ssl cert', `show ssl cert ${leaf.pem}`, `show ssl cert ${chained}`, `show ssl cert ${dir}/nope.pem`]) {
        const { real, ours } = await askBoth(join(dir, `${level}-${both.haproxy.port}.sock`), join(dir, `${level}-${both.ours.port}.sock`), cmd)
        assert.equal(ours, real, `${level}: ${cmd}`)
      }
    }
  } finally {
    await both.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
