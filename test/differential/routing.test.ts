// Routing and rewriting, side by side: the same requests through real HAProxy and our CLI on
// one config; the backend chosen, the request the upstream received (method, URL, end-to-end
// headers, body) and the response headers the client got must be the same.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startBoth, startUpstream, send, head, skipWithoutHaproxy, type Ask, type Answer, type Upstream, type Seen } from './harness.js'

// Hop-by-hop and framing headers are per connection (RFC 9110 §7.6.1): HAProxy 2.6 forwards
// some of them verbatim, which this comparison leaves to the gateway's own tests.
const perConnection = new Set(['connection', 'keep-alive', 'te', 'upgrade', 'proxy-authorization', 'proxy-connection',
  'transfer-encoding', 'content-length', 'date'])

/** name → values joined with ', ' in order, so `a` + `b` on two lines equals `a, b` on one. */
function endToEnd (pairs: Array<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of pairs) {
    if (perConnection.has(name)) continue
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`
  }
  return out
}

function responsePairs (a: Answer): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (const [name, value] of Object.entries(a.headers)) {
    for (const v of Array.isArray(value) ? value : [value ?? '']) pairs.push([name, v])
  }
  return pairs
}

/** What a client and the upstream saw, minus what differs by nature (ports, dates). */
function view (a: Answer): unknown {
  const seen = a.headers['content-type'] === 'application/json' && a.body !== '' ? JSON.parse(a.body) as Seen : null
  return {
    status: a.status,
    response: endToEnd(responsePairs(a)),
    upstream: seen === null ? a.body : { server: seen.server, method: seen.method, url: seen.url, headers: endToEnd(seen.headers), body: seen.body }
  }
}

const config = (ports: Record<string, number>) => (port: number): string => head() + `
frontend fe
    bind 127.0.0.1:${port}
    option forwardfor
    acl url_static path_beg -i /static /images
    acl url_static path_end -i .png .css
    acl is_api     path_beg /api/
    acl has_token  req.hdr(x-token) -m found
    acl host_admin hdr(host) -i admin.example.com
    http-request set-header X-Path %[path]
    http-request add-header X-Added added
    http-request del-header X-Remove
    http-request replace-header User-Agent (.*)bot(.*) \\1BOT\\2
    http-request replace-value X-List ^b$ B
    http-request set-path /rewritten%[path] if { path_beg /rw/ }
    http-request set-query q=fixed if { path_beg /q/ }
    http-response set-header X-Resp from-proxy
    http-response del-header X-Internal
    use_backend static if url_static
    use_backend api if is_api has_token
    use_backend admin if host_admin
    default_backend app

backend static
    server s1 127.0.0.1:${ports.static}
backend api
    server a1 127.0.0.1:${ports.api}
backend admin
    server ad1 127.0.0.1:${ports.admin}
backend app
    server w1 127.0.0.1:${ports.app}
`

const host = { host: 'www.example.com' }
const cases: Array<{ name: string, ask: Ask, server: string }> = [
  { name: 'path_beg -i', ask: { path: '/static/app.css', headers: host }, server: 'static' },
  { name: 'path_beg -i, upper case', ask: { path: '/STATIC/x', headers: host }, server: 'static' },
  { name: 'path_end -i, upper case', ask: { path: '/img/logo.PNG', headers: host }, server: 'static' },
  { name: 'path_end looks at the path, not the query', ask: { path: '/x?y=.png', headers: host }, server: 'app' },
  { name: 'query kept', ask: { path: '/x.css?y=1&z', headers: host }, server: 'static' },
  { name: 'percent-encoding is not decoded', ask: { path: '/%73tatic/x', headers: host }, server: 'app' },
  { name: 'implicit AND: path and header', ask: { path: '/api/users', headers: { ...host, 'x-token': 't' } }, server: 'api' },
  { name: 'implicit AND: header missing', ask: { path: '/api/users', headers: host }, server: 'app' },
  { name: 'hdr(host) -i', ask: { path: '/', headers: { host: 'ADMIN.example.com' } }, server: 'admin' },
  { name: 'hdr(host) with a port is another string', ask: { path: '/', headers: { host: 'admin.example.com:80' } }, server: 'app' },
  { name: 'first use_backend wins', ask: { path: '/api/logo.png', headers: { host: 'admin.example.com', 'x-token': 't' } }, server: 'static' },
  { name: 'dot segments are not normalised', ask: { path: '/api/../static/x', headers: { ...host, 'x-token': 't' } }, server: 'api' },
  { name: 'HEAD', ask: { method: 'HEAD', path: '/static/x', headers: host }, server: 'static' },
  { name: 'POST body', ask: { method: 'POST', path: '/api/items', headers: { ...host, 'x-token': 't', 'content-type': 'text/plain' }, body: 'a body' }, server: 'api' },
  { name: 'set-path with the original path', ask: { path: '/rw/a?b=c', headers: host }, server: 'app' },
  { name: 'set-query', ask: { path: '/q/a?b=c', headers: host }, server: 'app' },
  {
    name: 'header rewrites and X-Forwarded-For appended',
    ask: { path: '/h', headers: { ...host, 'x-remove': 'gone', 'user-agent': 'somebot/1.0', 'x-list': 'a,b,c', 'x-forwarded-for': '203.0.113.9' } },
    server: 'app'
  }
]

describe('differential: routing and rewriting vs real HAProxy', { skip: skipWithoutHaproxy }, () => {
  const upstreams: Upstream[] = []
  let both: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    for (const name of ['static', 'api', 'admin', 'app']) {
      upstreams.push(await startUpstream(name, (_req, res, seen) => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name, 'x-internal': 'secret' })
        res.end(JSON.stringify(seen))
      }))
    }
    both = await startBoth(config(Object.fromEntries(upstreams.map(u => [u.name, u.port]))))
  })

  after(async () => {
    await both?.stop()
    await Promise.all(upstreams.map(u => u.close()))
  })

  for (const c of cases) {
    test(c.name, async () => {
      const [theirs, ours] = await Promise.all([send(both.haproxy.port, c.ask), send(both.ours.port, c.ask)])
      // HAProxy's own answer documents the case (and guards the harness).
      assert.equal(theirs.headers['x-served-by'], c.server, `haproxy routed ${c.ask.path} elsewhere`)
      assert.deepEqual(view(ours), view(theirs), `${c.ask.method ?? 'GET'} ${c.ask.path}`)
    })
  }
})

const forwardForConfig = (app: number) => (port: number): string => head() + `
frontend fe
    bind 127.0.0.1:${port}
    use_backend ff-plain if { path_beg /plain }
    use_backend ff-header if { path_beg /header }
    use_backend ff-if-none if { path_beg /if-none }
    use_backend ff-except if { path_beg /except }
    default_backend no-ff

backend ff-plain
    option forwardfor
    server s 127.0.0.1:${app}
backend ff-header
    option forwardfor header X-Client-IP
    server s 127.0.0.1:${app}
backend ff-if-none
    option forwardfor if-none
    server s 127.0.0.1:${app}
backend ff-except
    option forwardfor except 127.0.0.0/8
    server s 127.0.0.1:${app}
backend no-ff
    server s 127.0.0.1:${app}
`

describe('differential: option forwardfor vs real HAProxy', { skip: skipWithoutHaproxy }, () => {
  let app: Upstream
  let both: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    app = await startUpstream('app')
    both = await startBoth(forwardForConfig(app.port))
  })

  after(async () => {
    await both?.stop()
    await app?.close()
  })

  for (const path of ['/plain', '/header', '/if-none', '/except', '/none']) {
    for (const xff of [undefined, '198.51.100.7']) {
      test(`${path}, ${xff === undefined ? 'no' : 'a'} client X-Forwarded-For`, async () => {
        const ask: Ask = { path, headers: { host: 'www.example.com', ...(xff === undefined ? {} : { 'x-forwarded-for': xff }) } }
        const [theirs, ours] = await Promise.all([send(both.haproxy.port, ask), send(both.ours.port, ask)])
        assert.equal(theirs.status, 200)
        assert.deepEqual(view(ours), view(theirs))
      })
    }
  }
})
