// Load-balancing algorithms (configuration.txt §4.2 `balance`, `hash-type`), ported from HAProxy
// 2.6's src/lb_fwrr.c, lb_map.c, lb_fwlc.c, lb_fas.c, lb_chash.c and the hash lookups of
// src/backend.c, so that pick orders and hash placements are HAProxy's own.
// A backend owns one Balancer; the balancer keeps HAProxy's `lbprm` bookkeeping (active/backup
// counts and weights, the first usable backup) and answers "which server next?".
// Hot path: pick() allocates nothing; state changes (up/down/weight) may.

import type { HttpTxn } from '../acl/txn.js'
import type { Balance, Proxy } from '../config/model.js'
import type { CompileEnv } from '../acl/env.js'
import { compileExpr, parseExpr, type CompiledExpr } from '../acl/expr.js'
import { FileCache } from '../acl/maps.js'
import { Hasher, avalanche as fullHash } from '../acl/hashes.js'

/** HAProxy's BE_WEIGHT_SCALE, SRV_UWGHT_RANGE and SRV_EWGHT_MAX (include/haproxy/backend-t.h, server-t.h). */
const BE_WEIGHT_SCALE = 16
const SRV_UWGHT_RANGE = 256
const SRV_EWGHT_MAX = SRV_UWGHT_RANGE * BE_WEIGHT_SCALE
/** `balance random` draws two servers and keeps the less loaded one unless told otherwise. */
const DEFAULT_RANDOM_DRAWS = 2

/** What an algorithm reads of a server; implemented by ServerRuntime. */
export interface LbServer {
  /** Position in the backend, config order, from 0. */
  readonly index: number
  /** Stats id (HAProxy's puid): `first` orders by it, consistent hashing places by it. */
  readonly id: number
  readonly backup: boolean
  /** Effective weight in the balancer's units (HAProxy's next_eweight), set by the backend. */
  readonly eweight: number
  /** HAProxy's srv_willbe_usable(): running, not maint/drain/nolb, eweight > 0. */
  readonly usable: boolean
  /** Requests being served (HAProxy's `served`). */
  readonly served: number
  /** Requests waiting in this server's own queue. */
  readonly queued: number
  /** Concurrency limit now (slowstart ramps it), 0 = unlimited. */
  readonly maxconnNow: number
  readonly maxqueue: number
}

/** A server's place in one of the balancer's ordered sets (HAProxy's lb_node and fwrr fields). */
class LbNode {
  key = 0
  /** Insertion order, so equal keys come out first-in first-out as in HAProxy's ebtrees. */
  seq = 0
  tree: OrderedSet | null = null
  /** fwrr: next and last positions, remainder of the weight division. */
  npos = 0
  lpos = 0
  rweight = 0
  /** State committed to the trees (HAProxy's cur_eweight / srv_currently_usable()). */
  curEweight = 0
  curUsable = false
  constructor (readonly srv: LbServer) {}
}

/**
 * Nodes ordered by (key, insertion order): the subset of an eb32 tree with duplicates that the
 * algorithms use (first, next, insert, delete). A sorted array: lookups are O(1)/O(log n) and
 * updates shift at most n pointers, which beats a tree for the server counts backends have.
 */
class OrderedSet {
  readonly items: LbNode[] = []
  private seq = 0

  get size (): number { return this.items.length }
  first (): LbNode | null { return this.items.length > 0 ? this.items[0] : null }

  insert (node: LbNode, key: number): void {
    node.key = key
    node.seq = ++this.seq
    node.tree = this
    const items = this.items
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (items[mid].key <= key) lo = mid + 1
      else hi = mid
    }
    // Shift by hand: splice() would allocate its result array on every pick.
    items.push(node)
    for (let i = items.length - 1; i > lo; i--) items[i] = items[i - 1]
    items[lo] = node
  }

  delete (node: LbNode): void {
    if (node.tree !== this) return
    const items = this.items
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const m = items[mid]
      if (m.key < node.key || (m.key === node.key && m.seq < node.seq)) lo = mid + 1
      else hi = mid
    }
    if (items[lo] === node) {
      for (let i = lo; i < items.length - 1; i++) items[i] = items[i + 1]
      items.pop()
    }
    node.tree = null
  }
}

function gcd (a: number, b: number): number {
  while (b) {
    const t = a % b
    a = b
    b = t
  }
  return a
}

/** HAProxy's saturation test (`!maxconn || (!queue && served < dynamic maxconn)` negated). */
function saturated (s: LbServer): boolean {
  return s.maxconnNow > 0 && (s.queued > 0 || s.served >= s.maxconnNow)
}

