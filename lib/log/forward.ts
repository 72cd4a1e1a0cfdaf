// A `log-forward` section (configuration.txt §3.10): syslog listeners, UDP (`dgram-bind`, one
// message per datagram) and TCP (`bind`, RFC 6587 octet counting or one message per '\n'), whose
// messages go to the section's `log` targets, each written in the target's format or, without
// one, in the format it came in (lib/log/received.ts). Framing details recorded from real
// HAProxy: a datagram loses one trailing '\n' and its trailing NULs, a TCP line its '\r'.

import dgram from 'node:dgram'
import net, { isIPv6 } from 'node:net'
import type { LogForward, LogFraming, LogTarget, ParsedConfig } from '../config/model.js'
import { parseReceived, reformat } from './received.js'
import { accepts, targetRing, type LogSink, type LogSinks } from './targets.js'

interface ForwardTarget {
  target: LogTarget
  sink: LogSink
  /** null: the received line's own format. */
  format: LogFraming | null
  maxLen: number
  seen: number
}

export class LogForwarder {
  private readonly targets: ForwardTarget[]
  private readonly udp: dgram.Socket[] = []
  private readonly tcp: net.Server[] = []
  private readonly connections = new Set<net.Socket>()

  constructor (private readonly section: LogForward, config: ParsedConfig, sinks: LogSinks) {
    const targets = section.logs.flatMap(t => t === 'global' ? config.global.logs : [t])
    this.targets = targets.map(target => {
      const ring = targetRing(target, config)
      return {
        target,
        sink: sinks.get(target, ring),
        format: ring?.format ?? (target.formatGiven ? target.format : null),
        maxLen: ring?.maxLen ?? target.maxLen,
        seen: 0
      }
    })
  }

  /** Opens the listeners; rejects when an address cannot be bound. */
  async start (): Promise<void> {
    for (const b of this.section.dgramBinds) {
      const socket = dgram.createSocket(isIPv6(b.host) ? 'udp6' : 'udp4')
      this.udp.push(socket)
      socket.on('message', (buf) => { this.receive(datagramText(buf)) })
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.bind(b.port, b.host === '' ? undefined : b.host, () => { socket.off('error', reject); resolve() })
      })
      socket.on('error', () => {})
    }
    for (const b of this.section.binds) {
      const server = net.createServer(socket => { this.accept(socket) })
      server.maxConnections = this.section.maxconn
      this.tcp.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ port: b.port, host: b.host === '' ? undefined : b.host, ...(this.section.backlog === null ? {} : { backlog: this.section.backlog }) }, () => {
          server.off('error', reject)
          resolve()
        })
      })
    }
  }

  async close (): Promise<void> {
    for (const s of this.udp) s.close()
    for (const c of this.connections) c.destroy()
    await Promise.all(this.tcp.map(async s => { await new Promise(resolve => s.close(resolve)) }))
  }

  private accept (socket: net.Socket): void {
    this.connections.add(socket)
    socket.once('close', () => { this.connections.delete(socket) })
    socket.on('error', () => {})
    if (this.section.timeoutClient !== null) {
      socket.setTimeout(this.section.timeoutClient)
      socket.on('timeout', () => { socket.destroy() })
    }
    let buf: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      let at = 0
      for (;;) {
        const next = nextFrame(buf, at)
        if (next === null) break
        this.receive(next.text)
        at = next.end
      }
      buf = buf.subarray(at)
    })
  }

  private receive (text: string): void {
    const r = parseReceived(text)
    const level = r.pri === null ? 0 : r.pri & 7
    const now = Date.now()
    for (let i = 0; i < this.targets.length; i++) {
      const d = this.targets[i]!
      if (!accepts(d, level)) continue
      const line = reformat(r, d.format, d.target.facility, now)
      d.sink.send((line.length > d.maxLen ? line.slice(0, d.maxLen) : line) + '\n')
    }
  }
}

/** A datagram's message: one trailing '\n' and any trailing NULs are not part of it. */
function datagramText (buf: Buffer): string {
  let end = buf.length
  while (end > 0 && buf[end - 1] === 0) end--
  if (end > 0 && buf[end - 1] === 10) end--
  return buf.toString('utf8', 0, end)
}

/**
 * The next message of a TCP stream from `at`: `<length> <message>` when it starts with a digit
 * (octet counting), else the text up to '\n' without a trailing '\r'; null until it is complete.
 */
function nextFrame (buf: Buffer, at: number): { text: string, end: number } | null {
  if (at >= buf.length) return null
  const first = buf[at]!
  if (first >= 0x31 && first <= 0x39) {
    const space = buf.indexOf(0x20, at)
    if (space < 0) return null
    const len = Number(buf.toString('latin1', at, space))
    if (Number.isSafeInteger(len)) {
      if (space + 1 + len > buf.length) return null
      return { text: buf.toString('utf8', space + 1, space + 1 + len), end: space + 1 + len }
    }
  }
  const nl = buf.indexOf(10, at)
  if (nl < 0) return null
  const end = nl > at && buf[nl - 1] === 13 ? nl - 1 : nl
  return { text: buf.toString('utf8', at, end), end: nl + 1 }
}

/** Starts every `log-forward` section of a configuration; on a bind error the others are closed again. */
export async function startLogForwarders (config: ParsedConfig, sinks: LogSinks): Promise<LogForwarder[]> {
  const started: LogForwarder[] = []
  try {
    for (const section of config.logForwards ?? []) {
      const f = new LogForwarder(section, config, sinks)
      started.push(f)
      await f.start()
    }
  } catch (err) {
    await Promise.all(started.map(f => f.close()))
    throw err
  }
  return started
}
