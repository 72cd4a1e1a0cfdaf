// Active health checks as HAProxy 2.6 runs them (configuration.txt §5.2 `check`, `inter`,
// `fastinter`, `downinter`, `rise`, `fall`, `port`, `addr`; §4.2 `option httpchk`, `http-check`,
// `timeout check`): a TCP connect by default (TLS for `ssl` servers), or a raw HTTP request over
// the socket for `option httpchk` (HAProxy sends exactly these bytes: no Host header by default).
// Results feed the server's health counter (ServerRuntime.checkPassed / checkFailed).

import net from 'node:net'
import tls from 'node:tls'
import { PEM_FILE_LIMIT, readBounded } from '../files.js'
import type { HttpCheck, HttpCheckExpect, Proxy } from '../config/model.js'
import type { Backend, CheckHooks, Logger, ServerRuntime } from './backend.js'
import type { CheckResult } from './state.js'
import { compileTcpScript, connectFailure, MAX_RESPONSE, runTcpScript, type ScriptRun, type TcpScript } from './tcp-check.js'
import { connectErrorText, errnoText } from './socket-errors.js'
import { AgentTask } from './agent.js'
import { socks4Handshake } from './socks4.js'

/** The compiled form of a proxy's `option httpchk` + `http-check` lines. */
interface HttpProbe {
  request: Buffer
  /** Status, header block, body text → result (status, desc); `needsBody` when the rule reads the body. */
  judge (code: number, reason: string, body: string, up: boolean, headers: string): { status: 'L7OK' | 'L7OKC' | 'L7STS' | 'L7RSP', desc: string }
  needsBody: boolean
}

type Match = (s: string) => boolean

/** `-m str|beg|end|sub|reg <pattern>` of `http-check expect hdr` (§4.2); names compare without case. */
function matcher (method: string, pattern: string, ignoreCase: boolean): Match {
  const p = ignoreCase ? pattern.toLowerCase() : pattern
  const norm = ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s
  switch (method) {
    case 'beg': return (s) => norm(s).startsWith(p)
    case 'end': return (s) => norm(s).endsWith(p)
    case 'sub': return (s) => norm(s).includes(p)
    case 'reg': {
      const re = new RegExp(pattern, ignoreCase ? 'i' : '')
      return (s) => re.test(s)
    }
    default: return (s) => norm(s) === p
  }
}

/**
 * `http-check expect [!] hdr|fhdr name [-m meth] <name> [value [-m meth] <value>]`: some header
 * with that name (and, if given, a value: each comma-separated one for `hdr`, the whole line for `fhdr`).
 */
function headerExpect (kind: 'hdr' | 'fhdr', words: string[]): (headers: string) => boolean {
  let i = 0
  const take = (): { method: string, pattern: string } => {
    let method = 'str'
    if (words[i] === '-m') {
      method = words[i + 1] ?? 'str'
      i += 2
    }
    return { method, pattern: words[i++] ?? '' }
  }
  if (words[i] === 'name' || words[i] === 'name-lf') i++
  const name = take()
  const nameOk = matcher(name.method, name.pattern, true)
  let valueOk: Match | null = null
  if (words[i] === 'value' || words[i] === 'value-lf') {
    i++
    const value = take()
    valueOk = matcher(value.method, value.pattern, false)
  }
  return (headers) => {
    for (const line of headers.split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon <= 0 || !nameOk(line.slice(0, colon).trim())) continue
      const value = line.slice(colon + 1).trim()
      if (valueOk === null) return true
      if (kind === 'fhdr' ? valueOk(value) : value.split(',').some((v) => (valueOk as Match)(v.trim()))) return true
    }
    return false
  }
}

function httpVersion (v: string): string {
  return v.startsWith('HTTP/') ? v : `HTTP/${v || '1.0'}`
}

