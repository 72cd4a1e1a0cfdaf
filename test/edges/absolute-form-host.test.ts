// Absolute-form targets (`GET http://a.example/x`) whose authority and Host agree or differ,
// side by side with real HAProxy 2.6.12: the answer, what the rules see (`hdr(host)`, `path`,
// `url`) and what reaches the server (its request target and Host).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { head, skipWithoutHaproxy, startBoth, startUpstream } from '../differential/harness.js'
import { rawRequest } from '../gateway/fixtures.js'

/** Request line target, Host (null: none) → what HAProxy 2.6.12 does with them (recorded). */
const CASES: Array<[string, string | null, string]> = [
  ['http://a.example/x?q=1', 'a.example', 'the same authority'],
  ['http://A.EXAMPLE/x', 'a.example', 'the authority in another case'],
  ['http://a.example/x?q=1', 'b.example', 'another authority'],
  ['https://a.example/x', 'b.example', 'another authority, https'],
  ['http://a.example:80/x', 'a.example', "http's default port in the authority"],
  ['http://a.example/x', 'a.example:80', "http's default port in Host"],
  ['https://a.example:443/x', 'a.example', "https's default port in the authority"],
  ['http://a.example:8080/x', 'a.example', 'another port'],
  ['http://u@a.example/x', 'a.example', 'user info in the authority'],
  ['http://u:p@a.example/x', 'u:p@a.example', 'user info in both']
]

test('absolute-form targets: Host against the authority, the rules\' view and the forwarded target, as HAProxy', { skip: skipWithoutHaproxy }, async (t) => {
  const upH = await startUpstream('h')
  const upO = await startUpstream('o')
  t.after(async () => { await upH.close(); await upO.close() })
  let calls = 0
  const pair = await startBoth((port) => `${head()}
frontend fe
    bind 127.0.0.1:${port}
    http-request set-header x-host %[hdr(host)]
    http-request set-header x-path %[path]
    http-request set-header x-url %[url]
    default_backend be
backend be
    server s1 127.0.0.1:${calls++ === 0 ? upH.port : upO.port}
`)
  t.after(() => pair.stop())
  for (const [target, host, what] of CASES) {
    const seen = []
    for (const [proxy, up] of [[pair.haproxy, upH], [pair.ours, upO]] as const) {
      const before = up.seen.length
      const r = await rawRequest(proxy.port, `GET ${target} HTTP/1.1\r\n${host === null ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`)
      const got = up.seen.length > before ? up.seen.at(-1)! : null
      const h = (name: string): string | undefined => got?.headers.find(([k]) => k === name)?.[1]
      seen.push({ status: r.status, server: got === null ? null : { url: got.url, host: h('host'), rules: [h('x-host'), h('x-path'), h('x-url')] } })
    }
    assert.deepEqual(seen[1], seen[0], `${what}: ${target} with Host ${host}`)
  }
})
