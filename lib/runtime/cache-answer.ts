// A request answered from the cache (`http-request cache-use` found it, lib/runtime/cache.ts):
// the stored head with its `Age`, then the http-response rules of the proxies the request went
// through, as HAProxy runs them on its cache's answers (observed on 2.6.12: a header they add is
// on every hit, once). No server is contacted; the frontend counts it as intercepted.

import type { ServerResponse } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { HttpResponseView, HttpTxn } from '../acl/txn.js'
import { htxResponseBytes } from '../errors.js'
import { ageOf, notModified, type CachedObject } from './cache.js'
import { CompressionRule } from './compression.js'
import { answer, flatten, headerObject, requestHeadBytes, writeHead, type BackendRoute, type FrontendRoute } from './forward.js'
import { countFront } from './listener.js'

export function answerFromCache (object: CachedObject, cache: string, txn: HttpTxn, res: ServerResponse, fe: FrontendRoute, be: BackendRoute | null): void {
  // a conditional request the stored answer satisfies: 304, same headers, no body (observed)
  let status = notModified(txn, object) ? 304 : object.status
  let headers: string[] = [...object.headers, 'age', String(ageOf(object, Date.now()))]
  let reason = STATUS_CODES[status] ?? ''
  if (be?.rules != null || fe.proxy.httpResponse.length > 0) {
    const view: HttpResponseView = { status, headers: headerObject(headers), cache }
    const verdict = (be?.rules != null ? be.rules.responseRules(txn, view) : null) ?? fe.rules.responseRules(txn, view)
    if (verdict !== null) {
      answer(verdict, res, fe, be)
      return
    }
    if (view.status !== status || view.reason !== undefined) reason = view.reason ?? STATUS_CODES[view.status] ?? ''
    status = view.status
    headers = flatten(view.headers)
  }
  const body = txn.method === 'HEAD' || status === 304 ? null : object.body
  const c = fe.counters.counters
  // the cache keeps answers as the server sent them: a hit is compressed for the request that
  // gets it (observed: gzip for one client, the plain body for the next)
  const compression = be === null ? fe.compression : be.compressionFor(fe.proxy)
  const algo = body === null || compression === null ? null : compression.choose(txn.method, res.req.httpVersionMajor === 1 && res.req.httpVersionMinor === 0, txn.headers)
  if (algo !== null && compression!.applies(status, headers, true)) {
    CompressionRule.rewrite(headers, algo)
    const compressor = compression!.compressor(algo, false, be === null ? [c] : [c, be.backend.counters])
    compressor.start(chunk => res.write(chunk), go => res.once('drain', go), () => res.end())
    res.once('close', () => { compressor.destroy() })
    writeHead(res, status, reason, headers)
    compressor.write(body!, () => {})
    compressor.end()
  } else {
    writeHead(res, status, reason, headers)
    // an answer stored without Content-Length goes out chunked again, as HAProxy sends it
    if (body !== null) res.write(body)
    res.end()
  }
  const out = htxResponseBytes(status, reason, headers) + (body?.length ?? 0)
  c.intercepted++
  c.countResponse(status)
  countFront(c, res.socket, 'bin', requestHeadBytes(res.req))
  countFront(c, res.socket, 'bout', out)
}
