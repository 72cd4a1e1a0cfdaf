// The forward path: one request from the client's socket to a server and back, with HAProxy's
// semantics (configuration.txt §4.2 retries, option redispatch, timeout *, option forwardfor).
//
// Hot path. One `Exchange` object per proxied request is the undici dispatch handler itself
// (legacy onConnect/onHeaders/onData/onComplete/onError, which undici calls directly without a
// wrapper) and writes into node's ServerResponse: no streams, no pipeline() (it allocates an
// AbortController per call, +60 µs on Node 20), no Fastify reply. Request bodies are handed to
// undici as the IncomingMessage itself, so they stream unparsed and unbuffered.

import diagnostics from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'
import type { ForwardFor, Proxy } from '../config/model.js'
import type { Decision, HttpResponseView, HttpTxn } from '../acl/txn.js'
import type { CompiledProxy } from '../acl/compile.js'
import type { Backend, ServerRuntime } from './backend.js'
import { CookieRule } from './persistence.js'
import type { FastifyBaseLogger } from 'fastify'
import {
  FST_HAPROXY_BAD_GATEWAY, FST_HAPROXY_GATEWAY_TIMEOUT, FST_HAPROXY_NO_SERVER, HTX_START_LINE, HTX_VERSION, htxResponseBytes
} from '../errors.js'
import type { ErrorPage, ErrorPages } from '../errors.js'
import { RateCounter, TrafficCounters } from './state.js'
import type { FrontendView } from './state.js'

/** What `request.haproxy` says about a request, for logs. */
export interface RequestRoute {
  readonly frontend: string
  readonly backend: string | null
  readonly server: string | null
}

/** A proxied request's route: the exchange fills in the server it picks. */
export interface ProxiedRoute extends RequestRoute {
  server: string | null
}

/** Counters of a frontend or listen section (its FRONTEND row in the stats). */
export class FrontendCounters implements FrontendView {
  readonly counters = new TrafficCounters()
  connTot = 0
  readonly connRate = new RateCounter()
  readonly reqRate = new RateCounter()

  constructor (
    readonly name: string,
    readonly id: number,
    /** The frontend's effective maxconn (the CSV `slim`); set again on reload. */
    public maxconn: number
  ) {}

  /** A client connection was accepted (HAProxy counts sessions per connection). */
  accept (socket: Socket): void {
    const now = Date.now()
    const c = this.counters
    this.connTot++
    c.stot++
    c.lastSess = now
    this.connRate.hit(now)
    c.rate.hit(now)
    if (++c.scur > c.smax) c.smax = c.scur
    socket.once('close', () => { c.scur-- })
  }
}

/** undici's verdicts on the request itself: retrying cannot change them. */
const REQUEST_ERRORS = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_ABORTED', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'])
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
// Balance algorithms HAProxy classes as hash-based (BE_LB_KIND_HI): a failed server is not left
// at once for them, since the hash would pick it again (include/haproxy/stream.h stream_choose_redispatch).
const HASH_ALGORITHMS = new Set(['source', 'uri', 'url_param', 'hdr', 'rdp-cookie', 'hash'])

/**
 * `retry-on` compiled once (configuration.txt §4.2 retry-on). Beyond connection failures these
 * are layer-7 retries: HAProxy replays a request it still holds, so here only bodyless ones.
 */
export class RetryOn {
  connFailure = false
  emptyResponse = false
  junkResponse = false
  responseTimeout = false
  readonly statuses = new Set<number>()

  constructor (words: readonly string[]) {
    for (const w of words) {
      switch (w) {
        case 'conn-failure': this.connFailure = true; break
        case 'empty-response': this.emptyResponse = true; break
        case 'junk-response': this.junkResponse = true; break
        case 'response-timeout': this.responseTimeout = true; break
        case 'all-retryable-errors':
          this.connFailure = this.emptyResponse = this.junkResponse = this.responseTimeout = true
          for (const code of [500, 502, 503, 504]) this.statuses.add(code)
          break
        default:
          if (/^\d{3}$/.test(w)) this.statuses.add(Number(w))
      }
    }
  }
}

/** A backend (or listen) as the forwarder uses it: the balancer, pools per server, its rules and pages. */
export class BackendRoute {
  readonly name: string
  readonly retries: number
  readonly hashLb: boolean
  /** Pause before a retry on the same server: min(timeout connect, 1s) (§4.2 retries). */
  readonly retryPause: number
  readonly tunnelTimeout: number
  readonly forwardFor: ForwardForRule | null
  readonly retryOn: RetryOn
  /** `cookie` persistence, null without it (or outside HTTP mode). */
  readonly cookie: CookieRule | null
  /** Client sockets of open WebSocket tunnels, cut when the gateway stops. */
  readonly tunnels = new Set<Socket>()
  /** Per server, its pool and the origin it connects to (a server moved by `set server addr` or DNS gets a new pool). */
  private readonly pools = new Map<ServerRuntime, { pool: Pool, origin: string }>()
  private readonly poolOptions: Pool.Options

