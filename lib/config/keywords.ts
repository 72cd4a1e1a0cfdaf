// Keywords are data (STYLE.md §5, HAProxy's cfg_kw_list / cfg_opts[]): one row per keyword with
// the sections that accept it (configuration.txt §4.1 matrix), what this gateway does with it
// (`support`: implemented, meaningless here, or not implemented — see Support), a function that
// checks its arguments and applies it to the model, or the message HAProxy 2.6 gives for a
// removed directive. Wrong-section semantics follow HAProxy: a keyword a defaults section cannot
// hold is an alert; one a proxy lacks the capability for is ignored with a warning (the
// keyword matrix of configuration.txt §4.1).

import { existsSync, fstatSync, statSync } from 'node:fs'
import { FileTooLarge, PEM_FILE_LIMIT, readBounded } from '../files.js'
import { isAbsolute, resolve } from 'node:path'
import { COMPRESSION_ALGOS, STICK_DATA_TYPES, type AddressHeader, type CompressionAlgo, type CompressionConfig, type Bind, type BindTls, type Condition, type CookiePersistence, type HttpCheckExpect, type HttpCheckRule, type Loc, type LogFraming, type LogTarget, type Proxy, type Rule, type ServerOptions, type StickDataType, type StickRule, type StickTableSpec, type Timeouts } from './model.js'
import { CLF_FORMAT, HTTPLOG_FORMAT, HTTPSLOG_FORMAT, TCPLOG_FORMAT } from '../log/formats.js'
import { atoi, isInteger, parseAddress, parseTime, type TimeResult } from './args.js'
import { didYouMean } from './diagnostics.js'
import { parseCrtList, type CrtListEntry } from './crt-list.js'
import { parseNet } from '../acl/ip.js'

/** Section letters of the §4.1 matrix: D defaults, F frontend, L listen, B backend; '!' = named defaults only. */
export type Where = string

/** What the parser knows while applying one proxy keyword line. */
export interface ProxyCtx {
  proxy: Proxy
  /** The proxy being filled is a defaults section (kind is then meaningless). */
  isDefaults: boolean
  /** `frontend`, `backend`, `listen` or `defaults`: the section word, for messages. */
  section: string
  defaultServer: ServerOptions
  loc: Loc
  /** `no option x` / `default option x`. */
  kwm: 'std' | 'no' | 'default'
  alert: (msg: string) => void
  warn: (msg: string) => void
  /** A warning for a line that means nothing inside Node (DiagnosticList.inert). */
  inert: (msg: string) => void
  notice: (msg: string) => void
  /** Alerts reported so far (to tell whether a check just failed). */
  alerts: () => number
  /** Absolute path of a file named in the config (relative to the config's directory). */
  path: (p: string) => string
  /**
   * A keyword HAProxy implements and this gateway does not, that changes requests or responses:
   * an alert once the section's mode is known (a warning in `mode tcp` proxies, refused whole).
   */
  /** `tcp`: what it is in a `mode tcp` proxy instead (implemented there, or meaningless there). */
  unsupported: (what: string, does: string, tcp?: TcpSupport, httpInert?: boolean) => void
  /** Set when the line holds TCP/HTTP rules (a defaults section with rules cannot be inherited implicitly). */
  markRules: () => void
  /** Parser-side facts about this section (explicit id, http-check rules seen …). */
  flags: Set<string>
  /** The environment as `setenv` & co. left it, for addresses. */
  env: Record<string, string | undefined>
  /** `tune.bufsize` of the global section: the largest errorfile. */
  bufsize: number
  /** `crt-base` / `ca-base` of the global section. */
  crtBase: string | undefined
  caBase: string | undefined
}

type Apply = (c: ProxyCtx, args: string[]) => void

/**
 * What fastify-haproxy does with a keyword HAProxy 2.6 accepts. The project's rule: nothing we do
 * not implement is silently ignored.
 * - `'yes'`: implemented.
 * - `inert`: no meaning inside Node, or only about logging or tuning: accepted with a warning
 *   (a notice when `notice`) that says why it has no effect.
 * - `unsupported`: changes what happens to requests or responses in HAProxy (the text says how):
 *   an alert in proxies served as HTTP, a warning in `mode tcp` ones (those are refused whole).
 * - `'args'`: the decision depends on the arguments; `apply` makes it (option, tcp-request …).
 * - `'removed'`: HAProxy 2.6 itself refuses it, with the message in `removed`.
 */
export type Support = 'yes' | 'args' | 'removed' | { inert: string, notice?: true, tcp?: 'served' } | { unsupported: string, tcp?: TcpSupport }
/** An HTTP-side gap that `mode tcp` proxies implement. */
export type TcpSupport = 'served'

export interface ProxyKeyword {
  where: Where
  support: Support
  apply?: Apply
  /** HAProxy 2.6's message for a directive it no longer supports (an alert). */
  removed?: string
  /** A proxy without the capability gets an alert instead of the usual warning. */
  capAlert?: string
  /** Custom message when used in a defaults section it does not belong to. */
  defaultsMsg?: string
  /** Most arguments the keyword takes (HAProxy's alertif_too_many_args); absent = not checked here. */
  max?: number
  /** `apply` gets every word of the line, empty ones too (argsOf stops at the first): rules and conditions read past an unset "${VAR}". */
  allWords?: true
}

/** Support rows: meaningless here (a warning), logging only (a notice), not implemented (an alert in HTTP proxies). */
const inert = (why: string): Support => ({ inert: why })
const unsupported = (does: string): Support => ({ unsupported: does })
const CONNECTIONS = inert('connection handling is left to Node and undici')

/** Says what a supported-or-not decision means for this line (Support). */
export function report (c: ProxyCtx, s: Support, what: string): void {
  if (typeof s !== 'object') return
  if ('unsupported' in s) return c.unsupported(what, s.unsupported, s.tcp)
  // meaningless in HTTP proxies, served in TCP ones: decided once the section's mode is known
  if (s.tcp === 'served') return c.unsupported(what, s.inert, 'served', true)
  const msg = `'${what}' is accepted but has no effect in fastify-haproxy (${s.inert}).`
  if (s.notice === true) c.notice(msg)
  else c.inert(msg)
}

/**
 * A keyword table without a prototype: a config word such as `toString` or `__proto__` must
 * find no row, not an Object method.
 */
function table<T> (rows: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, rows)
}

/** Words up to the first empty one: HAProxy stops reading arguments there (an unset "${VAR}"). */
export function argsOf (words: string[]): string[] {
  const i = words.indexOf('')
  return i < 0 ? words : words.slice(0, i)
}

/**
 * How an action reads its own arguments before HAProxy looks for `if`/`unless` (configuration.txt
 * §4.2 `http-request`): `fixed` leading words whatever they say, then any of its `options`, each
 * followed by the number of values it takes. So `set-header X if` sets X to "if", and
 * `return status 200 string unless` returns the string "unless".
 */
interface ActionArgs { fixed: number, options?: Record<string, number> }

const REPLY_OPTIONS = { status: 1, 'content-type': 1, 'default-errorfiles': 0, errorfile: 1, errorfiles: 1, file: 1, 'lf-file': 1, string: 1, 'lf-string': 1, hdr: 2 }
const REDIRECT_OPTIONS = { location: 1, prefix: 1, scheme: 1, code: 1, 'set-cookie': 1, 'clear-cookie': 1, 'drop-query': 0, 'append-slash': 0, 'ignore-empty': 0 }

/** Per action name (without its `(…)` part); an action not listed takes no fixed words. */
const ACTION_ARGS: Record<string, ActionArgs> = table<ActionArgs>({
  ...Object.fromEntries(['set-header', 'add-header', 'early-hint', 'replace-path', 'replace-pathq', 'replace-uri', 'set-map', 'set-timeout', 'send-spoe-group']
    .map(a => [a, { fixed: 2 }])),
  ...Object.fromEntries(['replace-header', 'replace-value'].map(a => [a, { fixed: 3 }])),
  ...Object.fromEntries(['set-status', 'set-path', 'set-pathq', 'set-uri', 'set-query', 'set-method', 'set-log-level', 'set-nice', 'set-tos', 'set-mark', 'set-src',
    'set-dst', 'set-src-port', 'set-dst-port', 'set-var', 'set-var-fmt', 'del-map', 'add-acl', 'del-acl', 'sc-set-gpt', 'sc-set-gpt0', 'do-resolve',
    'use-service', 'set-priority-class', 'set-priority-offset', 'strict-mode', 'cache-use', 'cache-store'].map(a => [a, { fixed: 1 }])),
  'del-header': { fixed: 1, options: { '-m': 1 } },
  capture: { fixed: 1, options: { len: 1, id: 1 } },
  'track-sc': { fixed: 1, options: { table: 1 } },
  'normalize-uri': { fixed: 1, options: { full: 0, strict: 0 } },
  'wait-for-body': { fixed: 0, options: { time: 1, 'at-least': 1 } },
  auth: { fixed: 0, options: { realm: 1 } },
  redirect: { fixed: 0, options: REDIRECT_OPTIONS },
  return: { fixed: 0, options: REPLY_OPTIONS },
  deny: { fixed: 0, options: { deny_status: 1, ...REPLY_OPTIONS } },
  tarpit: { fixed: 0, options: { deny_status: 1, ...REPLY_OPTIONS } }
})

