// `statsRoutes`: one proxy's stats page as an encapsulated Fastify plugin. HAProxy 2.6 semantics
// (configuration.txt §4.2 "stats *", management.txt §9): `stats uri` is a prefix of the raw
// request URI (path and query, never decoded or normalised; absolute-form URIs use their path),
// served for GET, HEAD and POST; URL modifiers (`;csv`, `;json`, `;typed`, `;up`, `;no-maint`,
// `;norefresh`, `;st=`, `scope=`) are looked for anywhere after the prefix. Access: `stats
// http-request allow|deny|auth` rules first, then `stats auth` users via @fastify/basic-auth,
// behind a first look at the Authorization header as HAProxy reads it (lib/acl/fetches.ts
// parseBasicAuth): what HAProxy cannot read is refused before any user is looked up.

import { createHash, timingSafeEqual } from 'node:crypto'
import { createRequire } from 'node:module'
import { Readable } from 'node:stream'
import basicAuth from '@fastify/basic-auth'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { parseBasicAuth } from '../acl/fetches.js'
import type { Decision, HttpTxn } from '../acl/txn.js'
import type { Proxy } from '../config/model.js'
import { builtinErrorPage } from '../errors.js'
import { makeTxn } from '../runtime/forward.js'
import { adminLocation, parseAdminForm, runAdmin } from './admin.js'
import { renderCsv } from './csv.js'
import { renderHtml } from './html.js'
import { renderJson, renderTyped } from './json.js'
import type { AdminHandler, AdminStatus, StatsModel } from './model.js'
import type { RowFilter } from './rows.js'

export interface StatsRoutesOptions {
  proxy: Proxy
  model: () => StatsModel
  /** Applies the admin form's actions; without it every admin POST answers `;st=DENY`. */
  admin?: AdminHandler
  /**
   * The proxy's compiled `stats admin` / `stats http-request` logic (lib/acl compileProxy's
   * CompiledProxy has both). Required when the proxy has such lines: without it registration
   * fails rather than leave the page open or the form enabled.
   */
  rules?: StatsRules
  /** Shown in the page title unless `stats hide-version`; default: this package's version. */
  version?: string
  /** The clock the durations on the page are measured with (ms since epoch); default Date.now. */
  now?: () => number
}

/** The part of lib/acl's CompiledProxy the stats page runs. */
export interface StatsRules {
  /** `stats admin if|unless <cond>` holds for this request. */
  statsAdmin (txn: HttpTxn): boolean
  /**
   * `stats http-request` rules: a deny or auth Decision, 'allow' (skips `stats auth`), or null
   * when no rule decided (then `stats auth` applies).
   */
  statsRules (txn: HttpTxn): Decision | 'allow' | null
}

declare module 'fastify' {
  interface FastifySchema {
    /** Leaves a route out of the API description: @fastify/swagger's key, declared here for the stats routes. */
    hide?: boolean
  }
}

export type StatsFormat = 'html' | 'csv' | 'json' | 'typed' | 'json-schema'

/** What the URL asks for, from the text after the stats prefix. */
export interface StatsRequest {
  format: StatsFormat
  up: boolean
  noMaint: boolean
  noRefresh: boolean
  /** `;st=<code>`: the banner to show (UNKN for unknown codes). */
  status?: AdminStatus
  /** `scope=<text>`, up to `&` or `;`, at most 20 characters (STAT_SCOPE_TXT_MAXLEN). */
  scope?: string
}

const STATUS_CODES: readonly AdminStatus[] = ['DONE', 'PART', 'NONE', 'ERRP', 'EXCD', 'DENY', 'UNKN', 'IVAL']
const SCOPE_MAX = 20
const FORM_LIMIT = 64 * 1024

/** This package's version (stats page title, `show info`). */
export const PACKAGE_VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version
  } catch {
    return 'unknown'
  }
})()

