// Response compression in the plugin (requests the gateway proxies from a Fastify app): the
// body streams through zlib piece by piece (a piece the server sent reaches the client
// compressed before the server ends its answer), large bodies keep their bytes through the
// client's backpressure, and a client gone mid-answer leaves the gateway serving. When HAProxy
// compresses, and how, is compared with real HAProxy in test/differential/compression.test.ts.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import zlib from 'node:zlib'
import { createHash } from 'node:crypto'
import { Writable, pipeline } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { gatewayApp, get, upstream, waitFor, HTTP_DEFAULTS } from './fixtures.js'

const config = (addr: string): string => HTTP_DEFAULTS + `
frontend fe
    bind 127.0.0.1:8080
    compression algo gzip
    compression type application/json text/plain
    default_backend be
backend be
    compression offload
    server up ${addr}
`

/** An upstream whose answers the test drives: `hold` answers wait for `release()`. */
async function drivenUpstream (): Promise<{ addr: string, release (): void, close (): Promise<void> }> {
  let release = (): void => {}
  const big = Buffer.alloc(4 * 1024 * 1024)
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain')
    if (req.url === '/hold') {
      res.writeHead(200)
      res.write('first piece, ')
      release = () => { res.end('last piece') }
      return
    }
    // 4 MiB that compresses little, in 64 KiB writes
    res.writeHead(200, { 'content-length': big.length, 'x-sha256': createHash('sha256').update(big).digest('hex') })
    let at = 0
    const more = (): void => {
      while (at < big.length) {
        const piece = big.subarray(at, at + 65536)
        at += piece.length
        if (!res.write(piece)) { res.once('drain', more); return }
      }
      res.end()
    }
    more()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    addr: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    release: () => { release() },
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) }
  }
}

test('the plugin compresses what it proxies, and offload keeps Accept-Encoding from the server', async (t) => {
  const up = await upstream('up')
  const { app, port } = await gatewayApp(config(up.addr))
  t.after(async () => { await app.close(); await up.close() })
  const r = await get(port, '/json', { 'accept-encoding': 'gzip' })
  assert.equal(r.status, 200)
  assert.equal(r.headers['content-encoding'], 'gzip')
  assert.equal(r.headers.vary, 'Accept-Encoding')
  assert.equal(r.headers['content-length'], undefined)
  const seen = JSON.parse(zlib.gunzipSync(r.body).toString()) as { url: string, headers: Record<string, string> }
  assert.equal(seen.url, '/json')
  assert.equal(seen.headers['accept-encoding'], undefined, 'offload: the server never sees Accept-Encoding')
  const plain = await get(port, '/json')
  assert.equal(plain.headers['content-encoding'], undefined)
  assert.equal((JSON.parse(plain.text) as { url: string }).url, '/json')
})

test('a piece the server sent reaches the client compressed before the server ends', async (t) => {
  const up = await drivenUpstream()
  const { app, port } = await gatewayApp(config(up.addr))
  t.after(async () => { await app.close(); await up.close() })
  const inflate = zlib.createGunzip()
  let text = ''
  inflate.on('data', (d: Buffer) => { text += d.toString() })
  const done = new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/hold', headers: { 'accept-encoding': 'gzip' }, agent: false }, res => {
      res.pipe(inflate)
      inflate.on('end', () => resolve(res))
    }).on('error', reject)
  })
  // the server holds its answer open: the first piece must come through zlib's flush
  await waitFor(() => text === 'first piece, ', 'the first piece, decompressed, while the server holds the rest')
  up.release()
  const res = await done
  assert.equal(res.headers['content-encoding'], 'gzip')
  assert.equal(text, 'first piece, last piece')
})

test('4 MiB through a slow reader: every byte, in order; a client gone mid-answer leaves the gateway serving', async (t) => {
  const up = await drivenUpstream()
  const { app, port } = await gatewayApp(config(up.addr))
  t.after(async () => { await app.close(); await up.close() })
  const sha = await new Promise<{ got: string, want: string }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/big', headers: { 'accept-encoding': 'gzip' }, agent: false }, res => {
      assert.equal(res.headers['content-encoding'], 'gzip')
      const hash = createHash('sha256')
      // a slow reader: each decompressed piece is taken a timer tick later, so the client's
      // window fills and the gateway must wait for it (not buffer, not drop)
      const slow = new Writable({
        highWaterMark: 1024,
        write (chunk: Buffer, _enc, next) { hash.update(chunk); setTimeout(next, 0) }
      })
      pipeline(res, zlib.createGunzip(), slow, (err) => {
        if (err) reject(err)
        else resolve({ got: hash.digest('hex'), want: String(res.headers['x-sha256']) })
      })
    }).on('error', reject)
  })
  assert.equal(sha.got, sha.want)
  // a client that leaves after the first compressed bytes
  await new Promise<void>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/big', headers: { 'accept-encoding': 'gzip' }, agent: false }, res => {
      res.once('data', () => { req.destroy(); resolve() })
    })
    req.on('error', (err) => { if (!req.destroyed) reject(err) })
  })
  const after = await get(port, '/big', { 'accept-encoding': 'gzip' })
  assert.equal(createHash('sha256').update(zlib.gunzipSync(after.body)).digest('hex'), after.headers['x-sha256'])
})

test('tune.comp.maxlevel is zlib\'s level, for proxied answers and for the frontend cache\'s hits', async (t) => {
  // text from a small vocabulary: level 9 finds matches that level 1 leaves
  const words = ['gateway', 'haproxy', 'backend', 'frontend', 'server', 'balance', 'check', 'stats']
  let seed = 7
  const text = Array.from({ length: 20000 }, () => { seed = (seed * 1103515245 + 12345) % 2147483648; return words[(seed >>> 16) % words.length] }).join(' ')
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`
  const withLevel = (global: string): string => global + HTTP_DEFAULTS + `
frontend fe
    bind 127.0.0.1:8080
    compression algo gzip
    http-request cache-use c
    http-response cache-store c
    default_backend be
backend be
    server up ${addr}
cache c
    total-max-size 64
    max-age 60
`
  const sizes = async (global: string): Promise<{ proxied: number, hit: number }> => {
    const { app, port } = await gatewayApp(withLevel(global))
    try {
      const miss = await get(port, '/t', { 'accept-encoding': 'gzip' })
      const hit = await get(port, '/t', { 'accept-encoding': 'gzip' })
      assert.equal(hit.headers.age !== undefined, true, 'the second answer comes from the cache')
      for (const r of [miss, hit]) {
        assert.equal(r.headers['content-encoding'], 'gzip')
        assert.equal(zlib.gunzipSync(r.body).toString(), text)
      }
      return { proxied: miss.body.length, hit: hit.body.length }
    } finally {
      await app.close()
    }
  }
  t.after(async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) })
  const fast = await sizes('')
  const best = await sizes('global\n    tune.comp.maxlevel 9\n')
  assert.ok(best.proxied < fast.proxied, `proxied: level 9 ${best.proxied} bytes, level 1 ${fast.proxied}`)
  assert.ok(best.hit < fast.hit, `hits: level 9 ${best.hit} bytes, level 1 ${fast.hit}`)
})
