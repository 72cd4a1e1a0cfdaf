// Walks a StatsModel in HAProxy's dump order — per proxy: FRONTEND, listeners (`option
// socket-stats`), servers, BACKEND — with the
// filters of the stats page (`stats scope`, `?scope=`, `;up`, `;no-maint`), filling one reused
// RowContext per row. Every renderer is a visitor of this walk.

import { fullconnOf, routedMaxconns } from '../runtime/backend.js'
import type { ServerView } from '../runtime/state.js'
import { type ObjType, type RowContext } from './fields.js'
import type { StatsEntry, StatsModel } from './model.js'
import { type BackendLb, backendLb, serverState } from './status.js'

export interface RowFilter {
  /** `stats scope` names; `.` is the proxy serving the page. Empty = every proxy. */
  scopes?: readonly string[]
  /** Name of the proxy serving the page, for the `.` scope. */
  self?: string
  /** `?scope=<text>`: proxies whose name contains it, ignoring case (HAProxy's strnistr). */
  search?: string
  /** `;up`: hide servers in maintenance or DOWN. */
  up?: boolean
  /** `;no-maint`: hide servers in maintenance. */
  noMaint?: boolean
  /** `stats show-legends`: fill the addr / algo columns. */
  legends?: boolean
  /** `show stat <proxy> <type> <sid>` (CLI): a proxy by name or id, a mask of types (1 frontend, 2 backend, 4 server, 8 listener), a server or listener id; -1 = any. */
  only?: { proxy: string | number, types: number, sid: number }
}

export interface RowVisitor {
  /** A proxy starts; its rows follow. `c.lb` is set when it has a backend. */
  proxy? (entry: StatsEntry, c: RowContext): void
  row (type: ObjType, c: RowContext): void
  endProxy? (entry: StatsEntry, c: RowContext): void
}

const NO_LB: BackendLb = Object.freeze({ act: 0, bck: 0, weight: 0, uweight: 0, status: 'UP' as const })

function proxyInScope (name: string, filter: RowFilter): boolean {
  const scopes = filter.scopes
  if (scopes !== undefined && scopes.length > 0) {
    let found = false
    for (const s of scopes) {
      if (s === name || (s === '.' && name === filter.self)) { found = true; break }
    }
    if (!found) return false
  }
  const search = filter.search
  return search === undefined || search === '' || name.toLowerCase().includes(search.toLowerCase())
}

function serverShown (sv: ServerView, filter: RowFilter): boolean {
  const only = filter.only
  if (only !== undefined && ((only.types & 4) === 0 || (only.sid !== -1 && only.sid !== sv.id))) return false
  if (sv.admin === 'maint') return !(filter.up === true || filter.noMaint === true)
  return !(filter.up === true && sv.op === 'down')
}

export function walkRows (model: StatsModel, filter: RowFilter, now: number, visitor: RowVisitor): void {
  const conns = routedMaxconns(model.proxies.flatMap(e => e.frontend === null ? [] : [{ proxy: e.proxy, maxconn: e.frontend.maxconn }]))
  const c: RowContext = {
    now,
    proxy: model.proxies[0]?.proxy as RowContext['proxy'],
    http: false,
    state: 'up',
    lb: NO_LB,
    fullconn: 1,
    legends: filter.legends === true,
    fe: null,
    be: null,
    sv: null,
    li: null
  }
  const only = filter.only
  for (const entry of model.proxies) {
    if (!proxyInScope(entry.proxy.name, filter)) continue
    if (only !== undefined && only.proxy !== -1 && only.proxy !== entry.proxy.name && only.proxy !== entry.proxy.id) continue
    c.proxy = entry.proxy
    c.http = entry.proxy.mode === 'http'
    c.fe = null
    c.be = null
    c.sv = null
    c.lb = entry.backend === null ? NO_LB : backendLb(entry.proxy, entry.backend)
    c.fullconn = fullconnOf(entry.proxy, conns)
    visitor.proxy?.(entry, c)
    if (entry.frontend !== null && (only === undefined || (only.types & 1) !== 0)) {
      c.fe = entry.frontend
      visitor.row('F', c)
      c.fe = null
    }
    const listeners = entry.frontend?.listeners
    if (listeners !== undefined && listeners.length > 0 && (only === undefined || (only.types & 8) !== 0)) {
      // the listener rows read the frontend too (its `shutdown frontend` state)
      c.fe = entry.frontend
      for (const li of listeners) {
        // `show stat <proxy> 8 <sid>` picks one listener by its sid, as it picks servers (observed)
        if (only !== undefined && only.sid !== -1 && only.sid !== li.sid) continue
        c.li = li
        visitor.row('L', c)
      }
      c.li = null
      c.fe = null
    }
    const be = entry.backend
    if (be !== null) {
      c.be = be
      for (const sv of be.servers) {
        if (!serverShown(sv, filter)) continue
        c.sv = sv
        c.state = serverState(sv)
        visitor.row('S', c)
      }
      c.sv = null
      if (only === undefined || (only.types & 2) !== 0) visitor.row('B', c)
    }
    visitor.endProxy?.(entry, c)
  }
}
