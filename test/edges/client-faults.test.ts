// A request that cannot be sent as it is is the client's doing: it must never count against a
// server or its health (passive checks would otherwise let a client take every server DOWN).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HTTP_DEFAULTS, gatewayApp, rawRequest, upstream } from '../gateway/fixtures.js'

async function setup () {
  const a = await upstream('a')
  const b = await upstream('b')
  const config = `${HTTP_DEFAULTS}
frontend fe
    bind 127.0.0.1:8080
    http-request set-header X %[url_param(q),url_dec] if { url_param(q) -m found }
    http-request set-path /%[url_param(p),url_dec] if { url_param(p) -m found }
    default_backend be
backend be
    server a ${a.addr} check inter 10s observe layer7 error-limit 3 on-error mark-down
    server b ${b.addr} check inter 10s observe layer7 error-limit 3 on-error mark-down
`
  const { app, port } = await gatewayApp(config)
  const servers = app.haproxy.backend('be')!.servers
  const close = async (): Promise<void> => { await app.close(); await a.close(); await b.close() }
  return { a, b, app, port, servers, close }
}

const request = (target: string, method = 'GET'): string => `${method} ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`

test('control characters a converter puts in a header are encoded as HAProxy does, servers stay UP', async () => {
  const { a, b, port, servers, close } = await setup()
  try {
    for (let i = 0; i < 6; i++) {
      const r = await rawRequest(port, request(i % 2 === 0 ? '/?q=a%0d%0ab' : '/?q=a%00b%7fc%09d'))
      assert.equal(r.status, 200)
    }
    const seen = [...a.seen, ...b.seen].map(s => s.headers.x)
    // HAProxy 2.6.12 sends CR, LF, NUL and DEL as %0D %0A %00 %7F, and a tab as it is
    assert.deepEqual(seen.sort(), ['a%00b%7Fc\td', 'a%00b%7Fc\td', 'a%00b%7Fc\td', 'a%0D%0Ab', 'a%0D%0Ab', 'a%0D%0Ab'])
    for (const s of servers) {
      assert.equal(s.op, 'up', `${s.name} stays UP`)
      assert.equal(s.counters.eresp, 0)
    }
  } finally { await close() }
})

test('a path a rule fills with control characters is encoded, not blamed on the server', async () => {
  const { a, b, port, servers, close } = await setup()
  try {
    for (let i = 0; i < 4; i++) assert.equal((await rawRequest(port, request('/?p=a%0d%0ab'))).status, 200)
    assert.deepEqual([...a.seen, ...b.seen].map(s => s.url), Array(4).fill('/a%0D%0Ab?p=a%0d%0ab'))
    for (const s of servers) assert.equal(s.op, 'up')
  } finally { await close() }
})

// HAProxy forwards `OPTIONS *`; undici cannot send a target that is not a path (README
// "Differences"), so the gateway refuses it as a bad request, on the frontend's row only.
test('OPTIONS * is a 400 counted on the frontend, never against a server', async () => {
  const { port, servers, app, close } = await setup()
  try {
    for (let i = 0; i < 6; i++) {
      const r = await rawRequest(port, request('*', 'OPTIONS'))
      assert.equal(r.status, 400)
    }
    for (const s of servers) {
      assert.equal(s.op, 'up', `${s.name} stays UP`)
      assert.equal(s.counters.eresp, 0)
      assert.equal(s.counters.econ, 0)
    }
    const fe = app.haproxy.stats().proxies.find(p => p.proxy.name === 'fe')!.frontend!
    assert.equal(fe.counters.ereq, 6)
    assert.equal(fe.counters.hrsp[4], 0, 'no 5xx')
    assert.equal(app.haproxy.backend('be')!.counters.eresp, 0)
  } finally { await close() }
})

test('every error code undici defines says whose doing it is', async () => {
  const { UNDICI_ERROR_SIDES, errorSide } = await import('../../lib/runtime/forward.js')
  const { readFileSync } = await import('node:fs')
  const { createRequire } = await import('node:module')
  const source = readFileSync(createRequire(import.meta.url).resolve('undici/lib/core/errors.js'), 'utf8')
  const codes = [...source.matchAll(/'(UND_ERR[A-Z0-9_]*)'/g)].map(m => m[1]!)
  assert.ok(codes.length > 20, 'undici error codes found')
  for (const code of codes) assert.ok(code in UNDICI_ERROR_SIDES, `${code} is classified`)
  assert.equal(errorSide('UND_ERR_INVALID_ARG'), 'request')
  assert.equal(errorSide('HPE_INVALID_CONSTANT'), 'server')
  assert.equal(errorSide('ECONNREFUSED'), 'server')
  assert.equal(errorSide('UND_ERR_ABORTED'), 'gateway')
})
