// The client-side timeouts of the CLI on an `ssl` HTTP bind, side by side with real HAProxy
// 2.6.12: `timeout http-request`'s 408 is sent inside the TLS connection (never in clear on the
// TCP connection under it), a kept-alive connection closes quietly, and a client that never
// finishes its handshake is closed at `timeout client` and logged `Timeout during SSL handshake`.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import tls from 'node:tls'
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import { head, skipWithoutHaproxy, startBoth, startUpstream } from '../differential/harness.js'
import { waitFor } from '../gateway/fixtures.js'
import { makeCa, makeLeaf } from './certs.js'

/**
 * A TCP relay in front of `target` that keeps every byte the proxy sent, as it went on the wire;
 * it holds each of the client's writes for `delayMs` (a handshake that takes its time).
 */
async function tap (target: number, delayMs = 0): Promise<{ port: number, wire: () => Buffer, close: () => void }> {
  const down: Buffer[] = []
  const server = net.createServer((client) => {
    const proxy = net.connect(target, '127.0.0.1')
    client.on('error', () => {})
    proxy.on('error', () => {})
    proxy.on('data', (d: Buffer) => { down.push(d) })
    proxy.on('close', () => { client.destroy() })
    client.on('data', (d: Buffer) => { setTimeout(() => { proxy.write(d) }, delayMs) })
    proxy.pipe(client)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as net.AddressInfo).port, wire: () => Buffer.concat(down), close: () => { server.close() } }
}

/** A TLS client that sends `text` once its handshake is done and waits for the proxy to close: what it deciphered, and its TLS error if any. */
async function tlsAsk (port: number, text: string): Promise<{ text: string, error: string }> {
  const got: Buffer[] = []
  let error = ''
  await new Promise<void>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => { s.write(text) })
    s.on('data', (d: Buffer) => got.push(d))
    s.on('error', (e) => { error = e.message })
    s.on('close', () => { resolve() })
  })
  return { text: Buffer.concat(got).toString('latin1'), error }
}

/** A TCP connection that sends `bytes` (none: not even a ClientHello) and waits for the proxy to close it: after how long. */
async function stall (port: number, bytes: Buffer): Promise<number> {
  const t0 = Date.now()
  const socket = net.connect(port, '127.0.0.1', () => { if (bytes.length > 0) socket.write(bytes) })
  socket.on('error', () => {})
  socket.resume()
  await new Promise(resolve => socket.once('close', resolve))
  return Date.now() - t0
}

const CLIENT_MS = 1000
const REQUEST_MS = 200
/** How long the slow relay holds each of the client's writes: its handshake takes twice that. */
const SLOW_MS = 300

// node's HTTPS server, and its HTTP/2 one that also takes HTTP/1.1 (ALPN)
for (const options of ['', ' alpn h2,http/1.1']) test(`ssl bind${options}: timeout http-request answers inside TLS, an unfinished handshake ends at timeout client`, { skip: skipWithoutHaproxy }, async (t) => {
  const ca = makeCa()
  t.after(() => { rmSync(ca.dir, { recursive: true, force: true }) })
  const pem = join(ca.dir, 'site.pem')
  makeLeaf(ca, pem, 'site.test')
  const up = await startUpstream('u')
  t.after(async () => { await up.close() })
  const pair = await startBoth((port) => `${head([`timeout http-request ${REQUEST_MS}ms`]).replace('timeout client 5s', `timeout client ${CLIENT_MS}ms`)}
frontend fe
    log stderr format raw local0
    option httplog
    bind 127.0.0.1:${port} ssl crt ${pem}${options}
    default_backend be
backend be
    server s1 127.0.0.1:${up.port}
`)
  t.after(() => pair.stop())
  for (const proxy of [pair.haproxy, pair.ours]) {
    // half a request head: HAProxy's 408, enciphered
    const wire = await tap(proxy.port)
    const half = await tlsAsk(wire.port, 'GET / HTTP/1.1\r\nHost: x\r\n')
    wire.close()
    assert.equal(half.error, '', `${proxy.label}: the client's TLS layer refused what came`)
    assert.match(half.text, /^HTTP\/1\.1 408 Request Time-out\r\n/, proxy.label)
    assert.match(half.text, /<h1>408 Request Time-out<\/h1>/, proxy.label)
    assert.equal(wire.wire().indexOf('HTTP/1.1'), -1, `${proxy.label}: the 408 went out in clear`)
    // the same after a slow handshake: the wait for the head (and the line's %Ta) starts once it is done
    const slow = await tap(proxy.port, SLOW_MS)
    assert.match((await tlsAsk(slow.port, 'GET / HTTP/1.1\r\nHost: x\r\n')).text, /^HTTP\/1\.1 408 /, proxy.label)
    slow.close()
    // a request answered on a kept-alive connection, then silence: a quiet close, no 408 in clear
    const kept = await tlsAsk(proxy.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    assert.equal(kept.error, '', `${proxy.label}: the client's TLS layer refused what came after the answer`)
    assert.match(kept.text, /^HTTP\/1\.1 200 /, proxy.label)
    assert.equal(kept.text.indexOf('408'), -1, proxy.label)
    // no ClientHello at all, then half of one: closed at timeout client (not http-request's
    // 200 ms, not node's 120 s), without a byte
    for (const bytes of [Buffer.alloc(0), Buffer.from([0x16, 0x03, 0x01, 0x00, 0x50, 0x01])]) {
      const elapsed = await stall(proxy.port, bytes)
      assert.ok(elapsed >= CLIENT_MS - 50 && elapsed < 10 * CLIENT_MS, `${proxy.label}: closed after ${elapsed} ms`)
    }
    await waitFor(() => (proxy.output().match(/ fe\/1: Timeout during SSL handshake\n/g) ?? []).length === 2, `${proxy.label} logs two handshake timeouts:\n${proxy.output()}`, 10_000)
    const timedOut = [...proxy.output().matchAll(/ fe~ fe\/<NOSRV> -1\/-1\/-1\/-1\/(\d+) 408 0 - - cR-- .* "<BADREQ>"\n/g)].map(m => Number(m[1]))
    assert.equal(timedOut.length, 2, `${proxy.label}:\n${proxy.output()}`)
    for (const ta of timedOut) assert.ok(ta >= REQUEST_MS - 10 && ta < 2 * SLOW_MS, `${proxy.label}: %Ta ${ta}`)
  }
})
