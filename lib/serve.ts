// Standalone mode (`fastify-haproxy -f haproxy.cfg`): every frontend and listen section serves on
// each of its binds, as `haproxy -db -f` does. One runtime (backends, health checks, counters)
// for the whole configuration; one Fastify instance per frontend, whose node server takes the
// first bind and extra node servers share its request handler for the others.

import { randomBytes } from 'node:crypto'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type tls from 'node:tls'
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { DEFAULT_BUFSIZE, DEFAULT_MAXHDR, requestHeadLimit } from './config/model.js'
import type { Bind, GlobalSettings, ParsedConfig, Proxy, StatsSocket, Timeouts } from './config/model.js'
import { loadConfig } from './config/parse.js'
import { fatalUnderZeroWarning, formatDiagnostic } from './config/diagnostics.js'
import { checkConfig } from './check.js'
import { Gateway, countConnections, haproxyRouter } from './plugin.js'
import { startLogForwarders, type LogForwarder } from './log/forward.js'
import { markClientError } from './log/logger.js'
import { TcpListener } from './tcp/proxy.js'
import type { GatewayLogger } from './plugin.js'
import { softStop } from './soft-stop.js'
import { clientTimeouts } from './client-timeouts.js'
import { FST_HAPROXY_BIND_FAILED, parserErrorPage } from './errors.js'
import { RuntimeSocket } from './socket/server.js'
import { TlsTerminator } from './tls.js'
import { H2RequestScreen } from './h2-screen.js'
import { sniffPreface } from './h2-preface.js'
import { H2Windows, hiddenMargin, DEFAULT_WINDOW, MAX_WINDOW } from './h2-window.js'
import { acceptProxy } from './proxy-protocol.js'
import { keepHttp1Listener, resumeChunkedWithLength } from './transfer-encoding.js'
import { kBindName, kGatewayHook, kUpgradeHead } from './symbols.js'
import { HaproxyH2Response, HaproxyResponse } from './wire-response.js'

export interface GatewayRunOptions {
  /** No log output but alerts (as `haproxy -q`). */
  quiet?: boolean
  /** Warnings are fatal (as `haproxy -dW`). */
  zeroWarning?: boolean
  /** Called once every listener is up (pid file, readiness notification, old processes). */
  ready?: () => void | Promise<void>
  /**
   * Called (once) when an address is taken, to have the process holding it let go (`-sf`/`-st`);
   * binding is then retried for a few seconds. Without it, a taken address fails at once.
   */
  addressInUse?: () => void
  /** `-S <address>[,<bind options>]`: the master CLI, served on that address at level admin. */
  masterCli?: string
}

/** `-S <address>[,<bind options>…]`: the address, at level admin (management.txt §9.4). */
function masterCliSocket (arg: string): StatsSocket {
  const [address = '', ...options] = arg.split(',')
  const mode = options.find(o => o.startsWith('mode '))
  return { address, level: 'admin', mode: mode === undefined ? null : parseInt(mode.slice(5), 8), loc: { file: '-S', line: 0 } }
}

/** Retries of a taken address after `addressInUse` (BIND_RETRIES × BIND_RETRY_MS, 5 s). */
const BIND_RETRIES = 50
const BIND_RETRY_MS = 100

/**
 * A frontend being served: its Fastify instance and the extra servers of its other binds, or,
 * for a `mode tcp` one, its TCP listener (lib/tcp).
 */
export interface Listener {
  proxy: Proxy
  app: FastifyInstance | null
  tcp: TcpListener | null
  extra: Server[]
  key: string
  /** The TLS setup of each `ssl` bind (by position) and its servers, recompiled on reload (renewed certificates). */
  tls: Array<{ bind: number, terminator: TlsTerminator, servers: Server[] }>
}

/** What makes a listener's servers: a reload that changes it restarts them. */
export function bindKey (binds: Bind[]): string {
  return binds.map(b => `${b.fd !== undefined ? `fd@${b.fd}` : `${b.host}:${b.port}-${b.portEnd}`} ${b.proto ?? ''} ${b.acceptProxy === true ? 'accept-proxy ' : ''}${JSON.stringify(b.tls ?? null)}`).join(',')
}

/** What node's `listen()` takes: an address, or a handle naming an inherited descriptor. */
type ListenTarget = { host: string, port: number, backlog?: number } | { fd: number }

