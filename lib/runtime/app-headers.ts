// Headers the app's hooks set with reply.header() (CORS, helmet, a request id …) before the
// gateway took the request go on the response the gateway writes; the head the gateway writes
// (the server's answer, or its own page) wins on a name both have. They are held on the response
// and merged into the flat head given to writeHead, rather than set on the response first: once a
// header is set on it, node's writeHead takes its slow path for every header of the head (and
// keeps only the last of a repeated name, e.g. a server's several Set-Cookie lines).

import type { ServerResponse } from 'node:http'

/** Headers that say how this message is framed or carried: never taken from the app's reply. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer'])

const kAppHeaders = Symbol('fastify-haproxy.appHeaders')

interface Holding {
  [kAppHeaders]?: Record<string, unknown>
}

/** Whether the app set a header the gateway carries. */
function carries (headers: Record<string, unknown>): boolean {
  for (const name in headers) if (headers[name] !== undefined && !FRAMING.has(name)) return true
  return false
}

/**
 * Keeps the app's headers (Fastify's record, names in lower case) for the head the gateway
 * writes through writeHead (forward.ts); nothing is kept when the app set none.
 */
export function holdAppHeaders (headers: Record<string, unknown>, res: ServerResponse): void {
  if (carries(headers)) (res as Holding)[kAppHeaders] = headers
}

/**
 * Sets the app's headers on the response, for a head written by another Fastify app (the stats
 * page's): its writeHead replaces those of the same name.
 */
export function carryAppHeaders (headers: Record<string, unknown>, res: ServerResponse): void {
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined && !FRAMING.has(name)) res.setHeader(name, value as string | number | readonly string[])
  }
}

/**
 * The head to write: `head` itself when the app's headers were not held on `res`; else those of
 * them whose name `head` lacks, one line per value, before `head`.
 */
export function withAppHeaders (res: ServerResponse, head: string[]): string[] {
  const app = (res as Holding)[kAppHeaders]
  if (app === undefined) return head
  const merged: string[] = []
  for (const name in app) {
    const value = app[name]
    if (value === undefined || FRAMING.has(name) || hasHeader(head, name)) continue
    if (Array.isArray(value)) for (const v of value) merged.push(name, String(v))
    else merged.push(name, String(value))
  }
  for (let i = 0; i < head.length; i++) merged.push(head[i]!)
  return merged
}

/** Whether flat header pairs (names as given: undici's raw ones, a page's) hold `name` (lower-case). */
export function hasHeader (raw: ReadonlyArray<Buffer | string>, name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const given = raw[i]!
    // header names are ASCII tokens: a Buffer's length is the name's
    if (given.length === name.length && (given === name || given.toString().toLowerCase() === name)) return true
  }
  return false
}
