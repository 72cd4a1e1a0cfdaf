// Match methods (configuration.txt §7.1.3 "Matching methods"): each
// row parses its patterns once, indexes them, and answers "which pattern matches this sample".
// The index returned is the pattern HAProxy would pick, which matters for maps:
//   str → exact key (first line among duplicates); beg → longest prefix (HAProxy's prefix tree);
//   ip → most specific network; sub, dir, dom, end, reg, int, len → first line in file order.
// A few patterns are compared directly (the common one-pattern ACL); large sets cost about what
// small ones do for str, beg, end, dir, dom and ip (hash maps and tries); sub and reg scan their
// lists, as HAProxy does.

import { NetIndex, formatV4, parseAddr, parseNet } from './ip.js'
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

/**
 * Up to this many patterns, str / beg / end / dir / dom compare the sample with each pattern
 * directly: a `startsWith` or `===` costs less than hashing the sample or walking a trie, and
 * a frontend with a thousand one-pattern ACLs pays that cost a thousand times per request.
 */
const FEW = 4

/**
 * A character trie; `idx` is the pattern ending at this node (-1 if none). While building,
 * children live in a Map; `trieFreeze` then moves them to a dense array indexed by `code - lo`
 * when their codes span at most DENSE_SPAN (a lookup is one bounds check and one load whatever
 * the fan-out), and folds a chain of single children down to a leaf into `tail`: the rest of the
 * one pattern below, compared with one `startsWith` (`tailIdx` is that pattern). Big sets, whose
 * patterns mostly differ early and share nothing after, then cost about what small ones do
 * instead of a cache miss per character.
 */
interface TrieNode {
  idx: number
  lo: number
  dense: Array<TrieNode | null> | null
  map: Map<number, TrieNode> | null
  /** In sample order (for a reversed trie: the characters before the node's position); '' = none. */
  tail: string
  tailIdx: number
}

const DENSE_SPAN = 128

const trieNode = (): TrieNode => ({ idx: -1, lo: 0, dense: null, map: null, tail: '', tailIdx: -1 })

function trieChild (node: TrieNode, c: number): TrieNode | null {
  const dense = node.dense
  if (dense !== null) {
    const k = c - node.lo
    return k >= 0 && k < dense.length ? dense[k] : null
  }
  return node.map === null ? null : node.map.get(c) ?? null
}

function trieInsert (root: TrieNode, s: string, idx: number, reverse: boolean): void {
  let node = root
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(reverse ? s.length - 1 - i : i)
    let child = node.map?.get(c)
    if (child === undefined) (node.map ??= new Map()).set(c, child = trieNode())
    node = child
  }
  if (node.idx === -1) node.idx = idx
}

function trieFreeze (node: TrieNode, reverse: boolean): void {
  const map = node.map
  if (map === null) return
  if (map.size === 1) {
    // A chain of single children, with no pattern ending on the way, down to a leaf?
    let chars = ''
    let cur: TrieNode = node
    while (cur.map !== null && cur.map.size === 1 && (cur === node || cur.idx === -1)) {
      const [c, next] = cur.map.entries().next().value as [number, TrieNode]
      chars += String.fromCharCode(c)
      cur = next
    }
    if (cur.map === null) {
      node.tail = reverse ? [...chars].reverse().join('') : chars
      node.tailIdx = cur.idx
      node.map = null
      return
    }
  }
  let lo = Infinity
  let hi = -Infinity
  for (const [c, child] of map) {
    lo = Math.min(lo, c)
    hi = Math.max(hi, c)
    trieFreeze(child, reverse)
  }
  if (hi - lo < DENSE_SPAN) {
    const dense = new Array<TrieNode | null>(hi - lo + 1).fill(null)
    for (const [c, child] of map) dense[c - lo] = child
    node.lo = lo
    node.dense = dense
    node.map = null
  }
}

