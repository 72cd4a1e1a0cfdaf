// The runtime API socket (`stats socket`, configuration.txt §3.1; management.txt §9.3): a unix
// socket, a TCP address or an inherited fd, speaking HAProxy's line protocol. Observed on 2.6.12:
// - without `prompt`, each line is answered and the connection closes once no complete line is
//   left in what the client sent (so `echo "a;b" | socat` and a client sending several lines at
//   once both get every answer); a line without its newline is dropped at close;
// - `prompt` toggles interactive mode: "> " after each command's answer, the connection stays open
//   until `quit`, the client closing, or `stats timeout` (10 s by default) of silence;
// - commands on one line are separated by `;`.

import { chmodSync, rmSync } from 'node:fs'
import net from 'node:net'
import type { StatsSocket } from '../config/model.js'
import { parseAddress } from '../config/args.js'
import { runCommand, splitLine, type CliRuntime, type CliSession } from './commands.js'
import { runMasterCommand } from './master.js'

/** HAProxy's default `stats timeout`. */
export const DEFAULT_CLI_TIMEOUT = 10_000
/** HAProxy's default `stats maxconn` (configuration.txt §3.1). */
export const DEFAULT_CLI_MAXCONN = 10

interface Endpoint {
  server: net.Server
  /** The unix socket file to remove at close, if any. */
  path: string | null
}

/** Where a `stats socket` address listens: a unix path, a TCP host and port, or an fd number. */
function listenOptions (address: string): { path?: string, host?: string, port?: number, fd?: number } {
  const a = parseAddress(address, { portRequired: true, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: true, env: process.env })
  if (!a.ok) throw new Error(`'stats socket ${address}': ${a.error}`)
  const v = a.value
  if (v.family === 'unix') return { path: v.host }
  if (v.family === 'fd') return { fd: Number(v.host) }
  if (v.family === 'abns') return { path: '\0' + v.host }
  return { host: v.host === '' ? '0.0.0.0' : v.host, port: v.port }
}

/** A socket as `show cli sockets` names it: `unix@/run/haproxy.sock`, `ipv4@127.0.0.1:9999`. */
function shownAddress (opts: ReturnType<typeof listenOptions>, server: net.Server): string {
  if (opts.fd !== undefined) return `fd@${opts.fd}`
  if (opts.path !== undefined) return opts.path.startsWith('\0') ? `abns@${opts.path.slice(1)}` : `unix@${opts.path}`
  const a = server.address() as net.AddressInfo
  return a.family === 'IPv6' ? `ipv6@[${a.address}]:${a.port}` : `ipv4@${a.address}:${a.port}`
}

export class RuntimeSocket {
  private readonly endpoints: Endpoint[] = []
  private readonly clients = new Set<net.Socket>()
  /**
   * Connections beyond `stats maxconn`: accepted by the system but not read until one in
   * service closes, as HAProxy stops accepting on a full listener (observed on 2.6.12: the
   * client's command is answered once a slot frees, on whichever socket it came).
   */
  private readonly waiting: Array<{ conn: net.Socket, conf: StatsSocket }> = []

  constructor (
    private readonly runtime: CliRuntime,
    private readonly sockets: readonly StatsSocket[],
    private readonly timeout: number = DEFAULT_CLI_TIMEOUT,
    /** The master CLI (`-S`): commands reach this process through `@1` / `@!<pid>`. */
    private readonly master = false,
    /** `stats maxconn`: connections served at once, all sockets together. */
    private readonly maxconn: number = DEFAULT_CLI_MAXCONN
  ) {}

  /** The TCP port an endpoint got (tests listen on port 0). */
  address (i: number): net.AddressInfo | string | null {
    return this.endpoints[i]?.server.address() ?? null
  }

