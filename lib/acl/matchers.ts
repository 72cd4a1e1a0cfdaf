// Match methods (configuration.txt §7.1.3 "Matching methods"; HAProxy src/pattern.c): each
// row parses its patterns once, indexes them, and answers "which pattern matches this sample".
// The index returned is the pattern HAProxy would pick, which matters for maps:
//   str → exact key (first line among duplicates); beg → longest prefix (HAProxy's prefix tree);
//   ip → most specific network; sub, dir, dom, end, reg, int, len → first line in file order.
// Large sets cost about what small ones do for str, beg, end, dir, dom and ip (hash maps and
// tries); sub and reg scan their lists, as HAProxy does.

import { NetIndex, parseAddr, parseNet } from './ip.js'
import { ExprError, lowerAscii, toBool, toInt, toStr, type Sample } from './sample.js'

export interface Matcher {
  /** Index of the matching pattern, or -1. */
  find (v: Sample): number
}

export interface MatchRow {
  name: string
  /** Patterns are ignored (`found`, `bool`). */
  noPatterns?: boolean
  /** Builds the indexed matcher; throws ExprError with HAProxy's message for a bad pattern. */
  build (patterns: readonly string[], icase: boolean): Matcher
}

const FOUND: Matcher = { find: () => 0 }
const BOOL: Matcher = { find: (v) => toBool(v) ? 0 : -1 }

/** A character trie; `idx` is the pattern ending at this node (-1 if none). */
interface TrieNode {
  next: Map<number, TrieNode> | null
  idx: number
}

function trieInsert (root: TrieNode, s: string, idx: number, reverse: boolean): void {
  let node = root
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(reverse ? s.length - 1 - i : i)
    if (node.next === null) node.next = new Map()
    let child = node.next.get(c)
    if (child === undefined) node.next.set(c, child = { next: null, idx: -1 })
    node = child
  }
  if (node.idx === -1) node.idx = idx
}

function stringMatcher (patterns: readonly string[], icase: boolean, test: (s: string, pats: readonly string[]) => number): Matcher {
  const pats = icase ? patterns.map((p) => lowerAscii(p)) : patterns
  return icase
    ? { find: (v) => test(lowerAscii(toStr(v)), pats) }
    : { find: (v) => test(toStr(v), pats) }
}

/** `str`: exact match through a hash map. */
function buildStr (patterns: readonly string[], icase: boolean): Matcher {
  const keys = new Map<string, number>()
  patterns.forEach((p, i) => {
    const k = icase ? lowerAscii(p) : p
    if (!keys.has(k)) keys.set(k, i)
  })
  return icase
    ? { find: (v) => keys.get(lowerAscii(toStr(v))) ?? -1 }
    : { find: (v) => keys.get(toStr(v)) ?? -1 }
}

/** `beg`: the longest pattern that prefixes the sample, by walking a trie. */
function buildBeg (patterns: readonly string[], icase: boolean): Matcher {
  const root: TrieNode = { next: null, idx: -1 }
  patterns.forEach((p, i) => trieInsert(root, icase ? lowerAscii(p) : p, i, false))
  const walk = (s: string): number => {
    let node: TrieNode | undefined = root
    let found = root.idx
    for (let i = 0; i < s.length; i++) {
      if (node.next === null) break
      node = node.next.get(s.charCodeAt(i))
      if (node === undefined) break
      if (node.idx !== -1) found = node.idx
    }
    return found
  }
  return icase ? { find: (v) => walk(lowerAscii(toStr(v))) } : { find: (v) => walk(toStr(v)) }
}

/** `end`: a trie of reversed patterns; among all suffixes that match, the first line wins. */
function buildEnd (patterns: readonly string[], icase: boolean): Matcher {
  const root: TrieNode = { next: null, idx: -1 }
  patterns.forEach((p, i) => trieInsert(root, icase ? lowerAscii(p) : p, i, true))
  const walk = (s: string): number => {
    let node: TrieNode | undefined = root
    let found = root.idx
    for (let i = s.length - 1; i >= 0; i--) {
      if (node.next === null) break
      node = node.next.get(s.charCodeAt(i))
      if (node === undefined) break
      if (node.idx !== -1 && (found === -1 || node.idx < found)) found = node.idx
    }
    return found
  }
  return icase ? { find: (v) => walk(lowerAscii(toStr(v))) } : { find: (v) => walk(toStr(v)) }
}

