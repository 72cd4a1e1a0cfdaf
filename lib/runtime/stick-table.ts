// Stick tables (configuration.txt §4.2 "stick-table", §7.3.3 sc_*/src_* fetches; management.txt
// "show table"): per-key counters that `track-sc0/1/2` rules keep up to date and rules read, for
// rate limiting and abuse detection. One table per proxy that declares one, kept in memory for
// the life of the gateway (a reload starts empty, as HAProxy without peers). Rates are HAProxy's
// period-sliding estimate: the events of the current period plus the previous period's count
// weighted by the part of it still inside the window (observed on 2.6.12: 10 hits, then 7, 5, 2,
// 0 at each quarter of the next 2 s period).

import { STICK_DATA_TYPES, type StickDataType, type StickTableSpec } from '../config/model.js'
import { formatV6, parseAddr, parseV4, parseV6 } from '../acl/ip.js'

/** The types HAProxy keeps that this package does not (arrays of counters). */
export const UNSUPPORTED_STICK_DATA: ReadonlySet<string> = new Set(['gpt', 'gpc', 'gpc_rate'])

export const isRate = (t: string): boolean => t.endsWith('_rate')

/**
 * A frequency counter over a period (HAProxy's freq_ctr_period): events of the current period,
 * and of the one before. Periods follow one another from the first event; after two idle
 * periods the next event starts a new sequence.
 */
export class RateCounter {
  /** Start of the current period; none before the first event. */
  private tick = -Infinity
  private curr = 0
  private prev = 0

  constructor (readonly period: number) {}

  add (now: number, n: number): void {
    const elapsed = now - this.tick
    if (elapsed < this.period) { this.curr += n; return }
    if (elapsed < 2 * this.period) {
      this.prev = this.curr
      this.tick += this.period
    } else {
      this.prev = 0
      this.tick = now
    }
    this.curr = n
  }

  read (now: number): number {
    let elapsed = now - this.tick
    let curr = this.curr
    let prev = this.prev
    if (elapsed >= 2 * this.period) return 0
    if (elapsed >= this.period) {
      prev = curr
      curr = 0
      elapsed -= this.period
    }
    return curr + Math.floor(prev * (this.period - elapsed) / this.period)
  }

  clear (): void { this.tick = -Infinity; this.curr = 0; this.prev = 0 }
}

export class StickEntry {
  /** Streams and sessions tracking this entry now (`use`, `sc_trackers`): it cannot expire meanwhile. */
  use = 0
  expiresAt = Infinity
  readonly counters = new Map<StickDataType, number>()
  readonly rates = new Map<StickDataType, RateCounter>()
  /** `server_key`: the name of the server `stick` rules stored (server_id holds its id), null before. */
  serverKey: string | null = null

  constructor (readonly key: string, spec: StickTableSpec) {
    for (const s of spec.store) {
      if (s.type === 'server_key') continue
      if (s.period === undefined) this.counters.set(s.type, 0)
      else this.rates.set(s.type, new RateCounter(s.period))
    }
  }

  /** The value of a stored type, or null when the table does not store it. */
  get (type: StickDataType, now: number): number | null {
    const rate = this.rates.get(type)
    if (rate !== undefined) return rate.read(now)
    return this.counters.get(type) ?? null
  }

  /** Adds to a counter and to its rate, where stored (`http_req_cnt` and `http_req_rate` …). */
  add (cnt: StickDataType | null, rate: StickDataType | null, n: number, now: number): void {
    if (cnt !== null) {
      const v = this.counters.get(cnt)
      if (v !== undefined) this.counters.set(cnt, v + n)
    }
    if (rate !== null) this.rates.get(rate)?.add(now, n)
  }

  set (type: StickDataType, value: number): boolean {
    if (!this.counters.has(type)) return false
    this.counters.set(type, value)
    return true
  }
}

/** A key as the table stores and prints it, or null when the sample cannot be one (an IPv6 address in an `ip` table). */
export function tableKey (spec: StickTableSpec, sample: string | number | boolean): string | null {
  const s = typeof sample === 'string' ? sample : typeof sample === 'number' ? String(sample) : sample ? '1' : '0'
  switch (spec.type) {
    case 'ip': {
      // the usual key (`src` of an IPv4 socket) is kept as it is, without more work per request
      if (parseV4(s) !== null) return s
      // an IPv4-mapped address is its IPv4 one (parseAddr reads it so)
      const a = parseAddr(s)
      return a === null || a.v6 ? null : s.replace(/^::ffff:/i, '')
    }
    case 'ipv6': {
      const a = parseAddr(s)
      if (a === null) return null
      return a.v6 ? formatV6(a.n) : `::ffff:${s.replace(/^::ffff:/i, '')}`
    }
    case 'integer': {
      const m = /^[-+]?\d+/.exec(s.trim())
      return m === null ? null : String(BigInt.asUintN(32, BigInt(m[0])))
    }
    default:
      return s.slice(0, spec.keyLen)
  }
}

