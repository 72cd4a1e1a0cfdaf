// The server keyword `ws auto|h1|h2` (the protocol WebSocket takes toward the server), server
// `alpn` and the `ssl_bc_alpn` fetch, as HAProxy's reg-test http-messaging/srv_ws checks them:
// an instance answering upgrades itself (with the HTTP version they reached it in) behind one
// forwarding them. HAProxy's file cannot run in its kit (its common.pem is a link neither reads)
// and points `proto h2` servers at a clear bind without `proto h2`; here the server instance has
// a `proto h2` bind for them and a certificate of our own.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeCa, makeLeaf } from './certs.js'
import { freePorts, waitListening, startGateway, get } from '../gateway/fixtures.js'

/** A WebSocket handshake on a raw connection: the answer's status and headers. */
async function handshake (port: number): Promise<{ status: number, headers: Record<string, string> }> {
  const socket = net.connect(port, '127.0.0.1')
  socket.write('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
  let text = ''
  try {
    return await new Promise((resolve, reject) => {
      socket.on('error', reject)
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1')
        const end = text.indexOf('\r\n\r\n')
        if (end < 0) return
        const [line, ...fields] = text.slice(0, end).split('\r\n')
        const headers: Record<string, string> = {}
        for (const f of fields) headers[f.slice(0, f.indexOf(':')).toLowerCase()] = f.slice(f.indexOf(':') + 1).trim()
        resolve({ status: Number(line!.split(' ')[1]), headers })
      })
    })
  } finally {
    socket.destroy()
  }
}

test('server ws h1|h2|auto, alpn and ssl_bc_alpn: WebSocket goes where HAProxy sends it', async () => {
  const ca = makeCa()
  const pem = makeLeaf(ca, join(ca.dir, 'server.pem'), 'server.test', ['server.test']).pem
  const dir = mkdtempSync(join(tmpdir(), 'fh-srv-ws-'))
  const base = await freePorts(3)
  const [fe, feh2, fessl] = [base, base + 1, base + 2]
  const defaults = `defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
`
  writeFileSync(join(dir, 'server.cfg'), `${defaults}
frontend fe
    bind 127.0.0.1:${fe}
    bind 127.0.0.1:${feh2} proto h2
    bind 127.0.0.1:${fessl} ssl crt ${pem} alpn h2,http/1.1
    capture request header sec-websocket-key len 128
    http-request set-var(txn.ver) req.ver
    use_backend be

backend be
    acl ws_handshake hdr(upgrade) -m str websocket
    http-request return status 200 if !ws_handshake
    http-request return status 200 hdr connection upgrade hdr upgrade websocket hdr sec-websocket-accept "%[capture.req.hdr(0),concat(258EAFA5-E914-47DA-95CA-C5AB0DC85B11,,),sha1,base64]" if ws_handshake
    http-after-response set-status 101 if { status eq 200 } { res.hdr(upgrade) -m str websocket }
    http-after-response set-header x-backend-protocol "%[var(txn.ver)]"
`)
  const lb = await freePorts(8)
  const listeners: Array<[string, string]> = [
    ['proto h2 ws h1', `127.0.0.1:${fe} proto h2 ws h1`],
    ['proto h2 ws h2', `127.0.0.1:${feh2} proto h2 ws h2`],
    ['ssl alpn h2,http/1.1 ws h2', `127.0.0.1:${fessl} ssl verify none alpn h2,http/1.1 ws h2`],
    ['ws auto', `127.0.0.1:${fe}`],
    ['ssl alpn h2,http/1.1 ws auto', `127.0.0.1:${fessl} ssl verify none alpn h2,http/1.1 ws auto`],
    ['ssl alpn h2,http/1.1', `127.0.0.1:${fessl} ssl verify none alpn h2,http/1.1`],
    ['proto h2', `127.0.0.1:${feh2} proto h2`],
    ['ssl alpn h2 ws auto', `127.0.0.1:${fessl} ssl verify none alpn h2 ws auto`]
  ]
  writeFileSync(join(dir, 'lb.cfg'), defaults + listeners.map(([, server], i) => `
listen li${i}
    bind 127.0.0.1:${lb + i}
    server hap_srv ${server}
    http-response set-header x-alpn "%[ssl_bc_alpn]"
`).join(''))
  const gateways = [startGateway(join(dir, 'server.cfg')), startGateway(join(dir, 'lb.cfg'))]
  try {
    for (const port of [fe, feh2, fessl, lb, lb + listeners.length - 1]) await waitListening(port)
    // [status, x-backend-protocol, x-alpn] per listener, as HAProxy 2.6.12 answers srv_ws
    const expected: Array<[number, string, string]> = [
      [101, '1.1', ''],
      [101, '2.0', ''],
      [101, '2.0', 'h2'],
      [101, '1.1', ''],
      [101, '1.1', 'http/1.1'],
      [101, '1.1', 'http/1.1'],
      [101, '2.0', ''],
      [101, '2.0', 'h2']
    ]
    for (const [i, [what]] of listeners.entries()) {
      const { status, headers } = await handshake(lb + i)
      assert.deepEqual([status, headers['x-backend-protocol'], headers['x-alpn']], expected[i], `${what}: ${gateways.map(g => g.output()).join('')}`)
    }
    // other requests take the protocol ALPN gave: h2, which the server prefers
    const plain = await get(lb + 5, '/')
    assert.deepEqual([plain.status, plain.headers['x-backend-protocol'], plain.headers['x-alpn']], [200, '2.0', 'h2'])
  } finally {
    for (const g of gateways) g.child.kill('SIGTERM')
    await Promise.all(gateways.map(async g => await g.exited))
  }
})

test('server ws and alpn: -c refuses what HAProxy refuses, with its words', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-srv-ws-c-'))
  const { spawnSync } = await import('node:child_process')
  const cli = new URL('../../dist/cli.js', import.meta.url).pathname
  for (const [line, message] of [
    ['server s 127.0.0.1:1 ws foo', "'ws' has to be 'auto', 'h1' or 'h2'."],
    ['server s 127.0.0.1:1 ssl alpn', "'alpn' : missing the comma-delimited ALPN protocol suite."]
  ]) {
    const file = join(dir, 'haproxy.cfg')
    writeFileSync(file, `defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nlisten li\n    bind 127.0.0.1:8080\n    ${line}\n`)
    const r = spawnSync(process.execPath, [cli, '-c', '-f', file], { encoding: 'utf8' })
    assert.notEqual(r.status, 0, line)
    assert.ok(r.stderr.includes(message) || r.stdout.includes(message), `${line}: ${r.stderr}${r.stdout}`)
  }
})
