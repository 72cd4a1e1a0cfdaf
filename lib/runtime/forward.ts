// The forward path: one request from the client's socket to a server and back, with HAProxy's
// semantics (configuration.txt §4.2 retries, option redispatch, timeout *, option forwardfor).
//
// Hot path. One `Exchange` object per proxied request is the undici dispatch handler itself
// (legacy onConnect/onHeaders/onData/onComplete/onError, which undici calls directly without a
// wrapper) and writes into node's ServerResponse: no streams, no pipeline() (it allocates an
// AbortController per call, +60 µs on Node 20), no Fastify reply. Request bodies are handed to
// undici as the IncomingMessage itself, so they stream unparsed and unbuffered.

import diagnostics from 'node:diagnostics_channel'
import { createHash } from 'node:crypto'
import { PEM_FILE_LIMIT, readBounded } from '../files.js'
import { clientIdentity } from '../tls.js'
import { STATUS_CODES } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import net, { type Server as NetServer, type Socket } from 'node:net'
import { kBindName, kVerbatimHead } from '../symbols.js'
import type { ConnectionOptions as TlsConnectionOptions, TLSSocket } from 'node:tls'
import type { Duplex, Readable } from 'node:stream'
import type { Http2ServerResponse } from 'node:http2'
import { openH2Tunnel, type TunnelEnd } from './h2-tunnel.js'
import { PLACEHOLDER_AUTHORITY } from '../h2-screen.js'
import { announcement, proxyHeader, type ConnectionAddresses } from '../proxy-protocol.js'
import { Client, Pool, buildConnector, errors } from 'undici'
import type { Dispatcher } from 'undici'
import type { AddressHeader, Proxy } from '../config/model.js'
import { netTest, plainAddress } from '../acl/ip.js'
import { connectionAddresses } from '../acl/addresses.js'
import type { Decision, HttpResponseView, HttpTxn, RewriteBudget } from '../acl/txn.js'
import type { CompiledProxy, CompiledStick } from '../acl/compile.js'
import { originOf, serverPort, type Backend, type ServerRuntime } from './backend.js'
import { CookieRule } from './persistence.js'
import { StickPersistence, type PendingStore } from './stick-persistence.js'
import { socks4Handshake, type Socks4Proxy } from './socks4.js'
import { BodyReader, BufferedBody } from './request-body.js'
import { keepServer, lastServer } from './last-server.js'
import type { FastifyBaseLogger } from 'fastify'
import {
  FST_HAPROXY_BAD_GATEWAY, FST_HAPROXY_GATEWAY_TIMEOUT, FST_HAPROXY_NO_SERVER, FST_HAPROXY_UNSENDABLE_REQUEST, HTX_START_LINE, HTX_VERSION, htxResponseBytes
} from '../errors.js'
import type { ErrorPage, ErrorPages } from '../errors.js'
import { RateCounter, TrafficCounters } from './state.js'
import { ListenerCounters, type ListenerSpec, countFront } from './listener.js'
import type { FrontendView } from './state.js'
import type { LogRecord } from '../log/record.js'
import { stampAccept } from '../log/logger.js'
import { hasHeader, withAppHeaders } from './app-headers.js'
import { answerFraming } from '../transfer-encoding.js'
import { acceptChunkedWithLength, answerIsHttp10, chunkedBody, forgetContentLength, keepEmptyBodyChunked } from './undici-h1.js'
import { CompressionRule, DEFAULT_COMP_LEVEL, type ResponseCompressor } from './compression.js'
import type { CompressionAlgo } from '../config/model.js'

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
  /** Client connections open in the process, every frontend together (the logs' `%ac`). */
  static active = 0
  readonly counters = new TrafficCounters()
  connTot = 0
  readonly connRate = new RateCounter()
  readonly reqRate = new RateCounter()
  /** `shutdown frontend`: stopped for good (status STOP), `enable frontend` cannot restart it. */
  shut = false
  /** `option socket-stats`: the section's listeners, in sid order. */
  readonly listeners: ListenerCounters[] = []

  constructor (
    readonly name: string,
    readonly id: number,
    /** The frontend's effective maxconn (the CSV `slim`); set again on reload. */
    public maxconn: number
  ) {}

  /** The section's listener on `server` (created on first use, kept across reloads). */
  listener (spec: ListenerSpec, server: NetServer): ListenerCounters {
    let l = this.listeners.find(x => x.sid === spec.sid)
    if (l === undefined) {
      l = new ListenerCounters(this.counters, spec.sid, spec.name ?? `sock-${spec.sid}`, spec.maxconn ?? 0)
      l.listensOn(server)
      this.listeners.push(l)
      this.listeners.sort((a, b) => a.sid - b.sid)
    }
    return l
  }

  /** A client connection was accepted (HAProxy counts sessions per connection). */
  accept (socket: Socket): void {
    const now = Date.now()
    this.openSession(now)
    FrontendCounters.active++
    stampAccept(socket, now)
    socket.once('close', () => { this.counters.scur--; FrontendCounters.active-- })
  }

  /**
   * A connection closed before any request began (`<BADREQ>`), answered `status` (400 or 408,
   * sent or not): HAProxy counts it as a request, a failed one (observed on 2.6.12).
   */
  requestless (status: number, socket: Socket): void {
    const c = this.counters
    c.reqTot++
    this.reqRate.hit(Date.now())
    countFront(c, socket, 'ereq')
    c.countResponse(status)
  }

  /**
   * A stats request for this section: counted as intercepted, as HAProxy counts its stats
   * applet. `session`: it came on a listener that is not the section's own (the app's port), so
   * it is also a session of the section, one request long.
   */
  statsRequest (res: ServerResponse, session: boolean): void {
    const now = Date.now()
    const c = this.counters
    if (session) this.openSession(now)
    c.reqTot++
    this.reqRate.hit(now)
    c.intercepted++
    countFront(c, res.socket, 'bin', requestHeadBytes(res.req))
    res.once('close', () => {
      if (session) c.scur--
      c.countResponse(res.statusCode)
    })
  }

  private openSession (now: number): void {
    const c = this.counters
    this.connTot++
    c.stot++
    c.lastSess = now
    this.connRate.hit(now)
    c.rate.hit(now)
    if (++c.scur > c.smax) c.smax = c.scur
  }
}

/**
 * Whose doing an undici error is (every code undici 7 defines, lib/core/errors.js, and the system
 * errors of a connection). Only `server` errors count against a server (econ, eresp, passive
 * checks); a `request` error is the client's (400, counted on the frontend); `gateway` errors are
 * the gateway's own doing (an abort it asked for, a pool it closed, features it does not use).
 */
export type ErrorSide = 'server' | 'request' | 'gateway'

export const UNDICI_ERROR_SIDES: Readonly<Record<string, ErrorSide>> = {
  // the connection to the server, or its answer
  UND_ERR_CONNECT_TIMEOUT: 'server',
  UND_ERR_HEADERS_TIMEOUT: 'server',
  UND_ERR_BODY_TIMEOUT: 'server',
  UND_ERR_HEADERS_OVERFLOW: 'server', // an answer head larger than undici's maxHeaderSize
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'server',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'server',
  UND_ERR_SOCKET: 'server', // "other side closed" and resets
  UND_ERR_RESPONSE: 'server',
  UND_ERR_INFO: 'server', // an unexpected 1xx
  // refused before anything was sent, for what the request holds (its target, a header a rule
  // made, its method), or a request body shorter or longer than it announced
  UND_ERR_INVALID_ARG: 'request',
  UND_ERR_NOT_SUPPORTED: 'request',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'request',
  // the gateway's doing: its own aborts (client gone, retry, http-response verdict, its timers),
  // pools closed on reload or stop, and parts of undici it does not use
  UND_ERR_ABORT: 'gateway',
  UND_ERR_ABORTED: 'gateway',
  UND_ERR_DESTROYED: 'gateway',
  UND_ERR_CLOSED: 'gateway',
  UND_ERR_INVALID_RETURN_VALUE: 'gateway',
  UND_ERR_BPL_MISSING_UPSTREAM: 'gateway',
  UND_ERR_REQ_RETRY: 'gateway',
  UND_ERR_PRX_TLS: 'gateway',
  UND_ERR_MAX_ORIGINS_REACHED: 'gateway',
  UND_ERR_SOCKS5: 'gateway',
  UND_ERR_WS_MESSAGE_SIZE_EXCEEDED: 'gateway',
  UND_ERR: 'gateway'
}

/**
 * The side of any error code: the table above, else llhttp's verdicts on the answer (HPE_*) and
 * system or TLS errors of the connection (ECONNREFUSED, ECONNRESET, ETIMEDOUT, certificate
 * errors...) are the server's.
 */
