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
import { waitFor } from '../gateway/fixtures.js'
import { bothProxies, syslogServer, type Syslog } from './syslog.js'

function config (port: number, log: number, dontlognull: boolean, bindOptions = ''): string {
  return `
global
    nbthread 1
    log 127.0.0.1:${log} format raw local0
defaults
    mode http
    log global
    option httplog
${dontlognull ? '    option dontlognull\n' : ''}    timeout connect 1s
    timeout client 5s
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

test('an HTTP/2 connection that opens no stream is no <BADREQ>: real HAProxy and ours log nothing', { skip: skipWithoutHaproxy }, async (t) => {
  const theirs = await syslogServer()
  const ours = await syslogServer()
  t.after(async () => { await Promise.all([theirs.close(), ours.close()]) })
  // the client preface and an empty SETTINGS frame, then close
  const cases: Case[] = [{ name: 'h2 preface and settings', data: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00', closeAfterMs: 100 }]
  assert.deepEqual(await run('haproxy', theirs, false, cases, ' proto h2'), [null])
  assert.deepEqual(await run('ours', ours, false, cases, ' proto h2'), [null])
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
