// The parsed configuration: plain, JSON-serialisable data. Every module after the parser reads
// these types and nothing else of the parser. Times are milliseconds; absent means "not set"
// (HAProxy's own defaults are applied by the runtime, where HAProxy applies them).

import type { DefaultPathLine } from './default-path.js'

/** Where an item came from, for messages in HAProxy's `[file:line]` shape. */
export interface Loc {
  file: string
  line: number
}

export type DiagnosticLevel = 'alert' | 'warning' | 'notice'

/** One problem found while reading or checking a config (HAProxy's ERR_ALERT / ERR_WARN). */
export interface Diagnostic {
  level: DiagnosticLevel
  message: string
  /** Absent for messages about the whole configuration (e.g. "no listener"). */
  loc?: Loc
  /** The keyword the message is about, when there is one. */
  keyword?: string
  /**
   * A warning only this package gives: a keyword that means nothing inside Node, which HAProxy
   * takes without a word. `zero-warning` (-dW) does not abort for it, or a config hardened for
   * HAProxy could never run here.
   */
  ours?: true
}

/**
 * A condition as written after `if` / `unless`: the words are kept unparsed so that the ACL
 * engine (lib/acl) owns their grammar; the checker compiles them to report errors.
 */
export interface Condition {
  polarity: 'if' | 'unless'
  words: string[]
  loc: Loc
}

/** `acl <name> <fetch>[,conv...] [flags] [--] <patterns...>` */
export interface AclDecl {
  name: string
  /** Everything after the name, unparsed: fetch expression, flags and patterns. */
  words: string[]
  loc: Loc
}

/** An `http-request` / `http-response` / `redirect` rule. `args` are the words between the action and `if`/`unless`. */
export interface Rule {
  action: string
  args: string[]
  cond: Condition | null
  loc: Loc
  /** `http-request capture <sample> len <n>`: the capture slot the rule made (its index in requestCaptures). */
  slot?: number
}

/**
 * `stick on|match|store-request|store-response <pattern> [table <name>] [if|unless cond]`
 * (§4.2): `on` both matches and stores; `table` null means the proxy's own.
 */
export interface StickRule {
  kind: 'on' | 'match' | 'store-request' | 'store-response'
  pattern: string
  table: string | null
  cond: Condition | null
  loc: Loc
}

/** `use_backend <name> [if|unless cond]`; `name` may hold `%[...]` log-format expressions. */
export interface SwitchingRule {
  backend: string
  cond: Condition | null
  loc: Loc
}

export interface Bind {
  /** '' or '*' or '::' for any address. */
  host: string
  port: number
  /** Last port of a range (`bind :8080-8082`), same as port otherwise. */
  portEnd: number
  ssl: boolean
  /** `bind fd@N`: an inherited listening socket (host '' and port 0 then). */
  fd?: number
  /** `proto h2`: HTTP/2 only (with prior knowledge on a clear bind). */
  proto?: string
  /** The TLS options of the line (§5.1), paths resolved; set on `ssl` binds. */
  tls?: BindTls
  /** True when the address came from the section line (HAProxy 1.x syntax). */
  legacy: boolean
  /** The `name` option (`so_name`). */
  name?: string
  /** `accept-proxy`: every connection opens with a PROXY protocol header (lib/proxy-protocol.ts). */
  acceptProxy?: true
  /** The line's `backlog` and `maxconn` (§5.1): what the listen() backlog is taken from (serve.ts listenBacklog). */
  backlog?: number
  maxconn?: number
  loc: Loc
}

/** A bind line's TLS options as written (§5.1); lib/tls.ts turns them into node's contexts. */
export interface BindTls {
  /** `crt` files or directories, absolute, in line order (the first certificate is the default). */
  crts: string[]
  /** `crt-list` files, absolute. */
  crtLists: string[]
  /** Where a crt-list's relative certificate paths start: `crt-base`, else the config's directory. */
  crtListBase: string
  /** Version and cipher options (`ssl-min-ver TLSv1.2`, `no-tlsv11`, `ciphers …`, `alpn h2,http/1.1`, `verify required` …): name → value ('' for flags). */
  options: Record<string, string>
}

