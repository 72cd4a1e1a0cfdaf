// The state words of the stats page: a server's `status` text and row style, the check status
// descriptions, and a backend's aggregate (act/bck/weight/UP-DOWN) — as HAProxy 2.6's stats
// page and CSV show them (management.txt §9.1).

import type { Proxy } from '../config/model.js'
import { CHECK_STATUS } from '../runtime/backend.js'
import type { BackendView, ServerView } from '../runtime/state.js'

/** HAProxy's check_statuses[].desc for a check status (CSV `check_desc`); lib/runtime owns the table. */
export function checkDescription (status: string): string {
  return CHECK_STATUS[status]?.desc ?? status
}

/** Server states HAProxy distinguishes on the page (SRV_STATS_STATE_*), each with its row style suffix. */
export type ServerState = 'down' | 'going_up' | 'up' | 'going_down' | 'nolb' | 'nolb_going_down' |
  'drain' | 'drain_going_down' | 'no_check' | 'maint'

export function serverState (sv: ServerView): ServerState {
  if (sv.admin === 'maint') return 'maint'
  const top = sv.rise + sv.fall - 1
  if (sv.op === 'up' && sv.nolb) {
    return !sv.checkEnabled || sv.health === top ? 'nolb' : 'nolb_going_down'
  }
  if (sv.op === 'up') {
    const goingDown = sv.checkEnabled && sv.health < top
    if (sv.admin === 'drain') return goingDown ? 'drain_going_down' : 'drain'
    if (goingDown) return 'going_down'
    return sv.checkEnabled ? 'up' : 'no_check'
  }
  return sv.checkEnabled && sv.health > 0 && sv.agent?.up !== false ? 'going_up' : 'down'
}

/** The CSV `status` text: UP, DOWN, `UP 1/3`, `DOWN 1/2`, NOLB, DRAIN, MAINT, `MAINT (resolution)`, `no check`. */
export function serverStatus (sv: ServerView, state: ServerState = serverState(sv)): string {
  switch (state) {
    case 'maint': return sv.unresolved === true ? 'MAINT (resolution)' : 'MAINT'
    case 'up': return 'UP'
    case 'no_check': return 'no check'
    case 'nolb': return 'NOLB'
    // an agent check's part in the state is named (recorded from 2.6)
    case 'drain': return sv.agent?.enabled === true ? 'DRAIN (agent)' : 'DRAIN'
    case 'down': return sv.agent?.enabled === true && !sv.agent.up ? 'DOWN (agent)' : 'DOWN'
    // going down: health above rise counted over fall; going up: health over rise
    case 'going_down': return `UP ${sv.health - sv.rise + 1}/${sv.fall}`
    case 'nolb_going_down': return `NOLB ${sv.health - sv.rise + 1}/${sv.fall}`
    case 'drain_going_down': return `DRAIN ${sv.health - sv.rise + 1}/${sv.fall}`
    case 'going_up': return `DOWN ${sv.health}/${sv.rise}`
  }
}

/** The HTML row class, HAProxy's CSS scheme (`active_up`, `backup_going_down`, `maintain` …). */
export function serverRowClass (sv: ServerView, state: ServerState): string {
  if (state === 'maint') return 'maintain'
  const side = sv.backup ? 'backup_' : 'active_'
  switch (state) {
    case 'drain': return side + 'draining'
    case 'nolb_going_down':
    case 'drain_going_down': return side + 'going_down'
    default: return side + state
  }
}

/** Checks are running and not paused by maintenance: the check_* columns are shown. */
export function checkShown (sv: ServerView): boolean {
  return sv.checkEnabled && sv.admin !== 'maint'
}

function usable (sv: ServerView): boolean {
  return sv.op === 'up' && sv.admin === 'ready' && !sv.nolb && sv.weight > 0
}

/** A backend's load-balancing aggregate, computed once per render. */
export interface BackendLb {
  act: number
  bck: number
  weight: number
  uweight: number
  status: 'UP' | 'DOWN'
}

/** recount_servers(): active usable servers carry the weight; else the first usable backup (or all with allbackups). */
export function backendLb (proxy: Proxy, be: BackendView): BackendLb {
  let act = 0
  let bck = 0
  let wact = 0
  let uact = 0
  let wbck = 0
  let ubck = 0
  let firstBackup: ServerView | null = null
  for (const sv of be.servers) {
    if (!usable(sv)) continue
    if (sv.backup) {
      bck++
      wbck += sv.weight
      ubck += sv.uweight
      if (firstBackup === null) firstBackup = sv
    } else {
      act++
      wact += sv.weight
      uact += sv.uweight
    }
  }
  let weight = wact
  let uweight = uact
  if (act === 0) {
    const first = proxy.allBackups ? null : firstBackup
    weight = first === null ? wbck : first.weight
    uweight = first === null ? ubck : first.uweight
  }
  return { act, bck, weight, uweight, status: weight > 0 || be.servers.length === 0 ? 'UP' : 'DOWN' }
}