  constructor (
    readonly proxy: Proxy,
    readonly backend: Backend,
    /** The backend's own http-request/http-response rules, null when it has none. */
    readonly rules: CompiledProxy | null,
    readonly pages: ErrorPages
  ) {
    const t = proxy.timeouts
    this.name = proxy.name
    this.retries = proxy.retries ?? 3
    this.hashLb = HASH_ALGORITHMS.has(proxy.balance?.algorithm ?? 'roundrobin')
    this.retryPause = Math.min(t.connect ?? 1000, 1000)
    this.tunnelTimeout = t.tunnel ?? t.server ?? t.client ?? 0
    this.forwardFor = proxy.forwardFor === null ? null : new ForwardForRule(proxy.forwardFor)
    this.retryOn = new RetryOn(proxy.retryOn ?? ['conn-failure'])
    this.cookie = proxy.cookie === null ? null : new CookieRule(proxy.cookie, backend.servers, proxy.servers.map(s => s.cookie))
    this.poolOptions = {
      // HAProxy has no default for these: absent means no limit, as 0 does for undici.
      headersTimeout: t.server ?? 0,
      bodyTimeout: t.server ?? 0,
      connectTimeout: t.connect ?? 0,
      pipelining: 1
    }
  }

  pool (server: ServerRuntime): Pool {
    const entry = this.pools.get(server)
    if (entry !== undefined && entry.origin === server.origin) return entry.pool
    // requests under way finish on the old address; new ones go to the new one
    if (entry !== undefined) entry.pool.close().catch(() => {})
    const opts: Pool.Options = { ...this.poolOptions, connections: server.maxconn > 0 ? server.maxconn : null }
    if (server.ssl) {
      const cfg = this.proxy.servers.find(s => s.name === server.name)
      opts.connect = {
        timeout: this.poolOptions.connectTimeout,
        rejectUnauthorized: cfg?.verify !== 'none',
        ...(cfg?.caFile !== undefined ? { ca: readFileSync(cfg.caFile) } : {}),
        ...(cfg?.sni !== undefined ? { servername: cfg.sni } : {})
      }
    }
    const pool = new Pool(server.origin, opts)
    this.pools.set(server, { pool, origin: server.origin })
    return pool
  }

  /** `shutdown sessions server`: the requests under way on that server are cut at once. */
  killSessions (server: ServerRuntime): void {
    const entry = this.pools.get(server)
    if (entry === undefined) return
    this.pools.delete(server)
    entry.pool.destroy().catch(() => {})
  }

  /** Waits for in-flight requests on every pool, then closes their connections. */
  async close (): Promise<void> {
    this.backend.close()
    const pools = [...this.pools.values()].map(e => e.pool)
    this.pools.clear()
    await Promise.all(pools.map(p => p.close().catch(() => {})))
  }

  closeTunnels (): void {
    for (const socket of this.tunnels) socket.destroy()
    this.tunnels.clear()
  }

}

/** A frontend (or listen) as the forwarder uses it. */
export interface FrontendRoute {
  readonly proxy: Proxy
  readonly counters: FrontendCounters
  readonly pages: ErrorPages
  readonly forwardFor: ForwardForRule | null
  /** The frontend's compiled rules (http-response rules are applied after the backend's). */
  readonly rules: CompiledProxy
}

// ---------------------------------------------------------------------------------------------
// Requests as the routing engine sees them

/** node reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d; HAProxy shows a.b.c.d. */
function plainAddress (addr: string | undefined): string {
  if (addr === undefined) return ''
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr
}

/** Builds the transaction the rules read. The path is the raw one (never decoded or normalised). */
export function makeTxn (req: IncomingMessage, frontend: string): HttpTxn {
  const url = req.url ?? '/'
  let start = 0
  if (url.charCodeAt(0) !== 47 /* / */) {
    // absolute-form (RFC 7230 §5.3.2): the path starts after the authority
    const scheme = url.indexOf('://')
    if (scheme > 0) {
      const slash = url.indexOf('/', scheme + 3)
      start = slash < 0 ? url.length : slash
    }
  }
  const q = url.indexOf('?', start)
  const socket = req.socket
  return {
    method: req.method ?? 'GET',
    path: q < 0 ? (start === 0 ? url : url.slice(start) || '/') : url.slice(start, q) || '/',
    query: q < 0 ? null : url.slice(q + 1),
    headers: req.headers,
    version: req.httpVersion,
    src: plainAddress(socket.remoteAddress),
    srcPort: socket.remotePort ?? 0,
    dst: plainAddress(socket.localAddress),
    dstPort: socket.localPort ?? 0,
    ssl: (socket as { encrypted?: boolean }).encrypted === true,
    frontend,
    backend: '',
    vars: null,
    authUser: null
  }
}