/** `ssl-default-bind-*` / `ssl-default-server-*` and `ssl-dh-param-file` (§3.1). */
export interface GlobalTls {
  bindOptions: string[]
  bindCiphers?: string
  bindCiphersuites?: string
  bindCurves?: string
  serverOptions: string[]
  serverCiphers?: string
  serverCiphersuites?: string
  dhParamFile?: string
}

export type ServerCheckOnError = 'fastinter' | 'fail-check' | 'sudden-death' | 'mark-down'

/** Options a `server` line (or `default-server`) may carry; absent = not set on that line. */
export interface ServerOptions {
  /** `non-stick`: the requests it serves are not stored in stick tables (`stick` undoes it). */
  nonStick?: boolean
  weight?: number
  /** `send-proxy` (1) / `send-proxy-v2` (2): a PROXY protocol header opens each server connection (lib/proxy-protocol.ts). */
  sendProxy?: 1 | 2
  /** `socks4 <addr>:<port>`: connections to the server go through this SOCKS4 proxy. */
  socks4?: { host: string, port: number }
  /** `check-via-socks4`: health checks go through the `socks4` proxy too. */
  checkViaSocks4?: boolean
  /** `check-send-proxy`: health checks open with a PROXY header even with their own `port`/`addr`, or without `send-proxy`. */
  checkSendProxy?: boolean
  backup?: boolean
  disabled?: boolean
  check?: boolean
  inter?: number
  fastinter?: number
  downinter?: number
  rise?: number
  fall?: number
  /** Health-check port / address overrides. */
  checkPort?: number
  checkAddr?: string
  maxconn?: number
  maxqueue?: number
  /** `minconn`: with the backend's `fullconn`, makes maxconn follow the backend's load (§5.2). */
  minconn?: number
  slowstart?: number
  /** `ssl` (true), `no-ssl` (false, the last of its line and its default-server's wins). */
  ssl?: boolean
  /** `ssl` appears on its line or its default-server's: `set server … ssl` may switch it. */
  sslSettings?: boolean
  /** `proto h2`: HTTP/2 to the server (h2c in clear, h2 over TLS). */
  proto?: 'h1' | 'h2'
  /** `alpn <protocols>`: offered on TLS connections to the server; h2 when the server picks it. */
  alpn?: string[]
  /** `ws auto|h1|h2`: the protocol WebSocket (and other upgrades) take toward the server. */
  ws?: 'auto' | 'h1' | 'h2'
  verify?: 'none' | 'required'
  caFile?: string
  /** `crt <file>`: the client certificate (and key) presented to the server, a resolved path. */
  crt?: string
  sni?: string
  /** `check-ssl` / `no-check-ssl`: checks over TLS whatever the server's traffic uses. */
  checkSsl?: boolean
  /** `check-proto h1|h2`: the HTTP version of the checks (the server's `proto` by default). */
  checkProto?: 'h1' | 'h2'
  /** `check-sni <name>`, `check-alpn <protocols>` of TLS checks. */
  checkSni?: string
  checkAlpn?: string[]
  observe?: 'layer4' | 'layer7'
  errorLimit?: number
  onError?: ServerCheckOnError
  /** `on-marked-down shutdown-sessions`: the server's sessions are cut when it goes DOWN. */
  onMarkedDown?: 'shutdown-sessions'
  /** `resolve-opts allow-dup-ip|prevent-dup-ip|ignore-weight` (§5.2): the last of a pair wins. */
  resolveOpts?: { allowDupIp: boolean, ignoreWeight: boolean }
  /** `resolve-net`: the networks whose addresses a resolution picks first. */
  resolveNet?: string[]
  /** `on-marked-up shutdown-backup-sessions`: the backup servers' sessions are cut when it comes UP. */
  onMarkedUp?: 'shutdown-backup-sessions'
  /** Stats id (`id N`). */
  id?: number
  cookie?: string
  /** `agent-check` and its settings (§5.2): a TCP agent whose one-line answers set the server's state. */
  agentCheck?: boolean
  agentAddr?: string
  agentPort?: number
  agentInter?: number
  agentSend?: string
}

