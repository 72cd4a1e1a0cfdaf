// A request with both `Transfer-Encoding: chunked` and `Content-Length` (RFC 9112 §6.3: the
// length must be ignored, and the connection closed after the answer). HAProxy 2.6 serves it:
// it drops the Content-Length, reads the body chunked, answers with `connection: close` and
// closes (observed on 2.6.12, test/differential/chunked-with-length.test.ts). node's parser
// refuses such a request; only its `insecureHTTPParser` would take it, along with every other
// leniency. So the failure path does it: when node's parser reports that conflict, the request's
// head is read from the bytes it failed on, judged as HAProxy judges Transfer-Encoding, rewritten
// without its Content-Length (and with `Connection: close`), and handed to the same HTTP server
// as a new stream: those bytes, then the rest of the connection. Every other request stays on
// node's native parsing path.

import { Duplex } from 'node:stream'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

/** What node's HTTP/1 parser reports for a Content-Length beside a Transfer-Encoding (after it, or before). */
const CONFLICT_CODES = new Set(['HPE_INVALID_CONTENT_LENGTH', 'HPE_INVALID_TRANSFER_ENCODING'])
const CONFLICT_REASON = /can't be present with/

/** node's connection listener of an HTTP/1 server, kept where the gateway finds it again. */
const kHttp1Connection = Symbol('fastify-haproxy.http1Connection')

/** Remembers node's own connection listener of a plain HTTP/1 server (just created). */
export function keepHttp1Listener (server: Server): void {
  const own = server.listeners('connection')[0] as ((socket: Duplex) => void) | undefined
  if (own !== undefined) (server as Server & { [kHttp1Connection]?: (socket: Duplex) => void })[kHttp1Connection] = own
}

const DIGITS = /^\d+$/
const LEADING_ZEROS = /^0+(?=\d)/
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \r\n]+ HTTP\/1\.[01]$/
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/

/** The status HAProxy answers such a request with, or null when it serves it. */
export type Verdict = 400 | 422 | null

/**
 * HAProxy's judgement of a request head with Transfer-Encoding and Content-Length (observed on
 * 2.6.12): Content-Length values that are not all the same number are a 400, then the codings
 * are judged (`transferCodings`).
 */
function judge (fields: Array<[string, string]>): Verdict {
  let codings = ''
  let length: string | null = null
  for (const [name, value] of fields) {
    const lower = name.toLowerCase()
    if (lower === 'transfer-encoding') {
      codings += codings === '' ? value : ',' + value
    } else if (lower === 'content-length') {
      for (const v of value.split(',')) {
        const n = v.trim()
        if (!DIGITS.test(n)) return 400
        const digits = n.replace(LEADING_ZEROS, '')
        if (length !== null && digits !== length) return 400
        length = digits
      }
    }
  }
  return transferCodings(codings)
}

/**
 * A request's Transfer-Encoding as HAProxy 2.6.12 judges it (observed, also without
 * Content-Length): `chunked` more than once or not last is a 400, other codings before it a 422.
 */
export function transferCodings (value: string | undefined): Verdict {
  if (value === undefined) return null
  let chunked = 0
  let others = 0
  let last = ''
  for (const c of value.split(',')) {
    const coding = c.trim().toLowerCase()
    if (coding === '') continue
    if (coding === 'chunked') chunked++
    else others++
    last = coding
  }
  if (chunked !== 1 || last !== 'chunked') return 400
  return others > 0 ? 422 : null
}

/**
 * How a server's HTTP/1 answer (raw header pairs) frames its body, as HAProxy 2.6.12 judges it
 * (observed with raw servers, test/differential/transfer-encoding.test.ts): without
 * Transfer-Encoding, by its length or its close; with `chunked` alone (any case, on one or more
 * lines), chunked, a Content-Length beside it dropped (RFC 9112 §6.3); any other
 * Transfer-Encoding (`chunked` twice, another coding before or after it, one without `chunked`)
 * is refused with a 502, where a request gets a 400 or 422.
 */
export type AnswerFraming = 'length' | 'close' | 'chunked' | 'chunked-with-length' | 'refused'

export function answerFraming (raw: readonly Buffer[]): AnswerFraming {
  let codings: string | null = null
  let length = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length === 17 && namedAs(name, 'transfer-encoding')) {
      const value = raw[i + 1]!
      // the usual `chunked` alone is known from its bytes; anything else is judged as text
      if (codings === null && value.length === 7 && namedAs(value, 'chunked')) codings = 'chunked'
      else codings = (codings === null ? '' : codings + ',') + value.toString('latin1')
    } else if (name.length === 14 && namedAs(name, 'content-length')) {
      length = true
    }
  }
  if (codings === null) return length ? 'length' : 'close'
  if (codings !== 'chunked' && transferCodings(codings) !== null) return 'refused'
  return length ? 'chunked-with-length' : 'chunked'
}

