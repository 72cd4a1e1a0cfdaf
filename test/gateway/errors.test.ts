// HAProxy's answers when the server cannot give one: 502, 503, 504, errorfile overrides,
// and the FST_HAPROXY_* catalogue.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as errors from '../../lib/errors.js'
import { upstream, deadPort, rawServer, rawRequest, HAPROXY_503, gatewayApp } from './fixtures.js'


const req = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`

test('502 for an invalid or empty answer, 503 for a dead server, 504 on timeout server; upstream address never leaked', async (t) => {
  const garbage = await rawServer((_d, c) => c.end('garbage\r\n\r\n'))
  const empty = await rawServer((_d, c) => c.end())
  const slow = await upstream('slow', { delayMs: 3000 })
  const dead = await deadPort()
  const { app, port } = await gatewayApp(`
defaults
    mode http
    timeout connect 500ms
    timeout server 300ms
    retries 1
frontend fe
    bind 127.0.0.1:8080
    use_backend garbage if { path /garbage }
    use_backend empty if { path /empty }
    use_backend slow if { path /slow }
    use_backend dead if { path /dead }
backend garbage
    server g 127.0.0.1:${garbage.port}
backend empty
    server e 127.0.0.1:${empty.port}
backend slow
    server s ${slow.addr}
backend dead
    server d 127.0.0.1:${dead}
`)
  t.after(async () => { await app.close(); await garbage.close(); await empty.close(); await slow.close() })

  const g = await rawRequest(port, req('/garbage'))
  assert.equal(g.status, 502)
  assert.equal(g.text, '<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n')
  assert.equal(g.headers['content-type'], 'text/html')
  assert.equal(g.headers['cache-control'], 'no-cache')
  assert.equal((await rawRequest(port, req('/empty'))).status, 502)

  const started = Date.now()
  const s = await rawRequest(port, req('/slow'))
  assert.equal(s.status, 504)
  assert.equal(s.text, "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n")
  assert.ok(Date.now() - started < 2500, 'timeout server bounds the wait')

  const d = await rawRequest(port, req('/dead'))
  assert.equal(d.status, 503)
  assert.equal(d.text, HAPROXY_503)
  assert.doesNotMatch(d.text, new RegExp(String(dead)), 'no upstream address in the answer')

  const model = app.haproxy.stats()
  const deadBe = model.proxies.find(p => p.proxy.name === 'dead')!.backend!
  assert.equal(deadBe.counters.econ, 1)
  assert.equal(deadBe.counters.hrsp[4], 1)
  assert.equal(model.proxies.find(p => p.proxy.name === 'garbage')!.backend!.counters.eresp, 1)
})

test('errorfile and http-errors sections replace the built-in pages', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-errorfile-'))
  writeFileSync(join(dir, '503.http'), 'HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nContent-Type: text/plain\r\n\r\nsorry, down\n')
  writeFileSync(join(dir, '403.http'), 'HTTP/1.0 403 Forbidden\r\nContent-Type: text/plain\r\n\r\ngo away\n')
  const dead = await deadPort()
  const { app, port } = await gatewayApp(`
http-errors site
    errorfile 403 ${join(dir, '403.http')}
defaults
    mode http
    retries 0
frontend fe
    bind 127.0.0.1:8080
    errorfiles site
    http-request deny if { path /deny }
    default_backend be
backend be
    errorfile 503 ${join(dir, '503.http')}
    server d 127.0.0.1:${dead}