/** A `server` line (or one server of a `server-template`) with `default-server` already merged in. */
export interface Server extends ServerOptions {
  name: string
  /** An IP address, or a host name that `init-addr` left unresolved (see `unresolved`). */
  host: string
  port: number
  /**
   * No port, or `+N`/`-N` (§5.2 `server` <address>): the port is the one the client connected to,
   * plus `port` (the signed offset, else 0).
   */
  relativePort?: true
  /**
   * Its name could not be resolved at load and `init-addr` ends in `none` (or `resolvers` is
   * set): HAProxy starts it in MAINT (resolution) and sends it nothing.
   */
  unresolved?: boolean
  /** The host name as written (`show servers state` srv_fqdn); resolved at run time with `resolvers`. */
  fqdn?: string
  /** `resolvers <name>`, `resolve-prefer`, `resolve-net` (§5.2). */
  resolvers?: string
  resolvePrefer?: 'ipv4' | 'ipv6'
  loc: Loc
}

export interface Timeouts {
  connect?: number
  client?: number
  server?: number
  queue?: number
  check?: number
  httpRequest?: number
  httpKeepAlive?: number
  tunnel?: number
  tarpit?: number
  clientFin?: number
  serverFin?: number
}

export interface Balance {
  /** roundrobin | static-rr | leastconn | first | source | uri | url_param | hdr | random | hash | rdp-cookie */
  algorithm: string
  /** Arguments of the algorithm: `url_param <name>`, `hdr(<name>)` → [name], `random(<n>)`, `uri len 12 depth 3`. */
  args: string[]
  loc: Loc
}

/** `option forwardfor` / `option originalto`: a header with the client's / the original destination's address. */
export interface AddressHeader {
  /** The network whose addresses get no header (`except 127.0.0.0/8`, `except 2001:db8::/48`). */
  except?: string
  header: string
  /** `if-none` (forwardfor only): no header when the request already has one. */
  ifNone: boolean
}

export interface HttpCheckExpect {
  negate: boolean
  kind: 'status' | 'rstatus' | 'string' | 'rstring' | 'hdr' | 'fhdr'
  pattern: string
  /** `string-lf`: the pattern is a log-format string. */
  lf?: boolean
  /** `hdr`/`fhdr`: the words after the kind (`name <n> value <v>`, a value may hold blanks). */
  words?: string[]
}

/** One `http-check connect|send|expect|set-var|unset-var` line (§4.2), in order. */
export type HttpCheckRule =
  | { kind: 'connect', host?: string, port?: number }
  | { kind: 'send', method?: string, uri?: string, uriLf?: boolean, version?: string, headers: Array<[string, string]>, body?: string, bodyLf?: boolean }
  | { kind: 'expect', expect: HttpCheckExpect }
  /** `set-var(<name>) <expr>`, `set-var-fmt(<name>) <fmt>`, `unset-var(<name>)`. */
  | { kind: 'var', action: string, args: string[] }

export interface HttpCheck {
  /** The request line `option httpchk` gives the send rules that name none of it. */
  method: string
  uri: string
  version: string
  /** Headers written the old way after the version (`HTTP/1.1\r\nHost:\ www`): sent when no `http-check send` says what to send. */
  headers: Array<[string, string]>
  rules: HttpCheckRule[]
  disableOn404: boolean
  /** `http-check send-state`: an `X-Haproxy-Server-State` header tells the server its state. */
  sendState: boolean
  /** Copied from a defaults section: the proxy's own `option httpchk` or http-check rules replace it. */
  inherited: boolean
}

export interface StatsConfig {
  enabled: boolean
  /** Default `/haproxy?stats`. */
  uri: string
  /** `user:password` pairs, in order. */
  auth: Array<{ user: string, password: string }>
  realm: string
  refresh?: number
  hideVersion: boolean
  showLegends: boolean
  showNode?: string
  showDesc?: string
  scope: string[]
  /** `stats admin if|unless <cond>`. */
  admin: Condition | null
  /** `stats http-request auth|allow|deny [...] [if|unless cond]`. */
  httpRequest: Rule[]
  loc: Loc
}

export type ProxyKind = 'frontend' | 'backend' | 'listen'

