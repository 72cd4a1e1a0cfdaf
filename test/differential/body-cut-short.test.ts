// A request body the client's close cuts short while `option http-buffer-request` waits for it
// (http_request_buffer's last step): HAProxy answers nothing and logs `CR--` against the backend
// its switching rules choose, `<NOSRV>`, status -1. Each case is sent to real HAProxy and to our
// CLI; the answers and the log lines' fields are compared.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startBoth, startUpstream, skipWithoutHaproxy, writePieces, type Proxied, type Upstream } from './harness.js'

/** The log line of `path`, once written: backend/server, status and termination state. */
async function logged (proxy: Proxied, path: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const line = proxy.output().split('\n').find(l => l.includes(`"POST ${path} HTTP/1.1"`))
    if (line !== undefined) {
      const m = / fe (\S+) \S+ (-?\d+) \d+ - - (\S{4}) /.exec(line)
      return m === null ? line : `${m[1]} ${m[2]} ${m[3]}`
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return `no log line for ${path}`
}

describe('differential: a buffered request body cut short by the client', { skip: skipWithoutHaproxy }, () => {
  let both: Awaited<ReturnType<typeof startBoth>>
  let upstream: Upstream
  before(async () => {
    upstream = await startUpstream('s1')
    both = await startBoth(port => `global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 10s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    option http-buffer-request
    use_backend be1 if { path_beg /1 }
    default_backend be2
backend be1
    server srv1 127.0.0.1:${upstream.port}
backend be2
    server srv2 127.0.0.1:${upstream.port}
`)
  })
  after(async () => { await both?.stop(); await upstream?.close() })

  const cases: Array<[string, string, string[]]> = [
    ['the last chunk without its final CRLF', '/1a', ['POST /1a HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n1\r\n1\r\n1', '\r\n1\r\n0\r\n']],
    ['a trailer line without the blank line', '/1b', ['POST /1b HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n1\r\n1\r\n', '0\r\nx-t: 1\r\n']],
    ['in the middle of a chunk', '/2a', ['POST /2a HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab']],
    ['short of its Content-Length', '/2b', ['POST /2b HTTP/1.1\r\nhost: h\r\ncontent-length: 10\r\n\r\nabc']]
  ]

  test('no answer, and the same log fields as HAProxy (backend chosen, <NOSRV>, -1, CR--)', async () => {
    for (const [what, path, pieces] of cases) {
      // a short pause between the pieces, then the client's half-close
      const [theirs, ours] = [(await writePieces(both.haproxy.port, pieces, 20, true)).data, (await writePieces(both.ours.port, pieces, 20, true)).data]
      assert.equal(theirs, '', `haproxy, ${what}`)
      assert.equal(ours, theirs, what)
      const [theirLine, ourLine] = [await logged(both.haproxy, path), await logged(both.ours, path)]
      assert.match(theirLine, /<NOSRV> -1 CR--$/, `haproxy, ${what}`)
      assert.equal(ourLine, theirLine, what)
    }
    assert.equal(upstream.seen.length, 0)
  })
})
