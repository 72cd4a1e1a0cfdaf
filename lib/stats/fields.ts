// The stats fields of HAProxy 2.6, in CSV order (management.txt §9.1):
// one row per field with, for each object type that has it, a getter. CSV, HTML, ;json, ;typed
// and Prometheus all read this one table. A getter returning undefined leaves the field out for
// that object (an empty CSV cell), exactly where HAProxy leaves it out; absent getters likewise.
// Tags and types were read from `show stat typed` of haproxy 2.6.12 (§9.2).

import type { Proxy } from '../config/model.js'
import type { AgentView, BackendView, FrontendView, ListenerView, ServerView, TrafficCounters } from '../runtime/state.js'
import { type BackendLb, type ServerState, checkDescription, checkShown, serverStatus } from './status.js'

/** Frontend, backend, server, and listener (`option socket-stats`). */
export type ObjType = 'F' | 'B' | 'S' | 'L'
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
  li: ListenerView | null
}

type Get<T> = (c: RowContext, o: T) => FieldValue
type Counted = { readonly counters: TrafficCounters }

export interface StatField {
  /** Position in the CSV line, 0-based. */
  pos: number
  name: string
  /** What the field means, in one line (our wording); also the Prometheus HELP text. */
  desc: string
  type: FieldType
  /** `show stat typed` tags: origin, nature, scope letters (management.txt §9.2), per object type. */
  tags: Partial<Record<ObjType, string>>
  F?: Get<FrontendView>
  B?: Get<BackendView>
  S?: Get<ServerView>
  L?: Get<ListenerView>
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
  L?: Get<ListenerView>
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
/** The agent_* columns: shown while the server's agent check is enabled. */
const agentField = (get: (a: AgentView) => FieldValue): Get<ServerView> => (_c, sv) => sv.agent?.enabled === true ? get(sv.agent) : undefined
const lbField = (get: (lb: BackendLb) => number): Get<Counted> => (c) => get(c.lb)

const ROWS: Row[] = [
  { name: 'pxname', desc: 'Proxy name', type: 'str', tags: 'KNS', F: pxname, B: pxname, S: pxname, L: pxname },
  { name: 'svname', desc: 'FRONTEND, BACKEND, the server name or the listener name', type: 'str', tags: 'KNS', F: () => 'FRONTEND', B: () => 'BACKEND', S: (_c, sv) => sv.name, L: (_c, li) => li.name },
  { name: 'qcur', desc: 'Requests waiting in the queue now', type: 'u32', tags: 'MGP', B: (_c, be) => be.qcur, S: (_c, sv) => sv.qcur },
  { name: 'qmax', desc: 'Most requests ever waiting in the queue', type: 'u32', tags: 'MMP', B: (_c, be) => be.qmax, S: (_c, sv) => sv.qmax },
  { name: 'scur', desc: 'Sessions open now', type: 'u32', tags: 'MGP', F: (_c, o) => o.counters.scur, B: (_c, o) => o.counters.scur, S: (_c, o) => o.counters.scur, L: (_c, o) => o.counters.scur },
  { name: 'smax', desc: 'Most sessions open at once', type: 'u32', tags: 'MMP', F: (_c, o) => o.counters.smax, B: (_c, o) => o.counters.smax, S: (_c, o) => o.counters.smax, L: (_c, o) => o.counters.smax },
  { name: 'slim', desc: 'Session limit: maxconn (frontend, server) or fullconn (backend)', type: 'u32', tags: 'CLP', F: (_c, fe) => fe.maxconn > 0 ? fe.maxconn : undefined, B: (c) => c.fullconn, S: (_c, sv) => sv.maxconn > 0 ? sv.maxconn : undefined, L: (_c, li) => li.maxconn },
  { name: 'stot', desc: 'Sessions since start', type: 'u64', tags: 'MCP', F: stot, B: stot, S: stot, L: stot },
  { name: 'bin', desc: 'Request bytes since start', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.bin, B: (_c, o) => o.counters.bin, S: (_c, o) => o.counters.bin, L: (_c, o) => o.counters.bin },
  { name: 'bout', desc: 'Response bytes since start', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.bout, B: (_c, o) => o.counters.bout, S: (_c, o) => o.counters.bout, L: (_c, o) => o.counters.bout },
  { name: 'dreq', desc: 'Requests denied by rules since start', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.dreq, B: (_c, o) => o.counters.dreq, L: (_c, o) => o.counters.dreq },
  { name: 'dresp', desc: 'Responses denied by rules since start', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.dresp, B: (_c, o) => o.counters.dresp, S: (_c, o) => o.counters.dresp, L: (_c, o) => o.counters.dresp },
  { name: 'ereq', desc: 'Malformed or rejected client requests since start', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.ereq, L: (_c, o) => o.counters.ereq },
  { name: 'econ', desc: 'Failed connection attempts to servers since start', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.econ, S: (_c, o) => o.counters.econ },
  { name: 'eresp', desc: 'Failed or invalid server responses since start', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.eresp, S: (_c, o) => o.counters.eresp },
  { name: 'wretr', desc: 'Connection retries since start', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.wretr, S: (_c, o) => o.counters.wretr },
  { name: 'wredis', desc: 'Requests sent to another server after a failed connection, since start', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.wredis, S: (_c, o) => o.counters.wredis },
  {
    name: 'status', desc: 'State: OPEN, FULL or STOP (frontend), UP or DOWN (backend), the check state (server)', type: 'str', tags: 'SGP',
    F: (c, fe) => c.proxy.disabled || fe.shut ? 'STOP' : fe.maxconn > 0 && fe.counters.scur >= fe.maxconn ? 'FULL' : 'OPEN',
    B: (c) => c.lb.status,
    S: (c, sv) => serverStatus(sv, c.state),
    L: (c, li) => c.proxy.disabled || c.fe?.shut === true ? 'STOP' : li.maxconn > 0 && li.counters.scur >= li.maxconn ? 'FULL' : 'OPEN'
  },
  { name: 'weight', desc: 'Effective weight; for a backend, the weight of the servers taking traffic', type: 'u32', tags: 'MaP', B: lbField(lb => lb.weight), S: (_c, sv) => sv.weight },
  { name: 'act', desc: 'Active servers taking traffic (server row: 1 when active)', type: 'u32', tags: { B: 'MGP', S: 'SGP' }, B: lbField(lb => lb.act), S: (_c, sv) => sv.backup ? 0 : 1 },
  { name: 'bck', desc: 'Backup servers taking traffic (server row: 1 when backup)', type: 'u32', tags: { B: 'MGP', S: 'SGP' }, B: lbField(lb => lb.bck), S: (_c, sv) => sv.backup ? 1 : 0 },
  { name: 'chkfail', desc: 'Failed health checks since start', type: 'u64', tags: 'MCP', S: (_c, sv) => sv.checkEnabled ? sv.chkfail : undefined },
  { name: 'chkdown', desc: 'Changes from UP to DOWN caused by checks, since start', type: 'u64', tags: 'MCP', B: (_c, be) => be.chkdown, S: (_c, sv) => sv.checkEnabled ? sv.chkdown : undefined },
  { name: 'lastchg', desc: 'Time since the last state change', type: 'u32', tags: 'MAP', B: (c, be) => secondsSince(c.now, be.lastChange), S: (c, sv) => secondsSince(c.now, sv.lastChange) },
  { name: 'downtime', desc: 'Time spent DOWN since start', type: 'u32', tags: 'MCP', B: (c, be) => be.servers.length > 0 ? Math.floor(be.downtime(c.now) / 1000) : undefined, S: (c, sv) => sv.checkEnabled ? Math.floor(sv.downtime(c.now) / 1000) : undefined },
  { name: 'qlimit', desc: 'Queue limit of a server (maxqueue)', type: 'u32', tags: 'CGS', S: (_c, sv) => sv.maxqueue > 0 ? sv.maxqueue : undefined },
  // `pid` is the process number (1 with one process), not the OS pid
  { name: 'pid', desc: 'Process number (always 1)', type: 'u32', tags: 'KGP', F: () => 1, B: () => 1, S: () => 1, L: () => 1 },
  { name: 'iid', desc: 'Proxy id', type: 'u32', tags: 'KGS', F: (c) => c.proxy.id, B: (c) => c.proxy.id, S: (c) => c.proxy.id, L: (c) => c.proxy.id },
  { name: 'sid', desc: 'Server or listener id (0 on frontend and backend rows)', type: 'u32', tags: 'KGS', F: zero, B: zero, S: (_c, sv) => sv.id, L: (_c, li) => li.sid },
  { name: 'throttle', desc: 'Slow-start throttle of a server, in percent', type: 'u32', tags: 'MaP' },
  { name: 'lbtot', desc: 'Times picked by load balancing since start', type: 'u64', tags: 'MCP', B: (_c, be) => be.lbtot, S: (_c, sv) => sv.lbtot },
  { name: 'tracked', desc: 'Server whose state this server follows', type: 'str', tags: 'CNS' },
  { name: 'type', desc: 'Object type: 0 frontend, 1 backend, 2 server, 3 listener', type: 'u32', tags: 'CGS', F: () => 0, B: () => 1, S: () => 2, L: () => 3 },
  { name: 'rate', desc: 'Sessions over the last second', type: 'u32', tags: { F: 'MRP', B: 'MGP', S: 'MRP' }, F: (c, o) => o.counters.rate.read(c.now), B: (c, o) => o.counters.rate.read(c.now), S: (c, o) => o.counters.rate.read(c.now) },
  { name: 'rate_lim', desc: 'Session rate limit (rate-limit sessions)', type: 'u32', tags: 'CLP', F: zero },
  { name: 'rate_max', desc: 'Highest sessions per second seen', type: 'u32', tags: { F: 'MMP', B: 'MGP', S: 'MMP' }, F: (_c, o) => o.counters.rate.max, B: (_c, o) => o.counters.rate.max, S: (_c, o) => o.counters.rate.max },
  { name: 'check_status', desc: 'Result code of the latest health check', type: 'str', tags: 'MOP', S: checkField(sv => sv.lastCheck.status) },
  { name: 'check_code', desc: 'Status code answered to the latest health check', type: 'u32', tags: 'MOP', S: checkField(sv => sv.lastCheck.code ?? undefined) },
  { name: 'check_duration', desc: 'Duration of the latest health check', type: 'u64', tags: 'MDP', S: checkField(sv => sv.lastCheck.duration ?? undefined) },
  { name: 'hrsp_1xx', desc: 'HTTP 1xx responses since start', type: 'u64', tags: 'MCP', F: hrsp(0), B: hrsp(0), S: hrsp(0) },
  { name: 'hrsp_2xx', desc: 'HTTP 2xx responses since start', type: 'u64', tags: 'MCP', F: hrsp(1), B: hrsp(1), S: hrsp(1) },
  { name: 'hrsp_3xx', desc: 'HTTP 3xx responses since start', type: 'u64', tags: 'MCP', F: hrsp(2), B: hrsp(2), S: hrsp(2) },
  { name: 'hrsp_4xx', desc: 'HTTP 4xx responses since start', type: 'u64', tags: 'MCP', F: hrsp(3), B: hrsp(3), S: hrsp(3) },
  { name: 'hrsp_5xx', desc: 'HTTP 5xx responses since start', type: 'u64', tags: 'MCP', F: hrsp(4), B: hrsp(4), S: hrsp(4) },
  { name: 'hrsp_other', desc: 'HTTP responses with a status outside 100-599 (or none) since start', type: 'u64', tags: 'MCP', F: hrsp(5), B: hrsp(5), S: hrsp(5) },
  { name: 'hanafail', desc: 'Failed checks raised by observe / on-error', type: 'u64', tags: 'MCP' },
  { name: 'req_rate', desc: 'HTTP requests over the last second', type: 'u32', tags: 'MRP', F: (c, fe) => fe.reqRate.read(c.now) },
  { name: 'req_rate_max', desc: 'Highest HTTP requests per second seen', type: 'u32', tags: 'MMP', F: (_c, fe) => fe.reqRate.max },
  { name: 'req_tot', desc: 'HTTP requests since start', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.reqTot, B: httpOnly(o => o.counters.reqTot), S: httpOnly(o => o.counters.reqTot) },
  { name: 'cli_abrt', desc: 'Transfers aborted by the client since start', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.cliAbrt, S: (_c, o) => o.counters.cliAbrt },
  { name: 'srv_abrt', desc: 'Transfers aborted by the server since start', type: 'u64', tags: 'MCP', B: (_c, o) => o.counters.srvAbrt, S: (_c, o) => o.counters.srvAbrt },
  // `compression` (lib/runtime/compression.ts); identity answers count in comp_byp and comp_rsp (observed)
  { name: 'comp_in', desc: 'Bytes fed to the HTTP compressor', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.compIn, B: (_c, o) => o.counters.compIn },
  { name: 'comp_out', desc: 'Bytes produced by the HTTP compressor', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.compOut, B: (_c, o) => o.counters.compOut },
  { name: 'comp_byp', desc: 'Bytes that skipped HTTP compression', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.compByp, B: (_c, o) => o.counters.compByp },
  { name: 'comp_rsp', desc: 'HTTP responses compressed', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.compRsp, B: (_c, o) => o.counters.compRsp },
  { name: 'lastsess', desc: 'Time since the last session', type: 's32', tags: 'MAP', B: lastSess, S: lastSess },
  { name: 'last_chk', desc: 'Details of the latest health check', type: 'str', tags: 'MOP', S: checkField(sv => sv.lastCheck.desc) },
  { name: 'last_agt', desc: 'Details of the latest agent check', type: 'str', tags: 'MOP', S: agentField(a => a.last.desc) },
  { name: 'qtime', desc: 'Average time in the queue, last 1024 requests', type: 'u32', tags: 'MaP', B: (_c, o) => ms(o.counters.qtime.value), S: (_c, o) => ms(o.counters.qtime.value) },
  { name: 'ctime', desc: 'Average connect time, last 1024 requests', type: 'u32', tags: 'MaP', B: (_c, o) => ms(o.counters.ctime.value), S: (_c, o) => ms(o.counters.ctime.value) },
  { name: 'rtime', desc: 'Average response time, last 1024 requests', type: 'u32', tags: 'MaP', B: (_c, o) => ms(o.counters.rtime.value), S: (_c, o) => ms(o.counters.rtime.value) },
  { name: 'ttime', desc: 'Average total request time, last 1024 requests', type: 'u32', tags: 'MaP', B: (_c, o) => ms(o.counters.ttime.value), S: (_c, o) => ms(o.counters.ttime.value) },
  { name: 'agent_status', desc: 'Result code of the latest agent check', type: 'str', tags: 'MOP', S: agentField(a => a.last.status) },
  { name: 'agent_code', desc: 'Status code of the latest agent check', type: 'u32', tags: 'MOP', S: agentField(a => a.last.code ?? undefined) },
  { name: 'agent_duration', desc: 'Duration of the latest agent check', type: 'u64', tags: 'MDP', S: agentField(a => a.last.duration ?? undefined) },
  { name: 'check_desc', desc: 'Meaning of check_status', type: 'str', tags: 'MOP', S: checkField(sv => checkDescription(sv.lastCheck.status)) },
  { name: 'agent_desc', desc: 'Meaning of agent_status', type: 'str', tags: 'MOP', S: agentField(a => checkDescription(a.last.status)) },
  { name: 'check_rise', desc: 'Passed checks needed to go UP (rise)', type: 'u32', tags: 'CGS', S: checkField(sv => sv.rise) },
  { name: 'check_fall', desc: 'Failed checks needed to go DOWN (fall)', type: 'u32', tags: 'CGS', S: checkField(sv => sv.fall) },
  { name: 'check_health', desc: 'Check counter: below rise is DOWN, rise and above is UP', type: 'u32', tags: 'CGS', S: checkField(sv => sv.health) },
  { name: 'agent_rise', desc: 'Passed agent checks needed to go UP', type: 'u32', tags: 'MaP', S: agentField(() => 1) },
  { name: 'agent_fall', desc: 'Failed agent checks needed to go DOWN', type: 'u32', tags: 'MaP', S: agentField(() => 1) },
  { name: 'agent_health', desc: 'Agent check counter', type: 'u32', tags: 'MaP', S: agentField(a => a.up ? 1 : 0) },
  { name: 'addr', desc: 'Server or listener address:port (with stats show-legends)', type: 'str', tags: 'CGS', S: (c, sv) => c.legends ? sv.addr : undefined, L: (c, li) => c.legends && li.addr !== '' ? li.addr : undefined },
  { name: 'cookie', desc: 'Cookie name (backend) or value (server), with stats show-legends', type: 'str', tags: 'CNS' },
  { name: 'mode', desc: 'Proxy mode (http or tcp)', type: 'str', tags: 'CGS', F: (c) => c.proxy.mode, B: (c) => c.proxy.mode, S: (c) => c.proxy.mode, L: (c) => c.proxy.mode },
  { name: 'algo', desc: 'Load-balancing algorithm (with stats show-legends)', type: 'str', tags: 'CGS', B: (c, be) => c.legends ? be.algorithm : undefined },
  { name: 'conn_rate', desc: 'Connections accepted over the last second', type: 'u32', tags: 'MRP', F: (c, fe) => fe.connRate.read(c.now) },
  { name: 'conn_rate_max', desc: 'Highest connections per second seen', type: 'u32', tags: 'MMP', F: (_c, fe) => fe.connRate.max },
  { name: 'conn_tot', desc: 'Connections accepted since start', type: 'u64', tags: 'MCP', F: (_c, fe) => fe.connTot },
  { name: 'intercepted', desc: 'Requests answered by the proxy itself (redirects, stats page, services)', type: 'u64', tags: 'MCP', F: httpOnly(o => o.counters.intercepted) },
  { name: 'dcon', desc: 'Connections refused by tcp-request connection rules', type: 'u64', tags: 'MCP', F: zero, L: zero },
  { name: 'dses', desc: 'Sessions refused by tcp-request session rules', type: 'u64', tags: 'MCP', F: zero, L: zero },
  { name: 'wrew', desc: 'Failed header rewrites since start', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.wrew, B: (_c, o) => o.counters.wrew, S: (_c, o) => o.counters.wrew, L: (_c, o) => o.counters.wrew },
  // every forwarded request opens or takes a connection: counted as connection attempts, reuse not tracked
  { name: 'connect', desc: 'Connection attempts to servers since start', type: 'u64', tags: 'MCP', B: stot, S: stot },
  { name: 'reuse', desc: 'Server connections reused since start', type: 'u64', tags: 'MCP', B: zero, S: zero },
  { name: 'cache_lookups', desc: 'HTTP cache lookups since start', type: 'u64', tags: 'MCP', F: httpOnly(o => o.counters.cacheLookups), B: httpOnly(o => o.counters.cacheLookups) },
  { name: 'cache_hits', desc: 'HTTP cache hits since start', type: 'u64', tags: 'MCP', F: httpOnly(o => o.counters.cacheHits), B: httpOnly(o => o.counters.cacheHits) },
  { name: 'srv_icur', desc: 'Idle connections ready for reuse', type: 'u32', tags: 'MGP', S: zero },
  { name: 'src_ilim', desc: 'Idle connection limit (pool-max-conn)', type: 'u32', tags: 'CLP' },
  { name: 'qtime_max', desc: 'Longest time in the queue', type: 'u32', tags: 'MMP', B: (_c, o) => ms(o.counters.qtime.max), S: (_c, o) => ms(o.counters.qtime.max) },
  { name: 'ctime_max', desc: 'Longest connect time', type: 'u32', tags: 'MMP', B: (_c, o) => ms(o.counters.ctime.max), S: (_c, o) => ms(o.counters.ctime.max) },
  { name: 'rtime_max', desc: 'Longest response time', type: 'u32', tags: 'MMP', B: (_c, o) => ms(o.counters.rtime.max), S: (_c, o) => ms(o.counters.rtime.max) },
  { name: 'ttime_max', desc: 'Longest total request time', type: 'u32', tags: 'MMP', B: (_c, o) => ms(o.counters.ttime.max), S: (_c, o) => ms(o.counters.ttime.max) },
  { name: 'eint', desc: 'Internal errors since start', type: 'u64', tags: 'MCP', F: (_c, o) => o.counters.eint, B: (_c, o) => o.counters.eint, S: (_c, o) => o.counters.eint, L: (_c, o) => o.counters.eint },
  { name: 'idle_conn_cur', desc: 'Unsafe idle connections now', type: 'u32', tags: 'MGP', S: zero },
  { name: 'safe_conn_cur', desc: 'Safe idle connections now', type: 'u32', tags: 'MGP', S: zero },
  { name: 'used_conn_cur', desc: 'Connections in use now', type: 'u32', tags: 'MGP', S: (_c, sv) => sv.counters.scur },
  { name: 'need_conn_est', desc: 'Estimated connections needed', type: 'u32', tags: 'MGP', S: (_c, sv) => sv.counters.scur },
  { name: 'uweight', desc: 'Configured weight; for a backend, the weight of the servers taking traffic', type: 'u32', tags: 'MaP', B: lbField(lb => lb.uweight), S: (_c, sv) => sv.uweight },
  // after field 99: present on Debian's 2.6.12 build; it prints zeros for them in the CSV
  { name: 'agg_server_status', desc: 'Servers per state', type: 'u32', tags: 'MGP', B: zero },
  { name: 'agg_server_check_status', desc: 'Servers per state (older name of agg_server_status)', type: 'u32', tags: 'MGP', B: zero },
  { name: 'agg_check_status', desc: 'Servers per latest check result', type: 'u32', tags: 'MGP', B: zero }
]

function build (row: Row, pos: number): StatField {
  const tags: Partial<Record<ObjType, string>> = {}
  for (const t of ['F', 'B', 'S', 'L'] as const) {
    const tag = typeof row.tags === 'string' ? row.tags : row.tags[t]
    if (tag !== undefined) tags[t] = tag
  }
  return { pos, name: row.name, desc: row.desc, type: row.type, tags, F: row.F, B: row.B, S: row.S, L: row.L }
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
    case 'L': return f.L === undefined || c.li === null ? undefined : f.L(c, c.li)
  }
}
