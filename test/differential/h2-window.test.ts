// HTTP/2 flow control toward clients as HAProxy 2.6 credits it (clear `proto h2` binds,
// lib/h2-window.ts): a WINDOW_UPDATE for the stream as soon as a DATA frame is read, END_STREAM
// included, before the answer (HAProxy's reg-test http-messaging/h2_to_h1 waits for it), and the
// connection's window opened to about its maximum; a body longer than its content-length gets the
// stream reset, uncredited, and never reaches the server. Large uploads, with a server slow to
// read them, arrive whole: the gateway's credits never let the client past node's own windows.
// Compared with real HAProxy on the same config.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import net from 'node:net'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startBoth, skipWithoutHaproxy } from './harness.js'
import { PREFACE, frame, literal, readFrames } from '../tls/h2-frames.js'

const MAX_WINDOW = 2 ** 31 - 1
const [DATA, HEADERS, RST_STREAM, SETTINGS, WINDOW_UPDATE] = [0, 1, 3, 4, 8]
const NAMES: Record<number, string> = { 0: 'DATA', 1: 'HEADERS', 3: 'RST_STREAM', 4: 'SETTINGS', 7: 'GOAWAY', 8: 'WINDOW_UPDATE' }

interface Received { type: number, stream: number, increment?: number, code?: number }

/**
 * A raw connection: SETTINGS exchanged (as HAProxy's test client does, before any request), then
 * one request on stream 1 with `body` in one DATA frame; the frames received until stream 1 ends.
 */
async function exchange (port: number, head: Record<string, string>, body: string): Promise<Received[]> {
  const socket = net.connect(port, '127.0.0.1')
  socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))]))
  const block = Buffer.concat(Object.entries(head).map(([n, v]) => literal(n, v)))
  const got: Received[] = []
  let acknowledged = false
  try {
    return await new Promise<Received[]>((resolve, reject) => {
      socket.on('error', reject)
      socket.on('close', () => resolve(got))
      readFrames(socket, (type, flags, stream, payload) => {
        if (type === SETTINGS) {
          if ((flags & 1) === 0) { socket.write(frame(SETTINGS, 1, 0, Buffer.alloc(0))); return }
          if (acknowledged) return
          acknowledged = true
          // our SETTINGS acknowledged: the request, as VTest's txreq -nostrend -body sends it
          socket.write(Buffer.concat([frame(HEADERS, 0x4, 1, block), frame(DATA, 0x1, 1, Buffer.from(body))]))
          return
        }
        const r: Received = { type, stream }
        if (type === WINDOW_UPDATE) r.increment = payload.readUInt32BE(0)
        if (type === RST_STREAM) r.code = payload.readUInt32BE(0)
        got.push(r)
        if (stream === 1 && (type === RST_STREAM || ((flags & 1) !== 0 && type !== WINDOW_UPDATE))) resolve(got)
      })
    })
  } finally {
    socket.destroy()
  }
}

/** What a stream sees before its answer, and the connection's window once the body's credits are in. */
function summary (frames: Received[], sent: number): { stream: string[], connectionWindow: number } {
  const stream = frames.filter(f => f.stream === 1).map(f => `${NAMES[f.type] ?? f.type}${f.increment !== undefined ? ` ${f.increment}` : ''}${f.code !== undefined ? ` code ${f.code}` : ''}`)
  const credited = frames.filter(f => f.stream === 0 && f.type === WINDOW_UPDATE).reduce((n, f) => n + f.increment!, 0)
  return { stream: stream.filter(s => s !== 'DATA'), connectionWindow: 65535 - sent + credited }
}

/** One upload through node's client: the server's answer (the byte count it read). */
async function upload (port: number, size: number): Promise<string> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  try {
    return await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/upload' })
      let text = ''
      req.setEncoding('utf8')
      req.on('data', (d: string) => { text += d })
      req.on('end', () => resolve(text))
      req.on('error', reject)
      req.end(Buffer.alloc(size, 0x61))
    })
  } finally {
    session.destroy()
  }
}

describe('differential: HTTP/2 window updates', { skip: skipWithoutHaproxy }, () => {
  let both: Awaited<ReturnType<typeof startBoth>>
  let server: Server
  const seen: string[] = []
  before(async () => {
    // counts what it reads; /upload reads slowly: it waits before reading, so node's windows fill
    server = createServer((req, res) => {
      seen.push(req.url ?? '')
      let n = 0
      const read = (): void => {
        req.on('data', (d: Buffer) => { n += d.length })
        req.on('end', () => res.end(`read ${n}`))
        req.resume()
      }
      if (req.url === '/upload') { req.pause(); setTimeout(read, 200) } else read()
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const upstream = (server.address() as AddressInfo).port
    both = await startBoth(port => `defaults
    mode http
    option http-buffer-request
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen fe
    bind 127.0.0.1:${port} proto h2
    server s1 127.0.0.1:${upstream}
`)
  })
  after(async () => {
    await both?.stop()
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })

  const post = { ':method': 'POST', ':scheme': 'https', ':path': '/test23.html', ':authority': 'h.test' }
  const body = 'this must be delivered, like it or not'

  test('a DATA frame is credited on its stream before the answer, and the connection opened wide', async () => {
    for (const [label, port] of [['haproxy', both.haproxy.port], ['ours', both.ours.port]] as const) {
      const { stream, connectionWindow } = summary(await exchange(port, post, body), body.length)
      assert.deepEqual(stream, [`WINDOW_UPDATE ${body.length}`, 'HEADERS'], label)
      // HAProxy opens it to the maximum; node keeps the last body's bytes until it has read them
      assert.ok(connectionWindow >= MAX_WINDOW - 65535, `${label}: connection window ${connectionWindow}`)
    }
  })

  test('a body longer than its content-length: the stream reset, uncredited, the server never asked', async () => {
    const head = { ':method': 'GET', ':scheme': 'https', ':path': '/test4.html', ':authority': 'h.test', 'content-length': '2' }
    for (const [label, port] of [['haproxy', both.haproxy.port], ['ours', both.ours.port]] as const) {
      const { stream } = summary(await exchange(port, head, 'this is sent and ignored'), 24)
      assert.deepEqual(stream, ['RST_STREAM code 1'], label)
      // a request after it is served: the reset one would have reached the server before
      assert.equal(await upload(port, 1), 'read 1', label)
      assert.ok(!seen.includes('/test4.html'), `${label}: the server was asked`)
    }
  })

  test('uploads larger than every window, to a server slow to read them, arrive whole', async () => {
    for (const size of [1, 70_000, 3_000_000]) {
      assert.equal(await upload(both.haproxy.port, size), `read ${size}`, `haproxy, ${size} bytes`)
      assert.equal(await upload(both.ours.port, size), `read ${size}`, `${size} bytes`)
    }
  })
})
