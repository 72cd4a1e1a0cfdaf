// Load balancing: which server takes the next request (configuration.txt §4.2 `balance`,
// `hash-type`; §5.2 `weight`, `backup`, `slowstart`). The rules are written down in
// balancing.md; they were derived from the manual and from pick orders and placements recorded
// from real HAProxy 2.6.12 (test/runtime/recorded/, replayed by test/runtime/recorded.test.ts).
// A backend owns one Balancer: the backend tells it when a server's weight or state changed and
// asks it for a server per request. pick() allocates nothing; changes may.

import type { HttpTxn } from '../acl/txn.js'
import type { Balance, Proxy } from '../config/model.js'
import type { CompileEnv } from '../acl/env.js'
import { compileExpr, parseExpr, type CompiledExpr } from '../acl/expr.js'
import { FileCache } from '../acl/maps.js'
import { Hasher, avalanche } from '../acl/hashes.js'

/** Dynamic algorithms count 16 units per weight point, so a slowstart ramp has fine steps. */
const UNITS_PER_POINT = 16
const MAX_POINTS = 256
const MAX_UNITS = MAX_POINTS * UNITS_PER_POINT
/** `balance random` draws two servers and keeps the less loaded one unless told otherwise. */
const DEFAULT_RANDOM_DRAWS = 2

/** What an algorithm reads of a server; implemented by ServerRuntime. */
export interface LbServer {
  /** Position in the backend, config order, from 0. */
  readonly index: number
  /** Stats id: `first` orders by it, consistent hashing places by it. */
  readonly id: number
  readonly backup: boolean
  /** Weight in the balancer's units (see effectiveWeight), set by the backend. */
  readonly eweight: number
  /** Takes part: up, not in maintenance / drain / nolb, weight above 0. */
  readonly usable: boolean
  /** Requests being served. */
  readonly served: number
  /** Requests waiting in this server's own queue. */
  readonly queued: number
  /** Concurrency limit now (slowstart ramps it), 0 = unlimited. */
  readonly maxconnNow: number
  readonly maxqueue: number
}

/** At its limit: a new request would have to wait (round robin and maps skip it). */
function isFull (s: LbServer): boolean {
  return s.maxconnNow > 0 && (s.queued > 0 || s.served >= s.maxconnNow)
}

/** leastconn and first also count the room in the server's own queue. */
function hasRoom (s: LbServer): boolean {
  return s.maxconnNow === 0 || s.served + s.queued < s.maxconnNow + s.maxqueue
}

function greatestCommonDivisor (a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}

// ---------------------------------------------------------------------------------------------
// Hash keys. Each returns an unsigned 32-bit hash, or -1 when the request has no key (the
// algorithm then walks its servers instead).

type KeyFn = (txn: HttpTxn, h: Hasher) => number

function sourceKey (mix: boolean): KeyFn {
  return (txn) => {
    const words = addressXor(txn.src)
    if (words < 0) return -1
    return mix ? avalanche(words) : words
  }
}

/** Dotted quad to a 32-bit word, or -1. */
function ipv4Word (ip: string, from: number): number {
  let word = 0
  let octet = -1
  let dots = 0
  for (let i = from; i < ip.length; i++) {
    const c = ip.charCodeAt(i)
    if (c === 0x2e) {
      if (octet < 0) return -1
      word = word * 256 + octet
      octet = -1
      dots++
    } else if (c >= 0x30 && c <= 0x39) {
      octet = (octet < 0 ? 0 : octet * 10) + c - 0x30
    } else {
      return -1
    }
  }
  if (dots !== 3 || octet < 0) return -1
  return (word * 256 + octet) >>> 0
}

/** The client address as XORed 32-bit words: IPv4 (or IPv4-mapped IPv6) is one word. */
function addressXor (ip: string): number {
  if (ip.indexOf(':') < 0) return ipv4Word(ip, 0)
  if (ip.startsWith('::ffff:') && ip.indexOf('.') > 0) return ipv4Word(ip, 7)
  const groups = ipv6Groups(ip)
  if (groups === null) return -1
  let x = 0
  for (let i = 0; i < 8; i += 2) x = (x ^ ((groups[i] << 16) | groups[i + 1])) >>> 0
  return x
}