export function errorSide (code: string): ErrorSide {
  return UNDICI_ERROR_SIDES[code] ?? 'server'
}
/** How often `option contstats` adds a stream's bytes to the stats counters (configuration.txt §4.2: "typically every 5 seconds"). */
const CONTSTATS_INTERVAL = 5000

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
// Hash-based balance algorithms: a failed server is not left at once for them, since the hash
// would pick it again (configuration.txt §4.2 `option redispatch`: the last retry goes elsewhere).
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
  readonly forwardFor: AddressHeaderRule | null
  readonly originalTo: AddressHeaderRule | null
  readonly retryOn: RetryOn
  /** `cookie` persistence, null without it (or outside HTTP mode). */
  readonly cookie: CookieRule | null
  /** `stick` rules (server persistence through stick tables), null without them. */
  readonly stick: StickPersistence | null
  /** Client sockets of open WebSocket tunnels, cut when the gateway stops. */
  readonly tunnels = new Set<Duplex>()
  /** `timeout server`: the server's silence allowed, while it is expected to answer (0: none). */
  readonly serverTimeout: number
  readonly connectTimeout: number
  /**
   * Per server, its pools by poolKey() (made on first use), each with the server's origin when
   * made: a server moved by `set server addr` or DNS gets new pools.
   */
  private readonly pools = new Map<ServerRuntime, Map<number, { pool: Pool, at: string }>>()
  private readonly poolOptions: Pool.Options

  constructor (
    readonly proxy: Proxy,
    readonly backend: Backend,
    /** The backend's own http-request/http-response rules, null when it has none. */
    readonly rules: CompiledProxy | null,
    readonly pages: ErrorPages,
    /** A buffer's room for a head and body (tune.bufsize less tune.maxrewrite): what `http-response wait-for-body` holds at most. */
    readonly bufferRoom: number,
    /** The backend's compiled `stick` rules, null without them. */
    stick: CompiledStick | null = null,
    /** `tune.comp.maxlevel`: the zlib level of compressed answers. */
    private readonly compLevel = DEFAULT_COMP_LEVEL
  ) {
    const t = proxy.timeouts
    this.name = proxy.name
    this.retries = proxy.retries ?? 3
    this.hashLb = HASH_ALGORITHMS.has(proxy.balance?.algorithm ?? 'roundrobin')
    this.retryPause = Math.min(t.connect ?? 1000, 1000)
    this.tunnelTimeout = t.tunnel ?? t.server ?? t.client ?? 0
    this.forwardFor = proxy.forwardFor === null ? null : new AddressHeaderRule(proxy.forwardFor, 'src')
    this.originalTo = proxy.originalTo === null ? null : new AddressHeaderRule(proxy.originalTo, 'dst')
    this.retryOn = new RetryOn(proxy.retryOn ?? ['conn-failure'])
    this.cookie = proxy.cookie === null ? null : new CookieRule(proxy.cookie, backend.servers, proxy.servers.map(s => s.cookie), proxy.dynamicCookieKey ?? null, proxy.options.persist === true)
    this.stick = stick === null ? null : new StickPersistence(stick, backend, proxy.options.persist === true)
    // HAProxy has no default for these: absent means no limit. Both run on the gateway's own
    // timers: undici's run on a coarse clock that fires up to a second late.
    this.serverTimeout = t.server ?? 0
    this.connectTimeout = t.connect ?? 0
    this.poolOptions = { headersTimeout: 0, bodyTimeout: 0, pipelining: 1 }
    backend.killSessions = (server) => { this.killSessions(server) }
  }

  private readonly compressionRules = new WeakMap<Proxy, CompressionRule | null>()

  /** The `compression` rule for requests from frontend `fe`, compiled on first use; null: none. */
  compressionFor (fe: Proxy): CompressionRule | null {
    if (fe.compression === undefined && this.proxy.compression === undefined) return null
    let rule = this.compressionRules.get(fe)
    if (rule === undefined) {
      rule = CompressionRule.of(fe.compression, this.proxy.compression, this.compLevel)
      this.compressionRules.set(fe, rule)
    }
    return rule
  }

  /** Servers spoken to in HTTP/2 (`proto h2`): their answers carry no reason phrase. */
  readonly h2Servers = new WeakSet<ServerRuntime>()

  /**
   * The server's pool for `port` (its own, or for a `relativePort` server the one the client's
   * destination port gives); `h1`: its HTTP/1.1 one, for the upgrades `ws` sends over HTTP/1.1 to
   * a server otherwise spoken to in HTTP/2.
   */
  private pool (server: ServerRuntime, port: number, h1: boolean): Pool {
    let pools = this.pools.get(server)
    if (pools === undefined) this.pools.set(server, pools = new Map())
    const key = poolKey(server, port, h1)
    const entry = pools.get(key)
    if (entry !== undefined && entry.at === server.origin) return entry.pool
    // requests under way finish on the old address; new ones go to the new one
    if (entry !== undefined) entry.pool.close().catch(() => {})
    const opts: Pool.Options = { ...this.connectionOptions(server, null, h1, port), connections: server.maxconn > 0 ? server.maxconn : null }
    opts.factory = clientWithoutDefaultHost
    const pool = new Pool(originAt(server, port), opts)
    pools.set(key, { pool, at: server.origin })
    return pool
  }

  /**
   * Where a request to `server` goes: the server's pool, or for a `send-proxy` / `send-proxy-v2`
   * server the connection of the request's client connection, opened with a PROXY header of the
   * stream's addresses. As in HAProxy, such a connection is never shared with another client;
   * it closes with the client's.
   */
  dispatcher (server: ServerRuntime, txn: HttpTxn, h1 = false, port = server.port): Dispatcher {
    const session = txn.session as Socket | undefined
    if (server.sendProxy === 0 || session === undefined) return this.pool(server, port, h1)
    const origin = originAt(server, port)
    let own = this.ownConnections.get(session)
    if (own === undefined) {
      const mine = own = new Map()
      this.ownConnections.set(session, mine)
      session.once('close', () => {
        for (const [s, c] of mine) { this.ownClients.get(s)?.delete(c.client); c.client.close().catch(() => {}) }
      })
    }
    const entry = own.get(server)
    if (entry !== undefined && entry.origin === origin && entry.h1 === h1 && !entry.client.closed && !entry.client.destroyed) return entry.client
    if (entry !== undefined) {
      this.ownClients.get(server)?.delete(entry.client)
      entry.client.close().catch(() => {})
    }
    const client = clientWithoutDefaultHost(new URL(origin), this.connectionOptions(server, proxyHeader(server.sendProxy, txn), h1, port)) as Client
    own.set(server, { client, origin, h1 })
    let clients = this.ownClients.get(server)
    if (clients === undefined) this.ownClients.set(server, clients = new Set())
    clients.add(client)
    return client
  }

  /** Client connections' own server connections (`send-proxy` servers), by client connection. */
  private readonly ownConnections = new WeakMap<object, Map<ServerRuntime, { client: Client, origin: string, h1: boolean }>>()
  /** The same connections by server, for `killSessions`: they live in no pool. */
  private readonly ownClients = new Map<ServerRuntime, Set<Client>>()

  /**
   * How connections to `server` are made: TLS for `ssl` servers, h2 through ALPN or prior
   * knowledge (h2c), through `socks4`, and opened with `proxyHeader` when given.
   */
  private connectionOptions (server: ServerRuntime, proxyHeader: Buffer | null, h1 = false, port = server.port): Pool.Options {
    const connectOptions: buildConnector.BuildOptions & { useH2c?: boolean } = { timeout: 0 }
    const opts: Pool.Options = { ...this.poolOptions }
    if (!h1 && this.speaksH2(server)) {
      // `proto h2`: HTTP/2 with prior knowledge in clear, through ALPN over TLS; `alpn` naming
      // h2: HTTP/2 when the server picks it
      opts.allowH2 = connectOptions.allowH2 = true
      if (!server.ssl) connectOptions.useH2c = true
      // streams share a connection, as HAProxy's H2 mux does (not an HTTP/1.1 one ALPN may give)
      if (server.proto === 'h2') opts.pipelining = 100
      this.h2Servers.add(server)
    }
    if (server.ssl) Object.assign(connectOptions, this.tlsOptions(server))
    const connector = buildConnector(connectOptions)
    const opened = server.socks4 !== null
      ? socks4Connector(connector, server.socks4, server.host, port)
      : proxyHeader !== null ? headerFirstConnector(connector, proxyHeader, server.host, port) : connector
    opts.connect = timedConnector(opened, this.connectTimeout)
    return opts
  }

  /**
   * The Host undici would have named the server with, given to an HTTP/1.0 request without one:
   * it goes out as HTTP/1.1, which a server may refuse without a Host.
   */
  serverHost (server: ServerRuntime): string {
    return new URL(server.origin).host
  }

  /** `server … proto h2`, or `ssl … alpn` offering h2. */
  speaksH2 (server: ServerRuntime): boolean {
    return server.proto === 'h2' || (server.ssl && server.alpn?.includes('h2') === true)
  }

  /** How an `ssl` server is connected to: `verify`, `ca-file`, `sni`. */
  tlsOptions (server: ServerRuntime): TlsConnectionOptions {
    const cfg = this.backend.serverConf(server)
    return {
      rejectUnauthorized: cfg?.verify !== 'none',
      ...(cfg?.caFile !== undefined ? { ca: readBounded(cfg.caFile, PEM_FILE_LIMIT) } : {}),
      ...(server.sni !== undefined ? { servername: server.sni } : {}),
      ...(cfg?.crt !== undefined ? clientIdentity(cfg.crt) : {})
    }
  }

  /** `shutdown sessions server`: the requests under way on that server are cut at once, pooled or on a client's own connection. */
  killSessions (server: ServerRuntime): void {
    for (const { pool } of this.pools.get(server)?.values() ?? []) pool.destroy().catch(() => {})
    this.pools.delete(server)
    for (const client of this.ownClients.get(server) ?? []) client.destroy().catch(() => {})
    this.ownClients.delete(server)
  }

  /** Waits for in-flight requests on every pool, then closes their connections. */
  async close (): Promise<void> {
    this.backend.close()
    const pools: Pool[] = []
    for (const byKey of this.pools.values()) for (const { pool } of byKey.values()) pools.push(pool)
    this.pools.clear()
    await Promise.all(pools.map(p => p.close().catch(() => {})))
  }

  closeTunnels (): void {
    for (const socket of this.tunnels) socket.destroy()
    this.tunnels.clear()
  }

}

/**
 * undici's Client writes `host: <server>` into every HTTP/1 request that has no Host of its own
 * (its `kHostHeader`, found by its symbol's description). HAProxy forwards a request without
 * Host as it came, without one (observed with 2.6.12 for HTTP/1.1, in origin and absolute form),
 * so the clients of the gateway's pools write none: requests that have a Host send it as usual.
 * undici (7.x) offers no supported way to leave the Host out, hence the symbol; where a version
 * names it otherwise, `hostlessWarning` says so once at start-up.
 */
function clientWithoutDefaultHost (origin: URL, opts: object): Dispatcher {
  const client = new Client(origin, opts)
  if (DEFAULT_HOST_LINE !== null) (client as unknown as Record<symbol, string>)[DEFAULT_HOST_LINE] = ''
  return client
}

/** undici's symbol for a Client's default Host line, null when this undici has none by that name. */
export const DEFAULT_HOST_LINE: symbol | null = Object.getOwnPropertySymbols(new Client('http://127.0.0.1')).find(s => s.description === 'host header') ?? null

/** The start-up warning when undici's default Host line cannot be left out (`hostLine`: the symbol found, if any). */
export function hostlessWarning (hostLine: symbol | null = DEFAULT_HOST_LINE): string | null {
  return hostLine !== null
    ? null
    : "fastify-haproxy: this undici has no 'host header' symbol: requests without a Host header are forwarded with the server's address as Host (HAProxy sends none)."
}

/**
 * Which of a server's pools a request takes: one per port a `relativePort` server is reached on,
 * else the server's one (whatever its port: a moved server's pool is replaced, not kept beside),
 * and the same again for HTTP/1.1 (`h1`).
 */
function poolKey (server: ServerRuntime, port: number, h1: boolean): number {
  return (server.relativePort ? port : 0x10000) + (h1 ? 0x20000 : 0)
}

/** The origin a connection to `server` on `port` (serverPort()) opens. */
function originAt (server: ServerRuntime, port: number): string {
  return server.relativePort ? originOf(server.ssl, server.host, port) : server.origin
}

/** undici's connector on a connection that first sent `header` (a PROXY header, before any TLS). */
function headerFirstConnector (connect: buildConnector.connector, header: Buffer, host: string, port: number): buildConnector.connector {
  return (options, callback) => {
    const raw = net.connect({ host, port })
    const fail = (err: Error): void => { raw.destroy(); callback(err, null) }
    raw.once('error', fail)
    raw.once('connect', () => {
      raw.removeListener('error', fail)
      raw.setNoDelay(true)
      raw.write(header)
      if (options.protocol !== 'https:') callback(null, raw)
      else connect({ ...options, httpSocket: raw }, callback)
    })
    return raw as unknown as void
  }
}

/** `socks4`: undici's connector on a connection the SOCKS4 proxy opened to the server (TLS on top for `ssl`). */
function socks4Connector (connect: buildConnector.connector, proxy: Socks4Proxy, host: string, port: number): buildConnector.connector {
  return (options, callback) => {
    const raw = net.connect({ host: proxy.host, port: proxy.port })
    let settled = false
    const fail = (err: Error): void => {
      if (settled) return
      settled = true
      raw.destroy()
      callback(err, null)
    }
    raw.once('error', fail)
    raw.once('connect', () => {
      socks4Handshake(raw, host, port, (err) => {
        if (err !== null) return fail(err)
        raw.removeListener('error', fail)
        settled = true
        raw.setNoDelay(true)
        if (options.protocol !== 'https:') {
          raw.resume()
          callback(null, raw)
          return
        }
        connect({ ...options, httpSocket: raw }, callback)
      })
    })
    return raw as unknown as void
  }
}

