// The same config and the same requests (faults included) through real HAProxy and through our
// CLI, each logging `option httplog` to its own UDP syslog receiver: every field of the lines
// must agree except times and ports. Then HAProxy's own log tools read both logs: `halog` must
// give the same aggregates, and `haproxy_log_analysis` (Debian python3-haproxy-log-analysis)
// must parse every one of our lines.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, send, skipWithoutHaproxy, startProxy, startRawUpstream, startUpstream, type Proxied } from '../differential/harness.js'
import { syslogServer, type Syslog } from './syslog.js'

const has = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { encoding: 'utf8' }).error === undefined
const PY = '/usr/bin/python3'
const halog = has('halog', ['-h']) ? 'halog' : null

function config (port: number, log: number, up: number, slow: number, junk: number, dead: number): string {
  return `
global
    nbthread 1
    log 127.0.0.1:${log} format rfc3164 local0
userlist ul
    user u insecure-password p
defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 200ms
    timeout client 5s
    timeout server 5s
    retries 1
frontend fe
    bind 127.0.0.1:${port}
    capture request header Host len 32
    capture response header X-Served-By len 10
    http-request deny if { path /deny }
    http-request redirect location /elsewhere if { path /redir }
    http-request return status 200 content-type text/plain string hi if { path /ret }
    http-request auth realm r if { path /auth } !{ http_auth(ul) }
    use_backend dead if { path /dead }
    use_backend slow if { path /slow }
    use_backend junk if { path /junk }
    use_backend sticky if { path /sticky }
    default_backend be
backend be
    server s1 127.0.0.1:${up}
backend sticky
    cookie SID insert indirect
    server s2 127.0.0.1:${up} cookie two
backend dead
    server d 127.0.0.1:${dead}
backend slow
    timeout server 300ms
    server sl 127.0.0.1:${slow}
backend junk
    server j 127.0.0.1:${junk}
`
}

const REQUESTS: Array<{ path: string, headers?: Record<string, string> }> = [
  { path: '/' },
  { path: '/a/b?c=d' },
  { path: '/deny' },
  { path: '/redir' },
  { path: '/ret' },
  { path: '/auth' },
  { path: '/dead' },
  { path: '/slow' },
  { path: '/junk' },
  { path: '/sticky', headers: { cookie: 'SID=nosuch' } },
  { path: '/sticky', headers: { cookie: 'SID=two' } },
  { path: '/sticky' }
]

/** The fields of an httplog line, times reduced to "reached or not" (-1) and ports to P. */
function fields (line: string): string[] {
  const m = /^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ haproxy\[\d+\]: (\S+):\d+ \[[^\]]+\] (\S+) (\S+) (-?\d+)\/(-?\d+)\/(-?\d+)\/(-?\d+)\/(\+?-?\d+) (-?\d+) (\+?\d+) (\S+) (\S+) (\S+) (\d+)\/(\d+)\/(\d+)\/(\d+)\/(\+?\d+) (\d+)\/(\d+) (\{[^}]*\}) (\{[^}]*\}) "(.*)"\n$/.exec(line)
  assert.ok(m, `not an httplog line: ${JSON.stringify(line)}`)
  const [, ci, ft, bs, tR, tw, tc, tr, ta, st, bytes, cc, cs, tsc, ac, fc, bc, sc, rc, sq, bq, hr, hs, r] = m
  const timer = (t: string): string => Number(t) < 0 ? '-1' : 't'
  return [ci!, ft!, bs!, timer(tR!), timer(tw!), timer(tc!), timer(tr!), timer(ta!), st!, bytes!, cc!, cs!, tsc!, ac!, fc!, bc!, sc!, rc!, sq!, bq!,
    hr!.replace(/:\d+/g, ':P'), hs!, r!]
}

