// "Why did this request go there?" — `fastify-haproxy explain`, the runtime API's `explain` and
// `app.haproxy.explain()`: a request is run through a frontend's rules as the gateway would run
// it, without sending anything. Printed: each named ACL with the value its fetch reads and its
// result, each http-request / redirect / use_backend rule in order with its condition's result,
// the decision the compiled rules really take, the backend, and the server its balancer picks
// now where that does not change the balancer (hash, leastconn, first); for round robin and
// random, the servers the next pick is made among.

import type { AclDecl, Condition, Proxy } from './config/model.js'
import { compileAcl, type AclTerm } from './acl/acl.js'
import { compileCondition } from './acl/condition.js'
import { compileChain, parseExpr } from './acl/expr.js'
import { ACL_KEYWORDS, fetchRow } from './acl/fetches.js'
import type { CompileEnv } from './acl/env.js'
import { FileCache } from './acl/maps.js'
import { txnFromParts, type TxnParts } from './acl/make-txn.js'
import { UserlistAuth } from './acl/userlist.js'
import { toStr } from './acl/sample.js'
import type { Gateway } from './plugin.js'

export interface ExplainRequest {
  method?: string
  url: string
  headers?: Record<string, string>
  src?: string
}

export interface Explanation {
  frontend: string
  /** One line per step, in the order the gateway takes them. */
  steps: string[]
  /** What the rules decided: `backend`, `deny 403`, `redirect 302 /x` … */
  decision: string
  backend: string | null
  /** The server the balancer picks now (null when none is usable or the pick is not fixed). */
  server: string | null
  /** Usable servers the next pick is made among. */
  candidates: string[]
}

/** http-request actions after which no later rule runs. */
const FINAL = new Set(['allow', 'deny', 'reject', 'tarpit', 'return', 'redirect', 'auth', 'use-service'])

const HASH_OR_STATELESS = new Set(['source', 'uri', 'url_param', 'hdr', 'hash', 'rdp-cookie', 'leastconn', 'first'])

function quote (v: unknown): string {
  return v === null || v === undefined ? '<none>' : JSON.stringify(typeof v === 'string' ? v : toStr(v as never))
}

function condText (c: Condition | null): string {
  return c === null ? '' : ` ${c.polarity} ${c.words.join(' ')}`
}

