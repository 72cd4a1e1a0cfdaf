// `option http-buffer-request`, `http-request wait-for-body` and the req.body* fetches, side by
// side with real HAProxy 2.6.12: the same requests, sent in the same pieces, get the same answers
// and the server sees the same headers. Bodies stream unread when neither is configured.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import haproxyRouter from '../../lib/index.js'
import { head, skipWithoutHaproxy, startBoth, startUpstream, type Proxied, type Upstream } from '../differential/harness.js'
import { parseResponse, upstream, waitFor, type RawResponse } from '../gateway/fixtures.js'

interface Exchanged extends RawResponse {
  /** ms from the first byte sent to the connection's close. */
  elapsed: number
}

/**
 * Sends `parts` on one connection, in order; a function between them runs before the next part
 * is sent (waiting for a state, never for a duration). Resolves when the proxy closes.
 */
async function exchange (port: number, parts: Array<string | (() => Promise<void>)>): Promise<Exchanged> {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const chunks: Buffer[] = []
  socket.on('data', (d: Buffer) => chunks.push(d))
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  socket.on('error', () => {})
  const t0 = Date.now()
  for (const p of parts) {
    if (typeof p === 'string') socket.write(p)
    else await p()
  }
  // a keep-alive answer: the test is over once it is complete
  await Promise.race([closed, waitFor(() => complete(Buffer.concat(chunks)), 'a complete answer', 10_000)])
  const elapsed = Date.now() - t0
  socket.destroy()
  return { ...parseResponse(Buffer.concat(chunks)), elapsed }
}

function complete (buf: Buffer): boolean {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) return false
  const head = buf.subarray(0, end).toString('latin1')
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) return buf.subarray(buf.length - 5).toString('latin1') === '0\r\n\r\n'
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)
  return length !== null && buf.length >= end + 4 + Number(length[1])
}

const post = (path: string, length: number): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`
const header = (up: Upstream, name: string): string | undefined => up.seen.at(-1)?.headers.find(([k]) => k === name)?.[1]

/** Runs `fn` against HAProxy, then ours, each with its own upstream, and returns both results. */
async function both<T> (config: (port: number, up: number) => string, fn: (proxy: Proxied, up: Upstream) => Promise<T>): Promise<{ haproxy: T, ours: T }> {
  const upH = await startUpstream('h')
  const upO = await startUpstream('o')
  // startBoth writes HAProxy's config first, then ours
  let calls = 0
  const pair = await startBoth((p) => config(p, calls++ === 0 ? upH.port : upO.port))
  try {
    return { haproxy: await fn(pair.haproxy, upH), ours: await fn(pair.ours, upO) }
  } finally {
    await pair.stop()
    await upH.close()
    await upO.close()
  }
}

test('option http-buffer-request: a partial body is a 408 after timeout http-request, a complete one reaches the rules (req.body*)', { skip: skipWithoutHaproxy }, async () => {
  const config = (port: number, up: number): string => `${head()}
frontend fe
    bind 127.0.0.1:${port}
    option http-buffer-request
    timeout http-request 300ms
    http-request set-header x-len %[req.body_len]
    http-request set-header x-size %[req.body_size]
    http-request set-header x-body %[req.body]
    http-request set-header x-param %[req.body_param(b)]
    default_backend be
backend be
    server s1 127.0.0.1:${up}
`
  const results = await both(config, async (proxy, up) => {
    const partial = await exchange(proxy.port, [post('/x', 20), 'a=1&b=22'])
    const partialSeen = up.seen.length
    const split = await exchange(proxy.port, [post('/x', 20), 'a=1&b=22xx', async () => { await new Promise(resolve => setImmediate(resolve)) }, 'yyyyyyyyyy'])
    const splitSeen = { len: header(up, 'x-len'), size: header(up, 'x-size'), body: header(up, 'x-body'), param: header(up, 'x-param'), got: up.seen.at(-1)?.body }
    const chunked = await exchange(proxy.port, ['POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', '2\r\nde\r\n0\r\n\r\n'])
    const chunkedSeen = { len: header(up, 'x-len'), size: header(up, 'x-size'), body: header(up, 'x-body'), got: up.seen.at(-1)?.body }
    const bodyless = await exchange(proxy.port, ['GET /g HTTP/1.1\r\nHost: x\r\n\r\n'])
    const bodylessSeen = { len: header(up, 'x-len'), body: header(up, 'x-body') }
    return {
      partial: { status: partial.status, text: partial.text, elapsed: partial.elapsed, seen: partialSeen },
      split: { status: split.status, ...splitSeen },
      chunked: { status: chunked.status, ...chunkedSeen },
      bodyless: { status: bodyless.status, ...bodylessSeen }
    }
  })
  for (const [label, r] of Object.entries(results)) {
    assert.equal(r.partial.status, 408, label)
    assert.match(r.partial.text, /408 Request Time-out/, label)
    assert.equal(r.partial.seen, 0, `${label}: nothing reached the server`)
    // order and a generous bound: not before the timeout, well before timeout client
    assert.ok(r.partial.elapsed >= 250 && r.partial.elapsed < 4000, `${label}: 408 after ${r.partial.elapsed} ms`)
    assert.deepEqual(r.split, { status: 200, len: '20', size: '20', body: 'a=1&b=22xxyyyyyyyyyy', param: '22xxyyyyyyyyyy', got: 'a=1&b=22xxyyyyyyyyyy' }, label)
    assert.deepEqual(r.chunked, { status: 200, len: '5', size: '5', body: 'abcde', got: 'abcde' }, label)
    assert.deepEqual(r.bodyless, { status: 200, len: '0', body: '' }, label)
  }
})

test('http-request wait-for-body: rules after it see the body, 408 when time runs out, at-least lets a part through', { skip: skipWithoutHaproxy }, async () => {
  const config = (port: number, up: number): string => `${head()}
