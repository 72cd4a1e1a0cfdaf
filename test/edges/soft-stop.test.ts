// HAProxy's soft stop (management.txt §4): the listeners close, requests under way and requests
// already received are served with `connection: close`, idle connections are closed; a client
// sees no error. Measured as a count of errors under load, never as a duration.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { HTTP_DEFAULTS, freePorts, startGateway, upstream, waitListening } from '../gateway/fixtures.js'
import { keepAliveLoad } from './load.js'

const REQUEST = 'GET /work HTTP/1.1\r\nHost: x\r\n\r\n'
const CLIENTS = 8

/** An upstream that takes a little time to answer, with a Content-Length (the load client reads that framing). */
const slowOk = async () => await upstream('up', {
  handler: (req, res) => {
    req.resume()
    req.on('end', () => setTimeout(() => { res.writeHead(200, { 'content-length': '2' }); res.end('ok') }, 20))
  }
})

async function refused (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(false) })
    s.on('error', () => resolve(true))
  })
}

for (const signal of ['SIGTERM', 'SIGUSR1'] as const) {
  test(`CLI: ${signal} under keep-alive load loses no request and answers none with an error`, async (t) => {
    const up = await slowOk()
    const port = await freePorts(1)
    const file = join(mkdtempSync(join(tmpdir(), 'gw-stop-')), 'haproxy.cfg')
    writeFileSync(file, `${HTTP_DEFAULTS}
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server up ${up.addr}
`)
    const { child, exited, output } = startGateway(file)
    t.after(async () => { child.kill('SIGKILL'); await up.close() })
    await waitListening(port)
    const r = await keepAliveLoad(port, REQUEST, CLIENTS, 3, () => { child.kill(signal) })
    assert.equal(await exited, 0, output())
    assert.deepEqual([...r.statuses.keys()], [200], `only 200s: ${JSON.stringify([...r.statuses])}`)
    assert.equal(r.lost, 0, 'no request lost')
    assert.ok(r.toldToClose > 0, 'answers under way said connection: close')
    assert.ok(await refused(port), 'the listener is closed')
  })
}

test('plugin: app.close() under keep-alive load (return503OnClosing: false) loses no request', async (t) => {
  const up = await slowOk()
  const app = Fastify({ return503OnClosing: false })
  t.after(async () => { await up.close() })
  await app.register(haproxyRouter, { config: `${HTTP_DEFAULTS}\nfrontend fe\n    bind :80\n    default_backend be\nbackend be\n    server up ${up.addr}\n`, defaultBackend: 'always' })
  app.get('/app', async () => ({ app: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  let closed: Promise<void> = Promise.resolve()
  const [proxied, own] = await Promise.all([
    keepAliveLoad(port, REQUEST, CLIENTS / 2, 3, () => { closed = app.close() }),
    keepAliveLoad(port, 'GET /app HTTP/1.1\r\nHost: x\r\n\r\n', CLIENTS / 2, 3, () => {})
  ])
  await closed
  for (const r of [proxied, own]) {
    assert.deepEqual([...r.statuses.keys()], [200], `only 200s: ${JSON.stringify([...r.statuses])}`)
    assert.equal(r.lost, 0, 'no request lost')
  }
})
