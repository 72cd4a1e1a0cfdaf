// The request as the routing engine sees it: built once per request by the gateway from
// node's IncomingMessage, read by fetches, rewritten in place by http-request rules.

import type { IncomingHttpHeaders } from 'node:http'
import type { Loc } from '../config/model.js'
import type { TLSSocket } from 'node:tls'
import type { LogRecord } from '../log/record.js'
import type { ConnectionAddresses } from '../proxy-protocol.js'
import type { TcpPayload } from '../tcp/payload.js'
import type { Tracked } from './stick-counters.js'
import type { CachedObject, CacheStore } from '../runtime/cache.js'

/** A connection's error as HAProxy numbers it (fc_err: 24 closed during the handshake, 34 handshake failure) and OpenSSL's. */
export interface ConnectionError {
  code: number
  text: string
  /** OpenSSL's error code (0: none) and its `error:XXXXXXXX:lib::reason` text. */
  ssl: number
  sslText: string | null
}

export interface HttpTxn {
  method: string
  /** Path as received, never percent-decoded or normalised (HAProxy matches it raw). */
  path: string
  /** Text after the first '?', or null when the URI has no '?' (`/x?` gives ''). */
  query: string | null
  /**
   * `scheme://authority` of an absolute-form target (`GET http://h/x`), kept in front of the
   * path toward the server and in `url`, as HAProxy does; absent for origin-form.
   */
  absolute?: string
  /** The `name` of the bind that accepted the connection (`so_name`), when it has one. */
  soName?: string
  /**
   * Lower-case names, as node gives them (repeated headers joined with ', ') until a full-line
   * read (`requestLines`) puts repeated lines apart. Rules rewrite it in place.
   */
  headers: IncomingHttpHeaders
  /** node's `rawHeaders` of the request, until `requestLines` has used them. */
  rawHeaders?: readonly string[] | undefined
  /** '1.0' | '1.1' | '2.0' */
  version: string
  src: string
  srcPort: number
  dst: string
  dstPort: number
  /**
   * The client connection's own endpoints (`fc_src`, `fc_dst` …), when `src`/`dst` may differ:
   * a PROXY protocol header announced others, or `set-src`/`set-dst` changed them.
   */
  connection?: Readonly<ConnectionAddresses>
  ssl: boolean
  /** The client's TLS connection (for `ssl_fc_*`, `ssl_c_*`), null on clear connections. */
  tls: TLSSocket | null
  /** Name of the frontend that accepted the request (for `%f`, `fe_name`). */
  frontend: string
  /** Backend chosen so far (for `%b`, `be_name`), '' before switching. */
  backend: string
  /** The client connection, whose `sess.` variables every request on it shares (lib/acl/vars.ts). */
  session?: object
  /** Room left for the request's rewrites, while its http-request rules run (RewriteBudget). */
  rewrite?: RewriteBudget
  /** `set-var` storage: full names (`txn.x`, `req.y`) → value; created on first use. */
  vars: Map<string, string | number | boolean> | null
  /** Authenticated user name after a successful `http_auth`, else null. */
  authUser: string | null
  /** The request's log record when its frontend logs (log-format variables read it). */
  log?: LogRecord | null
  /** The frontend's request capture slots (`capture request header`, `http-request capture`), once filled. */
  reqCaptures?: Array<string | null>
  /** Its response capture slots (`capture response header`, `http-response capture … id`). */
  resCaptures?: Array<string | null>
  /** In a `mode tcp` proxy: what the client sent so far, for `req.len`, `req.payload`, `req.ssl_sni` … */
  payload?: TcpPayload
  /** In a `mode tcp` proxy, while `tcp-response content` rules run: what the server sent so far (`res.payload`, `res.len`). */
  resPayload?: TcpPayload
  /** The stick counters this stream tracks (`track-sc0/1/2`), by number; absent until one is. */
  tracked?: Array<Tracked | undefined>
  /**
   * The request body the gateway waited for (`option http-buffer-request`, `http-request
   * wait-for-body`), read by `req.body*`; absent while nothing was waited for.
   */
  body?: ReceivedBody
  /** Where the http-request rules go on after a `wait-for-body` paused them (an index in the list). */
  resumeAt?: number
  /** Why the connection failed before any request (`fc_err`, `fc_err_str`, `ssl_fc_err`, `ssl_fc_err_str`): error-log-format lines. */
  connError?: ConnectionError
  /** The last final rule that matched (`last_rule_file` / `last_rule_line`): tcp content and HTTP rules, not legacy redirects. */
  lastRule?: Loc
  /** `http-response cache-store` keeps this answer: its body goes there too (lib/runtime/cache.ts). */
  cacheStore?: CacheStore
}

