// A rewrite that does not fit the message's buffer (configuration.txt §3.2 `tune.bufsize`,
// `tune.maxrewrite`) fails: HAProxy's 500 in strict mode (the default, `http-request|http-response
// strict-mode on|off`, set again at the start of each ruleset), skipped otherwise, and counted in
// `wrew` (the frontend's and, once the backend's rules ran, the backend's; on the response side
// the server's too). Modelled on HAProxy's own reg-test http-rules/strict_rw_mode.vtc; the CLI
// and real HAProxy 2.6 run the same config.

import assert from 'node:assert/strict'
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { haproxyInstalled, withHaproxy } from '../acl/real-haproxy.js'
import { get, withGateway } from '../gateway/fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'strict-mode-'))
let server: http.Server
let port = 0
before(async () => {
  // reads the body, says whether x-hdr3 came, answers 2000 bytes at once
  server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.setHeader('x-req', req.url ?? '')
      res.setHeader('x-got3', req.headers['x-hdr3'] === undefined ? 'no' : 'yes')
      res.end(Buffer.alloc(2000, 97))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

const V = '123456789012345678901234567890123456789012345678901234567890'

const config = (listen: number): string => `
global
    tune.bufsize 2048
    tune.maxrewrite 128
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
    option http-buffer-request
frontend fe
    bind 127.0.0.1:${listen}
    http-request set-header x-hdr1 ${V} if { path_beg /req }
    http-request set-header x-hdr2 ${V} if { path /req2 }
    http-request strict-mode off if { path /req3 }
    http-request set-header x-hdr3 ${V} if { path /req3 }
    http-response set-header x-hdr4 ${V} if { res.hdr(x-req) /res4 }
    use_backend st if { path_beg /stats }
    use_backend be2 if { path_beg /res }
    default_backend be1
backend be1
    http-request set-header x-hdr3 ${V} if { path /req4 }
    server s1 127.0.0.1:${port}
backend be2
    http-response set-header x-hdr1 ${V}
    http-response set-header x-hdr2 ${V} if { res.hdr(x-req) /res2 }
    http-response strict-mode off if { res.hdr(x-req) /res3 }
    http-response set-header x-hdr3 ${V} if { res.hdr(x-req) /res3 }
    server s2 127.0.0.1:${port}
backend st
    stats enable
    stats uri /stats
`

async function check (listen: number): Promise<void> {
  // the request's body fills the buffer up to tune.maxrewrite: one header fits, two do not
  const body = Buffer.alloc(2000, 98)
  const send = async (path: string): Promise<Awaited<ReturnType<typeof get>>> => await get(listen, path, { 'content-length': String(body.length) }, 'GET', body)
  assert.equal((await send('/req1')).status, 200)
  assert.equal((await send('/req2')).status, 500)
  const skipped = await send('/req3')
  assert.equal(skipped.status, 200, 'strict-mode off: the rewrite is skipped')
  assert.equal(skipped.headers['x-got3'], 'no')
  assert.equal((await send('/req4')).status, 500, "the backend's rules are strict again")

  // the server's answer comes with its body: the same on the response side
  const res1 = await get(listen, '/res1')
  assert.equal(res1.status, 200)
  assert.equal(res1.headers['x-hdr1'], V)
  assert.equal((await get(listen, '/res2')).status, 500)
  const res3 = await get(listen, '/res3')
  assert.equal(res3.status, 200)
  assert.equal(res3.headers['x-hdr1'], V)
  assert.equal(res3.headers['x-hdr3'], undefined)
  assert.equal((await get(listen, '/res4')).status, 500, "the frontend's rules are strict again")

  // wrew: every failure on the frontend; on the backend when its rules failed; the server's on responses
  const csv = (await get(listen, '/stats;csv')).text.split('\n')
  const fields = csv[0]!.replace(/^# /, '').split(',')
  const wrew = (px: string, sv: string): string => csv.find((l) => l.startsWith(`${px},${sv},`))!.split(',')[fields.indexOf('wrew')]!
  assert.deepEqual(
    [wrew('fe', 'FRONTEND'), wrew('be1', 'BACKEND'), wrew('be1', 's1'), wrew('be2', 'BACKEND'), wrew('be2', 's2')],
    ['6', '1', '0', '3', '3'])
}

describe('strict rewriting mode', () => {
  test('through the CLI', async () => {
    await withGateway(join(dir, 'ours.cfg'), config, check)
  })

  test('through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
    await withHaproxy(join(dir, 'real.cfg'), config, check)
  })
})
