// The Fastify plugin: one frontend's rules over every request of the app, and the runtime
// (backends, pools, health checks, counters) behind it.
//
// Routing mechanism: a global onRequest hook (the plugin is fastify-plugin'd). Fastify has already
// matched a route when onRequest runs and has not touched the body yet, so the hook
//   1. runs the frontend's http-request rules (deny/return/redirect/auth answer at once),
//   2. runs its use_backend rules: a match hijacks the reply and forwards the raw request, even
//      when the app has a route for that URL (the gateway decides first);
//   3. otherwise lets the app's route serve it, and forwards to default_backend only what no app
//      route matched (`request.is404`) — or everything, with `defaultBackend: 'always'`.
// No route is added for proxied traffic, so nothing clashes with the app's `/*`, its content-type
// parsers or its 404 handler, and bodies are streamed to the server unparsed.

import { readFileSync } from 'node:fs'
import { ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { availableParallelism } from 'node:os'
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http'
import { Server as TlsServer, type TLSSocket } from 'node:tls'
import type { Socket } from 'node:net'
import type { Http2Session } from 'node:http2'
import fp from 'fastify-plugin'
import Fastify from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { DEFAULT_BUFSIZE, DEFAULT_MAXHDR, requestHeadLimit } from './config/model.js'
import type { ParsedConfig, Proxy, StatsSocket } from './config/model.js'
import type { Decision, HttpTxn } from './acl/txn.js'
import { parseConfig, loadConfig } from './config/parse.js'
import { formatDiagnostic } from './config/diagnostics.js'
import { checkConfig } from './check.js'
import { compileProxy } from './acl/compile.js'
import type { CompiledProxy, RuntimeHooks } from './acl/compile.js'
import { StickTables } from './runtime/stick-table.js'
import { endTracking, inherit, trackConnection } from './acl/stick-counters.js'
import { keepConnectionAddresses } from './acl/addresses.js'
import { Backend, fullconnOf, routedMaxconns, type ServerRuntime } from './runtime/backend.js'
import { HealthChecker } from './runtime/health.js'
import { BodyReader, bodyOf, waitForBody } from './runtime/request-body.js'
import type { BackendView, ServerAdminState } from './runtime/state.js'
import { type ListenerCounters, type ListenerSpec, countFront, socketStatsListener } from './runtime/listener.js'
import {
  BackendRoute, Exchange, connectionTxn, AddressHeaderRule, FrontendCounters, answer, badHost, badTarget, badWebSocket, hostlessWarning, makeTxn, pageFor, requestHeadBytes, writeHead, writePage
} from './runtime/forward.js'
import type { FrontendRoute, ProxiedRoute, RequestRoute } from './runtime/forward.js'
import { Caches } from './runtime/cache.js'
import { answerFromCache } from './runtime/cache-answer.js'
import type { Listener } from './serve.js'
import type { StatsModel } from './stats/model.js'
import { StatsMount } from './stats/mount.js'
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './stats/prometheus.js'
import { serverAdminHandler } from './stats/admin.js'
import {
  ErrorPages, FST_HAPROXY_ALREADY_REGISTERED, FST_HAPROXY_BAD_OPTION, FST_HAPROXY_FRONTEND_AMBIGUOUS,
  FST_HAPROXY_FRONTEND_NOT_FOUND, FST_HAPROXY_MODE_TCP, FST_HAPROXY_NO_CONFIG, FST_HAPROXY_NO_FRONTEND,
  FST_HAPROXY_RELOAD_NO_FILE, FST_HAPROXY_RUNTIME_COMMAND, FST_HAPROXY_UNKNOWN_BACKEND, FST_HAPROXY_UNKNOWN_SERVER, configInvalid, htxResponseBytes, parserErrorPage
} from './errors.js'
import { softStop } from './soft-stop.js'
import { kBenchNoHeaderMerge, kGatewayHook, kUpgradeHead } from './symbols.js'
import { screenedRequest } from './h2-screen.js'
import { transferCodings } from './transfer-encoding.js'
import { restoreFields, restrictHeaderNames } from './acl/headers.js'
import { isAmbiguousPath, routerPathOptions, routerViews } from './runtime/router-view.js'
import type { RouterPathOptions } from './runtime/router-view.js'
import { AccessLog, LogTargets, markRequested, requestlessEnd, stampHandshake, watchHttp2Session } from './log/logger.js'
import { LogSinks } from './log/targets.js'
import type { ConnectionCounts } from './log/format.js'
import type { LogRecord } from './log/record.js'
import { LOG_ERR } from './log/syslog.js'
import { FileCache } from './acl/maps.js'
import type { PatternRef, PatternRefs } from './acl/pattern-refs.js'
import { runCommand, splitLine, type CliRuntime, type CliSession, type Level } from './socket/commands.js'
import { RuntimeSocket } from './socket/server.js'
import { CertificateStore } from './socket/ssl-certs.js'
import type { LoadedCertificate } from './tls.js'
import type { CrtListEntry } from './config/crt-list.js'
import { type InfoSource, INFO_VERSION } from './socket/info.js'
import { loadServerStates } from './socket/state-file.js'
import { ServiceDiscovery } from './runtime/discovery.js'
import type { NameServers } from './runtime/nameservers.js'
import { SessionRegistry } from './runtime/sessions.js'
import { AcceptGate } from './runtime/accept-gate.js'
import type { CookieRule } from './runtime/persistence.js'
import { watchAfterResponse, type AfterResponse } from './runtime/after-response.js'
import { carryAppHeaders, holdAppHeaders } from './runtime/app-headers.js'
import { captureRequest } from './acl/captures.js'
import { setGlobalVars } from './acl/global-vars.js'
import { explain, renderExplanation, type ExplainRequest, type Explanation } from './explain.js'
import { CompressionRule, DEFAULT_COMP_LEVEL } from './runtime/compression.js'

export interface HaproxyRouterOptions {
  /** haproxy.cfg text, or a config already parsed with `parseConfig` / `loadConfig`. */
  config?: string | ParsedConfig
  /** Path(s) of haproxy.cfg; several files are read as one, as `haproxy -f a -f b`. */
  configFile?: string | string[]
  /** The frontend or listen section whose rules apply; default: the only one that routes. */
  frontend?: string
  /**
   * `'fallback'` (default): app routes first, default_backend gets what no app route matches.
   * `'always'`: pure HAProxy, default_backend gets everything no use_backend rule took.
   */
  defaultBackend?: 'fallback' | 'always'
  /**
   * Where the gateway decides among the app's hooks. `'preParsing'` (default): after every
   * onRequest hook of the app, the encapsulated plugin's whose route matched included (the app
   * first); `'onRequest'`: in its own onRequest hook, where the plugin is registered (HAProxy first).
   */
  hook?: 'onRequest' | 'preParsing'
  /** The config's stats pages. */
  stats?: {
    /** `'app'` (default): served on the app's port; `'own'`: each stats section on its own `bind` lines. */
    listener?: 'app' | 'own'
    /** On the app's port, stats requests go through the app's hooks too (default: through none). */
    appHooks?: boolean
  }
  /** Share a runtime built elsewhere (the CLI runs one per config for all its frontends). */
  gateway?: Gateway
  /**
   * Serve the runtime API on the config's `stats socket` lines (`true`), or on these sockets.
   * Off by default: an embedded gateway leaves its sockets to the app.
   */
  runtimeSocket?: boolean | StatsSocket[]
  /**
   * Where each request's HAProxy log line goes besides the config's `log` targets:
   * `'auto'` (default): to the request's logger (`request.log.info`) when the frontend has no
   * `log` target; `'always'`: there too; `'never'`: only to the config's targets.
   */
  requestLog?: 'auto' | 'always' | 'never'
}

/** Minimal pino-like logger (Fastify's logger fits). */
export interface GatewayLogger {
  info (msg: string): void
  warn (msg: string): void
  error (msg: string): void
}

/** `app.haproxy`: the runtime handle. */
export interface HaproxyHandle {
  readonly config: ParsedConfig
  /** Name of the frontend (or listen) whose rules this registration applies. */
  readonly frontend: string
  /** Live state of every backend and its servers, in config order. */
  readonly backends: readonly BackendView[]
  backend (name: string): BackendView | undefined
  setServerState (backend: string, server: string, state: ServerAdminState): void
  setServerWeight (backend: string, server: string, weight: number): void
  enableHealth (backend: string, server: string): void
  disableHealth (backend: string, server: string): void
  /**
   * New configuration without dropping in-flight requests; unchanged backends keep their state.
   * Without an argument, the `configFile` of the registration is read again.
   */
  reload (config?: string | ParsedConfig): Promise<void>
  /** The model the stats renderers read. */
  stats (): StatsModel
  /**
   * Runs runtime API commands (`show stat`, `set server be/s state drain`, `add map …`, several
   * separated by `;`) as the stats socket would, at `level` (default admin); returns its answer text.
   */
  command (line: string, level?: Level): string
  getServerWeight (backend: string, server: string): { current: number, initial: number }
  /** Moves a server (`set server addr`): new requests go there, those under way finish. */
  setServerAddress (backend: string, server: string, host: string, port?: number): void
  setServerMaxconn (backend: string, server: string, maxconn: number): void
  /** Forces the result of a checked server's health checks (`set server health`). */
  setServerHealth (backend: string, server: string, health: 'up' | 'down'): void
  /** `add server` (2.6 rules): the server joins in maintenance; `setServerState(…, 'ready')` enables it. */
  addServer (backend: string, server: string, address: string, options?: { weight?: number, maxconn?: number, backup?: boolean }): void
  /** `del server`: only a server in maintenance with nothing under way. */
  deleteServer (backend: string, server: string): void
  /** A map or pattern file the configuration reads (by path, or `#id`): changes apply to the next request. */
  patterns (kind: 'map' | 'acl', file: string): PatternRef
  /** Runs a request through the rules without sending it: each ACL and rule met, the backend, the server. */
  explain (request: ExplainRequest): Explanation
}

declare module 'fastify' {
  interface FastifyInstance {
    haproxy: HaproxyHandle
  }
  interface FastifyRequest {
    /** Set for every request the gateway saw: where it went (backend/server null when the app served it). */
    haproxy: RequestRoute | null
  }
}

// ---------------------------------------------------------------------------------------------
// The runtime

interface FrontendState {
  readonly route: FrontendRoute
  /** default_backend, or the listen itself; null = 503 */
  readonly defaultRoute: BackendRoute | null
  /** Its access log, null when its lines go nowhere. */
  readonly log: AccessLog | null
  /** Lines also go to the request's logger. */
  readonly toRequest: boolean
  /** `tune.http.maxhdr` as a length of node's rawHeaders (name and value per header). */
  readonly maxRawHeaders: number
  /** Its responses go through http-after-response rules: its own, or those of a backend. */
  readonly afterResponse: boolean
}

/** A `mode tcp` frontend or listen as lib/tcp serves it. */
export interface TcpFrontendState {
  readonly proxy: Proxy
  readonly counters: FrontendCounters
  /** Its tcp-request rules and use_backend/default_backend switching. */
  readonly rules: CompiledProxy
  /** A listen section's own servers, when no rule picked a backend. */
  readonly ownBackend: BackendRoute | null
  /** Some backend has `tcp-request content` rules: the data they may read is inspected first. */
  readonly backendContentRules: boolean
  /** Its session log, null when it has no `log` target. */
  readonly log: AccessLog | null
}

interface Runtime {
  readonly config: ParsedConfig
  readonly frontends: Map<string, FrontendState>
  readonly tcpFrontends: Map<string, TcpFrontendState>
  /** The compiled `tcp-request content` and `tcp-response content` rules of `mode tcp` backends that have some. */
  readonly tcpBackendRules: Map<string, CompiledProxy>
  readonly backends: Map<string, BackendRoute>
  readonly health: HealthChecker
  readonly hooks: RuntimeHooks
  readonly tables: StickTables
  /** The `cache` sections' objects (`show cache`). */
  readonly caches: Caches
  /** Map and pattern files of this configuration, changed by the runtime API. */
  readonly files: FileCache
  /** Servers resolved again while running (`resolvers` sections). */
  readonly discovery: ServiceDiscovery
}

/** `option http-restrict-req-hdr-names reject` answers as `http-request deny` does (observed on 2.6.12: 403, `dreq`, PR). */
const RESTRICTED_HEADER_NAME: Decision = { kind: 'deny', status: 403 }

/** `option http-restrict-req-hdr-names`, once the proxy's http-request rules let the request through. */
function restricted (txn: HttpTxn, p: Proxy): Decision | null {
  return p.restrictHeaderNames === undefined || restrictHeaderNames(txn.headers, p.restrictHeaderNames) ? null : RESTRICTED_HEADER_NAME
}

/** A proxy's settings without locations, to tell whether a reload changed it. */
function fingerprint (proxy: Proxy): string {
  return JSON.stringify(proxy, (key, value: unknown) => key === 'loc' ? undefined : value)
}

/** Frontends and listens that route requests (a stats-only listen does not). */
export function routingProxies (config: ParsedConfig): Proxy[] {
  return config.proxies.filter(p => p.kind !== 'backend' && !p.disabled && !(p.mode === 'tcp' && p.modeExplicit) && (
    p.useBackends.length > 0 || p.defaultBackend !== null || p.httpRequest.length > 0 ||
    p.redirects.length > 0 || (p.kind === 'listen' && p.servers.length > 0)))
}

/** Throws the catalogue's error for a proxy HAProxy would run in TCP mode, if `mode tcp` was written. */
export function assertHttp (proxy: Proxy): void {
  if (proxy.mode === 'tcp' && proxy.modeExplicit) throw new FST_HAPROXY_MODE_TCP(proxy.kind, proxy.name)
}

/**
 * Loads, checks and compiles a configuration, and owns what it runs: backends with their pools,
 * the health checker, frontend counters. Shared by every Fastify instance that serves it.
 */
export class Gateway implements CliRuntime {
  readonly startedAt = Date.now()
  private rt: Runtime
  private readonly counters = new Map<string, FrontendCounters>()
  private readonly reloadListeners = new Set<() => Promise<void>>()
  private started = false
  /** Frontends stopped by `disable frontend`: their listeners drop new connections. */
  private readonly stoppedFrontends = new Set<string>()
  /** `set maxconn global`; null = from the configuration. */
  private globalMaxconn: number | null = null
  /** Log destinations (sockets), shared by every proxy and kept across reloads. */
  readonly logSinks = new LogSinks()
  readonly cliSockets: Array<{ address: string, level: Level }> = []
  /** Set by the CLI once the configuration's messages are printed. */
  startupLogs = ''
  /** The certificates of the TLS binds being served; set by the CLI, whose listeners hold them. */
  certificateSource: () => LoadedCertificate[] = () => []
  /** Puts a committed certificate in the TLS binds using its file; set by the CLI with `certificateSource`. */
  certificateReplacer: (cert: LoadedCertificate) => number = () => 0
  /** Makes the TLS binds using a crt-list serve the given lines; set by the CLI with `certificateSource`. */
  crtListEditor: (list: string, entries: CrtListEntry[], certs: LoadedCertificate[]) => void = () => {}
  /** `maxconnrate` and the other accept rate limits (`set rate-limit`). */
  readonly acceptGate = new AcceptGate()
  /** The connections `show sess` lists. */
  readonly sessions = new SessionRegistry()
  /** `new|set|commit ssl cert`'s transaction and created files. */
  readonly certificateStore = new CertificateStore()

  constructor (config: ParsedConfig, private readonly log: GatewayLogger, private readonly requestLog: 'auto' | 'always' | 'never' = 'never') {
    this.rt = this.build(config, null)
    const hostless = hostlessWarning()
    if (hostless !== null) log.warn(hostless)
  }

  /** Parses (if needed) and checks a configuration: alerts throw one error carrying the list, warnings are logged. */
  static prepare (input: string | ParsedConfig, log: GatewayLogger, filename?: string): ParsedConfig {
    const config = typeof input === 'string'
      ? parseConfig(input, filename === undefined ? {} : { filename })
      : input
    const diagnostics = checkConfig(config)
    if (diagnostics.some(d => d.level === 'alert')) throw configInvalid(diagnostics)
    for (const d of diagnostics) {
      if (d.level === 'warning') log.warn(formatDiagnostic(d, process.pid))
    }
    return config
  }

  get config (): ParsedConfig { return this.rt.config }

  frontend (name: string): FrontendState | undefined { return this.rt.frontends.get(name) }

  /** A `mode tcp` frontend or listen of the live configuration (lib/tcp serves it). */
  tcpFrontend (name: string): TcpFrontendState | undefined { return this.rt.tcpFrontends.get(name) }

  /** A `mode tcp` backend's `tcp-request content` rules, null when it has none. */
  tcpBackendRules (name: string): CompiledProxy | null { return this.rt.tcpBackendRules.get(name) ?? null }
  /** The stick tables of the running configuration (`show table`, `clear table`, `set table`). */
  get stickTables (): StickTables { return this.rt.tables }

  get caches (): Caches { return this.rt.caches }

  /** Compiles a proxy's rules against the live backends (`nbsrv`, `srv_is_up`), e.g. its stats rules. */
  compile (proxy: Proxy): CompiledProxy { return compileProxy(proxy, this.rt.config, this.rt.hooks, this.rt.files) }

  backendRoute (name: string): BackendRoute | undefined { return this.rt.backends.get(name) }

  /** A frontend's or listen's counters (kept across reloads). */
  sectionCounters (name: string): FrontendCounters | undefined { return this.counters.get(name) }

  /** Runs `fn` after each reload (the plugin re-mounts its stats pages); returns the unsubscribe. */
  onReload (fn: () => Promise<void>): () => void {
    this.reloadListeners.add(fn)
    return () => { this.reloadListeners.delete(fn) }
  }

  start (): void {
    if (this.started) return
    this.started = true
    this.rt.health.start()
    this.rt.discovery.start()
  }

  /** Cuts open WebSocket tunnels (they would hold a graceful close open until `timeout tunnel`). */
  closeTunnels (): void {
    for (const b of this.rt.backends.values()) b.closeTunnels()
  }

  async close (): Promise<void> {
    this.closeTunnels()
    this.rt.health.stop()
    this.rt.discovery.stop()
    await Promise.all([...this.rt.backends.values()].map(b => b.close()))
    this.logSinks.close()
  }

  /** Swaps in a new configuration; requests under way finish on the old pools. */
  async reload (config: ParsedConfig): Promise<void> {
    const old = this.rt
    const next = this.build(config, old)
    this.rt = next
    old.health.stop()
    old.discovery.stop()
    if (this.started) {
      next.health.start()
      next.discovery.start()
    }
    const kept = new Set(next.backends.values())
    await Promise.all([...old.backends.values()].filter(b => !kept.has(b)).map(b => b.close()))
    await Promise.all([...this.reloadListeners].map(fn => fn()))
  }

  private build (config: ParsedConfig, prev: Runtime | null): Runtime {
    setGlobalVars(config)
    const g = config.global
    this.acceptGate.configure({ connections: g.maxconnrate, sessions: g.maxsessrate, 'ssl-sessions': g.maxsslrate })
    const backends = new Map<string, BackendRoute>()
    // live backend state for `nbsrv(be)` / `srv_is_up(be/srv)`: this runtime's own backends
    const tables = new StickTables(config.proxies)
    const caches = new Caches(config.caches)
    const hooks: RuntimeHooks = {
      backend: (name) => backends.get(name)?.backend,
      tables,
      caches,
      counters: (proxy) => proxy.kind === 'backend' ? backends.get(proxy.name)?.backend.counters : this.counters.get(proxy.name)?.counters
    }
    const files = new FileCache()
    for (const proxy of config.proxies) {
      if (proxy.kind === 'frontend' || proxy.disabled) continue
      const old = prev?.backends.get(proxy.name)
      // a backend with `stick` rules is made again: its rules write to this runtime's new tables
      if (old !== undefined && fingerprint(old.proxy) === fingerprint(proxy) && proxy.stickRules.length === 0) {
        backends.set(proxy.name, old)
        continue
      }
      const rules = proxy.kind === 'backend' && (proxy.httpRequest.length > 0 || proxy.tcpRequestContent.length > 0 || proxy.httpResponse.length > 0 || proxy.tcpResponseContent.length > 0 || proxy.httpAfterResponse.length > 0)
        ? compileProxy(proxy, config, hooks, files)
        : null
      const targets = new LogTargets(LogTargets.of(proxy, config), config, proxy.logTag ?? config.global.logTag ?? 'haproxy', this.logSinks)
      const backend = new Backend(proxy, { log: this.log, ...(targets.empty ? {} : { syslog: (level: number, msg: string) => { targets.send(level, msg) } }) })
      // a changed backend: its servers that stayed (same name and address) keep their health
      if (old !== undefined) backend.adoptHealth(old.backend)
      // a listen's rules are its frontend's: its stick rules are compiled for its backend side here
      const stick = proxy.stickRules.length === 0 ? null : (rules ?? compileProxy(proxy, config, hooks, files)).stick
      backends.set(proxy.name, new BackendRoute(proxy, backend, rules, new ErrorPages(proxy, config), requestHeadLimit(config.global), stick, config.global.compMaxLevel))
    }
    const frontends = new Map<string, FrontendState>()
    const tcpFrontends = new Map<string, TcpFrontendState>()
    const tcpBackendRules = new Map<string, CompiledProxy>()
    let backendContentRules = false
    for (const proxy of config.proxies) {
      if (proxy.kind !== 'backend' || proxy.disabled || proxy.mode !== 'tcp') continue
      if (proxy.tcpRequestContent.length > 0) backendContentRules = true
      if (proxy.tcpRequestContent.length > 0 || proxy.tcpResponseContent.length > 0) tcpBackendRules.set(proxy.name, compileProxy(proxy, config, hooks))
    }
    const globalMaxconn = config.global.maxconn ?? defaultMaxconn(config)
    const backendAfterResponse = config.proxies.some(p => p.kind === 'backend' && !p.disabled && p.httpAfterResponse.length > 0)
    for (const proxy of config.proxies) {
      if (proxy.kind === 'backend' || proxy.disabled) continue
      const maxconn = proxy.maxconn ?? globalMaxconn
      let counters = this.counters.get(proxy.name)
      if (counters === undefined) {
        counters = new FrontendCounters(proxy.name, proxy.id, maxconn)
        this.counters.set(proxy.name, counters)
      }
      counters.maxconn = maxconn
      if (proxy.mode === 'tcp' && proxy.modeExplicit) {
        const ownBackend = proxy.kind === 'listen' ? backends.get(proxy.name) ?? null : null
        const targets = new LogTargets(LogTargets.of(proxy, config), config, proxy.logTag ?? config.global.logTag ?? 'haproxy', this.logSinks)
        const log = targets.empty ? null : new AccessLog(proxy, config, targets, connectionCounts(counters, backends), false, tables)
        tcpFrontends.set(proxy.name, { proxy, counters, rules: compileProxy(proxy, config, hooks), ownBackend, backendContentRules, log })
        continue
      }
      // default_backend is applied here, not by the compiled switching rules, so that the plugin
      // can tell "a use_backend rule matched" from "nothing matched" (app routes come between)
      const rules = compileProxy({ ...proxy, defaultBackend: null }, config, hooks, files)
      const buffer = { size: config.global.bufsize ?? DEFAULT_BUFSIZE, filled: requestHeadLimit(config.global) }
      const defaultName = proxy.defaultBackend?.name ?? (proxy.kind === 'listen' ? proxy.name : null)
      const targets = new LogTargets(LogTargets.of(proxy, config), config, proxy.logTag ?? config.global.logTag ?? 'haproxy', this.logSinks)
      const toRequest = this.requestLog === 'always' || (this.requestLog === 'auto' && targets.empty)
      frontends.set(proxy.name, {
        route: { proxy, counters, pages: new ErrorPages(proxy, config), forwardFor: proxy.forwardFor === null ? null : new AddressHeaderRule(proxy.forwardFor, 'src'), originalTo: proxy.originalTo === null ? null : new AddressHeaderRule(proxy.originalTo, 'dst'), rules, buffer, compression: CompressionRule.of(proxy.compression, undefined, config.global.compMaxLevel ?? DEFAULT_COMP_LEVEL) },
        defaultRoute: defaultName === null ? null : backends.get(defaultName) ?? null,
        // unique ids are made by the access log, which then may have nowhere to write
        log: targets.empty && !toRequest && proxy.uniqueIdFormat === null ? null : new AccessLog(proxy, config, targets, connectionCounts(counters, backends), toRequest, tables),
        toRequest,
        maxRawHeaders: 2 * (config.global.maxhdr ?? DEFAULT_MAXHDR),
        afterResponse: backendAfterResponse || rules.afterResponseRules !== null
      })
    }
    const sums = routedMaxconns(config.proxies.filter(p => p.kind !== 'backend' && !p.disabled).map(p => ({ proxy: p, maxconn: p.maxconn ?? globalMaxconn })))
    for (const route of backends.values()) route.backend.fullconn = fullconnOf(route.proxy, sums)
    loadServerStates(config, [...backends.values()].filter(b => !prev?.backends.has(b.name) || prev.backends.get(b.name) !== b).map(b => b.backend), this.log)
    const health = new HealthChecker([...backends.values()].map(b => b.backend), { log: this.log, config })
    const discovery = new ServiceDiscovery(config, [...backends.values()].map(b => b.backend), this.log)
    return { config, frontends, tcpFrontends, tcpBackendRules, backends, health, hooks, tables, caches, files, discovery }
  }

  server (backend: string, server: string): ServerRuntime {
    const be = this.rt.backends.get(backend)
    if (be === undefined) throw new FST_HAPROXY_UNKNOWN_BACKEND(backend)
    const s = be.backend.servers.find(x => x.name === server)
    if (s === undefined) throw new FST_HAPROXY_UNKNOWN_SERVER(server, backend)
    return s
  }

  handle (frontend: string, reload: (config?: string | ParsedConfig) => Promise<void>): HaproxyHandle {
    const gw = this
    return {
      get config () { return gw.config },
      frontend,
      get backends () { return [...gw.rt.backends.values()].map(b => b.backend) },
      backend: (name) => gw.rt.backends.get(name)?.backend,
      setServerState: (b, s, state) => { gw.server(b, s).setAdmin(state) },
      setServerWeight: (b, s, weight) => { gw.server(b, s).setWeight(weight) },
      enableHealth: (b, s) => { gw.server(b, s).enableHealth() },
      disableHealth: (b, s) => { gw.server(b, s).disableHealth() },
      reload,
      stats: () => gw.statsModel(),
      command: (line, level = 'admin') => gw.command(line, level),
      getServerWeight: (b, s) => {
        const srv = gw.server(b, s)
        return { current: srv.uweight, initial: srv.backend.initialWeight(srv) }
      },
      setServerAddress: (b, s, host, port) => { gw.checked(`set server ${b}/${s} addr ${host}${port === undefined ? '' : ` port ${port}`}`, /changed|no need/) },
      setServerMaxconn: (b, s, n) => { gw.checked(`set maxconn server ${b}/${s} ${n}`) },
      setServerHealth: (b, s, health) => { gw.checked(`set server ${b}/${s} health ${health}`) },
      addServer: (b, s, address, o = {}) => {
        const opts = [o.weight === undefined ? '' : ` weight ${o.weight}`, o.maxconn === undefined ? '' : ` maxconn ${o.maxconn}`, o.backup === true ? ' backup' : ''].join('')
        gw.checked(`add server ${b}/${s} ${address}${opts}`, /^New server registered\./)
      },
      deleteServer: (b, s) => { gw.checked(`del server ${b}/${s}`, /^Server deleted\./) },
      explain: (request) => explain(gw, frontend, request),
      patterns: (kind, file) => {
        const ref = gw.patterns.find(kind, file)
        if (ref === undefined) throw new FST_HAPROXY_RUNTIME_COMMAND(`Unknown ${kind === 'map' ? 'map' : 'ACL'} identifier. Please use #<id> or <file>.`)
        return ref
      }
    }
  }

  explain (frontend: string | undefined, request: ExplainRequest): string {
    return renderExplanation(explain(this, frontend, request))
  }

  /** The runtime API's answer to one line of commands. */
  command (line: string, level: Level): string {
    const session: CliSession = { level, interactive: false, closing: false, timeout: 0 }
    return splitLine(line).map(words => runCommand(this, words, session)).join('')
  }

  /** Runs a command for app.haproxy: an answer other than success (or `ok`) is thrown. */
  checked (line: string, ok?: RegExp): void {
    const answer = this.command(line, 'admin')
    if (answer === '\n' || (ok !== undefined && ok.test(answer))) return
    throw new FST_HAPROXY_RUNTIME_COMMAND(answer.trim())
  }

  // --- the runtime API (lib/socket) --------------------------------------------------------------

  get patterns (): PatternRefs { return this.rt.files.refs }

  runtimeBackends (): Backend[] { return [...this.rt.backends.values()].map(b => b.backend) }

  frontendCounters (): FrontendCounters[] {
    return [...this.rt.frontends.keys()].map(name => this.counters.get(name)).filter((c): c is FrontendCounters => c !== undefined)
  }

  setFrontendEnabled (name: string, enabled: boolean): boolean {
    if (enabled) this.stoppedFrontends.delete(name)
    else this.stoppedFrontends.add(name)
    return true
  }

  frontendStopped (name: string): boolean { return this.stoppedFrontends.has(name) }

  shutdownSessions (server: ServerRuntime): void {
    server.cutSessions('K')
  }

  setGlobalMaxconn (n: number): void { this.globalMaxconn = n }

  serverAdded (backend: Backend, server: ServerRuntime): void { this.rt.health.add(backend, server) }

  serverRemoved (server: ServerRuntime): void { this.rt.health.remove(server) }

  certificates (): LoadedCertificate[] { return this.certificateSource() }

  replaceCertificate (cert: LoadedCertificate): number { return this.certificateReplacer(cert) }

  editCrtList (list: string, entries: CrtListEntry[], certs: LoadedCertificate[]): void { this.crtListEditor(list, entries, certs) }

  nameServers (): readonly NameServers[] { return this.rt.discovery.sections }

  cookieRule (backend: string): CookieRule | null { return this.rt.backends.get(backend)?.cookie ?? null }

  info (): InfoSource {
    const fes = this.frontendCounters()
    const cfg = this.rt.config
    let listeners = cfg.global.stats.sockets.length
    for (const p of cfg.proxies) if (p.kind !== 'backend' && !p.disabled) for (const b of p.binds) listeners += b.portEnd - b.port + 1
    const maxconn = this.globalMaxconn ?? cfg.global.maxconn ?? defaultMaxconn(cfg)
    const usage = process.resourceUsage()
    const elapsedUs = Math.max(1, (Date.now() - this.startedAt) * 1000)
    return {
      pid: process.pid,
      startedAt: this.startedAt,
      now: Date.now(),
      version: INFO_VERSION,
      node: cfg.global.node,
      description: cfg.global.description,
      maxconn,
      ulimit: fileLimit(),
      currConns: fes.reduce((n, f) => n + f.counters.scur, 0),
      cumConns: fes.reduce((n, f) => n + f.connTot, 0),
      cumReq: fes.reduce((n, f) => n + f.counters.reqTot, 0),
      connRate: fes.reduce((n, f) => n + f.connRate.read(Date.now()), 0),
      maxConnRate: fes.reduce((n, f) => Math.max(n, f.connRate.max), 0),
      rateLimits: { ...this.acceptGate.limits },
      listeners,
      jobs: listeners + fes.reduce((n, f) => n + f.counters.scur, 0),
      totalBytesOut: fes.reduce((n, f) => n + f.counters.bout, 0),
      heapBytes: process.memoryUsage().heapUsed,
      idlePct: Math.max(0, Math.min(100, 100 - Math.round(100 * (usage.userCPUTime + usage.systemCPUTime) / elapsedUs)))
    }
  }

  statsModel (): StatsModel {
    const rt = this.rt
    const cfg = rt.config
    return {
      pid: process.pid,
      startedAt: this.startedAt,
      proxies: cfg.proxies.map(proxy => ({
        proxy,
        frontend: proxy.kind === 'backend' ? null : this.counters.get(proxy.name) ?? null,
        backend: proxy.kind === 'frontend' ? null : rt.backends.get(proxy.name)?.backend ?? null
      })),
      ...(cfg.global.node !== undefined ? { node: cfg.global.node } : {}),
      ...(cfg.global.description !== undefined ? { description: cfg.global.description } : {})
    }
  }

  /** For the stats page's admin form. */
  adminHandler (): ReturnType<typeof serverAdminHandler> {
    return serverAdminHandler(() => [...this.rt.backends.values()].map(b => b.backend))
  }
}

/**
 * The maxconn HAProxy 2.6 gives a frontend that sets none, when `global maxconn` is absent too
 * (as its `show info` Maxconn follows `ulimit -n`): half of the file descriptors left once it has
 * reserved 10, one per listener and per health check, and 3 per thread. The limit is
 * the larger of the soft and hard RLIMIT_NOFILE, as HAProxy raises the soft one at boot; the
 * thread count is HAProxy's default, one per CPU. 0 (no limit shown) where the limit is unknown.
 */
export function defaultMaxconn (config: ParsedConfig): number {
  const fds = fileLimit()
  if (fds === 0) return 0
  let reserved = 10 + 3 * availableParallelism()
  for (const p of config.proxies) {
    if (p.disabled) continue
    if (p.kind !== 'backend') for (const b of p.binds) reserved += b.portEnd - b.port + 1
    if (p.kind !== 'frontend') for (const s of p.servers) if (s.check === true) reserved++
  }
  return Math.max(0, Math.floor((fds - reserved) / 2))
}

/** max(soft, hard) RLIMIT_NOFILE from /proc (Linux); 0 when unknown or unlimited. */
function fileLimit (): number {
  try {
    const m = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'))
    return m === null ? 0 : Math.max(Number(m[1]), Number(m[2]))
  } catch {
    return 0
  }
}

/** `%ac/%fc/%bc/%sc` of a frontend's lines, read when a line is written. */
function connectionCounts (fe: FrontendCounters, backends: ReadonlyMap<string, BackendRoute>): ConnectionCounts {
  return {
    active: () => FrontendCounters.active,
    frontend: () => fe.counters.scur,
    backend: (rec) => rec.backend === null ? 0 : backends.get(rec.backend)?.backend.counters.scur ?? 0,
    server: (rec) => rec.backend === null ? 0 : backends.get(rec.backend)?.backend.server(rec.server)?.served ?? 0
  }
}

/** Picks the frontend a registration applies: the named one, or the only one that routes. */
export function pickFrontend (config: ParsedConfig, name: string | undefined): Proxy {
  if (name !== undefined) {
    const p = config.proxies.find(x => x.name === name && x.kind !== 'backend')
    if (p === undefined) throw new FST_HAPROXY_FRONTEND_NOT_FOUND(name)
    assertHttp(p)
    return p
  }
  const routing = routingProxies(config)
  if (routing.length === 0) {
    // only `mode tcp` sections: say so rather than "no frontend"
    const tcp = config.proxies.find(p => p.kind !== 'backend' && !p.disabled && p.mode === 'tcp' && p.modeExplicit)
    if (tcp !== undefined) assertHttp(tcp)
    throw new FST_HAPROXY_NO_FRONTEND()
  }
  if (routing.length > 1) throw new FST_HAPROXY_FRONTEND_AMBIGUOUS(routing.map(p => `${p.kind} ${p.name}`).join(', '))
  assertHttp(routing[0]!)
  return routing[0]!
}

// ---------------------------------------------------------------------------------------------
// Per request

const EMPTY = Buffer.alloc(0)
const NO_BACKEND: Decision = { kind: 'none' }

/** A request the app serves itself: HAProxy would not have seen it, so it has no access-log line. */
function appServed (request: FastifyRequest, rec: LogRecord | null, route: RequestRoute): void {
  request.haproxy = route
  if (rec !== null) rec.silent = true
}

/** A rule's verdict: `use-service prometheus-exporter` is served here, the rest by answer(). */
function intercept (gateway: Gateway, verdict: Decision, res: ServerResponse, fe: FrontendRoute, be: BackendRoute | null, txn: HttpTxn): void {
  if (verdict.kind === 'cache') {
    answerFromCache(verdict.object, verdict.cache, txn, res, fe, be)
    return
  }
  if (verdict.kind === 'service' && verdict.service === 'prometheus-exporter') {
    const body = Buffer.from(renderPrometheus(gateway.statsModel()))
    // HAProxy's exporter (addons/promex) answers 200 with these two headers, never cached
    const headers = ['cache-control', 'no-cache', 'content-type', PROMETHEUS_CONTENT_TYPE, 'content-length', String(body.length)]
    writeHead(res, 200, undefined, headers)
    res.end(body)
    const c = fe.counters.counters
    c.intercepted++
    c.countResponse(200)
    countFront(c, res.socket, 'bin', requestHeadBytes(res.req))
    countFront(c, res.socket, 'bout', htxResponseBytes(200, 'OK', headers) + body.length)
    return
  }
  if (verdict.kind === 'tarpit') {
    // the request waits, then gets its answer unless the client left first
    const timer = setTimeout(() => { if (!res.destroyed) answer(verdict.then, res, fe, be) }, verdict.delay)
    res.once('close', () => clearTimeout(timer))
    return
  }
  answer(verdict, res, fe, be)
}

/**
 * `monitor-uri` (configuration.txt §4.2) is compared, exactly and undecoded, with the path and
 * query of the request target (its whole text when the URI does not start with '/'), scheme and
 * authority of an absolute-form target left out, as HAProxy 2.6 does.
 */
function isMonitorRequest (url: string, monitorUri: string): boolean {
  if (url === monitorUri) return true
  if (monitorUri.charCodeAt(0) !== 0x2f || url.charCodeAt(0) === 0x2f) return false
  const authority = url.indexOf('://')
  if (authority < 0) return false
  const path = url.indexOf('/', authority + 3)
  return path >= 0 && url.length - path === monitorUri.length && url.endsWith(monitorUri)
}

/** HAProxy's monitor answer is its 200 page (overridable with `errorfile 200`), counted as intercepted. */
function answerMonitor (res: ServerResponse, fe: FrontendRoute): void {
  const page = pageFor(200, fe, null)
  writePage(res, page)
  const c = fe.counters.counters
  c.intercepted++
  c.countResponse(page.status)
  countFront(c, res.socket, 'bin', requestHeadBytes(res.req))
  countFront(c, res.socket, 'bout', page.htxBytes)
}

/** What an ambiguous request looked like before the rules rewrote it. */
interface Received {
  readonly path: string
  readonly headers: IncomingHttpHeaders
}

/**
 * Starts the access-log record of a request the gateway answers or forwards; its line is written
 * when the answer is over (the response's 'close', after the forward path's own listener).
 */
function logRequest (fe: FrontendState, req: IncomingMessage, logger: FastifyBaseLogger, txn: HttpTxn, now: number): LogRecord | null {
  const log = fe.log
  if (log === null) return null
  // a request's logger that drops info lines, and no target: nothing to write
  if (fe.toRequest && log.targets.empty && !infoEnabled(logger)) return null
  return log.begin(txn, req, now)
}

/** pino's `isLevelEnabled`; Fastify's logger when disabled has no level method and logs nothing. */
function infoEnabled (log: FastifyBaseLogger): boolean {
  const l = log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }
  return typeof l.isLevelEnabled === 'function' ? l.isLevelEnabled('info') : false
}

