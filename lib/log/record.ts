// What one request's log line is made of: filled by the gateway while the request runs (the
// forward path writes timings, bytes and the termination state here and nowhere else), read
// once by the logger when the response is over (configuration.txt §8.2.3, §8.4, §8.5).

import type { Socket } from 'node:net'
import type { HttpTxn } from '../acl/txn.js'

export class LogRecord {
  /** Accept date of the connection (`%t`), ms since the epoch. */
  accepted: number
  /** `%Ti`: the connection's idle time before this request (ms). */
  idle: number
  /** `%Th`: the TLS handshake's time, on a connection's first request only (ms). */
  handshake = 0
  /** `%TR`: from the request's first byte to the end of its head (ms), and of a body the gateway waited for. */
  headTime: number
  /** No request came, only a connection (`<BADREQ>`). */
  badRequest = false
  /** `%Tw`: time spent waiting for a server (queues), -1 when the request never got that far. */
  tw = -1
  /** `%Tc`: time to connect to the server (0 on a kept-alive connection), -1 when not connected. */
  tc = -1
  /** `%Tr`: time from sending the request to the server's response headers, -1 when none came. */
  tr = -1
  /** Time the response's last byte left (set by the logger). */
  end = 0
  /** The status sent to the client, -1 when none (client aborts). */
  status = -1
  /** `%B`: response bytes to the client (HAProxy's counting, see lib/errors.ts). */
  bytesOut = 0
  /** `%U`: request bytes from the client. */
  bytesIn = 0
  /** `%b`: the backend, or null for the frontend itself (rule verdicts, stats). */
  backend: string | null = null
  /** `%s`: `<NOSRV>` until a server is picked, `<STATS>` for the stats page. */
  server = '<NOSRV>'
  /** Server address and port of the last attempt (`%si`, `%sp`). */
  serverAddr = '-'
  serverPort = 0
  /** The source address and port of the server connection (`%bi`, `%bp`), once one carried the request. */
  sourceAddr = '-'
  sourcePort = 0
  /** `%ts`: who ended the stream and in which phase (§8.5), '--' when all went well. */
  term = '--'
  /** `%tsc` 3rd and 4th characters: the persistence cookie, request and response side. */
  cookie = '--'
  /** `%rc`: connection retries; `+` in front when the request was redispatched. */
  retries = 0
  redispatched = false
  /** `%sq` / `%bq`: requests ahead in the server's and backend's queues when this one was queued. */
  srvQueue = 0
  beQueue = 0
  /** The response headers as sent (flat name/value list), kept only when `keepHeaders`. */
  resHeaders: string[] | null = null
  /** The algorithm `compression` applied to the answer (`%[res.comp]`, `%[res.comp_algo]`). */
  compression: string | null = null
  /** The format reads response headers (captures, `%[res.*]`). */
  keepHeaders = false
  /** `capture request|response header` values, in slot order (null when the proxy has none). */
  reqCaptures: Array<string | null> | null = null
  resCaptures: Array<string | null> | null = null
  /** `capture cookie`: the request's and the response's cookie (`%CC`, `%CS`). */
  cookieCaptures: [string | null, string | null] | null = null
  /** `%ID`: the unique id, computed once. */
  uniqueId: string | null = null
  /** `%rt`: the request counter of the process. */
  readonly counter: number
  /** Bytes and termination were logged before the end (`option logasap`). */
  early = false
  /** Not the gateway's request after all (the app served it): no line. */
  silent = false
  /** `option logasap`: writes the line as soon as the response headers are sent (set by the gateway). */
  asap: (() => void) | null = null
  /** The line was written already. */
  logged = false

  /**
   * The request line as received (`%r`, `%HU` …): rules that rewrite the path do not change it.
   * Past `tune.http.logurilen` bytes it is cut, and its parts are what is left: no protocol
   * (`%HV` shows `HTTP/0.9`), part of one, or (`cut`) not even a whole method (observed on 2.6.12).
   */
  method: string
  uri = ''
  /** `HTTP/1.1`; null when the cut took it all. */
  protocol: string | null = null
  /** The cut left no whole method: `%r` is what is left, the parts print `<BADREQ>`. */
  cut = false

  constructor (
    readonly txn: HttpTxn,
    /** The client connection (for TLS facts), null when unknown. */
    readonly socket: Socket | null,
    uri: string,
    /** When the request arrived (its headers were read, and a body the gateway waited for), ms since the epoch. */
    public start: number,
    accepted: number,
    idleSince: number,
    headTime = 0,
    /** `tune.http.logurilen`: the request line is kept to this many bytes. */
    lineLimit = DEFAULT_LOG_URI_LEN
  ) {
    this.method = txn.method
    const protocol = PROTOCOLS[txn.version] ?? `HTTP/${txn.version}`
    if (this.method.length + uri.length + protocol.length + 2 <= lineLimit) {
      this.uri = uri
      this.protocol = protocol
    } else {
      this.cutLine(`${this.method} ${uri} ${protocol}`.slice(0, lineLimit))
    }
    this.accepted = accepted
    this.headTime = headTime
    this.idle = Math.max(0, start - headTime - idleSince)
    this.counter = requestCounter++
  }

  /** The request line as logged (`%r`). */
  get line (): string {
    if (this.cut) return this.method
    return this.protocol === null ? `${this.method} ${this.uri}` : `${this.method} ${this.uri} ${this.protocol}`
  }

  private cutLine (line: string): void {
    const sp1 = line.indexOf(' ')
    if (sp1 < 0) {
      this.method = line
      this.cut = true
      return
    }
    this.method = line.slice(0, sp1)
    const sp2 = line.indexOf(' ', sp1 + 1)
    this.uri = sp2 < 0 ? line.slice(sp1 + 1) : line.slice(sp1 + 1, sp2)
    if (sp2 >= 0) this.protocol = line.slice(sp2 + 1)
  }

  /**
   * The gateway waited `ms` for the request's body (`option http-buffer-request`, `http-request
   * wait-for-body`): HAProxy counts that in `%TR`, not in `%Tw` (observed on 2.6.12).
   */
  bodyWaited (ms: number): void {
    this.start += ms
    this.headTime += ms
  }

  /** Sets the termination state unless one was set already (the first cause wins). */
  terminate (state: string): void {
    if (this.term === '--') this.term = state
  }
}

let requestCounter = 0

/**
 * Bytes of the request line kept without `tune.http.logurilen`: its default is 1024, but then
 * HAProxy 2.6.12 keeps 1023 (observed), where `tune.http.logurilen 1024` keeps 1024.
 */
export const DEFAULT_LOG_URI_LEN = 1023

const PROTOCOLS: Record<string, string> = { '1.0': 'HTTP/1.0', '1.1': 'HTTP/1.1', '2.0': 'HTTP/2.0' }
