// A proxy's layer-7 decision logic compiled once into closures (configuration.txt §4.2, §7):
// named ACLs, http-request rules then legacy `redirect` rules, use_backend rules then
// default_backend, http-response rules. Every grammar error becomes a Diagnostic in HAProxy's
// words; `compileProxy` throws when there is an alert, `compileProxyDiagnostics` (the checker)
// returns them.

import type { Condition, Diagnostic, Loc, ParsedConfig, Proxy, Rule } from '../config/model.js'
import { compileAcl, type AclTerm, type Predicate } from './acl.js'
import { compileCondition, type AclLookup, type CondContext } from './condition.js'
import type { CompileEnv } from './env.js'
import { compileFormat } from './logformat.js'
import { FileCache } from './maps.js'
import { compileAction, compileRedirect, RuleArgError, STOP, TrailingWordError, varAction, type Action, type RuleContext, type RuleSide } from './rules.js'
import { ExprError, type SampleFn } from './sample.js'
import type { BackendView, TrafficCounters } from '../runtime/state.js'
import { Caches } from '../runtime/cache.js'
import { StickTables, type StickTable } from '../runtime/stick-table.js'
import { compileStickAction } from './stick-actions.js'
import { tableNamed } from './stick-counters.js'
import { compileExpr, parseExpr } from './expr.js'
import { addressAction } from './addresses.js'
import type { Decision, HttpResponseView, HttpTxn } from './txn.js'
import { UserlistAuth } from './userlist.js'

export interface CompiledProxy {
  readonly name: string
  /** http-request rules, then legacy `redirect` rules; null = no rule answered, go on. */
  requestRules (txn: HttpTxn): Decision | null
  /** use_backend rules, then default_backend: `{kind:'backend'}` or `{kind:'none'}` (503). */
  switching (txn: HttpTxn): Decision
  /** http-response rules; rewrites `res` in place; a Decision replaces the response. */
  responseRules (txn: HttpTxn, res: HttpResponseView): Decision | null
  /** http-after-response rules, null when the proxy has none: they rewrite `res` in place (`allow` ends them). */
  readonly afterResponseRules: ((txn: HttpTxn, res: HttpResponseView) => void) | null
  /** `stats admin if|unless <cond>`: false when the proxy has none. */
  statsAdmin (txn: HttpTxn): boolean
  /** `stats http-request auth|allow|deny` rules: a Decision, 'allow' (skip `stats auth`), or null = go on. */
  statsRules (txn: HttpTxn): Decision | 'allow' | null
  /**
   * `tcp-request connection` or `content` rules (§4.2) over a TCP connection: the first action
   * that decides, 'wait' when a condition read data that may still grow (content rules wait for
   * more until inspect-delay), or null (none decided: accepted).
   */
  tcpRules (ruleset: TcpRuleset, txn: HttpTxn): TcpVerdict
  /** The `stick` rules of a backend (§4.2), null when it has none. */
  readonly stick: CompiledStick | null
  /** One line per compiled rule, for debugging (`prettyPrint` in find-my-way's spirit). */
  describe (): string
}

/** A `stick` rule compiled: the table it reads or writes, its pattern, its condition. */
export interface StickRuleFn {
  table: StickTable
  key: SampleFn
  cond: Predicate | null
  /** `on` and `match`: the request goes to the server the table names. */
  match: boolean
  /** `on` and `store-request`: the key is stored with the server that answers. */
  store: boolean
}

/** A backend's `stick` rules: those read on the request (`on`, `match`, `store-request`) in order, and `store-response` ones. */
export interface CompiledStick {
  request: StickRuleFn[]
  response: StickRuleFn[]
}

export type TcpVerdict = 'accept' | 'reject' | 'drop' | 'close' | 'wait' | null

/** `tcp-request connection`, `tcp-request content`, or `tcp-response content` (the server's first bytes). */
export type TcpRuleset = 'connection' | 'content' | 'response'

/** What the running gateway can tell the rules: live backend state for `nbsrv` / `srv_is_up`. */
export interface RuntimeHooks {
  backend (name: string): BackendView | undefined
  /** The running gateway's stick tables (they outlive a compilation); without them, each compilation makes its own. */
  tables?: StickTables
  /** The running gateway's caches; without them, each compilation makes its own. */
  caches?: Caches
  /** The running counters of a proxy, where its cache rules count lookups and hits. */
  counters? (proxy: Proxy): TrafficCounters | undefined
}

