// The plugin's forward path frames bodies toward and from the server as HAProxy does (the CLI's,
// the same path, is compared with real HAProxy in test/differential/transfer-encoding.test.ts):
// a chunked request body stays chunked even when empty, a Content-Length beside
// `Transfer-Encoding: chunked` in an answer is dropped, other codings get HAProxy's 502, and an
// HTTP/1.0 answer with Transfer-Encoding closes the connection after it.

import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { HTTP_DEFAULTS, deadPort, gatewayApp, rawRequest, rawServer, upstream, type RawResponse, type Seen } from './fixtures.js'

/** A raw server that answers `answer` once a request's head and (chunked) body are in; `got`: what it read. */
async function serverSending (answer: string): Promise<{ port: number, got: string[], close (): Promise<void> }> {
  const got: string[] = []
  const server = await rawServer((first, socket) => {
    let data = first.toString('latin1')
    const done = (): boolean => {
      const end = data.indexOf('\r\n\r\n')
      if (end < 0 || (/transfer-encoding: chunked/i.test(data.slice(0, end)) && !data.endsWith('0\r\n\r\n'))) return false
      got.push(data)
      socket.write(answer)
      return true
    }
    if (!done()) socket.on('data', (d: Buffer) => { data += d.toString('latin1'); done() })
  })
  return { ...server, got }
}

/** `request` sent through the plugin to a raw server answering `answer`: the client's answer (read until the gateway closes) and what the server read. */
async function through (t: TestContext, answer: string, request: string): Promise<{ answer: RawResponse, got: string[] }> {
  const server = await serverSending(answer)
  const app = Fastify()
  t.after(async () => { await app.close(); await server.close() })
  await app.register(haproxyRouter, { config: `${HTTP_DEFAULTS}frontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server s1 127.0.0.1:${server.port}\n`, defaultBackend: 'always' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { answer: await rawRequest((app.server.address() as AddressInfo).port, request), got: server.got }
}

const GET_CLOSE = 'GET /up HTTP/1.1\r\nhost: h.test\r\nconnection: close\r\n\r\n'

test('plugin: an empty chunked request body reaches the server chunked, with its last chunk', async (t) => {
  const { answer, got } = await through(t, 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', 'POST /up HTTP/1.1\r\nhost: h.test\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n')
  assert.equal(answer.status, 200)
  const [head, body] = got[0]!.split('\r\n\r\n')
  assert.match(head!, /\r\ntransfer-encoding: chunked(\r\n|$)/i)
  assert.doesNotMatch(head!, /content-length/i)
  assert.equal(body, '0')
})

test('plugin: an answer with chunked and a Content-Length goes on chunked, without the length', async (t) => {
  const { answer } = await through(t, 'HTTP/1.1 200 Ok\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n5\r\nhello\r\n0\r\n\r\nResponse splitting attach', GET_CLOSE)
  assert.equal(answer.status, 200)
  assert.equal(answer.headers['transfer-encoding'], 'chunked')
  assert.equal(answer.headers['content-length'], undefined)
  assert.equal(answer.text, 'hello')
})

test('plugin: codings HAProxy refuses in an answer get its 502', async (t) => {
  for (const codings of ['chunked, chunked', 'chunked, gzip', 'gzip, chunked']) {
    const { answer } = await through(t, `HTTP/1.1 200 OK\r\nTransfer-Encoding: ${codings}\r\n\r\n0\r\n\r\n`, GET_CLOSE)
    assert.equal(answer.status, 502, codings)
  }
})

test('plugin: an HTTP/1.0 answer with Transfer-Encoding is forwarded, then the connection closes', async (t) => {
  // no `connection: close` asked: rawRequest resolves only once the gateway closes
  const { answer } = await through(t, 'HTTP/1.0 200 Ok\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'GET /up HTTP/1.1\r\nhost: h.test\r\n\r\n')
  assert.equal(answer.status, 200)
  assert.equal(answer.text, 'hello')
  assert.equal(answer.headers.connection?.toLowerCase(), 'close')
})

test('plugin: a chunked body goes whole to the next server after a failed connect (redispatch)', async (t) => {
  const a = await upstream('a')
  const dead = await deadPort()
  const { app, port } = await gatewayApp(`${HTTP_DEFAULTS}frontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    option redispatch\n    server d 127.0.0.1:${dead}\n    server a ${a.addr}\n`)
  t.after(async () => { await app.close(); await a.close() })
  for (const body of ['5\r\nhello\r\n0\r\n\r\n', '0\r\n\r\n']) {
    const r = await rawRequest(port, `POST /up HTTP/1.1\r\nhost: h.test\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n${body}`)
    assert.equal(r.status, 200)
    const seen = JSON.parse(r.text) as Seen
    assert.equal(seen.headers['transfer-encoding'], 'chunked')
    assert.equal(seen.bodyLength, body.length > 5 ? 5 : 0)
  }
  assert.ok(app.haproxy.backend('be')!.servers.find(s => s.name === 'd')!.counters.wredis >= 1, 'the dead server was tried first')
})
