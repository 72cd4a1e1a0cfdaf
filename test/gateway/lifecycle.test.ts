// The runtime handle (app.haproxy), reloads and shutdowns, with traffic flowing.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import haproxyRouter from '../../lib/index.js'
import { upstream, get, deadPort, gatewayApp, freePorts, waitListening, startGateway, waitFor } from './fixtures.js'
import type { Upstream } from './fixtures.js'

const config = (servers: Upstream[], extra = ''): string =>
  `defaults\n    mode http\n    timeout connect 1s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n${extra}` +
  servers.map(s => `    server ${s.name} ${s.addr}\n`).join('')


test('drain, maint, ready and weights through app.haproxy', async (t) => {
  const [a, b] = await Promise.all([upstream('a'), upstream('b')])
  const { app, port } = await gatewayApp(config([a, b]))
  t.after(async () => { await app.close(); await a.close(); await b.close() })
  const who = async (n: number): Promise<string[]> => { const r: string[] = []; for (let i = 0; i < n; i++) r.push(String((await get(port, '/')).headers['x-served-by'])); return r }

  app.haproxy.setServerState('be', 'a', 'maint')
  assert.deepEqual(await who(3), ['b', 'b', 'b'])
  assert.equal(app.haproxy.backend('be')!.servers[0]!.admin, 'maint')
  app.haproxy.setServerState('be', 'a', 'drain')
  assert.deepEqual(await who(3), ['b', 'b', 'b'], 'a draining server takes no new load-balanced traffic')
  app.haproxy.setServerState('be', 'a', 'ready')
  assert.deepEqual((await who(4)).sort(), ['a', 'a', 'b', 'b'])
  app.haproxy.setServerWeight('be', 'b', 3)
  const w = await who(8)
  assert.equal(w.filter(x => x === 'b').length, 6)
  assert.throws(() => app.haproxy.setServerState('be', 'zz', 'maint'), { code: 'FST_HAPROXY_UNKNOWN_SERVER' })
  assert.throws(() => app.haproxy.setServerState('nope', 'a', 'maint'), { code: 'FST_HAPROXY_UNKNOWN_BACKEND' })
})

test('counters add up under concurrency', async (t) => {
  const [a, b] = await Promise.all([upstream('a'), upstream('b')])
  const { app, port } = await gatewayApp(config([a, b]))
  t.after(async () => { await app.close(); await a.close(); await b.close() })
  await Promise.all(Array.from({ length: 10 }, async () => { for (let i = 0; i < 10; i++) await get(port, '/') }))
  const be = app.haproxy.backend('be')!
  const sum = (f: (s: typeof be.servers[number]) => number): number => be.servers.reduce((n, s) => n + f(s), 0)
  assert.equal(sum(s => s.counters.stot), 100)
  assert.equal(sum(s => s.lbtot), 100)
  assert.equal(sum(s => s.counters.hrsp[1]), 100)
  assert.equal(be.counters.hrsp[1], 100)
  assert.equal(be.counters.stot, 100)
  assert.equal(be.counters.scur, 0)
  const fe = app.haproxy.stats().proxies.find(p => p.proxy.name === 'fe')!.frontend!
  assert.equal(fe.counters.reqTot, 100)
  assert.equal(fe.counters.stot, 100, 'one session per connection')
})

test('reload under load: no request lost; unchanged backends keep their state', async (t) => {
  const [a, b, c] = await Promise.all([upstream('a'), upstream('b', { delayMs: 30 }), upstream('c')])
  const { app, port } = await gatewayApp(config([a, b]))
  t.after(async () => { await app.close(); await a.close(); await b.close(); await c.close() })
  app.haproxy.setServerState('be', 'a', 'maint')
  const statuses: number[] = []
  let stop = false
  const load = Promise.all(Array.from({ length: 6 }, async () => { while (!stop) statuses.push((await get(port, '/')).status) }))
  // each step under traffic: a number of answers, whatever the machine's speed
  const answers = async (n: number): Promise<void> => { const until = statuses.length + n; await waitFor(() => statuses.length >= until, `${n} more answers`) }
  await answers(8)
  // same backend: kept with its state (a stays in maint)
  await app.haproxy.reload(config([a, b]) + 'backend other\n    server c ' + c.addr + '\n')
  await answers(8)
  assert.equal(app.haproxy.backend('be')!.servers[0]!.admin, 'maint')
  // changed backend: rebuilt
  await app.haproxy.reload(config([c]))
  await answers(8)
  stop = true
  await load
  assert.ok(statuses.length > 20)
  assert.deepEqual(statuses.filter(s => s !== 200), [])
  assert.ok(c.seen.length > 0, 'the new configuration serves')
  await assert.rejects(app.haproxy.reload('frontend fe\n    bind :8080\n    bogus 1\n'), { code: 'FST_HAPROXY_CONFIG_INVALID' })
  assert.equal((await get(port, '/')).headers['x-served-by'], 'c', 'an invalid reload changes nothing')
})

