// The runtime API's commands (management.txt §9.3) with HAProxy 2.6's syntax, permission levels
// and answers. Each answer is the exact text HAProxy writes, its trailing blank line included
// (a few 2.6 messages end with a single newline; recorded with socat against haproxy 2.6.12).
// Levels as 2.6 checks them: `user` may read stats and change maps and ACLs, `operator` may also
// read sessions and variables and clear counters, `admin` may change servers and frontends.

import type { ParsedConfig, Server } from '../config/model.js'
import type { Backend, ServerRuntime } from '../runtime/backend.js'
import type { FrontendCounters } from '../runtime/forward.js'
import type { ServerAdminState } from '../runtime/state.js'
import type { StatsModel } from '../stats/model.js'
import { renderCsv } from '../stats/csv.js'
import { renderJson, renderTyped } from '../stats/json.js'
import type { RowFilter } from '../stats/rows.js'
import { entryPointer, type PatternKind, type PatternRef, type PatternRefs } from '../acl/pattern-refs.js'
import { isIPv4, isIPv6 } from 'node:net'
import { atoi, parseAddress } from '../config/args.js'
import { applyServerOptions, SERVER_OPTIONS } from '../config/keywords.js'
import { FUZZY_HEADER, HELP_HEADER, HELP_LINES, UNKNOWN_HEADER } from './help.js'
import { renderInfo, type InfoFormat, type InfoSource } from './info.js'
import { renderServersState } from './servers-state.js'
import { evaluateOutside } from '../acl/global-vars.js'
import { toStr, type Sample } from '../acl/sample.js'
import { procVar, setProcVar } from '../acl/vars.js'
import { clearTable, setTable, showTable } from './tables.js'
import { abortSslCert, commitSslCert, delSslCert, newSslCert, setSslCert, showSslCert } from './ssl-certs.js'
import { addSslCrtList, delSslCrtList, showSslCrtList, type CrtListRuntime } from './crt-lists.js'
import type { StickTables } from '../runtime/stick-table.js'
import type { Caches } from '../runtime/cache.js'
import { showCache } from './caches.js'
import { NAMESERVER_COUNTERS, type NameServers } from '../runtime/nameservers.js'
import { showSess, shutdownSession, type SessionRuntime } from './sessions.js'
import type { AcceptGate } from '../runtime/accept-gate.js'
import type { CookieRule } from '../runtime/persistence.js'

export type Level = 'user' | 'operator' | 'admin'
const RANK: Record<Level, number> = { user: 0, operator: 1, admin: 2 }

/** What the commands act on: implemented by the Gateway. */
export interface CliRuntime extends CrtListRuntime, SessionRuntime {
  readonly config: ParsedConfig
  statsModel (): StatsModel
  /** Runtime backends (and listens), config order. */
  runtimeBackends (): Backend[]
  frontendCounters (): FrontendCounters[]
  readonly patterns: PatternRefs
  info (): InfoSource
  /** Pauses or resumes a frontend's listeners; false when it has none here. */
  setFrontendEnabled (name: string, enabled: boolean): boolean
  /** Closes the client connections of requests being served by a server. */
  shutdownSessions (server: ServerRuntime): void
  /** The process-wide maxconn (`set maxconn global`). */
  setGlobalMaxconn (n: number): void
  /** A backend's cookie persistence, null without a `cookie` line (`enable|disable dynamic-cookie`). */
  cookieRule (backend: string): CookieRule | null
  /** The accept rate limits (`set rate-limit`). */
  readonly acceptGate: AcceptGate
  /** The stick tables (`show table`, `clear table`, `set table`). */
  readonly stickTables: StickTables
  /** The `cache` sections' objects (`show cache`). */
  readonly caches: Caches
  /** The runtime API sockets served (`show cli sockets`); the socket server fills it. */
  readonly cliSockets: Array<{ address: string, level: Level }>
  /** What the process wrote while starting (`show startup-logs`). */
  readonly startupLogs: string
  /** A server `add server` created: its checks and agent are set up (stopped). */
  serverAdded (backend: Backend, server: ServerRuntime): void
  /** A server `del server` is removing: its checks and agent stop. */
  serverRemoved (server: ServerRuntime): void
  /** Every `resolvers` section's name servers and their counters (`show resolvers`). */
  nameServers (): readonly NameServers[]
  /** lib/explain.ts as text. */
  explain (frontend: string | undefined, request: { method: string, url: string, headers: Record<string, string> }): string
}

/** One connection's state (level, prompt). */
export interface CliSession {
  level: Level
  interactive: boolean
  /** Set by `quit`. */
  closing: boolean
  /** `set timeout cli`, ms. */
  timeout: number
  /** `experimental-mode on` (admin): allows `set var`. */
  experimental?: boolean
}

interface Command {
  words: readonly string[]
  level: Level
  run (rt: CliRuntime, args: string[], session: CliSession, payload: string[] | null): string
}

// --- answers ------------------------------------------------------------------------------------

const OK = '\n'
const msg = (text: string): string => text + '\n\n'
/** The few answers of 2.6 without their blank line (add/del server). */
const bare = (text: string): string => text + '\n'
const DENIED = msg('Permission denied')

/** An answer that ends the command (thrown by the argument helpers). */
class Answer extends Error {
  constructor (readonly text: string) { super(text) }
}

function backendOf (rt: CliRuntime, name: string): Backend | undefined {
  const id = /^#\d+$/.test(name) ? Number(name.slice(1)) : null
  return rt.runtimeBackends().find(b => id !== null ? b.id === id : b.name === name)
}

/** `<backend>/<server>`, HAProxy's messages for each way it can be wrong. */
function serverArg (rt: CliRuntime, arg: string | undefined): { be: Backend, srv: ServerRuntime } {
  if (arg === undefined || arg === '') throw new Answer(msg("Require 'backend/server'."))
  const slash = arg.indexOf('/')
  if (slash < 0) throw new Answer(msg("Require 'backend/server'."))
  const be = backendOf(rt, arg.slice(0, slash))
  if (be === undefined) throw new Answer(msg('No such backend.'))
  const name = arg.slice(slash + 1)
  const srv = /^#\d+$/.test(name) ? be.servers.find(s => s.id === Number(name.slice(1))) : be.server(name)
  if (srv === undefined) throw new Answer(msg('No such server.'))
  return { be, srv }
}