/** Where one bind listens: each port of its range, or the inherited socket of `fd@N`. */
function listenTargets (bind: Bind, proxy: Proxy, config: ParsedConfig): Array<{ label: string, options: ListenTarget }> {
  if (bind.fd !== undefined) return [{ label: `fd@${bind.fd}`, options: { fd: bind.fd } }]
  const host = listenHost(bind.host)
  const backlog = listenBacklog(bind, proxy, config)
  const targets: Array<{ label: string, options: ListenTarget }> = []
  for (let port = bind.port; port <= bind.portEnd; port++) targets.push({ label: `${host}:${port}`, options: backlog === undefined ? { host, port } : { host, port, backlog } })
  return targets
}

/**
 * The listen() backlog HAProxy 2.6 asks for (§4.2 `backlog`, observed with `ss -lt`): the bind's
 * `backlog`, else the proxy's, else the bind's `maxconn`, else the proxy's, else the global
 * `maxconn`. Without any, HAProxy's default maxconn (from the file limit) is what the system caps
 * at somaxconn; Node's default (511) is kept then.
 */
function listenBacklog (bind: Bind, proxy: Proxy, config: ParsedConfig): number | undefined {
  return bind.backlog ?? proxy.backlog ?? bind.maxconn ?? proxy.maxconn ?? config.global.maxconn
}

/** `bind :80`, `*:80`, `0.0.0.0:80` → every IPv4 address as HAProxy does; `::` → dual stack. */
function listenHost (host: string): string {
  if (host === '' || host === '*') return '0.0.0.0'
  return host.startsWith('[') ? host.slice(1, -1) : host
}

/** The request handler node servers of every kind call (Fastify's, shared by the extra binds). */
type Handler = (req: IncomingMessage, res: ServerResponse) => void
type Http2Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void

/**
 * node's server for a bind (configuration.txt §5.1): plain HTTP/1; `proto h2` on a clear bind
 * is HTTP/2 with prior knowledge; an `ssl` bind is HTTPS, with HTTP/2 when its `alpn` (or
 * `proto h2`) offers h2 and HTTP/1.1 beside it unless `proto h2` says otherwise. Timeouts come
 * from the proxy (§4.2): `timeout http-request` bounds the request head (node answers 408),
 * `timeout client` is socket inactivity, `timeout http-keep-alive` the idle time between
 * requests (falling back as HAProxy does).
 */
function bindServer (bind: Bind, t: Timeouts, handler: Handler, terminator: TlsTerminator | null, settings: http2.Settings, h2Upgrade: boolean, ignoreProbes: boolean): Server {
  const headersTimeout = t.httpRequest ?? 0
  const requestTimedOut = ignoreProbes ? closeProbeOr408 : answer408
  const http1 = {
    headersTimeout,
    requestTimeout: 0,
    // node checks `timeout http-request` on a periodic sweep: this often, it fires at most
    // 10 ms late (50 ms past 5 s); its 30 s default would make the timeout useless
    connectionsCheckingInterval: headersTimeout > 0 ? Math.min(50, Math.max(10, headersTimeout / 100)) : 30_000,
    keepAliveTimeout: t.httpKeepAlive ?? t.httpRequest ?? t.client ?? 5000,
    // the gateway answers a missing Host itself, with HAProxy's 400 page
    requireHostHeader: false
  }
  const h2Only = bind.proto === 'h2'
  let server: Server
  if (terminator !== null) {
    const alpn = terminator.alpn
    // HAProxy waits `timeout client` for the handshake (node: 120 s), logging `Timeout during SSL handshake`
    const secureOptions = { ...terminator.options, ...((t.client ?? 0) > 0 ? { handshakeTimeout: t.client } : {}) }
    if (h2Only || alpn.includes('h2')) {
      const h2 = http2.createSecureServer({ ...secureOptions, settings, allowHTTP1: !h2Only, Http1ServerResponse: HaproxyResponse, Http2ServerResponse: HaproxyH2Response }, handler as unknown as Http2Handler)
      h2.on('connect', extendedConnect(handler))
      server = Object.assign(h2, http1) as unknown as Server
      trackSessions(h2)
      terminator.watch(h2)
    } else {
      const secure = https.createServer({ ...http1, ...secureOptions, ServerResponse: HaproxyResponse }, handler)
      terminator.watch(secure)
      softStop(secure)
      clientTimeouts(secure, t, requestTimedOut)
      server = secure
    }
  } else if (h2Only) {
    const h2 = clearH2Server(handler, settings)
    h2.on('connection', h2.accept)
    server = h2 as unknown as Server
  } else {
    server = http.createServer({ ...http1, ServerResponse: HaproxyResponse }, handler)
    keepHttp1Listener(server)
    softStop(server)
    if (!h2Upgrade) {
      clientTimeouts(server, t, requestTimedOut)
    } else {
      const h2 = clearH2Server(handler, settings)
      h2.setTimeout(t.client ?? 0)
      const h2Sockets = new WeakSet<Socket>()
      // a connection waiting for its first bytes still gets HAProxy's 408; an HTTP/2 one does not
      clientTimeouts(server, t, (socket) => { if (!h2Sockets.has(socket)) requestTimedOut(socket) })
      // node's HTTP/1 listener and the soft stop's tracking wait for the first bytes; listeners
      // added later (counters, names, keep-alive) hear every connection at once
      const [own, stopTracking] = server.listeners('connection') as Array<(socket: Socket) => void>
      server.off('connection', own!)
      server.off('connection', stopTracking!)
      server.prependListener('connection', (socket: Socket) => {
        sniffPreface(socket, (isH2) => {
          if (isH2) {
            h2Sockets.add(socket)
            h2.accept(socket)
          } else {
            stopTracking!.call(server, socket)
            own!.call(server, socket)
          }
        })
      })
      // the logs' listeners (countConnections) hear the sessions as on a `proto h2` bind
      h2.on('session', (session) => { server.emit('session', session) })
      const closeIdle = server.closeIdleConnections
      server.closeIdleConnections = function (this: Server): void {
        closeIdle.call(this)
        h2.closeIdleConnections()
      }
    }
  }
  server.timeout = t.client ?? 0
  keepHalfOpen(server)
  if (bind.name !== undefined) nameSockets(server, bind.name)
  return server
}

