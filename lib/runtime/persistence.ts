// Cookie persistence (configuration.txt §4.2 `cookie`, §5.2 server `cookie`), as HAProxy 2.6 does
// it on the request (reading the client's cookie) and on the answer (writing or rewriting the
// server's). Compiled once per backend: a map from cookie value to the servers
// carrying it, and the Set-Cookie line each server's answers get in `insert` mode.

import type { CookiePersistence } from '../config/model.js'
import type { HttpTxn } from '../acl/txn.js'
import type { ServerRuntime } from './backend.js'
import { parseAddr } from '../acl/ip.js'
import { xxh64 } from '@node-rs/xxhash'

/** The `prefix` mode's separator between the server's value and the application's (COOKIE_DELIM). */
const DELIM = '~'

/**
 * A server's dynamic cookie (§4.2 `cookie … dynamic`): XXH64 (seed 0) of the key, the address
 * (4 bytes IPv4, 16 IPv6) and the port as 4 bytes in network order, 16 hex digits; observed with
 * haproxy 2.6.12 (the same values for the same key, address and port). Null for a name.
 */
export function dynamicCookie (key: string, host: string, port: number): string | null {
  const a = parseAddr(host)
  if (a === null) return null
  const addr = Buffer.alloc(a.v6 ? 16 : 4)
  if (a.v6) {
    addr.writeBigUInt64BE(a.n >> 64n)
    addr.writeBigUInt64BE(a.n & 0xffffffffffffffffn, 8)
  } else {
    addr.writeUInt32BE(a.n)
  }
  const portBytes = Buffer.alloc(4)
  portBytes.writeUInt32BE(port)
  return xxh64(Buffer.concat([Buffer.from(key, 'latin1'), addr, portBytes]), 0n).toString(16).padStart(16, '0')
}

/** Statuses HAProxy deems cacheable by default (http_wait_for_response). */
const CACHEABLE_STATUSES = new Set([200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501])

export class CookieRule {
  readonly name: string
  private readonly mode: CookiePersistence['mode']
  private readonly indirect: boolean
  private readonly preserve: boolean
  private readonly nocache: boolean
  /** Servers by cookie value, in config order: the first usable one takes the request. */
  private readonly byValue = new Map<string, ServerRuntime[]>()
  /** Server cookie values by server (servers without one are absent). */
  private readonly values = new Map<ServerRuntime, string>()
  /** `insert`: the Set-Cookie value for each server; servers without a cookie value get `remove`. */
  private readonly inserted = new Map<ServerRuntime, string>()
  private readonly remove: string
  /**
   * What the last request() saw, as the access log's 3rd `%tsc` character (§8.5): N no cookie,
   * I a value naming no server, D its server is down, V valid.
   */
  requestState: 'N' | 'I' | 'D' | 'V' = 'N'

  /** The attributes after `path=/` of the inserted cookie. */
  private readonly attrs: string
  /** The servers and their configured `cookie` values. */
  private readonly servers: ReadonlyArray<{ srv: ServerRuntime, value: string | undefined }>
  /**
   * `cookie … dynamic` (`enable|disable dynamic-cookie backend`) and `dynamic-cookie-key` (`set
   * dynamic-cookie-key backend`): servers without a value of their own get one made of the key
   * and their address; `seen` are the addresses the values were made from.
   */
  private dynamic: { enabled: boolean, key: string | null, seen: Array<{ host: string, port: number, has: boolean }> }

  constructor (
    ck: CookiePersistence, servers: readonly ServerRuntime[], values: ReadonlyArray<string | undefined>, dynamicKey: string | null,
    /** `option persist`: the cookie's server takes the request even DOWN or in maintenance (observed on 2.6.12). */
    private readonly persist = false
  ) {
    this.name = ck.name
    this.mode = ck.mode
    this.indirect = ck.indirect
    this.preserve = ck.preserve
    this.nocache = ck.nocache
    // attributes in HAProxy's order: path, domains, HttpOnly, Secure
    let attrs = ''
    for (const d of ck.domains) attrs += `; domain=${d}`
    if (ck.httponly) attrs += '; HttpOnly'
    if (ck.secure) attrs += '; Secure'
    this.attrs = attrs
    this.remove = `${ck.name}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/${attrs}`
    this.servers = servers.map((srv, i) => ({ srv, value: values[i] === '' ? undefined : values[i] }))
    this.dynamic = { enabled: ck.dynamic, key: dynamicKey, seen: [] }
    this.compile()
  }

