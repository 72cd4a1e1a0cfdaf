// `option httpchk` and the `http-check` rules (configuration.txt §4.2) compiled into the
// exchanges of one HTTP health check: each opens its connection (`http-check connect`, else the
// server's check address), sends a request (`http-check send`, or the one `option httpchk`
// names), then runs the `expect` and `set-var` rules that follow on the response. Variables
// (`check.*`) and log-format strings (`uri-lf`, `body-lf`, header values, `*-lf` patterns) are
// evaluated against the check's own transaction: the backend, the server and the response.
// Requests are HAProxy's bytes (captured from haproxy 2.6: lower-case header names, no Host),
// or the same request over HTTP/2 to `proto h2` servers and with `check-proto h2`.

import type { IncomingHttpHeaders } from 'node:http'
import { hostname } from 'node:os'
import type { HttpCheck, HttpCheckExpect, HttpCheckRule, ParsedConfig, Proxy } from '../config/model.js'
import type { CompileEnv } from '../acl/env.js'
import { compileFormat } from '../acl/logformat.js'
import { FileCache } from '../acl/maps.js'
import { txnFromParts } from '../acl/make-txn.js'
import { varAction, type Action } from '../acl/rules.js'
import type { HttpResponseView, HttpTxn } from '../acl/txn.js'
import type { ServerRuntime } from './backend.js'

/** The check's transaction: its variables, the backend and server, and the last response. */
export interface CheckContext {
  txn: HttpTxn
  res: HttpResponseView
}

/** A response as the rules read it. */
export interface CheckResponse {
  code: number
  reason: string
  /** The header block, lines separated by CRLF (status line excluded). */
  headers: string
  body: string
}

export interface Verdict { status: 'L7OK' | 'L7OKC' | 'L7STS' | 'L7RSP', desc: string }

/** One connection of the check: where to, what to send, how to judge the answer. */
export interface Exchange {
  /** `http-check connect` target; absent parts are the server's check address and port. */
  connect: { host?: string, port?: number }
  request (ctx: CheckContext, srv: ServerRuntime): CheckRequest
  /** Runs the rules after the request on the response: the first failing expect decides. */
  judge (res: CheckResponse, up: boolean, ctx: CheckContext): Verdict
  /** Some rule reads the body: the whole response is awaited. */
  needsBody: boolean
  /** Rules run before the request (`set-var` lines between a connect and its send). */
  before: Action[]
}

export interface HttpProbe {
  exchanges: Exchange[]
  /** A new transaction for one check of `srv`. */
  context (srv: ServerRuntime): CheckContext
}

type Match = (s: string) => boolean

/** `-m str|beg|end|sub|reg <pattern>` of `http-check expect hdr` (§4.2); names compare without case. */
function matcher (method: string, pattern: string, ignoreCase: boolean): Match {
  const p = ignoreCase ? pattern.toLowerCase() : pattern
  const norm = ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s
  switch (method) {
    case 'beg': return (s) => norm(s).startsWith(p)
    case 'end': return (s) => norm(s).endsWith(p)
    case 'sub': return (s) => norm(s).includes(p)
    case 'reg': {
      const re = new RegExp(pattern, ignoreCase ? 'i' : '')
      return (s) => re.test(s)
    }
    default: return (s) => norm(s) === p
  }
}

/**
 * `http-check expect [!] hdr|fhdr name [-m meth] <name> [value [-m meth] <value>]`: some header
 * with that name (and, if given, a value: each comma-separated one for `hdr`, the whole line for `fhdr`).
 */
function headerExpect (kind: 'hdr' | 'fhdr', words: string[], env: () => CompileEnv): (headers: string, ctx: CheckContext) => boolean {
  let i = 0
  /** The matcher of a `name`/`value` part; a `-lf` one is built from its format at each check. */
  const take = (lf: boolean, ignoreCase: boolean): (ctx: CheckContext) => Match => {
    let method = 'str'
    if (words[i] === '-m') {
      method = words[i + 1] ?? 'str'
      i += 2
    }
    const pattern = words[i++] ?? ''
    if (!lf) {
      const m = matcher(method, pattern, ignoreCase)
      return () => m
    }
    const f = compileFormat(pattern, env(), 'response').format
    return (ctx) => matcher(method, f(ctx.txn, ctx.res), ignoreCase)
  }
  let lf = words[i] === 'name-lf'
  if (words[i] === 'name' || lf) i++
  const nameOf = take(lf, true)
  let valueOf: ((ctx: CheckContext) => Match) | null = null
  lf = words[i] === 'value-lf'
  if (words[i] === 'value' || lf) {
    i++
    valueOf = take(lf, false)
  }
  return (headers, ctx) => {
    const nameOk = nameOf(ctx)
    const valueOk = valueOf === null ? null : valueOf(ctx)
    for (const line of headers.split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon <= 0 || !nameOk(line.slice(0, colon).trim())) continue
      const value = line.slice(colon + 1).trim()
      if (valueOk === null) return true
      if (kind === 'fhdr' ? valueOk(value) : value.split(',').some((v) => (valueOk as Match)(v.trim()))) return true
    }
    return false
  }
}


