// `show info` (management.txt §9.3): the process-wide fields of HAProxy 2.6, with the positions,
// tags and types `show info typed` prints (recorded from haproxy 2.6.12; positions 45, 46 and 51
// are not printed by it either). Values are this process's where Node has an equivalent, and
// HAProxy's neutral value (0) where the concept does not exist here (SSL, pipes, peers).

import { hostname } from 'node:os'
import { NATURES, ORIGINS, SCOPES } from '../stats/json.js'
import { uptime } from '../stats/html.js'
import { PACKAGE_VERSION } from '../stats/routes.js'

/** `Version:` — HAProxy's branch first, as clients parse it, then what really answers. */
export const INFO_VERSION = `2.6.12-fastify-haproxy-${PACKAGE_VERSION}`

export interface InfoSource {
  pid: number
  /** ms since epoch */
  startedAt: number
  now: number
  version: string
  node: string | undefined
  description: string | undefined
  maxconn: number
  ulimit: number
  currConns: number
  cumConns: number
  cumReq: number
  connRate: number
  maxConnRate: number
  /** `maxconnrate`, `maxsessrate`, `maxsslrate` or `set rate-limit` (0: none). */
  rateLimits: { connections: number, sessions: number, 'ssl-sessions': number }
  listeners: number
  jobs: number
  totalBytesOut: number
  heapBytes: number
  idlePct: number
}

type Value = string | number
interface InfoField { pos: number, name: string, tags: string, type: 'str' | 'u32' | 'u64', value: (s: InfoSource) => Value }

const zero = (): number => 0

const up = (s: InfoSource): number => Math.max(0, Math.floor((s.now - s.startedAt) / 1000))

