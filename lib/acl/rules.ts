// `http-request`, `http-response` and legacy `redirect` rules (configuration.txt §4.2
// "http-request", "http-response", "redirect"): each rule is parsed once into a closure that
// rewrites the transaction in place or returns the Decision that answers the request.
// Argument grammar and messages follow HAProxy 2.6 (configuration.txt §4.2 `http-request`, and `haproxy -c`'s messages).

import { FileTooLarge, readBounded } from '../files.js'

import { parseTime } from '../config/args.js'
import { DEFAULT_BUFSIZE } from '../config/model.js'
import type { Proxy, Rule } from '../config/model.js'
import { checkVarName } from './arguments.js'
import type { CompileEnv } from './env.js'
import { compileExpr, missing, parseExpr } from './expr.js'
import { errorChoice } from '../errors.js'
import { compileFormat, type CompiledFormat, type Format } from './logformat.js'
import { compileRegex } from './matchers.js'
import { NORMALIZERS, normalizer } from './normalize-uri.js'
import { headerBytes } from './headers.js'
import { keepOriginal } from './original.js'
import { ExprError, toStr } from './sample.js'
import { varConditions, varRef } from './vars.js'
import { compileStickAction } from './stick-actions.js'
import { addressAction } from './addresses.js'
import type { Decision, HttpResponseView, HttpTxn } from './txn.js'
import { mayLookUp, type Cache } from '../runtime/cache.js'
import type { TrafficCounters } from '../runtime/state.js'

/** What a rule did: a final Decision, `null` (go on with the next rule) or STOP (`allow`). */
export const STOP = Symbol('fastify-haproxy.acl.stop')
type Outcome = Decision | null | typeof STOP
export type Action = (txn: HttpTxn, res: HttpResponseView | null) => Outcome

export type RuleSide = 'http-request' | 'http-response' | 'http-after-response'