/** `set weight` values: `N` or `N%` of the initial weight (management.txt §9.3 `set weight`). */
function applyWeight (be: Backend, srv: ServerRuntime, text: string | undefined): string {
  if (text === undefined || text === '') return msg('Require <weight> or <weight%>.')
  const pct = text.endsWith('%')
  const n = Number(pct ? text.slice(0, -1) : text)
  if (!Number.isInteger(n) || n < 0) return msg('Relative weight must be positive.')
  let w = n
  if (pct) {
    if (n > 100) return msg('Relative weight can only be set between 0 and 100% inclusive.')
    w = Math.floor(be.initialWeight(srv) * n / 100)
  } else if (n > 256) {
    return msg('Absolute weight can only be between 0 and 256 inclusive.')
  }
  try {
    srv.setWeight(w)
  } catch (err) {
    return msg((err as Error).message)
  }
  return OK
}

function setAdmin (srv: ServerRuntime, state: ServerAdminState): void {
  srv.setAdmin(state)
}

// --- stats and info -----------------------------------------------------------------------------

function showStat (rt: CliRuntime, args: string[], session: CliSession): string {
  const filter: RowFilter = { legends: RANK[session.level] >= RANK.operator }
  let format: 'csv' | 'json' | 'typed' = 'csv'
  const rest: string[] = []
  for (const a of args.slice(2)) {
    if (a === 'typed') format = 'typed'
    else if (a === 'json') format = 'json'
    else if (a === 'up') filter.up = true
    else if (a === 'no-maint') filter.noMaint = true
    else if (a === 'desc') continue
    else rest.push(a)
  }
  if (rest.length > 0) {
    if (rest.length < 3) return msg('Require proxy id, type and server id.')
    const proxy = rest[0] === '-1' ? -1 : /^\d+$/.test(rest[0]!) ? Number(rest[0]) : rest[0]!
    if (typeof proxy === 'string' && !rt.config.proxies.some(p => p.name === proxy)) return msg('No such proxy.')
    filter.only = { proxy, types: Number(rest[1]), sid: Number(rest[2]) }
  }
  const model = rt.statsModel()
  if (format === 'json') return renderJson(model, filter) + '\n'
  if (format === 'typed') return renderTyped(model, filter) + '\n'
  return renderCsv(model, filter) + '\n'
}

function showInfo (rt: CliRuntime, args: string[]): string {
  const format: InfoFormat = args.includes('json') ? 'json' : args.includes('typed') ? 'typed' : 'plain'
  return renderInfo(rt.info(), format)
}

/** The backend named by `show servers state|conn [backend]`, or all of them. */
function backendsArg (rt: CliRuntime, name: string | undefined): Backend[] {
  if (name === undefined) return rt.runtimeBackends()
  const be = backendOf(rt, name)
  if (be === undefined) throw new Answer(msg("Can't find backend."))
  return [be]
}

function showServersState (rt: CliRuntime, args: string[]): string {
  return renderServersState(backendsArg(rt, args[3])) + '\n'
}

/** `show servers conn [backend]`: each server's connection counts (one thread: one idle column). */
function showServersConn (rt: CliRuntime, args: string[]): string {
  const backends = backendsArg(rt, args[3])
  // idle connections are undici's, pooled out of sight: none are counted here
  let out = '# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[1]\n'
  for (const be of backends) {
    for (const s of be.servers) {
      out += `${be.name}/${s.name} ${be.id}/${s.id} ${s.hasAddress ? s.host : '-'} ${s.port} - 5000 ${s.served} ${s.counters.smax} 0 0 0 -1 0 0\n`
    }
  }
  return out + '\n'
}

/** `show env [name]`: the process environment, as the configuration's `${VAR}` read it. */
function showEnv (name: string | undefined): string {
  if (name !== undefined) {
    const v = process.env[name]
    return v === undefined ? msg('Variable not found') : msg(`${name}=${v}`)
  }
  let out = ''
  for (const [k, v] of Object.entries(process.env)) out += `${k}=${v ?? ''}\n`
  return out + '\n'
}

function showCliSockets (rt: CliRuntime): string {
  let out = '# socket lvl processes\n'
  for (const s of rt.cliSockets) out += `${s.address} ${s.level} all\n`
  return out + '\n'
}

/** `show resolvers [<section>]`: each section's name servers and their counters, 2.6's layout. */
function showResolvers (rt: CliRuntime, name: string | undefined): string {
  const sections = rt.nameServers().filter(s => name === undefined || s.section.name === name)
  if (sections.length === 0 && name !== undefined) return msg("Can't find that resolvers section")
  let out = ''
  for (const s of sections) {
    out += `Resolvers section ${s.section.name}\n`
    for (const ns of s.servers) {
      out += ` nameserver ${ns.name}:\n`
      for (const c of NAMESERVER_COUNTERS) out += `  ${(c + ':').padEnd(13)}${ns.counters[c]}\n`
    }
  }
  return out + '\n'
}

const RATE_LIMIT_USAGE = msg("'set rate-limit' only supports :\n" +
  "   - 'connections global' to set the per-process maximum connection rate\n" +
  "   - 'sessions global' to set the per-process maximum session rate\n" +
  "   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n" +
  "   - 'http-compression global' to set the per-process maximum compression speed in kB/s")

/** `set rate-limit connections|sessions|ssl-sessions global <n>` (the value read as C's atoi). */
function setRateLimit (rt: CliRuntime, args: string[]): string {
  const kind = args[2]
  if (args[3] !== 'global' || (kind !== 'connections' && kind !== 'sessions' && kind !== 'ssl-sessions' && kind !== 'http-compression')) return RATE_LIMIT_USAGE
  if (args[4] === undefined) return msg('Expects an integer value.')
  const n = atoi(args[4])
  if (n < 0) return msg('Value out of range.')
  // the words 2.6 uses when it is built without compression
  if (kind === 'http-compression') return msg('Compression is not supported.')
  rt.acceptGate.set(kind, n)
  return OK
}

/** `enable|disable dynamic-cookie backend <b>`, `set dynamic-cookie-key backend <b> <key>`. */
function dynamicCookie (rt: CliRuntime, args: string[]): string {
  const setKey = args[0] === 'set'
  const name = args[3]
  if (name === undefined) return msg('A backend name is expected.')
  const be = backendOf(rt, name)
  if (be === undefined) return msg('No such backend.')
  const rule = rt.cookieRule(be.name)
  if (setKey) {
    const key = args[4]
    if (key === undefined) return msg('String value expected.')
    rule?.setDynamicKey(key)
  } else {
    rule?.setDynamic(args[0] === 'enable')
  }
  return OK
}

/** `shutdown frontend <name>`: its listeners stop for good (status STOP; `enable frontend` refuses). */
function shutdownFrontend (rt: CliRuntime, args: string[]): string {
  const name = args[2]
  if (name === undefined) return msg('A frontend name is expected.')
  const fe = rt.frontendCounters().find(f => f.name === name)
  if (fe === undefined) return msg('No such frontend.')
  if (fe.shut) return msg('Frontend was already shut down.')
  fe.shut = true
  rt.setFrontendEnabled(name, false)
  return OK
}

