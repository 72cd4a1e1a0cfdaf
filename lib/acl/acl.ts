// One ACL expression: `<criterion> [flags] [--] [patterns...]` (configuration.txt §7.1; HAProxy
// parse_acl_expr), as written after `acl <name>` or between `{ }` in a condition. The criterion
// is an ACL keyword (`path_beg`: a fetch with its match method) or any sample expression, whose
// output type picks the default match method. Compiled into one predicate over the request.

import { configFilePath } from '../config/default-path.js'
import type { CompileEnv } from './env.js'
import { compileChain, parseExpr } from './expr.js'
import { ACL_KEYWORDS, DEFAULT_MATCH, fetchRow } from './fetches.js'
import { KNOWN_METHODS, MATCHERS, matchRow, methodMatcher, type Matcher, type MatchRow } from './matchers.js'
import { originalMethod } from './original.js'
import { ExprError, type Side } from './sample.js'
import { indexKind, liveMatcher, type PatternRef } from './pattern-refs.js'
import type { HttpResponseView, HttpTxn } from './txn.js'

export type Predicate = (txn: HttpTxn, res: HttpResponseView | null) => boolean

export interface AclTerm {
  test: Predicate
  /** The message its fetch reads when it cannot be used on both sides. */
  needs: Side | null
  /** Its fetch reads the stream's backend. */
  backend: boolean
  /** Its fetch as written, for messages. */
  keyword: string
  /** Set when the expression has no pattern and so never matches (HAProxy warns). */
  neverMatches: boolean
}

const NEVER: Predicate = () => false

/** `http_auth_group(list) G1 G2`: the authenticated user is in one of the groups. */
function groupMatcher (groups: readonly string[], env: CompileEnv, list: string): Matcher {
  const ul = env.userlist(list)!
  return { find: (v) => groups.findIndex((g) => ul.inGroup(String(v), g)) }
}

export function compileAcl (words: readonly string[], env: CompileEnv): AclTerm {
  if (words.length === 0 || words[0] === '') throw new ExprError("missing fetch method in ACL expression ''")
  const text = words[0]
  const parsed = parseExpr(text)
  const kw = ACL_KEYWORDS.get(parsed.fetch.name)
  const row = fetchRow(kw?.fetch ?? parsed.fetch.name, env)
  if (row === undefined) throw new ExprError(`unknown fetch method '${parsed.fetch.name}' in ACL expression '${text}'`)
  const expr = compileChain(row, parsed.fetch, parsed.convs, env, kw !== undefined)

  // Flags (§7.1.1). HAProxy reads a -f file as soon as it meets it, so -m must come first.
  // -n (no DNS resolution) changes nothing here: patterns are never resolved.
  let icase = false
  let method: string | null = null
  let mapKeys = false
  const patterns: string[] = []
  let i = 1
  const files: string[] = []
  while (i < words.length && words[i].startsWith('-')) {
    const flag = words[i]
    if (flag === '--') { i++; break }
    if (flag === '-i') icase = true
    else if (flag === '-M') mapKeys = true
    else if (flag === '-u') i++
    else if (flag === '-f') files.push(words[++i] ?? '')
    else if (flag === '-m') {
      if (files.length > 0) throw new ExprError("'-m' must only be specified before patterns and files in parsing ACL expression")
      method = words[++i] ?? ''
      if (matchRow(method) === undefined) throw new ExprError(`unknown matching method '${method}' when parsing ACL expression`)
    } else if (flag !== '-n') {
      throw new ExprError(`'${flag}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'`)
    }
    i++
  }
  const at = env.location?.()
  const refs = files.map(f => {
    const source = configFilePath(env.config, at, f)
    return mapKeys ? env.files.mapRef(f, source) : env.files.patternRef(f, source)
  })
  for (const r of refs) {
    r.users.push(`acl at file '${at?.file ?? ''}' line ${at?.line ?? 0}`)
    patterns.push(...r.keys())
  }
  const inline = words.slice(i)
  patterns.push(...inline)

  const matchName = method ?? (parsed.convs.length === 0 && kw !== undefined ? kw.match : DEFAULT_MATCH[expr.type])
  if (matchName === null) {
    throw new ExprError(`matching method must be specified first (using '-m') when using a sample fetch of this type ('${parsed.fetch.name}')`)
  }
  let matcher: Matcher
  let noPatterns = false
  if (matchName === 'group') {
    matcher = groupMatcher(patterns, env, String(parsed.fetch.args?.[0]?.text ?? ''))
  } else {
    const m = MATCHERS.get(matchName)!
    noPatterns = m.noPatterns === true
    // patterns from files may change at run time (`add acl`): the matcher follows them
    matcher = refs.length > 0 && !noPatterns
      ? liveMatcher(refs, inline, (r) => r.keys(), (p) => m.build(p, icase))
      : m.build(patterns, icase)
    if (!noPatterns) for (const r of refs) addAclProbe(r, matchName, icase, m)
  }
  const { needs, backend } = expr
  const keyword = parsed.fetch.name
  if (!noPatterns && patterns.length === 0 && refs.length === 0) return { test: NEVER, needs, backend, keyword, neverMatches: words.length === 1 }

  const { one, each } = expr
  if (matchName === 'meth') {
    // The `method` fetch unconverted: HAProxy matches the method it parsed, and a request it
    // parsed as an unknown method stays one after `set-method` (observed on 2.6.12).
    const match = methodMatcher(patterns, icase)
    return {
      test: (t) => {
        const parsed = originalMethod(t)
        return KNOWN_METHODS.has(parsed) ? match(parsed, false) !== -1 : match(t.method, true) !== -1
      },
      needs,
      backend,
      keyword,
      neverMatches: false
    }
  }
  if (noPatterns && matchName === 'found') {
    return { test: each !== null ? (t, r) => each(t, r, () => true) : (t, r) => one(t, r) !== null, needs, backend, keyword, neverMatches: false }
  }
  const test: Predicate = each !== null
    ? (t, r) => each(t, r, (v) => matcher.find(v) !== -1)
    : (t, r) => {
        const v = one(t, r)
        return v !== null && matcher.find(v) !== -1
      }
  return { test, needs, backend, keyword, neverMatches: false }
}

/**
 * `get acl <file> <value>`: how an ACL reading the file (one line per match method and case,
 * as HAProxy's pattern expressions) matches the value against the file's current patterns.
 */
function addAclProbe (ref: PatternRef, match: string, icase: boolean, row: MatchRow): void {
  const id = `${match}${icase ? '-i' : ''}`
  if (ref.probes.has(id)) return
  const idx = indexKind(match)
  let seen = -1
  let keys: string[] = []
  let matcher: Matcher | null = null
  ref.probes.set(id, (sample) => {
    if (matcher === null || seen !== ref.keysVersion) {
      keys = ref.keys()
      matcher = row.build(keys, icase)
      seen = ref.keysVersion
    }
    const i = matcher.find(sample)
    return `type=${match}, case=${icase ? 'insensitive' : 'sensitive'}, ` + (i < 0 ? 'match=no' : `match=yes, idx=${idx}, pattern="${keys[i]!}"`)
  })
}
