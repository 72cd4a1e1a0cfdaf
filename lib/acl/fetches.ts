// Sample fetches (configuration.txt §7.3.2, §7.3.6), one row each: name, argument kinds,
// output type and a compiler that binds the arguments into a closure over the transaction.
// Multi-valued fetches (headers, cookies, url parameters) also give `each`, which ACLs use:
// HAProxy tries every occurrence and the ACL matches if one does. In a sample context
// (converters, log-format, map keys) the same fetch returns one occurrence: the last header
// value, the last cookie, the first url parameter (as observed with HAProxy 2.6.12).

import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'

import type { ArgKind, ArgValue } from './arguments.js'
import type { CompileEnv } from './env.js'
import { varRef } from './vars.js'
import { eachCookie, eachHeaderValue, eachLine, headerBytes, headerValues, occurrence, requestLines } from './headers.js'
import { parseAddr } from './ip.js'
import { announcement } from '../proxy-protocol.js'
import { KNOWN_METHODS } from './matchers.js'
import { originalMethod, originalUri } from './original.js'
import { ExprError, type EachFn, type Sample, type SampleFn, type SampleType, type Side } from './sample.js'
import type { Proxy } from '../config/model.js'
import type { BackendView } from '../runtime/state.js'
import type { HttpResponseView, HttpTxn } from './txn.js'
import { UNSUPPORTED_FETCHES } from './unsupported-fetches.js'
import { TLS_FETCH_ROWS } from './tls-fetches.js'
import { stickFetchRows } from './stick-counters.js'
import { payloadLength, payloadLv, payloadSlice, sslAlpn, sslEcExtension, sslHelloType, sslSessionTicket, sslSni, sslVersion, type TcpPayload } from '../tcp/payload.js'

export interface CompiledFetch {
  one: SampleFn
  each?: EachFn
}

export interface FetchRow {
  name: string
  args: readonly ArgKind[]
  minArgs: number
  type: SampleType
  /** Reads the request line/headers or the response: unusable on the other side (HAProxy's SMP_USE_*). */
  needs?: Side
  /** Reads the stream's backend: unusable in a frontend's request rules (HAProxy's SMP_USE_BKEND). */
  backend?: true
  compile (args: ArgValue[], env: CompileEnv): CompiledFetch
}

const constant = (v: Sample | null): CompiledFetch => ({ one: () => v })

/** `pathq`: path and query, never the scheme and authority. */
function pathq (txn: HttpTxn): string {
  return txn.query === null ? txn.path : txn.path + '?' + txn.query
}

/** `url`: the target as received (or rewritten), absolute-form included. */
function url (txn: HttpTxn): string {
  return txn.absolute === undefined ? pathq(txn) : txn.absolute + pathq(txn)
}

/**
 * The IPv4 address and port of an absolute-form target's authority (`url_ip`, `url_port`), as
 * HAProxy 2.6.12 gives them (observed): dotted decimal only (`010.1.2.3` is 10.1.2.3), no host
 * name, IPv6 literal or userinfo; the port defaults to the scheme's (http 80, https 443), keeps
 * its leading digits (`:abc` is 0) and wraps at 65536 (`:99999` is 34463).
 */
function urlAddress (txn: HttpTxn): { ip: string, port: number } | null {
  const target = txn.absolute
  if (target === undefined) return null
  const sep = target.indexOf('://')
  const scheme = target.slice(0, sep).toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') return null
  const authority = target.slice(sep + 3)
  const colon = authority.indexOf(':')
  const host = colon < 0 ? authority : authority.slice(0, colon)
  const parts = host.split('.')
  if (parts.length !== 4 || !parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255)) return null
  const ip = parts.map(Number).join('.')
  if (colon < 0) return { ip, port: scheme === 'https' ? 443 : 80 }
  const digits = /^[0-9]*/.exec(authority.slice(colon + 1))![0]
  return { ip, port: digits === '' ? 0 : Number(digits) % 65536 }
}

function firstHost (txn: HttpTxn): string | null {
  let host: string | null = null
  eachHeaderValue(txn.headers, 'host', (v) => { host = v; return true })
  return host
}

/** url_param: parameters of the query string, split at `&` and `;` (or the given delimiter). */
function eachParam (query: string | null, name: string, delim: string, cb: (v: string) => boolean): boolean {
  if (query === null) return false
  const n = query.length
  let start = 0
  while (start <= n) {
    let end = start
    while (end < n && (delim === '' ? query[end] !== '&' && query[end] !== ';' : query[end] !== delim)) end++
    const eq = query.indexOf('=', start)
    if (eq !== -1 && eq < end && (name === '' || (eq - start === name.length && query.startsWith(name, start)))) {
      if (cb(query.slice(eq + 1, end))) return true
    }
    start = end + 1
  }
  return false
}

/**
 * `req.len` of an HTTP request: what HAProxy's buffer holds, measured on 2.6.12 as 21 bytes, the
 * method, target and version, each header's name and value, and the body received so far.
 */
function httpRequestLength (t: HttpTxn): number {
  let n = 21 + t.method.length + (t.absolute?.length ?? 0) + pathq(t).length + 5 + t.version.length
  for (const name in t.headers) n += headerBytes(name, t.headers[name])
  return n + (t.body?.data.length ?? 0)
}