/** leastconn / first also accept a server whose own queue still has room (2.6 lb_fwlc.c). */
function acceptsQueued (s: LbServer): boolean {
  return s.maxconnNow === 0 || s.served + s.queued < s.maxconnNow + s.maxqueue
}


// ---------------------------------------------------------------------------------------------
// Keys of the hash-based algorithms (src/backend.c get_server_sh/uh/ph/hh). Each returns a
// 32-bit hash, or -1 when the request has no key (the caller then falls back to round robin).

type KeyFn = (txn: HttpTxn, h: Hasher) => number

/** XOR of the 32-bit words of the client address (get_server_sh), no string hashing. */
function sourceKey (avalanche: boolean): KeyFn {
  return (txn) => {
    const h = addressWords(txn.src)
    if (h < 0) return -1
    return avalanche ? fullHash(h) : h
  }
}

/** IPv4 (also IPv4-mapped IPv6) as one word; IPv6 as the XOR of its four words. */
function addressWords (ip: string): number {
  let start = 0
  if (ip.length > 7 && ip.charCodeAt(0) === 0x3a && ip.startsWith('::ffff:') && ip.indexOf('.', 7) > 0) start = 7
  if (ip.indexOf(':', start) < 0) {
    let word = 0
    let octet = 0
    let parts = 0
    for (let i = start; i <= ip.length; i++) {
      const c = i < ip.length ? ip.charCodeAt(i) : 0x2e
      if (c === 0x2e) {
        word = ((word << 8) | octet) >>> 0
        octet = 0
        parts++
      } else if (c >= 0x30 && c <= 0x39) {
        octet = octet * 10 + c - 0x30
      } else {
        return -1
      }
    }
    return parts === 4 ? word : -1
  }
  return ipv6Words(ip)
}

function ipv6Words (ip: string): number {
  const zone = ip.indexOf('%')
  const text = zone >= 0 ? ip.slice(0, zone) : ip
  const halves = text.split('::')
  if (halves.length > 2) return -1
  const head = halves[0] ? halves[0].split(':') : []
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const groups: number[] = []
  const push = (g: string): boolean => {
    if (g.includes('.')) {
      const w = addressWords(g)
      if (w < 0) return false
      groups.push(w >>> 16, w & 0xffff)
      return true
    }
    const v = parseInt(g, 16)
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false
    groups.push(v)
    return true
  }
  for (const g of head) if (!push(g)) return -1
  const tailGroups: number[] = []
  const headCount = groups.length
  for (const g of tail) if (!push(g)) return -1
  tailGroups.push(...groups.splice(headCount))
  const missing = 8 - groups.length - tailGroups.length
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return -1
  for (let i = 0; i < missing; i++) groups.push(0)
  groups.push(...tailGroups)
  let h = 0
  for (let i = 0; i < 8; i += 2) h = (h ^ ((groups[i] << 16) | groups[i + 1])) >>> 0
  return h
}

/** `balance uri [len n] [depth n] [whole] [path-only]` (get_server_uh). */
function uriKey (args: string[]): KeyFn {
  let len = 0
  let depth = 0
  let whole = false
  for (let i = 0; i < args.length; i++) {
    if (args[i] === 'len') len = Number(args[++i]) || 0
    else if (args[i] === 'depth') depth = Number(args[++i]) || 0
    else if (args[i] === 'whole') whole = true
  }
  // HAProxy stores depth + 1: hashing stops at the slash that opens level depth+1.
  const stopSlash = depth > 0 ? depth + 1 : 0
  return (txn, h) => {
    h.reset()
    const path = txn.path
    const query = txn.query
    let remaining = path.length + (query !== null ? 1 + query.length : 0)
    if (len > 0 && len < remaining) remaining = len
    let slashes = 0
    for (let i = 0; remaining > 0; i++, remaining--) {
      let c: number
      if (i < path.length) c = path.charCodeAt(i)
      else if (i === path.length) c = 0x3f
      else c = (query as string).charCodeAt(i - path.length - 1)
      if (c === 0x2f) {
        slashes++
        if (slashes === stopSlash) break
      } else if (c === 0x3f && !whole) {
        break
      }
      h.byte(c)
    }
    return h.result()
  }
}

