// `timeout client` bounds the waits for the client, not the wait for the server: side by side with
// real HAProxy 2.6.12, a server slower than `timeout client` is still answered, and a client that
// stops in the middle of its body ends with `timeout server`'s 504 (sH), not with a cut connection.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { head, skipWithoutHaproxy, startBoth, startUpstream } from '../differential/harness.js'
import { parseResponse, type RawResponse } from '../gateway/fixtures.js'

/** Sends `data`, keeps the connection open (half-sent body and all) until the proxy answers or closes. */
async function ask (port: number, data: string): Promise<RawResponse & { elapsed: number }> {
  const socket = net.connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (d: Buffer) => chunks.push(d))
  socket.on('error', () => {})
  const t0 = Date.now()
  socket.write(data)
  await new Promise(resolve => socket.once('close', resolve))
  return { ...parseResponse(Buffer.concat(chunks)), elapsed: Date.now() - t0 }
}

test('timeout client does not cut a client waiting for a slow server; a stalled body gets timeout server\'s 504', { skip: skipWithoutHaproxy }, async (t) => {
  // the server answers 900 ms after the request is in: three times timeout client
  const upH = await startUpstream('h', (_req, res) => { setTimeout(() => { res.end('late') }, 900) })
  const upO = await startUpstream('o', (_req, res) => { setTimeout(() => { res.end('late') }, 900) })
  t.after(async () => { await upH.close(); await upO.close() })
  let calls = 0
  const pair = await startBoth((port) => `${head().replace('timeout client 5s', 'timeout client 300ms').replace('timeout server 5s', 'timeout server 1500ms')}
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${calls++ === 0 ? upH.port : upO.port}
`)
  t.after(() => pair.stop())
  for (const proxy of [pair.haproxy, pair.ours]) {
    const slow = await ask(proxy.port, 'GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert.equal(slow.status, 200, `${proxy.label}: answered after ${slow.elapsed} ms`)
    assert.equal(slow.text, 'late')
    const stalled = await ask(proxy.port, 'POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\nConnection: close\r\n\r\nabc')
    assert.equal(stalled.status, 504, `${proxy.label}: ${stalled.status} after ${stalled.elapsed} ms`)
    // timeout server ends it: never before its value, well before the 5 s the harness allows
    assert.ok(stalled.elapsed >= 1500 && stalled.elapsed < 5000, `${proxy.label}: 504 after ${stalled.elapsed} ms`)
  }
})