/** Where an action's own words end: the first word that may start its condition. */
function actionEnd (words: string[]): number {
  const name = words[0] ?? ''
  const spec = ACTION_ARGS[/^track-sc\d+$/.test(name) ? 'track-sc' : name.replace(/\(.*$/, '')]
  if (spec === undefined) return 1
  let i = 1 + spec.fixed
  while (i < words.length && spec.options !== undefined && Object.hasOwn(spec.options, words[i]!)) i += 1 + spec.options[words[i]!]!
  return Math.min(i, words.length)
}

/** Splits `... if|unless <cond>` off a rule line: the first `if`/`unless` from `from` on (see actionEnd). */
function splitCondition (words: string[], loc: Loc, from = 0): { args: string[], cond: Condition | null } {
  const i = words.findIndex((w, j) => j >= from && (w === 'if' || w === 'unless'))
  if (i < 0) return { args: words, cond: null }
  return { args: words.slice(0, i), cond: { polarity: words[i] as 'if' | 'unless', words: words.slice(i + 1), loc } }
}

function tooMany (c: ProxyCtx, args: string[], max: number, name = args[0]!): boolean {
  if (args.length > max + 1) {
    c.alert(`'${name}' cannot handle unexpected argument '${args[max + 1]}'.`)
    return true
  }
  return false
}

/** `timeout X <time>`-style values; reports in HAProxy's words and returns null on error. */
function timeArg (c: ProxyCtx, value: string | undefined, what: string): number | null {
  if (value === undefined || value === '') {
    c.alert(`'${what}' expects an integer value (in milliseconds)`)
    return null
  }
  const r: TimeResult = parseTime(value)
  if (!r.ok) {
    if (r.overflow) c.alert(`timer overflow in argument '${value}' to '${what}' (maximum value is 2147483647 ms or ~24.8 days)`)
    else c.alert(`unexpected character '${r.bad ?? ''}' in '${what}'`)
    return null
  }
  if (r.trailing !== undefined) {
    c.warn(`unexpected character '${r.trailing}' after the timer value '${value}', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions.`)
  }
  return r.value
}

// ---------------------------------------------------------------------------------------------
// timeout <name> <time>   (§4.2 "timeout ...")

const TIMEOUTS: Record<string, { field?: keyof Timeouts, where: Where, support: Support }> = table({
  client: { field: 'client', where: 'DFL', support: 'yes' },
  server: { field: 'server', where: 'DLB', support: 'yes' },
  connect: { field: 'connect', where: 'DLB', support: 'yes' },
  check: { field: 'check', where: 'DLB', support: 'yes' },
  queue: { field: 'queue', where: 'DLB', support: 'yes' },
  'http-keep-alive': { field: 'httpKeepAlive', where: 'DFLB', support: 'yes' },
  'http-request': { field: 'httpRequest', where: 'DFLB', support: 'yes' },
  tunnel: { field: 'tunnel', where: 'DLB', support: 'yes' },
  tarpit: { field: 'tarpit', where: 'DFLB', support: 'yes' },
  'client-fin': { field: 'clientFin', where: 'DFL', support: 'yes' },
  'server-fin': { field: 'serverFin', where: 'DLB', support: 'yes' }
})

const applyTimeout: Apply = (c, args) => {
  const name = args[1] ?? ''
  const row = TIMEOUTS[name]
  if (!row) {
    c.alert(`'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '${name}')`)
    return
  }
  const ms = timeArg(c, args[2], `timeout ${name}`)
  if (ms === null) return
  if (tooMany(c, args, 2, `timeout ${name}`)) return
  if (!c.isDefaults && !capable(c.proxy.kind, row.where)) {
    c.warn(`'timeout ${name}' will be ignored because ${c.proxy.kind} '${c.proxy.name}' has no ${c.proxy.kind === 'frontend' ? 'backend' : 'frontend'} capability`)
    return
  }
  if (row.field) c.proxy.timeouts[row.field] = ms
  report(c, row.support, `timeout ${name}`)
}

export function capable (kind: Proxy['kind'], where: Where): boolean {
  if (kind === 'listen') return where.includes('L')
  return where.includes(kind === 'frontend' ? 'F' : 'B')
}

// ---------------------------------------------------------------------------------------------
// option <name>   (§4.2 "option ...")

interface OptionRow {
  where: Where
  /** Accepts `no option x` / `default option x`. */
  negatable: boolean
  support: Support
  apply?: (c: ProxyCtx, args: string[], on: boolean) => void
  removed?: string
  /** Takes arguments of its own (otherwise extra words are an alert). */
  takesArgs?: boolean
}

/** An on/off option kept in `proxy.options`. */
const flag = (where: Where, support: Support): OptionRow => ({ where, negatable: true, support, apply: (c, a, on) => { c.proxy.options[a[1]!] = on } })

/** `option http-keep-alive`, `http-server-close`, `httpclose` (forward.ts connectionMode); `http-tunnel` stays inert. */
const connMode = (mode: NonNullable<Proxy['httpConnectionMode']>): OptionRow => ({
  where: 'DFLB',
  negatable: true,
  support: mode === 'tunnel' ? CONNECTIONS : 'yes',
  apply: (c, a, on) => {
    c.proxy.options[a[1]!] = on
    if (on) c.proxy.httpConnectionMode = mode
    else if (c.proxy.httpConnectionMode === mode) delete c.proxy.httpConnectionMode
  }
})

/** A check lib/runtime/tcp-check.ts (or external-check.ts) runs: the option and its arguments are kept (the last check option wins). */
const scriptedCheck = (takesArgs = false, validate?: (a: string[]) => string | null): OptionRow => ({
  where: 'DLB',
  negatable: false,
  takesArgs,
  support: 'yes',
  apply: (c, a) => {
    const error = validate?.(a) ?? null
    if (error !== null) return c.alert(error)
    c.proxy.checkType = { name: a[1]!, args: a.slice(2) }
  }
})
/** `option pgsql-check user <name>` (HAProxy 2.6's messages). */
const pgsqlArgs = (a: string[]): string | null => {
  if (a[2] === undefined) return "'option pgsql-check' expects 'user <username>' as argument."
  if (a[2] !== 'user') return "'option pgsql-check' only supports optional values: 'user'."
  return a[3] === undefined ? "'option pgsql-check' expects 'user <username>' as argument." : null
}
/** `option mysql-check [user <name> [post-41|pre-41]]` (HAProxy 2.6's messages). */
const mysqlArgs = (a: string[]): string | null => {
  if (a[2] === undefined) return null
  if (a[2] !== 'user') return `'option mysql-check' only supports optional values: 'user' (got '${a[2]}').`
  if (a[3] === undefined) return "'option mysql-check user' expects <username> as argument."
  if (a[4] !== undefined && a[4] !== 'post-41' && a[4] !== 'pre-41') return `keyword 'user' only supports 'post-41' and 'pre-41' (got '${a[4]}').`
  return null
}
const removedOption = (removed: string): OptionRow => ({ where: 'DFLB', negatable: true, support: 'removed', removed })

export const OPTIONS: Record<string, OptionRow> = table({
  abortonclose: flag('DLB', 'yes'),
  'accept-invalid-http-request': flag('DFL', inert('Node\'s HTTP parser decides what it accepts')),
  'accept-invalid-http-response': flag('DLB', inert('undici decides what it accepts')),
  allbackups: { where: 'DLB', negatable: true, support: 'yes', apply: (c, a, on) => { c.proxy.allBackups = on; c.proxy.options[a[1]!] = on } },
  checkcache: flag('DLB', unsupported('blocks cacheable responses that would set a cookie')),
  clitcpka: flag('DFL', 'yes'),
  contstats: flag('DFL', 'yes'), // lib/runtime/forward.ts Exchange.addCounts
  'disable-h2-upgrade': flag('DFL', 'yes'),
  'dontlog-normal': flag('DFL', 'yes'),
  dontlognull: flag('DFL', 'yes'),
  'h1-case-adjust-bogus-client': flag('DFL', inert('header case is kept as Node gives it')),
  'h1-case-adjust-bogus-server': flag('DLB', inert('header case is kept as Node gives it')),
  'http-buffer-request': flag('DFLB', 'yes'),
  'http-ignore-probes': flag('DFL', 'yes'),
  'http-keep-alive': connMode('keep-alive'),
  'http-no-delay': flag('DFLB', inert('Node sets TCP_NODELAY itself')),
  'http-pretend-keepalive': flag('DLB', CONNECTIONS),
  'http-restrict-req-hdr-names': { where: 'DFLB', negatable: false, takesArgs: true, support: 'yes', apply: applyRestrictHeaderNames },
  'http-server-close': connMode('server-close'),
  'http-use-proxy-header': flag('DFL', CONNECTIONS),
  httpclose: connMode('close'),
  httplog: {
    where: 'DFL',
    negatable: false,
    takesArgs: true,
    support: 'yes',
    apply: (c, a) => {
      if (a[2] !== undefined && a[2] !== 'clf') return c.alert("keyword 'httplog' only supports option 'clf'.")
      tooMany(c, a, 2, 'option httplog')
      c.proxy.logFormat = a[2] === 'clf' ? CLF_FORMAT : HTTPLOG_FORMAT
    }
  },
  httpslog: { where: 'DFL', negatable: false, support: 'yes', apply: (c) => { c.proxy.logFormat = HTTPSLOG_FORMAT } },
  'idle-close-on-response': flag('DFL', CONNECTIONS),
  'independent-streams': flag('DFLB', CONNECTIONS),
  'ldap-check': scriptedCheck(),
  'external-check': scriptedCheck(),
  'log-health-checks': flag('DLB', 'yes'),
  'log-separate-errors': flag('DFL', 'yes'),
  logasap: flag('DFL', 'yes'),
  'mysql-check': scriptedCheck(true, mysqlArgs),
  nolinger: flag('DFLB', inert('socket lingering is left to Node')),
  originalto: { where: 'DFLB', negatable: false, takesArgs: true, support: 'yes', apply: addressHeaderOption('originalto') },
  persist: flag('DLB', 'yes'),
  'pgsql-check': scriptedCheck(true, pgsqlArgs),
  // lib/runtime/last-server.ts
  'prefer-last-server': flag('DLB', 'yes'),
  redispatch: { where: 'DLB', negatable: true, takesArgs: true, support: 'yes', apply: applyRedispatch },
  'redis-check': scriptedCheck(),
  smtpchk: scriptedCheck(true),
  // lib/runtime/listener.ts: the listeners' rows of the stats
  'socket-stats': flag('DFL', 'yes'),
  'splice-auto': flag('DFLB', inert('no kernel splicing in Node')),
  'splice-request': flag('DFLB', inert('no kernel splicing in Node')),
  'splice-response': flag('DFLB', inert('no kernel splicing in Node')),
  'spop-check': scriptedCheck(),
  srvtcpka: flag('DLB', 'yes'), // undici enables TCP keep-alive on every server connection
  'ssl-hello-chk': scriptedCheck(),
  'tcp-check': scriptedCheck(),
  'tcp-smart-accept': flag('DFL', inert('socket tuning is left to Node')),
  'tcp-smart-connect': flag('DLB', inert('socket tuning is left to Node')),
  // the client side (serve.ts); toward servers undici always enables TCP keep-alive
  tcpka: { where: 'DFLB', negatable: false, support: 'yes', apply: (c, a) => { c.proxy.options[a[1]!] = true } },
  tcplog: { where: 'DFLB', negatable: false, support: 'yes', apply: (c) => { c.proxy.logFormat = TCPLOG_FORMAT } },
  transparent: flag('DLB', inert('no transparent proxying')),
  forwardfor: { where: 'DFLB', negatable: false, takesArgs: true, support: 'yes', apply: addressHeaderOption('forwardfor') },
  httpchk: { where: 'DLB', negatable: false, takesArgs: true, support: 'yes', apply: applyHttpchk },
  forceclose: removedOption("option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed."),
  'http-tunnel': removedOption("option 'http-tunnel' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed."),
  http_proxy: removedOption("option 'http_proxy' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if absolutely needed.")
})

const HTTP_REUSE = ['never', 'safe', 'aggressive', 'always'] as const

function applyHttpReuse (c: ProxyCtx, args: string[]): void {
  const mode = HTTP_REUSE.find((m) => m === args[1])
  if (mode === undefined) return c.alert("'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.")
  if (tooMany(c, args, 1, `http-reuse ${mode}`)) return
  c.proxy.httpReuse = mode
}

/** `option http-restrict-req-hdr-names { preserve | delete | reject }` (§4.2). */
function applyRestrictHeaderNames (c: ProxyCtx, args: string[]): void {
  if (tooMany(c, args, 2, 'option')) return
  const v = args[2] ?? ''
  if (v === '') return c.alert("missing parameter. option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option.")
  if (v !== 'preserve' && v !== 'delete' && v !== 'reject') return c.alert(`invalid parameter '${v}'. option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option.`)
  if (v === 'preserve') delete c.proxy.restrictHeaderNames
  else c.proxy.restrictHeaderNames = v
}

function applyRedispatch (c: ProxyCtx, args: string[], on: boolean): void {
  if (!on) {
    c.proxy.redispatch = null
    c.proxy.options.redispatch = false
    return
  }
  // §4.2 "option redispatch <interval>": -1 (the default) is the last retry.
  const interval = args[2] !== undefined ? atoi(args[2]) : -1
  c.proxy.redispatch = { interval: interval === 0 ? -1 : interval }
  c.proxy.options.redispatch = true
}

/**
 * `option forwardfor [except <net>] [header <name>] [if-none]` and `option originalto [except
 * <net>] [header <name>]` (§4.2), with HAProxy's messages.
 */
function addressHeaderOption (option: 'forwardfor' | 'originalto'): Apply {
  const forwardfor = option === 'forwardfor'
  return (c, args) => {
    const rule: AddressHeader = { header: forwardfor ? 'X-Forwarded-For' : 'X-Original-To', ifNone: false }
    for (let i = 2; i < args.length; i++) {
      const w = args[i]
      if (w === 'except') {
        if (!args[i + 1] || parseNet(args[i + 1]!) === null) return c.alert(`'option ${option} except' expects <address>[/mask] as argument.`)
        rule.except = args[++i]!
      } else if (w === 'header') {
        if (!args[i + 1]) return c.alert(`'option ${option} header' expects <header_name> as argument.`)
        rule.header = args[++i]!
      } else if (w === 'if-none' && forwardfor) {
        rule.ifNone = true
      } else {
        return c.alert(forwardfor
          ? "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'."
          : "'option originalto' only supports optional values: 'except' and 'header'.")
      }
    }
    if (forwardfor) c.proxy.forwardFor = rule
    else c.proxy.originalTo = rule
    c.proxy.options[option] = true
  }
}

function applyHttpchk (c: ProxyCtx, args: string[]): void {
  // §4.2 "option httpchk [<uri>] | <method> <uri> [<version>]"
  const rest = args.slice(2)
  if (rest.length > 3) return c.alert(`'option httpchk' cannot handle unexpected argument '${rest[3]}'.`)
  // a proxy's own `option httpchk` starts over: the defaults' rules are not its (recorded with 2.6)
  const own = c.proxy.httpCheck?.inherited === false ? c.proxy.httpCheck : null
  const hc = own ?? freshHttpCheck(c.proxy.httpCheck)
  if (rest.length === 1) {
    hc.uri = rest[0]!
  } else if (rest.length >= 2) {
    hc.method = rest[0]!
    hc.uri = rest[1]!
    if (rest[2] !== undefined) {
      // A version may carry headers the old way: "HTTP/1.1\r\nHost:\ www".
      const [ver, ...hdrs] = rest[2].split('\r\n')
      hc.version = ver!
      for (const h of hdrs) {
        const colon = h.indexOf(':')
        if (colon > 0) hc.headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()])
      }
    }
  }
  c.proxy.httpCheck = hc
  c.proxy.options.httpchk = true
}

const applyOption: Apply = (c, args) => {
  const name = args[1]
  if (name === undefined) return c.alert("'option' expects an option name.")
  const row = OPTIONS[name]
  if (!row) return c.alert(`unknown option '${name}'${didYouMean(name, Object.keys(OPTIONS)) || '.'}`)
  if (row.removed) return c.alert(row.removed)
  if (c.kwm !== 'std' && !row.negatable) return c.alert(`negation/default is not supported for option '${name}'.`)
  if (!row.takesArgs && tooMany(c, args, 1, `option ${name}`)) return
  if (!c.isDefaults && !capable(c.proxy.kind, row.where)) {
    c.warn(`'option ${name}' ignored because ${c.proxy.kind} '${c.proxy.name}' has no ${c.proxy.kind === 'frontend' ? 'backend' : 'frontend'} capability.`)
    return
  }
  const on = c.kwm === 'std'
  if (row.apply) {
    const alerts = c.alerts()
    row.apply(c, args, on)
    if (c.alerts() !== alerts) return
  }
  // `no option x` turns off what we do not do anyway.
  if (on) report(c, row.support, `option ${name}`)
}

// ---------------------------------------------------------------------------------------------
// stats <sub> ...   (§4.2 "stats ...")

const STATS_SUBS = "'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'"

function stats (c: ProxyCtx): NonNullable<Proxy['stats']> {
  c.proxy.stats ??= { enabled: false, uri: '/haproxy?stats', auth: [], realm: 'HAProxy Statistics', hideVersion: false, showLegends: false, scope: [], admin: null, httpRequest: [], loc: c.loc }
  return c.proxy.stats
}

const applyStats: Apply = (c, args) => {
  const sub = args[1]
  if (sub === undefined) return c.alert(`missing keyword in 'stats', expects ${STATS_SUBS}.`)
  const v = args[2]
  switch (sub) {
    case 'enable': stats(c).enabled = true; return
    case 'uri':
      if (!v) return c.alert("'uri' needs an URI prefix.")
      stats(c).uri = v; stats(c).enabled = true; return
    case 'realm':
      if (!v) return c.alert("'realm' needs an realm name.")
      // HAProxy keeps the rest of the line as the realm.
      stats(c).realm = args.slice(2).join(' '); stats(c).enabled = true; return
    case 'auth': {
      if (!v) return c.alert("'auth' needs a user:password account.")
      const colon = v.indexOf(':')
      stats(c).auth.push(colon < 0 ? { user: v, password: '' } : { user: v.slice(0, colon), password: v.slice(colon + 1) })
      stats(c).enabled = true
      return
    }
    case 'scope':
      if (!v) return c.alert("'scope' needs a proxy name.")
      stats(c).scope.push(v); stats(c).enabled = true; return
    case 'refresh': {
      if (!v) return c.alert("'refresh' needs a positive interval in seconds.")
      const r = parseTime(v, 's')
      if (!r.ok) return c.alert(`unexpected character '${r.bad ?? ''}' in argument to stats refresh interval.`)
      stats(c).refresh = r.value; stats(c).enabled = true; return
    }
    case 'hide-version': stats(c).hideVersion = true; stats(c).enabled = true; return
    case 'show-legends': stats(c).showLegends = true; stats(c).enabled = true; return
    case 'show-node': stats(c).showNode = v ?? ''; stats(c).enabled = true; return
    case 'show-desc': stats(c).showDesc = args.slice(2).join(' '); stats(c).enabled = true; return
    case 'show-modules':
      stats(c).enabled = true
      c.notice("'stats show-modules' is accepted but has no effect in fastify-haproxy (no extra stats modules).")
      return
    case 'admin': {
      if (c.isDefaults) return c.alert("'stats admin' not allowed in 'defaults' section.")
      const { cond } = splitCondition(args.slice(2), c.loc)
      if (args[2] !== 'if' && args[2] !== 'unless') return c.alert("'stats admin' requires either 'if' or 'unless' followed by a condition.")
      stats(c).admin = cond
      return
    }
    case 'http-request': {
      if (c.isDefaults) return c.alert("'stats' not allowed in 'defaults' section.")
      const { args: a, cond } = splitCondition(args.slice(2), c.loc, actionEnd(args.slice(2)))
      if (a.length === 0) return c.alert("'stats http-request' expects an action.")
      stats(c).httpRequest.push({ action: a[0]!, args: a.slice(1), cond, loc: c.loc })
      stats(c).enabled = true
      return
    }
    default:
      c.alert(`unknown stats parameter '${sub}', expects ${STATS_SUBS}.`)
  }
}

// ---------------------------------------------------------------------------------------------
// http-check <sub> ...   (§4.2 "http-check ...")

/** Options an `http-check expect` line may carry around its pattern (§4.2). */
const EXPECT_OPTIONS = ['min-recv', 'comment', 'ok-status', 'error-status', 'tout-status', 'on-success', 'on-error', 'status-code']

/** A check description with HAProxy's default request; `from` keeps the options (not the rules) of an inherited one. */
function freshHttpCheck (from: Proxy['httpCheck'] = null): NonNullable<Proxy['httpCheck']> {
  return { method: 'OPTIONS', uri: '/', version: 'HTTP/1.0', headers: [], rules: [], disableOn404: from?.disableOn404 ?? false, sendState: from?.sendState ?? false, inherited: false }
}

