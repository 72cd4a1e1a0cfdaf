// Versioned map and ACL updates (`prepare map|acl`, `add … @<ver>`, `commit map|acl @<ver>`,
// `show|clear … @<ver>`) and `get acl`: compared with real HAProxy 2.6 byte for byte, and the
// requests of a running gateway read the current version only, until a commit swaps it.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { upstream } from '../gateway/fixtures.js'
import { head, skipWithoutHaproxy, startBoth } from '../differential/harness.js'
import { askBoth, cli, waitForSocket } from './client.js'

/** Entry pointers and the config's temp dir differ from run to run. */
const mask = (s: string): string => s.replace(/0x[0-9a-f]+/g, '0xPTR').replace(/fh-diff-(haproxy|ours)-\w+/g, 'fh-diff')

const COMMANDS = [
  'show map', 'prepare map MAP', 'prepare map MAP', 'add map @1 MAP /k3 v3', 'add map @2 MAP /k4 v4', 'show map',
  'show map @1 MAP', 'show map @2 MAP', 'show map MAP', 'get map MAP /k3', 'commit map @1 MAP', 'show map MAP', 'get map MAP /k3',
  'show map', 'commit map @1 MAP', 'commit map @9 MAP', 'commit map @x MAP', 'add map @9 MAP a b', 'add map @1 MAP /k6 v6',
  'show map @1 MAP', 'clear map @2 MAP', 'show map', 'commit map MAP', 'commit map @2', 'prepare map', 'prepare map /nope',
  'commit map @2 /nope', 'clear map @7 MAP', 'add map MAP k', 'add map @2 MAP', 'set map @2 MAP /k3 x', 'commit map @2 MAP',
  'show map MAP', 'show map', 'prepare map MAP', 'add map @3 MAP <<\nx1 y1\nx2 y2\n', 'show map @3 MAP', 'commit map @3 MAP', 'show map MAP',
  'prepare acl ACL', 'add acl @1 ACL /zz', 'add acl @2 ACL /zz', 'add acl @1 ACL', 'show acl @1 ACL', 'get acl ACL /zz',
  'get acl ACL /foo/x', 'get acl ACL foo', 'commit acl @1 ACL', 'get acl ACL /zz', 'get acl ACL /zz/y', 'get acl ACL', 'get acl',
  'get acl /nope x', 'show acl ACL', 'commit acl @2 ACL', 'commit acl ACL', 'commit acl @1', 'prepare acl', 'clear acl @1 ACL',
  'user;prepare map MAP', 'user;commit map @4 MAP', 'user;get acl ACL /zz'
]

test('runtime API: versioned map and ACL updates and get acl, as haproxy 2.6 answers them', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-ver-'))
  const map = join(dir, 'a.map')
  const acl = join(dir, 'a.acl')
  writeFileSync(map, '/k1 v1\n/k2 v2\n')
  writeFileSync(acl, 'foo\nbar\n')
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${dir}/admin-${port}.sock level admin`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    // the map is read first, so that it gets the same id as in HAProxy (whose inline ACL patterns take ids too)
    `    http-request set-header x-m %[path,map(${map})]`,
    `    http-request deny if { path_beg -f ${acl} }`,
    '    default_backend be',
    'backend be',
    '    server s1 127.0.0.1:1',
    ''
  ].join('\n'))
  try {
    for (const p of [both.haproxy.port, both.ours.port]) await waitForSocket(join(dir, `admin-${p}.sock`))
    for (const raw of COMMANDS) {
      const cmd = raw.replace(/MAP/g, map).replace(/ACL/g, acl)
      const { real, ours } = await askBoth(join(dir, `admin-${both.haproxy.port}.sock`), join(dir, `admin-${both.ours.port}.sock`), cmd)
      assert.equal(mask(ours), mask(real), cmd)
    }
  } finally {
    await both.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a prepared version is not seen by requests until it is committed, then replaces the whole map', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-rt-ver-'))
  const sock = join(dir, 'admin.sock')
  const map = join(dir, 'hosts.map')
  const acl = join(dir, 'blocked.acl')
  writeFileSync(map, 'a.example blue\nb.example blue\n')
  writeFileSync(acl, '/old-secret\n')
  const blue = await upstream('blue')
  const green = await upstream('green')
  const app = Fastify()
  await app.register(haproxyRouter, {
    config: `global\n stats socket ${sock} level admin\ndefaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n` +
      `frontend fe\n bind :1\n http-request deny if { path_beg -f ${acl} }\n use_backend %[req.hdr(host),lower,map(${map},blue)]\n` +
      `backend blue\n server b ${blue.addr}\nbackend green\n server g ${green.addr}\n`,
    defaultBackend: 'always',
    runtimeSocket: true
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const served = async (host: string, path = '/'): Promise<string | number> => {
    const r = await app.inject({ method: 'GET', url: path, headers: { host } })
    return r.statusCode === 200 ? String(r.headers['x-served-by']) : r.statusCode
  }
  try {
    await waitForSocket(sock)
    assert.equal(await served('a.example'), 'blue')
    assert.equal(await cli(sock, `prepare map ${map}\n`), 'New version created: 1\n\n')
    assert.equal(await cli(sock, `add map @1 ${map} <<\na.example green\nc.example green\n\n`), '\n')
    // staged: requests still read version 0
    assert.equal(await served('a.example'), 'blue')
    assert.equal(await served('c.example'), 'blue')
    assert.equal(await cli(sock, `commit map @1 ${map}\n`), '\n')
    assert.equal(await served('a.example'), 'green')
    assert.equal(await served('c.example'), 'green')
    // b.example was not in version 1: the default applies
    assert.equal(await served('b.example'), 'blue')
    assert.match(await cli(sock, `show map ${map}\n`), /^0x[0-9a-f]+ a\.example green\n0x[0-9a-f]+ c\.example green\n\n$/)

    assert.equal(await served('x', '/old-secret'), 403)
    assert.equal(await cli(sock, `prepare acl ${acl}\n`), 'New version created: 1\n\n')
    assert.equal(await cli(sock, `add acl @1 ${acl} /new-secret\n`), '\n')
    assert.equal(await served('x', '/new-secret'), 'blue')
    assert.equal(await cli(sock, `get acl ${acl} /new-secret/x\n`), 'type=beg, case=sensitive, match=no\n\n')
    assert.equal(await cli(sock, `commit acl @1 ${acl}\n`), '\n')
    assert.equal(await served('x', '/new-secret'), 403)
    assert.equal(await served('x', '/old-secret'), 'blue')
    assert.equal(await cli(sock, `get acl ${acl} /new-secret/x\n`), 'type=beg, case=sensitive, match=yes, idx=tree, pattern="/new-secret"\n\n')
  } finally {
    await app.close()
    await blue.close()
    await green.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