/** `balance url_param <name>` (get_server_ph): value of the first `name=` in the query string. */
function urlParamKey (args: string[]): KeyFn {
  const name = args[0] ?? ''
  const plen = name.length
  return (txn, h) => {
    const q = txn.query
    if (q === null) return -1
    let p = 0
    while (q.length - p > plen) {
      if (q.charCodeAt(p + plen) === 0x3d && q.startsWith(name, p)) {
        let end = q.indexOf('&', p + plen + 1)
        if (end < 0) end = q.length
        h.reset().chars(q, p + plen + 1, end)
        return h.result()
      }
      const amp = q.indexOf('&', p)
      if (amp < 0) return -1
      p = amp + 1
    }
    return -1
  }
}

/** `balance hdr(<name>) [use_domain_only]` (get_server_hh): first value of the header. */
function hdrKey (args: string[]): KeyFn {
  const name = (args[0] ?? '').toLowerCase()
  const domainOnly = args.includes('use_domain_only')
  return (txn, h) => {
    const raw = txn.headers[name]
    if (raw === undefined) return -1
    const v = typeof raw === 'string' ? raw : raw[0]
    if (v === undefined) return -1
    let start = 0
    let end = v.indexOf(',')
    if (end < 0) end = v.length
    while (start < end && (v.charCodeAt(start) === 0x20 || v.charCodeAt(start) === 0x09)) start++
    while (end > start && (v.charCodeAt(end - 1) === 0x20 || v.charCodeAt(end - 1) === 0x09)) end--
    h.reset()
    if (!domainOnly) {
      h.chars(v, start, end)
      return h.result()
    }
    // The main domain only: the label before the last dot (HAProxy walks back from the end).
    let p = end
    let dEnd = end
    let dohash = false
    let len = end - start
    while (len > 0) {
      if (dohash) {
        if (v.charCodeAt(p - 1) === 0x2e) break
      } else if (v.charCodeAt(p) === 0x2e) {
        dEnd = p
        dohash = true
      }
      p--
      len--
    }
    h.chars(v, p, dEnd)
    return h.result()
  }
}

/**
 * `balance hash <expr>` (get_server_expr): the sample, cast to binary as HAProxy does (strings
 * as their bytes, IPv4 addresses as 4 bytes, integers as 8 bytes in network order), hashed.
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
      const w = isIp && v.indexOf(':') < 0 ? addressWords(v) : -1
      if (w >= 0) wordBytes(h, w)
      else h.chars(v, 0, v.length)
    } else {
      const n = typeof v === 'number' ? v : (v ? 1 : 0)
      wordBytes(h, Math.floor(n / 0x100000000) >>> 0)
      wordBytes(h, n >>> 0)
    }
    return h.result()
  }
}

function wordBytes (h: Hasher, w: number): void {
  h.byte(w >>> 24)
  h.byte(w >>> 16)
  h.byte(w >>> 8)
  h.byte(w)
}

/** `balance rdp-cookie`: an RDP connection cookie never appears in an HTTP request, so round robin. */
const noKey: KeyFn = () => -1

// ---------------------------------------------------------------------------------------------

/** HAProxy's `lbprm` counters, shared by every algorithm (backend.c recount_servers). */
export abstract class Balancer {
  /** Weight scale: eweight = ceil(uweight × ramp × wdiv / wmult), ramp 1 at full speed. */
  wdiv = BE_WEIGHT_SCALE
  wmult = 1
  /** Weights follow runtime changes and slowstart (BE_LB_PROP_DYN). */
  abstract readonly dynamic: boolean
  srvAct = 0
  srvBck = 0
  totWact = 0
  totWbck = 0
  totWeight = 0
  totUsed = 0
  /** First usable backup server, when only one backup may be used (no `option allbackups`). */
  fbck: LbServer | null = null
  protected readonly nodes: LbNode[]

  constructor (readonly servers: readonly LbServer[], readonly allBackups: boolean) {
    this.nodes = servers.map((s) => new LbNode(s))
  }

  /** Called once the backend has set every server's eweight for this balancer's scale. */
  abstract init (): void
  /** A server's usability or eweight changed (HAProxy's update_server_eweight / set_server_status_*). */
  abstract update (srv: LbServer): void
  /** The next server, or null when none is usable or all are saturated (the request then queues). */
  abstract pick (txn: HttpTxn, avoid: LbServer | null): LbServer | null
  /** `served`/`queued` of a server changed (leastconn keeps its order by load). */
  loadChanged (_srv: LbServer): void {}

  protected recount (): void {
    this.srvAct = this.srvBck = this.totWact = this.totWbck = 0
    this.fbck = null
    for (const s of this.servers) {
      if (!s.usable) continue
      if (s.backup) {
        if (this.srvBck === 0 && !this.allBackups) this.fbck = s
        this.srvBck++
        this.totWbck += s.eweight
      } else {
        this.srvAct++
        this.totWact += s.eweight
      }
    }
  }