/** How a `log` target frames its lines (configuration.txt §3.1 log `format`). */
export type LogFraming = 'rfc3164' | 'rfc5424' | 'short' | 'raw' | 'local' | 'priority' | 'timed' | 'iso'

/**
 * A `log` target (configuration.txt §3.1 and §4.2 `log`): `stdout` / `stderr`, a UDP syslog
 * server, or a unix datagram socket; syslog facility and levels as numbers (local0 = 16,
 * emerg = 0 … debug = 7).
 */
export interface LogTarget {
  kind: 'stdout' | 'stderr' | 'udp' | 'unix' | 'ring'
  /** The host (udp), socket path (unix) or ring name (`ring@<name>`); '' for stdout / stderr. */
  address: string
  /** udp only (514 when not given). */
  port: number
  format: LogFraming
  /** `format` was written: a `log-forward` section keeps a received line's own format otherwise. */
  formatGiven: boolean
  /** `len`: longest line sent, the rest is cut (default 1024). */
  maxLen: number
  /** `sample <ranges>:<size>`: only lines whose rank (1-based, modulo size) is in a range go out. */
  sample: { ranges: Array<[number, number]>, size: number } | null
  facility: number
  /** The least severe level sent (debug = 7 by default). */
  level: number
  /** Lines more severe than this are sent at this level (0 = unchanged). */
  minLevel: number
  loc: Loc
}

/** `capture request|response header <name> len <n>` or a `declare capture` slot (header null). */
export interface CaptureSlot {
  header: string | null
  len: number
}

/**
 * `cookie <name> [rewrite|insert|prefix] [indirect] [nocache] [preserve] [httponly] [secure]
 * [domain <d>]*` (configuration.txt §4.2 cookie): a request whose cookie `name` holds a usable
 * server's `cookie` value (§5.2) goes to that server. `passive` (no mode given) only reads the
 * cookie; `insert` adds `Set-Cookie: <name>=<value>; path=/` when the server was not chosen by
 * the cookie; `rewrite` replaces the value of the server's own cookie `name`, `prefix` puts
 * `<value>~` before it (and strips it from requests).
 */
export interface CookiePersistence {
  name: string
  mode: 'passive' | 'insert' | 'rewrite' | 'prefix'
  /** The server never sees the cookie (removed from requests, and from its answer when persisted). */
  indirect: boolean
  /** With `insert`: `Cache-control: private` on cacheable answers that get the cookie. */
  nocache: boolean
  /** The server's own Set-Cookie of the cookie is kept as it is (and no cookie is inserted then). */
  preserve: boolean
  httponly: boolean
  secure: boolean
  domains: string[]
  /** `dynamic`: servers without a `cookie` value get one made of the backend's key, their address and port. */
  dynamic: boolean
  loc: Loc
}

/** A frontend, backend or listen section with its `defaults` already inherited. */
/** `stick-table type … size … [expire …] [nopurge] [store …]` (§4.2): one table, named after its proxy. */
/** HAProxy's stick-table data types, in the order `show table` prints them. */
export const STICK_DATA_TYPES = [
  'server_id', 'gpt0', 'gpc0', 'gpc0_rate', 'conn_cnt', 'conn_rate', 'conn_cur', 'sess_cnt', 'sess_rate',
  'http_req_cnt', 'http_req_rate', 'http_err_cnt', 'http_err_rate', 'bytes_in_cnt', 'bytes_in_rate',
  'bytes_out_cnt', 'bytes_out_rate', 'gpc1', 'gpc1_rate', 'server_key', 'http_fail_cnt', 'http_fail_rate', 'gpt', 'gpc', 'gpc_rate'
] as const

export type StickDataType = typeof STICK_DATA_TYPES[number]

export interface StickTableSpec {
  type: 'ip' | 'ipv6' | 'integer' | 'string' | 'binary'
  /** Key length of `string` (default 32) and `binary` tables, in bytes. */
  keyLen: number
  size: number
  /** ms; null: entries never expire. */
  expire: number | null
  nopurge: boolean
  /** Stored data types in the order written; rates carry their period (ms). */
  store: Array<{ type: StickDataType, period?: number }>
  loc: Loc
}

