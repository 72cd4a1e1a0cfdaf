// Prometheus text exposition (format 0.0.4) with the metric names of HAProxy 2.6's exporter
// (`http-request use-service prometheus-exporter`, addons/promex): haproxy_frontend_*,
// haproxy_backend_*, haproxy_server_* with `proxy` / `server` labels. Each family reads one
// field of the stats table; state families get one sample per `state` label value.

import { type FieldValue, type ObjType, STAT_FIELDS, fieldValue } from './fields.js'
import type { StatsModel } from './model.js'
import { type RowFilter, walkRows } from './rows.js'
import { type ServerState, checkShown } from './status.js'

/** The exporter's Content-Type (text exposition format 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4'

type Metric = [field: string, kind: 'gauge' | 'counter', help?: string]

/** Each metric name suffix: the stats field it reads, its type, and a HELP text where the field's own description does not fit. */
const METRICS: Record<string, Metric> = {
  current_sessions: ['scur', 'gauge'],
  max_sessions: ['smax', 'gauge'],
  limit_sessions: ['slim', 'gauge'],
  sessions_total: ['stot', 'counter'],
  bytes_in_total: ['bin', 'counter'],
  bytes_out_total: ['bout', 'counter'],
  requests_denied_total: ['dreq', 'counter'],
  responses_denied_total: ['dresp', 'counter'],
  request_errors_total: ['ereq', 'counter'],
  status: ['status', 'gauge', 'Current state: 1 on the sample of that state, 0 on the others'],
  limit_session_rate: ['rate_lim', 'gauge'],
  max_session_rate: ['rate_max', 'gauge'],
  http_responses_total: ['hrsp', 'counter', 'HTTP responses since start, by status class'],
  http_requests_rate_max: ['req_rate_max', 'gauge'],
  http_requests_total: ['req_tot', 'counter'],
  http_comp_bytes_in_total: ['comp_in', 'counter'],
  http_comp_bytes_out_total: ['comp_out', 'counter'],
  http_comp_bytes_bypassed_total: ['comp_byp', 'counter'],
  http_comp_responses_total: ['comp_rsp', 'counter'],
  connections_rate_max: ['conn_rate_max', 'gauge'],
  connections_total: ['conn_tot', 'counter'],
  intercepted_requests_total: ['intercepted', 'counter'],
  denied_connections_total: ['dcon', 'counter'],
  denied_sessions_total: ['dses', 'counter'],
  failed_header_rewriting_total: ['wrew', 'counter'],
  http_cache_lookups_total: ['cache_lookups', 'counter'],
  http_cache_hits_total: ['cache_hits', 'counter'],
  internal_errors_total: ['eint', 'counter'],
  current_queue: ['qcur', 'gauge'],
  max_queue: ['qmax', 'gauge'],
  connection_errors_total: ['econ', 'counter'],
  response_errors_total: ['eresp', 'counter'],
  retry_warnings_total: ['wretr', 'counter'],
  redispatch_warnings_total: ['wredis', 'counter'],
  weight: ['weight', 'gauge'],
  active_servers: ['act', 'gauge'],
  backup_servers: ['bck', 'gauge'],
  check_up_down_total: ['chkdown', 'counter'],
  check_last_change_seconds: ['lastchg', 'gauge'],
  downtime_seconds_total: ['downtime', 'counter'],
  loadbalanced_total: ['lbtot', 'counter'],
  client_aborts_total: ['cli_abrt', 'counter'],
  server_aborts_total: ['srv_abrt', 'counter'],
  last_session_seconds: ['lastsess', 'gauge'],
  queue_time_average_seconds: ['qtime', 'gauge'],
  connect_time_average_seconds: ['ctime', 'gauge'],
  response_time_average_seconds: ['rtime', 'gauge'],
  total_time_average_seconds: ['ttime', 'gauge'],
  connection_attempts_total: ['connect', 'counter'],
  connection_reuses_total: ['reuse', 'counter'],
  max_queue_time_seconds: ['qtime_max', 'gauge'],
  max_connect_time_seconds: ['ctime_max', 'gauge'],
  max_response_time_seconds: ['rtime_max', 'gauge'],
  max_total_time_seconds: ['ttime_max', 'gauge'],
  uweight: ['uweight', 'gauge'],
  agg_server_status: ['agg_server_status', 'gauge'],
  agg_server_check_status: ['agg_server_check_status', 'gauge'],
  agg_check_status: ['agg_check_status', 'gauge'],
  check_failures_total: ['chkfail', 'counter'],
  queue_limit: ['qlimit', 'gauge'],
  current_throttle: ['throttle', 'gauge'],
  check_status: ['check_status', 'gauge', 'Latest health check result: 1 on the sample of that result, 0 on the others'],
  check_code: ['check_code', 'gauge', 'Status code answered to the latest health check (0 when there was none)'],
  check_duration_seconds: ['check_duration', 'gauge'],
  idle_connections_current: ['srv_icur', 'gauge'],
  idle_connections_limit: ['src_ilim', 'gauge'],
  unsafe_idle_connections_current: ['idle_conn_cur', 'gauge'],
  safe_idle_connections_current: ['safe_conn_cur', 'gauge'],
  used_connections_current: ['used_conn_cur', 'gauge'],
  need_connections_current: ['need_conn_est', 'gauge']
}

