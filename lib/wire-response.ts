// The CLI's responses leave node's server with HAProxy 2.6's head, observed on loopback with raw
// sockets against haproxy 2.6.12 (test/differential/heads.test.ts): no `Date` of its own (a
// server's is forwarded), no `Keep-Alive: timeout=…`, and the connection said in lower case at
// the end of the head only when it differs from the request's default — `connection: close`
// when the connection closes after the answer, `connection: keep-alive` to an HTTP/1.0 client
// that asked for it, nothing on an HTTP/1.1 connection kept open. A body of unknown length is
// announced as `transfer-encoding: chunked`, after the headers on HTTP/1.1, before it to an
// HTTP/1.0 client (HAProxy answers 1.1 whatever the request's version). The plugin's responses
// are the app's server's and keep node's own head (README, Differences from HAProxy).

import { ServerResponse, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { Http2ServerResponse } from 'node:http2'
import { kVerbatimHead } from './symbols.js'

type Given = OutgoingHttpHeaders | ReadonlyArray<string | string[]> | undefined

/** A flat [name, value …] copy of what writeHead was given, or null when it holds nested pairs. */
function flat (given: Given): string[] | null {
  if (given === undefined) return []
  if (Array.isArray(given)) {
    if (given.length > 0 && Array.isArray(given[0])) return null
    return given.slice() as string[]
  }
  const out: string[] = []
  const object = given as OutgoingHttpHeaders
  for (const name in object) {
    const v = object[name]
    if (v === undefined) continue
    if (Array.isArray(v)) for (const x of v) out.push(name, x)
    else out.push(name, String(v))
  }
  return out
}

/** Statuses and methods whose answer has no body (RFC 9110 §6.4.1), so no framing either. */
function bodyless (status: number, method: string | undefined): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200) || method === 'HEAD'
}

export class HaproxyResponse extends ServerResponse {
  constructor (req: IncomingMessage) {
    super(req)
    this.sendDate = false
  }

  override writeHead (...args: unknown[]): this {
    const status = args[0] as number
    const reason = typeof args[1] === 'string' ? args[1] : undefined
    const headers = flat((reason === undefined ? args[1] : args[2]) as Given)
    const write = super.writeHead as (...a: unknown[]) => this
    if (headers === null) return write.apply(this, args)
    shapeHead(this, status, headers)
    return reason === undefined ? write.call(this, status, headers) : write.call(this, status, reason, headers)
  }
}

/**
 * Puts HAProxy's names and its framing and connection lines on a head about to be written: names
 * in lower case (HAProxy's H1 mux writes them so, a server's own included), and node then adds
 * neither its `Connection` nor its `Keep-Alive`. A `connection` header in the head (a page that
 * closes) is left as it is; one set on the response (Fastify's `close` while stopping) closes
 * the connection and is written as HAProxy's. A verbatim head (kVerbatimHead) only loses node's
 * connection lines.
 */
function shapeHead (res: ServerResponse, status: number, headers: string[]): void {
  const req = (res as ServerResponse & { req: IncomingMessage }).req
  if ((res as ServerResponse & { [kVerbatimHead]?: true })[kVerbatimHead] === true) {
    res.removeHeader('connection')
    return
  }
  let framed = res.hasHeader('content-length') || res.hasHeader('transfer-encoding')
  let connection = false
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase()
    headers[i] = name
    if (name === 'content-length' || name === 'transfer-encoding') framed = true
    else if (name === 'connection') connection = true
  }
  if (connection) return
  if (res.hasHeader('connection')) {
    if (/\bclose\b/i.test(String(res.getHeader('connection')))) res.shouldKeepAlive = false
  }
  res.removeHeader('connection')
  const http10 = req.httpVersionMinor === 0
  const chunked = !framed && !bodyless(status, req.method)
  if (chunked && !http10) headers.push('transfer-encoding', 'chunked')
  if (!res.shouldKeepAlive) headers.push('connection', 'close')
  else if (http10) headers.push('connection', 'keep-alive')
  if (chunked && http10) headers.push('transfer-encoding', 'chunked')
}

/** HTTP/2 answers without node's `date` (HAProxy's H2 mux adds none either). */
export class HaproxyH2Response extends Http2ServerResponse {
  constructor (...args: ConstructorParameters<typeof Http2ServerResponse>) {
    super(...args)
    this.sendDate = false
  }
}
