// The sessions `show sess` lists and `shutdown session` ends (management.txt §9.3): each client
// connection of a frontend, and each runtime API connection (frontend `GLOBAL`). As HAProxy's
// streams: an HTTP/1 connection is listed while a request is under way on it (between requests it
// has none), an HTTP/2 or TCP connection for as long as it is open. The id is what `show sess`
// prints after `0x`; `epoch` counts the `show sess` calls made before the session started
// (HAProxy's way of telling the sessions started since a given call).

import type { Socket } from 'node:net'

export interface LiveSession {
  readonly id: number
  readonly socket: Socket
  /** Its frontend, `GLOBAL` for the runtime API. */
  readonly frontend: string
  /** `tcpv4`, `tcpv6`, `unix_stream`. */
  readonly proto: string
  /** `127.0.0.1:5000`, `unix:1` (the runtime API socket's number). */
  readonly src: string
  readonly accepted: number
  readonly epoch: number
  /** The backend and server of its request or tunnel, once chosen. */
  route: { readonly backend: string | null, readonly server: string | null } | null
  /** HTTP/1 requests under way; null when the connection is listed whatever it does. */
  requests: number | null
  /** Cuts its request's server exchange (`shutdown session`, a hard stop) for `why`, false when none is under way. */
  kill: ((why: string) => boolean) | null
}

export class SessionRegistry {
  private lastId = 0
  /** `show sess` calls so far. */
  epoch = 0
  private readonly bySocket = new WeakMap<Socket, LiveSession>()
  private readonly live = new Set<LiveSession>()

  /** A connection accepted: listed until it closes. */
  open (socket: Socket, frontend: string, opts: { src?: string, perRequest?: boolean } = {}): LiveSession {
    const family = socket.remoteFamily
    const session: LiveSession = {
      id: ++this.lastId,
      socket,
      frontend,
      proto: opts.src !== undefined && opts.src.startsWith('unix:') ? 'unix_stream' : family === 'IPv6' ? 'tcpv6' : 'tcpv4',
      src: opts.src ?? (family === 'IPv6' ? `[${socket.remoteAddress ?? ''}]:${socket.remotePort ?? 0}` : `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`),
      accepted: Date.now(),
      epoch: this.epoch,
      route: null,
      requests: opts.perRequest === true ? 0 : null,
      kill: null
    }
    this.live.add(session)
    this.bySocket.set(socket, session)
    socket.once('close', () => { this.live.delete(session) })
    return session
  }

  of (socket: Socket): LiveSession | undefined {
    return this.bySocket.get(socket)
  }

  /** The client connections of the frontends (not the runtime API's), listed or not: what a hard stop cuts. */
  clients (): LiveSession[] {
    return [...this.live].filter(s => s.frontend !== 'GLOBAL')
  }

  /** The sessions to list, oldest first. */
  listed (): LiveSession[] {
    return [...this.live].filter(s => s.requests === null || s.requests > 0)
  }
}
