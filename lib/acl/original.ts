// The request line as it arrived, for `capture.req.method`, `capture.req.uri` and the `method`
// fetch after `http-request set-method` (configuration.txt §7.3.6). HAProxy keeps the method it
// parsed (txn->meth) and a copy of the request line; rules that rewrite the line record the
// original here first, on the transaction itself, so reading it costs a property miss when no
// rule rewrote anything.

import type { HttpTxn } from './txn.js'

const ORIGINAL = Symbol('fastify-haproxy.acl.original')

interface Original {
  method: string
  uri: string
}

type Marked = HttpTxn & { [ORIGINAL]?: Original }

const uriOf = (t: HttpTxn): string => (t.absolute ?? '') + (t.query === null ? t.path : `${t.path}?${t.query}`)

/** Called by every rule that rewrites the method, path or query, before it does. */
export function keepOriginal (txn: HttpTxn): void {
  const t = txn as Marked
  if (t[ORIGINAL] === undefined) t[ORIGINAL] = { method: t.method, uri: uriOf(t) }
}

export function originalMethod (txn: HttpTxn): string {
  return (txn as Marked)[ORIGINAL]?.method ?? txn.method
}

export function originalUri (txn: HttpTxn): string {
  return (txn as Marked)[ORIGINAL]?.uri ?? uriOf(txn)
}
