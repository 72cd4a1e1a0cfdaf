// A backend and its servers at run time: state, counters and the choice of a server per request
// (configuration.txt §4.2 `balance`, §5.2 `maxconn`/`maxqueue`, management.txt §9.3 server states).
// The balance algorithm is the one pluggable part (lib/runtime/algorithms.ts); everything else
// (backup servers, maxconn and queues, admin states, weights, slowstart, state-change logs in
// HAProxy's words) lives here. The health checker (lib/runtime/health.ts) drives the UP/DOWN
// state through the methods marked "for the health checker".

import { keepsLastServer } from './last-server.js'
import type { HttpTxn } from '../acl/txn.js'
import type { Proxy, Server, ServerCheckOnError } from '../config/model.js'
import { LOG_ALERT, LOG_EMERG, LOG_NOTICE } from '../log/syslog.js'
import { AgentSettings, type AgentAnswer } from './agent.js'
import { createBalancer, effectiveWeight, isMapBased, shownWeight, type Balancer, type LbServer } from './algorithms.js'
import { TrafficCounters, type BackendView, type CheckResult, type ServerAdminState, type ServerOpState, type ServerView } from './state.js'
import type { Socks4Proxy } from './socks4.js'

/** Sessions cut on a server: when, and the termination state's first letter it gives them. */
export interface SessionCut { readonly at: number, readonly cause: 'D' | 'U' | 'K' }

/** pino-like logger; state changes go to warn, "no server available" to error (HAProxy's levels). */
export interface Logger {
  info (msg: string): void
  warn (msg: string): void
  error (msg: string): void
}

/** HAProxy's defaults (configuration.txt §5.2). */
const DEFAULT_INTER = 2000
const DEFAULT_RISE = 2
const DEFAULT_FALL = 3
const DEFAULT_WEIGHT = 1
const DEFAULT_ERROR_LIMIT = 10

/** A request waiting for a connection slot (configuration.txt §5.2 `maxqueue`). */
interface Pending {
  resolve: (srv: ServerRuntime | null) => void
  timer: NodeJS.Timeout | null
  /** Order of arrival across the backend's and the servers' queues. */
  seq: number
  since: number
  /** The server queue it waits in, or null for the backend's. */
  server: ServerRuntime | null
}

/** Check statuses and their descriptions (management.txt §9.1 `check_status`); code shown for L7 data ones. */
export const CHECK_STATUS: Readonly<Record<string, { desc: string, withCode: boolean }>> = {
  UNK: { desc: 'Unknown', withCode: false },
  INI: { desc: 'Initializing', withCode: false },
  SOCKERR: { desc: 'Socket error', withCode: false },
  HANA: { desc: 'Health analyze', withCode: false },
  L4OK: { desc: 'Layer4 check passed', withCode: false },
  L4TOUT: { desc: 'Layer4 timeout', withCode: false },
  L4CON: { desc: 'Layer4 connection problem', withCode: false },
  L6OK: { desc: 'Layer6 check passed', withCode: false },
  L6TOUT: { desc: 'Layer6 timeout', withCode: false },
  L6RSP: { desc: 'Layer6 invalid response', withCode: false },
  L7TOUT: { desc: 'Layer7 timeout', withCode: false },
  L7RSP: { desc: 'Layer7 invalid response', withCode: false },
  L7OK: { desc: 'Layer7 check passed', withCode: true },
  L7OKC: { desc: 'Layer7 check conditionally passed', withCode: true },
  L7STS: { desc: 'Layer7 wrong status', withCode: true },
  /** `option external-check`: the command's exit status is the code (0 on a timeout). */
  PROCERR: { desc: 'External check error', withCode: true },
  PROCTOUT: { desc: 'External check timeout', withCode: true },
  PROCOK: { desc: 'External check passed', withCode: true },
  /** An agent's answer that changes no state (a weight, maxconn, or an error). */
  CHECKED: { desc: 'No status change', withCode: false }
}

/** `, reason: …, code: …, info: "…", check duration: …ms`: the tail of HAProxy's server state log lines. */
export function describeCheck (r: CheckResult): string {
  const row = CHECK_STATUS[r.status]
  let s = `, reason: ${row?.desc ?? r.status}`
  if (row?.withCode && r.code !== null) s += `, code: ${r.code}`
  const info = r.logInfo ?? r.desc
  if (info) s += `, info: "${info.replace(/"/g, '\\"')}"`
  if (r.duration !== null) s += `, check duration: ${r.duration}ms`
  return s
}

/** Statuses `observe layer7` counts as valid answers: 100–499, 501, 505 (§5.2 `observe`). */
const OBSERVE_L7_OK = (status: number): boolean =>
  (status >= 100 && status <= 499) || status === 501 || status === 505

/** What the health checker may hook into a server (check scheduling lives in health.ts). */
export interface CheckHooks {
  /** Bring the next check forward to at most `ms` from now. */
  hurry (ms: number): void
  /** Checks were enabled or disabled at run time. */
  toggled (): void
}

