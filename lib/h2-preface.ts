// HTTP/2 with prior knowledge on a clear HTTP/1 bind (configuration.txt, "option disable-h2-upgrade"):
// HAProxy 2.6 takes a connection that opens with the HTTP/2 client preface (RFC 9113 §3.4) as
// HTTP/2 even without `proto h2`. The first bytes of each connection decide; they are put back
// for the protocol that reads them next.

import type { Socket } from 'node:net'

/** The HTTP/2 client preface (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

/**
 * Reads a connection's first bytes until they differ from the HTTP/2 preface (at once for any
 * HTTP/1 method but PRI) or hold all of it, then calls `decided` with the bytes unread again.
 */
export function sniffPreface (socket: Socket, decided: (h2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0)
  const settle = (h2: boolean, ended: boolean): void => {
    socket.off('data', onData)
    socket.off('end', onEnd)
    socket.pause()
    if (!ended) socket.unshift(seen)
    decided(h2)
    socket.resume()
  }
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk])
    const n = Math.min(seen.length, PREFACE.length)
    const h2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n))
    if (!h2 || n === PREFACE.length) settle(h2, false)
  }
  // closed before deciding (nothing sent, or a part of the preface): HTTP/1 hears the end it
  // missed, and closes the connection as it does any that ends without a request
  const onEnd = (): void => {
    settle(false, true)
    socket.emit('end')
  }
  socket.on('data', onData)
  socket.on('end', onEnd)
}
