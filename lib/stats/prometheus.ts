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

type Family = [type: ObjType, suffix: string, field: string, kind: 'gauge' | 'counter', help: string]

// Rows in the exporter's order; `status`, `check_status`, `hrsp` and `agg_*` are label families.
const FAMILIES: readonly Family[] = [
  ['F', 'current_sessions', 'scur', 'gauge', 'Number of current sessions on the frontend, backend or server'],
  ['F', 'max_sessions', 'smax', 'gauge', 'Highest value of current sessions encountered since process started'],
  ['F', 'limit_sessions', 'slim', 'gauge', 'Frontend/listener/server\'s maxconn, backend\'s fullconn'],
  ['F', 'sessions_total', 'stot', 'counter', 'Total number of sessions since process started'],
  ['F', 'bytes_in_total', 'bin', 'counter', 'Total number of request bytes since process started'],
  ['F', 'bytes_out_total', 'bout', 'counter', 'Total number of response bytes since process started'],
  ['F', 'requests_denied_total', 'dreq', 'counter', 'Total number of denied requests since process started'],
  ['F', 'responses_denied_total', 'dresp', 'counter', 'Total number of denied responses since process started'],
  ['F', 'request_errors_total', 'ereq', 'counter', 'Total number of invalid requests since process started'],
  ['F', 'status', 'status', 'gauge', 'Current status of the service, per state label value.'],
  ['F', 'limit_session_rate', 'rate_lim', 'gauge', 'Limit on the number of sessions accepted in a second (frontend only, \'rate-limit sessions\' setting)'],
  ['F', 'max_session_rate', 'rate_max', 'gauge', 'Highest value of sessions per second observed since the worker process started'],
  ['F', 'http_responses_total', 'hrsp', 'counter', 'Total number of HTTP responses with status 100-199 returned by this object since the worker process started'],
  ['F', 'http_requests_rate_max', 'req_rate_max', 'gauge', 'Highest value of http requests observed since the worker process started'],
  ['F', 'http_requests_total', 'req_tot', 'counter', 'Total number of HTTP requests processed by this object since the worker process started'],
  ['F', 'http_comp_bytes_in_total', 'comp_in', 'counter', 'Total number of bytes submitted to the HTTP compressor for this object since the worker process started'],
  ['F', 'http_comp_bytes_out_total', 'comp_out', 'counter', 'Total number of bytes emitted by the HTTP compressor for this object since the worker process started'],
  ['F', 'http_comp_bytes_bypassed_total', 'comp_byp', 'counter', 'Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)'],
  ['F', 'http_comp_responses_total', 'comp_rsp', 'counter', 'Total number of HTTP responses that were compressed for this object since the worker process started'],
  ['F', 'connections_rate_max', 'conn_rate_max', 'gauge', 'Highest value of connections per second observed since the worker process started'],
  ['F', 'connections_total', 'conn_tot', 'counter', 'Total number of new connections accepted on this frontend since the worker process started'],
  ['F', 'intercepted_requests_total', 'intercepted', 'counter', 'Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started'],
  ['F', 'denied_connections_total', 'dcon', 'counter', 'Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started'],
  ['F', 'denied_sessions_total', 'dses', 'counter', 'Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started'],
  ['F', 'failed_header_rewriting_total', 'wrew', 'counter', 'Total number of failed HTTP header rewrites since the worker process started'],
  ['F', 'http_cache_lookups_total', 'cache_lookups', 'counter', 'Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started'],
  ['F', 'http_cache_hits_total', 'cache_hits', 'counter', 'Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started'],
  ['F', 'internal_errors_total', 'eint', 'counter', 'Total number of internal errors since process started'],
  ['B', 'current_queue', 'qcur', 'gauge', 'Number of current queued connections'],
  ['B', 'max_queue', 'qmax', 'gauge', 'Highest value of queued connections encountered since process started'],
  ['B', 'current_sessions', 'scur', 'gauge', 'Number of current sessions on the frontend, backend or server'],
  ['B', 'max_sessions', 'smax', 'gauge', 'Highest value of current sessions encountered since process started'],
  ['B', 'limit_sessions', 'slim', 'gauge', 'Frontend/listener/server\'s maxconn, backend\'s fullconn'],
  ['B', 'sessions_total', 'stot', 'counter', 'Total number of sessions since process started'],
  ['B', 'bytes_in_total', 'bin', 'counter', 'Total number of request bytes since process started'],
  ['B', 'bytes_out_total', 'bout', 'counter', 'Total number of response bytes since process started'],
  ['B', 'requests_denied_total', 'dreq', 'counter', 'Total number of denied requests since process started'],
  ['B', 'responses_denied_total', 'dresp', 'counter', 'Total number of denied responses since process started'],
  ['B', 'connection_errors_total', 'econ', 'counter', 'Total number of failed connections to server since the worker process started'],
  ['B', 'response_errors_total', 'eresp', 'counter', 'Total number of invalid responses since the worker process started'],
  ['B', 'retry_warnings_total', 'wretr', 'counter', 'Total number of server connection retries since the worker process started'],
  ['B', 'redispatch_warnings_total', 'wredis', 'counter', 'Total number of server redispatches due to connection failures since the worker process started'],
  ['B', 'status', 'status', 'gauge', 'Current status of the service, per state label value.'],
  ['B', 'weight', 'weight', 'gauge', 'Server\'s effective weight, or sum of active servers\' effective weights for a backend'],
  ['B', 'active_servers', 'act', 'gauge', 'Total number of active UP servers with a non-zero weight'],
  ['B', 'backup_servers', 'bck', 'gauge', 'Total number of backup UP servers with a non-zero weight'],
  ['B', 'check_up_down_total', 'chkdown', 'counter', 'Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started'],
  ['B', 'check_last_change_seconds', 'lastchg', 'gauge', 'How long ago the last server state changed, in seconds'],
  ['B', 'downtime_seconds_total', 'downtime', 'counter', 'Total time spent in DOWN state, for server or backend'],
  ['B', 'loadbalanced_total', 'lbtot', 'counter', 'Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)'],
  ['B', 'max_session_rate', 'rate_max', 'gauge', 'Highest value of sessions per second observed since the worker process started'],
  ['B', 'http_responses_total', 'hrsp', 'counter', 'Total number of HTTP responses with status 100-199 returned by this object since the worker process started'],
  ['B', 'http_requests_total', 'req_tot', 'counter', 'Total number of HTTP requests processed by this object since the worker process started'],
  ['B', 'client_aborts_total', 'cli_abrt', 'counter', 'Total number of requests or connections aborted by the client since the worker process started'],
  ['B', 'server_aborts_total', 'srv_abrt', 'counter', 'Total number of requests or connections aborted by the server since the worker process started'],
  ['B', 'http_comp_bytes_in_total', 'comp_in', 'counter', 'Total number of bytes submitted to the HTTP compressor for this object since the worker process started'],
  ['B', 'http_comp_bytes_out_total', 'comp_out', 'counter', 'Total number of bytes emitted by the HTTP compressor for this object since the worker process started'],
  ['B', 'http_comp_bytes_bypassed_total', 'comp_byp', 'counter', 'Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)'],
  ['B', 'http_comp_responses_total', 'comp_rsp', 'counter', 'Total number of HTTP responses that were compressed for this object since the worker process started'],
  ['B', 'last_session_seconds', 'lastsess', 'gauge', 'How long ago some traffic was seen on this object on this worker process, in seconds'],
  ['B', 'queue_time_average_seconds', 'qtime', 'gauge', 'Avg. queue time for last 1024 successful connections.'],
  ['B', 'connect_time_average_seconds', 'ctime', 'gauge', 'Avg. connect time for last 1024 successful connections.'],
  ['B', 'response_time_average_seconds', 'rtime', 'gauge', 'Avg. response time for last 1024 successful connections.'],
  ['B', 'total_time_average_seconds', 'ttime', 'gauge', 'Avg. total time for last 1024 successful connections.'],
  ['B', 'failed_header_rewriting_total', 'wrew', 'counter', 'Total number of failed HTTP header rewrites since the worker process started'],
  ['B', 'connection_attempts_total', 'connect', 'counter', 'Total number of outgoing connection attempts on this backend/server since the worker process started'],
  ['B', 'connection_reuses_total', 'reuse', 'counter', 'Total number of reused connection on this backend/server since the worker process started'],
  ['B', 'http_cache_lookups_total', 'cache_lookups', 'counter', 'Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started'],
  ['B', 'http_cache_hits_total', 'cache_hits', 'counter', 'Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started'],
  ['B', 'max_queue_time_seconds', 'qtime_max', 'gauge', 'Maximum observed time spent in the queue'],
  ['B', 'max_connect_time_seconds', 'ctime_max', 'gauge', 'Maximum observed time spent waiting for a connection to complete'],
  ['B', 'max_response_time_seconds', 'rtime_max', 'gauge', 'Maximum observed time spent waiting for a server response'],
  ['B', 'max_total_time_seconds', 'ttime_max', 'gauge', 'Maximum observed total request+response time (request+queue+connect+response+processing)'],
  ['B', 'internal_errors_total', 'eint', 'counter', 'Total number of internal errors since process started'],
  ['B', 'uweight', 'uweight', 'gauge', 'Server\'s user weight, or sum of active servers\' user weights for a backend'],
  ['B', 'agg_server_status', 'agg_server_status', 'gauge', 'Backend\'s aggregated gauge of servers\' status'],
  ['B', 'agg_server_check_status', 'agg_server_check_status', 'gauge', 'Backend\'s aggregated gauge of servers\' state check status'],
  ['B', 'agg_check_status', 'agg_check_status', 'gauge', 'Backend\'s aggregated gauge of servers\' state check status'],
  ['S', 'current_queue', 'qcur', 'gauge', 'Number of current queued connections'],
  ['S', 'max_queue', 'qmax', 'gauge', 'Highest value of queued connections encountered since process started'],
  ['S', 'current_sessions', 'scur', 'gauge', 'Number of current sessions on the frontend, backend or server'],
  ['S', 'max_sessions', 'smax', 'gauge', 'Highest value of current sessions encountered since process started'],
  ['S', 'limit_sessions', 'slim', 'gauge', 'Frontend/listener/server\'s maxconn, backend\'s fullconn'],
  ['S', 'sessions_total', 'stot', 'counter', 'Total number of sessions since process started'],
  ['S', 'bytes_in_total', 'bin', 'counter', 'Total number of request bytes since process started'],
  ['S', 'bytes_out_total', 'bout', 'counter', 'Total number of response bytes since process started'],
  ['S', 'responses_denied_total', 'dresp', 'counter', 'Total number of denied responses since process started'],
  ['S', 'connection_errors_total', 'econ', 'counter', 'Total number of failed connections to server since the worker process started'],
  ['S', 'response_errors_total', 'eresp', 'counter', 'Total number of invalid responses since the worker process started'],
  ['S', 'retry_warnings_total', 'wretr', 'counter', 'Total number of server connection retries since the worker process started'],
  ['S', 'redispatch_warnings_total', 'wredis', 'counter', 'Total number of server redispatches due to connection failures since the worker process started'],
  ['S', 'status', 'status', 'gauge', 'Current status of the service, per state label value.'],
  ['S', 'weight', 'weight', 'gauge', 'Server\'s effective weight, or sum of active servers\' effective weights for a backend'],
  ['S', 'check_failures_total', 'chkfail', 'counter', 'Total number of failed individual health checks per server/backend, since the worker process started'],
  ['S', 'check_up_down_total', 'chkdown', 'counter', 'Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started'],
  ['S', 'check_last_change_seconds', 'lastchg', 'gauge', 'How long ago the last server state changed, in seconds'],
  ['S', 'downtime_seconds_total', 'downtime', 'counter', 'Total time spent in DOWN state, for server or backend'],
  ['S', 'queue_limit', 'qlimit', 'gauge', 'Limit on the number of connections in queue, for servers only (maxqueue argument)'],
  ['S', 'current_throttle', 'throttle', 'gauge', 'Throttling ratio applied to a server\'s maxconn and weight during the slowstart period (0 to 100%)'],
  ['S', 'loadbalanced_total', 'lbtot', 'counter', 'Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)'],
  ['S', 'max_session_rate', 'rate_max', 'gauge', 'Highest value of sessions per second observed since the worker process started'],
  ['S', 'check_status', 'check_status', 'gauge', 'Status of last health check, per state label value.'],
  ['S', 'check_code', 'check_code', 'gauge', 'layer5-7 code, if available of the last health check.'],
  ['S', 'check_duration_seconds', 'check_duration', 'gauge', 'Total duration of the latest server health check, in seconds.'],
  ['S', 'http_responses_total', 'hrsp', 'counter', 'Total number of HTTP responses with status 100-199 returned by this object since the worker process started'],
  ['S', 'client_aborts_total', 'cli_abrt', 'counter', 'Total number of requests or connections aborted by the client since the worker process started'],
  ['S', 'server_aborts_total', 'srv_abrt', 'counter', 'Total number of requests or connections aborted by the server since the worker process started'],
  ['S', 'last_session_seconds', 'lastsess', 'gauge', 'How long ago some traffic was seen on this object on this worker process, in seconds'],
  ['S', 'queue_time_average_seconds', 'qtime', 'gauge', 'Avg. queue time for last 1024 successful connections.'],
  ['S', 'connect_time_average_seconds', 'ctime', 'gauge', 'Avg. connect time for last 1024 successful connections.'],
  ['S', 'response_time_average_seconds', 'rtime', 'gauge', 'Avg. response time for last 1024 successful connections.'],
  ['S', 'total_time_average_seconds', 'ttime', 'gauge', 'Avg. total time for last 1024 successful connections.'],
  ['S', 'failed_header_rewriting_total', 'wrew', 'counter', 'Total number of failed HTTP header rewrites since the worker process started'],
  ['S', 'connection_attempts_total', 'connect', 'counter', 'Total number of outgoing connection attempts on this backend/server since the worker process started'],
  ['S', 'connection_reuses_total', 'reuse', 'counter', 'Total number of reused connection on this backend/server since the worker process started'],
  ['S', 'idle_connections_current', 'srv_icur', 'gauge', 'Current number of idle connections available for reuse on this server'],
  ['S', 'idle_connections_limit', 'src_ilim', 'gauge', 'Limit on the number of available idle connections on this server (server \'pool_max_conn\' directive)'],
  ['S', 'max_queue_time_seconds', 'qtime_max', 'gauge', 'Maximum observed time spent in the queue'],
  ['S', 'max_connect_time_seconds', 'ctime_max', 'gauge', 'Maximum observed time spent waiting for a connection to complete'],
  ['S', 'max_response_time_seconds', 'rtime_max', 'gauge', 'Maximum observed time spent waiting for a server response'],
  ['S', 'max_total_time_seconds', 'ttime_max', 'gauge', 'Maximum observed total request+response time (request+queue+connect+response+processing)'],
  ['S', 'internal_errors_total', 'eint', 'counter', 'Total number of internal errors since process started'],
  ['S', 'unsafe_idle_connections_current', 'idle_conn_cur', 'gauge', 'Current number of unsafe idle connections'],
  ['S', 'safe_idle_connections_current', 'safe_conn_cur', 'gauge', 'Current number of safe idle connections'],
  ['S', 'used_connections_current', 'used_conn_cur', 'gauge', 'Current number of connections in use'],
  ['S', 'need_connections_current', 'need_conn_est', 'gauge', 'Estimated needed number of connections'],
  ['S', 'uweight', 'uweight', 'gauge', 'Server\'s user weight, or sum of active servers\' user weights for a backend'],
]

const PREFIX: Record<ObjType, string> = { F: 'haproxy_frontend_', B: 'haproxy_backend_', S: 'haproxy_server_' }
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
    if (body !== '') out += `# HELP ${name} ${help}\n# TYPE ${name} ${kind}\n` + body
  }
  return out
}
