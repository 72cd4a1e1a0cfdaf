// Conditions after `if` / `unless` (configuration.txt §7.2; HAProxy build_acl_cond): terms
// are ANDed, `or` / `||` start a new OR-ed group, `!` negates the next term (as many as
// written), `{ ... }` is an anonymous ACL. Names resolve to the ACLs of the proxy declared
// before the condition (all their lines, OR-ed), then to the predefined ACLs (§7.4).

import type { Condition } from '../config/model.js'
import { compileAcl, type AclTerm, type Predicate } from './acl.js'
import type { CompileEnv } from './env.js'
import { missing } from './expr.js'
import { ExprError, type Side } from './sample.js'

/** §7.4 "Pre-defined ACLs", as HAProxy 2.6 declares them. */
const PREDEFINED: ReadonlyMap<string, readonly string[]> = new Map<string, string[]>([
  ['TRUE', ['always_true']],
  ['FALSE', ['always_false']],
  ['HTTP', ['req.proto_http']],
  ['HTTP_1.0', ['req.ver', '1.0']],
  ['HTTP_1.1', ['req.ver', '1.1']],
  ['HTTP_2.0', ['req.ver', '2.0']],
  ['HTTP_3.0', ['req.ver', '3.0']],
  ['HTTP_CONTENT', ['req.hdr_val(content-length)', 'gt', '0']],
  ['HTTP_URL_ABS', ['url_reg', '^[^/:]*://']],
  ['HTTP_URL_SLASH', ['url_beg', '/']],
  ['HTTP_URL_STAR', ['url', '*']],
  ['LOCALHOST', ['src', '127.0.0.1/8', '::1']],
  ['METH_CONNECT', ['method', 'CONNECT']],
  ['METH_DELETE', ['method', 'DELETE']],
  ['METH_GET', ['method', 'GET', 'HEAD']],
  ['METH_HEAD', ['method', 'HEAD']],
  ['METH_OPTIONS', ['method', 'OPTIONS']],
  ['METH_POST', ['method', 'POST']],
  ['METH_PUT', ['method', 'PUT']],
  ['METH_TRACE', ['method', 'TRACE']],
  ['RDP_COOKIE', ['req.rdp_cookie_cnt', 'gt', '0']],
  ['REQ_CONTENT', ['req.len', 'gt', '0']],
  ['WAIT_END', ['wait_end']]
])

/** Finds the lines of a named ACL visible from the condition being compiled. */
export type AclLookup = (name: string) => readonly AclTerm[] | undefined

/** Where the condition is evaluated: the side it may read and HAProxy's name for the place. */
export interface CondContext {
  side: Side
  /** e.g. "frontend http-request header rule", for messages. */
  place: string
}

const NEVER: Predicate = () => false

/**
 * One term of a condition: the OR of an ACL's lines usable on this side. Lines reading the
 * other side never match; HAProxy warns when nothing usable is left.
 */
function usable (lines: readonly AclTerm[], name: string | null, ctx: CondContext, env: CompileEnv): Predicate {
  const ok = lines.filter((l) => missing(l, ctx.side, env.proxy) === null)
  if (ok.length === 0) {
    env.warn(name === null
      ? `anonymous acl will never match because it uses keyword '${lines[0].keyword}' which is incompatible with '${ctx.place}'`
      : `acl '${name}' will never match because it only involves keywords that are incompatible with '${ctx.place}'`)
    return NEVER
  }
  if (ok.length < lines.length && name !== null) {
    const bad = lines.find((l) => missing(l, ctx.side, env.proxy) !== null)!
    env.warn(`acl '${name}' involves keywords '${bad.keyword}' which is incompatible with '${ctx.place}'`)
  }
  if (ok.length === 1) return ok[0].test
  return (t, r) => {
    for (let i = 0; i < ok.length; i++) if (ok[i].test(t, r)) return true
    return false
  }
}

export function compileCondition (cond: Condition, lookup: AclLookup, env: CompileEnv, ctx: CondContext): Predicate {
  const words = cond.words
  const groups: Array<Array<{ term: Predicate, neg: boolean }>> = []
  let cur: Array<{ term: Predicate, neg: boolean }> | null = null
  let neg = false
  for (let i = 0; i < words.length; i++) {
    let word = words[i]
    while (word.startsWith('!')) {
      neg = !neg
      word = word.slice(1)
    }
    if (word === '') continue
    if (word.toLowerCase() === 'or' || word === '||') {
      cur = null
      neg = false
      continue
    }
    let term: Predicate
    if (word === '{') {
      const close = words.indexOf('}', i + 1)
      if (close === -1) throw new ExprError("missing closing '}' in condition")
      term = usable([compileAcl(words.slice(i + 1, close), env)], null, ctx, env)
      i = close
    } else {
      const lines = lookup(word)
      if (lines !== undefined) term = usable(lines, word, ctx, env)
      else {
        const pre = PREDEFINED.get(word)
        if (pre === undefined) throw new ExprError(`no such ACL : '${word}'`)
        term = usable([compileAcl(pre, env)], word, ctx, env)
      }
    }
    if (cur === null) groups.push(cur = [])
    cur.push({ term, neg })
    neg = false
  }
  const ands: Predicate[] = groups.map((g) => {
    const tests = g.map(({ term, neg }): Predicate => neg ? (t, r) => !term(t, r) : term)
    if (tests.length === 1) return tests[0]
    return (t, r) => {
      for (let i = 0; i < tests.length; i++) if (!tests[i](t, r)) return false
      return true
    }
  })
  let any: Predicate
  if (ands.length === 0) any = () => false
  else if (ands.length === 1) any = ands[0]
  else any = (t, r) => {
    for (let i = 0; i < ands.length; i++) if (ands[i](t, r)) return true
    return false
  }
  if (cond.polarity === 'unless') {
    const inner = any
    return (t, r) => !inner(t, r)
  }
  return any
}
