// The cache's own rules (lib/runtime/cache.ts) on an injected clock: what a section's sizes
// allow, eviction, variants, expiry, Age, conditional requests and `show cache`. What HAProxy
// stores and serves is compared with the real one in test/differential/cache.test.ts.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { acceptsEncoding, ageOf, Cache, Caches, mayLookUp, notModified, type CachedObject } from '../../lib/runtime/cache.js'
import { newCache } from '../../lib/config/cache-section.js'
import { parseConfig } from '../../lib/config/parse.js'
import { showCache } from '../../lib/socket/caches.js'
import type { HttpResponseView, HttpTxn } from '../../lib/acl/txn.js'

const LOC = { file: 't.cfg', line: 1 }

function section (over: Partial<ReturnType<typeof newCache>> = {}): ReturnType<typeof newCache> {
  return { ...newCache('c', LOC), totalMaxSize: 1024 * 1024, ...over }
}

/** A request as the rules see it (lib/acl/txn.ts): the fields the cache reads. */
function txn (path: string, headers: Record<string, string> = {}, method = 'GET'): HttpTxn {
  const q = path.indexOf('?')
  return {
    method,
    path: q < 0 ? path : path.slice(0, q),
    query: q < 0 ? null : path.slice(q + 1),
    headers: { host: 'example.com', ...headers },
    version: '1.1',
    vars: null,
    authUser: null
  } as unknown as HttpTxn
}

const answer = (headers: Record<string, string | string[]>, status = 200): HttpResponseView => ({ status, headers, server: { name: 's', id: 1 } })

/** Stores the answer to `t` with `body`: what the exchange does as the body goes out. */
function store (cache: Cache, t: HttpTxn, headers: Record<string, string | string[]>, body = 'hello'): boolean {
  const s = cache.store(t, answer(headers))
  if (s === null) return false
  s.add(Buffer.from(body))
  s.end()
  return true
}

test('a section\'s defaults: max-age 60, 10 variants, max-object-size a 256th of the size', () => {
  const c = parseConfig('cache c\n    total-max-size 2\n')
  assert.deepEqual(c.caches?.map(x => [x.totalMaxSize, x.maxAge, x.maxSecondaryEntries, x.processVary, x.maxObjectSize]), [[2 * 1024 * 1024, 60, 10, false, null]])
  assert.equal(new Cache(c.caches![0]!).maxObjectSize, 8192)
})

test('requests not looked up: other methods, Authorization, no-cache', () => {
  assert.equal(mayLookUp(txn('/')), true)
  assert.equal(mayLookUp(txn('/', {}, 'HEAD')), true)
  assert.equal(mayLookUp(txn('/', {}, 'POST')), false)
  assert.equal(mayLookUp(txn('/', { authorization: 'Basic eDp5' })), false)
  assert.equal(mayLookUp(txn('/', { 'cache-control': 'max-age=0, no-cache' })), false)
  assert.equal(mayLookUp(txn('/', { pragma: 'no-cache' })), false)
})

test('freshness: s-maxage before max-age, the section\'s max-age caps it, the server\'s Age counts', () => {
  let now = 1_000_000
  const cache = new Cache(section({ maxAge: 100 }), () => now)
  assert.ok(store(cache, txn('/a'), { 'cache-control': 'max-age=5, s-maxage=50' }))
  assert.ok(store(cache, txn('/b'), { 'cache-control': 'max-age=500' }))
  assert.ok(store(cache, txn('/c'), { 'cache-control': 'max-age=30', age: '20' }))
  assert.ok(store(cache, txn('/g'), { 'cache-control': 'max-age=500', age: '100' }), 'what the Age leaves is then capped')
  assert.equal(store(cache, txn('/d'), { 'cache-control': 'max-age=30', age: '40' }), false)
  assert.equal(store(cache, txn('/e'), { 'cache-control': 'max-age=30', age: 'abc' }), false, 'an Age that is not a number')
  now += 11_000
  assert.equal(cache.lookup(txn('/c')), null, 'max-age 30 less an Age of 20')
  assert.ok(cache.lookup(txn('/a')))
  now += 40_000
  assert.equal(cache.lookup(txn('/a')), null)
  assert.ok(cache.lookup(txn('/b')))
  now += 50_000
  assert.equal(cache.lookup(txn('/b')), null, 'capped by the section\'s max-age')
})

