// The stats page inside an app: mounted on the app's port it goes through none of the app's
// hooks (unless `stats.appHooks`), is invisible to @fastify/swagger and counts under its own
// section; `stats.listener: 'own'` serves it on the section's bind instead; a reload re-mounts it.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import haproxyRouter from '../../lib/index.js'
import type { HaproxyRouterOptions } from '../../lib/index.js'
import { HTTP_DEFAULTS, freePorts, get, upstream, waitListening } from './fixtures.js'
import type { Upstream } from './fixtures.js'

const ADMIN = { authorization: 'Basic ' + Buffer.from('admin:pw').toString('base64') }
const BEARER = { authorization: 'Bearer app-token' }

const config = (up: Upstream, statsPort: number, uri = '/haproxy_stats'): string => `
${HTTP_DEFAULTS}frontend fe
    use_backend be if { path_beg /api }
backend be
    server up ${up.addr}
listen stats
    bind 127.0.0.1:${statsPort}
    stats enable
    stats uri ${uri}
    stats auth admin:pw
`

/** An app whose every request needs a Bearer token (an app-wide onRequest hook), with swagger. */
async function bearerApp (up: Upstream, statsPort: number, stats?: HaproxyRouterOptions['stats']): Promise<{ app: FastifyInstance, port: number }> {
  const app = Fastify()
  await app.register(swagger, { openapi: { info: { title: 'app', version: '1' } } })
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers['x-app-auth'] !== 'app-token' && request.headers.authorization !== BEARER.authorization) {
      await reply.code(401).send({ error: 'bearer token required' })
    }
  })
  app.get('/own', async () => 'own')
  await app.register(haproxyRouter, { config: config(up, statsPort), ...(stats !== undefined ? { stats } : {}) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port }
}

