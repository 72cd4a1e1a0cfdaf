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
import type { FastifyInstance } from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { HTTP_DEFAULTS, freePorts, parseResponse, startGateway, upstream, waitFor, waitListening } from '../gateway/fixtures.js'
import type { RawResponse } from '../gateway/fixtures.js'
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

/** The CLI serving one frontend on a free port to the server at `upAddr`, listening. */
async function cliGateway (upAddr: string): Promise<ReturnType<typeof startGateway> & { port: number }> {
  const port = await freePorts(1)
  const file = join(mkdtempSync(join(tmpdir(), 'gw-stop-')), 'haproxy.cfg')
  writeFileSync(file, `${HTTP_DEFAULTS}
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server up ${upAddr}
`)
  const gw = startGateway(file)
  await waitListening(port).catch((err: Error) => { gw.child.kill('SIGKILL'); throw new Error(`${err.message}: ${gw.output()}`) })
  return { ...gw, port }
}

/** A Fastify app (no 503 while closing) with the plugin routing everything to the server at `upAddr`. */
async function pluginGateway (upAddr: string): Promise<FastifyInstance> {
  const app = Fastify({ return503OnClosing: false })
  await app.register(haproxyRouter, { config: `${HTTP_DEFAULTS}\nfrontend fe\n    bind :80\n    default_backend be\nbackend be\n    server up ${upAddr}\n`, defaultBackend: 'always' })
  return app
}

for (const signal of ['SIGTERM', 'SIGUSR1'] as const) {
  test(`CLI: ${signal} under keep-alive load loses no request and answers none with an error`, async (t) => {
    const up = await slowOk()
    const { port, child, exited, output } = await cliGateway(up.addr)
    t.after(async () => { child.kill('SIGKILL'); await up.close() })
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
  const app = await pluginGateway(up.addr)
  t.after(async () => { await up.close() })
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

// `connection: close` during the stop must not cost a header the upstream repeated (node's
// writeHead merge path keeps only the last line of a name once a header is set on the response).

/** An upstream answering two Set-Cookie lines; `/held` waits until released. */
async function cookieUpstream (): Promise<{ addr: string, held: () => number, release: () => void, close: () => Promise<void> }> {
  let held = 0
  let release!: () => void
  const released = new Promise<void>(resolve => { release = resolve })
  const up = await upstream('up', {
    handler: (req, res) => {
      req.resume()
      const answer = (): void => {
        res.writeHead(200, { 'set-cookie': ['a=1', 'b=2'], 'content-length': '2' })
        res.end('ok')
      }
      if (req.url === '/held') { held++; void released.then(answer) } else answer()
    }
  })
  return { addr: up.addr, held: () => held, release, close: up.close }
}

/** A client connection: sends requests and reads whole answers (Content-Length framing), and sees the close. */
function client (port: number): { ask: (data: string) => Promise<RawResponse>, closed: Promise<void> } {
  const socket = net.connect(port, '127.0.0.1')
  let buf = Buffer.alloc(0)
  let waiting: (() => void) | null = null
  socket.on('data', d => { buf = Buffer.concat([buf, d]); waiting?.() })
  const closed = new Promise<void>(resolve => socket.on('close', () => { resolve(); waiting?.() }))
  const complete = (): number => {
    const end = buf.indexOf('\r\n\r\n')
    if (end < 0) return -1
    const length = /content-length: *(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))
    const total = end + 4 + Number(length?.[1] ?? 0)
    return buf.length >= total ? total : -1
  }
  const ask = async (data: string): Promise<RawResponse> => {
    socket.write(data)
    while (complete() < 0) {
      if (socket.destroyed) throw new Error(`closed before a whole answer: ${buf.toString('latin1')}`)
      await new Promise<void>(resolve => { waiting = resolve })
    }
    const n = complete()
    const answer = parseResponse(buf.subarray(0, n))
    buf = buf.subarray(n)
    return answer
  }
  return { ask, closed }
}

function assertCookiesAndClose (r: RawResponse, what: string): void {
  assert.equal(r.status, 200, what)
  assert.deepEqual(r.lines.filter(([n]) => n === 'set-cookie').map(([, v]) => v), ['a=1', 'b=2'], `${what}: both Set-Cookie lines`)
  assert.equal(r.headers.connection, 'close', `${what}: connection: close`)
}

/** One answer under way at the stop, one request arriving on an idle keep-alive connection after it. */
async function duringStop (port: number, up: Awaited<ReturnType<typeof cookieUpstream>>, stop: () => void): Promise<void> {
  const busy = client(port)
  const idle = client(port)
  assert.deepEqual((await idle.ask(REQUEST)).lines.filter(([n]) => n === 'set-cookie').length, 2, 'before the stop')
  const underWay = busy.ask('GET /held HTTP/1.1\r\nHost: x\r\n\r\n')
  await waitFor(() => up.held() === 1, 'the upstream holds the request')
  stop()
  await waitFor(async () => await refused(port), 'the listener is closed')
  const late = await idle.ask(REQUEST)
  assertCookiesAndClose(late, 'request received after the stop')
  await idle.closed
  up.release()
  assertCookiesAndClose(await underWay, 'answer under way at the stop')
  await busy.closed
}

test('CLI: SIGUSR1 keeps repeated upstream headers and still closes the connections', async (t) => {
  const up = await cookieUpstream()
  const { port, child, exited, output } = await cliGateway(up.addr)
  t.after(async () => { child.kill('SIGKILL'); up.release(); await up.close() })
  await duringStop(port, up, () => { child.kill('SIGUSR1') })
  assert.equal(await exited, 0, output())
})

test('plugin: app.close() keeps repeated upstream headers and still closes the connections', async (t) => {
  const up = await cookieUpstream()
  const app = await pluginGateway(up.addr)
  t.after(async () => { up.release(); await up.close() })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  let closed: Promise<void> = Promise.resolve()
  await duringStop(port, up, () => { closed = app.close() })
  await closed
})
