// The logs of a running configuration: each proxy's targets (its `log` lines, `log global`
// expanded), request lines in the proxy's format, and the messages of servers and health checks,
// at HAProxy's levels (configuration.txt §8.1, §8.3).

import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Http2Session } from 'node:http2'
import type { CaptureSlot, LogTarget, ParsedConfig, Proxy } from '../config/model.js'
import type { StickTables } from '../runtime/stick-table.js'
import type { CompileEnv } from '../acl/env.js'
import { sharedFor } from '../acl/compile.js'
import type { HttpTxn } from '../acl/txn.js'
import { captureRequest, captureResponse, firstValue } from '../acl/captures.js'
import { compileLogFormat, dateMs, type ConnectionCounts, type LogFormat } from './format.js'
import { HTTPLOG_FORMAT, sessionFormat } from './formats.js'
import { DEFAULT_LOG_URI_LEN, LogRecord } from './record.js'
import { frame, LOG_ERR, LOG_INFO, type Framing } from './syslog.js'
import { accepts, targetRing, type LogSink, type LogSinks } from './targets.js'
import { connectionTxn, requestTarget } from '../runtime/forward.js'
import { plainAddress } from '../acl/ip.js'
import { announcement } from '../proxy-protocol.js'
import { PREFACE } from '../h2-preface.js'

interface Destination {
  target: LogTarget
  sink: LogSink
  framing: Framing
  /** Lines seen by this target, for `sample`. */
  seen: number
}

/** Where one proxy's lines go. */
export class LogTargets {
  private readonly dests: Destination[]

  constructor (targets: readonly LogTarget[], config: ParsedConfig, tag: string, sinks: LogSinks) {
    const host = config.global.logSendHostname ?? ''
    this.dests = targets.map(target => {
      // a ring frames its lines in its own format, cut at its own `maxlen`
      const ring = targetRing(target, config)
      return {
        target,
        sink: sinks.get(target, ring),
        framing: {
          // `log-send-hostname` turns the default format into rfc3164 (with the host)
          format: ring?.format ?? target.format,
          facility: target.facility,
          host,
          tag,
          pid: process.pid,
          maxLen: ring?.maxLen ?? target.maxLen
        },
        seen: 0
      }
    })
  }

  get empty (): boolean { return this.dests.length === 0 }

  /** The proxy's `log` lines in the order written, `log global` replaced by the global ones. */
  static of (proxy: Proxy | null, config: ParsedConfig): LogTarget[] {
    if (proxy === null) return config.global.logs
    const out: LogTarget[] = []
    for (const t of proxy.logs) {
      if (t === 'global') out.push(...config.global.logs)
      else out.push(t)
    }
    return out
  }

  send (level: number, msg: string, sd = '-'): void {
    const now = Date.now()
    for (let i = 0; i < this.dests.length; i++) {
      const d = this.dests[i]!
      const t = d.target
      if (!accepts(d, level)) continue
      d.sink.send(frame(d.framing, level < t.minLevel ? t.minLevel : level, msg, now, sd))
    }
  }
}

/** Header values a capture keeps: the first occurrence, cut to its length. */
/** `capture cookie <name>`: `name=value` of the first such cookie in a header value, cut to `len`. */
function cookieCapture (header: string | undefined, name: string, len: number): string | null {
  if (header === undefined) return null
  for (const part of header.split(';')) {
    const p = part.trim()
    if (p.startsWith(name) && p.charCodeAt(name.length) === 61 /* = */) return p.length > len ? p.slice(0, len) : p
  }
  return null
}

/**
 * What a client connection's lines need, as symbols on its socket: its accept date, the start of
 * its idle time (the accept, the TLS handshake's end, then the end of each answer), the
 * handshake's duration until a request reports it (`%Th`), whether a request began on it, and
 * the error page node's HTTP parser answered in place of a request.
 */
