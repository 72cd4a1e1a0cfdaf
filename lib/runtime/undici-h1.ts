// Where the forward path reaches into undici's HTTP/1 client for framing HAProxy keeps and
// undici's API has no option for (undici 7). Each reach is small, found by undici's own names,
// and falls back to undici's behaviour when a version names things otherwise:
// - a chunked request body that turns out empty: undici frames it by its length
//   (`content-length: 0`, or nothing on a GET) once it sees the body end. HAProxy keeps the
//   client's framing: `transfer-encoding: chunked` and the last chunk. The head undici writes for
//   such a body is recognised on its way to the socket and written chunked instead.
// - an answer with `Transfer-Encoding: chunked` and a `Content-Length` (RFC 9112 §6.3: the length
//   is ignored): undici's llhttp refuses it, HAProxy drops the length and forwards the chunked
//   body. llhttp has a leniency for exactly this (its "chunked length" flag), which undici does
//   not expose; it is set on the connection's parser, and undici's own count of the length it
//   read is dropped for that answer.
// - the answer's HTTP version, which undici's handler API does not give: an HTTP/1.0 answer with
//   Transfer-Encoding has faulty framing (RFC 9112 §6.1) and its connections are closed after it.

import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

/** undici's parser of a connection (client-h1.js), as far as it is used here. */
interface H1Parser {
  readonly ptr: number
  readonly llhttp: {
    llhttp_set_lenient_chunked_length?: (ptr: number, on: number) => void
    llhttp_get_http_major?: (ptr: number) => number
    llhttp_get_http_minor?: (ptr: number) => number
  }
  contentLength: string
}

/** undici's symbol for a socket's parser (`kParser`), learnt from the first socket that has one. */
let parserSymbol: symbol | null = null

function parserOf (socket: Socket): H1Parser | null {
  if (parserSymbol === null) {
    parserSymbol = Object.getOwnPropertySymbols(socket).find(s => s.description === 'parser') ?? null
    if (parserSymbol === null) return null
  }
  const parser = (socket as unknown as Record<symbol, H1Parser | null | undefined>)[parserSymbol]
  return parser != null && typeof parser.ptr === 'number' && parser.llhttp != null ? parser : null
}

/** A new server connection's parser takes an answer with both Transfer-Encoding and Content-Length (once per connection). */
export function acceptChunkedWithLength (socket: Socket): void {
  const parser = parserOf(socket)
  parser?.llhttp.llhttp_set_lenient_chunked_length?.(parser.ptr, 1)
}

/** The answer being read has its Content-Length dropped: undici no longer checks the body against it. */
export function forgetContentLength (socket: Socket | null): void {
  const parser = socket === null ? null : parserOf(socket)
  if (parser !== null && typeof parser.contentLength === 'string') parser.contentLength = ''
}

/** Whether the answer whose head is being read is HTTP/1.0 (false when unknown). */
export function answerIsHttp10 (socket: Socket | null): boolean {
  const parser = socket === null ? null : parserOf(socket)
  if (parser === null) return false
  const { llhttp_get_http_major: major, llhttp_get_http_minor: minor } = parser.llhttp
  return major?.(parser.ptr) === 1 && minor?.(parser.ptr) === 0
}

const CHUNKED_LAST = 'transfer-encoding: chunked\r\n\r\n0\r\n\r\n'

/**
 * The next write of `socket` is the head of a request whose body was chunked (`head`: the head
 * undici built, as its `sendHeaders` diagnostics message gives it, without its last CRLF): when
 * undici frames an empty body (`content-length: 0`, or nothing), the head goes out chunked with
 * the last chunk; a body with data undici chunks itself, and the write goes out as it is.
 */
export function keepEmptyBodyChunked (socket: Socket, head: string): void {
  // an HTTP/2 session's socket has no such parser, nor heads to rewrite
  if (parserOf(socket) === null) return
  const write = socket.write
  const own = Object.hasOwn(socket, 'write')
  const empty = head + 'content-length: 0\r\n\r\n'
  const none = head + '\r\n'
  socket.write = function (this: Socket, data: unknown, ...rest: unknown[]): boolean {
    if (own) socket.write = write
    else delete (socket as Partial<Socket>).write
    const out = data === empty || data === none ? head + CHUNKED_LAST : data
    return (write as (d: unknown, ...r: unknown[]) => boolean).call(this, out, ...rest)
  } as Socket['write']
}

/**
 * A chunked request body as undici must chunk it: an iterable, whose length undici cannot know
 * even when the client's body is already in (given the request itself, undici would send that
 * body with its length).
 */
export async function * chunkedBody (req: IncomingMessage): AsyncGenerator<Buffer> {
  for await (const chunk of req) yield chunk as Buffer
}