/**
 * Shared between the proxies of one config: files are read once, hashes verified once, and the
 * backend table is built once (per proxy it made checking 2,000 backends quadratic).
 */
export interface CompileShared {
  files: FileCache
  userlists: Map<string, UserlistAuth>
  hooks: RuntimeHooks | null
  /** Every backend's constant Decision, by name (the first proxy of a name wins, as HAProxy). */
  backends: ReadonlyMap<string, Decision>
  tables: StickTables
  caches: Caches
}

export function sharedFor (config: ParsedConfig, hooks: RuntimeHooks | null = null, files: FileCache = new FileCache()): CompileShared {
  const backends = new Map<string, Decision>()
  for (const p of config.proxies) {
    if (p.kind !== 'frontend' && !backends.has(p.name)) backends.set(p.name, { kind: 'backend', backend: p.name })
  }
  return { files, userlists: new Map(config.userlists.map((u) => [u.name, new UserlistAuth(u)])), hooks, backends, tables: hooks?.tables ?? new StickTables(config.proxies), caches: hooks?.caches ?? new Caches(config.caches) }
}

interface CompiledRule {
  cond: Predicate | null
  action: Action
  text: string
  /** Where the rule is, for `last_rule_*`; null for a legacy `redirect` (HAProxy does not note those). */
  loc: Loc | null
}

const NONE: Decision = { kind: 'none' }
const REJECT: Decision = { kind: 'reject' }

/** Orders locations as HAProxy reads them: by file (config order), then line. */
function before (config: ParsedConfig, a: Loc, b: Loc): boolean {
  if (a.file === b.file) return a.line < b.line
  return config.files.indexOf(a.file) < config.files.indexOf(b.file)
}

const kindWord = (p: Proxy): string => p.kind === 'listen' ? 'proxy' : p.kind

/**
 * Evaluates rules in order from `from`; STOP (`allow`) ends the list without a decision. A
 * `wait-for-body` pause notes where the list goes on (`txn.resumeAt`) once the body is in.
 */
function runRules (rules: CompiledRule[], txn: HttpTxn, res: HttpResponseView | null, from = 0): Decision | null | typeof STOP {
  for (let i = from; i < rules.length; i++) {
    const r = rules[i]
    if (r.cond !== null && !r.cond(txn, res)) continue
    const out = r.action(txn, res)
    if (out !== null) {
      if (out !== STOP && out.kind === 'wait-for-body') txn.resumeAt = i + 1
      else if (r.loc !== null) txn.lastRule = r.loc
      return out
    }
  }
  return null
}

/** Where a paused list goes on (0: from the start); the mark is consumed. */
function resumeIndex (txn: HttpTxn): number {
  const at = txn.resumeAt
  if (at === undefined) return 0
  txn.resumeAt = undefined
  return at
}

const noRules = (): null => null

/** The verdict of each deciding `tcp-request` action (§4.2); `set-var`/`unset-var` go on. */
const TCP_DECISIONS: Record<string, TcpVerdict> = { accept: 'accept', reject: 'reject', 'silent-drop': 'drop', close: 'close' }
const noAdmin = (): boolean => false

/**
 * A proxy with no ACL, rule or use_backend (most backends): nothing to compile, and nothing
 * built per proxy, which matters with thousands of backends.
 */
function ruleless (proxy: Proxy, shared: CompileShared): CompiledProxy | null {
  if (proxy.acls.length > 0 || proxy.httpRequest.length > 0 || proxy.tcpRequestContent.length > 0 || proxy.redirects.length > 0 || proxy.httpResponse.length > 0 ||
    proxy.httpAfterResponse.length > 0 ||
    proxy.tcpRequestConnection.length > 0 || proxy.tcpResponseContent.length > 0 ||
    proxy.useBackends.length > 0 || proxy.stickRules.length > 0 || (proxy.stats !== null && (proxy.stats.httpRequest.length > 0 || proxy.stats.admin != null))) return null
  const dflt: Decision = proxy.defaultBackend === null ? NONE : shared.backends.get(proxy.defaultBackend.name) ?? NONE
  return {
    name: proxy.name,
    requestRules: noRules,
    switching: () => dflt,
    responseRules: noRules,
    afterResponseRules: null,
    statsAdmin: noAdmin,
    statsRules: noRules,
    tcpRules: noRules,
    stick: null,
    describe: () => [`${proxy.kind} ${proxy.name}`, ...(proxy.defaultBackend === null ? [] : [`  default_backend ${proxy.defaultBackend.name}`])].join('\n')
  }
}