`)
  t.after(async () => { await app.close() })
  const d = await rawRequest(port, req('/x'))
  assert.equal(d.status, 503)
  assert.equal(d.text, 'sorry, down\n')
  assert.equal(d.headers['content-type'], 'text/plain')
  const f = await rawRequest(port, req('/deny'))
  assert.equal(f.status, 403)
  assert.equal(f.text, 'go away\n')
})

test('the FST_HAPROXY_* catalogue: each key is its code, with a status', () => {
  const entries = Object.entries(errors).filter(([k]) => k.startsWith('FST_HAPROXY_'))
  assert.ok(entries.length >= 10)
  for (const [key, Ctor] of entries) {
    const err = new (Ctor as new (...a: string[]) => Error & { code: string, statusCode: number })('a', 'b', 'c')
    assert.equal(err.code, key)
    assert.ok(err.statusCode >= 400)
  }
  assert.equal(new errors.FST_HAPROXY_NO_SERVER().statusCode, 503)
  assert.equal(new errors.FST_HAPROXY_BAD_GATEWAY().statusCode, 502)
  assert.equal(new errors.FST_HAPROXY_GATEWAY_TIMEOUT().statusCode, 504)
})

test('built-in pages match HAProxy 2.6 byte for byte', () => {
  for (const [status, title, text] of [
    [400, '400 Bad request', 'Your browser sent an invalid request.'],
    [403, '403 Forbidden', 'Request forbidden by administrative rules.'],
    [408, '408 Request Time-out', "Your browser didn't send a complete request in time."],
    [501, '501 Not Implemented', '.The server does not support the functionality required to fulfill the request.']
  ] as const) {
    const page = errors.builtinErrorPage(status)
    assert.equal(page.body.toString(), `<html><body><h1>${title}</h1>\n${text}\n</body></html>\n`)
  }
  assert.ok(errors.builtinErrorPage(400).headers.includes('close'))
})

test("each 502/503/504 is one warning line with its FST_HAPROXY_* code and cause, the stack at debug level", async (t) => {
  const garbage = await rawServer((_d, c) => c.end('garbage\r\n\r\n'))
  const dead = await deadPort()
  const lines: Array<Record<string, any>> = []
  const stream = { write: (line: string) => { lines.push(JSON.parse(line)) } }
  const { app, port } = await gatewayApp(`
defaults
    mode http
    retries 1
frontend fe
    bind 127.0.0.1:8080
    use_backend garbage if { path /garbage }
    default_backend dead
backend garbage
    server g 127.0.0.1:${garbage.port}
backend dead
    server d 127.0.0.1:${dead}
`, { defaultBackend: 'always' }, { logger: { level: 'debug', stream } })
  t.after(async () => { await app.close(); await garbage.close() })

  assert.equal((await rawRequest(port, req('/dead'))).status, 503)
  assert.equal((await rawRequest(port, req('/garbage'))).status, 502)
  const warnings = lines.filter(l => l.level === 40 && l.code?.startsWith('FST_HAPROXY_'))
  assert.deepEqual(warnings.map(l => [l.code, l.backend, l.server]), [
    ['FST_HAPROXY_NO_SERVER', 'dead', 'd'],
    ['FST_HAPROXY_BAD_GATEWAY', 'garbage', 'g']
  ])
  for (const w of warnings) {
    assert.equal(w.err, undefined, 'no error object (and so no stack) at warn level')
    assert.doesNotMatch(w.msg, /\n|    at /, 'one line')
  }
  assert.match(warnings[0]!.msg, /^fastify-haproxy: 503 dead\/d: .*ECONNREFUSED/, 'the line names backend, server and cause')
  assert.ok(warnings.every(l => typeof l.reqId === 'string'), "logged through the request's child logger")
  const debug = lines.filter(l => l.level === 20 && l.err?.code?.startsWith('FST_HAPROXY_'))
  assert.deepEqual(debug.map(l => l.err.code), ['FST_HAPROXY_NO_SERVER', 'FST_HAPROXY_BAD_GATEWAY'])
  assert.match(debug[0]!.err.stack, /ECONNREFUSED/, 'the stack, with the connect error as cause, at debug')
})

test('an exception while processing the server answer is HAProxy\'s 500 at once (eint), not a client left waiting', async (t) => {
  // the server's header, url-decoded by a rule, holds a CR LF that node refuses to write: the
  // exception comes from inside the handler undici calls with the answer's head
  const up = await rawServer((_d, c) => c.end('HTTP/1.1 200 OK\r\ny: a%0d%0ab\r\nContent-Length: 2\r\n\r\nok'))
  const { app, port } = await gatewayApp(`
defaults
    mode http
    timeout client 30s
    timeout server 30s
frontend fe
    default_backend be
backend be
    http-response set-header x %[res.hdr(y),url_dec]
    server s 127.0.0.1:${up.port}
`)
  t.after(async () => { await app.close(); await up.close() })
  // rawRequest's own bound (5 s) is far below timeout client: a hang fails the test
  const r = await rawRequest(port, req('/'))
  assert.equal(r.status, 500)
  assert.equal(r.text, '<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n')
  const model = app.haproxy.stats()
  const row = model.proxies.find(p => p.proxy.name === 'be')!
  assert.equal(row.backend!.counters.eint, 1)
  assert.equal(row.backend!.servers[0]!.counters.eint, 1)
  assert.equal(row.backend!.counters.hrsp[4], 1)
  assert.equal(model.proxies.find(p => p.proxy.name === 'fe')!.frontend!.counters.eint, 1)
})
