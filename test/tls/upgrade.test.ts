// Protocol upgrades of any protocol, across HTTP/1.1 and HTTP/2 (RFC 8441 extended CONNECT), as
// HAProxy 2.6 translates them (its reg-test http-messaging/protocol_upgrade): an HTTP/1.1
// `Connection: upgrade` request toward a `proto h2` server becomes an extended CONNECT with
// `:protocol`, whose 2xx goes back as a 101; an HTTP/2 client's extended CONNECT reaches an
// HTTP/1.1 server as a GET with `Upgrade`, whose 101 goes back as a 200; a server that does not
// announce SETTINGS_ENABLE_CONNECT_PROTOCOL gets its stream reset and the client a 502. Each
// tunnel then carries bytes both ways.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import http2 from 'node:http2'
import net, { type AddressInfo } from 'node:net'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WebSocketServer } from 'ws'
import { withGateway } from '../gateway/fixtures.js'

/** An HTTP/1.1 server that accepts any upgrade and echoes the tunnel's bytes upper-cased. */
async function h1UpgradeServer (): Promise<{ port: number, seen: http.IncomingHttpHeaders[], close (): Promise<void> }> {
  const seen: http.IncomingHttpHeaders[] = []
  const tunnels = new Set<net.Socket>()
  const server = http.createServer((_req, res) => { res.writeHead(426); res.end() })
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    seen.push({ ...req.headers, ':method': req.method, ':path': req.url })
    tunnels.add(socket)
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ${String(req.headers.upgrade)}\r\n\r\n`)
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    // upgraded sockets are no longer the server's: closed here
    close: async () => { for (const s of tunnels) s.destroy(); server.closeAllConnections(); await new Promise<void>(r => server.close(() => r())) }
  }
}

/** An HTTP/2 server (h2c) taking extended CONNECT, or announcing no support for it. */
async function h2UpgradeServer (enable: boolean): Promise<{ port: number, seen: http2.IncomingHttpHeaders[], close (): Promise<void> }> {
  const seen: http2.IncomingHttpHeaders[] = []
  const server = http2.createServer({ settings: { enableConnectProtocol: enable } })
  server.on('stream', (stream, headers) => {
    seen.push(headers)
    stream.respond({ ':status': 200 })
    stream.on('data', (d: Buffer) => stream.write(d.toString().toUpperCase()))
  })
  const sessions = new Set<http2.ServerHttp2Session>()
  server.on('session', s => { sessions.add(s); s.on('close', () => sessions.delete(s)) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, seen, close: async () => { for (const s of sessions) s.destroy(); await new Promise<void>(r => server.close(() => r())) } }
}

/** An HTTP/1.1 upgrade request on a raw socket: the answer's head, then what `say` gets back. */
async function h1Upgrade (port: number, say: string): Promise<{ head: string, echoed: string }> {
  const socket = net.connect(port, '127.0.0.1')
  socket.write('GET /tunnel HTTP/1.1\r\nhost: app.test\r\nconnection: upgrade\r\nupgrade: custom_protocol\r\n\r\n')
  let data = ''
  try {
    return await new Promise((resolve, reject) => {
      socket.on('error', reject)
      socket.on('close', () => resolve({ head: data, echoed: '' }))
      socket.on('data', (d: Buffer) => {
        data += d.toString('latin1')
        const end = data.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = data.slice(0, end)
        if (!head.startsWith('HTTP/1.1 101')) return
        const rest = data.slice(end + 4)
        if (rest === '') { socket.write(say); data = head + '\r\n\r\n'; return }
        if (rest.length >= say.length) resolve({ head, echoed: rest })
      })
    })
  } finally {
    socket.destroy()
  }
}

/** An extended CONNECT on a clear HTTP/2 connection: the status, then what `say` gets back. */
async function h2Upgrade (port: number, say: string): Promise<{ status: number, echoed: string }> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  try {
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()))
    assert.equal(session.remoteSettings.enableConnectProtocol, true, 'the bind announces extended CONNECT')
    const stream = session.request({ ':method': 'CONNECT', ':protocol': 'custom_protocol', ':scheme': 'http', ':path': '/tunnel', ':authority': 'app.test' }, { endStream: false })
    return await new Promise((resolve, reject) => {
      let echoed = ''
      stream.on('error', reject)
      stream.once('response', (h) => {
        const status = Number(h[':status'])
        if (status !== 200) { resolve({ status, echoed }); return }
        stream.write(say)
        stream.on('data', (d: Buffer) => { echoed += d.toString(); if (echoed.length >= say.length) resolve({ status, echoed }) })
      })
    })
  } finally {
    session.destroy()
  }
}

/** A WebSocket echo server (ws), and one answering every upgrade with a wrong Sec-WebSocket-Accept. */
async function wsServers (): Promise<{ good: number, bad: number, close (): Promise<void> }> {
  const good = http.createServer()
  const wss = new WebSocketServer({ server: good })
  wss.on('connection', ws => ws.on('message', (m: Buffer) => ws.send(`echo:${m.toString()}`)))
  const bad = http.createServer()
  bad.on('upgrade', (_req, socket: net.Socket) => { socket.end('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-accept: invalid_key\r\n\r\n') })
  for (const s of [good, bad]) await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  return {
    good: (good.address() as AddressInfo).port,
    bad: (bad.address() as AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      wss.close()
      for (const s of [good, bad]) { s.closeAllConnections(); await new Promise<void>(r => s.close(() => r())) }
    }
  }
}

/** A WebSocket over HTTP/2 (RFC 8441): the status, then the echo of one masked text frame. */
async function h2WebSocket (port: number, path: string, text: string): Promise<{ status: number, echoed: string }> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  try {
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()))
    const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': path, ':authority': 'app.test', 'sec-websocket-version': '13' }, { endStream: false })
    return await new Promise((resolve, reject) => {
      stream.on('error', reject)
      stream.once('response', (h) => {
        const status = Number(h[':status'])
        if (status !== 200) { resolve({ status, echoed: '' }); stream.resume(); return }
        const mask = Buffer.from([1, 2, 3, 4])
        const payload = Buffer.from(text).map((b, i) => b ^ mask[i % 4]!)
        stream.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload]))
        let data = Buffer.alloc(0)
        stream.on('data', (d: Buffer) => {
          data = Buffer.concat([data, d])
          if (data.length >= 2 && data.length >= 2 + data[1]!) resolve({ status, echoed: data.subarray(2, 2 + data[1]!).toString() })
        })
      })
    })
  } finally {
    session.destroy()
  }
}

const config = (port: number, server: string, bindProto = ''): string => `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout tunnel 5s
listen fe
    bind 127.0.0.1:${port}${bindProto}
    server s1 ${server}
`

test('upgrades: HTTP/1.1 to HTTP/1.1 and to proto h2 (extended CONNECT), HTTP/2 to HTTP/1.1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-upgrade-'))
  const h1 = await h1UpgradeServer()
  const h2 = await h2UpgradeServer(true)
  const h2Without = await h2UpgradeServer(false)
  t.after(async () => { await h1.close(); await h2.close(); await h2Without.close() })

  await withGateway(join(dir, 'h1.cfg'), port => config(port, `127.0.0.1:${h1.port}`), async (port) => {
    const r = await h1Upgrade(port, 'hello')
    assert.match(r.head, /^HTTP\/1\.1 101 /)
    assert.equal(r.echoed, 'HELLO')
    assert.equal(h1.seen.at(-1)!.upgrade, 'custom_protocol', 'any protocol, not only WebSocket')
    assert.match(String(h1.seen.at(-1)!.connection), /upgrade/i)
  })

  await withGateway(join(dir, 'to-h2.cfg'), port => config(port, `127.0.0.1:${h2.port} proto h2`), async (port) => {
    const r = await h1Upgrade(port, 'over h2')
    assert.match(r.head, /^HTTP\/1\.1 101 /)
    assert.match(r.head, /\r\nupgrade: custom_protocol/i)
    assert.equal(r.echoed, 'OVER H2')
    const seen = h2.seen.at(-1)!
    assert.deepEqual([seen[':method'], seen[':protocol'], seen[':scheme'], seen[':path'], seen[':authority']], ['CONNECT', 'custom_protocol', 'https', '/tunnel', 'app.test'])
  })

  await withGateway(join(dir, 'refused.cfg'), port => config(port, `127.0.0.1:${h2Without.port} proto h2`), async (port) => {
    const r = await h1Upgrade(port, 'x')
    assert.match(r.head, /^HTTP\/1\.1 502 /)
    assert.equal(h2Without.seen.length, 0, 'no request reached the server')
  })

  await withGateway(join(dir, 'from-h2.cfg'), port => config(port, `127.0.0.1:${h1.port}`, ' proto h2'), async (port) => {
    const r = await h2Upgrade(port, 'from h2')
    assert.deepEqual(r, { status: 200, echoed: 'FROM H2' })
    const seen = h1.seen.at(-1)!
    assert.deepEqual([seen[':method'], seen[':path'], seen.upgrade, seen.host], ['GET', '/tunnel', 'custom_protocol', 'app.test'])
  })
})

test('WebSocket over HTTP/2 to an HTTP/1.1 server: the key is made, the accept checked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-upgrade-ws-'))
  const ws = await wsServers()
  t.after(async () => { await ws.close() })
  const cfg = (port: number): string => `${config(port, `127.0.0.1:${ws.good}`, ' proto h2')}    use_backend bad if { path_beg /bad }
backend bad
    server s1 127.0.0.1:${ws.bad}
`
  await withGateway(join(dir, 'ws.cfg'), cfg, async (port) => {
    // ws refuses a handshake without a key: the gateway made one, as HAProxy does
    assert.deepEqual(await h2WebSocket(port, '/chat', 'hi'), { status: 200, echoed: 'echo:hi' })
    const bad = await h2WebSocket(port, '/bad', 'hi').catch(() => ({ status: -1, echoed: '' }))
    assert.equal(bad.status, 502, 'an accept that does not match the key made is refused')
  })
})