const kAccepted = Symbol('fastify-haproxy.log.accepted')
const kIdleSince = Symbol('fastify-haproxy.log.idleSince')
const kHandshake = Symbol('fastify-haproxy.log.handshake')
const kRequested = Symbol('fastify-haproxy.log.requested')
const kClientError = Symbol('fastify-haproxy.log.clientError')
const kBytesIn = Symbol('fastify-haproxy.log.bytesIn')
const kSecured = Symbol('fastify-haproxy.log.secured')
const kHeadTime = Symbol('fastify-haproxy.log.headTime')
const kSelf = Symbol('fastify-haproxy.log.self')
const kTls = Symbol('fastify-haproxy.log.tls')
const kHttp2 = Symbol('fastify-haproxy.log.http2')
const kTimedOut = Symbol('fastify-haproxy.log.h2TimedOut')
const kRefused = Symbol('fastify-haproxy.log.h2Refused')
type Stamped = Socket & {
  [kAccepted]?: number
  [kIdleSince]?: number
  [kHandshake]?: number
  [kRequested]?: boolean
  [kClientError]?: 400 | 408 | 422
  [kBytesIn]?: number
  [kSecured]?: boolean
  [kHeadTime]?: number
  /** The stamped socket itself, read through the proxy node's HTTP/2 layer gives requests as their socket. */
  [kSelf]?: Stamped
  /** A TCP connection's TLS socket, once its handshake is done: the bytes the client sent in it. */
  [kTls]?: Stamped
  /** The connection speaks HTTP/2 (a `proto h2` bind, or ALPN `h2`). */
  [kHttp2]?: boolean
  /** The HTTP/2 session's timeout (`timeout client`) closed the connection. */
  [kTimedOut]?: boolean
  /** Resolves as the HTTP/2 session ends: whether node's HTTP/2 layer refused what came as the preface. */
  [kRefused]?: Promise<boolean>
  /** A TLS socket's TCP connection (node's own field). */
  _parent?: Stamped | null
  /** node's HTTP/1 parser of the connection: `duration()` is the time since the current message began (ms). */
  parser?: { duration?: () => number } | null
  /** The stream node's HTTP/2 layer wraps (H2RequestScreen on clear `proto h2` binds, lib/h2-screen.ts). */
  stream?: { socket?: Stamped }
}

/**
 * The connection a request came on, where its stamps are. node's HTTP/2 layer gives requests a
 * proxy of it as their socket, which forgets it once the stream is over; on clear `proto h2`
 * binds node reads the connection through the gateway's screen, whose `socket` it is.
 */
function connectionOf (socket: Socket): Stamped {
  const s = socket as Stamped
  return s[kSelf] ?? s.stream?.socket ?? s
}

/** Marks a connection's accept date (`%t`, and the start of its first idle time). */
export function stampAccept (socket: Socket, now: number): void {
  const s = socket as Stamped
  s[kAccepted] = now
  s[kIdleSince] = now
  s[kSelf] = s
  // node keeps the peer's address once read: a line written after the close (a failed TLS handshake) needs it
  void socket.remoteAddress
}

/** A TLS connection's handshake is done: `%t` stays the TCP accept, `%Th` is the handshake's time. */
export function stampHandshake (socket: Socket, now: number): void {
  const s = socket as Stamped
  const accepted = s._parent?.[kAccepted] ?? now
  s[kAccepted] = accepted
  s[kIdleSince] = now
  s[kHandshake] = now - accepted
  s[kSelf] = s
  if (s._parent != null) {
    s._parent[kSecured] = true
    s._parent[kTls] = s
    if ((socket as TLSSocket).alpnProtocol === 'h2') s._parent[kHttp2] = true
  }
}

/** The connection speaks HTTP/2 from its first byte (a clear `proto h2` bind's, lib/h2-screen.ts). */
export function markHttp2 (socket: Socket): void {
  (socket as Stamped)[kHttp2] = true
}

/**
 * An HTTP/2 session of a bind: its timeout is remembered on its TCP connection, whose close
 * writes the line. `session.socket` is node's proxy of the TLS socket, or of node's wrapper of a
 * clear bind's screen (lib/h2-screen.ts), whose `socket` the connection is.
 */
