// Active health checks as HAProxy 2.6 runs them (configuration.txt §5.2 `check`, `inter`,
// `fastinter`, `downinter`, `rise`, `fall`, `port`, `addr`; §4.2 `option httpchk`, `http-check`,
// `timeout check`): a TCP connect by default (TLS for `ssl` servers), or a raw HTTP request over
// the socket for `option httpchk` (HAProxy sends exactly these bytes: no Host header by default).
// Results feed the server's health counter (ServerRuntime.checkPassed / checkFailed).

import net from 'node:net'
import { checkProxyHeader } from '../proxy-protocol.js'
import tls from 'node:tls'
import { PEM_FILE_LIMIT, readBounded } from '../files.js'
import { clientIdentity } from '../tls.js'
import type { ParsedConfig, Proxy } from '../config/model.js'
import type { Backend, CheckHooks, Logger, ServerRuntime } from './backend.js'
import type { CheckResult } from './state.js'
import { closeCheckConnection, compileTcpScript, connectFailure, MAX_RESPONSE, runTcpScript, type ConnectSpec, type ScriptRun, type TcpScript } from './tcp-check.js'
import { connectErrorText, errnoText, failedWhileConnected, handshakeErrorText } from './socket-errors.js'
import { AgentTask } from './agent.js'
import { compileExternalCheck, runExternalCheck, type ExternalCheck } from './external-check.js'
import { spreadInterval } from './spread-checks.js'
import { socks4Handshake } from './socks4.js'
import { compileHttpProbe, headerMap, http1Request, type CheckContext, type CheckRequest, type Exchange, type HttpProbe } from './http-check.js'
import http2 from 'node:http2'
import { NOT_CARRIED } from './h2-tunnel.js'


/** Where and how a check connection is opened. */
interface CheckConnection {
  host: string
  port: number
  tls: boolean
  servername: string | undefined
  alpn: string[] | undefined
  /** The PROXY header version the connection opens with (0: none): `tcp-check connect send-proxy`, a `send-proxy` server's. */
  sendProxy: 0 | 1 | 2
  /** Through the server's SOCKS4 proxy (`check-via-socks4`, `tcp-check connect via-socks4`). */
  viaSocks: boolean
  /** Closed with a FIN (`tcp-check connect linger`) rather than HAProxy's reset. */
  linger: boolean
}

/** `HTTP/1.x NNN reason` */
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?: ([^\r\n]*))?\r?\n/

/** One server's check: its timer and, while a probe runs, its socket. */
class CheckTask implements CheckHooks {
  private timer: NodeJS.Timeout | null = null
  private due = 0
  private socket: net.Socket | null = null
  /** The open check connection is closed with a FIN, not a reset (HTTP checks; `linger`). */
  private linger = true
  private deadline: NodeJS.Timeout | null = null
  private startedAt = 0
  private readonly ca: Buffer | undefined
  /** `crt`: the certificate and key a TLS check presents. */
  private readonly identity: { cert: string, key: string } | undefined
  private stopped = true
  /** Stops the external check command under way. */
  private stopCommand: (() => void) | null = null

  constructor (
    readonly server: ServerRuntime, private readonly proxy: Proxy, private readonly probe: HttpProbe | null, private readonly script: TcpScript | null,
    private readonly external: ExternalCheck | null,
    /** The next interval for `inter` (`spread-checks`). */
    private readonly spread: (inter: number) => number
  ) {
    this.ca = server.caFile !== undefined ? readBounded(server.caFile, PEM_FILE_LIMIT) : undefined
    this.identity = server.crt !== undefined ? clientIdentity(server.crt) : undefined
  }

  start (delay: number): void {
    this.stopped = false
    this.server.hooks = this
    this.schedule(Date.now() + delay)
  }

  stop (): void {
    this.stopped = true
    if (this.server.hooks === this) this.server.hooks = null
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.abort()
  }

  hurry (ms: number): void {
    if (this.stopped || this.underWay) return
    const at = Date.now() + ms
    if (this.timer === null || this.due > at) this.schedule(at)
  }

  toggled (): void {
    if (this.stopped) return
    if (!this.server.checkEnabled) {
      if (this.timer !== null) clearTimeout(this.timer)
      this.timer = null
      this.abort()
    } else if (this.timer === null && !this.underWay) {
      this.schedule(Date.now() + this.server.currentInter())
    }
  }

