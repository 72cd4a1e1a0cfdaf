// Stick counters (configuration.txt §7.3.3, §7.3.1 "table_*"): the fetches that read a tracked
// entry (`sc_*`, `sc0_*` … `sc2_*`) or the client's own (`src_*`), `table_cnt`/`table_avl`, the
// `in_table` / `table_*` converters, and the end of a stream's tracking. The actions that track
// are lib/acl/stick-actions.ts. When a stream ends (as observed on HAProxy 2.6.12): its 4xx
// answers other than 401/407 are HTTP errors (denials included, an `http-request return` not),
// its 5xx other than 501/505 failures, and its bytes are added both ways.

import type { ArgKind, ArgValue } from './arguments.js'
import type { ConvertFn, ConverterRow } from './converters.js'
import type { CompileEnv } from './env.js'
import type { FetchRow } from './fetches.js'
import { ExprError, type Sample } from './sample.js'
import type { HttpTxn } from './txn.js'
import type { StickDataType } from '../config/model.js'
import { StickTable, tableKey, type StickEntry } from '../runtime/stick-table.js'

/** One stick counter of a stream: the entry it tracks and its table. */
export interface Tracked {
  table: StickTable
  entry: StickEntry
  /** Tracked by the connection the request came on (`tcp-request connection`): the request counts in it, the connection leaves it. */
  inherited?: true
}

/** `track-sc0` … `track-sc2`. */
export const MAX_COUNTERS = 3

/** The table a rule or fetch names, or the proxy's own; HAProxy's message when there is none. */
export function tableNamed (env: CompileEnv, name: string | undefined, referrer: string): StickTable {
  const wanted = name === undefined || name === '' ? env.proxy.name : name
  const declared = env.config.proxies.find((p) => p.name === wanted && p.stickTable !== null)?.stickTable ?? null
  const t = env.stickTable?.(wanted) ?? (declared === null ? undefined : new StickTable(wanted, declared))
  if (t === undefined) throw new ExprError(`unable to find table '${wanted}' referenced by ${referrer}`)
  return t
}

/** What the connections of HTTP proxies track (`tcp-request connection track-sc*`), for their requests. */
const connectionTracks = new WeakMap<object, Array<Tracked | undefined>>()

/**
 * An HTTP proxy's connection passed its `tcp-request connection` rules: what they tracked stays
 * tracked until the connection closes, and each request on it counts there (`inherit`).
 */
export function trackConnection (txn: HttpTxn, socket: { once (event: 'close', fn: () => void): unknown }): void {
  const slots = txn.tracked
  if (slots === undefined) return
  startSession(txn)
  txn.tracked = undefined
  connectionTracks.set(socket, slots)
  socket.once('close', () => { for (const t of slots) if (t !== undefined) leave(t) })
}

/** A request on a connection that tracks counters: it sees them (sc_*) and counts in them. */
export function inherit (txn: HttpTxn, socket: object): void {
  const slots = connectionTracks.get(socket)
  if (slots === undefined) return
  const own: Array<Tracked | undefined> = []
  for (let i = 0; i < slots.length; i++) {
    const t = slots[i]
    if (t === undefined) continue
    own[i] = { table: t.table, entry: t.entry, inherited: true }
    t.entry.add('http_req_cnt', 'http_req_rate', 1, t.table.now())
  }
  txn.tracked = own
}

function leave (t: Tracked): void {
  t.entry.add('conn_cur', null, -1, t.table.now())
  t.entry.use--
  t.table.touch(t.entry)
}

/** The connection rules accepted the connection: a session for every entry tracked so far. */
export function startSession (txn: HttpTxn): void {
  const slots = txn.tracked
  if (slots === undefined) return
  for (const t of slots) if (t !== undefined) t.entry.add('sess_cnt', 'sess_rate', 1, t.table.now())
}

/**
 * The stream is over (an HTTP request answered, a TCP connection closed): its answer and bytes
 * are counted in every entry it tracks, which it then leaves.
 */
