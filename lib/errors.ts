// Two kinds of errors live here:
// 1. the FST_HAPROXY_* catalogue of errors thrown to users (built with @fastify/error, as fastify's
//    lib/errors.js): registration problems and the upstream failures behind 502/503/504;
// 2. the error answers HAProxy 2.6.12 puts on the wire (a data table, see BUILTIN), overridable per
//    proxy with `errorfile` / `errorfiles` (configuration.txt §4.2 errorfile).

import { readBounded } from './files.js'
import createError from '@fastify/error'
import { DEFAULT_BUFSIZE } from './config/model.js'
import type { Diagnostic, ParsedConfig, Proxy } from './config/model.js'

export const FST_HAPROXY_CONFIG_INVALID = createError<[string]>(
  'FST_HAPROXY_CONFIG_INVALID', 'Invalid HAProxy configuration: %s', 500)
export const FST_HAPROXY_NO_CONFIG = createError(
  'FST_HAPROXY_NO_CONFIG', 'haproxyRouter needs the `config` (text or parsed) or `configFile` option', 500, TypeError)
export const FST_HAPROXY_BAD_OPTION = createError<[string, string]>(
  'FST_HAPROXY_BAD_OPTION', 'haproxyRouter option `%s` %s', 500, TypeError)
export const FST_HAPROXY_NO_FRONTEND = createError(
  'FST_HAPROXY_NO_FRONTEND', 'The configuration has no frontend or listen section in mode http to route requests', 500)
export const FST_HAPROXY_FRONTEND_NOT_FOUND = createError<[string]>(
  'FST_HAPROXY_FRONTEND_NOT_FOUND', 'No frontend or listen section named "%s" in the configuration', 500)
export const FST_HAPROXY_FRONTEND_AMBIGUOUS = createError<[string]>(
  'FST_HAPROXY_FRONTEND_AMBIGUOUS', 'Several sections route requests (%s): choose one with the `frontend` option', 500)
export const FST_HAPROXY_MODE_TCP = createError<[string, string]>(
  'FST_HAPROXY_MODE_TCP', '%s "%s" runs in mode tcp, which the plugin does not serve (only the fastify-haproxy CLI does): pick an HTTP frontend, or add `mode http` to it or to its defaults', 500)
export const FST_HAPROXY_ALREADY_REGISTERED = createError(
  'FST_HAPROXY_ALREADY_REGISTERED', 'haproxyRouter is already registered on this Fastify instance', 500)
export const FST_HAPROXY_RELOAD_NO_FILE = createError(
  'FST_HAPROXY_RELOAD_NO_FILE', 'app.haproxy.reload() without an argument re-reads `configFile`, and this registration has none: pass the new configuration', 500, TypeError)
export const FST_HAPROXY_UNKNOWN_BACKEND = createError<[string]>(
  'FST_HAPROXY_UNKNOWN_BACKEND', 'No backend named "%s"', 404)
export const FST_HAPROXY_UNKNOWN_SERVER = createError<[string, string]>(
  'FST_HAPROXY_UNKNOWN_SERVER', 'No server named "%s" in backend "%s"', 404)
export const FST_HAPROXY_RUNTIME_COMMAND = createError<[string]>(
  'FST_HAPROXY_RUNTIME_COMMAND', 'Runtime API: %s', 400)
export const FST_HAPROXY_BIND_FAILED = createError<[string, string, string]>(
  'FST_HAPROXY_BIND_FAILED', 'Starting %s: cannot bind socket [%s] (%s)', 500)
export const FST_HAPROXY_NO_SERVER = createError(
  'FST_HAPROXY_NO_SERVER', 'No server is available to handle this request', 503)
export const FST_HAPROXY_BAD_GATEWAY = createError(
  'FST_HAPROXY_BAD_GATEWAY', 'The server returned an invalid or incomplete response', 502)
export const FST_HAPROXY_UNSENDABLE_REQUEST = createError(
  'FST_HAPROXY_UNSENDABLE_REQUEST', 'The request cannot be forwarded as it is', 400)
export const FST_HAPROXY_GATEWAY_TIMEOUT = createError(
  'FST_HAPROXY_GATEWAY_TIMEOUT', "The server didn't respond in time", 504)

