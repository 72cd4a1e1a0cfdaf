// HTTP/2 receive windows credited as HAProxy 2.6 credits them (observed on 2.6.12): a WINDOW_UPDATE
// for the stream as soon as a DATA frame has been read, END_STREAM included, before the answer;
// and the connection's window opened to its maximum (2^31-1) on the first DATA frame. nghttp2
// (node's HTTP/2) credits a stream only once half its window has been consumed, and never a
// stream the client has ended, so a client waiting for HAProxy's update waits forever.
//
// On binds read through H2RequestScreen the gateway credits the client itself and keeps node's
// own WINDOW_UPDATE frames off the wire. nghttp2 still enforces its windows, so it must never
// see more data than it allowed: it is given a larger stream window than the client is told
// (`margin`, hidden by rewriting SETTINGS_INITIAL_WINDOW_SIZE in its SETTINGS frame) and the
// largest connection window. Per stream, `ahead` is what the gateway credited beyond nghttp2's
// own credits; it never exceeds the margin, so the client's window never exceeds nghttp2's.
// When a slow reader leaves no margin, credits wait for nghttp2's, which come as node's stream
// is read: the client is held back as nghttp2 would hold it back.

export const MAX_WINDOW = 2 ** 31 - 1
/** RFC 9113 §6.5.2: the initial window of streams and of the connection. */
export const DEFAULT_WINDOW = 65535

const FRAME_HEAD = 9
const DATA = 0x0
const HEADERS = 0x1
const RST_STREAM = 0x3
const SETTINGS = 0x4
const WINDOW_UPDATE = 0x8
const END_STREAM = 0x1
const ACK = 0x1
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4

/** A receive window as the client sees it against nghttp2's. */
interface Window {
  /** Credits sent to the client beyond nghttp2's own (negative: nghttp2's not yet passed on). */
  ahead: number
  /** What the client's window lacks: bytes read and not credited yet. */
  owed: number
  /** Body bytes the request's content-length still allows, null without one. */
  expected: number | null
}

/** The window nghttp2 is given beyond the `announced` stream window, within the protocol's maximum. */
export function hiddenMargin (announced: number): number {
  return Math.min(Math.max(announced, DEFAULT_WINDOW), MAX_WINDOW - announced)
}

/** A WINDOW_UPDATE frame. */
function windowUpdate (stream: number, increment: number): Buffer {
  const frame = Buffer.alloc(FRAME_HEAD + 4)
  frame.writeUIntBE(4, 0, 3)
  frame[3] = WINDOW_UPDATE
  frame.writeUInt32BE(stream, 5)
  frame.writeUInt32BE(increment, FRAME_HEAD)
  return frame
}

/** One connection's flow control, fed with the frames each side sends. */
export class H2Windows {
  /** The streams' margin: none until the client acknowledges the SETTINGS that give nghttp2 its larger window. */
  private margin = 0
  private acknowledged = false
  private readonly streams = new Map<number, Window>()
  /** The client starts with 65535 and is owed the rest up to the maximum, as HAProxy opens it. */
  private readonly connection: Window = { ahead: 0, owed: MAX_WINDOW - DEFAULT_WINDOW, expected: null }
  /** The connection is credited from the client's first DATA frame on, as HAProxy opens it. */
  private dataSeen = false

  constructor (
    /** The stream window announced to the client (`tune.h2.initial-window-size`). */
    private readonly announced: number,
    /** What nghttp2 was given on top of it (its SETTINGS_INITIAL_WINDOW_SIZE is announced + margin). */
    private readonly hidden: number
  ) {}

  /** A request opened on `stream` (its HEADERS frame), with its content-length if any. */
  opened (stream: number, ended: boolean, contentLength: number | null): void {
    if (!ended) this.streams.set(stream, { ahead: 0, owed: 0, expected: contentLength })
  }

  /** A frame from the client, before nghttp2 reads it: the WINDOW_UPDATE frames to send at once. */
  received (type: number, flags: number, stream: number, length: number): Buffer[] {
    if (type === SETTINGS) {
      if ((flags & ACK) !== 0 && !this.acknowledged) {
        this.acknowledged = true
        this.margin = this.hidden
      }
      return []
    }
    if (type === RST_STREAM || (type === HEADERS && (flags & END_STREAM) !== 0)) {
      this.streams.delete(stream)
      return []
    }
    if (type !== DATA || length === 0) return []
    const out: Buffer[] = []
    const window = this.streams.get(stream)
    if (window !== undefined) {
      const ended = (flags & END_STREAM) !== 0
      if (window.expected !== null) window.expected -= length
      // a body longer or shorter than its content-length: nghttp2 resets the stream, as HAProxy does, uncredited
      if (window.expected !== null && (window.expected < 0 || (ended && window.expected !== 0))) {
        this.streams.delete(stream)
      } else {
        window.owed += length
        const update = this.credit(window, stream, this.margin)
        if (update !== null) out.push(update)
        if (ended) this.streams.delete(stream)
      }
    }
    this.dataSeen = true
    this.connection.owed += length
    const update = this.credit(this.connection, 0, 0)
    if (update !== null) out.push(update)
    return out
  }

  /**
   * A frame nghttp2 sends that flow control concerns (WINDOW_UPDATE, SETTINGS): what goes on the
   * wire instead. nghttp2's credits make room for the gateway's; its window setting is told as announced.
   */
  sent (frame: Buffer): Buffer[] {
    if (frame[3] === SETTINGS) return [this.announcedSettings(frame)]
    const stream = frame.readUInt32BE(5) & 0x7fffffff
    const window = stream === 0 ? this.connection : this.streams.get(stream)
    if (window === undefined) return []
    window.ahead -= frame.readUInt32BE(FRAME_HEAD) & 0x7fffffff
    if (stream === 0 && !this.dataSeen) return []
    const update = this.credit(window, stream, stream === 0 ? 0 : this.margin)
    return update === null ? [] : [update]
  }

  /** Credits what the window is owed, as far as nghttp2's window allows. */
  private credit (window: Window, stream: number, margin: number): Buffer | null {
    const pay = Math.min(window.owed, margin - window.ahead)
    if (pay <= 0) return null
    window.owed -= pay
    window.ahead += pay
    return windowUpdate(stream, pay)
  }

  /** nghttp2's SETTINGS frame with the initial window the client is told (none when it is the default). */
  private announcedSettings (frame: Buffer): Buffer {
    if (this.hidden === 0) return frame
    const params: Buffer[] = []
    for (let i = FRAME_HEAD; i + 6 <= frame.length; i += 6) {
      const param = frame.subarray(i, i + 6)
      if (param.readUInt16BE(0) !== SETTINGS_INITIAL_WINDOW_SIZE) { params.push(param); continue }
      if (this.announced === DEFAULT_WINDOW) continue
      const told = Buffer.from(param)
      told.writeUInt32BE(this.announced, 2)
      params.push(told)
    }
    const head = Buffer.from(frame.subarray(0, FRAME_HEAD))
    head.writeUIntBE(params.length * 6, 0, 3)
    return Buffer.concat([head, ...params])
  }
}