export function endTracking (txn: HttpTxn, end: { status?: number, returned?: boolean, bytesIn: number, bytesOut: number }): void {
  const slots = txn.tracked
  if (slots === undefined) return
  txn.tracked = undefined
  const s = end.status ?? 0
  const error = s >= 400 && s < 500 && s !== 401 && s !== 407 && end.returned !== true
  const failure = s >= 500 && s !== 501 && s !== 505
  for (const t of slots) {
    if (t === undefined) continue
    const e = t.entry
    const now = t.table.now()
    if (error) e.add('http_err_cnt', 'http_err_rate', 1, now)
    if (failure) e.add('http_fail_cnt', 'http_fail_rate', 1, now)
    e.add('bytes_in_cnt', 'bytes_in_rate', end.bytesIn, now)
    e.add('bytes_out_cnt', 'bytes_out_rate', end.bytesOut, now)
    if (t.inherited === true) t.table.touch(e)
    else leave(t)
  }
}

/** What a fetch or converter does with an entry. */
type EntryOp = (e: StickEntry, t: StickTable) => Sample | null

const read = (type: StickDataType): EntryOp => (e, t) => e.get(type, t.now())
const kbytes = (type: StickDataType): EntryOp => (e, t) => { const v = e.get(type, t.now()); return v === null ? null : Math.floor(v / 1024) }
const increment = (type: 'gpc0' | 'gpc1'): EntryOp => (e, t) => {
  if (e.get(type, t.now()) === null) return null
  e.add(type, `${type}_rate`, 1, t.now())
  t.touch(e)
  return e.get(type, t.now())
}
const clear = (type: 'gpc0' | 'gpc1'): EntryOp => (e, t) => {
  const v = e.get(type, t.now())
  if (v === null) return null
  e.set(type, 0)
  t.touch(e)
  return v
}

/** The data fetches share between `sc_`, `sc<n>_` and `src_` (§7.3.3), by suffix. */
const ENTRY_FETCHES: ReadonlyArray<[string, EntryOp]> = [
  ...(['conn_cnt', 'conn_cur', 'conn_rate', 'sess_cnt', 'sess_rate', 'http_req_cnt', 'http_req_rate', 'http_err_cnt',
    'http_err_rate', 'http_fail_cnt', 'http_fail_rate', 'bytes_in_rate', 'bytes_out_rate', 'gpc0_rate', 'gpc1_rate'] as const)
    .map((type): [string, EntryOp] => [type, read(type)]),
  ['kbytes_in', kbytes('bytes_in_cnt')], ['kbytes_out', kbytes('bytes_out_cnt')],
  ['get_gpc0', read('gpc0')], ['get_gpc1', read('gpc1')], ['get_gpt0', read('gpt0')],
  ['inc_gpc0', increment('gpc0')], ['inc_gpc1', increment('gpc1')], ['clr_gpc0', clear('gpc0')], ['clr_gpc1', clear('gpc1')],
  ['trackers', (e) => e.use]
]

/** The entry of stick counter n, or of its key in another table. */
function trackedEntry (txn: HttpTxn, n: number, other: StickTable | null): { e: StickEntry, t: StickTable } | null {
  const tracked = txn.tracked?.[n]
  if (tracked === undefined) return null
  if (other === null) return { e: tracked.entry, t: tracked.table }
  const e = other.lookup(tracked.entry.key)
  return e === undefined ? null : { e, t: other }
}

function counterIndex (a: ArgValue | undefined): number {
  const n = typeof a === 'number' ? a : 0
  if (n < 0 || n >= MAX_COUNTERS) throw new ExprError(`invalid stick counter number '${n}'. The max allowed ID is ${MAX_COUNTERS - 1}`)
  return n
}

const otherTable = (env: CompileEnv, a: ArgValue | undefined, fetch: string): StickTable | null =>
  typeof a === 'string' && a !== '' ? tableNamed(env, a, `sample fetch keyword '${fetch}'`) : null

