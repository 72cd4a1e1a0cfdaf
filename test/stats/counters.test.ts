// Counters under concurrency, end to end: the gateway forwards N concurrent requests to three
// real upstreams, then the stats CSV of the same app must account for every one of them.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { HTTP_DEFAULTS, get, parseCsv } from './views.js'

async function upstream (name: string): Promise<{ server: http.Server, addr: string }> {
  const server = http.createServer((_req, res) => {
    // a little latency so requests overlap
    setTimeout(() => { res.setHeader('x-served-by', name); res.end(name) }, 2)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, addr: `127.0.0.1:${(server.address() as AddressInfo).port}` }
}

test('after N concurrent proxied requests, stot / lbtot / hrsp_2xx of the servers sum to N', async (t) => {
  const ups = await Promise.all(['a', 'b', 'c'].map(upstream))
  t.after(() => { for (const u of ups) u.server.close() })
  const config = `
${HTTP_DEFAULTS}
frontend main
    bind 127.0.0.1:8080
    default_backend app
backend app
    balance roundrobin
${ups.map((u, i) => `    server s${i} ${u.addr}`).join('\n')}
listen stats
    bind 127.0.0.1:8081
    stats enable
    stats uri /haproxy_stats
`
  const app = Fastify()
  await app.register(haproxyRouter, { config, frontend: 'main' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 })
  t.after(() => agent.destroy())

  const N = 300
  const answers = await Promise.all(Array.from({ length: N }, async () => await get(port, '/x', agent)))
  assert.ok(answers.every(a => a.status === 200), 'every request was proxied')

  const csv = await get(port, '/haproxy_stats;csv', agent)
  assert.equal(csv.status, 200)
  const { rows } = parseCsv(csv.body)
  const servers = ['s0', 's1', 's2'].map(s => rows.get(`app/${s}`) as Record<string, string>)
  const sum = (field: string): number => servers.reduce((n, r) => n + Number(r[field]), 0)
  assert.equal(sum('stot'), N)
  assert.equal(sum('lbtot'), N)
  assert.equal(sum('hrsp_2xx'), N)
  // roundrobin spreads them evenly
  for (const r of servers) assert.equal(Number(r.stot), N / 3, r.svname)
  const be = rows.get('app/BACKEND') as Record<string, string>
  assert.equal(Number(be.stot), N)
  assert.equal(Number(be.hrsp_2xx), N)
  assert.equal(Number(rows.get('main/FRONTEND')?.req_tot), N)
  assert.equal(Number(be.scur), 0, 'no session left open')
})