test("mounted on the app: an app-wide Bearer hook does not lock out `stats auth`; hidden from swagger", async (t) => {
  const up = await upstream('up')
  const { app, port } = await bearerApp(up, 1)
  t.after(async () => { await app.close(); await up.close() })

  assert.equal((await get(port, '/own')).status, 401, 'the app is locked')
  assert.equal((await get(port, '/api/x')).status, 401, 'proxied requests too')
  const noAuth = await get(port, '/haproxy_stats')
  assert.equal(noAuth.status, 401)
  assert.match(String(noAuth.headers['www-authenticate']), /^Basic realm=/, "HAProxy's challenge, not the app's")
  const page = await get(port, '/haproxy_stats;csv', ADMIN)
  assert.equal(page.status, 200)
  assert.match(page.text, /^# pxname,svname,/)

  const spec = app.swagger() as { paths?: Record<string, unknown> }
  const paths = Object.keys(spec.paths ?? {})
  assert.ok(paths.includes('/own'), 'the app is documented')
  assert.deepEqual(paths.filter(p => p.includes('haproxy_stats')), [], 'the stats page is not')
})

test('stats.appHooks: the app\'s hooks run for stats requests too', async (t) => {
  const up = await upstream('up')
  const { app, port } = await bearerApp(up, 1, { appHooks: true })
  t.after(async () => { await app.close(); await up.close() })

  assert.equal((await get(port, '/haproxy_stats;csv', ADMIN)).status, 401, "the app's hook answers first")
  const page = await get(port, '/haproxy_stats;csv', { ...ADMIN, 'x-app-auth': 'app-token' })
  assert.equal(page.status, 200)
  assert.match(page.text, /^# pxname,svname,/)
  const paths = Object.keys((app.swagger() as { paths?: Record<string, unknown> }).paths ?? {})
  assert.deepEqual(paths.filter(p => p.includes('haproxy_stats')), [], 'still hidden from swagger')
})

test('stats requests on the app count under their own section (sessions, requests, answers), not the frontend', async (t) => {
  const up = await upstream('up')
  const { app, port } = await bearerApp(up, 1)
  t.after(async () => { await app.close(); await up.close() })
  const row = (name: string): NonNullable<ReturnType<typeof app.haproxy.stats>['proxies'][number]['frontend']> =>
    app.haproxy.stats().proxies.find(p => p.proxy.name === name)!.frontend!

  await get(port, '/api/x', BEARER)
  for (let i = 0; i < 3; i++) await get(port, '/haproxy_stats;csv', ADMIN)
  await get(port, '/haproxy_stats')
  const stats = row('stats')
  assert.equal(stats.counters.stot, 4, 'one session per stats request')
  assert.equal(stats.counters.reqTot, 4)
  assert.equal(stats.counters.intercepted, 4)
  assert.equal(stats.counters.hrsp[1], 3, '3 × 2xx')
  assert.equal(stats.counters.hrsp[3], 1, '1 × 4xx (the 401)')
  assert.equal(stats.counters.scur, 0)
  assert.equal(row('fe').counters.reqTot, 1, "the frontend counts the app's own requests only")
})

test("stats.listener 'own': the page is served on the section's bind, not on the app's port", async (t) => {
  const up = await upstream('up')
  const statsPort = await freePorts(1)
  const { app, port } = await bearerApp(up, statsPort, { listener: 'own' })
  t.after(async () => { await app.close(); await up.close() })
  await waitListening(statsPort)

  const sessions = (): number => app.haproxy.stats().proxies.find(p => p.proxy.name === 'stats')!.frontend!.counters.stot
  const before = sessions()
  const page = await get(statsPort, '/haproxy_stats;csv', ADMIN)
  assert.equal(page.status, 200)
  assert.match(page.text, /^stats,FRONTEND,/m)
  assert.equal((await get(port, '/haproxy_stats;csv', { ...ADMIN, 'x-app-auth': 'app-token' })).status, 404, "not on the app's port: the app's 404")
  assert.equal(sessions() - before, 1, 'a session per connection on its own listener')
  await app.close()
  await assert.rejects(get(statsPort, '/haproxy_stats;csv', ADMIN), 'the listener closes with the app')
})

test('a reload re-mounts a changed stats section (on the app and on its own listener)', async (t) => {
  const up = await upstream('up')
  const statsPort = await freePorts(1)
  for (const listener of ['app', 'own'] as const) {
    const app = Fastify()
    await app.register(haproxyRouter, { config: config(up, statsPort), stats: { listener } })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const appPort = (app.server.address() as AddressInfo).port
    const port = listener === 'app' ? appPort : statsPort
    if (listener === 'own') await waitListening(port)
    assert.equal((await get(port, '/haproxy_stats;csv', ADMIN)).status, 200, listener)
    await app.haproxy.reload(config(up, statsPort, '/lb-stats').replace('admin:pw', 'ops:pw2'))
    assert.notEqual((await get(port, '/haproxy_stats;csv', ADMIN)).status, 200, `${listener}: the old URI is gone`)
    const ops = { authorization: 'Basic ' + Buffer.from('ops:pw2').toString('base64') }
    assert.equal((await get(port, '/lb-stats;csv', ADMIN)).status, 401, `${listener}: the new users apply`)
    assert.equal((await get(port, '/lb-stats;csv', ops)).status, 200, `${listener}: the new URI serves`)
    await app.close()
  }
  t.after(async () => { await up.close() })
})

test('stats URIs that share a prefix: the longest serves the request and counts it', async (t) => {
  const up = await upstream('up')
  const app = Fastify()
  await app.register(haproxyRouter, {
    config: `${HTTP_DEFAULTS}frontend fe\n    default_backend be\nbackend be\n    server up ${up.addr}\n` +
      'listen short\n    stats enable\n    stats uri /st\nlisten long\n    stats enable\n    stats uri /st-long\n'
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close(); await up.close() })
  const port = (app.server.address() as AddressInfo).port
  const reqs = (name: string): number => app.haproxy.stats().proxies.find(p => p.proxy.name === name)!.frontend!.counters.reqTot
  assert.equal((await get(port, '/st-long;csv')).status, 200)
  assert.equal((await get(port, '/st;csv')).status, 200)
  assert.deepEqual([reqs('short'), reqs('long')], [1, 1])
})
