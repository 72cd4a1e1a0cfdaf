// Headers an app's hooks set with reply.header() before the gateway took the request: carried onto
// every response the gateway writes (proxied answers, deny, redirect, return, error pages), on
// HTTP/1.1 and HTTP/2; the gateway's head wins on a name both have, framing headers are never
// taken from the app, repeated names keep each line, http-after-response rules see the app's.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { HTTP_DEFAULTS, deadPort, upstream } from './fixtures.js'
import type { Upstream } from './fixtures.js'
import { h2Requests } from '../tls/helpers.js'

const config = (up: Upstream, dead: number, after: boolean): string => `${HTTP_DEFAULTS}frontend fe
    http-request deny if { path_end /deny }
    http-request redirect location /elsewhere if { path_end /redirect }
    http-request return status 200 content-type text/plain hdr x-both returned string ok if { path_end /return }
    ${after ? 'http-after-response set-header x-after "%[res.hdr(x-app)]/%[res.hdr_cnt(x-multi)]"' : ''}
    use_backend gone if { path_end /gone }
    default_backend be
backend be
    server s1 ${up.addr}
backend gone
    retries 0
    server dead 127.0.0.1:${dead}
`

/** The app: one onRequest hook setting headers of each kind the merge treats apart. */
async function appFor (up: Upstream, dead: number, after: boolean, http2: boolean): Promise<{ close: () => Promise<void>, port: number }> {
  // one app type for both: the hook and the plugin do not depend on the server's kind
  const app = (http2 ? Fastify({ http2: true }) : Fastify()) as unknown as FastifyInstance
  app.addHook('onRequest', async (_request, reply) => {
    void reply.header('x-app', 'app').header('x-both', 'app').header('x-num', 7).header('x-multi', ['m1', 'm2'])
      .header('content-length', '999').header('trailer', 'x-t')
  })
  await app.register(haproxyRouter, { config: config(up, dead, after) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { close: async () => { await app.close() }, port: (app.server.address() as AddressInfo).port }
}

interface Answer { status: number, raw: string[], body: string }

async function rawGet (port: number, path: string): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { connection: 'close' }, agent: false }, res => {
      let body = ''
      res.setEncoding('latin1')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode!, raw: res.rawHeaders, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** The values of the head's lines named `name`, in order. */
function lines (raw: string[], name: string): string[] {
  const values: string[] = []
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!)
  return values
}

test("HTTP/1.1: the app's headers on every response the gateway writes; its own win, each line kept", async (t) => {
  // the server's X-Both in mixed case: names are compared without case
  const up = await upstream('up', { headers: { 'X-Both': 'upstream', 'set-cookie': ['u=1', 'u=2'] } })
  const dead = await deadPort()
  t.after(async () => { await up.close() })
  for (const after of [false, true]) {
    const app = await appFor(up, dead, after, false)
    try {
      const answers = {
        proxied: await rawGet(app.port, '/x'),
        deny: await rawGet(app.port, '/deny'),
        redirect: await rawGet(app.port, '/redirect'),
        return: await rawGet(app.port, '/return'),
        gone: await rawGet(app.port, '/gone')
      }
      const status = Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, a.status]))
      assert.deepEqual(status, { proxied: 200, deny: 403, redirect: 302, return: 200, gone: 503 })
      for (const [kind, a] of Object.entries(answers)) {
        const what = `${kind}${after ? ' (http-after-response)' : ''}`
        assert.deepEqual(lines(a.raw, 'x-app'), ['app'], what)
        assert.deepEqual(lines(a.raw, 'x-num'), ['7'], what)
        assert.deepEqual(lines(a.raw, 'x-multi'), ['m1', 'm2'], `${what}: one line per value`)
        assert.deepEqual(lines(a.raw, 'trailer'), [], `${what}: framing headers are not the app's to set`)
        for (const length of lines(a.raw, 'content-length')) assert.equal(length, String(Buffer.byteLength(a.body, 'latin1')), what)
        if (after) assert.deepEqual(lines(a.raw, 'x-after'), ['app/2'], `${what}: the rules see the app's headers`)
      }
      assert.deepEqual(lines(answers.proxied.raw, 'x-both'), ['upstream'], "the server's header wins over the app's")
      assert.deepEqual(lines(answers.proxied.raw, 'set-cookie'), ['u=1', 'u=2'], "the server's repeated header keeps each line")
      assert.deepEqual(lines(answers.return.raw, 'x-both'), ['returned'], "a return's own header wins over the app's")
      assert.deepEqual(lines(answers.deny.raw, 'x-both'), ['app'])
      assert.deepEqual(lines(answers.redirect.raw, 'location'), ['/elsewhere'])
    } finally {
      await app.close()
    }
  }
})

test("HTTP/2 (h2c): the app's headers on proxied answers and the gateway's own", async (t) => {
  const up = await upstream('up', { headers: { 'X-Both': 'upstream', 'set-cookie': ['u=1', 'u=2'] } })
  const dead = await deadPort()
  const app = await appFor(up, dead, false, true)
  t.after(async () => { await app.close(); await up.close() })
  const [proxied, deny, gone] = await h2Requests(`http://127.0.0.1:${app.port}`, [{ path: '/x' }, { path: '/deny' }, { path: '/gone' }])
  assert.deepEqual([proxied!.status, deny!.status, gone!.status], [200, 403, 503])
  for (const a of [proxied!, deny!, gone!]) {
    assert.equal(a.headers['x-app'], 'app')
    assert.equal(a.headers['x-num'], '7')
    assert.equal(a.headers['x-multi'], 'm1, m2')
    assert.equal(a.headers.trailer, undefined)
    assert.notEqual(a.headers['content-length'], '999')
  }
  assert.equal(proxied!.headers['x-both'], 'upstream')
  assert.deepEqual(proxied!.headers['set-cookie'], ['u=1', 'u=2'])
  assert.equal(deny!.headers['x-both'], 'app')
})
