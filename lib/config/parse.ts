// The section state machine: lines → keyword rows → ParsedConfig (configuration.txt §2–§4:
// global, defaults and proxy sections). Never throws:
// every problem becomes a located Diagnostic and parsing goes on with the next line, as HAProxy.

import { readFileSync, readdirSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'

import { DEFAULT_BUFSIZE } from './model.js'
import type { CacheSection, GlobalSettings, GlobalTls, HttpErrorsSection, Loc, LogForward, ParsedConfig, Proxy, ProxyKind, Resolvers, Ring, Server, ServerOptions, StatsSocket, Userlist } from './model.js'
import { logForwardLine, newLogForward, newRing, ringLine } from './log-sections.js'
import { cacheLine, checkCaches, newCache } from './cache-section.js'
import { CONFIG_FILE_LIMIT, readBounded } from '../files.js'
import { DiagnosticList, didYouMean } from './diagnostics.js'
import { baseDirectory, type DefaultPath, type DefaultPathLine } from './default-path.js'
import { tokenizeLine, type TokenizeContext } from './tokenize.js'
import { DEFAULT_INIT_ADDR, atoi, initAddress, parseAddress, parseTime } from './args.js'
import {
  GLOBAL_KNOWN, GLOBAL_REMOVED, NEGATABLE, globalSupport, parseLogTarget, OTHER_SECTIONS, PROXY_KEYWORDS, PROXY_KEYWORD_NAMES,
  OTHER_SECTION_KEYWORDS, OTHER_SECTION_NAMES, SERVER_EXTRAS, STATS_SOCKET_OPTIONS, applyServerOptions, argsOf, report, globalArgsError, unknownBindOption, bindAddresses, capable, errorFileArg, isReadableFile, serverExtras, serverSupport, type ProxyCtx, type TcpSupport
} from './keywords.js'

/**
 * How a proxy without `mode` (nor one in its defaults) is run: 'tcp' as HAProxy does (the CLI),
 * 'http' inside an HTTP application (the plugin, which warns that HAProxy would run it as TCP).
 */
export type ModelessAs = 'tcp' | 'http'

export interface ParseOptions {
  filename?: string
  env?: Record<string, string | undefined>
  baseDir?: string
  modeless?: ModelessAs
}

/** A frontend/backend/listen/defaults section while it is being read. */
interface ProxyState {
  proxy: Proxy
  isDefaults: boolean
  named: boolean
  section: string
  defaultServer: ServerOptions
  /** The words of the default-server lines, for options the model does not keep. */
  defaultServerWords: string[]
  flags: Set<string>
  /** Holds tcp/http rules (defaults only: restricts who may inherit it). */
  hasRules: boolean
  explicitRef: boolean
  implicitRef: boolean
  inheritors: Set<'fe' | 'be'>
  ctx: ProxyCtx | null
  /** Unsupported keywords met, reported once the section's mode is known (see finish). */
  unsupported: Array<{ loc: Loc, what: string, does: string, tcp: TcpSupport | undefined, httpInert: boolean }>
}

type Current =
  | { kind: 'none' }
  | { kind: 'global' }
  | { kind: 'proxy', st: ProxyState }
  | { kind: 'userlist', ul: Userlist }
  | { kind: 'http-errors', he: HttpErrorsSection }
  | { kind: 'other', name: string }

const NAME_CHARS = /[^A-Za-z0-9_.:-]/

/** Keywords named in messages with their first argument (`capture request`, `stick on`, `persist rdp-cookie`). */
const SHOWN_WITH_SUB = ['capture', 'monitor', 'persist', 'declare']

/** A `resolvers` section with 2.6's defaults (configuration.txt §5.3.2). */
export function newResolvers (name: string, loc: Loc): Resolvers {
  return {
    name, nameservers: [], parseResolvConf: false,
    hold: { valid: 10_000, nx: 30_000, obsolete: 0, other: 30_000, refused: 30_000, timeout: 30_000 },
    resolveRetries: 3, timeoutResolve: 1000, timeoutRetry: 1000, acceptedPayloadSize: 512, loc
  }
}

/**
 * Whether a server's name can become a DNS query (RFC 1035 §2.3.4 limits):
 * non-empty labels of at most 63 bytes, 255 in all. Anything else in the labels is only found
 * out when resolving fails.
 */
function dnsName (host: string): boolean {
  const labels = host.replace(/\.$/, '').split('.')
  return host.length <= 255 && labels.every(l => l.length > 0 && l.length <= 63)
}

/** Reads HAProxy configuration text; several files share one parser, as with `haproxy -f a -f b`. */
class ConfigParser {
  readonly diags = new DiagnosticList()
  readonly global: GlobalSettings & { tls: GlobalTls } = { ignored: [], stats: { sockets: [] }, logs: [], setVars: [], tls: { bindOptions: [], serverOptions: [] } }
  readonly proxies: Proxy[] = []
  readonly userlists: Userlist[] = []
  readonly httpErrors: HttpErrorsSection[] = []
  readonly files: string[] = []
  private readonly states = new Map<Proxy, ProxyState>()
  /** Proxies by name, for the duplicate check. */
  private readonly byName = new Map<string, Proxy[]>()
  private readonly defaults: ProxyState[] = []
  private lastDefaults: ProxyState | null = null
  private cur: Current = { kind: 'none' }
  /** Open `.if` blocks of the current file. */
  private conds: Array<{ active: boolean, taken: boolean, parentActive: boolean, loc: Loc, sawElse?: boolean }> = []
  private env: Record<string, string | undefined>
  private baseDir: string
  private crtBase: string | undefined
  private caBase: string | undefined
  /** `default-path` lines so far, in config order. */
  private readonly defaultPaths: DefaultPathLine[] = []
  /** Reused for every line: the tokenizer only reads it. */
  private readonly tokenCtx: TokenizeContext = { env: {}, file: '', line: 0, section: '' }
  readonly resolvers: Resolvers[] = []
  readonly caches: CacheSection[] = []
  readonly rings: Ring[] = []
  readonly logForwards: LogForward[] = []
  /** Names of the sections only recognised (resolvers, peers …), by section keyword. */
  private readonly otherNames = new Map<string, Set<string>>()
  /** `userlist\0group` of every `group` line: a user may only name those. */
  private readonly declaredGroups = new Set<string>()

  private readonly modeless: ModelessAs

  constructor (opts: { env?: Record<string, string | undefined>, baseDir?: string, modeless?: ModelessAs } = {}) {
    this.env = { ...(opts.env ?? process.env) }
    this.baseDir = opts.baseDir ?? process.cwd()
    this.modeless = opts.modeless ?? 'http'
  }

  /** Whether the proxy runs in TCP mode: `mode tcp` written, or no mode at all under the CLI. */
  private runsTcp (p: Proxy): boolean {
    return p.mode === 'tcp' && (p.modeExplicit || this.modeless === 'tcp')
  }

  /** Parses one file's text. */
  feed (text: string, file: string, baseDir?: string): void {
    if (baseDir !== undefined) this.baseDir = baseDir
    this.files.push(file)
    this.cur = { kind: 'none' }
    const lines = text.split('\n')
    const missingLf = text.length > 0 && !text.endsWith('\n')
    if (!missingLf) lines.pop()
    for (let n = 0; n < lines.length; n++) {
      const loc: Loc = { file, line: n + 1 }
      if (missingLf && n === lines.length - 1) {
        // readcfgfile: a last line without LF may be truncated; HAProxy refuses it.
        this.diags.alert(`Missing LF on last line, file might have been truncated at position ${lines[n]!.length + 1}.`, loc)
        break
      }
      this.line(lines[n]!, loc)
    }
    for (const open of this.conds) this.diags.alert("non-terminated '.if' block.", open.loc)
    this.conds = []
  }

  private line (raw: string, loc: Loc): void {
    const section = this.cur.kind === 'proxy' ? this.cur.st.section : this.cur.kind === 'none' ? '' : this.cur.kind === 'other' ? this.cur.name : this.cur.kind
    const tc = this.tokenCtx
    tc.env = this.env
    tc.file = loc.file
    tc.line = loc.line
    tc.section = section
    const t = tokenizeLine(raw, tc)
    if (t.error !== null) {
      this.diags.alert(t.error, loc)
      return
    }
    let words = t.words
    if (words.length === 0 || words[0] === '') return
    if (words[0]!.startsWith('.')) {
      this.directive(words, loc)
      return
    }
    if (this.conds.length > 0 && !this.conds[this.conds.length - 1]!.active) return
    let kwm: ProxyCtx['kwm'] = 'std'
    if (words[0] === 'no' || words[0] === 'default') {
      kwm = words[0] === 'no' ? 'no' : 'default'
      words = words.slice(1)
      if (!NEGATABLE.includes(words[0] ?? '')) {
        this.diags.alert('negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.', loc)
        return
      }
    }
    const kw = words[0]!
    if (this.startSection(kw, words, loc)) return
    switch (this.cur.kind) {
      case 'none':
        this.diags.alert(`unknown keyword '${kw}' out of section.`, loc, kw)
        return
      case 'global': this.globalLine(argsOf(words), loc, kwm); return
      case 'proxy': this.proxyLine(this.cur.st, argsOf(words), words, loc, kwm); return
      case 'userlist': this.userlistLine(this.cur.ul, argsOf(words), loc); return
      case 'http-errors': this.httpErrorsLine(this.cur.he, argsOf(words), loc); return
      case 'other': this.otherLine(this.cur.name, argsOf(words), loc)
    }
  }

  // -------------------------------------------------------------------------------------------
  // conditional blocks (configuration.txt §2.4): .if/.elif/.else/.endif, .diag/.notice/.warning/.alert

  private directive (words: string[], loc: Loc): void {
    const kw = words[0]!
    const top = this.conds[this.conds.length - 1]
    const enclosing = top === undefined || top.active
    switch (kw) {
      case '.if': {
        const parentActive = enclosing
        const v = parentActive ? this.condition(words, loc) : false
        this.conds.push({ active: parentActive && v, taken: v, parentActive, loc })
        return
      }
      case '.elif': case '.else': {
        if (top === undefined) return this.diags.alert(`lone '${kw}' with no matching '.if'.`, loc)
        if (kw === '.else' && words[1] !== undefined) return this.diags.alert(`Unexpected argument '${words[1]}' for '${kw}'.`, loc)
        if (top.sawElse) return this.diags.alert(`'${kw}' after '.else' is not permitted.`, loc)
        const v = kw === '.else' ? true : (top.parentActive && !top.taken ? this.condition(words, loc) : false)
        top.active = top.parentActive && !top.taken && v
        top.taken ||= v
        if (kw === '.else') top.sawElse = true
        return
      }
      case '.endif':
        if (top === undefined) return this.diags.alert("lone '.endif' with no matching '.if'.", loc)
        if (words[1] !== undefined) return this.diags.alert(`Unexpected argument '${words[1]}' for '${kw}'.`, loc)
        this.conds.pop()
        return
    }
    if (!enclosing) return
    const msg = `'${words.slice(1).join(' ')}'.`
    if (kw === '.notice') this.diags.notice(msg, loc)
    else if (kw === '.warning') this.diags.warn(msg, loc)
    else if (kw === '.alert') this.diags.alert(msg, loc)
    else if (kw !== '.diag') this.diags.alert(`unknown directive '${kw}'.`, loc)
  }

  /** Evaluates a `.if` condition; an unparsable one is an alert and counts as false. */
  private condition (words: string[], loc: Loc): boolean {
    const text = words.slice(1).join(' ')
    const r = evalCondition(text, this.env)
    if (typeof r === 'string') {
      this.diags.alert(`${r} in '${words[0]}'`, loc)
      return false
    }
    return r
  }

  // -------------------------------------------------------------------------------------------
  // section headers

  private startSection (kw: string, words: string[], loc: Loc): boolean {
    // Section lines take a fixed number of words (HAProxy's "cannot handle unexpected argument" alerts).
    const max = kw === 'global' ? 0 : kw === 'userlist' ? 1 : -1
    if (max >= 0 && words.length > max + 1) this.diags.alert(`'${kw}' cannot handle unexpected argument '${words[max + 1]}'.`, loc, kw)
    if (kw === 'global') {
      this.cur = { kind: 'global' }
      return true
    }
    if (kw === 'frontend' || kw === 'backend' || kw === 'listen' || kw === 'defaults') {
      this.proxySection(kw, argsOf(words), loc)
      return true
    }
    if (kw === 'userlist') {
      const name = words[1] ?? ''
      if (!name) this.diags.alert("'userlist' expects <name> as arguments.", loc)
      const ul: Userlist = { name, loc, users: [], groups: {} }
      if (this.userlists.some(u => u.name === name)) this.diags.warn(`ignoring duplicated userlist '${name}'.`, loc)
      else this.userlists.push(ul)
      this.cur = { kind: 'userlist', ul }
      return true
    }
    if (kw === 'http-errors') {
      const name = words[1] ?? ''
      if (!name) this.diags.alert("'http-errors' expects <name> as argument.", loc)
      const he: HttpErrorsSection = { name, loc, errorFiles: {} }
      this.httpErrors.push(he)
      this.cur = { kind: 'http-errors', he }
      return true
    }
    const support = OTHER_SECTIONS[kw]
    if (support !== undefined) {
      const what = `'${kw}' section${words[1] ? ` '${words[1]}'` : ''}`
      if (typeof support === 'object' && 'unsupported' in support) this.diags.alert(`${what} is not supported by fastify-haproxy (${support.unsupported}).`, loc, kw)
      else if (typeof support === 'object') this.diags.inert(`${what} is accepted but has no effect in fastify-haproxy (${support.inert}).`, loc, kw)
      if (words[1]) {
        const names = this.otherNames.get(kw) ?? new Set<string>()
        names.add(words[1])
        this.otherNames.set(kw, names)
      }
      this.cur = { kind: 'other', name: kw }
      if (kw === 'ring') {
        if (this.rings.some(r => r.name === words[1])) this.diags.alert(`sink named '${words[1] ?? ''}' already exists.`, loc, kw)
        else this.rings.push(newRing(words[1] ?? '', loc))
      }
      if (kw === 'log-forward') this.logForwards.push(newLogForward(words[1] ?? '', loc))
      if (kw === 'cache') this.cacheSection(words, loc)
      if (kw === 'resolvers') {
        this.resolvers.push(newResolvers(words[1] ?? '', loc))
      }
      return true
    }
    return false
  }

  private proxySection (kw: 'frontend' | 'backend' | 'listen' | 'defaults', args: string[], loc: Loc): void {
    const isDefaults = kw === 'defaults'
    let name = args[1] ?? ''
    let rest = args.slice(2)
    if (isDefaults && name === 'from') {
      name = ''
      rest = args.slice(1)
    }
    if (!isDefaults && !name) {
      this.diags.alert(`'${kw}' expects an <id> argument`, loc)
      this.cur = { kind: 'other', name: kw }
      return
    }
    const bad = NAME_CHARS.exec(name)
    if (bad) {
      this.diags.alert(`character '${bad[0]}' is not permitted in '${kw}' name '${name}'.`, loc)
    }
    // `from <defaults>` (2.6 named defaults); anything else on the line is the 1.x address form.
    let from: string | null = null
    let legacy: string[] = []
    if (rest[0] === 'from') {
      from = rest[1] ?? ''
      if (!from) this.diags.alert(`'${kw}' expects a defaults section name after 'from'.`, loc)
      else if (rest[2] !== undefined) this.diags.alert(`'${kw}' cannot handle unexpected argument '${rest[2]}'.`, loc)
    } else {
      legacy = rest
    }
    // A defaults section starts afresh unless it says `from`; proxies take the last defaults.
    let parent: ProxyState | null = isDefaults ? null : this.lastDefaults
    if (from) {
      parent = [...this.defaults].reverse().find(d => d.proxy.name === from) ?? null
      if (parent === null) this.diags.alert(`defaults section '${from}' not found for ${kw} '${name}'.`, loc)
      else parent.explicitRef = true
    } else if (parent !== null && !isDefaults) {
      parent.implicitRef = true
    }
    if (parent !== null && parent.explicitRef && parent.implicitRef && parent.named) {
      this.diags.alert(`defaults section '${parent.proxy.name}' (declared at ${parent.proxy.loc.file}:${parent.proxy.loc.line}) is explicitly referenced by another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section not explicitly used or always use explicit references.`, loc)
    }
    const proxy = parent !== null ? inherit(parent, kw, name, loc) : freshProxy(kw, name, loc)
    const st: ProxyState = {
      proxy,
      isDefaults,
      named: isDefaults && name !== '',
      section: kw,
      defaultServer: parent !== null ? { ...parent.defaultServer } : {},
      defaultServerWords: parent !== null ? [...parent.defaultServerWords] : [],
      flags: new Set(),
      hasRules: false,
      explicitRef: false,
      implicitRef: false,
      inheritors: new Set(),
      ctx: null,
      unsupported: []
    }
    if (parent !== null && parent.hasRules && !isDefaults) {
      const caps: Array<'fe' | 'be'> = kw === 'frontend' ? ['fe'] : kw === 'backend' ? ['be'] : ['fe', 'be']
      for (const cap of caps) parent.inheritors.add(cap)
      if (parent.inheritors.size > 1) {
        this.diags.alert(`frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at ${parent.proxy.loc.file}:${parent.proxy.loc.line}).`, loc)
      }
    }
    if (isDefaults) {
      this.defaults.push(st)
      this.lastDefaults = st
    } else {
      const clash = (this.byName.get(name) ?? []).find(p => p.kind === 'listen' || kw === 'listen' || p.kind === kw)
      if (clash) this.diags.alert(`${kw} '${name}' has the same name as ${clash.kind === 'listen' ? 'proxy' : clash.kind} '${name}' declared at ${clash.loc.file}:${clash.loc.line}.`, loc)
      this.proxies.push(proxy)
      this.states.set(proxy, st)
      const same = this.byName.get(name)
      if (same) same.push(proxy)
      else this.byName.set(name, [proxy])
    }
    this.cur = { kind: 'proxy', st }
    // HAProxy ignores what follows a defaults name (other than `from`).
    if (legacy.length > 0 && !isDefaults) this.legacyAddress(st, kw, legacy, loc)
  }

  /**
   * HAProxy 1.x put the listening address on the section line (`frontend main *:80`). 2.6
   * refuses it ("please use the 'bind' keyword for listening addresses."); we accept an address
   * as a bind, with a warning that shows the 2.x form, and refuse anything else.
   */
  private legacyAddress (st: ProxyState, kw: string, words: string[], loc: Loc): void {
    const spec = words[0]!
    const looksLikeAddress = /^[\w.:*[\]@,-]+$/.test(spec) && /[:\d*]/.test(spec)
    if (kw === 'backend' || !looksLikeAddress) {
      this.diags.alert(
        `'${spec}' after the ${kw} name: a listening address was expected here (HAProxy 1.x syntax; HAProxy 2.x says "please use the 'bind' keyword for listening addresses."). ` +
        "If this was meant as a comment, comments start with '#'.", loc, kw)
      return
    }
    const before = this.diags.alerts
    bindAddresses(this.ctx(st, loc, 'std'), spec, true, words.slice(1))
    if (this.diags.alerts === before) {
      this.diags.warn(
        `address '${spec}' on the '${kw}' line is HAProxy 1.x syntax that HAProxy 2.6 refuses ("please use the 'bind' keyword for listening addresses."); ` +
        `it is accepted as 'bind ${words.join(' ')}'. For HAProxy 2.x write:\n    ${kw} ${st.proxy.name}\n        bind ${words.join(' ')}`, loc, 'bind')
    }
  }

  // -------------------------------------------------------------------------------------------
  // proxies

  /** The keyword context of a section, made once and pointed at each line in turn. */
  private ctx (st: ProxyState, loc: Loc, kwm: ProxyCtx['kwm']): ProxyCtx {
    if (st.ctx === null) {
      const diags = this.diags
      const c: ProxyCtx = {
        proxy: st.proxy,
        isDefaults: st.isDefaults,
        section: st.section,
        defaultServer: st.defaultServer,
        loc,
        kwm,
        flags: st.flags,
        alert: m => diags.alert(m, c.loc),
        warn: m => diags.warn(m, c.loc),
        inert: m => diags.inert(m, c.loc),
        notice: m => diags.notice(m, c.loc),
        alerts: () => diags.alerts,
        unsupported: (what, does, tcp, httpInert = false) => { st.unsupported.push({ loc: c.loc, what, does, tcp, httpInert }) },
        path: this.pathOf,
        markRules: () => { st.hasRules = true },
        env: this.env,
        bufsize: this.global.bufsize ?? DEFAULT_BUFSIZE,
        crtBase: this.crtBase,
        caBase: this.caBase
      }
      st.ctx = c
    }
    const c = st.ctx
    c.loc = loc
    c.kwm = kwm
    c.defaultServer = st.defaultServer
    c.env = this.env
    c.bufsize = this.global.bufsize ?? DEFAULT_BUFSIZE
    c.crtBase = this.crtBase
    c.caBase = this.caBase
    return c
  }

  private proxyLine (st: ProxyState, args: string[], words: string[], loc: Loc, kwm: ProxyCtx['kwm']): void {
    const kw = args[0]!
    const row = PROXY_KEYWORDS[kw]
    if (!row) {
      this.diags.alert(`unknown keyword '${kw}' in '${st.section}' section${didYouMean(kw, PROXY_KEYWORD_NAMES)}`, loc, kw)
      return
    }
    if (row.removed) {
      this.diags.alert(row.removed.replace('%A', args[1] ?? ''), loc, kw)
      return
    }
    const c = this.ctx(st, loc, kwm)
    const shown = SHOWN_WITH_SUB.includes(kw) || (kw === 'stats' && args[1] === 'admin') ? `${kw} ${args[1] ?? ''}`.trim() : kw
    let effective = true
    if (st.isDefaults) {
      if (!row.where.includes('D')) {
        c.alert(row.defaultsMsg ?? `'${shown}' not allowed in 'defaults' section.`)
        return
      }
      if (row.where.includes('!') && !st.named) {
        c.alert(`'${shown}' not allowed in anonymous 'defaults' section.`)
        return
      }
    } else if (!capable(st.proxy.kind, row.where)) {
      const other = st.proxy.kind === 'frontend' ? 'backend' : 'frontend'
      if (row.capAlert) {
        c.alert(row.capAlert.replace('%K', st.proxy.kind).replace('%N', st.proxy.name))
        return
      }
      // HAProxy warns (warnifnotcap) and still reads the line: its references are checked later.
      c.warn(`'${kw}' ignored because ${st.proxy.kind} '${st.proxy.name}' has no ${other} capability.`)
      effective = false
    }
    // The mode check comes first in HAProxy (unknown mode before extra words).
    if (row.max !== undefined && args.length > row.max + 1 && !(kw === 'mode' && !['http', 'tcp', 'health'].includes(args[1] ?? ''))) {
      c.alert(`'${kw}' cannot handle unexpected argument '${args[row.max + 1]}'.`)
      return
    }
    if (kw === 'server' || kw === 'default-server') {
      this.serverLine(st, args, loc, kw === 'default-server')
      return
    }
    if (kw === 'server-template') {
      this.serverTemplateLine(st, args, loc)
      return
    }
    const alerts = this.diags.alerts
    if (row.apply) row.apply(c, row.allWords === true ? words : args)
    // A line HAProxy itself ignores (no capability) or refused needs no word on our support.
    if (effective && this.diags.alerts === alerts) report(c, row.support, shown)
  }

  private serverLine (st: ProxyState, args: string[], loc: Loc, isDefault: boolean): void {
    const sctx = { name: '', path: this.pathOf, caBase: this.caBase, crtBase: this.crtBase, env: this.env }
    if (isDefault) {
      const opts: ServerOptions = { ...st.defaultServer }
      const e = applyServerOptions(opts, args.slice(1), sctx, true)
      if (e !== null) this.diags.alert(`'default-server' : ${e}`, loc)
      else {
        st.defaultServer = opts
        st.defaultServerWords = [...st.defaultServerWords, ...args.slice(1)]
        this.reportServerOptions(st, args.slice(1), loc)
      }
      return
    }
    const name = args[1]
    const addr = args[2]
    if (!name || !addr) {
      this.diags.alert("'server' expects <name> and <addr>[:<port>] as arguments.", loc, 'server')
      return
    }
    const badChar = NAME_CHARS.exec(name)
    if (badChar) {
      this.diags.alert(`character '${badChar[0]}' is not permitted in server name '${name}'.`, loc, 'server')
      return
    }
    this.addServers(st, [name], name, addr, args.slice(3), loc, 'server')
  }

  /**
   * `server-template <prefix> <num | range> <fqdn>[:<port>] [params*]` (configuration.txt §4.2,
   * §5.3): servers <prefix><n> for n in 1..num or low..high, all with the
   * same address and parameters, parsed once (errors name the server "(null)", as HAProxy's do).
   */
  private serverTemplateLine (st: ProxyState, args: string[], loc: Loc): void {
    const kw = 'server-template'
    const [, prefix, range, addr] = args
    if (!prefix || !range || !addr) {
      this.diags.alert("'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments.", loc, kw)
      return
    }
    const badChar = NAME_CHARS.exec(prefix)
    if (badChar) {
      this.diags.alert(`character '${badChar[0]}' is not permitted in server-template prefix '${prefix}'.`, loc, kw)
      return
    }
    // "<num>" counts from 1 (at least one); "<low>-<high>" may start at 0 but not go down.
    const m = /^(\d+)(?:-(\d+))?$/.exec(range)
    const low = m === null ? 0 : m[2] === undefined ? 1 : Number(m[1])
    const high = m === null ? 0 : Number(m[2] ?? m[1])
    if (m === null || high < 1 || high < low) {
      this.diags.alert(`Wrong server-template number or range arg '${range}'.`, loc, kw)
      return
    }
    const names: string[] = []
    for (let n = low; n <= high; n++) names.push(`${prefix}${n}`)
    this.addServers(st, names, '(null)', addr, args.slice(4), loc, kw)
  }

  /**
   * Adds one server per name, all from one address and option words checked once (`shown` is
   * the name errors about them give). Only the first server takes an explicit `id`: HAProxy
   * copies a template's settings but not its id, so the others are numbered automatically.
   */
  private addServers (st: ProxyState, names: string[], shown: string, addr: string, words: string[], loc: Loc, kw: string): void {
    const px = st.proxy
    const who = `'server ${px.name}/${shown}'`
    const a = parseAddress(addr, { portRequired: false, allowRange: false, allowOffset: true, allowFqdn: true, allowZeroPort: true, env: this.env })
    const dups = names.map(name => px.servers.find(s => s.name === name))
    for (const [i, dup] of dups.entries()) {
      if (dup) this.diags.alert(`${px.kind} '${px.name}', another server named '${names[i]!}' was already defined at line ${dup.loc.line}, please use distinct names.`, loc, kw)
    }
    if (!a.ok) {
      this.diags.alert(`${who} : ${a.error}`, loc, kw)
      return
    }
    if (a.value.family === 'fqdn' && !dnsName(a.value.host)) {
      this.diags.alert(`${who} : Can't create DNS resolution for server '${shown}'`, loc, kw)
      return
    }
    const opts: ServerOptions = { ...st.defaultServer }
    const e = applyServerOptions(opts, words, { name: shown, path: this.pathOf, caBase: this.caBase, crtBase: this.crtBase, env: this.env }, false)
    if (e !== null) {
      this.diags.alert(`${who} : ${e}`, loc, kw)
      return
    }
    if (a.value.family === 'unix' || a.value.family === 'abns') {
      this.diags.warn(`${who} : only TCP servers can be reached by fastify-haproxy; unix socket '${a.value.host}' is not supported.`, loc, kw)
    }
    if (opts.id !== undefined && opts.id !== st.defaultServer.id) {
      const same = px.servers.find(x => x.id === opts.id)
      if (same) {
        this.diags.alert(`${who} : 'id' : custom id ${opts.id} already used at ${same.loc.file}:${same.loc.line} ('server ${same.name}').`, loc, kw)
        return
      }
    }
    const merged = st.defaultServerWords.length === 0 ? words : [...st.defaultServerWords, ...words]
    const extras = serverExtras(merged)
    const relativePort = a.value.portOffset || (a.value.port === 0 && a.value.family !== 'unix' && a.value.family !== 'abns')
    let host = a.value.family === 'abns' ? `abns@${a.value.host}` : a.value.host
    let unresolved = false
    if (a.value.family === 'fqdn') {
      extras.fqdn = true
      const init = initAddress(host, extras.initAddr ?? DEFAULT_INIT_ADDR)
      if (init.kind === 'addr') host = init.host
      else unresolved = init.kind === 'none' || extras.resolvers !== undefined
    }
    for (const [i, name] of names.entries()) {
      if (dups[i]) continue
      const server: Server = { ...opts, name, host, port: a.value.port, loc }
      if (i > 0 && opts.id !== st.defaultServer.id) delete server.id
      if (unresolved) server.unresolved = true
      if (relativePort) server.relativePort = true
      if (merged.includes('ssl')) server.sslSettings = true
      if (a.value.family === 'fqdn') server.fqdn = a.value.host
      if (a.value.family === 'fqdn' && extras.resolvers !== undefined) {
        server.resolvers = extras.resolvers
        if (extras.resolvePrefer !== undefined) server.resolvePrefer = extras.resolvePrefer
      }
      SERVER_EXTRAS.set(server, extras)
      px.servers.push(server)
    }
    if (!dups.every(Boolean)) this.reportServerOptions(st, words, loc)
  }

  /** What a server line's own options mean here (a default-server's are reported on its line). */
  private reportServerOptions (st: ProxyState, words: string[], loc: Loc): void {
    const options = serverSupport(words)
    if (options.length === 0) return
    const c = this.ctx(st, loc, 'std')
    for (const [option, support] of options) report(c, support, option)
  }

  // -------------------------------------------------------------------------------------------
  // global

  private globalLine (args: string[], loc: Loc, kwm: ProxyCtx['kwm']): void {
    const kw = args[0]!
    const g = this.global
    const alert = (m: string): void => this.diags.alert(m, loc, kw)
    if (GLOBAL_REMOVED[kw] !== undefined) return alert(GLOBAL_REMOVED[kw]!)
    if (!GLOBAL_KNOWN.includes(kw)) return alert(`unknown keyword '${kw}' in 'global' section${didYouMean(kw, GLOBAL_KNOWN)}`)
    if (kwm !== 'std' && !NEGATABLE.includes(kw)) return
    const shape = globalArgsError(args)
    if (shape !== null) return alert(shape)
    switch (kw) {
      case 'maxconn': case 'maxconnrate': case 'maxsessrate': case 'maxsslrate':
        if (!args[1]) return alert(`'${kw}' expects an integer argument.`)
        g[kw] = atoi(args[1])
        return
      case 'spread-checks': {
        if (!args[1]) return alert("'spread-checks' expects an integer argument (0..50).")
        const n = atoi(args[1])
        if (n < 0 || n > 50) return alert("'spread-checks' needs a positive value in range 0..50.")
        g.spreadChecks = n
        return
      }
      case 'node': g.node = args[1] ?? ''; return
      case 'quiet': g.quiet = true; return
      case 'zero-warning': g.zeroWarning = true; return
      case 'external-check': g.externalCheck = true; return
      case 'insecure-fork-wanted': g.insecureForkWanted = kwm !== 'no'; return
      case 'expose-experimental-directives': g.experimental = true; return
      case 'description': g.description = args.slice(1).join(' '); return
      case 'crt-base': this.crtBase = args[1]; return
      case 'ssl-server-verify':
        if (args[1] !== 'none' && args[1] !== 'required') return alert("'ssl-server-verify' expects 'none' or 'required' as argument.")
        g.sslServerVerify = args[1]
        return
      case 'ca-base': this.caBase = args[1]; return
      case 'default-path': return this.defaultPath(args, loc)
      case 'server-state-base':
        if (!args[1]) return alert("'server-state-base' expects a directory as argument.")
        g.serverStateBase = args[1]
        return
      case 'server-state-file':
        if (!args[1]) return alert("'server-state-file' expects a file name as argument.")
        g.serverStateFile = args[1]
        return
      case 'ssl-default-bind-options': g.tls.bindOptions = args.slice(1); return
      case 'ssl-default-server-options': g.tls.serverOptions = args.slice(1); return
      case 'ssl-default-bind-ciphers': g.tls.bindCiphers = args[1]; return
      case 'ssl-default-bind-ciphersuites': g.tls.bindCiphersuites = args[1]; return
      case 'ssl-default-bind-curves': g.tls.bindCurves = args[1]; return
      case 'ssl-default-server-ciphers': g.tls.serverCiphers = args[1]; return
      case 'ssl-default-server-ciphersuites': g.tls.serverCiphersuites = args[1]; return
      case 'stats': return this.globalStats(args, loc)
      case 'log': {
        if (kwm !== 'std') { g.logs = []; return }
        const target = parseLogTarget(args, m => this.diags.alert(m, loc, 'log'), m => this.diags.warn(m, loc, 'log'), this.env, loc)
        if (target !== null) g.logs.push(target)
        return
      }
      case 'log-tag':
        if (!args[1]) return alert("'log-tag' expects a tag for use in syslog.")
        g.logTag = args[1]
        return
      case 'log-send-hostname':
        g.logSendHostname = args[1] ?? hostname()
        return
      case 'tune.http.maxhdr': {
        if (!args[1]) return alert("'tune.http.maxhdr' expects an integer argument.")
        const n = atoi(args[1])
        if (n < 1 || n > 32767) return alert("'tune.http.maxhdr' expects a numeric value between 1 and 32767")
        g.maxhdr = n
        return
      }
      case 'tune.http.logurilen':
        if (!args[1]) return alert("'tune.http.logurilen' expects an integer argument.")
        g.logUriLen = atoi(args[1])
        return
      case 'tune.comp.maxlevel': {
        const n = atoi(args[1] ?? '')
        if (n < 1 || n > 9) return alert("'tune.comp.maxlevel' expects a numeric value between 1 and 9")
        g.compMaxLevel = n
        return
      }
      case 'tune.bufsize': {
        const n = atoi(args[1] ?? '')
        if (n <= 0) return alert("'tune.bufsize' expects a positive integer argument.")
        g.bufsize = n
        return
      }
      case 'set-var': case 'set-var-fmt': {
        const name = args[1]
        if (name === undefined || args[2] === undefined) {
          return alert(`'${kw}' requires a process-wide variable name ('proc.<name>') and a ${kw === 'set-var' ? 'sample expression' : 'format string'}.`)
        }
        if (!name.startsWith('proc.')) return alert(`'${kw}': cannot set variable '${name}', only scope 'proc' is permitted in the global section.`)
        ;(g.setVars ??= []).push({ name, fmt: kw === 'set-var-fmt', text: args[2], loc })
        return
      }
      case 'tune.maxrewrite':
        g.maxrewrite = atoi(args[1] ?? '')
        return
      case 'tune.h2.header-table-size': {
        const n = atoi(args[1] ?? '')
        if (n < 4096 || n > 65536) return alert("'tune.h2.header-table-size' expects a numeric value between 4096 and 65536.")
        g.h2 = { ...g.h2, headerTableSize: n }
        return
      }
      case 'tune.h2.max-frame-size': {
        const n = atoi(args[1] ?? '')
        if (n < 16384 || n > 16777215) return alert("'tune.h2.max-frame-size' expects a numeric value between 16384 and 16777215.")
        g.h2 = { ...g.h2, maxFrameSize: n }
        return
      }
      case 'tune.h2.initial-window-size': case 'tune.h2.max-concurrent-streams': {
        // HAProxy reads a C int: a value past 2^31-1 wraps negative
        const n = atoi(args[1] ?? '')
        if (n < 0 || n > 0x7fffffff) return alert(`'${kw}' expects a positive numeric value.`)
        g.h2 = { ...g.h2, [kw === 'tune.h2.initial-window-size' ? 'initialWindowSize' : 'maxConcurrentStreams']: n }
        return
      }
    }
    if (!this.globalChecked(kw, args, loc)) return
    const support = globalSupport(kw)
    if (typeof support === 'object' && 'inert' in support) {
      g.ignored.push({ keyword: kw, loc })
      this.diags.inert(`'${kw}' is accepted but has no effect in fastify-haproxy (${support.inert}).`, loc, kw)
    }
  }

  /** Checks what HAProxy checks while loading (and applies the environment keywords); false after an alert. */
  private globalChecked (kw: string, args: string[], loc: Loc): boolean {
    const alert = (m: string): false => { this.diags.alert(m, loc, kw); return false }
    switch (kw) {
      case 'user': case 'group':
        if (!args[1]) return alert(`'${kw}' expects a ${kw} name.`)
        if (!systemName(kw === 'user' ? '/etc/passwd' : '/etc/group', args[1])) return alert(`cannot find ${kw} id for '${args[1]}' (0:Success)`)
        return true
      case 'maxcomprate':
        if (!args[1]) return alert("'maxcomprate' expects an integer argument in kb/s.")
        return true
      case 'maxcompcpuusage': {
        const n = atoi(args[1] ?? '')
        if (!args[1] || n < 0 || n > 100) return alert("'maxcompcpuusage' expects an integer argument between 0 and 100.")
        return true
      }
      case 'hard-stop-after': case 'grace': case 'close-spread-time': {
        const r = parseTime(args[1] ?? '')
        if (!r.ok) return alert(args[1] ? `unexpected character '${r.bad ?? ''}' in argument to <${kw}>.` : `'${kw}' expects <time> as argument.`)
        if (kw === 'hard-stop-after') this.global.hardStopAfter = r.value
        if (kw === 'grace') this.global.grace = r.value
        return true
      }
      case 'h1-case-adjust':
        if (!args[2] || args[1]!.toLowerCase() !== args[2].toLowerCase()) return alert('<from> and <to> must not differ execpt the case')
        return true
      case 'ssl-dh-param-file':
        if (!args[1] || !isReadableFile(this.path(args[1])) || !readFileSync(this.path(args[1]), 'latin1').includes('-----BEGIN DH PARAMETERS-----')) {
          return alert(`'ssl-dh-param-file': unable to load DH parameters from file <${args[1] ?? ''}>.`)
        }
        this.global.tls.dhParamFile = this.path(args[1])
        return true
      case 'lua-load': case 'lua-load-per-thread':
        if (!args[1]) return alert(`'${kw}' expects a file name as parameter.`)
        if (!isReadableFile(this.path(args[1]))) return alert(`error in Lua file '${args[1]}': cannot open ${args[1]}: No such file or directory`)
        return true
      case 'setenv': case 'presetenv':
        if (!args[1] || args[2] === undefined) return alert(`'${kw}' expects a name and a value.`)
        if (kw === 'setenv' || this.env[args[1]] === undefined) this.env[args[1]] = args[2]
        return true
      case 'unsetenv':
        for (const n of args.slice(1)) delete this.env[n]
        return true
      case 'resetenv': {
        const keep = new Set(args.slice(1))
        for (const n of Object.keys(this.env)) if (!keep.has(n)) delete this.env[n]
        return true
      }
      default: return true
    }
  }

  private globalStats (args: string[], loc: Loc): void {
    const sub = args[1] ?? ''
    if (sub === 'timeout') {
      const r = parseTime(args[2] ?? '')
      if (!r.ok || r.value === 0) {
        this.diags.alert(`'stats timeout' expects a positive value.`, loc, 'stats')
        return
      }
      this.global.stats.timeout = r.value
      return
    }
    if (sub === 'socket') {
      const where = args[2] ?? ''
      if (!where) {
        this.diags.alert("'stats socket' expects a path or an address.", loc, 'stats')
        return
      }
      const a = parseAddress(where, { portRequired: true, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: false, env: this.env })
      if (!a.ok) {
        this.diags.alert(`'stats socket' : ${a.error}`, loc, 'stats')
        return
      }
      const bad = unknownBindOption(args.slice(3), STATS_SOCKET_OPTIONS)
      if (bad !== null) {
        this.diags.alert(`'stats socket' : ${bad}`, loc, 'stats')
        return
      }
      const socket: StatsSocket = { address: where, level: 'operator', mode: null, loc }
      for (let i = 3; i < args.length; i++) {
        const o = args[i]!
        const v = args[i + 1] ?? ''
        if (o === 'level') {
          if (v !== 'user' && v !== 'operator' && v !== 'admin') {
            this.diags.alert(`'stats socket' : ''level' only supports 'user', 'operator', and 'admin' (got '${v}')'`, loc, 'stats')
            return
          }
          socket.level = v
        } else if (o === 'mode') {
          socket.mode = parseInt(v, 8)
        } else if (o === 'user' || o === 'uid' || o === 'group' || o === 'gid') {
          this.diags.inert(`'stats socket' option '${o}' is accepted but has no effect in fastify-haproxy (the socket belongs to the user running Node).`, loc, 'stats')
        }
        if ((STATS_SOCKET_OPTIONS[o] ?? 0) > 0) i += STATS_SOCKET_OPTIONS[o]!
      }
      this.global.stats.sockets.push(socket)
      return
    } else if (sub === 'maxconn') {
      const max = atoi(args[2] ?? '')
      if (max <= 0) {
        this.diags.alert("'stats maxconn' expects a positive value", loc, 'stats')
        return
      }
      this.global.stats.maxconn = max
      return
    } else if (sub !== 'bind-process') {
      this.diags.alert(`'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '${sub}')`, loc, 'stats')
      return
    }
    this.global.ignored.push({ keyword: `stats ${sub}`, loc })
    this.diags.inert(`'stats ${sub}' is accepted but has no effect in fastify-haproxy (no process binding applies to the runtime API socket here).`, loc, 'stats')
  }

  // -------------------------------------------------------------------------------------------
  // userlist / http-errors

  private userlistLine (ul: Userlist, args: string[], loc: Loc): void {
    const kw = args[0]!
    if (kw === 'group') {
      const name = args[1]
      if (!name) return this.diags.alert("'group' expects <name> as argument.", loc, kw)
      ul.groups[name] ??= []
      this.declaredGroups.add(`${ul.name}\0${name}`)
      for (let i = 2; i < args.length; i += 2) {
        if (args[i] !== 'users' || args[i + 1] === undefined) return this.diags.alert(`'group' only supports 'users' option, got '${args[i]}'.`, loc, kw)
        for (const u of args[i + 1]!.split(',')) if (u && !ul.groups[name]!.includes(u)) ul.groups[name]!.push(u)
      }
      return
    }
    if (kw === 'user') {
      const name = args[1]
      if (!name) return this.diags.alert("'user' expects <name> as argument.", loc, kw)
      if (ul.users.some(u => u.name === name)) return this.diags.alert(`userlist '${ul.name}': user '${name}' already defined.`, loc, kw)
      const user = { name, password: '', insecure: false, groups: [] as string[], loc }
      for (let i = 2; i < args.length; i += 2) {
        const k = args[i]!
        const v = args[i + 1]
        // HAProxy takes a missing value as an empty one.
        if (v === undefined && (k === 'password' || k === 'insecure-password' || k === 'groups')) break
        if (k === 'password') { user.password = v!; user.insecure = false } else if (k === 'insecure-password') { user.password = v!; user.insecure = true } else if (k === 'groups') user.groups.push(...v!.split(',').filter(Boolean))
        else return this.diags.alert(`'user' only supports 'password', 'insecure-password' and 'groups' options, got '${k}'.`, loc, kw)
      }
      ul.users.push(user)
      for (const g of user.groups) {
        ul.groups[g] ??= []
        if (!ul.groups[g]!.includes(name)) ul.groups[g]!.push(name)
      }
      return
    }
    this.diags.alert(`unknown keyword '${kw}' in 'userlist' section`, loc, kw)
  }

  private httpErrorsLine (he: HttpErrorsSection, args: string[], loc: Loc): void {
    const kw = args[0]!
    if (kw !== 'errorfile') return this.diags.alert(`unknown keyword '${kw}' in 'http-errors' section`, loc, kw)
    const file = errorFileArg({ alert: m => this.diags.alert(m, loc, kw), path: p => this.path(p), bufsize: this.global.bufsize ?? DEFAULT_BUFSIZE }, args)
    if (file !== null) he.errorFiles[args[1]!] = file
  }

  /**
   * Lines of the sections outside proxies: checked against the section's keywords; resolvers,
   * ring and log-forward sections are read into the model, the others are not interpreted.
   */
  private otherLine (section: string, args: string[], loc: Loc): void {
    const known = OTHER_SECTION_KEYWORDS[section]
    if (known !== undefined && !known.includes(args[0]!)) {
      this.diags.alert(`unknown keyword '${args[0]}' in '${section}' section`, loc, args[0])
      return
    }
    if (section === 'resolvers' && args[0] === 'nameserver' && args[2] === undefined) {
      this.diags.alert("'nameserver' expects <name> and <addr>[:<port>] as arguments.", loc, 'nameserver')
    } else if (section === 'resolvers' && args[0] === 'nameserver') {
      const a = parseAddress(args[2]!, { portRequired: true, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: true, env: this.env })
      if (!a.ok) this.diags.alert(`'nameserver ${args[1]}' : ${a.error}`, loc, 'nameserver')
      else this.resolvers.at(-1)?.nameservers.push({ name: args[1]!, host: a.value.host, port: a.value.port })
    } else if (section === 'resolvers') {
      this.resolversLine(args, loc)
    } else if (section === 'ring') {
      const r = this.rings.at(-1)
      if (r !== undefined) ringLine(r, args, loc, this.diags, this.env)
    } else if (section === 'log-forward') {
      const f = this.logForwards.at(-1)
      if (f !== undefined) logForwardLine(f, args, loc, this.diags, this.env)
    } else if (section === 'cache') {
      const c = this.caches.at(-1)
      if (c !== undefined) cacheLine(c, args, loc, this.diags)
    }
  }

  /** `cache <name>` opens a cache section (§6.2.1); its lines go to the last one declared. */
  private cacheSection (words: string[], loc: Loc): void {
    const name = words[1]
    if (name === undefined || name === '') return this.diags.alert("'cache' expects a <name> argument", loc, 'cache')
    if (words.length > 2) return this.diags.alert(`'cache' cannot handle unexpected argument '${words[2]}'.`, loc, 'cache')
    if (this.caches.some(c => c.name === name)) return this.diags.alert(`Duplicate cache name '${name}'.`, loc, 'cache')
    this.caches.push(newCache(name, loc))
  }

  /** The settings of a `resolvers` section (configuration.txt §5.3.2). */
  private resolversLine (args: string[], loc: Loc): void {
    const r = this.resolvers.at(-1)
    if (r === undefined) return
    const kw = args[0]!
    const time = (v: string | undefined, what: string): number | null => {
      const t = parseTime(v ?? '')
      if (!t.ok) { this.diags.alert(`'${what}' expects <time> as argument.`, loc, kw); return null }
      return t.value
    }
    if (kw === 'parse-resolv-conf') r.parseResolvConf = true
    else if (kw === 'hold') {
      const status = args[1] as keyof Resolvers['hold']
      if (!(status in r.hold)) return this.diags.alert(`'hold' expects 'nx', 'other', 'refused', 'timeout', 'valid' or 'obsolete' (got '${args[1] ?? ''}').`, loc, kw)
      const t = time(args[2], `hold ${args[1]}`)
      if (t !== null) r.hold[status] = t
    } else if (kw === 'timeout') {
      const t = time(args[2], `timeout ${args[1] ?? ''}`)
      if (t === null) return
      if (args[1] === 'resolve') r.timeoutResolve = t
      else if (args[1] === 'retry') r.timeoutRetry = t
      else this.diags.alert(`'timeout' expects 'retry' or 'resolve' (got '${args[1] ?? ''}').`, loc, kw)
    } else if (kw === 'resolve_retries') {
      const n = atoi(args[1] ?? '')
      if (n < 1) return this.diags.alert("'resolve_retries' expects a positive integer argument.", loc, kw)
      r.resolveRetries = n
    } else if (kw === 'accepted_payload_size') {
      const n = atoi(args[1] ?? '')
      if (n < 512 || n > 65535) return this.diags.alert("'accepted_payload_size' expects an integer between 512 and 65535.", loc, kw)
      r.acceptedPayloadSize = n
    }
  }

  /** A relative name: under the `default-path` in force, else against the config file's directory. */
  private path (p: string): string {
    if (isAbsolute(p)) return p
    const setting = this.defaultPaths[this.defaultPaths.length - 1]?.setting
    return resolve(setting === undefined ? this.baseDir : baseDirectory(setting, this.tokenCtx.file), p)
  }

  /** `default-path { current | config | parent | origin <path> }` (§3.1; lib/config/default-path.ts). */
  private defaultPath (args: string[], loc: Loc): void {
    const mode = args[1] ?? ''
    const alert = (m: string): void => this.diags.alert(m, loc, 'default-path')
    let setting: DefaultPath
    if (mode === 'current' || mode === 'config' || mode === 'parent') {
      setting = { mode }
    } else if (mode === 'origin') {
      const dir = args[2]
      if (dir === undefined || dir === '') return alert("'default-path origin' expects a directory as an argument.")
      if (!isDirectory(resolve(dir))) return alert(`couldn't set 'default-path' to origin '${dir}': Impossible to get back to directory '${process.cwd()}': No such file or directory.`)
      setting = { mode, dir }
    } else {
      return alert(`${mode === '' ? 'missing' : 'unsupported'} default-path mode '${mode}' for 'default-path', supported modes include 'current', 'config', 'parent', and 'origin'.`)
    }
    this.defaultPaths.push({ file: loc.file, line: loc.line, setting })
  }

  private readonly pathOf = (p: string): string => this.path(p)

  // -------------------------------------------------------------------------------------------
  // end of input

  /** Two proxies with the same `id N` (HAProxy's "reuses same custom id" alert). */
  private checkCustomIds (): void {
    const seen = new Map<number, Proxy>()
    for (const p of this.proxies) {
      const st = this.states.get(p)!
      if (!st.flags.has('explicit-id')) continue
      const other = seen.get(p.id)
      if (other) this.diags.alert(`${p.kind} ${p.name} reuses same custom id as ${other.kind} ${other.name} (declared at ${other.loc.file}:${other.loc.line}).`, p.loc)
      else seen.set(p.id, p)
    }
  }

  /**
   * The project's rule for what HAProxy does and we do not: an alert, in HTTP and TCP sections
   * alike; what the TCP proxy implements is an alert in HTTP sections only.
   */
  private reportUnsupported (st: ProxyState, tcp: boolean): void {
    for (const u of st.unsupported) {
      if (tcp && u.tcp === 'served') continue
      if (u.httpInert) {
        this.diags.inert(`'${u.what}' is accepted but has no effect in fastify-haproxy (${u.does}).`, u.loc, u.what.split(' ')[0])
        continue
      }
      this.diags.alert(`'${u.what}' is not supported by fastify-haproxy (${u.does}).`, u.loc, u.what.split(' ')[0])
    }
  }

  /** Closes parsing: ids, modes and the facts HAProxy derives once every section is read. */
  finish (): ParsedConfig {
    this.checkCustomIds()
    checkCaches(this.caches, this.diags)
    for (const d of this.defaults) this.reportUnsupported(d, this.runsTcp(d.proxy))
    assignProxyIds(this.proxies, this.states, this.global.stats.sockets.length > 0)
    for (const ul of this.userlists) {
      for (const u of ul.users) {
        for (const g of u.groups) {
          if (!this.declaredGroups.has(`${ul.name}\0${g}`)) this.diags.alert(`userlist '${ul.name}': no such group '${g}' specified in user '${u.name}'`)
        }
      }
    }
    // a table `stick` rules use stores the server implicitly (§4.2 `stick-table`: server_id; 2.6 shows server_key too)
    for (const p of this.proxies) {
      for (const r of p.stickRules) {
        const spec = this.proxies.find(x => x.name === (r.table ?? p.name) && x.stickTable !== null)?.stickTable
        for (const type of ['server_id', 'server_key'] as const) if (spec != null && !spec.store.some(s => s.type === type)) spec.store.push({ type })
      }
    }
    for (const p of this.proxies) {
      const st = this.states.get(p)!
      assignServerIds(p)
      // `ssl-server-verify none` (global) turns the default verification off (§3.1).
      if (this.global.sslServerVerify === 'none') for (const sv of p.servers) if (sv.ssl && sv.verify === undefined) sv.verify = 'none'
      if (!p.options.httpchk) {
        if (st.flags.has('http-check-rules') && p.kind !== 'frontend') {
          this.diags.warn(`${p.kind === 'listen' ? 'proxy' : p.kind} '${p.name}' uses http-check rules without 'option httpchk', so the rules are ignored.`, p.loc)
        }
        p.httpCheck = null
      }
      this.reportUnsupported(st, this.runsTcp(p))
      for (const f of st.flags) {
        const name = f.startsWith('filter cache ') ? f.slice(13) : null
        if (name !== null && !this.caches.some(c => c.name === name)) this.diags.alert(`config: ${p.kind === 'listen' ? 'proxy' : p.kind} '${p.name}': unable to find the cache '${name}' referenced by the filter 'cache'.`)
      }
      if (p.modeExplicit) continue
      if (this.modeless === 'tcp') {
        // HAProxy's default mode: from here on the proxy is an ordinary `mode tcp` one.
        p.modeExplicit = true
        continue
      }
      this.diags.warn(`${p.kind} '${p.name}' has no 'mode' (nor does its defaults section): HAProxy 2.6 and the fastify-haproxy CLI run it in TCP mode. The plugin serves HTTP only and runs it as 'mode http'; add 'mode http' to say so.`, p.loc, 'mode')
      p.mode = 'http'
    }
    const config: ParsedConfig = {
      files: this.files,
      global: this.global,
      proxies: this.proxies,
      userlists: this.userlists,
      httpErrors: this.httpErrors,
      diagnostics: this.diags.items,
      ...(this.resolvers.length > 0 ? { resolvers: this.resolvers } : {}),
      ...(this.rings.length > 0 ? { rings: this.rings } : {}),
      ...(this.logForwards.length > 0 ? { logForwards: this.logForwards } : {}),
      ...(this.caches.length > 0 ? { caches: this.caches } : {}),
      ...(this.defaultPaths.length > 0 ? { defaultPaths: this.defaultPaths } : {})
    }
    OTHER_SECTION_NAMES.set(config, this.otherNames)
    return config
  }
}

/** What `feature(X)` sees: the feature list of the HAProxy 2.6 build this checker follows (`haproxy -vv`). */
const FEATURES = ['ACCEPT4', 'BACKTRACE', 'CPU_AFFINITY', 'CRYPT_H', 'DL', 'EPOLL', 'GETADDRINFO', 'LIBCRYPT', 'LINUX_SPLICE', 'LINUX_TPROXY', 'LUA', 'NETFILTER', 'NS', 'OPENSSL', 'OT', 'PCRE2', 'PCRE2_JIT', 'POLL', 'PRCTL', 'PROMEX', 'RT', 'SLZ', 'SYSTEMD', 'TFO', 'THREAD', 'THREAD_DUMP', 'TPROXY']
/** The HAProxy version whose configuration language is implemented, for version_atleast/version_before. */
const VERSION = [2, 6, 12]

function compareVersion (v: string): number {
  const parts = v.split(/[.-]/).map(x => Number.parseInt(x, 10))
  for (let i = 0; i < 3; i++) {
    const d = VERSION[i]! - (Number.isNaN(parts[i]) ? 0 : parts[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/**
 * §2.4 conditions: 0 / non-zero integers, predicates, '!', '&&' (binds tighter) and '||',
 * parentheses; an empty condition is false. Returns HAProxy's complaint when unparsable.
 */
function evalCondition (text: string, env: Record<string, string | undefined>): boolean | string {
  let i = 0
  const ws = (): void => { while (text[i] === ' ' || text[i] === '\t') i++ }
  const fail = (what: string): string => `unparsable conditional expression '${what}' at position ${i + 1}`
  const term = (): boolean | string => {
    ws()
    if (text[i] === '!') {
      i++
      const v = term()
      return typeof v === 'string' ? v : !v
    }
    if (text[i] === '(') {
      const at = i
      i++
      const v = or()
      ws()
      if (typeof v === 'string') return v
      if (text[i] !== ')') return `expected ')' after conditional expression '${text.slice(at)}' at position ${at + 1}`
      i++
      return v
    }
    const m = /^([A-Za-z_]+)\(([^)]*)\)|^(-?\d+)/.exec(text.slice(i))
    if (!m) return fail(text.slice(i).split(' ')[0] || text.slice(i))
    i += m[0].length
    if (m[3] !== undefined) return Number(m[3]) !== 0
    const args = m[2]!.split(',').map(a => a.trim().replace(/^"(.*)"$/, '$1'))
    switch (m[1]) {
      case 'defined': return env[args[0] ?? ''] !== undefined
      case 'feature': return FEATURES.includes(args[0] ?? '')
      case 'streq': return args[0] === args[1]
      case 'strneq': return args[0] !== args[1]
      case 'version_atleast': return compareVersion(args[0] ?? '') >= 0
      case 'version_before': return compareVersion(args[0] ?? '') < 0
      default: i -= m[0].length; return fail(m[0])
    }
  }
  /** `next (op next)*`, left to right; `&&` binds tighter than `||`. */
  const chain = (op: string, next: () => boolean | string, combine: (a: boolean, b: boolean) => boolean) => (): boolean | string => {
    let v = next()
    for (;;) {
      ws()
      if (typeof v === 'string' || text.slice(i, i + 2) !== op) return v
      i += 2
      const r = next()
      if (typeof r === 'string') return r
      v = combine(v, r)
    }
  }
  const and = chain('&&', term, (a, b) => a && b)
  const or: () => boolean | string = chain('||', and, (a, b) => a || b)
  if (text.trim() === '') return false
  const v = or()
  ws()
  if (typeof v !== 'string' && i < text.length) return fail(text.slice(i))
  return v
}

export function freshProxy (kind: ProxyKind | 'defaults', name: string, loc: Loc): Proxy {
  return {
    kind: kind === 'defaults' ? 'listen' : kind,
    name,
    loc,
    id: 0,
    mode: 'tcp',
    modeExplicit: false,
    disabled: false,
    binds: [],
    acls: [],
    httpRequest: [],
    tcpRequestContent: [],
    httpResponse: [],
    httpAfterResponse: [],
    tcpRequestConnection: [],
    inspectDelay: null,
    tcpResponseContent: [],
    resInspectDelay: null,
    stickTable: null,
    tcpChecks: [],
    redirects: [],
    useBackends: [],
    defaultBackend: null,
    balance: null,
    hashType: null,
    servers: [],
    timeouts: {},
    retries: 3,
    retryOn: ['conn-failure'],
    redispatch: null,
    allBackups: false,
    cookie: null,
    forwardFor: null,
    originalTo: null,
    httpCheck: null,
    options: {},
    errorSources: [],
    stats: null,
    monitorUri: null,
    monitorFail: [],
    stickRules: [],
    logs: [],
    logFormat: null,
    logFormatSd: null,
    errorLogFormat: null,
    requestCaptures: [],
    responseCaptures: [],
    captureCookie: null,
    uniqueIdFormat: null,
    uniqueIdHeader: null
  }
}

/** What a proxy takes from its defaults section (configuration.txt §4 "Proxies": defaults apply to the sections that follow). */
function inherit (parent: ProxyState, kind: ProxyKind | 'defaults', name: string, loc: Loc): Proxy {
  const d = parent.proxy
  const p = freshProxy(kind, name, loc)
  p.mode = d.mode
  p.modeExplicit = d.modeExplicit
  p.disabled = d.disabled
  if (d.maxconn !== undefined) p.maxconn = d.maxconn
  if (d.backlog !== undefined) p.backlog = d.backlog
  p.defaultBackend = d.defaultBackend === null ? null : { ...d.defaultBackend }
  p.balance = d.balance === null ? null : { ...d.balance, args: [...d.balance.args] }
  p.hashType = d.hashType === null ? null : { ...d.hashType }
  p.timeouts = { ...d.timeouts }
  p.retries = d.retries
  p.retryOn = [...d.retryOn]
  if (d.loadServerState !== undefined) p.loadServerState = d.loadServerState
  if (d.serverStateFileName !== undefined) p.serverStateFileName = d.serverStateFileName
  p.redispatch = d.redispatch === null ? null : { ...d.redispatch }
  p.allBackups = d.allBackups
  p.cookie = d.cookie === null ? null : { ...d.cookie, domains: [...d.cookie.domains] }
  if (d.dynamicCookieKey !== undefined) p.dynamicCookieKey = d.dynamicCookieKey
  p.forwardFor = d.forwardFor === null ? null : { ...d.forwardFor }
  p.originalTo = d.originalTo === null ? null : { ...d.originalTo }
  p.httpCheck = d.httpCheck === null ? null : { ...structuredClone(d.httpCheck), inherited: true }
  if (d.httpConnectionMode !== undefined) p.httpConnectionMode = d.httpConnectionMode
  if (d.restrictHeaderNames !== undefined) p.restrictHeaderNames = d.restrictHeaderNames
  if (d.httpReuse !== undefined) p.httpReuse = d.httpReuse
  p.options = { ...d.options }
  p.errorSources = [...d.errorSources]
  if (kind !== 'backend') p.monitorUri = d.monitorUri
  // Stats settings are shared with the defaults; `stats admin` / `stats http-request` are not allowed there.
  p.stats = d.stats === null ? null : { ...d.stats, auth: d.stats.auth.map(a => ({ ...a })), scope: [...d.stats.scope], admin: null, httpRequest: [], loc }
  // A named defaults section's ACLs and HTTP rules run before the proxy's own (configuration.txt
  // §4 "defaults"): they are the first of the proxy's, at their own lines.
  p.acls = d.acls.map(a => structuredClone(a))
  p.httpRequest = d.httpRequest.map(r => structuredClone(r))
  p.tcpRequestContent = d.tcpRequestContent.map(r => structuredClone(r))
  p.httpResponse = d.httpResponse.map(r => structuredClone(r))
  p.httpAfterResponse = d.httpAfterResponse.map(r => structuredClone(r))
  // the slots `http-request capture … len` rules of the defaults made come with their rules
  p.requestCaptures = d.requestCaptures.map(s => ({ ...s }))
  if (kind !== 'backend') p.tcpRequestConnection = d.tcpRequestConnection.map(r => structuredClone(r))
  p.inspectDelay = d.inspectDelay
  p.tcpResponseContent = d.tcpResponseContent.map(r => structuredClone(r))
  p.resInspectDelay = d.resInspectDelay
  p.tcpChecks = d.tcpChecks.map(r => structuredClone(r))
  if (d.checkType !== undefined) p.checkType = structuredClone(d.checkType)
  if (d.externalCheck !== undefined) p.externalCheck = { ...d.externalCheck }
  p.logs = [...d.logs]
  p.logFormat = d.logFormat
  p.logFormatSd = d.logFormatSd
  p.errorLogFormat = d.errorLogFormat
  if (d.logTag !== undefined) p.logTag = d.logTag
  p.uniqueIdFormat = d.uniqueIdFormat
  p.uniqueIdHeader = d.uniqueIdHeader
  if (d.compression !== undefined) p.compression = { algos: d.compression.algos && [...d.compression.algos], types: d.compression.types && [...d.compression.types], offload: false }
  return p
}

/**
 * HAProxy's iids (the `iid` of `show stat`, management.txt §9.1): config order, skipping explicit ids; the
 * counter moves on for every proxy. A `stats socket` makes HAProxy's internal GLOBAL proxy take
 * id 1 first (observed on 2.6.12: the first section is then id 2).
 */
function assignProxyIds (proxies: Proxy[], states: Map<Proxy, ProxyState>, statsSocket: boolean): void {
  const used = new Set(proxies.filter(p => states.get(p)!.flags.has('explicit-id')).map(p => p.id))
  let next = statsSocket ? 2 : 1
  for (const p of proxies) {
    if (!states.get(p)!.flags.has('explicit-id')) {
      while (used.has(next)) next++
      p.id = next
      used.add(next)
    }
    next = p.id + 1 > next ? p.id + 1 : next + 1
  }
}

function assignServerIds (p: Proxy): void {
  const used = new Set<number>()
  for (const s of p.servers) if (s.id !== undefined) used.add(s.id)
  let next = 1
  for (const s of p.servers) {
    if (s.id === undefined) {
      while (used.has(next)) next++
      s.id = next
      used.add(next)
    }
    next++
  }
}

function systemName (file: string, name: string): boolean {
  try {
    return readFileSync(file, 'utf8').split('\n').some(l => l.split(':')[0] === name)
  } catch {
    return true
  }
}

/** Parses configuration text (one file). */
export function parseConfig (text: string, opts: ParseOptions = {}): ParsedConfig {
  const file = opts.filename ?? 'haproxy.cfg'
  const baseDir = opts.baseDir ?? (opts.filename !== undefined ? dirname(resolve(opts.filename)) : process.cwd())
  const parser = new ConfigParser({ ...(opts.env !== undefined ? { env: opts.env } : {}), baseDir, ...(opts.modeless !== undefined ? { modeless: opts.modeless } : {}) })
  parser.feed(text, file)
  return parser.finish()
}

function isDirectory (p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

/** The files `-f PATH` names: the file itself, or a directory's `*.cfg` in lexical order (as HAProxy). */
function expandConfigPaths (paths: string[]): string[] {
  const out: string[] = []
  for (const p of paths) {
    if (isDirectory(p)) out.push(...readdirSync(p).filter(f => f.endsWith('.cfg')).sort().map(f => join(p, f)))
    else out.push(p)
  }
  return out
}

/**
 * Reads and parses config files in order; they share one parser as HAProxy's several `-f`. A
 * file that cannot be read is an alert ("Could not open configuration file …").
 */
export function loadConfig (paths: string | string[], opts: { env?: Record<string, string | undefined>, modeless?: ModelessAs } = {}): ParsedConfig {
  const parser = new ConfigParser({ ...(opts.env !== undefined ? { env: opts.env } : {}), ...(opts.modeless !== undefined ? { modeless: opts.modeless } : {}) })
  for (const file of expandConfigPaths(Array.isArray(paths) ? paths : [paths])) {
    let text: string
    try {
      text = readBounded(file, CONFIG_FILE_LIMIT).toString('utf8')
    } catch (e) {
      parser.files.push(file)
      parser.diags.alert(`Could not open configuration file ${file} : ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`)
      continue
    }
    parser.feed(text, file, dirname(resolve(file)))
  }
  return parser.finish()
}