export function compileProxyDiagnostics (proxy: Proxy, config: ParsedConfig, shared: CompileShared = sharedFor(config)): { compiled: CompiledProxy, diagnostics: Diagnostic[] } {
  const simple = ruleless(proxy, shared)
  if (simple !== null) return { compiled: simple, diagnostics: [] }
  const diagnostics: Diagnostic[] = []
  const alert = (message: string, loc: Loc, keyword: string): void => { diagnostics.push({ level: 'alert', message, loc, keyword }) }
  const warn = (message: string, loc: Loc, keyword: string): void => { diagnostics.push({ level: 'warning', message, loc, keyword }) }
  // Warnings raised while compiling an item are attached to the item being compiled.
  let at: { loc: Loc, keyword: string } = { loc: proxy.loc, keyword: proxy.kind }
  const env: CompileEnv = {
    config, proxy, files: shared.files, userlist: (name) => shared.userlists.get(name), warn: (m) => warn(m, at.loc, at.keyword),
    location: () => at.loc,
    stickTable: (name) => shared.tables.get(name),
    backend: (name) => shared.hooks?.backend(name),
    cache: (name) => shared.caches.get(name),
    counters: () => shared.hooks?.counters?.(proxy)
  }

  // Named ACLs: every line of a name is OR-ed, lines added later included (HAProxy appends to
  // the same ACL); a condition sees a name only once a line of it has been declared.
  const named = new Map<string, { lines: AclTerm[], first: Loc }>()
  for (const decl of proxy.acls) {
    at = { loc: decl.loc, keyword: 'acl' }
    let term: AclTerm
    try {
      term = compileAcl(decl.words, env)
    } catch (err) {
      alert(`error detected while parsing ACL '${decl.name}' : ${(err as Error).message}.`, decl.loc, 'acl')
      continue
    }
    if (term.neverMatches) {
      warn(`parsing acl keyword '${decl.words[0]}' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.\n  If you intended to match only for existence, please use '-m found'.\n  If you wanted to force an int to match as a bool, please use '-m bool'.`, decl.loc, 'acl')
    }
    const entry = named.get(decl.name)
    if (entry !== undefined) entry.lines.push(term)
    else named.set(decl.name, { lines: [term], first: decl.loc })
  }
  const lookupAt = (loc: Loc): AclLookup => (name) => {
    const e = named.get(name)
    return e !== undefined && before(config, e.first, loc) ? e.lines : undefined
  }
  const place = (what: string): CondContext => ({ side: what.includes('-response') ? 'response' : 'request', place: `${proxy.kind === 'listen' ? 'proxy' : proxy.kind} ${what}` })
  const condition = (cond: Condition | null, where: CondContext): Predicate | null => {
    if (cond === null) return null
    return compileCondition(cond, lookupAt(cond.loc), env, where)
  }

  const ruleList = (side: RuleSide, rules: Rule[], legacy: boolean, realm = proxy.name): CompiledRule[] => {
    const out: CompiledRule[] = []
    for (const rule of rules) {
      at = { loc: rule.loc, keyword: legacy ? 'redirect' : side }
      const ctx: RuleContext = rule.slot === undefined ? { env, proxy, side, realm } : { env, proxy, side, realm, slot: rule.slot }
      const what = legacy ? 'redirect rule' : `'${side} ${rule.action}' rule`
      const redirect = legacy || rule.action === 'redirect'
      let action: Action | null
      try {
        if (!legacy && rule.action === '') throw new ExprError(`'${side}' expects an action.`)
        action = legacy ? compileRedirect(rule.args, ctx, true) : compileAction(side, rule, ctx)
      } catch (err) {
        const msg = (err as Error).message
        if (err instanceof TrailingWordError) {
          alert(`'${side} ${rule.action}' expects either 'if' or 'unless' followed by a condition but found '${msg}'.`, rule.loc, side)
        } else if (err instanceof RuleArgError || (err instanceof ExprError && !msg.startsWith(`'${side}`))) {
          alert(`error detected in ${kindWord(proxy)} '${proxy.name}' while parsing ${what} : ${msg}.`, rule.loc, legacy ? 'redirect' : side)
        } else alert(msg, rule.loc, side)
        continue
      }
      let cond: Predicate | null
      try {
        // HAProxy words an http-after-response condition as an http-response one
        cond = condition(rule.cond, place(legacy ? 'redirect rule' : `${side === 'http-after-response' ? 'http-response' : side} header rule`))
      } catch (err) {
        const msg = (err as Error).message
        alert(redirect
          ? `error detected in ${kindWord(proxy)} '${proxy.name}' while parsing ${what} : error in condition: ${msg}.`
          : `error detected while parsing an '${side} ${rule.action}' condition : ${msg}.`, rule.loc, legacy ? 'redirect' : side)
        continue
      }
      if (action !== null) out.push({ cond, action, text: `${legacy ? 'redirect' : side + ' ' + rule.action} (${rule.loc.file}:${rule.loc.line})`, loc: legacy ? null : rule.loc })
    }
    return out
  }

  interface TcpRule { cond: Predicate | null, unless: boolean, verdict: TcpVerdict, action: Action | null, loc: Loc }
  const tcpList = (ruleset: TcpRuleset): TcpRule[] => {
    const out: TcpRule[] = []
    // HTTP proxies run their request content rules per request (tcpContent below) and their
    // response rules per response (tcpResponse below); `mode tcp` ones run all three here
    if (!(proxy.mode === 'tcp' && proxy.modeExplicit) && ruleset === 'content') return out
    const response = ruleset === 'response'
    const keyword = response ? 'tcp-response' : 'tcp-request'
    const name = response ? 'tcp-response content' : `tcp-request ${ruleset}`
    for (const rule of response ? proxy.tcpResponseContent : ruleset === 'content' ? proxy.tcpRequestContent : proxy.tcpRequestConnection) {
      at = { loc: rule.loc, keyword }
      try {
        const verdict = TCP_DECISIONS[rule.action] ?? null
        const action = verdict === null
          ? varAction(rule.action, rule.args, { env, proxy, side: response ? 'http-response' : 'http-request', realm: proxy.name }) ??
            compileStickAction(rule.action, rule.args, env, ruleset === 'connection' ? 'session' : 'content') ??
            (response ? null : addressAction(rule.action, rule.args, env))
          : null
        if (verdict !== null && rule.args.length > 0) throw new TrailingWordError(rule.args[0]!)
        out.push({ cond: condition(rule.cond, { side: response ? 'response' : 'request', place: `${kindWord(proxy)} ${name} rule` }), unless: rule.cond?.polarity === 'unless', verdict, action, loc: rule.loc })
      } catch (err) {
        const msg = (err as Error).message
        alert(err instanceof TrailingWordError
          ? `'${name} ${rule.action}' expects either 'if' or 'unless' followed by a condition but found '${msg}'.`
          : `error detected in ${kindWord(proxy)} '${proxy.name}' while parsing '${name} ${rule.action}' rule : ${msg}.`, rule.loc, keyword)
      }
    }
    return out
  }
  const tcpRuleSets = { connection: tcpList('connection'), content: tcpList('content'), response: tcpList('response') }
  const tcpRules = (ruleset: TcpRuleset, txn: HttpTxn): TcpVerdict => {
    const rules = tcpRuleSets[ruleset]
    const payload = ruleset === 'response' ? txn.resPayload : txn.payload
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!
      if (payload !== undefined) payload.incomplete = false
      if (r.cond !== null) {
        const holds = r.cond(txn, null)
        // a condition whose ACLs did not match on data that may still grow is not decided yet
        // (HAProxy's "miss"): `if` waits when false, `unless` when true
        if (holds === r.unless && payload?.incomplete === true) return 'wait'
        if (!holds) continue
      }
      if (r.verdict !== null) {
        // a stream exists from the content rules on: connection rules are not noted
        if (ruleset !== 'connection') txn.lastRule = r.loc
        return r.verdict
      }
      r.action!(txn, null)
    }
    return null
  }

  const request = [...ruleList('http-request', proxy.httpRequest, false), ...ruleList('http-request', proxy.redirects, true)]
  // `tcp-request content accept` ends the tcp-request rules as `allow` ends http-request ones
  const tcpContent = proxy.mode === 'tcp' && proxy.modeExplicit ? [] : ruleList('http-request', proxy.tcpRequestContent.map((r) => r.action === 'accept' ? { ...r, action: 'allow' } : r), false)
  // in an HTTP proxy, `tcp-response content` rules see each response before the http-response
  // ones: `accept` ends them, `reject` / `close` close the client connection without an answer
  const tcpResponse: CompiledRule[] = proxy.mode === 'tcp' && proxy.modeExplicit
    ? []
    : tcpRuleSets.response.map(r => ({
      cond: r.cond,
      action: r.verdict === null ? r.action! : r.verdict === 'accept' ? () => STOP : () => REJECT,
      text: `tcp-response content (${r.loc.file}:${r.loc.line})`,
      loc: r.loc
    }))
  const response = ruleList('http-response', proxy.httpResponse, false)
  const after = ruleList('http-after-response', proxy.httpAfterResponse, false)
  const statsRules = proxy.stats === null ? [] : ruleList('http-request', proxy.stats.httpRequest, false, proxy.stats.realm)
  let statsAdmin: Predicate | null = null
  if (proxy.stats?.admin != null) {
    at = { loc: proxy.stats.admin.loc, keyword: 'stats' }
    try {
      statsAdmin = condition(proxy.stats.admin, place('stats admin rule'))
    } catch (err) {
      alert(`error detected while parsing a 'stats admin' rule : ${(err as Error).message}.`, proxy.stats.admin.loc, 'stats')
    }
  }

  // use_backend (§4.2): a name holding '%' is a log-format evaluated per request; when its value
  // names no backend (or is empty) HAProxy stops here and uses default_backend.
  const backends = shared.backends
  interface Switch { cond: Predicate | null, fixed: Decision | null, dynamic: ((t: HttpTxn) => string) | null }
  const switches: Switch[] = []
  for (const sw of proxy.useBackends) {
    at = { loc: sw.loc, keyword: 'use_backend' }
    let cond: Predicate | null
    try {
      cond = condition(sw.cond, place('use-backend rule'))
    } catch (err) {
      alert(`error detected while parsing switching rule : ${(err as Error).message}.`, sw.loc, 'use_backend')
      continue
    }
    if (sw.backend.includes('%')) {
      try {
        const f = compileFormat(sw.backend, env, 'request').format
        switches.push({ cond, fixed: null, dynamic: (t) => f(t, null) })
      } catch (err) {
        alert(`failed to parse use_backend rule '${sw.backend}' : ${(err as Error).message}.`, sw.loc, 'use_backend')
      }
      continue
    }
    const fixed = backends.get(sw.backend)
    // A missing static backend is the config checker's alert; at run time the rule is skipped.
    if (fixed !== undefined) switches.push({ cond, fixed, dynamic: null })
  }
  const dflt: Decision = proxy.defaultBackend === null ? NONE : backends.get(proxy.defaultBackend.name) ?? NONE

  // `stick` rules (§4.2): the pattern of `on`, `match` and `store-request` is read on the
  // request, that of `store-response` on the server's answer. A rule naming no table is the
  // post-parse check's alert (validate.ts).
  const stick: CompiledStick = { request: [], response: [] }
  for (const r of proxy.stickRules) {
    at = { loc: r.loc, keyword: 'stick' }
    const response = r.kind === 'store-response'
    let key: SampleFn
    let cond: Predicate | null
    try {
      const expr = compileExpr(parseExpr(r.pattern), env)
      if (!response && expr.needs === 'response') {
        throw new ExprError(`fetch method '${expr.keyword}' extracts information from 'HTTP response headers', none of which is available during request.`)
      }
      key = expr.one
    } catch (err) {
      alert(`'stick': ${(err as Error).message}`, r.loc, 'stick')
      continue
    }
    try {
      cond = condition(r.cond, { side: response ? 'response' : 'request', place: `${kindWord(proxy)} stick rule` })
    } catch (err) {
      alert(`error detected while parsing sticking condition : ${(err as Error).message}.`, r.loc, 'stick')
      continue
    }
    let table: StickTable
    try {
      table = tableNamed(env, r.table ?? proxy.name, 'stick')
    } catch {
      continue
    }
    const fn: StickRuleFn = { table, key, cond, match: r.kind === 'on' || r.kind === 'match', store: r.kind !== 'match' }
    if (response) stick.response.push(fn)
    else stick.request.push(fn)
  }

  // Hot path: the closures below run per request.
  const httpRules = request.length === 0
    ? () => null
    : (txn: HttpTxn): Decision | null => {
        const out = runRules(request, txn, null, resumeIndex(txn))
        return out === STOP ? null : out
      }
  const requestRules = tcpContent.length === 0
    ? httpRules
    : (txn: HttpTxn): Decision | null => {
        // a list paused by wait-for-body goes on in the http-request rules
        if (txn.resumeAt !== undefined) return httpRules(txn)
        const out = runRules(tcpContent, txn, null)
        return out === null || out === STOP ? httpRules(txn) : out
      }
  const switching = switches.length === 0
    ? () => dflt
    : (txn: HttpTxn): Decision => {
        for (let i = 0; i < switches.length; i++) {
          const s = switches[i]
          if (s.cond !== null && !s.cond(txn, null)) continue
          if (s.fixed !== null) return s.fixed
          return backends.get(s.dynamic!(txn)) ?? dflt
        }
        return dflt
      }
  const httpResponseRules = response.length === 0
    ? () => null
    : (txn: HttpTxn, res: HttpResponseView): Decision | null => {
        const out = runRules(response, txn, res, resumeIndex(txn))
        return out === STOP ? null : out
      }
  const responseRules = tcpResponse.length === 0
    ? httpResponseRules
    : (txn: HttpTxn, res: HttpResponseView): Decision | null => {
        // a list paused by wait-for-body goes on in the http-response rules
        if (txn.resumeAt !== undefined) return httpResponseRules(txn, res)
        const out = runRules(tcpResponse, txn, res)
        return out === null || out === STOP ? httpResponseRules(txn, res) : out
      }
  const compiled: CompiledProxy = {
    name: proxy.name,
    requestRules,
    switching,
    responseRules,
    afterResponseRules: after.length === 0 ? null : (txn, res) => { runRules(after, txn, res) },
    statsAdmin: statsAdmin === null ? () => false : (txn) => statsAdmin!(txn, null),
    statsRules: (txn) => { const out = runRules(statsRules, txn, null); return out === STOP ? 'allow' : out },
    tcpRules,
    stick: proxy.stickRules.length === 0 ? null : stick,
    describe: () => [
      `${proxy.kind} ${proxy.name}`,
      ...[...named.keys()].map((n) => `  acl ${n} (${named.get(n)!.lines.length} line(s))`),
      ...request.map((r) => `  ${r.text}`),
      ...proxy.useBackends.map((u) => `  use_backend ${u.backend}${u.cond === null ? '' : ` ${u.cond.polarity} ${u.cond.words.join(' ')}`}`),
      ...(proxy.defaultBackend === null ? [] : [`  default_backend ${proxy.defaultBackend.name}`]),
      ...response.map((r) => `  ${r.text}`),
      ...after.map((r) => `  ${r.text}`)
    ].join('\n')
  }
  // In file order, as HAProxy reports while it reads the section.
  const rank = (d: Diagnostic): number => d.loc === undefined ? 0 : config.files.indexOf(d.loc.file) * 1e9 + d.loc.line
  return { compiled, diagnostics: diagnostics.map((d, i) => ({ d, i })).sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i).map((x) => x.d) }
}

/**
 * Compiles a proxy; throws an Error carrying `diagnostics` when the config has an alert for it.
 * `hooks` (optional) give `nbsrv` / `srv_is_up` the live backend state; without them those
 * fetches have no value.
 */
/** `files`: the gateway's pattern files, shared by all its proxies (the CLI changes them). */
export function compileProxy (proxy: Proxy, config: ParsedConfig, hooks?: RuntimeHooks, files?: FileCache): CompiledProxy {
  const { compiled, diagnostics } = compileProxyDiagnostics(proxy, config, sharedFor(config, hooks ?? null, files))
  const alerts = diagnostics.filter((d) => d.level === 'alert')
  if (alerts.length > 0) {
    const err = new Error(`proxy '${proxy.name}' has invalid rules:\n${alerts.map((d) => `  [${d.loc?.file}:${d.loc?.line}] ${d.message}`).join('\n')}`)
    Object.assign(err, { diagnostics })
    throw err
  }
  return compiled
}