  protected updateBackendWeight (): void {
    if (this.srvAct > 0) {
      this.totWeight = this.totWact
      this.totUsed = this.srvAct
    } else if (this.fbck !== null) {
      this.totWeight = this.fbck.eweight
      this.totUsed = 1
    } else {
      this.totWeight = this.totWbck
      this.totUsed = this.srvBck
    }
  }

  protected changed (n: LbNode): boolean {
    return n.curUsable !== n.srv.usable || n.curEweight !== n.srv.eweight
  }

  protected commit (n: LbNode): void {
    n.curUsable = n.srv.usable
    n.curEweight = n.srv.eweight
  }

  /** A server came back: it replaces the first backup if it is declared before it. */
  protected backupUp (srv: LbServer): void {
    if (this.allBackups) return
    if (this.fbck === null || srv.index < this.fbck.index) this.fbck = srv
  }

  /** The first backup went away: the next usable backup in config order takes its place. */
  protected backupDown (srv: LbServer): void {
    if (srv !== this.fbck) return
    let next: LbServer | null = null
    for (let i = srv.index + 1; i < this.servers.length; i++) {
      const s = this.servers[i]
      if (s.backup && s.usable) { next = s; break }
    }
    this.fbck = next
  }
}

// --- roundrobin: fast weighted round robin (lb_fwrr.c) ------------------------------------------

class FwrrGroup {
  readonly curr = new OrderedSet()
  private readonly t0 = new OrderedSet()
  private readonly t1 = new OrderedSet()
  init = this.t0
  next = this.t1
  currPos = 0
  currWeight = 0
  nextWeight = 0

  switchTrees (): void {
    const swap = this.init
    this.init = this.next
    this.next = swap
    this.currWeight = this.nextWeight
    this.currPos = this.currWeight
  }
}

export class RoundRobin extends Balancer {
  readonly dynamic = true
  private readonly act = new FwrrGroup()
  private readonly bck = new FwrrGroup()
  /** Saturated or avoided servers taken out during one pick, put back at its end. */
  private readonly full: LbNode[] = []

  init (): void {
    this.recount()
    this.updateBackendWeight()
    this.act.currPos = this.act.currWeight = this.act.nextWeight = this.totWact
    this.bck.currPos = this.bck.currWeight = this.bck.nextWeight = this.totWbck
    for (const n of this.nodes) {
      this.commit(n)
      if (n.curUsable) this.queueByWeight(n.srv.backup ? this.bck.init : this.act.init, n)
    }
  }

  private group (s: LbServer): FwrrGroup { return s.backup ? this.bck : this.act }

  private queueByWeight (tree: OrderedSet, n: LbNode): void {
    tree.insert(n, SRV_EWGHT_MAX - n.srv.eweight)
  }

  update (srv: LbServer): void {
    const n = this.nodes[srv.index]
    if (!this.changed(n)) return
    const oldState = n.curUsable
    const newState = srv.usable
    if (!oldState && !newState) return this.commit(n)
    if (!oldState && newState) return this.statusUp(n)
    if (oldState && !newState) return this.statusDown(n)

    const grp = this.group(srv)
    grp.nextWeight = grp.nextWeight - n.curEweight + srv.eweight
    this.totWact = this.act.nextWeight
    this.totWbck = this.bck.nextWeight
    if (n.tree === grp.init) {
      n.tree.delete(n)
      this.queueByWeight(grp.init, n)
    } else if (n.tree === null) {
      this.getSrv(n)
      n.npos = grp.currPos + Math.floor((grp.nextWeight + grp.currWeight - grp.currPos) / srv.eweight)
      this.queueSrv(n)
    } else {
      this.getSrv(n)
      if (srv.eweight > 0) {
        const prevNext = n.npos
        const step = Math.floor(grp.nextWeight / srv.eweight)
        n.npos = n.lpos + step
        n.rweight = 0
        if (n.npos > prevNext) n.npos = prevNext
        if (n.npos < grp.currPos + 2) n.npos = grp.currPos + step
      } else {
        n.npos = grp.currPos + grp.currWeight
      }
      n.tree?.delete(n)
      this.queueSrv(n)
    }
    this.updateBackendWeight()
    this.commit(n)
  }

  private statusDown (n: LbNode): void {
    const srv = n.srv
    const grp = this.group(srv)
    grp.nextWeight -= n.curEweight
    if (srv.backup) {
      this.totWbck = this.bck.nextWeight
      this.srvBck--
      this.backupDown(srv)
    } else {
      this.totWact = this.act.nextWeight
      this.srvAct--
    }
    n.tree?.delete(n)
    n.tree = null
    this.updateBackendWeight()
    this.commit(n)
  }

