// The pitfalls found when proxying with @fastify/http-proxy / reply-from (numbered as in the
// design notes), each checked against this gateway where it applies. Those covered in detail by
// another file say where.
//  1 upstream vs getUpstream: every request connects where the balancer says (routing.test.ts)
//  2 ws:// → wss and the 123-byte close-reason crash: below (TLS failure) and websocket.test.ts
//  3 WS target failure after 101: a 503 instead (websocket.test.ts)
//  4 WS forwarding only `cookie`: all headers (websocket.test.ts)
//  5 ECONNREFUSED → 500 with the address: 503, HAProxy's page (errors.test.ts)
//  6 GET answered 503 retried 10×: below
//  7 retries of the same URL only: redispatch (retries.test.ts)
//  8 streamed bodies destroyed by a failed attempt: below (a refused connect keeps the body)
//  9 Buffer bodies JSON.stringify'd: bytes forwarded (bodies.test.ts)
// 10 text/plain parsed, 1 MiB limit, UTF-8 mangling: bodies.test.ts
// 11 Expect: 100-continue, stray Keep-Alive / Upgrade → 500: headers.test.ts
// 12 Proxy-Authorization, Proxy-Connection, TE: as HAProxy 2.6 (headers.test.ts)
// 13 Host rewritten, no X-Forwarded-For: headers.test.ts
// 14 bodies dropped when forwarding from onRequest: bodies.test.ts
// 15 a proxy at `/` clashing with the app's `/*` and CORS's OPTIONS `/*`: below
// 16 a constraint strategy registered twice: no strategy; a second registration is a clear error (routing.test.ts)
// 17 coarse connect/headers timeouts: below
// 18 undici agents left open: below (nothing keeps the process alive after close)
// 19 light-my-request on Node 20: app.inject through the gateway, below

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import haproxyRouter from '../../lib/index.js'
import { upstream, get, deadPort, rawRequest, waitFor } from './fixtures.js'
import type { Seen } from './fixtures.js'

const cfg = (body: string): string => `defaults\n    mode http\n    timeout connect 1s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n${body}`

test('6: an upstream 503 is passed through once, never retried', async (t) => {
  const up = await upstream('up', { status: 503 })
  const app = Fastify()
  await app.register(haproxyRouter, { config: cfg(`    default_backend be\nbackend be\n    server up ${up.addr}\n`), defaultBackend: 'always' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close(); await up.close() })
  const r = await get((app.server.address() as AddressInfo).port, '/')
  assert.equal(r.status, 503)
  assert.equal(r.headers['x-served-by'], 'up')
  assert.equal(up.seen.length, 1)
})

test('8: a body whose connect was refused is sent whole to the next server', async (t) => {
  const ok = await upstream('ok')
  const dead = await deadPort()
  const app = Fastify()
  await app.register(haproxyRouter, { config: cfg(`    default_backend be\nbackend be\n    option redispatch\n    server d 127.0.0.1:${dead}\n    server ok ${ok.addr}\n`), defaultBackend: 'always' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close(); await ok.close() })
  const body = randomBytes(2 * 1024 * 1024)
  const r = await get((app.server.address() as AddressInfo).port, '/up', { 'content-type': 'application/octet-stream' }, 'POST', body)
  assert.equal(r.status, 200)
  const seen = JSON.parse(r.text) as Seen
  assert.equal(seen.bodyLength, body.length)
  assert.equal(seen.sha256, createHash('sha256').update(body).digest('hex'))
})

test("15: the app's own `/*` and OPTIONS `/*` routes coexist with the gateway", async (t) => {
  const up = await upstream('up')
  const app = Fastify()
  app.options('/*', async (_req, reply) => { reply.header('access-control-allow-origin', '*').code(204).send() })
  app.get('/*', async () => 'app catch-all')
  await app.register(haproxyRouter, { config: cfg(`    use_backend be if { path_beg /api }\n    default_backend be\nbackend be\n    server up ${up.addr}\n`) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  t.after(async () => { await app.close(); await up.close() })
  assert.equal((await get(port, '/api/x')).headers['x-served-by'], 'up', 'use_backend still decides first')
  assert.equal((await get(port, '/other')).text, 'app catch-all', 'the app catch-all serves the rest')
  assert.equal((await get(port, '/other', {}, 'OPTIONS')).status, 204)
})

test('17: timeout server is honoured closely', async (t) => {
  const slow = await upstream('slow', { delayMs: 2000 })
  const app = Fastify()
  await app.register(haproxyRouter, { config: `defaults\n    mode http\n    timeout server 200ms\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server s ${slow.addr}\n`, defaultBackend: 'always' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close(); await slow.close() })
  const started = Date.now()
  const r = await rawRequest((app.server.address() as AddressInfo).port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  const took = Date.now() - started
  assert.equal(r.status, 504)
  assert.ok(took >= 190 && took < 1000, `504 after ${took} ms for a 200 ms timeout`)
})

test('18 and 19: app.inject goes through the gateway; after close nothing of ours keeps the process alive', async () => {
  const up = await upstream('up')
  const app = Fastify()
  await app.register(haproxyRouter, { config: cfg(`    default_backend be\nbackend be\n    server up ${up.addr} check inter 50\n`), defaultBackend: 'always' })
  const before = process.getActiveResourcesInfo().filter(r => r !== 'TTYWrap')
  const r = await app.inject({ method: 'POST', url: '/inj?x=1', payload: 'hello', headers: { 'content-type': 'text/plain' } })
  assert.equal(r.statusCode, 200)
  const seen = JSON.parse(r.body) as Seen
  assert.equal(seen.url, '/inj?x=1')
  assert.equal(seen.bodyLength, 5)
  // a few health checks ran (their timers and sockets existed) before the app closes
  const srv = app.haproxy.backend('be')!.servers[0]!
  const firstCheck = await (async () => { await waitFor(() => srv.lastCheckAt > 0, 'a first check'); return srv.lastCheckAt })()
  await waitFor(() => srv.lastCheckAt > firstCheck, 'a second check')
  await app.close()
  await up.close()
  const left = (): string[] => process.getActiveResourcesInfo().filter(r => r !== 'TTYWrap')
  // sockets closing take a turn of the loop: wait for the count, bounded
  await waitFor(() => left().length <= before.length, `resources after close: ${left().join(', ')} (before: ${before.join(', ')})`, 5000)
})

test('2: a TLS failure towards a WebSocket or HTTP server is a 503, never a crash', async (t) => {
  const plain = await upstream('plain')
  const app = Fastify()
  await app.register(haproxyRouter, { config: cfg(`    default_backend be\nbackend be\n    retries 1\n    server tls ${plain.addr} ssl verify none\n`), defaultBackend: 'always' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  t.after(async () => { await app.close(); await plain.close() })
  assert.equal((await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status, 503)
  const ws = await rawRequest(port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
  assert.equal(ws.status, 503)
  assert.equal((await get(port, '/')).status, 503, 'still serving')
})