/**
 * HTTP/1.1 framing checks HAProxy makes before any rule (RFC 7230 §5.4): no Host in an
 * origin-form HTTP/1.1 request, several different Host values, or an absolute-form URI whose
 * authority differs from Host are a 400.
 */
export function badHost (req: IncomingMessage): boolean {
  const raw = req.rawHeaders
  let host: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue
    if (host !== undefined && raw[i + 1] !== host) return true
    host = raw[i + 1]
  }
  const url = req.url ?? ''
  if (url.charCodeAt(0) === 47) return host === undefined && req.httpVersionMinor === 1 && req.httpVersionMajor === 1
  if (host === undefined) return false
  const scheme = url.indexOf('://')
  if (scheme < 0) return false
  const slash = url.indexOf('/', scheme + 3)
  const authority = url.slice(scheme + 3, slash < 0 ? url.length : slash)
  return authority.toLowerCase() !== host.toLowerCase()
}

// ---------------------------------------------------------------------------------------------
// Answers the gateway makes itself

export function writePage (res: ServerResponse, page: ErrorPage, extra?: string[]): void {
  if (res.headersSent) { res.destroy(); return }
  res.writeHead(page.status, page.reason, extra === undefined ? page.headers : [...page.headers, ...extra])
  res.end(page.body)
}

/** The page for `status`: the backend's errorfile, else the frontend's, else HAProxy's (proto_http.c http_error_message). */
export function pageFor (status: number, fe: FrontendRoute, be: BackendRoute | null): ErrorPage {
  return be?.pages.own(status) ?? fe.pages.get(status)
}

/** The redirect codes HAProxy 2.6 marks `cache-control: no-cache` (http_ana.c http_apply_redirect_rule; 301 and 308 may be cached). */
const UNCACHEABLE_REDIRECTS = new Set([302, 303, 307])

/**
 * Writes a rule's verdict (deny, return, redirect, auth, or 503 for `none`) and counts it as
 * HAProxy does. `from` is the exchange whose server answer an http-response rule replaced;
 * without it the verdict is an http-request one (the request head is counted in `bin` here).
 */
export function answer (decision: Decision, res: ServerResponse, fe: FrontendRoute, be: BackendRoute | null, from: Exchange | null = null): void {
  let status: number
  let out: number
  switch (decision.kind) {
    case 'reply': {
      const body = typeof decision.body === 'string' ? Buffer.from(decision.body) : decision.body
      const headers: string[] = []
      for (const [k, v] of decision.headers) headers.push(k, v)
      headers.push('content-length', String(body.length))
      status = decision.status
      out = htxResponseBytes(status, STATUS_CODES[status] ?? '', headers) + body.length
      res.writeHead(status, headers)
      res.end(body)
      break
    }
    case 'redirect': {
      status = decision.status
      const headers = ['content-length', '0', 'location', decision.location]
      if (UNCACHEABLE_REDIRECTS.has(status)) headers.push('cache-control', 'no-cache')
      for (const [k, v] of decision.headers) headers.push(k, v)
      out = htxResponseBytes(status, STATUS_CODES[status] ?? '', headers)
      res.writeHead(status, headers)
      res.end()
      break
    }
    case 'auth': {
      status = 401
      const page = pageFor(401, fe, be)
      const realm = `Basic realm="${decision.realm}"`
      out = page.htxBytes + 16 /* www-authenticate */ + realm.length
      writePage(res, page, ['www-authenticate', realm])
      break
    }
    case 'deny': {
      status = decision.status
      // denied requests (dreq) and denied responses (dresp) on every row the stream touched
      if (from === null) {
        fe.counters.counters.dreq++
        if (be !== null) be.backend.counters.dreq++
      } else {
        fe.counters.counters.dresp++
        from.be.backend.counters.dresp++
        if (from.server !== null) from.server.counters.dresp++
      }
      const page = pageFor(status, fe, be)
      out = page.htxBytes
      writePage(res, page)
      break
    }
    default: {
      status = 503
      const page = pageFor(503, fe, be)
      out = page.htxBytes
      writePage(res, page)
    }
  }
  const inBytes = from === null ? requestHeadBytes(res.req) : 0
  const c = fe.counters.counters
  c.countResponse(status)
  c.bin += inBytes
  c.bout += out
  if (be !== null) {
    const b = be.backend.counters
    b.countResponse(status)
    b.bin += inBytes
    b.bout += out
  }
  if (from !== null && from.server !== null) from.server.counters.bout += out
}

