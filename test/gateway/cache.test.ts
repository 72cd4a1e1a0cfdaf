// The cache in the plugin (lib/runtime/cache.ts): a Fastify app with the gateway in front of a
// real upstream; the second request for a cacheable answer never reaches the server. The CLI and
// real HAProxy run the same rules in test/differential/cache.test.ts.

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { get, HTTP_DEFAULTS, upstream, type Upstream } from './fixtures.js'

let app: FastifyInstance
let port: number
let server: Upstream

before(async () => {
  server = await upstream('s1', { headers: { 'cache-control': 'max-age=30' } })
  app = Fastify()
  await app.register(haproxyRouter, { config: `${HTTP_DEFAULTS}
frontend fe
    http-request cache-use c
    http-response cache-store c
    http-response set-header x-hit %[res.cache_hit]
    http-response set-header x-cache-name %[res.cache_name] if { res.cache_hit }
    default_backend be
backend be
    server s1 ${server.addr}
cache c
    total-max-size 1
`, defaultBackend: 'fallback' })
  app.get('/own', async () => ({ app: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  port = (app.server.address() as AddressInfo).port
})
after(async () => {
  await app?.close()
  await server?.close()
})

test('plugin: a hit is answered from the cache, the app keeps its own routes', async () => {
  const first = await get(port, '/page')
  const second = await get(port, '/page')
  assert.equal(first.status, 200)
  assert.equal(first.headers.age, undefined)
  assert.equal(second.text, first.text)
  assert.equal(second.headers.age, '0')
  // res.cache_hit / res.cache_name (§7.3.6): the rules that run again on the hit see where it came from
  assert.deepEqual([first.headers['x-hit'], first.headers['x-cache-name']], ['0', undefined])
  assert.deepEqual([second.headers['x-hit'], second.headers['x-cache-name']], ['1', 'c'])
  assert.equal(server.seen.filter(s => s.url === '/page').length, 1, 'the server saw the first request only')
  assert.deepEqual(JSON.parse((await get(port, '/own')).text), { app: true })
  // the runtime API of the plugin: the object, and the frontend's lookups and hits (CSV); the
  // frontend's rules run before the app's routes, so /own was looked up too
  assert.match(app.haproxy.command('show cache'), /^0x[0-9a-f]+: c \(shctx:0x[0-9a-f]+, available blocks:1023\)\n0x[0-9a-f]+ hash:\d+ /)
  const [names, ...rows] = app.haproxy.command('show stat').trim().split('\n').map(l => l.replace(/^# /, '').split(','))
  const fe = rows.find(r => r[0] === 'fe' && r[1] === 'FRONTEND')!
  assert.deepEqual([fe[names!.indexOf('cache_lookups')], fe[names!.indexOf('cache_hits')]], ['3', '1'])
})