export class ServerRuntime implements ServerView, LbServer {
  readonly name: string
  readonly id: number
  /** Position in the backend (changes when a dynamic server before it is deleted). */
  index: number
  /**
   * `ip:port` (`[ip6]:port`), '' while it has no address; these change with `set server addr`,
   * DNS resolution (setAddress) and `set server … ssl` (setSsl).
   */
  addr: string
  host: string
  port: number
  /**
   * No port or `+N`/`-N` on its line: it is reached on the client's destination port plus `port`
   * (until `set server addr … port` gives it one).
   */
  relativePort: boolean
  ssl: boolean
  /** `ssl` on its line or its default-server's: only then may `set server … ssl` switch it. */
  readonly sslConfigured: boolean
  /** `proto h2`: HTTP/2 to the server (h2c in clear, ALPN over TLS); its line's or `add server`'s. */
  readonly proto: 'h1' | 'h2'
  /** `alpn`: the protocols offered over TLS, undefined without the keyword. */
  readonly alpn: string[] | undefined
  /** Upgrades (WebSocket) toward the server go over HTTP/2 (RFC 8441 extended CONNECT), per `ws`. */
  readonly upgradesOverH2: boolean
  /** `srv_use_ssl` of state files: 1 TLS, 0 clear, -1 `no-ssl` on the line (until `set server … ssl`). */
  useSsl: -1 | 0 | 1
  /** It has an address to connect to: not while a name waits for an answer (`show servers state` '-'). */
  hasAddress: boolean
  /** The host name it follows (srv_fqdn): its line's, an SRV record's target, or `set server fqdn`'s. */
  fqdn: string | null
  /** The SRV record name a server-template slot follows (srvrecord), else null. */
  readonly srvRecord: string | null
  /**
   * HAProxy's admin flag 0x40 in state files (2.6.12, observed): set once the server's address
   * came or went at run time through a name (an SRV slot filled or emptied, a name that stopped
   * resolving, a name from `set server fqdn` resolved for a server without address); it stays.
   */
  hostnameMaint = false
  /** `set server fqdn` named it; the name's first answer settles it. */
  private fqdnChanged = false
  /** `send-proxy` (1) / `send-proxy-v2` (2), 0 without: the PROXY header a `mode tcp` connection starts with. */
  readonly sendProxy: 0 | 1 | 2
  /** `socks4`: the SOCKS4 proxy connections to the server go through, null without. */
  readonly socks4: Socks4Proxy | null
  /** `check-via-socks4` (with `socks4`): health checks go through that proxy too. */
  readonly checkViaSocks4: boolean
  /**
   * The PROXY header version health checks open with (0: none): `send-proxy[-v2]` when the
   * check has no `port`/`addr` of its own, or `check-send-proxy` (§5.2).
   */
  readonly checkSendProxy: 0 | 1 | 2
  /** `http://127.0.0.1:8081`, `https://[::1]:8443` */
  origin: string
  readonly backup: boolean
  /** `non-stick`: `stick` rules never store this server (stick-persistence.ts). */
  readonly nonStick: boolean
  /**
   * Its name is not resolved (`init-addr … none` at load, a name that stopped resolving, an
   * empty SRV slot): HAProxy holds it in MAINT (resolution) until a resolver finds it; without
   * a `resolvers` section it never leaves.
   */
  unresolved: boolean
  readonly hasCheck: boolean
  checkEnabled: boolean
  readonly rise: number
  readonly fall: number
  health: number
  op: ServerOpState
  admin: ServerAdminState
  nolb = false
  uweight: number
  /** Effective weight in the balancer's units (see algorithms.ts). */
  eweight = 0
  usable = false
  maxconn: number
  readonly maxqueue: number
  /** `minconn` (0: none): the lower end of the dynamic maxconn. */
  readonly minconn: number
  maxconnNow: number
  lastCheck: CheckResult
  lastCheckAt = 0
  chkfail = 0
  chkdown = 0
  lastChange: number
  readonly counters = new TrafficCounters()
  lbtot = 0
  qmax = 0
  /** Requests holding a slot now (HAProxy's `served`). */
  served = 0
  readonly queue: Pending[] = []
  /** Check settings, HAProxy's defaults applied. */
  readonly inter: number
  readonly fastinter: number
  readonly downinter: number
  checkHost: string
  checkPort: number
  /** `addr` / `port` given for checks: they do not follow the server's address. */
  checkHostExplicit: boolean
  checkPortExplicit: boolean
  /** `disabled` on its line (state files tell it from a maintenance set at run time). */
  disabledByConfig: boolean
  /** Check over TLS: `check-ssl`, or `ssl` servers whose check is not redirected by `port`/`addr`. */
  readonly checkTls: boolean
  readonly verify: 'none' | 'required'
  readonly caFile: string | undefined
  /** `crt`: the client certificate file presented to the server (traffic and TLS checks). */
  readonly crt: string | undefined
  readonly sni: string | undefined
  /** HTTP checks speak HTTP/2: `check-proto h2`, or `proto h2` without a check-proto. */
  readonly checkH2: boolean
  /** `check-sni` / `check-alpn` of TLS checks. */
  readonly checkSni: string | undefined
  readonly checkAlpn: string[] | undefined
  readonly slowstart: number
  readonly observeLayer: 'layer4' | 'layer7' | null
  readonly errorLimit: number
  readonly onError: ServerCheckOnError
  /** `on-marked-down shutdown-sessions`. */
  private readonly shutdownWhenDown: boolean
  /** `on-marked-up shutdown-backup-sessions`. */
  private readonly shutdownBackupsWhenUp: boolean
  /** The last time its sessions were cut, and why (`cutSessions`). */
  sessionsCut: SessionCut | null = null
  consecutiveErrors = 0
  /** failed_hana: passive checks that triggered `on-error`. */
  hanafail = 0
  /** Set by the health checker while it runs. */
  hooks: CheckHooks | null = null
  /** `agent-check` (with an `agent-port`): the agent's settings and last answer. */
  readonly agent: AgentSettings | null
  /** Slowstart: ramping up since `startingSince` (HAProxy's SRV_ST_STARTING), else 0. */
  startingSince = 0
  private downSince: number
  private downTotal = 0
  private warmup: NodeJS.Timeout | null = null

