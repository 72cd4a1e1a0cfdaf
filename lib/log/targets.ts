// Where framed log lines go: stdout / stderr, a UDP syslog server, a unix datagram socket.
// Never in the way of requests: every send is asynchronous and a target that cannot keep up
// (too many datagrams in flight, a stream whose buffer is full, send errors) drops the line
// and counts it, as HAProxy does with its "dropped logs" counter.

import dgram from 'node:dgram'
import { createRequire } from 'node:module'
import { isIPv6 } from 'node:net'
import type { LogTarget, ParsedConfig, Ring } from '../config/model.js'
import { RingSink } from './ring.js'

/** Datagrams allowed in flight per UDP target before lines are dropped. */
const MAX_IN_FLIGHT = 1024
/**
 * After a send error (a dead server's ICMP "port unreachable"), lines are dropped without a
 * send for this long: each failed send costs node an Error object, several times a send.
 */
const DEAD_PAUSE_MS = 1000
/** Bytes a stdout / stderr stream may hold unwritten before lines are dropped. */
const MAX_BUFFERED = 1 << 20

export interface LogSink {
  send (line: string): void
  /** Lines not delivered (target dead or too slow). */
  readonly dropped: number
  close (): void
}

/**
 * stdout / stderr: the lines of one event-loop turn are written together (one write, not one
 * per request: on Linux a pipe write is synchronous).
 */
class StreamSink implements LogSink {
  dropped = 0
  private pending = ''
  private scheduled = false
  private readonly flush = (): void => {
    this.scheduled = false
    const text = this.pending
    this.pending = ''
    if (text !== '') this.stream.write(text)
  }

  constructor (private readonly stream: NodeJS.WriteStream) {}

  send (line: string): void {
    if (this.stream.writableLength + this.pending.length > MAX_BUFFERED) { this.dropped++; return }
    this.pending += line
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flush)
    }
  }

  close (): void { this.flush() }
}

/**
 * A UDP syslog server, on a connected socket: each send skips the address lookup, and a dead
 * server's ICMP "port unreachable" comes back as an error event, counted as a dropped line.
 */
class UdpSink implements LogSink {
  dropped = 0
  /** Lines sent before the socket is connected (the first moments after start). */
  private early: string[] | null = []
  private readonly socket: dgram.Socket
  /** The server answered a send with an error: lines are dropped for DEAD_PAUSE_MS. */
  private resting = false
  private readonly wake = (): void => { this.resting = false }
  /** Lines of requests still finishing after a stop or reload closed the sink are dropped, not sent on a dead handle. */
  private closed = false

  constructor (host: string, port: number) {
    this.socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4')
    // a log target never keeps the process alive, and its errors only count
    this.socket.unref()
    this.socket.on('error', () => {
      this.dropped++
      if (this.resting) return
      this.resting = true
      setTimeout(this.wake, DEAD_PAUSE_MS).unref()
    })
    this.socket.connect(port, host, () => {
      const early = this.early ?? []
      this.early = null
      for (const line of early) this.socket.send(line)
    })
  }

  send (line: string): void {
    if (this.early !== null) {
      if (this.early.length < MAX_IN_FLIGHT) this.early.push(line)
      else this.dropped++
      return
    }
    if (this.closed || this.resting || this.socket.getSendQueueCount() >= MAX_IN_FLIGHT) { this.dropped++; return }
    this.socket.send(line)
  }

  close (): void {
    this.closed = true
    try { this.socket.close() } catch {}
  }
}

/** A UDP server on port 0 (HAProxy accepts the line), or a ring that does not exist: every line is dropped. */
class NowhereSink implements LogSink {
  dropped = 0
  send (): void { this.dropped++ }
  close (): void {}
}

