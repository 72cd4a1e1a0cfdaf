// A transaction from plain parts, for tests, benchmarks and embedders that do not start from a
// node request (the gateway builds its own from IncomingMessage in lib/runtime/forward.ts).

import type { IncomingHttpHeaders } from 'node:http'
import type { TLSSocket } from 'node:tls'

import type { HttpTxn } from './txn.js'

export interface TxnParts {
  method?: string
  /** Request target in origin form: path and optional `?query`. */
  url?: string
  /** Header names in any case; values as node would hold them. */
  headers?: Record<string, string | string[]>
  version?: string
  src?: string
  srcPort?: number
  dst?: string
  dstPort?: number
  ssl?: boolean
  tls?: TLSSocket
  frontend?: string
}

export function txnFromParts (parts: TxnParts = {}): HttpTxn {
  const url = parts.url ?? '/'
  const q = url.indexOf('?')
  const headers: IncomingHttpHeaders = {}
  for (const [k, v] of Object.entries(parts.headers ?? {})) headers[k.toLowerCase()] = v
  return {
    method: parts.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? null : url.slice(q + 1),
    headers,
    version: parts.version ?? '1.1',
    src: parts.src ?? '127.0.0.1',
    srcPort: parts.srcPort ?? 40000,
    dst: parts.dst ?? '127.0.0.1',
    dstPort: parts.dstPort ?? 80,
    ssl: parts.ssl ?? parts.tls !== undefined,
    tls: parts.tls ?? null,
    frontend: parts.frontend ?? 'fe',
    backend: '',
    vars: null,
    authUser: null
  }
}
