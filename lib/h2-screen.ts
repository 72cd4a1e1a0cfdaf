// HTTP/2 request heads HAProxy judges differently from node's HTTP/2 layer (nghttp2), which resets
// the stream of any request it finds malformed. On clear `proto h2` binds the gateway reads the
// client's frames before node does and decodes each request's header block (HPACK, through
// hpack.js):
// - a request without `:authority` nor `host` (RFC 9113 §8.3.1 allows it, HAProxy serves it) is
//   given a placeholder authority, which makeTxn drops again;
// - a `:scheme` outside RFC 3986's grammar, a `:method` that is not a token, an `:authority` with
//   a space or control character get HAProxy's 400 (observed on 2.6.12) instead of a reset;
// - an `:authority` HAProxy takes as it is but nghttp2 refuses (empty, or with `/`, `?`, `#`)
//   reaches the rules unchanged.
// The value nghttp2 would refuse is replaced by a harmless one of the same length (so both
// HPACK tables keep the same entries and sizes) and the request is remembered by stream id;
// `screenedRequest` hands the verdict to the gateway. Other frames pass unchanged.
// The screen also sees both directions' frames for flow control credited as HAProxy does
// (lib/h2-window.ts): WINDOW_UPDATE frames of its own go out between node's frames.

import { createRequire } from 'node:module'
import { Duplex } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { markHttp2, markRequested } from './log/logger.js'
import type { H2Windows } from './h2-window.js'

interface HpackDecoder {
  write (block: Buffer): void
  execute (): void
  read (): { name: string, value: string } | null
  updateTableSize (size: number): void
}
const hpack = createRequire(import.meta.url)('hpack.js') as { decompressor: { create (o: { table: { size: number } }): HpackDecoder } }

/** The authority given to requests that had none (RFC 6761 `.invalid`: never a real host). */
export const PLACEHOLDER_AUTHORITY = 'authority.invalid'

/** The client connection preface (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const PREFACE_LENGTH = PREFACE.length
const FRAME_HEAD = 9
const HEADERS = 0x1
const CONTINUATION = 0x9
const END_HEADERS = 0x4
const PADDED = 0x8
const PRIORITY = 0x20
const WINDOW_UPDATE = 0x8
const SETTINGS = 0x4
const ACK = 0x1
const END_STREAM = 0x1
/** SETTINGS_MAX_FRAME_SIZE and SETTINGS_HEADER_TABLE_SIZE node announces by default (RFC 9113). */
const DEFAULT_MAX_FRAME = 16384
const DEFAULT_TABLE_SIZE = 4096
/** `:authority: authority.invalid`, a literal without indexing on the static table's name 1 (RFC 7541 §6.2.2). */
const INSERTED = Buffer.concat([Buffer.from([0x01, PLACEHOLDER_AUTHORITY.length]), Buffer.from(PLACEHOLDER_AUTHORITY, 'latin1')])

/** RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/
/** RFC 9110 §5.6.2 token (an empty method is left to nghttp2's reset, as HAProxy resets it too). */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*$/
/** What nghttp2 accepts in `:authority` (RFC 3986 authority characters). */
const NGHTTP2_AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]+$/
/** What HAProxy answers 400 in `:authority`: spaces and control characters. */
const BAD_AUTHORITY = /[\x00-\x20\x7f]/

/**
 * Methods Fastify routes (to the gateway's hook), by length: a malformed method is replaced by
 * one of the same length when the client adds it to its HPACK table, else by GET.
 */
const ROUTED_METHODS: Record<number, string> = { 3: 'GET', 4: 'POST', 5: 'PATCH', 6: 'DELETE', 7: 'OPTIONS' }

/** What HAProxy trims from a header value and nghttp2 drops the whole field for (RFC 9113 §8.2.1). */
const PADDED_VALUE = /^[ \t]|[ \t]$/

/**
 * What the screen learned about a request: HAProxy's 400, the authority nghttp2 was not shown,
 * the header fields nghttp2 drops for blanks around their value (`fields`: name, trimmed value).
 */
export interface Screened { malformed: boolean, authority?: string, fields?: Array<[string, string]> }