test('Age on a hit: the server\'s, plus the clock\'s seconds since it was stored', () => {
  let now = 5_000_900
  const cache = new Cache(section(), () => now)
  assert.ok(store(cache, txn('/'), { 'cache-control': 'max-age=30', age: '3' }))
  now += 200 // the next second of the clock
  const o = cache.lookup(txn('/'))!
  assert.equal(ageOf(o, now), 4)
  assert.deepEqual(o.headers, ['cache-control', 'max-age=30'], 'the server\'s Age is not kept')
})

test('total-max-size: the least recently used objects make room', () => {
  const cache = new Cache(section({ totalMaxSize: 4000, maxObjectSize: 2000 }))
  const body = 'x'.repeat(1000)
  for (const p of ['/1', '/2', '/3']) assert.ok(store(cache, txn(p), { etag: '"e"' }, body))
  assert.ok(cache.lookup(txn('/1')), 'used: now the most recent')
  assert.ok(store(cache, txn('/4'), { etag: '"e"' }, body))
  assert.ok(cache.used <= 4000)
  assert.equal(cache.lookup(txn('/2')), null)
  assert.ok(cache.lookup(txn('/1')))
  assert.ok(cache.lookup(txn('/4')))
})

test('a successful POST on a stored URL drops it; a failed one or a HEAD leaves it', () => {
  const cache = new Cache(section())
  assert.ok(store(cache, txn('/p'), { etag: '"e"' }))
  assert.equal(cache.store(txn('/p', {}, 'HEAD'), answer({})), null)
  assert.equal(cache.store(txn('/p', {}, 'POST'), answer({}, 500)), null)
  assert.ok(cache.lookup(txn('/p')))
  assert.equal(cache.store(txn('/p', {}, 'POST'), answer({})), null)
  assert.equal(cache.lookup(txn('/p')), null)
  assert.equal(cache.used, 0)
})

test('max-object-size: an answer growing past it is dropped as it streams', () => {
  const cache = new Cache(section({ maxObjectSize: 100 }))
  const s = cache.store(txn('/big'), answer({ etag: '"e"' }))!
  s.add(Buffer.alloc(60))
  s.add(Buffer.alloc(60))
  s.end()
  assert.equal(cache.lookup(txn('/big')), null)
  assert.equal(cache.used, 0)
})

test('an answer never completed is not stored', () => {
  const cache = new Cache(section())
  const s = cache.store(txn('/cut'), answer({ etag: '"e"' }))!
  s.add(Buffer.from('part'))
  assert.equal(cache.lookup(txn('/cut')), null)
})

test('process-vary: variants by Content-Encoding and Referer, at most max-secondary-entries', () => {
  const cache = new Cache(section({ processVary: true, maxSecondaryEntries: 2 }))
  const vary = { etag: '"e"', vary: 'accept-encoding,referer' }
  for (const ref of ['http://a/', 'http://b/', 'http://c/']) assert.ok(store(cache, txn('/v', { referer: ref }), vary, ref))
  assert.equal(cache.lookup(txn('/v', { referer: 'http://a/' })), null, 'the oldest variant made room')
  assert.equal(cache.lookup(txn('/v', { referer: 'http://c/' }))?.body.toString(), 'http://c/')
  assert.equal(store(cache, txn('/w'), { etag: '"e"', vary: 'user-agent' }), false)
  assert.equal(store(cache, txn('/w'), { etag: '"e"', vary: 'referer' }), false, 'observed: referer alone never hits')
  assert.equal(store(cache, txn('/gz', { 'accept-encoding': 'br' }), { etag: '"e"', vary: 'accept-encoding', 'content-encoding': 'gzip' }), false)
  assert.ok(store(cache, txn('/gz', { 'accept-encoding': 'gzip' }), { etag: '"e"', vary: 'accept-encoding', 'content-encoding': 'gzip' }))
  assert.ok(cache.lookup(txn('/gz')))
  assert.equal(cache.lookup(txn('/gz', { 'accept-encoding': 'br' })), null)
  assert.equal(store(new Cache(section()), txn('/x'), { etag: '"e"', vary: 'accept-encoding' }), false, 'without process-vary')
  // encoded twice: every coding must be accepted (HAProxy's reg-test cache/vary_accept_encoding)
  assert.ok(store(cache, txn('/two', { 'accept-encoding': 'gzip;q=0.8, deflate' }), { etag: '"e"', vary: 'accept-encoding', 'content-encoding': 'deflate, gzip' }))
  assert.ok(cache.lookup(txn('/two', { 'accept-encoding': 'deflate,gzip;q=0.7' })))
  assert.equal(cache.lookup(txn('/two', { 'accept-encoding': 'deflate' })), null)
})