  constructor (readonly backend: Backend, conf: Server, index: number, id: number, now: number) {
    this.name = conf.name
    this.index = index
    this.id = id
    this.host = conf.host
    this.port = conf.port
    this.relativePort = conf.relativePort === true
    this.ssl = conf.ssl === true
    this.sslConfigured = conf.sslSettings === true
    this.proto = conf.proto ?? 'h1'
    this.alpn = conf.alpn
    this.upgradesOverH2 = upgradesOverH2(conf.ws ?? 'auto', this.proto, this.ssl ? conf.alpn : undefined)
    this.useSsl = conf.ssl === true ? 1 : conf.ssl === false ? -1 : 0
    this.sendProxy = conf.sendProxy ?? 0
    this.socks4 = conf.socks4 ?? null
    this.checkViaSocks4 = conf.checkViaSocks4 === true && this.socks4 !== null
    this.checkSendProxy = conf.checkSendProxy === true ? this.sendProxy || 1 : conf.checkPort === undefined && conf.checkAddr === undefined ? this.sendProxy : 0
    this.hasAddress = conf.unresolved !== true
    this.addr = this.hasAddress ? addrText(conf.host, conf.port) : ''
    this.origin = originOf(this.ssl, conf.host, conf.port)
    const srv = conf.fqdn !== undefined && conf.fqdn.startsWith('_') && conf.resolvers !== undefined
    this.srvRecord = srv ? conf.fqdn! : null
    this.fqdn = srv ? null : conf.fqdn ?? null
    this.backup = conf.backup === true
    this.nonStick = conf.nonStick === true
    this.hasCheck = conf.check === true
    this.checkEnabled = this.hasCheck
    this.rise = conf.rise ?? DEFAULT_RISE
    this.fall = conf.fall ?? DEFAULT_FALL
    // A checked server starts UP but falls at the first failed check (observed: `fall` is not waited for at start).
    this.health = this.rise
    this.unresolved = conf.unresolved === true
    this.admin = conf.disabled === true || this.unresolved ? 'maint' : 'ready'
    this.op = this.admin === 'maint' ? 'down' : 'up'
    // in maintenance the health counter is 0 (`show servers state`), until checks restart it
    if (this.admin === 'maint') this.health = 0
    this.uweight = conf.weight ?? DEFAULT_WEIGHT
    this.maxconn = conf.maxconn ?? 0
    this.maxqueue = conf.maxqueue ?? 0
    this.minconn = conf.minconn ?? 0
    this.maxconnNow = this.maxconn
    this.lastCheck = { status: this.hasCheck ? 'INI' : '', code: null, duration: null, desc: '' }
    this.lastChange = now
    this.downSince = this.op === 'down' ? now : 0
    this.inter = conf.inter ?? DEFAULT_INTER
    this.fastinter = conf.fastinter ?? 0
    this.downinter = conf.downinter ?? 0
    this.checkHost = conf.checkAddr ?? conf.host
    this.checkPort = conf.checkPort ?? conf.port
    this.checkHostExplicit = conf.checkAddr !== undefined
    this.checkPortExplicit = conf.checkPort !== undefined
    this.disabledByConfig = conf.disabled === true
    this.checkTls = conf.checkSsl ?? (this.ssl && conf.checkPort === undefined && conf.checkAddr === undefined)
    this.checkH2 = (conf.checkProto ?? conf.proto) === 'h2'
    this.crt = conf.crt
    this.checkSni = conf.checkSni
    this.checkAlpn = conf.checkAlpn
    // HAProxy verifies by default; a config without ca-file must say `verify none` (§5.2 `verify`).
    this.verify = conf.verify ?? (conf.caFile !== undefined ? 'required' : 'none')
    this.caFile = conf.caFile
    this.sni = sniName(conf.sni)
    this.slowstart = conf.slowstart ?? 0
    this.observeLayer = conf.observe ?? null
    this.errorLimit = conf.errorLimit ?? DEFAULT_ERROR_LIMIT
    this.onError = conf.onError ?? 'fail-check'
    this.shutdownWhenDown = conf.onMarkedDown === 'shutdown-sessions'
    this.shutdownBackupsWhenUp = conf.onMarkedUp === 'shutdown-backup-sessions'
    this.agent = conf.agentCheck === true && conf.agentPort
      ? new AgentSettings(conf.agentAddr ?? conf.host, conf.agentPort, conf.agentInter ?? this.inter, conf.agentSend ?? '', conf.agentAddr !== undefined)
      : null
  }

  get queued (): number { return this.queue.length }
  get qcur (): number { return this.queue.length }
  /** Effective weight in user units, as the stats `weight` column shows it. */
  get weight (): number {
    return shownWeight(this.backend.lb, this.eweight)
  }

  downtime (now: number): number {
    return this.downTotal + (this.downSince > 0 ? now - this.downSince : 0)
  }

  /** Slowstart ratio applied to weight and maxconn, 0–100 (the stats `throttle` column); 100 when not ramping. */
  throttle (now: number): number {
    if (this.startingSince === 0) return 100
    return Math.min(100, Math.floor(100 * (now - this.startingSince) / this.slowstart))
  }

  /** The check interval now (configuration.txt §5.2 `inter`, `fastinter`, `downinter`): inter when fully up, downinter when down, else fastinter. */
  currentInter (): number {
    if (this.health === this.rise + this.fall - 1) return this.inter
    if (this.op === 'down' && this.health === 0) return this.downinter || this.inter
    return this.fastinter || this.inter
  }

  // --- administration (stats page, app.haproxy) ------------------------------------------------

  /**
   * Moves the server (`set server addr`, a DNS answer): requests under way finish where they
   * are, the next ones connect to the new address (the forwarder opens a new pool).
   */
  setAddress (host: string, port: number = this.port): void {
    this.host = host
    this.port = port
    this.hasAddress = true
    this.addr = addrText(host, port)
    this.origin = originOf(this.ssl, host, port)
    if (!this.checkHostExplicit) this.checkHost = host
    if (!this.checkPortExplicit) this.checkPort = port
  }

  /**
   * A DNS answer for the server (lib/runtime/discovery.ts): it moves if the address changed,
   * takes the SRV record's target name and weight if one came, and leaves MAINT (resolution).
   */
  resolved (host: string, port: number = this.port, srv?: { target: string, weight?: number }): void {
    if (host !== this.host || port !== this.port || !this.hasAddress) this.setAddress(host, port)
    if (srv !== undefined) this.fqdn = srv.target
    if (srv !== undefined || this.fqdnChanged) {
      if (this.unresolved) this.hostnameMaint = true
      this.fqdnChanged = false
    }
    const weight = srv?.weight
    if (weight !== undefined && weight !== this.uweight && this.backend.lb.dynamic) this.setWeight(Math.min(256, weight))
    if (!this.unresolved) return
    this.unresolved = false
    this.setAdmin('ready')
  }

  /**
   * Its name stopped resolving (after `hold nx`), or its SRV slot is empty: MAINT (resolution),
   * without an address (an emptied slot forgets its target too).
   */
  unresolvedNow (): void {
    if (this.hasAddress) this.hostnameMaint = true
    this.hasAddress = false
    this.addr = ''
    if (this.srvRecord !== null) {
      this.fqdn = null
      this.port = 0
    }
    if (this.unresolved) return
    this.setAdmin('maint')
    this.unresolved = true
  }

  /**
   * `set server … fqdn`: the server follows another name from the resolvers' next round on
   * (lib/runtime/discovery.ts); it keeps its address until that name answers, or fails to.
   */
  setFqdn (name: string): void {
    this.fqdn = name
    this.fqdnChanged = true
  }

  /** `set server … ssl on|off`: the next connections are TLS or clear; checks keep theirs. */
  setSsl (on: boolean): void {
    this.ssl = on
    this.useSsl = on ? 1 : 0
    this.origin = originOf(on, this.host, this.port)
  }

  /** `set server … check-port`: checks go to that port from now on (0: the server's own port again). */
  setCheckPort (port: number): void {
    this.checkPort = port || this.port
    this.checkPortExplicit = port !== 0
  }

  /** `set server … check-addr <ip> [port <p>]`: checks go there from now on. */
  setCheckAddress (host: string, port: number | null): void {
    this.checkHost = host
    this.checkHostExplicit = true
    if (port !== null) this.setCheckPort(port)
  }