/** The request bytes HAProxy sends (captured from haproxy 2.6: lower-case header names). */
function buildRequest (hc: HttpCheck): Buffer {
  const ver = httpVersion(hc.version)
  const lines = [`${hc.method || 'OPTIONS'} ${hc.uri || '/'} ${ver}`]
  let hasConnection = false
  for (const [name, value] of hc.headers) {
    const lower = name.toLowerCase()
    if (lower === 'connection') hasConnection = true
    lines.push(`${lower}: ${value}`)
  }
  const body = hc.body ?? ''
  if (body.length > 0) lines.push(`content-length: ${Buffer.byteLength(body)}`)
  if (ver !== 'HTTP/1.0' && !hasConnection) lines.push('connection: close')
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1')
}

/** `http-check expect [!] status|rstatus|string|rstring <pattern>` (§4.2); default 2xx/3xx. */
function compileExpect (expect: HttpCheckExpect | undefined, disableOn404: boolean): Pick<HttpProbe, 'judge' | 'needsBody'> {
  const wrongStatus = (reason: string): { status: 'L7STS', desc: string } => ({ status: 'L7STS', desc: reason })
  // disable-on-404 only applies to a server that is UP; a DOWN one stays DOWN on 404 (§4.2).
  const on404 = (code: number, up: boolean): boolean => disableOn404 && up && code === 404
  if (expect === undefined) {
    return {
      needsBody: false,
      judge: (code, reason, _body, up) => {
        if (code >= 200 && code < 400) return { status: 'L7OK', desc: '' }
        if (on404(code, up)) return { status: 'L7OKC', desc: '' }
        return wrongStatus(reason)
      }
    }
  }
  const neg = expect.negate
  switch (expect.kind) {
    case 'status': {
      const ranges = expect.pattern.split(',').map((r) => {
        const [lo, hi] = r.split('-')
        return [Number(lo), Number(hi ?? lo)] as const
      })
      return {
        needsBody: false,
        judge: (code, reason, _body, up) => {
          const hit = ranges.some(([lo, hi]) => code >= lo && code <= hi)
          if (hit !== neg) return { status: 'L7OK', desc: '' }
          if (on404(code, up)) return { status: 'L7OKC', desc: '' }
          return wrongStatus(reason)
        }
      }
    }
    case 'rstatus': {
      const re = new RegExp(expect.pattern)
      return {
        needsBody: false,
        judge: (code, reason, _body, up) => {
          if (re.test(String(code)) !== neg) return { status: 'L7OK', desc: '' }
          if (on404(code, up)) return { status: 'L7OKC', desc: '' }
          return wrongStatus(reason)
        }
      }
    }
    case 'string':
    case 'rstring': {
      const test = expect.kind === 'string'
        ? (body: string) => body.includes(expect.pattern)
        : ((re: RegExp) => (body: string) => re.test(body))(new RegExp(expect.pattern))
      return {
        needsBody: true,
        judge: (code, _reason, body, up) => {
          if (on404(code, up)) return { status: 'L7OKC', desc: '' }
          if (test(body) !== neg) return { status: 'L7OK', desc: '' }
          return { status: 'L7RSP', desc: 'HTTP content check did not match' }
        }
      }
    }
    case 'hdr':
    case 'fhdr': {
      // Recorded: the header rule replaces the status rule (a 500 with the header passes).
      const found = headerExpect(expect.kind, expect.pattern.split(' '))
      return {
        needsBody: false,
        judge: (code, reason, _body, up, headers) => {
          if (found(headers) !== neg) return { status: 'L7OK', desc: '' }
          if (on404(code, up)) return { status: 'L7OKC', desc: '' }
          return wrongStatus(reason)
        }
      }
    }
    default:
      // `string-lf`: the log-format is taken literally.
      return compileExpect({ ...(expect as HttpCheckExpect), kind: 'string' }, disableOn404)
  }
}

function compileProbe (proxy: Proxy): HttpProbe | null {
  const hc = proxy.httpCheck
  if (hc === null) return null
  return { request: buildRequest(hc), ...compileExpect(hc.expect, hc.disableOn404) }
}