test('Accept-Encoding: q=0 refuses, * and x- forms accept, identity goes unless refused', () => {
  assert.equal(acceptsEncoding(undefined, 'gzip'), true)
  assert.equal(acceptsEncoding('gzip;q=0, br', 'gzip'), false)
  assert.equal(acceptsEncoding('*', 'gzip'), true)
  assert.equal(acceptsEncoding('x-gzip', 'gzip'), true)
  assert.equal(acceptsEncoding('br', 'identity'), true)
  assert.equal(acceptsEncoding('deflate, identity;q=0', 'identity'), false)
  assert.equal(acceptsEncoding('*;q=0', 'identity'), false)
})

test('conditional requests: If-None-Match (weak or strong, *), then If-Modified-Since', () => {
  const cache = new Cache(section())
  assert.ok(store(cache, txn('/'), { etag: 'W/"v1"', 'last-modified': 'Mon, 07 Dec 2026 00:00:00 GMT' }))
  const o = cache.lookup(txn('/')) as CachedObject
  assert.equal(notModified(txn('/', { 'if-none-match': '"v0", "v1"' }), o), true)
  assert.equal(notModified(txn('/', { 'if-none-match': '*' }), o), true)
  assert.equal(notModified(txn('/', { 'if-none-match': '"v2"', 'if-modified-since': 'Tue, 08 Dec 2026 00:00:00 GMT' }), o), false)
  assert.equal(notModified(txn('/', { 'if-modified-since': 'Tue, 08 Dec 2026 00:00:00 GMT' }), o), true)
  assert.equal(notModified(txn('/', { 'if-modified-since': 'Sun, 06 Dec 2026 00:00:00 GMT' }), o), false)
  // without Last-Modified, the answer's Date stands for it (HAProxy's reg-test cache/if-modified-since)
  assert.ok(store(cache, txn('/dated'), { 'cache-control': 'max-age=5', date: 'Thu, 22 Oct 2020 16:51:12 GMT' }))
  assert.equal(notModified(txn('/dated', { 'if-modified-since': 'Thu, 22 Oct 2020 16:51:12 GMT' }), cache.lookup(txn('/dated'))!), true)
})

test('show cache: each cache, then its objects, in HAProxy\'s shape', () => {
  const caches = new Caches([section(), { ...section(), name: 'd' }])
  assert.ok(store(caches.get('c')!, txn('/'), { 'cache-control': 'max-age=30' }))
  const lines = showCache(caches).split('\n')
  assert.match(lines[0]!, /^0x[0-9a-f]+: c \(shctx:0x[0-9a-f]+, available blocks:1023\)$/)
  assert.match(lines[1]!, /^0x[0-9a-f]+ hash:\d+ vary:0x0{16} size:\d+ \(1 blocks\), refcount:0, expire:(29|30)$/)
  assert.match(lines[2]!, /^0x[0-9a-f]+: d \(shctx:0x[0-9a-f]+, available blocks:1024\)$/)
})
