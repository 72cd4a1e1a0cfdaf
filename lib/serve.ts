// Standalone mode (`fastify-haproxy -f haproxy.cfg`): every frontend and listen section serves on
// each of its binds, as `haproxy -db -f` does. One runtime (backends, health checks, counters)
// for the whole configuration; one Fastify instance per frontend, whose node server takes the
// first bind and extra node servers share its request handler for the others.

import http from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import Fastify, { LogController } from 'fastify'
import type { FastifyInstance, FastifyServerFactoryHandler } from 'fastify'
import type { Bind, ParsedConfig, Proxy, Timeouts } from './config/model.js'
import { loadConfig } from './config/parse.js'
import { formatDiagnostic } from './config/diagnostics.js'
import { checkConfig } from './check.js'
import { Gateway, assertHttp, countConnections, haproxyRouter } from './plugin.js'
import type { GatewayLogger } from './plugin.js'
import { builtinErrorPage, FST_HAPROXY_BIND_FAILED } from './errors.js'
import { RuntimeSocket } from './socket/server.js'

export interface GatewayRunOptions {
  /** No log output but alerts (as `haproxy -q`). */
  quiet?: boolean
}

/** A frontend being served: its Fastify instance and the extra servers of its other binds. */
interface Listener {
  proxy: Proxy
  app: FastifyInstance
  extra: Server[]
  key: string
}

function bindKey (binds: Bind[]): string {
  return binds.map(b => `${b.host}:${b.port}-${b.portEnd}`).join(',')
}

/** `bind :80`, `*:80`, `0.0.0.0:80` → every IPv4 address as HAProxy does; `::` → dual stack. */
function listenHost (host: string): string {
  if (host === '' || host === '*') return '0.0.0.0'
  return host.startsWith('[') ? host.slice(1, -1) : host
}

/**
 * node's server options from the proxy's timeouts (configuration.txt §4.2): `timeout http-request`
 * bounds the request head (node answers 408), `timeout client` is socket inactivity,
 * `timeout http-keep-alive` the idle time between requests (falling back as HAProxy does).
 */
function serverFactory (t: Timeouts) {
  return (handler: FastifyServerFactoryHandler): Server => {
    const headersTimeout = t.httpRequest ?? 0
    const server = http.createServer({
      headersTimeout,
      requestTimeout: 0,
      // node checks these timeouts on a timer; its 30 s default would make them useless
      connectionsCheckingInterval: headersTimeout > 0 ? Math.max(50, Math.min(1000, headersTimeout / 4)) : 30_000,
      keepAliveTimeout: t.httpKeepAlive ?? t.httpRequest ?? t.client ?? 5000,
      // the gateway answers a missing Host itself, with HAProxy's 400 page
      requireHostHeader: false
    }, handler as (req: IncomingMessage, res: ServerResponse) => void)
    server.timeout = t.client ?? 0
    return server
  }
}

/** Malformed requests and `timeout http-request` get HAProxy's 400/408 pages instead of Fastify's JSON. */
function clientErrorHandler (err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) { socket.destroy(); return }
  const page = builtinErrorPage(err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400)
  let head = `HTTP/1.1 ${page.status} ${page.reason}\r\n`
  for (let i = 0; i < page.headers.length; i += 2) head += `${page.headers[i]}: ${page.headers[i + 1]}\r\n`
  socket.end(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), page.body]))
}

async function listen (gateway: Gateway, proxy: Proxy, quiet: boolean, log: GatewayLogger): Promise<Listener> {
  const app = Fastify({
    // the gateway's own messages are plain lines (HAProxy's words); Fastify only reports errors
    logger: quiet ? false : { level: 'warn' },
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: serverFactory(proxy.timeouts),
    clientErrorHandler,
    forceCloseConnections: 'idle'
  })
  await app.register(haproxyRouter, { gateway, frontend: proxy.name, defaultBackend: 'always' })
  await app.ready()
  const extra: Server[] = []
  let first = true
  for (const bind of proxy.binds) {
    if (bind.ssl) {
      // serving plain HTTP where the config asks for TLS would be worse than not serving
      log.error(`${proxy.kind} '${proxy.name}': 'bind ${bind.host}:${bind.port} ssl' is not served: fastify-haproxy does not terminate TLS (put it behind a TLS terminator, or run it embedded in an HTTPS Fastify app).`)
      continue
    }
    for (let port = bind.port; port <= bind.portEnd; port++) {
      const host = listenHost(bind.host)
      try {
        if (first) {
          await app.listen({ host, port })
          first = false
          log.info(`Proxy ${proxy.name} started on ${host}:${port}.`)
          continue
        }
        const server = http.createServer(app.server.listeners('request')[0] as http.RequestListener)
        for (const l of app.server.listeners('upgrade')) server.on('upgrade', l as (...a: unknown[]) => void)
        server.on('clientError', clientErrorHandler)
        Object.assign(server, { timeout: app.server.timeout, keepAliveTimeout: app.server.keepAliveTimeout, headersTimeout: app.server.headersTimeout })
        countConnections(gateway, proxy.name, server)
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(port, host, () => { server.off('error', reject); resolve() })
        })
        extra.push(server)
        log.info(`Proxy ${proxy.name} started on ${host}:${port}.`)
      } catch (err) {
        await app.close()
        for (const s of extra) s.close()
        throw new FST_HAPROXY_BIND_FAILED(`${proxy.kind} ${proxy.name}`, `${host}:${port}`, (err as Error).message)
      }
    }
  }
  return { proxy, app, extra, key: bindKey(proxy.binds) }
}