// --- servers ------------------------------------------------------------------------------------

const SET_SERVER_USAGE = msg('usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight')

function setServer (rt: CliRuntime, args: string[]): string {
  const { be, srv } = serverArg(rt, args[2])
  const what = args[3]
  const value = args[4]
  switch (what) {
    case 'weight': return applyWeight(be, srv, value)
    case 'state':
      if (value !== 'ready' && value !== 'drain' && value !== 'maint') return msg("'set server <srv> state' expects 'ready', 'drain' and 'maint'.")
      setAdmin(srv, value)
      return OK
    case 'health':
      if (value !== 'up' && value !== 'down' && value !== 'stopping') return msg("'set server <srv> health' expects 'up', 'stopping', or 'down'.")
      srv.forceHealth(value)
      return OK
    case 'agent':
      if (srv.agent?.enabled !== true) return msg('agent checks are not enabled on this server.')
      if (value !== 'up' && value !== 'down') return msg("'set server <srv> agent' expects 'up' or 'down'.")
      srv.setAgentUp(value === 'up', ', changed from CLI')
      return OK
    case 'agent-addr': {
      if (srv.agent?.enabled !== true) return bare('agent checks are not enabled on this server')
      const host = checkAddress(value)
      if (host === null) return msg('set server <b>/<s> agent-addr requires an address and optionally a port.')
      if (host === false) return bare(`invalid addr '${value ?? ''}'`)
      srv.agent.host = host
      srv.agent.hostExplicit = true
      return OK
    }
    case 'agent-port': {
      if (srv.agent?.enabled !== true) return bare('agent checks are not enabled on this server')
      const port = checkPort(value, 'agent-port')
      if (typeof port === 'string') return port
      srv.agent.port = port
      return OK
    }
    case 'agent-send':
      if (srv.agent?.enabled !== true) return msg('agent checks are not enabled on this server.')
      srv.agent.send = value ?? ''
      return OK
    case 'check-port': {
      if (!srv.hasCheck) return bare('health checks are not enabled on this server')
      const port = checkPort(value, 'check-port')
      if (typeof port === 'string') return port
      srv.setCheckPort(port)
      return OK
    }
    case 'check-addr': {
      if (!srv.hasCheck) return bare('health checks are not enabled on this server')
      const host = checkAddress(value)
      if (host === null) return msg('set server <b>/<s> check-addr requires an address and optionally a port.')
      if (host === false) return bare(`invalid addr '${value ?? ''}'`)
      let port: number | null = null
      if (args[5] === 'port') {
        const p = checkPort(args[6], null)
        if (typeof p === 'string') return p
        port = p
      }
      srv.setCheckAddress(host, port)
      return OK
    }
    case 'addr': return setServerAddr(srv, args.slice(4))
    case 'fqdn': return setServerFqdn(be, srv, value)
    case 'ssl':
      if (!srv.sslConfigured) return msg("'set server <srv> ssl' cannot be set.  default-server should define ssl settings")
      if (value !== 'on' && value !== 'off') return msg("'set server <srv> ssl' expects 'on' or 'off'.")
      srv.setSsl(value === 'on')
      return msg('server ssl setting updated.')
    default: return SET_SERVER_USAGE
  }
}

/** The address of `set server … agent-addr|check-addr`: null when missing, false when not an IP. */
function checkAddress (value: string | undefined): string | null | false {
  if (value === undefined || value === '') return null
  const parsed = parseAddress(value, { portRequired: false, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: true, env: {} })
  if (!parsed.ok || (parsed.value.family !== 'ipv4' && parsed.value.family !== 'ipv6') || parsed.value.host === '') return false
  return parsed.value.host
}

/** The port of `set server … agent-port|check-port` (0 included), or the answer refusing it; `what` null when it follows `port`. */
function checkPort (value: string | undefined, what: string | null): number | string {
  if ((value === undefined || value === '') && what !== null) return msg(`set server <b>/<s> ${what} requires a port.`)
  if (value === undefined || !/^\d+$/.test(value)) return bare('provided port is not an integer')
  const port = Number(value)
  if (port > 65535) return bare('provided port is invalid')
  return port
}

/** The suffix of 2.6's answers to `set server … addr|fqdn`, who made the change. */
const BY_CLI = " by 'stats socket command'"

/**
 * An address as `set server … addr` takes it: an IPv4 or IPv6 literal (IPv6 also in brackets),
 * nothing else (no name, no port, no prefix); null when it is not one.
 */
function ipLiteral (text: string): string | null {
  if (isIPv4(text)) return text
  const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  // URL writes IPv6 in its shortest form, as HAProxy prints a stored address
  return isIPv6(inner) ? new URL(`http://[${inner}]/`).hostname.slice(1, -1) : null
}

/** C's strtol on a port argument, kept to its low 16 bits as HAProxy stores it; null without digits. */
function portArg (text: string): number | null {
  const digits = /^\s*(\d+)/.exec(text)?.[1]
  if (digits === undefined) return null
  const LONG_MAX = (1n << 63n) - 1n
  const n = BigInt(digits)
  return Number(BigInt.asUintN(16, n > LONG_MAX ? LONG_MAX : n))
}

/**
 * `set server <b>/<s> addr <ip> [port <port>]`: the answer tells what changed, address and port
 * apart, as 2.6 does (a valid address is applied even when the port is refused).
 */
function setServerAddr (srv: ServerRuntime, args: string[]): string {
  const text = args[0]
  if (text === undefined || text === '') return msg('set server <b>/<s> addr requires an address and optionally a port.')
  const host = ipLiteral(text)
  if (host === null) return msg(`Invalid addr '${text}'${BY_CLI}`)
  const parts: string[] = []
  if (host !== srv.host || !srv.hasAddress) parts.push(`IP changed from '${srv.hasAddress ? srv.host : '(none)'}' to '${text}'`)
  else parts.push('no need to change the addr')
  let port = srv.port
  if (args[1] === 'port') {
    const p = args[2] ?? ''
    const n = p.startsWith('+') || p.startsWith('-') ? -1 : portArg(p)
    if (n === -1) parts.push("can't change <port> to port map because it is incompatible with current health check port configuration (use 'port' statement from the 'server' directive.")
    else if (n === null) parts.push(`problem converting port '${p}' to an int`)
    else if (n === srv.port && !srv.relativePort) parts.push('no need to change the port')
    else {
      // a port that followed the client's is shown as its offset, and becomes fixed (2.6.12, observed)
      parts.push(`port changed from '${srv.relativePort && srv.port >= 0 ? '+' : ''}${srv.port}' to '${n}'`)
      port = n
      srv.relativePort = false
    }
  }
  if (host !== srv.host || port !== srv.port || !srv.hasAddress) srv.setAddress(host, port)
  return msg(parts.join(', ') + BY_CLI)
}

