// The process-wide accept rate limits: `maxconnrate`, `maxsessrate` and `maxsslrate` (§3.2), or
// `set rate-limit connections|sessions|ssl-sessions global` at run time (management.txt §9.3).
// As HAProxy, a listener over the limit stops accepting: the connections wait, accepted by the
// system but not yet taken, and are taken as the rate allows (none is refused). Every connection
// is a session here (`tcp-request connection` rules run after accept), and a TLS bind's
// connections count as SSL sessions too.

import type { Server } from 'node:net'

export type RateLimitKind = 'connections' | 'sessions' | 'ssl-sessions'

/** Accepts per one-second window. */
class Window {
  private start = 0
  private count = 0

  /** Room left in the current window under `limit` (0 = no limit). */
  room (limit: number, now: number): boolean {
    if (now - this.start >= 1000) { this.start = now; this.count = 0 }
    return limit === 0 || this.count < limit
  }

  take (): void { this.count++ }

  /** When the current window ends. */
  get end (): number { return this.start + 1000 }
}

type Take = () => void

/** The rates an accept counts in: a TLS bind's connections are SSL sessions too. */
const PLAIN_KINDS: readonly RateLimitKind[] = ['connections', 'sessions']
const TLS_KINDS: readonly RateLimitKind[] = ['connections', 'sessions', 'ssl-sessions']
const kindsOf = (tls: boolean): readonly RateLimitKind[] => tls ? TLS_KINDS : PLAIN_KINDS

interface ListenHandle {
  onconnection: (err: number, clientHandle: unknown) => void
}

export class AcceptGate {
  readonly limits: Record<RateLimitKind, number> = { connections: 0, sessions: 0, 'ssl-sessions': 0 }
  private readonly windows: Record<RateLimitKind, Window> = { connections: new Window(), sessions: new Window(), 'ssl-sessions': new Window() }
  private readonly waiting: Array<{ tls: boolean, take: Take }> = []
  private timer: NodeJS.Timeout | null = null

  /** The configuration's limits (a reload starts from them again, as HAProxy's new process). */
  configure (limits: Partial<Record<RateLimitKind, number>>): void {
    for (const kind of Object.keys(this.limits) as RateLimitKind[]) this.limits[kind] = limits[kind] ?? 0
    this.drain()
  }

  set (kind: RateLimitKind, limit: number): void {
    this.limits[kind] = limit
    this.drain()
  }

  /**
   * Puts a listening server behind the gate: each connection node's listener accepts is taken
   * at once while the rates allow, else held (not read) until they do.
   */
  guard (server: Server, tls: boolean): void {
    const handle = (server as unknown as { _handle?: ListenHandle })._handle
    if (handle === undefined || typeof handle.onconnection !== 'function') return
    const accept = handle.onconnection
    handle.onconnection = (err, clientHandle) => {
      if (err !== 0 || (this.waiting.length === 0 && this.admit(tls))) accept.call(handle, err, clientHandle)
      else { this.waiting.push({ tls, take: () => { accept.call(handle, err, clientHandle) } }); this.schedule() }
    }
  }

  /** Counts one accept when every rate it counts in has room. */
  private admit (tls: boolean): boolean {
    const now = Date.now()
    const kinds = kindsOf(tls)
    for (const k of kinds) if (!this.windows[k].room(this.limits[k], now)) return false
    for (const k of kinds) this.windows[k].take()
    return true
  }

  private drain (): void {
    while (this.waiting.length > 0 && this.admit(this.waiting[0]!.tls)) this.waiting.shift()!.take()
    this.schedule()
  }

  /** Wakes up when the fullest window ends. */
  private schedule (): void {
    if (this.timer !== null || this.waiting.length === 0) return
    const end = Math.max(...kindsOf(this.waiting[0]!.tls).map(k => this.windows[k].end))
    this.timer = setTimeout(() => { this.timer = null; this.drain() }, Math.max(1, end - Date.now()))
    this.timer.unref()
  }
}
