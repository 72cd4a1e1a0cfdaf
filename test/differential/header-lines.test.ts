// A header sent on several lines: HAProxy keeps the lines apart, so `req.fhdr` reads the last
// line whole and `req.fhdr_cnt` counts lines, where node's request object joins them into one
// value (or keeps the first, for the headers it holds once). Over HTTP/2, a field with blanks
// around its value (which nghttp2 drops) is read trimmed, as HAProxy reads it. `res.fhdr` of a
// response with repeated lines likewise. Compared with real HAProxy on the same config.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { freePort, startBoth, startRawUpstream, skipWithoutHaproxy } from './harness.js'
import { PREFACE, frame, literal, readFrames } from '../tls/h2-frames.js'

const READ = 'f2=%[req.fhdr(hdr2)] h2=%[req.hdr(hdr2)] c2=%[req.fhdr_cnt(hdr2)] hc2=%[req.hdr_cnt(hdr2)] first2=%[req.fhdr(hdr2,1)] ' +
  'f3=%[req.fhdr(hdr3)] c3=%[req.fhdr_cnt(hdr3)] fc=%[req.fhdr(cookie)] cc=%[req.fhdr_cnt(cookie)] ' +
  'ua=%[req.fhdr(user-agent)] uac=%[req.fhdr_cnt(user-agent)] f5=%[req.fhdr(hdr5)] f6=%[req.fhdr(hdr6)]'

/** One HTTP/1.1 request written as it is, the connection closed after: the body of the answer. */
async function viaHttp1 (port: number, lines: string[]): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  socket.write(['GET /req HTTP/1.1', 'host: h.test', ...lines, 'connection: close', '', ''].join('\r\n'))
  let data = ''
  socket.setEncoding('latin1')
  socket.on('data', (d: string) => { data += d })
  await new Promise<void>((resolve, reject) => { socket.on('close', () => resolve()); socket.on('error', reject) })
  return data.slice(data.indexOf('\r\n\r\n') + 4)
}

/** One HTTP/2 request of literal fields (as VTest sends them): the body of the answer. */
async function viaHttp2 (port: number, fields: Array<[string, string]>): Promise<string> {
  const head: Array<[string, string]> = [[':method', 'GET'], [':scheme', 'http'], [':path', '/req'], [':authority', 'h.test'], ...fields]
  const socket = net.connect(port, '127.0.0.1')
  socket.write(Buffer.concat([PREFACE, frame(4, 0, 0, Buffer.alloc(0)), frame(1, 0x5, 1, Buffer.concat(head.map(([n, v]) => literal(n, v))))]))
  let body = ''
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.on('error', reject)
      socket.on('close', () => resolve(body))
      readFrames(socket, (type, flags, stream, payload) => {
        if (stream !== 1) return
        if (type === 3) resolve('reset')
        if (type === 0) body += payload.toString('latin1')
        if ((flags & 1) !== 0) resolve(body)
      })
    })
  } finally {
    socket.destroy()
  }
}

describe('differential: header lines sent more than once', { skip: skipWithoutHaproxy }, () => {
  let both: Awaited<ReturnType<typeof startBoth>>
  let upstream: Awaited<ReturnType<typeof startRawUpstream>>
  const h2Ports = new Map<number, number>()
  before(async () => {
    upstream = await startRawUpstream((socket) => {
      socket.once('data', () => {
        socket.end(['HTTP/1.1 200 OK', 'content-length: 0', 'hdr2:  val2a', 'hdr2:    val2b', 'hdr3:      val3a, val3b', 'set-cookie: a=1', 'set-cookie: b=2', '', ''].join('\r\n'))
      })
    })
    const spare = [await freePort(), await freePort()]
    both = await startBoth((port) => {
      const h2 = spare.shift()!
      h2Ports.set(port, h2)
      return `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    bind 127.0.0.1:${h2} proto h2
    http-request return status 200 content-type text/plain lf-string "${READ}" if { path /req }
    default_backend be
backend be
    http-response set-header x-read "f2=%[res.fhdr(hdr2)] h2=%[res.hdr(hdr2)] c2=%[res.fhdr_cnt(hdr2)] f3=%[res.fhdr(hdr3)] c3=%[res.fhdr_cnt(hdr3)] sc=%[res.fhdr(set-cookie)] scc=%[res.fhdr_cnt(set-cookie)]"
    server s1 127.0.0.1:${upstream.port}
`
    })
  })
  after(async () => { await both?.stop(); await upstream?.close() })

  const http1Cases: Array<[string, string[]]> = [
    ['a header on two lines, one with a comma', ['hdr2:  val2a', 'hdr2:    val2b', 'hdr3:      val3a, val3b']],
    ['Cookie and User-Agent on two lines each', ['cookie: a=1', 'cookie: b=2', 'user-agent: one', 'user-agent: two']],
    ['three lines, the middle one empty', ['hdr2: x, y', 'hdr2:', 'hdr2: z']],
    ['a single line', ['hdr2: only']]
  ]

  test('HTTP/1.1: the lines as HAProxy reads them', async () => {
    for (const [what, lines] of http1Cases) {
      const [theirs, ours] = [await viaHttp1(both.haproxy.port, lines), await viaHttp1(both.ours.port, lines)]
      assert.match(theirs, /^f2=/, `haproxy, ${what}`)
      assert.equal(ours, theirs, what)
    }
    // the case the regression suite checks (h1or2_to_h1c)
    assert.match(await viaHttp1(both.ours.port, http1Cases[0]![1]), /^f2=val2b h2=val2b c2=2 hc2=2 first2=val2a f3=val3a, val3b c3=1 /)
  })

  test('HTTP/2: fields with blanks around their value and repeated fields, as HAProxy reads them', async () => {
    const cases: Array<[string, Array<[string, string]>]> = [
      ['blanks before values', [['hdr2', ' val2a'], ['hdr2', '   val2b'], ['hdr3', '     val3a, val3b']]],
      ['blanks after a value, a tab inside one', [['hdr5', 'x '], ['hdr6', 'a\tb'], ['hdr2', '\tz']]],
      ['cookies on two fields', [['cookie', 'a=1'], ['cookie', 'b=2']]]
    ]
    for (const [what, fields] of cases) {
      const [theirs, ours] = [await viaHttp2(h2Ports.get(both.haproxy.port)!, fields), await viaHttp2(h2Ports.get(both.ours.port)!, fields)]
      assert.match(theirs, /^f2=/, `haproxy, ${what}`)
      assert.equal(ours, theirs, what)
    }
  })

  test('res.fhdr of response lines sent more than once', async () => {
    const read = async (port: number): Promise<string> => {
      const socket = net.connect(port, '127.0.0.1')
      socket.write('GET /res HTTP/1.1\r\nhost: h.test\r\nconnection: close\r\n\r\n')
      let data = ''
      socket.setEncoding('latin1')
      socket.on('data', (d: string) => { data += d })
      await new Promise<void>((resolve) => socket.on('close', () => resolve()))
      return /^x-read: (.*)$/im.exec(data)?.[1] ?? `no x-read in ${data}`
    }
    const [theirs, ours] = [await read(both.haproxy.port), await read(both.ours.port)]
    assert.match(theirs, /^f2=val2b /)
    assert.equal(ours, theirs)
  })
})
