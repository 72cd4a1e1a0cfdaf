// WebSocket upgrades follow the same rules as requests: the ones sent to a backend are tunneled
// to a server; the app's own @fastify/websocket routes keep working beside them.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import Fastify from 'fastify'
import websocket from '@fastify/websocket'
import WebSocket, { WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import haproxyRouter from '../../lib/index.js'
import { get, deadPort, rawRequest } from './fixtures.js'

/** A WebSocket echo server that prefixes its name; closes with a long reason on "bye". */
async function wsUpstream (name: string) {
  const server = http.createServer((_req, res) => { res.writeHead(200, { 'x-served-by': name }); res.end(name) })
  const wss = new WebSocketServer({ server })
  const seenHeaders: http.IncomingHttpHeaders[] = []
  wss.on('connection', (ws, req) => {
    seenHeaders.push(req.headers)
    ws.on('message', (m) => {
      if (String(m) === 'bye') ws.close(4000, 'x'.repeat(120))
      else ws.send(`${name}:${String(m)}`)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    seenHeaders,
    close: async () => { for (const c of wss.clients) c.terminate(); wss.close(); server.closeAllConnections(); await new Promise<void>(r => server.close(() => r())) }
  }
}

async function talk (url: string, messages: string[], headers: Record<string, string> = {}): Promise<{ got: string[], code: number, reason: string }> {
  return await new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    const got: string[] = []
    ws.on('open', () => { for (const m of messages) ws.send(m) })
    ws.on('message', (m) => { got.push(String(m)); if (got.length === messages.length) ws.close(1000) })
    ws.on('close', (code, reason) => resolve({ got, code, reason: String(reason) }))
    ws.on('error', reject)
  })
}

test('proxied WebSockets beside an app-owned @fastify/websocket route', async (t) => {
  const a = await wsUpstream('a')
  const b = await wsUpstream('b')
  const app = Fastify()
  await app.register(websocket)
  app.register(async (scope) => {
    scope.get('/app/ws', { websocket: true }, (socket) => { socket.on('message', (m: Buffer) => socket.send(`app:${String(m)}`)) })
  })
  await app.register(haproxyRouter, { config: `defaults\n    mode http\n    timeout tunnel 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    option forwardfor\n    use_backend ws if { path_beg /ws }\n    default_backend other\nbackend ws\n    server a 127.0.0.1:${a.port}\n    server b 127.0.0.1:${b.port}\nbackend other\n    server b2 127.0.0.1:${b.port}\n` })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  t.after(async () => { await app.close(); await a.close(); await b.close() })

  const first = await talk(`ws://127.0.0.1:${port}/ws/chat`, ['hi', 'there'], { authorization: 'Bearer t', 'x-custom': 'c' })
  assert.deepEqual(first.got, ['a:hi', 'a:there'])
  const second = await talk(`ws://127.0.0.1:${port}/ws/chat`, ['hi'])
  assert.deepEqual(second.got, ['b:hi'], 'round robin applies to upgrades')
  assert.equal(a.seenHeaders[0]!.authorization, 'Bearer t', 'all headers reach the WebSocket server')
  assert.equal(a.seenHeaders[0]!['x-custom'], 'c')
  assert.equal(a.seenHeaders[0]!['x-forwarded-for'], '127.0.0.1')

  const own = await talk(`ws://127.0.0.1:${port}/app/ws`, ['hello'])
  assert.deepEqual(own.got, ['app:hello'], "the app's own WebSocket route still works")

  const fallback = await talk(`ws://127.0.0.1:${port}/elsewhere`, ['x'])
  assert.deepEqual(fallback.got, ['b:x'], 'what no app route matches goes to default_backend')

  const long = await new Promise<{ code: number, reason: string }>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/x`)
    ws.on('open', () => ws.send('bye'))
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) }))
    ws.on('error', reject)
  })
  assert.equal(long.code, 4000, 'close frames pass through untouched (no 123-byte reason crash)')
  assert.equal(long.reason.length, 120)
})

test('without @fastify/websocket the gateway takes upgrades itself; a dead server is a 503, never a 101', async (t) => {
  const a = await wsUpstream('a')
  const dead = await deadPort()
  const app = Fastify()
  await app.register(haproxyRouter, { config: `defaults\n    mode http\n    retries 1\nfrontend fe\n    bind 127.0.0.1:8080\n    use_backend dead if { path_beg /dead }\n    default_backend ws\nbackend ws\n    server a 127.0.0.1:${a.port}\nbackend dead\n    server d 127.0.0.1:${dead}\n` })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  t.after(async () => { await app.close(); await a.close() })
  assert.deepEqual((await talk(`ws://127.0.0.1:${port}/x`, ['1'])).got, ['a:1'])
  const r = await rawRequest(port, 'GET /dead HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
  assert.equal(r.status, 503)
})
