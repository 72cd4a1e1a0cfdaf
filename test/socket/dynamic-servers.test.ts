// Dynamic servers with checks and TLS (`add server … check | ssl | verify | ca-file | sni`):
// the same commands sent to real HAProxy 2.6 and to this package, answers and server states
// compared; then each server is put in service and carries requests, its checks run once
// `enable health` started them, and its TLS connection verifies the upstream's certificate.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { head, send, skipWithoutHaproxy, startBoth, startUpstream } from '../differential/harness.js'
import { makeCa, makeLeaf } from '../tls/certs.js'
import { waitFor } from '../gateway/fixtures.js'
import { askBoth, cli, waitForSocket } from './client.js'

/** `show servers state`'s seconds since the last change vary from run to run. */
const mask = (s: string): string => s.replace(/^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+) \d+ /gm, '$1 T ')

test('add server with check and TLS options: answers, states, checks and requests as haproxy 2.6', { skip: skipWithoutHaproxy, timeout: 90_000 }, async () => {
  const up = await startUpstream('plain')
  const ca = makeCa()
  const leaf = makeLeaf(ca, join(ca.dir, 'up.pem'), 'up.test', ['up.test'])
  const tlsUp = https.createServer({ cert: leaf.certOnly, key: leaf.key }, (_req, res) => { res.setHeader('x-served-by', 'tls'); res.end('tls') })
  await new Promise<void>(resolve => tlsUp.listen(0, '127.0.0.1', resolve))
  const tlsPort = (tlsUp.address() as AddressInfo).port
  const unloadedCa = join(ca.dir, 'other-ca.pem')
  // a copy of the CA under another name: one the configuration never loaded
  writeFileSync(unloadedCa, readFileSync(ca.cert))
  const dir = ca.dir
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${dir}/admin-${port}.sock level admin`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    use_backend tlsbe if { path_beg /tls }',
    '    default_backend be',
    'backend be',
    '    balance roundrobin',
    // its only server stays in maintenance: requests go to the dynamic ones
    `    server s1 127.0.0.1:${up.port} disabled`,
    'backend tlsbe',
    '    balance roundrobin',
    `    server t1 127.0.0.1:${tlsPort} ssl verify required ca-file ${ca.cert} sni str(up.test) disabled`,
    ''
  ].join('\n'))
  const sock = (p: number): string => join(dir, `admin-${p}.sock`)
  const same = async (cmd: string): Promise<string> => {
    const { real, ours } = await askBoth(sock(both.haproxy.port), sock(both.ours.port), cmd)
    assert.equal(mask(ours), mask(real), cmd)
    return ours
  }
  try {
    for (const p of [both.haproxy.port, both.ours.port]) await waitForSocket(sock(p))
    const refused = [
      `add server be/r1 127.0.0.1:${up.port} cookie c1`, `add server be/r2 127.0.0.1:${up.port} resolvers dns`,
      `add server be/r3 127.0.0.1:${up.port} no-check`, `add server be/r4 127.0.0.1:${up.port} init-addr none`,
      `add server be/r5 127.0.0.1:${tlsPort} ssl`, `add server be/r6 127.0.0.1:${tlsPort} check-ssl`,
      `add server be/r7 127.0.0.1:${tlsPort} ssl verify required ca-file ${unloadedCa}`,
      'add server be/r8 127.0.0.1 check', `add server be/r9 127.0.0.1:${up.port} agent-check`,
      `add server be/r10 127.0.0.1:${up.port} rise 0`, `add server be/r11 127.0.0.1:${up.port} verify maybe`,
      `add server be/r12 127.0.0.1:${up.port} frobnicate`, `add server be/r13 127.0.0.1:${up.port} ssl verify`
    ]
    for (const cmd of refused) await same(cmd)

    assert.equal(await same(`add server be/d1 127.0.0.1:${up.port} check inter 1s rise 1 fall 1`), 'New server registered.\n\n')
    assert.equal(await same('add server be/d2 127.0.0.1:1 check inter 1s rise 1 fall 1 weight 5'), 'New server registered.\n\n')
    assert.equal(await same(`add server tlsbe/d3 127.0.0.1:${tlsPort} ssl verify none check inter 1s`), 'New server registered.\n\n')
    assert.equal(await same(`add server tlsbe/d5 127.0.0.1:${tlsPort} ssl verify none check check-ssl inter 1s`), 'New server registered.\n\n')
    assert.equal(await same(`add server tlsbe/d4 127.0.0.1:${tlsPort} ssl verify required ca-file ${ca.cert} sni str(up.test) alpn http/1.1`), 'New server registered.\n\n')
    // checks every second, each over in a few ms: the states compared below are not caught mid-check
    // in maintenance, checks configured but not started
    await same('show servers state be')
    await same('show servers state tlsbe')
    await same('enable health be/s1')
    for (const cmd of ['enable server be/d1', 'enable server be/d2', 'enable server tlsbe/d3', 'enable server tlsbe/d5']) await same(cmd)
    // enabled, checks still stopped: "no check"
    await same('show servers state be')
    for (const cmd of ['enable health be/d1', 'enable health be/d2', 'enable health tlsbe/d3', 'enable health tlsbe/d5']) await same(cmd)
    /** A server's `status` and `check_status` columns of `show stat`. */
    const status = (text: string, sv: string): string => {
      const f = text.split('\n').find(l => l.split(',')[1] === sv)?.split(',')
      return f === undefined ? '' : `${f[17]!} ${f[36]!}`
    }
    for (const p of [both.haproxy.port, both.ours.port]) {
      let seen: string[] = []
      // checks run on their own timers
      await waitFor(async () => {
        const stat = await cli(sock(p), 'show stat\n')
        seen = ['d1', 'd2', 'd3', 'd5'].map(sv => status(stat, sv))
        // `ssl` alone leaves a dynamic server's check in clear (2.6.12): `check-ssl` makes it TLS
        return seen.join() === 'UP L4OK,DOWN L4CON,UP L4OK,UP L6OK'
      }, `checks of port ${p}`, 10_000).catch((err: Error) => { throw new Error(`${err.message} (${p === both.ours.port ? "ours" : "haproxy"}): ${seen.join()}`) })
    }
    await same('show servers state be')
    await same('show servers state tlsbe')
    for (const p of [both.haproxy.port, both.ours.port]) {
      assert.equal((await send(p, { path: '/' })).headers['x-served-by'], 'plain', `port ${p}`)
      // d3 (verify none) and d4 (the CA, the SNI) both reach the TLS upstream
      await cli(sock(p), 'set server tlsbe/d5 state maint\n')
      for (const srv of ['d3', 'd4']) {
        await cli(sock(p), `set server tlsbe/${srv === 'd3' ? 'd4' : 'd3'} state maint\n`)
        await cli(sock(p), `set server tlsbe/${srv} state ready\n`)
        const r = await send(p, { path: '/tls' })
        assert.equal(r.status, 200, `${p === both.ours.port ? "ours" : "haproxy"} via ${srv}`)
        assert.equal(r.body, 'tls')
      }
    }
    await same('disable health be/d1')
    await same('show servers state be')
    await same('set server be/d1 state maint')
    await same('del server be/d1')
    await same('show servers state be')
  } finally {
    await both.stop()
    await up.close()
    await new Promise<void>(resolve => tlsUp.close(() => resolve()))
    rmSync(ca.dir, { recursive: true, force: true })
  }
})
