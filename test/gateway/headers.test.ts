// Headers on the way to the server and back, as HAProxy 2.6 forwards them (checked against
// haproxy 2.6.12 on loopback): option forwardfor, Host kept, connection-level headers.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { upstream, get, rawServer, rawRequest, gatewayApp } from './fixtures.js'
import type { Seen } from './fixtures.js'


test('option forwardfor appends a line after the client value; except, header and if-none', async (t) => {
  const up = await upstream('up')
  const { app, port } = await gatewayApp(`
defaults
    mode http
frontend fe
    bind 127.0.0.1:8080
    use_backend plain if { path_beg /plain }
    use_backend except if { path_beg /except }
    use_backend named if { path_beg /named }
    use_backend ifnone if { path_beg /ifnone }
backend plain
    option forwardfor
    server up ${up.addr}
backend except
    option forwardfor except 127.0.0.0/8
    server up ${up.addr}
backend named
    option forwardfor header X-Client-IP
    server up ${up.addr}
backend ifnone
    option forwardfor if-none
    server up ${up.addr}
`)
  t.after(async () => { await app.close(); await up.close() })
  const seen = async (path: string, headers: Record<string, string> = {}): Promise<Seen> => JSON.parse((await get(port, path, headers)).text)

  const a = await seen('/plain', { host: 'www.example.com' })
  assert.equal(a.headers['x-forwarded-for'], '127.0.0.1')
  assert.equal(a.headers.host, 'www.example.com', 'Host is kept as the client sent it')
  const b = await seen('/plain', { 'x-forwarded-for': '203.0.113.9', host: 'www.example.com:8080' })
  assert.equal(b.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1')
  const xff = b.rawHeaders.filter((_v, i) => i % 2 === 0 && b.rawHeaders[i]!.toLowerCase() === 'x-forwarded-for')
  assert.equal(xff.length, 2, 'a second header line, as HAProxy adds it')
  assert.equal(b.headers.host, 'www.example.com:8080')

  assert.equal((await seen('/except')).headers['x-forwarded-for'], undefined)
  assert.equal((await seen('/except', { 'x-forwarded-for': '1.2.3.4' })).headers['x-forwarded-for'], '1.2.3.4')
  const n = await seen('/named')
  assert.equal(n.headers['x-client-ip'], '127.0.0.1')
  assert.equal(n.headers['x-forwarded-for'], undefined)
  assert.equal((await seen('/ifnone', { 'x-forwarded-for': '1.2.3.4' })).headers['x-forwarded-for'], '1.2.3.4')
  assert.equal((await seen('/ifnone')).headers['x-forwarded-for'], '127.0.0.1')
})

test('request headers: what HAProxy forwards, what node owns; Expect: 100-continue answered, not a 500', async (t) => {
  const up = await upstream('up')
  const { app, port } = await gatewayApp(`defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server up ${up.addr}\n`)
  t.after(async () => { await app.close(); await up.close() })
  const r = await rawRequest(port, 'GET /h HTTP/1.1\r\nHost: localhost\r\nConnection: close, X-Secret-Hop\r\nX-Secret-Hop: 1\r\n' +
    'Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers, deflate\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n' +
    'Trailer: X-T\r\nUpgrade: foo\r\nX-Custom: v\r\n\r\n')
  assert.equal(r.status, 200, 'stray Keep-Alive / Upgrade headers do not make the gateway fail')
  const seen = JSON.parse(r.text) as Seen
  assert.equal(seen.headers['x-custom'], 'v')
  assert.equal(seen.headers.te, 'trailers', 'TE keeps only trailers')
  // HAProxy 2.6 forwards these (observed): so do we
  assert.equal(seen.headers['proxy-authorization'], 'Basic Zm9vOmJhcg==')
  assert.equal(seen.headers['proxy-connection'], 'keep-alive')
  assert.equal(seen.headers['x-secret-hop'], '1')
  assert.equal(seen.headers.trailer, 'X-T')
  // connection-level: owned by each hop
  assert.equal(seen.headers['keep-alive'], undefined)
  assert.equal(seen.headers.upgrade, undefined)

  const body = Buffer.alloc(300_000, 7)
  const c = await rawRequest(port, Buffer.concat([Buffer.from(`POST /big HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]))
  assert.equal(c.status, 200)
  assert.equal((JSON.parse(c.text) as Seen).bodyLength, body.length)
})

test('response headers: the server\'s Connection and TE stay behind, the rest (Keep-Alive too) reaches the client', async (t) => {
  const up = await rawServer((_d, c) => c.end('HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=7\r\nProxy-Authenticate: Basic\r\nTE: gzip\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok'))
  const { app, port } = await gatewayApp(`defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server up 127.0.0.1:${up.port}\n`)
  t.after(async () => { await app.close(); await up.close() })
  const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 2000).catch(() => null)
  // keep-alive client: the server's "Connection: close" must not close the client connection
  assert.equal(r, null, 'the client connection stays open (read timed out)')
  const c = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.equal(c.status, 200)
  assert.equal(c.text, 'ok')
  assert.equal(c.headers['x-hop'], '1')
  assert.equal(c.headers['proxy-authenticate'], 'Basic')
  assert.equal(c.headers.te, undefined)
  // observed with haproxy 2.6.12: the server's Keep-Alive goes on to the client (its Connection does not)
  assert.equal(c.headers['keep-alive'], 'timeout=7')
  assert.deepEqual(c.lines.filter(([k]) => k === 'set-cookie').map(([, v]) => v), ['a=1', 'b=2'])
})

test('http-response rules rewrite the answer before it is written', async (t) => {
  const up = await upstream('up', { headers: { 'x-remove': 'me', server: 'secret' } })
  const { app, port } = await gatewayApp(`defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:8080\n    http-response set-header X-Frontend fe\n    default_backend be\nbackend be\n    http-response del-header X-Remove\n    http-response set-header Server hidden\n    server up ${up.addr}\n`)
  t.after(async () => { await app.close(); await up.close() })
  const r = await get(port, '/')
  assert.equal(r.status, 200)
  assert.equal(r.headers['x-remove'], undefined)
  assert.equal(r.headers.server, 'hidden')
  assert.equal(r.headers['x-frontend'], 'fe')
})
