// Type test (checked by `npx tsc -p test/tsconfig.json --noEmit`, run by node:test as well):
// the plugin's `declare module 'fastify'` types `app.haproxy` and `request.haproxy` for any
// app that imports the package, and the options type rejects what the plugin rejects.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import haproxyRouter from '../../lib/index.js'
import type { HaproxyHandle, HaproxyRouterOptions, RequestRoute, BackendView } from '../../lib/index.js'
import { get, upstream } from './fixtures.js'

/** true only when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false

const instanceDecorator: Equal<FastifyInstance['haproxy'], HaproxyHandle> = true
const requestDecorator: Equal<FastifyRequest['haproxy'], RequestRoute | null> = true
const backends: Equal<HaproxyHandle['backends'], readonly BackendView[]> = true

/** Never called: the @ts-expect-error lines fail the type check if they start to compile. */
function rejected (app: FastifyInstance, request: FastifyRequest): void {
  // @ts-expect-error 'down' is an operational state, not one an operator sets
  app.haproxy.setServerState('be', 's1', 'down')
  // @ts-expect-error request.haproxy is null for requests the gateway did not see
  void request.haproxy.backend
  // @ts-expect-error defaultBackend is 'fallback' | 'always'
  const opts: HaproxyRouterOptions = { config: '', defaultBackend: 'never' }
  void opts
}

test('app.haproxy and request.haproxy are typed and set', async (t) => {
  assert.deepEqual([instanceDecorator, requestDecorator, backends], [true, true, true])
  assert.equal(typeof rejected, 'function')
  const up = await upstream('up')
  t.after(() => up.close())
  const app = Fastify()
  const seen: Array<RequestRoute | null> = []
  app.addHook('onResponse', async (request) => { seen.push(request.haproxy === null ? null : { ...request.haproxy }) })
  app.get('/own', async () => 'app')
  await app.register(haproxyRouter, {
    config: `defaults\n    mode http\nfrontend fe\n    bind :1\n    use_backend be if { path_beg /p }\nbackend be\n    server s1 ${up.addr}\n`
  } satisfies HaproxyRouterOptions)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const port = (app.server.address() as { port: number }).port
  const handle: HaproxyHandle = app.haproxy
  assert.equal(handle.frontend, 'fe')
  assert.equal((await get(port, '/own')).text, 'app')
  assert.equal((await get(port, '/p')).headers['x-served-by'], 'up')
  assert.deepEqual(seen, [{ frontend: 'fe', backend: null, server: null }, { frontend: 'fe', backend: 'be', server: 's1' }])
})
