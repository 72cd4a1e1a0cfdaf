// Connections that end before a request began, through real HAProxy and through our CLI: HAProxy
// logs each as `<BADREQ>` (400 `CR--` when the client leaves, 408 `cR--` at `timeout
// http-request`), and `option dontlognull` drops those that sent nothing at all. The lines must
// agree field for field except times, ports and the connection counters (which depend on when
// each side saw the other connections close).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { makeCa, makeLeaf } from '../tls/certs.js'
import { freePort, skipWithoutHaproxy, startProxy } from '../differential/harness.js'
import { waitFor, waitListening } from '../gateway/fixtures.js'
import { bothProxies, syslogServer, type Syslog } from './syslog.js'

function config (port: number, log: number, dontlognull: boolean, bindOptions = '', clientTimeout = '5s'): string {
  return `
global
    nbthread 1
    log 127.0.0.1:${log} format raw local0
defaults
    mode http
    log global
    option httplog
${dontlognull ? '    option dontlognull\n' : ''}    timeout connect 1s
    timeout client ${clientTimeout}
    timeout server 5s
    timeout http-request 300ms
frontend fe
    bind 127.0.0.1:${port}${bindOptions}
    default_backend be
backend be
    server s 127.0.0.1:9
`
}

/** Opens a connection, sends `data` (if any), closes after `closeAfterMs` or waits for the proxy to close. */
async function connection (port: number, data: string, closeAfterMs: number | null): Promise<number> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let local = 0
    socket.on('error', () => {})
    socket.on('data', () => {})
    socket.once('connect', () => {
      local = socket.localPort!
      if (data !== '') socket.write(data)
      if (closeAfterMs !== null) setTimeout(() => socket.end(), closeAfterMs)
    })
    socket.on('close', () => resolve(local))
    setTimeout(() => { socket.destroy(); reject(new Error('the proxy did not close')) }, 8000).unref()
  })
}

interface Case { name: string, data: string, closeAfterMs: number | null }

const CASES: Case[] = [
  { name: 'connect and close', data: '', closeAfterMs: 0 },
  { name: 'half a request head, then close', data: 'GET / HT', closeAfterMs: 100 },
  { name: 'nothing until timeout http-request', data: '', closeAfterMs: null }
]

function fields (line: string): string[] {
  const m = /^127\.0\.0\.1:\d+ \[[^\]]+\] (\S+) (\S+) (-?\d+)\/(-?\d+)\/(-?\d+)\/(-?\d+)\/(\d+) (\d+) (\d+) (\S+) (\S+) (\S{4}) \d+\/\d+\/\d+\/\d+\/\d+ (\d+\/\d+) "(.*)"\n$/.exec(line)
  assert.ok(m, `not an httplog line: ${JSON.stringify(line)}`)
  const [, ft, bs, tR, tw, tc, tr, , st, bytes, cc, cs, tsc, queues, r] = m
  return [ft!, bs!, tR!, tw!, tc!, tr!, st!, bytes!, cc!, cs!, tsc!, queues!, r!]
}

/** Each case's line (null when none came within a while after its close), by client port. */
async function run (label: 'haproxy' | 'ours', syslog: Syslog, dontlognull: boolean, cases = CASES, bindOptions = ''): Promise<Array<string | null>> {
  const proxy = await startProxy(label, (port) => config(port, syslog.port, dontlognull, bindOptions))
  try {
    // the harness's readiness probe is a connection without a request too
    if (!dontlognull && bindOptions === '') await syslog.wait(1, 8000)
    const out: Array<string | null> = []
    for (const c of cases) {
      const port = await connection(proxy.port, c.data, c.closeAfterMs)
      const mine = (l: string): boolean => l.startsWith(`127.0.0.1:${port} `)
      const deadline = Date.now() + 1500
      while (!syslog.lines.some(mine) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
      out.push(syslog.lines.find(mine) ?? null)
    }
    return out
  } finally {
    await proxy.stop()
  }
}

for (const dontlognull of [false, true]) {
  test(`connections without a request${dontlognull ? ', option dontlognull' : ''}: real HAProxy and ours log the same`, { skip: skipWithoutHaproxy }, async (t) => {
    const theirs = await syslogServer()
    const ours = await syslogServer()
    t.after(async () => { await Promise.all([theirs.close(), ours.close()]) })
    const expected = await run('haproxy', theirs, dontlognull)
    const got = await run('ours', ours, dontlognull)
    for (let i = 0; i < CASES.length; i++) {
      const e = expected[i]!
      const g = got[i]!
      const what = `${CASES[i]!.name}\n  haproxy: ${String(e)}  ours:    ${String(g)}`
      assert.equal(g === null, e === null, what)
      if (e !== null) assert.deepEqual(fields(g), fields(e), what)
    }
    // what HAProxy does here, so that the comparison means something
    assert.deepEqual(expected.map(l => l === null ? null : fields(l)[10]), dontlognull ? [null, 'CR--', null] : ['CR--', 'CR--', 'cR--'])
  })
}

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
const SETTINGS = '\x00\x00\x00\x04\x00\x00\x00\x00\x00'

/**
 * An HTTP/2 connection (ALPN h2 on `tls`) sending `data`, then closing it after 100 ms (`end`:
 * FIN, `reset`: RST) or waiting for the proxy to close it (`wait`); its client port.
 */
async function h2Connection (port: number, tls: boolean, data: string, then: 'end' | 'reset' | 'wait'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const raw = connect(port, '127.0.0.1')
    raw.on('error', () => {})
    const socket = tls ? tlsConnect({ socket: raw, servername: 'site.test', rejectUnauthorized: false, ALPNProtocols: ['h2'] }) : raw
    let local = 0
    socket.on('error', () => {})
    socket.on('data', () => {})
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      local = raw.localPort!
      if (data !== '') socket.write(Buffer.from(data, 'latin1'))
      if (then !== 'wait') setTimeout(() => { if (then === 'end') socket.end(); else raw.resetAndDestroy() }, 100)
    })
    raw.on('close', () => resolve(local))
    setTimeout(() => { raw.destroy(); reject(new Error('the proxy did not close')) }, 8000).unref()
  })
}

