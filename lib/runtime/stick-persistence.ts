// Server persistence through stick tables (configuration.txt §4.2 `stick on|match|store-request|
// store-response`), as observed on HAProxy 2.6.12: a matched entry names its server by name
// (server_key) or, without one, by id (server_id), in the backend running the rule, so another
// backend's table works by server names; a matched server in maintenance or DOWN is left for the
// balancer unless `option persist`, a draining one still takes the request; a cookie that named
// a server wins over the table. The server is stored once its answer comes (a request that got
// no answer stores nothing), overwriting the entry, and never for a `non-stick` server. Lookups
// and stores both restart the entry's expiry.

import type { CompiledStick, StickRuleFn } from '../acl/compile.js'
import type { HttpResponseView, HttpTxn } from '../acl/txn.js'
import type { Backend, ServerRuntime } from './backend.js'
import { tableKey, type StickTable } from './stick-table.js'

/** A key a `stick store-request` rule read, waiting for the server's answer. */
export interface PendingStore {
  table: StickTable
  key: string
}

/** HAProxy keeps at most 8 keys to store per request (store-request and store-response together). */
const MAX_STORES = 8

/** The stick rules of one backend, with that backend's servers to resolve entries to. */
export class StickPersistence {
  /** The backend's servers by name, rebuilt when the list changed (`add server`, `del server`). */
  private byName = new Map<string, ServerRuntime>()

  constructor (
    private readonly rules: CompiledStick,
    private readonly backend: Backend,
    /** `option persist`: a DOWN or maintenance server still gets the requests its entry sends. */
    private readonly persist: boolean
  ) {}

  /** The backend has `stick store-response` rules: the answer's head is read for them. */
  get storesResponse (): boolean { return this.rules.response.length > 0 }

  /**
   * The request's rules, in order, each key read once: the keys of `stick on` / `store-request`
   * go to `keys` (stored once the server answers); the result is the server the first entry a
   * `stick on` / `match` found names, when it may take the request (null: the balancer chooses).
   * `matching` false: a cookie chose the server already, the keys are only read for storing.
   */
  request (txn: HttpTxn, keys: PendingStore[], matching: boolean): ServerRuntime | null {
    const rules = this.rules.request
    let found = !matching
    let server: ServerRuntime | null = null
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!
      if (found && !r.store) continue
      const key = this.keyOf(r, txn, null)
      if (key === null) continue
      if (r.store && keys.length < MAX_STORES) keys.push({ table: r.table, key })
      if (found || !r.match) continue
      const now = r.table.now()
      const entry = r.table.lookup(key, now)
      if (entry === undefined) continue
      found = true
      r.table.touch(entry, now)
      const srv = this.serverOf(entry.serverKey, entry.counters.get('server_id') ?? 0)
      if (srv !== null && (this.persist || (srv.op !== 'down' && srv.admin !== 'maint'))) server = srv
    }
    return server
  }

  /**
   * The server answered: the request's keys, then those `stick store-response` rules read on the
   * answer (`res`, given when storesResponse), now name it.
   */
  store (txn: HttpTxn, server: ServerRuntime, keys: PendingStore[], res: HttpResponseView | null): void {
    if (server.nonStick) return
    for (const p of keys) this.write(p.table, p.key, server)
    if (res === null) return
    const rules = this.rules.response
    for (let i = 0, count = keys.length; i < rules.length && count < MAX_STORES; i++) {
      const r = rules[i]!
      const key = this.keyOf(r, txn, res)
      if (key === null) continue
      this.write(r.table, key, server)
      count++
    }
  }

  private write (table: StickTable, key: string, server: ServerRuntime): void {
    const now = table.now()
    const entry = table.obtain(key, now)
    if (entry === undefined) return
    entry.set('server_id', server.id)
    entry.serverKey = server.name
    table.touch(entry, now)
  }

  /** The rule's key when its condition holds and its pattern has a value the table can key. */
  private keyOf (r: StickRuleFn, txn: HttpTxn, res: HttpResponseView | null): string | null {
    if (r.cond !== null && !r.cond(txn, res)) return null
    const v = r.key(txn, res)
    return v === null ? null : tableKey(r.table.spec, v)
  }

  /** The server an entry names: by name when it has one, else by id (`set table … data.server_id`). */
  private serverOf (name: string | null, id: number): ServerRuntime | null {
    const servers = this.backend.servers
    if (name === null) return servers.find(s => s.id === id) ?? null
    let srv = this.byName.get(name)
    if (srv === undefined || servers[srv.index] !== srv) {
      this.byName = new Map(servers.map(s => [s.name, s]))
      srv = this.byName.get(name)
    }
    return srv ?? null
  }
}
