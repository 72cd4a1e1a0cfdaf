// `mode tcp` frontends and listens (configuration.txt §4 "mode tcp"): each client connection
// goes through the proxy's `tcp-request connection` rules, then its `tcp-request content` rules
// (waiting up to `tcp-request inspect-delay` for data they read: `req.len`, `req.payload`,
// `req.ssl_sni` …), is switched to a backend by `use_backend` / `default_backend`, gets a server
// from the same Backend as HTTP (balancing, maxconn, queues, health), and is then spliced to it:
// bytes are streamed both ways with back-pressure, never buffered whole, and a half-close on
// one side is passed on to the other. `timeout client|server` bound each side's inactivity,
// `timeout tunnel` both once connected, `timeout connect` the server connection. An `ssl` bind
// terminates TLS first (the bind's certificates, SNI, ALPN and `verify` as on HTTP binds): the
// rules see the deciphered stream and the `ssl_fc*` fetches, the server gets the clear bytes.

import net from 'node:net'
import tls from 'node:tls'
import { clientIdentity, type TlsTerminator } from '../tls.js'
import type { CompiledProxy } from '../acl/compile.js'
import type { HttpTxn } from '../acl/txn.js'
import { endTracking, startSession } from '../acl/stick-counters.js'
import type { LogRecord } from '../log/record.js'
import { stampAccept } from '../log/logger.js'
import type { Gateway, TcpFrontendState } from '../plugin.js'
import { connectionTxn, type BackendRoute } from '../runtime/forward.js'
import { plainAddress } from '../acl/ip.js'
import { serverPort, type ServerRuntime } from '../runtime/backend.js'
import { socks4Handshake } from '../runtime/socks4.js'
import type { TcpPayload } from './payload.js'
import { acceptProxy, announcement, proxyHeader, readProxyHeader } from '../proxy-protocol.js'
import { type ListenerCounters, type ListenerSpec, countFront, socketStatsListener } from '../runtime/listener.js'

const EMPTY = Buffer.alloc(0)

/** A listening `mode tcp` frontend: its node servers, one per bind address. */
export class TcpListener {
  private readonly servers: net.Server[] = []
  private readonly sockets = new Set<net.Socket>()

  constructor (private readonly gateway: Gateway, readonly name: string) {}