function writeLogOnClose (fe: FrontendState, rec: LogRecord, res: ServerResponse, logger: FastifyBaseLogger): void {
  const write = (): void => {
    if (rec.status < 0 && res.headersSent) rec.status = res.statusCode
    const out = fe.log!.emit(rec, Date.now())
    if (out === null || !fe.toRequest) return
    if (out.level <= LOG_ERR) logger.error(out.line)
    else logger.info(out.line)
  }
  if (fe.log!.logasap) rec.asap = () => { rec.early = true; write() }
  // 'close' comes once, and emit() writes a record once: no once() wrapper per request
  res.on('close', write)
}

/**
 * A stats request: logged under its own section as HAProxy logs its stats applet (server
 * `<STATS>`, termination LR), counted there, and served by the mounted pages.
 */
function serveStats (gateway: Gateway, mount: StatsMount, section: string, listener: string, req: IncomingMessage, res: ServerResponse, logger: FastifyBaseLogger): void {
  const fe = gateway.frontend(section)
  const rec = fe === undefined || fe.log === null ? null : logRequest(fe, req, logger, makeTxn(req, section), Date.now())
  // the page goes through the http-after-response rules of the section, then of the listener's frontend
  const door = gateway.frontend(listener)
  if (door?.afterResponse === true) {
    const after = watchAfterResponse(res, rec?.txn ?? makeTxn(req, listener), door.route.rules.afterResponseRules)
    const rules = section === listener ? null : gateway.backendRoute(section)?.rules ?? gateway.frontend(section)?.route.rules
    if (rules != null) after.backend = rules.afterResponseRules
  }
  if (rec !== null) {
    markStats(rec, section)
    const socket = req.socket
    const written = socket.bytesWritten
    writeLogOnClose(fe!, rec, res, logger)
    // the page's size on the wire
    res.once('finish', () => { rec.bytesOut = socket.bytesWritten - written })
  }
  mount.serve(section, req, res)
}

