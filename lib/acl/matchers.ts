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

/**
 * A character trie; `idx` is the pattern ending at this node (-1 if none). Children are kept in
 * two parallel arrays scanned linearly while few (faster than a hash for the usual fan-out of
 * a few characters), and in a Map once there are more than TRIE_SCAN of them.
 */
interface TrieNode {
  chars: number[]
  nodes: TrieNode[]
  map: Map<number, TrieNode> | null
  idx: number
}

const TRIE_SCAN = 16

const trieNode = (): TrieNode => ({ chars: [], nodes: [], map: null, idx: -1 })

function trieChild (node: TrieNode, c: number): TrieNode | undefined {
  if (node.map !== null) return node.map.get(c)
  const chars = node.chars
  for (let j = 0; j < chars.length; j++) if (chars[j] === c) return node.nodes[j]
  return undefined
}

function trieInsert (root: TrieNode, s: string, idx: number, reverse: boolean): void {
  let node = root
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(reverse ? s.length - 1 - i : i)
    let child = trieChild(node, c)
    if (child === undefined) {
      child = trieNode()
      node.chars.push(c)
      node.nodes.push(child)
      if (node.map !== null) node.map.set(c, child)
      else if (node.chars.length > TRIE_SCAN) node.map = new Map(node.chars.map((ch, j) => [ch, node.nodes[j]]))
    }
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
  const root = trieNode()
  patterns.forEach((p, i) => trieInsert(root, icase ? lowerAscii(p) : p, i, false))
  const walk = (s: string): number => {
    let node: TrieNode | undefined = root
    let found = root.idx
    for (let i = 0; i < s.length; i++) {
      node = trieChild(node, s.charCodeAt(i))
      if (node === undefined) break
      if (node.idx !== -1) found = node.idx
    }
    return found
  }
  return icase ? { find: (v) => walk(lowerAscii(toStr(v))) } : { find: (v) => walk(toStr(v)) }
}

/** `end`: a trie of reversed patterns; among all suffixes that match, the first line wins. */
function buildEnd (patterns: readonly string[], icase: boolean): Matcher {
  const root = trieNode()
  patterns.forEach((p, i) => trieInsert(root, icase ? lowerAscii(p) : p, i, true))
  const walk = (s: string): number => {
    let node: TrieNode | undefined = root
    let found = root.idx
    for (let i = s.length - 1; i >= 0; i--) {
      node = trieChild(node, s.charCodeAt(i))
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

/** Scratch space of the `dir` / `dom` lookup (token bounds, prefix hashes): no allocation per call. */
let tokStart = new Int32Array(64)
let tokEnd = new Int32Array(64)
let prefixHash = new Int32Array(65)

/** Polynomial string hash (mod 2^32) so that any span's hash comes from two prefix hashes. */
const HASH_BASE = 0x01000193

function hashOf (s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, HASH_BASE) + s.charCodeAt(i)) | 0
  return h
}

/**
 * `dir` and `dom` (HAProxy match_word): the pattern, stripped of delimiters at both ends, must
 * appear in the sample bounded by delimiters or the string ends. Patterns are indexed by hash;
 * a lookup cuts the sample at every delimiter and probes, from each token, the spans of as many
 * tokens as the patterns have (and of a length some pattern has), hashing spans from prefix
 * hashes (no substring is built) and keeping the first line among those that match. The cost
 * follows the sample, not the number of patterns.
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
    const seen = new Set<string>()
    const byHash = new Map<number, Array<{ key: string, idx: number }>>()
    const lengths = new Set<number>()
    const tokenCounts = new Set<number>()
    let longest = 0
    patterns.forEach((p, idx) => {
      const key = strip(icase ? lowerAscii(p) : p)
      if (key === '' || seen.has(key)) return
      seen.add(key)
      const h = hashOf(key)
      const list = byHash.get(h)
      if (list === undefined) byHash.set(h, [{ key, idx }])
      else list.push({ key, idx })
      lengths.add(key.length)
      longest = Math.max(longest, key.length)
      let n = 1
      for (let j = 0; j < key.length; j++) if (isDelim(key.charCodeAt(j))) n++
      tokenCounts.add(n)
    })
    const counts = [...tokenCounts].sort((a, b) => a - b)
    const pow = new Int32Array(longest + 1)
    pow[0] = 1
    for (let k = 1; k <= longest; k++) pow[k] = Math.imul(pow[k - 1], HASH_BASE)
    const find = (s: string): number => {
      const n = s.length
      if (n + 1 > prefixHash.length) {
        tokStart = new Int32Array(n + 1)
        tokEnd = new Int32Array(n + 1)
        prefixHash = new Int32Array(n + 1)
      }
      let tokens = 0
      let from = 0
      let h = 0
      for (let i = 0; i <= n; i++) {
        prefixHash[i] = h
        if (i === n) break
        const c = s.charCodeAt(i)
        h = (Math.imul(h, HASH_BASE) + c) | 0
        if (isDelim(c)) {
          tokStart[tokens] = from
          tokEnd[tokens++] = i
          from = i + 1
        }
      }
      prefixHash[n] = h
      tokStart[tokens] = from
      tokEnd[tokens++] = n
      let best = -1
      for (let t = 0; t < tokens; t++) {
        const a = tokStart[t]
        if (tokEnd[t] === a) continue
        for (let c = 0; c < counts.length; c++) {
          const last = t + counts[c] - 1
          if (last >= tokens) break
          const b = tokEnd[last]
          const len = b - a
          if (b === tokStart[last] || !lengths.has(len)) continue
          const list = byHash.get((prefixHash[b] - Math.imul(prefixHash[a], pow[len])) | 0)
          if (list === undefined) continue
          for (const e of list) {
            if (e.key.length === len && s.startsWith(e.key, a) && (best === -1 || e.idx < best)) best = e.idx
          }
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