/**
 * `set server <b>/<s> fqdn <name>`: the server follows another name through its resolvers; it
 * waits in MAINT (resolution) for the first answer.
 */
function setServerFqdn (be: Backend, srv: ServerRuntime, name: string | undefined): string {
  if (srv.srvRecord !== null) return msg('set server <b>/<s> fqdn failed because SRV resolution is configured.')
  if (be.proxy.servers.find(s => s.name === srv.name)?.resolvers === undefined) return msg('set server <b>/<s> fqdn failed because no resolution is configured.')
  if (name === undefined || name === '') return msg('set server <b>/<s> fqdn requires a FQDN.')
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return msg(`invalid fqdn '${name}'${BY_CLI}`)
  if (name === srv.fqdn) return msg(`no need to change the FDQN${BY_CLI}`)
  // the name must make a DNS query: labels of 1 to 63 characters, 255 in all
  const labels = name.replace(/\.$/, '').split('.')
  if (name.length > 255 || labels.some(l => l.length === 0 || l.length > 63)) return msg(`could not update ${be.name}/${srv.name} FQDN${BY_CLI}`)
  const old = srv.fqdn ?? '(null)'
  srv.setFqdn(name)
  return msg(`${be.name}/${srv.name} changed its FQDN from ${old} to ${name}${BY_CLI}`)
}

function getWeight (rt: CliRuntime, args: string[]): string {
  const { be, srv } = serverArg(rt, args[2])
  return msg(`${srv.uweight} (initial ${be.initialWeight(srv)})`)
}

function setWeight (rt: CliRuntime, args: string[]): string {
  const { be, srv } = serverArg(rt, args[2])
  return applyWeight(be, srv, args[3])
}

function setMaxconn (rt: CliRuntime, args: string[]): string {
  const kind = args[2]
  if (kind === 'server') {
    const { srv } = serverArg(rt, args[3])
    const n = Number(args[4])
    if (args[4] === undefined || !Number.isInteger(n) || n < 0) return msg('Integer value expected.')
    srv.setMaxconn(n)
    return OK
  }
  if (kind === 'frontend') {
    const fe = rt.frontendCounters().find(f => f.name === args[3])
    if (args[3] === undefined) return msg('A frontend name is expected.')
    if (fe === undefined) return msg('No such frontend.')
    const n = Number(args[4])
    if (args[4] === undefined || !Number.isInteger(n) || n < 0) return msg('Integer value expected.')
    fe.maxconn = n
    return OK
  }
  if (kind === 'global') {
    const n = Number(args[3])
    if (args[3] === undefined || !Number.isInteger(n) || n < 0) return msg('Expects an integer value.')
    rt.setGlobalMaxconn(n)
    return OK
  }
  return msg("Require 'frontend', 'global' or 'server'.")
}

function toggleServer (rt: CliRuntime, args: string[]): string {
  const { srv } = serverArg(rt, args[2])
  setAdmin(srv, args[0] === 'enable' ? 'ready' : 'maint')
  return OK
}

function toggleHealth (rt: CliRuntime, args: string[]): string {
  const { srv } = serverArg(rt, args[2])
  if (args[0] === 'enable') {
    if (!srv.hasCheck) return msg('Health check was not configured on this server, cannot enable.')
    srv.enableHealth()
  } else {
    srv.disableHealth()
  }
  return OK
}

function toggleAgent (rt: CliRuntime, args: string[]): string {
  const { srv } = serverArg(rt, args[2])
  if (srv.agent === null) return args[0] === 'enable' ? msg('Agent was not configured on this server, cannot enable.') : OK
  srv.agent.enabled = args[0] === 'enable'
  return OK
}

function toggleFrontend (rt: CliRuntime, args: string[]): string {
  const name = args[2]
  if (name === undefined) return msg('A frontend name is expected.')
  const fe = rt.config.proxies.find(p => p.name === name && p.kind !== 'backend')
  if (fe === undefined) return msg('No such frontend.')
  if (rt.frontendCounters().find(f => f.name === name)?.shut === true) return msg(args[0] === 'enable' ? 'Frontend was previously shut down, cannot enable.' : 'Frontend was previously shut down, cannot disable.')
  rt.setFrontendEnabled(name, args[0] === 'enable')
  return OK
}

function shutdownSessions (rt: CliRuntime, args: string[]): string {
  const { srv } = serverArg(rt, args[3])
  rt.shutdownSessions(srv)
  return OK
}

/**
 * Server keywords 2.6 refuses on `add server` (recorded against haproxy 2.6.12): `'<kw>' option
 * is not accepted for dynamic server`.
 */
const NOT_DYNAMIC = new Set([
  'cookie', 'redir', 'resolvers', 'init-addr', 'resolve-prefer', 'resolve-net', 'resolve-opts', 'socks4', 'namespace',
  'max-reuse', 'ssl-reuse', 'no-check', 'no-ssl', 'no-check-ssl', 'no-agent-check', 'no-check-send-proxy', 'non-stick',
  'stick', 'tcp-ut', 'log-proto', 'no-send-proxy-v2-ssl', 'no-send-proxy-v2-ssl-cn'
])

const VERIFY_WITHOUT_CA = "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default."

/**
 * The option words of `add server`, checked as 2.6 checks them at run time: keywords it refuses
 * for dynamic servers, then the server line's own parser (lib/config/keywords.ts), whose
 * complaints 2.6 ends with one more period. Null when they are fine.
 */
