// A server written without a port, or with `+N` / `-N` (configuration.txt §5.2 `server`,
// <address>), is reached on the port the client connected to, plus N: as HAProxy 2.6.12 does
// (observed: two binds, one port-less server, each request reached the upstream on its own
// bind's port; `:+998` and `:-1000` likewise, in mode http and mode tcp). The gateway listens on
// 127.0.0.2 and the upstreams on 127.0.0.1, on the same port numbers.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { HTTP_DEFAULTS, startGateway, waitListening } from './fixtures.js'
import { cli, waitForSocket } from '../socket/client.js'

const GATEWAY = '127.0.0.2'

/** An HTTP server on 127.0.0.1 (an ephemeral port) answering its own port. */
async function portUpstream (): Promise<{ port: number, close: () => Promise<void> }> {
  const server = http.createServer((req, res) => { req.resume(); res.end(`up ${(server.address() as AddressInfo).port}`) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, close: async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) } }
}

/** A port free on the gateway's address. */
async function freeGatewayPort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>(resolve => s.listen(0, GATEWAY, resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise(resolve => s.close(resolve))
  return port
}

async function ask (port: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    const req = http.get({ host: GATEWAY, port, path: '/', agent: false, timeout: 10_000 }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve(`${res.statusCode!} ${text}`))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer on ${port}`)))
    req.on('error', reject)
  })
}

for (const mode of ['http', 'tcp'] as const) {
  test(`CLI, mode ${mode}: a port-less server follows the bind the client used; +N / -N offset it`, async (t) => {
    const [a, b, c, d] = [await portUpstream(), await portUpstream(), await portUpstream(), await portUpstream()]
    t.after(async () => { for (const u of [a, b, c, d]) await u.close() })
    const plus = await freeGatewayPort()
    const minus = await freeGatewayPort()
    const file = join(mkdtempSync(join(tmpdir(), 'gw-relport-')), 'haproxy.cfg')
    const offset = (n: number): string => n >= 0 ? `+${n}` : `${n}`
    writeFileSync(file, `${HTTP_DEFAULTS}
frontend same
    mode ${mode}
    bind ${GATEWAY}:${a.port}
    bind ${GATEWAY}:${b.port}
    default_backend same
backend same
    mode ${mode}
    server s 127.0.0.1
frontend plus
    mode ${mode}
    bind ${GATEWAY}:${plus}
    bind ${GATEWAY}:${minus}
    use_backend minus if { dst_port ${minus} }
    default_backend plus
backend plus
    mode ${mode}
    server s 127.0.0.1:${offset(c.port - plus)}
backend minus
    mode ${mode}
    server s 127.0.0.1:${offset(d.port - minus)}
`)
    const gw = startGateway(file)
    t.after(async () => { gw.child.kill('SIGKILL') })
    for (const p of [a.port, b.port, plus, minus]) await waitListening(p, GATEWAY).catch((err: Error) => { throw new Error(`${err.message}: ${gw.output()}`) })
    assert.equal(await ask(a.port), `200 up ${a.port}`)
    assert.equal(await ask(b.port), `200 up ${b.port}`)
    assert.equal(await ask(a.port), `200 up ${a.port}`, 'each port keeps its own connections')
    assert.equal(await ask(plus), `200 up ${c.port}`)
    assert.equal(await ask(minus), `200 up ${d.port}`)
  })
}

test('plugin: a port-less server is reached on the port the app listens on', async (t) => {
  const up = await portUpstream()
  const app = Fastify()
  t.after(async () => { await app.close(); await up.close() })
  await app.register(haproxyRouter, { config: `${HTTP_DEFAULTS}\nfrontend fe\n    bind :80\n    default_backend be\nbackend be\n    server s 127.0.0.1\n`, defaultBackend: 'always' })
  // the upstream's port number, on the gateway's address
  await app.listen({ port: up.port, host: GATEWAY })
  assert.equal(await ask(up.port), `200 up ${up.port}`)
})

test('CLI: a server added without a port on the runtime API follows the client too', async (t) => {
  const up = await portUpstream()
  const dir = mkdtempSync(join(tmpdir(), 'gw-relport-'))
  const file = join(dir, 'haproxy.cfg')
  const sock = join(dir, 'admin.sock')
  writeFileSync(file, `global\n    stats socket ${sock} level admin\n${HTTP_DEFAULTS}
frontend fe
    bind ${GATEWAY}:${up.port}
    default_backend be
backend be
    balance roundrobin
`)
  const gw = startGateway(file)
  t.after(async () => { gw.child.kill('SIGKILL'); await up.close() })
  await waitListening(up.port, GATEWAY).catch((err: Error) => { throw new Error(`${err.message}: ${gw.output()}`) })
  await waitForSocket(sock)
  assert.equal(await cli(sock, 'add server be/x 127.0.0.1\n'), 'New server registered.\n\n')
  await cli(sock, 'enable server be/x\n')
  assert.equal(await ask(up.port), `200 up ${up.port}`)
})