type HeadersOf = (t: HttpTxn, r: HttpResponseView | null) => HttpTxn['headers'] | undefined
const responseHeaders: HeadersOf = (_t, r) => r?.headers
const requestHeaders: HeadersOf = (t) => t.headers

/**
 * Where a header fetch reads, chosen once at compile time: the response's headers (none before
 * there is a response), or the request's, with repeated lines apart for the full-line fetches.
 */
function headersOf (res: boolean, full = false): HeadersOf {
  return res ? responseHeaders : full ? requestLines : requestHeaders
}

/** `hdr(name[,occ])`-style fetches over request or response headers. */
function headerFetch (res: boolean, full: boolean): FetchRow['compile'] {
  return (args) => {
    const name = typeof args[0] === 'string' ? args[0].toLowerCase() : ''
    const occ = typeof args[1] === 'number' ? args[1] : 0
    // Fast path for the common single-line, single-value header.
    const pick = (h: HttpTxn['headers']): string | null => {
      const v = name === '' ? undefined : h[name]
      if (typeof v === 'string' && (full || v.indexOf(',') === -1)) return occ === 0 || occ === 1 || occ === -1 ? v.trim() : null
      if (v === undefined && name !== '') return null
      return occurrence(headerValues(h, name, full), occ)
    }
    const headers = headersOf(res, full)
    const one: SampleFn = (t, r) => { const h = headers(t, r); return h === undefined ? null : pick(h) }
    if (occ !== 0) return { one }
    const each: EachFn = full
      ? (t, r, test) => { const h = headers(t, r); return h !== undefined && eachLine(h, name, test) }
      : (t, r, test) => { const h = headers(t, r); return h !== undefined && eachHeaderValue(h, name, test) }
    return { one, each }
  }
}

function headerCount (res: boolean, full: boolean): FetchRow['compile'] {
  return (args) => {
    const name = typeof args[0] === 'string' ? args[0].toLowerCase() : ''
    const headers = headersOf(res, full)
    return {
      one: (t, r) => {
        const h = headers(t, r)
        return h === undefined ? null : headerValues(h, name, full).length
      }
    }
  }
}

/** `hdr_val`, `hdr_ip`: the header value (last occurrence by default) read as another type. */
function headerAs (cast: (v: string) => Sample | null, res = false): FetchRow['compile'] {
  return (args, env) => {
    const inner = headerFetch(res, false)(args, env)
    const one: SampleFn = (t, r) => { const v = inner.one(t, r); return v === null ? null : cast(String(v)) }
    const each = inner.each
    return each === undefined
      ? { one }
      : { one, each: (t, r, test) => each(t, r, (v) => { const c = cast(String(v)); return c !== null && test(c) }) }
  }
}

/** HAProxy's strl2ic: leading digits with an optional sign, 0 when there are none. */
const intOf = (v: string): number => { const m = /^[-+]?\d+/.exec(v.trim()); return m === null ? 0 : parseInt(m[0], 10) }

function cookieFetch (res: boolean): FetchRow['compile'] {
  return (args) => {
    const name = typeof args[0] === 'string' ? args[0] : ''
    const header = res ? 'set-cookie' : 'cookie'
    const headers = headersOf(res)
    const each: EachFn = (t, r, test) => {
      const h = headers(t, r)
      // HAProxy 2.6 skips a Cookie line no longer than `name=` (observed: `Cookie: c=` has no
      // `c` cookie for req.cook, while `c=; d=1` has an empty one).
      return h !== undefined && eachLine(h, header, (line) => line.length > name.length + 1 && eachCookie(line, name, test))
    }
    // the last cookie of that name, or without a name the first cookie (observed on 2.6.12)
    const one: SampleFn = name === ''
      ? (t, r) => {
          let first: string | null = null
          each(t, r, (v) => { first = String(v); return true })
          return first
        }
      : (t, r) => {
          let last: string | null = null
          each(t, r, (v) => { last = String(v); return false })
          return last
        }
    return { one, each }
  }
}

function cookieCount (res: boolean): FetchRow['compile'] {
  return (args) => {
    const name = typeof args[0] === 'string' ? args[0] : ''
    const header = res ? 'set-cookie' : 'cookie'
    const headers = headersOf(res)
    return {
      one: (t, r) => {
        const h = headers(t, r)
        if (h === undefined) return null
        let n = 0
        eachLine(h, header, (line) => eachCookie(line, name, () => { n++; return false }))
        return n
      }
    }
  }
}

function cookieValue (res: boolean): FetchRow['compile'] {
  return (args, env) => {
    const c = cookieFetch(res)(args, env)
    return { one: (t, r) => { const v = c.one(t, r); return v === null ? null : intOf(String(v)) } }
  }
}

/** Basic credentials from the Authorization header: [user, password] or null. */
export function basicCredentials (txn: HttpTxn): [string, string] | null {
  return parseBasicAuth(txn.headers.authorization)
}

/** Standard base64, padded to a multiple of 4: what HAProxy decodes (no URL-safe alphabet). */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * An Authorization value read as HAProxy 2.6 reads it for `stats auth` and `http_auth` (recorded
 * in test/stats/authorization.test.ts): the value up to its first comma; the scheme `Basic` in
 * any case, then spaces (not tabs); strict, padded base64; user and password split at the
 * first colon (a password may be empty).
 */
