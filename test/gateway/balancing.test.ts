// The gateway with the runtime's balancer and health checks: maxconn queues, timeout queue,
// servers leaving and rejoining on their checks.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { upstream, get, sleep, gatewayApp, waitFor } from './fixtures.js'


test('maxconn queues requests; timeout queue answers 503 to those that waited too long', async (t) => {
  let active = 0
  let peak = 0
  const slow = await upstream('slow', { handler: (_req, res) => { active++; peak = Math.max(peak, active); setTimeout(() => { active--; res.end('ok') }, 150) } })
  const { app, port } = await gatewayApp(`defaults\n    mode http\n    timeout connect 1s\n    timeout queue 250ms\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server s ${slow.addr} maxconn 2\n`)
  t.after(async () => { await app.close(); await slow.close() })
  const statuses = await Promise.all(Array.from({ length: 6 }, async () => (await get(port, '/')).status))
  assert.equal(peak, 2, 'never more than maxconn requests on the server')
  assert.deepEqual(statuses.filter(s => s === 200).length, 4, 'two served at once, two more after one turn in the queue')
  assert.deepEqual(statuses.filter(s => s === 503).length, 2, 'the last two waited longer than timeout queue')
})

test('a checked server that dies leaves the rotation and comes back when it answers again', async (t) => {
  const a = await upstream('a')
  const handler: http.RequestListener = (_req, res) => { res.writeHead(200, { 'x-served-by': 'b' }); res.end('b') }
  let b = http.createServer(handler)
  await new Promise<void>(resolve => b.listen(0, '127.0.0.1', resolve))
  const bPort = (b.address() as AddressInfo).port
  const { app, port } = await gatewayApp(`defaults\n    mode http\n    timeout connect 500ms\n    timeout check 300ms\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server a ${a.addr} check inter 100 rise 2 fall 2\n    server b 127.0.0.1:${bPort} check inter 100 rise 2 fall 2\n`)
  t.after(async () => { await app.close(); await a.close(); b.closeAllConnections(); b.close() })
  const [sa, sb] = app.haproxy.backend('be')!.servers
  await waitFor(() => sa!.lastCheckAt > 0 && sb!.lastCheckAt > 0, 'both servers checked')
  const who = async (n: number): Promise<string[]> => { const r: string[] = []; for (let i = 0; i < n; i++) r.push(String((await get(port, '/')).headers['x-served-by'])); return r }
  assert.deepEqual((await who(4)).sort(), ['a', 'a', 'b', 'b'])

  b.closeAllConnections()
  await new Promise<void>(resolve => b.close(() => resolve()))
  await waitFor(() => sb!.op === 'down', 'fall 2 failed checks took it down')
  assert.deepEqual(await who(4), ['a', 'a', 'a', 'a'])

  b = http.createServer(handler)
  await new Promise<void>(resolve => b.listen(bPort, '127.0.0.1', resolve))
  await waitFor(() => sb!.op === 'up', 'rise 2 good checks brought it back')
  assert.ok((await who(4)).includes('b'))
})
