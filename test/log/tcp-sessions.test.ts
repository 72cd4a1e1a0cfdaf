// TCP session logs (`mode tcp` with `option tcplog` or a `log-format`), through real HAProxy and
// through our CLI on the same config and the same connections, faults included: a session that
// ends well, a refused server, a client timeout, a server timeout, a content rule's reject. The
// lines must agree field for field except times and ports. Plus `option httplog` on a TCP
// frontend: HAProxy warns and logs `option tcplog` lines.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliPath, freePort, skipWithoutHaproxy, startProxy, startRawUpstream, type Proxied } from '../differential/harness.js'
import { syslogServer, type Syslog } from './syslog.js'

/** `vtest log/wrong_ip_port_logging`'s format: the front address must survive the connection. */
const JSON_FORMAT = '{\\"dip\\":\\"%fi\\",\\"dport\\":\\"%fp\\",\\"c_ip\\":\\"%ci\\",\\"c_port\\":\\"%cp\\",\\"fe_name\\":\\"%ft\\",\\"be_name\\":\\"%b\\",\\"s_name\\":\\"%s\\",\\"ts\\":\\"%ts\\",\\"bytes_read\\":\\"%B\\",\\"bytes_up\\":\\"%U\\"}'

function config (ports: { fe: number, json: number, log: number, echo: number, silent: number, dead: number }): string {
  return `
global
    nbthread 1
    log 127.0.0.1:${ports.log} format raw local0
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 200ms
    timeout client 5s
    timeout server 5s
    retries 1
frontend fe
    bind 127.0.0.1:${ports.fe}
    tcp-request inspect-delay 1s
    tcp-request content reject if { req.payload(0,6) -m str REJECT }
    use_backend dead if { req.payload(0,4) -m str DEAD }
    use_backend silent if { req.payload(0,4) -m str SLOW }
    use_backend clientwait if { req.payload(0,4) -m str IDLE }
    default_backend echo
frontend json
    bind 127.0.0.1:${ports.json}
    log-format "${JSON_FORMAT}"
    timeout client 50ms
    default_backend silent
backend echo
    server e 127.0.0.1:${ports.echo}
backend dead
    server d 127.0.0.1:${ports.dead}
backend silent
    timeout server 200ms
    server s 127.0.0.1:${ports.silent}
backend clientwait
    timeout server 5s
    server s 127.0.0.1:${ports.silent}
`
}

/** Sends `data`, waits for the proxy to close (`end`: half-closes once the answer came); resolves with the client port. */
async function session (port: number, data: string, opts: { end?: boolean } = {}): Promise<{ answer: string, port: number }> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let got = ''
    let local = 0
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => { got += d; if (opts.end === true && got.includes('\n')) socket.end() })
    socket.on('error', () => {})
    socket.on('close', () => resolve({ answer: got, port: local }))
    socket.once('connect', () => { local = socket.localPort!; socket.write(data) })
    setTimeout(() => { socket.destroy(); reject(new Error(`no close after ${JSON.stringify(data)}`)) }, 8000).unref()
  })
}

/** The line of the session from client port `port`, once it came. */
async function lineOf (syslog: Syslog, port: number): Promise<string> {
  const mine = (l: string): boolean => l.startsWith(`127.0.0.1:${port} `) || l.includes(`"c_port":"${port}"`)
  for (let n = 1; ; n++) {
    const found = (await syslog.wait(n, 8000)).find(mine)
    if (found !== undefined) return found
  }
}

interface Case { name: string, port: 'fe' | 'json', data: string, end?: boolean }

const CASES: Case[] = [
  { name: 'a session that ends well', port: 'fe', data: 'HELLO\n', end: true },
  { name: 'a refused server, after the retry', port: 'fe', data: 'DEAD\n' },
  { name: 'a server timeout', port: 'fe', data: 'SLOW\n' },
  { name: 'a content rule rejects', port: 'fe', data: 'REJECT\n' },
  { name: 'a client timeout (the JSON format of wrong_ip_port_logging)', port: 'json', data: 'GET / HTTP/1.0\r\n\r\n' }
]