const applyHttpCheck: Apply = (c, args) => {
  const sub = args[1] ?? ''
  const hc = (): NonNullable<Proxy['httpCheck']> => {
    // http-check rules without `option httpchk` are ignored by HAProxy (warned after parsing);
    // we keep them on a check description that `option httpchk` completes. A proxy's own rules
    // replace the defaults' (their `option httpchk` request line included).
    if (c.proxy.httpCheck === null || c.proxy.httpCheck.inherited) c.proxy.httpCheck = freshHttpCheck(c.proxy.httpCheck)
    return c.proxy.httpCheck
  }
  const options = (): NonNullable<Proxy['httpCheck']> => {
    c.proxy.httpCheck ??= freshHttpCheck()
    return c.proxy.httpCheck
  }
  switch (sub) {
    case 'disable-on-404':
      if (tooMany(c, args, 1, 'http-check')) return
      options().disableOn404 = true
      break
    case 'send-state':
      if (tooMany(c, args, 1, 'http-check')) return
      options().sendState = true
      break
    case 'comment':
      return
    case 'connect': {
      const rule: HttpCheckRule = { kind: 'connect' }
      for (let i = 2; i < args.length; i++) {
        const k = args[i]!
        if (k === 'default' || k === 'linger') continue
        if (k === 'comment') { i++; continue }
        if (k === 'port' || k === 'addr') {
          const v = args[++i]
          if (v === undefined) return c.alert(`'http-check connect' : '${k}' expects ${k === 'port' ? 'a port number' : 'an address'} as argument.`)
          if (k === 'port') {
            if (!isInteger(v) || atoi(v) <= 0 || atoi(v) > 65535) return c.alert(`'http-check connect' : expects a valid port number (got '${v}').`)
            rule.port = atoi(v)
          } else {
            const a = parseAddress(v, { portRequired: false, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: true, env: c.env })
            if (!a.ok) return c.alert(`'http-check connect' : ${a.error}.`)
            rule.host = a.value.host
            if (a.value.port > 0) rule.port = a.value.port
          }
        } else if (['send-proxy', 'via-socks4', 'ssl', 'sni', 'alpn', 'proto'].includes(k)) {
          report(c, unsupported('a check connection other than plain TCP to the server'), `http-check connect ${k}`)
          if (k === 'sni' || k === 'alpn' || k === 'proto') i++
        } else {
          return c.alert(`'http-check connect' expects 'comment', 'port', 'addr', 'send-proxy', 'via-socks4', 'ssl', 'sni', 'alpn', 'proto', 'linger' or 'default' but got '${k}' as argument.`)
        }
      }
      hc().rules.push(rule)
      return
    }
    case 'send': {
      const rule: Extract<HttpCheckRule, { kind: 'send' }> = { kind: 'send', headers: [] }
      for (let i = 2; i < args.length; i++) {
        const k = args[i]!
        const val = args[i + 1]
        if (k === 'meth' || k === 'uri' || k === 'uri-lf' || k === 'ver' || k === 'body' || k === 'body-lf' || k === 'comment') {
          if (val === undefined) return c.alert(`'http-check send' : '${k}' expects a ${k === 'meth' ? 'method' : k.replace(/-lf$/, '')} as argument.`)
          if (k === 'meth') rule.method = val
          else if (k === 'uri' || k === 'uri-lf') { rule.uri = val; rule.uriLf = k === 'uri-lf' }
          else if (k === 'ver') rule.version = val
          else if (k === 'body' || k === 'body-lf') { rule.body = val; rule.bodyLf = k === 'body-lf' }
          i++
        } else if (k === 'hdr') {
          if (val === undefined || args[i + 2] === undefined) return c.alert("'http-check send' : 'hdr' expects <name> and <value> as arguments.")
          rule.headers.push([val, args[i + 2]!])
          i += 2
        } else {
          return c.alert(`'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '${k}' as argument..`)
        }
      }
      hc().rules.push(rule)
      break
    }
    case 'expect': {
      let i = 2
      let negate = false
      const opts: string[] = []
      while (EXPECT_OPTIONS.includes(args[i] ?? '')) {
        opts.push(args[i]!, args[i + 1] ?? '')
        i += 2
      }
      let kind = args[i]
      if (kind === undefined) return c.alert("'http-check expect' : expects at least a matching pattern as arguments.")
      if (kind.startsWith('!')) {
        negate = true
        kind = kind.slice(1) || args[++i]
      }
      const kinds = ['status', 'rstatus', 'string', 'rstring', 'hdr', 'fhdr', 'string-lf']
      if (kind === undefined || !kinds.includes(kind)) {
        return c.alert(`'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '${kind ?? ''}' as argument..`)
      }
      const pattern = kind === 'hdr' || kind === 'fhdr' ? args.slice(i + 1).join(' ') : args[i + 1]
      if (!pattern) return c.alert(`'http-check expect' : '${kind}' expects a <pattern> as argument.`)
      if (kind !== 'hdr' && kind !== 'fhdr') {
        for (let j = i + 2; j < args.length; j += 2) {
          if (!EXPECT_OPTIONS.includes(args[j]!)) return c.alert(`'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '${args[j]}' as argument..`)
        }
      }
      if (kind === 'rstatus' || kind === 'rstring') {
        try {
          // eslint-disable-next-line no-new
          new RegExp(pattern)
        } catch (e) {
          return c.alert(`'http-check expect' : regex '${pattern}' is invalid (${(e as Error).message}).`)
        }
      }
      const expect: HttpCheckExpect = { negate, kind: kind === 'string-lf' ? 'string' : kind as HttpCheckExpect['kind'], pattern }
      if (kind === 'string-lf') expect.lf = true
      if (kind === 'hdr' || kind === 'fhdr') expect.words = args.slice(i + 1)
      hc().rules.push({ kind: 'expect', expect })
      break
    }
    default:
      if (/^(set-var|set-var-fmt|unset-var)\(.*\)$/.test(sub)) {
        hc().rules.push({ kind: 'var', action: sub, args: args.slice(2) })
        return
      }
      return c.alert(`'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '${sub}'`)
  }
  // Only `option httpchk` turns HTTP checking on; http-check lines just describe it.
  if (sub === 'send' || sub === 'expect') c.flags.add('http-check-rules')
}

// ---------------------------------------------------------------------------------------------
// balance / hash-type   (§4.2 "balance", "hash-type")