frontend fe
    bind 127.0.0.1:${port}
    http-request set-header x-before %[req.body_len]
    http-request wait-for-body time 300ms if { path /wait }
    http-request wait-for-body time 300ms at-least 10 if { path /atleast }
    http-request set-header x-len %[req.body_len]
    default_backend be
backend be
    server s1 127.0.0.1:${up}
`
  const results = await both(config, async (proxy, up) => {
    const partial = await exchange(proxy.port, [post('/wait', 20), 'a=1&b=22'])
    const partialSeen = up.seen.length
    const split = await exchange(proxy.port, [post('/wait', 20), 'a=1&b=22xx', async () => { await new Promise(resolve => setImmediate(resolve)) }, 'yyyyyyyyyy'])
    const splitSeen = { before: header(up, 'x-before'), len: header(up, 'x-len') }
    // 12 of 20 bytes pass `at-least 10`: the server gets the request before the body is complete
    const seen = up.seen.length
    const atLeast = await exchange(proxy.port, [post('/atleast', 20), 'a=1&b=22xxxx', async () => { await waitFor(() => up.seen.length > seen, 'the server got the head') }, 'yyyyyyyy'])
    const atLeastSeen = { len: header(up, 'x-len'), got: up.seen.at(-1)?.body }
    // too few bytes for at-least: the time runs out
    const short = await exchange(proxy.port, [post('/atleast', 20), 'a=1&b=2'])
    return {
      partial: { status: partial.status, elapsed: partial.elapsed, seen: partialSeen },
      split: { status: split.status, ...splitSeen },
      atLeast: { status: atLeast.status, ...atLeastSeen },
      short: short.status
    }
  })
  for (const [label, r] of Object.entries(results)) {
    assert.equal(r.partial.status, 408, label)
    assert.equal(r.partial.seen, 0, `${label}: nothing reached the server`)
    assert.ok(r.partial.elapsed >= 250 && r.partial.elapsed < 4000, `${label}: 408 after ${r.partial.elapsed} ms`)
    assert.deepEqual(r.split, { status: 200, before: '0', len: '20' }, label)
    assert.deepEqual(r.atLeast, { status: 200, len: '12', got: 'a=1&b=22xxxxyyyyyyyy' }, label)
    assert.equal(r.short, 408, label)
  }
})

test('plugin: a body waited for routes on its content, and the app still reads the body it is left', async (t) => {
  const up = await upstream('up')
  t.after(() => up.close())
  const config = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    option http-buffer-request
    use_backend be if { req.body -m sub route-me }
backend be
    server up ${up.addr}
`
  for (const hook of ['preParsing', 'onRequest'] as const) {
    const app = Fastify()
    await app.register(haproxyRouter, { config, hook })
    app.post('/x', async (request) => ({ app: request.body }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as AddressInfo).port
    try {
      const json = (body: string): string => `POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
      const proxied = await exchange(port, [json('{"v":"route-me"}'), '{"v":"route-me"}'])
      assert.equal(proxied.status, 200, hook)
      assert.equal(proxied.headers['x-served-by'], 'up', hook)
      assert.equal(up.seen.at(-1)?.bodyLength, 16, hook)
      // the body arrives in two pieces: the app's parser gets both, the part read and the rest
      const kept = await exchange(port, [json('{"v":"stay-here"}'), '{"v":"st', async () => { await new Promise(resolve => setImmediate(resolve)) }, 'ay-here"}'])
      assert.equal(kept.status, 200, hook)
      assert.deepEqual(JSON.parse(kept.text), { app: { v: 'stay-here' } }, hook)
    } finally {
      await app.close()
    }
  }
})

test('without buffering the body streams: req.body is empty and the server gets the request before the body is complete', async (t) => {
  const up = await startUpstream('up')
  t.after(() => up.close())
  const config = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    http-request set-header x-len %[req.body_len]
    default_backend be
backend be
    server up 127.0.0.1:${up.port}
`
  const app = Fastify()
  await app.register(haproxyRouter, { config, defaultBackend: 'always' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  const r = await exchange(port, [post('/s', 20), 'a=1&b=2', async () => { await waitFor(() => up.seen.length === 1, 'the server got the head') }, 'xxxxxxxxxxxxx'])
  assert.equal(r.status, 200)
  assert.equal(header(up, 'x-len'), '0')
  assert.equal(up.seen[0]!.body, 'a=1&b=2xxxxxxxxxxxxx')
})
