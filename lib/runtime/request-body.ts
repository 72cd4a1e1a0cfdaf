// `option http-buffer-request` and `http-request wait-for-body` (configuration.txt §4.2): the
// gateway reads the request body, up to one buffer, before the rules that come after the wait.
// Nothing is read unless the configuration asks for it: bodies stream to the server by default.

import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'

import type { HttpTxn, ReceivedBody } from '../acl/txn.js'

/** How a wait ended: enough of the body is in, its time ran out (HAProxy's 408), or the client left. */
export type BodyWaitEnd = 'ready' | 'timeout' | 'aborted'

export interface BodyWaitLimits {
  /** Bytes that end the wait before the body is complete: a buffer's room, or `at-least` when given. */
  enough: number
  /** Milliseconds the wait may last from now (wait-for-body's time, what is left of `timeout http-request`); 0: no bound. */
  time: number
  /** The socket's inactivity timeout (`timeout client`) ends the wait too, as a 408. */
  idle: boolean
}

/** The chunks of a body received so far, as the rules see them: at most `room` bytes of it (one buffer). */
export class BufferedBody implements ReceivedBody {
  readonly chunks: Buffer[] = []
  length = 0
  complete = false
  private joined: Buffer | null = null

  /** `room`: as many bytes as HAProxy's buffer leaves for a body once the head is in. */
  constructor (readonly room: number) {}

  get data (): Buffer {
    if (this.joined === null || this.joined.length !== Math.min(this.length, this.room)) {
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
      this.joined = all.length > this.room ? all.subarray(0, this.room) : all
    }
    return this.joined
  }

  add (chunk: Buffer): void {
    this.chunks.push(chunk)
    this.length += chunk.length
  }
}

/**
 * What was read of one request's body, kept on the transaction: a later wait (the backend's
 * `option http-buffer-request` after the frontend's `wait-for-body`) goes on from it.
 */
export class BodyReader extends BufferedBody {
  constructor (readonly req: IncomingMessage, room: number) {
    super(room)
    this.complete = req.complete && req.readableLength === 0
  }

  /** What the server gets: the whole body when it is in, else what was read followed by the rest of the stream. */
  forward (): Buffer | Readable {
    // a chunked body stays chunked toward the server, as HAProxy forwards it
    if (this.complete && this.req.headers['content-length'] !== undefined) return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    return this.replay()
  }

  /** What was read followed by the rest: for the server, or the app's parser when the gateway left the request to it. */
  replay (): Readable {
    return Readable.from(this.rest(), { objectMode: false })
  }

  private async * rest (): AsyncIterable<Buffer> {
    yield * this.chunks
    if (!this.complete) for await (const chunk of this.req) yield chunk as Buffer
  }
}

/** The body the rules see: what was read so far, or nothing when the gateway did not wait. */
export function bodyOf (txn: HttpTxn, req: IncomingMessage, room: number): BodyReader {
  const body = txn.body
  if (body instanceof BodyReader) return body
  const reader = new BodyReader(req, room)
  txn.body = reader
  return reader
}

/**
 * Reads the body until it is complete or `limits.enough` bytes are in, then pauses the request and
 * calls `done('ready')`; `done('timeout')` when the time (or the client's inactivity) runs out first.
 */
export function waitForBody (reader: BodyReader, limits: BodyWaitLimits, done: (end: BodyWaitEnd) => void): void {
  const req = reader.req
  // an HTTP/2 stream reset before the gateway read it (nghttp2 resets a body longer than its
  // content-length): node counts it complete, but the client left
  if (streamReset(req)) {
    done('aborted')
    return
  }
  if (reader.complete || reader.length >= limits.enough || hasNoBody(req)) {
    reader.complete ||= hasNoBody(req)
    done('ready')
    return
  }
  let timer: NodeJS.Timeout | null = null
  const finish = (end: BodyWaitEnd): void => {
    req.off('data', onData)
    req.off('end', onEnd)
    req.off('close', onClose)
    req.off('timeout', onIdle)
    if (timer !== null) clearTimeout(timer)
    if (end === 'ready' && !reader.complete) req.pause()
    done(end)
  }
  const onData = (chunk: Buffer): void => {
    reader.add(chunk)
    if (reader.length >= limits.enough && !req.complete) finish('ready')
  }
  const onEnd = (): void => { reader.complete = true; finish('ready') }
  const onClose = (): void => { if (!reader.complete) finish('aborted') }
  const onIdle = (): void => { finish('timeout') }
  req.on('data', onData)
  req.on('end', onEnd)
  req.on('close', onClose)
  // node emits 'timeout' on an incomplete request when the socket's inactivity timeout fires:
  // with a listener, the socket stays open for the 408
  if (limits.idle) req.on('timeout', onIdle)
  if (limits.time > 0) timer = setTimeout(onIdle, limits.time)
  req.resume()
}

/** An HTTP/2 request whose stream was reset (RST_STREAM with an error code, either way). */
function streamReset (req: IncomingMessage): boolean {
  if (req.httpVersionMajor !== 2) return false
  const code = (req as IncomingMessage & { stream?: { rstCode?: number } }).stream?.rstCode
  return code !== undefined && code !== 0
}

/** A request that announces no body (no Content-Length or a zero one, no Transfer-Encoding). */
function hasNoBody (req: IncomingMessage): boolean {
  if (req.httpVersionMajor === 2) return req.complete && req.readableLength === 0
  const h = req.headers
  return (h['content-length'] === undefined || h['content-length'] === '0') && h['transfer-encoding'] === undefined
}
