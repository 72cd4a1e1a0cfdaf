// Connections that end before a full request, on an HTTP/1 bind, a TLS bind and a clear
// `proto h2` bind, through real HAProxy 2.6.12 and our CLI, with `option httplog` alone, with
// `option dontlognull`, with an `error-log-format`, and with both. What HAProxy does (observed):
// these are `<BADREQ>` lines, written in the `error-log-format` when there is one (TLS handshake
// failures too); an HTTP/2 connection that never completed its preface is 0 `PR--`; `option
// dontlognull` drops the connections that sent nothing inside TLS (a TLS client that left before
// its handshake included, but not a failed handshake). The lines must agree except times, ports
// and the connection counters.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import tls from 'node:tls'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, skipWithoutHaproxy, startProxy } from '../differential/harness.js'
import { syslogServer, type Syslog } from './syslog.js'
import { waitListening } from '../gateway/fixtures.js'

type Bind = 'http' | 'tls' | 'h2'

interface Case { name: string, bind: Bind, data: string, closeAfterMs: number | null, handshake?: boolean }

// The cases that close do so within 100 ms, well before `timeout http-request` (1 s): a
// loaded machine must not let the timer win the race (seen at 300 ms with two suites running).
const CASES: Case[] = [
  { name: 'connect and close', bind: 'http', data: '', closeAfterMs: 0 },
  { name: 'half a head, then close', bind: 'http', data: 'GET / HT', closeAfterMs: 100 },
  { name: 'garbage', bind: 'http', data: 'GARBAGE\x01\r\n\r\n', closeAfterMs: null },
  { name: 'nothing until timeout http-request', bind: 'http', data: '', closeAfterMs: null },
  { name: 'half a head until timeout http-request', bind: 'http', data: 'GET / HTTP/1.1\r\n', closeAfterMs: null },
  { name: 'TLS: plain HTTP (handshake failure)', bind: 'tls', data: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', closeAfterMs: null },
  { name: 'TLS: close before the handshake', bind: 'tls', data: '', closeAfterMs: 0 },
  { name: 'TLS: handshake, then close', bind: 'tls', data: '', closeAfterMs: 50, handshake: true },
  { name: 'TLS: handshake, then garbage', bind: 'tls', data: 'GARBAGE\x01\r\n\r\n', closeAfterMs: null, handshake: true },
  { name: 'TLS: handshake, then nothing until timeout http-request', bind: 'tls', data: '', closeAfterMs: null, handshake: true },
  { name: 'h2: connect and close', bind: 'h2', data: '', closeAfterMs: 0 },
  { name: 'h2: HTTP/1 instead of the preface', bind: 'h2', data: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', closeAfterMs: null },
  { name: 'h2: half the preface, then close', bind: 'h2', data: 'PRI * HTTP/2.0\r\n', closeAfterMs: 100 },
  { name: 'h2: the preface, then close', bind: 'h2', data: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', closeAfterMs: 100 }
]

const ERROR_FORMAT = '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr %ST %B %CC %CS %tsc %sq/%bq %{+Q}r %HM|%HU|%HV|%HP fc_err=%[fc_err] %[fc_err_str] ssl=%[ssl_fc_err]'

interface Variant { dontlognull: boolean, errorFormat: boolean }

function config (ports: Record<Bind, number>, log: number, pem: string, v: Variant): string {
  return `
global
    nbthread 1
    log 127.0.0.1:${log} format raw local0
defaults
    mode http
    log global
    option httplog
${v.dontlognull ? '    option dontlognull\n' : ''}${v.errorFormat ? `    error-log-format "${ERROR_FORMAT}"\n` : ''}    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-request 1s
frontend fe
    bind 127.0.0.1:${ports.http}
    bind 127.0.0.1:${ports.tls} ssl crt ${pem}
    bind 127.0.0.1:${ports.h2} proto h2
    default_backend be
backend be
    server s 127.0.0.1:9
`
}

/** Plays a case on a new connection; resolves with its client port once the proxy closed it (or after a while). */
async function play (c: Case, port: number): Promise<number> {
  const socket = c.handshake === true
    ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
    : net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.resume()
  await new Promise(resolve => socket.once(c.handshake === true ? 'secureConnect' : 'connect', resolve))
  const local = socket.localPort!
  if (c.data !== '') socket.write(c.data)
  if (c.closeAfterMs !== null) setTimeout(() => socket.end(), c.closeAfterMs)
  await new Promise<void>(resolve => {
    socket.once('close', () => resolve())
    setTimeout(() => { socket.destroy(); resolve() }, 6000).unref()
  })
  return local
}

/** A line without what differs between runs: times, ports, the connection counters. */
function normalized (line: string): string {
  return line.trimEnd()
    .replace(/^127\.0\.0\.1:\d+ \[[^\]]+\]/, 'CLIENT [DATE]')
    .replace(/-1\/-1\/-1\/-1\/\d+/, '-1/-1/-1/-1/T')
    .replace(/\d+\/\d+\/\d+\/\d+\/\d+ (\d+\/\d+ "<BADREQ>")/, 'COUNTERS $1')
}

async function run (label: 'haproxy' | 'ours', syslog: Syslog, pem: string, v: Variant): Promise<string[]> {
  const ports = { http: 0, tls: await freePort(), h2: await freePort() }
  const proxy = await startProxy(label, (port) => { ports.http = port; return config(ports, syslog.port, pem, v) })
  try {
    // the CLI listens on its binds one after the other
    for (const port of [ports.tls, ports.h2]) await waitListening(port)
    const out: string[] = []
    for (const c of CASES) {
      const local = await play(c, ports[c.bind])
      const mine = (l: string): boolean => l.startsWith(`127.0.0.1:${local} `)
      // a line comes at the close, or never: wait a while for it
      const deadline = Date.now() + 800
      while (!syslog.lines.some(mine) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
      out.push(`${c.name}: ${syslog.lines.filter(mine).map(normalized).join(' | ') || '(no line)'}`)
    }
    return out
  } finally {
    await proxy.stop()
  }
}

const VARIANTS: Variant[] = [
  { dontlognull: false, errorFormat: false },
  { dontlognull: true, errorFormat: false },
  { dontlognull: false, errorFormat: true },
  { dontlognull: true, errorFormat: true }
]

for (const v of VARIANTS) {
  const name = [v.dontlognull ? 'option dontlognull' : '', v.errorFormat ? 'error-log-format' : ''].filter(s => s !== '').join(', ') || 'option httplog'
  test(`connections closed before a full request (${name}): the lines of real HAProxy and ours agree`, { skip: skipWithoutHaproxy }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-error-lines-'))
    const pem = join(dir, 'site.pem')
    const fixtures = new URL('../runtime/fixtures/', import.meta.url)
    writeFileSync(pem, Buffer.concat([readFileSync(new URL('localhost.crt', fixtures)), readFileSync(new URL('localhost.key', fixtures))]))
    const theirs = await syslogServer()
    const ours = await syslogServer()
    t.after(async () => { await Promise.all([theirs.close(), ours.close()]); rmSync(dir, { recursive: true, force: true }) })
    const expected = await run('haproxy', theirs, pem, v)
    const got = await run('ours', ours, pem, v)
    assert.deepEqual(got, expected)
    // what HAProxy does, so that the comparison means something
    const line = (n: string): string => expected.find(l => l.startsWith(`${n}: `))!
    if (v.errorFormat) {
      assert.match(line('garbage'), /CLIENT \[DATE\] fe fe\/<NOSRV> -1\/-1\/-1\/-1 400 0 - - PR-- 0\/0 "<BADREQ>" <BADREQ>\|<BADREQ>\|<BADREQ>\|<BADREQ> fc_err=0 Success ssl=-$/)
      assert.match(line('TLS: plain HTTP (handshake failure)'), /fe~ fe\/<NOSRV> -1\/-1\/-1\/-1 0 0 - - PR-- 0\/0 "<BADREQ>" <BADREQ>\|<BADREQ>\|<BADREQ>\|<BADREQ> fc_err=34 SSL handshake failure/)
    } else {
      assert.match(line('h2: connect and close'), v.dontlognull ? /\(no line\)/ : / 0 0 - - PR-- COUNTERS 0\/0 "<BADREQ>"/)
      assert.match(line('TLS: handshake, then garbage'), / 400 0 - - PR-- COUNTERS 0\/0 "<BADREQ>"/)
    }
    assert.match(line('TLS: close before the handshake'), v.dontlognull ? /\(no line\)/ : /Connection closed during SSL handshake/)
    assert.match(line('h2: the preface, then close'), /\(no line\)/)
  })
}
