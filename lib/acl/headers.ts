// Header values as HAProxy's fetches see them (configuration.txt §7.3.6 `req.hdr`, `req.fhdr`,
// `req.cook`). Node joins repeated header lines with ", " (cookies with "; "), so a "full line"
// is a node value and a "value" is one comma-separated element, split outside double quotes
// and trimmed of blanks, as HAProxy's http_find_header does.

import type { IncomingHttpHeaders } from 'node:http'

/** Calls `cb` for each comma-separated value of `line` (quotes respected); stops when it returns true. */
export function eachValue (line: string, cb: (v: string) => boolean): boolean {
  if (line.indexOf(',') === -1) return cb(line.trim())
  let start = 0
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i)
    if (c === 34) quoted = !quoted
    else if (c === 92 && quoted) i++
    else if (c === 44 && !quoted) {
      if (cb(line.slice(start, i).trim())) return true
      start = i + 1
    }
  }
  return cb(line.slice(start).trim())
}

/** The node value(s) of one header as full lines. */
export function eachLine (headers: IncomingHttpHeaders, name: string, cb: (line: string) => boolean): boolean {
  const v = headers[name]
  if (v === undefined) return false
  if (typeof v === 'string') return cb(v)
  for (const line of v) if (cb(line)) return true
  return false
}

/** Headers left as node holds them: repeated Host and Content-Length lines agree (else a 400), HAProxy keeps one. */
const MERGED_ONCE = new Set(['set-cookie', 'host', 'content-length'])

/**
 * The request's header lines as the client sent them, where node merged repeated ones: each
 * header the client sent on several lines whose node value is still what node made of them (its
 * lines joined with ", ", a Cookie's with "; ", or the first line alone for the headers node keeps
 * once) becomes those lines, as HAProxy keeps them (`req.fhdr` reads the last). A value a rule
 * rewrote stays as it is; an `add-header` line after the merged ones stays after them.
 * `raw` is node's `rawHeaders`; `cookieLines`: Cookie lines are kept apart (HTTP/1; HTTP/2 joins them).
 */
function separateLines (headers: IncomingHttpHeaders, raw: readonly string[], cookieLines: boolean): void {
  // a single line cannot repeat
  if (raw.length < 4) return
  const lines = new Map<string, string[]>()
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    const seen = lines.get(name)
    if (seen === undefined) lines.set(name, [raw[i + 1]!])
    else seen.push(raw[i + 1]!)
  }
  for (const [name, values] of lines) {
    if (values.length < 2 || MERGED_ONCE.has(name) || (name === 'cookie' && !cookieLines)) continue
    const cur = headers[name]
    const merged = Array.isArray(cur) ? cur[0] : cur
    if (merged === undefined) continue
    const node = name === 'cookie' ? values.join('; ') : values.join(', ')
    if (merged !== node && merged !== values[0]) continue
    headers[name] = Array.isArray(cur) ? [...values, ...cur.slice(1)] : values
  }
}

/** What full-line reads of the request need: its headers, and node's raw lines until they are used. */
interface RequestHead {
  headers: IncomingHttpHeaders
  rawHeaders?: readonly string[] | undefined
  version: string
}

/**
 * The request's headers with repeated lines apart (`req.fhdr`, `req.fhdr_cnt`, `req.hdrs` …).
 * Done on the first such read only: requests nobody reads that way keep node's object as it is.
 */
export function requestLines (txn: RequestHead): IncomingHttpHeaders {
  const raw = txn.rawHeaders
  if (raw !== undefined) {
    txn.rawHeaders = undefined
    separateLines(txn.headers, raw, txn.version !== '2.0')
  }
  return txn.headers
}

/**
 * Header fields node's HTTP/2 layer dropped (lib/h2-screen.ts: blanks around the value), given
 * back after the others as node would have merged them, and among the raw lines.
 */
export function restoreFields (txn: RequestHead, fields: ReadonlyArray<[string, string]>): void {
  const raw = txn.rawHeaders === undefined ? [] : [...txn.rawHeaders]
  for (const [name, value] of fields) {
    const cur = txn.headers[name]
    txn.headers[name] = cur === undefined ? value : typeof cur === 'string' ? cur + (name === 'cookie' ? '; ' : ', ') + value : [...cur, value]
    raw.push(name, value)
  }
  txn.rawHeaders = raw
}

/** Every comma-separated value of one header, or of all headers when `name` is ''. */
export function eachHeaderValue (headers: IncomingHttpHeaders, name: string, cb: (v: string) => boolean): boolean {
  if (name !== '') return eachLine(headers, name, (line) => eachValue(line, cb))
  for (const key in headers) {
    if (eachLine(headers, key, (line) => eachValue(line, cb))) return true
  }
  return false
}

/** The values of a header in order, for occurrence-indexed fetches (`hdr(x,2)`, `hdr(x,-1)`). */
export function headerValues (headers: IncomingHttpHeaders, name: string, full: boolean): string[] {
  const out: string[] = []
  const push = (v: string): boolean => { out.push(v); return false }
  // a rule may have set a value with blanks around it: a full line reads without them
  if (full) eachLine(headers, name, (line) => push(line.trim()))
  else eachHeaderValue(headers, name, push)
  return out
}

/**
 * Picks occurrence `occ` of a header: 0 or absent = last in sample context, n > 0 = n-th from
 * the start, n < 0 = from the end.
 */
export function occurrence (values: string[], occ: number): string | null {
  const i = occ > 0 ? occ - 1 : values.length + (occ === 0 ? -1 : occ)
  return i >= 0 && i < values.length ? values[i] : null
}

/**
 * Cookie values named `name` in the Cookie header(s) (`;` and `,` separate cookies, as
 * observed with HAProxy 2.6); `name` '' matches any cookie.
 */
export function eachCookie (line: string, name: string, cb: (v: string) => boolean): boolean {
  let start = 0
  const n = line.length
  while (start <= n) {
    let end = start
    while (end < n && line.charCodeAt(end) !== 59 && line.charCodeAt(end) !== 44) end++
    const part = line.slice(start, end)
    const eq = part.indexOf('=')
    if (eq !== -1) {
      const key = part.slice(0, eq).trim()
      if ((name === '' || key === name) && cb(part.slice(eq + 1).trim())) return true
    }
    start = end + 1
  }
  return false
}

/** The bytes a header takes in the message: its name and value on each of its lines. */
export function headerBytes (name: string, value: string | string[] | undefined): number {
  if (value === undefined) return 0
  if (typeof value === 'string') return name.length + value.length
  let n = 0
  for (const v of value) n += name.length + v.length
  return n
}

/** A header name of letters, digits and '-' only: what `option http-restrict-req-hdr-names` keeps. */
const PLAIN_HEADER_NAME = /^[A-Za-z0-9-]+$/

/**
 * `option http-restrict-req-hdr-names delete|reject` (§4.2), once a proxy's http-request rules are
 * done: `delete` drops each header whose name holds another character; `reject` returns false
 * when there is one (the request is then denied with 403, as by `http-request deny`).
 */
export function restrictHeaderNames (headers: IncomingHttpHeaders, policy: 'delete' | 'reject'): boolean {
  for (const name in headers) {
    if (PLAIN_HEADER_NAME.test(name)) continue
    if (policy === 'reject') return false
    delete headers[name]
  }
  return true
}
