// A proxy without `mode` (nor one in its defaults): HAProxy 2.6 runs it in TCP mode, and so does
// the CLI (raw bytes pass through untouched, `-c` says what HAProxy says); the plugin, embedded in
// an HTTP application, serves it as HTTP and warns that the CLI and HAProxy would run it as TCP.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { parseConfig } from '../../lib/config/parse.js'
import { checkConfig } from '../../lib/check.js'
import { skipWithoutHaproxy, startBoth, startProxy, startRawUpstream, startUpstream } from '../differential/harness.js'
import { exchange } from './fixtures.js'

const modeless = (upstream: number) => (port: number): string => `defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:${port}
    option httplog
    default_backend be

backend be
    server s1 127.0.0.1:${upstream}
`

/** Bytes that are no HTTP request: an HTTP proxy would answer 400 and close. */
const NOT_HTTP = Buffer.from('NOT HTTP \x00\x01\xff\r\n\r\n', 'latin1')

async function echoUpstream (): Promise<{ port: number, close (): Promise<void> }> {
  return await startRawUpstream((s) => {
    s.on('data', d => s.write(Buffer.concat([Buffer.from('echo:'), d])))
    s.on('end', () => s.end())
  })
}

test('the CLI serves a mode-less proxy in TCP mode: raw bytes pass through untouched', async (t) => {
  const up = await echoUpstream()
  t.after(() => up.close())
  const ours = await startProxy('ours', modeless(up.port))
  t.after(() => ours.stop())
  const got = await exchange(ours.port, NOT_HTTP)
  assert.deepEqual(got, Buffer.concat([Buffer.from('echo:'), NOT_HTTP]))
})

test('real HAProxy passes the same bytes through the same mode-less config', { skip: skipWithoutHaproxy }, async (t) => {
  const up = await echoUpstream()
  t.after(() => up.close())
  const both = await startBoth(modeless(up.port))
  t.after(() => both.stop())
  const [h, o] = await Promise.all([exchange(both.haproxy.port, NOT_HTTP), exchange(both.ours.port, NOT_HTTP)])
  assert.deepEqual(o, h)
})

test('-c on a mode-less proxy says what HAProxy says: httplog falls back to tcplog, no word about the mode', () => {
  const config = parseConfig(modeless(1)(2), { modeless: 'tcp' })
  assert.deepEqual(config.proxies.map(p => [p.name, p.mode]), [['fe', 'tcp'], ['be', 'tcp']])
  const warnings = checkConfig(config).filter(d => d.level === 'warning').map(d => d.message)
  assert.deepEqual(warnings, ["'option httplog' not usable with frontend 'fe' (needs 'mode http'). Falling back to 'option tcplog'."])
})

test('the plugin serves a mode-less proxy as HTTP, warning that the CLI and HAProxy run it in TCP mode', async (t) => {
  const up = await startUpstream('up', (req, res) => { res.end(`upstream saw ${req.method} ${req.url}`) })
  t.after(() => up.close())
  const logged: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { logged.push(chunk.toString()); done() } })
  const app = Fastify({ logger: { level: 'warn', stream } })
  await app.register(haproxyRouter, { config: modeless(up.port)(0).replace(/bind \S+/, 'bind 127.0.0.1:1') })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  const res = await fetch(`http://127.0.0.1:${port}/x`)
  assert.equal(await res.text(), 'upstream saw GET /x')
  const text = logged.join('')
  assert.match(text, /frontend 'fe' has no 'mode'.*HAProxy 2\.6 and the fastify-haproxy CLI run it in TCP mode.*runs it as 'mode http'/)
  assert.match(text, /backend 'be' has no 'mode'/)
})