export interface Proxy {
  kind: ProxyKind
  name: string
  loc: Loc
  /** `id N` or the number HAProxy assigns (its `iid` in stats). */
  id: number
  mode: 'http' | 'tcp' | 'health'
  /**
   * False when neither the proxy nor its defaults said `mode` and the plugin runs it as HTTP
   * (HAProxy would run it as TCP); the CLI's parse turns such a proxy into `mode tcp`, explicit.
   */
  modeExplicit: boolean
  disabled: boolean
  description?: string
  binds: Bind[]
  maxconn?: number
  /** `backlog`: the listen() backlog of its binds, before its maxconn (§4.2). */
  backlog?: number
  /** `fullconn` (backends): the load at which servers with `minconn` reach their maxconn. */
  fullconn?: number
  /** `dynamic-cookie-key`: the secret of `cookie … dynamic` server values. */
  dynamicCookieKey?: string
  acls: AclDecl[]
  /**
   * `tcp-request content accept|reject|set-var|unset-var|set-var-fmt` of an HTTP proxy: run for
   * each request before the http-request rules (§4.2 tcp-request content).
   */
  tcpRequestContent: Rule[]
  httpRequest: Rule[]
  httpResponse: Rule[]
  /** `http-after-response` rules (§4.2): run on every response, the gateway's own included. */
  httpAfterResponse: Rule[]
  /** `tcp-request connection|session <action> [cond]` (§4.2) in order, run by the TCP proxy (lib/tcp). */
  tcpRequestConnection: Rule[]
  /** `tcp-request inspect-delay`: how long content rules wait for data (ms); null when not set. */
  inspectDelay: number | null
  /** `tcp-response content accept|reject|close|set-var|unset-var [cond]` (§4.2), run by the TCP proxy on the server's first bytes. */
  tcpResponseContent: Rule[]
  /** `tcp-response inspect-delay` (ms); null when not set. */
  resInspectDelay: number | null
  /** The proxy's `stick-table`, or null. */
  stickTable: StickTableSpec | null
  /** `tcp-check <step> …` lines (§4.2), the script `option tcp-check` runs. */
  tcpChecks: Rule[]
  /** The last `option tcp-check|redis-check|ssl-hello-chk|smtpchk|pgsql-check|mysql-check|ldap-check` and its arguments. */
  checkType?: { name: string, args: string[] }
  /** `external-check command|path` (§4.2): what `option external-check` runs, with which PATH. */
  externalCheck?: { command?: string, path?: string }
  /** The older `redirect` keyword, evaluated after http-request rules. */
  redirects: Rule[]
  useBackends: SwitchingRule[]
  defaultBackend: { name: string, loc: Loc } | null
  /** Backend side (backend/listen; also recorded on defaults-inheriting frontends, unused there). */
  balance: Balance | null
  hashType: { method: 'map-based' | 'consistent', fn?: string } | null
  servers: Server[]
  timeouts: Timeouts
  retries: number
  retryOn: string[]
  /** `load-server-state-from-file` (§4.2): where this backend's saved server states come from. */
  loadServerState?: 'global' | 'local' | 'none'
  /** `server-state-file-name` (§4.2), for `load-server-state-from-file local`. */
  serverStateFileName?: string
  /** `option redispatch [interval]`: null when off. */
  redispatch: { interval: number } | null
  allBackups: boolean
  /** `cookie` persistence (backend/listen, inherited from defaults); null when not set. */
  cookie: CookiePersistence | null
  forwardFor: AddressHeader | null
  /** `option originalto`. */
  originalTo: AddressHeader | null
  /** `option httpchk` given; the check request and expectations. */
  httpCheck: HttpCheck | null
  /** `option http-server-close`, `httpclose`, `http-keep-alive` … : last one wins. */
  httpConnectionMode?: 'keep-alive' | 'server-close' | 'close' | 'tunnel'
  /**
   * `option http-restrict-req-hdr-names delete|reject` (§4.2): what becomes of request headers
   * whose names hold other characters than letters, digits and '-', once this proxy's
   * http-request rules are done. Absent: `preserve`.
   */
  restrictHeaderNames?: 'delete' | 'reject'
  /** `http-reuse` (§4.2): undici pools the connections; `never` still ties a client to its server under prefer-last-server. */
  httpReuse?: 'never' | 'safe' | 'aggressive' | 'always'
  /** Other `option` flags that were set (name → true, `no option x` → false). */
  options: Record<string, boolean>
  /**
   * `errorfile`, `errorfiles` and `http-error` lines in order, the defaults section's first: for
   * each status the last one that gives it wins (§4.2; http_errors.vtc).
   */
  errorSources: ErrorSource[]
  stats: StatsConfig | null
  /**
   * `monitor-uri <uri>` (§4.2; frontend/listen, inherited from defaults): a request whose URI is
   * exactly this one is answered by the proxy itself, before any http-request rule, with 200 and
   * HAProxy's "Service ready." page (503 when a `monitorFail` condition matches). A URI that
   * starts with '/' is compared with the request's path and query (absolute-form targets
   * included), any other with the whole request target; no decoding, case matters.
   */
  monitorUri: string | null
  /** `monitor fail if|unless <cond>` lines in order (§4.2; not in defaults): any match turns the monitor answer into 503. */
  monitorFail: Condition[]
  /** `stick` rules in order (§4.2; backends and listens): server persistence through stick tables. */
  stickRules: StickRule[]
  /** `log` lines in order, `'global'` for `log global`; `no log` empties it. */
  logs: Array<LogTarget | 'global'>
  /** The log format (log-format text, or the one of option httplog/tcplog/httpslog); null: HAProxy's "Connect from" line. */
  logFormat: string | null
  /** `log-format-sd`: the structured-data part of rfc5424 lines. */
  logFormatSd: string | null
  /** `error-log-format`: the line of a connection that failed before any request (a TLS handshake). */
  errorLogFormat: string | null
  logTag?: string
  /** `capture request header` lines and `declare capture request` slots, in order (their ids). */
  requestCaptures: CaptureSlot[]
  responseCaptures: CaptureSlot[]
  /** `capture cookie <name> len <n>`. */
  captureCookie: { name: string, len: number } | null
  uniqueIdFormat: string | null
  uniqueIdHeader: string | null
  /** `compression algo|type|offload` lines (§4.2); absent without any. */
  compression?: CompressionConfig
  /** `filter <name>` lines in order (§9): their names. */
  filters?: string[]
}

