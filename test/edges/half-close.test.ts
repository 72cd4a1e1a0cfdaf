// A client that sends its whole request and then shuts down its write side (shutdown(SHUT_WR),
// as `socat`, `nc -N` and some proxies do) still gets its answer, as from HAProxy.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import haproxyRouter, { keepHalfOpen } from '../../lib/index.js'
import { HTTP_DEFAULTS, freePorts, parseResponse, startGateway, upstream, waitListening } from '../gateway/fixtures.js'
import type { RawResponse, Seen } from '../gateway/fixtures.js'

/** Writes `data`, half-closes, and reads until the server closes. */
async function halfClosed (port: number, data: string): Promise<RawResponse> {
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => { socket.end(data) })
    socket.on('data', d => chunks.push(d))
    socket.on('error', reject)
    socket.on('close', () => resolve(parseResponse(Buffer.concat(chunks))))
  })
}

const POST = 'POST /run HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'

test('CLI: a request followed by a half-close is answered, then the connection closes', async (t) => {
  const up = await upstream('up', { delayMs: 50 })
  const [port] = [await freePorts(1)]
  const file = join(mkdtempSync(join(tmpdir(), 'gw-half-')), 'haproxy.cfg')
  writeFileSync(file, `${HTTP_DEFAULTS}
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server up ${up.addr}
`)
  const { child, exited } = startGateway(file)
  t.after(async () => { child.kill('SIGKILL'); await up.close() })
  await waitListening(port!)
  const r = await halfClosed(port!, POST)
  assert.equal(r.status, 200)
  assert.equal((JSON.parse(r.text) as Seen).bodyLength, 5)
  assert.equal(up.seen.length, 1)
  const get = await halfClosed(port!, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n')
  assert.equal(get.status, 200, 'a keep-alive request too')
  child.kill('SIGTERM')
  assert.equal(await exited, 0)
})

test('plugin: the app decides (node closes half-closed connections unless httpAllowHalfOpen is set)', async (t) => {
  const up = await upstream('up', { delayMs: 50 })
  const app = Fastify()
  t.after(async () => { await app.close(); await up.close() })
  await app.register(haproxyRouter, { config: `${HTTP_DEFAULTS}\nfrontend fe\n    bind :80\n    default_backend be\nbackend be\n    server up ${up.addr}\n`, defaultBackend: 'always' })
  keepHalfOpen(app.server)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const r = await halfClosed((app.server.address() as AddressInfo).port, POST)
  assert.equal(r.status, 200)
  assert.equal((JSON.parse(r.text) as Seen).bodyLength, 5)
})
