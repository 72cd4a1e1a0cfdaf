// HTTP/2 with prior knowledge on a clear bind without `proto h2` (configuration.txt, "option
// disable-h2-upgrade"): HAProxy 2.6 serves a connection that opens with the HTTP/2 preface as
// HTTP/2, HTTP/1.1 on the same bind as before; with `option disable-h2-upgrade` the preface is
// a bad HTTP/1 request (400, as observed on HAProxy 2.6.12).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'
import { h2Requests } from './helpers.js'
import { PREFACE } from './h2-frames.js'
import { upstream, freePorts, waitListening, startGateway, rawRequest, waitFor, HTTP_DEFAULTS } from '../gateway/fixtures.js'
import type { Seen } from '../gateway/fixtures.js'

test('clear binds take HTTP/2 with prior knowledge unless option disable-h2-upgrade', async (t) => {
  const up = await upstream('up')
  const dir = mkdtempSync(join(tmpdir(), 'h2-prior-'))
  const p = await freePorts(3)
  writeFileSync(join(dir, 'haproxy.cfg'), `global
    log stdout format raw local0
${HTTP_DEFAULTS}
frontend fe
    log global
    option httplog
    bind 127.0.0.1:${p}
    bind 127.0.0.1:${p + 1}
    http-request set-header X-Ver %[req.ver]
    default_backend be
frontend no-upgrade
    bind 127.0.0.1:${p + 2}
    option disable-h2-upgrade
    default_backend be
backend be
    server up ${up.addr}
`)
  const { child, exited, output } = startGateway(join(dir, 'haproxy.cfg'))
  t.after(async () => { child.kill('SIGKILL'); await exited; await up.close() })
  for (let i = 0; i < 3; i++) await waitListening(p + i).catch((err: Error) => { throw new Error(`${err.message}: ${output()}`) })
  assert.doesNotMatch(output(), /disable-h2-upgrade/, 'the option is served, no warning')

  // the first bind (Fastify's server) and an extra one: two streams on one HTTP/2 connection each
  for (const port of [p, p + 1]) {
    const answers = await h2Requests(`http://127.0.0.1:${port}`, [{ path: '/a' }, { path: '/b', method: 'POST', body: 'hello' }])
    assert.deepEqual(answers.map(a => a.status), [200, 200])
    const seen = answers.map(a => JSON.parse(a.text) as Seen)
    assert.deepEqual(seen.map(s => [s.method, s.url, s.headers['x-ver'], s.bodyLength]), [['GET', '/a', '2.0', 0], ['POST', '/b', '2.0', 5]])
  }

  // logged as HTTP/2 requests, as HAProxy logs them
  await waitFor(() => output().includes(`"GET http://127.0.0.1:${p + 1}/a HTTP/2.0"`), 'the log line of /a on the second bind')
  assert.match(output(), new RegExp(`fe be/up .* 200 .*"POST http://127.0.0.1:${p}/b HTTP/2.0"`))

  // HTTP/1.1 on the same binds, unchanged (a method starting with P as well)
  for (const port of [p, p + 1]) {
    const res = await rawRequest(port, 'PUT /c HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi')
    assert.equal(res.status, 200)
    assert.equal((JSON.parse(res.text) as Seen).headers['x-ver'], '1.1')
  }

  // the preface split over several writes is still recognised
  const split = net.connect(p, '127.0.0.1')
  await new Promise<void>(resolve => split.once('connect', resolve))
  split.write(PREFACE.subarray(0, 3))
  await new Promise(resolve => setTimeout(resolve, 50))
  split.write(PREFACE.subarray(3))
  // node's server answers the preface with its SETTINGS frame (type 4)
  const settings = await new Promise<Buffer>((resolve, reject) => { split.once('data', resolve); split.once('error', reject) })
  assert.equal(settings[3], 4)
  split.destroy()

  // option disable-h2-upgrade: the preface is an invalid HTTP/1 request
  const before = up.seen.length
  const refused = await rawRequest(p + 2, PREFACE)
  assert.equal(refused.status, 400)
  assert.equal(refused.reason, 'Bad request')
  assert.equal(refused.headers.connection, 'close')
  assert.match(refused.text, /<h1>400 Bad request<\/h1>/)
  assert.equal(up.seen.length, before, 'nothing reached the server')
  const plain = await rawRequest(p + 2, 'GET /d HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')
  assert.equal(plain.status, 200)
  // by now the split connection's close has been seen: not logged (an HTTP/2 connection without
  // a stream); the two <BADREQ> are waitListening's connect-and-close on fe's binds, as HAProxy logs them
  assert.equal(output().match(/<BADREQ>/g)?.length, 2, output())
})