/**
 * The request head as HAProxy counts it in `bin` (its HTX size, see lib/errors.ts): the start
 * line's method, URI and version, each header's name and value, the end of headers, and the EOT
 * block that closes a chunked body. The H1 parser drops a Connection header that held only
 * close / keep-alive, so that one does not count.
 */
export function requestHeadBytes (req: IncomingMessage): number {
  const raw = req.rawHeaders
  let n = HTX_START_LINE + HTX_VERSION + 1 + (req.method ?? '').length + (req.url ?? '').length
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    const value = raw[i + 1]!
    if (name.length === 10 && connectionOnly(name, value)) continue
    n += name.length + value.length
  }
  if (req.headers['transfer-encoding'] !== undefined) n++
  return n
}

const CONNECTION_TOKEN = /^(?:close|keep-alive)$/i

function connectionOnly (name: string, value: string): boolean {
  return (value.length === 5 || value.length === 10) && CONNECTION_TOKEN.test(value) && name.toLowerCase() === 'connection'
}

// ---------------------------------------------------------------------------------------------
// Headers

/**
 * Request headers for the server, from the transaction (after http-request rules). HAProxy 2.6
 * forwards nearly everything (checked on loopback: Proxy-Authorization, Proxy-Connection,
 * Trailer, headers named in Connection all reach the server); it only rewrites Connection,
 * re-frames the body (Transfer-Encoding) and keeps `TE: trailers`. Node's client and server own
 * the connection-level headers undici refuses to forward (Keep-Alive, a non-WebSocket Upgrade,
 * Expect: node's server has already answered `100 Continue`).
 */
function requestHeaders (txn: HttpTxn, ff: ForwardForRule | null): string[] {
  const h = txn.headers
  const out: string[] = []
  for (const name in h) {
    const v = h[name]
    if (v === undefined) continue
    switch (name.length) {
      case 2:
        if (name === 'te') {
          if (typeof v === 'string' && /\btrailers\b/i.test(v)) out.push('te', 'trailers')
          continue
        }
        break
      case 6:
        if (name === 'expect') continue
        break
      case 7:
        if (name === 'upgrade') continue
        break
      case 10:
        if (name === 'connection' || name === 'keep-alive') continue
        break
      case 17:
        if (name === 'transfer-encoding') continue
        break
    }
    if (typeof v === 'string') out.push(name, v)
    else for (const x of v) out.push(name, x)
  }
  if (ff !== null && ff.applies(h, txn.src)) {
    // a separate line after the client's own (which it may have forged), as HAProxy does
    out.push(ff.header, txn.src)
  }
  return out
}

/** `option forwardfor` compiled once (configuration.txt §4.2 option forwardfor). */
export class ForwardForRule {
  readonly header: string
  private readonly lower: string
  private readonly ifNone: boolean
  private readonly except: ((ip: string) => boolean) | null

  constructor (ff: ForwardFor) {
    this.header = ff.header
    this.lower = ff.header.toLowerCase()
    this.ifNone = ff.ifNone
    this.except = ff.except === undefined ? null : cidrTest(ff.except)
  }

  applies (headers: HttpTxn['headers'], src: string): boolean {
    if (this.ifNone && headers[this.lower] !== undefined) return false
    return this.except === null || !this.except(src)
  }
}

function cidrTest (cidr: string): (ip: string) => boolean {
  const [addr = '', bitsText] = cidr.split('/')
  if (!addr.includes(':')) {
    const base = v4(addr)
    const bits = bitsText === undefined ? 32 : Number(bitsText)
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
    return (ip) => { const n = v4(ip); return n !== null && base !== null && ((n & mask) >>> 0) === ((base & mask) >>> 0) }
  }
  const lower = addr.toLowerCase()
  return (ip) => ip.toLowerCase() === lower
}

function v4 (ip: string): number | null {
  const p = ip.split('.')
  if (p.length !== 4) return null
  let n = 0
  for (const x of p) { const b = Number(x); if (!(b >= 0 && b <= 255)) return null; n = n * 256 + b }
  return n
}

/**
 * Response headers for the client: the server's, minus what belongs to the server connection,
 * pushed to `out`. Returns their size as HAProxy counts it in `bout` (name + value each, a
 * keep-alive/close-only Connection header left out, plus the EOT byte of a chunked answer).
 */
function responseHeaders (raw: Buffer[], out: string[]): number {
  let bytes = 0
  for (let i = 0; i < raw.length; i += 2) {
    const nameBuf = raw[i]!
    const valueBuf = raw[i + 1]!
    const name = nameBuf.toString('latin1')
    const len = name.length
    if (len === 2 || len === 10 || len === 17) {
      const lower = name.toLowerCase()
      if (lower === 'connection') {
        const vlen = valueBuf.length
        if ((vlen !== 5 && vlen !== 10) || !CONNECTION_TOKEN.test(valueBuf.toString('latin1'))) bytes += len + vlen
        continue
      }
      if (lower === 'transfer-encoding') { bytes += len + valueBuf.length + 1; continue }
      if (lower === 'te' || lower === 'keep-alive') { bytes += len + valueBuf.length; continue }
    }
    bytes += len + valueBuf.length
    out.push(name, valueBuf.toString('latin1'))
  }
  return bytes
}