  /** `set server … maxconn` / `set maxconn server`: 0 removes the limit; queued requests may move at once. */
  setMaxconn (maxconn: number): void {
    this.maxconn = maxconn
    this.refresh()
    this.backend.dequeue(this)
    this.backend.settle(Date.now())
  }

  /**
   * `set server … health up|stopping|down` (management.txt): the check verdict is forced, with
   * or without running checks (a server without checks then stays where it was put).
   */
  forceHealth (state: 'up' | 'stopping' | 'down'): void {
    const now = Date.now()
    const why = ', changed from CLI'
    if (state === 'down') {
      this.health = 0
      this.forceDown(why, now)
    } else {
      this.health = this.rise + this.fall - 1
      const nolb = state === 'stopping'
      if ((this.op === 'up' && this.nolb === nolb) || this.admin === 'maint' || this.agent?.up === false) return
      const wasDown = this.op === 'down'
      this.nolb = nolb
      this.setOp('up', now)
      if (wasDown) this.startSlowstart(now)
      const moved = this.refresh()
      this.backend.logWarn(`${this.who()} is ${nolb ? 'stopping' : 'UP'}${why}${this.backend.tail(this, true, moved)}.`)
    }
    this.backend.settle(now)
  }

  /** Takes a serving server DOWN without a check result (forced health, its agent): the state line ends with `why`. */
  private forceDown (why: string, now: number): void {
    if (this.op === 'down' || this.admin === 'maint') return
    this.nolb = false
    this.setOp('down', now)
    this.chkdown++
    const moved = this.refresh()
    this.backend.logWarn(`${this.who()} is DOWN${why}${this.backend.tail(this, false, moved)}.`, LOG_ALERT)
  }

  setAdmin (state: ServerAdminState): void {
    const prev = this.admin
    if (state === prev || this.unresolved) return
    const b = this.backend
    const who = `${this.backup ? 'Backup ' : ''}Server ${b.name}/${this.name}`
    const now = Date.now()
    this.admin = state
    if (state === 'maint') {
      const wasDown = this.op === 'down'
      this.health = 0
      if (prev === 'drain') b.logWarn(`${who} remains in forced drain mode.`)
      this.setOp('down', now)
      const moved = this.refresh()
      if (wasDown) b.logWarn(`${who} was DOWN and now enters maintenance.`)
      else {
        this.chkdown++
        b.logWarn(`${who} is going DOWN for maintenance${b.tail(this, false, moved)}.`, LOG_ALERT)
      }
    } else if (prev === 'maint') {
      // Leaving maintenance: UP at once, checks restart from "falls at the first failure".
      if (this.checkEnabled) this.health = this.rise
      this.nolb = false
      this.setOp('up', now)
      this.startSlowstart(now)
      this.refresh()
      b.logWarn(`${who} is UP/${state === 'drain' ? 'DRAIN' : 'READY'} (leaving forced maintenance).`)
    } else if (state === 'drain') {
      this.lastChange = now
      const moved = this.refresh()
      b.logWarn(`${who} enters drain state${b.tail(this, true, moved)}.`)
    } else {
      this.lastChange = now
      this.refresh()
      b.logWarn(`${who} is ${this.op === 'up' ? 'UP' : 'DOWN'} (leaving forced drain).`)
    }
    b.settle(now)
  }

  /** Runtime weight (`set weight`); static algorithms accept only 0 and the configured weight. */
  setWeight (weight: number): void {
    if (!Number.isInteger(weight) || weight < 0 || weight > 256) throw new RangeError('Weight must be an integer between 0 and 256.')
    const lb = this.backend.lb
    if (!lb.dynamic && weight !== 0 && weight !== this.backend.initialWeight(this)) {
      throw new RangeError("Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.")
    }
    this.uweight = weight
    this.refresh()
    this.backend.settle(Date.now())
  }

  enableHealth (): void {
    if (!this.hasCheck || this.checkEnabled) return
    this.checkEnabled = true
    this.hooks?.toggled()
  }

  /** Checks stop and the server keeps the state they left it in (haproxy 2.6: a DOWN server stays DOWN). */
  disableHealth (): void {
    if (!this.checkEnabled) return
    this.checkEnabled = false
    this.hooks?.toggled()
  }

  /**
   * Passive check (configuration.txt §5.2 `observe layer4|layer7`, `error-limit`, `on-error`):
   * the forwarder reports each connection error, timeout or response status.
   */
  observe (result: 'conn-error' | 'timeout' | 'http-status', status?: number): void {
    const layer = this.observeLayer
    // Without running checks haproxy 2.6 ignores `observe` (recorded: a server answering 500s stays in).
    if (layer === null || !this.checkEnabled) return
    let failed: boolean
    let what: string
    if (result === 'conn-error') {
      failed = true
      what = 'L4 unsuccessful connection'
    } else if (layer === 'layer4') {
      // A response or a read timeout means the connection itself worked.
      this.consecutiveErrors = 0
      return
    } else if (result === 'timeout') {
      failed = true
      what = 'Read timeout (http)'
    } else {
      failed = !OBSERVE_L7_OK(status ?? 0)
      what = 'Wrong http response'
    }
    if (!failed) {
      this.consecutiveErrors = 0
      return
    }
    if (++this.consecutiveErrors < this.errorLimit) return
    const info = `Detected ${this.consecutiveErrors} consecutive errors, last one was: ${what}`
    const hana: CheckResult = { status: 'HANA', code: null, duration: null, desc: info }
    switch (this.onError) {
      case 'sudden-death':
        if (this.health > this.rise) this.health = this.rise + 1
        this.checkFailed(hana)
        break
      case 'fail-check':
        this.checkFailed(hana)
        break
      case 'mark-down':
        this.health = this.rise
        this.checkFailed(hana)
        break
      case 'fastinter':
        break
    }
    this.consecutiveErrors = 0
    this.hanafail++
    if (this.fastinter) this.hooks?.hurry(this.fastinter)
  }

  // --- for the health checker ---------------------------------------------------------------------