export function parseBasicAuth (header: string | undefined): [string, string] | null {
  if (typeof header !== 'string') return null
  const comma = header.indexOf(',')
  const value = comma === -1 ? header : header.slice(0, comma)
  if (value.length < 7 || value.slice(0, 6).toLowerCase() !== 'basic ') return null
  let at = 6
  while (value.charCodeAt(at) === 32) at++
  const encoded = value.slice(at).trimEnd()
  if (encoded === '' || !STRICT_BASE64.test(encoded)) return null
  const decoded = Buffer.from(encoded, 'base64').toString('latin1')
  const colon = decoded.indexOf(':')
  return colon === -1 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1)]
}

/** The proxy a fetch without a backend argument reads (nbsrv, be_conn, queue): the current one, which must be able to be a backend. */
function currentBackend (env: CompileEnv, fetch: string): Proxy {
  if (env.proxy.kind === 'frontend') throw new ExprError(`proxy '${env.proxy.name}', referenced in arg 1 of sample fetch keyword '${fetch}', has not backend capability`)
  return env.proxy
}

/** The backend of the config named by a fetch argument (nbsrv, srv_is_up). */
function backendArg (name: string, env: CompileEnv, fetch: string): Proxy {
  const be = env.config.proxies.find((p) => p.kind !== 'frontend' && p.name === name)
  if (be === undefined) throw new ExprError(`unable to find backend '${name}' referenced in arg 1 of sample fetch keyword '${fetch}'`)
  return be
}

/**
 * HAProxy's be_usable_srv: usable active servers (up, ready — not drain nor maint —, weight > 0), else
 * the usable backups with `option allbackups`, else 1 when a backup is usable (only the first
 * one takes traffic). Without live state (checking only) there is no value.
 */
function usableServers (be: BackendView | undefined, allBackups: boolean): number | null {
  if (be === undefined) return null
  const usable = be.servers.filter((s) => s.op === 'up' && s.admin === 'ready' && s.weight > 0 && !s.nolb)
  const active = usable.filter((s) => !s.backup).length
  if (active > 0) return active
  return allBackups ? usable.length : Math.min(usable.length, 1)
}

/**
 * `req.hdrs` / `res.hdrs`: the header block as `name: value` CRLF lines and the closing empty
 * line; `hdr_names`: the names joined by the first character of the delimiter (',' by default).
 * Names are lower case, as HTX stores them; node joins repeated lines into one.
 */
function headerBlock (h: HttpTxn['headers']): string {
  let out = ''
  for (const name in h) {
    const v = h[name]
    if (v === undefined) continue
    if (typeof v === 'string') out += `${name}: ${v}\r\n`
    else for (const line of v) out += `${name}: ${line}\r\n`
  }
  return out + '\r\n'
}

function headerNames (h: HttpTxn['headers'], delim: string): string {
  let out = ''
  for (const name in h) {
    const v = h[name]
    if (v === undefined) continue
    const n = typeof v === 'string' ? 1 : v.length
    for (let i = 0; i < n; i++) out += out === '' ? name : delim + name
  }
  return out
}

/** A `res.*` fetch over the response headers (the request's own read `requestLines`). */
function onResponseHeaders (get: (h: HttpTxn['headers']) => Sample | null): CompiledFetch['one'] {
  return (_t, r) => r === null ? null : get(r.headers)
}

/** A backend's live state by name (the current one when no name is given), through the caller's hook. */
function liveBackend (a: ArgValue[], env: CompileEnv, fetch: string): () => BackendView | undefined {
  const be = a.length > 0 && a[0] !== '' ? backendArg(String(a[0]), env, fetch) : currentBackend(env, fetch)
  return () => env.backend?.(be.name)
}

/** `[<backend>/]<server>`: a server's live state, through the caller's hook. */
function liveServer (a: ArgValue[], env: CompileEnv, fetch: string): () => BackendView['servers'][number] | undefined {
  const text = String(a[0])
  const [be, srv] = text.includes('/') ? text.split('/', 2) : [env.proxy.name, text]
  const proxy = backendArg(be, env, fetch)
  if (!proxy.servers.some((s) => s.name === srv)) throw new ExprError(`unable to find server '${srv}' in backend '${be}' referenced in arg 1 of sample fetch keyword '${fetch}'`)
  return () => env.backend?.(be)?.servers.find((x) => x.name === srv)
}

/** Proxy ids by name, for `fe_id` / `be_id`. */
function proxyIds (env: CompileEnv): Map<string, number> {
  return new Map(env.config.proxies.map((p) => [p.name, p.id]))
}

/** `http_auth_bearer([<header>])`: the token after `Bearer ` (case-insensitive scheme). */
function bearer (h: HttpResponseView['headers'], name: string): string | null {
  const v = h[name]
  const line = typeof v === 'string' ? v : v?.[0]
  if (line === undefined || line.length < 7 || line.slice(0, 7).toLowerCase() !== 'bearer ') return null
  return line.slice(7).trim()
}