/** A client connection as node's HTTP/2 server reads it, with request heads screened. */
export class H2RequestScreen extends Duplex {
  private pendingBytes: Buffer = Buffer.alloc(0)
  private prefaceLeft = PREFACE_LENGTH
  /** The bytes in place of the preface were not the preface (nghttp2 closes the connection). */
  private notPreface = false
  private readonly decoder: HpackDecoder
  /** Frames of a header block still waiting for END_HEADERS. */
  private block: Buffer[] | null = null
  /** Highest stream the client opened: a HEADERS frame above it starts a request, else trailers. */
  private lastStream = 0
  /** Requests whose head was changed for nghttp2, by stream id, until the gateway reads them. */
  readonly screened = new Map<number, Screened>()
  /** Bytes of the frame node is writing still to pass on unchanged (0: between frames). */
  private outPassing = 0
  /** The start of a frame node is writing, held until it can be judged whole. */
  private outPending: Buffer = Buffer.alloc(0)
  /** Frames of the gateway's own, waiting for the end of the frame node is writing. */
  private injected: Buffer[] = []

  constructor (
    readonly socket: Socket,
    private readonly maxFrame = DEFAULT_MAX_FRAME,
    tableSize = DEFAULT_TABLE_SIZE,
    private readonly windows: H2Windows | null = null
  ) {
    super()
    this.decoder = hpack.decompressor.create({ table: { size: tableSize } })
    markHttp2(socket)
    socket.on('data', (d: Buffer) => { this.received(d) })
    socket.on('end', () => this.push(null))
    socket.on('error', (err) => this.destroy(err))
    socket.on('close', () => this.destroy())
  }

  // the addresses makeTxn reads (node's wrapper around this stream has none)
  get remoteAddress (): string | undefined { return this.socket.remoteAddress }
  get remotePort (): number | undefined { return this.socket.remotePort }
  get localAddress (): string | undefined { return this.socket.localAddress }
  get localPort (): number | undefined { return this.socket.localPort }