/** A request's log record as HAProxy logs its stats applet: server `<STATS>`, the page's section, termination LR. */
function markStats (rec: LogRecord, section: string): void {
  rec.server = '<STATS>'
  rec.backend = section
  rec.tw = rec.tc = rec.tr = 0
  rec.terminate('LR')
}

/** Runs a verdict the gateway answers itself, and notes it in the request's log record. */
function answered (rec: LogRecord | null, fe: FrontendState, be: BackendRoute | null, verdict: Decision, run: () => void): void {
  if (rec === null) { run(); return }
  const c = fe.route.counters.counters
  const before = c.bout
  run()
  // answers are written synchronously: the frontend's byte counter moved by this answer only
  rec.bytesOut += c.bout - before
  if (be !== null) rec.backend = be.name
  // a reject (tcp-request content reject in an HTTP proxy) is logged as a deny, as HAProxy logs it
  rec.terminate(verdict.kind === 'deny' || verdict.kind === 'reject' || verdict.kind === 'rewrite-failed' ? 'PR' : verdict.kind === 'none' ? 'SC' : 'LR')
}

/** The stats pages mounted on one listener; swapped on reload. */
interface StatsSlot {
  mount: StatsMount | null
}

// Fastify keeps reply.header() values in an object under a symbol of the reply; found once by its
// description, so that carrying them allocates nothing (reply.getHeaders() copies them twice)
let kReplyHeaders: symbol | null | undefined

