// The heads of the gateway's own answers inside a Fastify app (the plugin): names, order, bodies
// and connection rules are HAProxy's (errorloc's redirect, an errorfile without Content-Length
// closing the connection, the parser's own 400), while the app's node server keeps its Date and
// its Connection/Keep-Alive lines, as on the app's own routes (README, Differences from HAProxy).
// The CLI's heads, byte for byte against real HAProxy, are in test/differential/heads.test.ts.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { FastifyInstance } from 'fastify'

import { gatewayApp, rawRequest } from './fixtures.js'

describe('plugin: heads of the gateway\'s own answers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wire-heads-'))
  let app: FastifyInstance
  let port: number

  before(async () => {
    writeFileSync(join(dir, 'unframed.http'), 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nX-Custom: yes\r\n\r\n<html>down</html>\n')
    const started = await gatewayApp(`defaults
    mode http
frontend fe
    bind 127.0.0.1:8080
    http-request deny if { path /deny }
    use_backend moved if { path /moved }
    use_backend unframed if { path /unframed }
    default_backend moved
backend moved
    errorloc303 503 /maintenance
backend unframed
    errorfile 503 ${join(dir, 'unframed.http')}
`)
    app = started.app
    port = started.port
  })

  after(async () => {
    await app?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('errorloc303: a 303 to the URL, HAProxy\'s lines in its order', async () => {
    const r = await rawRequest(port, 'GET /moved HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n')
    assert.equal(r.status, 303)
    assert.equal(r.reason, 'See Other')
    assert.deepEqual(r.lines.slice(0, 3), [['cache-control', 'no-cache'], ['content-length', '0'], ['location', '/maintenance']])
    assert.equal(r.text, '')
  })

  test('an errorfile without Content-Length is sent as it is and the connection closes after it', async () => {
    // an HTTP/1.1 client that did not ask to close: the answer's end is the connection's
    const r = await rawRequest(port, 'GET /unframed HTTP/1.1\r\nhost: h\r\n\r\n')
    assert.equal(r.status, 503)
    assert.equal(r.headers['content-length'], undefined)
    assert.equal(r.headers['transfer-encoding'], undefined)
    assert.equal(r.headers.connection, 'close')
    assert.equal(r.text, '<html>down</html>\n')
  })

  test('the parser\'s 400 (two Host headers) in its own head; node\'s Date stays on the app\'s server', async () => {
    const r = await rawRequest(port, 'GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n')
    assert.equal(r.status, 400)
    assert.deepEqual(r.lines.filter(([k]) => k !== 'date'), [['content-length', '90'], ['cache-control', 'no-cache'], ['connection', 'close'], ['content-type', 'text/html']])
    assert.match(r.body.toString('latin1'), /^<html><body><h1>400 Bad request<\/h1>/)
  })

  test('a deny page keeps node\'s Date and keep-alive lines in the plugin', async () => {
    const r = await rawRequest(port, 'GET /deny HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n')
    assert.equal(r.status, 403)
    assert.deepEqual(r.lines.slice(0, 3), [['content-length', '93'], ['cache-control', 'no-cache'], ['content-type', 'text/html']])
    assert.ok(r.headers.date !== undefined, 'the app\'s server dates its answers')
    assert.equal(r.headers.connection, 'close')
  })
})
