// The stats page and the Prometheus exporter served by the gateway, embedded and standalone:
// `stats http-request` / `stats admin` conditions reach statsRoutes compiled, stats requests
// (absolute-form too) are never routed by use_backend, and `use-service prometheus-exporter` answers
// as HAProxy's exporter does.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HTTP_DEFAULTS, freePorts, gatewayApp, get, rawRequest, startGateway, upstream, waitListening } from './fixtures.js'
import type { Upstream } from './fixtures.js'

const config = (up: Upstream, port: number, statsPort: number): string => `
${HTTP_DEFAULTS}frontend fe
    bind 127.0.0.1:${port}
    http-request use-service prometheus-exporter if { path /metrics }
    use_backend be if { path_beg / }
backend be
    server up ${up.addr}
listen stats
    bind 127.0.0.1:${statsPort}
    stats enable
    stats uri /haproxy_stats
    stats http-request auth realm Ops unless { hdr(x-token) letmein }
    stats admin if LOCALHOST
`

const TOKEN = { 'x-token': 'letmein' }
const FORM = { 'content-type': 'application/x-www-form-urlencoded', ...TOKEN }

test('embedded: stats rules and admin conditions work through the plugin; stats URIs skip use_backend', async (t) => {
  const up = await upstream('up')
  t.after(() => up.close())
  const { app, port } = await gatewayApp(config(up, 1, 2), {})
  t.after(() => app.close())

  const denied = await get(port, '/haproxy_stats')
  assert.equal(denied.status, 401, '`stats http-request auth` applies')
  assert.equal(denied.headers['www-authenticate'], 'Basic realm="Ops"')
  const csv = await get(port, '/haproxy_stats;csv', TOKEN)
  assert.equal(csv.status, 200)
  assert.match(csv.text, /^be,up,/m)

  // absolute-form request URI: still the stats page, never the use_backend rule that takes `/`
  const abs = await rawRequest(port, 'GET http://example.com/haproxy_stats;csv HTTP/1.1\r\nHost: example.com\r\nX-Token: letmein\r\nConnection: close\r\n\r\n')
  assert.equal(abs.status, 200)
  assert.match(abs.text, /^# pxname,svname,/)
  assert.equal(up.seen.length, 0, 'no stats request reached the server')

  // `stats admin if LOCALHOST`: the test client is on 127.0.0.1
  const post = await get(port, '/haproxy_stats', FORM, 'POST', 's=up&action=maint&b=be')
  assert.equal(post.status, 303)
  assert.equal(post.headers.location, '/haproxy_stats;st=DONE')
  assert.equal(app.haproxy.backend('be')!.servers[0]!.admin, 'maint')
  assert.equal((await get(port, '/x')).status, 503, 'the server in maintenance takes no traffic')
  await get(port, '/haproxy_stats', FORM, 'POST', 's=up&action=ready&b=be')
  assert.equal(app.haproxy.backend('be')!.servers[0]!.admin, 'ready')
  assert.equal((await get(port, '/x')).headers['x-served-by'], 'up')
})

test('embedded: use-service prometheus-exporter answers 200, never cached, in the exposition format', async (t) => {
  const up = await upstream('up')
  t.after(() => up.close())
  const { app, port } = await gatewayApp(config(up, 1, 2), {})
  t.after(() => app.close())
  await get(port, '/x')
  const metrics = await get(port, '/metrics')
  assert.equal(metrics.status, 200)
  assert.equal(metrics.headers['cache-control'], 'no-cache')
  assert.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4')
  assert.match(metrics.text, /^haproxy_server_http_responses_total\{proxy="be",server="up",code="2xx"\} 1$/m)
  assert.equal(up.seen.length, 1, '/metrics did not reach the server')
  const fe = app.haproxy.stats().proxies.find(p => p.proxy.name === 'fe')!.frontend!
  assert.equal(fe.counters.intercepted, 1, 'counted as an intercepted request, as HAProxy does')
})

test('standalone: the stats listen serves its page with its rules compiled (auth, admin)', async (t) => {
  const up = await upstream('up')
  const [port, statsPort] = [await freePorts(1), await freePorts(1)]
  const dir = mkdtempSync(join(tmpdir(), 'gw-stats-'))
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, config(up, port, statsPort))
  const { child, exited, output } = startGateway(file)
  t.after(async () => {
    child.kill('SIGTERM')
    await exited
    await up.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await waitListening(statsPort)
  await waitListening(port)
  const denied = await get(statsPort, '/haproxy_stats')
  assert.equal(denied.status, 401, output())
  assert.equal(denied.headers['www-authenticate'], 'Basic realm="Ops"')
  const post = await get(statsPort, '/haproxy_stats', FORM, 'POST', 's=up&action=drain&b=be')
  assert.equal(post.headers.location, '/haproxy_stats;st=DONE')
  const csv = await get(statsPort, '/haproxy_stats;csv', TOKEN)
  assert.match(csv.text, /^be,up,[^\n]*,DRAIN,/m)
  const metrics = await get(port, '/metrics')
  assert.equal(metrics.headers['cache-control'], 'no-cache')
  assert.match(metrics.text, /^haproxy_server_status\{proxy="be",server="up",state="DRAIN"\} 1$/m)
})