  private statusUp (n: LbNode): void {
    const srv = n.srv
    const grp = this.group(srv)
    grp.nextWeight += srv.eweight
    if (srv.backup) {
      this.totWbck = this.bck.nextWeight
      this.srvBck++
      this.backupUp(srv)
    } else {
      this.totWact = this.act.nextWeight
      this.srvAct++
    }
    this.getSrv(n)
    n.npos = grp.currPos + Math.floor((grp.nextWeight + grp.currWeight - grp.currPos) / srv.eweight)
    this.queueSrv(n)
    this.updateBackendWeight()
    this.commit(n)
  }

  /** fwrr_get_srv: prepares a server taken out of its tree. */
  private getSrv (n: LbNode): void {
    const grp = this.group(n.srv)
    if (n.tree === grp.init) {
      n.npos = n.rweight = 0
    } else if (n.tree === grp.next) {
      n.npos += grp.currWeight
    } else if (n.tree === null) {
      n.npos = grp.currPos
    }
  }

  /** fwrr_queue_srv: into the current tree by position, or the next tree when out of the window. */
  private queueSrv (n: LbNode): void {
    const s = n.srv
    const grp = this.group(s)
    if (!s.usable) {
      n.tree = null
    } else if (s.eweight <= 0 || n.npos >= 2 * grp.currWeight || n.npos >= grp.currWeight + grp.nextWeight) {
      n.npos -= grp.currWeight
      this.queueByWeight(grp.next, n)
    } else {
      // The key is unsigned 32-bit in HAProxy's eb32 tree.
      const key = (SRV_UWGHT_RANGE * n.npos + Math.floor((SRV_EWGHT_MAX + n.rweight - s.eweight) / BE_WEIGHT_SCALE)) >>> 0
      grp.curr.insert(n, key)
    }
  }

  private serverFromGroup (grp: FwrrGroup): LbNode | null {
    const n1 = grp.curr.first()
    if (n1 !== null && n1.curEweight > 0 && n1.npos <= grp.currPos) return n1
    const n2 = grp.init.first()
    if (n2 !== null && n2.curEweight > 0) {
      n2.npos = n2.rweight = 0
      return n2
    }
    return n1
  }

  private updatePosition (grp: FwrrGroup, n: LbNode): void {
    const eweight = n.curEweight
    if (!eweight) return
    if (!n.npos) n.npos = grp.currPos
    n.lpos = n.npos
    n.npos += Math.floor(grp.nextWeight / eweight)
    n.rweight += grp.nextWeight % eweight
    if (n.rweight >= eweight) {
      n.rweight -= eweight
      n.npos++
    }
  }

  // Hot path: fwrr_get_next_server.
  pick (_txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    let grp: FwrrGroup
    if (this.srvAct > 0) grp = this.act
    else if (this.fbck !== null) return this.fbck
    else if (this.srvBck > 0) grp = this.bck
    else return null

    const full = this.full
    let switched = false
    let avoided: LbNode | null = null
    let chosen: LbNode | null = null
    for (;;) {
      if (!grp.currWeight) grp.currPos = grp.currWeight = grp.nextWeight
      let n: LbNode | null
      for (;;) {
        n = this.serverFromGroup(grp)
        if (n !== null) break
        if (switched) break
        switched = true
        grp.switchTrees()
      }
      if (n === null) {
        if (avoided !== null) {
          chosen = avoided
          this.queueSrv(chosen)
        }
        break
      }
      this.updatePosition(grp, n)
      n.tree?.delete(n)
      grp.currPos++
      if (!saturated(n.srv)) {
        if (n.srv !== avoid || avoided !== null) {
          chosen = n
          this.queueSrv(n)
          break
        }
        avoided = n
      }
      full.push(n)
    }
    // Put back what was taken out: by weight into "init" if the trees switched (their place is
    // lost), else at their next place as if they had been used.
    for (let i = 0; i < full.length; i++) {
      const f = full[i]
      if (f === chosen) continue
      if (switched) this.queueByWeight(grp.init, f)
      else this.queueSrv(f)
    }
    full.length = 0
    return chosen !== null ? chosen.srv : null
  }
}

// --- map-based: static-rr and the hash algorithms with hash-type map-based (lb_map.c) ------------

class ServerMap {
  /** Server per slot; slot count = total effective weight (weights reduced by their GCD). */
  slots: LbServer[] = []
  rrIdx = 0
  private readonly wscore: Int32Array