// The families of each object type in the exporter's order; `status`, `check_status`, `hrsp` and `agg_*` are label families.
const ORDER: Record<ObjType, readonly string[]> = {
  F: [
    'current_sessions', 'max_sessions', 'limit_sessions', 'sessions_total', 'bytes_in_total', 'bytes_out_total',
    'requests_denied_total', 'responses_denied_total', 'request_errors_total', 'status', 'limit_session_rate',
    'max_session_rate', 'http_responses_total', 'http_requests_rate_max', 'http_requests_total',
    'http_comp_bytes_in_total', 'http_comp_bytes_out_total', 'http_comp_bytes_bypassed_total',
    'http_comp_responses_total', 'connections_rate_max', 'connections_total', 'intercepted_requests_total',
    'denied_connections_total', 'denied_sessions_total', 'failed_header_rewriting_total', 'http_cache_lookups_total',
    'http_cache_hits_total', 'internal_errors_total'
  ],
  B: [
    'current_queue', 'max_queue', 'current_sessions', 'max_sessions', 'limit_sessions', 'sessions_total',
    'bytes_in_total', 'bytes_out_total', 'requests_denied_total', 'responses_denied_total',
    'connection_errors_total', 'response_errors_total', 'retry_warnings_total', 'redispatch_warnings_total',
    'status', 'weight', 'active_servers', 'backup_servers', 'check_up_down_total', 'check_last_change_seconds',
    'downtime_seconds_total', 'loadbalanced_total', 'max_session_rate', 'http_responses_total',
    'http_requests_total', 'client_aborts_total', 'server_aborts_total', 'http_comp_bytes_in_total',
    'http_comp_bytes_out_total', 'http_comp_bytes_bypassed_total', 'http_comp_responses_total',
    'last_session_seconds', 'queue_time_average_seconds', 'connect_time_average_seconds',
    'response_time_average_seconds', 'total_time_average_seconds', 'failed_header_rewriting_total',
    'connection_attempts_total', 'connection_reuses_total', 'http_cache_lookups_total', 'http_cache_hits_total',
    'max_queue_time_seconds', 'max_connect_time_seconds', 'max_response_time_seconds', 'max_total_time_seconds',
    'internal_errors_total', 'uweight', 'agg_server_status', 'agg_server_check_status', 'agg_check_status'
  ],
  S: [
    'current_queue', 'max_queue', 'current_sessions', 'max_sessions', 'limit_sessions', 'sessions_total',
    'bytes_in_total', 'bytes_out_total', 'responses_denied_total', 'connection_errors_total',
    'response_errors_total', 'retry_warnings_total', 'redispatch_warnings_total', 'status', 'weight',
    'check_failures_total', 'check_up_down_total', 'check_last_change_seconds', 'downtime_seconds_total',
    'queue_limit', 'current_throttle', 'loadbalanced_total', 'max_session_rate', 'check_status', 'check_code',
    'check_duration_seconds', 'http_responses_total', 'client_aborts_total', 'server_aborts_total',
    'last_session_seconds', 'queue_time_average_seconds', 'connect_time_average_seconds',
    'response_time_average_seconds', 'total_time_average_seconds', 'failed_header_rewriting_total',
    'connection_attempts_total', 'connection_reuses_total', 'idle_connections_current', 'idle_connections_limit',
    'max_queue_time_seconds', 'max_connect_time_seconds', 'max_response_time_seconds', 'max_total_time_seconds',
    'internal_errors_total', 'unsafe_idle_connections_current', 'safe_idle_connections_current',
    'used_connections_current', 'need_connections_current', 'uweight'
  ],
  // the 2.6 exporter has no listener families (`option socket-stats` rows stay out)
  L: []
}