/** An algorithm of `compression algo` (§4.2). */
export type CompressionAlgo = 'identity' | 'gzip' | 'deflate' | 'raw-deflate'
export const COMPRESSION_ALGOS: readonly CompressionAlgo[] = ['identity', 'gzip', 'deflate', 'raw-deflate']

/** A proxy's `compression` settings: each of algo and type is null until a line gives it. */
export interface CompressionConfig {
  algos: CompressionAlgo[] | null
  /** Content-Type prefixes, as written. */
  types: string[] | null
  offload: boolean
}

export interface UserlistUser {
  name: string
  /** Plain text for `insecure-password`, a crypt(3) hash for `password`. */
  password: string
  insecure: boolean
  groups: string[]
  loc: Loc
}

export interface Userlist {
  name: string
  loc: Loc
  users: UserlistUser[]
  /** group name → member user names (from both `group … users` and `user … groups`). */
  groups: Record<string, string[]>
}

export interface HttpErrorsSection {
  name: string
  loc: Loc
  /** status → absolute file path */
  errorFiles: Record<string, string>
}

/**
 * Where a proxy's answer for an error status comes from: `errorfile <code> <file>` (an empty
 * file: the connection is closed without an answer), `errorfiles <name> [<code> …]`, or
 * `http-error status <code> …` (the words after the code, as `http-request return` takes them).
 */
export type ErrorSource =
  | { kind: 'errorfile', code: string, file: string }
  | { kind: 'errorfiles', section: string, codes: string[], loc: Loc }
  | { kind: 'http-error', code: string, words: string[], loc: Loc }
  /** `errorloc|errorloc302|errorloc303 <code> <url>`: the error answered with a redirect to `url`. */
  | { kind: 'errorloc', code: string, status: 302 | 303, url: string }

