// HAProxy's soft stop (management.txt §4, SIGUSR1), for a node HTTP/1 server: the listener
// closes, requests under way and requests already received are served with `connection: close`,
// and idle keep-alive connections are closed. node's own close destroys idle connections at
// once, which loses a request the client sent a moment before (still in the socket's buffer):
// here an idle connection gets a short linger instead, and any request arriving in it is served
// and answered with `connection: close`.

import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/** How long a connection idle at the stop may still bring a request (bounded by its keep-alive timeout). */
const IDLE_LINGER_MS = 1000

interface Connection {
  /** Responses not yet finished on this connection. */
  busy: number
  /** The response being written (pipelined requests wait behind it). */
  res: ServerResponse | null
}

/** Installs the soft stop on an HTTP/1 server (plain or TLS): it starts when the server closes. */
export function softStop (server: Server): void {
  let stopping = false
  const connections = new Map<Socket, Connection>()
  const linger = (socket: Socket): void => {
    const keepAlive = server.keepAliveTimeout
    // node destroys a socket whose timeout fires while it serves nothing
    socket.setTimeout(keepAlive > 0 ? Math.min(keepAlive, IDLE_LINGER_MS) : IDLE_LINGER_MS)
  }
  server.on('connection', (socket: Socket) => {
    connections.set(socket, { busy: 0, res: null })
    socket.once('close', () => { connections.delete(socket) })
  })
  // first, so that even an answer the app makes at once says `connection: close`
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket
    const c = connections.get(socket)
    if (c === undefined) return
    c.busy++
    c.res = res
    if (stopping) {
      res.shouldKeepAlive = false
      socket.setTimeout(server.timeout) // a request came: `timeout client` again, not the linger
    }
    res.once('close', () => {
      c.busy--
      if (c.res === res) c.res = null
      if (stopping && c.busy === 0 && !socket.destroyed) linger(socket)
    })
  })
  // `shouldKeepAlive = false` rather than a `connection` header: node then writes `connection: close`
  // and closes after the answer, while a header set here would send writeHead(status, rawArray)
  // through node's merge path, which keeps only the last of a header the upstream repeated
  // Fastify's close and node's server.close() call this: the linger replaces the abrupt close
  server.closeIdleConnections = () => {
    if (stopping) return
    stopping = true
    for (const [socket, c] of connections) {
      if (c.res !== null && !c.res.headersSent) c.res.shouldKeepAlive = false
      if (c.busy === 0) linger(socket)
    }
  }
}
