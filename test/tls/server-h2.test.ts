// `server … proto h2`: HTTP/2 to the server, with prior knowledge in clear (h2c) and through
// ALPN over TLS; gRPC-style answers keep their trailers on the way to an HTTP/2 client, and an
// HTTP/1.1 client gets the status code's reason phrase.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { makeCa, makeLeaf } from './certs.js'
import { h2Requests } from './helpers.js'
import { rawRequest } from '../gateway/fixtures.js'

/** An HTTP/2 server that echoes what it got, gRPC-style: status in the trailers. */
function grpcLike (name: string) {
  return (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    let length = 0
    req.on('data', (d: Buffer) => { length += d.length })
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/grpc', 'x-served-by': name, 'x-version': req.httpVersion })
      res.addTrailers({ 'grpc-status': '0', 'grpc-message': `${req.method} ${req.url} ${length}` })
      res.end('payload')
    })
  }
}

async function listen (server: http2.Http2Server | http2.Http2SecureServer): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

test('server proto h2: h2c and h2 over TLS, trailers forwarded, HTTP/1.1 clients served', async (t) => {
  const ca = makeCa()
  const leaf = makeLeaf(ca, join(ca.dir, 'up.pem'), 'up.test', ['up.test'])
  const clear = http2.createServer(grpcLike('clear'))
  const secure = http2.createSecureServer({ cert: leaf.certOnly, key: leaf.key }, grpcLike('secure'))
  const clearPort = await listen(clear)
  const securePort = await listen(secure)

  const app = Fastify({ http2: true, logger: { level: 'warn' } })
  await app.register(haproxyRouter, {
    config: `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind :80
    use_backend tls if { path_beg /tls }
    default_backend clear
backend clear
    server s 127.0.0.1:${clearPort} proto h2
backend tls
    server s 127.0.0.1:${securePort} ssl verify none alpn h2 proto h2
`
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => {
    await app.close()
    clear.close()
    secure.close()
  })
  const port = (app.server.address() as AddressInfo).port

  const [a, b, c] = await h2Requests(`http://127.0.0.1:${port}`, [
    { path: '/svc/Method', method: 'POST', headers: { 'content-type': 'application/grpc', te: 'trailers' }, body: 'hello' },
    { path: '/tls/x' },
    { path: '/again?q=1' }
  ])
  assert.equal(a!.status, 200)
  assert.equal(a!.headers['x-served-by'], 'clear')
  assert.equal(a!.headers['x-version'], '2.0', 'the server got HTTP/2')
  assert.equal(a!.text, 'payload')
  assert.deepEqual({ s: a!.trailers?.['grpc-status'], m: a!.trailers?.['grpc-message'] }, { s: '0', m: 'POST /svc/Method 5' })
  assert.equal(b!.headers['x-served-by'], 'secure')
  assert.equal(b!.headers['x-version'], '2.0')
  assert.equal(b!.trailers?.['grpc-message'], 'GET /tls/x 0')
  assert.equal(c!.trailers?.['grpc-message'], 'GET /again?q=1 0')

  // HTTP/1.1 client (this app serves h2c only with prior knowledge; a second app serves HTTP/1.1)
  const h1app = Fastify()
  await h1app.register(haproxyRouter, { config: `defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind :80\n    default_backend clear\nbackend clear\n    server s 127.0.0.1:${clearPort} proto h2\n` })
  await h1app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await h1app.close() })
  const h1 = await rawRequest((h1app.server.address() as AddressInfo).port, 'GET /h1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.equal(h1.status, 200)
  assert.equal(h1.reason, 'OK', 'reason phrase of the status code')
  assert.equal(h1.text, 'payload')
})