/** The part of a request body received before the rules read it (lib/runtime/request-body.ts). */
export interface ReceivedBody {
  /** What the rules see: at most one buffer of it (HAProxy's `req.body` reads its buffer). */
  readonly data: Buffer
  /** The whole body was received. */
  readonly complete: boolean
}

/** The response as http-response rules see and rewrite it. */
export interface HttpResponseView {
  status: number
  /** A reason phrase `set-status … reason` gave; absent: the status's own. */
  reason?: string
  headers: IncomingHttpHeaders
  /** The server that answered (`srv_name`, `srv_id`); absent for answers the gateway made. */
  server?: { readonly name: string, readonly id: number }
  /** The protocol the server connection negotiated through ALPN over TLS (`ssl_bc_alpn`). */
  alpn?: string
  /** The part of the body an `http-response wait-for-body` waited for (`res.body`); absent without a wait. */
  body?: ReceivedBody
  /** Room left for the response's rewrites, while its http-response rules run (RewriteBudget). */
  rewrite?: RewriteBudget
  /** The name of the cache that answered (`res.cache_hit`, `res.cache_name`); absent for other answers. */
  cache?: string
  /** The algorithm `compression` applies to the answer (`res.comp`, `res.comp_algo`); absent: none. */
  compression?: string
}

/**
 * What rules may still add to a message (configuration.txt §3.2 `tune.maxrewrite`, §4.2
 * `strict-mode`): HAProxy's buffer (`tune.bufsize`) holds the head and the part of the body read
 * with it, at most bufsize less maxrewrite, and a rewrite that does not fit in what is left fails
 * (counted in `wrew`). In strict mode (the default, set again at the start of each ruleset) the
 * message then gets a 500; otherwise the rewrite is skipped.
 */
export interface RewriteBudget {
  /** Bytes the message may grow by. */
  room: number
  strict: boolean
  /** Rewrites that did not fit in the ruleset being run. */
  failed: number
}

/** What the frontend decided; constant objects where possible so the hot path allocates nothing. */
export type Decision =
  | { kind: 'backend', backend: string }
  /** No switching rule matched and there is no default_backend (HAProxy answers 503). */
  | { kind: 'none' }
  /** `contentType` goes after Content-Length, the other headers before it, as HAProxy writes them. */
  | { kind: 'reply', status: number, headers: Array<[string, string]>, contentType: string | null, body: string | Buffer }
  | { kind: 'deny', status: number }
  /** The request is invalid (HAProxy's 400, counted as a failed request): `normalize-uri … strict`. */
  | { kind: 'invalid' }
  | { kind: 'redirect', status: number, location: string, headers: Array<[string, string]> }
  | { kind: 'auth', realm: string }
  /** `http-request use-service <name>` (prometheus-exporter) */
  | { kind: 'service', service: string }
  /** The proxy's answer for an error status (its errorfile or http-error, else HAProxy's page): `return … default-errorfiles`. */
  | { kind: 'page', status: number }
  /** Close the connection without answering: `http-request reject`, an empty errorfile. */
  | { kind: 'reject' }
  /** A rewrite failed in strict mode (RewriteBudget): HAProxy's 500. */
  | { kind: 'rewrite-failed' }
  /** `http-request tarpit`: hold the request `delay` ms, then answer with `then`. */
  | { kind: 'tarpit', delay: number, then: Decision }
  /** `http-request silent-drop`: forget the connection without a word; the client's timeout ends it. */
  | { kind: 'silent-drop' }
  /** `http-request cache-use` found the answer in the cache: it is served from there. */
  | { kind: 'cache', object: CachedObject, cache: string }
  /**
   * `http-request wait-for-body time <ms> [at-least <bytes>]`: the rules pause until the body is
   * in (or `atLeast` bytes of it, or a buffer's worth), then go on; 408 after `time` ms.
   */
  | { kind: 'wait-for-body', time: number, atLeast: number }