export interface GlobalSettings {
  maxconn?: number
  /** `maxconnrate`, `maxsessrate`, `maxsslrate`: accepts per second, the process over (lib/runtime/accept-gate.ts). */
  maxconnrate?: number
  maxsessrate?: number
  maxsslrate?: number
  /** `external-check` (§3.1): external health checks may run. */
  externalCheck?: boolean
  /** `insecure-fork-wanted` (§3.1): the process may start commands (external checks). */
  insecureForkWanted?: boolean
  /** `grace` (ms): how long after SIGUSR1 the soft stop begins, the listeners serving until then. */
  grace?: number
  /** `hard-stop-after` (ms): how long a soft stop may last before the connections left are cut. */
  hardStopAfter?: number
  /** `spread-checks` (0..50): each check and agent interval is drawn within ± this percent of it. */
  spreadChecks?: number
  /** `node` (stats page), `description` */
  node?: string
  description?: string
  /** `expose-experimental-directives`: allows `http-request normalize-uri`. */
  experimental?: boolean
  /** `quiet` (as -q) and `zero-warning` (as -dW, HAProxy's warnings are fatal). */
  quiet?: boolean
  zeroWarning?: boolean
  /** global keywords that were accepted only to be ignored (daemon, chroot, …): name → loc */
  ignored: Array<{ keyword: string, loc: Loc }>
  /** `stats timeout`, `stats maxconn` (concurrent runtime API connections, all sockets together), `stats socket` lines. */
  stats: { timeout?: number, maxconn?: number, sockets: StatsSocket[] }
  /** `log` targets of the global section (used by `log global` and by messages of no proxy). */
  logs: LogTarget[]
  logTag?: string
  /** `log-send-hostname [name]`: the host name put in syslog headers. */
  logSendHostname?: string
  tls?: GlobalTls
  /** `ssl-server-verify`: `none` turns the default verification of `ssl` servers off (`add server` too). */
  sslServerVerify?: 'none' | 'required'
  /** `tune.http.maxhdr`: more request headers than this is a 400 (default 101). */
  maxhdr?: number
  /** `tune.http.logurilen`: the request line in log lines is cut to this many bytes (default 1024). */
  logUriLen?: number
  /** `tune.comp.maxlevel` (1..9): the zlib level of compressed answers (HAProxy's default: 1). */
  compMaxLevel?: number
  /** `tune.bufsize` and `tune.maxrewrite`: a request head must fit in bufsize - maxrewrite bytes. */
  bufsize?: number
  maxrewrite?: number
  /** `tune.h2.*` (§3.2): the HTTP/2 settings announced to clients. */
  h2?: H2Tuning
  /** `server-state-file` and `server-state-base` (§3.1): where saved server states are read at start. */
  serverStateFile?: string
  serverStateBase?: string
  /** `set-var proc.<name> <expr>` and `set-var-fmt proc.<name> <fmt>` (§3.1), in order. */
  setVars?: GlobalSetVar[]
}

/** One `set-var` / `set-var-fmt` line of the global section. */
export interface GlobalSetVar {
  name: string
  /** A log-format string (`set-var-fmt`) rather than a sample expression. */
  fmt: boolean
  text: string
  loc: Loc
}

/** `tune.h2.header-table-size`, `…initial-window-size`, `…max-concurrent-streams`, `…max-frame-size`. */
export interface H2Tuning {
  headerTableSize?: number
  initialWindowSize?: number
  maxConcurrentStreams?: number
  maxFrameSize?: number
}

/** HAProxy 2.6's defaults for the limits a buffer puts on a request (§3.2 tune.*). */
export const DEFAULT_MAXHDR = 101
export const DEFAULT_BUFSIZE = 16384

/** The largest request head a buffer holds: bufsize less the room kept for rewrites (maxrewrite, at most half). */
export function requestHeadLimit (g: GlobalSettings): number {
  const bufsize = g.bufsize ?? DEFAULT_BUFSIZE
  const maxrewrite = Math.min(g.maxrewrite ?? 1024, bufsize / 2)
  return bufsize - Math.max(0, maxrewrite)
}