function replyHeaders (reply: FastifyReply): Record<string, unknown> {
  if (kReplyHeaders === undefined) {
    kReplyHeaders = Object.getOwnPropertySymbols(reply).find(k => k.description === 'fastify.reply.headers') ?? null
  }
  return kReplyHeaders === null ? reply.getHeaders() : (reply as unknown as Record<symbol, Record<string, unknown>>)[kReplyHeaders]!
}

/**
 * The gateway takes the request: the reply is Fastify's no more. Headers the app's hooks set with
 * reply.header() (CORS, helmet, a request id …) go on the response the gateway writes, merged
 * into the head it writes (app-headers.ts); the gateway's own replace those of the same name.
 */
function take (reply: FastifyReply): ServerResponse {
  reply.hijack()
  const res = reply.raw
  holdAppHeaders(replyHeaders(reply), res)
  return res
}

/** take() for a stats page, whose head the stats' own Fastify app writes over the app's headers. */
function takeForStats (reply: FastifyReply): ServerResponse {
  reply.hijack()
  const res = reply.raw
  carryAppHeaders(replyHeaders(reply), res)
  return res
}

/** take() without the app's headers: the bench's baseline for the merge (kBenchNoHeaderMerge). */
function takeBare (reply: FastifyReply): ServerResponse {
  reply.hijack()
  return reply.raw
}