  /** A check is running: its connection is open or its command has not ended. */
  private get underWay (): boolean {
    return this.socket !== null || this.stopCommand !== null
  }

  private schedule (at: number): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.due = at
    this.timer = setTimeout(() => this.run(), Math.max(0, at - Date.now()))
    this.timer.unref()
  }

  private abort (): void {
    this.stopCommand?.()
    this.stopCommand = null
    if (this.deadline !== null) clearTimeout(this.deadline)
    this.deadline = null
    if (this.socket !== null) {
      this.socket.removeAllListeners()
      this.socket.on('error', () => {})
      closeCheckConnection(this.socket, this.linger)
      this.socket = null
    }
  }

  private run (): void {
    this.timer = null
    const srv = this.server
    // Checks pause in maintenance (management.txt §9.3 `set server … state maint`: no checks while in MAINT) and stop when disabled.
    if (!srv.checkEnabled) return
    if (srv.admin === 'maint') return this.next(Date.now())
    this.startedAt = Date.now()
    if (this.external !== null) return this.runCommand(this.external)
    this.attempt(0, this.probe?.context(srv) ?? null)
  }

  /** `option external-check`: the command, bounded as a check's connect is (§4.2 `timeout check`). */
  private runCommand (external: ExternalCheck): void {
    const srv = this.server
    this.stopCommand = runExternalCheck(external, this.proxy, srv, this.connectTimeout(), (ok, result) => {
      this.stopCommand = null
      if (ok) srv.checkPassed(result)
      else srv.checkFailed(result)
      if (!this.stopped) this.next(Date.now())
    })
  }

  /**
   * Without `timeout check` the whole check must fit in `inter`; with it, the connect gets
   * min(inter, timeout connect) and the response `timeout check` (§4.2 `timeout check`).
   */
  private connectTimeout (): number {
    const inter = this.server.inter
    const t = this.proxy.timeouts
    return t.check !== undefined && t.connect !== undefined ? Math.min(inter, t.connect) : inter
  }

  /** One connection of the check: the exchange `step` of an HTTP check (the next follows when it passes), else the whole check. */
  private attempt (step: number, ctx: CheckContext | null): void {
    const srv = this.server
    const exchange = this.probe?.exchanges[step]
    const t = this.proxy.timeouts
    const connectTimeout = this.connectTimeout()
    let finished = false
    let tcpUp = false
    let connected = false
    let data: Buffer = Buffer.alloc(0)
    const finish = (ok: boolean, status: string, code: number | null, desc: string, conditional = false, logInfo?: string): void => {
      if (finished) return
      finished = true
      this.abort()
      const result: CheckResult = { status, code, duration: Date.now() - this.startedAt, desc, ...(logInfo !== undefined ? { logInfo } : {}) }
      if (ok) srv.checkPassed(result, conditional)
      else srv.checkFailed(result)
      if (!this.stopped) this.next(Date.now())
    }
    let scriptRun: ScriptRun | null = null
    const onTimeout = (): void => {
      if (scriptRun !== null) {
        const r = scriptRun.timedOut()
        finish(false, r.status, null, r.desc)
      } else if (connected && this.probe !== null) finish(false, 'L7TOUT', null, '')
      else finish(false, tcpUp && conn.tls ? 'L6TOUT' : 'L4TOUT', null, '')
    }
    const arm = (ms: number): void => {
      if (this.deadline !== null) clearTimeout(this.deadline)
      this.deadline = setTimeout(onTimeout, ms)
      this.deadline.unref()
    }
    /** The verdict on a response: the next exchange when this one passed and more follow. */
    const conclude = (code: number, reason: string, headers: string, body: string): void => {
      const probe = this.probe as HttpProbe
      const c = ctx as CheckContext
      c.res = { ...c.res, status: code, headers: headerMap(headers) }
      const verdict = (exchange as Exchange).judge({ code, reason, headers, body }, srv.op === 'up', c)
      if (verdict.status === 'L7OK' && step + 1 < probe.exchanges.length) {
        finished = true
        this.abort()
        this.attempt(step + 1, c)
        return
      }
      const withCode = verdict.status === 'L7RSP' ? null : code
      finish(verdict.status === 'L7OK' || verdict.status === 'L7OKC', verdict.status, withCode, verdict.desc, verdict.status === 'L7OKC')
    }
    const evaluate = (ended: boolean): void => {
      const text = data.toString('latin1')
      const head = text.indexOf('\r\n\r\n')
      const m = STATUS_LINE.exec(text)
      if (m === null) {
        if (ended || data.length >= MAX_RESPONSE || (text.length >= 12 && !text.startsWith('HTTP/'))) finish(false, 'L7RSP', null, '')
        return
      }
      if (head < 0 && !ended && data.length < MAX_RESPONSE) return
      let body = ''
      if ((exchange as Exchange).needsBody) {
        if (!ended && data.length < MAX_RESPONSE && !bodyComplete(text, head)) return
        body = head >= 0 ? messageBody(text, head) : ''
      }
      conclude(Number(m[1]), m[2] ?? '', head >= 0 ? text.slice(m[0].length, head) : text.slice(m[0].length), body)
    }
    const onConnected = (): void => {
      connected = true
      const sock = this.socket as net.Socket
      if (this.script !== null) {
        if (t.check !== undefined) arm(t.check)
        const open = (spec: ConnectSpec, ready: () => void, reached: () => void): net.Socket => this.open(this.connection(spec), ready, reached)
        const adopt = (s: net.Socket, spec: ConnectSpec): void => {
          this.socket = s
          this.linger = spec.linger
        }
        scriptRun = runTcpScript(sock, this.script, open, adopt, (r) => { finish(r.ok, r.status, r.code ?? null, r.desc, false, r.logInfo) })
        return
      }
      if (this.probe === null) {
        finish(true, conn.tls ? 'L6OK' : 'L4OK', null, '')
        return
      }
      if (t.check !== undefined) arm(t.check)
      const c = ctx as CheckContext
      for (const action of (exchange as Exchange).before) action(c.txn, c.res)
      const request = (exchange as Exchange).request(c, srv)
      if (srv.checkH2) {
        http2Exchange(sock, request, conclude, (desc) => finish(false, 'L7RSP', null, desc))
        return
      }
      sock.on('data', (chunk: Buffer) => {
        data = data.length === 0 ? chunk : Buffer.concat([data, chunk])
        evaluate(false)
      })
      sock.on('end', () => evaluate(true))
      sock.write(http1Request(request))
    }
    // a script's first connection is its leading `tcp-check connect` (protocol checks: the server's check settings)
    const conn = this.connection(this.script?.first ?? null, exchange?.connect.port, exchange?.connect.host)
    const sock = this.open(conn, onConnected, () => {
      tcpUp = true
      // a TCP connection that fails its TLS handshake is a Layer6 problem, timed by `timeout check`
      if (conn.tls && t.check !== undefined) arm(t.check)
    })
    // protocol checks are tcp-check rulesets: closed with a reset, as HAProxy closes them
    this.linger = this.script === null || (this.script.first?.linger ?? false)
    this.socket = sock
    arm(connectTimeout)
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (tcpUp || failedWhileConnected(err)) && conn.tls) {
        const text = handshakeErrorText(err)
        finish(false, 'L6RSP', null, this.script !== null ? connectFailure(this.script, text) : text)
      } else if (!connected) {
        finish(false, 'L4CON', null, this.script !== null ? connectFailure(this.script, connectErrorText(err)) : connectErrorText(err))
      } else if (this.script !== null) {
        // the script reports its own socket errors, naming the step
      } else {
        finish(false, 'L7RSP', null, errnoText(err))
      }
    })
    sock.on('close', () => {
      if (!connected) finish(false, tcpUp ? 'L6RSP' : 'L4CON', null, '')
      else if (this.probe !== null && this.script === null && !srv.checkH2) evaluate(true)
    })
  }

  /**
   * Where and how a check connection goes: a `tcp-check connect` line's own options (with
   * `default`, the server's check settings for what it does not say), else the server's: its
   * check address and port (`addr`, `port`, an http-check's `connect port`), TLS for
   * `check-ssl` (or an `ssl` server checked where it serves) with `check-sni` and `check-alpn`,
   * `check-via-socks4`.
   */
  private connection (spec: ConnectSpec | null, port?: number, host?: string): CheckConnection {
    const srv = this.server
    const inherit = spec === null || spec.useDefault
    const at = spec?.addr ?? host ?? srv.checkHost
    const useTls = (spec?.ssl ?? false) || (inherit && srv.checkTls)
    const servername = spec?.sni ?? (inherit ? srv.checkSni ?? srv.sni ?? (net.isIP(at) === 0 ? at : undefined) : undefined)
    return {
      host: at,
      port: spec?.port ?? port ?? srv.checkPort,
      tls: useTls,
      servername: useTls ? servername ?? undefined : undefined,
      alpn: spec?.alpn ?? (inherit ? srv.checkAlpn : undefined),
      sendProxy: spec?.sendProxy === true ? 1 : inherit && spec?.port == null && spec?.addr == null && port === undefined && host === undefined ? srv.checkSendProxy : 0,
      // SOCKS4 carries plain check connections only
      viaSocks: !useTls && srv.socks4 !== null && ((spec?.viaSocks4 ?? false) || (inherit && srv.checkViaSocks4)),
      linger: spec?.linger ?? false
    }
  }

  /**
   * Opens a check connection: `reached` once TCP is up to the server (through the SOCKS4 proxy's
   * handshake), `ready` once it carries the check (after the TLS handshake), the PROXY line sent.
   */
  private open (conn: CheckConnection, ready: () => void, reached: () => void): net.Socket {
    const srv = this.server
    const usable = (sock: net.Socket): void => {
      // the PROXY line names the check's own connection: its source is this end
      if (conn.sendProxy !== 0) sock.write(checkProxyHeader(conn.sendProxy, sock))
      ready()
    }
    let sock: net.Socket
    if (conn.viaSocks) {
      sock = net.connect({ host: srv.socks4!.host, port: srv.socks4!.port })
      sock.once('connect', () => {
        socks4Handshake(sock, conn.host, conn.port, (err) => {
          if (err !== null) { sock.destroy(err); return }
          reached()
          usable(sock)
          sock.resume()
        })
      })
    } else if (conn.tls) {
      // the PROXY line goes before the TLS handshake (as HAProxy 2.6.12 sends it)
      const raw = conn.sendProxy !== 0 ? net.connect({ host: conn.host, port: conn.port }) : null
      if (raw !== null) raw.once('connect', () => { raw.write(checkProxyHeader(conn.sendProxy as 1 | 2, raw)) })
      sock = tls.connect({
        ...(raw !== null ? { socket: raw } : { host: conn.host, port: conn.port }),
        ...(conn.servername !== undefined ? { servername: conn.servername } : {}),
        ...(conn.alpn !== undefined ? { ALPNProtocols: conn.alpn } : {}),
        ...(this.identity ?? {}),
        rejectUnauthorized: srv.verify === 'required',
        ca: this.ca
      })
      sock.once('connect', reached)
      sock.once('secureConnect', ready)
    } else {
      sock = net.connect({ host: conn.host, port: conn.port })
      sock.once('connect', () => {
        reached()
        usable(sock)
      })
    }
    sock.setNoDelay(true)
    return sock
  }

  /** Next check one interval after this one started (skipping intervals that already passed). */
  private next (now: number): void {
    const inter = this.server.currentInter()
    let at = (this.startedAt || now) + this.spread(inter)
    while (at <= now) at += inter
    this.schedule(at)
  }
}

