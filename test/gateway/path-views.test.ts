// One view of the path (README "One view of the path"): a request the gateway hands to the app is
// routed by Fastify on a path the frontend's rules also saw, and the stats page is selected on the
// raw request target as HAProxy selects it.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { posix } from 'node:path'
import fc from 'fast-check'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { AddressInfo } from 'node:net'
import haproxyRouter from '../../lib/index.js'
import { isAmbiguousPath, routerViews } from '../../lib/runtime/router-view.js'
import type { RouterPathOptions } from '../../lib/runtime/router-view.js'
import { rawRequest, upstream, HTTP_DEFAULTS } from './fixtures.js'

const rawGet = async (port: number, target: string): Promise<{ status: number, text: string }> =>
  await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`)

/** The upstream fixture answers with what it saw: which server, and the target it got. */
const servedBy = (text: string): string => (JSON.parse(text) as { server: string }).server

const STRICT: RouterPathOptions = { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, useSemicolonDelimiter: false }
const LOOSE: RouterPathOptions = { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, useSemicolonDelimiter: true }

test('the readings of a path: the router\'s and the canonical one', () => {
  assert.equal(isAmbiguousPath('/static/app.js', STRICT), false)
  assert.deepEqual(routerViews('/static/app.js', STRICT), [])
  assert.deepEqual(routerViews('/%61dmin', STRICT), ['/admin'])
  assert.deepEqual(routerViews('/%2561dmin', STRICT), ['/%61dmin', '/admin'])
  assert.deepEqual(routerViews('/x/../admin', STRICT), ['/admin'])
  assert.deepEqual(routerViews('//admin;jsessionid=1/./secret', STRICT), ['/admin/secret'])
  assert.deepEqual(routerViews('/admin#frag', STRICT), ['/admin'])
  assert.deepEqual(routerViews('/admin%00.html', STRICT), ['/admin\0.html', '/admin'])
  assert.deepEqual(routerViews('/admin%2fsecret', STRICT), ['/admin/secret'])
  assert.equal(isAmbiguousPath('/ADMIN', STRICT), false)
  assert.deepEqual(routerViews('/ADMIN/', LOOSE), ['/admin'])
  assert.deepEqual(routerViews('/admin;x/secret', LOOSE), ['/admin', '/admin/secret'])
  assert.deepEqual(routerViews('/admin/', { ...STRICT, ignoreTrailingSlash: true }), ['/admin'])
  assert.deepEqual(routerViews('/a/%ff%zz', STRICT), ['/a/\u00ff%zz'])
})

test('the reported bypass: /%61dmin no longer reaches the app\'s /admin behind `deny`', async (t) => {
  const app = Fastify()
  app.get('/admin', async () => 'SECRET')
  await app.register(haproxyRouter, { config: `${HTTP_DEFAULTS}frontend fe\n    http-request deny if { path_beg /admin }\n` })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close() })
  const port = (app.server.address() as AddressInfo).port
  assert.equal((await rawGet(port, '/admin')).status, 403)
  const encoded = await rawGet(port, '/%61dmin')
  assert.equal(encoded.status, 400)
  assert.doesNotMatch(encoded.text, /SECRET/)
  assert.match(encoded.text, /400 Bad request/)
  // an encoded path that no rule would catch still reaches the app's route
  app.log.level = 'silent'
  assert.equal((await rawGet(port, '/%61pp')).status, 404)
  const stats = app.haproxy.stats().proxies.find(p => p.proxy.name === 'fe')!.frontend!
  assert.equal(stats.counters.ereq, 1)
})

test('an app route under a use_backend prefix is not reached through an encoding', async (t) => {
  const up = await upstream('legacy')
  const app = Fastify()
  app.get('/legacy/page', async () => 'APP')
  app.get('/other/page', async () => 'APP-OTHER')
  await app.register(haproxyRouter, { config: `${HTTP_DEFAULTS}frontend fe\n    use_backend legacy if { path_beg /legacy }\nbackend legacy\n    server s ${up.addr}\n` })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close(); await up.close() })
  const port = (app.server.address() as AddressInfo).port
  assert.equal(servedBy((await rawGet(port, '/legacy/page')).text), 'legacy')
  assert.equal((await rawGet(port, '/%6cegacy/page')).status, 400)
  assert.equal((await rawGet(port, '/x/../legacy/page')).status, 400)
  assert.equal((await rawGet(port, '/%6fther/page')).text, 'APP-OTHER')
})

test('stats uri is matched on the raw target: an encoded look-alike goes to default_backend', async (t) => {
  const up = await upstream('app')
  const app = Fastify()
  await app.register(haproxyRouter, {
    config: `${HTTP_DEFAULTS}frontend fe\n    stats enable\n    stats uri /haproxy_stats\n    default_backend be\nbackend be\n    server s ${up.addr}\n`
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close(); await up.close() })
  const port = (app.server.address() as AddressInfo).port
  const page = await rawGet(port, '/haproxy_stats;csv')
  assert.equal(page.status, 200)
  assert.match(page.text, /^# pxname,svname,/)
  const lookAlike = await rawGet(port, '/%68aproxy_stats')
  assert.equal(lookAlike.status, 200)
  assert.equal(servedBy(lookAlike.text), 'app')
  assert.equal(up.seen.at(-1)!.url, '/%68aproxy_stats')
})

test('`stats uri /admin?stats` serves the page for its prefix only; /admin stays the app\'s or the backend\'s', async (t) => {
  const up = await upstream('backend')
  const config = `${HTTP_DEFAULTS}frontend fe\n    stats enable\n    stats uri /admin?stats\n    default_backend be\nbackend be\n    server s ${up.addr}\n`
  const proxied = Fastify()
  await proxied.register(haproxyRouter, { config })
  await proxied.listen({ port: 0, host: '127.0.0.1' })
  const withRoute = Fastify()
  withRoute.get('/admin', async () => 'APP-ADMIN')
  await withRoute.register(haproxyRouter, { config })
  await withRoute.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await proxied.close(); await withRoute.close(); await up.close() })
  const p1 = (proxied.server.address() as AddressInfo).port
  const p2 = (withRoute.server.address() as AddressInfo).port
  assert.equal(servedBy((await rawGet(p1, '/admin')).text), 'backend')
  assert.equal(servedBy((await rawGet(p1, '/admin?other')).text), 'backend')
  assert.match((await rawGet(p1, '/admin?stats;csv')).text, /^# pxname,/)
  assert.equal((await rawGet(p2, '/admin')).text, 'APP-ADMIN')
  assert.match((await rawGet(p2, '/admin?stats;csv')).text, /^# pxname,/)
})

// ---------------------------------------------------------------------------------------------
// The property: no encoding of a protected path reaches an app route whose meaning is protected.

const PROTECTED = ['/admin/secret', '/admin', '/private/data']
const isProtected = (path: string, caseSensitive: boolean): boolean => {
  const p = caseSensitive ? path : path.toLowerCase()
  return p.startsWith('/admin') || p.startsWith('/private')
}

/** Every app route records what the request means to it; a static file server resolves `..`. */
async function appWithRoutes (routerOptions: Record<string, boolean>, hook: 'onRequest' | 'preParsing', backendAddr: string): Promise<{ app: FastifyInstance, port: number, meanings: string[] }> {
  const meanings: string[] = []
  // useSemicolonDelimiter is a router option Fastify 5 accepts but does not declare
  const app = Fastify({ routerOptions } as FastifyServerOptions)
  for (const path of ['/admin', '/admin/secret', '/private/data']) app.get(path, async () => { meanings.push(path); return 'APP' })
  app.get('/:a', async (req) => { meanings.push('/' + (req.params as { a: string }).a); return 'APP' })
  app.get('/:a/:b', async (req) => { const p = req.params as { a: string, b: string }; meanings.push(`/${p.a}/${p.b}`); return 'APP' })
  app.get('/files/*', async (req) => { meanings.push(posix.normalize('/files/' + (req.params as { '*': string })['*'])); return 'APP' })
  await app.register(haproxyRouter, {
    config: `${HTTP_DEFAULTS}frontend fe\n    http-request deny if { path_beg /admin }\n    use_backend be if { path_beg /private }\nbackend be\n    server s ${backendAddr}\n`,
    hook
  })
  app.log.level = 'silent'
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port, meanings }
}

const hex = (c: string, upper: boolean): string => {
  const h = c.charCodeAt(0).toString(16).padStart(2, '0')
  return '%' + (upper ? h.toUpperCase() : h)
}

/** One way of writing a character of the path. */
const charForm = fc.constantFrom('plain', 'encoded', 'ENCODED', 'double', 'case')
/** What is inserted at a slash, or appended. */
const slashForm = fc.constantFrom('/', '//', '/./', '/x/../', '%2f', '%2F', '/;p=1/', '/%2e/')
const suffix = fc.constantFrom('', '/', '%00', '%00.html', ';jsessionid=1', '#frag', '?q=1', '/.', '/x/..', '%20')
const prefix = fc.constantFrom('', 'http://h', 'http://other.example')

const encodings = (path: string): fc.Arbitrary<string> => fc.tuple(
  fc.array(charForm, { minLength: path.length, maxLength: path.length }),
  fc.array(slashForm, { minLength: path.length, maxLength: path.length }),
  prefix,
  suffix
).map(([forms, slashes, pre, post]) => {
  let out = ''
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!
    if (c === '/') { out += i === 0 && slashes[i]!.startsWith('%') ? '/' : slashes[i]!; continue }
    switch (forms[i]) {
      case 'encoded': out += hex(c, false); break
      case 'ENCODED': out += hex(c, true); break
      case 'double': out += '%25' + hex(c, true).slice(1); break
      case 'case': out += c.toUpperCase(); break
      default: out += c
    }
  }
  return pre + out + post
})

for (const [label, routerOptions, caseSensitive] of [
  ['default router options', {}, true],
  ['caseSensitive: false, ignoreTrailingSlash, ignoreDuplicateSlashes, useSemicolonDelimiter',
    { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, useSemicolonDelimiter: true }, false]
] as const) for (const hook of ['preParsing', 'onRequest'] as const) {
  test(`property (hook ${hook}, ${label}): no encoding of a protected path reaches an app route that a rule catches`, async (t) => {
    const up = await upstream('private-backend')
    const { app, port, meanings } = await appWithRoutes(routerOptions, hook, up.addr)
    t.after(async () => { await app.close(); await up.close() })
    await fc.assert(fc.asyncProperty(fc.constantFrom(...PROTECTED).chain(encodings), async (target) => {
      meanings.length = 0
      const res = await rawGet(port, target)
      const leaked = meanings.filter(m => isProtected(m, caseSensitive))
      assert.deepEqual(leaked, [], `${target} reached the app as ${leaked.join(', ')} (${res.status})`)
    }), { numRuns: 400 })
  })
}