/** Every action HAProxy 2.6 knows, in the order of its "expects ..." message (`haproxy -c`). */
const KNOWN_ACTIONS: Record<RuleSide, readonly string[]> = {
  'http-request': ['wait-for-handshake', 'ot-group', 'set-log-level', 'set-nice', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', 'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'],
  'http-response': ['ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'cache-store', 'add-acl(*)', 'add-header', 'allow', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'redirect', 'replace-header', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-status', 'strict-mode', 'track-sc(*)', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop'],
  'http-after-response': ['ot-group', 'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)']
}

/** Actions that only tune logging, scheduling or the socket: accepted and ignored, with a warning. */
const IGNORED_ACTIONS = new Set(['set-log-level', 'set-nice', 'capture', 'set-mark', 'set-tos', 'disable-l7-retry', 'wait-for-handshake', 'set-timeout', 'set-priority-class', 'set-priority-offset'])

/** Whether `action` (as written, e.g. `set-var(txn.x)`) is one HAProxy knows on that side. */
function isKnownAction (side: RuleSide, action: string): boolean {
  const paren = action.indexOf('(')
  const key = paren === -1 ? action : action.slice(0, paren) + '(*)'
  if (KNOWN_ACTIONS[side].includes(key)) return true
  // `track-sc0`, `sc-inc-gpc0(1)`: numbered forms of the (*) rows.
  return /^(track-sc\d+|sc-inc-gpc\d*\(.*\)|sc-set-gpt\d*\(.*\))$/.test(action)
}

function unknownActionMessage (side: RuleSide, action: string): string {
  return `'${side}' expects ${KNOWN_ACTIONS[side].map((a) => `'${a}'`).join(', ')}, but got '${action}'.`
}

export interface RuleContext {
  env: CompileEnv
  proxy: Proxy
  side: RuleSide
  /** Realm of `auth` without one: the proxy name, or the stats realm for `stats http-request`. */
  realm: string
  /** The capture slot of an `http-request capture … len` rule (Rule.slot). */
  slot?: number
}

/** Thrown for a rule whose arguments are wrong; the caller adds HAProxy's prefix. */
export class RuleArgError extends ExprError {}
/** Thrown for extra words HAProxy would have read as the start of a condition. */
export class TrailingWordError extends ExprError {}

const sampleSide = (side: RuleSide): 'request' | 'response' => side === 'http-request' ? 'request' : 'response'

function format (text: string, ctx: RuleContext): CompiledFormat {
  return compileFormat(text, ctx.env, sampleSide(ctx.side))
}

/** `\N` back-references of replace-* templates (HAProxy exp_replace). */
function expand (template: string, m: RegExpExecArray): string {
  return template.replace(/\\(\d)/g, (_s, d: string) => m[Number(d)] ?? '')
}

/** A new header line after the others of that name (`req.fhdr_cnt` counts it apart, as in HAProxy). */
function addHeader (headers: HttpResponseView['headers'], name: string, value: string): void {
  const cur = headers[name]
  if (cur === undefined) headers[name] = name === 'set-cookie' ? [value] : value
  else if (Array.isArray(cur)) cur.push(value)
  else headers[name] = [cur, value]
}

const HEADER_MATCH: Record<string, (h: string, name: string, re: RegExp | null) => boolean> = {
  str: (h, n) => h === n,
  beg: (h, n) => h.startsWith(n),
  end: (h, n) => h.endsWith(n),
  sub: (h, n) => h.includes(n),
  reg: (h, _n, re) => re!.test(h)
}

type Target = (txn: HttpTxn, res: HttpResponseView | null) => HttpResponseView['headers']

function exactArgs (args: string[], n: number, message: string): void {
  if (args.length < n) throw new RuleArgError(message)
  if (args.length > n) throw new TrailingWordError(args[n])
}

/** A new path and query (`set-pathq`): the scheme and authority of an absolute-form target stay. */
function setPathq (txn: HttpTxn, pq: string): void {
  const q = pq.indexOf('?')
  txn.path = q === -1 ? pq : pq.slice(0, q)
  txn.query = q === -1 ? null : pq.slice(q + 1)
}

/** A new URI (`set-uri`, `replace-uri`): an absolute one (`http://h/p`) keeps its scheme and authority apart. */
function setUri (txn: HttpTxn, uri: string): void {
  const scheme = uri.charCodeAt(0) === 47 ? -1 : uri.indexOf('://')
  if (scheme > 0) {
    const slash = uri.indexOf('/', scheme + 3)
    const start = slash < 0 ? uri.length : slash
    txn.absolute = uri.slice(0, start)
    setPathq(txn, uri.slice(start) || '/')
    return
  }
  delete txn.absolute
  setPathq(txn, uri)
}

/** The whole target, absolute-form included (`replace-uri`). */
const urlOf = (t: HttpTxn): string => (t.absolute ?? '') + pathqOf(t)
const pathqOf = (t: HttpTxn): string => t.query === null ? t.path : `${t.path}?${t.query}`

/** A rewrite failed in strict mode: constant, the hot path allocates nothing. */
export const REWRITE_FAILED: Decision = { kind: 'rewrite-failed' }

/**
 * Whether a rewrite adding `growth` bytes fits the message (RewriteBudget); a failure is counted.
 * No budget (http-after-response, a message the gateway made): it fits.
 */
function fits (t: HttpTxn, r: HttpResponseView | null, growth: number): boolean {
  const budget = r === null ? t.rewrite : r.rewrite
  if (budget === undefined || growth <= budget.room) {
    if (budget !== undefined) budget.room -= growth
    return true
  }
  budget.failed++
  return false
}

/** What a rewrite that did not fit leads to: the 500 in strict mode, else nothing (skipped). */
function failed (t: HttpTxn, r: HttpResponseView | null): Decision | null {
  return (r === null ? t.rewrite : r.rewrite)!.strict ? REWRITE_FAILED : null
}

/** Header rewriting actions shared by both sides. */
function headerAction (name: string, args: string[], ctx: RuleContext, target: Target): Action | null {
  switch (name) {
    case 'set-header':
    case 'add-header': {
      exactArgs(args, 2, 'expects exactly 2 arguments')
      const header = args[0].toLowerCase()
      const value = format(args[1], ctx).format
      if (name === 'add-header') {
        return (t, r) => {
          const v = value(t, r)
          if (!fits(t, r, header.length + v.length)) return failed(t, r)
          addHeader(target(t, r), header, v)
          return null
        }
      }
      return (t, r) => {
        const v = value(t, r)
        const h = target(t, r)
        if (!fits(t, r, header.length + v.length - headerBytes(header, h[header]))) return failed(t, r)
        // removed, then added last, as HAProxy's set-header does
        delete h[header]
        h[header] = header === 'set-cookie' ? [v] : v
        return null
      }
    }
    case 'del-header': {
      if (args.length === 0) throw new RuleArgError('expects at least 1 argument')
      let method = 'str'
      if (args.length > 1) {
        if (args[1] !== '-m') throw new TrailingWordError(args[1])
        method = args[2] ?? ''
        if (HEADER_MATCH[method] === undefined) throw new RuleArgError(`-m with unsupported matching method '${method}'`)
        if (args.length > 3) throw new TrailingWordError(args[3])
      }
      const header = args[0].toLowerCase()
      if (method === 'str') return (t, r) => { delete target(t, r)[header]; return null }
      const re = method === 'reg' ? compileRegex(args[0], true) : null
      const test = HEADER_MATCH[method]
      return (t, r) => {
        const h = target(t, r)
        for (const key of Object.keys(h)) if (test(key, header, re)) delete h[key]
        return null
      }
    }
    case 'replace-header':
    case 'replace-value': {
      exactArgs(args, 3, 'expects exactly 3 arguments')
      const header = args[0].toLowerCase()
      const re = compileRegex(args[1], false)
      const tpl = format(args[2], ctx).format
      const one = (v: string, template: string): string => {
        const m = re.exec(v)
        return m === null ? v : expand(template, m)
      }
      const line = name === 'replace-header'
        ? one
        // A replaced value loses the blanks before it (observed: "a1, c, a2" → "b1, c,b2").
        : (v: string, template: string) => v.split(',').map((x) => {
            const t = x.trim()
            return re.test(t) ? one(t, template) : x
          }).join(',')
      return (t, r) => {
        const h = target(t, r)
        const cur = h[header]
        if (cur === undefined) return null
        const template = tpl(t, r)
        const next = Array.isArray(cur) ? cur.map((v) => line(v, template)) : line(cur, template)
        if (!fits(t, r, headerBytes(header, next) - headerBytes(header, cur))) return failed(t, r)
        h[header] = next
        return null
      }
    }
  }
  return null
}

/** `set-var(name[,cond…]) <expr>`, `set-var-fmt(name[,cond…]) <fmt>`, `unset-var(name)` (§4.2). */
export function varAction (action: string, args: string[], ctx: RuleContext): Action | null {
  const m = /^(set-var|set-var-fmt|unset-var)\((.*)\)$/.exec(action)
  if (m === null) return null
  const [name = '', ...conds] = m[2]!.split(',')
  let when: ReturnType<typeof varConditions>
  try {
    checkVarName(name)
    if (m[1] === 'unset-var' && conds.length > 0) throw new ExprError('unset-var does not expect parameters after the variable name. Only "set-var" and "set-var-fmt" manage conditions')
    when = varConditions(conds)
  } catch (err) {
    throw new RuleArgError((err as Error).message)
  }
  const ref = varRef(name, true)
  if (m[1] === 'unset-var') {
    if (args.length > 0) throw new TrailingWordError(args[0])
    return (t) => { ref.unset(t); return null }
  }
  if (args.length === 0) throw new RuleArgError(m[1] === 'set-var' ? 'missing fetch method' : 'expects exactly 1 argument <format>')
  if (args.length > 1) throw new TrailingWordError(args[1])
  if (m[1] === 'set-var-fmt') {
    const f = format(args[0], ctx).format
    return (t, r) => {
      const v = f(t, r)
      if (when === null || when(ref, t, v)) ref.set(t, v)
      return null
    }
  }
  const expr = compileExpr(parseExpr(args[0]), ctx.env)
  if (missing(expr, sampleSide(ctx.side), ctx.proxy) === 'backend') {
    throw new RuleArgError(`fetch method '${action}' extracts information from 'backend', none of which is available here`)
  }
  return (t, r) => {
    const v = expr.one(t, r)
    if (v !== null && (when === null || when(ref, t, v))) ref.set(t, v)
    return null
  }
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308])

/**
 * `redirect location|prefix|scheme <to> [code N] [drop-query] [append-slash] [ignore-empty]
 * [set-cookie NAME[=v]] [clear-cookie NAME[=]]`, for both `http-request redirect` and the
 * `redirect` keyword. As observed on 2.6.12: `prefix /` adds nothing, append-slash appends to
 * the whole URI (after a query) unless it already ends with '/', and `location` ignores it.
 */
export function compileRedirect (args: string[], ctx: RuleContext, legacy: boolean): Action {
  let type: 'location' | 'prefix' | 'scheme' | null = null
  let target = ''
  let code = 302
  let dropQuery = false
  let appendSlash = false
  let ignoreEmpty = false
  const cookies: Array<[string, string]> = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === 'location' || a === 'prefix' || a === 'scheme') {
      if (i + 1 >= args.length) throw new RuleArgError(`missing argument for '${a}'`)
      type = a
      target = args[++i]
    } else if (a === 'code') {
      if (i + 1 >= args.length) throw new RuleArgError("missing HTTP code")
      code = Number(args[++i])
      if (!REDIRECT_CODES.has(code)) throw new RuleArgError(`'code': unsupported HTTP code '${args[i]}' (must be one of 301, 302, 303, 307 or 308)`)
    } else if (a === 'drop-query') dropQuery = true
    else if (a === 'append-slash') appendSlash = true
    else if (a === 'ignore-empty') ignoreEmpty = true
    else if (a === 'set-cookie' || a === 'clear-cookie') {
      if (i + 1 >= args.length) throw new RuleArgError(`missing argument for '${a}'`)
      const c = args[++i]
      // As HAProxy 2.6 writes them: "SEEN=1; path=/;" and "OLD; path=/; Max-Age=0;".
      cookies.push(['set-cookie', a === 'set-cookie' ? `${c}; path=/;` : `${c}; path=/; Max-Age=0;`])
    } else if (legacy) {
      throw new RuleArgError(`expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '${a}')`)
    } else throw new TrailingWordError(a)
  }
  if (type === null) throw new RuleArgError("redirection type expected ('prefix', 'location', or 'scheme')")
  const to = format(target, ctx)
  const kind = type
  const constant: Decision | null = kind === 'location' && to.constant !== null
    ? { kind: 'redirect', status: code, location: to.constant, headers: cookies }
    : null
  if (constant !== null) return () => constant
  return (t, r) => {
    const dest = to.format(t, r)
    if (ignoreEmpty && dest === '') return null
    if (kind === 'location') return { kind: 'redirect', status: code, location: dest, headers: cookies }
    const uri = dropQuery ? t.path : pathqOf(t)
    let location: string
    if (kind === 'prefix') location = (dest === '/' ? '' : dest) + uri
    else {
      const host = t.headers.host
      location = `${dest}://${typeof host === 'string' ? host : ''}${uri}`
    }
    if (appendSlash && !uri.endsWith('/')) location += '/'
    return { kind: 'redirect', status: code, location, headers: cookies }
  }
}

