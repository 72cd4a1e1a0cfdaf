// The heads of the answers the proxy makes itself (error pages, deny / return / redirect / auth /
// tarpit, http-error, errorfiles, errorloc) and of a proxied answer, byte for byte against real HAProxy:
// the exact request bytes on a raw socket, HTTP/1.1 and HTTP/1.0, with and without a Connection
// header; compared are the status line, every header line (names, case, order), the body, and
// whether the connection takes a second request. Only a Date the server sent is masked.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBoth, startUpstream, startRawUpstream, head, skipWithoutHaproxy, type Upstream } from './harness.js'

/** One exchange on a fresh connection: the first answer as sent, then whether a second request got one. */
interface Exchange {
  answer: string
  open: boolean
}

/** Where an answer's bytes end: after its Content-Length body, its last chunk, or (neither) at the close. */
function answerEnd (data: string): number | null {
  const headEnd = data.indexOf('\r\n\r\n')
  if (headEnd < 0) return null
  const head = data.slice(0, headEnd).toLowerCase()
  const length = /\r\ncontent-length: *(\d+)/.exec(head)
  if (length !== null) return data.length >= headEnd + 4 + Number(length[1]) ? headEnd + 4 + Number(length[1]) : null
  if (/\r\ntransfer-encoding: *chunked/.test(head)) {
    const last = data.indexOf('\r\n0\r\n\r\n', headEnd)
    return last < 0 ? null : last + 7
  }
  return null
}

function exchange (port: number, request: string): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    socket.setEncoding('latin1')
    let data = ''
    let answer: string | null = null
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no complete exchange within 8 s; got ${JSON.stringify(data)}`)) }, 8000)
    const done = (open: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ answer: answer ?? data, open })
    }
    socket.on('error', () => {})
    socket.on('data', (d: string) => {
      data += d
      if (answer === null) {
        const end = answerEnd(data)
        if (end === null) return
        answer = data.slice(0, end)
        data = data.slice(end)
        socket.write('GET /second HTTP/1.1\r\nhost: www.example.com\r\n\r\n')
      }
      if (data.length > 0) done(true)
    })
    socket.on('close', () => {
      if (answer === null) answer = data
      done(false)
    })
    socket.write(request)
  })
}

/** The comparable view: the server's Date value masked (the proxy adds none of its own). */
function view (e: Exchange): Exchange {
  return { answer: e.answer.replace(/\r\ndate: [^\r]*/gi, '\r\ndate: <server>'), open: e.open }
}

const clients: Array<[string, string]> = [
  ['HTTP/1.1', ''],
  ['HTTP/1.1', 'connection: close\r\n'],
  ['HTTP/1.0', ''],
  ['HTTP/1.0', 'connection: keep-alive\r\n']
]

const paths = [
  '/deny', '/deny400', '/deny404', '/deny407', '/deny408', '/deny429', '/deny500', '/deny502', '/deny503', '/deny504',
  '/return', '/return-hdr', '/return-ef', '/redirect301', '/redirect302', '/auth', '/tarpit',
  '/http-error', '/errorfile', '/errorfile-length', '/errorloc', '/errorloc303', '/no-server', '/garbage', '/slow', '/proxied', '/proxied-dated'
]

describe('differential: heads of answers the proxy makes, byte for byte', { skip: skipWithoutHaproxy }, () => {
  let live: Upstream
  let slow: Upstream
  const raw: Array<{ close (): Promise<void> }> = []
  let both: Awaited<ReturnType<typeof startBoth>>
  const dir = mkdtempSync(join(tmpdir(), 'fh-heads-'))

  before(async () => {
    // a server's own header names and Keep-Alive; a Date only when it sends one
    live = await startUpstream('live', (req, res) => {
      res.sendDate = req.url === '/proxied-dated'
      res.writeHead(200, ['X-Mixed-Case', 'Yes', 'Content-Type', 'text/plain', 'Content-Length', '5']).end('live\n')
    })
    slow = await startUpstream('slow', (_req, res) => { setTimeout(() => res.end('late'), 1500) })
    const garbage = await startRawUpstream(s => { s.once('data', () => s.end('this is not HTTP\r\n\r\n')) })
    raw.push(garbage)
    writeFileSync(join(dir, 'unframed.http'), 'HTTP/1.1 503 Service Unavailable\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\nX-Custom: yes\r\n\r\n<html>down</html>\n')
    writeFileSync(join(dir, 'framed.http'), 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 8\r\nContent-Type: text/plain\r\n\r\nwith cl\n')
    both = await startBoth(port => head(['timeout tarpit 100ms', 'timeout http-request 300ms']) + `
frontend fe
    bind 127.0.0.1:${port}
    http-request deny if { path /deny }
