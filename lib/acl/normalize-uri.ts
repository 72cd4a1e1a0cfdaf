// `http-request normalize-uri <normalizer> [full|strict]` (configuration.txt §4.2): one rewrite
// of the request's path and query per rule. What each normalizer does was observed on HAProxy
// 2.6.12 (test/acl/normalize-uri.test.ts runs the same cases through it):
// - the path normalizers leave a path that does not start with '/' alone (`OPTIONS *`, an
//   absolute-form URI without a path), and never touch the query;
// - '#' is an ordinary character of the path or query for every normalizer but the fragment ones;
// - a `..` or `.` segment at the end leaves the path ending with '/' (`/a/b/..` → `/a/`,
//   `/..` → `/../`).

import type { HttpTxn } from './txn.js'

/** What a normalizer did: rewrote (or left) the URI, or found an invalid `%` sequence in strict mode. */
export type Normalized = 'ok' | 'invalid'
export type Normalizer = (txn: HttpTxn) => Normalized

/** The option word each normalizer takes, if any. */
export const NORMALIZERS: ReadonlyMap<string, string | null> = new Map([
  ['fragment-encode', null],
  ['fragment-strip', null],
  ['path-merge-slashes', null],
  ['path-strip-dot', null],
  ['path-strip-dotdot', 'full'],
  ['percent-decode-unreserved', 'strict'],
  ['percent-to-uppercase', 'strict'],
  ['query-sort-by-name', null]
])

const onPath = (rewrite: (path: string) => string): Normalizer => (t) => {
  if (t.path.charCodeAt(0) === 47 /* / */) t.path = rewrite(t.path)
  return 'ok'
}

/** Segments after the leading '/'. */
const segments = (path: string): string[] => path.slice(1).split('/')

function stripDot (path: string): string {
  const out: string[] = []
  let endsWithDot = false
  for (const s of segments(path)) {
    endsWithDot = s === '.'
    if (!endsWithDot) out.push(s)
  }
  if (endsWithDot) out.push('')
  return '/' + out.join('/')
}

function stripDotdot (path: string, full: boolean): string {
  const out: string[] = []
  let endsWithDotdot = false
  for (const s of segments(path)) {
    endsWithDotdot = s === '..'
    if (!endsWithDotdot) out.push(s)
    else if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
    else if (!full) out.push('..')
  }
  if (endsWithDotdot) out.push('')
  return '/' + out.join('/')
}

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102)

/** ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3). */
const isUnreserved = (c: number): boolean =>
  (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122) || c === 45 || c === 46 || c === 95 || c === 126

/**
 * Rewrites every valid `%XX` of `s` with `valid`; an invalid one (`%` not followed by two hex
 * digits) is kept as it is and the scan goes on after the `%`, or makes the whole thing invalid.
 */
function percentSequences (s: string, strict: boolean, valid: (hex: string) => string): string | null {
  let i = s.indexOf('%')
  if (i < 0) return s
  let out = s.slice(0, i)
  while (i < s.length) {
    const c = s.charCodeAt(i)
    if (c !== 37 /* % */) { out += s[i]; i++; continue }
    if (isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      out += valid(s.slice(i + 1, i + 3))
      i += 3
    } else if (strict) return null
    else { out += '%'; i++ }
  }
  return out
}

function onPathAndQuery (strict: boolean, valid: (hex: string) => string): Normalizer {
  return (t) => {
    const path = percentSequences(t.path, strict, valid)
    const query = t.query === null ? null : percentSequences(t.query, strict, valid)
    if (path === null || query === null && t.query !== null) return 'invalid'
    t.path = path
    t.query = query
    return 'ok'
  }
}

const decodeUnreserved = (hex: string): string => {
  const c = parseInt(hex, 16)
  return isUnreserved(c) ? String.fromCharCode(c) : '%' + hex
}

/** Parameter name: up to the first '='. Shorter names first when one is a prefix of the other; stable. */
const nameOf = (param: string): string => {
  const eq = param.indexOf('=')
  return eq < 0 ? param : param.slice(0, eq)
}

function sortQuery (t: HttpTxn): Normalized {
  if (t.query === null || t.query === '') return 'ok'
  const params = t.query.split('&')
  // a trailing '&' ends the list rather than adding an empty parameter
  if (params[params.length - 1] === '') params.pop()
  const named = params.map((p) => [nameOf(p), p] as const)
  named.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
  t.query = named.map((n) => n[1]).join('&')
  return 'ok'
}

/** `#` starts the fragment wherever it is: in the path, or in the query. */
function stripFragment (t: HttpTxn): Normalized {
  const hash = t.path.charCodeAt(0) === 47 ? t.path.indexOf('#') : -1
  if (hash >= 0) {
    t.path = t.path.slice(0, hash)
    t.query = null
  } else if (t.query !== null) {
    const qh = t.query.indexOf('#')
    if (qh >= 0) t.query = t.query.slice(0, qh)
  }
  return 'ok'
}

function encodeFragment (t: HttpTxn): Normalized {
  t.path = t.path.replaceAll('#', '%23')
  if (t.query !== null) t.query = t.query.replaceAll('#', '%23')
  return 'ok'
}

/** The normalizer named `name`, with its option word given or not. */
export function normalizer (name: string, option: boolean): Normalizer {
  switch (name) {
    case 'fragment-encode': return encodeFragment
    case 'fragment-strip': return stripFragment
    case 'path-merge-slashes': return onPath((p) => p.replace(/\/{2,}/g, '/'))
    case 'path-strip-dot': return onPath(stripDot)
    case 'path-strip-dotdot': return onPath((p) => stripDotdot(p, option))
    case 'percent-decode-unreserved': return onPathAndQuery(option, decodeUnreserved)
    case 'percent-to-uppercase': return onPathAndQuery(option, (hex) => '%' + hex.toUpperCase())
    case 'query-sort-by-name': return sortQuery
  }
  throw new Error(`unknown normalizer '${name}'`)
}