/** undici's connector with `timeout connect` on a precise timer (0: none). */
function timedConnector (connect: buildConnector.connector, ms: number): buildConnector.connector {
  if (ms <= 0) return connect
  return (options, callback) => {
    let settled = false
    let timer: NodeJS.Timeout | undefined
    // undici's connector returns the socket it opens (its typings say void)
    const socket = connect(options, (err, s) => {
      if (settled) { s?.destroy(); return }
      settled = true
      clearTimeout(timer)
      if (err === null) callback(null, s!)
      else callback(err, null)
    }) as unknown as Socket
    if (!settled) {
      timer = setTimeout(() => {
        settled = true
        socket.destroy()
        callback(new errors.ConnectTimeoutError(`timeout connect (${ms} ms) expired`), null)
      }, ms)
    }
  }
}

/** A frontend (or listen) as the forwarder uses it. */
export interface FrontendRoute {
  readonly proxy: Proxy
  readonly counters: FrontendCounters
  readonly pages: ErrorPages
  readonly forwardFor: AddressHeaderRule | null
  readonly originalTo: AddressHeaderRule | null
  /** The frontend's compiled rules (http-response rules are applied after the backend's). */
  readonly rules: CompiledProxy
  /** `tune.bufsize`, and what a buffer holds of a message before rules run (bufsize less maxrewrite). */
  readonly buffer: { readonly size: number, readonly filled: number }
  /** The frontend's own `compression`, for answers no backend took part in (its cache's hits). */
  readonly compression: CompressionRule | null
}

// ---------------------------------------------------------------------------------------------
// Requests as the routing engine sees them

/** The transaction of a connection without a request: a `mode tcp` session, a `<BADREQ>` line. */
export function connectionTxn (socket: Socket, frontend: string): HttpTxn {
  return {
    method: '',
    path: '',
    query: null,
    headers: {},
    version: '',
    src: plainAddress(socket.remoteAddress),
    srcPort: socket.remotePort ?? 0,
    dst: plainAddress(socket.localAddress),
    dstPort: socket.localPort ?? 0,
    ssl: false,
    tls: null,
    frontend,
    backend: '',
    session: socket,
    vars: null,
    authUser: null
  }
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
  let socket = req.socket
  // HTTP/2 read through H2RequestScreen: node's wrapper stream knows no addresses, the filler does
  if (socket.remoteAddress === undefined) socket = (socket as Socket & { stream?: Socket }).stream ?? socket
  const ssl = (socket as { encrypted?: boolean }).encrypted === true
  const own: ConnectionAddresses = connectionAddresses(socket) ?? { src: plainAddress(socket.remoteAddress), srcPort: socket.remotePort ?? 0, dst: plainAddress(socket.localAddress), dstPort: socket.localPort ?? 0 }
  // `accept-proxy`: the rules see the addresses the PROXY header announced (`fc_*` the connection's)
  const announced = announcement(socket)
  const at = announced?.addresses ?? own
  return {
    method: req.method ?? 'GET',
    path: q < 0 ? (start === 0 ? url : url.slice(start) || '/') : url.slice(start, q) || '/',
    query: q < 0 ? null : url.slice(q + 1),
    ...(start > 0 ? { absolute: withoutDefaultPort(url.slice(0, start)) } : {}),
    soName: (socket as Socket & { [kBindName]?: string })[kBindName],
    headers: req.httpVersionMajor === 2 ? h2Headers(req.headers) : req.headers,
    rawHeaders: req.rawHeaders,
    version: req.httpVersion,
    src: at.src,
    srcPort: at.srcPort,
    dst: at.dst,
    dstPort: at.dstPort,
    ...(announced !== undefined ? { connection: own } : {}),
    ssl,
    tls: ssl ? socket as TLSSocket : null,
    frontend,
    backend: '',
    // the connection the `tcp-request` rules saw when it was accepted: a TLS socket's own
    session: (socket as Socket & { _parent?: Socket })._parent ?? socket,
    vars: null,
    authUser: null,
    log: null
  }
}

/**
 * An HTTP/2 request's headers as HAProxy's H2 mux hands them on (RFC 9113 §8.3.1): without the
 * pseudo-headers, `:authority` as Host; node already joined the cookie fields with '; '.
 */
function h2Headers (headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const name in headers) if (name.charCodeAt(0) !== 58 /* : */) out[name] = headers[name]
  // the authority wins over a Host header that disagrees (HTTP/2 desync attacks)
  const authority = h2Authority(headers)
  if (authority !== null) out.host = authority
  return out
}

/** An HTTP/2 request's `:authority` without its scheme's default port (RFC 3986 §6.2.3), as HAProxy 2.6 normalizes it. */
function h2Authority (headers: IncomingHttpHeaders): string | null {
  const authority = headers[':authority']
  if (typeof authority !== 'string' || authority === PLACEHOLDER_AUTHORITY) return null
  const port = headers[':scheme'] === 'https' ? ':443' : headers[':scheme'] === 'http' ? ':80' : null
  return port !== null && authority.endsWith(port) ? authority.slice(0, -port.length) : authority
}

/**
 * The protocol the server connection negotiated through ALPN (`ssl_bc_alpn`): an undici socket
 * or the HTTP/2 stream of a tunnel; undefined in clear or without ALPN.
 */
function negotiatedAlpn (upstream: Duplex | null): string | undefined {
  const conn = upstream as { alpnProtocol?: string | false, session?: { encrypted?: boolean, alpnProtocol?: string } } | null
  if (conn === null) return undefined
  if (conn.session !== undefined) return conn.session.encrypted === true ? conn.session.alpnProtocol : undefined
  return typeof conn.alpnProtocol === 'string' ? conn.alpnProtocol : undefined
}

/** The protocol an upgrade request asks for (its `Upgrade` header after the rules), null for none. */
function upgradeProtocol (txn: HttpTxn): string | null {
  const v = txn.headers.upgrade
  const first = Array.isArray(v) ? v[0] : v
  return first === undefined || first === '' ? null : first
}

/** An answer held by `http-response wait-for-body`: its head as the rules see it, and what ends the wait. */
interface ResponseWait {
  readonly view: HttpResponseView
  /** The server's status and reason phrase, as it sent them. */
  readonly status: number
  readonly statusText: string
  /** Bytes of body that end the wait: `at-least`, or the buffer's room. */
  readonly enough: number
  readonly timer: NodeJS.Timeout | null
}

/** The request's Host, as the `:authority` of an HTTP/2 request made from it. */
function hostOf (txn: HttpTxn): string | null {
  const v = txn.headers.host
  return (Array.isArray(v) ? v[0] : v) ?? null
}

/** The request target as HAProxy logs it (`%r`): HTTP/2 requests in absolute form, `scheme://authority/path`. */
export function requestTarget (req: IncomingMessage): string {
  const url = req.url ?? '/'
  if (req.httpVersionMajor !== 2) return url
  const authority = h2Authority(req.headers)
  const scheme = req.headers[':scheme']
  return authority === null || typeof scheme !== 'string' ? url : `${scheme}://${authority}${url}`
}

/**
 * Requests HAProxy 2.6.12's parser refuses with a 400 that node's accepts (recorded): HTTP/0.9
 * (`GET /x` and a blank line), and a `#` in the target unless `option accept-invalid-http-request`
 * (observed: HAProxy then takes it as part of the path, as normalize-uri's fragment normalizers expect).
 */
export function badTarget (req: IncomingMessage, acceptInvalid: boolean): boolean {
  return req.httpVersionMajor === 0 || (!acceptInvalid && (req.url ?? '').includes('#'))
}

/**
 * The scheme's default port is dropped from an absolute-form authority (`http://h:80` →
 * `http://h`, `https://h:443` → `https://h`): what rules see in `url` and the server gets, as
 * with HAProxy 2.6.12 (recorded in test/edges/absolute-form-host.test.ts).
 */
function withoutDefaultPort (absolute: string): string {
  const scheme = absolute.slice(0, absolute.indexOf('://')).toLowerCase()
  const port = scheme === 'http' ? ':80' : scheme === 'https' ? ':443' : null
  return port !== null && absolute.endsWith(port) ? absolute.slice(0, -port.length) : absolute
}

/** A host compared with another as HAProxy compares Host with the authority: any case, the scheme's default port dropped. */
function comparableHost (host: string, secure: boolean): string {
  const port = secure ? ':443' : ':80'
  return (host.endsWith(port) ? host.slice(0, -port.length) : host).toLowerCase()
}

/**
 * HTTP/1.1 framing checks before any rule (RFC 7230 §5.4): several different Host values, or an
 * absolute-form URI whose authority differs from Host, are a 400 as in HAProxy (the authority's
 * user info left out, default ports dropped on both sides, in any case). A request without Host
 * passes, as in HAProxy 2.6.12, which forwards it without one.
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
  if (host === undefined || url.charCodeAt(0) === 47) return false
  const scheme = url.indexOf('://')
  if (scheme < 0) return false
  const slash = url.indexOf('/', scheme + 3)
  const authority = url.slice(scheme + 3, slash < 0 ? url.length : slash)
  const secure = url.slice(0, scheme).toLowerCase() === 'https'
  return comparableHost(authority.slice(authority.lastIndexOf('@') + 1), secure) !== comparableHost(host, secure)
}

/**
 * A WebSocket handshake without its `Sec-WebSocket-Key` (RFC 6455 §4.1): HAProxy's parser
 * answers it with a 400 rather than forward it.
 */
export function badWebSocket (req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade
  return upgrade !== undefined && req.httpVersionMajor === 1 && req.headers['sec-websocket-key'] === undefined &&
    /^websocket$/i.test(upgrade) && /(^|,)\s*upgrade\s*(,|$)/i.test(req.headers.connection ?? '')
}

/** RFC 6455 §1.3: the GUID a server appends to the client's key before hashing it. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/**
 * A server's answer to a WebSocket upgrade carries Sec-WebSocket-Accept; when `keyed` (the
 * request's key was made by the gateway for an HTTP/2 client), the one its key calls for.
 */
function acceptable (raw: ReadonlyArray<Buffer | string>, keyed: HttpTxn | null): boolean {
  const key = keyed?.headers['sec-websocket-key']
  if (typeof key !== 'string') return hasHeader(raw, 'sec-websocket-accept')
  const expected = createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64')
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toString().toLowerCase() === 'sec-websocket-accept' && raw[i + 1]!.toString().trim() === expected) return true
  }
  return false
}

// ---------------------------------------------------------------------------------------------
// Answers the gateway makes itself