const NO_BODY_STATUS = new Set([204, 304])

/** The file an `http-errors` section gives for a status, or null (§3.8 "http-errors"). */
function errorfilesEntry (name: string, status: number, ctx: RuleContext): string | null {
  const section = ctx.env.config.httpErrors.find((h) => h.name === name)
  if (section === undefined) throw new RuleArgError(`unknown http-errors section '${name}'`)
  return section.errorFiles[String(status)] ?? null
}

/** A file a `return` answers with: it must fit in a buffer (tune.bufsize), as in HAProxy. */
function readBody (file: string, ctx: RuleContext): string {
  const bufsize = ctx.env.config.global.bufsize ?? DEFAULT_BUFSIZE
  try {
    return readBounded(file, bufsize).toString('latin1')
  } catch (err) {
    if (err instanceof FileTooLarge) throw new RuleArgError(`file '${file}' is larger than a buffer (tune.bufsize ${bufsize} bytes)`)
    throw new RuleArgError(`error opening file '${file}'`)
  }
}

const REJECT: Decision = { kind: 'reject' }

/**
 * An errorfile holds a whole HTTP response (§4.2 "errorfile"): status line, headers, body.
 * Read once; the status line's code wins over the rule's. An empty one closes the connection.
 */
function rawResponse (file: string, dflt: number, ctx: RuleContext): Decision {
  const text = readBody(file, ctx)
  if (text === '') return REJECT
  const split = /\r?\n\r?\n/.exec(text)
  const head = split === null ? text : text.slice(0, split.index)
  const body = split === null ? '' : text.slice(split.index + split[0].length)
  const [first, ...lines] = head.split(/\r?\n/)
  const code = /^HTTP\/\d\.\d\s+(\d{3})/.exec(first ?? '')
  const headers: Array<[string, string]> = []
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    if (colon > 0 && name !== 'content-length') headers.push([name, line.slice(colon + 1).trim()])
  }
  return { kind: 'reply', status: code === null ? dflt : Number(code[1]), headers, contentType: null, body }
}