function headerObject (flat: string[]): HttpResponseView['headers'] {
  const h: HttpResponseView['headers'] = {}
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase()
    const v = flat[i + 1]!
    const prev = h[name]
    if (prev === undefined) h[name] = name === 'set-cookie' ? [v] : v
    else if (Array.isArray(prev)) prev.push(v)
    else h[name] = `${prev}, ${v}`
  }
  return h
}

function flatten (h: HttpResponseView['headers']): string[] {
  const out: string[] = []
  for (const name in h) {
    const v = h[name]
    if (v === undefined) continue
    if (typeof v === 'string') out.push(name, v)
    else if (typeof v === 'number') out.push(name, String(v))
    else for (const x of v) out.push(name, x)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// The exchange

// Whether a request went out on a reused keep-alive connection: undici publishes the socket
// right after calling onConnect, in the same synchronous call. A reused connection the server
// closed at that very moment answers nothing; a fresh one that does is an empty answer (502).
const usedSockets = new WeakSet<object>()
let connecting: Exchange | null = null
diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  const exchange = connecting
  connecting = null
  if (exchange === null) return
  const socket = (message as { socket: object }).socket
  if (usedSockets.has(socket)) exchange.reused = true
  else usedSockets.add(socket)
})

type Phase = 'queue' | 'connect' | 'wait' | 'body' | 'done'