/** `stats socket <address> [level …] [mode …]` (configuration.txt §3.1): the runtime API. */
export interface StatsSocket {
  /** A unix socket path, `ipv4@host:port` / `host:port`, or `fd@N`. */
  address: string
  level: 'user' | 'operator' | 'admin'
  /** Permissions of a unix socket, e.g. 0o600; null = the process umask. */
  mode: number | null
  loc: Loc
}

/** A `resolvers` section (configuration.txt §5.3.2), HAProxy's defaults applied. */
export interface Resolvers {
  name: string
  nameservers: Array<{ name: string, host: string, port: number }>
  /** `parse-resolv-conf`: the name servers of /etc/resolv.conf too. */
  parseResolvConf: boolean
  /** `hold <status> <time>`, ms: how long a last good answer (`valid`) or a failure is kept. */
  hold: { valid: number, nx: number, obsolete: number, other: number, refused: number, timeout: number }
  resolveRetries: number
  /** `timeout resolve` (interval between resolutions), `timeout retry` (between retries), ms. */
  timeoutResolve: number
  timeoutRetry: number
  acceptedPayloadSize: number
  loc: Loc
}

/** A `ring` section (configuration.txt §3.9): a buffer of log lines sent to TCP syslog servers. */
export interface Ring {
  name: string
  /** The lines' framing (raw by default). */
  format: LogFraming
  /** `maxlen`: longest line kept, header included. */
  maxLen: number
  /** `size`: bytes of lines held while no server takes them; beyond, new lines are dropped. */
  size: number
  timeoutConnect: number | null
  timeoutServer: number | null
  servers: RingServer[]
  loc: Loc
}

export interface RingServer {
  name: string
  host: string
  port: number
  /** `log-proto octet-count` (RFC 6587 `<len> <line>`) rather than one line per `\n`. */
  octetCount: boolean
  loc: Loc
}

/** A `log-forward` section (configuration.txt §3.10): syslog listeners whose lines go to `log` targets. */
export interface LogForward {
  name: string
  /** `bind` (TCP, RFC 6587 framing) and `dgram-bind` (UDP) addresses. */
  binds: Array<{ host: string, port: number, loc: Loc }>
  dgramBinds: Array<{ host: string, port: number, loc: Loc }>
  logs: Array<LogTarget | 'global'>
  /** Concurrent TCP connections (10 by default). */
  maxconn: number
  backlog: number | null
  /** `timeout client`: an idle TCP connection is closed after it; null = never. */
  timeoutClient: number | null
  loc: Loc
}

/** A `cache` section (configuration.txt §6.2.1), HAProxy's defaults applied. */
export interface CacheSection {
  name: string
  /** `total-max-size` in bytes (written in megabytes); 0 = not set, which HAProxy refuses. */
  totalMaxSize: number
  /** `max-object-size` in bytes; null = a 256th of total-max-size. */
  maxObjectSize: number | null
  /** `max-age`, seconds: the longest an object stays (60 by default). */
  maxAge: number
  /** `process-vary on`: answers with a Vary header are stored per variant (off: never stored). */
  processVary: boolean
  /** `max-secondary-entries`: variants kept per URL (10 by default). */
  maxSecondaryEntries: number
  loc: Loc
}

export interface ParsedConfig {
  files: string[]
  global: GlobalSettings
  /** Frontends, backends and listens in config order (HAProxy's order for stats). */
  proxies: Proxy[]
  userlists: Userlist[]
  httpErrors: HttpErrorsSection[]
  /** `resolvers` sections (service discovery); absent when the configuration has none. */
  resolvers?: Resolvers[]
  /** `ring` sections; absent when the configuration has none. */
  rings?: Ring[]
  /** `log-forward` sections; absent when the configuration has none. */
  logForwards?: LogForward[]
  /** `cache` sections; absent when the configuration has none. */
  caches?: CacheSection[]
  /** `default-path` lines in config order (lib/config/default-path.ts); absent when there are none. */
  defaultPaths?: DefaultPathLine[]
  /** Everything the parser and checker found; an alert makes the config invalid. */
  diagnostics: Diagnostic[]
}
