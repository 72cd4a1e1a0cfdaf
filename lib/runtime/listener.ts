// `option socket-stats` (configuration.txt §4.2): every listener of a frontend (each address of
// each `bind`) keeps counters of its own, the type-3 rows of the stats after the FRONTEND row.
// The accepted socket carries its listener; the frontend's per-request counts go through
// countFront, which adds them to that listener too.

import type { AddressInfo, Server, Socket } from 'node:net'
import type { Proxy } from '../config/model.js'
import { type ListenerView, TrafficCounters } from './state.js'

const kListener = Symbol('fastify-haproxy.listener')

type Tagged = { [kListener]?: ListenerCounters }

/** Set by the first listener made: until then countFront reads no socket. */
let listening = false

/** The counters HAProxy 2.6 keeps per listener besides its sessions (observed on 2.6.12). */
export type ListenerField = 'bin' | 'bout' | 'dreq' | 'dresp' | 'ereq' | 'wrew' | 'eint'

/** Where a server listens among the listeners of its section. */
export interface ListenerSpec {
  /** Counts every address of every bind of the section, from 1. */
  sid: number
  /** The bind's `name`. */
  name: string | undefined
  /** The bind's `maxconn`. */
  maxconn: number | undefined
}

/** One listener's row: its sessions, and what countFront adds to it. */
export class ListenerCounters implements ListenerView {
  readonly counters = new TrafficCounters()
  /** `ip:port` once listening (the `addr` column). */
  addr = ''

  constructor (
    /** The counters of the listener's section: only what is counted there is counted here too. */
    readonly section: TrafficCounters,
    /** Position among every address of every bind of the section, from 1 (the `sid` column). */
    readonly sid: number,
    /** The bind's `name`, else `sock-<sid>`. */
    readonly name: string,
    /** The bind's `maxconn`, 0 when unset (the `slim` column). */
    readonly maxconn: number
  ) {
    listening = true
  }

  /** Takes its address from the server, now or when it starts listening. */
  listensOn (server: Server): void {
    const read = (): void => {
      const a = server.address() as AddressInfo | string | null
      if (a !== null && typeof a === 'object') this.addr = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
    }
    if (server.listening) read()
    else server.once('listening', read)
  }

  /** A connection this listener accepted: a session, and the socket remembers its listener. */
  accept (socket: Socket): void {
    const c = this.counters
    c.stot++
    if (++c.scur > c.smax) c.smax = c.scur
    this.tag(socket)
    socket.once('close', () => { c.scur-- })
  }

  /** The socket requests arrive on when it is not the accepted one (TLS). */
  tag (socket: object): void { (socket as Tagged)[kListener] = this }
}

/**
 * Under the section's `option socket-stats`, its listener `spec` on `server` (made on first use by
 * `counters`, the section's FrontendCounters); else undefined.
 */
export function socketStatsListener (proxy: Proxy, counters: { listener (spec: ListenerSpec, server: Server): ListenerCounters }, spec: ListenerSpec, server: Server): ListenerCounters | undefined {
  return proxy.options['socket-stats'] === true ? counters.listener(spec, server) : undefined
}

/**
 * Adds `n` to a frontend's counter and to the same counter of the listener that accepted
 * `socket`, under `option socket-stats` (else the socket carries none: one property read).
 * A request counted on another section (a stats page of a `listen stats` served on the app's
 * port) leaves the listener alone.
 */
export function countFront (fe: TrafficCounters, socket: object | null | undefined, field: ListenerField, n = 1): void {
  fe[field] += n
  if (!listening || socket == null) return
  let l: ListenerCounters | undefined
  // an HTTP/2 response's socket is node's proxy of the session's, which throws once that is gone
  try { l = (socket as Tagged)[kListener] } catch { return }
  if (l !== undefined && l.section === fe) l.counters[field] += n
}