const BALANCE_ALGOS = ['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'uri', 'url_param', 'hdr', 'random', 'rdp-cookie', 'hash']

const applyBalance: Apply = (c, args) => {
  const raw = args[1]
  if (raw === undefined) return
  const m = /^([a-z_-]+)(?:\((.*)\))?$/.exec(raw)
  const name = m?.[1] ?? raw
  const inner = m?.[2]
  if (!m || !BALANCE_ALGOS.includes(name) || (name === 'hdr' && inner === undefined)) {
    if (raw.startsWith('hdr(')) return c.alert('balance hdr requires an http header field name.')
    return c.alert("balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.")
  }
  let bargs: string[] = []
  if (name === 'url_param') {
    if (!args[2]) return c.alert('balance url_param requires an URL parameter name.')
    if (args[3] !== undefined && args[3] !== 'check_post') return c.alert(`balance url_param only accepts 'check_post' modifier (got '${args[3]}').`)
    bargs = args.slice(2)
  } else if (name === 'hdr') {
    if (!inner) return c.alert('balance hdr requires an http header field name.')
    if (args[2] !== undefined && args[2] !== 'use_domain_only') return c.alert(`balance hdr(${inner}) only accepts 'use_domain_only' modifier (got '${args[2]}').`)
    bargs = [inner, ...args.slice(2)]
  } else if (name === 'hash') {
    if (!args[2]) return c.alert('balance hash requires a sample expression.')
    if (args[3] !== undefined) return c.alert(`balance hash takes no other argument (got '${args[3]}').`)
    bargs = args.slice(2)
  } else if (name === 'random' || name === 'rdp-cookie') {
    if (name === 'random' && inner !== undefined && inner !== '' && !/^\d+$/.test(inner)) {
      return c.alert(`balance random : unexpected character '${/[^\d]/.exec(inner)![0]}' after argument.`)
    }
    bargs = inner !== undefined && inner !== '' ? [inner] : []
  } else if (name === 'uri') {
    for (let i = 2; i < args.length; i++) {
      const w = args[i]!
      if (w === 'len' || w === 'depth') {
        if (!(atoi(args[i + 1] ?? '') > 0)) return c.alert(`balance uri : '${w}' expects a positive integer (got '${args[i + 1] ?? ''}').`)
        i++
      } else if (w !== 'path-only' && w !== 'whole') return c.alert(`balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '${w}').`)
    }
    bargs = args.slice(2)
  }
  c.proxy.balance = { algorithm: name, args: bargs, loc: c.loc }
}

const applyHashType: Apply = (c, args) => {
  const method = args[1]
  if (method !== 'consistent' && method !== 'map-based') return c.alert("'hash-type' only supports 'consistent' and 'map-based'.")
  const fn = args[2]
  if (fn !== undefined && !['sdbm', 'djb2', 'crc32', 'wt6', 'none'].includes(fn)) {
    return c.alert("'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.")
  }
  if (args[3] !== undefined && args[3] !== 'avalanche') return c.alert("'hash-type' only supports 'avalanche' as a modifier for hash functions.")
  // The modifier stays in `fn` ('sdbm avalanche'): the hash runtime reads both words.
  c.proxy.hashType = fn !== undefined ? { method, fn: args[3] !== undefined ? `${fn} ${args[3]}` : fn } : { method }
}

// ---------------------------------------------------------------------------------------------
// Rules: acl, http-request, http-response, redirect, use_backend, default_backend

const applyAcl: Apply = (c, args) => {
  const name = args[1]
  if (name === undefined) return c.alert("'acl' expects an ACL name.")
  const bad = /[^A-Za-z0-9_.:-]/.exec(name)
  if (bad) return c.alert(`character '${bad[0]}' is not permitted in acl name '${name}'.`)
  c.proxy.acls.push({ name, words: args.slice(2), loc: c.loc })
}

const ruleInto = (field: 'httpRequest' | 'httpResponse' | 'httpAfterResponse'): Apply => (c, args) => {
  const { args: a, cond } = splitCondition(args.slice(1), c.loc, actionEnd(args.slice(1)))
  c.markRules()
  const rule: Rule = { action: a[0] ?? '', args: a.slice(1), cond, loc: c.loc }
  // `http-request capture <sample> len <n>` adds a capture slot after those declared so far (§4.2)
  if (field === 'httpRequest' && rule.action === 'capture' && rule.args[1] === 'len') {
    const len = atoi(rule.args[2] ?? '')
    if (len > 0) {
      rule.slot = c.proxy.requestCaptures.length
      c.proxy.requestCaptures.push({ header: null, len })
    }
  }
  c.proxy[field].push(rule)
}

const applyRedirect: Apply = (c, args) => {
  const { args: a, cond } = splitCondition(args.slice(1), c.loc, actionEnd(args) - 1)
  c.proxy.redirects.push({ action: 'redirect', args: a, cond, loc: c.loc })
}

const applyUseBackend: Apply = (c, args) => {
  if (!args[1]) return c.alert("'use_backend' expects a backend name.")
  const { cond } = splitCondition(args.slice(2), c.loc)
  if (args[2] !== undefined && args[2] !== 'if' && args[2] !== 'unless') {
    return c.alert(`unexpected keyword '${args[2]}' after switching rule, only 'if' and 'unless' are allowed.`)
  }
  c.proxy.useBackends.push({ backend: args[1], cond, loc: c.loc })
}

const applyDefaultBackend: Apply = (c, args) => {
  if (!args[1]) return c.alert("'default_backend' expects a backend name.")
  c.proxy.defaultBackend = { name: args[1], loc: c.loc }
}

// ---------------------------------------------------------------------------------------------
// errorfile / errorfiles   (§4.2 "errorfile")

/** Status codes HAProxy can serve an errorfile for (configuration.txt §4.2 `errorfile`). */
const ERRORFILE_CODES = ['200', '400', '401', '403', '404', '405', '407', '408', '410', '413', '425', '429', '500', '501', '502', '503', '504']

/** Validates an `errorfile <code> <file>` line; returns the absolute path or null after an alert. */
export function errorFileArg (c: { alert: (m: string) => void, path: (p: string) => string, bufsize: number }, args: string[]): string | null {
  if (args.length < 3) {
    c.alert('errorfile : expects <status_code> and <file> as arguments.')
    return null
  }
  if (!ERRORFILE_CODES.includes(args[1]!)) {
    c.alert(`errorfile : status code '${args[1]}' not handled.`)
    return null
  }
  const file = c.path(args[2]!)
  let head: string
  try {
    // the whole response must fit in a buffer (HAProxy refuses a larger one)
    head = readBounded(file, c.bufsize).toString('latin1', 0, 64)
  } catch (err) {
    if (err instanceof FileTooLarge) c.alert(`errorfile : '${args[2]}': unable to add payload into the HTX message (larger than a buffer, tune.bufsize ${c.bufsize} bytes).`)
    else c.alert(`errorfile : error opening file '${args[2]}'.`)
    return null
  }
  // The file is a raw HTTP response (§4.2 errorfile); HAProxy parses it while loading. An empty
  // one (`/dev/null`) means: close the connection without answering.
  if (head !== '' && !/^HTTP\/\d\.\d \d{3}/.test(head)) {
    c.alert(`errorfile : '${args[2]}': unable to parse headers (error offset: 0)`)
    return null
  }
  return file
}

export function isReadableFile (file: string): boolean {
  try {
    return statSync(file).isFile()
  } catch {
    return false
  }
}

const applyErrorfile: Apply = (c, args) => {
  const file = errorFileArg(c, args)
  if (file !== null) c.proxy.errorSources.push({ kind: 'errorfile', code: args[1]!, file })
}

/** `errorloc|errorloc302|errorloc303 <code> <url>` (§4.2): the error status answered with a redirect (words after the URL are ignored, as in HAProxy). */
function errorloc (status: 302 | 303): Apply {
  return (c, args) => {
    if (args.length < 3) return c.alert(`${args[0]} : expects <status_code> and <url> as arguments.`)
    if (!ERRORFILE_CODES.includes(args[1]!)) return c.alert(`${args[0]} : status code '${args[1]}' not handled.`)
    c.proxy.errorSources.push({ kind: 'errorloc', code: args[1]!, status, url: args[2]! })
  }
}

// ---------------------------------------------------------------------------------------------
// bind   (§4.2 "bind", §5.1 bind options)

/** Bind options (§5.1) with the number of values each takes; `ssl` keeps its meaning in the model. */
const BIND_OPTIONS: Record<string, number> = table(Object.fromEntries([
  ...'accept-netscaler-cip backlog expose-fd gid group id interface level maxconn mode mss name namespace nice process proto severity-output shards tcp-ut thread uid user alpn ca-file ca-ignore-err ca-sign-file ca-sign-pass ca-verify-file ciphers ciphersuites crl-file crt crt-ignore-err crt-list curves ecdhe npn ssl-max-ver ssl-min-ver tls-ticket-keys verify'.split(' ').map(k => [k, 1]),
  ...'accept-proxy defer-accept tfo transparent v4v6 v6only ssl allow-0rtt force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12 force-tlsv13 generate-certificates no-ca-names no-sslv3 no-tls-tickets no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13 prefer-client-ciphers strict-sni quic-force-retry'.split(' ').map(k => [k, 0])
]))

const applyBind: Apply = (c, args) => {
  if (c.isDefaults) return c.alert("'bind' not allowed in 'defaults' section.")
  if (!args[1]) return c.alert("'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.")
  bindAddresses(c, args[1], false, args.slice(2))
}

/** Adds the binds of `addr[,addr...]` with their options; shared with the legacy section-line form. */
export function bindAddresses (c: ProxyCtx, spec: string, legacy: boolean, opts: string[]): void {
  let ssl = false
  let withCert = false
  let acceptProxy = false
  let backlog: number | undefined
  let maxconn: number | undefined
  let name: string | undefined
  let proto: string | undefined
  const tls: BindTls = { crts: [], crtLists: [], crtListBase: c.path(c.crtBase ?? '.'), options: {} }
  const lines: CrtListEntry[] = []
  for (let i = 0; i < opts.length; i++) {
    const k = opts[i]!
    const n = BIND_OPTIONS[k]
    if (n === undefined) {
      c.alert(`'bind ${spec}' in section '${c.section}': unknown keyword '${k}'${didYouMean(k, Object.keys(BIND_OPTIONS)) || '.'}`)
      return
    }
    if (n > 0 && (opts[i + 1] === undefined || opts[i + 1] === '')) {
      c.alert(`'bind ${spec}' in section '${c.section}' : '${k}' : missing value.`)
      return
    }
    if (k === 'ssl') ssl = true
    if (k === 'accept-proxy') acceptProxy = true
    if (k === 'backlog') backlog = atoi(opts[i + 1]!)
    if (k === 'maxconn') maxconn = atoi(opts[i + 1]!)
    if (k === 'name') name = opts[i + 1]
    if (k === 'crt' || k === 'crt-list') withCert = true
    if (k === 'proto') {
      if (opts[i + 1] !== 'h2' && opts[i + 1] !== 'h1') {
        c.alert(`'bind ${spec}' in section '${c.section}' : 'proto' :  unknown MUX protocol '${opts[i + 1]}'`)
        return
      }
      proto = opts[i + 1]
    }
    if (TLS_BIND_OPTIONS.has(k)) tls.options[k] = n > 0 ? opts[i + 1]! : ''
    if ((k === 'ssl-min-ver' || k === 'ssl-max-ver') && !TLS_VERSIONS.includes(opts[i + 1]!)) {
      c.alert(`'bind ${spec}' in section '${c.section}' : '${opts[i + 1]}' : unknown ssl/tls version`)
      return
    }
    if (k === 'crt' || k === 'ca-file' || k === 'crt-list' || k === 'crl-file' || k === 'ca-verify-file') {
      const raw = opts[i + 1]!
      const base = k === 'crt' || k === 'crt-list' ? c.crtBase : c.caBase
      const based = isAbsolute(raw) || base === undefined ? raw : `${base.replace(/\/$/, '')}/${raw}`
      if (k === 'crt' && !certHasKey(c.path(based))) {
        c.alert(`'bind ${spec}' in section '${c.section}' : No Private Key found in '${based}.key'.`)
        return
      }
      if (!existsSync(c.path(based))) {
        if (k === 'crt') c.alert(`'bind ${spec}' in section '${c.section}' : unable to stat SSL certificate from file '${based}' : No such file or directory.`)
        else if (k === 'crt-list') c.alert(`'bind ${spec}' in section '${c.section}' : crt-list: cannot open file '${based}'.`)
        else if (k === 'crl-file') c.alert(`'bind ${spec}' in section '${c.section}' : unable to load ${based}.`)
        else c.alert(`Couldn't open the ca-file '${based}' (No such file or directory).`)
        return
      }
      if (k === 'crt' && !holdsCertificate(c.path(based))) {
        c.alert(`'bind ${spec}' in section '${c.section}' : unable to load certificate from file '${based}'.`)
        return
      }
      if (k === 'crt') {
        tls.crts.push(c.path(based))
      } else if (k === 'crt-list') {
        try {
          lines.push(...parseCrtList(c.path(based), tls.crtListBase, based))
        } catch (err) {
          c.alert(`'bind ${spec}' in section '${c.section}' : 'crt-list' : ${(err as Error).message}`)
          return
        }
        tls.crtLists.push(c.path(based))
      } else {
        tls.options[k] = c.path(based)
      }
    }
    i += n
  }
  if ('npn' in tls.options || lines.some(l => 'npn' in l.options)) c.inert(`'bind ${spec}' : 'npn' has no effect in fastify-haproxy (node's TLS offers ALPN only).`)
  for (const one of spec.split(',')) {
    const a = parseAddress(one, { portRequired: true, allowRange: true, allowOffset: false, allowFqdn: false, allowZeroPort: false, env: c.env })
    if (!a.ok) {
      c.alert(`'bind' : ${a.error}`)
      return
    }
    if (a.value.family === 'unix' || a.value.family === 'abns' || a.value.family === 'sockpair') {
      c.warn(`'bind ${one}': only TCP addresses can be served by fastify-haproxy; this listener is ignored.`)
      continue
    }
    const fd = a.value.family === 'fd' ? inheritedFd(a.value.host) : undefined
    if (typeof fd === 'string') {
      c.alert(`'bind' : ${fd}`)
      return
    }
    const bind: Bind = fd !== undefined
      ? { host: '', port: 0, portEnd: 0, fd, ssl, legacy, loc: c.loc, ...(name !== undefined ? { name } : {}) }
      : { host: a.value.host === '' && a.value.family === 'ipv6' ? '::' : a.value.host, port: a.value.port, portEnd: a.value.portEnd, ssl, legacy, loc: c.loc, ...(name !== undefined ? { name } : {}) }
    if (proto !== undefined) bind.proto = proto
    if (acceptProxy) bind.acceptProxy = true
    if (backlog !== undefined) bind.backlog = backlog
    if (maxconn !== undefined) bind.maxconn = maxconn
    if (ssl) bind.tls = tls
    if (ssl && !withCert) BINDS_WITHOUT_CERT.set(bind, one)
    if (ssl && verifiesWithoutCa(tls.options, lines)) BINDS_VERIFY_WITHOUT_CA.set(bind, one)
    c.proxy.binds.push(bind)
  }
}

/** `ssl` binds where the bind line or a crt-list line says `verify optional|required` without a `ca-file`. Bind → address text. */
export const BINDS_VERIFY_WITHOUT_CA = new WeakMap<object, string>()

function verifiesWithoutCa (bind: Record<string, string>, lines: CrtListEntry[]): boolean {
  const verifies = (o: Record<string, string>): boolean => o.verify === 'optional' || o.verify === 'required'
  return [bind, ...lines.map(l => ({ ...bind, ...l.options }))].some(o => verifies(o) && o['ca-file'] === undefined)
}

/** `fd@N`: N must name a file descriptor this process inherited (checked at parse time, as HAProxy does); else the alert's text. */
function inheritedFd (text: string): number | string {
  if (!/^\d+$/.test(text)) return `file descriptor '${text}' is not a valid integer in 'fd@${text}'`
  const fd = Number(text)
  try {
    fstatSync(fd)
  } catch {
    return `cannot use file descriptor '${text}' : Bad file descriptor.`
  }
  return fd
}

/** What a `stats socket` line takes after its address: bind options and the CLI's own (§3.1 stats socket). */
export const STATS_SOCKET_OPTIONS: Record<string, number> = table({ ...BIND_OPTIONS, level: 1, 'severity-output': 1, 'expose-fd': 1 })

/** HAProxy's complaint about the first word that is not an option of `table` or lacks its value, or null. */
export function unknownBindOption (words: string[], table: Record<string, number>): string | null {
  for (let i = 0; i < words.length; i++) {
    const n = table[words[i]!]
    if (n === undefined) return `unknown keyword '${words[i]}'.`
    if (n > 0 && words[i + 1] === undefined) return `'${words[i]}' : missing value`
    i += n
  }
  return null
}

/** `ssl` binds without `crt`: HAProxy refuses them once parsing is over (`haproxy -c`). Bind → address text. */
export const BINDS_WITHOUT_CERT = new WeakMap<object, string>()

const TLS_VERSIONS = ['SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']

/** Bind options lib/tls.ts reads (besides `crt` and `crt-list`). */
const TLS_BIND_OPTIONS = new Set(('alpn npn ssl-min-ver ssl-max-ver ciphers ciphersuites curves ecdhe verify strict-sni prefer-client-ciphers ' +
  'no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13 force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12 force-tlsv13 no-tls-tickets ' +
  'ca-ignore-err crt-ignore-err no-ca-names').split(' '))

/** A `crt` file holds a PEM certificate (a directory is looked into when the certificates load). */
function holdsCertificate (file: string): boolean {
  try {
    return !statSync(file).isFile() || /-----BEGIN (TRUSTED )?CERTIFICATE-----/.test(readBounded(file, PEM_FILE_LIMIT).toString('latin1'))
  } catch {
    return false
  }
}

/** A PEM file given to `crt` holds its private key, or has it beside it in `<file>.key` (§5.1 crt). */
function certHasKey (file: string): boolean {
  let text: string
  try {
    if (!statSync(file).isFile()) return true
    text = readBounded(file, PEM_FILE_LIMIT).toString('latin1')
  } catch {
    return true
  }
  return text.includes('PRIVATE KEY') || !text.includes('CERTIFICATE') || existsSync(`${file}.key`)
}

// ---------------------------------------------------------------------------------------------
// server / default-server   (§5.2 server options)

type ServerApply = (o: ServerOptions, v: string, ctx: ServerCtx) => string | null
interface ServerCtx { name: string, path: (p: string) => string, caBase: string | undefined, crtBase: string | undefined, env: Record<string, string | undefined> }

const posInt = (field: 'rise' | 'fall'): ServerApply => (o, v) => {
  const n = atoi(v)
  if (n <= 0) return `'${field}' has to be > 0.`
  o[field] = n
  return null
}

const delay = (field: 'inter' | 'fastinter' | 'downinter' | 'slowstart' | 'agentInter', kw: string): ServerApply => (o, v, s) => {
  if (v === '') return `'${kw}' expects a delay as argument.`
  const r = parseTime(v)
  // (HAProxy names 'agent-inter' in the message for a bad `inter` too)
  if (!r.ok) return `unexpected character '${r.bad ?? ''}' in '${kw === 'inter' ? 'agent-inter' : kw}' argument of server ${s.name}.`
  if (field !== 'slowstart' && r.value === 0) return `invalid value 0 for argument '${kw}' of server ${s.name}.`
  o[field] = r.value
  return null
}

const TLS = inert('TLS to servers is left to Node\'s defaults')
const serverRows = (n: number, support: Support, names: string): Record<string, { n: number, support: Support }> =>
  Object.fromEntries(names.split(' ').map(k => [k, { n, support }]))

/**
 * Server options (§5.2): number of values, what they set, and what this gateway does with them
 * (Support). `optional` rows take a missing value as empty, as HAProxy's parsers for them do.
 */
export const SERVER_OPTIONS: Record<string, { n: number, support: Support, apply?: ServerApply, optional?: boolean }> = table({
  weight: {
    n: 1,
    optional: true,
    support: 'yes',
    apply: (o, v, s) => {
      const w = atoi(v)
      if (w < 0 || w > 256) return `weight of server ${s.name} is not within 0 and 256 (${w}).`
      o.weight = w
      return null
    }
  },
  backup: { n: 0, support: 'yes', apply: o => { o.backup = true; return null } },
  'no-backup': { n: 0, support: 'yes', apply: o => { o.backup = false; return null } },
  disabled: { n: 0, support: 'yes', apply: o => { o.disabled = true; return null } },
  enabled: { n: 0, support: 'yes', apply: o => { o.disabled = false; return null } },
  check: { n: 0, support: 'yes', apply: o => { o.check = true; return null } },
  'no-check': { n: 0, support: 'yes', apply: o => { o.check = false; return null } },
  inter: { n: 1, support: 'yes', apply: delay('inter', 'inter') },
  fastinter: { n: 1, support: 'yes', apply: delay('fastinter', 'fastinter') },
  downinter: { n: 1, support: 'yes', apply: delay('downinter', 'downinter') },
  slowstart: { n: 1, support: 'yes', apply: delay('slowstart', 'slowstart') },
  rise: { n: 1, support: 'yes', apply: posInt('rise') },
  fall: { n: 1, support: 'yes', apply: posInt('fall') },
  port: {
    n: 1,
    support: 'yes',
    apply: (o, v) => {
      const p = atoi(v)
      if (!isInteger(v) || p < 0 || p > 65535) return `invalid port '${v}'.`
      o.checkPort = p
      return null
    }
  },
  addr: {
    n: 1,
    support: 'yes',
    apply: (o, v, s) => {
      const a = parseAddress(v, { portRequired: false, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: true, env: s.env })
      if (!a.ok) return `'addr' : ${a.error}.`
      o.checkAddr = a.value.host
      return null
    }
  },
  maxconn: { n: 1, optional: true, support: 'yes', apply: (o, v) => { o.maxconn = atoi(v); return null } },
  maxqueue: { n: 1, optional: true, support: 'yes', apply: (o, v) => { o.maxqueue = atoi(v); return null } },
  minconn: { n: 1, optional: true, support: 'yes', apply: (o, v) => { o.minconn = atoi(v); return null } },
  'init-addr': { n: 1, optional: true, support: 'yes' },
  resolvers: { n: 1, optional: true, support: 'yes' },
  ssl: { n: 0, support: 'yes', apply: o => { o.ssl = true; return null } },
  'no-ssl': { n: 0, support: 'yes', apply: o => { o.ssl = false; return null } },
  verify: {
    n: 1,
    support: 'yes',
    apply: (o, v) => {
      if (v !== 'none' && v !== 'required') return `verify: unknown verify method value '${v}'.`
      o.verify = v
      return null
    }
  },
  'ca-file': {
    n: 1,
    support: 'yes',
    apply: (o, v, s) => {
      const file = isAbsolute(v) || s.caBase === undefined ? s.path(v) : resolve(s.path(s.caBase), v)
      if (!existsSync(file)) return `Couldn't open the ca-file '${v}' (No such file or directory).`
      o.caFile = file
      return null
    }
  },
  crt: {
    n: 1,
    support: 'yes',
    apply: (o, v, s) => {
      const file = isAbsolute(v) || s.crtBase === undefined ? s.path(v) : resolve(s.path(s.crtBase), v)
      if (!existsSync(file)) return `unable to stat SSL certificate from file '${v}' : No such file or directory.`
      if (!certHasKey(file) || !holdsCertificate(file)) return `unable to load certificate from file '${v}'.`
      o.crt = file
      return null
    }
  },
  'check-ssl': { n: 0, support: 'yes', apply: o => { o.checkSsl = true; return null } },
  'no-check-ssl': { n: 0, support: 'yes', apply: o => { o.checkSsl = false; return null } },
  'check-sni': { n: 1, support: 'yes', apply: (o, v) => { o.checkSni = v; return null } },
  'check-alpn': { n: 1, support: 'yes', apply: (o, v) => { o.checkAlpn = v.split(','); return null } },
  sni: { n: 1, support: 'yes', apply: (o, v) => { o.sni = v; return null } },
  observe: {
    n: 1,
    support: 'yes',
    apply: (o, v) => {
      if (v !== 'layer4' && v !== 'layer7') return `'observe' expects one of 'none', 'layer4', 'layer7' but got '${v}'`
      o.observe = v
      return null
    }
  },
  'error-limit': { n: 1, support: 'yes', apply: (o, v) => { o.errorLimit = atoi(v); return null } },
  'on-error': {
    n: 1,
    support: 'yes',
    apply: (o, v) => {
      if (v !== 'fastinter' && v !== 'fail-check' && v !== 'sudden-death' && v !== 'mark-down') {
        return `'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '${v}'`
      }
      o.onError = v
      return null
    }
  },
  id: {
    n: 1,
    support: 'yes',
    apply: (o, v) => {
      const n = atoi(v)
      if (n <= 0) return "'id' : custom id has to be > 0."
      o.id = n
      return null
    }
  },
  cookie: { n: 1, support: 'yes', apply: (o, v) => { o.cookie = v; return null } },
  // Options the model does not carry, grouped by what this gateway does with them.
  'agent-check': { n: 0, support: 'yes', apply: o => { o.agentCheck = true; return null } },
  'no-agent-check': { n: 0, support: 'yes', apply: o => { o.agentCheck = false; return null } },
  'agent-port': {
    n: 1,
    support: 'yes',
    // HAProxy keeps the low 16 bits; a port it cannot read is 0, which leaves the agent without a port
    apply: (o, v) => { o.agentPort = atoi(v) & 0xffff; return null }
  },
  'agent-inter': { n: 1, support: 'yes', apply: delay('agentInter', 'agent-inter') },
  'agent-addr': {
    n: 1,
    support: 'yes',
    apply: (o, v, s) => {
      const a = parseAddress(v, { portRequired: false, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: true, env: s.env })
      if (!a.ok || (a.value.family !== 'ipv4' && a.value.family !== 'ipv6')) return `parsing agent-addr failed. Check if '${v}' is correct address.`
      o.agentAddr = a.value.host
      return null
    }
  },
  'agent-send': {
    n: 1,
    optional: true,
    support: 'yes',
    apply: (o, v) => {
      if (v === '') return "'agent-send' expects a string as argument."
      o.agentSend = v
      return null
    }
  },
  'check-proto': {
    n: 1,
    support: 'yes',
    apply: (o, v) => {
      if (v !== 'h1' && v !== 'h2') return `'check-proto' :  unknown MUX protocol '${v}'.`
      o.checkProto = v
      return null
    }
  },
  'check-send-proxy': { n: 0, support: 'yes', apply: (o) => { o.checkSendProxy = true; return null } },
  'no-check-send-proxy': { n: 0, support: 'yes', apply: (o) => { delete o.checkSendProxy; return null } },
  'check-via-socks4': { n: 0, support: 'yes', apply: (o) => { o.checkViaSocks4 = true; return null } },
  alpn: {
    n: 1,
    optional: true,
    support: 'yes',
    apply: (o, v) => {
      if (v === '') return "'alpn' : missing the comma-delimited ALPN protocol suite."
      o.alpn = v.split(',')
      return null
    }
  },
  ...serverRows(1, TLS, 'ciphers ciphersuites crl-file npn ssl-max-ver ssl-min-ver verifyhost'),
  ...serverRows(0, TLS, 'allow-0rtt force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12 force-tlsv13 no-ssl-reuse no-sslv3 no-tls-tickets no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13 ssl-reuse tls-tickets'),
  ...serverRows(1, inert('connection reuse is left to undici'), 'max-reuse pool-low-conn pool-max-conn pool-purge-delay'),
  ...serverRows(1, 'yes', 'resolve-prefer'),
  'resolve-opts': {
    n: 1,
    support: 'yes',
    apply: (o, v) => {
      const opts = { allowDupIp: false, ignoreWeight: false }
      for (const w of v.split(',')) {
        if (w === 'allow-dup-ip' || w === 'prevent-dup-ip') opts.allowDupIp = w === 'allow-dup-ip'
        else if (w === 'ignore-weight') opts.ignoreWeight = true
        else return `'resolve-opts' : unknown resolve-opts option '${w}', supported methods are 'allow-dup-ip', 'ignore-weight', and 'prevent-dup-ip'..`
      }
      o.resolveOpts = opts
      return null
    }
  },
  'resolve-net': {
    n: 1,
    support: 'yes',
    apply: (o, v) => {
      const nets = v.split(',')
      const bad = nets.find(n => parseNet(n) === null)
      if (bad !== undefined) return `'resolve-net' invalid network '${bad}'..`
      o.resolveNet = nets
      return null
    }
  },
  ...serverRows(1, inert('the source address is chosen by the system'), 'source usesrc namespace'),
  ...serverRows(1, inert('socket tuning is left to Node'), 'tcp-ut'),
  ...serverRows(0, inert('socket tuning is left to Node'), 'tfo no-tfo'),
  ...serverRows(1, inert('logs go through the Fastify logger'), 'log-proto'),
  'on-marked-down': {
    n: 1,
    support: 'yes',
    optional: true,
    apply: (o, v) => {
      if (v !== 'shutdown-sessions') return `'on-marked-down' expects 'shutdown-sessions' but got '${v}'.`
      o.onMarkedDown = v
      return null
    }
  },
  'on-marked-up': {
    n: 1,
    support: 'yes',
    optional: true,
    apply: (o, v) => {
      if (v !== 'shutdown-backup-sessions') return `'on-marked-up' expects 'shutdown-backup-sessions' but got '${v}'.`
      o.onMarkedUp = v
      return null
    }
  },
  ws: {
    n: 1,
    support: 'yes',
    apply: (o, v) => {
      if (v !== 'auto' && v !== 'h1' && v !== 'h2') return "'ws' has to be 'auto', 'h1' or 'h2'."
      o.ws = v
      return null
    }
  },
  ...serverRows(1, inert('used only with send-proxy-v2'), 'proxy-v2-options'),
  'non-stick': { n: 0, support: 'yes', apply: o => { o.nonStick = true; return null } },
  stick: { n: 0, support: 'yes', apply: o => { delete o.nonStick; return null } },
  // They turn off what is never done here.
  ...Object.fromEntries(['no-send-proxy', 'no-send-proxy-v2'].map(k => [k, { n: 0, support: 'yes' as const, apply: (o: ServerOptions) => { delete o.sendProxy; return null } }])),
  ...serverRows(0, 'yes', 'no-send-proxy-v2-ssl no-send-proxy-v2-ssl-cn'),
  'send-proxy': { n: 0, support: 'yes', apply: (o) => { o.sendProxy = 1; return null } },
  'send-proxy-v2': { n: 0, support: 'yes', apply: (o) => { o.sendProxy = 2; return null } },
  ...serverRows(0, unsupported('sends a PROXY protocol header with TLS details to the server'), 'send-proxy-v2-ssl send-proxy-v2-ssl-cn'),
  proto: {
    n: 1,
    support: 'yes',
    apply: (o, v) => {
      if (v === 'fcgi') return "'proto fcgi' is not supported by fastify-haproxy (speaks FastCGI to the server)."
      if (v !== 'h1' && v !== 'h2') return `'proto' :  unknown MUX protocol '${v}'.`
      o.proto = v
      return null
    }
  },
  redir: { n: 1, support: unsupported('redirects clients to the server instead of forwarding their requests') },
  socks4: {
    n: 1,
    support: 'yes',
    apply: (o, v, s) => {
      const a = parseAddress(v, { portRequired: true, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: false, env: s.env })
      if (!a.ok) return `'socks4' : ${a.error}.`
      o.socks4 = { host: a.value.host, port: a.value.port ?? 0 }
      return null
    }
  },
  track: { n: 1, support: unsupported("takes the server's up/down state from another server's checks") }
})

/**
 * What a server line says that the model does not carry but the load-time checks need
 * (HAProxy checks them after parsing): the server it tracks,
 * the `resolvers` section it names (an unresolvable name then only disables it) and its
 * `init-addr` methods (absent = HAProxy's default, `last,libc`), and whether its address was a
 * host name (HAProxy checks a server's port for health checks only when it was given an IP).
 */
export interface ServerExtras { track?: string, resolvers?: string, resolvePrefer?: 'ipv4' | 'ipv6', initAddr?: string[], fqdn?: boolean }

export const SERVER_EXTRAS = new WeakMap<object, ServerExtras>()

/** Reads the extras from a server's option words (default-server words first). */
export function serverExtras (words: string[]): ServerExtras {
  const x: ServerExtras = {}
  for (let i = 0; i < words.length; i++) {
    const w = words[i]
    if (w === 'resolvers' && words[i + 1]) x.resolvers = words[i + 1]
    else if (w === 'resolve-prefer' && (words[i + 1] === 'ipv4' || words[i + 1] === 'ipv6')) x.resolvePrefer = words[i + 1] as 'ipv4' | 'ipv6'
    else if (w === 'init-addr' && words[i + 1]) x.initAddr = words[i + 1]!.split(',')
    else if (w === 'track' && words[i + 1]) x.track = words[i + 1]
  }
  return x
}

/** The options of a valid server line that are not plainly supported, with their decision (Support), in order. */
export function serverSupport (words: string[]): Array<[string, Support]> {
  const out: Array<[string, Support]> = []
  for (let i = 0; i < words.length; i++) {
    const row = SERVER_OPTIONS[words[i]!]
    if (row === undefined) break
    if (row.support !== 'yes') out.push([words[i]!, row.support])
    i += row.n
  }
  return out
}

/** Applies server options from `words`; returns the first error (already worded as HAProxy does) or null. */
export function applyServerOptions (o: ServerOptions, words: string[], s: ServerCtx, isDefault: boolean): string | null {
  for (let i = 0; i < words.length; i++) {
    const k = words[i]!
    const row = SERVER_OPTIONS[k]
    if (!row) {
      return `unknown keyword '${k}'${didYouMean(k, Object.keys(SERVER_OPTIONS)) || '.'}${isDefault ? ' Hint: no address was expected for this server.' : ''}`
    }
    const v = row.n > 0 ? (words[i + 1] ?? '') : ''
    if (row.n > 0 && v === '' && row.optional !== true && k !== 'inter' && k !== 'fastinter' && k !== 'downinter') return `'${k}' expects an argument.`
    if (row.apply) {
      const e = row.apply(o, v, s)
      if (e !== null) return e
    }
    i += row.n
  }
  return null
}

// ---------------------------------------------------------------------------------------------
// The proxy keyword table.

const row = (where: Where, support: Support, more: Partial<ProxyKeyword> = {}): ProxyKeyword => ({ where, support, ...more })
const removed = (msg: string): ProxyKeyword => ({ where: 'DFLB', support: 'removed', removed: msg })
const since21 = (kw: string, use: string): ProxyKeyword => removed(`The '${kw}' directive is not supported anymore since HAProxy 2.1.${use ? ' ' + use : ''}`)

const PERSISTENCE = 'sends a client back to the server it used before'
const PEERS = 'peers synchronise stick tables between processes; each process here keeps its own'

export const PROXY_KEYWORDS: Record<string, ProxyKeyword> = table({
  acl: row('D!FLB', 'yes', { apply: applyAcl, allWords: true }),
  backlog: row('DFL', 'yes', { max: 1, apply: (c, a) => { if (!a[1]) return c.alert("'backlog' expects an integer argument."); c.proxy.backlog = atoi(a[1]) } }),
  balance: row('DLB', 'yes', { apply: applyBalance }),
  bind: row('FL', 'yes', { apply: applyBind }),
  'bind-process': row('DFLB', 'args', { apply: c => c.warn("'bind-process' has no effect, is deprecated, and will be removed in version 2.7.") }),
  capture: row('FL', 'yes', { apply: applyCapture }),
  'clitcpka-cnt': row('DFL', inert('TCP keep-alive is left to Node')),
  'clitcpka-idle': row('DFL', inert('TCP keep-alive is left to Node')),
  'clitcpka-intvl': row('DFL', inert('TCP keep-alive is left to Node')),
  compression: row('DFLB', 'yes', { apply: applyCompression }),
  cookie: row('DLB', 'args', { apply: applyCookie }),
  declare: row('FL', 'yes', { defaultsMsg: "'declare' not available in default section", capAlert: "'declare' only available in frontend or listen section", apply: applyDeclare }),
  'default-server': row('DLB', 'yes', { capAlert: "'default-server' not allowed because %K '%N' has no backend capability." }),
  default_backend: row('DFL', 'yes', { max: 1, apply: applyDefaultBackend }),
  description: row('FLB', 'yes', { apply: (c, a) => { if (!a[1]) return c.alert("'description' expects a string argument."); c.proxy.description = a.slice(1).join(' ') } }),
  disabled: row('DFLB', 'yes', { max: 0, apply: c => { c.proxy.disabled = true } }),
  'dynamic-cookie-key': row('DLB', 'yes', { apply: (c, a) => { if (!a[1]) return c.alert("'dynamic-cookie-key' expects <secret_key> as argument."); c.proxy.dynamicCookieKey = a[1] } }),
  dispatch: row('LB', unsupported('sends requests to a fixed address when there is no server'), { max: 1 }),
  'email-alert': row('DFLB', inert('no e-mail alerts are sent')),
  enabled: row('DFLB', 'yes', { max: 0, apply: c => { c.proxy.disabled = false } }),
  errorfile: row('DFLB', 'yes', { apply: applyErrorfile }),
  errorfiles: row('DFLB', 'yes', { apply: applyErrorfiles }),
  errorloc: row('DFLB', 'yes', { apply: errorloc(302) }),
  errorloc302: row('DFLB', 'yes', { apply: errorloc(302) }),
  errorloc303: row('DFLB', 'yes', { apply: errorloc(303) }),
  'error-log-format': row('DFL', 'yes', { apply: (c, a) => { c.proxy.errorLogFormat = formatArg(c, a) } }),
  'force-persist': row('LB', unsupported('keeps persistence to a down server on a condition')),
  filter: row('FLB', 'args', { defaultsMsg: "filter is not allowed in a 'default' section.", apply: applyFilter }),
  fullconn: row('DLB', 'yes', { max: 1, apply: (c, a) => { if (!a[1]) return c.alert("'fullconn' expects an integer argument."); c.proxy.fullconn = atoi(a[1]) } }),
  'hash-type': row('DLB', 'yes', { apply: applyHashType }),
  'http-after-response': row('D!FLB', 'yes', { apply: ruleInto('httpAfterResponse'), allWords: true }),
  'http-check': row('DLB', 'yes', { apply: applyHttpCheck }),
  'http-error': row('DFLB', 'yes', { apply: applyHttpError }),
  'http-request': row('D!FLB', 'yes', { apply: ruleInto('httpRequest'), allWords: true }),
  'http-response': row('D!FLB', 'yes', { apply: ruleInto('httpResponse'), allWords: true }),
  'http-reuse': row('DLB', inert('connection reuse is left to undici'), { apply: applyHttpReuse }),
  'http-send-name-header': row('DLB', unsupported('adds the chosen server\'s name to requests')),
  id: row('FLB', 'yes', { max: 1, apply: applyId }),
  'ignore-persist': row('LB', unsupported('skips persistence on a condition')),
  'load-server-state-from-file': row('DLB', 'yes', { apply: applyLoadServerState }),
  log: row('DFLB', 'yes', { apply: applyLog }),
  'log-format': row('DFL', 'yes', { apply: (c, a) => { c.proxy.logFormat = formatArg(c, a) } }),
  'log-format-sd': row('DFL', 'yes', { apply: (c, a) => { c.proxy.logFormatSd = formatArg(c, a) } }),
  'log-tag': row('DFLB', 'yes', { apply: (c, a) => { if (a[1] === undefined) c.alert("'log-tag' expects a tag for use in syslog."); else c.proxy.logTag = a[1] } }),
  'max-keep-alive-queue': row('DLB', inert('connection reuse is left to undici')),
  maxconn: row('DFL', 'yes', { max: 1, apply: (c, a) => { if (!a[1]) return c.alert("'maxconn' expects an integer argument."); c.proxy.maxconn = atoi(a[1]) } }),
  mode: row('DFLB', 'yes', { max: 1, apply: applyMode }),
  monitor: row('FL', unsupported('makes the monitor URI report failure on a condition'), { apply: applyMonitor }),
  'monitor-uri': row('DFL', 'yes', { max: 1, apply: applyMonitorUri }),
  'monitor-net': removed("'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src %A }' instead."),
  option: row('DFLB', 'args', { apply: applyOption }),
  'external-check': row('DLB', 'yes', { apply: applyExternalCheck }),
  persist: row('DLB', unsupported(`RDP cookie persistence: ${PERSISTENCE}`), { apply: (c, a) => { if (!/^rdp-cookie(\(.*\))?$/.test(a[1] ?? '')) c.alert('unknown persist method.') } }),
  'rate-limit': row('DFL', inert('no session rate limiting')),
  redirect: row('FLB', 'yes', { apply: applyRedirect, allWords: true }),
  retries: row('DLB', 'yes', { apply: (c, a) => { if (!a[1]) return c.alert("'retries' expects an integer argument (dispatch counts for one)."); c.proxy.retries = atoi(a[1]) }, max: 1 }),
  'retry-on': row('DLB', 'yes', { capAlert: "'retry-on' ignored because %K '%N' has no backend capability.", apply: applyRetryOn }),
  server: row('LB', 'yes', { capAlert: "'server' not allowed because %K '%N' has no backend capability." }),
  'server-state-file-name': row('DLB', 'yes', { apply: (c, args) => { c.proxy.serverStateFileName = args[1] ?? c.proxy.name } }),
  'server-template': row('LB', 'yes', { capAlert: "'server-template' not allowed because %K '%N' has no backend capability." }),
  source: row('DLB', inert('the source address is chosen by the system')),
  'srvtcpka-cnt': row('DLB', inert('TCP keep-alive is left to Node')),
  'srvtcpka-idle': row('DLB', inert('TCP keep-alive is left to Node')),
  'srvtcpka-intvl': row('DLB', inert('TCP keep-alive is left to Node')),
  stats: row('DFLB', 'yes', { apply: applyStats }),
  stick: row('LB', 'yes', { apply: applyStick, allWords: true }),
  'stick-table': row('FLB', 'yes', { defaultsMsg: "'stick-table' is not supported in 'defaults' section.", apply: applyStickTable }),
  'tcp-check': row('DLB', 'yes', { apply: applyTcpCheck }),
  'tcp-request': row('D!FLB', 'args', { apply: applyTcpRules }),
  'tcp-response': row('D!LB', 'args', { capAlert: "tcp-response content is only allowed in 'backend' sections or 'defaults' section with a name", apply: applyTcpRules }),
  timeout: row('DFLB', 'args', { apply: applyTimeout }),
  transparent: row('DLB', inert('no transparent proxying'), { max: 0 }),
  'unique-id-format': row('DFL', 'yes', { apply: (c, a) => { c.proxy.uniqueIdFormat = formatArg(c, a) } }),
  'unique-id-header': row('DFL', 'yes', { apply: (c, a) => { if (a[1] === undefined) c.alert("'unique-id-header' expects an argument."); else c.proxy.uniqueIdHeader = a[1] } }),
  use_backend: row('FL', 'yes', { apply: applyUseBackend, allWords: true }),
  'use-server': row('LB', unsupported('sends requests to a named server on a condition')),
  'use-fcgi-app': row('LB', unsupported('talks FastCGI to the servers'), { defaultsMsg: "'use-fcgi-app' only available in backend or listen section", capAlert: "'use-fcgi-app' only available in backend or listen section" }),
  // Removed directives keep a row for HAProxy's message.
  reqrep: since21('reqrep', "Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead."),
  reqirep: since21('reqirep', "Use 'http-request replace-header' instead."),
  reqadd: since21('reqadd', "Use 'http-request add-header' instead."),
  reqdel: since21('reqdel', "Use 'http-request del-header' instead."),
  reqidel: since21('reqidel', "Use 'http-request del-header' instead."),
  reqdeny: removed("The 'reqdeny' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead."),
  reqideny: since21('reqideny', "Use 'http-request deny' instead."),
  reqpass: removed("The 'reqpass' not supported anymore since HAProxy 2.1."),
  reqipass: since21('reqipass', ''),
  reqallow: since21('reqallow', "Use 'http-request allow' instead."),
  reqiallow: since21('reqiallow', "Use 'http-request allow' instead."),
  reqtarpit: since21('reqtarpit', "Use 'http-request tarpit' instead."),
  reqitarpit: since21('reqitarpit', "Use 'http-request tarpit' instead."),
  rsprep: since21('rsprep', "Use 'http-response replace-header' instead."),
  rspirep: since21('rspirep', "Use 'http-response replace-header' instead."),
  rspadd: since21('rspadd', "Use 'http-response add-header' instead."),
  rspdel: since21('rspdel', "Use 'http-response del-header' ."),
  rspidel: since21('rspidel', "Use 'http-response del-header' instead."),
  rspdeny: since21('rspdeny', "Use 'http-response deny' instead."),
  rspideny: since21('rspideny', "Use 'http-response deny' instead."),
  block: removed("The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax."),
  contimeout: removed("the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'."),
  clitimeout: removed("the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout client'."),
  srvtimeout: removed("the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'."),
  redispatch: removed("keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'."),
  appsession: removed("'appsession' is not supported anymore since HAProxy 1.6.")
})

/** Filters of HAProxy 2.6 (§9) and what each does; `trace` only logs. */
const FILTERS: Record<string, Support> = table({
  trace: inert('the trace filter only logs'),
  compression: 'yes',
  cache: 'yes',
  spoe: unsupported('sends requests to SPOE agents'),
  'bwlim-in': unsupported('limits request bandwidth'),
  'bwlim-out': unsupported('limits response bandwidth'),
  'fcgi-app': unsupported('talks FastCGI to the servers')
})

/** `filter <name> [args]` (§9): HAProxy loads a SPOE filter's own configuration file while parsing. */
function applyFilter (c: ProxyCtx, args: string[]): void {
  const name = args[1] ?? ''
  const support = FILTERS[name]
  if (support === undefined) return c.alert(`'filter' : unknown keyword '${name}'.`)
  const i = args.indexOf('config')
  if (name === 'spoe' && i > 0 && args[i + 1] !== undefined && !isReadableFile(c.path(args[i + 1]!))) {
    return c.alert(`'filter' : 'Could not open configuration file ${args[i + 1]} : No such file or directory'`)
  }
  // `filter cache <name>` only places the cache among the filters: the cache-use and
  // cache-store rules do the work (lib/runtime/cache.ts)
  if (name === 'cache') {
    if (args[2] === undefined) return c.alert("'filter' : 'cache : expects a <name> argument'")
    if (c.flags.has(`filter cache ${args[2]}`)) return c.alert(`'filter' : '${c.proxy.name}: multiple explicit declarations of the cache filter '${args[2]}''`)
    c.flags.add(`filter cache ${args[2]}`)
  }
  if (name === 'compression') {
    if (args.length > 2) return c.alert(`'filter compression' : unknown keyword '${args[2]}'.`)
    if (c.proxy.filters?.includes('compression') === true) return c.alert(`'filter' : '${c.proxy.name}: Proxy supports only one compression filter\n'`)
  }
  ;(c.proxy.filters ??= []).push(name)
  report(c, support, `filter ${name}`)
}

/**
 * `compression algo <algo>… | type <mime>… | offload` (§4.2). Each `algo` and `type` line adds to
 * the list; `offload` in a defaults section is ignored with HAProxy's warning.
 */
function applyCompression (c: ProxyCtx, args: string[]): void {
  const what = args[1]
  if (what !== 'algo' && what !== 'type' && what !== 'offload') return c.alert("'compression' expects 'algo', 'type' or 'offload'")
  const values = args.slice(2)
  if (what === 'offload') {
    if (c.isDefaults) return c.warn("'compression' : 'offload' ignored in 'defaults' section.")
    compressionOf(c.proxy).offload = true
    return
  }
  if (values.length === 0) {
    const name = what === 'algo' ? '<algorithm>' : '<type>'
    return c.alert(what === 'algo' ? `parsing [${c.loc.file}:${c.loc.line}] : 'compression' expects ${name}.` : `'compression' expects ${name}.`)
  }
  if (what === 'type') {
    const comp = compressionOf(c.proxy)
    comp.types = [...(comp.types ?? []), ...values]
    return
  }
  const bad = values.find(v => !(COMPRESSION_ALGOS as readonly string[]).includes(v))
  if (bad !== undefined) return c.alert(`'compression' : '${bad}' is not a supported algorithm.`)
  const comp = compressionOf(c.proxy)
  comp.algos = [...(comp.algos ?? []), ...values as CompressionAlgo[]]
}

function compressionOf (p: Proxy): CompressionConfig {
  return (p.compression ??= { algos: null, types: null, offload: false })
}

/** Cookie options read but not implemented: an alert naming each (Support `unsupported`). */
const COOKIE_UNSUPPORTED: Record<string, string> = table({
  postonly: 'inserts the cookie only in answers to POST requests',
  maxidle: 'expires persistence cookies left unused',
  maxlife: 'expires persistence cookies after a lifetime',
  attr: 'adds attributes to the inserted cookie'
})
const COOKIE_FLAGS = ['indirect', 'nocache', 'preserve', 'httponly', 'secure'] as const

/**
 * `cookie <name> [options]` (configuration.txt §4.2): HAProxy's checks and
 * messages, then the persistence rule into the model. The options listed in COOKIE_UNSUPPORTED
 * are alerts, the rest is implemented (lib/runtime/persistence.ts).
 */
function applyCookie (c: ProxyCtx, args: string[]): void {
  if (!args[1]) return c.alert("'cookie' expects <cookie_name> as argument.")
  const ck: CookiePersistence = { name: args[1], mode: 'passive', indirect: false, nocache: false, preserve: false, httponly: false, secure: false, domains: [], dynamic: false, loc: c.loc }
  const modes: string[] = []
  const missing: string[] = []
  for (let i = 2; i < args.length; i++) {
    const w = args[i]!
    if (w === 'insert' || w === 'rewrite' || w === 'prefix') {
      modes.push(w)
      ck.mode = w
    } else if ((COOKIE_FLAGS as readonly string[]).includes(w)) {
      ck[w as typeof COOKIE_FLAGS[number]] = true
    } else if (w === 'domain') {
      const d = args[++i]
      if (!d) return c.alert("'domain' expects <domain> as argument.")
      if (!d.includes('.')) c.warn(`domain '${d}' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3).`)
      ck.domains.push(d)
    } else if (w === 'maxidle' || w === 'maxlife') {
      const t = args[++i]
      if (!t) return c.alert(`'${w}' expects <${w === 'maxidle' ? 'idletime' : 'lifetime'}> in seconds as argument.`)
      const r = parseTime(t, 's')
      const bad = r.ok ? r.trailing : r.bad
      if (bad !== undefined && bad !== null) return c.alert(`unexpected character '${bad}' in argument to <${w}>.`)
      missing.push(w)
    } else if (w === 'attr') {
      const v = args[++i]
      if (!v) return c.alert("'attr' expects <value> as argument.")
      for (const ch of v) {
        const code = ch.charCodeAt(0)
        if (code < 0x20 || code === 0x7f || ch === ';') return c.alert(`character '%x${code.toString(16).toUpperCase().padStart(2, '0')}' is not permitted in attribute value.`)
      }
      missing.push(w)
    } else if (w === 'dynamic') {
      ck.dynamic = true
    } else if (w === 'postonly') {
      missing.push(w)
    } else {
      return c.alert("'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.")
    }
  }
  if (new Set(modes).size > 1) return c.alert("cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.")
  if (ck.preserve && ck.mode !== 'insert' && !ck.indirect) return c.alert("cookie 'preserve' requires at least 'insert' or 'indirect'.")
  c.proxy.cookie = ck
  // a frontend ignores the line (warned by the caller): nothing to say about its options
  if (!c.isDefaults && c.proxy.kind === 'frontend') return
  for (const w of new Set(missing)) c.unsupported(`cookie ${w}`, COOKIE_UNSUPPORTED[w]!)
}

/** `errorfiles <name> [<code> ...]` (§4.2): the http-errors section, optionally only some codes of it. */
function applyErrorfiles (c: ProxyCtx, args: string[]): void {
  if (!args[1]) return c.alert('errorfiles : expects <name> as argument.')
  for (const code of args.slice(2)) if (!ERRORFILE_CODES.includes(code)) return c.alert(`errorfiles : status code '${atoi(code)}' not handled.`)
  c.proxy.errorSources.push({ kind: 'errorfiles', section: args[1], codes: args.slice(2), loc: c.loc })
}

/** `http-error status <code> …` (§4.2): the reply is checked when the rules are compiled. */
function applyHttpError (c: ProxyCtx, args: string[]): void {
  if (args[1] !== 'status') return c.alert(`'http-error': expects 'status' as first argument, but got '${args[1] ?? ''}'`)
  const code = args[2] ?? ''
  if (!ERRORFILE_CODES.includes(code)) return c.alert(`'http-error': status code '${atoi(code)}' not handled.`)
  c.proxy.errorSources.push({ kind: 'http-error', code, words: args.slice(3), loc: c.loc })
}

/** `monitor-uri <uri>` (§4.2): only a frontend answers it (a backend's is ignored with a warning). */
function applyMonitorUri (c: ProxyCtx, args: string[]): void {
  if (!args[1]) return c.alert("'monitor-uri' expects an URI.")
  if (c.isDefaults || c.proxy.kind !== 'backend') c.proxy.monitorUri = args[1]
}

/** `monitor fail if|unless <cond>` (§4.2): every line counts (HAProxy's mon_fail_cond list). */
function applyMonitor (c: ProxyCtx, args: string[]): void {
  if (args[1] !== 'fail') return c.alert("'monitor' only supports 'fail'.")
  const { cond } = splitCondition(args.slice(2), c.loc)
  if (cond === null || (args[2] !== 'if' && args[2] !== 'unless')) return c.alert("'monitor fail' requires either 'if' or 'unless' followed by a condition.")
  if (c.proxy.kind !== 'backend') c.proxy.monitorFail.push(cond)
}

/** A size with HAProxy's k/m/g suffixes (powers of 1024), or the offending character. */
function sizeArg (text: string): number | string {
  const m = /^(\d+)([kmgKMG]?)(.?)/.exec(text)
  if (m === null) return text[0] ?? ''
  if (m[3] !== '') return m[3]!
  return Number(m[1]) * 1024 ** ['', 'k', 'm', 'g'].indexOf(m[2]!.toLowerCase())
}

/**
 * `stick-table type <ip|ipv6|integer|string [len n]|binary [len n]> size <n> [expire <t>]
 * [nopurge] [peers <name>] [store <type>[(<period>)][,…]]…` (§4.2), with HAProxy's messages.
 */
function applyStickTable (c: ProxyCtx, args: string[]): void {
  const spec: StickTableSpec = { type: 'ip', keyLen: 32, size: 0, expire: null, nopurge: false, store: [], loc: c.loc }
  let typed = false
  for (let i = 1; i < args.length; i++) {
    const word = args[i]!
    const value = args[i + 1]
    if (word === 'type') {
      const t = value ?? ''
      if (!['ip', 'ipv6', 'integer', 'string', 'binary'].includes(t)) return c.alert(`stick-table: unknown type '${t}'.`)
      spec.type = t as StickTableSpec['type']
      typed = true
      i++
      if ((t === 'string' || t === 'binary') && args[i + 1] === 'len') {
        const n = atoi(args[i + 2] ?? '')
        if (!(n > 0)) return c.alert('stick-table: missing length for key.')
        spec.keyLen = n
        i += 2
      }
    } else if (word === 'size') {
      const n = sizeArg(value ?? '')
      if (typeof n === 'string') return c.alert(`stick-table: unexpected character '${n}' in argument of 'size'.`)
      spec.size = n
      i++
    } else if (word === 'expire') {
      const r = parseTime(value ?? '')
      if (!r.ok) return c.alert(`stick-table: unexpected character '${r.bad ?? ''}' in argument of 'expire'.`)
      spec.expire = r.value
      i++
    } else if (word === 'nopurge') {
      spec.nopurge = true
    } else if (word === 'peers') {
      i++
      report(c, inert(PEERS), 'stick-table peers')
    } else if (word === 'srvkey') {
      // `name` is what `stick` rules store here (server_key); `addr` would store the address
      if (value === 'addr') report(c, unsupported('stick rules naming servers by address in the table'), 'stick-table srvkey addr')
      i++
    } else if (word === 'store') {
      if (!storeTypes(c, spec, value ?? '')) return
      i++
    } else {
      return c.alert(`stick-table: unknown argument '${word}'.`)
    }
  }
  if (!typed) return c.alert('stick-table: missing type.')
  if (spec.size === 0) return c.alert('stick-table: missing size.')
  c.proxy.stickTable = spec
}

const STICK_KINDS: ReadonlyArray<StickRule['kind']> = ['on', 'match', 'store-request', 'store-response']

/**
 * `stick on|match|store-request|store-response <pattern> [table <name>] [if|unless <cond>]`
 * (§4.2). The pattern and condition are compiled with the proxy's rules (lib/acl/compile.ts),
 * the table is looked up after parsing (validate.ts), as HAProxy reports them.
 */
function applyStick (c: ProxyCtx, words: string[]): void {
  const kind = words[1] as StickRule['kind']
  if (!STICK_KINDS.includes(kind)) return c.alert("'stick' expects 'on', 'match', or 'store'.")
  const pattern = words[2]
  if (pattern === undefined || pattern === 'if' || pattern === 'unless' || pattern === 'table') return c.alert("'stick' expects a fetch method.")
  const { args, cond } = splitCondition(words.slice(3), c.loc)
  let table: string | null = null
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== 'table') return c.alert(`'stick': unknown keyword '${args[i]!}'.`)
    table = args[++i] ?? ''
  }
  // a frontend reads the line but has no server to stick to (HAProxy warned already)
  if (c.proxy.kind !== 'frontend') c.proxy.stickRules.push({ kind, pattern, table, cond, loc: c.loc })
}

