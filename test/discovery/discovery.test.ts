// Service discovery against a DNS server the test runs and changes: a changed A record moves
// the server without losing a request, NXDOMAIN puts it in MAINT (resolution) after `hold nx`,
// and server-template slots follow SRV records (address, port, weight).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { dnsServer, type DnsServer } from './dns-server.js'
import { waitFor } from '../gateway/fixtures.js'

const DEFAULTS = 'defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n'

function resolvers (dns: DnsServer): string {
  return `resolvers dns\n nameserver ns1 127.0.0.1:${dns.port}\n hold valid 1s\n hold nx 300ms\n timeout resolve 50ms\n timeout retry 200ms\n resolve_retries 1\n`
}

interface Named { port: number, close (): Promise<void> }

/** An HTTP server on `host` that says its name, on `port` (0: any). */
async function named (name: string, host: string, port = 0): Promise<Named> {
  const server = http.createServer((_req, res) => { res.setHeader('x-served-by', name); res.end(name) })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve) })
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) }
  }
}

async function servedBy (app: FastifyInstance): Promise<string> {
  const r = await app.inject({ url: '/', headers: { host: 'x' } })
  return `${r.statusCode} ${String(r.headers['x-served-by'] ?? '')}`
}

test('an A record that changes moves the server; NXDOMAIN puts it in MAINT (resolution), an answer brings it back', { timeout: 60_000 }, async () => {
  const dns = await dnsServer()
  const b = await named('b', '127.0.0.2')
  const a = await named('a', '127.0.0.1', b.port)
  dns.zone.set('app.test', [{ type: 'A', address: '127.0.0.1' }])
  const app = Fastify()
  await app.register(haproxyRouter, {
    config: resolvers(dns) + DEFAULTS + `frontend fe\n bind :1\n default_backend be\nbackend be\n server s1 app.test:${b.port} resolvers dns resolve-prefer ipv4 init-addr none\n`,
    defaultBackend: 'always'
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  try {
    await waitFor(async () => (await servedBy(app)) === '200 a', 'the first answer')
    // requests keep flowing while the record changes: none is lost
    let stop = false
    const outcomes: string[] = []
    const load = (async () => {
      while (!stop) {
        const r = await fetch(`http://127.0.0.1:${port}/`)
        outcomes.push(`${r.status} ${await r.text()}`)
      }
    })()
    dns.zone.set('app.test', [{ type: 'A', address: '127.0.0.2' }])
    await waitFor(() => outcomes.at(-1) === '200 b', 'the move')
    stop = true
    await load
    assert.ok(outcomes.every(o => o === '200 a' || o === '200 b'), outcomes.filter(o => o !== '200 a' && o !== '200 b').join(', '))
    assert.equal(app.haproxy.backend('be')?.servers[0]?.addr, `127.0.0.2:${b.port}`)

    dns.zone.delete('app.test')
    await waitFor(() => app.haproxy.backend('be')?.servers[0]?.unresolved === true, 'MAINT (resolution)')
    assert.equal((await servedBy(app)).split(' ')[0], '503')
    assert.match(app.haproxy.command('show stat -1 4 -1'), /\nbe,s1,.*,MAINT \(resolution\),/)

    dns.zone.set('app.test', [{ type: 'A', address: '127.0.0.1' }])
    await waitFor(async () => (await servedBy(app)) === '200 a', 'the server back')
  } finally {
    await app.close()
    await Promise.all([a.close(), b.close(), dns.close()])
  }
})

test('server-template slots follow SRV records: address, port and weight (SRV weight / 256 rounded up); removed records empty their slot', { timeout: 60_000 }, async () => {
  const dns = await dnsServer()
  const one = await named('one', '127.0.0.1')
  const two = await named('two', '127.0.0.1')
  dns.zone.set('one.test', [{ type: 'A', address: '127.0.0.1' }])
  dns.zone.set('two.test', [{ type: 'A', address: '127.0.0.1' }])
  dns.zone.set('_http._tcp.svc.test', [
    { type: 'SRV', target: 'one.test', port: one.port, weight: 1024 },
    { type: 'SRV', target: 'two.test', port: two.port, weight: 512 }
  ])
  const app = Fastify()
  await app.register(haproxyRouter, {
    config: resolvers(dns) + DEFAULTS + 'frontend fe\n bind :1\n default_backend be\nbackend be\n balance roundrobin\n' +
      ' server-template web 3 _http._tcp.svc.test resolvers dns resolve-prefer ipv4 init-addr none\n',
    defaultBackend: 'always'
  })
  await app.ready()
  const slots = (): string[] => (app.haproxy.backend('be')?.servers ?? []).map(s => s.unresolved === true ? `${s.name} -` : `${s.name} ${s.addr} ${s.uweight}`)
  try {
    await waitFor(() => slots().filter(s => !s.endsWith(' -')).length === 2, 'two slots filled')
    assert.deepEqual(slots(), [`web1 127.0.0.1:${one.port} 4`, `web2 127.0.0.1:${two.port} 2`, 'web3 -'])
    const seen = new Set<string>()
    for (let i = 0; i < 8; i++) seen.add(await servedBy(app))
    assert.deepEqual([...seen].sort(), ['200 one', '200 two'])

    dns.zone.set('_http._tcp.svc.test', [{ type: 'SRV', target: 'two.test', port: two.port, weight: 512 }])
    await waitFor(() => slots()[0] === 'web1 -', 'one slot emptied')
    assert.deepEqual(slots(), ['web1 -', `web2 127.0.0.1:${two.port} 2`, 'web3 -'])
    for (let i = 0; i < 4; i++) assert.equal(await servedBy(app), '200 two')
  } finally {
    await app.close()
    await Promise.all([one.close(), two.close(), dns.close()])
  }
})

test('resolve-opts and resolve-net: no duplicate address by default, allow-dup-ip shares one, resolve-net picks first, ignore-weight keeps the weight', { timeout: 60_000 }, async () => {
  const dns = await dnsServer()
  dns.zone.set('app.test', [{ type: 'A', address: '127.0.0.1' }, { type: 'A', address: '127.0.0.2' }])
  dns.zone.set('one.test', [{ type: 'A', address: '127.0.0.1' }])
  dns.zone.set('_http._tcp.svc.test', [{ type: 'SRV', target: 'one.test', port: 8080, weight: 1024 }])
  const app = Fastify()
  await app.register(haproxyRouter, {
    config: resolvers(dns) + DEFAULTS + 'frontend fe\n bind :1\n default_backend plain\n' +
      'backend plain\n default-server resolvers dns resolve-prefer ipv4 init-addr none\n server s1 app.test:80\n server s2 app.test:80\n' +
      'backend dup\n default-server resolvers dns resolve-prefer ipv4 init-addr none resolve-opts allow-dup-ip\n server s1 app.test:80\n server s2 app.test:80\n' +
      'backend net\n server s1 app.test:80 resolvers dns resolve-prefer ipv4 init-addr none resolve-net 10.0.0.0/8,127.0.0.2/32\n' +
      'backend srv\n balance roundrobin\n server-template web 1 _http._tcp.svc.test resolvers dns resolve-prefer ipv4 init-addr none weight 7 resolve-opts ignore-weight\n',
    defaultBackend: 'always'
  })
  await app.ready()
  const addrs = (be: string): string => (app.haproxy.backend(be)?.servers ?? []).map(s => s.unresolved === true ? '-' : `${s.addr} ${s.uweight}`).join(', ')
  try {
    await waitFor(() => ['plain', 'dup', 'net', 'srv'].every(be => !addrs(be).includes('-')), 'every server resolved')
    assert.equal(addrs('plain'), '127.0.0.1:80 1, 127.0.0.2:80 1')
    assert.equal(addrs('dup'), '127.0.0.1:80 1, 127.0.0.1:80 1')
    assert.equal(addrs('net'), '127.0.0.2:80 1')
    assert.equal(addrs('srv'), '127.0.0.1:8080 7')
    // one address left: the server that had the other keeps waiting for one of its own
    dns.zone.set('app.test', [{ type: 'A', address: '127.0.0.1' }])
    await waitFor(() => addrs('dup') === '127.0.0.1:80 1, 127.0.0.1:80 1' && dns.queries.filter(q => q === 'app.test').length > 20, 'the dropped address noticed')
    assert.equal(addrs('plain').split(', ')[0], '127.0.0.1:80 1')
  } finally {
    await app.close()
    await dns.close()
  }
})
