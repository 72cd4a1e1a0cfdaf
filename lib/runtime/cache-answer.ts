// A request answered from the cache (`http-request cache-use` found it, lib/runtime/cache.ts):
// the stored head with its `Age`, then the http-response rules of the proxies the request went
// through, as HAProxy runs them on its cache's answers (observed on 2.6.12: a header they add is
// on every hit, once). No server is contacted; the frontend counts it as intercepted.

import type { ServerResponse } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { HttpResponseView, HttpTxn } from '../acl/txn.js'
import { htxResponseBytes } from '../errors.js'
import { ageOf, notModified, type CachedObject } from './cache.js'
import { answer, flatten, headerObject, requestHeadBytes, writeHead, type BackendRoute, type FrontendRoute } from './forward.js'

export function answerFromCache (object: CachedObject, txn: HttpTxn, res: ServerResponse, fe: FrontendRoute, be: BackendRoute | null): void {
  // a conditional request the stored answer satisfies: 304, same headers, no body (observed)
  let status = notModified(txn, object) ? 304 : object.status
  let headers: string[] = [...object.headers, 'age', String(ageOf(object, Date.now()))]
  let reason = STATUS_CODES[status] ?? ''
  if (be?.rules != null || fe.proxy.httpResponse.length > 0) {
    const view: HttpResponseView = { status, headers: headerObject(headers) }
    const verdict = (be?.rules != null ? be.rules.responseRules(txn, view) : null) ?? fe.rules.responseRules(txn, view)
    if (verdict !== null) {
      answer(verdict, res, fe, be)
      return
    }
    if (view.status !== status || view.reason !== undefined) reason = view.reason ?? STATUS_CODES[view.status] ?? ''
    status = view.status
    headers = flatten(view.headers)
  }
  writeHead(res, status, reason, headers)
  const body = txn.method === 'HEAD' || status === 304 ? null : object.body
  // an answer stored without Content-Length goes out chunked again, as HAProxy sends it
  if (body !== null) res.write(body)
  res.end()
  const out = htxResponseBytes(status, reason, headers) + (body?.length ?? 0)
  const c = fe.counters.counters
  c.intercepted++
  c.countResponse(status)
  c.bin += requestHeadBytes(res.req)
  c.bout += out
}