/**
 * HTTP/2 with prior knowledge on a clear bind: the screen credits the client as HAProxy does;
 * nghttp2 gets the larger windows it checks against. `accept` takes a connection (through
 * H2RequestScreen into node's own connection listener).
 */
function clearH2Server (handler: Handler, settings: http2.Settings): http2.Http2Server & { accept: (socket: Socket) => void, closeIdleConnections: () => void } {
  const announced = settings.initialWindowSize ?? DEFAULT_WINDOW
  const margin = hiddenMargin(announced)
  const h2 = http2.createServer({ settings: { ...settings, initialWindowSize: announced + margin }, Http2ServerResponse: HaproxyH2Response }, handler as unknown as Http2Handler)
  h2.on('session', (session) => { session.setLocalWindowSize(MAX_WINDOW) })
  h2.on('connect', extendedConnect(handler))
  const own = h2.listeners('connection') as Array<(socket: Duplex) => void>
  h2.removeAllListeners('connection')
  trackSessions(h2)
  return Object.assign(h2, {
    accept: (socket: Socket): void => {
      const screen = new H2RequestScreen(socket, settings.maxFrameSize, settings.headerTableSize, new H2Windows(announced, margin))
      for (const l of own) l.call(h2, screen)
    }
  }) as http2.Http2Server & { accept: (socket: Socket) => void, closeIdleConnections: () => void }
}

/** The protocol's defaults (RFC 9113 §6.5.2): HAProxy announces only the settings that differ. */
const H2_DEFAULT_TABLE_SIZE = 4096
const H2_DEFAULT_FRAME_SIZE = 16384
/** HAProxy 2.6's default `tune.h2.max-concurrent-streams`. */
const H2_DEFAULT_STREAMS = 100

/**
 * The SETTINGS frame of HTTP/2 binds, as HAProxy 2.6.12 announces it (observed): at most 100
 * concurrent streams unless `tune.h2.max-concurrent-streams` says otherwise (0: none announced,
 * no limit), and the `tune.h2.*` values that differ from the protocol's defaults; the frame size
 * is capped by `tune.bufsize`.
 */
export function h2Settings (g: GlobalSettings): http2.Settings {
  const h2 = g.h2 ?? {}
  // RFC 8441 extended CONNECT (WebSocket and other upgrades over HTTP/2): always announced
  const settings: http2.Settings = { enableConnectProtocol: true }
  const streams = h2.maxConcurrentStreams ?? H2_DEFAULT_STREAMS
  if (streams > 0) settings.maxConcurrentStreams = streams
  if (h2.headerTableSize !== undefined && h2.headerTableSize !== H2_DEFAULT_TABLE_SIZE) settings.headerTableSize = h2.headerTableSize
  if (h2.initialWindowSize !== undefined && h2.initialWindowSize !== DEFAULT_WINDOW) settings.initialWindowSize = h2.initialWindowSize
  const frame = Math.min(h2.maxFrameSize ?? H2_DEFAULT_FRAME_SIZE, g.bufsize ?? DEFAULT_BUFSIZE)
  if (frame > H2_DEFAULT_FRAME_SIZE) settings.maxFrameSize = frame
  return settings
}