  constructor (private readonly lb: Balancer) {
    this.wscore = new Int32Array(lb.servers.length)
  }

  /** recalc_server_map: spreads servers over the slots, first declared first on ties. */
  recalc (): void {
    const lb = this.lb
    const tot = lb.totUsed === 0 ? 0 : lb.totWeight
    const slots: LbServer[] = new Array(tot)
    const wantBackup = lb.srvAct === 0
    this.wscore.fill(0)
    for (let o = 0; o < tot; o++) {
      let max = 0
      let best: LbServer | null = null
      for (const cur of lb.servers) {
        if (cur.backup !== wantBackup || !cur.usable) continue
        if (tot === 1) { best = cur; break }
        this.wscore[cur.index] += cur.eweight
        const v = Math.floor((this.wscore[cur.index] + tot) / tot)
        if (best === null || v > max) {
          max = v
          best = cur
        }
      }
      slots[o] = best as LbServer
      if (best !== null) this.wscore[best.index] -= tot
    }
    this.slots = slots
  }

  /** map_get_server_rr */
  nextRr (avoid: LbServer | null): LbServer | null {
    const tot = this.lb.totWeight
    if (tot === 0 || this.slots.length !== tot) return null
    if (this.rrIdx < 0 || this.rrIdx >= tot) this.rrIdx = 0
    let newidx = this.rrIdx
    let avoided: LbServer | null = null
    let avoididx = 0
    do {
      const srv = this.slots[newidx++]
      if (!saturated(srv)) {
        avoided = srv
        avoididx = newidx
        if (srv !== avoid) {
          this.rrIdx = newidx
          return srv
        }
      }
      if (newidx === tot) newidx = 0
    } while (newidx !== this.rrIdx)
    if (avoided !== null) this.rrIdx = avoididx
    return avoided
  }

  byHash (hash: number): LbServer | null {
    const tot = this.lb.totWeight
    if (tot === 0 || this.slots.length !== tot) return null
    return this.slots[hash % tot]
  }
}

/** Map-based balancers: weights reduced by their GCD, static unless set to 0 or back to full. */
abstract class MapBalancer extends Balancer {
  readonly dynamic = false
  protected readonly map = new ServerMap(this)

  /** Called before the backend computes eweights: wmult = GCD of the user weights (init_server_map). */
  setWeights (uweights: readonly number[]): void {
    let pgcd = 1
    const first = uweights.findIndex((w) => w > 0)
    if (first >= 0) {
      pgcd = uweights[first]
      for (let i = first + 1; i < uweights.length && pgcd > 1; i++) pgcd = gcd(pgcd, uweights[i]) || pgcd
    }
    this.wdiv = 1
    this.wmult = pgcd
  }

  init (): void {
    for (const n of this.nodes) this.commit(n)
    this.recount()
    this.updateBackendWeight()
    this.map.recalc()
  }

  update (srv: LbServer): void {
    const n = this.nodes[srv.index]
    if (!this.changed(n)) return
    this.commit(n)
    this.recount()
    this.updateBackendWeight()
    this.map.recalc()
  }
}

export class StaticRoundRobin extends MapBalancer {
  pick (_txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    return this.map.nextRr(avoid)
  }
}

export class MapHash extends MapBalancer {
  private readonly hasher: Hasher
  constructor (servers: readonly LbServer[], allBackups: boolean, private readonly key: KeyFn, hasher: Hasher) {
    super(servers, allBackups)
    this.hasher = hasher
  }

  pick (txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    if (this.totWeight === 0) return null
    // With one server left HAProxy does not hash at all.
    const h = this.totUsed === 1 ? 0 : this.key(txn, this.hasher)
    if (h < 0) return this.map.nextRr(avoid)
    return this.map.byHash(h)
  }
}

// --- consistent hashing and random (lb_chash.c, backend.c get_server_rnd) ---------------------

/** A ring of points: server `puid × 4096 + k` hashed, `eweight` points per server. */
class Ring {
  keys = new Uint32Array(0)
  owners: LbServer[] = []
  /** Key of the last point used by the round-robin fallback (chash.last). */
  lastKey = -1

  rebuild (servers: readonly LbServer[], backup: boolean): void {
    const pts: Array<[number, LbServer]> = []
    for (const s of servers) {
      if (s.backup !== backup || !s.usable) continue
      for (let k = 0; k < s.eweight; k++) pts.push([fullHash((s.id * SRV_EWGHT_MAX + k) >>> 0), s])
    }
    pts.sort((a, b) => a[0] - b[0])
    this.keys = Uint32Array.from(pts, (p) => p[0])
    this.owners = pts.map((p) => p[1])
  }