  checkPassed (result: CheckResult, conditional = false): void {
    const prevHealth = this.health
    const prevStatus = this.lastCheck.status
    this.recordCheck(result)
    this.consecutiveErrors = 0
    const top = this.rise + this.fall - 1
    if (this.health < top) {
      this.health++
      if (this.health >= this.rise) this.health = top
    }
    this.logCheck('succeeded', result, prevHealth, prevStatus)
    if (this.health < this.rise || this.admin === 'maint' || this.agent?.up === false) return
    const now = Date.now()
    if (conditional) {
      if (this.op === 'up' && this.nolb) return
      this.nolb = true
      this.setOp('up', now)
      const moved = this.refresh()
      this.backend.logWarn(`${this.who()} is stopping${this.reason(result)}${this.backend.tail(this, true, moved)}.`)
    } else {
      if (this.op === 'up' && !this.nolb) return
      this.nolb = false
      this.setOp('up', now)
      this.startSlowstart(now)
      const moved = this.refresh()
      this.backend.logWarn(`${this.who()} is UP${this.reason(result)}${this.backend.tail(this, true, moved)}.`)
    }
    this.backend.settle(now)
  }

  checkFailed (result: CheckResult): void {
    const prevHealth = this.health
    const prevStatus = this.lastCheck.status
    this.recordCheck(result)
    if (this.health > 0) {
      this.chkfail++
      this.health--
      if (this.health < this.rise) this.health = 0
    }
    this.logCheck('failed', result, prevHealth, prevStatus)
    if (this.health >= this.rise || this.op === 'down' || this.admin === 'maint') return
    const now = Date.now()
    this.nolb = false
    this.setOp('down', now)
    this.chkdown++
    const moved = this.refresh()
    this.backend.logWarn(`${this.who()} is DOWN${this.reason(result)}${this.backend.tail(this, false, moved)}.`, LOG_ALERT)
    this.backend.settle(now)
  }

  // --- for the agent check (lib/runtime/agent.ts) ----------------------------------------------

  /** An agent's answer (null when it could not be asked): weight, maxconn, admin state, then UP/DOWN. */
  agentReport (result: CheckResult, answer: AgentAnswer | null): void {
    const agent = this.agent
    if (agent === null) return
    const prevStatus = agent.last.status
    const prevUp = agent.up
    agent.last = result
    if (answer !== null && answer.unknown === undefined) {
      if (answer.weightPercent !== undefined) {
        try {
          this.setWeight(Math.min(256, Math.floor(this.backend.initialWeight(this) * answer.weightPercent / 100)))
        } catch {}
      }
      if (answer.maxconn !== undefined) this.setMaxconn(answer.maxconn)
      if (answer.admin !== undefined) this.setAdmin(answer.admin)
    }
    const up = answer?.state === undefined ? prevUp : answer.state === 'up'
    if (this.backend.logHealthChecks && result.status !== 'CHECKED' && (prevStatus !== result.status || prevUp !== up)) {
      const outcome = result.status === 'L7OK' ? 'succeeded' : 'failed'
      this.backend.logWarn(`Agent check for ${this.backup ? 'backup ' : ''}server ${this.backend.name}/${this.name} ${outcome}${describeCheck(result)}, status: ${up ? '1/1 UP' : '0/1 DOWN'}.`)
    }
    if (up !== prevUp) this.setAgentUp(up, '')
  }

  /** The agent's verdict (an answer, or `set server … agent up|down` with `why`): the server follows unless its checks or admin state hold it. */
  setAgentUp (up: boolean, why: string): void {
    const agent = this.agent
    if (agent === null) return
    agent.up = up
    const now = Date.now()
    if (!up) {
      this.forceDown(why, now)
    } else {
      if (this.op === 'up' || this.admin === 'maint' || (this.checkEnabled && this.health < this.rise)) return
      this.setOp('up', now)
      this.startSlowstart(now)
      const moved = this.refresh()
      this.backend.logWarn(`${this.who()} is UP${why}${this.backend.tail(this, true, moved)}.`)
    }
    this.backend.settle(now)
  }

  /** The check's reason on the state-change line, unless `option log-health-checks` already said it. */
  private reason (result: CheckResult): string {
    return this.backend.logHealthChecks ? '' : describeCheck(result)
  }

  /** `option log-health-checks` (configuration.txt §4.2): one line per check that moved the health counter. */
  private logCheck (outcome: 'succeeded' | 'failed', result: CheckResult, prevHealth: number, prevStatus: string): void {
    if (!this.backend.logHealthChecks || (prevHealth === this.health && prevStatus === result.status)) return
    const up = this.health >= this.rise
    const status = up ? `${this.health - this.rise + 1}/${this.fall} UP` : `${this.health}/${this.rise} DOWN`
    this.backend.logWarn(`Health check for ${this.backup ? 'backup ' : ''}server ${this.backend.name}/${this.name} ${outcome}${describeCheck(result)}, status: ${status}.`)
  }

  private recordCheck (result: CheckResult): void {
    this.lastCheck = result
    this.lastCheckAt = Date.now()
  }

  private who (): string {
    return `${this.backup ? 'Backup ' : ''}Server ${this.backend.name}/${this.name}`
  }

  private setOp (op: ServerOpState, now: number): void {
    if (op === this.op) return
    this.op = op
    this.lastChange = now
    if (op === 'down') this.downSince = now
    else if (this.downSince > 0) {
      this.downTotal += now - this.downSince
      this.downSince = 0
    }
    if (op === 'down' && this.shutdownWhenDown) this.cutSessions('D')
    // the traffic the backups took while this server was away goes back to it at once (§5.2:
    // only from a server that is no backup and has an effective weight)
    if (op === 'up' && this.shutdownBackupsWhenUp && !this.backup && this.weight > 0) {
      for (const s of this.backend.servers) if (s.backup) s.cutSessions('U')
    }
  }

  /**
   * Cuts the sessions under way on this server; their logs say why, with the first letter of
   * HAProxy's termination state: `D` the server went DOWN (`on-marked-down`), `U` an active
   * server came UP (`on-marked-up`, on a backup), `K` an administrator's command.
   */
  cutSessions (cause: SessionCut['cause']): void {
    this.sessionsCut = { at: Date.now(), cause }
    this.backend.killSessions(this)
  }

  private startSlowstart (now: number): void {
    if (this.slowstart <= 0) return
    this.startingSince = now
    this.scheduleWarmup()
  }

  private scheduleWarmup (): void {
    if (this.warmup !== null) clearTimeout(this.warmup)
    // HAProxy re-evaluates every max(1s, slowstart/20); a finer step keeps short ramps linear.
    const step = Math.max(50, Math.floor(this.slowstart / 20))
    this.warmup = setTimeout(() => {
      this.warmup = null
      this.refresh()
      this.backend.settle(Date.now())
      if (this.startingSince > 0) this.scheduleWarmup()
    }, step)
    this.warmup.unref()
  }