  async start (): Promise<void> {
    for (const s of this.sockets) {
      const opts = listenOptions(s.address)
      const server = net.createServer({ pauseOnConnect: true }, (c) => this.admit(c, s))
      if (opts.path !== undefined && !opts.path.startsWith('\0')) rmSync(opts.path, { force: true })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        const done = (): void => { server.off('error', reject); resolve() }
        if (opts.fd !== undefined) server.listen({ fd: opts.fd }, done)
        else server.listen(opts as net.ListenOptions, done)
      })
      if (opts.path !== undefined && !opts.path.startsWith('\0') && s.mode !== null) chmodSync(opts.path, s.mode)
      this.endpoints.push({ server, path: opts.path !== undefined && !opts.path.startsWith('\0') ? opts.path : null })
      if (!this.master) this.runtime.cliSockets.push({ address: shownAddress(opts, server), level: s.level })
    }
  }

  async close (): Promise<void> {
    if (!this.master) this.runtime.cliSockets.length = 0
    for (const c of this.clients) c.destroy()
    for (const { conn } of this.waiting.splice(0)) conn.destroy()
    await Promise.all(this.endpoints.map(e => new Promise<void>(resolve => e.server.close(() => resolve()))))
    for (const e of this.endpoints) if (e.path !== null) rmSync(e.path, { force: true })
    this.endpoints.length = 0
  }

  private admit (conn: net.Socket, conf: StatsSocket): void {
    if (this.clients.size < this.maxconn) return this.accept(conn, conf)
    conn.on('error', () => conn.destroy())
    this.waiting.push({ conn, conf })
  }

  private accept (conn: net.Socket, conf: StatsSocket): void {
    this.clients.add(conn)
    // `show sess` lists the runtime API's own connections: frontend GLOBAL, a unix socket by its number
    if (!this.master) this.runtime.sessions.open(conn, 'GLOBAL', conn.remoteAddress === undefined ? { src: `unix:${this.sockets.indexOf(conf) + 1}` } : {})
    conn.on('close', () => {
      this.clients.delete(conn)
      let next = this.waiting.shift()
      while (next !== undefined && next.conn.destroyed) next = this.waiting.shift()
      if (next !== undefined) this.accept(next.conn, next.conf)
    })
    conn.on('error', () => conn.destroy())
    const session: CliSession = { level: conf.level, interactive: false, closing: false, timeout: this.timeout }
    conn.setTimeout(session.timeout, () => conn.destroy())
    let pending = ''
    // a line ending in `<<` takes the lines that follow, up to an empty one, as its payload
    let payloadOf: string | null = null
    let payload: string[] = []
    conn.setEncoding('latin1')
    conn.on('data', (chunk: string) => {
      pending += chunk
      let nl: number
      let answered = false
      while (!session.closing && (nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '')
        pending = pending.slice(nl + 1)
        if (payloadOf !== null) {
          if (line !== '') { payload.push(line); continue }
          conn.write(this.answer(payloadOf, session, payload), 'latin1')
          payloadOf = null
          payload = []
        } else if (/(^|[ \t])<<$/.test(line)) {
          payloadOf = line.slice(0, -2)
          continue
        } else {
          conn.write(this.answer(line, session, null), 'latin1')
        }
        answered = true
        conn.setTimeout(session.timeout)
      }
      if (session.closing || (answered && !session.interactive)) conn.end()
    })
    conn.on('end', () => conn.end())
    conn.resume()
  }

  /** Every command of a line, with the prompt after each in interactive mode. */
  private answer (line: string, session: CliSession, payload: string[] | null): string {
    let out = ''
    const commands = splitLine(line)
    for (let i = 0; i < commands.length; i++) {
      // the payload goes to the last command of the line
      const own = i === commands.length - 1 ? payload : null
      out += this.master ? runMasterCommand(this.runtime, commands[i]!, session, own) : runCommand(this.runtime, commands[i]!, session, own)
      if (session.closing) break
      if (session.interactive) out += '> '
    }
    return out
  }
}
