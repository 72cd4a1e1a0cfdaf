// Embedded mode: which requests the app serves and which the gateway forwards.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import haproxyRouter from '../../lib/index.js'
import { upstream, get, HAPROXY_503 } from './fixtures.js'
import type { Upstream } from './fixtures.js'

/** An app with its own routes beside the gateway (fallback mode unless opts say otherwise). */
async function appWithRoutes (config: string, opts: Record<string, unknown> = {}) {
  const app = Fastify()
  app.get('/api/hello', async () => ({ hi: 1 }))
  app.get('/static/app-owned', async () => 'app')
  app.post('/api/echo', async (req) => ({ got: req.body }))
  await app.register(haproxyRouter, { config, ...opts })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port }
}

const cfg = (s: Upstream, a: Upstream, b: Upstream, extra = ''): string => `
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend main
    bind 127.0.0.1:8080
    acl url_static path_beg -i /static /images
    acl url_static path_end -i .png
    http-request deny if { path /forbidden }
    http-request redirect location /new if { path /old }
${extra}
    use_backend static if url_static
    default_backend app
backend static
    server s1 ${s.addr}
backend app
    balance roundrobin
    server a1 ${a.addr}
    server a2 ${b.addr}
`

test('use_backend wins over app routes, app routes beat default_backend, the rest goes to default_backend', async (t) => {
  const [s, a, b] = await Promise.all([upstream('s1'), upstream('a1'), upstream('a2')])
  const { app, port } = await appWithRoutes(cfg(s, a, b))
  t.after(async () => { await app.close(); await Promise.all([s, a, b].map(u => u.close())) })

  const owned = await get(port, '/static/app-owned')
  assert.equal(owned.headers['x-served-by'], 's1', 'a use_backend match is proxied even though the app has that route')
  const png = await get(port, '/x/logo.PNG')
  assert.equal(png.headers['x-served-by'], 's1')

  const hello = await get(port, '/api/hello')
  assert.equal(hello.status, 200)
  assert.deepEqual(JSON.parse(hello.text), { hi: 1 })
  assert.equal(hello.headers['x-served-by'], undefined)

  const served: string[] = []
  for (let i = 0; i < 4; i++) served.push(String((await get(port, '/nothing')).headers['x-served-by']))
  assert.deepEqual(served, ['a1', 'a2', 'a1', 'a2'], 'default_backend takes what no app route matches, round robin')

  const posted = await get(port, '/api/echo', { 'content-type': 'application/json' }, 'POST', '{"x":1}')
  assert.deepEqual(JSON.parse(posted.text), { got: { x: 1 } }, "the app's own body parsing is untouched")
})

test("defaultBackend: 'always' sends everything to HAProxy's default_backend", async (t) => {
  const [s, a, b] = await Promise.all([upstream('s1'), upstream('a1'), upstream('a2')])
  const { app, port } = await appWithRoutes(cfg(s, a, b), { defaultBackend: 'always' })
  t.after(async () => { await app.close(); await Promise.all([s, a, b].map(u => u.close())) })
  const hello = await get(port, '/api/hello')
  assert.equal(hello.headers['x-served-by'], 'a1')
})

test('http-request rules apply before everything, also to app routes', async (t) => {
  const [s, a, b] = await Promise.all([upstream('s1'), upstream('a1'), upstream('a2')])
  const { app, port } = await appWithRoutes(cfg(s, a, b, '    http-request deny deny_status 429 if { path /api/hello } { hdr(x-block) 1 }'))
  t.after(async () => { await app.close(); await Promise.all([s, a, b].map(u => u.close())) })
  const denied = await get(port, '/forbidden')
  assert.equal(denied.status, 403)
  assert.match(denied.text, /<h1>403 Forbidden<\/h1>\nRequest forbidden by administrative rules\./)
  const redirected = await get(port, '/old')
  assert.equal(redirected.status, 302)
  assert.equal(redirected.headers.location, '/new')
  assert.equal((await get(port, '/api/hello', { 'x-block': '1' })).status, 429)
  assert.equal((await get(port, '/api/hello')).status, 200)
})

test('no default_backend: unmatched requests keep the app 404 (fallback) or get 503 (always)', async (t) => {
  const s = await upstream('s1')
  const config = `
defaults
    mode http
frontend fe
    bind 127.0.0.1:8080
    use_backend static if { path_beg /static }
backend static
    server s1 ${s.addr}
`
  const fb = await appWithRoutes(config)
  const al = await appWithRoutes(config, { defaultBackend: 'always' })
  t.after(async () => { await fb.app.close(); await al.app.close(); await s.close() })
  assert.equal((await get(fb.port, '/nope')).status, 404)
  const r = await get(al.port, '/nope')
  assert.equal(r.status, 503)
  assert.equal(r.text, HAPROXY_503)
  assert.equal((await get(al.port, '/static/x')).headers['x-served-by'], 's1')
})

