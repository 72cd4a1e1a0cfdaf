// `http-after-response` (configuration.txt §4.2): the last rules of every response, whoever made
// it: the server's answer, a deny, redirect, return or auth, an error page, the stats page. The
// gateway writes all of them through the response's writeHead, so the rules run there: the
// backend's first, then the frontend's, each list ended by its own `allow`.

import { STATUS_CODES, type OutgoingHttpHeader, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import type { CompiledProxy } from '../acl/compile.js'
import type { HttpResponseView, HttpTxn } from '../acl/txn.js'
import { flatten } from './forward.js'

type Rules = NonNullable<CompiledProxy['afterResponseRules']>

/** The rule lists one response goes through; the backend's once the request has one. */
export interface AfterResponse {
  backend: Rules | null
  /** Set when the app serves the request itself: HAProxy never sees that answer. */
  off: boolean
}

/** One header line into the view: repeated names keep their lines apart, as `res.fhdr` reads them. */
function addLine (h: HttpResponseView['headers'], name: string, value: string): void {
  const prev = h[name]
  if (prev === undefined) h[name] = value
  else if (Array.isArray(prev)) prev.push(value)
  else h[name] = [prev, value]
}

function viewOf (res: ServerResponse, status: number, given: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined): HttpResponseView {
  const h: HttpResponseView['headers'] = {}
  // headers set before (an app's hooks): writeHead's own replace those of the same name, as in node
  for (const name of res.getHeaderNames()) {
    const v = res.getHeader(name)
    res.removeHeader(name)
    if (v !== undefined) h[name] = Array.isArray(v) ? [...v] : String(v)
  }
  if (Array.isArray(given)) {
    const replaced = new Set<string>()
    for (let i = 0; i + 1 < given.length; i += 2) {
      const name = String(given[i]).toLowerCase()
      if (!replaced.has(name)) { delete h[name]; replaced.add(name) }
      addLine(h, name, String(given[i + 1]))
    }
  } else if (given !== undefined) {
    for (const key in given) {
      const v = given[key]
      if (v !== undefined) h[key.toLowerCase()] = Array.isArray(v) ? v.map(String) : String(v)
    }
  }
  return { status, headers: h }
}

/**
 * Runs the frontend's http-after-response rules (and the backend's, once `backend` is set) on
 * the head of `res` when it is written. Called only when the configuration has such rules.
 */
export function watchAfterResponse (res: ServerResponse, txn: HttpTxn, frontend: Rules | null): AfterResponse {
  const state: AfterResponse = { backend: null, off: false }
  const writeHead = res.writeHead as unknown as (this: ServerResponse, ...args: unknown[]) => ServerResponse
  res.writeHead = function afterResponse (this: ServerResponse, status: number, ...rest: unknown[]): ServerResponse {
    if (state.off || (state.backend === null && frontend === null)) return writeHead.call(this, status, ...rest)
    let reason = typeof rest[0] === 'string' ? rest[0] : undefined
    const given = (typeof rest[0] === 'string' ? rest[1] : rest[0]) as OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined
    const view = viewOf(this, status, given)
    state.backend?.(txn, view)
    frontend?.(txn, view)
    if (view.status !== status || view.reason !== undefined) reason = view.reason ?? STATUS_CODES[view.status] ?? 'Unknown'
    const rec = txn.log
    if (rec != null && rec.status >= 0) rec.status = view.status
    const flat = flatten(view.headers)
    return reason === undefined ? writeHead.call(this, view.status, flat) : writeHead.call(this, view.status, reason, flat)
  }
  return state
}
