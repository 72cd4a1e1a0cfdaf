// HAProxy's small object cache (configuration.txt §6 "Cache"): `http-response cache-store`
// keeps a copy of the answers it may keep, `http-request cache-use` answers later requests for
// the same URL from it without contacting a server. Memory is bounded by the section's
// total-max-size; the least recently used objects make room for new ones.
//
// What is stored and served follows HAProxy 2.6.12 as observed on loopback (test/differential/cache.test.ts
// and test/runtime/cache.test.ts replay the observations):
// - only answers 200 to GET are stored (203, 204, 206, 301, 302, 307, 308, 404, 410, 500 are
//   not), and only with an explicit freshness (s-maxage, then max-age, then Expires) or a
//   validator (ETag, Last-Modified); the section's max-age caps the lifetime.
// - not stored: Cache-Control no-store, no-cache or private, max-age=0, an Expires in the past,
//   Pragma: no-cache in the answer, an Age that is not a number; a request with Authorization
//   or Cache-Control: no-store.
//   An answer that sets a cookie IS stored and replayed with its Set-Cookie.
// - not looked up: a request with Authorization, Cache-Control: no-cache or Pragma: no-cache
//   (its answer is still stored), methods other than GET and HEAD. HEAD is answered from an
//   object a GET stored (headers only); a HEAD's own answer is not stored.
// - Vary: without `process-vary on` an answer with Vary is not stored. With it, only
//   accept-encoding and referer are understood (case-insensitively); any other name (or `*`)
//   prevents storing. A `Vary: referer` alone never gave a hit. Accept-Encoding matches when the
//   request accepts the stored Content-Encoding (no Accept-Encoding accepts anything); an answer
//   whose encoding the request did not accept is not stored.
// - a hit carries the stored headers (as they were when cache-store ran: later http-response
//   rules are not in the copy, they run again on the hit) and `Age` at the end: the server's
//   Age plus the seconds spent in the cache. A conditional request (If-None-Match matching the
//   ETag, or If-Modified-Since not older than Last-Modified) gets a 304 with the same headers.
// - the key is the Host header with the path and query.

import type { CacheSection } from '../config/model.js'
import { maxObjectSize } from '../config/cache-section.js'
import type { HttpResponseView, HttpTxn } from '../acl/txn.js'
import { firstValue } from '../acl/captures.js'

/** One stored answer. */
export interface CachedObject {
  readonly key: string
  /** HAProxy's `show cache` hash of the key (a 32-bit FNV-1a here). */
  readonly hash: number
  readonly status: number
  /** Header pairs, flattened, as they were when cache-store ran; the server's Age left out. */
  readonly headers: readonly string[]
  readonly body: Buffer
  /** When it was stored and until when it is served, ms since the epoch. */
  readonly stored: number
  readonly expires: number
  /** The server's Age, seconds. */
  readonly age: number
  /** Content-Encoding, for `Vary: accept-encoding` ('identity' when none). */
  readonly encoding: string
  /** The request's Referer when the answer varies on it, else null. */
  readonly referer: string | null
  /** Which request headers it varies on (a bit per name: 1 accept-encoding, 2 referer). */
  readonly vary: number
  readonly etag: string | null
  /** Last-Modified, else Date: what If-Modified-Since is compared with. */
  readonly lastModified: string | null
  /** What it counts in total-max-size: head and body. */
  readonly size: number
}

/** Methods that change nothing on the server (RFC 9110 §9.2.1): their answers leave stored ones alone. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

export const VARY_ENCODING = 1
const VARY_REFERER = 2

/** The key of a request: its Host and its path and query. */
export function cacheKey (txn: HttpTxn): string {
  const host = txn.headers.host ?? ''
  return txn.query === null ? `${host}\0${txn.path}` : `${host}\0${txn.path}?${txn.query}`
}