/** The eight 16-bit groups of an IPv6 address, or null. */
function ipv6Groups (ip: string): number[] | null {
  const zone = ip.indexOf('%')
  const [left, right, extra] = (zone >= 0 ? ip.slice(0, zone) : ip).split('::')
  if (extra !== undefined) return null
  const expand = (part: string | undefined): number[] | null => {
    const out: number[] = []
    if (part === undefined || part === '') return out
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const w = ipv4Word(g, 0)
        if (w < 0) return null
        out.push(w >>> 16, w & 0xffff)
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        out.push(parseInt(g, 16))
      } else {
        return null
      }
    }
    return out
  }
  const head = expand(left)
  const tail = expand(right)
  if (head === null || tail === null) return null
  const gap = 8 - head.length - tail.length
  if (gap < 0 || (right === undefined && gap !== 0)) return null
  return [...head, ...new Array<number>(gap).fill(0), ...tail]
}

/** `balance uri [len n] [depth n] [whole] [path-only]` */
function uriKey (args: string[]): KeyFn {
  let maxLength = Infinity
  let levels = 0
  let withQuery = false
  for (let i = 0; i < args.length; i++) {
    if (args[i] === 'len') maxLength = Number(args[++i]) || Infinity
    else if (args[i] === 'depth') levels = Number(args[++i]) || 0
    else if (args[i] === 'whole') withQuery = true
  }
  return (txn, h) => {
    const { path, query } = txn
    // The hashed text is path[?query]; it ends at `len`, and before the slash opening level depth+1.
    let end = withQuery && query !== null ? path.length + 1 + query.length : path.length
    if (maxLength < end) end = maxLength
    if (levels > 0) end = Math.min(end, slashAt(levels + 1, path, withQuery ? query : null))
    h.reset()
    h.chars(path, 0, Math.min(end, path.length))
    if (end > path.length) {
      h.byte(0x3f)
      h.chars(query as string, 0, end - path.length - 1)
    }
    return h.result()
  }
}

/** Offset in path[?query] of its n-th slash (the query's count too), Infinity when there are fewer. */
function slashAt (n: number, path: string, query: string | null): number {
  let at = -1
  for (let seen = 0; seen < n; seen++) {
    at = path.indexOf('/', at + 1)
    if (at < 0) break
  }
  if (at >= 0) return at
  if (query === null) return Infinity
  let seen = 0
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 0x2f) seen++
  for (at = -1; seen < n; seen++) {
    at = query.indexOf('/', at + 1)
    if (at < 0) return Infinity
  }
  return path.length + 1 + at
}

/** `balance url_param <name>`: the first `name=` parameter's value, up to the next `&`. */
function urlParamKey (args: string[]): KeyFn {
  const name = args[0] ?? ''
  return (txn, h) => {
    const q = txn.query
    if (q === null) return -1
    for (let start = 0; start >= 0 && start < q.length; start = nextParam(q, start)) {
      const eq = start + name.length
      if (q.charCodeAt(eq) === 0x3d && q.startsWith(name, start)) {
        const amp = q.indexOf('&', eq + 1)
        h.reset()
        h.chars(q, eq + 1, amp < 0 ? q.length : amp)
        return h.result()
      }
    }
    return -1
  }
}