  /**
   * Listens on one address (`{ host, port }`) or inherited descriptor (`{ fd }`); `bind` names
   * the bind line in logs and says whether its connections open with a PROXY header. With
   * `terminator` (`bind … ssl`) TLS is deciphered first; returns the server (a TLS one is
   * recompiled on reload).
   */
  async listen (target: { host: string, port: number, backlog?: number } | { fd: number }, bind: TcpBind = { name: '1', acceptProxy: false }, terminator: TlsTerminator | null = null): Promise<net.Server> {
    const server = terminator === null
      ? net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => { this.accept(socket, bind, server) })
      : this.secureServer(terminator, bind)
    // the listener's row shows from the start
    const fe = this.gateway.tcpFrontend(this.name)
    if (fe !== undefined) this.listenerOf(fe, bind, server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(target, () => { server.off('error', reject); resolve() })
    })
    this.gateway.acceptGate.guard(server, terminator !== null)
    this.servers.push(server)
    return server
  }

  /**
   * A TLS server whose deciphered connections go through the same session as clear ones. The
   * handshake is bounded by `timeout client`, as HAProxy waits for the client's hello; a failed
   * one closes the connection before any rule runs.
   */
  private secureServer (terminator: TlsTerminator, bind: TcpBind): tls.Server {
    const handshakeTimeout = this.gateway.tcpFrontend(this.name)?.proxy.timeouts.client ?? 0
    const deciphered: TcpBind = { ...bind, acceptProxy: false }
    // half-open only once the handshake is done: a client that leaves during it is a failed handshake
    const server = tls.createServer({ ...terminator.options, ...(handshakeTimeout > 0 ? { handshakeTimeout } : {}) }, (socket) => {
      socket.allowHalfOpen = true
      // what the client sent after its handshake waits (unread) for the rules or the server
      socket.pause()
      this.accept(socket, deciphered, server)
    })
    // `accept-proxy`: the header comes before the handshake, read from the TCP connection
    if (bind.acceptProxy) {
      acceptProxy(server, handshakeTimeout, (socket, message, accepted) => {
        this.gateway.tcpFrontend(this.name)?.log?.connectionError(socket, bind.name, message, accepted)
      })
    }
    // a failed handshake is logged as on an HTTP bind (HAProxy's line, or its error-log-format), from the TCP accept
    server.on('connection', (socket: net.Socket) => { stampAccept(socket, Date.now()) })
    server.on('tlsClientError', (err, socket) => {
      this.gateway.tcpFrontend(this.name)?.log?.handshakeFailed(socket, bind.name, err)
      socket.destroy()
    })
    terminator.watch(server)
    return server
  }

  /** Stops accepting; connections under way go on until they end (`closeAll` cuts them). */
  close (): void {
    for (const s of this.servers) s.close()
  }

  closeAll (): void {
    for (const s of this.sockets) s.destroy()
  }

  /** Under `option socket-stats`, the counters of the bind's listener on `server`. */
  private listenerOf (fe: TcpFrontendState, bind: TcpBind, server: net.Server): ListenerCounters | undefined {
    return bind.listener === undefined ? undefined : socketStatsListener(fe.proxy, fe.counters, bind.listener, server)
  }

  private accept (client: net.Socket, bind: TcpBind, server: net.Server): void {
    const fe = this.gateway.tcpFrontend(this.name)
    if (fe === undefined) { client.destroy(); return }
    this.sockets.add(client)
    client.once('close', () => this.sockets.delete(client))
    // the session hears the close before the frontend's counters do: its line counts itself (%ac, %fc)
    const session = new TcpSession(this.gateway, fe, client, bind)
    fe.counters.accept(client)
    this.listenerOf(fe, bind, server)?.accept(client)
    this.gateway.sessions.open(client, this.name)
    if (fe.log?.connectLines === true) fe.log.connect(client)
    session.start()
  }
}

/** What a listener knows of its bind line: its name in logs, and `accept-proxy`. */
/** `listener`: the server's place among the section's listeners (`option socket-stats`). */
export interface TcpBind { name: string, acceptProxy: boolean, listener?: ListenerSpec }

/** The proxy's timeouts as one connection uses them. */
function timeouts (fe: TcpFrontendState, be: BackendRoute): { client: number, server: number, connect: number } {
  const tunnel = be.proxy.timeouts.tunnel
  return {
    client: tunnel ?? fe.proxy.timeouts.client ?? 0,
    server: tunnel ?? be.proxy.timeouts.server ?? 0,
    connect: be.proxy.timeouts.connect ?? 0
  }
}

/** One client connection, from its rules to the end of its tunnel, logged when both sides closed. */
class TcpSession {
  private readonly txn: HttpTxn
  private readonly accepted = Date.now()
  /** Its log line's record (`option tcplog`, `log-format`), null when it logs nothing. */
  private rec: LogRecord | null = null
  private connected = false
  private readonly payload: TcpPayload = { data: EMPTY, final: false, incomplete: false }
  private be: BackendRoute | null = null
  private server: ServerRuntime | null = null
  private upstream: net.Socket | null = null
  private inspectTimer: NodeJS.Timeout | null = null
  private released = false
  /** This session holds a slot on `server` (Backend.acquire counted it). */
  private held = false
  private done = false
  private clientClosed = false
  private upstreamClosed = true

