// Two kinds of errors live here:
// 1. the FST_HAPROXY_* catalogue of errors thrown to users (built with @fastify/error, as fastify's
//    lib/errors.js): registration problems and the upstream failures behind 502/503/504;
// 2. HAProxy's own error answers (the bodies of src/http.c `http_err_msgs`, as haproxy 2.6.12 sends
//    them), overridable per proxy with `errorfile` / `errorfiles` (configuration.txt §4.2 errorfile).

import { readFileSync } from 'node:fs'
import createError from '@fastify/error'
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
  'FST_HAPROXY_MODE_TCP', '%s "%s" runs in mode tcp, which fastify-haproxy does not support (HTTP only): add `mode http` to it or to its defaults', 500)
export const FST_HAPROXY_ALREADY_REGISTERED = createError(
  'FST_HAPROXY_ALREADY_REGISTERED', 'haproxyRouter is already registered on this Fastify instance', 500)
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
export const FST_HAPROXY_GATEWAY_TIMEOUT = createError(
  'FST_HAPROXY_GATEWAY_TIMEOUT', "The server didn't respond in time", 504)

/** A configuration with alerts: one error that carries every diagnostic (as fastify's `error.errors`). */
export function configInvalid (diagnostics: Diagnostic[]): Error & { diagnostics: Diagnostic[] } {
  const alerts = diagnostics.filter(d => d.level === 'alert')
  const summary = alerts.map(d => d.loc ? `[${d.loc.file}:${d.loc.line}] ${d.message}` : d.message).join('; ')
  return Object.assign(new FST_HAPROXY_CONFIG_INVALID(summary), { diagnostics })
}

// HAProxy 2.6.12's built-in answers, status → [reason, message] (src/http.c; checked with curl
// against haproxy on loopback, including the stray '.' of 501).
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
}

// HAProxy 2.6 counts bytes (stats bin/bout) as the size of the HTX message, not of the bytes on
// the wire: a start line is a 20-byte struct htx_sl plus its three strings, a header is its name
// plus its value, the end of headers is a 1-byte block, and a chunked message ends with a 1-byte
// EOT block (include/haproxy/htx-t.h; checked against haproxy 2.6.12's ;csv on loopback).
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

/** The built-in page for a status; statuses HAProxy has no page for get the 500 text's shape. */
export function builtinErrorPage (status: number): ErrorPage {
  return BUILTIN_PAGES.get(status) ?? builtinPage(status, 'Error', 'An error occurred.')
}

/**
 * An errorfile holds a whole HTTP response (status line, headers, body), sent unchanged
 * (configuration.txt §4.2 errorfile). Parsed once at start-up.
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
  if (!hasLength) headers.push('content-length', String(body.length))
  const status = statusLine ? Number(statusLine[1]) : fallbackStatus
  const reason = statusLine?.[2] ?? builtinErrorPage(fallbackStatus).reason
  return { status, reason, headers, body, htxBytes: htxResponseBytes(status, reason, headers) + body.length }
}

/** A proxy's answers: its `errorfile`s and `errorfiles` section, then HAProxy's built-ins. */
export class ErrorPages {
  private readonly pages = new Map<number, ErrorPage>()

  constructor (proxy: Proxy, config: ParsedConfig) {
    const files: Record<string, string> = {}
    const section = proxy.errorFilesSection === undefined
      ? undefined
      : config.httpErrors.find(s => s.name === proxy.errorFilesSection)
    if (section) Object.assign(files, section.errorFiles)
    Object.assign(files, proxy.errorFiles)
    for (const [code, file] of Object.entries(files)) {
      const status = Number(code)
      this.pages.set(status, parseErrorFile(readFileSync(file), status))
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