/** Stops accepting, lets requests under way finish (idle keep-alive connections are closed). */
async function stop (l: Listener): Promise<void> {
  const extra = l.extra.map(async (s) => {
    const closed = new Promise<void>(resolve => s.close(() => resolve()))
    s.closeIdleConnections()
    await closed
  })
  await Promise.all([l.app.close(), ...extra])
}

function printDiagnostics (config: ParsedConfig, quiet: boolean): boolean {
  const diagnostics = checkConfig(config)
  let ok = true
  for (const d of diagnostics) {
    if (d.level === 'alert') ok = false
    if (d.level === 'alert' || !quiet) process.stderr.write(formatDiagnostic(d, process.pid) + '\n')
  }
  return ok
}

function servedProxies (config: ParsedConfig): Proxy[] {
  const served = config.proxies.filter(p => p.kind !== 'backend' && !p.disabled && p.binds.length > 0)
  for (const p of served) assertHttp(p)
  return served
}

/**
 * Serves a configuration until SIGTERM/SIGINT (graceful: requests under way finish, then exit 0).
 * SIGHUP and SIGUSR2 reload it; a configuration with alerts is refused and the old one serves on.
 */
export async function runGateway (files: string[], opts: GatewayRunOptions = {}): Promise<void> {
  const quiet = opts.quiet === true
  const log: GatewayLogger = quiet
    ? { info () {}, warn () {}, error: (m) => { process.stderr.write(m + '\n') } }
    : { info: (m) => { process.stdout.write(m + '\n') }, warn: (m) => { process.stdout.write(m + '\n') }, error: (m) => { process.stderr.write(m + '\n') } }

  let config = loadConfig(files)
  if (!printDiagnostics(config, quiet)) throw new Error('Fatal errors found in configuration.')
  const gateway = new Gateway(config, log)
  const listeners = new Map<string, Listener>()
  try {
    for (const proxy of servedProxies(config)) listeners.set(proxy.name, await listen(gateway, proxy, quiet, log))
  } catch (err) {
    await Promise.all([...listeners.values()].map(stop))
    await gateway.close()
    throw err
  }
  gateway.start()
  // the runtime API: its sockets are those of the first configuration (as HAProxy's are kept across reloads)
  const runtimeSocket = new RuntimeSocket(gateway, config.global.stats.sockets, config.global.stats.timeout)
  try {
    await runtimeSocket.start()
  } catch (err) {
    await runtimeSocket.close()
    await Promise.all([...listeners.values()].map(stop))
    await gateway.close()
    throw err
  }

  let reloading = Promise.resolve()
  const reload = async (): Promise<void> => {
    let next: ParsedConfig
    try {
      next = loadConfig(files)
      if (!printDiagnostics(next, quiet)) {
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
    const wanted = new Map(servedProxies(next).map(p => [p.name, p]))
    for (const [name, l] of listeners) {
      const p = wanted.get(name)
      if (p === undefined || bindKey(p.binds) !== l.key) { listeners.delete(name); await stop(l) }
    }
    for (const [name, p] of wanted) {
      if (!listeners.has(name)) listeners.set(name, await listen(gateway, p, quiet, log))
    }
    log.info('Configuration reloaded.')
  }

  await new Promise<void>((resolve) => {
    let stopping = false
    const shutdown = (): void => {
      if (stopping) return
      stopping = true
      process.off('SIGHUP', onReload)
      process.off('SIGUSR2', onReload)
      gateway.closeTunnels()
      void Promise.all([...listeners.values()].map(stop).concat(runtimeSocket.close()))
        .then(() => gateway.close())
        .finally(resolve)
    }
    const onReload = (): void => { reloading = reloading.then(reload, reload) }
    process.on('SIGTERM', shutdown)
    process.on('SIGINT', shutdown)
    process.on('SIGHUP', onReload)
    process.on('SIGUSR2', onReload)
  })
}