/** The body did not come in time (`timeout http-request`, wait-for-body's time): HAProxy's 408 page. */
const REQUEST_TIMEOUT: Decision = { kind: 'page', status: 408 }

/** `option http-buffer-request`: the proxy's rules wait for the body. */
function bufferOption (p: Proxy): boolean {
  return p.options['http-buffer-request'] === true
}

/**
 * The gateway's decision for one request: true when it took the request (answered or proxied it,
 * the reply hijacked), false when it leaves it to the app. Hot path: one Map lookup, the compiled
 * rules, one Exchange; nothing else is allocated for requests the app serves apart from the
 * transaction the rules read.
 */
function makeDecide (gateway: Gateway, frontend: string, always: boolean, stats: StatsSlot, pathOptions: RouterPathOptions, mergeAppHeaders = true) {
  const hand = mergeAppHeaders ? take : takeBare
  const handStats = mergeAppHeaders ? takeForStats : takeBare
  // every request the app serves itself shares one frozen route
  const appRoute: RequestRoute = Object.freeze({ frontend, backend: null, server: null })
  /**
   * The app serves this request, unless the path the app's router acts on reads differently from
   * the raw one the rules passed and a reading would have met a rule: then it is refused as
   * ambiguous, with HAProxy's 400 page.
   */
  function handToApp (request: FastifyRequest, reply: FastifyReply, fe: FrontendRoute, received: Received | null, rec: LogRecord | null, after: AfterResponse | null): boolean {
    if (received !== null && meetsRuleOnRouterView(fe, request.raw, received)) {
      rec?.terminate('PR')
      const res = hand(reply)
      countFront(fe.counters.counters, res.socket, 'ereq')
      fe.counters.counters.countResponse(400)
      writePage(res, pageFor(400, fe, null))
      request.log.warn({ url: request.raw.url }, 'fastify-haproxy: refused an ambiguous path (the router reads it as a path the rules catch)')
      return true
    }
    appServed(request, rec, appRoute)
    // the app's own answer is none of HAProxy's
    if (after !== null) after.off = true
    return false
  }
  function meetsRuleOnRouterView (fe: FrontendRoute, req: IncomingMessage, received: Received): boolean {
    const rules = fe.rules
    for (const view of routerViews(received.path, pathOptions)) {
      const txn = makeTxn(req, frontend)
      txn.path = view
      txn.headers = { ...received.headers }
      if (rules.requestRules(txn) !== null || rules.switching(txn).kind === 'backend') return true
    }
    return false
  }
  /**
   * true when the gateway took the request (answered, forwarded, or still waiting for its body);
   * a request taken to wait for its body and then left to the app reaches it through `handBack`,
   * with the body read so far put back in front of the rest.
   */
  return function decide (request: FastifyRequest, reply: FastifyReply, handBack: (payload: Readable | null) => void): boolean {
    const fe = gateway.frontend(frontend)
    const req = request.raw
    if (fe === undefined) return false
    // monitor-uri and stats pages are answered before the app by the listener (installDoor);
    // requests that did not come through it (app.inject, stats.appHooks) are answered here
    const monitorUri = fe.route.proxy.monitorUri
    if (monitorUri !== null && isMonitorRequest(req.url ?? '', monitorUri)) {
      answerMonitor(hand(reply), fe.route)
      return true
    }
    const mount = stats.mount
    // HAProxy 2.6.12 runs the frontend's http-request rules before its stats page (observed: a
    // deny, return, redirect or auth answers instead, a set-path elsewhere gets no page)
    const statsFirst = fe.route.proxy.httpRequest.length === 0
    if (mount !== null && statsFirst) {
      const section = mount.match(req.url ?? '')
      if (section !== null) {
        serveStats(gateway, mount, section, frontend, req, handStats(reply), request.log)
        return true
      }
    }
    const counters = fe.route.counters
    const now = Date.now()
    counters.counters.reqTot++
    counters.reqRate.hit(now)
    // an HTTP/2 head changed for node's HTTP/2 layer (lib/h2-screen.ts): the authority as sent
    const screened = screenedRequest(req)
    if (screened?.authority !== undefined) req.headers[':authority'] = screened.authority
    const txn = makeTxn(req, frontend)
    if (screened?.fields !== undefined) restoreFields(txn, screened.fields)
    captureRequest(txn, fe.route.proxy.requestCaptures)
    if (!gateway.stickTables.empty) inherit(txn, req.socket)
    const tracking = gateway.stickTables.empty ? null : countTracked(txn, req, reply.raw)
    const after = fe.afterResponse ? watchAfterResponse(reply.raw, txn, fe.route.rules.afterResponseRules) : null
    const rec = logRequest(fe, req, request.log, txn, now)
    if (rec !== null) writeLogOnClose(fe, rec, reply.raw, request.log)
    // more headers than tune.http.maxhdr, or a target, Host or HTTP/2 pseudo-header HAProxy's parser refuses: HAProxy's 400
    // (a Transfer-Encoding HAProxy refuses: its 400 or 422, the connection closed after)
    const refused = req.httpVersionMajor === 1 ? transferCodings(req.headers['transfer-encoding']) : null
    if (refused !== null || req.rawHeaders.length > fe.maxRawHeaders || badTarget(req, fe.route.proxy.options['accept-invalid-http-request'] === true) || badHost(req) || badWebSocket(req) || screened?.malformed === true) {
      const res = hand(reply)
      const status = refused ?? 400
      countFront(counters.counters, req.socket, 'ereq')
      counters.counters.countResponse(status)
      rec?.terminate('PR')
      res.shouldKeepAlive = false
      // HAProxy's parser answers these itself: its own head, never the proxy's errorfile
      writePage(res, parserErrorPage(status))
      return true
    }
    // the rules rewrite the transaction in place: an ambiguous path keeps it as received for a re-run
    const received: Received | null = isAmbiguousPath(txn.path, pathOptions) ? { path: txn.path, headers: { ...req.headers } } : null
    const proxy = fe.route.proxy
    // after a wait for the body the hook has returned: the app gets the request through handBack
    let paused = false
    const toApp = (): boolean => {
      if (handToApp(request, reply, fe.route, received, rec, after)) return true
      if (!paused) return false
      handBack(txn.body instanceof BodyReader ? txn.body.replay() : null)
      return true
    }
    /** `then` once the body is in (at once when there is none), HAProxy's 408 if it does not come in time. */
    const waitBody = (enough: number, time: number, be: BackendRoute | null, then: () => boolean, optionWait = false): boolean => {
      const room = fe.route.buffer.filled - requestHeadBytes(req)
      let sync = true
      let waiting = true
      let out = true
      const began = Date.now()
      waitForBody(bodyOf(txn, req, room), { enough: Math.min(enough, room), time, idle: true }, (end) => {
        waiting = false
        if (end === 'ready') {
          if (sync) { out = then(); return }
          rec?.bodyWaited(Date.now() - began)
          then()
          return
        }
        const res = hand(reply)
        if (be !== null && rec !== null) rec.backend = be.name
        if (end === 'aborted') {
          // the client left before its body was in: nothing to answer (CR). HAProxy's frontend
          // `option http-buffer-request` goes on to the switching rules then: its log names
          // the backend they choose (observed on 2.6.12, http_request_buffer)
          if (optionWait && rec !== null) {
            const switched = fe.route.rules.switching(txn)
            const name = switched.kind === 'backend' ? switched.backend : fe.defaultRoute?.name
            if (name !== undefined) rec.backend = name
          }
          counters.counters.cliAbrt++
          rec?.terminate('CR')
          res.destroy()
          return
        }
        // HAProxy counts the 408 as a failed request (ereq), its page in the bytes out
        countFront(counters.counters, req.socket, 'ereq')
        rec?.terminate('cR')
        answered(rec, fe, be, REQUEST_TIMEOUT, () => { answer(REQUEST_TIMEOUT, res, fe.route, be) })
      })
      sync = false
      if (waiting) paused = true
      return out
    }
    // `timeout http-request` bounds the whole request, its body too when it is buffered (§4.2)
    const requestTimeLeft = (): number => {
      const t = proxy.timeouts.httpRequest
      return t === undefined ? 0 : Math.max(1, t - (Date.now() - now))
    }
    // what the request's rewrites may add (RewriteBudget): the buffer less the head and the body
    // read with it; the room the frontend's rules used stays used for the backend's
    let bodyCounted = 0
    const startRewrites = (p: Proxy): void => {
      if (p.httpRequest.length === 0) return
      const { size, filled } = fe.route.buffer
      const head = requestHeadBytes(req)
      const body = txn.body instanceof BodyReader ? Math.min(txn.body.length, filled - head) : 0
      const budget = txn.rewrite ??= { room: size - head, strict: true, failed: 0 }
      budget.room -= body - bodyCounted
      bodyCounted = body
      // strict mode is on again at the start of each ruleset, not when a paused one goes on
      if (txn.resumeAt === undefined) budget.strict = true
    }
    const countRewrites = (be: BackendRoute | null): void => {
      const budget = txn.rewrite
      if (budget === undefined || budget.failed === 0) return
      countFront(fe.route.counters.counters, req.socket, 'wrew', budget.failed)
      if (be !== null) be.backend.counters.wrew += budget.failed
      budget.failed = 0
    }
    const frontendRules = (): boolean => {
      startRewrites(fe.route.proxy)
      const ruled = fe.route.rules.requestRules(txn)
      countRewrites(null)
      const verdict = ruled ?? restricted(txn, fe.route.proxy)
      if (verdict === null) return switching()
      if (verdict.kind === 'wait-for-body') return waitBody(verdict.atLeast > 0 ? verdict.atLeast : Infinity, verdict.time, null, frontendRules)
      if (tracking !== null && verdict.kind === 'reply') tracking.returned = true
      const res = hand(reply)
      answered(rec, fe, null, verdict, () => { intercept(gateway, verdict, res, fe.route, null, txn) })
      return true
    }
    const switching = (): boolean => {
      if (mount !== null && !statsFirst) {
        const section = mount.match(txn.query === null ? txn.path : `${txn.path}?${txn.query}`)
        if (section !== null) {
          if (rec !== null) markStats(rec, section)
          mount.serve(section, req, handStats(reply))
          return true
        }
      }
      const switched: Decision = fe.route.rules.switching(txn)
      let be: BackendRoute | null | undefined = null
      if (switched.kind === 'backend') {
        be = gateway.backendRoute(switched.backend)
      } else if (always || request.is404) {
        be = fe.defaultRoute
        if (be === null && !always) return toApp()
      } else {
        return toApp()
      }
      if (be === null || be === undefined) {
        const res = hand(reply)
        answered(rec, fe, null, NO_BACKEND, () => { answer(NO_BACKEND, res, fe.route, null) })
        return true
      }
      const chosen = be
      txn.backend = chosen.name
      if (after !== null && chosen.rules !== null) after.backend = chosen.rules.afterResponseRules
      return bufferOption(chosen.proxy) ? waitBody(Infinity, requestTimeLeft(), chosen, () => backendRules(chosen)) : backendRules(chosen)
    }
    const backendRules = (be: BackendRoute): boolean => {
      const ruled = be.rules !== null && (be.proxy.httpRequest.length > 0 || be.proxy.tcpRequestContent.length > 0)
      startRewrites(be.proxy)
      const beRuled = ruled ? be.rules!.requestRules(txn) : null
      countRewrites(be)
      const beVerdict = beRuled ?? restricted(txn, be.proxy)
      if (beVerdict !== null) {
        if (beVerdict.kind === 'wait-for-body') return waitBody(beVerdict.atLeast > 0 ? beVerdict.atLeast : Infinity, beVerdict.time, be, () => backendRules(be))
        if (tracking !== null && beVerdict.kind === 'reply') tracking.returned = true
        const res = hand(reply)
        answered(rec, fe, be, beVerdict, () => { intercept(gateway, beVerdict, res, fe.route, be, txn) })
        return true
      }
      if (be.proxy.stats?.enabled === true && mount !== null && mount.matchRouted(be.name, req.url ?? '')) {
        // a backend's stats page, once the request is routed there
        if (rec !== null) markStats(rec, be.name)
        mount.serve(be.name, req, handStats(reply))
        return true
      }
      forward(be, hand(reply))
      return true
    }
    const forward = (be: BackendRoute, res: ServerResponse): void => {
      if (rec !== null && rec.uniqueId !== null && fe.log!.uniqueIdHeader !== null) txn.headers[fe.log!.uniqueIdHeader.toLowerCase()] = rec.uniqueId
      const route: ProxiedRoute = { frontend, backend: be.name, server: null }
      request.haproxy = route
      const live = gateway.sessions.of(req.socket)
      if (live !== undefined) live.route = route
      be.backend.counters.reqTot++
      // an upgrade: node's HTTP/1 server saw `Connection: upgrade` (any protocol), or an HTTP/2
      // extended CONNECT was turned into one (lib/serve.ts)
      const pending = (req as IncomingMessage & { [kUpgradeHead]?: Buffer })[kUpgradeHead]
      const upgrade = req.method === 'GET' && req.headers.upgrade !== undefined && ((req as IncomingMessage & { upgrade?: boolean }).upgrade === true || pending !== undefined)
      const head = upgrade ? pending ?? EMPTY : null
      try {
        const exchange = new Exchange(fe.route, be, txn, req, res, route, head, request.log, rec)
        if (live?.requests != null) live.kill = (why) => exchange.kill(why)
        exchange.start()
      } catch (err) {
        // a bug, not the server's fault: HAProxy's 500 page rather than a hung client
        request.log.error({ err }, 'fastify-haproxy: forwarding failed')
        if (head !== null) req.socket.destroy()
        else writePage(res, pageFor(500, fe.route, be))
      }
    }
    return bufferOption(proxy) ? waitBody(Infinity, requestTimeLeft(), null, frontendRules, true) : frontendRules()
  }
}