  constructor (private readonly gateway: Gateway, private readonly fe: TcpFrontendState, private readonly client: net.Socket, private readonly bind: TcpBind) {
    this.txn = connectionTxn(client, fe.proxy.name)
    if (client instanceof tls.TLSSocket) {
      this.txn.ssl = true
      this.txn.tls = client
    }
    client.on('error', () => { this.cut(this.connected ? 'CD' : this.be === null ? 'CR' : 'CC') })
    client.once('close', () => {
      this.clientClosed = true
      endTracking(this.txn, { bytesIn: client.bytesRead, bytesOut: client.bytesWritten })
      if (!this.connected && !this.done) this.rec?.terminate(this.be === null ? 'CR' : this.server === null ? 'CQ' : 'CC')
      // nothing more can reach the client: the server side goes too, and the session ends here
      // (its line is written while the frontend still counts it, as HAProxy's)
      if (this.upstream !== null) {
        if (!this.upstream.destroyed) this.upstream.destroy()
        this.upstreamClosed = true
      }
      if (this.be === null) this.stopInspecting()
      this.finish()
    })
  }
  /** What `show sess` says of this connection's backend and server. */
  private showRoute (): void {
    const live = this.gateway.sessions.of(this.client)
    if (live !== undefined) live.route = { backend: this.be?.name ?? null, server: this.server?.name ?? null }
  }


  start (): void {
    const verdict = this.fe.rules.tcpRules('connection', this.txn)
    if (verdict === 'reject' || verdict === 'drop') return this.refuse()
    // what `set-src` … did here changed the connection's own addresses (`fc_src` … report them)
    delete this.txn.connection
    if (!this.bind.acceptProxy) {
      // a TLS bind read its header before the handshake
      this.announced()
      return this.open()
    }
    // `accept-proxy`: the connection rules saw the connection's own addresses, the rest see the
    // header's (as HAProxy's `src` documentation says)
    const accepted = Date.now()
    void readProxyHeader(this.client, this.fe.proxy.timeouts.client ?? 0).then((result) => {
      if (!result.ok) {
        this.fe.log?.connectionError(this.client, this.bind.name, result.message, accepted)
        this.done = true
        this.client.destroy()
        return
      }
      this.announced()
      this.open()
    })
  }

  /**
   * The addresses the connection's PROXY header announced, if it came with one, for the rules
   * (the connection's own stay for `fc_src` …).
   */
  private announced (): void {
    const addresses = announcement(this.client)?.addresses
    if (addresses == null) return
    const t = this.txn
    t.connection = { src: t.src, srcPort: t.srcPort, dst: t.dst, dstPort: t.dstPort }
    Object.assign(t, addresses)
  }

  /** The session proper, once the connection is accepted: its log record, then the content rules. */
  private open (): void {
    const client = this.client
    startSession(this.txn)
    // a connection `tcp-request connection` rules refuse is not a session: HAProxy logs none
    const log = this.fe.log
    if (log !== null && !log.connectLines) this.rec = log.session(this.txn, client, this.accepted)
    this.txn.payload = this.payload
    const delay = this.fe.proxy.inspectDelay ?? 0
    if (delay > 0 && this.hasContentRules()) {
      this.inspectTimer = setTimeout(() => {
        this.inspectTimer = null
        this.payload.final = true
        this.inspect()
      }, delay)
      client.on('data', this.onInspectData)
      client.once('end', this.onInspectEnd)
      client.resume()
    } else {
      this.payload.final = true
    }
    this.inspect()
  }

  private hasContentRules (): boolean {
    return this.fe.proxy.tcpRequestContent.length > 0 || this.fe.backendContentRules
  }

  private readonly onInspectData = (chunk: Buffer): void => {
    this.payload.data = this.payload.data.length === 0 ? chunk : Buffer.concat([this.payload.data, chunk])
    this.inspect()
  }

  private readonly onInspectEnd = (): void => {
    this.payload.final = true
    this.inspect()
  }