/**
 * The check request over HTTP/2 on a connected socket (`proto h2`, `check-proto h2`): one stream,
 * its answer given to `conclude` as an HTTP/1 header block would be.
 */
function http2Exchange (sock: net.Socket, req: CheckRequest, conclude: (code: number, reason: string, headers: string, body: string) => void, failed: (desc: string) => void): void {
  const session = http2.connect('http://check', { createConnection: () => sock })
  session.on('error', (err) => failed(err.message))
  const headers: http2.OutgoingHttpHeaders = { ':method': req.method, ':path': req.uri }
  for (const [name, value] of req.headers) if (!NOT_CARRIED.has(name)) headers[name] = value
  const stream = session.request(headers, { endStream: req.body === '' })
  stream.on('error', (err) => failed(err.message))
  let code = 0
  let block = ''
  stream.on('response', (h) => {
    code = Number(h[':status'])
    for (const [name, value] of Object.entries(h)) if (!name.startsWith(':')) block += `${name}: ${String(value)}\r\n`
  })
  let body = ''
  stream.setEncoding('latin1')
  stream.on('data', (chunk: string) => { if (body.length < MAX_RESPONSE) body += chunk })
  stream.on('end', () => {
    session.close()
    conclude(code, '', block.slice(0, -2), body)
  })
  if (req.body !== '') stream.end(req.body)
}

