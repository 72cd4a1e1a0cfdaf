// Requests with Transfer-Encoding (and Content-Length beside it), each sent to real HAProxy and to
// our CLI: the status, whether the connection is closed after it, and what the server received
// (never the bytes after the chunked body, a smuggled request). HAProxy serves chunked with a
// Content-Length by dropping the length and closing after the answer; node's parser refuses that
// request, which lib/transfer-encoding.ts takes up again.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { head as configHead, startBoth, startRawUpstream, startUpstream, skipWithoutHaproxy, writePieces, type Upstream } from './harness.js'

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
    // chunked, as HAProxy forwards it, even when the whole body came with the head
    const framing = upstream.seen[before]!.headers.filter(([n]) => n === 'content-length' || n === 'transfer-encoding')
    assert.deepEqual(framing, [['transfer-encoding', 'chunked']])
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

// ---------------------------------------------------------------------------------------------
// The server side: what a server gets for a chunked request body, and what the client gets for
// answers framed with Transfer-Encoding, from a raw server that sends exactly the bytes chosen.

/** An HTTP/1 message read from the start of `buf`: head lines, body (chunks joined), framing, its length; null while incomplete. */
function readMessage (buf: string, close = false): { lines: string[], body: string, chunked: boolean, length: number } | null {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) return null
  const lines = buf.slice(0, end).split('\r\n')
  const field = (name: string): string | undefined => lines.find(l => l.toLowerCase().startsWith(name + ':'))?.slice(name.length + 1).trim()
  let at = end + 4
  if (field('transfer-encoding') !== undefined) {
    let body = ''
    for (;;) {
      const eol = buf.indexOf('\r\n', at)
      if (eol < 0) return null
      const size = parseInt(buf.slice(at, eol), 16)
      if (size === 0) return buf.startsWith('\r\n', eol + 2) ? { lines, body, chunked: true, length: eol + 4 } : null
      if (buf.length < eol + 2 + size + 2) return null
      body += buf.slice(eol + 2, eol + 2 + size)
      at = eol + 2 + size + 2
    }
  }
  const length = field('content-length')
  if (length === undefined && close) return { lines, body: buf.slice(at), chunked: false, length: buf.length }
  const n = Number(length ?? 0)
  return buf.length < at + n ? null : { lines, body: buf.slice(at, at + n), chunked: false, length: at + n }
}

/** What a server got or a client saw of a message: its first line's method and target (or status), framing headers and body. */
function framingOf (m: { lines: string[], body: string }, first: (line: string) => string): string {
  const framing = m.lines.slice(1).filter(l => /^(transfer-encoding|content-length):/i.test(l)).map(l => l.toLowerCase().replace(/:\s*/, ': '))
  return [first(m.lines[0]!), ...framing, JSON.stringify(m.body)].join(' | ')
}

/** Answers by request target: the exact bytes the raw server sends. */
const ANSWERS: Record<string, string> = {
  '/http10-chunked': 'HTTP/1.0 200 Ok\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  '/chunked-then-length': 'HTTP/1.1 200 Ok\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n0\r\n\r\nResponse splitting attach',
  '/length-then-chunked': 'HTTP/1.1 200 Ok\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/capital-chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/chunked-twice': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n',
  '/chunked-on-two-lines': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  '/chunked-gzip-chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n0\r\n\r\n',
  '/chunked-then-gzip': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n',
  '/gzip-with-length': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 0\r\n\r\n',
  '/gzip-then-chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/gzip-then-chunked-on-two-lines': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  '/identity-then-chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/no-content-chunked-twice': 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked, chunked\r\n\r\n',
  '/not-modified-chunked-gzip': 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'
}