const FIELDS: InfoField[] = [
  { pos: 0, name: 'Name', tags: 'POS', type: 'str', value: () => 'HAProxy' },
  { pos: 1, name: 'Version', tags: 'POS', type: 'str', value: s => s.version },
  { pos: 2, name: 'Release_date', tags: 'POS', type: 'str', value: () => '2023/03/10' },
  { pos: 3, name: 'Nbthread', tags: 'CGS', type: 'u32', value: () => 1 },
  { pos: 4, name: 'Nbproc', tags: 'CGS', type: 'u32', value: () => 1 },
  { pos: 5, name: 'Process_num', tags: 'KGP', type: 'u32', value: () => 1 },
  { pos: 6, name: 'Pid', tags: 'SGP', type: 'u32', value: s => s.pid },
  { pos: 7, name: 'Uptime', tags: 'MDP', type: 'str', value: s => uptime(s.now - s.startedAt) },
  { pos: 8, name: 'Uptime_sec', tags: 'MDP', type: 'u32', value: up },
  { pos: 9, name: 'Memmax_MB', tags: 'CLP', type: 'u32', value: zero },
  { pos: 10, name: 'PoolAlloc_MB', tags: 'MGP', type: 'u32', value: s => Math.floor(s.heapBytes / 1048576) },
  { pos: 11, name: 'PoolUsed_MB', tags: 'MGP', type: 'u32', value: s => Math.floor(s.heapBytes / 1048576) },
  { pos: 12, name: 'PoolFailed', tags: 'MCP', type: 'u32', value: zero },
  { pos: 13, name: 'Ulimit-n', tags: 'CLP', type: 'u32', value: s => s.ulimit },
  { pos: 14, name: 'Maxsock', tags: 'CLP', type: 'u32', value: s => s.ulimit },
  { pos: 15, name: 'Maxconn', tags: 'CLP', type: 'u32', value: s => s.maxconn },
  { pos: 16, name: 'Hard_maxconn', tags: 'CLP', type: 'u32', value: s => s.maxconn },
  { pos: 17, name: 'CurrConns', tags: 'MGP', type: 'u32', value: s => s.currConns },
  { pos: 18, name: 'CumConns', tags: 'MCP', type: 'u32', value: s => s.cumConns },
  { pos: 19, name: 'CumReq', tags: 'MCP', type: 'u32', value: s => s.cumReq },
  { pos: 20, name: 'MaxSslConns', tags: 'MMP', type: 'u32', value: zero },
  { pos: 21, name: 'CurrSslConns', tags: 'MGP', type: 'u32', value: zero },
  { pos: 22, name: 'CumSslConns', tags: 'MCP', type: 'u32', value: zero },
  { pos: 23, name: 'Maxpipes', tags: 'CLP', type: 'u32', value: zero },
  { pos: 24, name: 'PipesUsed', tags: 'MGP', type: 'u32', value: zero },
  { pos: 25, name: 'PipesFree', tags: 'MGP', type: 'u32', value: zero },
  { pos: 26, name: 'ConnRate', tags: 'MRP', type: 'u32', value: s => s.connRate },
  { pos: 27, name: 'ConnRateLimit', tags: 'CLP', type: 'u32', value: s => s.rateLimits.connections },
  { pos: 28, name: 'MaxConnRate', tags: 'MMP', type: 'u32', value: s => s.maxConnRate },
  { pos: 29, name: 'SessRate', tags: 'MRP', type: 'u32', value: s => s.connRate },
  { pos: 30, name: 'SessRateLimit', tags: 'CLP', type: 'u32', value: s => s.rateLimits.sessions },
  { pos: 31, name: 'MaxSessRate', tags: 'MRP', type: 'u32', value: s => s.maxConnRate },
  { pos: 32, name: 'SslRate', tags: 'MRP', type: 'u32', value: zero },
  { pos: 33, name: 'SslRateLimit', tags: 'CLP', type: 'u32', value: s => s.rateLimits['ssl-sessions'] },
  { pos: 34, name: 'MaxSslRate', tags: 'MMP', type: 'u32', value: zero },
  { pos: 35, name: 'SslFrontendKeyRate', tags: 'MGP', type: 'u32', value: zero },
  { pos: 36, name: 'SslFrontendMaxKeyRate', tags: 'MMP', type: 'u32', value: zero },
  { pos: 37, name: 'SslFrontendSessionReuse_pct', tags: 'MGP', type: 'u32', value: zero },
  { pos: 38, name: 'SslBackendKeyRate', tags: 'MRP', type: 'u32', value: zero },
  { pos: 39, name: 'SslBackendMaxKeyRate', tags: 'MMP', type: 'u32', value: zero },
  { pos: 40, name: 'SslCacheLookups', tags: 'MCP', type: 'u32', value: zero },
  { pos: 41, name: 'SslCacheMisses', tags: 'MCP', type: 'u32', value: zero },
  { pos: 42, name: 'CompressBpsIn', tags: 'MRP', type: 'u32', value: zero },
  { pos: 43, name: 'CompressBpsOut', tags: 'MRP', type: 'u32', value: zero },
  { pos: 44, name: 'CompressBpsRateLim', tags: 'CLP', type: 'u32', value: zero },
  { pos: 47, name: 'Tasks', tags: 'MGP', type: 'u32', value: s => s.jobs },
  { pos: 48, name: 'Run_queue', tags: 'MGP', type: 'u32', value: zero },
  { pos: 49, name: 'Idle_pct', tags: 'MaP', type: 'u32', value: s => s.idlePct },
  { pos: 50, name: 'node', tags: 'COS', type: 'str', value: s => s.node ?? hostname() },
  { pos: 52, name: 'Stopping', tags: 'MGP', type: 'u32', value: zero },
  { pos: 53, name: 'Jobs', tags: 'MGP', type: 'u32', value: s => s.jobs },
  { pos: 54, name: 'Unstoppable Jobs', tags: 'MGP', type: 'u32', value: zero },
  { pos: 55, name: 'Listeners', tags: 'MGP', type: 'u32', value: s => s.listeners },
  { pos: 56, name: 'ActivePeers', tags: 'MGP', type: 'u32', value: zero },
  { pos: 57, name: 'ConnectedPeers', tags: 'MGP', type: 'u32', value: zero },
  { pos: 58, name: 'DroppedLogs', tags: 'MGP', type: 'u32', value: zero },
  { pos: 59, name: 'BusyPolling', tags: 'MGP', type: 'u32', value: zero },
  { pos: 60, name: 'FailedResolutions', tags: 'MGP', type: 'u32', value: zero },
  { pos: 61, name: 'TotalBytesOut', tags: 'MGP', type: 'u64', value: s => s.totalBytesOut },
  { pos: 62, name: 'TotalSplicdedBytesOut', tags: 'MGP', type: 'u64', value: zero },
  { pos: 63, name: 'BytesOutRate', tags: 'MRP', type: 'u64', value: zero },
  { pos: 64, name: 'DebugCommandsIssued', tags: 'MGP', type: 'u32', value: zero },
  { pos: 65, name: 'CumRecvLogs', tags: 'MCP', type: 'u32', value: zero },
  { pos: 66, name: 'Build info', tags: 'POS', type: 'str', value: s => s.version },
  { pos: 67, name: 'Memmax_bytes', tags: 'CLP', type: 'u32', value: zero },
  { pos: 68, name: 'PoolAlloc_bytes', tags: 'MGP', type: 'u64', value: s => s.heapBytes },
  { pos: 69, name: 'PoolUsed_bytes', tags: 'MGP', type: 'u64', value: s => s.heapBytes },
  { pos: 70, name: 'Start_time_sec', tags: 'MDP', type: 'u32', value: s => Math.floor(s.startedAt / 1000) },
  { pos: 71, name: 'Tainted', tags: 'SGP', type: 'str', value: () => '0' }
]

export type InfoFormat = 'plain' | 'typed' | 'json'

/** The body of `show info [typed|json]`, blank line included. */
export function renderInfo (s: InfoSource, format: InfoFormat): string {
  if (format === 'json') {
    const out = FIELDS.map(f => ({
      field: { pos: f.pos, name: f.name },
      processNum: 1,
      tags: { origin: ORIGINS[f.tags[0]!], nature: NATURES[f.tags[1]!], scope: SCOPES[f.tags[2]!] },
      value: { type: f.type, value: f.value(s) }
    }))
    return JSON.stringify(out) + '\n\n'
  }
  let text = ''
  for (const f of FIELDS) {
    text += format === 'typed'
      ? `${f.pos}.${f.name}.1:${f.tags}:${f.type}:${f.value(s)}\n`
      : `${f.name}: ${f.value(s)}\n`
  }
  if (format === 'plain' && s.description !== undefined) text = text.replace(/^(node: .*\n)/m, `$1description: ${s.description}\n`)
  return text + '\n'
}