function dynamicServerOptions (rt: CliRuntime, be: Backend, conf: Server, words: string[]): string | null {
  for (let i = 0; i < words.length; i++) {
    const kw = words[i]!
    const row = SERVER_OPTIONS[kw]
    if (row === undefined) break
    if (NOT_DYNAMIC.has(kw)) return msg(`'${kw}' option is not accepted for dynamic server`)
    if (kw === 'track') return msg("'track' is not supported by fastify-haproxy (takes the server's up/down state from another server's checks).")
    if (kw === 'proto' && words[i + 1] === undefined) return msg("'proto' : missing value.")
    if (kw === 'proto' && be.proxy.mode === 'tcp') return msg('MUX protocol is not usable for server.')
    if (kw === 'verify') {
      const method = words[i + 1]
      if (method === undefined) return msg("'verify' : missing verify method.")
      if (method !== 'none' && method !== 'required') return msg(`'verify' : unknown verify method '${method}', only 'none' and 'required' are supported.`)
    }
    if (typeof row.support === 'object' && 'unsupported' in row.support && !(row.support.tcp === 'served' && be.proxy.mode === 'tcp')) {
      return msg(`'${kw}' is not supported by fastify-haproxy (${row.support.unsupported}).`)
    }
    i += row.n
  }
  const e = applyServerOptions(conf, words, { name: conf.name, path: p => p, caBase: undefined, crtBase: undefined, env: process.env }, false)
  if (e !== null) return msg(e.startsWith('unknown keyword') || e.startsWith("'proto'") || e.startsWith("'id'") ? e : e + '.')
  if (conf.id !== undefined && be.servers.some(s => s.id === conf.id)) {
    const same = be.servers.find(s => s.id === conf.id)!
    return msg(`'id' : custom id ${conf.id} already used at (null):0 ('server ${same.name}').`)
  }
  // 2.6 loads no file at run time: a CA or a certificate must be one the configuration loaded
  const loaded = (pick: (s: Server) => string | undefined): Set<string> => new Set(rt.config.proxies.flatMap(p => p.servers.map(pick)).filter((f): f is string => f !== undefined))
  if (conf.caFile !== undefined && !loaded(s => s.caFile).has(conf.caFile)) return msg(`'ca-file' : unable to load ${conf.caFile}.`)
  if (conf.crt !== undefined && conf.ssl === true && !loaded(s => s.crt).has(conf.crt)) return msg(`unable to stat SSL certificate '${conf.crt}'.`)
  if ((conf.ssl === true || conf.checkSsl === true) && conf.verify === undefined && conf.caFile === undefined && rt.config.global.sslServerVerify !== 'none') return msg(VERIFY_WITHOUT_CA)
  if (conf.ssl === true && conf.verify === undefined && rt.config.global.sslServerVerify === 'none') conf.verify = 'none'
  if (conf.check === true && !conf.port && !conf.checkPort) {
    return msg(`config: backend '${be.name}': server '${conf.name}' has neither service port nor check port nor tcp_check rule 'connect' with port information.`)
  }
  if (conf.agentCheck === true && !conf.agentPort) return msg(`server ${conf.name} does not have agent port. Agent check has been disabled.`)
  return null
}

function addServer (rt: CliRuntime, args: string[]): string {
  const target = args[2] ?? ''
  const slash = target.indexOf('/')
  if (slash < 0) return msg("Require 'backend/server'.")
  const be = backendOf(rt, target.slice(0, slash))
  if (be === undefined) return bare('No such backend.')
  if (!be.lb.dynamic || ['source', 'uri', 'url_param', 'hdr', 'hash', 'rdp-cookie'].includes(be.proxy.balance?.algorithm ?? '')) {
    return bare('Backend must use a dynamic load balancing to support dynamic servers.')
  }
  const name = target.slice(slash + 1)
  const addr = args[3]
  if (name === '' || addr === undefined) return msg("'server' expects <name> and <addr>[:<port>] as arguments.")
  if (be.server(name) !== undefined) return msg('Already exists a server with the same name in backend.')
  const a = parseAddress(addr, { portRequired: false, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: true, env: {} })
  if (!a.ok) return msg(`'server ${name}' : ${a.error}`)
  const conf: Server = { name, host: a.value.host, port: a.value.port, loc: { file: 'stats socket command', line: 0 } }
  // as on a server line: no port, the client's (observed with 2.6.12)
  if (a.value.port === 0) conf.relativePort = true
  const refused = dynamicServerOptions(rt, be, conf, args.slice(4))
  if (refused !== null) return refused
  if (conf.ssl === true) conf.sslSettings = true
  // 2.6 does not carry `ssl` over to a dynamic server's checks: only `check-ssl` makes them TLS (observed)
  conf.checkSsl = conf.checkSsl === true
  rt.serverAdded(be, be.addServer(conf))
  return msg('New server registered.')
}

function delServer (rt: CliRuntime, args: string[]): string {
  const target = args[2] ?? ''
  const slash = target.indexOf('/')
  if (slash < 0) return bare("Require 'backend/server'.")
  const be = backendOf(rt, target.slice(0, slash))
  if (be === undefined) return bare('No such backend.')
  const srv = be.server(target.slice(slash + 1))
  if (srv === undefined) return bare('No such server.')
  if (srv.admin !== 'maint') return bare('Only servers in maintenance mode can be deleted.')
  if (srv.served > 0 || srv.queued > 0) return bare('Server still has connections attached to it, cannot remove it.')
  rt.serverRemoved(srv)
  be.removeServer(srv)
  return bare('Server deleted.')
}

// --- maps and ACLs ------------------------------------------------------------------------------

function refArg (rt: CliRuntime, kind: PatternKind, name: string | undefined): PatternRef {
  const ref = name === undefined ? undefined : rt.patterns.find(kind, name)
  if (ref === undefined) throw new Answer(msg(kind === 'map' ? 'Unknown map identifier. Please use #<id> or <file>.' : 'Unknown ACL identifier. Please use #<id> or <file>.'))
  return ref
}

function listRefs (rt: CliRuntime, kind: PatternKind): string {
  let out = '# id (file) description\n'
  for (const r of rt.patterns.all) {
    if (r.kind !== kind) continue
    const users = r.users.length > 0 ? ` used by ${r.users.join(', by ')}` : ''
    out += `${r.id} (${r.file}) pattern loaded from file '${r.file}'${users}. curr_ver=${r.currVersion} next_ver=${r.nextVersion} entry_cnt=${r.count()}\n`
  }
  return out + '\n'
}

/** C's strtoul on `@<version>`: its leading digits, 0 without any. */
const versionNumber = (word: string): number => Number(/^\d*/.exec(word.slice(1))![0] || 0)

/** The optional `@<version>` before a map or ACL name: the version (null when absent) and the words after it. */
function versioned (args: string[]): { version: number | null, rest: string[] } {
  const word = args[2]
  if (word?.startsWith('@') !== true) return { version: null, rest: args.slice(2) }
  return { version: versionNumber(word), rest: args.slice(3) }
}

const missingId = (kind: PatternKind): string => msg(kind === 'map' ? 'Missing map identifier.' : 'Missing ACL identifier.')

function showPatterns (rt: CliRuntime, args: string[], kind: PatternKind): string {
  const { version, rest } = versioned(args)
  if (rest[0] === undefined) return listRefs(rt, kind)
  const ref = refArg(rt, kind, rest[0])
  let out = ''
  for (const e of ref.version(version ?? ref.currVersion)) out += kind === 'map' ? `${entryPointer(e)} ${e.key} ${e.value}\n` : `${entryPointer(e)} ${e.key}\n`
  return out + '\n'
}

const ADD_MAP_USAGE = msg("'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload")