  /** Runs the content rules on what arrived; returns without deciding while they wait for more. */
  private inspect (): void {
    if (this.done || this.be !== null) return
    const fe = this.fe
    const verdict = fe.rules.tcpRules('content', this.txn)
    if (verdict === 'wait') return
    if (verdict === 'reject' || verdict === 'drop') return this.refuse()
    const switched = fe.rules.switching(this.txn)
    const be = switched.kind === 'backend' ? this.gateway.backendRoute(switched.backend) ?? null : fe.ownBackend
    if (be === null) return this.refuse(true)
    // the backend's own content rules, on the same data (HAProxy runs them once it is chosen)
    const beRules = be.proxy.kind === 'backend' && be.proxy.tcpRequestContent.length > 0 ? this.gateway.tcpBackendRules(be.name) : null
    if (beRules !== null) {
      const beVerdict = beRules.tcpRules('content', this.txn)
      if (beVerdict === 'wait') return
      if (beVerdict === 'reject' || beVerdict === 'drop') return this.refuse()
    }
    this.stopInspecting()
    this.be = be
    this.txn.backend = be.name
    this.showRoute()
    if (this.rec !== null) this.rec.backend = be.name
    const c = be.backend.counters
    c.stot++
    c.lastSess = Date.now()
    c.rate.hit(c.lastSess)
    if (++c.scur > c.smax) c.smax = c.scur
    const got = be.backend.acquire(this.txn, null)
    // %Tw: from the accept to a server, the content rules' wait included (as HAProxy counts it)
    if (got instanceof Promise) {
      if (this.rec !== null) this.rec.beQueue = be.backend.queue.length
      const assigned = (srv: ServerRuntime | null): void => {
        if (this.rec !== null) this.rec.tw = Date.now() - this.accepted
        if (srv === null) this.rec?.terminate('sQ')
        this.connect(srv, be.retries)
      }
      got.then(assigned, () => { assigned(null) })
    } else {
      if (this.rec !== null) this.rec.tw = Date.now() - this.accepted
      this.connect(got, be.retries)
    }
  }

  private stopInspecting (): void {
    if (this.inspectTimer !== null) clearTimeout(this.inspectTimer)
    this.inspectTimer = null
    this.client.off('data', this.onInspectData)
    this.client.off('end', this.onInspectEnd)
    this.client.pause()
  }

  /**
   * `tcp-request … reject` or nowhere to go: the client is closed (HAProxy counts a denied request).
   * With nowhere to go the close is orderly (recorded: the client reads an end, not a reset), so
   * what the client sent is drained first.
   */
  private refuse (orderly = false): void {
    this.rec?.terminate('PR')
    this.stopInspecting()
    countFront(this.fe.counters.counters, this.client, 'dreq')
    this.done = true
    if (!orderly) {
      this.client.destroy()
      return
    }
    this.client.resume()
    this.client.end()
  }

  /** A failure or a timeout (`state`: who and in which phase, for the log): both sides are cut at once. */
  private cut (state: string): void {
    this.rec?.terminate(state)
    this.done = true
    this.client.destroy()
    this.upstream?.destroy()
  }