/**
 * A header name (or token value) is `lower` in any case, read from its bytes (no string made for
 * every name of every answer). Setting 0x20 lower-cases a letter and leaves `-` as it is; no other byte of a
 * token turns into a letter or `-` that way.
 */
function namedAs (name: Buffer, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((name[i]! | 0x20) !== lower.charCodeAt(i)) return false
  return true
}

/** The request head at the start of `packet`: its request line and fields, and where it ends; null when it is not there whole. */
function readHead (packet: Buffer, conflictAt: number): { line: string, fields: Array<[string, string]>, end: number } | null {
  const end = packet.indexOf('\r\n\r\n', 0, 'latin1')
  // the head must run from the packet's start past the field node's parser stopped at
  if (end < 0 || end + 2 < conflictAt) return null
  const lines = packet.toString('latin1', 0, end).split('\r\n')
  const line = lines.shift()!
  if (!REQUEST_LINE.test(line)) return null
  const fields: Array<[string, string]> = []
  for (const l of lines) {
    const m = FIELD.exec(l)
    if (m === null) return null
    fields.push([m[1]!, m[2]!])
  }
  return { line, fields, end: end + 4 }
}

/** The head node's parser will take: without Content-Length, with `Connection: close`. */
function rewrite (line: string, fields: Array<[string, string]>): Buffer {
  let head = line + '\r\n'
  for (const [name, value] of fields) {
    const lower = name.toLowerCase()
    if (lower !== 'content-length' && lower !== 'connection') head += `${name}: ${value}\r\n`
  }
  return Buffer.from(head + 'Connection: close\r\n\r\n', 'latin1')
}

/**
 * The connection after a rewritten head, as node's HTTP server reads it: the given bytes, then
 * the socket's. `stream` is the socket itself, where the gateway reads its addresses and state
 * (as for HTTP/2 connections read through H2RequestScreen).
 */
class Resumed extends Duplex {
  constructor (readonly stream: Socket, first: Buffer) {
    super({ allowHalfOpen: true })
    this.push(first)
    stream.on('data', (d: Buffer) => { if (!this.push(d)) stream.pause() })
    stream.on('end', () => this.push(null))
    stream.on('close', () => this.destroy())
    stream.on('timeout', () => this.emit('timeout'))
  }

  override _read (): void { this.stream.resume() }

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.stream.write(chunk, cb)
  }

  override _final (cb: (err?: Error | null) => void): void {
    this.stream.end()
    cb()
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.stream.destroy()
    cb(err)
  }

  setTimeout (ms: number, cb?: () => void): this {
    this.stream.setTimeout(ms, cb)
    return this
  }

  setNoDelay (noDelay?: boolean): this {
    this.stream.setNoDelay(noDelay)
    return this
  }

  setKeepAlive (enable?: boolean, delay?: number): this {
    this.stream.setKeepAlive(enable, delay)
    return this
  }
}

/**
 * Takes over a connection whose request node's parser refused for a Content-Length beside a
 * Transfer-Encoding. Returns the status to answer instead (400, 422) when HAProxy refuses the
 * request too, or when the head cannot be read back whole from the bytes node failed on (it
 * came in pieces); null once the request is on its way; undefined for any other parser error.
 */
export function resumeChunkedWithLength (err: Error & { code?: string, reason?: string, rawPacket?: Buffer, bytesParsed?: number }, socket: Socket): Verdict | undefined {
  if (!CONFLICT_CODES.has(err.code ?? '') || !CONFLICT_REASON.test(err.reason ?? '')) return undefined
  const server = (socket as Socket & { server?: Server }).server
  const nodeListener = (server as (Server & { [kHttp1Connection]?: (socket: Duplex) => void }) | undefined)?.[kHttp1Connection]
  const packet = err.rawPacket
  if (nodeListener === undefined || packet === undefined) return 400
  const head = readHead(packet, err.bytesParsed ?? 0)
  if (head === null) return 400
  const verdict = judge(head.fields)
  if (verdict !== null) return verdict
  // node's parser lets go of the socket: its listeners, its reading of the socket's handle, and
  // its place among the connections node checks for `timeout http-request` (else a 408 would
  // follow once that delay has passed)
  const parser = (socket as Socket & { parser?: { _consumed?: boolean, unconsume?: () => void, remove?: () => void } | null }).parser
  if (parser?._consumed === true) { parser.unconsume?.(); parser._consumed = false }
  parser?.remove?.()
  for (const event of ['data', 'end', 'drain', 'timeout'] as const) {
    for (const l of socket.listeners(event)) if (/^(bound )?socketOn/.test((l as { name: string }).name)) socket.off(event, l as (...a: unknown[]) => void)
  }
  nodeListener.call(server, new Resumed(socket, Buffer.concat([rewrite(head.line, head.fields), packet.subarray(head.end)])))
  return null
}
