// Standalone mode (runGateway, as `fastify-haproxy -f`): binds, request framing checks, timeouts.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import http from 'node:http'
import { upstream, get, rawRequest, freePorts, waitListening, startGateway } from './fixtures.js'
import type { Seen } from './fixtures.js'




test('binds: a port range, several bind lines, IPv6; framing checks; timeout http-request', async (t) => {
  const up = await upstream('up', { requireHost: false })
  const base = await freePorts(3)
  const v6 = await freePorts(1)
  const dir = mkdtempSync(join(tmpdir(), 'gw-standalone-'))
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-request 300ms
frontend fe
    bind 127.0.0.1:${base}-${base + 1}
    bind [::1]:${v6}
    default_backend be
listen side
    bind 127.0.0.1:${base + 2}
    server up ${up.addr}
backend be
    server up ${up.addr}
`)
  const { child, exited, output } = startGateway(file)
  t.after(async () => { child.kill('SIGKILL'); await up.close() })
  await waitListening(base)
  await waitListening(base + 1)
  await waitListening(base + 2)
  await waitListening(v6, '::1')

  const ok = 'GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'
  for (const port of [base, base + 1, base + 2]) {
    const r = await rawRequest(port, ok)
    assert.equal(r.status, 200, `port ${port}`)
    assert.equal((JSON.parse(r.text) as Seen).url, '/p?q=1')
  }
  const six = await new Promise<number>((resolve, reject) => {
    http.get({ host: '::1', port: v6, path: '/', agent: false }, res => { res.resume(); resolve(res.statusCode!) }).on('error', reject)
  })
  assert.equal(six, 200)

  // HAProxy 2.6.12 forwards it, and the server gets no Host either
  const noHost = await rawRequest(base, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n')
  assert.equal(noHost.status, 200, 'HTTP/1.1 without Host')
  assert.equal((JSON.parse(noHost.text) as Seen).headers.host, undefined, 'no Host invented')
  assert.equal((await rawRequest(base, 'GET / HTTP/1.0\r\n\r\n')).status, 200, 'HTTP/1.0 needs no Host')
  assert.equal((await rawRequest(base, 'GET http://other.example/x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')).status, 400, 'absolute-form URI whose host differs from Host')
  const abs = await rawRequest(base, 'GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')
  assert.equal(abs.status, 200)
  assert.equal((JSON.parse(abs.text) as Seen).url, 'http://example.com/x?y', 'forwarded in absolute form, as HAProxy does')
  assert.equal((await rawRequest(base, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n')).status, 400, 'two different Host headers')

  const started = Date.now()
  const slow = await rawRequest(base, 'GET / HTTP/1.1\r\nHost: x\r\n', 5000)
  assert.equal(slow.status, 408)
  assert.match(slow.text, /408 Request Time-out/)
  assert.ok(Date.now() - started < 2000, 'timeout http-request bounds the wait for the head')
  child.kill('SIGTERM')
  assert.equal(await exited, 0, output())
})