function nextParam (q: string, from: number): number {
  const amp = q.indexOf('&', from)
  return amp < 0 ? -1 : amp + 1
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09

/** `balance hdr(<name>) [use_domain_only]`: the header's first value, trimmed. */
function hdrKey (args: string[]): KeyFn {
  const name = (args[0] ?? '').toLowerCase()
  const domainOnly = args.includes('use_domain_only')
  return (txn, h) => {
    const raw = txn.headers[name]
    const v = typeof raw === 'string' ? raw : raw?.[0]
    if (v === undefined) return -1
    let start = 0
    let end = v.indexOf(',')
    if (end < 0) end = v.length
    while (start < end && isBlank(v.charCodeAt(start))) start++
    while (end > start && isBlank(v.charCodeAt(end - 1))) end--
    if (domainOnly) [start, end] = mainLabel(v, start, end)
    h.reset()
    h.chars(v, start, end)
    return h.result()
  }
}

/**
 * The label before the last dot (a dot in first position does not count); the label starts after
 * the closest dot two or more characters before it. No dot: the whole value. (Recorded: for
 * `a..b` HAProxy hashes `a.`.)
 */
function mainLabel (v: string, start: number, end: number): [number, number] {
  const last = v.lastIndexOf('.', end - 1)
  if (last <= start) return [start, end]
  const before = last - 2 >= start ? v.lastIndexOf('.', last - 2) : -1
  return [before >= start ? before + 1 : start, last]
}

/**
 * `balance hash <expr>`: the sample as bytes (strings as they are, IPv4 addresses as 4 bytes,
 * integers as 8 bytes big-endian), hashed.
 */
function expressionKey (args: string[], proxy: Proxy): KeyFn {
  const env: CompileEnv = {
    config: { files: [], global: { ignored: [], stats: { sockets: [] }, logs: [] }, proxies: [proxy], userlists: [], httpErrors: [], diagnostics: [] },
    proxy,
    files: new FileCache(),
    userlist: () => undefined,
    // The config checker reports on the expression; nothing to add at run time.
    warn: () => {}
  }
  let expr: CompiledExpr
  try {
    expr = compileExpr(parseExpr(args.join(' ')), env)
  } catch (err) {
    throw new Error(`balance hash '${args.join(' ')}': ${(err as Error).message}`)
  }
  const isIp = expr.type === 'ip'
  return (txn, h) => {
    const v = expr.one(txn, null)
    if (v === null) return -1
    h.reset()
    if (typeof v === 'string') {
      const w = isIp && v.indexOf(':') < 0 ? ipv4Word(v, 0) : -1
      if (w >= 0) bigEndian(h, w)
      else h.chars(v, 0, v.length)
    } else {
      const n = typeof v === 'number' ? v : (v ? 1 : 0)
      bigEndian(h, Math.floor(n / 0x100000000) >>> 0)
      bigEndian(h, n >>> 0)
    }
    return h.result()
  }
}

function bigEndian (h: Hasher, w: number): void {
  h.byte(w >>> 24)
  h.byte(w >>> 16)
  h.byte(w >>> 8)
  h.byte(w)
}

/** `balance rdp-cookie`: an RDP connection cookie never appears in an HTTP request. */
const noKey: KeyFn = () => -1

// ---------------------------------------------------------------------------------------------

/** Counts shared by every algorithm, recomputed on each change, and the choice of tier. */
export abstract class Balancer {
  /** eweight = ⌈uweight × ramp × unitsPerPoint / pointDivisor⌉, ramp 1 at full speed. */
  unitsPerPoint = UNITS_PER_POINT
  pointDivisor = 1
  /** Weights follow runtime changes and slowstart. */
  abstract readonly dynamic: boolean
  /** Servers taking part, and their summed weights. */
  activeCount = 0
  backupCount = 0
  activeUnits = 0
  backupUnits = 0
  /** Weight and server count of the tier serving now (0 = nobody can serve). */
  servingUnits = 0
  servingCount = 0
  /** Without `option allbackups`: the first backup taking part, serving alone when no active can. */
  soleBackup: LbServer | null = null

  constructor (readonly servers: readonly LbServer[], readonly allBackups: boolean) {}

  /** Called once the backend has set every server's eweight for this balancer's units. */
  abstract init (): void
  /** A server's usability or eweight changed. */
  abstract update (srv: LbServer): void
  /** The next server, or null when none can serve now (the request then queues or fails). */
  abstract pick (txn: HttpTxn, avoid: LbServer | null): LbServer | null
  /** `served`/`queued` of a server changed (leastconn keeps its order by load). */
  loadChanged (_srv: LbServer): void {}

  protected tally (): void {
    this.activeCount = this.backupCount = this.activeUnits = this.backupUnits = 0
    this.soleBackup = null
    for (const s of this.servers) {
      if (!s.usable) continue
      if (!s.backup) {
        this.activeCount++
        this.activeUnits += s.eweight
        continue
      }
      if (this.backupCount === 0 && !this.allBackups) this.soleBackup = s
      this.backupCount++
      this.backupUnits += s.eweight
    }
    if (this.activeCount > 0) {
      this.servingUnits = this.activeUnits
      this.servingCount = this.activeCount
    } else if (this.soleBackup !== null) {
      this.servingUnits = this.soleBackup.eweight
      this.servingCount = 1
    } else {
      this.servingUnits = this.backupUnits
      this.servingCount = this.backupCount
    }
  }
}

// --- roundrobin: rounds of positions (balancing.md "roundrobin") --------------------------

const OUT = 0
const FRESH = 1
const SCHEDULED = 2
const NEXT_ROUND = 3
type Place = typeof OUT | typeof FRESH | typeof SCHEDULED | typeof NEXT_ROUND

/** A server's state in its tier's rounds. */
class Turn {
  place: Place = OUT
  /** Position at which it may be chosen, the one before, and the remainder of its spacing. */
  due = 0
  prevDue = 0
  carry = 0
  /** Order inside its place (smaller first), then `stamp`: earlier placed first. */
  rank = 0
  stamp = 0
  /** Weight and usability as last seen by update(). */
  units = 0
  inPlay = false
  constructor (readonly srv: LbServer) {}
}

/** The rounds of one tier (actives or backups). */
class Rounds {
  readonly turns: Turn[] = []
  /** Length of the round in progress, the tier's total weight now, the position reached. */
  length = 0
  total = 0
  cursor = 0
  private stamps = 0

  start (): void {
    this.total = 0
    for (const t of this.turns) if (t.inPlay) this.total += t.units
    this.length = this.cursor = this.total
    for (const t of this.turns) if (t.inPlay) this.wait(t, FRESH)
  }

  /** Into the fresh list or the next round's, heaviest first. */
  wait (t: Turn, place: typeof FRESH | typeof NEXT_ROUND): void {
    t.place = place
    t.rank = MAX_UNITS - t.srv.eweight
    t.stamp = ++this.stamps
  }

  /** Into this round at its due position, or the next round when it falls outside the window. */
  schedule (t: Turn): void {
    const w = t.srv.eweight
    if (!t.srv.usable) {
      t.place = OUT
    } else if (t.due >= 2 * this.length || t.due >= this.length + this.total) {
      t.due -= this.length
      this.wait(t, NEXT_ROUND)
    } else {
      t.place = SCHEDULED
      // Within a position, MAX_POINTS sub-ranks: heavier servers and smaller carries first.
      t.rank = (MAX_POINTS * t.due + Math.floor((MAX_UNITS + t.carry - w) / UNITS_PER_POINT)) >>> 0
      t.stamp = ++this.stamps
    }
  }

  /** The server the cursor calls for: due, else the heaviest fresh one, else the scheduled head. */
  head (): Turn | null {
    let scheduled: Turn | null = null
    let fresh: Turn | null = null
    for (const t of this.turns) {
      if (t.place === SCHEDULED) {
        if (scheduled === null || t.rank < scheduled.rank || (t.rank === scheduled.rank && t.stamp < scheduled.stamp)) scheduled = t
      } else if (t.place === FRESH) {
        if (fresh === null || t.rank < fresh.rank || (t.rank === fresh.rank && t.stamp < fresh.stamp)) fresh = t
      }
    }
    if (scheduled !== null && scheduled.due <= this.cursor) return scheduled
    if (fresh !== null) {
      fresh.due = fresh.carry = 0
      return fresh
    }
    return scheduled
  }

  /** The next round: its servers become the fresh list, its length the current total. */
  nextRound (): void {
    for (const t of this.turns) {
      if (t.place === NEXT_ROUND) t.place = FRESH
      else if (t.place === FRESH) t.place = NEXT_ROUND
    }
    this.length = this.cursor = this.total
  }

  /** Spaces a chosen server's next turn by total / weight, the remainders adding up. */
  advance (t: Turn): void {
    const w = t.units
    if (t.due === 0) t.due = this.cursor
    t.prevDue = t.due
    t.due += Math.floor(this.total / w)
    t.carry += this.total % w
    if (t.carry >= w) {
      t.carry -= w
      t.due++
    }
  }

  /** A server starting to take part: its first turn about one round ahead. */
  join (t: Turn): void {
    t.due = this.cursor + Math.floor((this.total + this.length - this.cursor) / t.srv.eweight)
    this.schedule(t)
  }

  /** New weight (above 0) of a server still taking part. */
  reweigh (t: Turn): void {
    const w = t.srv.eweight
    if (t.place === FRESH) return this.wait(t, FRESH)
    if (t.place === NEXT_ROUND) t.due += this.length
    const spacing = Math.floor(this.total / w)
    t.due = Math.min(t.prevDue + spacing, t.due)
    t.carry = 0
    if (t.due < this.cursor + 2) t.due = this.cursor + spacing
    t.place = OUT
    this.schedule(t)
  }
}

export class RoundRobin extends Balancer {
  readonly dynamic = true
  private readonly actives = new Rounds()
  private readonly backups = new Rounds()
  private readonly turns: Turn[]
  /** Servers passed over during one pick (full or avoided), settled at its end. */
  private readonly passed: Turn[] = []

  constructor (servers: readonly LbServer[], allBackups: boolean) {
    super(servers, allBackups)
    this.turns = servers.map((s) => new Turn(s))
    for (const t of this.turns) (t.srv.backup ? this.backups : this.actives).turns.push(t)
  }

  init (): void {
    for (const t of this.turns) {
      t.units = t.srv.eweight
      t.inPlay = t.srv.usable
    }
    this.tally()
    this.actives.start()
    this.backups.start()
  }

  update (srv: LbServer): void {
    const t = this.turns[srv.index]
    if (t.inPlay === srv.usable && t.units === srv.eweight) return
    const rounds = srv.backup ? this.backups : this.actives
    const was = t.inPlay
    const before = t.units
    t.units = srv.eweight
    t.inPlay = srv.usable
    if (was && srv.usable) {
      rounds.total += srv.eweight - before
      rounds.reweigh(t)
    } else if (srv.usable) {
      rounds.total += srv.eweight
      rounds.join(t)
    } else if (was) {
      rounds.total -= before
      t.place = OUT
    }
    this.tally()
  }

  // Hot path.
  pick (_txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    let rounds: Rounds
    if (this.activeCount > 0) rounds = this.actives
    else if (this.soleBackup !== null) return this.soleBackup
    else if (this.backupCount > 0) rounds = this.backups
    else return null

    const passed = this.passed
    let newRound = false
    let avoided: Turn | null = null
    let chosen: Turn | null = null
    for (;;) {
      if (rounds.length === 0) rounds.length = rounds.cursor = rounds.total
      let t = rounds.head()
      if (t === null && !newRound) {
        newRound = true
        rounds.nextRound()
        t = rounds.head()
      }
      if (t === null) {
        if (avoided !== null) {
          chosen = avoided
          rounds.schedule(chosen)
        }
        break
      }
      rounds.advance(t)
      t.place = OUT
      rounds.cursor++
      if (!isFull(t.srv)) {
        if (t.srv !== avoid || avoided !== null) {
          chosen = t
          rounds.schedule(t)
          break
        }
        avoided = t
      }
      passed.push(t)
    }
    // Passed-over servers keep the turn they were given, unless a new round began meanwhile.
    for (let i = 0; i < passed.length; i++) {
      const p = passed[i]
      if (p === chosen) continue
      if (newRound) rounds.wait(p, FRESH)
      else rounds.schedule(p)
    }
    passed.length = 0
    return chosen !== null ? chosen.srv : null
  }
}

// --- static-rr and map-based hashing: a table of slots (balancing.md) ---------------------

class SlotTable {
  slots: LbServer[] = []
  /** Where the next static-rr walk starts. */
  next = 0
  private readonly credit: Float64Array

  constructor (private readonly lb: Balancer) {
    this.credit = new Float64Array(lb.servers.length)
  }

  /** Each slot goes to the server with the most whole table lengths of credit, earliest declared on ties. */
  fill (): void {
    const lb = this.lb
    const size = lb.servingCount === 0 ? 0 : lb.servingUnits
    const fromBackups = lb.activeCount === 0
    const members = lb.servers.filter((s) => s.usable && s.backup === fromBackups)
    const credit = this.credit
    credit.fill(0)
    const slots: LbServer[] = new Array(size)
    for (let slot = 0; slot < size; slot++) {
      if (size === 1) {
        slots[slot] = members[0]
        break
      }
      let best: LbServer | null = null
      let bestLengths = 0
      for (const s of members) {
        credit[s.index] += s.eweight
        const lengths = Math.floor(credit[s.index] / size)
        if (best === null || lengths > bestLengths) {
          best = s
          bestLengths = lengths
        }
      }
      slots[slot] = best as LbServer
      credit[(best as LbServer).index] -= size
    }
    this.slots = slots
  }

  /** The next slot whose server is not full, skipping `avoid` unless nothing else is left. */
  walk (avoid: LbServer | null): LbServer | null {
    const slots = this.slots
    const size = slots.length
    if (size === 0 || size !== this.lb.servingUnits) return null
    if (this.next >= size) this.next = 0
    const from = this.next
    let fallback: LbServer | null = null
    let fallbackNext = 0
    let i = from
    do {
      const s = slots[i]
      i = i + 1 === size ? 0 : i + 1
      if (isFull(s)) continue
      // The cursor stays past the slot used, unwrapped: a table rebuilt larger continues there.
      if (s !== avoid) {
        this.next = i === 0 ? size : i
        return s
      }
      fallback = s
      fallbackNext = i === 0 ? size : i
    } while (i !== from)
    if (fallback !== null) this.next = fallbackNext
    return fallback
  }

  at (hash: number): LbServer | null {
    const size = this.slots.length
    if (size === 0 || size !== this.lb.servingUnits) return null
    return this.slots[hash % size]
  }
}

/** Map-based balancers: weights divided by their GCD, static but for 0 and the configured weight. */
abstract class MapBalancer extends Balancer {
  readonly dynamic = false
  protected readonly table = new SlotTable(this)
  private seen = ''

  /** Called before the backend computes eweights: one unit per GCD of the configured weights. */
  setWeights (uweights: readonly number[]): void {
    let divisor = 1
    const first = uweights.findIndex((w) => w > 0)
    if (first >= 0) {
      divisor = uweights[first]
      for (let i = first + 1; i < uweights.length && divisor > 1; i++) divisor = greatestCommonDivisor(divisor, uweights[i]) || divisor
    }
    this.unitsPerPoint = 1
    this.pointDivisor = divisor
  }

  init (): void {
    this.rebuild()
  }

  update (): void {
    this.rebuild()
  }

  private rebuild (): void {
    const state = this.servers.map((s) => s.usable ? s.eweight : -1).join(',')
    if (state === this.seen) return
    this.seen = state
    this.tally()
    this.table.fill()
  }
}

export class StaticRoundRobin extends MapBalancer {
  pick (_txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    return this.table.walk(avoid)
  }
}

export class MapHash extends MapBalancer {
  constructor (servers: readonly LbServer[], allBackups: boolean, private readonly key: KeyFn, private readonly hasher: Hasher) {
    super(servers, allBackups)
  }

  pick (txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    if (this.servingUnits === 0) return null
    // One server left: no key is computed, slot 0 serves.
    const h = this.servingCount === 1 ? 0 : this.key(txn, this.hasher)
    return h < 0 ? this.table.walk(avoid) : this.table.at(h)
  }
}

// --- consistent hashing and random: a ring of points (balancing.md) ------------------------

class Ring {
  points = new Uint32Array(0)
  owners: LbServer[] = []
  /** The point the keyless walk stopped on, -1 before any walk. */
  walkedTo = -1

  build (servers: readonly LbServer[], backup: boolean): void {
    const placed: Array<{ at: number, srv: LbServer }> = []
    for (const s of servers) {
      if (s.backup !== backup || !s.usable) continue
      for (let k = 0; k < s.eweight; k++) placed.push({ at: avalanche((s.id * MAX_UNITS + k) >>> 0), srv: s })
    }
    placed.sort((a, b) => a.at - b.at)
    this.points = Uint32Array.from(placed, (p) => p.at)
    this.owners = placed.map((p) => p.srv)
    // The walk's point left: it resumes after the point that followed it (recorded).
    if (this.walkedTo >= 0 && placed.length > 0 && this.indexOf(this.walkedTo) < 0) {
      this.walkedTo = this.points[this.after(this.walkedTo)]
    }
  }

  /** Index of the first point above `at`, wrapping to 0. */
  private after (at: number): number {
    const points = this.points
    let lo = 0
    let hi = points.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (points[mid] <= at) lo = mid + 1
      else hi = mid
    }
    return lo === points.length ? 0 : lo
  }

  private indexOf (at: number): number {
    const i = this.after(at)
    const before = i === 0 ? this.points.length - 1 : i - 1
    return this.points[before] === at ? before : -1
  }

  /** The point closest to `hash` (the one before it on ties), walking on past `avoid`. */
  closest (hash: number, avoid: LbServer | null): LbServer | null {
    const n = this.points.length
    if (n === 0) return null
    // First point at or above hash: the one after hash - 1 (hash 0 has none below).
    let i = hash === 0 ? 0 : this.after(hash - 1)
    const before = i === 0 ? n - 1 : i - 1
    if (((hash - this.points[before]) >>> 0) <= ((this.points[i] - hash) >>> 0)) i = before
    let srv = this.owners[i]
    let laps = 0
    while (srv === avoid) {
      if (++i === n) {
        i = 0
        if (++laps > 1) break
      }
      srv = this.owners[i]
    }
    return srv
  }

  /** No key: the next point after the last walk's, skipping full servers, `avoid` if nothing else. */
  walk (avoid: LbServer | null): LbServer | null {
    const n = this.points.length
    if (n === 0) return null
    let i = this.walkedTo < 0 ? 0 : this.after(this.walkedTo)
    let fallback = -1
    for (let step = 0; step < n; step++, i = i + 1 === n ? 0 : i + 1) {
      this.walkedTo = this.points[i]
      const s = this.owners[i]
      if (isFull(s)) continue
      if (s !== avoid) return s
      fallback = i
    }
    if (fallback < 0) return null
    this.walkedTo = this.points[fallback]
    return this.owners[fallback]
  }
}

