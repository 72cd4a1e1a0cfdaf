// HTTP/2 requests without `:authority` nor `host`: RFC 9113 §8.3.1 allows them and HAProxy
// serves them, but node's HTTP/2 layer (nghttp2) resets such a stream. On clear `proto h2` binds
// the gateway reads the client's frames before node does, decodes each request's header block
// (HPACK, through hpack.js) and gives a request without authority a placeholder one, which
// makeTxn drops again. Other frames pass unchanged.

import { createRequire } from 'node:module'
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'

interface HpackDecoder {
  write (block: Buffer): void
  execute (): void
  read (): { name: string, value: string } | null
}
const hpack = createRequire(import.meta.url)('hpack.js') as { decompressor: { create (o: { table: { size: number } }): HpackDecoder } }

/** The authority given to requests that had none (RFC 6761 `.invalid`: never a real host). */
export const PLACEHOLDER_AUTHORITY = 'authority.invalid'

const PREFACE_LENGTH = 24
const FRAME_HEAD = 9
const HEADERS = 0x1
const CONTINUATION = 0x9
const END_HEADERS = 0x4
const PADDED = 0x8
const PRIORITY = 0x20
/** SETTINGS_MAX_FRAME_SIZE node announces (RFC 9113 default). */
const MAX_FRAME = 16384
/** SETTINGS_HEADER_TABLE_SIZE node announces: the client's encoder table is at most this. */
const TABLE_SIZE = 4096
/** `:authority: authority.invalid`, a literal without indexing on the static table's name 1 (RFC 7541 §6.2.2). */
const INSERTED = Buffer.concat([Buffer.from([0x01, PLACEHOLDER_AUTHORITY.length]), Buffer.from(PLACEHOLDER_AUTHORITY, 'latin1')])

/** A client connection as node's HTTP/2 server reads it, with authority-less requests completed. */
export class AuthorityFiller extends Duplex {
  private pendingBytes: Buffer = Buffer.alloc(0)
  private prefaceLeft = PREFACE_LENGTH
  private readonly decoder = hpack.decompressor.create({ table: { size: TABLE_SIZE } })
  /** Frames of a header block still waiting for END_HEADERS. */
  private block: Buffer[] | null = null
  /** Highest stream the client opened: a HEADERS frame above it starts a request, else trailers. */
  private lastStream = 0

  constructor (readonly socket: Socket) {
    super()
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
    this.socket.write(chunk, cb)
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
      out.push(data.subarray(0, pos))
      this.prefaceLeft -= pos
    }
    while (data.length - pos >= FRAME_HEAD) {
      const end = pos + FRAME_HEAD + data.readUIntBE(pos, 3)
      if (end > data.length) break
      const frame = data.subarray(pos, end)
      pos = end
      const type = frame[3]!
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

  /** A whole header block's frames, the first one given an authority when a request lacks it. */
  private complete (frames: Buffer[]): Buffer[] {
    const first = frames[0]!
    const stream = first.readUInt32BE(5) & 0x7fffffff
    const opens = first[3] === HEADERS && stream > this.lastStream
    if (opens) this.lastStream = stream
    const { prefix, fragment, padding } = headersPayload(first)
    let hasAuthority = false
    try {
      this.decoder.write(Buffer.concat([fragment, ...frames.slice(1).map(f => f.subarray(FRAME_HEAD))]))
      this.decoder.execute()
      for (let h = this.decoder.read(); h !== null; h = this.decoder.read()) {
        if (h.name === ':authority' || h.name === 'host') hasAuthority = true
      }
    } catch {
      // a block HPACK cannot decode: nghttp2 answers it with a COMPRESSION_ERROR
      return frames
    }
    if (!opens || hasAuthority || first.length - FRAME_HEAD + INSERTED.length > MAX_FRAME) return frames
    // after any dynamic table size update, which must open the block (RFC 7541 §4.2)
    const at = afterSizeUpdates(fragment)
    const payload = Buffer.concat([prefix, fragment.subarray(0, at), INSERTED, fragment.subarray(at), padding])
    const head = Buffer.from(first.subarray(0, FRAME_HEAD))
    head.writeUIntBE(payload.length, 0, 3)
    return [Buffer.concat([head, payload]), ...frames.slice(1)]
  }
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
  while (i < fragment.length && (fragment[i]! & 0xe0) === 0x20) {
    if ((fragment[i]! & 0x1f) === 0x1f) {
      i++
      while (i < fragment.length && (fragment[i]! & 0x80) !== 0) i++
    }
    i++
  }
  return Math.min(i, fragment.length)
}