/**
 * RFC 8441 extended CONNECT (`:method CONNECT` with `:protocol`) reaches the rules as HAProxy's
 * H2 mux hands it on: a GET with `Connection: upgrade` and `Upgrade: <protocol>`, forwarded as an
 * upgrade (the server's 101 becomes the stream's 200). A plain CONNECT gets node's 405.
 */
function extendedConnect (handler: Handler): Http2Handler {
  return (req, res) => {
    const protocol = req.headers[':protocol']
    if (typeof protocol !== 'string') {
      res.statusCode = 405
      res.end()
      return
    }
    ;(req as unknown as { method: string }).method = 'GET'
    req.headers.connection = 'upgrade'
    req.headers.upgrade = protocol
    // RFC 8441 §5: a WebSocket over HTTP/2 has no key; HAProxy makes one for the HTTP/1.1 server
    // (and checks the server's accept against it)
    if (/^websocket$/i.test(protocol) && req.headers['sec-websocket-key'] === undefined) req.headers['sec-websocket-key'] = randomBytes(16).toString('base64')
    ;(req as unknown as { [kUpgradeHead]?: Buffer })[kUpgradeHead] = Buffer.alloc(0)
    handler(req as unknown as IncomingMessage, res as unknown as ServerResponse)
  }
}

/** `bind … name <name>`: the accepted sockets carry it, for `so_name`. */
function nameSockets (server: Server, name: string): void {
  const tag = (s: Socket): void => { (s as Socket & { [kBindName]?: string })[kBindName] = name }
  server.on('connection', tag)
  server.on('secureConnection', tag)
}

/**
 * HTTP/2 servers have no `closeIdleConnections` (Fastify calls it when closing): sessions get
 * a GOAWAY and end once their streams are done; HTTP/1 connections of the same TLS bind end
 * once idle.
 */
function trackSessions (server: http2.Http2SecureServer | http2.Http2Server): void {
  const sessions = new Set<http2.ServerHttp2Session>()
  const sockets = new Set<Socket>()
  server.on('session', (session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  server.on('secureConnection', (socket: Socket & { alpnProtocol?: string | false }) => {
    if (socket.alpnProtocol === 'h2') return
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  Object.assign(server, {
    closeIdleConnections (): void {
      for (const s of sessions) s.close()
      for (const socket of sockets) {
        const active = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
        if (active == null) socket.end()
        else active.once('finish', () => socket.end())
      }
    }
  })
}

/**
 * A request head must fit in HAProxy's buffer (tune.bufsize less tune.maxrewrite), else 400 (node's
 * parser refuses it, clientErrorHandler answers). One header more than tune.http.maxhdr is let
 * through node's parser so that the gateway sees there are too many (and answers 400); node would
 * otherwise drop the extra ones silently.
 */
function limitRequests (server: Server, g: GlobalSettings): void {
  Object.assign(server, { maxHeaderSize: requestHeadLimit(g), maxHeadersCount: (g.maxhdr ?? DEFAULT_MAXHDR) + 1 })
}

/**
 * A client that half-closes after its request still gets the answer, and the connection closes
 * after it, as with HAProxy. node's default aborts the request on the client's FIN
 * (`httpAllowHalfOpen`, a property of node's http.Server it does not document).
 */
export function keepHalfOpen (server: Server): void {
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true
}

/** No complete request head within `timeout http-request`: HAProxy's 408, then close. */
function answer408 (socket: Socket): void {
  clientErrorHandler(Object.assign(new Error('timeout http-request'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket)
}

/** `option http-ignore-probes` (§4.2): a connection that sent nothing by then is closed without a 408. */
function closeProbeOr408 (socket: Socket): void {
  if (socket.bytesRead === 0) socket.destroy()
  else answer408(socket)
}

/** `option tcpka` / `clitcpka` (§4.2): SO_KEEPALIVE on the clients' connections, with the system's timers. */
function tcpKeepAlive (proxy: Proxy, server: { on (event: 'connection', cb: (s: Socket) => void): unknown }): void {
  if (proxy.options.tcpka === true || proxy.options.clitcpka === true) server.on('connection', (s) => { s.setKeepAlive(true) })
}

/** Malformed requests and `timeout http-request` get HAProxy's 400/408 pages instead of Fastify's JSON. */
function clientErrorHandler (err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) { socket.destroy(); return }
  // bytes that follow a request still being answered: HAProxy answers that request first, and
  // ignores what follows a request that closes the connection (h1_to_h1); node's parser would
  // have the 400 overtake the answer
  const answering = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  if (answering != null && !answering.writableFinished) {
    // a body the client's close cut short: HAProxy answers nothing of its own (CR, or CD once
    // forwarded), the request under way is aborted
    if (err.code === 'HPE_INVALID_EOF_STATE') {
      (answering as ServerResponse & { req?: IncomingMessage }).req?.destroy()
      return
    }
    if (answering.shouldKeepAlive) answering.once('finish', () => { clientErrorHandler(err, socket) })
    return
  }
  // Transfer-Encoding with Content-Length: served as HAProxy serves it, or its 400/422
  const verdict = resumeChunkedWithLength(err, socket)
  if (verdict === null) return
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : verdict ?? 400
  const page = parserErrorPage(status)
  // a request cut short by the client's close is the client's doing (CR), not a bad request
  if (err.code !== 'HPE_INVALID_EOF_STATE') markClientError(socket, status)
  let head = `HTTP/1.1 ${page.status} ${page.reason}\r\n`
  for (let i = 0; i < page.headers.length; i += 2) head += `${page.headers[i]}: ${page.headers[i + 1]}\r\n`
  socket.end(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), page.body]))
}

/**
 * A URL Fastify's router cannot decode (`/%zz`) is an ordinary request for HAProxy: it goes
 * through the frontend's rules and on to the server unchanged.
 */
function routeBadUrls (app: () => FastifyInstance) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const hook = (app() as FastifyInstance & { [kGatewayHook]?: onRequestHookHandler })[kGatewayHook]
    const refuse = (): void => { reply.code(400).send(err) }
    if (err.code !== 'FST_ERR_BAD_URL' || hook === undefined) return refuse()
    void hook.call(app(), request, reply, refuse)
  }
}