export function explain (gw: Gateway, frontendName: string | undefined, request: ExplainRequest): Explanation {
  const config = gw.config
  const proxy: Proxy | undefined = frontendName === undefined
    ? config.proxies.find(p => p.kind !== 'backend' && !p.disabled && gw.frontend(p.name) !== undefined)
    : config.proxies.find(p => p.name === frontendName && p.kind !== 'backend')
  if (proxy === undefined) throw new Error(`No frontend or listen section named "${frontendName ?? ''}"`)
  const parts: TxnParts = { method: request.method ?? 'GET', url: request.url, headers: request.headers ?? {}, frontend: proxy.name }
  if (request.src !== undefined) parts.src = request.src
  const txn = txnFromParts(parts)
  const userlists = new Map(config.userlists.map(u => [u.name, new UserlistAuth(u)]))
  const env: CompileEnv = {
    config, proxy, files: new FileCache(gw.patterns), userlist: (n) => userlists.get(n), warn: () => {},
    backend: (name) => gw.backendRoute(name)?.backend
  }
  const steps: string[] = [`${proxy.kind} ${proxy.name}: ${parts.method} ${request.url}`]

  // named ACLs: their lines, each with the value its fetch reads and whether it matches
  const named = new Map<string, AclTerm[]>()
  const declared: AclDecl[] = []
  for (const decl of proxy.acls) {
    let term: AclTerm
    try { term = compileAcl(decl.words, env) } catch { continue }
    named.set(decl.name, [...(named.get(decl.name) ?? []), term])
    declared.push(decl)
    steps.push(`  acl ${decl.name} ${decl.words.join(' ')}  (line ${decl.loc.line}): ${sampleOf(decl.words[0] ?? '', env, txn)} → ${term.test(txn, null) ? 'true' : 'false'}`)
  }
  const lookup = (name: string): AclTerm[] | undefined => named.get(name)
  const holds = (cond: Condition | null, place: string): boolean => {
    if (cond === null) return true
    try {
      return compileCondition(cond, lookup, env, { side: 'request', place })(txn, null)
    } catch {
      return false
    }
  }

  // http-request and redirect rules, then what the compiled rules decide
  const fe = gw.frontend(proxy.name)
  for (const r of [...proxy.httpRequest, ...proxy.redirects]) {
    const word = proxy.redirects.includes(r) ? 'redirect' : `http-request ${r.action}`
    const met = holds(r.cond, `frontend ${word} rule`)
    steps.push(`  ${word}${r.args.length > 0 ? ' ' + r.args.join(' ') : ''}${condText(r.cond)}  (line ${r.loc.line}): ${met ? 'applies' : 'skipped'}`)
    // a final action ends the list (`allow` ends it without an answer)
    if (met && (FINAL.has(r.action) || proxy.redirects.includes(r))) break
  }
  const verdict = fe?.route.rules.requestRules(txn) ?? null
  if (verdict !== null) {
    const decision = `${verdict.kind}${'status' in verdict ? ` ${String(verdict.status)}` : ''}${'location' in verdict ? ` ${String(verdict.location)}` : ''}`
    steps.push(`  → the request is answered by the rules: ${decision}`)
    return { frontend: proxy.name, steps, decision, backend: null, server: null, candidates: [] }
  }

  // switching rules
  let backend: string | null = null
  for (const u of proxy.useBackends) {
    const met = holds(u.cond, 'frontend use_backend rule')
    steps.push(`  use_backend ${u.backend}${condText(u.cond)}  (line ${u.loc.line}): ${met ? 'chosen' : 'skipped'}`)
    if (met && backend === null) backend = u.backend
  }
  const switched = fe?.route.rules.switching(txn)
  if (switched?.kind === 'backend') backend = switched.backend
  if (backend === null) {
    backend = proxy.defaultBackend?.name ?? (proxy.kind === 'listen' ? proxy.name : null)
    steps.push(backend === null ? '  no backend: HAProxy answers 503' : `  default_backend ${backend}`)
  }
  if (backend === null) return { frontend: proxy.name, steps, decision: 'none 503', backend: null, server: null, candidates: [] }
  const route = gw.backendRoute(backend)
  if (route === undefined) {
    steps.push(`  backend ${backend} does not exist: HAProxy answers 503`)
    return { frontend: proxy.name, steps, decision: 'none 503', backend, server: null, candidates: [] }
  }
  const be = route.backend
  const candidates = be.servers.filter(s => s.usable).map(s => s.name)
  txn.backend = be.name
  let server: string | null = null
  if (HASH_OR_STATELESS.has(route.proxy.balance?.algorithm ?? 'roundrobin')) {
    server = (be.lb.pick(txn, null) as { name?: string } | null)?.name ?? null
    steps.push(`backend ${be.name} (balance ${be.algorithm}): ${server === null ? 'no usable server (503)' : `server ${server} would be picked now`}`)
  } else {
    steps.push(`backend ${be.name} (balance ${be.algorithm}): the next pick is among ${candidates.length === 0 ? 'no usable server (503)' : candidates.join(', ')}`)
  }
  return { frontend: proxy.name, steps, decision: 'backend', backend: be.name, server, candidates }
}

/** The value an ACL's fetch (with its converters) reads from the request. */
function sampleOf (criterion: string, env: CompileEnv, txn: ReturnType<typeof txnFromParts>): string {
  try {
    const parsed = parseExpr(criterion)
    const kw = ACL_KEYWORDS.get(parsed.fetch.name)
    const row = fetchRow(kw?.fetch ?? parsed.fetch.name, env)
    if (row === undefined) return '<unknown fetch>'
    const expr = compileChain(row, parsed.fetch, parsed.convs, env, kw !== undefined)
    if (expr.each !== null) {
      const values: string[] = []
      expr.each(txn, null, (v) => { values.push(quote(v)); return false })
      return `${criterion} = [${values.join(', ')}]`
    }
    return `${criterion} = ${quote(expr.one(txn, null))}`
  } catch {
    return criterion
  }
}

/** `explain` as text (the CLI tool and the socket command). */
export function renderExplanation (e: Explanation): string {
  return e.steps.join('\n') + '\n'
}