abstract class RingBalancer extends Balancer {
  readonly dynamic = true
  protected readonly actives = new Ring()
  protected readonly backups = new Ring()
  private readonly seen: Int32Array

  constructor (servers: readonly LbServer[], allBackups: boolean) {
    super(servers, allBackups)
    this.seen = new Int32Array(servers.length)
  }

  init (): void {
    this.rebuild()
  }

  update (srv: LbServer): void {
    if (this.seen[srv.index] !== (srv.usable ? srv.eweight : -1)) this.rebuild()
  }

  private rebuild (): void {
    for (const s of this.servers) this.seen[s.index] = s.usable ? s.eweight : -1
    this.tally()
    this.actives.build(this.servers, false)
    this.backups.build(this.servers, true)
  }

  /** The ring serving now, or the sole backup itself, or null. */
  protected serving (): Ring | LbServer | null {
    if (this.activeCount > 0) return this.actives
    if (this.soleBackup !== null) return this.soleBackup
    if (this.backupCount > 0) return this.backups
    return null
  }

  protected closest (hash: number, avoid: LbServer | null): LbServer | null {
    const r = this.serving()
    return r instanceof Ring ? r.closest(hash, avoid) : r
  }
}

export class ConsistentHash extends RingBalancer {
  constructor (servers: readonly LbServer[], allBackups: boolean, private readonly key: KeyFn, private readonly hasher: Hasher) {
    super(servers, allBackups)
  }