${[400, 404, 407, 408, 429, 500, 502, 503, 504].map(s => `    http-request deny deny_status ${s} if { path /deny${s} }`).join('\n')}
    http-request return status 200 content-type text/plain string hello if { path /return }
    http-request return status 202 content-type text/plain hdr X-A b hdr x-c d string hi if { path /return-hdr }
    http-request return status 503 default-errorfiles if { path /return-ef }
    http-request redirect location /elsewhere code 301 if { path /redirect301 }
    http-request redirect location /elsewhere if { path /redirect302 }
    http-request auth realm Private if { path /auth }
    http-request tarpit if { path /tarpit }
    use_backend http-error if { path /http-error }
    use_backend errorfile if { path /errorfile }
    use_backend errorfile-length if { path /errorfile-length }
    use_backend errorloc if { path /errorloc }
    use_backend errorloc303 if { path /errorloc303 }
    use_backend no-server if { path /no-server }
    use_backend garbage if { path /garbage }
    use_backend slow if { path /slow }
    use_backend stats if { path_beg /stats }
    use_backend stats-auth if { path_beg /admin }
    default_backend live
backend live
    server l1 127.0.0.1:${live.port}
backend http-error
    http-error status 503 content-type text/plain hdr X-Q q string down
backend errorfile
    errorfile 503 ${join(dir, 'unframed.http')}
backend errorfile-length
    errorfile 503 ${join(dir, 'framed.http')}
backend errorloc
    errorloc 503 http://www.example.com/maintenance
backend errorloc303
    errorloc303 503 /down?from=errorloc
backend stats
    stats enable
    stats uri /stats
    stats http-request deny if { path /stats/deny }
backend stats-auth
    stats enable
    stats uri /admin
    stats auth admin:secret
backend no-server
backend garbage
    retries 0
    server g1 127.0.0.1:${garbage.port}
backend slow
    timeout server 300ms
    server s1 127.0.0.1:${slow.port}
`)
  })

  after(async () => {
    await both?.stop()
    await Promise.all([live?.close(), slow?.close(), ...raw.map(r => r.close())])
    rmSync(dir, { recursive: true, force: true })
  })

  // requests the parser refuses, and one whose head never completes (`timeout http-request`)
  const refused: Array<[string, string]> = [
    ['a header line without a colon', 'GET /x HTTP/1.1\r\nhost: www.example.com\r\nno colon here\r\n\r\n'],
    ['a request line that is not HTTP', 'GET /x FOO/1.1\r\nhost: www.example.com\r\n\r\n'],
    ['a head left unfinished', 'GET /x HTTP/1.1\r\nhost: www.example.com\r\n']
  ]
  for (const [label, request] of refused) {
    test(label, async () => {
      const [theirs, ours] = await Promise.all([both.haproxy.port, both.ours.port].map(port => exchange(port, request)))
      assert.match(theirs!.answer, /^HTTP\/1\.1 40[08] /)
      assert.deepEqual(view(ours!), view(theirs!))
    })
  }

  // the stats applet: its page's head (the page itself differs: versions, pids, uptimes), and
  // its refusals whole; HAProxy closes the connection after a refusal without saying so
  const statsCases: Array<[string, 'head' | 'whole']> = [['/stats', 'head'], ['/stats;csv', 'head'], ['/stats/deny', 'whole'], ['/admin', 'whole']]
  for (const [path, compared] of statsCases) {
    test(`stats ${path}`, async () => {
      const requests = clients.map(([version, extra]) => `GET ${path} ${version}\r\nhost: www.example.com\r\n${extra}\r\n`)
      const [theirs, ours] = await Promise.all([both.haproxy.port, both.ours.port].map(port => Promise.all(requests.map(r => exchange(port, r)))))
      const cut = (e: Exchange): Exchange => compared === 'whole' ? e : { answer: e.answer.slice(0, e.answer.indexOf('\r\n\r\n') + 4), open: e.open }
      for (const [i, [version, extra]] of clients.entries()) {
        assert.deepEqual(cut(ours[i]!), cut(theirs[i]!), `${path}, ${version} ${extra.trim() || '(no connection header)'}`)
      }
    })
  }

  for (const path of paths) {
    test(path, async () => {
      const requests = clients.map(([version, extra]) => `GET ${path} ${version}\r\nhost: www.example.com\r\n${extra}\r\n`)
      const [theirs, ours] = await Promise.all([both.haproxy.port, both.ours.port].map(port => Promise.all(requests.map(r => exchange(port, r)))))
      for (const [i, [version, extra]] of clients.entries()) {
        assert.match(theirs[i]!.answer, /^HTTP\/1\.1 \d{3} /, `haproxy answered ${version} ${extra.trim()}`)
        assert.deepEqual(view(ours[i]!), view(theirs[i]!), `${path}, ${version} ${extra.trim() || '(no connection header)'}`)
      }
    })
  }
})
