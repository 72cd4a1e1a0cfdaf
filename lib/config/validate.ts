// HAProxy's post-parse checks (what `haproxy -c` reports once every section is read, then the servers' addresses):
// they only run once the whole configuration parsed without an alert — references and sanity
// checks proxy by proxy, then server address resolution last. (Userlists named in expressions are
// checked by the expression compiler, lib/acl.)

import { isIP } from 'node:net'
import type { Diagnostic, ParsedConfig, Proxy } from './model.js'
import { DiagnosticList } from './diagnostics.js'
import { DEFAULT_INIT_ADDR, initAddress } from './args.js'
import { BINDS_VERIFY_WITHOUT_CA, BINDS_WITHOUT_CERT, OTHER_SECTION_NAMES, SERVER_EXTRAS } from './keywords.js'

const hasFrontend = (p: Proxy): boolean => p.kind !== 'backend'

/** `option`s whose checks are tcp-check rules (configuration.txt §4.2 `tcp-check`; their `-c` messages name them so). */
const RULE_CHECKS = ['ssl-hello-chk', 'smtpchk', 'mysql-check', 'pgsql-check', 'redis-check', 'ldap-check', 'spop-check']
const hasBackend = (p: Proxy): boolean => p.kind !== 'frontend'
const kindWord = (p: Proxy): string => p.kind === 'listen' ? 'proxy' : p.kind
const haproxyMode = (p: Proxy): Proxy['mode'] => p.modeExplicit ? p.mode : 'tcp'

/**
 * Cross-references and per-proxy checks, proxy by proxy as check_config_validity walks them;
 * alerts here make the configuration invalid. Rules a proxy cannot use (a use_backend in a
 * backend) were kept by the parser, as HAProxy keeps them, and are checked too.
 */
export function validateReferences (config: ParsedConfig): Diagnostic[] {
  const d = new DiagnosticList()
  const backends = new Map<string, Proxy>()
  for (const p of config.proxies) if (hasBackend(p) && !backends.has(p.name)) backends.set(p.name, p)
  const target = (p: Proxy, name: string, what: string): void => {
    if (name.includes('%[')) return
    const be = backends.get(name)
    if (!be) d.alert(`Proxy '${p.name}': unable to find required ${what}: '${name}'.`)
    else if (be === p) d.alert(`Proxy '${p.name}': loop detected for ${what}: '${name}'.`)
    else if (haproxyMode(p) === 'http' && haproxyMode(be) === 'tcp') {
      // HAProxy's modes, not ours: a proxy without `mode` is TCP there (we serve it as HTTP).
      d.alert(`http ${kindWord(p)} '${p.name}' (${p.loc.file}:${p.loc.line}) tries to use incompatible tcp ${kindWord(be)} '${be.name}' (${be.loc.file}:${be.loc.line}) ` +
        `${what === 'default_backend' ? 'as its default backend' : "in a 'use_backend' rule"} (see 'mode').`)
    }
  }
  for (const p of config.proxies) {
    if (p.disabled) continue
    if (hasFrontend(p) && p.binds.length === 0) {
      d.warn(`${kindWord(p)} '${p.name}' has no 'bind' directive. Please declare it as a backend if this was intended.`)
    }
    for (const b of p.binds) {
      const addr = BINDS_WITHOUT_CERT.get(b)
      if (addr !== undefined) d.alert(`Proxy '${p.name}': no SSL certificate specified for bind '${addr}' at [${b.loc.file}:${b.loc.line}] (use 'crt').`)
      const unverifiable = BINDS_VERIFY_WITHOUT_CA.get(b)
      if (unverifiable !== undefined) d.alert(`Proxy '${p.name}': verify is enabled but no CA file specified for bind '${unverifiable}' at [${b.loc.file}:${b.loc.line}].`)
    }
    // §9.2: another filter than cache or fcgi-app makes the compression filter's place explicit
    if (p.compression !== undefined && p.filters?.some(f => f !== 'cache' && f !== 'fcgi-app' && f !== 'compression') === true && !p.filters.includes('compression')) {
      d.alert(`config: ${kindWord(p)} '${p.name}': require an explicit filter declaration to use HTTP compression`)
    }
    if (p.defaultBackend !== null) target(p, p.defaultBackend.name, 'default_backend')
    for (const r of p.useBackends) target(p, r.backend, 'use_backend')
    for (const r of p.stickRules) {
      const name = r.table ?? p.name
      if (!config.proxies.some(x => x.name === name && x.stickTable !== null)) d.alert(`Proxy '${p.name}': unable to find stick-table '${name}'.`)
    }
    for (const e of p.errorSources) {
      if (e.kind === 'errorfiles' && !config.httpErrors.some(h => h.name === e.section)) {
        d.alert(`proxy '${p.name}': unable to find http-errors section '${e.section}'.`, p.loc)
      }
    }
    if (p.checkType?.name === 'external-check' && hasBackend(p)) {
      if (config.global.externalCheck !== true) d.alert(`Proxy '${p.name}' : 'option external-check' unable to find required 'global.external-check'.`)
      else if (p.externalCheck?.command === undefined) d.alert(`Proxy '${p.name}' : 'option external-check' unable to find required 'external-check command'.`)
      if (config.global.insecureForkWanted !== true) d.warn(`Proxy '${p.name}' : 'insecure-fork-wanted' not enabled in the global section, 'option external-check' will likely fail.`)
    }
    if (p.stats !== null && p.stats.httpRequest.length > 0 && p.stats.auth.length > 0) {
      d.alert(`proxy '${p.name}': stats 'auth'/'realm' and 'http-request' can't be used at the same time.`)
    }
    for (const s of p.servers) {
      const who = `'server ${p.name}/${s.name}'`
      const extras = SERVER_EXTRAS.get(s)
      if (extras?.resolvers !== undefined && OTHER_SECTION_NAMES.get(config)?.get('resolvers')?.has(extras.resolvers) !== true) {
        d.alert(`${p.kind} '${p.name}', server '${s.name}': unable to find required resolvers '${extras.resolvers}'`)
      }
      const track = extras?.track
      if (track !== undefined) {
        const slash = track.indexOf('/')
        const px = slash < 0 ? p : config.proxies.find(x => x.name === track.slice(0, slash) && hasBackend(x))
        const target = px?.servers.find(x => x.name === (slash < 0 ? track : track.slice(slash + 1)))
        if (!target) d.alert(`${who} : unable to find required server '${track}' for tracking.`, s.loc)
        else if (!target.check && target.agentCheck !== true) d.alert(`${who} : unable to use ${px!.name}/${target.name} for tracking as it does not have any check nor agent enabled.`, s.loc)
      }
      if (s.agentCheck === true && !s.agentPort) {
        d.alert(`${who} : server ${s.name} does not have agent port. Agent check has been disabled.`, s.loc)
      }
      if (s.check === true && (!s.port || s.relativePort === true) && !s.checkPort && !s.host.startsWith('/') && extras?.fqdn !== true) {
        // HAProxy's message names tcp-check rules only when the proxy has some: the protocol
        // checks are made of them (`option tcp-check` alone has none; observed with `haproxy -c`).
        const rules = p.httpCheck !== null || RULE_CHECKS.some(o => p.options[o] === true) ? " nor tcp_check rule 'connect' with port information" : ''
        d.alert(`config: ${kindWord(p)} '${p.name}': server '${s.name}' has neither service port nor check port${rules}.`)
      }
      if (s.ssl === true && s.verify !== 'none' && s.caFile === undefined) {
        d.alert(`${who} : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.`, s.loc)
      }
    }
    // A backend without servers connects nowhere: HAProxy only wants its timeouts when it has some.
    const missing = (hasFrontend(p) && !p.timeouts.client) || (hasBackend(p) && p.servers.length > 0 && (!p.timeouts.connect || !p.timeouts.server))
    if (missing && (p.mode === 'http' || p.mode === 'tcp')) d.warn(missingTimeouts(kindWord(p), p.name))
  }
  // a ring with servers is a backend inside HAProxy, a log-forward section a frontend
  for (const r of config.rings ?? []) {
    if (r.servers.length > 0 && (r.timeoutConnect === null || r.timeoutServer === null)) d.warn(missingTimeouts('backend', r.name))
  }
  for (const f of config.logForwards ?? []) {
    if (f.binds.length === 0 && f.dgramBinds.length === 0) d.warn(`frontend '${f.name}' has no 'bind' directive. Please declare it as a backend if this was intended.`)
  }
  return d.items
}