/** The trie of `patterns`, each numbered by its line; skipped: lines whose pattern is null. */
function buildTrie (patterns: ReadonlyArray<string | null>, reverse: boolean): TrieNode {
  const root = trieNode()
  patterns.forEach((p, i) => { if (p !== null) trieInsert(root, p, i, reverse) })
  trieFreeze(root, reverse)
  return root
}

/** Applies `-i` to the patterns once and to each sample. */
function folded (patterns: readonly string[], icase: boolean, build: (pats: readonly string[]) => (s: string) => number): Matcher {
  const find = build(icase ? patterns.map(lowerAscii) : patterns)
  return icase ? { find: (v) => find(lowerAscii(toStr(v))) } : { find: (v) => find(toStr(v)) }
}

/** `str`: exact match; a hash map beyond a few patterns. */
function buildStr (patterns: readonly string[], icase: boolean): Matcher {
  return folded(patterns, icase, (pats) => {
    if (pats.length === 1) {
      const only = pats[0]
      return (s) => s === only ? 0 : -1
    }
    if (pats.length <= FEW) return (s) => pats.indexOf(s)
    const keys = new Map<string, number>()
    pats.forEach((p, i) => { if (!keys.has(p)) keys.set(p, i) })
    return (s) => keys.get(s) ?? -1
  })
}

/** `beg`: the longest pattern that prefixes the sample (HAProxy's prefix tree). */
function buildBeg (patterns: readonly string[], icase: boolean): Matcher {
  return folded(patterns, icase, (pats) => {
    if (pats.length === 1) {
      const only = pats[0]
      return (s) => s.startsWith(only) ? 0 : -1
    }
    if (pats.length <= FEW) {
      // Longest first; the sort is stable, so the first line wins among equal patterns.
      const order = pats.map((p, i) => ({ p, i })).sort((a, b) => b.p.length - a.p.length)
      return (s) => {
        for (let k = 0; k < order.length; k++) if (s.startsWith(order[k].p)) return order[k].i
        return -1
      }
    }
    const root = buildTrie(pats, false)
    return (s) => {
      let node: TrieNode | null = root
      let found = -1
      for (let pos = 0; ; pos++) {
        if (node.idx !== -1) found = node.idx
        if (node.tail !== '') return s.startsWith(node.tail, pos) ? node.tailIdx : found
        if (pos === s.length) return found
        node = trieChild(node, s.charCodeAt(pos))
        if (node === null) return found
      }
    }
  })
}

/** `end`: among all patterns the sample ends with, the first line wins (a trie of reversed patterns). */
function buildEnd (patterns: readonly string[], icase: boolean): Matcher {
  return folded(patterns, icase, (pats) => {
    if (pats.length === 1) {
      const only = pats[0]
      return (s) => s.endsWith(only) ? 0 : -1
    }
    if (pats.length <= FEW) {
      return (s) => {
        for (let i = 0; i < pats.length; i++) if (s.endsWith(pats[i])) return i
        return -1
      }
    }
    const root = buildTrie(pats, true)
    const first = (a: number, b: number): number => a === -1 || (b !== -1 && b < a) ? b : a
    return (s) => {
      let node: TrieNode | null = root
      let found = -1
      for (let pos = s.length; ; pos--) {
        found = first(found, node.idx)
        const tail = node.tail
        if (tail !== '') return pos >= tail.length && s.startsWith(tail, pos - tail.length) ? first(found, node.tailIdx) : found
        if (pos === 0) return found
        node = trieChild(node, s.charCodeAt(pos - 1))
        if (node === null) return found
      }
    }
  })
}

function buildSub (patterns: readonly string[], icase: boolean): Matcher {
  return folded(patterns, icase, (pats) => (s) => {
    for (let i = 0; i < pats.length; i++) if (s.includes(pats[i])) return i
    return -1
  })
}