type Family = [type: ObjType, suffix: string, ...Metric]
const FAMILIES: readonly Family[] = (['F', 'B', 'S'] as const).flatMap(t => ORDER[t].map((suffix): Family => [t, suffix, ...METRICS[suffix]]))

const PREFIX: Record<ObjType, string> = { F: 'haproxy_frontend_', B: 'haproxy_backend_', S: 'haproxy_server_', L: 'haproxy_listener_' }
const SERVER_STATES = ['DOWN', 'UP', 'MAINT', 'DRAIN', 'NOLB'] as const
const CHECK_STATES = ['HANA', 'SOCKERR', 'L4OK', 'L4TOUT', 'L4CON', 'L6OK', 'L6TOUT', 'L6RSP', 'L7TOUT', 'L7RSP', 'L7OK', 'L7OKC', 'L7STS', 'PROCERR', 'PROCTOUT', 'PROCOK'] as const
const HRSP_CODES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const
/** Fields in milliseconds that the exporter prints in seconds. */
const MS_FIELDS = new Set(['qtime', 'ctime', 'rtime', 'ttime', 'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max', 'check_duration'])
/** Families of the server's health check: only for servers whose checks run (not paused by maintenance). */
const CHECK_FIELDS = new Set(['check_status', 'check_code', 'check_duration'])
const HRSP_POS = STAT_FIELDS.findIndex(f => f.name === 'hrsp_1xx')
/** Field position of each family, resolved once. */
const FAMILY_POS = FAMILIES.map(([, , field]) => STAT_FIELDS.findIndex(f => f.name === field))
/** HELP text of each family without its own: the description of the field it reads. */
const FAMILY_HELP = FAMILY_POS.map(pos => STAT_FIELDS[pos]?.desc ?? '')

interface PromRow {
  type: ObjType
  labels: string
  values: FieldValue[]
  /** status label (server: one of SERVER_STATES; frontend/backend: UP or DOWN) */
  state: string
  /** server: its check status when checks are shown */
  check: string | null
  /** server: lastCheck.code, which the exporter prints as 0 when the check had none */
  code: number
  /** The proxy is in `mode http`: `http_*` families apply. */
  http: boolean
  /** backend: number of servers (the `agg_*` families need some) */
  servers: number
  /** backend: per-state counts of its servers */
  aggState: Map<string, number> | null
  aggCheck: Map<string, number> | null
}