/**
 * One proxied request. `start()` picks a server; undici calls the handler methods below.
 * Retries (§4.2 retries, retry-on conn-failure) happen only while nothing was sent to a
 * server, or for a bodyless idempotent request that got no byte of answer on a reused connection.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  server: ServerRuntime | null = null
  /** The current attempt runs on a kept-alive connection that served earlier requests. */
  reused = false
  /** The answer's status says it has no body (204, 304). */
  private bodyless = false
  /** Set while an attempt is being abandoned for a retry. */
  private dropping = false
  private phase: Phase = 'queue'
  private retriesLeft: number
  private abortUpstream: ((err?: Error) => void) | null = null
  private resume: (() => void) | null = null
  private readonly t0 = Date.now()
  private tAttempt = 0
  private tConnect = 0
  private readonly hasBody: boolean
  /** The request head's size as HAProxy counts it in `bin`; the body is counted as undici sends it. */
  private readonly headIn: number
  private readonly url: string
  private readonly headers: string[]
  private released = false
  /** This exchange holds a slot on `server` (Backend.acquire → release). */
  private held = false
  /** The server the request's persistence cookie named (HAProxy's SF_DIRECT), until a redispatch. */
  private direct: ServerRuntime | null = null

  constructor (
    readonly fe: FrontendRoute,
    readonly be: BackendRoute,
    readonly txn: HttpTxn,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly route: ProxiedRoute | null,
    private readonly upgradeHead: Buffer | null,
    /** The request's logger: HAProxy's 502/503/504 answers are logged there with their cause. */
    private readonly log: FastifyBaseLogger
  ) {
    this.retriesLeft = be.retries
    // a session of the backend from the moment it is chosen, served or not (HAProxy's cum_sess)
    const c = be.backend.counters
    c.stot++
    c.lastSess = this.t0
    c.rate.hit(this.t0)
    if (++c.scur > c.smax) c.smax = c.scur
    const h = req.headers
    const cl = h['content-length']
    this.hasBody = (cl !== undefined && cl !== '0') || h['transfer-encoding'] !== undefined
    this.headIn = requestHeadBytes(req)
    fe.counters.counters.bin += this.headIn
    c.bin += this.headIn
    // rules may have rewritten the path or query: rebuild the URI only then
    const orig = req.url ?? '/'
    const target = txn.query === null ? txn.path : txn.path + '?' + txn.query
    this.url = orig === target || (orig.charCodeAt(0) !== 47 && orig.endsWith(target) &&
      orig.indexOf('/', orig.indexOf('://') + 3) === orig.length - target.length)
      ? orig // unchanged, absolute-form kept as HAProxy forwards it
      : target
    // the cookie names the server, and `indirect`/`prefix` rewrite the Cookie header the server gets
    if (be.cookie !== null) this.direct = be.cookie.request(txn)
    this.headers = requestHeaders(txn, be.forwardFor ?? fe.forwardFor)
    if (upgradeHead === null) res.once('close', () => this.clientClosed())
  }

  start (exclude: ServerRuntime | null = null): void {
    const direct = this.direct
    const picked = direct !== null ? this.be.backend.acquireServer(direct) : this.be.backend.acquire(this.txn, exclude)
    if (picked !== null && typeof (picked as Promise<unknown>).then === 'function') {
      (picked as Promise<ServerRuntime | null>).then(s => this.assigned(s), () => this.assigned(null))
    } else {
      this.assigned(picked as ServerRuntime | null)
    }
  }

  private assigned (server: ServerRuntime | null): void {
    if (this.phase === 'done') {
      if (server !== null) this.be.backend.release(server)
      return
    }
    if (server === null) {
      // no usable server, or `timeout queue` expired: 503 (the queue's "sQ" as well)
      this.fail(503)
      return
    }
    const prev = this.server
    if (prev !== null && prev !== server) {
      prev.counters.wredis++
      this.be.backend.counters.wredis++
    }
    // the head once, on the first server (HAProxy attributes bytes to the stream's target)
    if (prev === null) server.counters.bin += this.headIn
    this.server = server
    this.held = true
    if (this.route !== null) this.route.server = server.name
    // Backend.acquire counted the server's session (stot, scur); the rest is ours
    server.counters.reqTot++
    server.counters.rate.hit(Date.now())
    this.dispatch()
  }

  private dispatch (): void {
    const server = this.server!
    this.phase = 'connect'
    this.tAttempt = Date.now()
    const upgrade = this.upgradeHead !== null
    this.be.pool(server).dispatch({
      path: this.url,
      method: this.txn.method as Dispatcher.HttpMethod,
      headers: this.headers,
      body: this.hasBody ? this.req : null,
      upgrade: upgrade ? 'websocket' : null
    }, this)
  }

  // --- undici handler (legacy interface: called directly, no wrapper) ---

  onConnect (abort: (err?: Error) => void): void {
    this.abortUpstream = abort
    if (this.phase === 'done') { abort(); return }
    this.phase = 'wait'
    this.reused = false
    connecting = this
    this.tConnect = Date.now()
    const ctime = this.tConnect - this.tAttempt
    this.server!.counters.ctime.add(ctime)
    this.be.backend.counters.ctime.add(ctime)
  }

  onHeaders (status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true // 1xx interim answers (103 Early Hints) are not relayed
    if (this.phase === 'done') return false
    if (this.be.retryOn.statuses.has(status) && this.l7Retryable()) {
      this.server!.observe('http-status', status)
      this.dropAttempt()
      this.retry(new Error(`the server answered ${status} (retry-on)`), true, true)
      return false
    }
    const res = this.res
    const rtime = Date.now() - this.tConnect
    this.server!.counters.rtime.add(rtime)
    this.be.backend.counters.rtime.add(rtime)
    this.server!.observe('http-status', status)
    let headers: string[] = []
    const headOut = HTX_START_LINE + HTX_VERSION + 4 + statusText.length + responseHeaders(raw, headers)
    this.countOut(headOut)
    const beRules = this.be.rules
    if (this.be.proxy.httpResponse.length > 0 || this.fe.proxy.httpResponse.length > 0) {
      const view: HttpResponseView = { status, headers: headerObject(headers) }
      const verdict = (beRules !== null && this.be.proxy.httpResponse.length > 0 ? beRules.responseRules(this.txn, view) : null) ??
        (this.fe.proxy.httpResponse.length > 0 ? this.fe.rules.responseRules(this.txn, view) : null)
      if (verdict !== null) {
        // http-response deny / return / redirect replace the server's answer
        this.phase = 'done'
        this.abortUpstream?.()
        this.finish()
        // the server's own status counts on its row; the verdict's on the frontend and backend
        this.server!.counters.countResponse(status)
        answer(verdict, res, this.fe, this.be, this)
        return false
      }
      status = view.status
      headers = flatten(view.headers)
    }
    if (this.be.cookie !== null) this.be.cookie.response(headers, this.server!, this.direct !== null, this.txn.method, status)
    this.phase = 'body'
    this.bodyless = status === 304 || status === 204
    this.resume = resume
    this.count(status)
    if (this.upgradeHead !== null) {
      // the server refused the upgrade: relay its answer on the raw socket, then close
      const socket = this.req.socket
      let head = `HTTP/1.1 ${status} ${statusText}\r\n`
      for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`
      socket.write(head + 'connection: close\r\n\r\n')
      return true
    }
    res.writeHead(status, statusText, headers)
    return true
  }

  // undici 7 passes the chunk it wrote (request.js onBodySent); its typings say a size
  onBodySent (chunk: Buffer | string | number): void {
    const n = typeof chunk === 'number' ? chunk : chunk.length
    this.fe.counters.counters.bin += n
    this.be.backend.counters.bin += n
    const server = this.server
    if (server !== null) server.counters.bin += n
  }

  onData (chunk: Buffer): boolean {
    this.countOut(chunk.length)
    if (this.upgradeHead !== null) return this.req.socket.write(chunk)
    if (this.res.write(chunk)) return true
    this.res.once('drain', this.resume!)
    return false
  }

  onComplete (): void {
    if (this.upgradeHead !== null) this.req.socket.end()
    else this.res.end()
    this.finish()
  }

  onUpgrade (status: number, raw: Buffer[] | string[] | null, upstream: Socket): void {
    const client = this.req.socket
    this.count(status)
    let head = 'HTTP/1.1 101 Switching Protocols\r\n'
    let headOut = HTX_START_LINE + HTX_VERSION + 4 + 19 /* Switching Protocols */
    const list = raw ?? []
    for (let i = 0; i < list.length; i += 2) {
      head += `${list[i]!.toString()}: ${list[i + 1]!.toString()}\r\n`
      headOut += list[i]!.length + list[i + 1]!.length
    }
    this.countOut(headOut)
    client.write(head + '\r\n')
    if (this.upgradeHead !== null && this.upgradeHead.length > 0) upstream.write(this.upgradeHead)
    const timeout = this.be.tunnelTimeout
    const close = (): void => { client.destroy(); upstream.destroy() }
    if (timeout > 0) {
      client.setTimeout(timeout, close)
      upstream.setTimeout(timeout, close)
    } else {
      client.setTimeout(0)
    }
    const tunnels = this.be.tunnels
    tunnels.add(client)
    client.on('error', close).on('close', () => { tunnels.delete(client); close() })
    upstream.on('error', close).on('close', () => { close(); this.finish() })
    // tunnelled bytes count both ways, as HAProxy's channels do
    upstream.on('data', (d: Buffer) => { this.countOut(d.length) })
    client.on('data', (d: Buffer) => { this.onBodySent(d.length) })
    upstream.pipe(client)
    client.pipe(upstream)
  }

  onError (err: Error & { code?: string }): void {
    if (this.phase === 'done' || this.dropping) return
    const server = this.server!
    const code = err.code ?? ''
    if (this.phase === 'body' && code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' && this.bodyless) {
      // undici checks Content-Length even on a 304, where it describes the resource, not this answer
      this.onComplete()
      return
    }
    if (this.phase === 'body') {
      // the answer was already under way: all that can be done is cut the client off
      server.counters.srvAbrt++
      this.be.backend.counters.srvAbrt++
      this.phase = 'done'
      this.finish()
      if (this.upgradeHead !== null) this.req.socket.destroy()
      else this.res.destroy()
      return
    }
    if (code === 'UND_ERR_HEADERS_TIMEOUT' && this.be.retryOn.responseTimeout && this.l7Retryable()) {
      server.observe('timeout')
      this.retry(err, true, true)
      return
    }
    if (code === 'UND_ERR_HEADERS_TIMEOUT') {
      server.observe('timeout')
      server.counters.eresp++
      this.be.backend.counters.eresp++
      this.fail(504, err)
      return
    }
    // nothing reached the server before onConnect: refused, unreachable, timed out or a failed
    // TLS handshake, all "conn-failure" for retry-on (§4.2 retry-on)
    const retryOn = this.be.retryOn
    const connectFailed = this.phase === 'connect' && !REQUEST_ERRORS.has(code)
    const closed = this.phase === 'wait' && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE')
    // a reused keep-alive connection the server had closed: nothing was processed
    const staleConnection = closed && this.reused && !this.hasBody && IDEMPOTENT.has(this.txn.method)
    if (connectFailed && !retryOn.connFailure) {
      server.observe('conn-error')
      server.counters.econ++
      this.be.backend.counters.econ++
      this.fail(503, err)
      return
    }
    const l7 = this.phase === 'wait' && this.l7Retryable() &&
      ((closed && retryOn.emptyResponse) || (code.startsWith('HPE_') || code === '' ? retryOn.junkResponse : false))
    if (connectFailed || staleConnection || l7) {
      server.observe(code === 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout' : 'conn-error')
      this.retry(err, code === 'UND_ERR_CONNECT_TIMEOUT', l7 && !connectFailed && !staleConnection)
      return
    }
    if (this.req.destroyed && !this.req.complete) {
      // the client went away while its body was being sent
      this.fe.counters.counters.cliAbrt++
      this.phase = 'done'
      this.finish()
      this.res.destroy()
      return
    }
    // an invalid, truncated or empty answer (llhttp errors, "other side closed")
    server.counters.eresp++
    this.be.backend.counters.eresp++
    server.observe('http-status', 502)
    this.fail(502, err)
  }

  /**
   * Another attempt, on another server when redispatching. A layer-7 retry always counts as a
   * retry (and as a redispatch too when the server changes), as HAProxy 2.6 counts them.
   */
  private retry (cause: Error, timedOut: boolean, l7 = false): void {
    const server = this.server!
    if (this.retriesLeft <= 0 || this.req.destroyed) {
      server.counters.econ++
      this.be.backend.counters.econ++
      this.fail(503, cause)
      return
    }
    const attempt = this.be.retries - this.retriesLeft + 1
    this.retriesLeft--
    this.abortUpstream = null
    if (l7) {
      server.counters.wretr++
      this.be.backend.counters.wretr++
    }
    const redispatch = this.be.proxy.redispatch
    if (redispatch !== null && this.chooseRedispatch(redispatch.interval, attempt)) {
      this.phase = 'queue'
      this.held = false
      this.be.backend.release(server)
      // a redispatched request is no longer the cookie's: the answer gets the new server's cookie
      this.direct = null
      this.start(server)
      return
    }
    if (!l7) {
      server.counters.wretr++
      this.be.backend.counters.wretr++
    }
    // an error that came back at once would come back again: HAProxy waits before the retry
    if (timedOut) this.dispatch()
    else setTimeout(() => { if (this.phase !== 'done') this.dispatch() }, this.be.retryPause)
  }

  /** A layer-7 retry replays the request: only possible without a body, and with retries left. */
  private l7Retryable (): boolean {
    return !this.hasBody && this.upgradeHead === null && this.retriesLeft > 0
  }

  /** Abandons the current attempt (its late onError is ignored). */
  private dropAttempt (): void {
    this.dropping = true
    this.abortUpstream?.()
    this.dropping = false
  }

  /** include/haproxy/stream.h stream_choose_redispatch (no `option persist` / `force-persist`). */
  private chooseRedispatch (interval: number, attempt: number): boolean {
    const server = this.server!
    if (server.op === 'down' || server.admin === 'maint') return true
    const retries = this.be.retries
    if (interval > 0 && attempt % interval === 0) return true
    if (interval < 0 && attempt % (retries + 1 + interval) === 0) return true
    if (this.be.hashLb || this.direct !== null) return false
    let active = 0
    for (const s of this.be.backend.servers) if (!s.backup && s.op === 'up' && s.admin !== 'maint') active++
    return active > 1
  }

  private clientClosed (): void {
    if (this.phase === 'done' || this.res.writableFinished) return
    this.fe.counters.counters.cliAbrt++
    if (this.server !== null) this.server.counters.cliAbrt++
    this.abortUpstream?.()
    this.phase = 'done'
    this.finish()
  }

  private fail (status: 502 | 503 | 504, cause?: Error): void {
    this.phase = 'done'
    this.finish()
    this.count(status)
    this.logFailure(status, cause)
    if (this.upgradeHead !== null) {
      const page = pageFor(status, this.fe, this.be)
      let head = `HTTP/1.1 ${page.status} ${page.reason}\r\n`
      for (let i = 0; i < page.headers.length; i += 2) head += `${page.headers[i]}: ${page.headers[i + 1]}\r\n`
      this.req.socket.end(Buffer.concat([Buffer.from(head + 'connection: close\r\n\r\n', 'latin1'), page.body]))
      this.countOut(page.htxBytes)
      return
    }
    const page = pageFor(status, this.fe, this.be)
    this.countOut(page.htxBytes)
    writePage(this.res, page)
  }

  private logFailure (status: 502 | 503 | 504, cause: Error | undefined): void {
    const Failure = status === 502 ? FST_HAPROXY_BAD_GATEWAY : status === 504 ? FST_HAPROXY_GATEWAY_TIMEOUT : FST_HAPROXY_NO_SERVER
    const err = cause === undefined ? new Failure() : new Failure({ cause })
    this.log.warn({ err, backend: this.be.proxy.name, server: this.server?.name ?? null }, `fastify-haproxy: ${status} ${err.message}`)
  }

  /** Response bytes (`bout`) on the frontend, backend and server rows. */
  private countOut (n: number): void {
    const server = this.server
    if (server !== null) server.counters.bout += n
    this.be.backend.counters.bout += n
    this.fe.counters.counters.bout += n
  }

  private count (status: number): void {
    this.fe.counters.counters.countResponse(status)
    this.be.backend.counters.countResponse(status)
    this.server?.counters.countResponse(status)
  }

  private finish (): void {
    if (this.released) return
    this.released = true
    if (this.phase !== 'done') this.phase = 'done'
    const server = this.server
    const ttime = Date.now() - this.t0
    const c = this.be.backend.counters
    c.ttime.add(ttime)
    c.scur--
    if (server !== null) server.counters.ttime.add(ttime)
    if (this.held) {
      this.held = false
      this.be.backend.release(server!)
    }
  }
}