/**
 * `dir` and `dom` (HAProxy match_word): the pattern, stripped of delimiters at both ends, must
 * appear in the sample bounded by delimiters or the string ends; among the patterns that do,
 * the first line wins. A few patterns are searched for directly. More go into a trie walked
 * from every token start of the sample: a walk stops at the first character no pattern has
 * there, so the cost follows the sample (its tokens, and the pattern it matches), not the
 * number of patterns.
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
  /** Whether `key` occurs in `s` with a delimiter or a string end on both sides. */
  const bounded = (s: string, key: string): boolean => {
    const len = key.length
    for (let at = s.indexOf(key); at !== -1; at = s.indexOf(key, at + 1)) {
      if ((at === 0 || isDelim(s.charCodeAt(at - 1))) && (at + len === s.length || isDelim(s.charCodeAt(at + len)))) return true
    }
    return false
  }
  return (patterns, icase) => folded(patterns, icase, (pats) => {
    // Distinct non-empty keys in line order, each with the first line that gave it.
    const keys: string[] = []
    const lines: number[] = []
    const seen = new Set<string>()
    pats.forEach((p, idx) => {
      const key = strip(p)
      if (key === '' || seen.has(key)) return
      seen.add(key)
      keys.push(key)
      lines.push(idx)
    })
    if (keys.length <= FEW) {
      return (s) => {
        for (let k = 0; k < keys.length; k++) if (bounded(s, keys[k])) return lines[k]
        return -1
      }
    }
    const byLine: Array<string | null> = pats.map(() => null)
    keys.forEach((key, k) => { byLine[lines[k]] = key })
    const root = buildTrie(byLine, false)
    // Patterns never end with a delimiter, so one ending at `end` ends a token when the sample does.
    const ends = (s: string, end: number): boolean => end === s.length || isDelim(s.charCodeAt(end))
    return (s) => {
      const n = s.length
      let best = -1
      // From every token start: the sample's start and each position after a delimiter.
      for (let a = 0; a < n; a++) {
        let node: TrieNode | null = root
        for (let pos = a; ; pos++) {
          if (node.idx !== -1 && (best === -1 || node.idx < best) && ends(s, pos)) best = node.idx
          const tail = node.tail
          if (tail !== '') {
            if ((best === -1 || node.tailIdx < best) && s.startsWith(tail, pos) && ends(s, pos + tail.length)) best = node.tailIdx
            break
          }
          if (pos === n) break
          node = trieChild(node, s.charCodeAt(pos))
          if (node === null) break
        }
        while (a < n && !isDelim(s.charCodeAt(a))) a++
      }
      return best
    }
  })
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
function parseIntPatterns (patterns: readonly string[]): IntRange[] {
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
      // an integer is an IPv4 address in host order (HAProxy's int→ipv4 cast: 2130706433 is 127.0.0.1)
      const a = parseAddr(typeof v === 'number' ? formatV4(v) : toStr(v))
      return a === null ? -1 : index.find(a)
    }
  }
}

/** Methods HAProxy knows by number; other method names compare as strings (configuration.txt §7.3.6 `method`). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'])

/**
 * `method` patterns (pat_match_meth): a known method matches only a request HAProxy parsed as
 * that method, case-sensitively (`-i get` does not match GET); other names compare as strings,
 * honouring -i, with a request whose method HAProxy parsed as none of the known ones (`other`).
 */
export function methodMatcher (patterns: readonly string[], icase: boolean): (method: string, other: boolean) => number {
  const known = patterns.map((p) => KNOWN_METHODS.has(p))
  const folded = patterns.map((p) => icase ? lowerAscii(p) : p)
  return (m, other) => {
    const cmp = icase && other ? lowerAscii(m) : m
    for (let i = 0; i < patterns.length; i++) {
      if (known[i] ? !other && patterns[i] === m : other && folded[i] === cmp) return i
    }
    return -1
  }
}

function buildMeth (patterns: readonly string[], icase: boolean): Matcher {
  const match = methodMatcher(patterns, icase)
  return { find: (v) => { const m = toStr(v); return match(m, !KNOWN_METHODS.has(m)) } }
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
