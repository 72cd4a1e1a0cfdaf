// `show servers state` (management.txt §9.3) and the server state file it writes
// (`server-state-file`, `load-server-state-from-file`, configuration.txt §3.1 and §4.2): one
// line per server with HAProxy 2.6's numeric encodings, read off haproxy 2.6.12's own output:
//   srv_op_state      0 stopped, 1 starting (slowstart), 2 running, 3 stopping (NOLB)
//   srv_admin_state   flags: 0x01 forced maint, 0x04 maint from the config, 0x08 forced drain,
//                     0x20 maint because the name did not resolve, 0x40 an address that came
//                     or went at run time through a name (ServerRuntime.hostnameMaint)
//   srv_check_status  INI 1, L4OK 6, L4TOUT 7, L4CON 8, L7OK 15, … (CHECK_STATUS_CODES)
//   srv_check_result  0 unknown, 2 failed, 3 passed, 4 conditionally passed
//   srv_check_state   flags: 0x02 configured, 0x04 enabled, 0x08 paused
//   srv_agent_state   flags: 0x01 running, 0x02 configured, 0x04 enabled, 0x10 agent

import type { Backend, ServerRuntime } from '../runtime/backend.js'

export const STATE_FILE_VERSION = '1'
export const STATE_HEADER = '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port'

const CHECK_STATUS_CODES: Readonly<Record<string, number>> = {
  UNK: 0, INI: 1, HANA: 3, SOCKERR: 4, CHECKED: 5, L4OK: 6, L4TOUT: 7, L4CON: 8, L6OK: 9, L6TOUT: 10, L6RSP: 11,
  L7TOUT: 12, L7RSP: 13, L7OK: 15, L7OKC: 16, L7STS: 17
}

const ADMIN_FMAINT = 0x01
const ADMIN_CMAINT = 0x04
const ADMIN_FDRAIN = 0x08
const ADMIN_RMAINT = 0x20
const ADMIN_HMAINT = 0x40

function opState (s: ServerRuntime): number {
  if (s.op === 'down') return 0
  if (s.nolb) return 3
  return s.startingSince > 0 ? 1 : 2
}

function adminState (s: ServerRuntime): number {
  let flags = s.hostnameMaint ? ADMIN_HMAINT : 0
  if (s.unresolved) return flags | ADMIN_RMAINT
  if (s.admin === 'maint') flags |= ADMIN_FMAINT | (s.disabledByConfig ? ADMIN_CMAINT : 0)
  if (s.admin === 'drain') flags |= ADMIN_FDRAIN
  return flags
}

function checkResult (s: ServerRuntime): number {
  const st = s.lastCheck.status
  if (!s.hasCheck || st === 'INI' || st === '') return 0
  if (st === 'L7OKC') return 4
  return st.endsWith('OK') ? 3 : 2
}

function checkState (s: ServerRuntime): number {
  let flags = 0
  if (s.hasCheck) flags |= 0x02
  if (s.checkEnabled) flags |= 0x04
  // a dynamic server's checks are paused only once `enable health` started them (2.6.12, observed)
  if (s.admin === 'maint' && ((s.hasCheck && (s.checkEnabled || !s.backend.isDynamic(s))) || s.disabledByConfig)) flags |= 0x08
  return flags
}

function agentState (s: ServerRuntime): number {
  const a = s.agent
  if (a === null) return 0
  return 0x12 | (a.enabled ? 0x04 : 0) | (a.running ? 0x01 : 0)
}

/** One server's line; a `-N` port offset is printed as the unsigned 32-bit number 2.6.12 prints. */
export function serverStateLine (be: Backend, s: ServerRuntime, now: number): string {
  return [
    be.id, be.name, s.id, s.name, s.hasAddress ? s.host : '-', opState(s), adminState(s), s.uweight, be.initialWeight(s),
    Math.max(0, Math.floor((now - s.lastChange) / 1000)), CHECK_STATUS_CODES[s.lastCheck.status] ?? 1, checkResult(s),
    s.health, checkState(s), agentState(s), 0, 0, s.fqdn ?? '-', s.port >>> 0, s.srvRecord ?? '-',
    s.useSsl, s.checkPortExplicit ? s.checkPort : 0, s.checkHostExplicit ? s.checkHost : '-',
    s.agent?.hostExplicit === true ? s.agent.host : '-', s.agent?.port ?? 0
  ].join(' ')
}

/** The text of `show servers state` (and of a state file), blank line not included. */
export function renderServersState (backends: readonly Backend[], now: number = Date.now()): string {
  let out = STATE_FILE_VERSION + '\n' + STATE_HEADER + '\n'
  for (const be of backends) for (const s of be.servers) out += serverStateLine(be, s, now) + '\n'
  return out
}

export interface SavedServerState {
  backend: string
  server: string
  addr: string
  op: number
  admin: number
  uweight: number
  iweight: number
  port: number
}

/** Parses a state file (version 1); lines it cannot read are skipped, as HAProxy does. */
export function parseServersState (text: string): SavedServerState[] {
  const lines = text.split('\n')
  if (lines[0]?.trim() !== STATE_FILE_VERSION) return []
  const out: SavedServerState[] = []
  for (const line of lines.slice(1)) {
    if (line.startsWith('#') || line.trim() === '') continue
    const f = line.trim().split(/\s+/)
    if (f.length < 19) continue
    out.push({
      backend: f[1]!, server: f[3]!, addr: f[4]!, op: Number(f[5]), admin: Number(f[6]),
      uweight: Number(f[7]), iweight: Number(f[8]), port: Number(f[18])
    })
  }
  return out
}

/**
 * Applies a saved state to a server of the new configuration (load-server-state-from-file):
 * weight, forced maintenance or drain, and address; a weight changed in the configuration
 * since the file was written wins, as in HAProxy.
 */
export function applyServerState (s: ServerRuntime, saved: SavedServerState, configWeight: number): void {
  if (saved.iweight === configWeight && saved.uweight !== s.uweight) {
    try { s.setWeight(saved.uweight) } catch { /* a static algorithm refuses: keep the configured one */ }
  }
  if (saved.addr !== '-' && (saved.addr !== s.host || (saved.port > 0 && saved.port !== s.port))) {
    s.setAddress(saved.addr, saved.port > 0 ? saved.port : s.port)
  }
  if ((saved.admin & ADMIN_FMAINT) !== 0 && (saved.admin & ADMIN_CMAINT) === 0) s.setAdmin('maint')
  else if ((saved.admin & ADMIN_FDRAIN) !== 0) s.setAdmin('drain')
}