  /**
   * Takes over the health of the same server in the previous configuration (a reload):
   * counters, weight and admin state come from the new config, as after a HAProxy reload.
   */
  adopt (prev: ServerRuntime): void {
    if (this.admin === 'maint') return
    const prevTop = prev.rise + prev.fall - 1
    const top = this.rise + this.fall - 1
    if (prev.op === 'up' && prev.admin !== 'maint') {
      this.op = 'up'
      this.health = prev.health === prevTop ? top : Math.min(top, Math.max(this.rise, prev.health - prev.rise + this.rise))
    } else if (prev.admin !== 'maint') {
      this.op = 'down'
      this.health = Math.min(prev.health, this.rise - 1)
      this.downSince = prev.downSince > 0 ? prev.downSince : Date.now()
    }
    this.nolb = prev.nolb && this.op === 'up'
    this.lastCheck = prev.lastCheck
    this.lastCheckAt = prev.lastCheckAt
    this.chkfail = prev.chkfail
    this.chkdown = prev.chkdown
    this.lastChange = prev.lastChange
    this.downTotal = prev.downTotal
    this.refresh()
  }

  /**
   * The maxconn in force (0: no limit). With `minconn`, it follows the backend's load: at least
   * minconn, maxconn once the backend holds `fullconn` sessions, on the ramp between (§5.2
   * minconn, §4.2 fullconn); a slowstart ramp caps it further.
   */
  limit (): number {
    const max = this.maxconnNow
    if (this.minconn === 0 || max === 0 || this.minconn >= this.maxconn) return max
    const be = this.backend
    const load = be.counters.scur
    if (load >= be.fullconn) return max
    return Math.max(1, Math.min(max, Math.max(this.minconn, Math.floor(load * this.maxconn / be.fullconn))))
  }

  stopTimers (): void {
    if (this.warmup !== null) clearTimeout(this.warmup)
    this.warmup = null
  }

  /**
   * Recomputes eweight, usability and the dynamic maxconn, tells the balancer, and moves
   * queued requests (a server going away hands its queue back; one coming up takes from the
   * backend's). Returns how many requests were moved (HAProxy's "requeued").
   */
  refresh (): number {
    const lb = this.backend.lb
    const now = Date.now()
    let rampNum = 0
    let rampDen = 0
    this.maxconnNow = this.maxconn
    if (this.startingSince > 0) {
      const elapsed = now - this.startingSince
      if (elapsed >= this.slowstart || elapsed < 0) {
        this.startingSince = 0
      } else {
        rampNum = elapsed
        rampDen = this.slowstart
        if (this.maxconn > 0) this.maxconnNow = Math.max(1, Math.floor(this.maxconn * Math.floor(100 * elapsed / this.slowstart) / 100))
      }
    }
    this.eweight = effectiveWeight(lb, this.uweight, rampNum, rampDen)
    const wasUsable = this.usable
    this.usable = this.eweight > 0 && this.admin === 'ready' && this.op === 'up' && !this.nolb
    lb.update(this)
    if (wasUsable && !this.usable) return this.backend.redistribute(this)
    if (this.usable) return this.backend.grabFromBackend(this)
    return 0
  }
}

/**
 * Per backend, the summed maxconn of the frontends that can route to it (default_backend,
 * use_backend with a constant name; a listen routes to itself): for HAProxy's default fullconn.
 */
export function routedMaxconns (frontends: Iterable<{ proxy: Proxy, maxconn: number }>): Map<string, number> {
  const sums = new Map<string, number>()
  for (const { proxy, maxconn } of frontends) {
    const seen = new Set<string>()
    if (proxy.kind === 'listen') seen.add(proxy.name)
    if (proxy.defaultBackend !== null) seen.add(proxy.defaultBackend.name)
    for (const u of proxy.useBackends) if (!u.backend.includes('%[')) seen.add(u.backend)
    for (const b of seen) sums.set(b, (sums.get(b) ?? 0) + maxconn)
  }
  return sums
}

/** `fullconn`, else a tenth of the maxconns routed to the backend, at least 1 (§4.2 fullconn). */
export function fullconnOf (proxy: Proxy, sums: ReadonlyMap<string, number>): number {
  return proxy.fullconn ?? Math.max(1, Math.ceil((sums.get(proxy.name) ?? 0) / 10))
}

/**
 * The name `sni <expression>` sends: a constant expression (`str(api.example)`) gives its text.
 * Other expressions are sent as written (a pool's connections are not made per request here).
 */
function sniName (expr: string | undefined): string | undefined {
  if (expr === undefined) return undefined
  const constant = /^str\((.*)\)$/.exec(expr)
  return constant === null ? expr : constant[1]
}

export class Backend implements BackendView {
  readonly name: string
  readonly id: number
  readonly algorithm: string
  readonly servers: ServerRuntime[]
  /** The server lines of servers added at run time (`add server`), which the configuration does not hold. */
  private readonly dynamicConfs = new WeakMap<ServerRuntime, Server>()
  /** `fullconn`, or HAProxy's default (a tenth of the maxconns of the frontends routing here), set by the gateway. */
  fullconn = 1
  readonly counters = new TrafficCounters()
  lbtot = 0
  qmax = 0
  chkdown = 0
  lastChange: number
  isUp = false
  /** `option log-health-checks` */
  readonly logHealthChecks: boolean
  /** Its algorithm leaves the choice free, so a client may keep its server (lib/runtime/last-server.ts). */
  readonly keepsLast: boolean
  /** `option prefer-last-server` with `http-reuse never`: a client keeps the server of its last request. */
  readonly preferLast: boolean
  /** Rebuilt when a dynamic server is added or deleted. */
  lb: Balancer
  readonly queue: Pending[] = []
  /** `timeout queue`, else `timeout connect` (configuration.txt §4.2), else none. */
  readonly timeoutQueue: number | undefined
  private readonly log: Logger | null
  /** The backend's own `log` targets, at syslog levels. */
  private readonly syslog: ((level: number, msg: string) => void) | null
  private initialWeights: number[]
  /** Cuts the sessions under way on a server (the forward path sets it): `on-marked-down`. */
  killSessions: (server: ServerRuntime) => void = () => {}
  private seq = 0
  private downSince = 0
  private downTotal = 0