export function watchHttp2Session (session: Http2Session): void {
  const s = session.socket as Stamped
  // read now: once the session is over, its proxy throws on every property
  const connection = s._parent ?? s.stream?.socket
  if (connection == null) return
  // node's own listener (the server's `timeout`) closes the session; this one only notes it
  session.once('timeout', () => { connection[kTimedOut] = true })
  // the session's error comes once its socket closed, after the connection's close
  let refused = false
  session.once('error', (err: Error & { code?: string }) => { refused = err.code === 'ERR_HTTP2_ERROR' })
  connection[kRefused] = new Promise(resolve => session.once('close', () => { resolve(refused) }))
}

/**
 * Whether HAProxy logs an HTTP/2 connection that opened no stream (observed on 2.6.12, clear
 * `proto h2` and TLS `alpn h2` binds alike): never when a timeout closed it; short of the 24
 * bytes of the preface, when the client closed it (FIN or reset); past them, only when they were
 * not the preface (node's HTTP/2 layer refused them), which its session tells when it ends.
 */
function badHttp2 (s: Stamped): boolean | Promise<boolean> {
  if (s[kTimedOut] === true) return false
  if ((s[kTls] ?? s).bytesRead < PREFACE.length) return true
  return s[kRefused] ?? false
}

/**
 * A request began on the connection (whoever answers it): its close is no `<BADREQ>`. Called as
 * its head is parsed: node's HTTP/1 parser says how long ago its first byte came (`%TR`).
 */
export function markRequested (socket: Socket): void {
  const s = socket as Stamped
  s[kRequested] = true
  s[kHeadTime] = s.parser?.duration?.() ?? 0
  if (s._parent != null) s._parent[kRequested] = true
}

/** node's HTTP parser answered the connection with HAProxy's 400 (bad request) or 408 (`timeout http-request`). */
export function markClientError (socket: Socket, status: 400 | 408 | 422): void {
  // on the TCP connection, whose close writes the line
  const s = (socket as Stamped)._parent ?? socket as Stamped
  // the first cause wins: a TLS connection's `timeout http-request`, then its TLS socket's error
  if (s[kClientError] !== undefined) return
  s[kClientError] = status
  // read while the handle is open: once the socket is closed, node may no longer know (the
  // client's bytes inside TLS on a TLS connection)
  s[kBytesIn] = (s[kTls] ?? socket).bytesRead
}

/** How a connection that closed before any request began ended, as HAProxy logs and counts it. */
export interface RequestlessEnd {
  /** 400 (the client left, or node's parser refused what came), 408 (`timeout http-request`), 0 (HTTP/2). */
  readonly status: number
  readonly term: 'CR' | 'cR' | 'PR'
  /** Not a byte came (inside TLS on a TLS bind): a probe for `option http-ignore-probes`, null for `option dontlognull`. */
  readonly empty: boolean
}

/**
 * The end of a closed connection on which no request began (`<BADREQ>`): `%ST` 400 `CR` (the
 * client left), 408 `cR` (`timeout http-request`), 400 `PR` (a request node's parser refused),
 * an HTTP/2 one that never completed its preface 0 `PR`; null when a request began, or on a TLS
 * bind (`tls`) when the handshake never completed.
 */
export function requestlessEnd (socket: Socket, tls: boolean): RequestlessEnd | null {
  const s = socket as Stamped
  if (s[kRequested] === true || (tls && s[kSecured] !== true)) return null
  const empty = (s[kBytesIn] ?? (s[kTls] ?? socket).bytesRead) === 0
  if (s[kHttp2] === true) return { status: 0, term: 'PR', empty }
  const error = s[kClientError]
  return { status: error ?? 400, term: error === 408 ? 'cR' : error === 400 || error === 422 ? 'PR' : 'CR', empty }
}

