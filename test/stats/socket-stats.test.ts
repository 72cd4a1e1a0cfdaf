// `option socket-stats` in the plugin: the app's server is the frontend's one listener (sid 1,
// named by the first bind's `name`, else sock-1); what a `listen stats` section served on the
// same port counts stays off it. The CLI's listeners are compared with HAProxy's in
// test/differential/socket-stats.test.ts.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { HTTP_DEFAULTS, get, parseCsv } from './views.js'

async function gateway (t: test.TestContext, frontendLines: string): Promise<number> {
  const upstream = http.createServer((_req, res) => { res.end('hello\n') })
  await new Promise<void>(resolve => upstream.listen(0, '127.0.0.1', resolve))
  t.after(() => upstream.close())
  const config = `
${HTTP_DEFAULTS}
frontend main
${frontendLines}
    http-request deny if { path /deny }
    default_backend app
backend app
    server s1 127.0.0.1:${(upstream.address() as AddressInfo).port}
listen stats
    bind 127.0.0.1:8081
    stats uri /haproxy_stats
`
  const app = Fastify()
  await app.register(haproxyRouter, { config, frontend: 'main' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  return (app.server.address() as AddressInfo).port
}

async function rows (port: number): Promise<Map<string, Record<string, string>>> {
  return parseCsv((await get(port, '/haproxy_stats;csv')).body).rows
}

test('the app\'s server is the frontend\'s listener: sessions, bytes and denials of its own requests', async (t) => {
  const port = await gateway(t, '    option socket-stats\n    bind 127.0.0.1:8080 name web maxconn 50\n    bind 127.0.0.1:8082')
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.after(() => agent.destroy())
  assert.equal((await get(port, '/a', agent)).status, 200)
  assert.equal((await get(port, '/deny', agent)).status, 403)
  agent.destroy()
  const before = await rows(port)
  const fe = before.get('main/FRONTEND')!
  const web = before.get('main/web')!
  assert.ok(web !== undefined, 'a row for the app\'s listener')
  assert.equal(before.get('main/sock-2'), undefined, 'the plugin serves no other bind')
  assert.equal(web.type, '3')
  assert.equal(web.sid, '1')
  assert.equal(web.slim, '50')
  assert.equal(web.status, 'OPEN')
  // the stats request itself is a session on this listener (it came to the app's port)
  assert.equal(web.stot, '2')
  assert.equal(web.dreq, '1')
  for (const f of ['bin', 'bout', 'dreq', 'ereq']) assert.equal(web[f], fe[f], f)
  assert.ok(Number(web.bin) > 0 && Number(web.bout) > 0)
  // the stats section's bytes are not the listener's
  const after = await rows(port)
  assert.equal(after.get('main/web')!.bin, web.bin)
})

test('the listener is sock-1 without a name; no listener row without the option', async (t) => {
  const named = await gateway(t, '    option socket-stats\n    bind 127.0.0.1:8080')
  const r = await rows(named)
  assert.equal(r.get('main/sock-1')?.type, '3')
  const plain = await gateway(t, '    bind 127.0.0.1:8080')
  assert.deepEqual([...(await rows(plain)).values()].filter(row => row.type === '3'), [])
})