  /** `enable|disable dynamic-cookie backend`. */
  setDynamic (enabled: boolean): void {
    this.dynamic.enabled = enabled
    this.compile()
  }

  /** `set dynamic-cookie-key backend`. */
  setDynamicKey (key: string): void {
    this.dynamic.key = key
    this.compile()
  }

  /** The value maps, from the configured values and, for the other servers, the dynamic ones. */
  private compile (): void {
    this.values.clear()
    this.inserted.clear()
    this.byValue.clear()
    const dyn = this.dynamic
    dyn.seen = this.servers.map(({ srv }) => ({ host: srv.host, port: srv.port, has: srv.hasAddress }))
    for (const { srv, value } of this.servers) {
      const v = value ?? (dyn.enabled && dyn.key !== null && srv.hasAddress ? dynamicCookie(dyn.key, srv.host, srv.port) : null)
      if (v === null) continue
      this.values.set(srv, v)
      this.inserted.set(srv, `${this.name}=${v}; path=/${this.attrs}`)
      const list = this.byValue.get(v)
      if (list === undefined) this.byValue.set(v, [srv])
      else list.push(srv)
    }
  }

  /** Dynamic values follow their servers' addresses (`set server … addr`, DNS): made again when one moved. */
  private follow (): void {
    const dyn = this.dynamic
    if (!dyn.enabled || dyn.key === null) return
    for (let i = 0; i < this.servers.length; i++) {
      const { srv, value } = this.servers[i]!
      if (value !== undefined) continue
      const seen = dyn.seen[i]!
      if (seen.host !== srv.host || seen.port !== srv.port || seen.has !== srv.hasAddress) { this.compile(); return }
    }
  }

  /**
   * The request side: the server the request's cookie names, when one carrying that value is
   * usable (not DOWN, not in maintenance, unless `option persist`; draining servers still take persistent traffic), else
   * null (normal balancing). Rewrites the Cookie header as the mode asks: `prefix` strips the
   * server's part of the value, `insert indirect` removes the cookie.
   */
  request (txn: HttpTxn): ServerRuntime | null {
    const header = txn.headers.cookie
    this.requestState = 'N'
    this.follow()
    if (header === undefined || !header.includes(this.name)) return null
    const parts = header.split(';')
    let chosen: ServerRuntime | null = null
    let seen = false
    let changed = false
    const kept: string[] = []
    for (const raw of parts) {
      const part = raw.trim()
      const eq = part.indexOf('=')
      if (eq < 0 || part.slice(0, eq).trimEnd() !== this.name) {
        if (part !== '') kept.push(part)
        continue
      }
      const value = part.slice(eq + 1).trimStart()
      const delim = this.mode === 'prefix' ? value.indexOf(DELIM) : -1
      const id = delim < 0 ? value : value.slice(0, delim)
      // only the first occurrence counts; an empty value never names a server
      if (!seen && id !== '') {
        const named = this.byValue.get(id)
        this.requestState = named === undefined ? 'I' : 'D'
        for (const srv of named ?? []) {
          if (this.persist || (srv.op !== 'down' && srv.admin !== 'maint')) { chosen = srv; this.requestState = 'V'; break }
        }
      } else if (!seen) {
        this.requestState = 'I'
      }
      seen = true
      if (delim >= 0) {
        kept.push(`${this.name}=${value.slice(delim + 1)}`)
        changed = true
      } else if (this.mode === 'insert' && this.indirect) {
        changed = true
      } else {
        kept.push(part)
      }
    }
    if (changed) {
      if (kept.length === 0) delete txn.headers.cookie
      else txn.headers.cookie = kept.join('; ')
    }
    return chosen
  }

