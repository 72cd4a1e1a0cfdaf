// Every timeout fires on time, whatever coarse timers the libraries underneath use. The
// assertions are about the order of events (a timeout shorter than the server's delay wins,
// in the same process, whatever the machine's load) and generous upper bounds only.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePorts, gatewayApp, get, rawRequest, rawServer, startGateway, upstream, waitFor, waitListening } from '../gateway/fixtures.js'

const defaults = (timeouts: string): string => `defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n${timeouts}`

test('timeout server: a 504 before a server that answers later, waiting for the head', async (t) => {
  // the server answers 150 ms after the timeout would expire: a timer that fires late lets it win
  const up = await upstream('slow', { delayMs: 450 })
  const { app, port } = await gatewayApp(`${defaults('    timeout server 300ms\n')}frontend fe\n    bind :80\n    default_backend be\nbackend be\n    server s ${up.addr}\n`)
  t.after(async () => { await app.close(); await up.close() })
  const started = Date.now()
  const r = await get(port, '/')
  const elapsed = Date.now() - started
  assert.equal(r.status, 504)
  assert.ok(elapsed >= 300, `not before the timeout (${elapsed} ms)`)
  assert.ok(elapsed < 3000, `generous bound (${elapsed} ms)`)
})

test('timeout server: a body that stops for longer is cut', async (t) => {
  const up = await upstream('stalls', {
    handler: (req, res) => {
      req.resume()
      res.writeHead(200, { 'content-length': '4' })
      res.write('ab')
      setTimeout(() => { res.end('cd') }, 450)
    }
  })
  const { app, port } = await gatewayApp(`${defaults('    timeout server 300ms\n')}frontend fe\n    bind :80\n    default_backend be\nbackend be\n    server s ${up.addr}\n`)
  t.after(async () => { await app.close(); await up.close() })
  const r = await get(port, '/').then(x => x.text, (err: Error) => `cut: ${err.message}`)
  assert.match(r, /^cut/, 'the answer is cut, not completed')
})

test('timeout queue: a request waiting for a slot gets its 503 before the slot frees', async (t) => {
  const up = await upstream('busy', { delayMs: 600 })
  const { app, port } = await gatewayApp(`${defaults('    timeout server 5s\n    timeout queue 200ms\n')}frontend fe\n    bind :80\n    default_backend be\nbackend be\n    server s ${up.addr} maxconn 1\n`)
  t.after(async () => { await app.close(); await up.close() })
  const first = get(port, '/first')
  // the first request holds the only slot once the server has it
  await waitFor(() => up.seen.length === 1, 'the first request at the server')
  const order: string[] = []
  const started = Date.now()
  const [a, b] = await Promise.all([
    first.then(r => { order.push('first'); return r }),
    get(port, '/queued').then(r => { order.push('queued'); return r })
  ])
  assert.equal(a.status, 200)
  assert.equal(b.status, 503)
  assert.deepEqual(order, ['queued', 'first'])
  assert.ok(Date.now() - started < 3000)
})

test('CLI: timeout http-request, client and http-keep-alive fire within a generous bound of their value', async (t) => {
  const up = await upstream('up')
  const port = await freePorts(1)
  const file = join(mkdtempSync(join(tmpdir(), 'gw-timeouts-')), 'haproxy.cfg')
  writeFileSync(file, `${defaults('    timeout server 5s\n    timeout http-request 300ms\n    timeout http-keep-alive 300ms\n')}frontend fe\n    bind 127.0.0.1:${port}\n    default_backend be\nbackend be\n    server s ${up.addr}\n`)
  const { child, exited } = startGateway(file)
  t.after(async () => { child.kill('SIGKILL'); await up.close() })
  await waitListening(port)

  let started = Date.now()
  const slow = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n', 10_000)
  let elapsed = Date.now() - started
  assert.equal(slow.status, 408)
  assert.ok(elapsed >= 300 && elapsed < 1500, `http-request: ${elapsed} ms`)

  // an answered request, then silence: the keep-alive timeout closes the connection
  const closedAfter = await new Promise<number>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
    let answeredAt = 0
    s.on('data', () => { answeredAt ||= Date.now() })
    s.on('error', reject)
    s.on('close', () => resolve(Date.now() - answeredAt))
  })
  assert.ok(closedAfter >= 250 && closedAfter < 1500, `http-keep-alive: ${closedAfter} ms`)

  // a connection that sends nothing: HAProxy's 408 at timeout http-request, then close
  started = Date.now()
  const idle = await rawRequest(port, '', 10_000)
  elapsed = Date.now() - started
  assert.equal(idle.status, 408)
  assert.ok(elapsed >= 300 && elapsed < 1500, `an idle new connection: ${elapsed} ms`)
  child.kill('SIGTERM')
  await exited
})

test('timeout tunnel: an idle WebSocket tunnel is closed once its value passed, not before', async (t) => {
  // a server that accepts the upgrade, then says nothing
  const up = await rawServer((_data, socket) => { socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n') })
  const { app, port } = await gatewayApp(`${defaults('    timeout server 5s\n    timeout tunnel 300ms\n')}frontend fe\n    bind :80\n    default_backend be\nbackend be\n    server s 127.0.0.1:${up.port}\n`)
  t.after(async () => { await app.close(); await up.close() })
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  let head = ''
  let upgradedAt = 0
  socket.on('data', (d: Buffer) => { head += d.toString('latin1'); if (upgradedAt === 0 && head.includes('\r\n\r\n')) upgradedAt = Date.now() })
  socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
  await new Promise(resolve => socket.once('close', resolve))
  const idle = Date.now() - upgradedAt
  assert.match(head, /^HTTP\/1\.1 101 /)
  // the gateway arms the timer as it writes the 101, a moment before the client reads it
  assert.ok(idle >= 250 && idle < 3000, `closed ${idle} ms after the upgrade`)
})
