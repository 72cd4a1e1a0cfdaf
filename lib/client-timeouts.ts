// The client-side timeouts of the CLI's listeners on the gateway's own timers (§4.2): node's
// server leaves a new connection that sends nothing open for ever once `headersTimeout` is set,
// and keeps an idle keep-alive connection one second past its keepAliveTimeout.

import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import tls from 'node:tls'
import type { Timeouts } from './config/model.js'

/**
 * `timeout http-request` (else `timeout client`) bounds the wait for the first request head,
 * answered by `onExpired` (HAProxy's 408); `timeout http-keep-alive` (else http-request, else
 * client) the silence after an answer. On a TLS server the wait starts once the handshake is
 * done and the 408 goes out on the TLS socket (the TCP one under it would carry it in clear).
 */
export function clientTimeouts (server: Server, t: Timeouts, onExpired: (socket: Socket) => void): void {
  const firstRequest = t.httpRequest ?? t.client ?? 0
  const keepAlive = t.httpKeepAlive ?? t.httpRequest ?? t.client ?? 0
  if (firstRequest > 0) {
    const waiting = new WeakMap<Socket, NodeJS.Timeout>()
    server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', (socket: Socket) => {
      const timer = setTimeout(() => { if (!socket.destroyed) onExpired(socket) }, firstRequest)
      waiting.set(socket, timer)
      socket.once('close', () => { clearTimeout(timer) })
    })
    // a head that completes stops it (node's own headersTimeout bounds the next ones)
    server.on('request', (req: IncomingMessage) => {
      // a request read through a stand-in stream (lib/transfer-encoding.ts) stops its socket's
      const socket = (req.socket as Socket & { stream?: Socket }).stream ?? req.socket
      const timer = waiting.get(socket)
      if (timer === undefined) return
      clearTimeout(timer)
      waiting.delete(socket)
    })
  }
  if (keepAlive > 0) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // after node's own 'finish' handler, which arms keepAliveTimeout + 1 s
      const socket = req.socket
      res.once('finish', () => { if (!socket.destroyed) socket.setTimeout(keepAlive) })
    })
  }
}