/** `return` and the return-like options of `deny` / `tarpit` (§4.2 "http-request return"). */
function compileReturn (args: string[], ctx: RuleContext, opts: { statusWords: string[], dflt: number, deny: boolean }): Action {
  let status = opts.dflt
  let ctype: string | null = null
  let body: { kind: 'string' | 'lf-string' | 'file' | 'lf-file' | 'errorfile' | 'errorfiles' | 'default-errorfiles', text: string } | null = null
  const hdrs: Array<[string, Format]> = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (opts.statusWords.includes(a)) {
      const v = Number(args[++i])
      if (!Number.isInteger(v) || v < 200 || v > 599) throw new RuleArgError(`Unexpected status code '${Number.isInteger(v) ? v : 0}'`)
      status = v
    } else if (a === 'content-type') {
      if (i + 1 >= args.length) throw new RuleArgError("'content-type' expects <ctype> as argument")
      ctype = args[++i]
    } else if (a === 'string' || a === 'lf-string' || a === 'file' || a === 'lf-file') {
      if (body !== null) throw new RuleArgError(`unexpected '${a}' argument, '${body.kind}' already defined`)
      if (i + 1 >= args.length) throw new RuleArgError(`'${a}' expects <${a.endsWith('file') ? 'file' : 'str'}> as argument`)
      body = { kind: a, text: args[++i] }
    } else if (a === 'errorfile' || a === 'errorfiles') {
      if (i + 1 >= args.length) throw new RuleArgError(`'${a}' expects <${a === 'errorfile' ? 'fmt' : 'name'}> as argument`)
      if (body !== null) throw new RuleArgError(`unexpected '${a}' argument, '${body.kind}' already defined`)
      body = { kind: a, text: args[++i] }
    } else if (a === 'default-errorfiles') {
      if (body !== null) throw new RuleArgError(`unexpected '${a}' argument, '${body.kind}' already defined`)
      body = { kind: a, text: '' }
    } else if (a === 'hdr') {
      if (i + 2 >= args.length || args[i + 2] === '') throw new RuleArgError("'hdr' expects <name> and <value> as arguments")
      hdrs.push([args[i + 1].toLowerCase(), format(args[i + 2], ctx).format])
      i += 2
    } else throw new TrailingWordError(a)
  }
  if (body?.kind === 'default-errorfiles') return proxyErrorReply(status, ctx)
  if (body !== null && (body.kind === 'errorfile' || body.kind === 'errorfiles')) {
    const file = body.kind === 'errorfile' ? body.text : errorfilesEntry(body.text, status, ctx)
    if (file === null) {
      const d: Decision = opts.deny ? { kind: 'deny', status } : { kind: 'reply', status, headers: [], contentType: null, body: '' }
      return () => d
    }
    const d = rawResponse(file, status, ctx)
    return () => d
  }
  // A plain string or file body is built once; lf-string / lf-file bodies per request.
  let fixedBody: string | null = ''
  let lfBody: Format | null = null
  if (body !== null) {
    let src = body.text
    if (body.kind === 'file' || body.kind === 'lf-file') {
      src = readBody(body.text, ctx)
    }
    if (body.kind.startsWith('lf-')) {
      lfBody = format(src, ctx).format
      fixedBody = null
    } else fixedBody = src
    if (src !== '' && ctype === null) throw new RuleArgError('a content type must be defined when non-empty payload is configured')
    if (NO_BODY_STATUS.has(status)) throw new RuleArgError(`No body expected for ${status} responses`)
  }
  if (opts.deny && body === null && hdrs.length === 0) {
    // an http-error reply that formats is built here; a constant one is the proxy's page
    const choice = errorChoice(ctx.proxy, ctx.env.config, status)
    if (choice?.kind === 'reply' && needsFormat(choice.words)) return compileReturn(choice.words, ctx, { statusWords: [], dflt: status, deny: false })
    const d: Decision = { kind: 'deny', status }
    return () => d
  }
  // an empty payload goes without its content-type (observed: `return content-type text/plain` sends none)
  const contentType = fixedBody === '' ? null : ctype
  if (hdrs.length === 0 && fixedBody !== null) {
    const d: Decision = { kind: 'reply', status, headers: [], contentType, body: fixedBody }
    return () => d
  }
  return (t, r) => ({
    kind: 'reply',
    status,
    // a header whose value formats to nothing is left out (observed on 2.6.12)
    headers: hdrs.map(([n, f]): [string, string] => [n, f(t, r)]).filter(([, v]) => v !== ''),
    contentType,
    body: lfBody !== null ? lfBody(t, r) : fixedBody ?? ''
  })
}