/** A 32-bit hash of a key (FNV-1a), as `show cache` prints one. */
export function keyHash (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The comma-separated tokens of a header, lower-cased (repeated lines joined). */
function tokens (v: string | string[] | undefined): string[] {
  if (v === undefined) return []
  const text = Array.isArray(v) ? v.join(',') : v
  const out: string[] = []
  for (const t of text.split(',')) {
    const s = t.trim().toLowerCase()
    if (s !== '') out.push(s)
  }
  return out
}

/** A Cache-Control directive's seconds (`max-age=30`), undefined when absent, NaN when unreadable. */
function seconds (directives: readonly string[], name: string): number | undefined {
  for (const d of directives) {
    if (d.startsWith(name) && d.charCodeAt(name.length) === 61 /* = */) return Number(d.slice(name.length + 1).replace(/^"|"$/g, ''))
  }
  return undefined
}

/**
 * Whether a request's Accept-Encoding takes an answer encoded as `encoding` (RFC 9110 §12.5.3):
 * its own token, else `*`, decides by its q-value; identity goes unless refused that way.
 */
export function acceptsEncoding (accept: string | string[] | undefined, encoding: string): boolean {
  if (accept === undefined) return true
  let own: number | null = null
  let star: number | null = null
  for (const t of tokens(accept)) {
    const semi = t.indexOf(';')
    const coding = (semi < 0 ? t : t.slice(0, semi)).trim()
    const q = semi < 0 ? 1 : Number(/q\s*=\s*([\d.]+)/.exec(t.slice(semi))?.[1] ?? 1)
    if (coding === encoding || coding === 'x-' + encoding) own = q
    else if (coding === '*') star = q
  }
  if (own !== null) return own > 0
  if (star !== null) return star > 0
  return encoding === 'identity'
}

/** An answer encoded several times (`Content-Encoding: deflate, gzip`) needs every coding accepted. */
function acceptsCodings (accept: string | string[] | undefined, encoding: string): boolean {
  if (encoding.indexOf(',') < 0) return acceptsEncoding(accept, encoding)
  return encoding.split(',').every(e => acceptsEncoding(accept, e.trim()))
}

/**
 * The request may be answered from the cache (§6 "Cache", observed on HAProxy 2.6.12); the
 * others are not counted as lookups either.
 */
export function mayLookUp (txn: HttpTxn): boolean {
  if (txn.method !== 'GET' && txn.method !== 'HEAD') return false
  const h = txn.headers
  if (h.authorization !== undefined) return false
  if (tokens(h['cache-control']).includes('no-cache')) return false
  return !tokens(h.pragma).includes('no-cache')
}

/** An answer being stored: its body is added as it goes to the client. */
export class CacheStore {
  private readonly chunks: Buffer[] = []
  private length = 0
  private dropped = false

  constructor (
    private readonly cache: Cache,
    private readonly object: Omit<CachedObject, 'body' | 'size' | 'stored'>,
    private readonly headSize: number,
    private readonly began: number
  ) {}

  add (chunk: Buffer): void {
    if (this.dropped) return
    this.length += chunk.length
    if (this.headSize + this.length > this.cache.maxObjectSize) {
      this.dropped = true
      this.chunks.length = 0
      return
    }
    this.chunks.push(chunk)
  }

  /** The whole body came: the object is stored. */
  end (): void {
    if (this.dropped) return
    this.dropped = true
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    this.cache.insert({ ...this.object, body, stored: this.began, size: this.headSize + body.length })
  }
}

export class Cache {
  readonly name: string
  readonly maxObjectSize: number
  private readonly maxAge: number
  private readonly processVary: boolean
  private readonly maxVariants: number
  readonly totalMaxSize: number
  /** Bytes held; at most totalMaxSize. */
  used = 0
  /** Objects by key, the least recently used key first. */
  private readonly objects = new Map<string, CachedObject[]>()

  constructor (section: CacheSection, private readonly clock: () => number = Date.now) {
    this.name = section.name
    this.totalMaxSize = section.totalMaxSize
    this.maxObjectSize = maxObjectSize(section)
    this.maxAge = section.maxAge
    this.processVary = section.processVary
    this.maxVariants = section.maxSecondaryEntries
  }

  /** The stored answer for a request that mayLookUp, or null. */
  lookup (txn: HttpTxn): CachedObject | null {
    const key = cacheKey(txn)
    const list = this.objects.get(key)
    if (list === undefined) return null
    const now = this.clock()
    let found: CachedObject | null = null
    for (const o of list) {
      if (o.expires <= now) continue
      if ((o.vary & VARY_ENCODING) !== 0 && !acceptsCodings(txn.headers['accept-encoding'], o.encoding)) continue
      if ((o.vary & VARY_REFERER) !== 0 && o.referer !== (firstValue(txn.headers.referer) ?? null)) continue
      found = o
      break
    }
    this.dropExpired(key, list, now)
    if (found !== null && this.objects.has(key)) {
      // most recently used: to the end of the eviction order
      this.objects.delete(key)
      this.objects.set(key, list)
    }
    return found
  }

  /**
   * `http-response cache-store`: whether this answer may be kept (§6, observed), and then what
   * keeps it while its body goes to the client: its headers as the rules have left them so far.
   */
  store (txn: HttpTxn, res: HttpResponseView): CacheStore | null {
    if (txn.method !== 'GET') {
      // a successful unsafe method (POST, PUT, DELETE …) on a stored URL drops it (reg-test cache/post_on_entry)
      if (!SAFE_METHODS.has(txn.method) && res.status < 400) this.drop(cacheKey(txn))
      return null
    }
    if (res.status !== 200) return null
    const req = txn.headers
    if (req.authorization !== undefined || tokens(req['cache-control']).includes('no-store')) return null
    const h = res.headers
    const cc = tokens(h['cache-control'])
    for (const d of cc) {
      if (d === 'no-store' || d === 'private' || d.startsWith('no-cache') || d.startsWith('private=')) return null
    }
    if (tokens(h.pragma).includes('no-cache')) return null
    const now = this.clock()
    let ttl = seconds(cc, 's-maxage') ?? seconds(cc, 'max-age')
    if (ttl === undefined && h.expires !== undefined) ttl = Math.floor((Date.parse(firstValue(h.expires)!) - now) / 1000)
    const etag = firstValue(h.etag) ?? null
    const lastModified = firstValue(h['last-modified']) ?? null
    if (ttl === undefined) {
      if (etag === null && lastModified === null) return null
      ttl = this.maxAge
    }
    if (!(ttl > 0)) return null
    // an Age that is not a number of seconds: not stored (reg-test cache/caching_rules)
    const ageText = firstValue(h.age)
    if (ageText !== undefined && !/^\s*\d+\s*$/.test(ageText)) return null
    const age = ageText === undefined ? 0 : Number(ageText)
    // the server's Age counts against its own freshness, then the section's max-age caps what is left
    const life = Math.min(ttl - age, this.maxAge)
    if (life <= 0) return null
    let vary = 0
    const encoding = (firstValue(h['content-encoding']) ?? 'identity').trim().toLowerCase()
    const varied = tokens(h.vary)
    if (varied.length > 0) {
      if (!this.processVary) return null
      for (const name of varied) {
        if (name === 'accept-encoding') vary |= VARY_ENCODING
        else if (name === 'referer') vary |= VARY_REFERER
        else return null
      }
      // observed: HAProxy 2.6.12 never answered from an object that varies on the referer alone
      if (vary === VARY_REFERER) return null
      if ((vary & VARY_ENCODING) !== 0 && !acceptsCodings(req['accept-encoding'], encoding)) return null
    }
    const kept: string[] = []
    let headSize = 0
    for (const name in h) {
      const v = h[name]
      if (v === undefined || name === 'age') continue
      for (const value of Array.isArray(v) ? v : [String(v)]) {
        kept.push(name, value)
        headSize += name.length + value.length + 4
      }
    }
    if (headSize > this.maxObjectSize) return null
    const key = cacheKey(txn)
    return new CacheStore(this, {
      key,
      hash: keyHash(key),
      status: res.status,
      headers: kept,
      expires: now + life * 1000,
      age,
      encoding,
      referer: (vary & VARY_REFERER) !== 0 ? firstValue(req.referer) ?? null : null,
      vary,
      etag,
      // without Last-Modified, If-Modified-Since is compared with the answer's Date (reg-tests cache/if-modified-since)
      lastModified: lastModified ?? firstValue(h.date) ?? null
    }, headSize, now)
  }

  /** Keeps an object, in place of one for the same variant; the least recently used make room. */
  insert (o: CachedObject): void {
    if (o.size > this.maxObjectSize || o.size > this.totalMaxSize) return
    let list = this.objects.get(o.key)
    if (list !== undefined) {
      const same = list.findIndex(x => x.vary === o.vary && x.encoding === o.encoding && x.referer === o.referer)
      if (same >= 0) this.remove(list, same)
      else if (list.length >= this.maxVariants) this.remove(list, 0)
      this.objects.delete(o.key)
    }
    list ??= []
    list.push(o)
    this.objects.set(o.key, list)
    this.used += o.size
    for (const [key, oldest] of this.objects) {
      if (this.used <= this.totalMaxSize) break
      while (oldest.length > 0 && this.used > this.totalMaxSize) this.remove(oldest, 0)
      if (oldest.length === 0) this.objects.delete(key)
    }
  }

  /** Every variant stored for a key. */
  private drop (key: string): void {
    const list = this.objects.get(key)
    if (list === undefined) return
    while (list.length > 0) this.remove(list, 0)
    this.objects.delete(key)
  }

  private remove (list: CachedObject[], i: number): void {
    this.used -= list[i]!.size
    list.splice(i, 1)
  }

  private dropExpired (key: string, list: CachedObject[], now: number): void {
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.expires <= now) this.remove(list, i)
    if (list.length === 0) this.objects.delete(key)
  }

  /** The objects still fresh, the least recently used first (`show cache`). */
  * fresh (): Iterable<CachedObject> {
    const now = this.clock()
    for (const list of this.objects.values()) for (const o of list) if (o.expires > now) yield o
  }
}

