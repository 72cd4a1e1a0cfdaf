// The limits HAProxy's buffers put on a request (§3.2 tune.http.maxhdr, tune.bufsize,
// tune.maxrewrite): past them the request is a 400, never cut silently.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HTTP_DEFAULTS, freePorts, gatewayApp, rawRequest, startGateway, upstream, waitListening } from '../gateway/fixtures.js'
import type { Seen } from '../gateway/fixtures.js'

/** A request with `count` header lines in all (Host and Connection included). */
function withHeaders (count: number, extra = ''): string {
  let head = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'
  for (let i = 0; i < count - 2; i++) head += `x-h${i}: v\r\n`
  return head + extra + '\r\n'
}

test('plugin: more headers than tune.http.maxhdr (101 by default) is a 400, as in HAProxy', async (t) => {
  const up = await upstream('up')
  const { app, port } = await gatewayApp(`${HTTP_DEFAULTS}\nfrontend fe\n    bind :80\n    default_backend be\nbackend be\n    server up ${up.addr}\n`)
  t.after(async () => { await app.close(); await up.close() })
  const ok = await rawRequest(port, withHeaders(101))
  assert.equal(ok.status, 200)
  assert.equal(Object.keys((JSON.parse(ok.text) as Seen).headers).filter(h => h.startsWith('x-h')).length, 99)
  assert.equal((await rawRequest(port, withHeaders(102))).status, 400)
  const many = await rawRequest(port, withHeaders(2100))
  assert.equal(many.status, 400, 'not forwarded with header 2001 onwards dropped')
  assert.match(many.text, /400 Bad request/)
  assert.equal(up.seen.length, 1)
  const fe = app.haproxy.stats().proxies.find(p => p.proxy.name === 'fe')!.frontend!
  assert.equal(fe.counters.ereq, 2)
})

test('CLI: tune.http.maxhdr and the head size a buffer holds (tune.bufsize - tune.maxrewrite)', async (t) => {
  const up = await upstream('up')
  const port = await freePorts(1)
  const file = join(mkdtempSync(join(tmpdir(), 'gw-limits-')), 'haproxy.cfg')
  writeFileSync(file, `global
    tune.http.maxhdr 10
    tune.bufsize 8192
${HTTP_DEFAULTS}
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server up ${up.addr}
`)
  const { child, exited, output } = startGateway(file)
  t.after(async () => { child.kill('SIGKILL'); await up.close() })
  await waitListening(port)
  assert.equal((await rawRequest(port, withHeaders(10))).status, 200)
  assert.equal((await rawRequest(port, withHeaders(11))).status, 400)
  // 8192 - 1024 bytes of head at most
  assert.equal((await rawRequest(port, withHeaders(3, `x-big: ${'a'.repeat(6000)}\r\n`))).status, 200)
  const big = await rawRequest(port, withHeaders(3, `x-big: ${'a'.repeat(7300)}\r\n`))
  assert.equal(big.status, 400)
  assert.match(big.text, /400 Bad request/)
  child.kill('SIGTERM')
  assert.equal(await exited, 0, output())
})