function escapeLabel (v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function promState (state: ServerState): string {
  switch (state) {
    case 'maint': return 'MAINT'
    case 'drain': case 'drain_going_down': return 'DRAIN'
    case 'nolb': case 'nolb_going_down': return 'NOLB'
    case 'down': case 'going_up': return 'DOWN'
    default: return 'UP'
  }
}

function collect (model: StatsModel, filter: RowFilter, now: number): PromRow[] {
  const rows: PromRow[] = []
  let aggState: Map<string, number> = new Map()
  let aggCheck: Map<string, number> = new Map()
  walkRows(model, filter, now, {
    proxy () {
      aggState = new Map()
      aggCheck = new Map()
    },
    row (type, c) {
      if (type === 'L') return
      const values = STAT_FIELDS.map(f => fieldValue(f, type, c))
      const proxy = escapeLabel(c.proxy.name)
      if (type === 'S' && c.sv !== null) {
        const state = promState(c.state)
        const check = checkShown(c.sv) ? c.sv.lastCheck.status : null
        aggState.set(state, (aggState.get(state) ?? 0) + 1)
        if (check !== null) aggCheck.set(check, (aggCheck.get(check) ?? 0) + 1)
        rows.push({ type, labels: `proxy="${proxy}",server="${escapeLabel(c.sv.name)}"`, values, state, check, code: c.sv.lastCheck.code ?? 0, http: c.http, servers: 0, aggState: null, aggCheck: null })
      } else {
        const status = type === 'F' ? (c.proxy.disabled ? 'DOWN' : 'UP') : c.lb.status
        const be = type === 'B' ? c.be : null
        rows.push({ type, labels: `proxy="${proxy}"`, values, state: status, check: null, code: 0, http: c.http, servers: be?.servers.length ?? 0, aggState: be !== null ? aggState : null, aggCheck: be !== null ? aggCheck : null })
      }
    }
  })
  return rows
}

/** What the exporter prints for a field: NaN where the CSV leaves it empty. */
function sampleValue (field: string, v: FieldValue): string {
  if (v === undefined || typeof v === 'string') return 'NaN'
  return MS_FIELDS.has(field) ? (v / 1000).toFixed(6) : String(v)
}

export function renderPrometheus (model: StatsModel, filter: RowFilter = {}, now: number = Date.now()): string {
  const rows = collect(model, filter, now)
  let out = ''
  for (let fi = 0; fi < FAMILIES.length; fi++) {
    const [type, suffix, field, kind, help] = FAMILIES[fi]
    const name = PREFIX[type] + suffix
    let body = ''
    const pos = FAMILY_POS[fi]
    const httpOnly = suffix.startsWith('http_') || field === 'intercepted'
    if (field === 'hrsp') {
      // HAProxy walks this family code by code, then object by object
      for (let i = 0; i < HRSP_CODES.length; i++) {
        for (const r of rows) {
          if (r.type === type && r.http) body += `${name}{${r.labels},code="${HRSP_CODES[i]}"} ${r.values[HRSP_POS + i] as number}\n`
        }
      }
    }
    for (const r of rows) {
      // HTTP families skip TCP proxies, check families servers without running checks, agg_* empty backends
      if (r.type !== type || field === 'hrsp' || (httpOnly && !r.http) || (CHECK_FIELDS.has(field) && r.check === null)) continue
      if (field.startsWith('agg_') && r.servers === 0) continue
      if (field === 'status') {
        const states = type === 'S' ? SERVER_STATES : ['DOWN', 'UP']
        for (const s of states) body += `${name}{${r.labels},state="${s}"} ${r.state === s ? 1 : 0}\n`
      } else if (field === 'check_status') {
        for (const s of CHECK_STATES) body += `${name}{${r.labels},state="${s}"} ${r.check === s ? 1 : 0}\n`
      } else if (field === 'agg_server_status' || field === 'agg_server_check_status') {
        for (const s of SERVER_STATES) body += `${name}{${r.labels},state="${s}"} ${r.aggState?.get(s) ?? 0}\n`
      } else if (field === 'agg_check_status') {
        for (const s of CHECK_STATES) body += `${name}{${r.labels},state="${s}"} ${r.aggCheck?.get(s) ?? 0}\n`
      } else if (field === 'check_code') {
        body += `${name}{${r.labels}} ${r.code}\n`
      } else {
        body += `${name}{${r.labels}} ${sampleValue(field, r.values[pos])}\n`
      }
    }
    if (body !== '') out += `# HELP ${name} ${help ?? FAMILY_HELP[fi]}\n# TYPE ${name} ${kind}\n` + body
  }
  return out
}