  pick (txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    if (this.servingUnits === 0) return null
    const h = this.servingCount === 1 ? 0 : this.key(txn, this.hasher)
    if (h >= 0) return this.closest(h, avoid)
    const r = this.serving()
    return r instanceof Ring ? r.walk(avoid) : r
  }
}

export class Random extends RingBalancer {
  constructor (servers: readonly LbServer[], allBackups: boolean, private readonly draws: number) {
    super(servers, allBackups)
  }

  pick (_txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    if (this.servingUnits === 0) return null
    let kept: LbServer | null = null
    for (let d = 0; d < this.draws; d++) {
      const drawn = this.closest((Math.random() * 0x100000000) >>> 0, avoid)
      if (drawn === null) break
      // Keep the one serving fewer requests relative to its weight, the later draw on ties.
      if (kept === null || drawn.served * kept.eweight <= kept.served * drawn.eweight) kept = drawn
    }
    // A full server means "none": the request goes to the backend's queue.
    if (kept !== null && (kept.queued > 0 || (kept.maxconnNow > 0 && kept.served >= kept.maxconnNow))) return null
    return kept
  }
}

// --- leastconn and first: servers in order of a key (balancing.md) -------------------------

abstract class OrderedBalancer extends Balancer {
  readonly dynamic = true
  /** Per server: its key. */
  protected readonly keys: Float64Array
  /** Servers taking part, per tier, by key; equal keys in the order their key last changed. */
  private readonly actives: LbServer[] = []
  private readonly backups: LbServer[] = []
  private readonly seenUnits: Int32Array
  protected abstract keyOf (s: LbServer): number

