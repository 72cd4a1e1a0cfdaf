// The server option `socks4 <addr>:<port>` (configuration.txt §5.2): connections to the server
// are opened through a SOCKS4 proxy, and health checks too with `check-via-socks4`. The CONNECT
// request HAProxy sends (recorded, and what its reg-test checks): version 4, command 1, the
// server's port and IPv4 address, the user id "HAProxy"; the proxy grants with 0x5a in the
// second byte of its 8-byte reply.

import net from 'node:net'

/** Where a SOCKS4 proxy listens. */
export interface Socks4Proxy { host: string, port: number }

const USER_ID = Buffer.from('HAProxy\0', 'latin1')
const REPLY_LENGTH = 8
const GRANTED = 0x5a

/** The CONNECT request for `host:port` (an IPv4 address: SOCKS4 carries no names). */
export function socks4Request (host: string, port: number): Buffer {
  const head = Buffer.alloc(8)
  head[0] = 4
  head[1] = 1
  head.writeUInt16BE(port, 2)
  const octets = net.isIPv4(host) ? host.split('.').map(Number) : [0, 0, 0, 0]
  octets.forEach((o, i) => { head[4 + i] = o })
  return Buffer.concat([head, USER_ID])
}

/**
 * On a socket connected to the SOCKS4 proxy: asks for `host:port` and calls `done` once the proxy
 * granted (the socket then carries the server's bytes; any that came with the reply are kept) or
 * refused. The socket is left paused: the caller resumes it once its own listeners are on.
 */
export function socks4Handshake (sock: net.Socket, host: string, port: number, done: (err: Error | null) => void): void {
  if (!net.isIPv4(host)) {
    done(Object.assign(new Error(`SOCKS4 needs an IPv4 server address, not '${host}'`), { code: 'EADDRNOTAVAIL' }))
    return
  }
  let reply = Buffer.alloc(0)
  const onData = (chunk: Buffer): void => {
    reply = Buffer.concat([reply, chunk])
    if (reply.length < REPLY_LENGTH) return
    sock.removeListener('data', onData)
    sock.removeListener('end', onEnd)
    sock.pause()
    if (reply.length > REPLY_LENGTH) sock.unshift(reply.subarray(REPLY_LENGTH))
    if (reply[1] === GRANTED) done(null)
    else done(Object.assign(new Error('SOCKS4 proxy refused the connection'), { code: 'ECONNREFUSED' }))
  }
  const onEnd = (): void => {
    sock.removeListener('data', onData)
    done(Object.assign(new Error('SOCKS4 proxy closed the connection'), { code: 'ECONNRESET' }))
  }
  sock.on('data', onData)
  sock.once('end', onEnd)
  sock.write(socks4Request(host, port))
}