  override _read (): void {
    this.socket.resume()
  }

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.windows === null) { this.socket.write(chunk, cb); return }
    const out = this.outgoing(chunk, this.windows)
    if (out.length === 0) { cb(); return }
    this.socket.cork()
    for (let i = 0; i < out.length - 1; i++) this.socket.write(out[i])
    this.socket.write(out[out.length - 1], cb)
    this.socket.uncork()
  }

  /** node's bytes as they go on the wire: its flow-control frames replaced, the gateway's added between frames. */
  private outgoing (chunk: Buffer, windows: H2Windows): Buffer[] {
    const data = this.outPending.length === 0 ? chunk : Buffer.concat([this.outPending, chunk])
    const out: Buffer[] = []
    let pos = 0
    while (pos < data.length) {
      if (this.outPassing > 0) {
        const n = Math.min(this.outPassing, data.length - pos)
        out.push(data.subarray(pos, pos + n))
        pos += n
        this.outPassing -= n
        continue
      }
      if (this.injected.length > 0) { out.push(...this.injected); this.injected = [] }
      if (data.length - pos < FRAME_HEAD) break
      const length = data.readUIntBE(pos, 3)
      const type = data[pos + 3]!
      if (type === WINDOW_UPDATE || (type === SETTINGS && (data[pos + 4]! & ACK) === 0)) {
        if (data.length - pos < FRAME_HEAD + length) break
        out.push(...windows.sent(data.subarray(pos, pos + FRAME_HEAD + length)))
        pos += FRAME_HEAD + length
      } else {
        out.push(data.subarray(pos, pos + FRAME_HEAD))
        pos += FRAME_HEAD
        this.outPassing = length
      }
    }
    this.outPending = Buffer.from(data.subarray(pos))
    return out
  }

  /** The gateway's own frames: on the wire now when node is between frames, else after its current one. */
  private inject (frames: Buffer[]): void {
    if (frames.length === 0) return
    if (this.outPassing === 0 && this.injected.length === 0) this.socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames))
    else this.injected.push(...frames)
  }

  override _final (cb: (err?: Error | null) => void): void {
    this.socket.end()
    cb()
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy()
    cb(err)
  }

  private received (chunk: Buffer): void {
    const data = this.pendingBytes.length === 0 ? chunk : Buffer.concat([this.pendingBytes, chunk])
    const out: Buffer[] = []
    let pos = 0
    if (this.prefaceLeft > 0) {
      pos = Math.min(this.prefaceLeft, data.length)
      const at = PREFACE_LENGTH - this.prefaceLeft
      if (!data.subarray(0, pos).equals(PREFACE.subarray(at, at + pos))) this.notPreface = true
      out.push(data.subarray(0, pos))
      this.prefaceLeft -= pos
      // an HTTP/2 connection past its preface is no <BADREQ> line, streams or not (as HAProxy logs them)
      if (this.prefaceLeft === 0 && !this.notPreface) markRequested(this.socket)
    }
    while (data.length - pos >= FRAME_HEAD) {
      const end = pos + FRAME_HEAD + data.readUIntBE(pos, 3)
      if (end > data.length) break
      const frame = data.subarray(pos, end)
      pos = end
      const type = frame[3]!
      if (this.windows !== null) this.inject(this.windows.received(type, frame[4]!, frame.readUInt32BE(5) & 0x7fffffff, frame.length - FRAME_HEAD))
      if (type === HEADERS || (type === CONTINUATION && this.block !== null)) {
        const block = this.block ?? []
        block.push(frame)
        if ((frame[4]! & END_HEADERS) === 0) { this.block = block; continue }
        this.block = null
        out.push(...this.complete(block))
      } else {
        // a header block interrupted by another frame is nghttp2's to refuse
        if (this.block !== null) { out.push(...this.block); this.block = null }
        out.push(frame)
      }
    }
    this.pendingBytes = data.subarray(pos)
    if (out.length > 0 && !this.push(out.length === 1 ? out[0] : Buffer.concat(out))) this.socket.pause()
  }

  /** A whole header block's frames, rewritten as one HEADERS frame when a request needs it. */
  private complete (frames: Buffer[]): Buffer[] {
    const first = frames[0]!
    const stream = first.readUInt32BE(5) & 0x7fffffff
    const opens = first[3] === HEADERS && stream > this.lastStream
    if (opens) this.lastStream = stream
    const { prefix, fragment, padding } = headersPayload(first)
    const block = frames.length === 1 ? fragment : Buffer.concat([fragment, ...frames.slice(1).map(f => f.subarray(FRAME_HEAD))])
    const fields: Array<{ name: string, value: string }> = []
    try {
      this.decoder.write(block)
      this.decoder.execute()
      for (let h = this.decoder.read(); h !== null; h = this.decoder.read()) fields.push(h)
    } catch {
      // a block HPACK cannot decode: nghttp2 answers it with a COMPRESSION_ERROR
      return frames
    }
    if (!opens) return frames
    this.windows?.opened(stream, (first[4]! & END_STREAM) !== 0, contentLength(fields))
    const verdict: Screened = { malformed: false }
    const replaced = new Map<number, Replacement>()
    let hasAuthority = false
    fields.forEach(({ name, value }, i) => {
      if (name === ':scheme' && !SCHEME.test(value)) {
        verdict.malformed = true
        replaced.set(i, { length: value.length, value: value === '' ? 'http' : 'a'.repeat(value.length) })
      } else if (name === ':method' && !METHOD.test(value)) {
        verdict.malformed = true
        replaced.set(i, { length: value.length, value: ROUTED_METHODS[value.length] ?? 'GET' })
      } else if (name === ':authority') {
        hasAuthority = true
        if (NGHTTP2_AUTHORITY.test(value)) return
        if (BAD_AUTHORITY.test(value)) verdict.malformed = true
        else verdict.authority = value
        replaced.set(i, { length: value.length, value: value === '' ? PLACEHOLDER_AUTHORITY : 'a'.repeat(value.length) })
      } else if (name === 'host') {
        hasAuthority = true
      } else if (name.charCodeAt(0) !== 58 /* : */ && PADDED_VALUE.test(value)) {
        // nghttp2 drops the field and decodes the rest: it is given back to the gateway
        ;(verdict.fields ??= []).push([name, value.trim()])
      }
    })
    if (verdict.fields !== undefined) this.screened.set(stream, verdict)
    if (hasAuthority && replaced.size === 0) return frames
    let rewritten = replaced.size === 0 ? block : replaceValues(block, replaced)
    if (rewritten === null) return frames
    // after any dynamic table size update, which must open the block (RFC 7541 §4.2)
    if (!hasAuthority) {
      const at = afterSizeUpdates(rewritten)
      rewritten = Buffer.concat([rewritten.subarray(0, at), INSERTED, rewritten.subarray(at)])
    }
    const payload = Buffer.concat([prefix, rewritten, padding])
    if (payload.length > this.maxFrame) return frames
    if (replaced.size > 0) this.screened.set(stream, verdict)
    const head = Buffer.from(first.subarray(0, FRAME_HEAD))
    head.writeUIntBE(payload.length, 0, 3)
    // the whole block in one frame: END_HEADERS set
    head[4] = head[4]! | END_HEADERS
    return [Buffer.concat([head, payload])]
  }
}

/** The verdict of the screen on an HTTP/2 request it changed, null for any other request. */
export function screenedRequest (req: IncomingMessage): Screened | null {
  if (req.httpVersionMajor !== 2) return null
  const socket = req.socket as Socket & { stream?: unknown }
  const screen = socket.stream
  if (!(screen instanceof H2RequestScreen)) return null
  const id = (req as IncomingMessage & { stream?: { id?: number } }).stream?.id
  if (id === undefined) return null
  const verdict = screen.screened.get(id)
  if (verdict === undefined) return null
  screen.screened.delete(id)
  return verdict
}