/**
 * Once the answer is over, the request's answer and bytes count in the stick-table entries its
 * rules tracked (lib/acl/stick-counters.ts), which it then leaves.
 */
function countTracked (txn: HttpTxn, req: IncomingMessage, res: ServerResponse): { returned: boolean } {
  const state = { returned: false }
  const written = req.socket.bytesWritten
  res.once('close', () => {
    if (txn.tracked === undefined) return
    const bodyBytes = Number(req.headers['content-length'] ?? 0) || 0
    endTracking(txn, { status: res.statusCode, returned: state.returned, bytesIn: requestHeadBytes(req) + bodyBytes, bytesOut: req.socket.bytesWritten - written })
  })
  return state
}

/**
 * HAProxy's own endpoints before the app: the listener's request handler is wrapped so that
 * `monitor-uri` and (unless `stats.appHooks`) the stats pages are answered before Fastify routes
 * the request, through none of the app's hooks.
 */
function installDoor (server: Server, gateway: Gateway, frontend: string, stats: { slot: StatsSlot, rulesFirst: FastifyInstance } | null, logger: FastifyBaseLogger): void {
  const handlers = server.listeners('request')
  // a server with other request listeners is left as it is: the hook answers these requests
  if (handlers.length !== 1) return
  const app = handlers[0] as (req: IncomingMessage, res: ServerResponse) => void
  server.removeListener('request', app)
  server.on('request', function haproxyDoor (this: Server, req: IncomingMessage, res: ServerResponse): void {
    const fe = gateway.frontend(frontend)
    if (fe !== undefined) {
      const monitorUri = fe.route.proxy.monitorUri
      if (monitorUri !== null && isMonitorRequest(req.url ?? '', monitorUri)) { answerMonitor(res, fe.route); return }
    }
    const mount = stats?.slot.mount ?? null
    if (mount !== null) {
      const section = mount.match(req.url ?? '')
      if (section !== null) {
        if (fe === undefined || fe.route.proxy.httpRequest.length === 0) serveStats(gateway, mount, section, frontend, req, res, logger)
        else stats!.rulesFirst.routing(req, res)
        return
      }
    }
    app.call(this, req, res)
  })
}