/** `req.payload(offset,length)` / `req.payload_lv(…)` and their `res.` twins over the payload `pick` gives. */
function payloadRows (slices: string[], lvs: string[], pick: (t: HttpTxn) => TcpPayload | undefined, needs?: Side): FetchRow[] {
  const bytes = (b: Buffer | null): string | null => b === null ? null : b.toString('latin1')
  return [
    ...slices.map((name): FetchRow => ({
      name, args: ['int', 'int'], minArgs: 2, type: 'str', ...(needs === undefined ? {} : { needs }),
      compile: (a) => {
        const offset = a[0] as number
        const length = a[1] as number
        return { one: (t) => { const p = pick(t); return p === undefined ? null : bytes(payloadSlice(p, offset, length)) } }
      }
    })),
    ...lvs.map((name): FetchRow => ({
      name, args: ['int', 'int', 'int'], minArgs: 2, type: 'str', ...(needs === undefined ? {} : { needs }),
      compile: (a) => {
        const at = a[0] as number
        const size = a[1] as number
        const data = typeof a[2] === 'number' ? a[2] : undefined
        return { one: (t) => { const p = pick(t); return p === undefined ? null : bytes(payloadLv(p, at, size, data)) } }
      }
    }))
  ]
}

const str = (name: string, get: (t: HttpTxn) => Sample | null, extra: Partial<FetchRow> = {}): FetchRow =>
  ({ name, args: [], minArgs: 0, type: 'str', compile: () => ({ one: get }), ...extra })

