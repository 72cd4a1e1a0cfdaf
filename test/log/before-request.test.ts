// The times before a request, against real HAProxy 2.6.12. HTTP/2 on a clear `proto h2` bind
// and a TLS bind with `alpn h2`, with a client that writes its frames by hand and waits between
// them: a stream exists once its header block is whole, so `%TR` is 0 and every wait before
// that (before the HEADERS frame, between it and its CONTINUATION) is idle time, `%Ti`; a
// stream's idle time starts at the latest head or end of the connection's other streams (the
// TCP accept, or the handshake's end, for the first), and so does its accept date `%t`, as for
// the requests of an HTTP/1.1 connection after its first.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import tls from 'node:tls'
import { readFileSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { head, skipWithoutHaproxy, startUpstream } from '../differential/harness.js'
import { PREFACE, frame, readFrames } from '../tls/h2-frames.js'
import { bothProxies } from './syslog.js'

const HEADERS = 0x1
const CONTINUATION = 0x9
const END_STREAM = 0x1
const END_HEADERS = 0x4
const SETTINGS = frame(0x4, 0, 0, Buffer.alloc(0))

/** A GET's header block: `:method GET`, `:scheme http` (static table), `:path`, `:authority x`. */
function block (path: string): Buffer {
  return Buffer.concat([Buffer.from([0x82, 0x86, 0x04, path.length]), Buffer.from(path), Buffer.from([0x41, 1, 0x78])])
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** A client connection (TLS with ALPN h2 when `secure`) that writes raw frames; `ended(n)` resolves when stream n's answer is over. */
async function h2Client (port: number, secure: boolean): Promise<{ socket: net.Socket, ended: (stream: number) => Promise<void> }> {
  const socket = secure
    ? tls.connect({ port, host: '127.0.0.1', ALPNProtocols: ['h2'], rejectUnauthorized: false })
    : net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  const done = new Set<number>()
  const waiting = new Map<number, () => void>()
  readFrames(socket, (_type, flags, stream) => {
    if (stream === 0 || (flags & END_STREAM) === 0) return
    done.add(stream)
    waiting.get(stream)?.()
  })
  await new Promise(resolve => socket.once(secure ? 'secureConnect' : 'connect', resolve))
  const ended = async (stream: number): Promise<void> => {
    if (!done.has(stream)) await new Promise<void>(resolve => waiting.set(stream, resolve))
  }
  return { socket, ended }
}

/** The traffic: each request's path says what came before it. */
async function drive (port: number, secure: boolean): Promise<void> {
  // 400 ms after the preface, then the request
  let c = await h2Client(port, secure)
  c.socket.write(Buffer.concat([PREFACE, SETTINGS]))
  await sleep(400)
  c.socket.write(frame(HEADERS, END_STREAM | END_HEADERS, 1, block('/idle')))
  await c.ended(1)
  c.socket.destroy()
  // a header block cut in two, its CONTINUATION 400 ms after the HEADERS frame
  c = await h2Client(port, secure)
  const b = block('/continued')
  c.socket.write(Buffer.concat([PREFACE, SETTINGS, frame(HEADERS, END_STREAM, 1, b.subarray(0, 3))]))
  await sleep(400)
  c.socket.write(frame(CONTINUATION, END_HEADERS, 1, b.subarray(3)))
  await c.ended(1)
  c.socket.destroy()
  // a slow answer on stream 1; stream 3 opens 300 ms after it, stream 5 400 ms after stream 1's end
  c = await h2Client(port, secure)
  c.socket.write(Buffer.concat([PREFACE, SETTINGS, frame(HEADERS, END_STREAM | END_HEADERS, 1, block('/slow'))]))
  await sleep(300)
  c.socket.write(frame(HEADERS, END_STREAM | END_HEADERS, 3, block('/during')))
  await c.ended(1)
  await sleep(400)
  c.socket.write(frame(HEADERS, END_STREAM | END_HEADERS, 5, block('/after')))
  await c.ended(5)
  c.socket.destroy()
}

const PATHS = ['/idle', '/continued', '/slow', '/during', '/after']

for (const secure of [false, true]) {
  test(`HTTP/2 timers before the request (${secure ? 'TLS, alpn h2' : 'clear, proto h2'}): %TR is 0, the waits are %Ti, as in HAProxy`, { skip: skipWithoutHaproxy }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-h2-timers-'))
    const pem = join(dir, 'site.pem')
    const fixtures = new URL('../runtime/fixtures/', import.meta.url)
    writeFileSync(pem, Buffer.concat([readFileSync(new URL('localhost.crt', fixtures)), readFileSync(new URL('localhost.key', fixtures))]))
    const up = await startUpstream('up', (req, res) => {
      setTimeout(() => res.end('ok'), req.url === '/slow' ? 800 : 0)
    })
    t.after(async () => { await up.close(); rmSync(dir, { recursive: true, force: true }) })
    const seen = await bothProxies(log => (port) => `${head()}
frontend fe
    bind 127.0.0.1:${port} ${secure ? `ssl crt ${pem} alpn h2` : 'proto h2'}
    log 127.0.0.1:${log} format raw local0
    log-format "T %Th %Ti %TR %Tq %HPO %Ts%ms"
    default_backend be
backend be
    server s 127.0.0.1:${up.port}
`, async (port, syslog) => {
      await drive(port, secure)
      // (the harness's readiness probe, a connection closed without a byte, is a <BADREQ> line on a clear bind)
      const lines = (): string[] => syslog.lines.filter(l => l.startsWith('T ') && !l.includes('<BADREQ>'))
      for (let n = syslog.lines.length + 1; lines().length < PATHS.length; n++) await syslog.wait(n)
      return lines()
    })
    for (const label of ['haproxy', 'ours'] as const) {
      const byPath = new Map(seen[label].map(l => { const [, th, ti, tr, tq, path, date] = l.trim().split(' '); return [path!, { th: Number(th), ti: Number(ti), tr: Number(tr), tq: Number(tq), date: Number(date) }] }))
      assert.deepEqual([...byPath.keys()].sort(), [...PATHS].sort(), `${label}: ${seen[label].join('')}`)
      const what = (path: string): string => `${label} ${path}: ${seen[label].join('')}`
      for (const [path, v] of byPath) {
        assert.equal(v.tr, 0, what(path))
        assert.equal(v.tq, v.th + v.ti + v.tr, what(path))
      }
      assert.ok(byPath.get('/idle')!.ti >= 250, what('/idle'))
      assert.ok(byPath.get('/continued')!.ti >= 250, what('/continued'))
      // counted from /slow's head, which is still being answered
      assert.ok(byPath.get('/during')!.ti >= 150, what('/during'))
      // counted from /slow's end (about 400 ms), not from /during's head (900 ms or more)
      assert.ok(byPath.get('/after')!.ti >= 250 && byPath.get('/after')!.ti < 800, what('/after'))
      // %t: /during's is /slow's head, /after's is /slow's end
      const slow = byPath.get('/slow')!.date
      assert.ok(byPath.get('/during')!.date - slow < 200, what('/during'))
      assert.ok(byPath.get('/after')!.date - slow >= 700, what('/after'))
    }
  })
}

test('HTTP/1.1: a request after the first on a connection has its idle time\'s start as %t, as in HAProxy', { skip: skipWithoutHaproxy }, async () => {
  const seen = await bothProxies(log => (port) => `${head()}
frontend fe
    bind 127.0.0.1:${port}
    log 127.0.0.1:${log} format raw local0
    log-format "T %Ti %TR %Ta %HP %Ts%ms"
    http-request return status 200
`, async (port, syslog) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    let answers = 0
    let answered = (): void => {}
    socket.on('data', (d: Buffer) => { answers += d.toString('latin1').split('HTTP/1.1 200').length - 1; answered() })
    const answer = async (n: number): Promise<void> => { while (answers < n) await new Promise<void>(resolve => { answered = resolve }) }
    await new Promise(resolve => socket.once('connect', resolve))
    await sleep(300)
    socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n')
    await answer(1)
    await sleep(300)
    // the head in two parts: 300 ms of %TR
    socket.write('GET /second HTTP/1.1\r\nHo')
    await sleep(300)
    socket.write('st: x\r\n\r\n')
    await answer(2)
    socket.destroy()
    const lines = (): string[] => syslog.lines.filter(l => l.startsWith('T ') && !l.includes('<BADREQ>'))
    for (let n = syslog.lines.length + 1; lines().length < 2; n++) await syslog.wait(n)
    return lines()
  })
  for (const label of ['haproxy', 'ours'] as const) {
    const [first, second] = seen[label].map(l => l.trim().split(' ').slice(1).map((v, i) => i === 3 ? v : Number(v))) as Array<[number, number, number, string, number]>
    const what = `${label}: ${seen[label].join('')}`
    assert.deepEqual([first![3], second![3]], ['/first', '/second'], what)
    assert.ok(first![0] >= 250 && second![0] >= 250 && second![1] >= 250, what)
    // the second request's %t is the end of the first (its idle and active times after the accept), not the accept
    assert.ok(Math.abs(second![4] - first![4] - first![0] - first![2]) <= 100, what)
  }
})