/**
 * A Fastify instance with the gateway's decision as its only hook and no routes: what the
 * gateway leaves to the app there (a rule moved the request off the stats URI and no backend
 * takes it) gets Fastify's 404.
 */
async function gatewayOnly (log: FastifyBaseLogger, decide: (request: FastifyRequest, reply: FastifyReply, handBack: (payload: Readable | null) => void) => boolean): Promise<FastifyInstance> {
  const door = Fastify({ loggerInstance: log })
  door.addHook('onRequest', function haproxyRulesFirst (request, reply, done): void {
    if (!decide(request, reply, () => { done() })) done()
  })
  await door.ready()
  return door
}

/**
 * Upgrade requests reach Fastify's router only through an upgrade listener (@fastify/websocket
 * installs one). Without one, the gateway installs its own that routes them the same way, so the
 * hook above decides for WebSockets as for any request.
 */
function routeUpgrades (app: FastifyInstance, server: Server): void {
  if (server.listenerCount('upgrade') > 0) return
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    (req as IncomingMessage & { [kUpgradeHead]?: Buffer })[kUpgradeHead] = head
    socket.on('error', () => socket.destroy())
    const res = new ServerResponse(req)
    res.assignSocket(socket)
    res.once('finish', () => socket.end())
    app.routing(req, res)
  })
}

/**
 * `tcp-request connection` rules of an HTTP proxy (§4.2), on the accepted connection before any
 * request: `reject` and `silent-drop` close it; what `track-sc*` tracks stays tracked by every
 * request on it until it closes.
 */
function connectionRules (fe: FrontendState, socket: Socket): void {
  const txn = connectionTxn(socket, fe.route.proxy.name)
  const verdict = fe.route.rules.tcpRules('connection', txn)
  if (verdict === 'reject' || verdict === 'drop') {
    endTracking(txn, { bytesIn: 0, bytesOut: 0 })
    socket.destroy()
    return
  }
  keepConnectionAddresses(socket, txn)
  trackConnection(txn, socket)
}

/**
 * A connection that closes before any request began counts as a failed request with its 400 or
 * 408, except an HTTP/2 one (no stream) and, with `option http-ignore-probes`, one that sent nothing.
 */
function countRequestless (fe: FrontendRoute, socket: Socket, tlsBind: boolean): void {
  const ignoreProbes = fe.proxy.options['http-ignore-probes'] === true
  socket.once('close', () => {
    const end = requestlessEnd(socket, tlsBind)
    if (end === null || end.status === 0 || (end.empty && ignoreProbes)) return
    fe.counters.requestless(end.status, socket)
  })
}

/** Counts connections on a frontend (HAProxy's sessions), whatever server accepted them. */
/**
 * `bind`: the bind's name in log lines, its `name` or its number in the section (as HAProxy's).
 * `listener`: the server's place among the section's listeners, for `option socket-stats`.
 */
export function countConnections (gateway: Gateway, frontend: string, server: Server, bind: string, listener: ListenerSpec): void {
  const tlsBind = server instanceof TlsServer
  const listenerOf = (fe: FrontendState): ListenerCounters | undefined => socketStatsListener(fe.route.proxy, fe.route.counters, listener, server)
  // the listener's row exists from the start, counters at zero, as HAProxy shows it
  const first = gateway.frontend(frontend)
  if (first !== undefined) listenerOf(first)
  if (server.listening) gateway.acceptGate.guard(server, tlsBind)
  else server.once('listening', () => { gateway.acceptGate.guard(server, tlsBind) })
  server.on('connection', (socket: Socket) => {
    if (gateway.frontendStopped(frontend)) { socket.destroy(); return }
    const fe = gateway.frontend(frontend)
    if (fe === undefined) return
    // before the counters: a <BADREQ> line counts its own connection (%ac, %fc), as HAProxy's
    if (fe.log !== null && !fe.log.connectLines) fe.log.watchConnection(socket, tlsBind)
    fe.route.counters.accept(socket)
    listenerOf(fe)?.accept(socket)
    countRequestless(fe.route, socket, tlsBind)
    // `show sess`: a TLS connection is listed from its handshake on, as the socket requests arrive on
    if (!tlsBind) gateway.sessions.open(socket, frontend, { perRequest: true })
    if (fe.log?.connectLines === true) fe.log.connect(socket)
    if (fe.route.proxy.tcpRequestConnection.length > 0) connectionRules(fe, socket)
  })
  // TLS binds: requests arrive on the TLS socket, whose handshake time their first line shows
  server.on('secureConnection', (socket: TLSSocket) => {
    stampHandshake(socket, Date.now())
    const fe = gateway.frontend(frontend)
    if (fe === undefined) return
    listenerOf(fe)?.tag(socket)
    gateway.sessions.open(socket, frontend, { perRequest: socket.alpnProtocol !== 'h2' })
  })
  server.on('tlsClientError', (err: Error, socket: Socket) => {
    gateway.frontend(frontend)?.log?.handshakeFailed(socket, bind, err)
    // a listener of ours replaces node's own, which closed the connection
    socket.destroy()
  })
  // before the app's own listener (Fastify's): the head's arrival time is read as it is parsed
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    markRequested(req.socket)
    const live = gateway.sessions.of(req.socket)
    if (live?.requests === null || live === undefined) return
    live.requests++
    res.once('close', () => { live.requests!-- })
  })
  // an HTTP/2 connection past its preface is not logged by HAProxy when it opens no stream (no
  // <BADREQ>): its SETTINGS mark it, its bytes tell the rest (logger.ts badHttp2)
  server.on('session', (session: Http2Session) => {
    session.once('remoteSettings', () => { markRequested(session.socket) })
    watchHttp2Session(session)
  })
}