const ROWS: FetchRow[] = [
  // Layer 4 and TLS (§7.3.3, §7.3.4)
  { name: 'src', args: [], minArgs: 0, type: 'ip', compile: () => ({ one: (t) => t.src }) },
  { name: 'src_port', args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => t.srcPort }) },
  { name: 'dst', args: [], minArgs: 0, type: 'ip', compile: () => ({ one: (t) => t.dst }) },
  { name: 'dst_port', args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => t.dstPort }) },
  // the connection's own endpoints: neither a PROXY header nor set-src/set-dst change them (observed)
  { name: 'fc_src', args: [], minArgs: 0, type: 'ip', compile: () => ({ one: (t) => (t.connection ?? t).src }) },
  { name: 'fc_src_port', args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => (t.connection ?? t).srcPort }) },
  { name: 'fc_dst', args: [], minArgs: 0, type: 'ip', compile: () => ({ one: (t) => (t.connection ?? t).dst }) },
  { name: 'fc_dst_port', args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => (t.connection ?? t).dstPort }) },
  { name: 'fc_rcvd_proxy', args: [], minArgs: 0, type: 'bool', compile: () => ({ one: (t) => t.session !== undefined && announcement(t.session) !== undefined }) },
  { name: 'ssl_fc', args: [], minArgs: 0, type: 'bool', compile: () => ({ one: (t) => t.ssl }) },
  ...TLS_FETCH_ROWS,
  {
    name: 'fe_id', args: [], minArgs: 0, type: 'int',
    compile: (_a, env) => { const ids = proxyIds(env); return { one: (t) => ids.get(t.frontend) ?? null } }
  },
  {
    name: 'be_id', args: [], minArgs: 0, type: 'int', backend: true,
    compile: (_a, env) => { const ids = proxyIds(env); return { one: (t) => t.backend === '' ? null : ids.get(t.backend) ?? null } }
  },
  { name: 'fe_name', args: [], minArgs: 0, type: 'str', compile: () => ({ one: (t) => t.frontend }) },
  // a connection without error reads 0 / "Success", as HAProxy's
  { name: 'fc_err', args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => t.connError?.code ?? 0 }) },
  { name: 'fc_err_str', args: [], minArgs: 0, type: 'str', compile: () => ({ one: (t) => t.connError?.text ?? 'Success' }) },
  { name: 'ssl_fc_err', args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => t.connError?.ssl ?? (t.ssl ? 0 : null) }) },
  { name: 'ssl_fc_err_str', args: [], minArgs: 0, type: 'str', compile: () => ({ one: (t) => t.connError?.sslText ?? null }) },
  { name: 'last_rule_file', args: [], minArgs: 0, type: 'str', compile: () => ({ one: (t) => t.lastRule?.file ?? null }) },
  { name: 'last_rule_line', args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => t.lastRule?.line ?? null }) },
  {
    // the `name` of the bind that accepted the connection (set on its sockets by the CLI)
    name: 'so_name', args: [], minArgs: 0, type: 'str', compile: () => ({ one: (t) => t.soName ?? null })
  },
  { name: 'srv_name', args: [], minArgs: 0, type: 'str', needs: 'response', compile: () => ({ one: (_t, r) => r?.server?.name ?? null }) },
  { name: 'srv_id', args: [], minArgs: 0, type: 'int', needs: 'response', compile: () => ({ one: (_t, r) => r?.server?.id ?? null }) },
  { name: 'ssl_bc_alpn', args: [], minArgs: 0, type: 'str', needs: 'response', compile: () => ({ one: (_t, r) => r?.alpn ?? null }) },
  { name: 'be_name', args: [], minArgs: 0, type: 'str', backend: true, compile: () => ({ one: (t) => t.backend === '' ? null : t.backend }) },
  // Internal states (§7.3.2)
  { name: 'always_true', args: [], minArgs: 0, type: 'bool', compile: () => constant(true) },
  { name: 'always_false', args: [], minArgs: 0, type: 'bool', compile: () => constant(false) },
  // `str` and `str()` are the empty string, as HAProxy 2.6 accepts them
  { name: 'str', args: ['str'], minArgs: 0, type: 'str', compile: (a) => constant(String(a[0] ?? '')) },
  { name: 'int', args: ['int'], minArgs: 1, type: 'int', compile: (a) => constant(a[0] as number) },
  {
    name: 'bin', args: ['str'], minArgs: 1, type: 'str',
    compile: (a) => {
      const hex = String(a[0])
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new ExprError(`failed to parse '${hex}' as type 'binary' at position 1`)
      return constant(Buffer.from(hex, 'hex').toString('latin1'))
    }
  },
  {
    name: 'bool', args: ['str'], minArgs: 0, type: 'bool',
    compile: (a) => {
      const word = String(a[0] ?? '')
      if (word !== 'true' && word !== 'false' && word !== '0' && word !== '1') throw new ExprError("Expects 'true', 'false', '0' or '1'")
      return constant(word === 'true' || word === '1')
    }
  },
  { name: 'env', args: ['str'], minArgs: 1, type: 'str', compile: (a) => ({ one: () => process.env[String(a[0])] ?? null }) },
  { name: 'hostname', args: [], minArgs: 0, type: 'str', compile: () => constant(hostname()) },
  { name: 'date_us', args: [], minArgs: 0, type: 'int', compile: () => ({ one: () => Math.floor((performance.timeOrigin + performance.now()) * 1000) % 1_000_000 }) },
  { name: 'uuid', args: ['int'], minArgs: 0, type: 'str', compile: (a) => {
    if (a.length > 0 && a[0] !== 4) throw new ExprError('Unsupported UUID version')
    return { one: () => randomUUID() }
  } },
  ...(['ipv4', 'ipv6'] as const).map((name): FetchRow => ({
    name, args: ['str'], minArgs: 1, type: 'ip',
    compile: (a) => {
      const addr = parseAddr(String(a[0]))
      if (addr === null || addr.v6 !== (name === 'ipv6')) throw new ExprError(`failed to parse '${String(a[0])}' as type '${name}' at position 1`)
      return constant(String(a[0]))
    }
  })),
  { name: 'date', args: ['int'], minArgs: 0, type: 'int', compile: (a) => ({ one: () => Math.floor(Date.now() / 1000) + ((a[0] as number | undefined) ?? 0) }) },
  { name: 'rand', args: ['int'], minArgs: 0, type: 'int', compile: (a) => ({ one: () => Math.floor(Math.random() * ((a[0] as number | undefined) ?? 0x100000000)) }) },
  {
    name: 'var', args: ['var', 'str'], minArgs: 1, type: 'any',
    compile: (a) => {
      const ref = varRef(String(a[0]))
      const dflt = a.length > 1 ? String(a[1]) : null
      return { one: (t) => ref.get(t) ?? dflt }
    }
  },
  // Live backend state (§7.3.2), read through the caller's hook.
  {
    name: 'nbsrv', args: ['str'], minArgs: 0, type: 'int',
    compile: (a, env) => {
      const be = a.length > 0 ? backendArg(String(a[0]), env, 'nbsrv') : currentBackend(env, 'nbsrv')
      return { one: () => usableServers(env.backend?.(be.name), be.allBackups) }
    }
  },
  {
    name: 'srv_is_up', args: ['str'], minArgs: 1, type: 'bool',
    compile: (a, env) => {
      const [be, srv] = String(a[0]).includes('/') ? String(a[0]).split('/') : [env.proxy.name, String(a[0])]
      backendArg(be, env, 'srv_is_up')
      return {
        one: () => {
          const s = env.backend?.(be)?.servers.find((x) => x.name === srv)
          return s === undefined ? null : s.op === 'up' && s.admin !== 'maint'
        }
      }
    }
  },
  ...(['be_conn', 'queue'] as const).map((name): FetchRow => ({
    name, args: ['str'], minArgs: 0, type: 'int',
    compile: (a, env) => {
      const be = liveBackend(a, env, name)
      return { one: () => { const b = be(); return b === undefined ? null : name === 'queue' ? b.qcur : b.counters.scur } }
    }
  })),
  ...(['srv_conn', 'srv_queue'] as const).map((name): FetchRow => ({
    name, args: ['str'], minArgs: 1, type: 'int',
    compile: (a, env) => {
      const srv = liveServer(a, env, name)
      return { one: () => { const s = srv(); return s === undefined ? null : name === 'srv_queue' ? s.qcur : s.counters.scur } }
    }
  })),
  // Stick counters and tables (§7.3.3; lib/acl/stick-counters.ts)
  ...stickFetchRows(),
  // What the predefined ACLs use (§7.4): an HTTP proxy has always parsed a complete request.
  { name: 'req.proto_http', args: [], minArgs: 0, type: 'bool', compile: () => constant(true) },
  { name: 'req_proto_http', args: [], minArgs: 0, type: 'bool', compile: () => constant(true) },
  { name: 'wait_end', args: [], minArgs: 0, type: 'bool', compile: () => constant(true) },
  // Content of a TCP connection (§7.3.5; lib/tcp/payload.ts); in HTTP, req.len is the body's length.
  ...['req.len', 'req_len'].map((name): FetchRow => ({ name, args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => t.payload !== undefined ? payloadLength(t.payload) : httpRequestLength(t) }) })),
  ...payloadRows(['req.payload', 'payload'], ['req.payload_lv', 'payload_lv'], (t) => t.payload),
  // What the server sent, while a `mode tcp` backend's tcp-response content rules run
  { name: 'res.len', args: [], minArgs: 0, type: 'int', needs: 'response', compile: () => ({ one: (t) => t.resPayload === undefined ? null : payloadLength(t.resPayload) }) },
  ...payloadRows(['res.payload'], ['res.payload_lv'], (t) => t.resPayload, 'response'),
  ...['req.ssl_hello_type', 'req_ssl_hello_type'].map((name): FetchRow => ({ name, args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => t.payload === undefined ? null : sslHelloType(t.payload) }) })),
  ...['req.ssl_ver', 'req_ssl_ver'].map((name): FetchRow => ({ name, args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => t.payload === undefined ? null : sslVersion(t.payload) }) })),
  ...['req.ssl_sni', 'req_ssl_sni'].map((name): FetchRow => ({ name, args: [], minArgs: 0, type: 'str', compile: () => ({ one: (t) => t.payload === undefined ? null : sslSni(t.payload) }) })),
  {
    name: 'req.ssl_alpn', args: [], minArgs: 0, type: 'str',
    compile: () => ({
      one: (t) => t.payload === undefined ? null : sslAlpn(t.payload)?.[0] ?? null,
      each: (t, _r, test) => t.payload !== undefined && (sslAlpn(t.payload)?.some(test) ?? false)
    })
  },
  { name: 'req.ssl_ec_ext', args: [], minArgs: 0, type: 'bool', compile: () => ({ one: (t) => t.payload === undefined ? null : sslEcExtension(t.payload) }) },
  { name: 'req.ssl_st_ext', args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => t.payload === undefined ? null : sslSessionTicket(t.payload) }) },
  { name: 'req.rdp_cookie_cnt', args: ['str'], minArgs: 0, type: 'int', compile: () => constant(0) },
  // The request body the gateway waited for (§7.3.6; lib/runtime/request-body.ts): without a
  // wait (option http-buffer-request, http-request wait-for-body) none of it has been read yet.
  str('req.body', (t) => t.body === undefined ? '' : t.body.data.toString('latin1')),
  { name: 'req.body_len', args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => t.body?.data.length ?? 0 }) },
  {
    name: 'req.body_size', args: [], minArgs: 0, type: 'int',
    compile: () => ({ one: (t) => { const cl = t.headers['content-length']; return cl !== undefined ? intOf(cl) : t.body?.data.length ?? 0 } })
  },
  {
    name: 'req.body_param', args: ['str'], minArgs: 0, type: 'str',
    compile: (a) => {
      const pname = typeof a[0] === 'string' ? a[0] : ''
      const body = (t: HttpTxn): string | null => t.body === undefined ? null : t.body.data.toString('latin1')
      return {
        one: (t) => { let v: string | null = null; eachParam(body(t), pname, '&', (x) => { v = x; return true }); return v },
        each: (t, _r, test) => eachParam(body(t), pname, '&', test)
      }
    }
  },
  // The response body an `http-response wait-for-body` waited for (§7.3.6): without a wait, none of it.
  // the answer `compression` compresses (§7.3.6): decided on the server's headers, before the http-response rules
  { name: 'res.comp', args: [], minArgs: 0, type: 'bool', needs: 'response', compile: () => ({ one: (_t, r) => r?.compression !== undefined }) },
  // an answer `http-request cache-use` took from the cache (§7.3.6), and that cache's name
  { name: 'res.cache_hit', args: [], minArgs: 0, type: 'bool', needs: 'response', compile: () => ({ one: (_t, r) => r?.cache !== undefined }) },
  { name: 'res.cache_name', args: [], minArgs: 0, type: 'str', needs: 'response', compile: () => ({ one: (_t, r) => r?.cache ?? null }) },
  { name: 'res.comp_algo', args: [], minArgs: 0, type: 'str', needs: 'response', compile: () => ({ one: (_t, r) => r?.compression ?? null }) },
  { name: 'res.body', args: [], minArgs: 0, type: 'str', needs: 'response', compile: () => ({ one: (_t, r) => r?.body === undefined ? '' : r.body.data.toString('latin1') }) },
  { name: 'res.body_len', args: [], minArgs: 0, type: 'int', needs: 'response', compile: () => ({ one: (_t, r) => r?.body?.data.length ?? 0 }) },
  {
    name: 'res.body_size', args: [], minArgs: 0, type: 'int', needs: 'response',
    compile: () => ({ one: (_t, r) => { const cl = r?.headers['content-length']; return cl !== undefined ? intOf(cl) : r?.body?.data.length ?? 0 } })
  },
  // HTTP request (§7.3.6)
  // HAProxy keeps the method it parsed: after `set-method`, a well-known original method is
  // still what `method` says; another one reads the rewritten request line (observed on 2.6.12).
  str('method', (t) => {
    const m = originalMethod(t)
    return m === t.method || KNOWN_METHODS.has(m) ? m : t.method
  }, { type: 'meth' }),
  str('capture.req.method', originalMethod),
  str('capture.req.uri', originalUri),
  str('capture.req.ver', (t) => `HTTP/${t.version}`),
  str('capture.res.ver', () => 'HTTP/1.1'),
  // the frontend's capture slots (`capture request|response header`, `declare capture`, `… capture` rules)
  { name: 'capture.req.hdr', args: ['int'], minArgs: 1, type: 'str', compile: (a) => { const i = a[0] as number; return { one: (t) => t.reqCaptures?.[i] ?? null } } },
  { name: 'capture.res.hdr', args: ['int'], minArgs: 1, type: 'str', compile: (a) => { const i = a[0] as number; return { one: (t) => t.resCaptures?.[i] ?? null } } },
  // `OPTIONS *` has no path
  str('path', (t) => t.path.charCodeAt(0) === 47 ? t.path : ''),
  str('pathq', pathq),
  str('url', url),
  { name: 'url_ip', args: [], minArgs: 0, type: 'ip', compile: () => ({ one: (t) => urlAddress(t)?.ip ?? null }) },
  { name: 'url_port', args: [], minArgs: 0, type: 'int', compile: () => ({ one: (t) => urlAddress(t)?.port ?? null }) },
  str('query', (t) => t.query),
  str('base', (t) => { const h = firstHost(t); return h === null || h === '' ? t.path : h + t.path }),
  str('baseq', (t) => { const h = firstHost(t); return h === null || h === '' ? url(t) : h + url(t) }),
  str('req.hdrs', (t) => headerBlock(requestLines(t))),
  {
    name: 'req.hdr_names', args: ['str'], minArgs: 0, type: 'str',
    compile: (a) => { const d = typeof a[0] === 'string' && a[0] !== '' ? a[0][0] : ','; return { one: (t) => headerNames(requestLines(t), d) } }
  },
  {
    name: 'http_auth_bearer', args: ['str'], minArgs: 0, type: 'str',
    compile: (a) => { const name = typeof a[0] === 'string' && a[0] !== '' ? a[0].toLowerCase() : 'authorization'; return { one: (t) => bearer(t.headers, name) } }
  },
  str('req.ver', (t) => t.version),
  ...['url_param', 'urlp'].map((name): FetchRow => ({
    name, args: ['str', 'str'], minArgs: 0, type: 'str',
    compile: (a) => {
      const pname = typeof a[0] === 'string' ? a[0] : ''
      const delim = typeof a[1] === 'string' ? a[1] : ''
      return {
        one: (t) => { let v: string | null = null; eachParam(t.query, pname, delim, (x) => { v = x; return true }); return v },
        each: (t, _r, test) => eachParam(t.query, pname, delim, test)
      }
    }
  })),
  {
    name: 'urlp_val', args: ['str', 'str'], minArgs: 0, type: 'int',
    compile: (a) => {
      const pname = typeof a[0] === 'string' ? a[0] : ''
      const delim = typeof a[1] === 'string' ? a[1] : ''
      return { one: (t) => { let v: number | null = null; eachParam(t.query, pname, delim, (x) => { v = intOf(x); return true }); return v } }
    }
  },
  ...['req.hdr', 'hdr'].map((name): FetchRow => ({ name, args: ['str', 'int'], minArgs: 0, type: 'str', compile: headerFetch(false, false) })),
  { name: 'req.fhdr', args: ['str', 'int'], minArgs: 0, type: 'str', compile: headerFetch(false, true) },
  ...['req.hdr_cnt', 'hdr_cnt'].map((name): FetchRow => ({ name, args: ['str'], minArgs: 0, type: 'int', compile: headerCount(false, false) })),
  { name: 'req.fhdr_cnt', args: ['str'], minArgs: 0, type: 'int', compile: headerCount(false, true) },
  ...['req.hdr_val', 'hdr_val'].map((name): FetchRow => ({ name, args: ['str', 'int'], minArgs: 0, type: 'int', compile: headerAs(intOf) })),
  ...['req.hdr_ip', 'hdr_ip'].map((name): FetchRow => ({ name, args: ['str', 'int'], minArgs: 0, type: 'ip', compile: headerAs((v) => v) })),
  ...['req.cook', 'cook'].map((name): FetchRow => ({ name, args: ['str'], minArgs: 0, type: 'str', compile: cookieFetch(false) })),
  ...['req.cook_cnt', 'cook_cnt'].map((name): FetchRow => ({ name, args: ['str'], minArgs: 0, type: 'int', compile: cookieCount(false) })),
  ...['req.cook_val', 'cook_val'].map((name): FetchRow => ({ name, args: ['str'], minArgs: 0, type: 'int', compile: cookieValue(false) })),
  {
    name: 'http_auth', args: ['userlist'], minArgs: 1, type: 'bool',
    compile: (a, env) => { const ul = env.userlist(String(a[0]))!; return { one: (t) => ul.authenticate(t) !== null } }
  },
  {
    name: 'http_auth_group', args: ['userlist'], minArgs: 1, type: 'str',
    compile: (a, env) => { const ul = env.userlist(String(a[0]))!; return { one: (t) => ul.authenticate(t) } }
  },
  str('http_auth_type', (t) => basicCredentials(t) === null ? null : 'basic'),
  str('http_auth_user', (t) => basicCredentials(t)?.[0] ?? null),
  str('http_auth_pass', (t) => basicCredentials(t)?.[1] ?? null),
  // HTTP response (§7.3.6, http-response rules)
  { name: 'status', args: [], minArgs: 0, type: 'int', needs: 'response', compile: () => ({ one: (_t, r) => r === null ? null : r.status }) },
  ...['res.hdr', 'shdr'].map((name): FetchRow => ({ name, args: ['str', 'int'], minArgs: 0, type: 'str', needs: 'response', compile: headerFetch(true, false) })),
  { name: 'res.fhdr', args: ['str', 'int'], minArgs: 0, type: 'str', needs: 'response', compile: headerFetch(true, true) },
  ...['res.hdr_cnt', 'shdr_cnt'].map((name): FetchRow => ({ name, args: ['str'], minArgs: 0, type: 'int', needs: 'response', compile: headerCount(true, false) })),
  ...['res.cook', 'scook'].map((name): FetchRow => ({ name, args: ['str'], minArgs: 0, type: 'str', needs: 'response', compile: cookieFetch(true) })),
  { name: 'res.ver', args: [], minArgs: 0, type: 'str', needs: 'response', compile: () => constant('1.1') },
  { name: 'res.fhdr_cnt', args: ['str'], minArgs: 0, type: 'int', needs: 'response', compile: headerCount(true, true) },
  ...['res.hdr_val', 'shdr_val'].map((name): FetchRow => ({ name, args: ['str', 'int'], minArgs: 0, type: 'int', needs: 'response', compile: headerAs(intOf, true) })),
  ...['res.hdr_ip', 'shdr_ip'].map((name): FetchRow => ({ name, args: ['str', 'int'], minArgs: 0, type: 'ip', needs: 'response', compile: headerAs((v) => v, true) })),
  ...['res.cook_cnt', 'scook_cnt'].map((name): FetchRow => ({ name, args: ['str'], minArgs: 0, type: 'int', needs: 'response', compile: cookieCount(true) })),
  ...['res.cook_val', 'scook_val'].map((name): FetchRow => ({ name, args: ['str'], minArgs: 0, type: 'int', needs: 'response', compile: cookieValue(true) })),
  { name: 'res.hdrs', args: [], minArgs: 0, type: 'str', needs: 'response', compile: () => ({ one: onResponseHeaders(headerBlock) }) },
  {
    name: 'res.hdr_names', args: ['str'], minArgs: 0, type: 'str', needs: 'response',
    compile: (a) => { const d = typeof a[0] === 'string' && a[0] !== '' ? a[0][0] : ','; return { one: onResponseHeaders((h) => headerNames(h, d)) } }
  }
]