/** The request target as HAProxy matches it: the raw URI, or the path of an absolute-form URI. */
export function requestTarget (url: string): string {
  if (url.charCodeAt(0) === 47 /* / */) return url
  const scheme = url.indexOf('://')
  if (scheme <= 0) return url
  const slash = url.indexOf('/', scheme + 3)
  return slash < 0 ? '/' : url.slice(slash)
}

/** Is this raw request URI for a stats page at `uri`? (HAProxy: a byte-wise prefix.) */
export function matchesStatsUri (uri: string, url: string): boolean {
  return requestTarget(url).startsWith(uri)
}

/**
 * Routes the stats page on the raw request target, as HAProxy selects it, never on the decoded
 * path find-my-way matched: the stats routes carry this constraint, so `/%68aproxy_stats` does
 * not reach them (it goes where HAProxy sends it) and `stats uri /admin?stats` leaves `/admin` to
 * the app or the backends. The derived value is the target itself; a route's store answers when
 * its `stats uri` is a prefix of it (the longest one wins).
 */
type ConstraintStrategy = Parameters<FastifyInstance['addConstraintStrategy']>[0]
type ConstraintEntry = Parameters<ReturnType<ConstraintStrategy['storage']>['set']>[1]

const statsUriConstraint: ConstraintStrategy = {
  name: 'haproxyStatsUri',
  storage () {
    const byUri = new Map<string, ConstraintEntry>()
    let longestFirst: string[] = []
    return {
      get (target: unknown) {
        if (typeof target !== 'string') return null
        for (const uri of longestFirst) if (target.startsWith(uri)) return byUri.get(uri) ?? null
        return null
      },
      set (uri: unknown, entry: ConstraintEntry) {
        byUri.set(String(uri), entry)
        longestFirst = [...byUri.keys()].sort((a, b) => b.length - a.length)
      }
    }
  },
  deriveConstraint (req) {
    return requestTarget(req.url ?? '')
  }
}

export function parseStatsRequest (rest: string): StatsRequest {
  let format: StatsFormat = 'html'
  if (rest.includes(';csv')) format = 'csv'
  if (rest.includes(';typed')) format = 'typed'
  if (rest.includes(';json')) format = rest.includes(';json-schema') ? 'json-schema' : 'json'
  const out: StatsRequest = {
    format,
    up: rest.includes(';up'),
    noMaint: rest.includes(';no-maint'),
    noRefresh: rest.includes(';norefresh')
  }
  const st = rest.indexOf(';st=')
  if (st >= 0) {
    const code = rest.slice(st + 4, st + 8)
    out.status = STATUS_CODES.find(c => c === code) ?? 'UNKN'
  }
  const sc = rest.indexOf('scope=')
  if (sc >= 0) {
    let end = sc + 6
    while (end < rest.length && rest[end] !== '&' && rest[end] !== ';') end++
    out.scope = rest.slice(sc + 6, Math.min(end, sc + 6 + SCOPE_MAX))
  }
  return out
}

const CONTENT_TYPES: Record<StatsFormat, string> = {
  html: 'text/html',
  csv: 'text/plain',
  typed: 'text/plain',
  json: 'application/json',
  'json-schema': 'application/json'
}

/** Constant-time check of `user:password` against every configured pair (no early exit). */
function credentialChecker (users: ReadonlyArray<{ user: string, password: string }>): (user: string, password: string) => boolean {
  const digest = (user: string, password: string): Buffer => createHash('sha256').update(user).update('\0').update(password).digest()
  const expected = users.map(u => digest(u.user, u.password))
  return (user, password) => {
    const got = digest(user, password)
    let ok = false
    for (const e of expected) ok = timingSafeEqual(e, got) || ok
    return ok
  }
}

/**
 * HAProxy's page for a refusal of the stats applet, its lines in HAProxy's order. HAProxy 2.6.12
 * then closes an HTTP/1 connection without saying so in the head (observed for 401 and 403).
 */