const needsFormat = (words: readonly string[]): boolean =>
  words.includes('lf-string') || words.includes('lf-file') || words.some((w, i) => words[i - 2] === 'hdr' && w.includes('%'))

/** `return … default-errorfiles`: what the proxy answers for that status (its errorfile, http-error or HAProxy's page). */
function proxyErrorReply (status: number, ctx: RuleContext): Action {
  const choice = errorChoice(ctx.proxy, ctx.env.config, status)
  if (choice?.kind === 'reply' && needsFormat(choice.words)) return compileReturn(choice.words, ctx, { statusWords: [], dflt: status, deny: false })
  return constant({ kind: 'page', status })
}

type ActionRow = {
  sides: readonly RuleSide[]
  compile (args: string[], ctx: RuleContext, side: RuleSide): Action
}

const REQ: readonly RuleSide[] = ['http-request']
const RES: readonly RuleSide[] = ['http-response', 'http-after-response']
const BOTH: readonly RuleSide[] = ['http-request', 'http-response']
const ALL: readonly RuleSide[] = ['http-request', 'http-response', 'http-after-response']

const fmt1 = (args: string[], ctx: RuleContext): Format => {
  exactArgs(args, 1, 'expects exactly 1 argument <format>')
  return format(args[0], ctx).format
}