function buildSub (patterns: readonly string[], icase: boolean): Matcher {
  return stringMatcher(patterns, icase, (s, pats) => {
    for (let i = 0; i < pats.length; i++) if (s.includes(pats[i])) return i
    return -1
  })
}

/**
 * `dir` and `dom` (HAProxy match_word): the pattern, stripped of delimiters at both ends, must
 * appear in the sample bounded by delimiters or the string ends. Indexed by a hash of the
 * stripped patterns; a lookup probes each delimiter-bounded span of the sample no longer than
 * the longest pattern, and keeps the first line among those that match.
 */
function buildWord (delims: string): MatchRow['build'] {
  const table = new Uint8Array(256)
  for (const d of delims) table[d.charCodeAt(0)] = 1
  const isDelim = (c: number): boolean => c < 256 && table[c] === 1
  const strip = (p: string): string => {
    let a = 0
    let b = p.length
    while (a < b && isDelim(p.charCodeAt(a))) a++
    while (b > a && isDelim(p.charCodeAt(b - 1))) b--
    return p.slice(a, b)
  }
  return (patterns, icase) => {
    const keys = new Map<string, number>()
    const lengths = new Set<number>()
    let longest = 0
    patterns.forEach((p, i) => {
      const k = strip(icase ? lowerAscii(p) : p)
      if (k === '') return
      if (!keys.has(k)) keys.set(k, i)
      lengths.add(k.length)
      if (k.length > longest) longest = k.length
    })
    const find = (s: string): number => {
      let best = -1
      const n = s.length
      for (let a = 0; a < n; a++) {
        if (a > 0 && !isDelim(s.charCodeAt(a - 1))) continue
        if (isDelim(s.charCodeAt(a))) continue
        const limit = Math.min(n, a + longest)
        for (let b = a + 1; b <= limit; b++) {
          if (b < n && !isDelim(s.charCodeAt(b))) continue
          if (!lengths.has(b - a)) continue
          const i = keys.get(s.slice(a, b))
          if (i !== undefined && (best === -1 || i < best)) best = i
        }
      }
      return best
    }
    return icase ? { find: (v) => find(lowerAscii(toStr(v))) } : { find: (v) => find(toStr(v)) }
  }
}

/** PCRE's wording for the regex errors people make most, so `-c` reads like HAProxy. */
const REGEX_ERRORS: Array<[RegExp, string]> = [
  [/Unterminated group/, 'missing closing parenthesis'],
  [/Unmatched '\)'/, 'unmatched closing parenthesis'],
  [/Nothing to repeat/, 'quantifier does not follow a repeatable item'],
  [/Unterminated character class/, 'missing terminating ] for character class'],
  [/\\ at end of pattern/, '\\ at end of pattern']
]

/**
 * Builds a RegExp from a PCRE pattern as HAProxy writes them. A leading `(?i)` becomes the `i`
 * flag (JavaScript has no inline flags). Throws ExprError in HAProxy's words.
 */
export function compileRegex (source: string, icase: boolean, extraFlags = ''): RegExp {
  let src = source
  let flags = extraFlags
  if (src.startsWith('(?i)')) {
    src = src.slice(4)
    icase = true
  }
  if (icase && !flags.includes('i')) flags += 'i'
  try {
    return new RegExp(src, flags)
  } catch (err) {
    const text = (err as Error).message
    const known = REGEX_ERRORS.find(([re]) => re.test(text))
    const why = known !== undefined ? known[1] : text.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '').toLowerCase()
    throw new ExprError(`regex '${source}' is invalid (error=${why}, erroffset=${source.length})`)
  }
}

function buildReg (patterns: readonly string[], icase: boolean): Matcher {
  const res = patterns.map((p) => compileRegex(p, icase))
  return {
    find: (v) => {
      const s = toStr(v)
      for (let i = 0; i < res.length; i++) if (res[i].test(s)) return i
      return -1
    }
  }
}

/** Comparison operators that change how the following integer patterns read (§7.1.2). */
const INT_OPERATORS: Record<string, 'eq' | 'ge' | 'gt' | 'le' | 'lt'> = { eq: 'eq', ge: 'ge', gt: 'gt', le: 'le', lt: 'lt' }

interface IntRange { min: number, max: number }

const INT_TEXT = /^[-+]?\d+$/