test('a body the gateway waits for (option http-buffer-request) counts in %TR, not %Tw, as in HAProxy', { skip: skipWithoutHaproxy }, async (t) => {
  const up = await startUpstream('up')
  t.after(async () => { await up.close() })
  const seen = await bothProxies(log => (port) => `${head()}
frontend fe
    bind 127.0.0.1:${port}
    log 127.0.0.1:${log} format raw local0
    log-format "T %TR %Tw %ST %HP"
    option http-buffer-request
    default_backend be
backend be
    server s 127.0.0.1:${up.port}
`, async (port, syslog) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    let answered = (): void => {}
    const answer = new Promise<void>(resolve => { answered = resolve })
    socket.on('data', () => { answered() })
    await new Promise(resolve => socket.once('connect', resolve))
    socket.write('POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab')
    await sleep(400)
    socket.write('cd')
    await answer
    socket.destroy()
    const lines = (): string[] => syslog.lines.filter(l => l.startsWith('T ') && !l.includes('<BADREQ>'))
    for (let n = syslog.lines.length + 1; lines().length < 1; n++) await syslog.wait(n)
    return lines()
  })
  for (const label of ['haproxy', 'ours'] as const) {
    const [, tR, tw, status, path] = seen[label][0]!.trim().split(' ')
    const what = `${label}: ${seen[label].join('')}`
    assert.deepEqual([status, path], ['200', '/body'], what)
    assert.ok(Number(tR) >= 300, what)
    assert.ok(Number(tw) < 200, what)
  }
})