/** `add map [@<ver>] <map> <<` followed by `key value` lines (2.6 takes no payload for `add acl`). */
function addPayload (ref: PatternRef, lines: string[], version: number): string {
  const entries = lines.map(l => {
    const m = /^(\S+)\s+(.*)$/.exec(l.trim())
    return m === null ? null : { key: m[1]!, value: m[2]! }
  })
  if (entries.some(e => e === null)) return ADD_MAP_USAGE
  try {
    for (const e of entries) ref.validate(e!.key, e!.value)
  } catch (err) {
    return msg((err as Error).message)
  }
  for (const e of entries) ref.add(e!.key, e!.value, version)
  return OK
}

function addPattern (rt: CliRuntime, args: string[], kind: PatternKind, payload: string[] | null): string {
  const { version, rest } = versioned(args)
  const ref = refArg(rt, kind, rest[0])
  const ver = version ?? ref.currVersion
  if (ver > ref.nextVersion) return msg(`Version number in the future, please use 'prepare ${kind}' before.`)
  if (payload !== null && kind === 'map' && rest.length === 1) return addPayload(ref, payload, ver)
  const key = rest[1]
  const value = kind === 'map' ? rest[2] : ''
  if (key === undefined || value === undefined) return kind === 'map' ? ADD_MAP_USAGE : msg("'add acl' expects two parameters: ACL identifier and pattern.")
  try {
    ref.validate(key, value)
  } catch (err) {
    return msg((err as Error).message)
  }
  ref.add(key, value, ver)
  return OK
}

/** `prepare map|acl <name>`: a new empty version to fill with `add … @<ver>` and `commit`. */
function preparePatterns (rt: CliRuntime, args: string[], kind: PatternKind): string {
  return msg(`New version created: ${refArg(rt, kind, args[2]).prepare()}`)
}

/** `commit map|acl @<ver> <name>`: that version replaces the current one at once. */
function commitPatterns (rt: CliRuntime, args: string[], kind: PatternKind): string {
  const { version, rest } = versioned(args)
  if (version === null) return msg('Missing version number.')
  if (rest[0] === undefined) return missingId(kind)
  return refArg(rt, kind, rest[0]).commit(version) ? OK : msg('Version number out of range.')
}

/** `get map <map> <value>`: how each converter reading the map would look the value up now. */
function getMapEntry (rt: CliRuntime, args: string[], kind: PatternKind): string {
  if (args[2] === undefined || args[3] === undefined) return msg(kind === 'map' ? 'Missing map identifier and/or key.' : 'Missing ACL identifier and/or key.')
  const ref = refArg(rt, kind, args[2])
  let out = ''
  for (const probe of ref.probes.values()) out += probe(args[3]) + '\n'
  return out + '\n'
}

function setPattern (rt: CliRuntime, args: string[]): string {
  const ref = refArg(rt, 'map', args[2])
  const key = args[3]
  const value = args[4]
  if (key === undefined || value === undefined) return msg("'set map' expects three parameters: map identifier, key and value.")
  try {
    ref.validate(key.startsWith('#') ? (ref.entries[0]?.key ?? '') : key, value)
  } catch (err) {
    return msg((err as Error).message)
  }
  return ref.set(key, value) ? OK : msg('entry not found.')
}

function delPattern (rt: CliRuntime, args: string[], kind: PatternKind): string {
  const ref = refArg(rt, kind, args[2])
  const key = args[3]
  if (key === undefined) return msg(kind === 'map' ? 'This command expects two parameters: map identifier and key.' : 'This command expects two parameters: ACL identifier and key.')
  return ref.delete(key) ? OK : msg('Key not found.')
}

function clearPatterns (rt: CliRuntime, args: string[], kind: PatternKind): string {
  const { version, rest } = versioned(args)
  const ref = refArg(rt, kind, rest[0])
  ref.clear(version ?? ref.currVersion)
  return OK
}

/** `explain [frontend <name>] <method> <uri> [<header>: <value>]…` (not HAProxy's: lib/explain.ts). */
function explainCommand (rt: CliRuntime, args: string[]): string {
  let i = 1
  let frontend: string | undefined
  if (args[i] === 'frontend') { frontend = args[i + 1]; i += 2 }
  const method = args[i]
  const url = args[i + 1]
  if (method === undefined || url === undefined) return msg('usage: explain [frontend <name>] <method> <uri> [<header>: <value>]...')
  const headers: Record<string, string> = {}
  for (const h of args.slice(i + 2)) {
    const colon = h.indexOf(':')
    if (colon > 0) headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim()
  }
  try {
    return rt.explain(frontend, { method, url, headers }) + '\n'
  } catch (err) {
    return msg((err as Error).message)
  }
}

// --- the session --------------------------------------------------------------------------------

function setTimeout (args: string[], session: CliSession): string {
  if (args[2] !== 'cli') return msg("'set timeout' only supports 'cli'.")
  const n = Number(args[3])
  if (args[3] === undefined || !Number.isInteger(n) || n <= 0) return msg('Expects an integer value.')
  session.timeout = n * 1000
  return OK
}

function lowerLevel (session: CliSession, to: Level): string {
  if (RANK[to] > RANK[session.level]) return DENIED
  session.level = to
  return OK
}