  constructor (servers: readonly LbServer[], allBackups: boolean) {
    super(servers, allBackups)
    this.keys = new Float64Array(servers.length)
    this.seenUnits = new Int32Array(servers.length).fill(-1)
  }

  init (): void {
    for (const s of this.servers) this.update(s)
    this.tally()
  }

  update (srv: LbServer): void {
    const units = srv.usable ? srv.eweight : -1
    if (units === this.seenUnits[srv.index]) return
    const line = srv.backup ? this.backups : this.actives
    const at = line.indexOf(srv)
    if (at >= 0) line.splice(at, 1)
    this.seenUnits[srv.index] = units
    if (srv.usable) {
      line.push(srv)
      this.move(line, line.length - 1)
    }
    this.tally()
  }

  /**
   * New key for the server at `at`: it goes behind every other server whose key is not above its
   * own (they all changed before it), found by bisection, the others sliding over.
   */
  protected move (line: LbServer[], at: number): void {
    const s = line[at]
    const keys = this.keys
    const key = this.keyOf(s)
    keys[s.index] = key
    let lo: number
    let hi: number
    const left = at > 0 && keys[line[at - 1].index] > key
    if (left) {
      lo = 0
      hi = at
    } else {
      lo = at + 1
      hi = line.length
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (keys[line[mid].index] > key) hi = mid
      else lo = mid + 1
    }
    if (left) {
      for (let j = at; j > lo; j--) line[j] = line[j - 1]
      line[lo] = s
    } else {
      for (let j = at; j < lo - 1; j++) line[j] = line[j + 1]
      line[lo - 1] = s
    }
  }