const regex2 = (args: string[], ctx: RuleContext): [RegExp, Format] => {
  exactArgs(args, 2, 'expects exactly 2 arguments <match-regex> and <replace-format>')
  return [compileRegex(args[0], false), format(args[1], ctx).format]
}

const constant = (d: Decision): Action => () => d

const INVALID: Decision = { kind: 'invalid' }

/** `normalize-uri <normalizer> [full|strict]`: HAProxy 2.6 wants `expose-experimental-directives` first. */
function compileNormalizeUri (args: string[], ctx: RuleContext): Action {
  // HAProxy words this one without the rule's prefix
  if (ctx.env.config.global.experimental !== true) throw new Error("'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'")
  const name = args[0]
  if (name === undefined || name === '') throw new RuleArgError('missing argument <normalizer>')
  const option = NORMALIZERS.get(name)
  if (option === undefined) throw new RuleArgError(`unknown normalizer '${name}'`)
  const given = option !== null && args[1] === option
  const rest = args.slice(given ? 2 : 1)
  if (rest.length > 0) {
    if (option !== null && !given) throw new RuleArgError(`unknown argument '${rest[0]}' for '${name}' normalizer`)
    throw new TrailingWordError(rest[0])
  }
  const normalize = normalizer(name, given)
  return (t) => {
    keepOriginal(t)
    return normalize(t) === 'ok' ? null : INVALID
  }
}

/**
 * `http-request capture <sample> len <n>` (the slot the rule made after the proxy's own, see
 * the parser) or `capture <sample> id <slot>` on any side (a `declare capture` slot): the value,
 * cut to the slot's length, is what `capture.req.hdr(n)` / `capture.res.hdr(n)` and the log's
 * `%hr` / `%hs` show.
 */
function compileCapture (args: string[], ctx: RuleContext, side: RuleSide): Action {
  if (args.length === 0 || args[0] === 'len' || args[0] === 'id') throw new RuleArgError('expects <expression> [ \'len\' <length> | id <idx> ]')
  const expr = compileExpr(parseExpr(args[0]), ctx.env)
  const request = side === 'http-request'
  if (!request && args[1] !== 'id') throw new RuleArgError(`expects 'id', found '${args[1] ?? ''}'`)
  const n = Number(args[2])
  if ((args[1] !== 'len' && args[1] !== 'id') || !Number.isInteger(n) || n < 0) throw new RuleArgError("expects <expression> [ 'len' <length> | id <idx> ]")
  if (args.length > 3) throw new TrailingWordError(args[3])
  const slots = request ? ctx.proxy.requestCaptures : ctx.proxy.responseCaptures
  const id = args[1] === 'id' ? n : ctx.slot
  const slot = id === undefined ? undefined : slots[id]
  if (slot === undefined || id === undefined) {
    if (args[1] === 'id') throw new Error(`Proxy '${ctx.proxy.name}': unable to find capture id '${n}' referenced by ${request ? 'http-request' : 'http-response'} capture rule.`)
    throw new RuleArgError("expects <expression> [ 'len' <length> | id <idx> ]")
  }
  const len = slot.len
  const count = slots.length
  return (t, r) => {
    const v = expr.one(t, r)
    const text = v === null ? null : toStr(v)
    const value = text !== null && text.length > len ? text.slice(0, len) : text
    const list = request ? (t.reqCaptures ??= new Array<string | null>(count).fill(null)) : (t.resCaptures ??= new Array<string | null>(count).fill(null))
    list[id] = value
    return null
  }
}

/** A size in HAProxy's format (§2.5): digits, then an optional k, m or g (powers of 1024). */
function parseSize (text: string): number {
  const m = /^(\d+)([kmgKMG]?)(.?)/.exec(text)
  if (m === null) throw new RuleArgError(`unexpected character '${text[0] ?? ''}'`)
  if (m[3] !== '') throw new RuleArgError(`unexpected character '${m[3]}'`)
  return Number(m[1]) * 1024 ** ' kmg'.indexOf(m[2].toLowerCase() || ' ')
}

/**
 * `http-request|http-response wait-for-body time <time> [at-least <bytes>]` (§4.2): a pause the
 * gateway resolves (lib/runtime/request-body.ts for requests, the Exchange for responses); the
 * rules after it go on once the body is in.
 */
function compileWaitForBody (args: string[]): Action {
  let time: number | null = null
  let atLeast = 0
  for (let i = 0; i < args.length; i += 2) {
    const word = args[i]
    if (word !== 'time' && word !== 'at-least') throw new TrailingWordError(word)
    const value = args[i + 1]
    if (value === undefined) throw new RuleArgError(`missing argument for '${word}'`)
    if (word === 'at-least') { atLeast = parseSize(value); continue }
    const t = parseTime(value)
    if (!t.ok) throw new RuleArgError(t.bad === null ? `timer overflow in argument '${value}'` : `unexpected character '${t.bad}'`)
    time = t.value
  }
  if (time === null) throw new RuleArgError('expects time <time> [ at-least <bytes> ]')
  return constant({ kind: 'wait-for-body', time, atLeast })
}

