// Runtime state of proxies and servers: plain fields named after HAProxy's stats CSV columns
// (management.txt §9.1), set once in the constructors so every object keeps one shape.
// The balancer, the health checker and the forwarder write these; the stats page only reads.

/** Events per second over the last second, as HAProxy's `rate` columns (a two-slot window). */
export class RateCounter {
  private current = 0
  private previous = 0
  private slotStart = 0
  max = 0

  hit (now: number): void {
    this.rotate(now)
    this.current++
    const rate = this.read(now)
    if (rate > this.max) this.max = rate
  }

  read (now: number): number {
    this.rotate(now)
    const elapsed = now - this.slotStart
    return this.current + Math.round(this.previous * (1000 - elapsed) / 1000)
  }

  private rotate (now: number): void {
    const elapsed = now - this.slotStart
    if (elapsed < 1000) return
    this.previous = elapsed < 2000 ? this.current : 0
    this.current = 0
    this.slotStart = now - (elapsed % 1000)
  }
}

/** Running average over the last 1024 samples, as HAProxy's qtime/ctime/rtime/ttime. */
export class SlidingAverage {
  value = 0
  max = 0
  private samples = 0

  add (sample: number): void {
    if (sample > this.max) this.max = sample
    const n = this.samples < 1024 ? ++this.samples : 1024
    this.value += (sample - this.value) / n
  }
}

/** Counters shared by frontends, backends and servers (CSV fields of the same names). */
export class TrafficCounters {
  scur = 0
  smax = 0
  stot = 0
  bin = 0
  bout = 0
  dreq = 0
  dresp = 0
  ereq = 0
  econ = 0
  eresp = 0
  wretr = 0
  wredis = 0
  /** Rewrites that did not fit the message (tune.maxrewrite; lib/acl/txn.ts RewriteBudget). */
  wrew = 0
  cliAbrt = 0
  srvAbrt = 0
  /** Internal errors (HAProxy's `eint`): an answer the gateway failed to process. */
  eint = 0
  reqTot = 0
  /** HTTP compression (lib/runtime/compression.ts): bytes in and out of zlib, bytes of identity answers, answers compressed. */
  compIn = 0
  compOut = 0
  compByp = 0
  compRsp = 0
  /** hrsp_1xx … hrsp_5xx, hrsp_other */
  hrsp: [number, number, number, number, number, number] = [0, 0, 0, 0, 0, 0]
  intercepted = 0
  /** `http-request cache-use` lookups and the answers found (lib/runtime/cache.ts). */
  cacheLookups = 0
  cacheHits = 0
  /** Time of the last session, ms since epoch; 0 when none. */
  lastSess = 0
  readonly rate = new RateCounter()
  readonly qtime = new SlidingAverage()
  readonly ctime = new SlidingAverage()
  readonly rtime = new SlidingAverage()
  readonly ttime = new SlidingAverage()

  countResponse (status: number): void {
    const cls = (status / 100) | 0
    this.hrsp[cls >= 1 && cls <= 5 ? cls - 1 : 5]++
  }
}

/** Operational state of a server, from health checks (HAProxy's SRV_ST_*). */
export type ServerOpState = 'up' | 'down'
/** Administrative state, from the stats page / runtime API / `disabled`. */
export type ServerAdminState = 'ready' | 'drain' | 'maint'

export interface CheckResult {
  /** UNK, INI, L4OK, L4TOUT, L4CON, L6OK, L7OK, L7OKC, L7TOUT, L7RSP, L7STS, SOCKERR … */
  status: string
  /** HTTP status of an L7 check, else null. */
  code: number | null
  /** ms, or null before the first check */
  duration: number | null
  /** Human text: "Connection refused", "HTTP status check returned code <500>" … */
  desc: string
  /**
   * The info of the log line when it is not `desc` (recorded: ldap-check, mysql-check and
   * spop-check log their success text, "Success" or the server version, but leave `last_chk` empty).
   */
  logInfo?: string
}

/** What the stats page and `app.haproxy` read of a server. Implemented by lib/runtime/backend.ts. */
export interface ServerView {
  readonly name: string
  /** Stats `sid` (server id within its backend, from 1). */
  readonly id: number
  /** `ip:port` */
  readonly addr: string
  readonly backup: boolean
  /** Has `check` on its line. */
  readonly hasCheck: boolean
  /** Checks are running (hasCheck and not disabled at runtime). */
  readonly checkEnabled: boolean
  readonly rise: number
  readonly fall: number
  /** HAProxy's health counter, 0 … rise+fall-1; UP while >= rise. */
  readonly health: number
  readonly op: ServerOpState
  readonly admin: ServerAdminState
  /** Its name did not resolve at start and `init-addr` allowed it: in MAINT for good (stats `MAINT (resolution)`). */
  readonly unresolved?: boolean
  /** `disable-on-404` answered 404: up but takes no new load-balanced traffic (NOLB). */
  readonly nolb: boolean
  /** Effective weight now (after drain/slowstart); the CSV `weight`. */
  readonly weight: number
  /** Weight set by the user (config or setServerWeight); the CSV `uweight`. */
  readonly uweight: number
  /** 0 = unlimited */
  readonly maxconn: number
  readonly maxqueue: number
  readonly lastCheck: CheckResult
  /** ms since epoch of the last check, 0 when none ran */
  readonly lastCheckAt: number
  readonly chkfail: number
  readonly chkdown: number
  /** ms since epoch of the last UP/DOWN/admin change (process start at first). */
  readonly lastChange: number
  /** Total ms spent DOWN, up to `now`. */
  downtime (now: number): number
  /** Its agent check (`agent-check`), null without one. */
  readonly agent?: AgentView | null
  readonly counters: TrafficCounters
  readonly lbtot: number
  readonly qcur: number
  readonly qmax: number
}

/** A server's agent check as the stats and the socket show it. */
export interface AgentView {
  readonly enabled: boolean
  /** The agent's last word: false after down, stopped or fail (rise and fall are 1). */
  readonly up: boolean
  readonly last: CheckResult
  /** An agent connection is open now. */
  readonly running: boolean
  readonly host: string
  readonly hostExplicit: boolean
  readonly port: number
}

export interface BackendView {
  readonly name: string
  readonly id: number
  /** `balance` algorithm name as HAProxy prints it in the CSV `algo` column. */
  readonly algorithm: string
  readonly servers: readonly ServerView[]
  readonly counters: TrafficCounters
  readonly lbtot: number
  readonly qcur: number
  readonly qmax: number
  /** Number of transitions to DOWN (no usable server). */
  readonly chkdown: number
  readonly lastChange: number
  downtime (now: number): number
  /** At least one usable server (active or backup). */
  readonly isUp: boolean
}

export interface FrontendView {
  readonly name: string
  readonly id: number
  readonly counters: TrafficCounters
  /** Connections accepted (CSV `conn_tot`), their rate. */
  readonly connTot: number
  readonly connRate: RateCounter
  readonly reqRate: RateCounter
  /** 0 = unlimited */
  readonly maxconn: number
  /** Stopped for good by `shutdown frontend`. */
  readonly shut?: boolean
  /** `option socket-stats`: its listeners, by sid (none without the option). */
  readonly listeners?: readonly ListenerView[]
}

/** A listener's row under `option socket-stats` (lib/runtime/listener.ts). */
export interface ListenerView {
  readonly sid: number
  readonly name: string
  readonly addr: string
  readonly maxconn: number
  readonly counters: TrafficCounters
}