function sendBuiltin (reply: FastifyReply, status: number, realm?: string): void {
  const page = builtinErrorPage(status)
  reply.code(status).header('content-length', page.body.length).header('cache-control', 'no-cache').type('text/html')
  if (realm !== undefined) reply.header('www-authenticate', `Basic realm="${realm.replace(/["\\]/g, '\\$&')}"`)
  const res = reply.raw
  // node detaches the socket from the response before 'finish' listeners added here run
  const socket = res.socket
  if (res.req?.httpVersionMajor === 1 && socket !== null) res.once('finish', () => { socket.end() })
  reply.send(page.body)
}

export async function statsRoutes (app: FastifyInstance, opts: StatsRoutesOptions): Promise<void> {
  const { proxy } = opts
  const clock = opts.now ?? Date.now
  const stats = proxy.stats
  if (stats === null) throw new Error(`proxy '${proxy.name}' has no stats configuration`)
  const uri = stats.uri
  const realm = stats.realm !== '' ? stats.realm : 'HAProxy Statistics'
  const version = opts.version ?? PACKAGE_VERSION

  const needsTxn = stats.httpRequest.length > 0 || stats.admin !== null
  const rules = opts.rules
  if (needsTxn && rules === undefined) {
    throw new Error(`the stats rules of '${proxy.name}' (${stats.loc.file}:${stats.loc.line}) need the 'rules' option of statsRoutes`)
  }

  if (stats.auth.length > 0) {
    const check = credentialChecker(stats.auth)
    await app.register(basicAuth, {
      validate: async (user: string, password: string) => {
        if (!check(user, password)) throw new Error('Unauthorized')
      },
      authenticate: { realm },
      // HAProxy allows several spaces after the scheme and trailing ones (parseBasicAuth has
      // already refused the tabs the lax reading would take)
      strictCredentials: false,
      utf8: false
    })
  }

  // Everything POSTed here is the admin form: read it as text whatever its content-type says.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_req, body, done) => { done(null, body) })

  app.setErrorHandler((err: { statusCode?: number }, _request, reply) => {
    const status = err.statusCode ?? 500
    // basic-auth has already set WWW-Authenticate on its 401s
    sendBuiltin(reply, status >= 400 && status < 600 ? status : 500)
  })

  const kTxn = Symbol('stats.txn')
  type StatsRequestState = FastifyRequest & { [kTxn]?: HttpTxn }

  app.addHook('onRequest', (request, reply, done) => {
    if (needsTxn && rules !== undefined) {
      const txn = makeTxn(request.raw, proxy.name)
      ;(request as StatsRequestState)[kTxn] = txn
      const d = rules.statsRules(txn)
      if (d === 'allow') { done(); return }
      if (d !== null) {
        if (d.kind === 'auth') sendBuiltin(reply, 401, d.realm !== '' ? d.realm : realm)
        else sendBuiltin(reply, d.kind === 'deny' ? d.status : 403)
        return
      }
    }
    if (stats.auth.length === 0) { done(); return }
    if (parseBasicAuth(request.headers.authorization) === null) { sendBuiltin(reply, 401, realm); return }
    app.basicAuth(request, reply, done)
  })

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<string | FastifyReply> => {
    const target = requestTarget(request.raw.url ?? '')
    const q = parseStatsRequest(target.slice(uri.length))
    reply.header('cache-control', 'no-cache')
    const txn = (request as StatsRequestState)[kTxn]
    const isAdmin = stats.admin !== null && txn !== undefined && rules !== undefined && rules.statsAdmin(txn)

    if (request.method === 'POST') {
      let status: AdminStatus = 'DENY'
      if (isAdmin && opts.admin !== undefined) {
        const body = typeof request.body === 'string' ? request.body : ''
        status = runAdmin(parseAdminForm(body), opts.model(), opts.admin)
      }
      reply.code(303).type('text/plain').header('location', adminLocation(uri, status, q.noRefresh, q.scope))
      return ''
    }

    if (stats.refresh !== undefined && stats.refresh > 0 && !q.noRefresh) reply.header('refresh', String(Math.round(stats.refresh / 1000)))
    reply.type(CONTENT_TYPES[q.format])
    const model = opts.model()
    const now = clock()
    const filter: RowFilter = { scopes: stats.scope, self: proxy.name, up: q.up, noMaint: q.noMaint, legends: stats.showLegends }
    if (q.scope !== undefined) filter.search = q.scope
    // sent as a stream: without Content-Length, chunked, as HAProxy's stats applet sends it
    return reply.send(Readable.from([render(q, model, filter, now, isAdmin)]))
  }

  const render = (q: StatsRequest, model: StatsModel, filter: RowFilter, now: number, isAdmin: boolean): string => {
    switch (q.format) {
      case 'csv': return renderCsv(model, filter, now)
      case 'json': return renderJson(model, filter, now)
      case 'typed': return renderTyped(model, filter, now)
      case 'json-schema': return JSON_SCHEMA
      case 'html': return renderHtml(model, {
        uri,
        stats,
        self: proxy.name,
        admin: isAdmin && opts.admin !== undefined,
        noRefresh: q.noRefresh,
        filter,
        ...(q.status !== undefined ? { status: q.status } : {}),
        version,
        now
      })
    }
  }

  // The prefix as routes: the path part exactly, and everything under it when the prefix has no
  // query; the constraint keeps them to targets that start with the raw prefix; `hide` keeps
  // them out of @fastify/swagger's description wherever the routes are registered.
  const qm = uri.indexOf('?')
  const path = qm >= 0 ? uri.slice(0, qm) : uri
  const urls = qm >= 0 ? [path] : [path, path + '*']
  if (!app.hasConstraintStrategy(statsUriConstraint.name)) app.addConstraintStrategy(statsUriConstraint)
  // other methods get HAProxy's 503: the stats applet does not serve them, and the stats
  // listener has no server for them (recorded from HAProxy 2.6.12: DELETE /stats → 503)
  const unserved = app.supportedMethods.filter(m => m !== 'GET' && m !== 'HEAD' && m !== 'POST')
  for (const url of urls) {
    app.route({ method: ['GET', 'HEAD', 'POST'], url, exposeHeadRoute: false, schema: { hide: true }, constraints: { [statsUriConstraint.name]: uri }, handler })
    app.route({ method: unserved, url, schema: { hide: true }, constraints: { [statsUriConstraint.name]: uri }, handler: (_request, reply) => { sendBuiltin(reply, 503) } })
  }
}