/**
 * Server names are resolved last, as HAProxy does when it initialises server addresses
 * (configuration.txt §5.2 `init-addr`): a host name that no method
 * resolves is an alert, then one closing "Failed to initialize" line; one left to `none` (or to
 * a `resolvers` section) only disables the server, with a warning when `libc` was tried.
 */
export function resolveServers (config: ParsedConfig): Diagnostic[] {
  const d = new DiagnosticList()
  for (const p of config.proxies) {
    for (const s of p.servers) {
      if (s.host === '' || isIP(s.host) !== 0 || s.host.startsWith('/') || s.host.includes('@')) continue
      const extras = SERVER_EXTRAS.get(s)
      const init = initAddress(s.host, extras?.initAddr ?? DEFAULT_INIT_ADDR)
      const who = `'server ${p.name}/${s.name}'`
      if (init.kind === 'addr' || (init.kind === 'none' && !init.libc) || (extras?.resolvers !== undefined && s.host.startsWith('_'))) continue
      if (init.kind === 'none' || extras?.resolvers !== undefined) d.warn(`${who} : could not resolve address '${s.host}', disabling server.`, s.loc, 'server')
      else if (init.libc) d.alert(`${who} : could not resolve address '${s.host}'.`, s.loc, 'server')
      else d.alert(`${who} : no method found to resolve address '${s.host}'.`, s.loc, 'server')
    }
  }
  if (d.alerts > 0) d.alert('Failed to initialize server(s) addr.')
  return d.items
}

function missingTimeouts (kind: string, name: string): string {
  return `missing timeouts for ${kind} '${name}'.\n` +
    '   | While not properly invalid, you will certainly encounter various problems\n' +
    '   | with such a configuration. To fix this, please ensure that all following\n' +
    "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."
}

/** A configuration with nothing to listen on: HAProxy exits 2 without an alert. */
export const NO_LISTENER = 'no-listener'

export function listenerCheck (config: ParsedConfig): Diagnostic[] {
  // The stats socket, peers and log-forward sections listen too (HAProxy counts every listener).
  const listening = config.proxies.some(p => !p.disabled && p.kind !== 'backend' && p.binds.length > 0) ||
    config.global.stats.sockets.length > 0 ||
    config.diagnostics.some(d => d.keyword === 'peers') ||
    (config.logForwards ?? []).some(f => f.binds.length > 0 || f.dgramBinds.length > 0)
  if (listening) return []
  return [{ level: 'notice', message: 'Configuration file has no error but will not start (no listener) => exit(2).', keyword: NO_LISTENER }]
}