test('HTTP/2 connections that open no stream, clear `proto h2` and TLS `alpn h2`: <BADREQ> lines where real HAProxy writes them', { skip: skipWithoutHaproxy }, async (t) => {
  const ca = makeCa()
  const pem = join(ca.dir, 'site.pem')
  makeLeaf(ca, pem, 'site.test', ['site.test'])
  t.after(() => { rmSync(ca.dir, { recursive: true, force: true }) })
  const secure = await freePort()
  // a clear `proto h2` bind and a TLS `alpn h2` one; `timeout client` 1 s bounds the waits
  const h2Config = (log: number) => (port: number): string => config(port, log, false, ` proto h2\n    bind 127.0.0.1:${secure} ssl crt ${pem} alpn h2`, '1s')
  const cases: Array<[string, string, 'end' | 'reset' | 'wait']> = [
    ['the preface, then close', PREFACE, 'end'],
    ['the preface and SETTINGS, then close', PREFACE + SETTINGS, 'end'],
    ['half the preface, then close', PREFACE.slice(0, 10), 'end'],
    ['nothing, then close', '', 'end'],
    ['half the preface, then a reset', PREFACE.slice(0, 10), 'reset'],
    ['nothing until the timeout', '', 'wait'],
    ['the preface until the timeout', PREFACE, 'wait'],
    ['half the preface until the timeout', PREFACE.slice(0, 10), 'wait'],
    ['an HTTP/1 request of more than 24 bytes', 'GET / HTTP/1.1\r\nHost: a\r\nX: yyyyyyyyyyyy\r\n\r\n', 'wait']
  ]
  const { haproxy: expected, ours: got } = await bothProxies(h2Config, async (proxyPort, syslog) => {
    await waitListening(secure)
    const out: string[] = []
    for (const tls of [false, true]) {
      for (const [name, data, then] of cases) {
        const port = await h2Connection(tls ? secure : proxyPort, tls, data, then)
        const mine = (l: string): boolean => l.startsWith(`127.0.0.1:${port} `)
        // a line comes at the close or not at all: wait a while after it
        const deadline = Date.now() + 500
        while (!syslog.lines.some(mine) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
        const line = syslog.lines.find(mine)
        out.push(`${tls ? 'alpn h2' : 'proto h2'}, ${name}: ${line === undefined ? '(none)' : line.replace(/^127\.0\.0\.1:\d+ \[[^\]]+\]/, 'CLIENT [DATE]').replace(/(-1\/-1\/-1\/-1)\/\d+/, '$1/T').trimEnd()}`)
      }
    }
    return out
  })
  assert.deepEqual(got, expected)
  // what HAProxy does, so that the comparison means something
  const logged = expected.filter(l => !l.endsWith('(none)')).map(l => l.slice(0, l.indexOf(':')) + l.slice(l.indexOf(':'), l.indexOf(': CLIENT')))
  assert.deepEqual(logged, ['proto h2', 'alpn h2'].flatMap(b => [`${b}, half the preface, then close`, `${b}, nothing, then close`, `${b}, half the preface, then a reset`, `${b}, an HTTP/1 request of more than 24 bytes`]))
  assert.match(expected[2]!, /fe fe\/<NOSRV> -1\/-1\/-1\/-1\/T 0 0 - - PR-- 1\/1\/0\/0\/0 0\/0 "<BADREQ>"$/)
})

test('TLS binds: failed handshakes and a handshake without a request, logged as real HAProxy logs them', { skip: skipWithoutHaproxy }, async (t) => {
  const ca = makeCa()
  const pem = join(ca.dir, 'site.pem')
  makeLeaf(ca, pem, 'site.test', ['site.test'])
  t.after(() => { rmSync(ca.dir, { recursive: true, force: true }) })
  const tlsConfig = (log: number) => (port: number): string => `
global
    nbthread 1
    log 127.0.0.1:${log} format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port} ssl crt ${pem}
    default_backend be
backend be
    server s 127.0.0.1:9
`
  const cases: Array<{ name: string, run: (port: number) => Promise<number> }> = [
    { name: 'plain HTTP to the TLS port', run: async (port) => await connection(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', null) },
    { name: 'connect and close before the handshake', run: async (port) => await connection(port, '', 0) },
    {
      name: 'a handshake, then close without a request',
      run: async (port) => await new Promise<number>((resolve, reject) => {
        const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'site.test', rejectUnauthorized: false })
        let local = 0
        socket.on('error', reject)
        socket.once('secureConnect', () => { local = socket.localPort!; setTimeout(() => socket.destroy(), 50) })
        socket.on('close', () => resolve(local))
      })
    }
  ]
  const { haproxy: expected, ours: got } = await bothProxies(tlsConfig, async (proxyPort, syslog) => {
    // the readiness probe: a connection closed before its handshake
    await syslog.wait(1, 8000)
    const out: string[] = []
    for (const c of cases) {
      const port = await c.run(proxyPort)
      const mine = (l: string): boolean => l.startsWith(`127.0.0.1:${port} `)
      const deadline = Date.now() + 3000
      while (!syslog.lines.some(mine) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
      out.push((syslog.lines.find(mine) ?? `(no line) ${c.name}`).replace(/^127\.0\.0\.1:\d+ \[[^\]]+\]/, 'CLIENT [DATE]').replace(/(-1\/-1\/-1\/-1)\/\d+/, '$1/T').replace(/\d+\/\d+\/\d+\/\d+\/\d+ (\d+\/\d+ "<BADREQ>")/, 'COUNTERS $1').trimEnd())
    }
    return out
  })
  assert.deepEqual(got, expected)
  assert.deepEqual(expected, [
    'CLIENT [DATE] fe/1: SSL handshake failure',
    'CLIENT [DATE] fe/1: Connection closed during SSL handshake',
    'CLIENT [DATE] fe~ fe/<NOSRV> -1/-1/-1/-1/T 400 0 - - CR-- COUNTERS 0/0 "<BADREQ>"'
  ])
})

test('TLS binds: a failed handshake names its own bind, by its `name` or its number, as real HAProxy does', { skip: skipWithoutHaproxy }, async (t) => {
  const ca = makeCa()
  const pem = join(ca.dir, 'site.pem')
  makeLeaf(ca, pem, 'site.test', ['site.test'])
  const theirs = await syslogServer()
  const ours = await syslogServer()
  t.after(async () => { await Promise.all([theirs.close(), ours.close()]); rmSync(ca.dir, { recursive: true, force: true }) })
  const run = async (label: 'haproxy' | 'ours', syslog: Syslog): Promise<string[]> => {
    const second = await freePort()
    const third = await freePort()
    const proxy = await startProxy(label, (port) => `
global
    nbthread 1
    log 127.0.0.1:${syslog.port} format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port} ssl crt ${pem} name first
    bind 127.0.0.1:${second} ssl crt ${pem}
    bind 127.0.0.1:${third} ssl crt ${pem} name third
    default_backend be
backend be
    server s 127.0.0.1:9
`)
    try {
      // the readiness probe: a connection closed before its handshake
      await syslog.wait(1, 8000)
      const out: string[] = []
      for (const port of [proxy.port, second, third]) {
        const local = await connection(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', null)
        const mine = (l: string): boolean => l.startsWith(`127.0.0.1:${local} `)
        await waitFor(() => syslog.lines.some(mine), `the line of the handshake on port ${port}`, 8000)
        out.push(syslog.lines.find(mine)!.replace(/^127\.0\.0\.1:\d+ \[[^\]]+\]/, 'CLIENT [DATE]').trimEnd())
      }
      return out
    } finally {
      await proxy.stop()
    }
  }
  const expected = await run('haproxy', theirs)
  assert.deepEqual(await run('ours', ours), expected)
  assert.deepEqual(expected, [
    'CLIENT [DATE] fe/first: SSL handshake failure',
    'CLIENT [DATE] fe/2: SSL handshake failure',
    'CLIENT [DATE] fe/third: SSL handshake failure'
  ])
})
