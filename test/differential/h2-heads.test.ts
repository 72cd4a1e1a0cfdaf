// HTTP/2 request heads that node's HTTP/2 layer (nghttp2) resets but HAProxy answers: a
// malformed `:scheme`, `:method` or `:authority` gets HAProxy's 400, an `:authority` HAProxy
// accepts as it is reaches the rules unchanged (clear `proto h2` binds, lib/h2-screen.ts).
// Compared with real HAProxy on the same config; both HPACK encodings are exercised: node's
// client adds the fields to its table, the raw client sends literals without indexing (as
// HAProxy's own test client does).

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import net from 'node:net'
import { startBoth, skipWithoutHaproxy } from './harness.js'
import { PREFACE, frame, literal } from '../tls/h2-frames.js'

type Head = Record<string, string>

/** One request on its own session through node's client: the status and body, or the reset. */
async function viaNode (port: number, head: Head): Promise<string> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  try {
    return await new Promise<string>((resolve) => {
      const req = session.request(head)
      let body = ''
      req.on('response', (h) => {
        req.setEncoding('utf8')
        req.on('data', (d: string) => { body += d })
        req.on('end', () => resolve(`${String(h[':status'])} ${body.startsWith('<html>') ? 'page' : body}`))
      })
      req.on('error', () => resolve('reset'))
      req.end()
    })
  } finally {
    session.destroy()
  }
}

/** One request on a raw connection, every field a literal without indexing: the status, or the reset. */
async function viaLiterals (port: number, head: Head): Promise<string> {
  const block = Buffer.concat(Object.entries(head).map(([n, v]) => literal(n, v)))
  const socket = net.connect(port, '127.0.0.1')
  socket.write(Buffer.concat([PREFACE, frame(4, 0, 0, Buffer.alloc(0)), frame(1, 0x5, 1, block)]))
  let data = Buffer.alloc(0)
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.on('error', reject)
      socket.on('close', () => resolve('closed'))
      socket.on('data', (d: Buffer) => {
        data = Buffer.concat([data, d])
        while (data.length >= 9 && data.length >= 9 + data.readUIntBE(0, 3)) {
          const len = data.readUIntBE(0, 3)
          const [type, stream, first] = [data[3]!, data.readUInt32BE(5), data[9]]
          data = data.subarray(9 + len)
          if (stream !== 1) continue
          if (type === 3) return resolve('reset')
          // :status from the static table (RFC 7541 appendix A): 8 is 200, 12 is 400
          if (type === 1) return resolve(first === 0x88 ? '200' : first === 0x8c ? '400' : `status byte ${String(first)}`)
        }
      })
    })
  } finally {
    socket.destroy()
  }
}

const get = (fields: Head): Head => ({ ':method': 'GET', ':scheme': 'http', ':path': '/', ...fields })

describe('differential: HTTP/2 heads nghttp2 refuses', { skip: skipWithoutHaproxy }, () => {
  let both: Awaited<ReturnType<typeof startBoth>>
  before(async () => {
    both = await startBoth(port => `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen fe
    bind 127.0.0.1:${port} proto h2
    http-request return status 200 content-type text/plain lf-string "host=%[req.hdr(host)]"
`)
  })
  after(async () => { await both?.stop() })

  const cases: Array<[string, Head, string]> = [
    ['a scheme outside RFC 3986', get({ ':scheme': 'http://localhost/?' }), '400 page'],
    ['a scheme starting with a digit', get({ ':scheme': '1http' }), '400 page'],
    ['an upper-case scheme', get({ ':scheme': 'HTTP', ':authority': 'h.test' }), '200 host=h.test'],
    ['a method that is not a token', get({ ':method': 'GET?' }), '400 page'],
    ['a method with a space', get({ ':method': 'G T' }), '400 page'],
    ['an authority with a space', get({ ':authority': 'a b' }), '400 page'],
    ['an authority with a slash', get({ ':authority': 'a/b' }), '200 host=a/b'],
    ['an authority with a question mark', get({ ':authority': 'h?x' }), '200 host=h?x'],
    ['a path without its slash', get({ ':path': 'hello' }), 'reset']
  ]

  test('node client (fields added to the HPACK table): the same answers as HAProxy', async () => {
    for (const [what, head, expected] of cases) {
      const [theirs, ours] = [await viaNode(both.haproxy.port, head), await viaNode(both.ours.port, head)]
      assert.equal(theirs, expected, `haproxy, ${what}`)
      assert.equal(ours, theirs, what)
    }
    // the connection stays usable after a 400: the next request on a new session is served
    assert.equal(await viaNode(both.ours.port, get({ ':authority': 'ok.test' })), '200 host=ok.test')
  })

  test('literals without indexing (HAProxy\'s test client): the same answers as HAProxy', async () => {
    for (const [what, head, expected] of cases) {
      const [theirs, ours] = [await viaLiterals(both.haproxy.port, head), await viaLiterals(both.ours.port, head)]
      assert.equal(theirs, expected.split(' ')[0], `haproxy, ${what}`)
      assert.equal(ours, theirs, what)
    }
  })

  test('a table entry replaced once stays judged: the same bad scheme again, then a good request', async () => {
    const session = http2.connect(`http://127.0.0.1:${both.ours.port}`)
    session.on('error', () => {})
    const ask = async (head: Head): Promise<number> => await new Promise((resolve) => {
      const req = session.request(head)
      req.on('response', (h) => { req.resume(); req.on('end', () => resolve(Number(h[':status']))) })
      req.on('error', () => resolve(0))
      req.end()
    })
    try {
      const bad = get({ ':scheme': 'bad_scheme', ':authority': 'x.test' })
      // node's encoder indexes the bad scheme on first use and refers to the table entry after
      assert.deepEqual([await ask(bad), await ask(bad), await ask(get({ ':authority': 'x.test' }))], [400, 400, 200])
    } finally {
      session.destroy()
    }
  })
})
