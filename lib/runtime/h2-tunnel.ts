// Protocol upgrades toward `proto h2` servers, as RFC 8441's extended CONNECT (HAProxy 2.4+ turns
// an HTTP/1.1 `Connection: upgrade` request into one, and the server's 2xx back into a 101).
// undici speaks it only for WebSocket, so the gateway opens an HTTP/2 connection of its own for
// each upgraded request and calls the exchange's undici handler methods as undici would.

import http2 from 'node:http2'
import net from 'node:net'
import tls from 'node:tls'
import type { Duplex } from 'node:stream'
import type { IncomingHttpHeaders } from 'node:http'

/** A tunnel's end toward the server: undici's upgraded socket, or an HTTP/2 stream. */
export type TunnelEnd = Duplex & { setTimeout (ms: number, cb: () => void): unknown }

/** What an upgraded request needs of its exchange: undici's legacy handler methods. */
export interface TunnelHandler {
  onConnect (abort: (err?: Error) => void): void
  onHeaders (status: number, raw: Buffer[], resume: () => void, statusText: string): boolean
  onData (chunk: Buffer): boolean
  onComplete (trailers: null): void
  onUpgrade (status: number, raw: Buffer[], upstream: TunnelEnd): void
  onError (err: Error): void
}

export interface TunnelRequest {
  host: string
  port: number
  /** TLS options for `ssl` servers (ALPN h2 is added), null in clear (prior knowledge). */
  tls: tls.ConnectionOptions | null
  path: string
  authority: string
  protocol: string
  /** Request headers as name/value pairs, connection-level ones already removed. */
  headers: string[]
  /** `timeout connect` in ms (0: none). */
  connectTimeout: number
}

/** RST_STREAM on stream 1 with INTERNAL_ERROR: what HAProxy sends a server that refuses extended CONNECT (observed). */
const REFUSED_STREAM_RESET = Buffer.from([0, 0, 4, 3, 0, 0, 0, 0, 1, 0, 0, 0, 2])

/** Headers HTTP/2 does not carry (RFC 9113 §8.2.2), besides the pseudo-headers the request sets. */
export const NOT_CARRIED: ReadonlySet<string> = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])

export class ExtendedConnectError extends Error {
  readonly code = 'FHX_H2_NO_EXTENDED_CONNECT'
}

/** Opens the tunnel; the handler hears of it as of an undici request. */
export function openH2Tunnel (req: TunnelRequest, handler: TunnelHandler): void {
  const socket = req.tls === null
    ? net.connect(req.port, req.host)
    : tls.connect({ ...req.tls, host: req.host, port: req.port, ALPNProtocols: ['h2'] })
  const session = http2.connect(`${req.tls === null ? 'http' : 'https'}://${req.host}:${req.port}`, { createConnection: () => socket })
  let done = false
  let stream: http2.ClientHttp2Stream | null = null
  const fail = (err: Error): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    session.destroy()
    handler.onError(err)
  }
  const timer = req.connectTimeout > 0
    ? setTimeout(() => fail(Object.assign(new Error(`timeout connect (${req.connectTimeout} ms) expired`), { code: 'UND_ERR_CONNECT_TIMEOUT' })), req.connectTimeout)
    : undefined
  session.on('error', fail)
  socket.on('error', fail)
  socket.once(req.tls === null ? 'connect' : 'secureConnect', () => {
    clearTimeout(timer)
    if (!done) handler.onConnect((err) => { stream?.destroy(); fail(err ?? new Error('aborted')) })
  })
  session.once('remoteSettings', (settings) => {
    if (done) return
    if (settings.enableConnectProtocol !== true) {
      // the stream the request would have opened is reset, as HAProxy does, once both sides'
      // SETTINGS are acknowledged (node sends its acknowledgement on the next turn)
      const refuse = (): void => {
        setImmediate(() => socket.write(REFUSED_STREAM_RESET, () => fail(new ExtendedConnectError('the server does not accept extended CONNECT (RFC 8441 SETTINGS_ENABLE_CONNECT_PROTOCOL)'))))
      }
      if (session.pendingSettingsAck) session.once('localSettings', refuse)
      else refuse()
      return
    }
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'CONNECT',
      ':protocol': req.protocol,
      // HAProxy's H2 mux names an origin-form request's scheme https (observed)
      ':scheme': 'https',
      ':path': req.path,
      ':authority': req.authority
    }
    for (let i = 0; i < req.headers.length; i += 2) {
      const name = req.headers[i]!.toLowerCase()
      if (NOT_CARRIED.has(name)) continue
      const prev = headers[name]
      headers[name] = prev === undefined ? req.headers[i + 1]! : `${String(prev)}, ${req.headers[i + 1]!}`
    }
    stream = session.request(headers, { endStream: false })
    stream.on('error', fail)
    const s = stream
    s.once('response', (h: IncomingHttpHeaders) => {
      const status = Number(h[':status'])
      const raw = rawHeaders(h)
      if (status >= 200 && status < 300) {
        done = true
        // the tunnel ends with its stream; the connection was opened for it alone
        s.once('close', () => session.close())
        handler.onUpgrade(101, [...raw, Buffer.from('connection'), Buffer.from('upgrade'), Buffer.from('upgrade'), Buffer.from(req.protocol)], s)
        return
      }
      handler.onHeaders(status, raw, () => s.resume(), '')
      s.on('data', (d: Buffer) => { if (!handler.onData(d)) s.pause() })
      s.once('end', () => {
        done = true
        session.close()
        handler.onComplete(null)
      })
    })
  })
}

/** An HTTP/2 response's headers as undici's raw name/value pairs, without pseudo-headers. */
function rawHeaders (h: IncomingHttpHeaders): Buffer[] {
  const raw: Buffer[] = []
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith(':') || value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) raw.push(Buffer.from(name), Buffer.from(String(v)))
  }
  return raw
}