/** `HTTP/1.x NNN reason` */
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?: ([^\r\n]*))?\r?\n/

/** One server's check: its timer and, while a probe runs, its socket. */
class CheckTask implements CheckHooks {
  private timer: NodeJS.Timeout | null = null
  private due = 0
  private socket: net.Socket | null = null
  private deadline: NodeJS.Timeout | null = null
  private startedAt = 0
  private readonly ca: Buffer | undefined
  private stopped = true

  constructor (readonly server: ServerRuntime, private readonly proxy: Proxy, private readonly probe: HttpProbe | null, private readonly script: TcpScript | null = null) {
    this.ca = server.checkTls && server.caFile !== undefined ? readBounded(server.caFile, PEM_FILE_LIMIT) : undefined
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
    if (this.stopped || this.socket !== null) return
    const at = Date.now() + ms
    if (this.timer === null || this.due > at) this.schedule(at)
  }

  toggled (): void {
    if (this.stopped) return
    if (!this.server.checkEnabled) {
      if (this.timer !== null) clearTimeout(this.timer)
      this.timer = null
      this.abort()
    } else if (this.timer === null && this.socket === null) {
      this.schedule(Date.now() + this.server.currentInter())
    }
  }

  private schedule (at: number): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.due = at
    this.timer = setTimeout(() => this.run(), Math.max(0, at - Date.now()))
    this.timer.unref()
  }

  private abort (): void {
    if (this.deadline !== null) clearTimeout(this.deadline)
    this.deadline = null
    if (this.socket !== null) {
      this.socket.removeAllListeners()
      this.socket.on('error', () => {})
      this.socket.destroy()
      this.socket = null
    }
  }

  private run (): void {
    this.timer = null
    const srv = this.server
    // Checks pause in maintenance (server.c: CHK_ST_PAUSED) and stop when disabled.
    if (!srv.checkEnabled) return
    if (srv.admin === 'maint') return this.next(Date.now())
    this.startedAt = Date.now()
    const inter = srv.inter
    const t = this.proxy.timeouts
    // Without `timeout check` the whole check must fit in `inter`; with it, the connect gets
    // min(inter, timeout connect) and the response `timeout check` (§4.2 `timeout check`).
    const connectTimeout = t.check !== undefined && t.connect !== undefined ? Math.min(inter, t.connect) : inter
    let finished = false
    let tcpUp = false
    let connected = false
    let data: Buffer = Buffer.alloc(0)
    const finish = (ok: boolean, status: string, code: number | null, desc: string, conditional = false): void => {
      if (finished) return
      finished = true
      this.abort()
      const result: CheckResult = { status, code, duration: Date.now() - this.startedAt, desc }
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
      else finish(false, tcpUp && srv.checkTls ? 'L6TOUT' : 'L4TOUT', null, '')
    }
    const arm = (ms: number): void => {
      if (this.deadline !== null) clearTimeout(this.deadline)
      this.deadline = setTimeout(onTimeout, ms)
      this.deadline.unref()
    }
    const evaluate = (ended: boolean): void => {
      const probe = this.probe as HttpProbe
      const text = data.toString('latin1')
      const head = text.indexOf('\r\n\r\n')
      const m = STATUS_LINE.exec(text)
      if (m === null) {
        if (ended || data.length >= MAX_RESPONSE || (text.length >= 12 && !text.startsWith('HTTP/'))) finish(false, 'L7RSP', null, '')
        return
      }
      if (head < 0 && !ended && data.length < MAX_RESPONSE) return
      const code = Number(m[1])
      let body = ''
      if (probe.needsBody) {
        if (!ended && data.length < MAX_RESPONSE && !bodyComplete(text, head)) return
        body = head >= 0 ? messageBody(text, head) : ''
      }
      const verdict = probe.judge(code, m[2] ?? '', body, srv.op === 'up', head >= 0 ? text.slice(m[0].length, head) : text.slice(m[0].length))
      const withCode = verdict.status === 'L7RSP' ? null : code
      finish(verdict.status === 'L7OK' || verdict.status === 'L7OKC', verdict.status, withCode, verdict.desc, verdict.status === 'L7OKC')
    }
    const onConnected = (): void => {
      connected = true
      const sock = this.socket as net.Socket
      if (this.script !== null) {
        if (t.check !== undefined) arm(t.check)
        scriptRun = runTcpScript(sock, this.script, (port) => this.dial(port), (s) => { this.socket = s }, (r) => { finish(r.ok, r.status, r.code ?? null, r.desc) })
        return
      }
      if (this.probe === null) {
        finish(true, srv.checkTls ? 'L6OK' : 'L4OK', null, '')
        return
      }
      if (t.check !== undefined) arm(t.check)
      sock.on('data', (chunk: Buffer) => {
        data = data.length === 0 ? chunk : Buffer.concat([data, chunk])
        evaluate(false)
      })
      sock.on('end', () => evaluate(true))
      sock.write(this.probe.request)
    }
    const sock = this.viaSocks ? net.connect({ host: srv.socks4!.host, port: srv.socks4!.port }) : this.dial(this.script?.port ?? null)
    if (srv.checkTls) {
      sock.once('secureConnect', onConnected)
      // A TCP connection that fails its TLS handshake is a Layer6 problem.
      sock.once('connect', () => {
        tcpUp = true
        if (t.check !== undefined) arm(t.check)
      })
    } else if (this.viaSocks) {
      const port = this.script?.port ?? srv.checkPort
      sock.once('connect', () => {
        socks4Handshake(sock, srv.checkHost, port, (err) => {
          if (err !== null) return finish(false, 'L4CON', null, errnoText(err))
          tcpUp = true
          onConnected()
          sock.resume()
        })
      })
    } else {
      sock.once('connect', () => {
        tcpUp = true
        onConnected()
      })
    }
    sock.setNoDelay(true)
    this.socket = sock
    arm(connectTimeout)
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && tcpUp) {
        finish(false, 'L6RSP', null, err.message)
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
      else if (this.probe !== null && this.script === null) evaluate(true)
    })
  }

  /** `check-via-socks4`: the check's first connection goes through the server's SOCKS4 proxy (not with `check-ssl`). */
  private get viaSocks (): boolean {
    return this.server.checkViaSocks4 && !this.server.checkTls
  }

  /** A check connection to the server's check address (TLS for `check-ssl`), on `port` or the check port. */
  private dial (port: number | null): net.Socket {
    const srv = this.server
    const opts = { host: srv.checkHost, port: port ?? srv.checkPort }
    if (!srv.checkTls) return net.connect(opts)
    return tls.connect({
      ...opts,
      servername: srv.sni ?? (net.isIP(srv.checkHost) === 0 ? srv.checkHost : undefined),
      rejectUnauthorized: srv.verify === 'required',
      ca: this.ca
    })
  }

  /** Next check one interval after this one started (skipping intervals that already passed). */
  private next (now: number): void {
    const inter = this.server.currentInter()
    let at = (this.startedAt || now) + inter
    while (at <= now) at += inter
    this.schedule(at)
  }
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

  constructor (backends: readonly Backend[], _opts: { log?: Logger } = {}) {
    for (const b of backends) {
      const probe = compileProbe(b.proxy)
      const script = compileTcpScript(b.proxy)
      for (const s of b.servers) {
        if (s.hasCheck) this.tasks.push(new CheckTask(s, b.proxy, probe, script))
        if (s.agent !== null) this.agents.push(new AgentTask(s, b.proxy.timeouts.check))
      }
    }
  }

  /** First checks spread over the longest interval: server k of n at max_inter × k / n (check.c start_checks); agents likewise. */
  start (): void {
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
