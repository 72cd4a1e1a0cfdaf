// Shared fixtures for the runtime tests: backends from config text, request transactions,
// real upstream sockets on 127.0.0.1 and a logger that keeps what it was told.

import net from 'node:net'
import type { HttpTxn } from '../../lib/acl/txn.js'
import { txnFromParts } from '../../lib/acl/make-txn.js'
import { parseConfig } from '../../lib/config/parse.js'
import type { Proxy } from '../../lib/config/model.js'
import { Backend, type ServerRuntime } from '../../lib/runtime/backend.js'

export function proxyOf (text: string, name = 'be'): Proxy {
  const config = parseConfig(text)
  const alerts = config.diagnostics.filter((d) => d.level === 'alert')
  if (alerts.length > 0) throw new Error(alerts.map((d) => d.message).join('\n'))
  const proxy = config.proxies.find((p) => p.name === name)
  if (proxy === undefined) throw new Error(`no proxy ${name}`)
  return proxy
}

export class Log {
  readonly lines: string[] = []
  info (msg: string): void { this.lines.push(msg) }
  warn (msg: string): void { this.lines.push(msg) }
  error (msg: string): void { this.lines.push(msg) }
}

export function backendOf (text: string, log?: Log): Backend {
  return new Backend(proxyOf(text), { log })
}

/** `servers` lines for weights like '5 1 1' (s1, s2, … on unused loopback ports). */
export function serverLines (weights: string, extra = ''): string {
  return weights.split(' ').map((w, i) => `  server s${i + 1} 127.0.0.1:${10001 + i} weight ${w}${extra}\n`).join('')
}

export function txn (url = '/', headers: Record<string, string> = {}, src = '127.0.0.1'): HttpTxn {
  return txnFromParts({ url, headers: { host: 'localhost', ...headers }, src })
}

/** One request at a time (acquire, then release): the order HAProxy shows with sequential clients. */
export function picks (be: Backend, n: number, t: HttpTxn = txn()): string {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const s = be.acquire(t, null)
    if (s instanceof Promise) throw new Error('unexpected queueing')
    if (s === null) {
      out.push('503')
      continue
    }
    out.push(s.name)
    be.release(s)
  }
  return out.join(' ')
}

export function server (be: Backend, name: string): ServerRuntime {
  const s = be.server(name)
  if (s === undefined) throw new Error(`no server ${name}`)
  return s
}

/** A TCP listener on 127.0.0.1 answering each connection with `reply` (or just accepting). */
export interface Upstream {
  port: number
  /** Requests received (raw bytes as latin1). */
  requests: string[]
  reply: string | null
  close (): Promise<void>
  /** Stop listening (port stays known) / listen again on the same port. */
  down (): Promise<void>
  up (): Promise<void>
}

export async function upstream (reply: string | null = null): Promise<Upstream> {
  const sockets = new Set<net.Socket>()
  const u: Upstream = {
    port: 0,
    requests: [],
    reply,
    close: async () => {
      await u.down()
    },
    down: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      if (!srv.listening) return resolve()
      srv.close(() => resolve())
    }),
    up: () => new Promise<void>((resolve) => srv.listen(u.port, '127.0.0.1', () => resolve()))
  }
  const srv = net.createServer((sock) => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.on('error', () => {})
    let data = ''
    sock.on('data', (c) => {
      data += c.toString('latin1')
      if (data.includes('\r\n\r\n')) {
        u.requests.push(data)
        if (u.reply !== null) sock.end(u.reply)
      }
    })
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()))
  u.port = (srv.address() as net.AddressInfo).port
  return u
}

/** A port nothing listens on (bound, then released). */
export async function closedPort (): Promise<number> {
  const u = await upstream()
  await u.close()
  return u.port
}