export function writePage (res: ServerResponse, page: ErrorPage, extra?: string[]): void {
  if (res.headersSent || page.silent === true) { res.destroy(); return }
  let headers = extra === undefined ? page.headers : [...page.headers, ...extra]
  if (page.unframed === true) {
    // neither Content-Length nor chunked from node: the body ends with the connection
    res.removeHeader('content-length')
    res.removeHeader('transfer-encoding')
    res.shouldKeepAlive = false
    headers = [...headers, 'connection', 'close']
  }
  if (page.verbatim === true) (res as ServerResponse & { [kVerbatimHead]?: true })[kVerbatimHead] = true
  writeHead(res, page.status, page.reason, headers)
  res.end(page.body)
}

/** Headers HTTP/2 forbids in a message (RFC 9113 §8.2.2): the connection's own. */
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])

/**
 * The head of an answer, with the app's headers held on `res` (app-headers.ts); on HTTP/1 as
 * given; on HTTP/2 (node's Http2ServerResponse) without reason phrase and connection-level
 * headers, as HAProxy's H2 mux sends it.
 */
export function writeHead (res: ServerResponse, status: number, reason: string | undefined, given: string[]): void {
  let headers = withAppHeaders(res, given)
  if (res.req?.httpVersionMajor !== 2) {
    if (res.hasHeader('connection')) headers = appendOnto(res, headers)
    if (reason === undefined) res.writeHead(status, headers)
    else res.writeHead(status, reason, headers)
    return
  }
  const h2: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase()
    if (H2_FORBIDDEN.has(name) || (name === 'te' && headers[i + 1] !== 'trailers')) continue
    h2.push(name, headers[i + 1]!)
  }
  res.writeHead(status, h2)
}

/**
 * Fastify sets `connection: close` on a response it routes while closing (a soft stop); node's
 * writeHead would then set the given head's headers one by one, keeping only the last line of a
 * name the server repeated (Set-Cookie). The head goes onto the response with appendHeader
 * instead (its names replacing those already set), and nothing is left to give writeHead.
 */
function appendOnto (res: ServerResponse, headers: string[]): string[] {
  for (let i = 0; i < headers.length; i += 2) res.removeHeader(headers[i]!)
  for (let i = 0; i < headers.length; i += 2) res.appendHeader(headers[i]!, headers[i + 1]!)
  return []
}

/**
 * The connection mode of a transaction from its two proxies (§4 "option http-server-close",
 * "option httpclose"): `httpclose` on either side closes both connections, else
 * `http-server-close` on either side the server's; keep-alive otherwise.
 */
function connectionMode (fe: Proxy, be: Proxy): 'keep-alive' | 'server-close' | 'close' {
  const a = fe.httpConnectionMode
  const b = be.httpConnectionMode
  if (a === 'close' || b === 'close') return 'close'
  if (a === 'server-close' || b === 'server-close') return 'server-close'
  return 'keep-alive'
}

/** The page for `status`: the backend's errorfile, else the frontend's, else HAProxy's built-in one (configuration.txt §4.2 `errorfile`). */
export function pageFor (status: number, fe: FrontendRoute, be: BackendRoute | null): ErrorPage {
  return be?.pages.own(status) ?? fe.pages.get(status)
}

/** The redirect codes HAProxy 2.6 marks `cache-control: no-cache` (observed with haproxy 2.6.12; 301 and 308 may be cached). */
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
      // HAProxy's order: the rule's headers, then Content-Length, then Content-Type
      headers.push('content-length', String(body.length))
      if (decision.contentType !== null) headers.push('content-type', decision.contentType)
      status = decision.status
      out = htxResponseBytes(status, STATUS_CODES[status] ?? '', headers) + body.length
      writeHead(res, status, undefined, headers)
      res.end(body)
      break
    }
    case 'redirect': {
      status = decision.status
      const headers = ['content-length', '0', 'location', decision.location]
      if (UNCACHEABLE_REDIRECTS.has(status)) headers.push('cache-control', 'no-cache')
      for (const [k, v] of decision.headers) headers.push(k, v)
      out = htxResponseBytes(status, STATUS_CODES[status] ?? '', headers)
      writeHead(res, status, undefined, headers)
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
        countFront(fe.counters.counters, res.socket, 'dreq')
        if (be !== null) be.backend.counters.dreq++
      } else {
        countFront(fe.counters.counters, res.socket, 'dresp')
        from.be.backend.counters.dresp++
        if (from.server !== null) from.server.counters.dresp++
      }
      const page = pageFor(status, fe, be)
      out = page.htxBytes
      writePage(res, page)
      break
    }
    case 'page': {
      const page = pageFor(decision.status, fe, be)
      status = page.status
      out = page.htxBytes
      writePage(res, page)
      break
    }
    case 'silent-drop': {
      // nothing is sent, not even a close: the socket stops being read and the client's
      // timeout (or the client) ends it, as HAProxy's silent-drop leaves the client waiting
      countFront(fe.counters.counters, res.socket, 'dreq')
      if (be !== null) be.backend.counters.dreq++
      if (from === null) countFront(fe.counters.counters, res.socket, 'bin', requestHeadBytes(res.req))
      res.socket?.pause()
      return
    }
    case 'reject': {
      // closed without an answer: a denied request, no response to count
      countFront(fe.counters.counters, res.socket, 'dreq')
      if (be !== null) be.backend.counters.dreq++
      if (from === null) countFront(fe.counters.counters, res.socket, 'bin', requestHeadBytes(res.req))
      res.destroy()
      return
    }
    case 'rewrite-failed': {
      // HAProxy's 500; the failed rewrites are counted where the rules ran (countRewrites)
      const page = pageFor(500, fe, be)
      status = page.status
      out = page.htxBytes
      writePage(res, page)
      break
    }
    case 'invalid': {
      status = 400
      countFront(fe.counters.counters, res.socket, 'ereq')
      const page = pageFor(400, fe, be)
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
  countFront(c, res.socket, 'bin', inBytes)
  countFront(c, res.socket, 'bout', out)
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

/** A `TE` value with a plain `trailers` element (HAProxy drops `trailers;q=0.5`). */
const TE_TRAILERS = /(^|,)[ \t]*trailers[ \t]*(,|$)/i

/**
 * Request headers for the server, from the transaction (after http-request rules). HAProxy 2.6
 * forwards nearly everything (checked on loopback: Proxy-Authorization, Proxy-Connection,
 * Trailer, headers named in Connection all reach the server); it only rewrites Connection,
 * re-frames the body (Transfer-Encoding) and keeps `TE: trailers`. Node's client and server own
 * the connection-level headers undici refuses to forward (Keep-Alive, a non-WebSocket Upgrade,
 * Expect: node's server has already answered `100 Continue`).
 */
function requestHeaders (txn: HttpTxn, forwardFor: AddressHeaderRule | null, originalTo: AddressHeaderRule | null): string[] {
  const h = txn.headers
  const out: string[] = []
  for (const name in h) {
    const v = h[name]
    if (v === undefined) continue
    switch (name.length) {
      case 2:
        if (name === 'te') {
          if (typeof v === 'string' && TE_TRAILERS.test(v)) out.push('te', 'trailers')
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
    if (typeof v === 'string') out.push(name, sendableValue(v))
    else for (const x of v) out.push(name, sendableValue(x))
  }
  // separate lines after the client's own (which it may have forged), as HAProxy does
  addAddressHeader(out, forwardFor, txn)
  addAddressHeader(out, originalTo, txn)
  return out
}

// What undici refuses in a header value and in a path (lib/core/util.js headerCharRegex,
// lib/core/request.js invalidPathRegex). Only rules put such characters there (node's parser
// refuses them from clients), e.g. `set-header X %[url_param(q),url_dec]`.
const UNSENDABLE_VALUE = /[^\t\x20-\x7e\x80-\xff]/
const UNSENDABLE_PATH = /[^\x21-\xff]/

/**
 * HAProxy 2.6.12 sends CR, LF, NUL and the other controls a rule puts in a header value as %XX
 * (upper-case hex; a tab stays), which is what the server gets here too. Characters beyond
 * latin1 are sent as their UTF-8 bytes, %-encoded.
 */
export function sendableValue (v: string): string {
  return UNSENDABLE_VALUE.test(v) ? percentEncode(v, UNSENDABLE_VALUE) : v
}

/** The same for a request target a rule rewrote (HAProxy sends a space as it is; undici cannot). */
export function sendablePath (p: string): string {
  return UNSENDABLE_PATH.test(p) ? percentEncode(p, UNSENDABLE_PATH) : p
}

/** undici sends origin-form (`/…`) and absolute-form (`http://…`) targets only. */
function sendableTarget (url: string): boolean {
  return url.charCodeAt(0) === 47 || url.startsWith('http://') || url.startsWith('https://')
}

function percentEncode (s: string, unsendable: RegExp): string {
  let out = ''
  for (const ch of s) {
    if (!unsendable.test(ch)) { out += ch; continue }
    for (const byte of Buffer.from(ch, ch.charCodeAt(0) > 0xff ? 'utf8' : 'latin1')) {
      out += '%' + (byte < 16 ? '0' : '') + byte.toString(16).toUpperCase()
    }
  }
  return out
}

function addAddressHeader (out: string[], rule: AddressHeaderRule | null, txn: HttpTxn): void {
  const value = rule?.value(txn) ?? null
  if (value !== null) out.push(rule!.header, value)
}

/**
 * `option forwardfor` / `option originalto` (§4.2): a header carrying the client's (`src`) or the
 * original destination (`dst`) address, unless that address is in the `except` network.
 */
export class AddressHeaderRule {
  readonly header: string
  private readonly lower: string
  private readonly ifNone: boolean
  private readonly except: ((ip: string) => boolean) | null

  constructor (rule: AddressHeader, readonly address: 'src' | 'dst') {
    this.header = rule.header
    this.lower = rule.header.toLowerCase()
    this.ifNone = rule.ifNone
    this.except = rule.except === undefined ? null : netTest(rule.except)
  }

  /** The header's value for this request, or null when it gets none. */
  value (txn: HttpTxn): string | null {
    const ip = txn[this.address]
    if (this.ifNone && txn.headers[this.lower] !== undefined) return null
    return this.except !== null && this.except(ip) ? null : ip
  }
}

/**
 * Response headers for the client: the server's, minus what belongs to the server connection
 * (and the Content-Length when `dropLength`), pushed to `out`. Returns their size as HAProxy
 * counts it in `bout` (name + value each, a keep-alive/close-only Connection header left out,
 * plus the EOT byte of a chunked answer).
 */
function responseHeaders (raw: Buffer[], out: string[], dropLength: boolean): number {
  let bytes = 0
  for (let i = 0; i < raw.length; i += 2) {
    const nameBuf = raw[i]!
    const valueBuf = raw[i + 1]!
    const name = nameBuf.toString('latin1')
    const len = name.length
    // a Content-Length beside `Transfer-Encoding: chunked` is dropped (HAProxy's parser never keeps it)
    if (dropLength && len === 14 && name.toLowerCase() === 'content-length') continue
    if (len === 2 || len === 10 || len === 17) {
      const lower = name.toLowerCase()
      if (lower === 'connection') {
        const vlen = valueBuf.length
        if ((vlen !== 5 && vlen !== 10) || !CONNECTION_TOKEN.test(valueBuf.toString('latin1'))) bytes += len + vlen
        continue
      }
      if (lower === 'transfer-encoding') { bytes += len + valueBuf.length + 1; continue }
      // the server's Keep-Alive goes on to the client, as HAProxy forwards it (node then adds none of its own)
      if (lower === 'te') { bytes += len + valueBuf.length; continue }
    }
    bytes += len + valueBuf.length
    out.push(name, valueBuf.toString('latin1'))
  }
  return bytes
}

/** Removes every `name` (lower-case) line from a flat header list, in place. */
function withoutHeader (headers: string[], name: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i] === name) headers.splice(i, 2)
}

const noop = (): void => {}

/** Trailers as undici gives them (raw pairs from HTTP/1.1, an object from HTTP/2), for `addTrailers`. */
function trailerObject (trailers: Buffer[] | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  if (Array.isArray(trailers)) {
    for (let i = 0; i < trailers.length; i += 2) out[trailers[i]!.toString('latin1')] = trailers[i + 1]!.toString('latin1')
    return out
  }
  for (const name in trailers) {
    const v = trailers[name]
    if (v !== undefined && name.charCodeAt(0) !== 58 /* : */) out[name] = v
  }
  return out
}

export function headerObject (flat: readonly string[]): HttpResponseView['headers'] {
  const h: HttpResponseView['headers'] = {}
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase()
    const v = flat[i + 1]!
    const prev = h[name]
    // repeated lines stay apart: `res.fhdr` reads the last line, `res.hdr` every value
    if (prev === undefined) h[name] = name === 'set-cookie' ? [v] : v
    else if (Array.isArray(prev)) prev.push(v)
    else h[name] = [prev, v]
  }
  return h
}