/** A configuration with alerts: one error that carries every diagnostic (as fastify's `error.errors`). */
export function configInvalid (diagnostics: Diagnostic[]): Error & { diagnostics: Diagnostic[] } {
  const alerts = diagnostics.filter(d => d.level === 'alert')
  const summary = alerts.map(d => d.loc ? `[${d.loc.file}:${d.loc.line}] ${d.message}` : d.message).join('; ')
  return Object.assign(new FST_HAPROXY_CONFIG_INVALID(summary), { diagnostics })
}

// The answers haproxy 2.6.12 sends for its own errors, status → [reason, message], recorded with
// curl on loopback (the stray '.' of 501 included). They stay byte-for-byte: clients see them and
// the byte counters count them. Wire text observed from HAProxy, not code taken from it.
const BUILTIN: ReadonlyArray<readonly [number, string, string]> = [
  [200, 'OK', 'Service ready.'],
  [400, 'Bad request', 'Your browser sent an invalid request.'],
  [401, 'Unauthorized', 'You need a valid user and password to access this content.'],
  [403, 'Forbidden', 'Request forbidden by administrative rules.'],
  [404, 'Not Found', 'The resource could not be found.'],
  [405, 'Method Not Allowed', 'A request was made of a resource using a request method not supported by that resource'],
  [407, 'Unauthorized', 'You need a valid user and password to access this content.'],
  [408, 'Request Time-out', "Your browser didn't send a complete request in time."],
  [410, 'Gone', 'The resource is no longer available and will not be available again.'],
  [413, 'Payload Too Large', 'The request entity exceeds the maximum allowed.'],
  [421, 'Misdirected Request', 'Request sent to a non-authoritative server.'],
  [422, 'Unprocessable Content', 'The server cannot process the contained instructions.'],
  [425, 'Too Early', 'Your browser sent early data.'],
  [429, 'Too Many Requests', 'You have sent too many requests in a given amount of time.'],
  [500, 'Internal Server Error', 'An internal server error occurred.'],
  [501, 'Not Implemented', '.The server does not support the functionality required to fulfill the request.'],
  [502, 'Bad Gateway', 'The server returned an invalid or incomplete response.'],
  [503, 'Service Unavailable', 'No server is available to handle this request.'],
  [504, 'Gateway Time-out', "The server didn't respond in time."]
]

/** A complete canned answer: written as is, never re-encoded. */
export interface ErrorPage {
  status: number
  reason: string
  /** Flat [name, value, name, value …] as node's writeHead takes it. */
  headers: string[]
  body: Buffer
  /** What HAProxy counts in `bout` for this answer (its HTX size, see htxResponseBytes). */
  htxBytes: number
  /** An empty errorfile: the connection is closed without an answer. */
  silent?: true
  /**
   * An errorfile without Content-Length: sent as it is, its body ending with the connection,
   * which closes after it (`connection: close`), as HAProxy 2.6 sends it.
   */
  unframed?: true
  /** A head written as it is: its names' case, no connection line added (parserErrorPage). */
  verbatim?: true
}

// HAProxy 2.6 counts bytes (stats bin/bout) as the size of the HTX message, not of the bytes on
// the wire: a start line is a 20-byte struct htx_sl plus its three strings, a header is its name
// plus its value, the end of headers is a 1-byte block, and a chunked message ends with a 1-byte
// EOT block (sizes inferred from, and checked against, haproxy 2.6.12's ;csv on loopback).
export const HTX_START_LINE = 20
export const HTX_VERSION = 8 // "HTTP/1.1"

/** HTX size of an answer's head: status line, headers (flat pairs), end of headers. */
export function htxResponseBytes (status: number, reason: string, headers: readonly string[]): number {
  let n = HTX_START_LINE + HTX_VERSION + String(status).length + reason.length + 1
  for (let i = 0; i < headers.length; i++) n += headers[i]!.length
  return n
}

function builtinPage (status: number, reason: string, message: string): ErrorPage {
  const body = Buffer.from(`<html><body><h1>${status} ${reason}</h1>\n${message}\n</body></html>\n`, 'latin1')
  const headers = ['content-length', String(body.length), 'cache-control', 'no-cache', 'content-type', 'text/html']
  // HAProxy closes the connection after these two (the request stream is unusable).
  // (connection: close is the mux's, not part of the HTX message)
  const htxBytes = htxResponseBytes(status, reason, headers) + body.length
  if (status === 400 || status === 408) headers.push('connection', 'close')
  return { status, reason, headers, body, htxBytes }
}