  /**
   * The response side, on the flat header list sent to the client (name, value, …): the
   * server's own Set-Cookie of the cookie is removed (`insert`, or `indirect` when the cookie
   * chose the server), rewritten (`rewrite`) or prefixed (`prefix`), unless `preserve`; then
   * `insert` adds the server's cookie when the request was not sent by it, with
   * `Cache-control: private` for `nocache` on a cacheable answer. Returns the access log's 4th
   * `%tsc` character: I inserted, R rewritten, D deleted, P kept as the server sent it, N none.
   */
  response (headers: string[], server: ServerRuntime, direct: boolean, method: string, status: number): 'I' | 'R' | 'D' | 'P' | 'N' {
    this.follow()
    let state: 'R' | 'D' | 'P' | 'N' = 'N'
    let found = false
    let cacheable = this.mode === 'insert' && this.nocache && !direct && (method === 'GET' || method === 'HEAD') && CACHEABLE_STATUSES.has(status)
    const cache: CacheFacts = { cacheable, freshness: false, validator: false, nullMaxAge: false }
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!
      if (cacheable && (name.length === 13 || name.length === 7 || name.length === 4)) cacheFacts(name.toLowerCase(), headers[i + 1]!, cache)
      if (name.length !== 10 || name.toLowerCase() !== 'set-cookie') continue
      const v = headers[i + 1]!
      const eq = v.indexOf('=')
      const semi = v.indexOf(';')
      // the first name=value pair is the cookie, the rest its attributes
      if (eq < 0 || (semi >= 0 && semi < eq) || v.slice(0, eq).trim() !== this.name) continue
      found = true
      state = 'P'
      if (this.preserve) continue
      if (this.mode === 'insert' || (direct && this.indirect)) {
        headers.splice(i, 2)
        i -= 2
        found = false
        state = 'D'
        continue
      }
      const own = this.values.get(server)
      if (own === undefined) continue
      state = 'R'
      const valueEnd = semi < 0 ? v.length : semi
      if (this.mode === 'rewrite') headers[i + 1] = `${v.slice(0, eq + 1)}${own}${v.slice(valueEnd)}`
      else if (this.mode === 'prefix') headers[i + 1] = `${v.slice(0, eq + 1)}${own}${DELIM}${v.slice(eq + 1)}`
    }
    if (this.mode !== 'insert' || direct || (found && this.preserve)) return state
    headers.push('set-cookie', this.inserted.get(server) ?? this.remove)
    if (cacheable) {
      if (cache.nullMaxAge) cache.cacheable = false
      cacheable = cache.cacheable && (cache.freshness || cache.validator)
      if (cacheable) headers.push('cache-control', 'private')
    }
    return 'I'
  }
}

interface CacheFacts {
  cacheable: boolean
  freshness: boolean
  validator: boolean
  nullMaxAge: boolean
}

/**
 * HAProxy 2.6 http_check_response_for_cacheability, one header at a time: Cache-Control
 * directives, then Expires (freshness) or ETag / Last-Modified (validators); an answer with
 * neither freshness nor validator is not cacheable.
 */
function cacheFacts (name: string, value: string, f: CacheFacts): void {
  if (name === 'expires') { f.freshness = true; return }
  if (name === 'etag' || name === 'last-modified') { f.validator = true; return }
  if (name !== 'cache-control') return
  for (const raw of value.split(',')) {
    const d = raw.trim().toLowerCase()
    if (d === 'public') f.cacheable = true
    else if (d === 'max-age=0') f.nullMaxAge = true
    else if (d === 'private' || d === 'no-cache' || d === 'no-store' || d === 's-maxage=0') f.cacheable = false
    else if (d.startsWith('s-maxage')) { f.freshness = true; f.nullMaxAge = false } else if (d.startsWith('max-age')) f.freshness = true
  }
}