const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i
const CHUNKED = /\r\ntransfer-encoding:[^\r]*chunked/i

/** The body is complete when Content-Length or the last chunk says so (HTTP/1.0 servers usually just close). */
function bodyComplete (text: string, head: number): boolean {
  if (head < 0) return false
  const headers = text.slice(0, head + 2)
  if (CHUNKED.test(headers)) return text.endsWith('\r\n0\r\n\r\n') || text.slice(head + 4).startsWith('0\r\n\r\n')
  const m = CONTENT_LENGTH.exec(headers)
  return m !== null && text.length - head - 4 >= Number(m[1])
}

/** The body as `http-check expect string` sees it: chunked transfer coding removed (HAProxy reads HTX). */
function messageBody (text: string, head: number): string {
  const raw = text.slice(head + 4)
  if (!CHUNKED.test(text.slice(0, head + 2))) return raw
  let out = ''
  let p = 0
  while (p < raw.length) {
    const eol = raw.indexOf('\r\n', p)
    if (eol < 0) break
    const size = parseInt(raw.slice(p, eol), 16)
    if (!(size > 0)) break
    out += raw.slice(eol + 2, eol + 2 + size)
    p = eol + 2 + size + 2
  }
  return out
}

export class HealthChecker {
  private readonly tasks: CheckTask[] = []
  private readonly agents: AgentTask[] = []
  /** Each backend's compiled check, for the servers added at run time. */
  private readonly checks = new Map<Backend, { probe: HttpProbe | null, script: TcpScript | null, external: ExternalCheck | null }>()
  private started = false
  /** Each next interval, drawn within `spread-checks` of the global section. */
  private readonly spread: (inter: number) => number