/** `;json-schema` (management.txt §9.4): the shape of `;json`, draft-04. */
const JSON_SCHEMA = JSON.stringify({
  $schema: 'http://json-schema.org/draft-04/schema#',
  title: 'Stat',
  type: 'array',
  items: {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        objType: { enum: ['Frontend', 'Backend', 'Listener', 'Server', 'Unknown'] },
        proxyId: { type: 'integer', minimum: 0 },
        id: { type: 'integer', minimum: 0 },
        field: {
          type: 'object',
          properties: { pos: { type: 'integer', minimum: 0 }, name: { type: 'string' } },
          required: ['pos', 'name']
        },
        processNum: { type: 'integer', minimum: 1 },
        tags: {
          type: 'object',
          properties: {
            origin: { enum: ['Metric', 'Status', 'Key', 'Config', 'Product', 'Unknown'] },
            nature: { enum: ['Gauge', 'Limit', 'Min', 'Max', 'Rate', 'Counter', 'Duration', 'Age', 'Time', 'Name', 'Output', 'Avg', 'Unknown'] },
            scope: { enum: ['Cluster', 'Process', 'Service', 'System', 'Unknown'] }
          },
          required: ['origin', 'nature', 'scope']
        },
        value: {
          type: 'object',
          properties: { type: { enum: ['s32', 's64', 'u32', 'u64', 'str'] }, value: {} },
          required: ['type', 'value']
        }
      },
      required: ['objType', 'proxyId', 'id', 'field', 'processNum', 'tags', 'value']
    }
  }
})