/** What the optional `unix-dgram` package (a native addon: Node has no unix datagram sockets) offers. */
interface UnixDgramSocket {
  send (buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void
  on (event: 'error', listener: (err: Error) => void): void
  close (): void
}

let unixDgram: { createSocket: (type: 'unix_dgram') => UnixDgramSocket } | null | undefined

function loadUnixDgram (): typeof unixDgram {
  if (unixDgram === undefined) {
    try {
      unixDgram = createRequire(import.meta.url)('unix-dgram') as typeof unixDgram
    } catch {
      unixDgram = null
    }
  }
  return unixDgram
}

/** A unix datagram socket (`/dev/log`, `unix@/path`), through `unix-dgram`; without it every line is dropped. */
class UnixSink implements LogSink {
  dropped = 0
  private inFlight = 0
  private readonly socket: UnixDgramSocket | null

  constructor (private readonly path: string) {
    const lib = loadUnixDgram()
    this.socket = lib === null || lib === undefined ? null : lib.createSocket('unix_dgram')
    this.socket?.on('error', () => { this.dropped++ })
  }

  send (line: string): void {
    if (this.socket === null || this.inFlight >= MAX_IN_FLIGHT) { this.dropped++; return }
    const buf = Buffer.from(line, 'latin1')
    this.inFlight++
    try {
      this.socket.send(buf, 0, buf.length, this.path, (err) => {
        this.inFlight--
        if (err !== undefined && err !== null) this.dropped++
      })
    } catch {
      this.inFlight--
      this.dropped++
    }
  }

  close (): void {
    try { this.socket?.close() } catch {}
  }
}

/** Whether unix datagram targets can be served here (the optional `unix-dgram` package loads). */
export function unixSocketsAvailable (): boolean {
  return loadUnixDgram() !== null
}

/**
 * Whether a line of `level` goes to a target: not less severe than the target's level, and (with
 * `sample`) its rank among the lines the target saw in one of the ranges.
 */
export function accepts (dest: { target: LogTarget, seen: number }, level: number): boolean {
  const t = dest.target
  if (level > t.level) return false
  if (t.sample === null) return true
  const rank = (dest.seen++ % t.sample.size) + 1
  return t.sample.ranges.some(([lo, hi]) => rank >= lo && rank <= hi)
}

/** The `ring` section a `ring@<name>` target names; undefined for other targets and unknown rings. */
export function targetRing (target: LogTarget, config: ParsedConfig): Ring | undefined {
  return target.kind === 'ring' ? config.rings?.find(r => r.name === target.address) : undefined
}

/** The sink of a target; targets with the same destination share one (sockets are per destination). */
export class LogSinks {
  private readonly sinks = new Map<string, LogSink>()

  /** `ring` is the section a `ring@<name>` target names (undefined: no such ring, lines are dropped). */
  get (target: LogTarget, ring?: Ring): LogSink {
    const key = target.kind === 'ring'
      ? `ring:${target.address}:${ring === undefined ? '' : JSON.stringify([ring.size, ring.timeoutConnect, ring.servers.map(s => [s.host, s.port, s.octetCount])])}`
      : `${target.kind}:${target.address}:${target.port}`
    let sink = this.sinks.get(key)
    if (sink === undefined) {
      sink = target.kind !== 'ring' ? create(target) : ring === undefined ? new NowhereSink() : new RingSink(ring)
      this.sinks.set(key, sink)
    }
    return sink
  }

  get dropped (): number {
    let n = 0
    for (const s of this.sinks.values()) n += s.dropped
    return n
  }

  close (): void {
    for (const s of this.sinks.values()) s.close()
    this.sinks.clear()
  }
}

function create (target: LogTarget): LogSink {
  switch (target.kind) {
    case 'stdout': return new StreamSink(process.stdout)
    case 'stderr': return new StreamSink(process.stderr)
    case 'udp': return target.port === 0 ? new NowhereSink() : new UdpSink(target.address === '' ? '127.0.0.1' : target.address, target.port)
    default: return new UnixSink(target.address)
  }
}