/** `store a,b(period),…`: each known type once; rates need their period. */
function storeTypes (c: ProxyCtx, spec: StickTableSpec, list: string): boolean {
  for (const item of list.split(',')) {
    if (item === '') continue
    const m = /^([a-z_0-9]+)(?:\((.*)\))?$/.exec(item)
    const name = m?.[1] ?? item
    if (m === null || !(STICK_DATA_TYPES as readonly string[]).includes(name)) { c.alert(`stick-table: unknown store option '${name}'.`); return false }
    const type = name as StickDataType
    if (['gpt', 'gpc', 'gpc_rate'].includes(type)) {
      report(c, unsupported('stick-table data kept per entry as an array of counters'), `stick-table store ${type}`)
      continue
    }
    const rate = type.endsWith('_rate')
    if (rate && (m[2] === undefined || m[2] === '')) { c.alert(`stick-table: missing argument to store option '${type}'.`); return false }
    if (spec.store.some((s) => s.type === type)) { c.warn(`stick-table: store option '${type}' already enabled, ignored.`); continue }
    if (rate) {
      const r = parseTime(m[2]!)
      if (!r.ok) { c.alert(`stick-table: invalid period for store option '${type}'.`); return false }
      spec.store.push({ type, period: r.value })
    } else spec.store.push({ type })
  }
  return true
}

