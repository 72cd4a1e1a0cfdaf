// `option http-server-close` and `option httpclose` (configuration.txt §4.2), as HAProxy 2.6.12
// behaves on loopback: with either, the server gets `connection: close` and a new connection per
// request; with httpclose the client's connection also closes after the first response, and on
// either side (frontend or backend) the option applies to the transaction.

import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'

import { gatewayApp } from './fixtures.js'

interface Seen { connection: string | undefined, port: number }

/** Two requests in a row on one client connection; what the server saw and how many answers came back. */
async function twoRequests (port: number): Promise<{ answers: number, closeHeader: boolean }> {
  return await new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write('GET /a HTTP/1.1\r\nhost: h\r\n\r\n')
    })
    let data = ''
    let sentSecond = false
    s.on('data', (c: Buffer) => {
      data += c.toString('latin1')
      if (!sentSecond && data.includes('\r\n\r\nok')) {
        sentSecond = true
        // the first answer is complete: the second request goes only where the connection stays open
        if (!/connection: close/i.test(data)) s.write('GET /b HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n')
      }
    })
    s.on('error', reject)
    s.on('close', () => resolve({ answers: data.split('HTTP/1.1 200').length - 1, closeHeader: /\r\nconnection: close/i.test(data.split('\r\n\r\n')[0]!) }))
  })
}

async function scenario (options: string, backendOptions = ''): Promise<{ seen: Seen[], answers: number, closeHeader: boolean }> {
  const seen: Seen[] = []
  const server = http.createServer((req, res) => {
    seen.push({ connection: req.headers.connection, port: req.socket.remotePort! })
    res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const upstreamPort = (server.address() as AddressInfo).port
  const { app, port } = await gatewayApp(`
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1
    ${options}
    default_backend be
backend be
    ${backendOptions}
    server s 127.0.0.1:${upstreamPort}
`)
  try {
    const r = await twoRequests(port)
    return { seen, ...r }
  } finally {
    await app.close()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}

test('option http-server-close: the server connection closes after each response, the client one stays', async () => {
  const r = await scenario('option http-server-close')
  assert.equal(r.answers, 2)
  assert.equal(r.closeHeader, false)
  assert.deepEqual(r.seen.map((s) => s.connection), ['close', 'close'])
  assert.notEqual(r.seen[0]!.port, r.seen[1]!.port, 'a new server connection per request')
})

test('option http-server-close in the backend applies as well', async () => {
  const r = await scenario('', 'option http-server-close')
  assert.equal(r.answers, 2)
  assert.deepEqual(r.seen.map((s) => s.connection), ['close', 'close'])
})

test('option httpclose: both connections close after the first response', async () => {
  const r = await scenario('option httpclose')
  assert.equal(r.answers, 1)
  assert.equal(r.closeHeader, true, 'the client is told connection: close')
  assert.deepEqual(r.seen.map((s) => s.connection), ['close'])
})

test('without them the server connection is kept alive', async () => {
  const r = await scenario('')
  assert.equal(r.answers, 2)
  assert.notEqual(r.seen[0]!.connection, 'close')
})
