// The stats page's admin form (`stats admin if <cond>`): the POST body HAProxy's page sends
// (`s=<server>` repeated, `action=<a>`, `b=#<iid>` or `b=<name>`), what each action does to a
// server, and the 303 answer `Location: <uri>;st=<code>` (HAProxy 2.6 http_process_req_stat_post).

import type { ServerAdminState, ServerView } from '../runtime/state.js'
import type { AdminHandler, AdminStatus, StatsModel } from './model.js'

/** What an admin action needs of a runtime server (lib/runtime's ServerRuntime has all of it). */
export interface AdminServer extends ServerView {
  setAdmin (state: ServerAdminState): void
  enableHealth (): void
  disableHealth (): void
}

export interface AdminBackend {
  readonly name: string
  readonly servers: readonly AdminServer[]
}

/** Each action of the page's `<select>`: applies it, or returns false when it cannot apply to that server. */
const ACTIONS: ReadonlyMap<string, (sv: AdminServer) => boolean> = new Map<string, (sv: AdminServer) => boolean>([
  ['ready', sv => { sv.setAdmin('ready'); return true }],
  ['drain', sv => { sv.setAdmin('drain'); return true }],
  ['maint', sv => { sv.setAdmin('maint'); return true }],
  ['dhlth', sv => { if (!sv.hasCheck) return false; sv.disableHealth(); return true }],
  ['ehlth', sv => { if (!sv.hasCheck) return false; sv.enableHealth(); return true }]
])

/**
 * An AdminHandler over runtime backends: DONE when every named server was changed, PART when
 * some were, ERRP when none was (unknown backend, server or action).
 */
export function serverAdminHandler (backends: () => Iterable<AdminBackend>): AdminHandler {
  return (backend, servers, action) => {
    const apply = ACTIONS.get(action)
    if (apply === undefined) return 'ERRP'
    let be: AdminBackend | undefined
    for (const b of backends()) if (b.name === backend) { be = b; break }
    if (be === undefined) return 'ERRP'
    let altered = 0
    for (const name of servers) {
      const sv = be.servers.find(s => s.name === name)
      if (sv !== undefined && apply(sv)) altered++
    }
    return altered === 0 ? 'ERRP' : altered === servers.length ? 'DONE' : 'PART'
  }
}

export interface AdminRequest {
  /** `b`: `#<iid>` or a backend name. */
  backend: string
  servers: string[]
  action: string
}

/** Reads the form body (application/x-www-form-urlencoded) as the page posts it. */
export function parseAdminForm (body: string): AdminRequest {
  const form = new URLSearchParams(body)
  return { backend: form.get('b') ?? '', servers: form.getAll('s'), action: form.get('action') ?? '' }
}

/** Runs one admin POST against the model: the `;st=` code to redirect to. */
export function runAdmin (req: AdminRequest, model: StatsModel, handler: AdminHandler): AdminStatus {
  if (req.servers.length === 0) return 'NONE'
  const key = req.backend
  const entry = model.proxies.find(e => e.backend !== null &&
    (key.startsWith('#') ? String(e.proxy.id) === key.slice(1) : e.proxy.name === key))
  if (entry === undefined) return 'ERRP'
  return handler(entry.proxy.name, req.servers, req.action)
}

/** The 303 target: `<uri>;st=<code>`, keeping `;norefresh` and the scope as HAProxy does. */
export function adminLocation (uri: string, status: AdminStatus, noRefresh: boolean, scope: string | undefined): string {
  return uri + ';st=' + status + (noRefresh ? ';norefresh' : '') + (scope !== undefined && scope !== '' ? '?scope=' + scope : '')
}