/** The caches of a configuration, by name. */
export class Caches {
  private readonly byName = new Map<string, Cache>()

  constructor (sections: readonly CacheSection[] = [], clock?: () => number) {
    for (const s of sections) this.byName.set(s.name, new Cache(s, clock))
  }

  get (name: string): Cache | undefined { return this.byName.get(name) }

  all (): Cache[] { return [...this.byName.values()] }
}

/**
 * A stored answer's seconds in the cache, added to the server's Age (the hit's `Age` header):
 * seconds of the clock that changed since it was stored (observed: a hit in the next second
 * says 1 however few milliseconds passed).
 */
export function ageOf (o: CachedObject, now: number): number {
  return o.age + Math.max(0, Math.floor(now / 1000) - Math.floor(o.stored / 1000))
}

/** Whether a conditional request is satisfied by the stored answer: it gets a 304. */
export function notModified (txn: HttpTxn, o: CachedObject): boolean {
  const inm = txn.headers['if-none-match']
  if (inm !== undefined) {
    if (o.etag === null) return false
    const tag = o.etag.replace(/^W\//, '')
    for (const t of (Array.isArray(inm) ? inm.join(',') : inm).split(',')) {
      const v = t.trim()
      if (v === '*' || v.replace(/^W\//, '') === tag) return true
    }
    return false
  }
  const ims = firstValue(txn.headers['if-modified-since'])
  if (ims === undefined || o.lastModified === null) return false
  const since = Date.parse(ims)
  const modified = Date.parse(o.lastModified)
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since
}