/** Fetches of the request line and headers: HAProxy 2.6 refuses them in http-response rules. */
const REQUEST_ONLY = new Set([
  'path', 'pathq', 'url', 'url_ip', 'url_port', 'query', 'base', 'req.ver', 'url_param', 'urlp', 'urlp_val', 'req.hdr', 'hdr', 'req.fhdr',
  'req.hdr_cnt', 'hdr_cnt', 'req.fhdr_cnt', 'req.hdr_val', 'hdr_val', 'req.hdr_ip', 'hdr_ip', 'req.cook', 'cook',
  'req.cook_cnt', 'cook_cnt', 'req.cook_val', 'cook_val', 'http_auth', 'http_auth_group', 'http_auth_type',
  'http_auth_user', 'http_auth_pass', 'http_auth_bearer', 'baseq', 'req.hdrs', 'req.hdr_names'
])

export const FETCHES: ReadonlyMap<string, FetchRow> = new Map(ROWS.map((r) => [r.name, REQUEST_ONLY.has(r.name) ? { ...r, needs: 'request' } : r]))

/**
 * ACL keywords that are a fetch crossed with a match method (configuration.txt §7.3.6, e.g. `path_beg`):
 * `path_beg` = `path` + `beg`. `method` and `http_auth_group` carry their own matchers.
 */