  constructor (readonly proxy: Proxy, opts: { log?: Logger, syslog?: (level: number, msg: string) => void } = {}) {
    const now = Date.now()
    this.name = proxy.name
    this.id = proxy.id
    this.log = opts.log ?? null
    this.syslog = opts.syslog ?? null
    this.lastChange = now
    this.timeoutQueue = proxy.timeouts.queue ?? proxy.timeouts.connect
    this.logHealthChecks = proxy.options['log-health-checks'] === true
    this.keepsLast = keepsLastServer(proxy.balance?.algorithm ?? 'roundrobin')
    this.preferLast = proxy.options['prefer-last-server'] === true && proxy.httpReuse === 'never'
    const ids = assignIds(proxy.servers)
    this.servers = proxy.servers.map((s, i) => new ServerRuntime(this, s, i, ids[i], now))
    this.initialWeights = this.servers.map((s) => s.uweight)
    const { balancer, csv } = createBalancer(this.servers, proxy)
    this.lb = balancer
    this.algorithm = csv
    if (isMapBased(balancer)) balancer.setWeights(this.initialWeights)
    for (const s of this.servers) {
      s.eweight = effectiveWeight(balancer, s.uweight, 0, 0)
      s.usable = s.eweight > 0 && s.admin === 'ready' && s.op === 'up'
    }
    balancer.init()
    this.isUp = balancer.servingUnits > 0 || this.servers.length === 0
    if (!this.isUp) this.downSince = now
  }

  get qcur (): number { return this.queue.length }

  server (name: string): ServerRuntime | undefined {
    return this.servers.find((s) => s.name === name)
  }

  downtime (now: number): number {
    return this.downTotal + (this.downSince > 0 ? now - this.downSince : 0)
  }

  initialWeight (srv: ServerRuntime): number {
    return this.initialWeights[srv.index]
  }

  /**
   * A server for this request (hot path): the server itself, null when none is usable or its
   * queue is full (the caller answers 503), or a promise when the request has to wait in a queue
   * (resolves null when `timeout queue` expires). `exclude` is the server a redispatch leaves.
   */
  acquire (txn: HttpTxn, exclude: ServerRuntime | null): ServerRuntime | null | Promise<ServerRuntime | null> {
    const lb = this.lb
    if (lb.servingUnits === 0) return null
    const srv = lb.pick(txn, exclude) as ServerRuntime | null
    if (srv === null) return this.enqueue(null)
    srv.lbtot++
    this.lbtot++
    return this.acquireServer(srv)
  }

  /**
   * A slot on `srv` itself, chosen without the balancer (a persistence cookie named it): at
   * once, or in its own queue when it is at maxconn; null when that queue is full.
   */
  acquireServer (srv: ServerRuntime): ServerRuntime | null | Promise<ServerRuntime | null> {
    const limit = srv.limit()
    if (limit > 0 && (srv.queue.length > 0 || srv.served >= limit)) {
      if (srv.maxqueue > 0 && srv.queue.length >= srv.maxqueue) return null
      return this.enqueue(srv)
    }
    this.take(srv, 0)
    return srv
  }

  /**
   * `add server` (2.6 rules, checked by the caller): the server joins in maintenance, as HAProxy
   * creates dynamic servers, and the balancer is rebuilt around the new list.
   */
  addServer (conf: Server): ServerRuntime {
    const used = new Set(this.servers.map(s => s.id))
    let id = conf.id ?? 1
    if (conf.id === undefined) while (used.has(id)) id++
    const srv = new ServerRuntime(this, { ...conf, disabled: true }, this.servers.length, id, Date.now())
    srv.disabledByConfig = conf.disabled === true
    // 2.6 adds a server's checks and agent stopped: `enable health` / `enable agent` start them
    srv.checkEnabled = false
    if (srv.agent !== null) srv.agent.enabled = false
    this.dynamicConfs.set(srv, conf)
    this.servers.push(srv)
    this.initialWeights.push(srv.uweight)
    this.rebalance()
    return srv
  }

  /** Added at run time (`add server`). */
  isDynamic (srv: ServerRuntime): boolean {
    return this.dynamicConfs.has(srv)
  }

  /** A server's line: from the configuration, or the one `add server` was given. */
  serverConf (srv: ServerRuntime): Server | undefined {
    return this.dynamicConfs.get(srv) ?? this.proxy.servers.find(s => s.name === srv.name)
  }

  /** `del server`: the caller checked it is dynamic, in maintenance and idle. */
  removeServer (srv: ServerRuntime): void {
    const i = this.servers.indexOf(srv)
    if (i < 0) return
    srv.stopTimers()
    this.servers.splice(i, 1)
    this.initialWeights.splice(i, 1)
    this.servers.forEach((s, j) => { s.index = j })
    this.rebalance()
  }

  /** A new balancer over the current server list, each server's state carried over. */
  private rebalance (): void {
    const { balancer } = createBalancer(this.servers, this.proxy)
    this.lb = balancer
    if (isMapBased(balancer)) balancer.setWeights(this.initialWeights)
    for (const s of this.servers) {
      s.eweight = effectiveWeight(balancer, s.uweight, 0, 0)
      s.usable = s.eweight > 0 && s.admin === 'ready' && s.op === 'up' && !s.nolb
    }
    balancer.init()
    this.settle(Date.now())
  }

  /** Gives free slots of `srv` to waiting requests (after its maxconn was raised). */
  dequeue (srv: ServerRuntime): void {
    this.dequeueFor(srv)
  }

  /** The request that held a slot on `srv` is over; a queued one may take the slot. */
  release (srv: ServerRuntime): void {
    if (srv.served > 0) srv.served--
    srv.counters.scur = srv.served
    this.lb.loadChanged(srv)
    this.dequeueFor(srv)
  }

  /**
   * After a reload: checked servers with the same name and address as in `prev` keep their
   * health (UP/DOWN, counter, last check) instead of starting over at "UP, falls at the first failure".
   */
  adoptHealth (prev: Backend): void {
    for (const s of this.servers) {
      const old = prev.server(s.name)
      if (old !== undefined && old.addr === s.addr && old.hasCheck && s.hasCheck) s.adopt(old)
    }
    this.settle(Date.now(), false)
  }

  /** Resolves every queued request with null and stops the servers' timers. */
  close (): void {
    for (const s of this.servers) {
      s.stopTimers()
      for (const p of s.queue.splice(0)) this.drop(p)
    }
    for (const p of this.queue.splice(0)) this.drop(p)
  }

  /** The request holds a slot on `srv` now; `waited` ms in a queue (HAProxy averages qtime over every request). */
  private take (srv: ServerRuntime, waited: number): void {
    srv.served++
    srv.counters.qtime.add(waited)
    this.counters.qtime.add(waited)
    const c = srv.counters
    c.scur = srv.served
    if (c.scur > c.smax) c.smax = c.scur
    c.stot++
    c.lastSess = Date.now()
    this.lb.loadChanged(srv)
  }