/** How keys sort in `show table` (HAProxy walks its tree in key order). */
function keyOrder (type: StickTableSpec['type']): (a: string, b: string) => number {
  if (type === 'integer') return (a, b) => Number(a) - Number(b)
  if (type === 'ip') return (a, b) => Number(parseAddr(a)?.n ?? 0) - Number(parseAddr(b)?.n ?? 0)
  if (type === 'ipv6') {
    return (a, b) => {
      const x = parseV6(a) ?? 0n
      const y = parseV6(b) ?? 0n
      return x < y ? -1 : x > y ? 1 : 0
    }
  }
  return (a, b) => a < b ? -1 : a > b ? 1 : 0
}

/** A stick table: entries by key, expiring `expire` ms after their last update when no one tracks them. */
export class StickTable {
  private readonly entries = new Map<string, StickEntry>()
  /** Entry addresses for `show table` (HAProxy prints a pointer; here a stable number per entry). */
  private readonly ids = new WeakMap<StickEntry, number>()
  private nextId = 0x1000

  /** The table stores `server_key` (`stick` rules use it, or `store server_key`). */
  private readonly keepsServerKey: boolean

  constructor (readonly name: string, readonly spec: StickTableSpec, private readonly clock: () => number = Date.now) {
    this.keepsServerKey = spec.store.some(s => s.type === 'server_key')
  }

  now (): number { return this.clock() }

  /** The live entry of a key, or undefined (an expired one is dropped). `now`: the table's clock, read once by a caller that reads it again. */
  lookup (key: string, now?: number): StickEntry | undefined {
    const e = this.entries.get(key)
    if (e === undefined) return undefined
    if (e.use === 0 && e.expiresAt <= (now ?? this.clock())) {
      this.entries.delete(key)
      return undefined
    }
    return e
  }

  /**
   * The entry of a key, created when missing. A full table makes room by dropping its least
   * recently updated entry nobody tracks, unless `nopurge`: then there is no entry.
   */
  obtain (key: string, now?: number): StickEntry | undefined {
    const found = this.lookup(key, now)
    if (found !== undefined) return found
    if (this.entries.size >= this.spec.size) {
      this.purgeExpired()
      if (this.entries.size >= this.spec.size) {
        if (this.spec.nopurge) return undefined
        for (const [k, e] of this.entries) {
          if (e.use === 0) { this.entries.delete(k); break }
        }
        if (this.entries.size >= this.spec.size) return undefined
      }
    }
    const e = new StickEntry(key, this.spec)
    this.ids.set(e, this.nextId += 0x40)
    this.entries.set(key, e)
    this.touch(e, now)
    return e
  }

  /** An update: the entry's life restarts (and it becomes the most recently used). */
  touch (e: StickEntry, now?: number): void {
    e.expiresAt = this.spec.expire === null ? Infinity : (now ?? this.clock()) + this.spec.expire
    if (this.entries.get(e.key) === e) {
      this.entries.delete(e.key)
      this.entries.set(e.key, e)
    }
  }

  private purgeExpired (): void {
    const now = this.clock()
    for (const [k, e] of this.entries) if (e.use === 0 && e.expiresAt <= now) this.entries.delete(k)
  }

  /** Entries in use or not expired (`table_cnt`, `used:` of `show table`). */
  get used (): number {
    this.purgeExpired()
    return this.entries.size
  }

  /** Entries in key order, for the socket. */
  sorted (): StickEntry[] {
    this.purgeExpired()
    return [...this.entries.values()].sort((a, b) => keyOrder(this.spec.type)(a.key, b.key))
  }

  delete (e: StickEntry): boolean {
    if (e.use > 0) return false
    return this.entries.delete(e.key)
  }

  /** `show table`'s header line. */
  header (): string {
    return `# table: ${this.name}, type: ${this.spec.type}, size:${this.spec.size}, used:${this.used}`
  }

  /** One entry as `show table` prints it: the stored types in HAProxy's order, rates with their period. */
  line (e: StickEntry): string {
    const now = this.clock()
    const exp = e.expiresAt === Infinity ? 0 : Math.max(0, e.expiresAt - now)
    let out = `0x${this.ids.get(e)!.toString(16).padStart(12, '0')}: key=${e.key} use=${e.use} exp=${exp}`
    for (const type of STICK_DATA_TYPES) {
      const rate = e.rates.get(type)
      if (rate !== undefined) out += ` ${type}(${rate.period})=${rate.read(now)}`
      else if (e.counters.has(type)) out += ` ${type}=${e.counters.get(type)!}`
      else if (type === 'server_key' && this.keepsServerKey) out += ` server_key=${e.serverKey ?? '-'}`
    }
    return out
  }
}

/** The tables of one running configuration, by the name of the proxy that declares them. */
export class StickTables {
  private readonly tables = new Map<string, StickTable>()

  constructor (proxies: ReadonlyArray<{ name: string, stickTable: StickTableSpec | null }>, clock?: () => number) {
    for (const p of proxies) {
      if (p.stickTable !== null && !this.tables.has(p.name)) this.tables.set(p.name, new StickTable(p.name, p.stickTable, clock))
    }
  }

  get (name: string): StickTable | undefined { return this.tables.get(name) }

  /** No proxy declares a table: requests need no tracking bookkeeping. */
  get empty (): boolean { return this.tables.size === 0 }

  /** In the order HAProxy lists them: the last declared first. */
  all (): StickTable[] { return [...this.tables.values()].reverse() }
}
