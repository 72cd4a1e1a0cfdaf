// retries / option redispatch (configuration.txt §4.2): connect failures are retried, on another
// server at once with redispatch for round-robin algorithms, else on the same one after a pause.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { upstream, get, deadPort, rawRequest, HAPROXY_503, gatewayApp, rawServer } from './fixtures.js'


test('option redispatch: a dead unchecked server costs nothing, counted as redispatches on it', async (t) => {
  const a = await upstream('a')
  const dead = await deadPort()
  const { app, port } = await gatewayApp(`defaults\n    mode http\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    option redispatch\n    server d 127.0.0.1:${dead}\n    server a ${a.addr}\n`)
  t.after(async () => { await app.close(); await a.close() })
  const started = Date.now()
  for (let i = 0; i < 6; i++) {
    const r = await get(port, '/x')
    assert.equal(r.status, 200)
    assert.equal(r.headers['x-served-by'], 'a')
  }
  assert.ok(Date.now() - started < 1500, 'no pause before a redispatch')
  const be = app.haproxy.backend('be')!
  const d = be.servers.find(s => s.name === 'd')!
  assert.equal(d.counters.wredis, 6, 'the rotation comes back to d for every request (as haproxy 2.6: wredis 6 on d)')
  assert.equal(d.counters.wretr, 0)
  assert.equal(be.counters.wredis, 6)
  assert.equal(be.counters.econ, 0)
})

test('no redispatch: retries on the same server with a pause, then 503 with HAProxy\'s body', async (t) => {
  const dead = await deadPort()
  const { app, port } = await gatewayApp(`defaults\n    mode http\n    timeout connect 200ms\n    retries 2\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server d 127.0.0.1:${dead}\n`)
  t.after(async () => { await app.close() })
  const started = Date.now()
  const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  const took = Date.now() - started
  assert.equal(r.status, 503)
  assert.equal(r.text, HAPROXY_503)
  assert.ok(took >= 350, `two pauses of min(timeout connect, 1s) (${took} ms)`)
  const d = app.haproxy.backend('be')!.servers[0]!
  assert.equal(d.counters.wretr, 2)
  assert.equal(d.counters.econ, 1)
})

test('a server killed under load: no idempotent request fails with retries + redispatch', async (t) => {
  const a = await upstream('a')
  const b = await upstream('b')
  const { app, port } = await gatewayApp(`defaults\n    mode http\n    timeout connect 1s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    option redispatch\n    retries 3\n    server a ${a.addr}\n    server b ${b.addr}\n`)
  t.after(async () => { await app.close(); await b.close() })
  const agentless = async (): Promise<number> => (await get(port, '/load')).status
  const statuses: number[] = []
  let killed = false
  const workers = Array.from({ length: 8 }, async (_v, w) => {
    for (let i = 0; i < 40; i++) {
      if (w === 0 && i === 10 && !killed) { killed = true; void a.close() }
      statuses.push(await agentless())
    }
  })
  await Promise.all(workers)
  assert.equal(statuses.length, 320)
  assert.deepEqual(statuses.filter(s => s !== 200), [], 'every request succeeded')
  assert.ok(b.seen.length > 160, 'b took over')
})

test('a POST whose body was streamed is not retried; an empty-bodied one is', async (t) => {
  let calls = 0
  // accepts the connection, reads the request, then resets it without answering
  const net = await import('node:net')
  const sockets = new Set<import('node:net').Socket>()
  const flaky = net.createServer(c => { sockets.add(c); calls++; c.once('data', () => c.destroy()) })
  await new Promise<void>(resolve => flaky.listen(0, '127.0.0.1', resolve))
  const ok = await upstream('ok')
  const { app, port } = await gatewayApp(`defaults\n    mode http\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    balance first\n    server flaky 127.0.0.1:${(flaky.address() as AddressInfo).port}\n    server ok ${ok.addr}\n`)
  t.after(async () => { await app.close(); await ok.close(); for (const s of sockets) s.destroy(); flaky.close() })
  const r = await get(port, '/p', { 'content-type': 'text/plain' }, 'POST', 'x'.repeat(5000))
  assert.equal(r.status, 502, 'the request reached a server: not replayed')
  assert.equal(calls, 1)
  assert.equal(ok.seen.length, 0)
})

test('retry-on 503: bodyless requests are replayed on another server; counted as HAProxy 2.6 does', async (t) => {
  const bad = await upstream('bad', { status: 503 })
  const good = await upstream('good')
  const { app, port } = await gatewayApp(`defaults\n    mode http\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    option redispatch\n    retry-on 503\n    server bad ${bad.addr}\n    server good ${good.addr}\n`)
  t.after(async () => { await app.close(); await bad.close(); await good.close() })
  for (let i = 0; i < 4; i++) assert.equal((await get(port, '/')).headers['x-served-by'], 'good')
  const b = app.haproxy.backend('be')!.servers[0]!
  // haproxy 2.6.12 on the same config: bad wretr 4, wredis 4, no 5xx counted on it
  assert.equal(b.counters.wretr, 4)
  assert.equal(b.counters.wredis, 4)
  assert.equal(b.counters.hrsp[4], 0)
  const posted = await get(port, '/', { 'content-type': 'text/plain' }, 'POST', 'streamed body')
  assert.equal(posted.status, 503, 'a streamed body cannot be replayed: the answer is relayed')
})

test('retry-on without conn-failure: a refused connection is not retried', async (t) => {
  const dead = await deadPort()
  const { app, port } = await gatewayApp(`defaults\n    mode http\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    retry-on none\n    server d 127.0.0.1:${dead}\n`)
  t.after(async () => { await app.close() })
  const started = Date.now()
  assert.equal((await get(port, '/')).status, 503)
  assert.ok(Date.now() - started < 500, 'no pause: no retry')
  assert.equal(app.haproxy.backend('be')!.servers[0]!.counters.wretr, 0)
})

test('retry-on empty-response: a server closing without an answer is retried', async (t) => {
  const empty = await rawServer((_d, c) => c.end())
  const good = await upstream('good')
  const { app, port } = await gatewayApp(`defaults\n    mode http\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    option redispatch\n    retry-on conn-failure empty-response\n    server e 127.0.0.1:${empty.port}\n    server good ${good.addr}\n`)
  t.after(async () => { await app.close(); await empty.close(); await good.close() })
  for (let i = 0; i < 3; i++) assert.equal((await get(port, '/')).headers['x-served-by'], 'good')
})