const BUILTIN_PAGES = new Map<number, ErrorPage>(BUILTIN.map(([s, r, m]) => [s, builtinPage(s, r, m)]))

/**
 * The answers HAProxy's HTTP/1 parser sends itself, before a request exists (a head it refuses,
 * `timeout http-request`): the same bodies in an older head, names capitalised as below and
 * `Connection: close` before Content-Type (but none on the 422), the proxy's errorfiles not
 * consulted (observed on 2.6.12 with raw sockets, test/differential/heads.test.ts).
 */
function parserPage (status: number): ErrorPage {
  const page = builtinErrorPage(status)
  const close = status === 422 ? [] : ['Connection', 'close']
  const headers = ['Content-length', String(page.body.length), 'Cache-Control', 'no-cache', ...close, 'Content-Type', 'text/html']
  return { ...page, headers, verbatim: true }
}

const PARSER_PAGES = new Map<number, ErrorPage>([400, 408, 422].map(s => [s, parserPage(s)]))

/** What HAProxy's parser answers for a request it refuses (400, 422) or that never came whole (408). */
export function parserErrorPage (status: 400 | 408 | 422): ErrorPage {
  return PARSER_PAGES.get(status)!
}

/** The built-in page for a status; statuses HAProxy has no page for get the 500 text's shape. */
export function builtinErrorPage (status: number): ErrorPage {
  return BUILTIN_PAGES.get(status) ?? builtinPage(status, 'Error', 'An error occurred.')
}

/** An errorfile read once: a page, or a silent close when it is empty. */
export function readErrorFile (file: string, status: number, bufsize: number): ErrorPage {
  const raw = readBounded(file, bufsize)
  return raw.length === 0 ? silentPage(status) : parseErrorFile(raw, status)
}

/**
 * An errorfile holds a whole HTTP response (status line, headers, body), sent unchanged
 * (configuration.txt §4.2 errorfile): its header names lower-cased, a Content-Length made to
 * match the body, none added. Parsed once at start-up.
 */
export function parseErrorFile (raw: Buffer, fallbackStatus: number): ErrorPage {
  let end = raw.indexOf('\r\n\r\n')
  let sep = 4
  if (end < 0) { end = raw.indexOf('\n\n'); sep = 2 }
  if (end < 0) { end = raw.length; sep = 0 }
  const head = raw.subarray(0, end).toString('latin1').split(/\r?\n/)
  const body = raw.subarray(Math.min(raw.length, end + sep))
  const statusLine = /^HTTP\/\d\.\d\s+(\d{3})\s*(.*)$/.exec(head[0] ?? '')
  const headers: string[] = []
  let hasLength = false
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    if (name === 'content-length') { hasLength = true; headers.push(name, String(body.length)); continue }
    headers.push(name, line.slice(colon + 1).trim())
  }
  const status = statusLine ? Number(statusLine[1]) : fallbackStatus
  const reason = statusLine?.[2] ?? builtinErrorPage(fallbackStatus).reason
  const page: ErrorPage = { status, reason, headers, body, htxBytes: htxResponseBytes(status, reason, headers) + body.length }
  return hasLength ? page : { ...page, unframed: true }
}

/** What a proxy answers for an error status: a file, an `http-error` reply, or (null) HAProxy's own page. */
export type ErrorChoice = { kind: 'file', file: string } | { kind: 'reply', words: string[] } | { kind: 'location', status: 302 | 303, url: string } | null

/** The file an `errorfiles <name>` line gives for a status, if its section has one. */
function sectionFile (config: ParsedConfig, name: string, codes: string[], status: string): string | undefined {
  if (codes.length > 0 && !codes.includes(status)) return undefined
  return config.httpErrors.find(s => s.name === name)?.errorFiles[status]
}

/** Value of the word after `key` in an `http-error` line, if present. */
const optionOf = (words: readonly string[], key: string): string | undefined => {
  const i = words.indexOf(key)
  return i < 0 ? undefined : words[i + 1]
}

/**
 * The proxy's `errorfile` / `errorfiles` / `http-error` lines for `status`, in order: the last
 * one that gives the status wins; `http-error … default-errorfiles` resets it to HAProxy's page.
 */