/** A frontend's access log: its targets, format and `option` flags, compiled once. */
export class AccessLog {
  readonly targets: LogTargets
  private readonly format: LogFormat
  private readonly sd: LogFormat | null
  private readonly errorFormat: LogFormat | null
  private readonly dontlogNormal: boolean
  private readonly separateErrors: boolean
  private readonly dontlogNull: boolean
  /** `option http-ignore-probes`: a connection that sent nothing is not logged (nor counted, nor answered 408). */
  private readonly ignoreProbes: boolean
  readonly logasap: boolean
  private readonly reqSlots: readonly CaptureSlot[]
  private readonly resSlots: readonly CaptureSlot[]
  private readonly cookie: { name: string, len: number } | null
  private readonly uniqueId: LogFormat | null
  readonly uniqueIdHeader: string | null
  /** The format reads response headers (captures, `%[res.*]`). */
  readonly wantsResponseHeaders: boolean
  /** HAProxy's default format: no request line, a "Connect from" line per connection. */
  readonly connectLines: boolean
  private lines = 0
  /** `tune.http.logurilen`: bytes of the request line a log line keeps (a negative one cuts nothing, as in HAProxy). */
  private readonly lineLimit: number

  constructor (readonly proxy: Proxy, config: ParsedConfig, targets: LogTargets, counts: ConnectionCounts, private readonly toRequest: boolean, tables?: StickTables) {
    this.targets = targets
    const limit = config.global.logUriLen ?? DEFAULT_LOG_URI_LEN
    this.lineLimit = limit < 0 ? Infinity : limit
    const shared = sharedFor(config)
    const env: CompileEnv = { config, proxy, files: shared.files, userlist: (n) => shared.userlists.get(n), warn: () => {}, ...(tables === undefined ? {} : { stickTable: (n: string) => tables.get(n) }) }
    const lc = (): number => this.lines
    // without a format, HAProxy logs one "Connect from" line per connection; a request's
    // logger (no target in the config) gets the httplog line instead
    const format = proxy.mode === 'tcp' && proxy.modeExplicit ? sessionFormat(proxy.logFormat) : proxy.logFormat
    this.connectLines = format === null && !targets.empty
    this.format = compileLogFormat(format ?? (targets.empty ? HTTPLOG_FORMAT : ''), env, counts, lc)
    this.sd = proxy.logFormatSd === null ? null : compileLogFormat(proxy.logFormatSd, env, counts, lc)
    this.errorFormat = proxy.errorLogFormat === null ? null : compileLogFormat(proxy.errorLogFormat, env, counts, lc)
    this.uniqueId = proxy.uniqueIdFormat === null ? null : compileLogFormat(proxy.uniqueIdFormat, env, counts, lc)
    this.uniqueIdHeader = proxy.uniqueIdHeader
    const o = proxy.options
    this.dontlogNormal = o['dontlog-normal'] === true
    this.separateErrors = o['log-separate-errors'] === true
    this.logasap = o.logasap === true
    this.dontlogNull = o.dontlognull === true
    this.ignoreProbes = o['http-ignore-probes'] === true
    this.reqSlots = proxy.requestCaptures
    this.resSlots = proxy.responseCaptures
    this.cookie = proxy.captureCookie
    this.wantsResponseHeaders = this.resSlots.length > 0 || this.cookie !== null || /%\[res\.|%\[(?:s|res_)?hdr|%\[status/.test(`${proxy.logFormat ?? ''} ${proxy.logFormatSd ?? ''}`)
  }

  /** The record of a request the frontend handles (hot path: one object, captures only when configured). */
  begin (txn: HttpTxn, req: IncomingMessage, now: number): LogRecord {
    const socket = connectionOf(req.socket)
    const idleSince = socket[kIdleSince] ?? now
    const headTime = Math.min(Math.floor(socket[kHeadTime] ?? 0), now - idleSince)
    const handshake = socket[kHandshake] ?? 0
    // `%t` is where the request's idle time began: the TCP accept for a connection's first
    // request (before its TLS handshake), else the end of the one before (observed on 2.6.12)
    const rec = new LogRecord(txn, socket, requestTarget(req), now, idleSince - handshake, idleSince, headTime > 0 ? headTime : 0, this.lineLimit)
    txn.log = rec
    // the next request's idle time starts here too: an HTTP/2 stream opened while this one
    // runs counts its %Ti from this one's head (observed on HAProxy 2.6.12)
    socket[kIdleSince] = now
    if (handshake > 0) {
      rec.handshake = handshake
      socket[kHandshake] = 0
    }
    if (this.reqSlots.length > 0) {
      captureRequest(txn, this.reqSlots)
      rec.reqCaptures = txn.reqCaptures!
    }
    if (this.resSlots.length > 0) rec.resCaptures = txn.resCaptures ??= this.resSlots.map(() => null)
    if (this.cookie !== null) rec.cookieCaptures = [cookieCapture(firstValue(req.headers.cookie), this.cookie.name, this.cookie.len), null]
    if (this.uniqueId !== null) rec.uniqueId = this.uniqueId(rec)
    rec.keepHeaders = this.wantsResponseHeaders
    return rec
  }

  /** The record of a `mode tcp` session (lib/tcp), from its accept: it has no request. */
  session (txn: HttpTxn, socket: Socket, accepted: number): LogRecord {
    const rec = new LogRecord(txn, socket, '', accepted, accepted, accepted)
    txn.log = rec
    return rec
  }

  /**
   * Writes the request's line (once the answer is over, or at its headers with `option logasap`)
   * and returns it with its level, null when an option says not to log it. With `hold`, the line
   * is made now and `hold` decides whether and when it is sent.
   */
  emit (rec: LogRecord, now: number, format = this.format, hold?: (send: () => void) => void): { line: string, level: number } | null {
    rec.end = now
    const socket = rec.socket as Stamped | null
    if (socket !== null) socket[kIdleSince] = now
    if (rec.logged) return null
    rec.logged = true
    if (this.connectLines || rec.silent || (this.targets.empty && !this.toRequest)) return null
    const error = rec.term !== '--' || rec.status >= 500 || rec.retries > 0
    if (this.dontlogNormal && !error) return null
    if (rec.resHeaders !== null) this.captureResponse(rec, rec.resHeaders)
    const line = format(rec)
    this.lines++
    const level = this.separateErrors && error ? LOG_ERR : LOG_INFO
    const sd = this.sd === null ? '-' : this.sd(rec)
    if (hold === undefined) this.targets.send(level, line, sd)
    else hold(() => { this.targets.send(level, line, sd) })
    return { line, level }
  }

  private captureResponse (rec: LogRecord, headers: string[]): void {
    const get = (name: string): string | undefined => {
      for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) return headers[i + 1]
      return undefined
    }
    if (this.resSlots.length > 0) rec.resCaptures = captureResponse(rec.txn, this.resSlots, get)
    if (this.cookie !== null && rec.cookieCaptures !== null) rec.cookieCaptures[1] = cookieCapture(get('set-cookie'), this.cookie.name, this.cookie.len)
  }

  /**
   * A connection that closes before any request began is logged as HAProxy logs it, in the
   * `error-log-format` when there is one: `<BADREQ>`, 400 `CR--` (the client left), 408 `cR--`
   * (`timeout http-request`) or 400 `PR--` (a request node's parser refused); an HTTP/2 one that
   * never completed its preface 0 `PR--` (when, see badHttp2); with `option dontlognull` or `option
   * http-ignore-probes`, not when it sent nothing at all (inside TLS). On a TLS bind (`tls`), a connection whose handshake never completed
   * gets no such line.
   */
  watchConnection (socket: Socket, tls: boolean): void {
    if (this.connectLines || this.targets.empty) return
    // the addresses while the connection is open
    const txn = connectionTxn(socket, this.proxy.name)
    socket.once('close', () => {
      const end = requestlessEnd(socket, tls)
      if (end === null || (end.empty && (this.dontlogNull || this.ignoreProbes))) return
      const s = socket as Stamped
      const bad = s[kHttp2] === true ? badHttp2(s) : true
      if (bad === false) return
      const now = Date.now()
      txn.ssl = tls
      const rec = this.session(txn, socket, s[kAccepted] ?? now)
      // on a TLS bind the wait for a request (`%Ta`) starts once the handshake is done (observed on 2.6.12)
      const handshake = s[kTls]?.[kHandshake] ?? 0
      rec.start += handshake
      rec.handshake = handshake
      rec.badRequest = true
      rec.status = end.status
      rec.terminate(end.term)
      // the line is made now, with the counters of the moment, and sent once the session says
      this.emit(rec, now, this.errorFormat ?? this.format, bad === true ? undefined : (send) => { void bad.then(refused => { if (refused) send() }) })
    })
  }

  /**
   * A TLS handshake that failed (`tlsClientError`), logged as HAProxy logs it without an
   * `error-log-format`: `<ci>:<cp> [<accept date>] <frontend>/<bind>: SSL handshake failure`, or
   * `Connection closed during SSL handshake` when the client left first, `Timeout during SSL
   * handshake` (the `timeout client` of `mode tcp` binds); with one, in that
   * format, `fc_err`, `fc_err_str`, `ssl_fc_err`, `ssl_fc_err_str` saying why (status 0, `PR`).
   */
  handshakeFailed (socket: Socket, bind: string, err: Error & { code?: string }): void {
    if (this.targets.empty) return
    const s = socket as Stamped
    const raw = s._parent ?? s
    const accepted = raw[kAccepted] ?? Date.now()
    const closed = err.code === 'ECONNRESET' || err.code === 'EPIPE'
    const timedOut = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT'
    // a client that left without a byte is null (HAProxy's `option dontlognull`)
    if ((closed || timedOut) && this.dontlogNull && raw.bytesRead === 0) return
    const text = closed ? 'Connection closed during SSL handshake' : timedOut ? 'Timeout during SSL handshake' : 'SSL handshake failure'
    if (this.errorFormat === null) { this.connectionError(raw, bind, text, accepted); return }
    // OpenSSL's error code, quoted in node's message, and its text as OpenSSL 3 writes it for
    // HAProxy (`error:0A00009C:SSL routines::http request`: no function name)
    const code = closed || timedOut ? null : /error:([0-9A-F]{8}):/.exec(err.message)
    const e = err as Error & { library?: string, reason?: string }
    const txn = connectionTxn(raw, this.proxy.name)
    txn.ssl = true
    txn.connError = { code: closed ? 24 : timedOut ? 26 : 34, text, ssl: code === null ? 0 : parseInt(code[1]!, 16), sslText: code === null ? null : `error:${code[1]!}:${e.library ?? ''}::${e.reason ?? ''}` }
    const rec = this.session(txn, raw, accepted)
    rec.badRequest = true
    rec.status = 0
    rec.terminate('PR')
    rec.end = Date.now()
    this.targets.send(LOG_INFO, this.errorFormat(rec))
  }

  /**
   * A connection that failed before any request (a TLS handshake, a PROXY protocol header), as
   * HAProxy logs it without an `error-log-format`: `<ci>:<cp> [<accept date>] <frontend>/<bind>: <why>`.
   */
  connectionError (socket: Socket, bind: string, message: string, accepted: number): void {
    if (this.targets.empty) return
    this.targets.send(LOG_INFO, `${plainAddress(socket.remoteAddress)}:${socket.remotePort ?? 0} [${dateMs(accepted)}] ${this.proxy.name}/${bind}: ${message}`)
  }

  /** HAProxy's default format (no `option httplog` …): `Connect from <ci>:<cp> to <fi>:<fp> (<fe>/HTTP)`. */
  connect (socket: Socket): void {
    // `accept-proxy`: the addresses the PROXY header announced (observed)
    const a = announcement(socket)?.addresses ?? { src: plainAddress(socket.remoteAddress), srcPort: socket.remotePort ?? 0, dst: plainAddress(socket.localAddress), dstPort: socket.localPort ?? 0 }
    this.targets.send(LOG_INFO, `Connect from ${a.src}:${a.srcPort} to ${a.dst}:${a.dstPort} (${this.proxy.name}/${this.proxy.mode === 'tcp' ? 'TCP' : 'HTTP'})`)
  }
}

