// Fetches that read the running gateway's state (configuration.txt §7.3.2 nbsrv, srv_is_up):
// the rules are compiled with hooks onto the live backends, so a server marked DOWN by its
// health check changes routing at once.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deadPort, freePorts, gatewayApp, get, sleep, startGateway, upstream, waitListening } from './fixtures.js'

test('use_backend b2 if { nbsrv(b1) lt 1 }: a dead checked b1 server sends traffic to b2; srv_is_up reads live state', async (t) => {
  const up = await upstream('up')
  t.after(() => up.close())
  const dead = await deadPort()
  const { app, port } = await gatewayApp(`
defaults
    mode http
    timeout connect 500ms
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1
    http-request return status 200 content-type text/plain string b2-up if { path /probe } { srv_is_up(b2/up) }
    use_backend b2 if { nbsrv(b1) lt 1 }
    default_backend b1
backend b1
    server dead 127.0.0.1:${dead} check inter 100
backend b2
    server up ${up.addr}
`)
  t.after(() => app.close())
  const b1 = app.haproxy.backend('b1')!
  for (let i = 0; i < 50 && b1.servers[0]!.op !== 'down'; i++) await sleep(50)
  assert.equal(b1.servers[0]!.op, 'down', 'the health check marked the b1 server DOWN')

  const r = await get(port, '/x')
  assert.equal(r.status, 200)
  assert.equal(r.headers['x-served-by'], 'up', 'nbsrv(b1) is 0: routed to b2')
  const probe = await get(port, '/probe')
  assert.equal(probe.text, 'b2-up', 'srv_is_up(b2/up) holds')

  // state changes are seen by the rules at once, without recompiling
  app.haproxy.setServerState('b2', 'up', 'maint')
  assert.equal((await get(port, '/probe')).status, 503, 'srv_is_up(b2/up) no longer holds: on to b2, which has no usable server')
  app.haproxy.setServerState('b2', 'up', 'ready')
  assert.equal((await get(port, '/probe')).text, 'b2-up')
})

test('srv_name and srv_id name the server that answered', async (t) => {
  const a = await upstream('a')
  const b = await upstream('b')
  t.after(() => a.close())
  t.after(() => b.close())
  const { app, port } = await gatewayApp(`
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1
    http-response set-header x-srv %[srv_name]/%[srv_id]
    default_backend be
backend be
    server s1 ${a.addr}
    server s2 ${b.addr} id 7
`)
  t.after(() => app.close())
  assert.equal((await get(port, '/')).headers['x-srv'], 's1/1')
  assert.equal((await get(port, '/')).headers['x-srv'], 's2/7')
})

test('so_name is the name of the bind that accepted the connection (CLI)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'so-name-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const port = await freePorts(2)
  writeFileSync(join(dir, 'h.cfg'), `
defaults
    mode http
    timeout client 5s
frontend fe
    bind 127.0.0.1:${port} name first
    bind 127.0.0.1:${port + 1}
    http-request return status 200 content-type text/plain lf-string "[%[so_name]]"
`)
  const gw = startGateway(join(dir, 'h.cfg'))
  t.after(async () => { gw.child.kill('SIGTERM'); await gw.exited })
  await waitListening(port)
  await waitListening(port + 1)
  assert.equal((await get(port, '/')).text, '[first]')
  assert.equal((await get(port + 1, '/')).text, '[]')
})
