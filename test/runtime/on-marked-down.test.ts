// `on-marked-down shutdown-sessions` (§5.2): when a health check marks the server DOWN, the
// requests under way on it are cut at once, as HAProxy 2.6.12 does (observed on loopback): one
// still waiting for its answer gets a 502, one whose answer is streaming is cut off mid-body;
// the log says `DH--` and `DD--`.
// With real HAProxy installed, the same scenario runs through it too.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import type { ServerResponse } from 'node:http'
import { haproxyBin, startProxy, startRawUpstream, startUpstream } from '../differential/harness.js'
import { rawRequest, waitFor } from '../gateway/fixtures.js'
import { termination } from './cut-sessions.js'

const config = (up: number, check: number, sendProxy = '') => (port: number): string => `
global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout client 30s
    timeout server 30s
    timeout connect 2s
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${up}${sendProxy} check port ${check} inter 100ms fall 1 rise 1 on-marked-down shutdown-sessions
`

test('on-marked-down shutdown-sessions cuts the requests under way when checks mark the server DOWN', async (t) => {
  // the upstream never finishes: only the cut can end these requests
  const held: ServerResponse[] = []
  const up = await startUpstream('u', (req, res) => {
    held.push(res)
    if (req.url === '/stream') { res.writeHead(200, { 'content-type': 'text/plain' }); res.write('first') }
  })
  t.after(async () => { for (const r of held) r.destroy(); await up.close() })
  for (const label of haproxyBin === null ? ['ours'] as const : ['haproxy', 'ours'] as const) {
    const checks = net.createServer((s) => s.destroy())
    await new Promise<void>((resolve) => checks.listen(0, '127.0.0.1', resolve))
    const proxy = await startProxy(label, config(up.port, (checks.address() as net.AddressInfo).port))
    try {
      const before = up.seen.length
      const waiting = rawRequest(proxy.port, 'GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 30_000)
      const streaming = rawRequest(proxy.port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 30_000)
      await waitFor(() => up.seen.length === before + 2, 'both requests at the server')
      await new Promise<void>((resolve) => checks.close(() => resolve()))
      const [w, s] = await Promise.all([waiting, streaming])
      assert.equal(w.status, 502, `${label}: the waiting request`)
      assert.equal(s.status, 200, `${label}: the streaming request`)
      // the server never ends this body: the connection closing is the cut
      assert.equal(s.text, 'first', `${label}: the streaming request, cut mid-body`)
      // HAProxy's termination states of sessions killed as their server went DOWN
      assert.deepEqual([await termination(proxy.output, '/wait'), await termination(proxy.output, '/stream')], ['DH--', 'DD--'], `${label}: the log`)
    } finally {
      await proxy.stop()
    }
  }
})

test('on-marked-down shutdown-sessions also cuts the requests on send-proxy servers (a connection per client, outside the pool)', async (t) => {
  // the upstream reads a PROXY header and a request, then never finishes its answer
  const requests: string[] = []
  const up = await startRawUpstream((socket) => {
    let text = ''
    let requested = false
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1')
      // (the v2 header's signature has a CRLF CRLF of its own)
      if (requested || !/GET [^]*\r\n\r\n/.test(text)) return
      requested = true
      requests.push(text)
      if (text.includes('GET /stream ')) socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n')
    })
  })
  t.after(() => up.close())
  for (const [label, sendProxy] of (haproxyBin === null ? [['ours']] : [['ours'], ['haproxy']]).flatMap(([l]) => [[l, ' send-proxy'], [l, ' send-proxy-v2']]) as Array<['ours' | 'haproxy', string]>) {
    const checks = net.createServer((s) => s.destroy())
    await new Promise<void>((resolve) => checks.listen(0, '127.0.0.1', resolve))
    const proxy = await startProxy(label, config(up.port, (checks.address() as net.AddressInfo).port, sendProxy))
    try {
      requests.length = 0
      const waiting = rawRequest(proxy.port, 'GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 30_000)
      const streaming = rawRequest(proxy.port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 30_000)
      await waitFor(() => requests.length === 2, 'both requests at the server')
      const v1 = requests.every(r => r.startsWith('PROXY TCP4 127.0.0.1 127.0.0.1 '))
      assert.equal(v1, sendProxy === ' send-proxy', `${label}${sendProxy}: ${JSON.stringify(requests)}`)
      await new Promise<void>((resolve) => checks.close(() => resolve()))
      const [w, s] = await Promise.all([waiting, streaming])
      assert.equal(w.status, 502, `${label}${sendProxy}: the waiting request`)
      assert.equal(s.status, 200, `${label}${sendProxy}: the streaming request`)
      assert.equal(s.text, 'first', `${label}${sendProxy}: the streaming request, cut mid-body`)
      assert.deepEqual([await termination(proxy.output, '/wait'), await termination(proxy.output, '/stream')], ['DH--', 'DD--'], `${label}${sendProxy}: the log`)
    } finally {
      await proxy.stop()
    }
  }
})