function httpVersion (v: string): string {
  return v.startsWith('HTTP/') ? v : `HTTP/${v || '1.0'}`
}

type Format = (ctx: CheckContext) => string

function text (value: string, lf: boolean, env: () => CompileEnv): Format {
  if (!lf || !value.includes('%')) return () => value
  const f = compileFormat(value, env(), 'response').format
  return (ctx) => f(ctx.txn, ctx.res)
}

/** `X-Haproxy-Server-State` (§4.2 `http-check send-state`). */
function serverState (srv: ServerRuntime): string {
  const top = srv.rise + srv.fall - 1
  let state: string
  if (srv.op === 'up') state = `${srv.nolb ? 'NOLB' : 'UP'}${srv.health < top ? ` ${srv.health - srv.rise + 1}/${srv.fall}` : ''}`
  else state = srv.health > 0 ? `DOWN ${srv.health}/${srv.rise}` : 'DOWN'
  const be = srv.backend
  const total = be.servers.reduce((n, s) => n + s.weight, 0)
  return `${state}; name=${be.name}/${srv.name}; node=${hostname()}; weight=${srv.weight}/${total}; scur=${srv.served}/${be.counters.scur}; qcur=${srv.queued}`
}

/** A check request, before it is written in HTTP/1 or HTTP/2. */
export interface CheckRequest {
  method: string
  uri: string
  version: string
  /** Lower-case names, in order. */
  headers: Array<[string, string]>
  body: string
}

/** HAProxy's HTTP/1 bytes: lower-case names, `content-length` for a body, `connection: close` unless 1.0 or given. */
export function http1Request (req: CheckRequest): Buffer {
  const lines = [`${req.method} ${req.uri} ${req.version}`]
  for (const [name, value] of req.headers) lines.push(`${name}: ${value}`)
  if (req.body.length > 0) lines.push(`content-length: ${Buffer.byteLength(req.body, 'latin1')}`)
  if (req.version !== 'HTTP/1.0' && !req.headers.some(([n]) => n === 'connection')) lines.push('connection: close')
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + req.body, 'latin1')
}

/** The request of one send rule. */
function requestOf (hc: HttpCheck, rule: Extract<HttpCheckRule, { kind: 'send' }>, extra: Array<[string, string]>, env: () => CompileEnv): Exchange['request'] {
  const method = rule.method ?? hc.method
  const uri = text(rule.uri ?? hc.uri, rule.uriLf === true, env)
  const version = httpVersion(rule.version ?? hc.version)
  const headers = [...extra.map(([n, v]): [string, Format] => [n.toLowerCase(), () => v]), ...rule.headers.map(([n, v]): [string, Format] => [n.toLowerCase(), text(v, true, env)])]
  const body = rule.body === undefined ? null : text(rule.body, rule.bodyLf === true, env)
  return (ctx, srv) => {
    const list = headers.map(([name, value]): [string, string] => [name, value(ctx)])
    if (hc.sendState) list.push(['x-haproxy-server-state', serverState(srv)])
    return { method, uri: uri(ctx) || '/', version, headers: list, body: body === null ? '' : body(ctx) }
  }
}

type Judge = (res: CheckResponse, up: boolean, ctx: CheckContext) => Verdict | null

