// The app's own plugins around proxied traffic, with the default `hook: 'preParsing'` (the app's
// onRequest hooks first): the real @fastify/cors, rate-limit, helmet, under-pressure and an auth
// hook of an encapsulated plugin, in front of a real upstream.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import helmet from '@fastify/helmet'
import underPressure from '@fastify/under-pressure'
import haproxyRouter from '../../lib/index.js'
import { upstream, get, sleep } from './fixtures.js'
import type { Upstream } from './fixtures.js'

const config = (up: Upstream): string => `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    http-request deny if { path /forbidden }
    use_backend legacy if { path_beg /api /admin/proxied /legacy }
    default_backend legacy
backend legacy
    server s1 ${up.addr}
`

async function listening (app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

test('@fastify/cors answers preflights for proxied paths, and its headers are on proxied responses', async (t) => {
  const up = await upstream('up')
  const app = Fastify()
  await app.register(cors, { origin: 'https://app.example', credentials: true, methods: ['GET', 'PUT'] })
  await app.register(haproxyRouter, { config: config(up) })
  const port = await listening(app)
  t.after(async () => { await app.close(); await up.close() })

  const preflight = await get(port, '/api/items', { origin: 'https://app.example', 'access-control-request-method': 'PUT' }, 'OPTIONS')
  assert.equal(preflight.status, 204)
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example')
  assert.match(String(preflight.headers['access-control-allow-methods']), /PUT/)
  assert.equal(up.seen.length, 0, 'the preflight never reached the server')

  for (const path of ['/api/items', '/anything']) { // a use_backend rule, and default_backend
    const r = await get(port, path, { origin: 'https://app.example' })
    assert.equal(r.status, 200)
    assert.equal(r.headers['x-served-by'], 'up')
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.example', path)
    assert.equal(r.headers['access-control-allow-credentials'], 'true', path)
  }
})

test('@fastify/rate-limit (global) limits proxied requests as it limits app routes', async (t) => {
  const up = await upstream('up')
  const app = Fastify()
  await app.register(rateLimit, { max: 3, timeWindow: 60_000 })
  app.get('/api/items', async () => 'the app')
  app.get('/own', async () => 'own')
  // proxied paths that no app route matches are in Fastify's not-found context: rate-limit's own
  // recipe for 404s, on onRequest so that it runs before the gateway takes the request
  app.setNotFoundHandler({ onRequest: app.rateLimit() } as object, (_request, reply) => { void reply.code(404).send() })
  await app.register(haproxyRouter, { config: config(up) })
  const port = await listening(app)
  t.after(async () => { await app.close(); await up.close() })

  // one counter per client, as for app routes: the app's route, a proxied path that is also an
  // app route, a proxied path that is none
  const paths = ['/own', '/api/items', '/legacy/x']
  const statuses: number[] = []
  for (let round = 0; round < 2; round++) for (const path of paths) statuses.push((await get(port, path)).status)
  assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429])
  assert.equal(up.seen.length, 2, 'the limited requests never reached the server')
})

test('an auth hook of an encapsulated plugin protects the proxied paths under its prefix', async (t) => {
  const up = await upstream('up')
  const app = Fastify()
  await app.register(async (admin) => {
    admin.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== 'Bearer s3cret') await reply.code(401).send({ error: 'unauthorized' })
    })
    admin.get('/users', async () => ['ann'])
    // every path under /admin is in this plugin's context, the proxied ones included
    admin.setNotFoundHandler((_request, reply) => { void reply.code(404).send() })
  }, { prefix: '/admin' })
  await app.register(haproxyRouter, { config: config(up) })
  const port = await listening(app)
  t.after(async () => { await app.close(); await up.close() })

  assert.equal((await get(port, '/admin/users')).status, 401)
  assert.equal((await get(port, '/admin/proxied/x')).status, 401, 'a use_backend path under /admin')
  assert.equal((await get(port, '/admin/other')).status, 401, 'a default_backend path under /admin')
  assert.equal(up.seen.length, 0)
  const ok = await get(port, '/admin/proxied/x', { authorization: 'Bearer s3cret' })
  assert.equal(ok.status, 200)
  assert.equal(ok.headers['x-served-by'], 'up')
  assert.equal((await get(port, '/legacy/x')).status, 200, 'outside the prefix, no auth')
})

test('@fastify/helmet headers are on proxied responses and on the config\'s answers', async (t) => {
  const up = await upstream('up')
  const app = Fastify()
  await app.register(helmet)
  await app.register(haproxyRouter, { config: config(up) })
  const port = await listening(app)
  t.after(async () => { await app.close(); await up.close() })

  for (const [path, status] of [['/api/x', 200], ['/forbidden', 403]] as const) {
    const r = await get(port, path)
    assert.equal(r.status, status)
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path)
    assert.equal(r.headers['x-frame-options'], 'SAMEORIGIN', path)
    assert.ok(r.headers['content-security-policy'] !== undefined, path)
  }
})

test('@fastify/under-pressure answers 503 for proxied requests under pressure', async (t) => {
  const up = await upstream('up')
  let healthy = true
  const app = Fastify()
  await app.register(underPressure, { healthCheck: async () => healthy, healthCheckInterval: 20 })
  app.get('/own', async () => 'own')
  await app.register(haproxyRouter, { config: config(up) })
  const port = await listening(app)
  t.after(async () => { await app.close(); await up.close() })

  assert.equal((await get(port, '/api/x')).status, 200)
  healthy = false
  while ((await get(port, '/own')).status !== 503) await sleep(20)
  const before = up.seen.length
  for (const path of ['/api/x', '/anything']) {
    const r = await get(port, path)
    assert.equal(r.status, 503, path)
    assert.ok(r.headers['retry-after'] !== undefined, path)
  }
  assert.equal(up.seen.length, before, 'nothing reached the server under pressure')
})
