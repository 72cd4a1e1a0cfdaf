// `http-after-response` rules (configuration.txt §4.2) on every response: the server's, the
// gateway's own (deny, redirect, return, auth, a backend's stats page), the backend's list first,
// then the frontend's, each ended by its own `allow`; with the capture slots rules read
// (`capture.req.hdr`, `capture.res.hdr`). The CLI and real HAProxy 2.6 run the same config.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { haproxyInstalled, withHaproxy } from '../acl/real-haproxy.js'
import { rawRequest, rawServer, withGateway } from '../gateway/fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'after-response-'))
let server: Awaited<ReturnType<typeof rawServer>>
before(async () => {
  // repeated header lines, a blank-padded value and a content-type the rules delete
  server = await rawServer((_d, s) => s.end('HTTP/1.1 234 Whatever\r\nhdr1: val1\r\nhdr2:  val2a\r\nhdr2:    val2b\r\nx-up: up\r\ncontent-type: text/plain\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbody'))
})
after(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

const config = (port: number): string => `
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    capture request header x-cap len 3
    declare capture request len 8
    declare capture response len 8
    http-request capture req.hdr(x-long) len 4
    http-request capture str(declared) id 1
    http-request deny if { path /deny }
    http-request redirect location /elsewhere if { path /redir }
    http-request auth if { path /auth }
    http-response capture res.hdr(x-up) id 0
    http-after-response allow if { status eq 403 }
    http-after-response set-var(txn.seen) status
    http-after-response set-status 200 if { status eq 503 }
    http-after-response set-header fe-seen "%[var(txn.seen)] last=<%[res.fhdr(hdr2)]> all=<%[res.hdr_cnt(hdr2)]>"
    http-after-response set-header caps "%[capture.req.hdr(0)]|%[capture.req.hdr(1)]|%[capture.req.hdr(2)]|%[capture.res.hdr(0)]"
    use_backend none if { path /none }
    default_backend be
backend be
    stats enable
    stats uri /stats
    http-request return status 201 content-type text/plain string made if { path /return }
    http-after-response allow if { status eq 201 }
    http-after-response del-header content-type
    http-after-response add-header hdr2 val2c
    http-after-response set-status 299 reason Fine if { capture.req.uri -m beg /stats }
    http-after-response set-header be-seen "%[status]"
    server s1 127.0.0.1:${server.port}
backend none
`

const ask = async (port: number, path: string, headers = ''): Promise<Awaited<ReturnType<typeof rawRequest>>> =>
  await rawRequest(port, `GET ${path} HTTP/1.1\r\nhost: h\r\n${headers}connection: close\r\n\r\n`)

const all = (r: Awaited<ReturnType<typeof rawRequest>>, name: string): string[] => r.lines.filter(([k]) => k === name).map(([, v]) => v)

async function check (port: number): Promise<void> {
  // the server's answer: the backend's rules, then the frontend's
  const up = await ask(port, '/', 'x-cap: abcdef\r\nx-long: 123456\r\n')
  assert.equal(up.status, 234)
  assert.equal(up.reason, 'Whatever')
  assert.equal(up.headers['content-type'], undefined)
  assert.deepEqual(all(up, 'hdr2'), ['val2a', 'val2b', 'val2c'], 'add-header adds a line')
  assert.equal(up.headers['be-seen'], '234')
  assert.equal(up.headers['fe-seen'], '234 last=<val2c> all=<3>')
  assert.equal(up.headers.caps, 'abc|declared|1234|up', 'header, declared and rule capture slots')
  assert.equal(up.text, 'body')

  // the gateway's own answers go through them too; `allow` ends one list only
  const ret = await ask(port, '/return')
  assert.equal(ret.status, 201)
  assert.equal(ret.headers['content-type'], 'text/plain', "the backend's allow skipped its del-header")
  assert.equal(ret.headers['be-seen'], undefined)
  assert.equal(ret.headers['fe-seen'], '201 last=<> all=<0>')
  const redir = await ask(port, '/redir')
  assert.equal(redir.status, 302)
  assert.equal(redir.headers.location, '/elsewhere')
  assert.equal(redir.headers['fe-seen'], '302 last=<> all=<0>')
  assert.equal(redir.headers['be-seen'], undefined, 'no backend yet')
  const auth = await ask(port, '/auth')
  assert.equal(auth.status, 401)
  assert.equal(auth.headers['fe-seen'], '401 last=<> all=<0>')
  const denied = await ask(port, '/deny')
  assert.equal(denied.status, 403)
  assert.equal(denied.headers['fe-seen'], undefined, 'allowed out before any change')
  // an error page, its status rewritten with the new status's own reason
  const none = await ask(port, '/none')
  assert.equal(none.status, 200)
  assert.equal(none.reason, 'OK')
  assert.equal(none.headers['fe-seen'], '503 last=<> all=<0>')

  // a backend's stats page, with a reason of the rule's
  const stats = await ask(port, '/stats;csv')
  assert.equal(stats.status, 299)
  assert.equal(stats.reason, 'Fine')
  assert.equal(stats.headers['content-type'], undefined)
  assert.equal(stats.headers['be-seen'], '299')
  assert.equal(stats.headers['fe-seen'], '299 last=<val2c> all=<1>')
  assert.match(stats.text, /^# pxname,svname,/)
}

describe('http-after-response', () => {
  test('through the CLI', async () => {
    await withGateway(join(dir, 'ours.cfg'), config, check)
  })

  test('through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
    await withHaproxy(join(dir, 'real.cfg'), config, check)
  })
})
