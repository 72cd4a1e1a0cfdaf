// Request and response bodies stream through unchanged: no Fastify body parsing, no re-encoding,
// no body limit, chunked uploads, the app's own parsers untouched.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import haproxyRouter from '../../lib/index.js'
import { upstream, get, rawRequest } from './fixtures.js'
import type { Seen } from './fixtures.js'

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

test('large binary and latin-1 bodies reach the server byte for byte; the app keeps its parsers', async (t) => {
  const up = await upstream('up')
  const app = Fastify({ bodyLimit: 1024 })
  app.post('/api/json', async (req) => ({ got: req.body }))
  await app.register(haproxyRouter, { config: `defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:8080\n    use_backend be if { path_beg /up }\nbackend be\n    server up ${up.addr}\n` })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  t.after(async () => { await app.close(); await up.close() })

  const big = randomBytes(8 * 1024 * 1024)
  const r = await get(port, '/up/bin', { 'content-type': 'application/octet-stream' }, 'POST', big)
  assert.equal(r.status, 200, 'no 413: the gateway has no body limit')
  const seen = JSON.parse(r.text) as Seen
  assert.equal(seen.bodyLength, big.length)
  assert.equal(seen.sha256, sha(big))

  const latin1 = Buffer.from('café crème brûlée', 'latin1')
  const l = JSON.parse((await get(port, '/up/text', { 'content-type': 'text/plain; charset=iso-8859-1' }, 'POST', latin1)).text) as Seen
  assert.equal(l.sha256, sha(latin1), 'text is not re-encoded as UTF-8')
  assert.equal(l.headers['content-type'], 'text/plain; charset=iso-8859-1', 'charset kept')

  const j = JSON.parse((await get(port, '/up/json', { 'content-type': 'application/json' }, 'POST', '{"a": 1}')).text) as Seen
  assert.equal(j.bodyLength, 8, 'JSON is forwarded as bytes, not re-serialised')

  assert.deepEqual(JSON.parse((await get(port, '/api/json', { 'content-type': 'application/json' }, 'POST', '{"a":1}')).text), { got: { a: 1 } })
  assert.equal((await get(port, '/api/json', { 'content-type': 'application/json' }, 'POST', JSON.stringify({ x: 'y'.repeat(2000) }))).status, 413, "the app's bodyLimit still applies to its own routes")
})

test('chunked uploads and chunked, slow responses stream both ways', async (t) => {
  const parts: number[] = []
  const up = await upstream('up', {
    handler: (req, res) => {
      req.on('data', (d: Buffer) => parts.push(d.length))
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        let i = 0
        const tick = setInterval(() => { res.write(`chunk${i}\n`); if (++i === 5) { clearInterval(tick); res.end() } }, 20)
      })
    }
  })
  const app = Fastify()
  await app.register(haproxyRouter, { config: `defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server up ${up.addr}\n`, defaultBackend: 'always' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  t.after(async () => { await app.close(); await up.close() })

  const text = await new Promise<string>((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', method: 'PUT', path: '/', headers: { 'transfer-encoding': 'chunked', connection: 'close' } }, res => {
      let s = ''
      res.setEncoding('latin1').on('data', d => { s += d }).on('end', () => resolve(s))
    })
    req.on('error', reject)
    req.write('a'.repeat(1000))
    setTimeout(() => { req.write('b'.repeat(1000)); req.end() }, 50)
  })
  assert.equal(text, 'chunk0\nchunk1\nchunk2\nchunk3\nchunk4\n')
  assert.equal(parts.reduce((a, b) => a + b, 0), 2000)
})

test('HEAD and 304 answers carry no body; status text is kept', async (t) => {
  const up = await upstream('up', { handler: (req, res) => { res.statusMessage = req.url === '/304' ? 'Not Modified' : 'Fine Thanks'; res.writeHead(req.url === '/304' ? 304 : 200, { 'content-length': '5' }); res.end(req.method === 'HEAD' || req.url === '/304' ? undefined : 'hello') } })
  const app = Fastify()
  await app.register(haproxyRouter, { config: `defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server up ${up.addr}\n`, defaultBackend: 'always' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  t.after(async () => { await app.close(); await up.close() })
  const h = await rawRequest(port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.equal(h.status, 200)
  assert.equal(h.reason, 'Fine Thanks')
  assert.equal(h.body.length, 0)
  assert.equal(h.headers['content-length'], '5')
  const n = await rawRequest(port, 'GET /304 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.equal(n.status, 304)
  assert.equal(n.body.length, 0)
})
