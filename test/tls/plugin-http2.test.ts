// The plugin in a Fastify app that serves HTTP/2 itself (`http2: true`, over TLS with HTTP/1.1
// beside it, and in clear): proxied answers, the gateway's own answers (redirect, deny, error
// pages) and the ssl_* fetches, written on node's Http2ServerResponse.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { makeCa, makeLeaf } from './certs.js'
import { h2Requests, httpsGet } from './helpers.js'
import { upstream, deadPort, HAPROXY_503 } from '../gateway/fixtures.js'
import type { Seen } from '../gateway/fixtures.js'

function config (up: string, dead: number): string {
  return `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind :443
    http-request deny deny_status 403 if { path_beg /private }
    http-request redirect scheme https code 301 if !{ ssl_fc } { path_beg /secure }
    http-request set-header X-Forwarded-Proto https if { ssl_fc }
    http-request set-header X-SNI %[ssl_fc_sni]
    http-request set-header X-ALPN %[ssl_fc_alpn]
    http-response set-header Strict-Transport-Security max-age=60 if { ssl_fc }
    use_backend gone if { path_beg /gone }
    default_backend be
backend be
    server up ${up}
backend gone
    retries 0
    server dead 127.0.0.1:${dead}
`
}

test('plugin on an HTTPS app with http2: true (h2 and HTTP/1.1 on one port)', async (t) => {
  const ca = makeCa()
  const leaf = makeLeaf(ca, join(ca.dir, 'site.pem'), 'site.test', ['site.test'])
  const up = await upstream('up')
  const app = Fastify({ http2: true, https: { allowHTTP1: true, cert: leaf.certOnly, key: leaf.key } })
  app.get('/own', async () => ({ own: true }))
  await app.register(haproxyRouter, { config: config(up.addr, await deadPort()) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close(); await up.close() })
  const port = (app.server.address() as AddressInfo).port
  const origin = `https://127.0.0.1:${port}`

  const [proxied, own, denied, gone, post] = await h2Requests(origin, [
    { path: '/p?q=1', headers: { cookie: 'a=1' } },
    { path: '/own' },
    { path: '/private' },
    { path: '/gone' },
    { path: '/upload', method: 'POST', body: 'x'.repeat(70_000) }
  ], { servername: 'site.test' })
  assert.equal(proxied!.status, 200)
  assert.equal(proxied!.headers['x-served-by'], 'up')
  assert.equal(proxied!.headers['strict-transport-security'], 'max-age=60')
  const seen = JSON.parse(proxied!.text) as Seen
  assert.equal(seen.url, '/p?q=1')
  assert.equal(seen.headers['x-forwarded-proto'], 'https')
  assert.equal(seen.headers['x-sni'], 'site.test')
  assert.equal(seen.headers['x-alpn'], 'h2')
  assert.equal(seen.headers.host, `site.test:${port}`, ":authority as Host")
  assert.equal(own!.status, 200)
  assert.deepEqual(JSON.parse(own!.text), { own: true })
  assert.equal(denied!.status, 403)
  assert.match(denied!.text, /403 Forbidden/)
  assert.equal(gone!.status, 503)
  assert.equal(gone!.text, HAPROXY_503)
  assert.equal((JSON.parse(post!.text) as Seen).bodyLength, 70_000)

  const h1 = await httpsGet(port, '/p', { servername: 'site.test', ALPNProtocols: ['http/1.1'] } as Parameters<typeof httpsGet>[2])
  assert.equal(h1.status, 200)
  assert.equal((JSON.parse(h1.text) as Seen).headers['x-alpn'], 'http/1.1')
})

test('plugin on a clear HTTP/2 app (h2c): redirect to https, proxied answers', async (t) => {
  const up = await upstream('up')
  const app = Fastify({ http2: true })
  await app.register(haproxyRouter, { config: config(up.addr, await deadPort()) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { await app.close(); await up.close() })
  const port = (app.server.address() as AddressInfo).port
  const [redirect, proxied] = await h2Requests(`http://127.0.0.1:${port}`, [{ path: '/secure/x' }, { path: '/y' }])
  assert.equal(redirect!.status, 301)
  assert.equal(redirect!.headers.location, `https://127.0.0.1:${port}/secure/x`)
  assert.equal(proxied!.status, 200)
  const seen = JSON.parse(proxied!.text) as Seen
  assert.equal(seen.headers['x-forwarded-proto'], undefined)
  assert.equal(seen.headers['x-sni'], '')
  assert.equal(proxied!.headers['strict-transport-security'], undefined)
})