/**
 * `bind … accept-proxy` on an HTTP bind: the PROXY header is read before the TLS handshake or the
 * first request, within `timeout client`; a connection without one is logged and closed.
 */
function acceptProxyOn (server: Server, gateway: Gateway, proxy: Proxy, bindName: string): void {
  acceptProxy(server, proxy.timeouts.client ?? 0, (socket, message, accepted) => {
    gateway.frontend(proxy.name)?.log?.connectionError(socket, bindName, message, accepted)
  })
}

/** A `mode tcp` frontend or listen: a TCP listener on each of its binds (TLS deciphered first on `ssl` ones). */
async function listenTcp (gateway: Gateway, proxy: Proxy, config: ParsedConfig, log: GatewayLogger): Promise<Listener> {
  const tcp = new TcpListener(gateway, proxy.name)
  const tls = tlsTerminators(proxy, config)
  let sid = 0
  for (const [i, bind] of proxy.binds.entries()) {
    const secure = tls.find(t => t.bind === i)
    for (const { label, options } of listenTargets(bind, proxy, config)) {
      sid++
      try {
        const listener = { sid, name: bind.name, maxconn: bind.maxconn }
        const server = await tcp.listen(options, { name: bind.name ?? String(i + 1), acceptProxy: bind.acceptProxy === true, listener }, secure?.terminator ?? null)
        secure?.servers.push(server as unknown as Server)
      } catch (err) {
        tcp.close()
        throw new FST_HAPROXY_BIND_FAILED(`${proxy.kind} ${proxy.name}`, label, (err as Error).message)
      }
      log.info(`Proxy ${proxy.name} started on ${label}.`)
    }
  }
  return { proxy, app: null, tcp, extra: [], key: bindKey(proxy.binds), tls }
}

/** A TLS bind's recompiled setup, put on its running servers (new handshakes use it, open connections keep theirs). */
function applyToServers (t: Listener['tls'][number]): void {
  for (const server of t.servers) t.terminator.applyTo(server as unknown as tls.Server)
}

/** The TLS setup of each `ssl` bind of a section, its certificates read (a bind that cannot load them fails). */
function tlsTerminators (proxy: Proxy, config: ParsedConfig): Listener['tls'] {
  const tls: Listener['tls'] = []
  proxy.binds.forEach((bind, i) => {
    if (bind.tls === undefined) return
    try {
      tls.push({ bind: i, terminator: new TlsTerminator(bind.tls, config.global.tls, bind.proto === 'h2'), servers: [] })
    } catch (err) {
      throw new FST_HAPROXY_BIND_FAILED(`${proxy.kind} ${proxy.name}`, `${bind.host}:${bind.port}`, (err as Error).message)
    }
  })
  return tls
}

/**
 * Serves one section on its binds (the CLI's listeners; a plugin's `stats.listener: 'own'`).
 * `loggerInstance`: the embedding app's logger, for Fastify's own messages.
 */
