// Protocol edges compared with real HAProxy 2.6.12 (recorded answers; README "Differences" for
// the ones the gateway does not share).

import { test } from 'node:test'
import net from 'node:net'
import type { FastifyServerOptions } from 'fastify'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HTTP_DEFAULTS, freePorts, gatewayApp, rawRequest, rawServer, startGateway, upstream, waitListening, withGateway } from '../gateway/fixtures.js'

/** The CLI on a frontend whose one backend has one server, at `server`. */
async function toOneServer (server: string, fn: (port: number) => Promise<void>): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-edges-')), 'haproxy.cfg')
  await withGateway(file, (port) => `${HTTP_DEFAULTS}
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server up ${server}
`, fn)
}

test('CLI: HTTP/0.9 and # are 400s; the stats listener answers 503 to what it does not serve', async (t) => {
  const up = await upstream('up')
  const base = await freePorts(2)
  const file = join(mkdtempSync(join(tmpdir(), 'gw-edges-')), 'haproxy.cfg')
  writeFileSync(file, `${HTTP_DEFAULTS}
listen stats
    bind 127.0.0.1:${base + 1}
    stats enable
    stats uri /stats
frontend fe
    bind 127.0.0.1:${base}
    default_backend be
backend be
    server up ${up.addr}
`)
  const { child, exited } = startGateway(file)
  t.after(async () => { child.kill('SIGKILL'); await up.close() })
  await waitListening(base)
  await waitListening(base + 1)
  // HAProxy 2.6.12 refuses these with its 400 (recorded); node's parser would let them through
  const nine = await rawRequest(base, 'GET /x\r\n\r\n')
  assert.equal(nine.status, 400, 'HTTP/0.9')
  const hash = await rawRequest(base, 'GET /a#frag HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.equal(hash.status, 400, '# in the target')
  assert.match(hash.text, /400 Bad request/)
  assert.equal(up.seen.length, 0, 'none reached the server')
  const req = (method: string, path: string): string => `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`
  assert.equal((await rawRequest(base + 1, req('GET', '/other'))).status, 503)
  assert.equal((await rawRequest(base + 1, req('POST', '/stats'))).status, 303)
  for (const method of ['DELETE', 'PUT', 'OPTIONS']) {
    const r = await rawRequest(base + 1, req(method, '/stats'))
    assert.equal(r.status, 503, method)
    assert.match(r.text, /503 Service Unavailable/)
  }
  child.kill('SIGTERM')
  await exited
})

test('CLI: the differences README lists: CONNECT is closed without an answer; HTTP/1.0 reaches the server as HTTP/1.1 with a Host naming it', async (t) => {
  const up = await upstream('up')
  t.after(() => up.close())
  await toOneServer(up.addr, async (port) => {
    // HAProxy 2.6.12 forwards CONNECT to the server; node's server ends the connection
    const connect = await rawRequest(port, 'CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n')
    assert.equal(connect.status, 0, 'no answer')
    assert.equal(up.seen.length, 0)
    // HAProxy keeps HTTP/1.0 and adds no Host; undici sends HTTP/1.1 and names the server
    const old = await rawRequest(port, 'GET /old HTTP/1.0\r\n\r\n')
    assert.equal(old.status, 200)
    assert.equal(up.seen.at(-1)?.headers.host, up.addr)
  })
})

test('CLI: an HTTP/1.1 request without Host is forwarded without one, as HAProxy 2.6.12 does (origin and absolute form)', async (t) => {
  const heads: string[] = []
  const up = await rawServer((data, socket) => {
    heads.push(data.toString('latin1'))
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok')
  })
  t.after(() => up.close())
  await toOneServer(`127.0.0.1:${up.port}`, async (port) => {
    // what HAProxy 2.6.12 sent its server for the same requests (recorded): no Host line at all
    const origin = await rawRequest(port, 'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n')
    assert.equal(origin.status, 200)
    assert.match(heads.at(-1)!, /^GET \/x HTTP\/1\.1\r\n/)
    assert.doesNotMatch(heads.at(-1)!, /\r\nhost:/i)
    const absolute = await rawRequest(port, 'GET http://a.example/z HTTP/1.1\r\nConnection: close\r\n\r\n')
    assert.equal(absolute.status, 200)
    assert.match(heads.at(-1)!, /^GET http:\/\/a\.example\/z HTTP\/1\.1\r\n/)
    assert.doesNotMatch(heads.at(-1)!, /\r\nhost:/i)
    // a request with a Host keeps it
    await rawRequest(port, 'GET /y HTTP/1.1\r\nHost: b.example\r\nConnection: close\r\n\r\n')
    assert.match(heads.at(-1)!, /\r\nhost: b\.example\r\n/i)
  })
})

test('plugin: without Host, node answers 400 unless the app turns requireHostHeader off; then the gateway forwards as HAProxy', async (t) => {
  const heads: string[] = []
  const up = await rawServer((data, socket) => {
    heads.push(data.toString('latin1'))
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok')
  })
  t.after(() => up.close())
  const config = `${HTTP_DEFAULTS}
frontend fe
    default_backend be
backend be
    server up 127.0.0.1:${up.port}
`
  const strict = await gatewayApp(config)
  t.after(() => strict.app.close())
  assert.equal((await rawRequest(strict.port, 'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n')).status, 400, "node's own check")
  assert.equal(heads.length, 0)
  const lenient = await gatewayApp(config, { defaultBackend: 'always' }, { http: { requireHostHeader: false } } as FastifyServerOptions)
  t.after(() => lenient.app.close())
  assert.equal((await rawRequest(lenient.port, 'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n')).status, 200)
  assert.doesNotMatch(heads.at(-1)!, /\r\nhost:/i)
})

test("CLI: a section's http-request rules run before its stats page, as HAProxy 2.6.12 runs them (recorded)", async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'gw-edges-')), 'haproxy.cfg')
  await withGateway(file, (port) => `${HTTP_DEFAULTS}
listen st
    bind 127.0.0.1:${port}
    stats enable
    stats uri /stats
    http-request deny deny_status 403 if { path /stats } { req.hdr(x-deny) 1 }
    http-request return status 202 content-type text/plain string ret if { req.hdr(x-ret) 1 }
    http-request redirect location /elsewhere if { req.hdr(x-redir) 1 }
    http-request set-path /other if { req.hdr(x-path) 1 }
    http-request auth if { req.hdr(x-auth) 1 }
`, async (port) => {
    const ask = (header: string): Promise<{ status: number, text: string }> =>
      rawRequest(port, `GET /stats HTTP/1.1\r\nHost: x\r\n${header}Connection: close\r\n\r\n`)
    const page = await ask('')
    assert.equal(page.status, 200)
    assert.match(page.text, /Statistics Report/)
    // what HAProxy 2.6.12 answered to each: the rule's answer, never the page
    const answers: Array<[string, number]> = [['x-deny: 1\r\n', 403], ['x-ret: 1\r\n', 202], ['x-redir: 1\r\n', 302], ['x-path: 1\r\n', 503], ['x-auth: 1\r\n', 401]]
    for (const [header, status] of answers) {
      const r = await ask(header)
      assert.equal(r.status, status, header)
      assert.doesNotMatch(r.text, /Statistics Report/, header)
    }
  })
})

test('CLI: bytes after a request are answered after it: ignored after Connection: close, a 400 after the answer otherwise (h1_to_h1)', async (t) => {
  const up = await upstream('up')
  t.after(() => up.close())
  await toOneServer(up.addr, async (port) => {
    // HAProxy 2.6.12 answers the request and drops what follows it (reg-test h1_to_h1)
    const closing = await rawRequest(port, 'GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\ntxys ys not sent\r\n\r\n')
    assert.equal(closing.status, 200)
    assert.doesNotMatch(closing.text, /400 Bad request/)
    // a kept-alive request is answered first; the 400 for what follows comes after its answer
    const kept = await new Promise<string>((resolve, reject) => {
      let got = ''
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\ntxys ys not sent\r\n\r\n'))
      socket.on('data', (d: Buffer) => { got += d.toString('latin1') })
      socket.on('error', reject)
      socket.on('close', () => resolve(got))
    })
    assert.match(kept, /^HTTP\/1\.1 200 OK\r\n[\s\S]*"url":"\/b"[\s\S]*HTTP\/1\.1 400 Bad request/)
    assert.equal(up.seen.length, 2)
  })
})