/** A tcplog line's fields, times reduced to "reached or not" and ports to P; a JSON line as is, ports to P. */
function fields (line: string): string[] {
  if (line.startsWith('{')) return [line.replace(/"(dport|c_port)":"\d+"/g, '"$1":"P"').trimEnd()]
  const m = /^(\S+):\d+ \[[^\]]+\] (\S+) (\S+) (-?\d+)\/(-?\d+)\/(\+?\d+) (\d+) (\S\S) (\d+)\/(\d+)\/(\d+)\/(\d+)\/(\+?\d+) (\d+)\/(\d+)\n$/.exec(line)
  assert.ok(m, `not a tcplog line: ${JSON.stringify(line)}`)
  const [, ci, ft, bs, tw, tc, tt, bytes, ts, ac, fc, bc, sc, rc, sq, bq] = m
  const timer = (t: string): string => Number(t) < 0 ? '-1' : 't'
  return [ci!, ft!, bs!, timer(tw!), timer(tc!), timer(tt!), bytes!, ts!, ac!, fc!, bc!, sc!, rc!, sq!, bq!]
}

async function run (label: 'haproxy' | 'ours', syslog: Syslog, ports: { echo: number, silent: number, dead: number }): Promise<string[]> {
  // a second port taken free beside the harness's: another process may grab it in between, then try again
  let json = 0
  let proxy: Proxied | null = null
  for (let attempt = 0; proxy === null; attempt++) {
    json = await freePort()
    try {
      proxy = await startProxy(label, (fe) => config({ fe, json, log: syslog.port, ...ports }))
    } catch (err) {
      if (attempt === 2 || !/bind|in use/i.test((err as Error).message)) throw err
    }
  }
  try {
    // the harness's readiness probe is a session too: its line first, so that it counts in no other
    await syslog.wait(1, 8000)
    const lines: string[] = []
    for (const c of CASES) {
      const { port } = await session(c.port === 'fe' ? proxy.port : json, c.data, { end: c.end })
      lines.push(await lineOf(syslog, port))
    }
    return lines
  } finally {
    await proxy.stop()
  }
}

test('TCP session lines: real HAProxy and ours agree on every field but times and ports', { skip: skipWithoutHaproxy }, async (t) => {
  const echo = await startRawUpstream(socket => { socket.on('data', d => socket.write(d)); socket.on('end', () => socket.end()) })
  const silent = await startRawUpstream(() => {})
  const dead = await freePort()
  const theirs = await syslogServer()
  const ours = await syslogServer()
  t.after(async () => { await Promise.all([echo.close(), silent.close(), theirs.close(), ours.close()]) })
  const ports = { echo: echo.port, silent: silent.port, dead }
  const expected = await run('haproxy', theirs, ports)
  const got = await run('ours', ours, ports)
  assert.equal(got.length, CASES.length, got.join(''))
  for (let i = 0; i < CASES.length; i++) {
    assert.deepEqual(fields(got[i]!), fields(expected[i]!), `${CASES[i]!.name}\n  haproxy: ${expected[i]!}  ours:    ${got[i]!}`)
  }
})

test("'option httplog' on a mode tcp frontend: the warning HAProxy gives, and tcplog lines", async (t) => {
  const syslog = await syslogServer()
  const echo = await startRawUpstream(socket => { socket.on('data', d => socket.write(d)); socket.on('end', () => socket.end()) })
  const dir = mkdtempSync(join(tmpdir(), 'fh-tcplog-'))
  t.after(async () => { rmSync(dir, { recursive: true, force: true }); await Promise.all([echo.close(), syslog.close()]) })
  const file = join(dir, 'haproxy.cfg')
  const cfg = (fe: number): string => `
defaults
    mode http
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    mode tcp
    bind 127.0.0.1:${fe}
    log 127.0.0.1:${syslog.port} format raw local0
    default_backend be
backend be
    mode tcp
    server e 127.0.0.1:${echo.port}
`
  writeFileSync(file, cfg(await freePort()))
  const check = spawnSync(process.execPath, [cliPath, '-c', '-f', file], { encoding: 'utf8' })
  assert.equal(check.status, 0, check.stderr)
  assert.match(check.stderr, /'option httplog' not usable with frontend 'fe' \(needs 'mode http'\)\. Falling back to 'option tcplog'\./)
  const proxy = await startProxy('ours', cfg)
  t.after(async () => { await proxy.stop() })
  assert.equal((await session(proxy.port, 'ping\n', { end: true })).answer, 'ping\n')
  const [, line] = await syslog.wait(2)
  assert.match(line!, /^127\.0\.0\.1:\d+ \[[^\]]+\] fe be\/e \d+\/\d+\/\d+ 5 -- \d+\/\d+\/\d+\/\d+\/0 0\/0\n$/)
})
