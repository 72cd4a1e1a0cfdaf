// What the stats renderers read: the parsed proxies with their live runtime views, plus the
// contract between the stats page's admin form and whoever owns the servers (the gateway).

import type { Proxy } from '../config/model.js'
import type { BackendView, FrontendView } from '../runtime/state.js'

/** One `frontend`/`backend`/`listen` section: a frontend has no backend view and vice versa. */
export interface StatsEntry {
  proxy: Proxy
  frontend: FrontendView | null
  backend: BackendView | null
}

export interface StatsModel {
  /** OS process id, printed in the page header ("Statistics Report for pid N"). */
  pid: number
  /** ms since epoch: uptime on the page. */
  startedAt: number
  /** In config order (HAProxy's order for every output). */
  proxies: StatsEntry[]
  /** `global` `node` and `description`: defaults for `stats show-node` / `stats show-desc` without argument. */
  node?: string
  description?: string
}

/**
 * Result codes of an admin action, as HAProxy puts them in `;st=<code>` (seen in the stats
 * page's redirects): DONE all servers changed, PART some, NONE nothing asked, ERRP bad
 * parameters (unknown backend, server or action), EXCD too much data, DENY not allowed,
 * UNKN unexpected, IVAL invalid request.
 */
export type AdminStatus = 'DONE' | 'PART' | 'NONE' | 'ERRP' | 'EXCD' | 'DENY' | 'UNKN' | 'IVAL'

/**
 * Applies one admin-form action (`ready`, `drain`, `maint`, `dhlth`, `ehlth`, … the `<select>`
 * of the page) to servers of a backend, named as in the config. See `serverAdminHandler` in
 * lib/stats/admin.ts for a ready-made implementation over runtime servers.
 */
export type AdminHandler = (backend: string, servers: string[], action: string) => AdminStatus
