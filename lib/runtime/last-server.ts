// The server a client connection keeps in a backend (configuration.txt §4.2 "option
// prefer-last-server"). HAProxy 2.6 sends a client's next request back to the server of its
// last one only while the session owns its connection to that server, observed against 2.6.12:
// - with `option prefer-last-server` and `http-reuse never` (with the default `http-reuse safe`
//   the connection goes back to the server's shared pool and the option changes nothing);
// - after a 401 asking for NTLM or Negotiate (the connection is then private), with or without
//   the option;
// and only when the algorithm is not deterministic (a hash still decides), the server connection
// is kept alive (not `http-server-close` / `httpclose`, nor closed by the server), and that
// server can take the request.

import type { ServerRuntime } from './backend.js'

/** Per client connection (txn.session): backend name → the server it keeps there. */
const kept = new WeakMap<object, Map<string, ServerRuntime>>()

/** The algorithms whose choice depends on nothing in the request (§4.2 balance). */
const UNDETERMINED = new Set(['roundrobin', 'static-rr', 'leastconn', 'first', 'random'])

export function keepsLastServer (algorithm: string): boolean {
  return UNDETERMINED.has(algorithm)
}

/** The server this connection keeps in `backend`, if it can take a request now. */
export function lastServer (session: object | undefined, backend: string): ServerRuntime | null {
  if (session === undefined) return null
  const srv = kept.get(session)?.get(backend)
  if (srv === undefined || !srv.usable) return null
  const limit = srv.limit()
  return limit > 0 && srv.served >= limit ? null : srv
}

/** An authentication challenge that ties the connection to its client (NTLM, Negotiate). */
const CONNECTION_AUTH = /^\s*(ntlm|negotiate)\b/i
/** A Connection header that closes the server's connection after the answer. */
const CONNECTION_CLOSE = /\bclose\b/i

/**
 * After a response: whether the connection to `server` stays this client's for the next
 * request. `prefer`: prefer-last-server with http-reuse never; `alive`: the gateway keeps the
 * server connection open (keep-alive mode); `raw`: the response's header names and values.
 */
export function keepServer (session: object | undefined, backend: string, server: ServerRuntime, status: number, raw: Buffer[], prefer: boolean, alive: boolean): void {
  if (session === undefined) return
  let map = kept.get(session)
  const before = map?.get(backend)
  if (!prefer && before === undefined && status !== 401) return
  if (alive && !serverCloses(raw) && (prefer || before === server || challenges(status, raw))) {
    if (map === undefined) kept.set(session, map = new Map())
    map.set(backend, server)
  } else if (before !== undefined) {
    map!.delete(backend)
  }
}

/** The value of each `name` header line (lower-case name). */
function eachRaw (raw: Buffer[], name: string, cb: (value: string) => boolean): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === name.length && raw[i]!.toString('latin1').toLowerCase() === name && cb(raw[i + 1]!.toString('latin1'))) return true
  }
  return false
}

function challenges (status: number, raw: Buffer[]): boolean {
  return status === 401 && eachRaw(raw, 'www-authenticate', (v) => CONNECTION_AUTH.test(v))
}

function serverCloses (raw: Buffer[]): boolean {
  return eachRaw(raw, 'connection', (v) => CONNECTION_CLOSE.test(v))
}
