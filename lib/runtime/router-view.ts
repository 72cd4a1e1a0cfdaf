// The paths an embedding app's router may act on for one raw request path.
//
// HAProxy's rules read the path as received; Fastify's router (find-my-way) matches a decoded one:
// `/%61dmin` passes `deny if { path_beg /admin }` and then reaches the app's `/admin` route. When
// the gateway is about to hand a request to the app, and the raw path could read differently to
// the router, the frontend's rules are run again on each reading listed here; a request that a
// reading would have denied, redirected or sent to a backend is refused as ambiguous (README,
// "One view of the path").
//
// Two readings cover what reaches a route:
// - the router's own: cut at `#` (and at `;` with `useSemicolonDelimiter`), percent-decoded once,
//   duplicate and trailing slashes and case folded as the app's router options say;
// - a canonical one, for what an app, a param route or a static file server may do after the
//   router: decoded until nothing changes (double encoding), cut at NUL, `;params` removed from
//   every segment, `//` merged, `.` and `..` segments resolved.

export interface RouterPathOptions {
  caseSensitive: boolean
  ignoreTrailingSlash: boolean
  ignoreDuplicateSlashes: boolean
  useSemicolonDelimiter: boolean
}

/** The app's router options as Fastify 5 exposes them (routerOptions, or the older top-level ones). */
export function routerPathOptions (initialConfig: object): RouterPathOptions {
  const cfg = initialConfig as Record<string, unknown> & { routerOptions?: Record<string, unknown> }
  const pick = (name: string): unknown => cfg.routerOptions?.[name] ?? Object.getOwnPropertyDescriptor(cfg, name)?.value
  return {
    caseSensitive: pick('caseSensitive') !== false,
    ignoreTrailingSlash: pick('ignoreTrailingSlash') === true,
    ignoreDuplicateSlashes: pick('ignoreDuplicateSlashes') === true,
    useSemicolonDelimiter: pick('useSemicolonDelimiter') === true
  }
}

const PERCENT = 0x25
const SLASH = 0x2f
const DOT = 0x2e
const SEMICOLON = 0x3b
const HASH = 0x23

/**
 * Can this raw path read differently to a router? A scan of the characters that change a
 * reading; false for the ordinary path, which then costs nothing more.
 */
export function isAmbiguousPath (path: string, opts: RouterPathOptions): boolean {
  let prev = 0
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c === PERCENT || c === SEMICOLON || c === HASH) return true
    if (c === SLASH && prev === SLASH) return true
    if (c === DOT && prev === SLASH) return true
    if (!opts.caseSensitive && c >= 0x41 && c <= 0x5a) return true
    prev = c
  }
  return opts.ignoreTrailingSlash && path.length > 1 && prev === SLASH
}

/** The readings of `path` that differ from it (none when every reading equals the raw path). */
export function routerViews (path: string, opts: RouterPathOptions): string[] {
  const views: string[] = []
  for (const view of [routerReading(path, opts), canonicalReading(path, opts)]) {
    if (view !== path && !views.includes(view)) views.push(view)
  }
  return views
}

function routerReading (path: string, opts: RouterPathOptions): string {
  let p = cutAt(path, '#')
  if (opts.useSemicolonDelimiter) p = cutAt(p, ';')
  p = decodeOnce(p)
  if (opts.ignoreDuplicateSlashes) p = p.replace(/\/{2,}/g, '/')
  return fold(p, opts)
}

/** Decoding stops after this many rounds; a path still changing then is read as its last round. */
const MAX_DECODE_ROUNDS = 8

function canonicalReading (path: string, opts: RouterPathOptions): string {
  let p = cutAt(path, '#')
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const next = decodeOnce(p)
    if (next === p) break
    p = next
  }
  p = cutAt(cutAt(p, '\0'), '#')
  const segments: string[] = []
  for (const raw of p.split('/')) {
    const segment = cutAt(raw, ';')
    if (segment === '.') continue
    if (segment === '..') { segments.pop(); continue }
    if (segment === '' && segments.length > 0) continue
    segments.push(segment)
  }
  const merged = segments.join('/')
  return fold(merged.startsWith('/') || merged === '' ? merged || '/' : '/' + merged, opts)
}

function fold (p: string, opts: RouterPathOptions): string {
  if (opts.ignoreTrailingSlash && p.length > 1 && p.charCodeAt(p.length - 1) === SLASH) p = p.slice(0, -1)
  return opts.caseSensitive ? p : p.toLowerCase()
}

function cutAt (s: string, ch: string): string {
  const i = s.indexOf(ch)
  return i < 0 ? s : s.slice(0, i)
}

const HEX = /%([0-9a-fA-F]{2})/g

/** One round of percent-decoding, byte by byte (an invalid UTF-8 sequence stays as its bytes' code points). */
function decodeOnce (s: string): string {
  if (!s.includes('%')) return s
  try {
    return decodeURIComponent(s.replace(/%(?![0-9a-fA-F]{2})/g, '%25'))
  } catch {
    return s.replace(HEX, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  }
}
