// The stats fields of HAProxy 2.6, in CSV order (management.txt §9.1, src/stats.c stat_fields[]):
// one row per field with, for each object type that has it, a getter. CSV, HTML, ;json, ;typed
// and Prometheus all read this one table. A getter returning undefined leaves the field out for
// that object (an empty CSV cell), exactly where HAProxy leaves it out; absent getters likewise.
// Tags and types were read from `show stat typed` of haproxy 2.6.12 (§9.2).

import type { Proxy } from '../config/model.js'
import type { BackendView, FrontendView, ServerView, TrafficCounters } from '../runtime/state.js'
import { type BackendLb, type ServerState, checkDescription, checkShown, serverStatus } from './status.js'

export type ObjType = 'F' | 'B' | 'S'
export type FieldType = 'str' | 'u32' | 'u64' | 's32'
export type FieldValue = string | number | undefined

/** The row being rendered; one object reused for every row of a render. */
export interface RowContext {
  /** ms since epoch */
  now: number
  proxy: Proxy
  /** True when the proxy runs in `mode http` (HTTP-only columns). */
  http: boolean
  /** Server rows: serverState() of the server. */
  state: ServerState
  /** Backend and server rows: the backend aggregate. */
  lb: BackendLb
  /** Backend rows: HAProxy's fullconn (the CSV `slim` of a BACKEND). */
  fullconn: number
  /** `stats show-legends`: addr, cookie and algo are shown only then. */
  legends: boolean
  /** The objects of the current row (the frontend on a FRONTEND row, backend and server on a server row …). */
  fe: FrontendView | null
  be: BackendView | null
  sv: ServerView | null
}

type Get<T> = (c: RowContext, o: T) => FieldValue
type Counted = { readonly counters: TrafficCounters }

export interface StatField {
  /** Position in the CSV line, 0-based. */
  pos: number
  name: string
  desc: string
  type: FieldType
  /** `show stat typed` tags: origin, nature, scope letters (management.txt §9.2), per object type. */
  tags: Partial<Record<ObjType, string>>
  F?: Get<FrontendView>
  B?: Get<BackendView>
  S?: Get<ServerView>
}

interface Row {
  name: string
  desc: string
  type: FieldType
  /** Tag letters for every type that has the field, or per type where they differ. */
  tags: string | Partial<Record<ObjType, string>>
  F?: Get<FrontendView>
  B?: Get<BackendView>
  S?: Get<ServerView>
}

const secondsSince = (now: number, t: number): number => Math.max(0, Math.floor((now - t) / 1000))
const lastSess = (c: RowContext, o: Counted): number => o.counters.lastSess === 0 ? -1 : secondsSince(c.now, o.counters.lastSess)
const ms = (v: number): number => Math.round(v)
const zero = (): number => 0
const httpOnly = <T extends Counted>(get: (o: T) => number): Get<T> => (c, o) => c.http ? get(o) : undefined

const pxname: Get<Counted> = (c) => c.proxy.name
const stot: Get<Counted> = (_c, o) => o.counters.stot
const hrsp = (i: number): Get<Counted> => httpOnly((o: Counted) => o.counters.hrsp[i])
const checkField = (get: (sv: ServerView) => FieldValue): Get<ServerView> => (_c, sv) => checkShown(sv) ? get(sv) : undefined
const lbField = (get: (lb: BackendLb) => number): Get<Counted> => (c) => get(c.lb)