/** The cache a `cache-use` / `cache-store` rule names (§6 "Cache"), HAProxy's messages when it does not exist. */
function cacheArg (a: string[], ctx: RuleContext): Cache {
  if (a.length === 0) throw new RuleArgError('expects a cache name.')
  if (a.length > 1) throw new TrailingWordError(a[1])
  const cache = ctx.env.cache?.(a[0]!)
  if (cache === undefined) throw new ExprError(`unable to find the cache '${a[0]}' referenced by the filter 'cache'.`)
  return cache
}

/**
 * `http-request cache-use <name>`: a stored answer answers the request (no server is contacted),
 * counted in the proxy's cache_lookups and cache_hits.
 */
function compileCacheUse (a: string[], ctx: RuleContext): Action {
  const cache = cacheArg(a, ctx)
  let counters: TrafficCounters | undefined
  return (t) => {
    if (!mayLookUp(t)) return null
    counters ??= ctx.env.counters?.()
    if (counters !== undefined) counters.cacheLookups++
    const object = cache.lookup(t)
    if (object === null) return null
    if (counters !== undefined) counters.cacheHits++
    return { kind: 'cache', object, cache: cache.name }
  }
}

/** `http-response cache-store <name>`: the answer, if it may be kept, is kept as it goes to the client. */
function compileCacheStore (a: string[], ctx: RuleContext): Action {
  const cache = cacheArg(a, ctx)
  return (t, r) => {
    // an answer the gateway made (a hit among them) is not a server's: nothing to store
    if (r === null || r.server === undefined) return null
    const store = cache.store(t, r)
    if (store === null) return null
    t.cacheStore = store
    // observed: the server's Age does not reach the client of an answer being stored (hits carry their own)
    delete r.headers.age
    return null
  }
}

