// `http-response wait-for-body` and the res.body* fetches, side by side with real HAProxy 2.6.12:
// the same answers, sent by the server in the same pieces, reach the client the same way.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net, { type Socket } from 'node:net'
import { head, skipWithoutHaproxy, startBoth, startRawUpstream } from '../differential/harness.js'
import { parseResponse, waitFor } from '../gateway/fixtures.js'

/**
 * A server that answers `GET /<status>/<sent>/<length>[/<text>]` with `sent` of `length` body
 * bytes (x's, or the text), then waits.
 */
async function pieceServer (): Promise<{ port: number, silent: () => number, closed: () => number, close (): Promise<void> }> {
  const sockets: Socket[] = []
  const spoken = new Set<Socket>()
  let closed = 0
  const up = await startRawUpstream((socket) => {
    sockets.push(socket)
    socket.on('close', () => { closed++ })
    let buf = ''
    socket.on('data', (d: Buffer) => {
      spoken.add(socket)
      buf += d.toString('latin1')
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const [status, sent, length, text] = buf.slice(buf.indexOf('/') + 1, buf.indexOf(' HTTP/')).split('/')
      buf = buf.slice(end + 4)
      socket.write(`HTTP/1.1 ${status} OK\r\nContent-Length: ${length}\r\n\r\n`)
      // the body in two writes, the second once the first is out
      const body = text ?? 'x'.repeat(Number(sent))
      socket.write(body.slice(0, 3), () => { socket.write(body.slice(3)) })
    })
  })
  return { port: up.port, silent: () => sockets.filter(s => !spoken.has(s)).length, closed: () => closed, close: up.close }
}

/** One request on its own connection; resolves once the answer is complete (or the proxy closed). */
async function ask (port: number, path: string, complete: (buf: Buffer) => boolean = completeAnswer): Promise<{ status: number, headers: Record<string, string>, body: string, elapsed: number }> {
  const socket = net.connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (d: Buffer) => chunks.push(d))
  socket.on('error', () => {})
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  const t0 = Date.now()
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`)
  await Promise.race([closed, waitFor(() => complete(Buffer.concat(chunks)), 'a complete answer', 10_000)])
  const elapsed = Date.now() - t0
  socket.destroy()
  const r = parseResponse(Buffer.concat(chunks))
  return { status: r.status, headers: r.headers as Record<string, string>, body: r.text, elapsed }
}

function completeAnswer (buf: Buffer): boolean {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) return false
  const length = /\r\ncontent-length: *(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))
  return length !== null && buf.length >= end + 4 + Number(length[1])
}

test('http-response wait-for-body: the rules after it see res.body, 504 when time runs out, at-least lets a part through', { skip: skipWithoutHaproxy }, async () => {
  const upH = await pieceServer()
  const upO = await pieceServer()
  let calls = 0
  const pair = await startBoth((port) => `${head()}
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    http-response set-header x-before %[res.body_len]
    http-response wait-for-body time 300ms if { status 200 }
    http-response wait-for-body time 300ms at-least 5 if { status 201 }
    http-response set-header x-len %[res.body_len]
    http-response set-header x-size %[res.body_size]
    http-response set-header x-body %[res.body]
    http-response deny if { res.body -m sub denied }
    server s1 127.0.0.1:${calls++ === 0 ? upH.port : upO.port}
`)
  try {
    for (const [proxy, up] of [[pair.haproxy, upH], [pair.ours, upO]] as const) {
      const label = proxy.label
      // the whole body, sent in two pieces: the rules see all of it
      const whole = await ask(proxy.port, '/200/10/10')
      assert.equal(whole.status, 200, label)
      assert.deepEqual([whole.headers['x-len'], whole.headers['x-size'], whole.headers['x-body'], whole.body], ['10', '10', 'xxxxxxxxxx', 'xxxxxxxxxx'], label)
      // before the wait HAProxy shows what already sat in its buffer (the first piece or not, as
      // the packets fell); the gateway shows nothing of a body it did not wait for
      if (label === 'ours') assert.equal(whole.headers['x-before'], '0')
      // 6 of 10 bytes pass at-least 5: the head goes out before the body is complete
      const part = await ask(proxy.port, '/201/6/10', (buf) => buf.includes('\r\n\r\nxxxxxx'))
      assert.equal(part.status, 201, label)
      assert.deepEqual([part.headers['x-len'], part.headers['x-size'], part.headers['x-body']], ['6', '10', 'xxxxxx'], label)
      // 4 of 10 bytes and no more: HAProxy's 504 once the time ran out, the server's connection closed
      const before = up.closed()
      const stalled = await ask(proxy.port, '/200/4/10')
      assert.equal(stalled.status, 504, label)
      assert.match(stalled.body, /504 Gateway Time-out/, label)
      assert.ok(stalled.elapsed >= 250 && stalled.elapsed < 4000, `${label}: 504 after ${stalled.elapsed} ms`)
      await waitFor(() => up.closed() > before, `${label}: the server's connection closed`)
      // a rule that reads the body can refuse the answer
      const denied = await ask(proxy.port, '/200/6/6/denied')
      assert.equal(denied.status, 502, label)
      assert.match(denied.body, /502 Bad Gateway/, label)
    }
    // no connection to the server that carries no request (undici's own abort would leave one)
    assert.equal(upO.silent(), 0)
  } finally {
    await pair.stop()
    await upH.close()
    await upO.close()
  }
})
