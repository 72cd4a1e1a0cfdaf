// Requests with Transfer-Encoding (and Content-Length beside it), each sent to real HAProxy and to
// our CLI: the status, whether the connection is closed after it, and what the server received
// (never the bytes after the chunked body, a smuggled request). HAProxy serves chunked with a
// Content-Length by dropping the length and closing after the answer; node's parser refuses that
// request, which lib/transfer-encoding.ts takes up again.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { startBoth, startUpstream, skipWithoutHaproxy, writePieces, type Upstream } from './harness.js'

interface Outcome {
  status: string
  closed: boolean
  /** What the server got: method, target and body of each request. */
  served: string[]
}

const BODY = '5\r\nhello\r\n0\r\n\r\n'
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nhost: h.test\r\n\r\n'

/** Sends `pieces` (a pause between them), reads until the proxy closes (or 3 s pass). */
async function exchange (port: number, upstream: Upstream, pieces: string[]): Promise<Outcome> {
  const before = upstream.seen.length
  const { data, closed } = await writePieces(port, pieces, 300)
  return {
    status: /^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? `no answer: ${JSON.stringify(data)}`,
    closed,
    served: upstream.seen.slice(before).map(s => `${s.method} ${s.url} ${JSON.stringify(s.body)}`)
  }
}

const head = (fields: string[], version = '1.1'): string => [`POST /p HTTP/${version}`, 'host: h.test', ...fields, '', ''].join('\r\n')

describe('differential: Transfer-Encoding and Content-Length', { skip: skipWithoutHaproxy }, () => {
  let both: Awaited<ReturnType<typeof startBoth>>
  let upstream: Upstream
  before(async () => {
    upstream = await startUpstream('s1')
    both = await startBoth(port => `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-request 1s
listen fe
    bind 127.0.0.1:${port}
    server s1 127.0.0.1:${upstream.port}
`)
  })
  after(async () => { await both?.stop(); await upstream?.close() })

  const cases: Array<[string, string[], string]> = [
    ['chunked, then a Content-Length', [head(['transfer-encoding: chunked', 'content-length: 31']) + BODY + SMUGGLED], '200'],
    ['a Content-Length, then chunked', [head(['content-length: 5', 'transfer-encoding: chunked']) + BODY + SMUGGLED], '200'],
    ['the same length twice on one line', [head(['transfer-encoding: chunked', 'content-length: 5, 5']) + BODY], '200'],
    ['HTTP/1.0', [head(['transfer-encoding: chunked', 'content-length: 5'], '1.0') + BODY], '200'],
    ['blanks and capitals in the coding', [head(['transfer-encoding:  Chunked ', 'content-length: 5']) + BODY], '200'],
    ['Connection: keep-alive asked', [head(['transfer-encoding: chunked', 'content-length: 5', 'connection: keep-alive']) + BODY + SMUGGLED], '200'],
    ['the body after a pause longer than timeout http-request', [head(['transfer-encoding: chunked', 'content-length: 5']), '', '', '', BODY], '200'],
    ['two different lengths', [head(['transfer-encoding: chunked', 'content-length: 5', 'content-length: 6']) + BODY], '400'],
    ['a length that is no number', [head(['transfer-encoding: chunked', 'content-length: abc']) + BODY], '400'],
    ['chunked, then identity', [head(['transfer-encoding: chunked, identity', 'content-length: 5']) + BODY], '400'],
    ['identity, then chunked', [head(['transfer-encoding: identity, chunked', 'content-length: 5']) + BODY], '422'],
    ['gzip, then chunked', [head(['transfer-encoding: gzip, chunked', 'content-length: 5']) + BODY], '422'],
    ['chunked on two lines', [head(['transfer-encoding: chunked', 'transfer-encoding: chunked', 'content-length: 5']) + BODY], '400'],
    ['gzip alone', [head(['transfer-encoding: gzip', 'content-length: 5']) + 'hello'], '400'],
    ['without a length: gzip, then chunked', [head(['transfer-encoding: gzip, chunked']) + BODY], '422'],
    ['without a length: gzip alone', [head(['transfer-encoding: gzip'])], '400'],
    ['without a length: chunked twice', [head(['transfer-encoding: chunked, chunked']) + BODY], '400']
  ]

  test('each request answered, closed and forwarded as HAProxy does', async () => {
    for (const [what, pieces, expected] of cases) {
      const theirs = await exchange(both.haproxy.port, upstream, pieces)
      const ours = await exchange(both.ours.port, upstream, pieces)
      assert.equal(theirs.status, expected, `haproxy, ${what}`)
      assert.deepEqual(ours, theirs, what)
    }
  })

  test('the server gets the chunked body, never the client\'s Content-Length', async () => {
    const before = upstream.seen.length
    const ours = await exchange(both.ours.port, upstream, [head(['transfer-encoding: chunked', 'content-length: 31']) + BODY + SMUGGLED])
    assert.deepEqual(ours, { status: '200', closed: true, served: ['POST /p "hello"'] })
    // chunked, or the length of the body it carried: whichever the body's arrival lets undici send
    const length = upstream.seen[before]!.headers.find(([n]) => n === 'content-length')
    assert.ok(length === undefined || length[1] === '5', String(length))
  })

  test('a request without Content-Length on the same connection stays on the usual path (kept alive)', async () => {
    const socket = net.connect(both.ours.port, '127.0.0.1')
    let data = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => { data += d })
    socket.write(head(['transfer-encoding: chunked']) + BODY + head(['content-length: 2']) + 'ok')
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`two answers expected, got ${JSON.stringify(data)}`)), 3000)
        socket.on('data', () => { if ((data.match(/HTTP\/1\.1 200/g) ?? []).length === 2) { clearTimeout(timer); resolve() } })
      })
    } finally {
      socket.destroy()
    }
    assert.doesNotMatch(data, /connection: close/i)
  })
})