export async function listen (gateway: Gateway, proxy: Proxy, config: ParsedConfig, quiet: boolean, log: GatewayLogger, loggerInstance?: FastifyBaseLogger): Promise<Listener> {
  if (isTcp(proxy)) return await listenTcp(gateway, proxy, config, log)
  const tls = tlsTerminators(proxy, config)
  const terminator = (i: number): TlsTerminator | null => tls.find(t => t.bind === i)?.terminator ?? null
  const first = proxy.binds[0]
  const settings = h2Settings(config.global)
  const h2Upgrade = proxy.options['disable-h2-upgrade'] !== true
  const ignoreProbes = proxy.options['http-ignore-probes'] === true
  let fastifyHandler: Handler | null = null
  const app: FastifyInstance = Fastify({
    frameworkErrors: routeBadUrls(() => app),
    // the gateway's own messages are plain lines (HAProxy's words); Fastify only reports errors,
    // on stderr: stdout carries the HAProxy lines only (`log stdout` access logs among them)
    ...(loggerInstance !== undefined ? { loggerInstance } : { logger: quiet ? false : { level: 'warn', stream: process.stderr } }),
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: (handler) => {
      fastifyHandler = handler as Handler
      return bindServer(first!, proxy.timeouts, fastifyHandler, terminator(0), settings, h2Upgrade, ignoreProbes)
    },
    clientErrorHandler,
    // requests that arrive while stopping are served (with `connection: close`), as in HAProxy
    return503OnClosing: false,
    forceCloseConnections: 'idle'
  })
  limitRequests(app.server, config.global)
  await app.register(haproxyRouter, { gateway, frontend: proxy.name, defaultBackend: 'always', hook: 'onRequest' })
  await app.ready()
  tcpKeepAlive(proxy, app.server)
  const extra: Server[] = []
  let isFirst = true
  let sid = 0
  for (const [i, bind] of proxy.binds.entries()) {
    const bindName = bind.name ?? String(i + 1)
    for (const { label, options } of listenTargets(bind, proxy, config)) {
      sid++
      try {
        if (isFirst) {
          if (bind.acceptProxy === true) acceptProxyOn(app.server, gateway, proxy, bindName)
          // an fd has no host: Fastify's default ('localhost') would add a second, IPv6, listener
          await app.listen('fd' in options ? { ...options, host: '0.0.0.0' } as { host: string } : options)
          tls.find(t => t.bind === i)?.servers.push(app.server)
          isFirst = false
          log.info(`Proxy ${proxy.name} started on ${label}.`)
          continue
        }
        const server = bindServer(bind, proxy.timeouts, fastifyHandler!, terminator(i), settings, h2Upgrade, ignoreProbes)
        if (bind.acceptProxy === true) acceptProxyOn(server, gateway, proxy, bindName)
        tcpKeepAlive(proxy, server)
        tls.find(t => t.bind === i)?.servers.push(server)
        server.on('clientError', clientErrorHandler)
        limitRequests(server, config.global)
        for (const l of app.server.listeners('upgrade')) server.on('upgrade', l as (...a: unknown[]) => void)
        countConnections(gateway, proxy.name, server, bindName, { sid, name: bind.name, maxconn: bind.maxconn })
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(options, () => { server.off('error', reject); resolve() })
        })
        extra.push(server)
        log.info(`Proxy ${proxy.name} started on ${label}.`)
      } catch (err) {
        await app.close()
        for (const s of extra) s.close()
        throw new FST_HAPROXY_BIND_FAILED(`${proxy.kind} ${proxy.name}`, label, (err as Error).message)
      }
    }
  }
  return { proxy, app, tcp: null, extra, key: bindKey(proxy.binds), tls }
}

/** Stops accepting, lets requests under way finish (idle keep-alive connections are closed). */
export async function stop (l: Listener): Promise<void> {
  const extra = l.extra.map(async (s) => {
    const closed = new Promise<void>(resolve => s.close(() => resolve()))
    s.closeIdleConnections()
    await closed
  })
  if (l.tcp !== null) l.tcp.close()
  await Promise.all([l.app?.close(), ...extra])
}

/**
 * `hard-stop-after` (§3.1): the soft stop lasted too long, the client connections left are cut, a
 * request waiting for its server answered 502 (`KH`) as `shutdown session` does; HAProxy's words.
 */
function hardStop (gateway: Gateway, log: GatewayLogger): void {
  log.warn('soft-stop running for too long, performing a hard-stop.')
  const left = gateway.sessions.clients()
  const perFrontend = new Map<string, number>()
  for (const s of left) perFrontend.set(s.frontend, (perFrontend.get(s.frontend) ?? 0) + 1)
  for (const [name, n] of perFrontend) log.warn(`Proxy ${name} hard-stopped (${n} remaining conns will be closed).`)
  for (const s of left) if (s.kill?.('hard-stop-after: the soft stop lasted too long') !== true) s.socket.destroy()
}