/** `external-check command <cmd>` / `external-check path <path>` (§4.2). */
function applyExternalCheck (c: ProxyCtx, args: string[]): void {
  if (args[1] === undefined) return c.alert("missing argument after 'external-check'.")
  if (args[1] !== 'command' && args[1] !== 'path') return c.alert(`'external-check' only supports 'command' and 'path'. but got '${args[1]}'.`)
  if (args[2] === undefined) return c.alert(`missing argument after '${args[1]}'.`)
  tooMany(c, args, 2, 'external-check')
  c.proxy.externalCheck = { ...c.proxy.externalCheck, [args[1]]: args[2] }
}

/** Actions of `tcp-request connection|session` (configuration.txt §4.2), as HAProxy lists them. */
const TCP_CONNECTION_ACTIONS = ['accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', "track-sc0' ... 'track-sc2", 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)',
  'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port',
  'set-tos', 'silent-drop']

/** Per `tcp-request`/`tcp-response` ruleset, the actions it takes (configuration.txt §4.2). */
const TCP_RULESETS: Record<string, Record<string, string[]>> = table({
  'tcp-request': table({
    connection: TCP_CONNECTION_ACTIONS,
    session: TCP_CONNECTION_ACTIONS,
    content: ['accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', "track-sc0' ... 'track-sc2", 'ot-group', 'set-log-level', 'set-nice', 'switch-mode',
      'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)',
      'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset']
  }),
  'tcp-response': table({
    content: ['accept', 'close', 'reject', 'ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)',
      'send-spoe-group', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop']
  })
})

/** TCP rule actions that only log, trace or tune the socket; every other one changes what happens to the connection. */
const TCP_INERT_ACTIONS = ['capture', 'ot-group', 'set-log-level', 'set-nice', 'set-mark', 'set-tos']

/** `tcp-request` actions the TCP proxy runs (lib/tcp/rules.ts); in `mode tcp` proxies they are supported. */
export const TCP_REQUEST_ACTIONS = ['accept', 'reject', 'silent-drop', 'set-var', 'set-var-fmt', 'unset-var', 'track-sc0', 'track-sc1', 'track-sc2', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt0',
  'set-src', 'set-dst', 'set-src-port', 'set-dst-port']

/** The actions of a `tcp-check` line (§4.2 tcp-check), as HAProxy lists them. */
const TCP_CHECK_STEPS = ['comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)']
const TCP_CHECK_CONNECT = table({ comment: 1, port: 1, addr: 1, 'send-proxy': 0, ssl: 0, sni: 1, alpn: 1, 'via-socks4': 0, linger: 0, default: 0, proto: 1 })
const TCP_CHECK_EXPECT = ['binary', 'string', 'rstring', 'string-lf', 'rbinary', 'binary-lf']
/** What a `tcp-check expect` takes before its match (and the match's pattern): each with one value. */
const TCP_CHECK_EXPECT_OPTIONS = ['min-recv', 'comment', 'ok-status', 'error-status', 'tout-status', 'on-success', 'on-error', 'status-code']

/**
 * `tcp-check connect|send|send-binary|expect|comment|set-var …` (§4.2): checked with HAProxy's
 * messages and kept for the health checker (lib/runtime/tcp-check.ts), which runs them when
 * `option tcp-check` is set. `-lf` variants and the variable actions are not run.
 */
function applyTcpCheck (c: ProxyCtx, args: string[]): void {
  const step = args[1] ?? ''
  const listed = TCP_CHECK_STEPS.includes(step) || TCP_CHECK_STEPS.includes(step.replace(/\(.*$/, '(*)')) || step === 'send-lf' || step === 'send-binary-lf'
  if (!listed) return c.alert(`'tcp-check' only supports '${TCP_CHECK_STEPS.join("', '")}'. but got '${step}'`)
  const rest = args.slice(2)
  if (step === 'connect') {
    for (let i = 0; i < rest.length; i++) {
      const n = TCP_CHECK_CONNECT[rest[i]!]
      if (n === undefined) return c.alert(`'tcp-check connect' : expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '${rest[i]}' as argument.`)
      if (rest[i] === 'proto') report(c, unsupported('a multiplexer protocol forced on a check connection'), 'tcp-check connect proto')
      i += n
    }
    // the PROXY line goes before the TLS handshake, which the checker does not split
    if (rest.includes('send-proxy') && rest.includes('ssl')) report(c, unsupported('a PROXY line before a TLS check connection'), 'tcp-check connect send-proxy ssl')
  } else if (step === 'send' || step === 'send-binary' || step === 'send-lf' || step === 'send-binary-lf') {
    if (rest[0] === undefined || rest[0] === '') return c.alert(`'tcp-check ${step}' : '${step.includes('binary') ? 'binary' : 'string'}' expects a send as argument.`)
    if (step === 'send-binary') {
      const bad = /[^0-9a-fA-F]/.exec(rest[0])
      if (bad !== null) return c.alert(`'tcp-check send-binary' : '${rest[0]}' invalid binary string (an hex digit is expected (found '${bad[0]}')).`)
    }
    if (step.endsWith('-lf')) report(c, unsupported('a check payload built from a log-format'), `tcp-check ${step}`)
  } else if (step === 'expect') {
    let i = 0
    while (TCP_CHECK_EXPECT_OPTIONS.includes(rest[i] ?? '')) i += 2
    const neg = rest[i] === '!'
    if (neg) i++
    // the negation may be glued to the match: `!rstring`
    const kind = (rest[i] ?? '').replace(/^!/, '')
    if (!TCP_CHECK_EXPECT.includes(kind)) return c.alert(`'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '${kind}' as argument.`)
    if (rest[i + 1] === undefined) return c.alert(`'tcp-check expect' : '${kind}' expects a <pattern> as argument.`)
    if (kind.endsWith('-lf')) report(c, unsupported('a check expectation built from a log-format'), `tcp-check expect ${kind}`)
    // statuses and literal messages are run; a status-code expression or a log-format message is not
    if (rest.some((w, k) => w === 'status-code' || w === 'tout-status' || ((w === 'on-success' || w === 'on-error') && (rest[k + 1] ?? '').includes('%')))) report(c, unsupported('check status codes and messages built from expressions'), 'tcp-check expect status options')
  } else if (step !== 'comment') {
    report(c, unsupported('variables set by a health check'), `tcp-check ${step}`)
  }
  c.proxy.tcpChecks.push({ action: step, args: rest, cond: null, loc: c.loc })
}

/**
 * `tcp-request inspect-delay|connection|session|content …` and `tcp-response inspect-delay|content …`
 * (§4.2): the ruleset and action are checked as HAProxy does; the rules themselves are not run,
 * so an action that accepts, rejects, tracks or rewrites is unsupported.
 */
function applyTcpRules (c: ProxyCtx, args: string[]): void {
  const kw = args[0]!
  const sub = args[1] ?? ''
  const where = `${c.isDefaults ? 'defaults' : c.proxy.kind === 'listen' ? 'proxy' : c.proxy.kind} '${c.proxy.name}'`
  const rulesets = TCP_RULESETS[kw]!
  if (sub === 'inspect-delay') {
    const r = parseTime(args[2] ?? '')
    if (!args[2] || !r.ok) return c.alert(`'${kw} inspect-delay' expects a positive delay in milliseconds, in ${where}`)
    if (kw === 'tcp-request') c.proxy.inspectDelay = r.ok ? r.value : null
    else c.proxy.resInspectDelay = r.ok ? r.value : null
    return report(c, { inert: 'no content is inspected before HTTP', tcp: 'served' }, `${kw} inspect-delay`)
  }
  const actions = rulesets[sub]
  if (actions === undefined) {
    return c.alert(kw === 'tcp-request'
      ? `'tcp-request' expects 'inspect-delay', 'connection', or 'content' in ${where} (got '${sub}')`
      : `'tcp-response' expects 'inspect-delay' or 'content' in ${where} (got '${sub}')`)
  }
  if (kw === 'tcp-request' && (sub === 'connection' || sub === 'session') && !c.isDefaults && c.proxy.kind === 'backend') {
    return c.alert(`tcp-request ${sub} is not allowed because backend ${c.proxy.name} is not a frontend`)
  }
  const action = args[2] ?? ''
  const track = /^track-sc(\d+)$/.exec(action)
  const listed = track !== null ? actions.includes("track-sc0' ... 'track-sc2") : actions.includes(action.replace(/\(.*$/, '(*)')) || actions.includes(action)
  if (!listed) return c.alert(`'${kw} ${sub}' expects '${actions.join("', '")}' in ${where} (got '${action}').`)
  if (track !== null && Number(track[1]) > 2) return c.alert(`'${kw} ${sub} ${action}' : ${track[1]} track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value`)
  c.markRules()
  if (kw === 'tcp-request' && sub === 'content' && TCP_CONTENT_HTTP.test(action)) {
    // in an HTTP proxy they run per request, before the http-request rules (compile.ts); in a
    // `mode tcp` one, on the connection's first bytes (lib/tcp)
    const { args: a, cond } = splitCondition(args.slice(2), c.loc, actionEnd(args.slice(2)))
    c.proxy.tcpRequestContent.push({ action: a[0] ?? '', args: a.slice(1), cond, loc: c.loc })
    return
  }
  if (kw === 'tcp-request' && sub !== 'content' && TCP_REQUEST_ACTIONS.includes(action.replace(/\(.*$/, ''))) {
    const { args: a, cond } = splitCondition(args.slice(2), c.loc, actionEnd(args.slice(2)))
    // run once per connection: by the TCP proxy (lib/tcp), on its first request in an HTTP proxy
    c.proxy.tcpRequestConnection.push({ action: a[0]!, args: a.slice(1), cond, loc: c.loc })
    // HTTP proxies run them on each accepted connection (plugin.ts countConnections): the actions
    // they run in content rules, and silent-drop
    if (action === 'silent-drop' || TCP_CONTENT_HTTP.test(action)) return
    return report(c, TCP_LATER, `${kw} ${sub} ${action}`)
  }
  if (kw === 'tcp-response' && TCP_RESPONSE_ACTIONS.test(action)) {
    const { args: a, cond } = splitCondition(args.slice(2), c.loc, actionEnd(args.slice(2)))
    // run on the server's first bytes by the TCP proxy (lib/tcp), on each response in an HTTP proxy (compile.ts)
    c.proxy.tcpResponseContent.push({ action: a[0]!, args: a.slice(1), cond, loc: c.loc })
    return
  }
  report(c, TCP_INERT_ACTIONS.includes(action)
    ? inert('it only logs or tunes the socket')
    : action === 'expect-proxy'
      ? unsupported("reads a PROXY protocol header when a condition holds; 'accept-proxy' on the bind reads one on every connection")
      : unsupported('a TCP-level rule run before HTTP'), `${kw} ${sub} ${action}`)
}

/**
 * Run by the TCP proxy (lib/tcp); in an HTTP proxy not run (yet): decided once the section's
 * mode is known (parse.ts reportUnsupported), as `{ unsupported }` rows are.
 */
const TCP_LATER: Support = { unsupported: 'a TCP-level rule run before HTTP', tcp: 'served' }
/** `tcp-response content` actions the TCP proxy (lib/tcp/proxy.ts) and HTTP proxies (acl/compile.ts) run. */
export const TCP_RESPONSE_ACTIONS = /^(accept|reject|close|set-var\(.*\)|set-var-fmt\(.*\)|unset-var\(.*\))$/
/** `tcp-request content` actions an HTTP proxy runs (compile.ts tcpContentRules). */
const TCP_CONTENT_HTTP = /^(accept|reject|set-var\(.*\)|set-var-fmt\(.*\)|unset-var\(.*\)|track-sc[0-2]|sc-inc-gpc[01]\(.*\)|sc-set-gpt0\(.*\)|set-(src|dst)(-port)?)$/

function applyCapture (c: ProxyCtx, args: string[]): void {
  const sub = args[1]
  if (sub === 'cookie') {
    if (args[3] !== 'len' || !(atoi(args[4] ?? '') > 0)) return c.alert("'capture cookie' expects <cookie_name> 'len' <len>.")
    c.proxy.captureCookie = { name: args[2] ?? '', len: atoi(args[4]!) }
    return
  }
  if (sub !== 'request' && sub !== 'response') return c.alert("'capture' expects 'cookie' or 'request header' or 'response header'.")
  if (args[2] !== 'header' || args[3] === undefined || args[4] !== 'len' || !(atoi(args[5] ?? '') > 0)) {
    return c.alert(`'capture ${sub} header' expects <header name> 'len' <len>.`)
  }
  const slots = sub === 'request' ? c.proxy.requestCaptures : c.proxy.responseCaptures
  slots.push({ header: args[3].toLowerCase(), len: atoi(args[5]!) })
}

/** `declare capture request|response len <n>` (§4.2): a slot for `http-request capture … id`. */
function applyDeclare (c: ProxyCtx, args: string[]): void {
  if (args[1] !== 'capture') return c.alert("unknown declaration type '" + (args[1] ?? '') + "' (supports 'capture')")
  const sub = args[2]
  if ((sub !== 'request' && sub !== 'response') || args[3] !== 'len' || !(atoi(args[4] ?? '') > 0)) {
    return c.alert("'declare capture' expects 'request' or 'response' then 'len' <length>.")
  }
  (sub === 'request' ? c.proxy.requestCaptures : c.proxy.responseCaptures).push({ header: null, len: atoi(args[4]!) })
}

/** `log global`, `log <target> …`, `no log` (§4.2 log). */
function applyLog (c: ProxyCtx, args: string[]): void {
  if (c.kwm !== 'std') { c.proxy.logs = []; return }
  if (args[1] === 'global' && args[2] === undefined) { c.proxy.logs.push('global'); return }
  const target = parseLogTarget(args, c.alert, c.warn, c.env, c.loc)
  if (target !== null) c.proxy.logs.push(target)
}

/** HAProxy accepts a log server on port 0 (an empty `${VAR}` often makes one) and nothing reaches it. */
const PORT_ZERO_LOG = "log : the server's port is 0: messages to it are dropped, as nothing can be sent there."


/** The format string of `log-format` & co.: one word (several are joined, as HAProxy 1.x read them). */
function formatArg (c: ProxyCtx, args: string[]): string {
  if (args[1] === undefined) c.alert(`'${args[0] ?? ''}' expects an argument.`)
  return args.slice(1).join(' ')
}

function applyId (c: ProxyCtx, args: string[]): void {
  if (!args[1]) return c.alert("'id' expects an integer argument.")
  const n = atoi(args[1])
  if (n <= 0) return c.alert('custom id has to be > 0.')
  c.proxy.id = n
  c.flags.add('explicit-id')
}

function applyMode (c: ProxyCtx, args: string[]): void {
  const m = args[1] ?? ''
  if (m !== 'http' && m !== 'tcp' && m !== 'health') return c.alert(`unknown proxy mode '${m}'.`)
  if (m === 'health') return c.alert("'mode health' doesn't exist anymore. Please use 'http-request return' or 'tcp-request connection reject' instead.")
  c.proxy.mode = m
  c.proxy.modeExplicit = true
}

const RETRY_ON = ['none', 'conn-failure', 'empty-response', 'junk-response', 'response-timeout', '0rtt-rejected', 'all-retryable-errors', '401', '403', '404', '408', '425', '500', '501', '502', '503', '504']

function applyLoadServerState (c: ProxyCtx, args: string[]): void {
  const v = args[1]
  if (v !== 'global' && v !== 'local' && v !== 'none') return c.alert(`'load-server-state-from-file' expects 'global', 'local' or 'none'. Got '${v ?? ''}'`)
  c.proxy.loadServerState = v
}

function applyRetryOn (c: ProxyCtx, args: string[]): void {
  if (!args[1]) return c.alert("'retry-on' needs at least one keyword to specify when to retry")
  for (const w of args.slice(1)) if (!RETRY_ON.includes(w)) return c.alert(`'retry-on': unknown keyword '${w}'`)
  c.proxy.retryOn = args.slice(1)
}

/** Keyword names a proxy section knows, for "did you mean". */
export const PROXY_KEYWORD_NAMES = Object.keys(PROXY_KEYWORDS).filter(k => !PROXY_KEYWORDS[k]!.removed)

// ---------------------------------------------------------------------------------------------
// global   (configuration.txt §3)

const rows = (support: Support, names: string): Record<string, Support> => Object.fromEntries(names.split(' ').map(k => [k, support]))

/**
 * What this gateway does with the global keywords (Support). None changes how a request is
 * handled, so every one not implemented is a warning; `tune.*` and `ssl-*` rows not listed
 * follow their prefix (globalSupport).
 */
const GLOBAL_SUPPORT: Record<string, Support> = table({
  ...rows('yes', 'maxconn maxconnrate maxsessrate maxsslrate spread-checks node description stats crt-base ca-base default-path ssl-server-verify expose-experimental-directives ssl-dh-param-file server-state-file server-state-base'),
  ...rows('yes', 'ssl-default-bind-options ssl-default-bind-ciphers ssl-default-bind-ciphersuites ssl-default-bind-curves'),
  ...rows('yes', 'ssl-default-server-options ssl-default-server-ciphers ssl-default-server-ciphersuites'),
  ...rows(inert('the Node process keeps its own user and group'), 'user group uid gid'),
  ...rows('yes', 'log log-send-hostname log-tag set-var set-var-fmt'),
  ...rows('yes', 'tune.http.maxhdr tune.http.logurilen tune.bufsize tune.maxrewrite'),
  ...rows('yes', 'tune.comp.maxlevel'),
  ...rows(inert("compression here has no rate or CPU limit: every answer chosen for it is compressed at tune.comp.maxlevel"), 'maxcomprate maxcompcpuusage'),
  ...rows('yes', 'tune.h2.header-table-size tune.h2.initial-window-size tune.h2.max-concurrent-streams tune.h2.max-frame-size'),
  ...rows('yes', 'hard-stop-after grace external-check insecure-fork-wanted'),
  ...rows(inert('stopping is left to whoever starts Node'), 'close-spread-time'),
  ...rows(inert('header names are written as Node writes them'), 'h1-case-adjust h1-case-adjust-file'),
  ...rows(inert('no Lua'), 'lua-load lua-load-per-thread lua-prepend-path'),
  ...rows(inert('applies to the rest of this configuration only'), 'setenv presetenv unsetenv resetenv'),
  ...rows(inert('Node runs one event loop'), 'nbthread cpu-map thread-groups thread-group numa-cpu-mapping busy-polling'),
  ...rows(inert('process management is left to whoever starts Node'), 'daemon master-worker pidfile chroot'),
  ...rows('yes', 'quiet zero-warning')
})

/** A known global keyword's row (GLOBAL_SUPPORT, else by prefix). */
export function globalSupport (kw: string): Support {
  const row = GLOBAL_SUPPORT[kw]
  if (row !== undefined) return row
  if (kw.startsWith('tune.ssl') || kw.startsWith('ssl-')) return inert("node's TLS (OpenSSL) keeps its own settings for this")
  if (kw.startsWith('tune.')) return inert('HAProxy tuning does not apply to Node')
  return inert('no equivalent in Node')
}

/** Known global keywords of HAProxy 2.6 (§3 and `haproxy -dKcfg` of the Debian build). */
export const GLOBAL_KNOWN = (
  'ca-base chroot cluster-secret cpu-map crt-base daemon default-path description expose-experimental-directives external-check fd-hard-limit ' +
  'gid grace group h1-accept-payload-with-any-method h1-case-adjust h1-case-adjust-file h2-workaround-bogus-websocket-clients hard-stop-after ' +
  'httpclient.resolvers.id httpclient.resolvers.prefer httpclient.ssl.ca-file httpclient.ssl.verify insecure-fork-wanted insecure-setuid-wanted ' +
  'issuers-chain-path localpeer log log-send-hostname log-tag lua-load lua-load-per-thread lua-prepend-path mworker-max-reloads nbthread node ' +
  'numa-cpu-mapping pidfile pp2-never-send-local presetenv resetenv set-dumpable set-var set-var-fmt setenv ssl-default-bind-ciphers ' +
  'ssl-default-bind-ciphersuites ssl-default-bind-curves ssl-default-bind-options ssl-default-server-ciphers ssl-default-server-ciphersuites ' +
  'ssl-default-server-options ssl-dh-param-file ssl-propquery ssl-provider ssl-provider-path ssl-server-verify ssl-skip-self-issued-ca ' +
  'ssl-load-extra-del-ext ssl-load-extra-files ssl-mode-async stats strict-limits uid ulimit-n unix-bind unsetenv user busy-polling ' +
  'max-spread-checks maxcompcpuusage maxcomprate maxconn maxconnrate maxpipes maxsessrate maxsslconn maxsslrate maxzlibmem no-memory-trimming ' +
  'noepoll noevports nogetaddrinfo nokqueue nopoll noreuseport nosplice profiling.tasks server-state-base server-state-file spread-checks ' +
  'thread-group thread-groups close-spread-time quiet zero-warning master-worker anonkey tune.buffers.limit tune.buffers.reserve tune.bufsize ' +
  'tune.comp.maxlevel tune.fail-alloc tune.fd.edge-triggered tune.h2.header-table-size tune.h2.initial-window-size tune.h2.max-concurrent-streams ' +
  'tune.h2.max-frame-size tune.http.cookielen tune.http.logurilen tune.http.maxhdr tune.idle-pool.shared tune.idletimer tune.listener.multi-queue ' +
  'tune.lua.forced-yield tune.lua.maxmem tune.lua.service-timeout tune.lua.session-timeout tune.lua.task-timeout tune.maxaccept ' +
  'tune.maxpollevents tune.maxrewrite tune.pattern.cache-size tune.peers.max-updates-at-once tune.pipesize tune.pool-high-fd-ratio ' +
  'tune.pool-low-fd-ratio tune.rcvbuf.client tune.rcvbuf.server tune.recv_enough tune.runqueue-depth tune.sched.low-latency tune.sndbuf.client ' +
  'tune.sndbuf.server tune.ssl.cachesize tune.ssl.capture-buffer-size tune.ssl.capture-cipherlist-size tune.ssl.default-dh-param ' +
  'tune.ssl.force-private-cache tune.ssl.hard-maxrecord tune.ssl.keylog tune.ssl.lifetime tune.ssl.maxrecord tune.ssl.ssl-ctx-cache-size ' +
  'tune.vars.check-max-size tune.vars.global-max-size tune.vars.proc-max-size tune.vars.reqres-max-size tune.vars.sess-max-size ' +
  'tune.vars.txn-max-size tune.zlib.memlevel tune.zlib.windowsize'
).split(' ')

/** Most arguments a global keyword takes (beyond, `haproxy -c` alerts); absent = not checked. */
const GLOBAL_MAX_ARGS: Record<string, number> = table({
  ...Object.fromEntries(['daemon', 'quiet', 'zero-warning', 'noepoll', 'nokqueue', 'noevports', 'nopoll', 'nosplice', 'nogetaddrinfo', 'noreuseport',
    'insecure-fork-wanted', 'insecure-setuid-wanted', 'busy-polling', 'set-dumpable', 'strict-limits', 'pp2-never-send-local', 'external-check',
    'h2-workaround-bogus-websocket-clients'].map(k => [k, 0])),
  ...Object.fromEntries(['maxconn', 'nbthread', 'pidfile', 'chroot', 'user', 'group', 'uid', 'gid', 'node', 'ulimit-n', 'spread-checks', 'max-spread-checks',
    'ca-base', 'crt-base', 'maxconnrate', 'maxsessrate', 'maxsslrate', 'maxcomprate', 'maxpipes', 'maxzlibmem', 'maxcompcpuusage', 'maxsslconn',
    'ssl-server-verify', 'localpeer', 'cluster-secret', 'log-tag', 'fd-hard-limit', 'thread-groups', 'ssl-dh-param-file', 'master-worker',
    'ssl-default-bind-ciphers', 'ssl-default-bind-ciphersuites', 'ssl-default-server-ciphers', 'ssl-default-server-ciphersuites', 'ssl-default-bind-curves',
    'tune.runqueue-depth', 'tune.maxpollevents', 'tune.maxaccept', 'tune.recv_enough', 'tune.buffers.limit', 'tune.buffers.reserve', 'tune.bufsize',
    'tune.maxrewrite', 'tune.idletimer', 'tune.rcvbuf.client', 'tune.rcvbuf.server', 'tune.sndbuf.client', 'tune.sndbuf.server', 'tune.pipesize',
    'tune.http.cookielen', 'tune.http.logurilen', 'tune.http.maxhdr', 'tune.comp.maxlevel', 'tune.pattern.cache-size', 'tune.ssl.default-dh-param',
    'tune.ssl.cachesize', 'tune.ssl.lifetime', 'tune.ssl.maxrecord', 'tune.ssl.ssl-ctx-cache-size', 'tune.ssl.capture-buffer-size',
    'tune.ssl.capture-cipherlist-size', 'tune.h2.header-table-size', 'tune.h2.initial-window-size', 'tune.h2.max-concurrent-streams',
    'tune.h2.max-frame-size'].map(k => [k, 1])),
  'h1-case-adjust': 2
})

/** Options of `ssl-default-bind-options` / `ssl-default-server-options` (§3.1); the two take a value. */
const SSL_DEFAULT_OPTIONS = ['no-sslv3', 'no-tlsv10', 'no-tlsv11', 'no-tlsv12', 'no-tlsv13', 'force-sslv3', 'force-tlsv10', 'force-tlsv11', 'force-tlsv12',
  'force-tlsv13', 'no-tls-tickets', 'prefer-client-ciphers', 'ssl-min-ver', 'ssl-max-ver', 'no-ssl-reuse', 'allow-0rtt']

/** Checks a global line's shape where HAProxy does; returns its complaint or null. */
export function globalArgsError (args: string[]): string | null {
  const kw = args[0]!
  const max = GLOBAL_MAX_ARGS[kw]
  if (max !== undefined && args.length > max + 1) return `'${kw}' cannot handle unexpected argument '${args[max + 1]}'.`
  if (kw === 'master-worker' && args[1] !== undefined && args[1] !== 'no-exit-on-failure') return "'master-worker' only supports 'no-exit-on-failure' option."
  if (kw === 'ssl-default-bind-options' || kw === 'ssl-default-server-options') {
    for (let i = 1; i < args.length; i++) {
      const o = args[i]!
      if (!SSL_DEFAULT_OPTIONS.includes(o)) return `unknown option '${o}' on global statement '${kw}'.`
      if (o === 'ssl-min-ver' || o === 'ssl-max-ver') {
        if (!TLS_VERSIONS.includes(args[i + 1] ?? '')) return `'${kw}' : unknown ssl/tls version '${args[i + 1] ?? ''}'.`
        i++
      }
    }
  }
  return null
}

/** Global keywords HAProxy 2.6 refuses with a message of its own. */
export const GLOBAL_REMOVED: Record<string, string> = table({
  nbproc: 'nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.'
})

/** Keywords that accept the `no` / `default` prefix (configuration.txt §4.2 `option`). */
export const NEGATABLE = ['option', 'log', 'busy-polling', 'set-dumpable', 'strict-limits', 'insecure-fork-wanted', 'numa-cpu-mapping']

/** `log ... format <f>` (§3.1 log). */
export const LOG_FORMATS: LogFraming[] = ['local', 'rfc3164', 'rfc5424', 'priority', 'short', 'timed', 'iso', 'raw']

/** Syslog levels, emerg (0) to debug (7). */
export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']

/** Syslog facilities, in their numeric order (kern = 0 … local7 = 23). */
const LOG_FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'auth2', 'ftp', 'ntp', 'audit', 'alert', 'cron2', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7']

/**
 * `log <target> [len <n>] [format <f>] [sample <r:s>] <facility> [<level> [<minlevel>]]` (§3.1 log):
 * the target, or null after an alert.
 */
export function parseLogTarget (args: string[], alert: (m: string) => void, warn: (m: string) => void, env: Record<string, string | undefined>, loc: Loc): LogTarget | null {
  const t = args[1]
  let i = 2
  let maxLen = 1024
  let format: LogFraming = 'local'
  let formatGiven = false
  let sample: LogTarget['sample'] = null
  while (args[i] === 'len' || args[i] === 'format' || args[i] === 'sample') {
    const value = args[i + 1] ?? ''
    if (args[i] === 'format') {
      if (!LOG_FORMATS.includes(value as LogFraming)) {
        alert(`log : unknown log format '${value}'`)
        return null
      }
      format = value as LogFraming
      formatGiven = true
    } else if (args[i] === 'len') {
      const n = atoi(value)
      if (!(n >= 80 && n <= 65535)) {
        alert(`log : invalid log length '${value}', must be between 80 and 65535`)
        return null
      }
      maxLen = n
    } else {
      sample = parseLogSample(value)
      if (sample === null) {
        alert(`log : invalid sample '${value}', expected <ranges>:<size>`)
        return null
      }
    }
    i += 2
  }
  const facility = args[i]
  if (!t || !facility) {
    alert('log : expects <address> and <facility> or global as arguments')
    return null
  }
  if (!LOG_FACILITIES.includes(facility)) {
    alert(`log : unknown log facility '${facility}'`)
    return null
  }
  for (const [j, what] of [[i + 1, 'optional log level'], [i + 2, 'optional minimum log level']] as const) {
    if (args[j] !== undefined && !LOG_LEVELS.includes(args[j]!)) {
      alert(`log : unknown ${what} '${args[j]}'`)
      return null
    }
  }
  if (args[i + 3] !== undefined) {
    alert(`log : cannot handle unexpected argument '${args[i + 3]}'.`)
    return null
  }
  const target: LogTarget = {
    kind: 'udp',
    address: '',
    port: 514,
    format,
    formatGiven,
    maxLen,
    sample,
    facility: LOG_FACILITIES.indexOf(facility),
    level: args[i + 1] === undefined ? 7 : LOG_LEVELS.indexOf(args[i + 1]!),
    minLevel: args[i + 2] === undefined ? 0 : LOG_LEVELS.indexOf(args[i + 2]!),
    loc
  }
  if (t === 'stdout' || t === 'fd@1') return { ...target, kind: 'stdout' }
  if (t === 'stderr' || t === 'fd@2') return { ...target, kind: 'stderr' }
  if (t.startsWith('ring@')) return { ...target, kind: 'ring', address: t.slice(5) }
  const a = parseAddress(t, { portRequired: false, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: true, env })
  if (!a.ok) {
    alert(`log : ${a.error}`)
    return null
  }
  const addr = a.value
  if (addr.family === 'unix' || addr.family === 'abns') return { ...target, kind: 'unix', address: addr.host }
  if (addr.family === 'fd' || addr.family === 'sockpair') {
    alert(`log : '${t}': only fd@1 and fd@2 (stdout, stderr) are supported by fastify-haproxy.`)
    return null
  }
  const port = addr.hasPort ? addr.port : 514
  if (port === 0) warn(PORT_ZERO_LOG)
  return { ...target, address: addr.host, port }
}

/** `sample 1,3:5` / `sample 2-4:10` (§4.2 log sample). */
function parseLogSample (text: string): LogTarget['sample'] {
  const m = /^([0-9,-]+):(\d+)$/.exec(text)
  if (m === null) return null
  const size = Number(m[2])
  const ranges: Array<[number, number]> = []
  for (const part of m[1]!.split(',')) {
    const [lo, hi = lo] = part.split('-')
    const a = Number(lo)
    const b = Number(hi)
    if (!(a >= 1 && b >= a && b <= size)) return null
    ranges.push([a, b])
  }
  return size > 0 ? { ranges, size } : null
}

// ---------------------------------------------------------------------------------------------
// sections HAProxy 2.6 knows that this gateway does not use

/**
 * Keywords of those sections (§3.5–3.10, §5.3.2, §6.2.1): the lines are checked against them
 * (anything else is an unknown keyword, as in HAProxy) but not interpreted.
 */
export const OTHER_SECTION_KEYWORDS: Record<string, string[]> = table({
  peers: ['peer', 'bind', 'default-bind', 'default-server', 'server', 'disabled', 'enabled', 'enable', 'log', 'table', 'shards'],
  resolvers: ['nameserver', 'parse-resolv-conf', 'accepted_payload_size', 'resolve_retries', 'hold', 'timeout'],
  mailers: ['mailer', 'timeout'],
  cache: ['total-max-size', 'max-object-size', 'max-age', 'process-vary', 'max-secondary-entries'],
  ring: ['description', 'format', 'maxlen', 'size', 'timeout', 'server', 'backing-file'],
  program: ['command', 'user', 'group', 'option', 'no'],
  'log-forward': ['bind', 'dgram-bind', 'backlog', 'maxconn', 'timeout', 'log']
})

/** Names of the sections of a parsed configuration that the model does not carry (resolvers …), for references to them. */
export const OTHER_SECTION_NAMES = new WeakMap<object, Map<string, Set<string>>>()

/**
 * What this gateway does with each of those sections (Support): each is reported once, at its
 * line. FastCGI would change responses only through a backend's `use-fcgi-app`; the others matter outside HTTP routing.
 */
export const OTHER_SECTIONS: Record<string, Support> = table({
  peers: inert(PEERS),
  resolvers: 'yes',
  mailers: inert('e-mail alerts are not sent'),
  cache: 'yes',
  program: inert('no external programs are started'),
  ring: 'yes',
  // only a backend's `use-fcgi-app` (refused) would talk FastCGI: the section alone changes nothing
  'fcgi-app': inert('FastCGI is not spoken: a backend\'s use-fcgi-app is refused'),
  'log-forward': 'yes',
  namespace_list: inert('network namespaces are not supported')
})