  /**
   * `config` gives the expressions of http-check rules what they may read (maps, other proxies);
   * `random` draws the `spread-checks` intervals (Math.random; tests inject their own).
   */
  constructor (backends: readonly Backend[], opts: { log?: Logger, config?: ParsedConfig, random?: () => number } = {}) {
    const percent = opts.config?.global.spreadChecks ?? 0
    const random = opts.random ?? Math.random
    this.spread = (inter) => spreadInterval(inter, percent, random)
    for (const b of backends) {
      const probe = compileHttpProbe(b.proxy, opts.config)
      const script = compileTcpScript(b.proxy)
      const external = compileExternalCheck(b.proxy)
      this.checks.set(b, { probe, script, external })
      for (const s of b.servers) {
        if (s.hasCheck) this.tasks.push(new CheckTask(s, b.proxy, probe, script, external, this.spread))
        if (s.agent !== null) this.agents.push(new AgentTask(s, b.proxy.timeouts.check, this.spread))
      }
    }
  }

  /**
   * A server added at run time (`add server … check`): its check and agent are set up idle,
   * as 2.6 leaves them until `enable health` / `enable agent`.
   */
  add (backend: Backend, server: ServerRuntime): void {
    const check = this.checks.get(backend)
    if (server.hasCheck && check !== undefined) {
      const task = new CheckTask(server, backend.proxy, check.probe, check.script, check.external, this.spread)
      this.tasks.push(task)
      if (this.started) task.start(server.currentInter())
    }
    if (server.agent !== null) {
      const agent = new AgentTask(server, backend.proxy.timeouts.check, this.spread)
      this.agents.push(agent)
      if (this.started) agent.start(server.agent.inter)
    }
  }

  /** `del server`: its check and agent stop. */
  remove (server: ServerRuntime): void {
    const t = this.tasks.findIndex(task => task.server === server)
    if (t >= 0) this.tasks.splice(t, 1)[0]!.stop()
    const a = this.agents.findIndex(agent => agent.target === server)
    if (a >= 0) this.agents.splice(a, 1)[0]!.stop()
  }

  /** First checks spread over the longest interval: server k of n at max_inter × k / n (configuration.txt §3.1 `spread-checks`, and the first check times seen on the stats page); agents likewise. */
  start (): void {
    this.started = true
    const n = this.tasks.length
    let maxInter = 0
    for (const t of this.tasks) maxInter = Math.max(maxInter, t.server.currentInter())
    this.tasks.forEach((t, k) => t.start(Math.floor(maxInter * k / n)))
    this.agents.forEach((a, k) => a.start(Math.floor(a.inter * k / this.agents.length)))
  }

  /** Clears every timer and destroys every in-flight check socket. */
  stop (): void {
    for (const t of this.tasks) t.stop()
    for (const a of this.agents) a.stop()
  }
}