export function flatten (h: HttpResponseView['headers']): string[] {
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
  const { socket, headers } = message as { socket: Socket, headers: string }
  exchange.upstream = socket
  const rec = exchange.rec
  if (rec !== null) {
    rec.sourceAddr = plainAddress(socket.localAddress)
    rec.sourcePort = socket.localPort ?? 0
  }
  if (usedSockets.has(socket)) {
    exchange.reused = true
  } else {
    usedSockets.add(socket)
    acceptChunkedWithLength(socket)
  }
  if (exchange.chunked) keepEmptyBodyChunked(socket, headers)
})

type Phase = 'queue' | 'connect' | 'wait' | 'body' | 'done'

/** The termination state of a client abort, by phase (configuration.txt §8.5: CQ, CC, CH, CD). */
const CLIENT_ABORT: Record<Phase, string> = { queue: 'CQ', connect: 'CC', wait: 'CH', body: 'CD', done: 'CD' }

/**
 * One proxied request. `start()` picks a server; undici calls the handler methods below.
 * Retries (§4.2 retries, retry-on conn-failure) happen only while nothing was sent to a
 * server, or for a bodyless idempotent request that got no byte of answer on a reused connection.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  server: ServerRuntime | null = null
  /** The current attempt runs on a kept-alive connection that served earlier requests. */
  reused = false
  /** The server connection of the current attempt, once the request went out on it. */
  upstream: Socket | null = null
  /** The answer's status says it has no body (204, 304). */
  private bodyless = false
  /** An HTTP/1 request with a chunked body: it goes to the server chunked, even empty. */
  readonly chunked: boolean
  /** An HTTP/1.0 answer with Transfer-Encoding (RFC 9112 §6.1): both connections close after it. */
  private faultyFraming = false
  /** Set while an attempt is being abandoned for a retry. */
  private dropping = false
  private phase: Phase = 'queue'
  private retriesLeft: number
  /** `option http-server-close` / `httpclose` (either proxy): a new server connection per request. */
  private readonly closeServer: boolean
  /** `option httpclose` (either proxy): the client's connection closes after this response too. */
  private readonly closeClient: boolean
  private abortUpstream: ((err?: Error) => void) | null = null
  /** Cut by `shutdown session` (kill). */
  private killed = false
  private resume: (() => void) | null = null
  private readonly t0 = Date.now()
  private tAttempt = 0
  private tConnect = 0
  private readonly hasBody: boolean
  /** The request head's size as HAProxy counts it in `bin`; the body is counted as undici sends it. */
  private readonly headIn: number
  private readonly url: string
  private readonly headers: string[]
  /** An HTTP/1.0 request without Host: sent as HTTP/1.1, it gets one naming the server. */
  private readonly hostless10: boolean
  private released = false
  /** `timeout server` for the current attempt, armed when the request starts going out. */
  private serverTimer: NodeJS.Timeout | null = null
  /** This exchange holds a slot on `server` (Backend.acquire → release). */
  private held = false
  /**
   * An HTTP/1.1 upgrade: the client's raw socket carries the tunnel (and any refusal, written by
   * hand). An HTTP/2 one (extended CONNECT) keeps its stream and answers through `res`.
   */
  private readonly rawTunnel: boolean
  /** The server the request's persistence cookie named (HAProxy's SF_DIRECT), until a redispatch. */
  private direct: ServerRuntime | null = null
  /** The keys `stick on` / `stick store-request` read, stored with the server once it answers. */
  private stickKeys: PendingStore[] | null = null
  /** The client socket's inactivity timeout (`timeout client`), set aside while the server is awaited. */
  private clientIdle = 0
  /** The client's socket, kept: node drops `req.socket` once the request is read. */
  private idleSocket: Socket | null = null
  /** `compression` of the frontend and backend, and the algorithm the request accepts (null: none). */
  private compression: CompressionRule | null = null
  private algo: CompressionAlgo | null = null
  /** The algorithm the server's answer is compressed with (decided on its headers, before the http-response rules). */
  private compressing: CompressionAlgo | null = null
  /** The server's answer is chunked (HAProxy counts one byte more of it in comp_in). */
  private chunkedIn = false
  /** The answer's body goes through it when it is compressed. */
  private compressor: ResponseCompressor | null = null

  constructor (
    readonly fe: FrontendRoute,
    readonly be: BackendRoute,
    readonly txn: HttpTxn,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly route: ProxiedRoute | null,
    private readonly upgradeHead: Buffer | null,
    /** The request's logger: HAProxy's 502/503/504 answers are logged there with their cause. */
    private readonly log: FastifyBaseLogger,
    /** The request's access-log record when its frontend logs: timings, bytes, termination. */
    readonly rec: LogRecord | null = null
  ) {
    this.retriesLeft = be.retries
    const mode = connectionMode(fe.proxy, be.proxy)
    this.closeServer = mode !== 'keep-alive'
    this.closeClient = mode === 'close'
    // a session of the backend from the moment it is chosen, served or not (HAProxy's cum_sess)
    const c = be.backend.counters
    c.stot++
    c.lastSess = this.t0
    c.rate.hit(this.t0)
    if (++c.scur > c.smax) c.smax = c.scur
    const h = req.headers
    const cl = h['content-length']
    this.rawTunnel = upgradeHead !== null && req.httpVersionMajor !== 2
    this.hasBody = upgradeHead !== null
      // an upgrade's bytes go through the tunnel once the server agreed
      ? false
      : req.httpVersionMajor === 2
      // HTTP/2 frames the body itself: there is one unless the HEADERS frame ended the stream
      ? (req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders === false && cl !== '0'
      : (cl !== undefined && cl !== '0') || h['transfer-encoding'] !== undefined
    this.chunked = upgradeHead === null && req.httpVersionMajor === 1 && h['transfer-encoding'] !== undefined
    this.headIn = requestHeadBytes(req)
    if (rec !== null) {
      rec.backend = be.name
      rec.bytesIn += this.headIn
    }
    this.unIn = this.headIn
    if (fe.proxy.options.contstats === true) {
      this.statsTimer = setInterval(() => { this.addCounts() }, CONTSTATS_INTERVAL)
      this.statsTimer.unref()
    }
    // rules may have rewritten the path or query: rebuild the URI only then (an absolute-form
    // target stays absolute, as HAProxy forwards it)
    const orig = req.url ?? '/'
    const target = (txn.absolute ?? '') + (txn.query === null ? txn.path : txn.path + '?' + txn.query)
    this.url = orig === target || (orig === txn.absolute && txn.path === '/' && txn.query === null)
      ? orig
      : sendablePath(target)
    // the cookie names the server, and `indirect`/`prefix` rewrite the Cookie header the server gets
    if (be.cookie !== null) {
      this.direct = be.cookie.request(txn)
      if (rec !== null) rec.cookie = be.cookie.requestState + 'N'
    }
    // a stick table's entry names the server when no cookie did (HAProxy's SF_DIRECT either way)
    if (be.stick !== null) {
      const stuck = be.stick.request(txn, this.stickKeys = [], this.direct === null)
      if (stuck !== null) this.direct = stuck
    }
    this.headers = requestHeaders(txn, be.forwardFor ?? fe.forwardFor, be.originalTo ?? fe.originalTo)
    const compression = upgradeHead === null ? be.compressionFor(fe.proxy) : null
    if (compression !== null) {
      this.compression = compression
      this.algo = compression.choose(txn.method, req.httpVersionMajor === 1 && req.httpVersionMinor === 0, txn.headers)
      if (compression.offload) withoutHeader(this.headers, 'accept-encoding')
    }
    this.hostless10 = req.httpVersionMajor === 1 && req.httpVersionMinor === 0 && txn.headers.host === undefined
    // HAProxy applies `timeout client` while it waits for the client, not for the server: a
    // client silent until the answer comes is not cut (observed: a server slower than timeout
    // client is answered; a stalled body ends with timeout server's 504)
    const socket = req.socket as Socket & { timeout?: number }
    if (req.httpVersionMajor !== 2 && upgradeHead === null && (socket.timeout ?? 0) > 0) {
      this.clientIdle = socket.timeout!
      this.idleSocket = socket
      socket.setTimeout(0)
    }
    if (upgradeHead === null) {
      res.once('close', () => this.clientClosed())
      // `option abortonclose` (§4.2): the client's FIN before the answer aborts the request
      if (be.proxy.options.abortonclose === true && !req.socket.readableEnded) {
        const socket = req.socket
        const onEnd = (): void => { if (this.phase !== 'done' && this.phase !== 'body') this.clientFin() }
        socket.once('end', onEnd)
        res.once('close', () => socket.off('end', onEnd))
      }
    }
  }

  start (exclude: ServerRuntime | null = null): void {
    if (this.server === null && !sendableTarget(this.url)) {
      // `OPTIONS *` and other targets that are not a path: HAProxy forwards them, undici cannot
      this.refuse(new Error(`undici sends only origin-form and absolute-form targets, not "${this.url}"`))
      return
    }
    const backend = this.be.backend
    // a persistence cookie's server, else the one this client keeps here (prefer-last-server, NTLM)
    const direct = this.direct ?? (exclude === null && backend.keepsLast ? lastServer(this.txn.session, this.be.name) : null)
    const picked = direct !== null ? backend.acquireServer(direct) : backend.acquire(this.txn, exclude)
    if (picked !== null && typeof (picked as Promise<unknown>).then === 'function') {
      const rec = this.rec
      if (rec !== null) rec.beQueue = this.be.backend.queue.length
      ;(picked as Promise<ServerRuntime | null>).then(s => this.assigned(s, true), () => this.assigned(null, true))
    } else {
      this.assigned(picked as ServerRuntime | null)
    }
  }

  private assigned (server: ServerRuntime | null, queued = false): void {
    if (this.phase === 'done') {
      if (server !== null) this.be.backend.release(server)
      return
    }
    const rec = this.rec
    if (rec !== null && rec.tw < 0) rec.tw = Date.now() - rec.start
    if (server === null) {
      // no usable server (SC), or `timeout queue` expired (sQ): 503
      rec?.terminate(queued ? 'sQ' : 'SC')
      this.fail(503)
      return
    }
    if (rec !== null) {
      rec.server = server.name
      rec.serverAddr = server.host
      rec.serverPort = server.port
    }
    const prev = this.server
    if (prev !== null && prev !== server) {
      prev.counters.wredis++
      this.be.backend.counters.wredis++
    }
    // the head once, on the first server (HAProxy attributes bytes to the stream's target)
    if (prev === null) this.unServerIn = this.headIn
    else if (prev !== server) this.addCounts()
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
    const port = serverPort(server, this.txn.dstPort)
    if (this.rec !== null) this.rec.serverPort = port
    this.phase = 'connect'
    this.upstream = null
    this.tAttempt = Date.now()
    const upgrade = this.upgradeHead !== null ? upgradeProtocol(this.txn) : null
    if (upgrade !== null && server.upgradesOverH2) {
      openH2Tunnel({
        host: server.host,
        port,
        tls: server.ssl ? this.be.tlsOptions(server) : null,
        path: this.url,
        authority: hostOf(this.txn) ?? `${server.host}:${port}`,
        protocol: upgrade,
        headers: this.headers,
        connectTimeout: this.be.connectTimeout
      }, this)
      return
    }
    this.be.dispatcher(server, this.txn, upgrade !== null && this.be.speaksH2(server), port).dispatch({
      path: this.url,
      method: this.txn.method as Dispatcher.HttpMethod,
      headers: this.hostless10 ? [...this.headers, 'host', this.be.serverHost(server)] : this.headers,
      // a body the gateway waited for goes out from what it read (lib/runtime/request-body.ts)
      // (an AsyncIterable body is in undici's documentation, Dispatcher.md, not in its typings)
      body: this.hasBody ? (this.txn.body instanceof BodyReader ? this.txn.body.forward() : this.chunked ? chunkedBody(this.req) as unknown as Readable : this.req) : null,
      upgrade,
      // undici sends `connection: close` and does not reuse the socket, as HAProxy does
      reset: this.closeServer && upgrade === null
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
    if (this.rec !== null) this.rec.tc = ctime
    this.server!.counters.ctime.add(ctime)
    this.be.backend.counters.ctime.add(ctime)
    const timeout = this.be.serverTimeout
    if (timeout > 0) {
      if (this.serverTimer === null) this.serverTimer = setTimeout(() => { this.serverSilent() }, timeout)
      else this.serverTimer.refresh()
    }
  }

  /**
   * `timeout server` expired. It measures the silence of the exchange: bytes of the body sent
   * refresh it (onBodySent), and while the client is not reading the answer the wait is not the
   * server's.
   */
  private serverSilent (): void {
    if (this.phase !== 'wait' && this.phase !== 'body') return
    // a client that stopped sending its body does not hold it off (HAProxy answers 504 then)
    if (this.res.writableNeedDrain) {
      this.serverTimer!.refresh()
      return
    }
    this.abortUpstream?.(this.phase === 'body' ? new errors.BodyTimeoutError() : new errors.HeadersTimeoutError())
  }

  onHeaders (status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true // 1xx interim answers (103 Early Hints) are not relayed
    if (this.phase === 'done') return false
    try {
      return this.headersIn(status, raw, resume, statusText)
    } catch (err) {
      this.internalError(err as Error)
      return false
    }
  }

  /**
   * Processing the server's answer failed (a bug: a rule that threw): HAProxy's 500 for an answer
   * it could not process (termination state `IH`), counted in `eint`, and the server's connection
   * is dropped. Uncaught, undici would take the exception for the server's and leave the client
   * waiting until `timeout client`.
   */
  private internalError (err: Error): void {
    if (this.res.writableEnded) return
    this.log.error({ err }, 'fastify-haproxy: processing the server\'s answer failed')
    countFront(this.fe.counters.counters, this.req.socket, 'eint')
    this.be.backend.counters.eint++
    this.server!.counters.eint++
    this.rec?.terminate('IH')
    this.phase = 'done'
    this.finish()
    if (this.res.headersSent) {
      this.res.destroy()
    } else {
      this.count(500)
      if (this.rec !== null) this.rec.status = 500
      const page = pageFor(500, this.fe, this.be)
      this.countOut(page.htxBytes)
      writePage(this.res, page)
    }
    this.cutUpstream()
  }

  private headersIn (status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    // HAProxy's parser judges the answer's framing before anything reads its status
    const framing = answerFraming(raw)
    if (framing === 'refused') return this.refusedFraming()
    if (framing === 'chunked' || framing === 'chunked-with-length') {
      if (framing === 'chunked-with-length') forgetContentLength(this.upstream)
      this.faultyFraming = answerIsHttp10(this.upstream)
    }
    if (this.be.retryOn.statuses.has(status) && this.l7Retryable()) {
      this.server!.observe('http-status', status)
      this.dropAttempt()
      this.retry(new Error(`the server answered ${status} (retry-on)`), true, true)
      return false
    }
    // HTTP/2 has no reason phrase: HAProxy's H1 side writes the status code's own
    if (statusText === '' && this.be.h2Servers.has(this.server!)) statusText = STATUS_CODES[status] ?? ''
    this.awaitClient()
    const rtime = Date.now() - this.tConnect
    const rec = this.rec
    if (rec !== null) rec.tr = rtime
    this.server!.counters.rtime.add(rtime)
    this.be.backend.counters.rtime.add(rtime)
    this.server!.observe('http-status', status)
    if (this.be.backend.keepsLast) keepServer(this.txn.session, this.be.name, this.server!, status, raw, this.be.backend.preferLast, !this.closeServer)
    const headers: string[] = []
    const headOut = HTX_START_LINE + HTX_VERSION + 4 + statusText.length + responseHeaders(raw, headers, framing === 'chunked-with-length')
    // HAProxy decides on the server's own headers: what http-response rules change later
    // (Content-Type, Content-Encoding) does not count (observed), and `res.comp` reads the decision
    if (this.algo !== null) {
      const body = this.be.speaksH2(this.server!) ? 'length' : framing === 'length' ? 'length' : framing === 'close' ? null : 'chunked'
      this.chunkedIn = body === 'chunked'
      // an HTTP/1.0 answer is not compressed (§4.2)
      if (this.compression!.applies(status, headers, body !== null) && (this.be.speaksH2(this.server!) || !answerIsHttp10(this.upstream))) this.compressing = this.algo
    }
    if (this.be.stick !== null) this.stickStore(status, headers)
    this.countOut(headOut)
    // contstats: the stream shows in the counters from its answer on, not only after 5 s
    if (this.statsTimer !== null) this.addCounts()
    this.resume = resume
    if (this.beResponseRules || this.feResponseRules) {
      this.responseHead = headOut
      const view: HttpResponseView = { status, headers: headerObject(headers), server: this.server!, rewrite: this.rewriteBudget(headOut, headers) }
      if (this.compressing !== null) view.compression = this.compressing
      const alpn = negotiatedAlpn(this.upstream)
      if (alpn !== undefined) view.alpn = alpn
      return this.responseRules(view, status, statusText)
    }
    return this.respond(status, statusText, headers)
  }

  /**
   * An answer whose Transfer-Encoding HAProxy's parser refuses (answerFraming): its 502, as for
   * any answer it cannot parse (`PH`), and the server's connection is cut.
   */
  private refusedFraming (): false {
    const server = this.server!
    this.rec?.terminate('PH')
    server.counters.eresp++
    this.be.backend.counters.eresp++
    server.observe('http-status', 502)
    this.fail(502, new Error('the server\'s answer has a Transfer-Encoding other than chunked alone'))
    this.cutUpstream()
    return false
  }

  /** The server answered (`headers` as it sent them): `stick` rules store it for the request's keys and the answer's. */
  private stickStore (status: number, headers: string[]): void {
    const stick = this.be.stick!
    stick.store(this.txn, this.server!, this.stickKeys!, stick.storesResponse ? { status, headers: headerObject(headers), server: this.server! } : null)
  }

  /** The size of the answer's head, while http-response rules may wait for its body. */
  private responseHead = 0
  /** The backend's http-response rules are over: a wait in the frontend's goes on there. */
  private backendResponded = false
  /** An `http-response wait-for-body` under way: the head waits, with what comes of the body. */
  private responseWait: ResponseWait | null = null

  /** The backend has response rules: http-response, or tcp-response content ones run before them. */
  private get beResponseRules (): boolean {
    return this.be.rules !== null && (this.be.proxy.httpResponse.length > 0 || this.be.proxy.tcpResponseContent.length > 0)
  }

  /** The frontend has response rules (a listen section's tcp-response rules are in its frontend rules). */
  private get feResponseRules (): boolean {
    return this.fe.proxy.httpResponse.length > 0 || this.fe.proxy.tcpResponseContent.length > 0
  }

  /** The backend's response rules, then the frontend's; where a wait paused them, from there. */
  private responseVerdict (view: HttpResponseView): Decision | null {
    if (!this.backendResponded) {
      const verdict = this.beResponseRules ? this.be.rules!.responseRules(this.txn, view) : null
      this.countRewrites(view)
      if (verdict !== null) return verdict
      this.backendResponded = true
      // strict mode is on again for the frontend's rules
      view.rewrite!.strict = true
    }
    const verdict = this.feResponseRules ? this.fe.rules.responseRules(this.txn, view) : null
    this.countRewrites(view)
    return verdict
  }

  /** Failed response rewrites count on the frontend, the backend and the server. */
  private countRewrites (view: HttpResponseView): void {
    const budget = view.rewrite!
    if (budget.failed === 0) return
    countFront(this.fe.counters.counters, this.req.socket, 'wrew', budget.failed)
    this.be.backend.counters.wrew += budget.failed
    this.server!.counters.wrew += budget.failed
    budget.failed = 0
  }

  /**
   * What the response's rewrites may add (RewriteBudget): the buffer less the head and the body
   * that came with it. A body whose length is announced is taken as arrived with the head, as
   * from a server that sends it at once, up to what the buffer holds before rules.
   */
  private rewriteBudget (head: number, headers: string[]): RewriteBudget {
    const { size, filled } = this.fe.buffer
    let body = 0
    if (this.req.method !== 'HEAD') {
      for (let i = 0; i < headers.length; i += 2) {
        if (headers[i]!.length === 14 && headers[i]!.toLowerCase() === 'content-length') body = Number(headers[i + 1]) || 0
      }
    }
    return { room: size - head - Math.min(body, Math.max(0, filled - head)), strict: true, failed: 0 }
  }

  /**
   * The http-response rules on the server's answer (`status`, `statusText` as it sent them), then
   * the answer goes on as they left it, or their verdict replaces it. false: stop reading the server.
   */
  private responseRules (view: HttpResponseView, status: number, statusText: string): boolean {
    const verdict = this.responseVerdict(view)
    if (verdict !== null && verdict.kind === 'wait-for-body') return this.waitResponseBody(view, status, statusText, verdict.time, verdict.atLeast)
    if (verdict !== null) {
      // http-response deny / return / redirect replace the server's answer; the server's
      // connection is cut (undici's abort would replay the request on a new one)
      this.phase = 'done'
      delete this.txn.cacheStore
      this.cutUpstream()
      this.finish()
      // the server's own status counts on its row; the verdict's on the frontend and backend
      this.server!.counters.countResponse(status)
      // a tcp-response reject closes the connection: HAProxy logs it PD
      this.rec?.terminate(verdict.kind === 'deny' || verdict.kind === 'rewrite-failed' ? 'PH' : verdict.kind === 'reject' ? 'PD' : 'LH')
      answer(verdict, this.res, this.fe, this.be, this)
      return false
    }
    // a new status comes with its own reason phrase unless `set-status … reason` gave one
    if (view.status !== status || view.reason !== undefined) statusText = view.reason ?? STATUS_CODES[view.status] ?? ''
    const goOn = this.respond(view.status, statusText, flatten(view.headers))
    const body = view.body as BufferedBody | undefined
    if (body !== undefined && !this.rawTunnel && this.req.method !== 'HEAD') {
      for (const chunk of body.chunks) {
        this.txn.cacheStore?.add(chunk)
        if (this.compressor !== null) this.compressor.write(chunk, noop)
        else this.res.write(chunk)
      }
    }
    return goOn
  }

  /**
   * `http-response wait-for-body time <t> [at-least <n>]` (§4.2): the rules go on once the body is
   * complete, fills the buffer, or has `at-least` bytes; if the time runs out first, HAProxy's 504.
   */
  private waitResponseBody (view: HttpResponseView, status: number, statusText: string, time: number, atLeast: number): boolean {
    const body = (view.body as BufferedBody | undefined) ?? new BufferedBody(Math.max(0, this.be.bufferRoom - this.responseHead))
    view.body = body
    const enough = atLeast > 0 ? Math.min(atLeast, body.room) : body.room
    if (body.complete || body.length >= enough) return this.responseRules(view, status, statusText)
    this.phase = 'body'
    const timer = time > 0 ? setTimeout(() => { this.responseTimedOut() }, time) : null
    this.responseWait = { view, status, statusText, enough, timer }
    return true
  }

  /** The body came (or enough of it): the paused rules go on. false: their verdict replaced the answer. */
  private responseBodyIn (): boolean {
    const wait = this.responseWait!
    this.responseWait = null
    if (wait.timer !== null) clearTimeout(wait.timer)
    try {
      return this.responseRules(wait.view, wait.status, wait.statusText)
    } catch (err) {
      this.internalError(err as Error)
      return false
    }
  }

  /** wait-for-body's time ran out before the body came: HAProxy answers 504 and drops the server's answer. */
  private responseTimedOut (): void {
    if (this.responseWait === null || this.phase === 'done') return
    this.responseWait = null
    // as HAProxy 2.6.12 logs it (observed): no response time, `sR`
    if (this.rec !== null) this.rec.tr = -1
    this.rec?.terminate('sR')
    this.server!.counters.eresp++
    this.be.backend.counters.eresp++
    this.fail(504, new Error('http-response wait-for-body: the body did not come in time'))
    this.cutUpstream()
  }

  /**
   * Closes the server's connection under an answer the gateway gives up on. undici's own abort
   * puts the request back in its queue when the socket closes ("aborted" is only informational
   * there), which opens a new connection to the server that carries nothing: the socket is
   * destroyed with an error instead. A stream of a shared HTTP/2 connection is aborted alone.
   */
  private cutUpstream (): void {
    const socket = this.upstream
    if (socket !== null && !this.be.speaksH2(this.server!) && !socket.destroyed) socket.destroy(new errors.RequestAbortedError())
    else this.abortUpstream?.()
  }

  /** Writes the answer's head as the rules left it; its body follows. */
  private respond (status: number, statusText: string, headers: string[]): boolean {
    const res = this.res
    const rec = this.rec
    if (this.be.cookie !== null) {
      const set = this.be.cookie.response(headers, this.server!, this.direct !== null, this.txn.method, status)
      if (rec !== null) rec.cookie = rec.cookie[0]! + set
    }
    if (rec !== null) {
      rec.status = status
      if (rec.keepHeaders) rec.resHeaders = headers
    }
    this.phase = 'body'
    this.bodyless = status === 304 || status === 204
    this.count(status)
    if (this.rawTunnel) {
      // the server refused the upgrade: relay its answer on the raw socket, then close
      const socket = this.req.socket
      let head = `HTTP/1.1 ${status} ${statusText}\r\n`
      for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`
      socket.write(head + 'connection: close\r\n\r\n')
      return true
    }
    if (this.closeClient || this.faultyFraming) res.shouldKeepAlive = false
    const algo = this.compressing
    if (algo !== null) {
      CompressionRule.rewrite(headers, algo)
      if (rec !== null) rec.compression = algo
      const compressor = this.compressor = this.compression!.compressor(algo, this.chunkedIn, [this.fe.counters.counters, this.be.backend.counters])
      compressor.start(chunk => res.write(chunk), go => res.once('drain', go), () => res.end())
      res.once('close', () => { compressor.destroy() })
    }
    // HTTP/2 ends an answer to HEAD with its headers: they wait for the server's body to be drained,
    // so that the client's next request finds the server connection free, as with HAProxy
    if (this.req.method === 'HEAD' && this.req.httpVersionMajor === 2) this.deferredHead = [status, statusText, headers]
    else writeHead(res, status, statusText, headers)
    if (rec !== null && rec.asap !== null) rec.asap()
    return true
  }

  // undici 7 passes the chunk it wrote (request.js onBodySent); its typings say a size
  onBodySent (chunk: Buffer | string | number): void {
    const n = typeof chunk === 'number' ? chunk : chunk.length
    if (this.rec !== null) this.rec.bytesIn += n
    this.serverTimer?.refresh()
    this.unIn += n
    if (this.server !== null) this.unServerIn += n
    if (this.released) this.addCounts()
  }

  /** An HTTP/2 answer to HEAD, written once the server's answer is complete. */
  private deferredHead: [number, string, string[]] | null = null

  onData (chunk: Buffer): boolean {
    this.serverTimer?.refresh()
    this.countOut(chunk.length)
    const wait = this.responseWait
    if (wait !== null) {
      const body = wait.view.body as BufferedBody
      body.add(chunk)
      if (body.length >= wait.enough) this.responseBodyIn()
      return true
    }
    if (this.rawTunnel) return this.req.socket.write(chunk)
    // an answer to HEAD has no body (node's HTTP/2 response already ended with its headers)
    if (this.req.method === 'HEAD') return true
    // the cache keeps the answer as the server sent it, before any compression
    const store = this.txn.cacheStore
    if (store !== undefined) store.add(chunk)
    if (this.compressor !== null) return this.compressor.write(chunk, this.resume!)
    if (this.res.write(chunk)) return true
    this.res.once('drain', this.resume!)
    return false
  }

  // undici's typings say string[]; it passes raw Buffer pairs (HTTP/1.1) or an object (HTTP/2)
  onComplete (trailers: string[] | null): void {
    if (this.responseWait !== null) {
      (this.responseWait.view.body as BufferedBody).complete = true
      if (!this.responseBodyIn()) return
    }
    if (this.rawTunnel) {
      this.req.socket.end()
    } else {
      // trailers (gRPC's status) go on to the client: HTTP/2, or a chunked HTTP/1.1 answer
      if (this.deferredHead !== null) writeHead(this.res, ...this.deferredHead)
      if (trailers != null && (Array.isArray(trailers) ? trailers.length > 0 : Object.keys(trailers as object).length > 0)) this.res.addTrailers(trailerObject(trailers as unknown as Buffer[] | Record<string, string | string[] | undefined>))
      if (this.compressor !== null) this.compressor.end()
      else this.res.end()
      this.txn.cacheStore?.end()
    }
    if (this.faultyFraming) this.upstream?.destroy()
    this.finish()
  }

  onUpgrade (status: number, raw: Buffer[] | string[] | null, upstream: TunnelEnd): void {
    const list = raw ?? []
    if (/^websocket$/i.test(upgradeProtocol(this.txn) ?? '') && !this.server!.upgradesOverH2 && !acceptable(list, this.rawTunnel ? null : this.txn)) {
      // RFC 6455 §4.2.2: HAProxy checks the server's answer carries one (its value too when it
      // made the key itself, for an HTTP/2 client): a 502
      upstream.destroy()
      this.rec?.terminate('PH')
      this.server!.counters.eresp++
      this.be.backend.counters.eresp++
      this.fail(502, new Error('the server switched to WebSocket without a valid Sec-WebSocket-Accept header'))
      return
    }
    const headers = this.upgradeRules(status, list, upstream)
    if (headers === null) return
    if (!this.rawTunnel) { this.h2Tunnel(status, upstream); return }
    const client = this.req.socket
    this.count(status)
    let head = 'HTTP/1.1 101 Switching Protocols\r\n'
    let headOut = HTX_START_LINE + HTX_VERSION + 4 + 19 /* Switching Protocols */
    for (let i = 0; i < headers.length; i += 2) {
      head += `${headers[i]!}: ${headers[i + 1]!}\r\n`
      headOut += headers[i]!.length + headers[i + 1]!.length
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

  /**
   * The http-response rules on the server's agreement to an upgrade, as HAProxy runs them on the
   * 101: its headers as the rules leave them, or null when their verdict replaced the answer
   * (the tunnel is not opened).
   */
  private upgradeRules (status: number, raw: Array<Buffer | string>, upstream: TunnelEnd): string[] | null {
    const headers: string[] = []
    for (let i = 0; i + 1 < raw.length; i += 2) headers.push(raw[i]!.toString(), raw[i + 1]!.toString())
    if (this.be.stick !== null) this.stickStore(status, headers)
    if (!this.beResponseRules && !this.feResponseRules) return headers
    const head = HTX_START_LINE + HTX_VERSION + 4 + headers.reduce((n, h) => n + h.length, 0)
    const view: HttpResponseView = { status, headers: headerObject(headers), server: this.server!, rewrite: this.rewriteBudget(head, headers) }
    const alpn = negotiatedAlpn(upstream)
    if (alpn !== undefined) view.alpn = alpn
    const verdict = this.responseVerdict(view)
    if (verdict === null || verdict.kind === 'wait-for-body') return flatten(view.headers)
    upstream.destroy()
    this.phase = 'done'
    this.finish()
    this.server!.counters.countResponse(status)
    this.rec?.terminate(verdict.kind === 'deny' ? 'PH' : 'LH')
    answer(verdict, this.res, this.fe, this.be, this)
    return null
  }

  /**
   * The server agreed to an upgrade asked over HTTP/2 (RFC 8441 extended CONNECT): the client's
   * stream gets a 200 (HAProxy's H2 mux turns the 101 into it) and carries the tunnel.
   */
  private h2Tunnel (status: number, upstream: TunnelEnd): void {
    this.count(status)
    this.countOut(HTX_START_LINE + HTX_VERSION + 4)
    const res = this.res as unknown as Http2ServerResponse
    const client = res.stream
    writeHead(this.res, 200, undefined, [])
    if (this.upgradeHead !== null && this.upgradeHead.length > 0) upstream.write(this.upgradeHead)
    const timeout = this.be.tunnelTimeout
    const close = (): void => { client.destroy(); upstream.destroy() }
    if (timeout > 0) {
      client.setTimeout(timeout, close)
      upstream.setTimeout(timeout, close)
    }
    const tunnels = this.be.tunnels
    tunnels.add(client)
    client.on('error', close).on('close', () => { tunnels.delete(client); close() })
    upstream.on('error', close).on('close', () => { close(); this.finish() })
    upstream.on('data', (d: Buffer) => { this.countOut(d.length) })
    this.req.on('data', (d: Buffer) => { this.onBodySent(d.length) })
    // the request reads the client's DATA frames (node's compatibility layer): it feeds the server
    this.req.pipe(upstream)
    upstream.pipe(res as unknown as NodeJS.WritableStream)
  }

  onError (err: Error & { code?: string }): void {
    if (this.phase === 'done' || this.dropping) return
    const server = this.server!
    const code = err.code ?? ''
    if (this.responseWait !== null) {
      // the server stopped while wait-for-body held its answer: nothing went to the client yet
      if (this.responseWait.timer !== null) clearTimeout(this.responseWait.timer)
      this.responseWait = null
      const timedOut = code === 'UND_ERR_BODY_TIMEOUT'
      this.rec?.terminate(timedOut ? 'sD' : 'SD')
      server.counters.srvAbrt++
      this.be.backend.counters.srvAbrt++
      this.fail(timedOut ? 504 : 502, err)
      return
    }
    if (this.phase === 'body' && code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' && this.bodyless) {
      // undici checks Content-Length even on a 304, where it describes the resource, not this answer
      this.onComplete(null)
      return
    }
    const cut = this.cutBy()
    if (this.phase === 'body') {
      // the answer was already under way: all that can be done is cut the client off
      this.rec?.terminate(cut !== null ? cut + 'D' : code === 'UND_ERR_BODY_TIMEOUT' ? 'sD' : 'SD')
      server.counters.srvAbrt++
      this.be.backend.counters.srvAbrt++
      this.phase = 'done'
      this.finish()
      if (this.rawTunnel) this.req.socket.destroy()
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
      this.rec?.terminate('sH')
      server.counters.eresp++
      this.be.backend.counters.eresp++
      this.fail(504, err)
      return
    }
    if (cut !== null) {
      // its server's sessions were cut while it waited for the answer (HAProxy's 502)
      this.rec?.terminate(cut + 'H')
      this.fail(502, err)
      return
    }
    const side = errorSide(code)
    // the client's body ended by its close (the request destroyed): the client's doing
    if (code === 'UND_ERR_ABORTED' && this.req.destroyed && !this.req.complete) {
      this.clientAborted()
      return
    }
    if (side === 'gateway') {
      // not the server's doing (its pool closed under it on a stop): an answer, no blame
      this.fail(502, err)
      return
    }
    if (side === 'request') {
      if (this.req.destroyed && !this.req.complete) this.clientAborted()
      else this.refuse(err)
      return
    }
    // nothing reached the server before onConnect: refused, unreachable, timed out or a failed
    // TLS handshake, all "conn-failure" for retry-on (§4.2 retry-on)
    const retryOn = this.be.retryOn
    const connectFailed = this.phase === 'connect'
    const closed = this.phase === 'wait' && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE')
    // a reused keep-alive connection the server had closed: nothing was processed
    const staleConnection = closed && this.reused && !this.hasBody && IDEMPOTENT.has(this.txn.method)
    if (connectFailed && !retryOn.connFailure) {
      this.rec?.terminate(code === 'UND_ERR_CONNECT_TIMEOUT' ? 'sC' : 'SC')
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
      this.clientAborted()
      return
    }
    // an invalid, truncated or empty answer (llhttp errors, "other side closed"): HAProxy's parser
    // blocks an invalid one (PH), the server cut an empty or truncated one (SH)
    this.rec?.terminate(code === '' || code.startsWith('HPE_') ? 'PH' : 'SH')
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
      this.rec?.terminate(this.req.destroyed ? 'CC' : timedOut ? 'sC' : 'SC')
      server.counters.econ++
      this.be.backend.counters.econ++
      this.fail(503, cause)
      return
    }
    const attempt = this.be.retries - this.retriesLeft + 1
    this.retriesLeft--
    if (this.rec !== null) this.rec.retries++
    this.abortUpstream = null
    if (l7) {
      server.counters.wretr++
      this.be.backend.counters.wretr++
    }
    const redispatch = this.be.proxy.redispatch
    if (redispatch !== null && this.chooseRedispatch(redispatch.interval, attempt)) {
      this.phase = 'queue'
      this.held = false
      if (this.rec !== null) this.rec.redispatched = true
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

  /** Whether this retry may go to another server (configuration.txt §4.2 `option redispatch`; no `option persist` / `force-persist`). */
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

  /**
   * `shutdown session` (or a hard stop) on this request's connection: cut as its server's sessions are cut by
   * `shutdown sessions server` (a 502 while the answer is awaited, as HAProxy 2.6.12 answers, `KH`
   * in the log; the connection cut mid-answer, `KD`). False when no server exchange is under way
   * to cut: the caller closes the connection.
   */
  kill (why: string): boolean {
    if (this.abortUpstream === null || (this.phase !== 'wait' && this.phase !== 'body')) return false
    this.killed = true
    this.abortUpstream(new Error(why))
    return true
  }

  /** The cause of a cut of its server's sessions (ServerRuntime.cutSessions) since it began, else null. */
  private cutBy (): 'D' | 'U' | 'K' | null {
    if (this.killed) return 'K'
    const cut = this.server?.sessionsCut
    return cut != null && cut.at >= this.t0 ? cut.cause : null
  }

  private clientClosed (): void {
    if (this.phase === 'done' || this.res.writableFinished) return
    const rec = this.rec
    if (rec !== null) {
      rec.terminate(CLIENT_ABORT[this.phase])
      // the time spent waiting in a queue counts as Tw even when the wait was cut short
      if (this.phase === 'queue' && rec.tw < 0) rec.tw = Date.now() - rec.start
    }
    this.fe.counters.counters.cliAbrt++
    if (this.server !== null) this.server.counters.cliAbrt++
    // done first: undici reports the abort synchronously, and that error is not the server's
    this.phase = 'done'
    this.abortUpstream?.()
    this.finish()
  }

  /** The client closed its side before the answer, under `option abortonclose`. */
  private clientFin (): void {
    // HAProxy 2.6 logs such an abort while waiting for the server's headers with status 400
    // (http_abortonclose reg-test); before a server answered, nothing else is sent
    if (this.rec !== null && this.phase === 'wait') this.rec.status = 400
    this.clientClosed()
    this.res.destroy()
  }

  /** The client went away while its body was being sent. */
  private clientAborted (): void {
    this.rec?.terminate('CH')
    this.fe.counters.counters.cliAbrt++
    this.phase = 'done'
    this.finish()
    this.res.destroy()
  }

  /**
   * A request that cannot be sent for what it holds: the client's error, HAProxy's 400, counted
   * as a bad request on the frontend and never against the server or its health.
   */
  private refuse (cause: Error): void {
    this.awaitClient()
    if (this.rec !== null) {
      this.rec.status = 400
      this.rec.terminate('PR')
    }
    this.phase = 'done'
    this.finish()
    const c = this.fe.counters.counters
    countFront(c, this.req.socket, 'ereq')
    c.countResponse(400)
    const err = new FST_HAPROXY_UNSENDABLE_REQUEST({ cause })
    this.log.warn({ err, backend: this.be.proxy.name, server: this.server?.name ?? null }, `fastify-haproxy: 400 ${err.message}`)
    if (this.rawTunnel) { this.req.socket.destroy(); return }
    const page = pageFor(400, this.fe, this.be)
    countFront(c, this.req.socket, 'bout', page.htxBytes)
    writePage(this.res, page)
  }

  /** The answer goes to the client now: its inactivity timeout applies again. */
  private awaitClient (): void {
    const socket = this.idleSocket
    if (socket === null) return
    this.idleSocket = null
    if (!socket.destroyed) socket.setTimeout(this.clientIdle)
  }

  private fail (status: 502 | 503 | 504, cause?: Error): void {
    if (this.rec !== null) this.rec.status = status
    this.awaitClient()
    this.phase = 'done'
    this.finish()
    this.count(status)
    this.logFailure(status, cause)
    if (this.rawTunnel) {
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
    const backend = this.be.proxy.name
    const server = this.server?.name ?? null
    // one line per failure (an unreachable server is routine for a gateway); the error object,
    // with its stack and cause, at debug level only
    const why = cause === undefined ? '' : ` (${cause.message})`
    this.log.warn({ code: err.code, backend, server }, `fastify-haproxy: ${status} ${backend}/${server ?? '-'}: ${err.message}${why}`)
    this.log.debug({ err, backend, server }, `fastify-haproxy: ${status} ${err.code}`)
  }

  /** Response bytes (`bout`) on the frontend, backend and server rows. */
  private countOut (n: number): void {
    if (this.rec !== null) this.rec.bytesOut += n
    this.unOut += n
    if (this.server !== null) this.unServerOut += n
    if (this.released) this.addCounts()
  }

  /**
   * Bytes not yet in the stats counters (`bin`/`bout` of the frontend and backend, and of the
   * server): HAProxy adds a stream's bytes when it ends, and with `option contstats` every
   * 5 seconds along it too (observed on 2.6.12 with `show stat` during a slow download).
   */
  private unIn = 0
  private unOut = 0
  private unServerIn = 0
  private unServerOut = 0
  /** `option contstats`: adds the bytes so far every CONTSTATS_INTERVAL. */
  private statsTimer: NodeJS.Timeout | null = null

  private addCounts (): void {
    const fe = this.fe.counters.counters
    const be = this.be.backend.counters
    countFront(fe, this.req.socket, 'bin', this.unIn)
    be.bin += this.unIn
    countFront(fe, this.req.socket, 'bout', this.unOut)
    be.bout += this.unOut
    this.unIn = this.unOut = 0
    const server = this.server
    if (server !== null) {
      server.counters.bin += this.unServerIn
      server.counters.bout += this.unServerOut
    }
    this.unServerIn = this.unServerOut = 0
  }

  private count (status: number): void {
    this.fe.counters.counters.countResponse(status)
    this.be.backend.counters.countResponse(status)
    this.server?.counters.countResponse(status)
  }

  private finish (): void {
    if (this.released) return
    this.released = true
    this.addCounts()
    if (this.statsTimer !== null) clearInterval(this.statsTimer)
    if (this.serverTimer !== null) clearTimeout(this.serverTimer)
    if (this.responseWait?.timer != null) clearTimeout(this.responseWait.timer)
    this.responseWait = null
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