function optionError (name: string, problem: string): Error {
  return new FST_HAPROXY_BAD_OPTION(name, problem)
}

const haproxyRouterPlugin: FastifyPluginAsync<HaproxyRouterOptions> = async (app, opts) => {
  if (app.hasDecorator('haproxy')) throw new FST_HAPROXY_ALREADY_REGISTERED()
  const mode = opts.defaultBackend ?? 'fallback'
  if (mode !== 'fallback' && mode !== 'always') throw optionError('defaultBackend', "must be 'fallback' or 'always'")
  const requestLog = opts.requestLog ?? 'auto'
  if (requestLog !== 'auto' && requestLog !== 'always' && requestLog !== 'never') throw optionError('requestLog', "must be 'auto', 'always' or 'never'")
  const log: GatewayLogger = app.log

  let gateway = opts.gateway
  const owned = gateway === undefined
  if (gateway === undefined) {
    let config: ParsedConfig
    if (opts.config !== undefined) {
      config = Gateway.prepare(opts.config, log, '<config>')
    } else if (opts.configFile !== undefined) {
      config = Gateway.prepare(loadConfig(opts.configFile), log)
    } else {
      throw new FST_HAPROXY_NO_CONFIG()
    }
    gateway = new Gateway(config, log, requestLog)
  }
  const gw = gateway
  const picked = pickFrontend(gw.config, opts.frontend)
  const frontend = picked.name
  // a Fastify app serves HTTP: `mode tcp` sections are the CLI's to serve
  for (const p of gw.config.proxies) {
    if (p.kind !== 'backend' && !p.disabled && p.mode === 'tcp' && p.modeExplicit && owned) {
      log.warn(`${p.kind} '${p.name}' is in 'mode tcp': not served by the plugin (the fastify-haproxy CLI serves it).`)
    }
  }
  // syslog listeners are the CLI's too; `log ring@…` targets work in the plugin
  for (const f of owned ? gw.config.logForwards ?? [] : []) {
    log.warn(`log-forward '${f.name}': not served by the plugin (the fastify-haproxy CLI serves it).`)
  }

  // texts passed to reload() are read as that file: messages name it, relative paths resolve from it
  const files = opts.configFile === undefined ? null : Array.isArray(opts.configFile) ? opts.configFile : [opts.configFile]
  const reload = async (input?: string | ParsedConfig): Promise<void> => {
    if (input === undefined && files === null) throw new FST_HAPROXY_RELOAD_NO_FILE()
    const config = input === undefined
      ? Gateway.prepare(loadConfig(files!), log)
      : Gateway.prepare(input, log, files?.[0] ?? '<config>')
    pickFrontend(config, frontend)
    await gw.reload(config)
  }
  app.decorate('haproxy', gw.handle(frontend, reload))
  const sockets = opts.runtimeSocket === true ? gw.config.global.stats.sockets : Array.isArray(opts.runtimeSocket) ? opts.runtimeSocket : []
  if (sockets.length > 0) {
    const runtimeSocket = new RuntimeSocket(gw, sockets, gw.config.global.stats.timeout, false, gw.config.global.stats.maxconn)
    app.addHook('onReady', async () => { await runtimeSocket.start() })
    app.addHook('onClose', async () => { await runtimeSocket.close() })
  }
  app.decorateRequest('haproxy', null)

  const hookName = opts.hook ?? 'preParsing'
  if (hookName !== 'preParsing' && hookName !== 'onRequest') throw optionError('hook', "must be 'preParsing' or 'onRequest'")
  const listener = opts.stats?.listener ?? 'app'
  if (listener !== 'app' && listener !== 'own') throw optionError('stats.listener', "must be 'app' or 'own'")
  if (listener === 'own' && !owned) throw optionError('stats.listener', "'own' needs the plugin's own runtime (no `gateway` option)")
  const appHooks = opts.stats?.appHooks === true

  // Stats pages on this listener: the frontend's own when the runtime is shared (the CLI: one
  // listener per section), every section's otherwise (embedded), but those served on their own binds.
  const servedApart = (p: Proxy): boolean => listener === 'own' && p.name !== frontend && p.binds.length > 0
  // Shared runtime: a backend's page too, served when a request is routed to it (as HAProxy's
  // stats applet in a backend), never before the frontend's rules.
  const statsSections = (config: ParsedConfig, apart: boolean): Proxy[] => config.proxies.filter(p =>
    p.stats?.enabled === true && !p.disabled && (owned ? servedApart(p) === apart : !apart && (p.name === frontend || p.kind === 'backend')))
  const stats: StatsSlot = { mount: null }
  const mountStats = async (): Promise<void> => {
    const sections = statsSections(gw.config, false)
    const next = sections.length === 0
      ? null
      : await StatsMount.build(gw, sections, app.log, { logRequests: !appHooks, listenerSection: frontend, routed: owned ? [] : sections.filter(p => p.kind === 'backend').map(p => p.name) })
    const old = stats.mount
    stats.mount = next
    await old?.close()
  }
  await mountStats()

  // `stats.listener: 'own'`: the stats sections on their binds, as the CLI serves them
  const apart = new Map<string, Listener>()
  const syncApart = async (): Promise<void> => {
    const { listen, stop, bindKey } = await import('./serve.js')
    const wanted = new Map(statsSections(gw.config, true).map(p => [p.name, p]))
    for (const [name, l] of apart) {
      const p = wanted.get(name)
      if (p === undefined || bindKey(p.binds) !== l.key) { apart.delete(name); await stop(l) }
    }
    for (const [name, p] of wanted) if (!apart.has(name)) apart.set(name, await listen(gw, p, gw.config, false, log, app.log))
  }
  let ready = false
  const unsubscribe = gw.onReload(async () => {
    await mountStats()
    if (ready && listener === 'own') await syncApart()
  })

  const decide = makeDecide(gw, frontend, mode === 'always', stats, routerPathOptions(app.initialConfig), (opts as { [kBenchNoHeaderMerge]?: boolean })[kBenchNoHeaderMerge] !== true)
  // a body the gateway waited for and then left to the app: what it read, put back for the app's parser
  const replays = new WeakMap<FastifyRequest, Readable>()
  const onRequest = function haproxyOnRequest (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const handBack = (payload: Readable | null): void => {
      if (payload !== null) replays.set(request, payload)
      done()
    }
    if (!decide(request, reply, handBack)) done()
  }
  if (hookName === 'onRequest') {
    app.addHook('onRequest', onRequest)
    app.addHook('preParsing', function haproxyReplayBody (request, _reply, payload, done): void {
      done(null, replays.get(request) ?? payload)
    })
  } else {
    app.addHook('preParsing', function haproxyPreParsing (request, reply, payload, done): void {
      if (!decide(request, reply, (read) => { done(null, read ?? payload) })) done(null, payload)
    })
  }
  app.decorate(kGatewayHook, onRequest)
  // HAProxy runs a frontend's http-request rules before its stats page: for such a frontend the
  // stats requests meet the rules in a Fastify instance of the gateway's own, so that the app's
  // hooks stay off the stats pages all the same
  const rulesFirst = appHooks ? null : await gatewayOnly(app.log, decide)
  installDoor(app.server, gw, frontend, rulesFirst === null ? null : { slot: stats, rulesFirst }, app.log)

  // the app's listener is the frontend's first bind (the CLI's other binds have servers of their own)
  countConnections(gw, frontend, app.server, picked.binds[0]?.name ?? '1', { sid: 1, name: picked.binds[0]?.name, maxconn: picked.binds[0]?.maxconn })
  app.addHook('onReady', async () => {
    routeUpgrades(app, app.server)
    if (owned) {
      // HAProxy's soft stop on app.close() (HTTP/2 sessions end with node's own GOAWAY)
      if (app.initialConfig.http2 !== true) softStop(app.server)
      gw.start()
    }
    ready = true
    if (listener === 'own') await syncApart()
  })
  if (owned) app.addHook('preClose', async () => { gw.closeTunnels() })
  app.addHook('onClose', async () => {
    unsubscribe()
    if (apart.size > 0) {
      const { stop } = await import('./serve.js')
      await Promise.all([...apart.values()].map(stop))
    }
    await stats.mount?.close()
    await rulesFirst?.close()
    if (owned) await gw.close()
  })
}

/** The plugin (fastify-plugin'd: its hook sees every request of the app). */
export const haproxyRouter = fp(haproxyRouterPlugin, { fastify: '5.x', name: 'fastify-haproxy' })