/** A request's content-length, null without one (or with one nghttp2 refuses anyway). */
function contentLength (fields: Array<{ name: string, value: string }>): number | null {
  const field = fields.find(f => f.name === 'content-length')
  return field !== undefined && /^\d+$/.test(field.value) ? Number(field.value) : null
}

/** A HEADERS frame's payload split into pad length + priority, header block fragment, padding. */
function headersPayload (frame: Buffer): { prefix: Buffer, fragment: Buffer, padding: Buffer } {
  const flags = frame[4]!
  const payload = frame.subarray(FRAME_HEAD)
  if (frame[3] !== HEADERS) return { prefix: Buffer.alloc(0), fragment: payload, padding: Buffer.alloc(0) }
  let start = 0
  let padLength = 0
  if ((flags & PADDED) !== 0) { padLength = payload[0] ?? 0; start = 1 }
  if ((flags & PRIORITY) !== 0) start += 5
  const end = Math.max(start, payload.length - padLength)
  return { prefix: payload.subarray(0, start), fragment: payload.subarray(start, end), padding: payload.subarray(end) }
}

/** Offset past the dynamic table size updates (`001xxxxx` + integer) that open a block. */
function afterSizeUpdates (fragment: Buffer): number {
  let i = 0
  while (i < fragment.length && (fragment[i]! & 0xe0) === 0x20) i = integerEnd(fragment, i, 5)
  return Math.min(i, fragment.length)
}

/** The offset just past an HPACK integer with an `n`-bit prefix starting at `i` (RFC 7541 §5.1). */
function integerEnd (buf: Buffer, i: number, n: number): number {
  const max = (1 << n) - 1
  if ((buf[i]! & max) !== max) return i + 1
  i++
  while (i < buf.length && (buf[i]! & 0x80) !== 0) i++
  return i + 1
}

/** The value of an HPACK integer with an `n`-bit prefix at `i`. */
function integerAt (buf: Buffer, i: number, n: number): number {
  const max = (1 << n) - 1
  let value = buf[i]! & max
  if (value < max) return value
  let shift = 0
  for (i++; i < buf.length; i++) {
    value += (buf[i]! & 0x7f) * 2 ** shift
    shift += 7
    if ((buf[i]! & 0x80) === 0) break
  }
  return value
}

/** An HPACK string literal's end (RFC 7541 §5.2): its length, then that many octets. */
function stringEnd (buf: Buffer, i: number): number {
  return integerEnd(buf, i, 7) + integerAt(buf, i, 7)
}

/** A raw (not Huffman-coded) HPACK string literal. */
function rawString (value: string): Buffer {
  const bytes = Buffer.from(value, 'latin1')
  const length: number[] = []
  if (bytes.length < 0x7f) {
    length.push(bytes.length)
  } else {
    length.push(0x7f)
    let rest = bytes.length - 0x7f
    while (rest >= 0x80) { length.push((rest & 0x7f) | 0x80); rest = Math.floor(rest / 0x80) }
    length.push(rest)
  }
  return Buffer.concat([Buffer.from(length), bytes])
}

/** A field value to write instead of one of `length` octets. */
interface Replacement { length: number, value: string }

/**
 * The block with the values of some field representations (by position, size updates not
 * counted) replaced, each keeping its representation and name. Null when that cannot keep both
 * HPACK tables alike: a field added to the table whose replacement is of another length.
 */
function replaceValues (block: Buffer, values: Map<number, Replacement>): Buffer | null {
  const parts: Buffer[] = []
  let field = 0
  let i = 0
  let copied = 0
  while (i < block.length) {
    const b = block[i]!
    if ((b & 0xe0) === 0x20) { i = integerEnd(block, i, 5); continue }
    if ((b & 0x80) !== 0) {
      // a value from the table: the one written there when it was added, replaced then
      i = integerEnd(block, i, 7)
      field++
      continue
    }
    const prefix = (b & 0x40) !== 0 ? 6 : 4
    const literalName = integerAt(block, i, prefix) === 0
    i = integerEnd(block, i, prefix)
    if (literalName) i = stringEnd(block, i)
    const valueStart = i
    i = stringEnd(block, i)
    const replacement = values.get(field)
    if (replacement !== undefined) {
      if ((b & 0x40) !== 0 && replacement.value.length !== replacement.length) return null
      parts.push(block.subarray(copied, valueStart), rawString(replacement.value))
      copied = i
    }
    field++
  }
  parts.push(block.subarray(copied))
  return Buffer.concat(parts)
}