/** Actions other than header and variable ones, by name (§4.2 http-request / http-response / http-after-response). */
const ACTIONS: Record<string, ActionRow> = {
  'wait-for-body': { sides: BOTH, compile: compileWaitForBody },
  'cache-use': { sides: REQ, compile: compileCacheUse },
  'cache-store': { sides: ['http-response'], compile: compileCacheStore },
  // for the rules after it in this ruleset (RewriteBudget); http-after-response rewrites have no limit here
  'strict-mode': {
    sides: ALL,
    compile: (a) => {
      exactArgs(a, 1, 'expects exactly 1 arguments')
      if (a[0] !== 'on' && a[0] !== 'off') throw new RuleArgError(`Unexpected value '${a[0]}'. Only 'on' and 'off' are supported`)
      const strict = a[0] === 'on'
      return (t, r) => {
        const budget = r === null ? t.rewrite : r.rewrite
        if (budget !== undefined) budget.strict = strict
        return null
      }
    }
  },
  capture: { sides: ALL, compile: compileCapture },
  'set-path': { sides: REQ, compile: (a, c) => { const f = fmt1(a, c); return (t, r) => { keepOriginal(t); t.path = f(t, r); return null } } },
  'set-pathq': { sides: REQ, compile: (a, c) => { const f = fmt1(a, c); return (t, r) => { keepOriginal(t); setPathq(t, f(t, r)); return null } } },
  'set-query': { sides: REQ, compile: (a, c) => { const f = fmt1(a, c); return (t, r) => { keepOriginal(t); t.query = f(t, r); return null } } },
  'set-uri': { sides: REQ, compile: (a, c) => { const f = fmt1(a, c); return (t, r) => { keepOriginal(t); setUri(t, f(t, r)); return null } } },
  'set-method': { sides: REQ, compile: (a, c) => { const f = fmt1(a, c); return (t, r) => { keepOriginal(t); t.method = f(t, r); return null } } },
  'replace-path': {
    sides: REQ,
    compile: (a, c) => {
      const [re, f] = regex2(a, c)
      return (t, r) => { const m = re.exec(t.path); if (m !== null) { keepOriginal(t); t.path = expand(f(t, r), m) } return null }
    }
  },
  'replace-uri': {
    sides: REQ,
    compile: (a, c) => {
      const [re, f] = regex2(a, c)
      return (t, r) => { const m = re.exec(urlOf(t)); if (m !== null) { keepOriginal(t); setUri(t, expand(f(t, r), m)) } return null }
    }
  },
  deny: {
    sides: BOTH,
    compile: (a, c, side) => compileReturn(a, c, { statusWords: ['deny_status', 'status'], dflt: side === 'http-request' ? 403 : 502, deny: true })
  },
  tarpit: {
    sides: REQ,
    compile: (a, c) => {
      const reply = compileReturn(a, c, { statusWords: ['deny_status', 'status'], dflt: 500, deny: true })
      // held for `timeout tarpit`, else `timeout connect` (§4.2 timeout tarpit)
      const delay = c.proxy.timeouts.tarpit ?? c.proxy.timeouts.connect ?? 0
      return (t, r) => {
        const then = reply(t, r)
        return then === null || typeof then === 'symbol' ? then : { kind: 'tarpit', delay, then }
      }
    }
  },
  'silent-drop': {
    sides: BOTH,
    compile: (a) => {
      if (a.length > 0) throw new TrailingWordError(a[0])
      return constant({ kind: 'silent-drop' })
    }
  },
  return: { sides: BOTH, compile: (a, c) => compileReturn(a, c, { statusWords: ['status'], dflt: 200, deny: false }) },
  redirect: { sides: BOTH, compile: (a, c) => compileRedirect(a, c, false) },
  allow: {
    sides: ALL,
    compile: (a) => {
      if (a.length > 0) throw new TrailingWordError(a[0])
      return () => STOP
    }
  },
  auth: {
    sides: REQ,
    compile: (a, c) => {
      if (a.length > 0 && a[0] !== 'realm') throw new TrailingWordError(a[0])
      if (a.length === 1) throw new RuleArgError('missing realm value')
      if (a.length > 2) throw new TrailingWordError(a[2])
      return constant({ kind: 'auth', realm: a.length === 2 ? a[1] : c.realm })
    }
  },
  'use-service': {
    sides: REQ,
    compile: (a) => {
      if (a.length === 0) throw new RuleArgError('expects a service name')
      if (a[0] !== 'prometheus-exporter') throw new RuleArgError(`'${a[0]}' unknown service name.`)
      if (a.length > 1) throw new TrailingWordError(a[1])
      return constant({ kind: 'service', service: a[0] })
    }
  },
  'normalize-uri': { sides: REQ, compile: compileNormalizeUri },
  reject: {
    sides: REQ,
    compile: (a) => {
      if (a.length > 0) throw new TrailingWordError(a[0])
      return constant(REJECT)
    }
  },
  'set-status': {
    sides: RES,
    compile: (a) => {
      const code = Number(a[0])
      if (!Number.isInteger(code) || code < 100 || code > 999) throw new RuleArgError('expects an integer status code between 100 and 999')
      if (a.length > 1 && (a[1] !== 'reason' || a.length < 3)) throw new TrailingWordError(a[1])
      if (a.length > 3) throw new TrailingWordError(a[3])
      // without `reason`, the new status's own phrase (HAProxy keeps none of the old one)
      const reason = a.length === 3 ? a[2] : undefined
      return (_t, r) => {
        if (r !== null) {
          r.status = code
          r.reason = reason
        }
        return null
      }
    }
  }
}
ACTIONS['replace-pathq'] = {
  sides: REQ,
  compile: (a, c) => {
    const [re, f] = regex2(a, c)
    return (t, r) => { const m = re.exec(pathqOf(t)); if (m !== null) { keepOriginal(t); setPathq(t, expand(f(t, r), m)) } return null }
  }
}

const requestHeaders: Target = (t) => t.headers
const responseHeaders: Target = (t, r) => r === null ? t.headers : r.headers

/**
 * Compiles the action part of one rule. Returns null for an action accepted and ignored (with
 * a warning). Throws RuleArgError / TrailingWordError / ExprError; the caller words them.
 */
export function compileAction (side: RuleSide, rule: Rule, ctx: RuleContext): Action | null {
  const { action: name, args } = rule
  const headers = headerAction(name, args, ctx, side === 'http-request' ? requestHeaders : responseHeaders)
  if (headers !== null) return headers
  const vars = varAction(name, args, ctx)
  if (vars !== null) return vars
  const stick = compileStickAction(name, args, ctx.env, side === 'http-request' ? 'request' : 'content')
  if (stick !== null) return stick
  const address = side === 'http-request' ? addressAction(name, args, ctx.env) : null
  if (address !== null) return address
  const row = ACTIONS[name]
  if (row !== undefined && row.sides.includes(side)) return row.compile(args, ctx, side)
  if (!isKnownAction(side, name)) throw new ExprError(unknownActionMessage(side, name))
  if (IGNORED_ACTIONS.has(name)) {
    ctx.env.warn(`'${side} ${name}' is accepted but ignored by fastify-haproxy.`)
    return null
  }
  throw new ExprError(`'${side} ${name}' is not supported by fastify-haproxy.`)
}