test('reload of a changed backend: servers that stayed keep their health', async (t) => {
  const [b, c] = await Promise.all([upstream('b'), upstream('c')])
  const dead = await deadPort()
  const text = (extra: string): string => `defaults\n    mode http\n    timeout connect 300ms\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n` +
    `    server a 127.0.0.1:${dead} check inter 100 fall 1 rise 3\n    server b ${b.addr} check inter 100\n${extra}`
  const { app, port } = await gatewayApp(text(''))
  t.after(async () => { await app.close(); await b.close(); await c.close() })
  await waitFor(() => app.haproxy.backend('be')!.servers[0]!.op === 'down', 'a is DOWN')
  await app.haproxy.reload(text(`    server c ${c.addr}\n`))
  const after = app.haproxy.backend('be')!
  assert.equal(after.servers.length, 3, 'the new configuration is in place')
  assert.equal(after.servers[0]!.op, 'down', 'a is still DOWN, not "UP, falls at the first failure"')
  const who = new Set<string>()
  for (let i = 0; i < 6; i++) who.add(String((await get(port, '/')).headers['x-served-by']))
  assert.deepEqual([...who].sort(), ['b', 'c'])
})

test('reload() without an argument re-reads configFile; messages after a reload name the file', async (t) => {
  const [a, b] = await Promise.all([upstream('a'), upstream('b')])
  const dir = mkdtempSync(join(tmpdir(), 'fastify-haproxy-reload-'))
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, config([a]))
  const lines: Array<{ level: number, msg: string }> = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (l: string) => { lines.push(JSON.parse(l)) } } } })
  await app.register(haproxyRouter, { configFile: file })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  t.after(async () => { await app.close(); await a.close(); await b.close() })
  assert.equal((await get(port, '/')).headers['x-served-by'], 'a')

  writeFileSync(file, config([b]))
  await app.haproxy.reload()
  assert.equal((await get(port, '/')).headers['x-served-by'], 'b', 'the file was read again')

  // a text passed to reload() is read as that file too: its diagnostics name it, not '<config>'
  await app.haproxy.reload('global\n    nbthread 2\n' + config([a]))
  await assert.rejects(app.haproxy.reload(config([a]) + '    bogus 1\n'), (err: Error & { code: string }) => {
    assert.equal(err.code, 'FST_HAPROXY_CONFIG_INVALID')
    assert.ok(err.message.includes(file), err.message)
    assert.ok(!err.message.includes('<config>'), err.message)
    return true
  })
  writeFileSync(file, config([b]) + '    bogus 2\n')
  await assert.rejects(app.haproxy.reload(), (err: Error) => err.message.includes(`${file}:`))
  assert.equal((await get(port, '/')).headers['x-served-by'], 'a', 'a refused reload changes nothing')
  const warnings = lines.filter(l => l.level === 40).map(l => l.msg)
  assert.ok(warnings.length > 0 && warnings.every(m => !m.includes('<config>')), warnings.join('\n'))

  const { app: inline } = await gatewayApp(config([a]))
  t.after(async () => { await inline.close() })
  await assert.rejects(inline.haproxy.reload(), { code: 'FST_HAPROXY_RELOAD_NO_FILE' })
})

// --- standalone mode (runGateway in a child process) ---





test('standalone: several binds and a port range, graceful SIGTERM under load, SIGHUP reload', async (t) => {
  const [a, slow, c] = await Promise.all([upstream('a'), upstream('slow', { delayMs: 400 }), upstream('c')])
  const [p1, p2] = [await freePorts(), await freePorts()]
  const dir = mkdtempSync(join(tmpdir(), 'gw-serve-'))
  const file = join(dir, 'haproxy.cfg')
  const write = (server: Upstream): void => writeFileSync(file, `defaults\n    mode http\n    timeout connect 1s\n    timeout server 5s\n    timeout client 5s\nfrontend fe\n    bind 127.0.0.1:${p1}\n    bind 127.0.0.1:${p2}\n    use_backend slow if { path /slow }\n    default_backend be\nbackend be\n    server s ${server.addr}\nbackend slow\n    server slow ${slow.addr}\n`)
  write(a)
  const gw = startGateway(file)
  t.after(async () => { gw.child.kill('SIGKILL'); await a.close(); await slow.close(); await c.close() })
  await waitListening(p1)
  await waitListening(p2)
  assert.equal((await get(p1, '/')).headers['x-served-by'], 'a')
  assert.equal((await get(p2, '/')).headers['x-served-by'], 'a')

  // reload under load
  const statuses: number[] = []
  let stop = false
  const load = Promise.all(Array.from({ length: 4 }, async () => { while (!stop) statuses.push((await get(p1, '/')).status) }))
  write(c)
  gw.child.kill('SIGHUP')
  await waitFor(() => c.seen.length > 0, 'SIGHUP loaded the new config')
  stop = true
  await load
  assert.ok(c.seen.length > 0, 'SIGHUP loaded the new config')
  assert.deepEqual(statuses.filter(s => s !== 200), [])

  // an invalid config is refused, the old one keeps serving
  writeFileSync(file, 'frontend fe\n    bind 127.0.0.1:1\n    no_such_keyword\n')
  gw.child.kill('SIGHUP')
  await waitFor(() => /no_such_keyword|unknown keyword/i.test(gw.output()), 'the refused reload reported')
  assert.equal((await get(p1, '/')).headers['x-served-by'], 'c')

  // graceful stop: the request under way finishes, then exit 0
  const inflight = Promise.all(Array.from({ length: 8 }, async (_v, i) => (await get(i % 2 === 0 ? p1 : p2, '/slow')).status))
  // all eight are at the server (it answers 400 ms after their end) when SIGTERM comes
  await waitFor(() => slow.seen.length === 8, 'the requests under way at the server')
  gw.child.kill('SIGTERM')
  assert.deepEqual(await inflight, [200, 200, 200, 200, 200, 200, 200, 200], 'every request under way when SIGTERM came was answered')
  assert.equal(await gw.exited, 0)
})