export function errorChoice (proxy: Proxy, config: ParsedConfig, status: number): ErrorChoice {
  const code = String(status)
  let choice: ErrorChoice = null
  for (const e of proxy.errorSources) {
    if (e.kind === 'errorfile') {
      if (e.code === code) choice = { kind: 'file', file: e.file }
    } else if (e.kind === 'errorfiles') {
      const file = sectionFile(config, e.section, e.codes, code)
      if (file !== undefined) choice = { kind: 'file', file }
    } else if (e.kind === 'errorloc') {
      if (e.code === code) choice = { kind: 'location', status: e.status, url: e.url }
    } else if (e.code === code) {
      const section = optionOf(e.words, 'errorfiles')
      const file = optionOf(e.words, 'errorfile')
      if (e.words.includes('default-errorfiles')) choice = null
      else if (file !== undefined) choice = { kind: 'file', file }
      else if (section !== undefined) {
        const f = sectionFile(config, section, [], code)
        if (f !== undefined) choice = { kind: 'file', file: f }
      } else choice = { kind: 'reply', words: e.words }
    }
  }
  return choice
}

/** `errorloc` (§4.2): a redirect in HAProxy 2.6's head (observed on 2.6.12: this order, no body). */
function locationPage (status: 302 | 303, url: string): ErrorPage {
  const reason = status === 302 ? 'Found' : 'See Other'
  const headers = ['cache-control', 'no-cache', 'content-length', '0', 'location', url]
  return { status, reason, headers, body: Buffer.alloc(0), htxBytes: htxResponseBytes(status, reason, headers) }
}

/** An empty errorfile: HAProxy closes the connection without answering. */
function silentPage (status: number): ErrorPage {
  return { status, reason: '', headers: [], body: Buffer.alloc(0), htxBytes: 0, silent: true }
}

/**
 * An `http-error` reply made of constants (`string`, `file`, `hdr` without `%[`): one page. One
 * that formats (`lf-string`, `lf-file`, `hdr` with a sample) is built per request by the rules
 * that answer with it (`deny`, `return … default-errorfiles`); elsewhere HAProxy's page is used.
 */
function replyPage (words: readonly string[], status: number, bufsize: number): ErrorPage | null {
  if (words.includes('lf-string') || words.includes('lf-file')) return null
  const headers: string[] = []
  let body: Buffer = Buffer.alloc(0)
  const ctype = optionOf(words, 'content-type')
  for (let i = 0; i < words.length; i++) {
    if (words[i] === 'hdr') {
      const value = words[i + 2] ?? ''
      if (value.includes('%')) return null
      headers.push(words[i + 1]!.toLowerCase(), value)
      i += 2
    } else if (words[i] === 'string') body = Buffer.from(words[++i] ?? '', 'latin1')
    else if (words[i] === 'file') body = readBounded(words[++i] ?? '', bufsize)
  }
  // HAProxy's order: the `hdr` headers, then Content-Length, then Content-Type
  const all = [...headers, 'content-length', String(body.length), ...(body.length > 0 && ctype !== undefined ? ['content-type', ctype] : [])]
  const reason = builtinErrorPage(status).reason
  return { status, reason, headers: all, body, htxBytes: htxResponseBytes(status, reason, all) + body.length }
}

/** Status codes a proxy can have its own answer for (the list configuration.txt §4.2 errorfile gives). */
const ERROR_CODES = [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504]

/** A proxy's answers: its `errorfile`, `errorfiles` and `http-error` lines (errorChoice), then HAProxy's built-ins. */
export class ErrorPages {
  private readonly pages = new Map<number, ErrorPage>()

  constructor (proxy: Proxy, config: ParsedConfig) {
    for (const status of ERROR_CODES) {
      const choice = errorChoice(proxy, config, status)
      if (choice === null) continue
      const bufsize = config.global.bufsize ?? DEFAULT_BUFSIZE
      const page = choice.kind === 'reply'
        ? replyPage(choice.words, status, bufsize)
        : choice.kind === 'location' ? locationPage(choice.status, choice.url) : readErrorFile(choice.file, status, bufsize)
      if (page !== null) this.pages.set(status, page)
    }
  }

  /** The proxy's own errorfile for `status`, if it has one. */
  own (status: number): ErrorPage | undefined {
    return this.pages.get(status)
  }

  get (status: number): ErrorPage {
    return this.pages.get(status) ?? builtinErrorPage(status)
  }
}