  private connect (srv: ServerRuntime | null, retriesLeft: number): void {
    const be = this.be!
    if (this.done || this.clientClosed) {
      if (srv !== null) be.backend.release(srv)
      this.finish()
      return
    }
    if (srv === null) {
      // no server usable, or the queue timed out: HAProxy closes the connection
      this.rec?.terminate('SC')
      this.done = true
      this.client.destroy()
      this.finish()
      return
    }
    this.server = srv
    this.held = true
    this.showRoute()
    const t = timeouts(this.fe, be)
    const started = Date.now()
    const rec = this.rec
    const port = serverPort(srv, this.txn.dstPort)
    if (rec !== null) {
      rec.server = srv.name
      rec.serverAddr = srv.host
      rec.serverPort = port
      rec.retries = be.retries - retriesLeft
    }
    const opts = { host: srv.host, port, allowHalfOpen: true }
    // `socks4` (plain TCP servers): the connection is opened by the SOCKS4 proxy
    const socks = srv.ssl ? null : srv.socks4
    const upstream: net.Socket = srv.ssl
      ? tls.connect({ ...opts, rejectUnauthorized: srv.verify === 'required', ...(srv.sni !== undefined ? { servername: srv.sni } : {}), ...(srv.crt !== undefined ? clientIdentity(srv.crt) : {}) })
      : net.connect(socks !== null ? { host: socks.host, port: socks.port, allowHalfOpen: true } : opts)
    this.upstream = upstream
    this.upstreamClosed = false
    upstream.setNoDelay(true)
    let connected = false
    let timedOut = false
    const connectTimer = t.connect > 0
      ? setTimeout(() => { timedOut = true; upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })) }, t.connect)
      : null
    const established = (): void => {
      connected = true
      this.connected = true
      if (rec !== null) {
        rec.tc = Date.now() - started
        rec.sourceAddr = plainAddress(upstream.localAddress)
        rec.sourcePort = upstream.localPort ?? 0
      }
      if (connectTimer !== null) clearTimeout(connectTimer)
      srv.counters.ctime.add(Date.now() - started)
      be.backend.counters.ctime.add(Date.now() - started)
      this.splice(upstream, t)
    }
    upstream.once(srv.ssl ? 'secureConnect' : 'connect', () => {
      if (socks === null) return established()
      socks4Handshake(upstream, srv.host, port, (err) => {
        if (err !== null) return upstream.destroy(err)
        established()
        upstream.resume()
      })
    })
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (connected) {
        if (!this.clientClosed) { srv.counters.srvAbrt++; be.backend.counters.srvAbrt++ }
        this.cut('SD')
        return
      }
      if (connectTimer !== null) clearTimeout(connectTimer)
      srv.observe(err.code === 'ETIMEDOUT' ? 'timeout' : 'conn-error')
      srv.counters.econ++
      be.backend.counters.econ++
    })
    upstream.once('close', () => {
      this.upstreamClosed = true
      if (!connected && !this.done && !this.clientClosed && retriesLeft > 0) {
        srv.counters.wretr++
        be.backend.counters.wretr++
        setTimeout(() => { this.connect(srv, retriesLeft - 1) }, Math.min(t.connect || 1000, 1000)).unref()
        return
      }
      if (!connected) {
        this.rec?.terminate(timedOut ? 'sC' : 'SC')
        this.client.destroy()
      } else if (!this.client.destroyed) {
        // the server is done both ways: what it sent is flushed, then the client is closed
        this.client.destroySoon()
      }
      this.finish()
    })
  }

  /** Both ways, with back-pressure; a half-close is passed on; counters get every byte. */
  private splice (upstream: net.Socket, t: { client: number, server: number }): void {
    const client = this.client
    const fe = this.fe.counters.counters
    const be = this.be!.backend.counters
    const srv = this.server!.counters
    if (this.server!.sendProxy !== 0) upstream.write(proxyHeader(this.server!.sendProxy, this.txn))
    const rec = this.rec
    if (this.payload.data.length > 0) {
      const n = this.payload.data.length
      countFront(fe, client, 'bin', n); be.bin += n; srv.bin += n
      if (rec !== null) rec.bytesIn += n
      upstream.write(this.payload.data)
    }
    this.payload.data = EMPTY
    client.on('data', (chunk: Buffer) => {
      countFront(fe, client, 'bin', chunk.length); be.bin += chunk.length; srv.bin += chunk.length
      if (rec !== null) rec.bytesIn += chunk.length
      if (!upstream.write(chunk)) client.pause()
    })
    upstream.on('drain', () => client.resume())
    client.on('drain', () => upstream.resume())
    const clientEnd = (): void => { upstream.end() }
    if (client.readableEnded) clientEnd()
    else client.once('end', clientEnd)
    const rules = this.responseRules()
    if (rules === null) this.pipeResponse(upstream)
    else this.inspectResponse(upstream, rules)
    client.resume()
    // inactivity counts from here, once what the client sent already has been read and passed
    // on (the read comes in the loop's next poll phase; a short `timeout client` would beat it)
    const arm = (): void => {
      if (this.done) return
      if (t.client > 0) client.setTimeout(t.client, () => { this.cut('cD') })
      if (t.server > 0) upstream.setTimeout(t.server, () => { this.cut('sD') })
    }
    setImmediate(() => setImmediate(arm))
  }

  /** The server's bytes to the client, with back-pressure; its end is passed on. */
  private pipeResponse (upstream: net.Socket): void {
    const client = this.client
    const fe = this.fe.counters.counters
    const be = this.be!.backend.counters
    const srv = this.server!.counters
    const rec = this.rec
    upstream.on('data', (chunk: Buffer) => {
      countFront(fe, client, 'bout', chunk.length); be.bout += chunk.length; srv.bout += chunk.length
      if (rec !== null) rec.bytesOut += chunk.length
      if (!client.write(chunk)) upstream.pause()
    })
    if (upstream.readableEnded) { if (!client.destroyed) client.end() } else upstream.once('end', () => { if (!client.destroyed) client.end() })
  }

  /** The backend's `tcp-response content` rules (a listen section's are its own), or null when it has none. */
  private responseRules (): CompiledProxy | null {
    const be = this.be!
    if (be.proxy.tcpResponseContent.length === 0) return null
    return be.proxy.kind === 'backend' ? this.gateway.tcpBackendRules(be.name) : this.fe.rules
  }

  /**
   * `tcp-response content` rules (§4.2) on the server's first bytes: held back from the client
   * until a rule decides, or `tcp-response inspect-delay` expires, or the server stops sending.
   */
  private inspectResponse (upstream: net.Socket, rules: CompiledProxy): void {
    const payload: TcpPayload = { data: EMPTY, final: false, incomplete: false }
    this.txn.resPayload = payload
    const delay = this.be!.proxy.resInspectDelay ?? 0
    let timer: NodeJS.Timeout | null = null
    const decide = (): void => {
      const verdict = rules.tcpRules('response', this.txn)
      if (verdict === 'wait' && !payload.final) return
      if (timer !== null) clearTimeout(timer)
      upstream.off('data', onData)
      upstream.off('end', onEnd)
      this.txn.resPayload = undefined
      if (verdict === 'reject' || verdict === 'drop') {
        countFront(this.fe.counters.counters, this.client, 'dresp')
        this.be!.backend.counters.dresp++
        return this.cut('PD')
      }
      if (payload.data.length > 0) this.deliver(payload.data)
      if (verdict === 'close') { upstream.destroy(); return }
      this.pipeResponse(upstream)
    }
    const onData = (chunk: Buffer): void => {
      payload.data = payload.data.length === 0 ? chunk : Buffer.concat([payload.data, chunk])
      if (delay === 0) payload.final = true
      decide()
    }
    const onEnd = (): void => { payload.final = true; decide() }
    upstream.on('data', onData)
    upstream.once('end', onEnd)
    if (delay > 0) timer = setTimeout(() => { payload.final = true; decide() }, delay)
  }

  /** Bytes the rules held back, counted and sent to the client. */
  private deliver (data: Buffer): void {
    const n = data.length
    countFront(this.fe.counters.counters, this.client, 'bout', n)
    this.be!.backend.counters.bout += n
    this.server!.counters.bout += n
    if (this.rec !== null) this.rec.bytesOut += n
    this.client.write(data)
  }

  /** Once both sides are closed: the server's slot goes back, the backend's session ends, the line is written. */
  private finish (): void {
    if (this.released || !this.clientClosed || !this.upstreamClosed) return
    this.released = true
    if (this.be !== null) {
      if (this.held) this.be.backend.release(this.server!)
      this.held = false
      this.be.backend.counters.scur--
    }
    // written once the backend and server let the session go (%bc, %sc no longer count it)
    if (this.rec !== null) this.fe.log!.emit(this.rec, Date.now())
  }
}
