// Raw HTTP/2 frames for the tests that talk to a bind below node's client (RFC 9113 §4.1), with
// header fields as HAProxy's test client (VTest) sends them.

import type { Socket } from 'node:net'

/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')

/** A frame: 9-octet head, then the payload. */
export function frame (type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9)
  h.writeUIntBE(payload.length, 0, 3)
  h[3] = type
  h[4] = flags
  h.writeUInt32BE(stream, 5)
  return Buffer.concat([h, payload])
}

/** HPACK literal without indexing, with a literal name (short strings only). */
export const literal = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)])

/** Calls `each` with every whole frame the socket receives, in order. */
export function readFrames (socket: Socket, each: (type: number, flags: number, stream: number, payload: Buffer) => void): void {
  let data = Buffer.alloc(0)
  socket.on('data', (d: Buffer) => {
    data = Buffer.concat([data, d])
    while (data.length >= 9 && data.length >= 9 + data.readUIntBE(0, 3)) {
      const len = data.readUIntBE(0, 3)
      const [type, flags, stream] = [data[3]!, data[4]!, data.readUInt32BE(5) & 0x7fffffff]
      const payload = data.subarray(9, 9 + len)
      data = data.subarray(9 + len)
      each(type, flags, stream, payload)
    }
  })
}