/** Prints the configuration's messages; `text` is all of them, as `show startup-logs` answers. */
function printDiagnostics (config: ParsedConfig, quiet: boolean, zeroWarning: boolean): { ok: boolean, text: string } {
  const diagnostics = checkConfig(config)
  let ok = true
  let text = ''
  for (const d of diagnostics) {
    if (d.level === 'alert') ok = false
    const line = formatDiagnostic(d, process.pid) + '\n'
    text += line
    if (d.level === 'alert' || !quiet) process.stderr.write(line)
  }
  if (ok && zeroWarning && diagnostics.some(fatalUnderZeroWarning)) {
    process.stderr.write(formatDiagnostic({ level: 'alert', message: "Some warnings were found and 'zero-warning' is set. Aborting." }, process.pid) + '\n')
    return { ok: false, text }
  }
  return { ok, text }
}

function servedProxies (config: ParsedConfig): Proxy[] {
  return config.proxies.filter(p => p.kind !== 'backend' && !p.disabled && p.binds.length > 0)
}

const isTcp = (p: Proxy): boolean => p.mode === 'tcp' && p.modeExplicit

/**
 * Serves a configuration until SIGTERM/SIGINT/SIGUSR1, which soft-stop it as HAProxy's SIGUSR1 does
 * (lib/soft-stop.ts: requests under way and already received are served, then exit 0).
 * SIGHUP and SIGUSR2 reload it; a configuration with alerts is refused and the old one serves on.
 * Resolves with the signal that stopped it.
 */