async function run (label: 'haproxy' | 'ours', syslog: Syslog, ports: [number, number, number, number]): Promise<string[]> {
  const proxy: Proxied = await startProxy(label, (port) => config(port, syslog.port, ...ports))
  try {
    for (const [i, ask] of REQUESTS.entries()) {
      await send(proxy.port, ask)
      // one line per request, in order
      await syslog.wait(i + 1, 8000)
    }
    return syslog.lines.slice()
  } finally {
    await proxy.stop()
  }
}

test('httplog lines: real HAProxy and ours agree on every field but times and ports; halog and haproxy_log_analysis read ours', { skip: skipWithoutHaproxy }, async (t) => {
  const up = await startUpstream('up', (_req, res) => { res.writeHead(200, { 'x-served-by': 'up', 'content-type': 'text/plain' }); res.end('hello') })
  const slow = await startUpstream('slow', (_req, res) => { setTimeout(() => { if (!res.destroyed) res.end('late') }, 1500) })
  const junk = await startRawUpstream(socket => { socket.once('data', () => socket.end('garbage\r\n\r\n')) })
  const dead = await freePort()
  const ports: [number, number, number, number] = [up.port, slow.port, junk.port, dead]
  const theirs = await syslogServer()
  const ours = await syslogServer()
  t.after(async () => { await Promise.all([up.close(), slow.close(), junk.close(), theirs.close(), ours.close()]) })

  const expected = await run('haproxy', theirs, ports)
  const got = await run('ours', ours, ports)
  assert.equal(got.length, REQUESTS.length, got.join(''))
  for (let i = 0; i < REQUESTS.length; i++) {
    assert.deepEqual(fields(got[i]!), fields(expected[i]!), `request ${REQUESTS[i]!.path}\n  haproxy: ${expected[i]!}  ours:    ${got[i]!}`)
  }

  // HAProxy's tools, on the lines as a syslog daemon writes them (the priority is not stored)
  const dir = mkdtempSync(join(tmpdir(), 'fh-log-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const files = { haproxy: join(dir, 'haproxy.log'), ours: join(dir, 'ours.log') }
  writeFileSync(files.haproxy, expected.map(l => l.replace(/^<\d+>/, '')).join(''))
  writeFileSync(files.ours, got.map(l => l.replace(/^<\d+>/, '')).join(''))

  await t.test('halog gives the same aggregates', { skip: halog === null ? 'halog is not installed (Debian haproxy package)' : false }, () => {
    const read = (file: string, args: string[]): string => spawnSync('sh', ['-c', `halog ${args.join(' ')} < "${file}"`], { encoding: 'utf8' }).stdout
    // times differ between two runs: keep the count columns (-srv: req, err; -u: req, err)
    const keep: Record<string, (l: string) => string> = {
      '-st': l => l,
      '-tc': l => l,
      '-cc': l => l,
      '-srv': l => l.split(/\s+/).slice(0, 4).join(' '),
      '-u': l => { const c = l.split(/\s+/); return [c[0], c[1], c[c.length - 1]].join(' ') },
      '-ac 1 -c': l => l,
      '-ad 1000 -c': l => l,
      '-e -c': l => l
    }
    for (const [args, column] of Object.entries(keep)) {
      const a = read(files.haproxy, ['-q', ...args.split(' ')]).trim().split('\n').map(column)
      const b = read(files.ours, ['-q', ...args.split(' ')]).trim().split('\n').map(column)
      assert.deepEqual(b, a, `halog ${args}`)
    }
  })

  await t.test('haproxy_log_analysis parses every line', { skip: spawnSync(PY, ['-c', 'import haproxy.line'], { encoding: 'utf8' }).status === 0 ? false : 'python3-haproxy-log-analysis is not installed' }, () => {
    const script = `
import sys
from haproxy.line import Line
ok = bad = 0
for raw in open(sys.argv[1]):
    line = Line(raw.strip())
    if line.valid: ok += 1
    else: bad += 1
print(ok, bad)
`
    const out = spawnSync(PY, ['-c', script, files.ours], { encoding: 'utf8' })
    assert.equal(out.stderr, '')
    assert.equal(out.stdout.trim(), `${REQUESTS.length} 0`)
  })
})