test('request.haproxy tells where a request went', async (t) => {
  const [s, a, b] = await Promise.all([upstream('s1'), upstream('a1'), upstream('a2')])
  const app = Fastify()
  const routes: unknown[] = []
  app.get('/api/hello', async (req) => { routes.push(req.haproxy); return 'ok' })
  await app.register(haproxyRouter, { config: cfg(s, a, b) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close(); await Promise.all([s, a, b].map(u => u.close())) })
  await get((app.server.address() as AddressInfo).port, '/api/hello')
  assert.deepEqual(routes, [{ frontend: 'main', backend: null, server: null }])
})

test('registration errors: invalid config carries diagnostics; ambiguous frontends; mode tcp; twice', async () => {
  const bad = Fastify()
  await assert.rejects(async () => { await bad.register(haproxyRouter, { config: 'frontend fe\n    bind :8080\n    bogus_keyword 1\n' }).ready() }, (err: Error & { code?: string, diagnostics?: unknown[] }) => {
    assert.equal(err.code, 'FST_HAPROXY_CONFIG_INVALID')
    assert.ok(Array.isArray(err.diagnostics) && err.diagnostics.length > 0)
    return true
  })
  const two = `defaults\n    mode http\nfrontend a\n    bind :8080\n    default_backend be\nfrontend b\n    bind :8080\n    default_backend be\nbackend be\n    server s 127.0.0.1:1\n`
  const amb = Fastify()
  await assert.rejects(async () => { await amb.register(haproxyRouter, { config: two }).ready() }, { code: 'FST_HAPROXY_FRONTEND_AMBIGUOUS' })
  const picked = Fastify()
  await picked.register(haproxyRouter, { config: two, frontend: 'b' }).ready()
  assert.equal(picked.haproxy.frontend, 'b')
  await picked.close()
  const missing = Fastify()
  await assert.rejects(async () => { await missing.register(haproxyRouter, { config: two, frontend: 'zz' }).ready() }, { code: 'FST_HAPROXY_FRONTEND_NOT_FOUND' })
  const tcp = Fastify()
  await assert.rejects(async () => { await tcp.register(haproxyRouter, { config: 'frontend t\n    mode tcp\n    bind :8080\n    default_backend be\nbackend be\n    mode tcp\n    server s 127.0.0.1:1\n' }).ready() }, { code: 'FST_HAPROXY_MODE_TCP' })
  const twice = Fastify()
  twice.register(haproxyRouter, { config: two, frontend: 'a' })
  twice.register(haproxyRouter, { config: two, frontend: 'b' })
  await assert.rejects(async () => { await twice.ready() }, { code: 'FST_HAPROXY_ALREADY_REGISTERED' })
  const none = Fastify()
  await assert.rejects(async () => { await none.register(haproxyRouter, {}).ready() }, { code: 'FST_HAPROXY_NO_CONFIG' })
})

test('embedded stats page and prometheus exporter: served by the gateway before any use_backend', async (t) => {
  const up = await upstream('up')
  const { app, port } = await appWithRoutes(`
defaults
    mode http
frontend fe
    bind 127.0.0.1:8080
    stats enable
    stats uri /haproxy_stats
    stats auth admin:admin
    http-request use-service prometheus-exporter if { path /metrics }
    use_backend be if { path_beg / }
backend be
    server up ${up.addr}
`)
  t.after(async () => { await app.close(); await up.close() })
  assert.equal((await get(port, '/anything')).headers['x-served-by'], 'up')
  const denied = await get(port, '/haproxy_stats')
  assert.equal(denied.status, 401)
  assert.match(String(denied.headers['www-authenticate']), /realm="HAProxy Statistics"/)
  const auth = { authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64') }
  const csv = await get(port, '/haproxy_stats;csv', auth)
  assert.equal(csv.status, 200)
  assert.match(csv.text, /^be,up,/m)
  assert.match(csv.text, /^be,BACKEND,/m)
  const metrics = await get(port, '/metrics')
  assert.equal(metrics.status, 200)
  assert.match(metrics.text, /haproxy_server_/)
  assert.equal(up.seen.length, 1, 'neither the stats page nor /metrics reached the server')
})