const COMMANDS: Command[] = [
  { words: ['show', 'info'], level: 'user', run: (rt, a) => showInfo(rt, a) },
  { words: ['show', 'stat'], level: 'user', run: showStat },
  { words: ['show', 'servers', 'state'], level: 'user', run: (rt, a) => showServersState(rt, a) },
  { words: ['show', 'servers', 'conn'], level: 'user', run: (rt, a) => showServersConn(rt, a) },
  { words: ['show', 'env'], level: 'operator', run: (_rt, a) => showEnv(a[2]) },
  { words: ['show', 'cli', 'sockets'], level: 'user', run: (rt) => showCliSockets(rt) },
  // observed on 2.6.12: nothing logged answers two newlines
  { words: ['show', 'startup-logs'], level: 'operator', run: (rt) => rt.startupLogs === '' ? '\n\n' : rt.startupLogs + '\n' },
  { words: ['shutdown', 'frontend'], level: 'admin', run: (rt, a) => shutdownFrontend(rt, a) },
  // 2.6.12 answers `level user` with this text rather than "Permission denied" (observed)
  { words: ['show', 'ssl', 'cert'], level: 'user', run: (rt, a, s) => RANK[s.level] < RANK.operator ? msg("Can't allocate memory!") : showSslCert(rt, a[3]) },
  { words: ['new', 'ssl', 'cert'], level: 'admin', run: (rt, a) => newSslCert(rt, a[3]) },
  { words: ['set', 'ssl', 'cert'], level: 'admin', run: (rt, a, _s, p) => setSslCert(rt, a[3], p) },
  { words: ['commit', 'ssl', 'cert'], level: 'admin', run: (rt, a) => commitSslCert(rt, a[3]) },
  { words: ['abort', 'ssl', 'cert'], level: 'admin', run: (rt, a) => abortSslCert(rt, a[3]) },
  { words: ['del', 'ssl', 'cert'], level: 'admin', run: (rt, a) => delSslCert(rt, a[3]) },
  { words: ['show', 'ssl', 'crt-list'], level: 'admin', run: (rt, a) => showSslCrtList(rt, a.slice(3)) },
  { words: ['add', 'ssl', 'crt-list'], level: 'admin', run: (rt, a, _s, p) => addSslCrtList(rt, a.slice(3), p) },
  { words: ['del', 'ssl', 'crt-list'], level: 'admin', run: (rt, a) => delSslCrtList(rt, a.slice(3)) },
  { words: ['show', 'resolvers'], level: 'user', run: (rt, a) => showResolvers(rt, a[2]) },
  { words: ['show', 'backend'], level: 'user', run: (rt) => '# name\n' + rt.config.proxies.filter(p => p.kind !== 'frontend').map(p => p.name + '\n').join('') + '\n' },
  { words: ['show', 'cli', 'level'], level: 'user', run: (_rt, _a, s) => msg(s.level) },
  { words: ['show', 'version'], level: 'user', run: (rt) => msg(rt.info().version) },
  { words: ['show', 'sess'], level: 'operator', run: (rt, a) => showSess(rt, a[2]) },
  { words: ['shutdown', 'session'], level: 'admin', run: (rt, a) => shutdownSession(rt, a[2]) },
  { words: ['show', 'errors'], level: 'operator', run: () => msg(`Total events captured on [${errorsDate(new Date())}] : 0`) },
  { words: ['show', 'map'], level: 'user', run: (rt, a) => showPatterns(rt, a, 'map') },
  { words: ['show', 'acl'], level: 'user', run: (rt, a) => showPatterns(rt, a, 'acl') },
  { words: ['add', 'map'], level: 'user', run: (rt, a, _s, p) => addPattern(rt, a, 'map', p) },
  { words: ['add', 'acl'], level: 'user', run: (rt, a, _s, p) => addPattern(rt, a, 'acl', p) },
  { words: ['set', 'map'], level: 'user', run: (rt, a) => setPattern(rt, a) },
  { words: ['get', 'map'], level: 'user', run: (rt, a) => getMapEntry(rt, a, 'map') },
  { words: ['get', 'acl'], level: 'user', run: (rt, a) => getMapEntry(rt, a, 'acl') },
  { words: ['prepare', 'map'], level: 'user', run: (rt, a) => preparePatterns(rt, a, 'map') },
  { words: ['prepare', 'acl'], level: 'user', run: (rt, a) => preparePatterns(rt, a, 'acl') },
  { words: ['commit', 'map'], level: 'user', run: (rt, a) => commitPatterns(rt, a, 'map') },
  { words: ['commit', 'acl'], level: 'user', run: (rt, a) => commitPatterns(rt, a, 'acl') },
  { words: ['del', 'map'], level: 'user', run: (rt, a) => delPattern(rt, a, 'map') },
  { words: ['del', 'acl'], level: 'user', run: (rt, a) => delPattern(rt, a, 'acl') },
  { words: ['show', 'cache'], level: 'admin', run: (rt) => showCache(rt.caches) },
  { words: ['show', 'table'], level: 'operator', run: (rt, a) => showTable(rt.stickTables, a) },
  { words: ['clear', 'table'], level: 'admin', run: (rt, a) => clearTable(rt.stickTables, a) },
  { words: ['set', 'table'], level: 'admin', run: (rt, a) => setTable(rt.stickTables, a) },
  { words: ['clear', 'map'], level: 'user', run: (rt, a) => clearPatterns(rt, a, 'map') },
  { words: ['clear', 'acl'], level: 'user', run: (rt, a) => clearPatterns(rt, a, 'acl') },
  { words: ['get', 'weight'], level: 'user', run: (rt, a) => getWeight(rt, a) },
  { words: ['set', 'weight'], level: 'admin', run: (rt, a) => setWeight(rt, a) },
  { words: ['set', 'server'], level: 'admin', run: (rt, a) => setServer(rt, a) },
  { words: ['set', 'maxconn'], level: 'admin', run: (rt, a) => setMaxconn(rt, a) },
  { words: ['set', 'rate-limit'], level: 'admin', run: (rt, a) => setRateLimit(rt, a) },
  { words: ['enable', 'dynamic-cookie', 'backend'], level: 'admin', run: dynamicCookie },
  { words: ['disable', 'dynamic-cookie', 'backend'], level: 'admin', run: dynamicCookie },
  { words: ['set', 'dynamic-cookie-key', 'backend'], level: 'admin', run: dynamicCookie },
  { words: ['set', 'timeout'], level: 'user', run: (_rt, a, s) => setTimeout(a, s) },
  { words: ['enable', 'server'], level: 'admin', run: (rt, a) => toggleServer(rt, a) },
  { words: ['disable', 'server'], level: 'admin', run: (rt, a) => toggleServer(rt, a) },
  { words: ['enable', 'health'], level: 'admin', run: (rt, a) => toggleHealth(rt, a) },
  { words: ['disable', 'health'], level: 'admin', run: (rt, a) => toggleHealth(rt, a) },
  { words: ['enable', 'agent'], level: 'admin', run: (rt, a) => toggleAgent(rt, a) },
  { words: ['disable', 'agent'], level: 'admin', run: (rt, a) => toggleAgent(rt, a) },
  { words: ['enable', 'frontend'], level: 'admin', run: (rt, a) => toggleFrontend(rt, a) },
  { words: ['disable', 'frontend'], level: 'admin', run: (rt, a) => toggleFrontend(rt, a) },
  { words: ['shutdown', 'sessions', 'server'], level: 'admin', run: (rt, a) => shutdownSessions(rt, a) },
  { words: ['add', 'server'], level: 'admin', run: (rt, a) => addServer(rt, a) },
  { words: ['del', 'server'], level: 'admin', run: (rt, a) => delServer(rt, a) },
  { words: ['clear', 'counters'], level: 'operator', run: (_rt, a, s) => a[2] === 'all' && s.level !== 'admin' ? DENIED : OK },
  { words: ['operator'], level: 'user', run: (_rt, _a, s) => lowerLevel(s, 'operator') },
  { words: ['user'], level: 'user', run: (_rt, _a, s) => lowerLevel(s, 'user') },
  { words: ['prompt'], level: 'user', run: (_rt, _a, s) => { s.interactive = !s.interactive; return OK } },
  { words: ['quit'], level: 'user', run: (_rt, _a, s) => { s.closing = true; return '' } },
  { words: ['explain'], level: 'user', run: (rt, a) => explainCommand(rt, a) },
  { words: ['help'], level: 'user', run: (_rt, a) => help(a.slice(1)) },
  { words: ['experimental-mode'], level: 'admin', run: (_rt, a, s) => experimentalMode(a, s) },
  { words: ['get', 'var'], level: 'operator', run: (_rt, a) => getVar(a) },
  // the experimental mode is checked before the level, as HAProxy does
  { words: ['set', 'var'], level: 'user', run: (rt, a, s) => setVar(rt, a, s) }
]