  /** Index of the first point >= hash, or -1 */
  private lookupGe (hash: number): number {
    const keys = this.keys
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (keys[mid] < hash) lo = mid + 1
      else hi = mid
    }
    return lo < keys.length ? lo : -1
  }

  /** chash_get_server_hash: the closest point, walking on past the avoided server. */
  byHash (hash: number, avoid: LbServer | null): LbServer | null {
    const n = this.keys.length
    if (n === 0) return null
    let next = this.lookupGe(hash)
    if (next < 0) next = 0
    const prev = next === 0 ? n - 1 : next - 1
    const dp = (hash - this.keys[prev]) >>> 0
    const dn = (this.keys[next] - hash) >>> 0
    if (dp <= dn) next = prev
    let srv = this.owners[next]
    let loop = 0
    while (srv === avoid) {
      next++
      if (next === n) {
        next = 0
        if (++loop > 1) break
      }
      srv = this.owners[next]
    }
    return srv
  }

  /** chash_get_next_server: walks the ring point by point. */
  nextRr (avoid: LbServer | null): LbServer | null {
    const n = this.keys.length
    if (n === 0) return null
    let start = this.lastKey < 0 ? -1 : this.lookupGe(this.lastKey)
    if (start >= 0 && this.keys[start] !== this.lastKey) start--
    let i = start
    let avoided: LbServer | null = null
    let avoidedKey = -1
    for (let step = 0; step < n; step++) {
      i = i + 1 >= n ? 0 : i + 1
      this.lastKey = this.keys[i]
      const s = this.owners[i]
      if (!saturated(s)) {
        if (s !== avoid) return s
        avoided = s
        avoidedKey = this.keys[i]
      }
    }
    if (avoided !== null) this.lastKey = avoidedKey
    return avoided
  }
}

abstract class ChashBalancer extends Balancer {
  readonly dynamic = true
  protected readonly act = new Ring()
  protected readonly bck = new Ring()

  init (): void {
    this.rebuild()
  }

  update (srv: LbServer): void {
    const n = this.nodes[srv.index]
    if (!this.changed(n)) return
    this.rebuild()
  }

  private rebuild (): void {
    for (const n of this.nodes) this.commit(n)
    this.recount()
    this.updateBackendWeight()
    this.act.rebuild(this.servers, false)
    this.bck.rebuild(this.servers, true)
  }

  /** The ring to use, or a server directly (the single backup), or null. */
  protected ring (): Ring | LbServer | null {
    if (this.srvAct > 0) return this.act
    if (this.fbck !== null) return this.fbck
    if (this.srvBck > 0) return this.bck
    return null
  }

  protected byHash (hash: number, avoid: LbServer | null): LbServer | null {
    const r = this.ring()
    return r instanceof Ring ? r.byHash(hash, avoid) : r
  }
}

export class ConsistentHash extends ChashBalancer {
  constructor (servers: readonly LbServer[], allBackups: boolean, private readonly key: KeyFn, private readonly hasher: Hasher) {
    super(servers, allBackups)
  }

  pick (txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    if (this.totWeight === 0) return null
    const h = this.totUsed === 1 ? 0 : this.key(txn, this.hasher)
    if (h >= 0) return this.byHash(h, avoid)
    const r = this.ring()
    return r instanceof Ring ? r.nextRr(avoid) : r
  }
}

export class Random extends ChashBalancer {
  constructor (servers: readonly LbServer[], allBackups: boolean, private readonly draws: number) {
    super(servers, allBackups)
  }

  pick (_txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    if (this.totWeight === 0) return null
    let curr: LbServer | null = null
    let draws = this.draws
    do {
      const prev: LbServer | null = curr
      curr = this.byHash((Math.random() * 0x100000000) >>> 0, avoid)
      if (curr === null) break
      // Keep the one serving fewer requests relative to its weight.
      if (prev !== null && prev !== curr && curr.served * prev.eweight > prev.served * curr.eweight) curr = prev
    } while (--draws > 0)
    // A full server means "none": the request goes to the backend's queue.
    if (curr !== null && (curr.queued > 0 || (curr.maxconnNow > 0 && curr.served >= curr.maxconnNow))) return null
    return curr
  }
}

// --- leastconn (lb_fwlc.c) and first (lb_fas.c): servers ordered in a tree ------------------------