const ROWS: Row[] = [
  { name: 'pxname', desc: 'Proxy name', type: 'str', tags: 'KNS', F: pxname, B: pxname, S: pxname },
  { name: 'svname', desc: 'Server name (FRONTEND, BACKEND or the server name)', type: 'str', tags: 'KNS', F: () => 'FRONTEND', B: () => 'BACKEND', S: (_c, sv) => sv.name },
  { name: 'qcur', desc: 'Number of current queued connections', type: 'u32', tags: 'MGP', B: (_c, be) => be.qcur, S: (_c, sv) => sv.qcur },
  { name: 'qmax', desc: 'Highest value of queued connections encountered since process started', type: 'u32', tags: 'MMP', B: (_c, be) => be.qmax, S: (_c, sv) => sv.qmax },
  { name: 'scur', desc: 'Number of current sessions on the frontend, backend or server', type: 'u32', tags: 'MGP', F: (_c, o) => o.counters.scur, B: (_c, o) => o.counters.scur, S: (_c, o) => o.counters.scur },
  { name: 'smax', desc: 'Highest value of current sessions encountered since process started', type: 'u32', tags: 'MMP', F: (_c, o) => o.counters.smax, B: (_c, o) => o.counters.smax, S: (_c, o) => o.counters.smax },
  { name: 'slim', desc: "Frontend/listener/server's maxconn, backend's fullconn", type: 'u32', tags: 'CLP', F: (_c, fe) => fe.maxconn > 0 ? fe.maxconn : undefined, B: (c) => c.fullconn, S: (_c, sv) => sv.maxconn > 0 ? sv.maxconn : undefined },
  { name: 'stot', desc: 'Total number of sessions since process started', type: 'u64', tags: 'MCP', F: stot, B: stot, S: stot },
  { name: 'bin', desc: 'Total number of request bytes since process started', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.bin, B: (_c, o) => o.counters.bin, S: (_c, o) => o.counters.bin },
  { name: 'bout', desc: 'Total number of response bytes since process started', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.bout, B: (_c, o) => o.counters.bout, S: (_c, o) => o.counters.bout },
  { name: 'dreq', desc: 'Total number of denied requests since process started', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.dreq, B: (_c, o) => o.counters.dreq },
  { name: 'dresp', desc: 'Total number of denied responses since process started', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.dresp, B: (_c, o) => o.counters.dresp, S: (_c, o) => o.counters.dresp },
  { name: 'ereq', desc: 'Total number of invalid requests since process started', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.ereq },
  { name: 'econ', desc: 'Total number of failed connections to server since the worker process started', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.econ, S: (_c, o) => o.counters.econ },
  { name: 'eresp', desc: 'Total number of invalid responses since the worker process started', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.eresp, S: (_c, o) => o.counters.eresp },
  { name: 'wretr', desc: 'Total number of server connection retries since the worker process started', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.wretr, S: (_c, o) => o.counters.wretr },
  { name: 'wredis', desc: 'Total number of server redispatches due to connection failures since the worker process started', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.wredis, S: (_c, o) => o.counters.wredis },
  {
    name: 'status', desc: 'Frontend/listen status: OPEN/WAITING/FULL/STOP; backend: UP/DOWN; server: last check status', type: 'str', tags: 'SGP',
    F: (c, fe) => c.proxy.disabled ? 'STOP' : fe.maxconn > 0 && fe.counters.scur >= fe.maxconn ? 'FULL' : 'OPEN',
    B: (c) => c.lb.status,
    S: (c, sv) => serverStatus(sv, c.state)
  },
  { name: 'weight', desc: "Server's effective weight, or sum of active servers' effective weights for a backend", type: 'u32', tags: 'MaP', B: lbField(lb => lb.weight), S: (_c, sv) => sv.weight },
  { name: 'act', desc: 'Total number of active UP servers with a non-zero weight', type: 'u32', tags: { B: 'MGP', S: 'SGP' }, B: lbField(lb => lb.act), S: (_c, sv) => sv.backup ? 0 : 1 },
  { name: 'bck', desc: 'Total number of backup UP servers with a non-zero weight', type: 'u32', tags: { B: 'MGP', S: 'SGP' }, B: lbField(lb => lb.bck), S: (_c, sv) => sv.backup ? 1 : 0 },
  { name: 'chkfail', desc: 'Total number of failed individual health checks per server/backend, since the worker process started', type: 'u64', tags: 'MCP', S: (_c, sv) => sv.checkEnabled ? sv.chkfail : undefined },
  { name: 'chkdown', desc: 'Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started', type: 'u64', tags: 'MCP', B: (_c, be) => be.chkdown, S: (_c, sv) => sv.checkEnabled ? sv.chkdown : undefined },
  { name: 'lastchg', desc: 'How long ago the last server state changed, in seconds', type: 'u32', tags: 'MAP', B: (c, be) => secondsSince(c.now, be.lastChange), S: (c, sv) => secondsSince(c.now, sv.lastChange) },
  { name: 'downtime', desc: 'Total time spent in DOWN state, for server or backend', type: 'u32', tags: 'MCP', B: (c, be) => be.servers.length > 0 ? Math.floor(be.downtime(c.now) / 1000) : undefined, S: (c, sv) => sv.checkEnabled ? Math.floor(sv.downtime(c.now) / 1000) : undefined },
  { name: 'qlimit', desc: 'Limit on the number of connections in queue, for servers only (maxqueue argument)', type: 'u32', tags: 'CGS', S: (_c, sv) => sv.maxqueue > 0 ? sv.maxqueue : undefined },
  // `pid` is the process number (1 with one process), not the OS pid
  { name: 'pid', desc: 'Relative worker process number (1)', type: 'u32', tags: 'KGP', F: () => 1, B: () => 1, S: () => 1 },
  { name: 'iid', desc: 'Frontend or Backend numeric identifier ("id" setting)', type: 'u32', tags: 'KGS', F: (c) => c.proxy.id, B: (c) => c.proxy.id, S: (c) => c.proxy.id },
  { name: 'sid', desc: 'Server numeric identifier ("id" setting)', type: 'u32', tags: 'KGS', F: zero, B: zero, S: (_c, sv) => sv.id },
  { name: 'throttle', desc: "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)", type: 'u32', tags: 'MaP' },
  { name: 'lbtot', desc: 'Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)', type: 'u64', tags: 'MCP', B: (_c, be) => be.lbtot, S: (_c, sv) => sv.lbtot },
  { name: 'tracked', desc: 'Name of the other server this server tracks for its state', type: 'str', tags: 'CNS' },
  { name: 'type', desc: 'Type of the object (Listener, Frontend, Backend, Server)', type: 'u32', tags: 'CGS', F: () => 0, B: () => 1, S: () => 2 },
  { name: 'rate', desc: 'Total number of sessions processed by this object over the last second (sessions for listeners/frontends, requests for backends/servers)', type: 'u32', tags: { F: 'MRP', B: 'MGP', S: 'MRP' }, F: (c, o) => o.counters.rate.read(c.now), B: (c, o) => o.counters.rate.read(c.now), S: (c, o) => o.counters.rate.read(c.now) },
  { name: 'rate_lim', desc: "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)", type: 'u32', tags: 'CLP', F: zero },
  { name: 'rate_max', desc: 'Highest value of sessions per second observed since the worker process started', type: 'u32', tags: { F: 'MMP', B: 'MGP', S: 'MMP' }, F: (_c, o) => o.counters.rate.max, B: (_c, o) => o.counters.rate.max, S: (_c, o) => o.counters.rate.max },
  { name: 'check_status', desc: 'Status report of the server\'s latest health check, prefixed with \'*\' if a check is currently in progress', type: 'str', tags: 'MOP', S: checkField(sv => sv.lastCheck.status) },
  { name: 'check_code', desc: 'HTTP/SMTP/LDAP status code reported by the latest server health check', type: 'u32', tags: 'MOP', S: checkField(sv => sv.lastCheck.code ?? undefined) },
  { name: 'check_duration', desc: 'Total duration of the latest server health check, in milliseconds.', type: 'u64', tags: 'MDP', S: checkField(sv => sv.lastCheck.duration ?? undefined) },
  { name: 'hrsp_1xx', desc: 'Total number of HTTP responses with status 100-199 returned by this object since the worker process started', type: 'u64', tags: 'MCP', F: hrsp(0), B: hrsp(0), S: hrsp(0) },
  { name: 'hrsp_2xx', desc: 'Total number of HTTP responses with status 200-299 returned by this object since the worker process started', type: 'u64', tags: 'MCP', F: hrsp(1), B: hrsp(1), S: hrsp(1) },
  { name: 'hrsp_3xx', desc: 'Total number of HTTP responses with status 300-399 returned by this object since the worker process started', type: 'u64', tags: 'MCP', F: hrsp(2), B: hrsp(2), S: hrsp(2) },
  { name: 'hrsp_4xx', desc: 'Total number of HTTP responses with status 400-499 returned by this object since the worker process started', type: 'u64', tags: 'MCP', F: hrsp(3), B: hrsp(3), S: hrsp(3) },
  { name: 'hrsp_5xx', desc: 'Total number of HTTP responses with status 500-599 returned by this object since the worker process started', type: 'u64', tags: 'MCP', F: hrsp(4), B: hrsp(4), S: hrsp(4) },
  { name: 'hrsp_other', desc: 'Total number of HTTP responses with status <100, >599 returned by this object since the worker process started (error -1 included)', type: 'u64', tags: 'MCP', F: hrsp(5), B: hrsp(5), S: hrsp(5) },
  { name: 'hanafail', desc: 'Total number of failed checks caused by an \'on-error\' directive after an \'observe\' condition matched', type: 'u64', tags: 'MCP' },
  { name: 'req_rate', desc: 'Number of HTTP requests processed over the last second on this object', type: 'u32', tags: 'MRP', F: (c, fe) => fe.reqRate.read(c.now) },
  { name: 'req_rate_max', desc: 'Highest value of http requests observed since the worker process started', type: 'u32', tags: 'MMP', F: (_c, fe) => fe.reqRate.max },
  { name: 'req_tot', desc: 'Total number of HTTP requests processed by this object since the worker process started', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.reqTot, B: httpOnly(o => o.counters.reqTot), S: httpOnly(o => o.counters.reqTot) },
  { name: 'cli_abrt', desc: 'Total number of requests or connections aborted by the client since the worker process started', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.cliAbrt, S: (_c, o) => o.counters.cliAbrt },
  { name: 'srv_abrt', desc: 'Total number of requests or connections aborted by the server since the worker process started', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.srvAbrt, S: (_c, o) => o.counters.srvAbrt },
  // no compression here: HAProxy still prints zeros for frontends and backends
  { name: 'comp_in', desc: 'Total number of bytes submitted to the HTTP compressor for this object since the worker process started', type: 'u64', tags: 'MCP', F: zero, B: zero },
  { name: 'comp_out', desc: 'Total number of bytes emitted by the HTTP compressor for this object since the worker process started', type: 'u64', tags: 'MCP', F: zero, B: zero },
  { name: 'comp_byp', desc: 'Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)', type: 'u64', tags: 'MCP', F: zero, B: zero },
  { name: 'comp_rsp', desc: 'Total number of HTTP responses that were compressed for this object since the worker process started', type: 'u64', tags: 'MCP', F: zero, B: zero },
  { name: 'lastsess', desc: 'How long ago some traffic was seen on this object on this worker process, in seconds', type: 's32', tags: 'MAP', B: lastSess, S: lastSess },
  { name: 'last_chk', desc: 'Short description of the latest health check report for this server (see also check_desc)', type: 'str', tags: 'MOP', S: checkField(sv => sv.lastCheck.desc) },
  { name: 'last_agt', desc: 'Short description of the latest agent check report for this server (see also agent_desc)', type: 'str', tags: 'MOP' },
  { name: 'qtime', desc: 'Time spent in the queue, in milliseconds, averaged over the 1024 last requests (backend/server)', type: 'u32', tags: 'MaP', B: (_c, o) => ms(o.counters.qtime.value), S: (_c, o) => ms(o.counters.qtime.value) },
  { name: 'ctime', desc: 'Time spent waiting for a connection to complete, in milliseconds, averaged over the 1024 last requests (backend/server)', type: 'u32', tags: 'MaP', B: (_c, o) => ms(o.counters.ctime.value), S: (_c, o) => ms(o.counters.ctime.value) },
  { name: 'rtime', desc: 'Time spent waiting for a server response, in milliseconds, averaged over the 1024 last requests (backend/server)', type: 'u32', tags: 'MaP', B: (_c, o) => ms(o.counters.rtime.value), S: (_c, o) => ms(o.counters.rtime.value) },
  { name: 'ttime', desc: 'Total request+response time (request+queue+connect+response+processing), in milliseconds, averaged over the 1024 last requests (backend/server)', type: 'u32', tags: 'MaP', B: (_c, o) => ms(o.counters.ttime.value), S: (_c, o) => ms(o.counters.ttime.value) },
  { name: 'agent_status', desc: 'Status report of the server\'s latest agent check', type: 'str', tags: 'MOP' },
  { name: 'agent_code', desc: 'Status code reported by the latest server agent check', type: 'u32', tags: 'MOP' },
  { name: 'agent_duration', desc: 'Total duration of the latest server agent check, in milliseconds', type: 'u64', tags: 'MDP' },
  { name: 'check_desc', desc: 'Textual description of the latest health check report for this server', type: 'str', tags: 'MOP', S: checkField(sv => checkDescription(sv.lastCheck.status)) },
  { name: 'agent_desc', desc: 'Textual description of the latest agent check report for this server', type: 'str', tags: 'MOP' },
  { name: 'check_rise', desc: "Number of successful health checks before declaring a server UP (server 'rise' setting)", type: 'u32', tags: 'CGS', S: checkField(sv => sv.rise) },
  { name: 'check_fall', desc: "Number of failed health checks before declaring a server DOWN (server 'fall' setting)", type: 'u32', tags: 'CGS', S: checkField(sv => sv.fall) },
  { name: 'check_health', desc: "Current server health check level (0..fall-1=DOWN, fall..rise-1=UP)", type: 'u32', tags: 'CGS', S: checkField(sv => sv.health) },
  { name: 'agent_rise', desc: 'Number of successful agent checks before declaring a server UP', type: 'u32', tags: 'MaP' },
  { name: 'agent_fall', desc: 'Number of failed agent checks before declaring a server DOWN', type: 'u32', tags: 'MaP' },
  { name: 'agent_health', desc: 'Current server agent check level', type: 'u32', tags: 'MaP' },
  { name: 'addr', desc: 'Server\'s address:port, shown only if show-legends is set, or at levels oper/admin for the CLI', type: 'str', tags: 'CGS', S: (c, sv) => c.legends ? sv.addr : undefined },
  { name: 'cookie', desc: "Backend's cookie name or Server's cookie value, shown only if show-legends is set, or at levels oper/admin for the CLI", type: 'str', tags: 'CNS' },
  { name: 'mode', desc: "'mode' setting (tcp/http/health/cli)", type: 'str', tags: 'CGS', F: (c) => c.proxy.mode, B: (c) => c.proxy.mode, S: (c) => c.proxy.mode },
  { name: 'algo', desc: 'Backend\'s load balancing algorithm, shown only if show-legends is set, or at levels oper/admin for the CLI', type: 'str', tags: 'CGS', B: (c, be) => c.legends ? be.algorithm : undefined },
  { name: 'conn_rate', desc: 'Number of new connections accepted over the last second on the frontend for this worker process', type: 'u32', tags: 'MRP', F: (c, fe) => fe.connRate.read(c.now) },
  { name: 'conn_rate_max', desc: 'Highest value of connections per second observed since the worker process started', type: 'u32', tags: 'MMP', F: (_c, fe) => fe.connRate.max },
  { name: 'conn_tot', desc: 'Total number of new connections accepted on this frontend since the worker process started', type: 'u64', tags: 'MCP', F: (_c, fe) => fe.connTot },
  { name: 'intercepted', desc: 'Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started', type: 'u64', tags: 'MCP', F: httpOnly(o => o.counters.intercepted) },
  { name: 'dcon', desc: 'Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started', type: 'u64', tags: 'MCP', F: zero },
  { name: 'dses', desc: 'Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started', type: 'u64', tags: 'MCP', F: zero },
  { name: 'wrew', desc: 'Total number of failed HTTP header rewrites since the worker process started', type: 'u64', tags: 'MCP', F: zero, B: zero, S: zero },
  // every forwarded request opens or takes a connection: counted as connection attempts, reuse not tracked
  { name: 'connect', desc: 'Total number of outgoing connection attempts on this backend/server since the worker process started', type: 'u64', tags: 'MCP', B: stot, S: stot },
  { name: 'reuse', desc: 'Total number of reused connection on this backend/server since the worker process started', type: 'u64', tags: 'MCP', B: zero, S: zero },
  { name: 'cache_lookups', desc: 'Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started', type: 'u64', tags: 'MCP', F: httpOnly(() => 0), B: httpOnly(() => 0) },
  { name: 'cache_hits', desc: 'Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started', type: 'u64', tags: 'MCP', F: httpOnly(() => 0), B: httpOnly(() => 0) },
  { name: 'srv_icur', desc: 'Current number of idle connections available for reuse on this server', type: 'u32', tags: 'MGP', S: zero },
  { name: 'src_ilim', desc: "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)", type: 'u32', tags: 'CLP' },
  { name: 'qtime_max', desc: 'Maximum observed time spent in the queue, in milliseconds (backend/server)', type: 'u32', tags: 'MMP', B: (_c, o) => ms(o.counters.qtime.max), S: (_c, o) => ms(o.counters.qtime.max) },
  { name: 'ctime_max', desc: 'Maximum observed time spent waiting for a connection to complete, in milliseconds (backend/server)', type: 'u32', tags: 'MMP', B: (_c, o) => ms(o.counters.ctime.max), S: (_c, o) => ms(o.counters.ctime.max) },
  { name: 'rtime_max', desc: 'Maximum observed time spent waiting for a server response, in milliseconds (backend/server)', type: 'u32', tags: 'MMP', B: (_c, o) => ms(o.counters.rtime.max), S: (_c, o) => ms(o.counters.rtime.max) },
  { name: 'ttime_max', desc: 'Maximum observed total request+response time (request+queue+connect+response+processing), in milliseconds (backend/server)', type: 'u32', tags: 'MMP', B: (_c, o) => ms(o.counters.ttime.max), S: (_c, o) => ms(o.counters.ttime.max) },
  { name: 'eint', desc: 'Total number of internal errors since process started', type: 'u64', tags: 'MCP', F: zero, B: zero, S: zero },
  { name: 'idle_conn_cur', desc: 'Current number of unsafe idle connections', type: 'u32', tags: 'MGP', S: zero },
  { name: 'safe_conn_cur', desc: 'Current number of safe idle connections', type: 'u32', tags: 'MGP', S: zero },
  { name: 'used_conn_cur', desc: 'Current number of connections in use', type: 'u32', tags: 'MGP', S: (_c, sv) => sv.counters.scur },
  { name: 'need_conn_est', desc: 'Estimated needed number of connections', type: 'u32', tags: 'MGP', S: (_c, sv) => sv.counters.scur },
  { name: 'uweight', desc: "Server's user weight, or sum of active servers' user weights for a backend", type: 'u32', tags: 'MaP', B: lbField(lb => lb.uweight), S: (_c, sv) => sv.uweight },
  // after field 99: present on Debian's 2.6.12 build; it prints zeros for them in the CSV
  { name: 'agg_server_status', desc: "Backend's aggregated gauge of servers' status", type: 'u32', tags: 'MGP', B: zero },
  { name: 'agg_server_check_status', desc: "Backend's aggregated gauge of servers' state check status", type: 'u32', tags: 'MGP', B: zero },
  { name: 'agg_check_status', desc: "Backend's aggregated gauge of servers' state check status", type: 'u32', tags: 'MGP', B: zero }
]

function build (row: Row, pos: number): StatField {
  const tags: Partial<Record<ObjType, string>> = {}
  for (const t of ['F', 'B', 'S'] as const) {
    const tag = typeof row.tags === 'string' ? row.tags : row.tags[t]
    if (tag !== undefined) tags[t] = tag
  }
  return { pos, name: row.name, desc: row.desc, type: row.type, tags, F: row.F, B: row.B, S: row.S }
}

/** HAProxy 2.6's 103 standard fields, pxname … agg_check_status. */
export const STAT_FIELDS: readonly StatField[] = Object.freeze(ROWS.map(build))

/** Field position by name, for renderers that pick single fields (HTML, Prometheus). */
export const FIELD: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(STAT_FIELDS.map(f => [f.name, f.pos])))

/** The value of one field for the current row of `c`, or undefined when the field is empty there. */
export function fieldValue (f: StatField, t: ObjType, c: RowContext): FieldValue {
  switch (t) {
    case 'F': return f.F === undefined || c.fe === null ? undefined : f.F(c, c.fe)
    case 'B': return f.B === undefined || c.be === null ? undefined : f.B(c, c.be)
    case 'S': return f.S === undefined || c.sv === null ? undefined : f.S(c, c.sv)
  }
}