/** `experimental-mode [on|off]`: the session's access to experimental commands. */
function experimentalMode (args: string[], session: CliSession): string {
  const word = args[1]
  if (word === undefined) return msg(`experimental-mode is ${session.experimental === true ? 'ON' : 'OFF'}`)
  if (word !== 'on' && word !== 'off') return msg("'experimental-mode' only supports 'on' and 'off'.")
  session.experimental = word === 'on'
  return OK
}

/** The type names of `get var` (HAProxy's sample types). */
const varType = (v: Sample): string => typeof v === 'number' ? 'sint' : typeof v === 'boolean' ? 'bool' : 'str'

/** `get var <name>`: a process-wide variable, `proc.<name>: type=<type> value=<value>`. */
function getVar (args: string[]): string {
  const name = args[2]
  if (name === undefined || name === '') return msg('Missing process-wide variable identifier.')
  const v = name.startsWith('proc.') ? procVar(name) : undefined
  if (v === undefined) return msg('Variable not found.')
  return bare(`${name}: type=${varType(v)} value=<${toStr(v)}>`)
}

/** `set var <name> [expr|fmt] <text>` (experimental in 2.6): sets a process-wide variable. */
function setVar (rt: CliRuntime, args: string[], session: CliSession): string {
  if (session.experimental !== true) return msg('This command is restricted to experimental mode only.')
  if (RANK[session.level] < RANK.admin) return DENIED
  const name = args[2] ?? ''
  if (!name.startsWith('proc.')) return bare(`'set var': cannot set variable '${name}', only scope 'proc' is permitted here.`)
  const fmt = args[3] === 'fmt'
  const words = args.slice(args[3] === 'fmt' || args[3] === 'expr' ? 4 : 3)
  if (words.length === 0) return msg("Missing either 'expr', 'fmt' or expression.")
  let v: Sample | null
  try {
    v = evaluateOutside(rt.config, words.join(' '), fmt)
  } catch (err) {
    return bare((err as Error).message)
  }
  // an expression without a value sets nothing, and says nothing either
  if (v !== null) setProcVar(name, v)
  return OK
}

/** `[06/Dec/2026:15:51:36.321]` */
function errorsDate (d: Date): string {
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()]
  const p = (n: number, w = 2): string => String(n).padStart(w, '0')
  return `${p(d.getDate())}/${mon}/${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
}

/** The words of a help line's usage before its first argument (`show servers state`). */
function lineWords (line: string): string[] {
  const usage = line.slice(2, line.indexOf(' : ') < 0 ? undefined : line.indexOf(':')).trim()
  const words: string[] = []
  for (const w of usage.split(/\s+/)) {
    if (/^[[<({@]/.test(w) || w === '(DEPRECATED)') break
    words.push(w)
  }
  return words
}

const HELP_WORDS = HELP_LINES.map(lineWords)
const ALWAYS = HELP_LINES.slice(-3)

/** `help [words]`: the lines starting with those words, else the whole list as for an unknown command. */
function help (words: string[]): string {
  if (words.length === 0) return [HELP_HEADER, ...HELP_LINES].join('\n') + '\n\n'
  const hits = HELP_LINES.filter((_l, i) => words.every((w, j) => HELP_WORDS[i]![j] === w))
  // HAProxy then lists the commands it finds closest by a measure of its own; this lists none
  if (hits.length === 0) return [HELP_HEADER, ...ALWAYS].join('\n') + '\n\n'
  const extra = ALWAYS.filter(l => !hits.includes(l))
  return [HELP_HEADER, ...hits, ...extra].join('\n') + '\n\n'
}

/**
 * An unknown command: the help lines sharing its first words (HAProxy ranks them by a
 * similarity of its own; this keeps those that start like the command), else the whole list.
 */
function unknown (words: string[]): string {
  for (let n = Math.min(words.length, 2); n > 0; n--) {
    const hits = HELP_LINES.filter((_l, i) => words.slice(0, n).every((w, j) => HELP_WORDS[i]![j] === w) && !ALWAYS.includes(HELP_LINES[i]!))
    if (hits.length > 0) return [FUZZY_HEADER, ...hits, ...ALWAYS].join('\n') + '\n\n'
  }
  return [UNKNOWN_HEADER, ...HELP_LINES].join('\n') + '\n\n'
}

/** Runs one command (its words, escapes already resolved); returns the exact answer. */
export function runCommand (rt: CliRuntime, words: string[], session: CliSession, payload: string[] | null = null): string {
  if (words.length === 0) return [UNKNOWN_HEADER, ...HELP_LINES].join('\n') + '\n\n'
  let best: Command | null = null
  for (const c of COMMANDS) {
    if (c.words.length > words.length || (best !== null && best.words.length >= c.words.length)) continue
    if (c.words.every((w, i) => words[i] === w)) best = c
  }
  if (best === null) {
    // a command of HAProxy's list that this gateway does not implement
    const known = HELP_WORDS.findIndex(hw => hw.length > 0 && hw.every((w, i) => words[i] === w))
    if (known >= 0) return msg(`'${HELP_WORDS[known]!.join(' ')}' is not supported by fastify-haproxy.`)
    return unknown(words)
  }
  if (RANK[session.level] < RANK[best.level]) return DENIED
  try {
    return best.run(rt, words, session, payload)
  } catch (err) {
    if (err instanceof Answer) return err.text
    throw err
  }
}

/**
 * Splits a request line into commands (`;`) and words (blanks); a backslash makes the next
 * character literal (`add acl f Mon\ User\ Agent\;`).
 */
export function splitLine (line: string): string[][] {
  const commands: string[][] = []
  let words: string[] = []
  let word = ''
  let inWord = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (c === '\\' && i + 1 < line.length) {
      word += line[++i]
      inWord = true
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else if (c === ';') {
      if (inWord) words.push(word)
      commands.push(words)
      words = []
      word = ''
      inWord = false
    } else {
      word += c
      inWord = true
    }
  }
  if (inWord) words.push(word)
  commands.push(words)
  return commands
}