/** Integer patterns: `N`, `N:M`, `N:`, `:M`, and operators `eq ge gt le lt` before values. */
export function parseIntPatterns (patterns: readonly string[]): IntRange[] {
  const out: IntRange[] = []
  let op: 'eq' | 'ge' | 'gt' | 'le' | 'lt' = 'eq'
  for (const p of patterns) {
    const o = INT_OPERATORS[p]
    if (o !== undefined) {
      op = o
      continue
    }
    const colon = p.indexOf(':')
    if (colon !== -1) {
      const a = p.slice(0, colon)
      const b = p.slice(colon + 1)
      if ((a !== '' && !INT_TEXT.test(a)) || (b !== '' && !INT_TEXT.test(b))) {
        throw new ExprError(`'${p}' is not a valid number range`)
      }
      out.push({ min: a === '' ? -Infinity : Number(a), max: b === '' ? Infinity : Number(b) })
      continue
    }
    if (!INT_TEXT.test(p)) throw new ExprError(`'${p}' is not a number`)
    const n = Number(p)
    out.push(op === 'eq'
      ? { min: n, max: n }
      : op === 'ge' ? { min: n, max: Infinity }
        : op === 'gt' ? { min: n + 1, max: Infinity }
          : op === 'le' ? { min: -Infinity, max: n } : { min: -Infinity, max: n - 1 })
  }
  return out
}

function rangeMatcher (ranges: IntRange[], value: (v: Sample) => number | null): Matcher {
  return {
    find: (v) => {
      const n = value(v)
      if (n === null) return -1
      for (let i = 0; i < ranges.length; i++) if (n >= ranges[i].min && n <= ranges[i].max) return i
      return -1
    }
  }
}

function buildIp (patterns: readonly string[]): Matcher {
  const index = new NetIndex()
  patterns.forEach((p, i) => {
    const net = parseNet(p)
    if (net === null) throw new ExprError(`'${p}' is not a valid IPv4 or IPv6 address`)
    index.add(net, i)
  })
  return {
    find: (v) => {
      const a = parseAddr(toStr(v))
      return a === null ? -1 : index.find(a)
    }
  }
}

/** Methods HAProxy knows by number; other method names compare as strings (src/http.c). */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'])

/**
 * `method` patterns (pat_match_meth): a known method matches only itself, case-sensitively
 * (`-i get` does not match GET); other names compare as strings, honouring -i.
 */
function buildMeth (patterns: readonly string[], icase: boolean): Matcher {
  return {
    find: (v) => {
      const m = toStr(v)
      const known = KNOWN_METHODS.has(m)
      for (let i = 0; i < patterns.length; i++) {
        const p = patterns[i]
        if (KNOWN_METHODS.has(p) || known) {
          if (p === m) return i
        } else if (icase ? lowerAscii(p) === lowerAscii(m) : p === m) return i
      }
      return -1
    }
  }
}

/** The rows, by `-m` name. `meth` is internal to the `method` ACL keyword. */
export const MATCHERS: ReadonlyMap<string, MatchRow> = new Map<string, MatchRow>(([
  { name: 'found', noPatterns: true, build: () => FOUND },
  { name: 'bool', noPatterns: true, build: () => BOOL },
  { name: 'int', build: (p) => rangeMatcher(parseIntPatterns(p), toInt) },
  { name: 'len', build: (p) => rangeMatcher(parseIntPatterns(p), (v) => toStr(v).length) },
  { name: 'ip', build: buildIp },
  { name: 'str', build: buildStr },
  { name: 'beg', build: buildBeg },
  { name: 'end', build: buildEnd },
  { name: 'sub', build: buildSub },
  { name: 'dir', build: buildWord('/?') },
  { name: 'dom', build: buildWord('/?.:') },
  { name: 'reg', build: buildReg },
  {
    // Patterns in hex, compared with the sample's bytes (node header strings are latin1).
    name: 'bin',
    build: (patterns) => buildStr(patterns.map((p) => {
      if (!/^([0-9a-fA-F]{2})*$/.test(p)) throw new ExprError(`'${p}' is not a valid hex string`)
      return Buffer.from(p, 'hex').toString('latin1')
    }), false)
  },
  { name: 'meth', build: buildMeth }
] satisfies MatchRow[]).map((row): [string, MatchRow] => [row.name, row]))

/** Names accepted after `-m` (HAProxy's pat_match_names). */
export function matchRow (name: string): MatchRow | undefined {
  return name === 'meth' ? undefined : MATCHERS.get(name)
}