export const ACL_KEYWORDS: ReadonlyMap<string, { fetch: string, match: string }> = (() => {
  const m = new Map<string, { fetch: string, match: string }>()
  const families: Array<[string, string]> = [
    ['base', 'base'], ['cook', 'req.cook'], ['hdr', 'req.hdr'], ['path', 'path'], ['url', 'url'],
    ['urlp', 'urlp'], ['scook', 'res.cook'], ['shdr', 'res.hdr']
  ]
  for (const [prefix, fetch] of families) {
    m.set(prefix, { fetch, match: 'str' })
    for (const match of ['beg', 'dir', 'dom', 'end', 'len', 'reg', 'sub']) m.set(`${prefix}_${match}`, { fetch, match })
  }
  m.set('req_ver', { fetch: 'req.ver', match: 'str' })
  m.set('resp_ver', { fetch: 'res.ver', match: 'str' })
  m.set('method', { fetch: 'method', match: 'meth' })
  m.set('http_auth_group', { fetch: 'http_auth_group', match: 'group' })
  m.set('ssl_fc_sni_end', { fetch: 'ssl_fc_sni', match: 'end' })
  m.set('ssl_fc_sni_reg', { fetch: 'ssl_fc_sni', match: 'reg' })
  return m
})()

/** The match method a fetch gets in an ACL without `-m` (§7.1.3): by output type. */
export const DEFAULT_MATCH: Record<SampleType, string | null> = {
  str: 'str', int: 'int', bool: 'bool', ip: 'ip', meth: 'meth', any: null
}

/** ACL derivatives (`ssl_fc_sni_end`, `req_ssl_sni_reg` ...) of fetches this engine does not evaluate. */
const DERIVED = /^(.+)_(beg|dir|dom|end|len|reg|sub|cnt|found|val)$/

/**
 * The row for a fetch name, or undefined when HAProxy has no such fetch. A fetch HAProxy has and
 * this engine does not evaluate is an ExprError naming it.
 */
export function fetchRow (name: string, _env: CompileEnv): FetchRow | undefined {
  const row = FETCHES.get(name)
  if (row !== undefined) return row
  if (!UNSUPPORTED_FETCHES.has(name) && !UNSUPPORTED_FETCHES.has(DERIVED.exec(name)?.[1] ?? '')) return undefined
  throw new ExprError(`fetch method '${name}' is not supported by fastify-haproxy`)
}