/** Every `sc_*`, `sc0_*`… `sc2_*`, `src_*` fetch, `sc_tracked`, `table_cnt`, `table_avl`. */
export function stickFetchRows (): FetchRow[] {
  const rows: FetchRow[] = []
  for (const [suffix, op] of ENTRY_FETCHES) {
    rows.push({
      name: `sc_${suffix}`, args: ['int', 'str'], minArgs: 1, type: 'int',
      compile: (a, env) => {
        const n = counterIndex(a[0])
        const other = otherTable(env, a[1], `sc_${suffix}`)
        return { one: (txn) => { const x = trackedEntry(txn, n, other); return x === null ? null : op(x.e, x.t) } }
      }
    })
    for (let n = 0; n < MAX_COUNTERS; n++) {
      rows.push({
        name: `sc${n}_${suffix}`, args: ['str'], minArgs: 0, type: 'int',
        compile: (a, env) => {
          const other = otherTable(env, a[0], `sc${n}_${suffix}`)
          return { one: (txn) => { const x = trackedEntry(txn, n, other); return x === null ? null : op(x.e, x.t) } }
        }
      })
    }
    if (suffix === 'trackers') continue
    const creates = suffix.startsWith('inc_')
    rows.push({
      name: `src_${suffix}`, args: ['str'], minArgs: 0, type: 'int',
      compile: (a, env) => {
        const table = tableNamed(env, typeof a[0] === 'string' ? a[0] : undefined, `sample fetch keyword 'src_${suffix}'`)
        return {
          one: (txn) => {
            const k = tableKey(table.spec, txn.src)
            if (k === null) return null
            const e = creates ? table.obtain(k) : table.lookup(k)
            return e === undefined ? 0 : op(e, table)
          }
        }
      }
    })
  }
  rows.push({
    name: 'src_updt_conn_cnt', args: ['str'], minArgs: 0, type: 'int',
    compile: (a, env) => {
      const table = tableNamed(env, typeof a[0] === 'string' ? a[0] : undefined, "sample fetch keyword 'src_updt_conn_cnt'")
      return {
        one: (txn) => {
          const k = tableKey(table.spec, txn.src)
          const e = k === null ? undefined : table.obtain(k)
          if (e === undefined) return 0
          e.add('conn_cnt', 'conn_rate', 1, table.now())
          table.touch(e)
          return e.get('conn_cnt', table.now())
        }
      }
    }
  })
  const tracked = (n: number | null): FetchRow => ({
    name: n === null ? 'sc_tracked' : `sc${n}_tracked`, args: n === null ? ['int', 'str'] : ['str'], minArgs: n === null ? 1 : 0, type: 'bool',
    compile: (a, env) => {
      const idx = n ?? counterIndex(a[0])
      const other = otherTable(env, a[n === null ? 1 : 0], n === null ? 'sc_tracked' : `sc${n}_tracked`)
      return { one: (txn) => trackedEntry(txn, idx, other) !== null }
    }
  })
  rows.push(tracked(null), tracked(0), tracked(1), tracked(2))
  for (const [name, of] of [['table_cnt', (t: StickTable) => t.used], ['table_avl', (t: StickTable) => t.spec.size - t.used]] as const) {
    rows.push({
      name, args: ['str'], minArgs: 0, type: 'int',
      compile: (a, env) => {
        const table = tableNamed(env, typeof a[0] === 'string' ? a[0] : undefined, `sample fetch keyword '${name}'`)
        return { one: () => of(table) }
      }
    })
  }
  return rows
}

/** `in_table(<table>)` and `table_<data>(<table>)`: the input sample is a key looked up in the table. */
export function stickConverterRows (): ConverterRow[] {
  const TABLE: readonly ArgKind[] = ['str']
  const lookup = (name: string, op: (e: StickEntry | undefined, t: StickTable) => Sample | null): ConverterRow => ({
    name, args: TABLE, minArgs: 1, out: name === 'in_table' ? 'bool' : 'int',
    compile: (a, env): ConvertFn => {
      const table = tableNamed(env, String(a[0]), `conversion keyword '${name}'`)
      return (v) => {
        const k = tableKey(table.spec, v)
        return op(k === null ? undefined : table.lookup(k), table)
      }
    }
  })
  const rows: ConverterRow[] = [lookup('in_table', (e) => e !== undefined)]
  for (const [suffix, op] of ENTRY_FETCHES) {
    if (suffix.startsWith('inc_') || suffix.startsWith('clr_')) continue
    const name = suffix.startsWith('get_') ? `table_${suffix.slice(4)}` : `table_${suffix}`
    rows.push(lookup(name, (e, t) => e === undefined ? 0 : op(e, t)))
  }
  rows.push(lookup('table_server_id', (e, t) => e === undefined ? 0 : e.get('server_id', t.now())))
  rows.push(lookup('table_expire', (e, t) => e === undefined ? null : e.expiresAt === Infinity ? null : Math.max(0, e.expiresAt - t.now())))
  rows.push(lookup('table_idle', (e, t) => e === undefined || t.spec.expire === null || e.expiresAt === Infinity ? null : Math.max(0, t.spec.expire - (e.expiresAt - t.now()))))
  return rows
}