abstract class TreeBalancer extends Balancer {
  readonly dynamic = true
  protected readonly act = new OrderedSet()
  protected readonly bck = new OrderedSet()
  protected abstract keyOf (s: LbServer): number

  init (): void {
    this.recount()
    this.updateBackendWeight()
    for (const n of this.nodes) {
      this.commit(n)
      if (n.curUsable) (n.srv.backup ? this.bck : this.act).insert(n, this.keyOf(n.srv))
    }
  }

  update (srv: LbServer): void {
    const n = this.nodes[srv.index]
    if (!this.changed(n)) return
    const wasUsable = n.curUsable
    n.tree?.delete(n)
    if (srv.usable) {
      if (!wasUsable) this.backupUpCount(srv, 1)
      else this.adjustWeight(srv, n.curEweight)
      ;(srv.backup ? this.bck : this.act).insert(n, this.keyOf(srv))
    } else if (wasUsable) {
      this.backupUpCount(srv, -1)
    }
    this.updateBackendWeight()
    this.commit(n)
  }

  private adjustWeight (srv: LbServer, old: number): void {
    if (srv.backup) this.totWbck += srv.eweight - old
    else this.totWact += srv.eweight - old
  }

  private backupUpCount (srv: LbServer, dir: 1 | -1): void {
    const w = dir > 0 ? srv.eweight : -this.nodes[srv.index].curEweight
    if (srv.backup) {
      this.srvBck += dir
      this.totWbck += w
      if (dir > 0) this.backupUp(srv)
      else this.backupDown(srv)
    } else {
      this.srvAct += dir
      this.totWact += w
    }
  }

  /** The first server in key order with room (2.6 counts its own queue up to maxqueue as room). */
  pick (_txn: HttpTxn, avoid: LbServer | null): LbServer | null {
    let tree: OrderedSet
    if (this.srvAct > 0) tree = this.act
    else if (this.fbck !== null) return this.fbck
    else if (this.srvBck > 0) tree = this.bck
    else return null
    let avoided: LbServer | null = null
    const items = tree.items
    for (let i = 0; i < items.length; i++) {
      const s = items[i].srv
      if (acceptsQueued(s)) {
        if (s !== avoid) return s
        avoided = s
      }
    }
    return avoided
  }
}

export class LeastConn extends TreeBalancer {
  protected keyOf (s: LbServer): number {
    const inflight = s.served + s.queued
    return inflight ? Math.floor((inflight + 1) * SRV_EWGHT_MAX / (s.eweight || 1)) : 0
  }

  // fwlc_srv_reposition: moved only when its key really changed (so equal loads rotate).
  override loadChanged (srv: LbServer): void {
    const n = this.nodes[srv.index]
    if (n.tree === null) return
    const key = this.keyOf(srv)
    if (key === n.key) return
    const tree = n.tree
    tree.delete(n)
    tree.insert(n, key)
  }
}

export class First extends TreeBalancer {
  protected keyOf (s: LbServer): number { return s.id }
}

// ---------------------------------------------------------------------------------------------

/** One row per `balance` keyword: HAProxy's name for the CSV `algo` column and a constructor. */
interface AlgorithmRow {
  csv: string
  create (servers: readonly LbServer[], proxy: Proxy, args: string[]): Balancer
}

/** `hash-type <method> [<function> [<modifier>]]`: sdbm by default, and a bare `consistent` adds avalanche (cfgparse-listen.c). */
function hasher (proxy: Proxy): Hasher {
  const ht = proxy.hashType
  const words = (ht?.fn ?? '').split(/\s+/)
  const fn = (['sdbm', 'djb2', 'wt6', 'crc32', 'none'] as const).find((f) => words.includes(f)) ?? 'sdbm'
  const avalanche = words.includes('avalanche') || (ht?.method === 'consistent' && ht.fn === undefined)
  return new Hasher(fn, avalanche)
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
  // HAProxy 2.6 has no stats name for random (backend_lb_algo_str): its CSV says "unknown".
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

/** Effective weight of a user weight at a warm-up ratio (server.c server_recalc_eweight). */
export function effectiveWeight (lb: Balancer, uweight: number, rampNum: number, rampDen: number): number {
  const w = rampDen > 0 && lb.dynamic ? Math.min(lb.wdiv, Math.floor((lb.wdiv * rampNum + rampDen) / rampDen)) : lb.wdiv
  return Math.floor((uweight * w + lb.wmult - 1) / lb.wmult)
}

/** `setWeights` exists only on map-based balancers. */
export function isMapBased (lb: Balancer): lb is MapBalancer {
  return lb instanceof MapBalancer
}
