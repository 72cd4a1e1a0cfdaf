// Conditions after `if` / `unless` (configuration.txt §7.2; HAProxy build_acl_cond): terms
// are ANDed, `or` / `||` start a new OR-ed group, `!` negates the next term (as many as
// written), `{ ... }` is an anonymous ACL. Names resolve to the ACLs of the proxy declared
// before the condition (all their lines, OR-ed), then to the predefined ACLs (§7.4).

import type { Condition } from '../config/model.js'
import { compileAcl, type AclTerm, type Predicate } from './acl.js'
import type { CompileEnv } from './env.js'
import { ExprError } from './sample.js'

/** §7.4 "Pre-defined ACLs", as HAProxy 2.6 declares them (src/acl.c default_acl_list). */
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

/** Finds a named ACL visible from the condition being compiled. */
export type AclLookup = (name: string) => AclTerm | undefined

export interface CompiledCondition {
  test: Predicate
  res: boolean
}

export const ALWAYS: CompiledCondition = { test: () => true, res: false }

export function compileCondition (cond: Condition, lookup: AclLookup, env: CompileEnv): CompiledCondition {
  const words = cond.words
  const groups: Array<Array<{ term: AclTerm, neg: boolean }>> = []
  let cur: Array<{ term: AclTerm, neg: boolean }> | null = null
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
    let term: AclTerm | undefined
    if (word === '{') {
      const close = words.indexOf('}', i + 1)
      if (close === -1) throw new ExprError("missing closing '}' in condition")
      term = compileAcl(words.slice(i + 1, close), env)
      i = close
    } else {
      term = lookup(word)
      if (term === undefined) {
        const pre = PREDEFINED.get(word)
        if (pre === undefined) throw new ExprError(`no such ACL : '${word}'`)
        term = compileAcl(pre, env)
      }
    }
    if (cur === null) groups.push(cur = [])
    cur.push({ term, neg })
    neg = false
  }
  const res = groups.some((g) => g.some((t) => t.term.res))
  const ands: Predicate[] = groups.map((g) => {
    const tests = g.map(({ term, neg }): Predicate => neg ? (t, r) => !term.test(t, r) : term.test)
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
    return { test: (t, r) => !inner(t, r), res }
  }
  return { test: any, res }
}