  protected lineOf (s: LbServer): LbServer[] | null {
    if (this.seenUnits[s.index] < 0) return null
    return s.backup ? this.backups : this.actives
  }

  /** The first server in key order with room, passing over `avoid` unless it is the only one. */
  pick (_txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    let line: LbServer[]
    if (this.activeCount > 0) line = this.actives
    else if (this.soleBackup !== null) return this.soleBackup
    else if (this.backupCount > 0) line = this.backups
    else return null
    let fallback: LbServer | null = null
    for (let i = 0; i < line.length; i++) {
      const s = line[i]
      if (!hasRoom(s)) continue
      if (s !== avoid) return s
      fallback = s
    }
    return fallback
  }
}

export class LeastConn extends OrderedBalancer {
  protected keyOf (s: LbServer): number {
    const inFlight = s.served + s.queued
    return inFlight === 0 ? 0 : Math.floor((inFlight + 1) * MAX_UNITS / (s.eweight || 1))
  }

  // Moved only when its key really changed, behind its equals: idle servers rotate.
  override loadChanged (srv: LbServer): void {
    const line = this.lineOf(srv)
    if (line === null || this.keyOf(srv) === this.keys[srv.index]) return
    this.move(line, line.indexOf(srv))
  }
}

export class First extends OrderedBalancer {
  protected keyOf (s: LbServer): number { return s.id }
}