/** One `http-check expect [!] status|rstatus|string|rstring|hdr|fhdr <pattern>`: a failure's verdict, or null when it holds. */
function compileExpect (expect: HttpCheckExpect | null, disableOn404: boolean, env: () => CompileEnv): { judge: Judge, needsBody: boolean } {
  const wrongStatus = (reason: string): Verdict => ({ status: 'L7STS', desc: reason })
  // disable-on-404 only applies to a server that is UP; a DOWN one stays DOWN on 404 (§4.2).
  const on404 = (code: number, up: boolean): boolean => disableOn404 && up && code === 404
  const byStatus = (hit: (code: number) => boolean): Judge => (res, up) => {
    if (hit(res.code)) return null
    if (on404(res.code, up)) return { status: 'L7OKC', desc: '' }
    return wrongStatus(res.reason)
  }
  if (expect === null) return { needsBody: false, judge: byStatus(code => code >= 200 && code < 400) }
  const neg = expect.negate
  switch (expect.kind) {
    case 'status': {
      const ranges = expect.pattern.split(',').map((r) => {
        const [lo, hi] = r.split('-')
        return [Number(lo), Number(hi ?? lo)] as const
      })
      return { needsBody: false, judge: byStatus(code => ranges.some(([lo, hi]) => code >= lo && code <= hi) !== neg) }
    }
    case 'rstatus': {
      const re = new RegExp(expect.pattern)
      return { needsBody: false, judge: byStatus(code => re.test(String(code)) !== neg) }
    }
    case 'string':
    case 'rstring': {
      let test: (body: string, ctx: CheckContext) => boolean
      if (expect.kind === 'rstring') {
        const re = new RegExp(expect.pattern)
        test = (body) => re.test(body)
      } else {
        const needle = text(expect.pattern, expect.lf === true, env)
        test = (body, ctx) => body.includes(needle(ctx))
      }
      return {
        needsBody: true,
        judge: (res, up, ctx) => {
          if (on404(res.code, up)) return { status: 'L7OKC', desc: '' }
          if (test(res.body, ctx) !== neg) return null
          return { status: 'L7RSP', desc: 'HTTP content check did not match' }
        }
      }
    }
    case 'hdr':
    case 'fhdr': {
      // Recorded: the header rule replaces the status rule (a 500 with the header passes).
      const found = headerExpect(expect.kind, expect.words ?? expect.pattern.split(' '), env)
      return {
        needsBody: false,
        judge: (res, up, ctx) => {
          if (found(res.headers, ctx) !== neg) return null
          if (on404(res.code, up)) return { status: 'L7OKC', desc: '' }
          return wrongStatus(res.reason)
        }
      }
    }
  }
}

/** The response headers as the fetches read them (lower-case names, repeated ones joined). */
export function headerMap (block: string): IncomingHttpHeaders {
  const out: Record<string, string> = {}
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`
  }
  return out
}

/**
 * The exchanges of a proxy's HTTP check, or null without `option httpchk`. Without a send rule
 * the check sends `option httpchk`'s request; a send without an expect after it gets HAProxy's
 * implicit one (a 2xx or 3xx status).
 */
export function compileHttpProbe (proxy: Proxy, config: ParsedConfig | undefined): HttpProbe | null {
  const hc = proxy.httpCheck
  if (hc === null) return null
  let env: CompileEnv | null = null
  const envOf = (): CompileEnv => {
    if (config === undefined) throw new Error('http-check rules with variables or log-formats need the configuration')
    env ??= { config, proxy, files: new FileCache(), userlist: () => undefined, warn: () => {} }
    return env
  }
  const rules = hc.rules.some(r => r.kind === 'send') ? hc.rules : [{ kind: 'send', headers: [] } as HttpCheckRule, ...hc.rules]
  const oldStyle = hc.rules.some(r => r.kind === 'send') ? [] : hc.headers
  const exchanges: Exchange[] = []
  let connect: Exchange['connect'] = {}
  let pending: Action[] = []
  let current: { exchange: Exchange, judges: Judge[], expects: number } | null = null
  const close = (): void => {
    if (current === null) return
    const { exchange, judges } = current
    if (current.expects === 0) judges.push(compileExpect(null, hc.disableOn404, envOf).judge)
    exchange.judge = (res, up, ctx) => {
      for (const j of judges) {
        const v = j(res, up, ctx)
        if (v !== null) return v
      }
      return { status: 'L7OK', desc: '' }
    }
    current = null
  }
  for (const r of rules) {
    if (r.kind === 'connect') {
      close()
      connect = { ...(r.host !== undefined ? { host: r.host } : {}), ...(r.port !== undefined ? { port: r.port } : {}) }
    } else if (r.kind === 'send') {
      close()
      const exchange: Exchange = { connect, request: requestOf(hc, r, oldStyle, envOf), judge: () => ({ status: 'L7OK', desc: '' }), needsBody: false, before: pending }
      pending = []
      connect = {}
      exchanges.push(exchange)
      current = { exchange, judges: [], expects: 0 }
    } else if (r.kind === 'expect') {
      if (current === null) continue
      const e = compileExpect(r.expect, hc.disableOn404, envOf)
      current.judges.push(e.judge)
      current.expects++
      if (e.needsBody) current.exchange.needsBody = true
    } else {
      const action = varAction(r.action, r.args, { env: envOf(), proxy, side: 'http-response', realm: proxy.name })
      if (action === null) continue
      if (current === null) pending.push(action)
      else current.judges.push((_res, _up, ctx) => { action(ctx.txn, ctx.res); return null })
    }
  }
  close()
  return {
    exchanges,
    context: (srv) => {
      const txn = txnFromParts({ method: 'GET', url: '/', frontend: '' })
      txn.backend = proxy.name
      return { txn, res: { status: 0, headers: {}, server: { name: srv.name, id: srv.id } } }
    }
  }
}