describe('differential: Transfer-Encoding toward and from the server', { skip: skipWithoutHaproxy }, () => {
  let both: Awaited<ReturnType<typeof startBoth>>
  let raw: Awaited<ReturnType<typeof startRawUpstream>>
  /** Each request the raw server read, as framingOf shows it. */
  const got: string[] = []
  before(async () => {
    raw = await startRawUpstream(socket => {
      let buf = ''
      socket.setEncoding('latin1')
      socket.on('data', (d: string) => {
        buf += d
        for (let m = readMessage(buf); m !== null; m = readMessage(buf)) {
          buf = buf.slice(m.length)
          got.push(framingOf(m, line => line.replace(/ HTTP\/1\.[01]$/, '')))
          const target = m.lines[0]!.split(' ')[1]!
          socket.write(ANSWERS[target] ?? 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n')
        }
      })
    })
    both = await startBoth(port => `${configHead()}listen fe
    bind 127.0.0.1:${port}
    server s1 127.0.0.1:${raw.port}
`)
  })
  after(async () => { await both?.stop(); await raw?.close() })

  /**
   * Sends `request` on a new connection and reads its answer whole; then a second request tells
   * whether the proxy kept the connection open (answered) or closed it after the first answer.
   */
  async function exchangeRaw (port: number, request: string): Promise<{ answer: string, server: string[], then: 'open' | 'closed' }> {
    const before = got.length
    const socket = net.connect(port, '127.0.0.1')
    socket.setEncoding('latin1')
    socket.on('error', () => {})
    let data = ''
    let first: ReturnType<typeof readMessage> = null
    const outcome = await new Promise<{ answer: string, then: 'open' | 'closed' }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no whole answer to ${JSON.stringify(request)}: ${JSON.stringify(data)}`)), 5000)
      const settle = (then: 'open' | 'closed'): void => {
        clearTimeout(timer)
        resolve({ answer: framingOf(first!, line => line.replace(/^HTTP\/1\.[01] /, '')), then })
      }
      socket.on('data', (d: string) => {
        data += d
        if (first === null) {
          first = readMessage(data)
          if (first !== null) socket.write('GET /next HTTP/1.1\r\nhost: h.test\r\n\r\n')
        } else if (readMessage(data.slice(first.length)) !== null) {
          settle('open')
        }
      })
      socket.on('close', () => {
        if (first === null) first = readMessage(data, true)
        if (first !== null) settle('closed')
      })
      socket.write(request)
    })
    socket.destroy()
    return { ...outcome, server: got.slice(before).filter(r => !r.startsWith('GET /next')) }
  }

  const request = (line: string, fields: string[], body = ''): string => [line, 'host: h.test', ...fields, '', ''].join('\r\n') + body

  test('a chunked request body reaches the server chunked, empty or not', async () => {
    const cases: Array<[string, string, string]> = [
      ['an empty chunked POST', request('POST /r HTTP/1.1', ['transfer-encoding: chunked'], '0\r\n\r\n'), 'POST /r | transfer-encoding: chunked | ""'],
      ['an empty chunked GET', request('GET /r HTTP/1.1', ['transfer-encoding: chunked'], '0\r\n\r\n'), 'GET /r | transfer-encoding: chunked | ""'],
      ['an empty chunked HTTP/1.0 POST', request('POST /r HTTP/1.0', ['transfer-encoding: chunked'], '0\r\n\r\n'), 'POST /r | transfer-encoding: chunked | ""'],
      ['chunked and a Content-Length, the body empty', request('POST /r HTTP/1.1', ['transfer-encoding: chunked', 'content-length: 31'], '0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n'), 'POST /r | transfer-encoding: chunked | ""'],
      ['a chunked body with data', request('POST /r HTTP/1.1', ['transfer-encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'), 'POST /r | transfer-encoding: chunked | "hello"'],
      ['an empty body by its length', request('POST /r HTTP/1.1', ['content-length: 0']), 'POST /r | content-length: 0 | ""']
    ]
    for (const [what, bytes, expected] of cases) {
      const theirs = await exchangeRaw(both.haproxy.port, bytes)
      const ours = await exchangeRaw(both.ours.port, bytes)
      assert.deepEqual(theirs.server, [expected], `haproxy, ${what}`)
      assert.deepEqual(ours, theirs, what)
    }
  })

  test('answers framed with Transfer-Encoding: forwarded chunked, or HAProxy\'s 502', async () => {
    const expected: Record<string, string> = {
      '/http10-chunked': '200 Ok | transfer-encoding: chunked | "" closed',
      '/chunked-then-length': '200 Ok | transfer-encoding: chunked | "" open',
      '/length-then-chunked': '200 Ok | transfer-encoding: chunked | "hello" open',
      '/capital-chunked': '200 OK | transfer-encoding: chunked | "hello" open'
    }
    for (const target of Object.keys(ANSWERS)) {
      const bytes = request(`GET ${target} HTTP/1.1`, [])
      const theirs = await exchangeRaw(both.haproxy.port, bytes)
      const ours = await exchangeRaw(both.ours.port, bytes)
      // HAProxy writes the coding as the server did (`Chunked`), node's server its own `chunked`
      const seen = (o: typeof ours): string => `${o.answer.replace(/transfer-encoding: chunked/i, 'transfer-encoding: chunked')} ${o.then}`
      const want = expected[target] ?? `502 Bad Gateway | content-length: 107 | ${JSON.stringify('<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n')} open`
      assert.equal(seen(theirs), want, `haproxy, ${target}`)
      assert.equal(seen(ours), seen(theirs), target)
    }
  })
})