  private enqueue (srv: ServerRuntime | null): Promise<ServerRuntime | null> {
    return new Promise((resolve) => {
      const p: Pending = { resolve, timer: null, seq: ++this.seq, since: Date.now(), server: srv }
      const q = srv === null ? this.queue : srv.queue
      q.push(p)
      if (srv !== null) {
        if (q.length > srv.qmax) srv.qmax = q.length
        this.lb.loadChanged(srv)
      } else if (q.length > this.qmax) {
        this.qmax = q.length
      }
      if (this.timeoutQueue !== undefined) {
        p.timer = setTimeout(() => {
          p.timer = null
          this.unqueue(p)
          p.resolve(null)
        }, this.timeoutQueue)
      }
    })
  }

  private unqueue (p: Pending): void {
    const q = p.server === null ? this.queue : p.server.queue
    const i = q.indexOf(p)
    if (i >= 0) q.splice(i, 1)
    if (p.server !== null) this.lb.loadChanged(p.server)
  }

  private grant (p: Pending, srv: ServerRuntime): void {
    if (p.timer !== null) clearTimeout(p.timer)
    p.timer = null
    this.take(srv, Date.now() - p.since)
    p.resolve(srv)
  }

  private drop (p: Pending): void {
    if (p.timer !== null) clearTimeout(p.timer)
    p.timer = null
    p.resolve(null)
  }

  /** process_srv_queue: give freed slots to the oldest waiting request (its own queue or the backend's). */
  private dequeueFor (srv: ServerRuntime): void {
    for (let limit = srv.limit(); limit === 0 || srv.served < limit; limit = srv.limit()) {
      const own = srv.queue.length > 0 ? srv.queue[0] : null
      const shared = srv.usable && this.queue.length > 0 ? this.queue[0] : null
      let p: Pending
      if (own !== null && (shared === null || own.seq < shared.seq)) {
        p = srv.queue.shift() as Pending
      } else if (shared !== null) {
        p = this.queue.shift() as Pending
        srv.lbtot++
        this.lbtot++
      } else {
        return
      }
      this.grant(p, srv)
      if (limit === 0 && srv.queue.length === 0 && (!srv.usable || this.queue.length === 0)) return
    }
  }

  /** pendconn_grab_from_px: a server that became usable takes requests from the backend's queue. */
  grabFromBackend (srv: ServerRuntime): number {
    const before = this.queue.length
    if (before === 0) return 0
    // With active servers up, backups do not take from the queue.
    if (srv.backup && this.lb.activeCount > 0) return 0
    this.dequeueFor(srv)
    return before - this.queue.length
  }

  /** pendconn_redistribute: a server going away hands its waiting requests back to the backend. */
  redistribute (srv: ServerRuntime): number {
    const moved = srv.queue.length
    if (moved === 0) return 0
    for (const p of srv.queue.splice(0)) {
      p.server = null
      let i = this.queue.length
      while (i > 0 && this.queue[i - 1].seq > p.seq) i--
      this.queue.splice(i, 0, p)
    }
    if (this.queue.length > this.qmax) this.qmax = this.queue.length
    this.lb.loadChanged(srv)
    for (const s of this.servers) if (s.usable) this.dequeueFor(s)
    return moved
  }

  /** ". 1 active and 0 backup servers left. …": the end of HAProxy's server state log lines. */
  tail (srv: ServerRuntime, online: boolean, moved: number): string {
    const lb = this.lb
    const onBackup = lb.backupCount > 0 && lb.activeCount === 0 ? ' Running on backup.' : ''
    return online
      ? `. ${lb.activeCount} active and ${lb.backupCount} backup servers online.${onBackup} ${moved} sessions requeued, ${srv.queue.length} total in queue`
      : `. ${lb.activeCount} active and ${lb.backupCount} backup servers left.${onBackup} ${srv.served} sessions active, ${moved} requeued, ${srv.queue.length} remaining in queue`
  }

  /** A server state message: to the process's log, and at `level` to the backend's targets (notice by default, as HAProxy). */
  logWarn (msg: string, level = LOG_NOTICE): void {
    this.log?.warn(msg)
    this.syslog?.(level, msg)
  }

  /** After any server change: the backend's own UP/DOWN state (its "has no server available!" line). */
  settle (now: number, report = true): void {
    const up = this.lb.servingUnits > 0
    if (up === this.isUp) return
    this.isUp = up
    this.lastChange = now
    if (!up) {
      this.downSince = now
      if (!report) return
      this.chkdown++
      // HAProxy quotes the name on stderr, not in the syslog line (observed with VTest on 2.6.12)
      this.log?.error(`backend '${this.name}' has no server available!`)
      this.syslog?.(LOG_EMERG, `backend ${this.name} has no server available!`)
    } else if (this.downSince > 0) {
      this.downTotal += now - this.downSince
      this.downSince = 0
    }
  }
}

/** The port a connection to `server` goes to: its own, or the client's destination port plus its offset. */
export function serverPort (server: ServerRuntime, dstPort: number): number {
  return server.relativePort ? (dstPort + server.port) & 0xffff : server.port
}

/** The stats `addr` column: `127.0.0.1:80`, `[::1]:80`. */
function addrText (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

export function originOf (ssl: boolean, host: string, port: number): string {
  return `${ssl ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** Server ids: `id N` where given, else the next free number in config order (HAProxy's puid). */
function assignIds (servers: readonly Server[]): number[] {
  const used = new Set<number>()
  for (const s of servers) if (s.id !== undefined) used.add(s.id)
  let next = 1
  return servers.map((s) => {
    if (s.id !== undefined) return s.id
    while (used.has(next)) next++
    used.add(next)
    return next
  })
}

/**
 * `ws` (configuration.txt §5.2): `h1` and `h2` force the protocol of upgrades; `auto` keeps the
 * server's own (`proto h2`), except that an ALPN list naming http/1.1 takes HTTP/1.1 for them
 * (HAProxy downgrades the ALPN), and one naming only h2 takes HTTP/2.
 */
function upgradesOverH2 (ws: 'auto' | 'h1' | 'h2', proto: 'h1' | 'h2', alpn: string[] | undefined): boolean {
  if (ws !== 'auto') return ws === 'h2'
  if (proto === 'h2') return true
  return alpn !== undefined && !alpn.includes('http/1.1') && alpn.includes('h2')
}
