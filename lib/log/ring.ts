// A `ring` section's servers (configuration.txt §3.9): each gets every line of the ring over a
// TCP connection, one line per '\n' (`log-proto legacy`, the default) or `<length> <line>`
// (`log-proto octet-count`, RFC 6587), as recorded from real HAProxy. Lines wait in memory, up to
// the ring's `size` bytes per server, while a server is connecting or slow; beyond that new
// lines are dropped and counted (HAProxy: a stuck server blocks new messages). A connection
// that fails or closes is opened again after a pause.

import net from 'node:net'
import type { Ring, RingServer } from '../config/model.js'
import type { LogSink } from './targets.js'

/** Pause before connecting again to a ring server that refused or closed. */
const RECONNECT_MS = 1000

class RingLink {
  dropped = 0
  private socket: net.Socket | null = null
  private connected = false
  private pending: string[] = []
  private pendingBytes = 0
  private retry: NodeJS.Timeout | null = null
  private closed = false

  constructor (private readonly server: RingServer, private readonly ring: Ring) {
    this.connect()
  }

  send (line: string): void {
    const framed = this.server.octetCount ? `${Buffer.byteLength(line) - 1} ${line.slice(0, -1)}` : line
    // lines already waiting go first, so a line never overtakes an earlier one
    if (this.connected && this.socket !== null && this.pending.length === 0 && this.socket.writableLength < this.ring.size) {
      this.socket.write(framed)
      return
    }
    // the ring's size is in bytes, not in UTF-16 code units
    const bytes = Buffer.byteLength(framed)
    if (this.pendingBytes + bytes > this.ring.size) { this.dropped++; return }
    this.pending.push(framed)
    this.pendingBytes += bytes
  }

  /** Writes the waiting lines: once connected, and whenever a slow server has taken what was written. */
  private flush (socket: net.Socket): void {
    if (this.pending.length === 0) return
    const text = this.pending.join('')
    this.pending = []
    this.pendingBytes = 0
    socket.write(text)
  }

  private connect (): void {
    if (this.closed) return
    // a write that leaves `size` bytes or more unsent asks for 'drain', which sends the lines kept
    // meanwhile (a socket takes a Duplex's options, which @types/node does not list for connect)
    const options: net.NetConnectOpts & { writableHighWaterMark: number } = { host: this.server.host, port: this.server.port, writableHighWaterMark: this.ring.size }
    const socket = net.connect(options)
    this.socket = socket
    socket.unref()
    socket.setNoDelay(true)
    if (this.ring.timeoutConnect !== null) socket.setTimeout(this.ring.timeoutConnect)
    socket.on('timeout', () => { socket.destroy() })
    socket.on('error', () => {})
    socket.once('connect', () => {
      socket.setTimeout(0)
      this.connected = true
      this.flush(socket)
    })
    socket.on('drain', () => { this.flush(socket) })
    // a syslog server does not talk back: what it sends is read and ignored
    socket.on('data', () => {})
    socket.once('close', () => {
      this.connected = false
      this.socket = null
      if (this.closed) return
      this.retry = setTimeout(() => { this.retry = null; this.connect() }, RECONNECT_MS)
      this.retry.unref()
    })
  }

  close (): void {
    this.closed = true
    if (this.retry !== null) clearTimeout(this.retry)
    // what was written is sent before the connection ends
    this.socket?.end()
  }
}

/** The sink of a `log ring@<name>` target: every line goes to each server of the ring. */
export class RingSink implements LogSink {
  private readonly links: RingLink[]

  constructor (ring: Ring) {
    this.links = ring.servers.map(s => new RingLink(s, ring))
  }

  get dropped (): number {
    let n = 0
    for (const l of this.links) n += l.dropped
    return n
  }

  send (line: string): void {
    for (let i = 0; i < this.links.length; i++) this.links[i]!.send(line)
  }

  close (): void {
    for (const l of this.links) l.close()
  }
}