export async function runGateway (files: string[], opts: GatewayRunOptions = {}): Promise<NodeJS.Signals | null> {
  let config = loadConfig(files, { modeless: 'tcp' })
  // the global `quiet` / `zero-warning` keywords act like -q / -dW (§3.1)
  const quiet = opts.quiet === true || config.global.quiet === true
  const zeroWarning = opts.zeroWarning === true || config.global.zeroWarning === true
  const log: GatewayLogger = quiet
    ? { info () {}, warn () {}, error: (m) => { process.stderr.write(m + '\n') } }
    : { info: (m) => { process.stdout.write(m + '\n') }, warn: (m) => { process.stdout.write(m + '\n') }, error: (m) => { process.stderr.write(m + '\n') } }

  const startup = printDiagnostics(config, quiet, zeroWarning)
  if (!startup.ok) throw new Error('Fatal errors found in configuration.')
  const gateway = new Gateway(config, log)
  gateway.startupLogs = startup.text
  // the runtime API: its sockets are those of the first configuration (as HAProxy's are kept across
  // reloads), open before the binds, so that a client who finds a bind answering finds them too
  const runtimeSocket = new RuntimeSocket(gateway, config.global.stats.sockets, config.global.stats.timeout, false, config.global.stats.maxconn)
  const masterSocket = new RuntimeSocket(gateway, opts.masterCli === undefined ? [] : [masterCliSocket(opts.masterCli)], undefined, true)
  const listeners = new Map<string, Listener>()
  /** A start that fails closes what it opened. */
  const abandon = async (): Promise<void> => {
    await Promise.all([...listeners.values()].map(stop))
    await runtimeSocket.close()
    await masterSocket.close()
    await gateway.close()
  }
  try {
    await runtimeSocket.start()
    await masterSocket.start()
  } catch (err) {
    await abandon()
    throw err
  }
  const tlsBinds = (): Listener['tls'] => [...listeners.values()].flatMap(l => l.tls)
  gateway.certificateSource = () => tlsBinds().flatMap(t => t.terminator.certificates)
  gateway.certificateReplacer = (cert) => {
    let uses = 0
    for (const t of tlsBinds()) {
      const n = t.terminator.replace(cert)
      if (n > 0) applyToServers(t)
      uses += n
    }
    return uses
  }
  gateway.crtListEditor = (list, entries, certs) => {
    for (const t of tlsBinds()) if (t.terminator.editCrtList(list, entries, certs)) applyToServers(t)
  }
  try {
    let conflictHandled = false
    for (const proxy of servedProxies(config)) {
      for (let attempt = 0; ; attempt++) {
        try {
          listeners.set(proxy.name, await listen(gateway, proxy, config, quiet, log))
          break
        } catch (err) {
          // `-sf`/`-st` without SO_REUSEPORT (node 20): the old process is asked to stop
          // listening first, then the address is tried again while it lets go of it
          if (opts.addressInUse === undefined || !/EADDRINUSE/.test((err as Error).message) || attempt >= BIND_RETRIES) throw err
          if (!conflictHandled) { conflictHandled = true; opts.addressInUse() }
          await new Promise(resolve => setTimeout(resolve, BIND_RETRY_MS))
        }
      }
    }
  } catch (err) {
    await abandon()
    throw err
  }
  let forwarders: LogForwarder[]
  try {
    forwarders = await startLogForwarders(config, gateway.logSinks)
  } catch (err) {
    await abandon()
    throw err
  }
  gateway.start()

  let reloading = Promise.resolve()
  const reload = async (): Promise<void> => {
    let next: ParsedConfig
    try {
      next = loadConfig(files, { modeless: 'tcp' })
      if (!printDiagnostics(next, quiet, zeroWarning).ok) {
        log.error('Reload refused: the new configuration has errors; the current one keeps serving.')
        return
      }
      servedProxies(next)
    } catch (err) {
      log.error(`Reload refused: ${(err as Error).message}`)
      return
    }
    await gateway.reload(next)
    config = next
    // the log-forward sections of the new configuration replace the old ones (their addresses may be the same)
    await Promise.all(forwarders.map(f => f.close()))
    try {
      forwarders = await startLogForwarders(next, gateway.logSinks)
    } catch (err) {
      forwarders = []
      log.error(`log-forward sections not started: ${(err as Error).message}`)
    }
    const wanted = new Map(servedProxies(next).map(p => [p.name, p]))
    // the crt-lists are read from their files again, forgetting `add|del ssl crt-list`
    gateway.certificateStore.crtLists.clear()
    for (const [name, l] of listeners) {
      const p = wanted.get(name)
      if (p === undefined || bindKey(p.binds) !== l.key) { listeners.delete(name); await stop(l); continue }
      // same binds: certificates are read again (a renewed PEM), open connections keep theirs
      for (const t of l.tls) {
        try {
          t.terminator.compile(p.binds[t.bind]!.tls!, next.global.tls)
          applyToServers(t)
        } catch (err) {
          log.error(`${p.kind} '${p.name}': certificates of 'bind ${p.binds[t.bind]!.host}:${p.binds[t.bind]!.port}' not reloaded: ${(err as Error).message}`)
        }
      }
    }
    for (const [name, p] of wanted) {
      if (!listeners.has(name)) listeners.set(name, await listen(gateway, p, next, quiet, log))
    }
    log.info('Configuration reloaded.')
  }

  const stopped = new Promise<NodeJS.Signals | null>((resolve) => {
    let stopping = false
    let graceTimer: NodeJS.Timeout | null = null
    const shutdown = (signal: NodeJS.Signals): void => {
      // SIGTERM or SIGINT during the grace period: the stop begins now
      if (graceTimer !== null && signal !== 'SIGUSR1') {
        clearTimeout(graceTimer)
        graceTimer = null
        beginStop(signal)
        return
      }
      if (stopping) return
      stopping = true
      process.off('SIGHUP', onReload)
      process.off('SIGUSR2', onReload)
      // `grace` (§3.1): the soft stop (SIGUSR1) begins that much later, the listeners serving until then
      const grace = signal === 'SIGUSR1' ? config.global.grace ?? 0 : 0
      if (grace === 0) { beginStop(signal); return }
      log.info(`Scheduling a soft-stop in ${grace} ms.`)
      graceTimer = setTimeout(() => {
        graceTimer = null
        log.info('Grace period expired, proceeding with soft-stop now.')
        beginStop(signal)
      }, grace)
    }
    const beginStop = (signal: NodeJS.Signals): void => {
      gateway.closeTunnels()
      const hardStopAfter = config.global.hardStopAfter
      if (hardStopAfter !== undefined) setTimeout(() => { hardStop(gateway, log) }, hardStopAfter).unref()
      // TCP connections have no request boundary to finish at: they are cut (HAProxy's hard stop)
      for (const l of listeners.values()) l.tcp?.closeAll()
      void Promise.all([...listeners.values()].map(stop).concat(runtimeSocket.close(), masterSocket.close(), ...forwarders.map(f => f.close())))
        .then(() => gateway.close())
        .finally(() => resolve(signal))
    }
    const onReload = (): void => { reloading = reloading.then(reload, reload) }
    process.on('SIGTERM', shutdown)
    process.on('SIGUSR1', shutdown)
    process.on('SIGINT', shutdown)
    process.on('SIGHUP', onReload)
    process.on('SIGUSR2', onReload)
  })
  // after the handlers: a reload asked as soon as the pid file exists must not kill the process
  await opts.ready?.()
  return await stopped
}