// ---------------------------------------------------------------------------------------------

/** One row per `balance` keyword: the name the CSV `algo` column shows and a constructor. */
interface AlgorithmRow {
  csv: string
  create (servers: readonly LbServer[], proxy: Proxy, args: string[]): Balancer
}

/** `hash-type <method> [<function> [avalanche]]`: sdbm by default; a bare `consistent` mixes with avalanche (recorded). */
function hasher (proxy: Proxy): Hasher {
  const ht = proxy.hashType
  const words = (ht?.fn ?? '').split(/\s+/)
  const fn = (['sdbm', 'djb2', 'wt6', 'crc32', 'none'] as const).find((f) => words.includes(f)) ?? 'sdbm'
  const mix = words.includes('avalanche') || (ht?.method === 'consistent' && ht.fn === undefined)
  return new Hasher(fn, mix)
}

function hashed (keyOf: (args: string[], proxy: Proxy) => KeyFn): AlgorithmRow['create'] {
  return (servers, proxy, args) => {
    const key = keyOf(args, proxy)
    const h = hasher(proxy)
    return proxy.hashType?.method === 'consistent'
      ? new ConsistentHash(servers, proxy.allBackups, key, h)
      : new MapHash(servers, proxy.allBackups, key, h)
  }
}

export const algorithms: Readonly<Record<string, AlgorithmRow>> = {
  roundrobin: { csv: 'roundrobin', create: (s, p) => new RoundRobin(s, p.allBackups) },
  'static-rr': { csv: 'static-rr', create: (s, p) => new StaticRoundRobin(s, p.allBackups) },
  leastconn: { csv: 'leastconn', create: (s, p) => new LeastConn(s, p.allBackups) },
  first: { csv: 'first', create: (s, p) => new First(s, p.allBackups) },
  source: { csv: 'source', create: hashed((_a, p) => sourceKey(hasher(p).avalanche)) },
  uri: { csv: 'uri', create: hashed((a) => uriKey(a)) },
  url_param: { csv: 'url_param', create: hashed((a) => urlParamKey(a)) },
  hdr: { csv: 'hdr', create: hashed((a) => hdrKey(a)) },
  hash: { csv: 'hash', create: hashed((a, p) => expressionKey(a, p)) },
  'rdp-cookie': { csv: 'rdp-cookie', create: hashed(() => noKey) },
  // HAProxy 2.6's stats show "unknown" in the CSV algo column for random.
  random: { csv: 'unknown', create: (s, p, a) => new Random(s, p.allBackups, Number(a[0]) > 0 ? Number(a[0]) : DEFAULT_RANDOM_DRAWS) }
}

/** The balancer for a proxy's `balance` line (roundrobin when absent). */
export function createBalancer (servers: readonly LbServer[], proxy: Proxy): { balancer: Balancer, csv: string } {
  const balance: Balance | null = proxy.balance
  const name = balance?.algorithm ?? 'roundrobin'
  const row = algorithms[name]
  if (row === undefined) throw new Error(`balance '${name}' is not supported`)
  return { balancer: row.create(servers, proxy, balance?.args ?? []), csv: row.csv }
}

/**
 * Weight in units of a user weight warming up (slowstart: rampNum / rampDen of the way, at
 * least one unit step; static algorithms do not ramp).
 */
export function effectiveWeight (lb: Balancer, uweight: number, rampNum: number, rampDen: number): number {
  const perPoint = rampDen > 0 && lb.dynamic ? Math.min(lb.unitsPerPoint, Math.floor((lb.unitsPerPoint * rampNum + rampDen) / rampDen)) : lb.unitsPerPoint
  return Math.floor((uweight * perPoint + lb.pointDivisor - 1) / lb.pointDivisor)
}

/** The user weight the stats show for a weight in units. */
export function shownWeight (lb: Balancer, eweight: number): number {
  return Math.floor((eweight * lb.pointDivisor + lb.unitsPerPoint - 1) / lb.unitsPerPoint)
}

/** `setWeights` exists only on map-based balancers. */
export function isMapBased (lb: Balancer): lb is MapBalancer {
  return lb instanceof MapBalancer
}
