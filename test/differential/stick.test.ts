// Stick-table persistence (configuration.txt §4.2 `stick on|match|store-request|store-response`,
// management.txt `show table`), side by side: a fresh real HAProxy and a fresh CLI get the same
// sequence of requests (from several client addresses on 127.0.0.0/8) and runtime API commands
// per backend; the server that answers each request, the cookie the client gets, the answers to
// the commands and the tables `show table` prints must be the same.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { cliPath, freePort, haproxyBin, startBoth, startUpstream, send, head, skipWithoutHaproxy, type Upstream, type Seen } from './harness.js'
import { cli, waitForSocket } from '../socket/client.js'
import { waitFor } from '../gateway/fixtures.js'

/** Says its name, and hands out a session id naming it (`x-sess: <name>-sess`). */
function answer (name: string) {
  return (_req: IncomingMessage, res: ServerResponse, _seen: Seen): void => {
    res.writeHead(200, { 'x-served-by': name, 'x-sess': `${name}-sess` })
    res.end(name)
  }
}

/** A request (from a client address, with headers), a runtime API command, or a pause. */
type Step = { from: string, headers: Record<string, string>, path: string } | { cli: string } | { sleep: number }

/** A request from 127.0.0.<n> to /<backend><path>. */
const from = (n: number, headers: Record<string, string> = {}, path = ''): Step => ({ from: `127.0.0.${n}`, headers, path })
const cmd = (line: string): Step => ({ cli: line })

interface Case {
  backend: string
  /** A listen section used as a backend (its stick rules are its backend side's). */
  listen?: true
  /** Lines after `backend NAME`; `@a` … `@c` stand for the upstream ports, `@dead` for a closed one. */
  lines: string[]
  steps: Step[]
}

/** Checks that never bring a server taken down by `set server … health down` back during a test. */
const CHECK = 'check inter 30s rise 9'

const cases: Case[] = [
  {
    // the most common use: the client's address keeps its server; drain keeps it, maint and DOWN move it
    backend: 'src',
    lines: ['stick-table type ip size 1m expire 30m', 'stick on src', `server a @a ${CHECK}`, `server b @b ${CHECK}`, `server c @c ${CHECK}`],
    steps: [from(2), from(3), from(2), from(4), from(5), from(2), cmd('show table src'),
      cmd('set server src/a state drain'), from(2), from(6),
      cmd('set server src/a state maint'), from(2), from(2), cmd('set server src/a state ready'), from(2), from(7),
      cmd('set server src/b health down'), from(3), from(3), cmd('show table src'), cmd('show table src key 127.0.0.3'),
      cmd('show table src data.server_id eq 3'), cmd('set table src key 127.0.0.99 data.server_key a'),
      cmd('set table src key 127.0.0.98 data.server_id 2 data.bogus 1'), cmd('set table src key 127.0.0.97 data.conn_cnt 1'), cmd('set table src key 127.0.0.96 foo 1'),
      cmd('set table src key 127.0.0.95 data.server_key 5'), cmd('show table src data.server_id gt 1'), cmd('clear table src key 127.0.0.98'),
      cmd('clear table src data.server_id eq 0'), cmd('show table src')]
  },
  {
    // another backend reads the same table: entries name servers by name, not by position
    backend: 'other',
    lines: ['stick match src table src', 'server c @c', 'server b @b', 'server a @a'],
    steps: [from(2), from(3), from(4), from(8), from(8), cmd('show table src')]
  },
  {
    // option persist: the entry's server takes the request DOWN or in maintenance
    backend: 'persist',
    lines: ['option persist', 'stick-table type ip size 1k expire 30m', 'stick on src', `server a @a ${CHECK}`, `server b @b ${CHECK}`],
    steps: [from(2), from(3), cmd('set server persist/a health down'), from(2), from(4), cmd('set server persist/a state maint'), from(2), cmd('show table persist')]
  },
  {
    // a server id set by hand (no server name yet); its server does not answer: redispatched, stored anew
    backend: 'redispatch',
    lines: ['option persist', 'option redispatch', 'retries 1', 'stick-table type ip size 1k expire 30m', 'stick on src', `server d @dead ${CHECK}`, `server b @b ${CHECK}`],
    steps: [cmd('set table redispatch key 127.0.0.9 data.server_id 1'), cmd('set server redispatch/d health down'), cmd('show table redispatch'), from(9), from(10), cmd('show table redispatch')]
  },
  {
    // a request that got no answer stores nothing
    backend: 'unanswered',
    lines: ['retries 1', 'stick-table type ip size 1k expire 30m', 'stick on src', 'server d @dead', 'server b @b'],
    steps: [from(2), from(3), from(2), cmd('show table unanswered')]
  },
  {
    // learning from the answer: the server's session id, sent back by the client in a header
    backend: 'response',
    lines: ['stick-table type string len 32 size 1k expire 30m', 'stick store-response res.hdr(x-sess)', 'stick match req.hdr(x-sess)', 'server a @a', 'server b @b', 'server c @c'],
    steps: [from(2), from(2), from(2), cmd('show table response'), from(2, { 'x-sess': 'b-sess' }), from(2, { 'x-sess': 'a-sess' }), from(2, { 'x-sess': 'c-sess' }), from(2, { 'x-sess': 'zz' }), cmd('show table response')]
  },
  {
    backend: 'condition',
    lines: ['stick-table type ip size 1k expire 30m', 'stick on src if { req.hdr(x-stick) -m found }', 'server a @a', 'server b @b', 'server c @c'],
    steps: [from(2), from(2), cmd('show table condition'), from(2, { 'x-stick': '1' }), from(2, { 'x-stick': '1' }), from(2), from(2, { 'x-stick': '1' }), cmd('show table condition')]
  },
  {
    // a valid cookie wins (and is stored); a request the table sent gets no cookie inserted
    backend: 'cookie',
    lines: ['cookie SRV insert indirect nocache', 'stick-table type ip size 1k expire 30m', 'stick on src', 'server a @a cookie A', 'server b @b cookie B'],
    steps: [from(2), from(2), from(2, { cookie: 'SRV=B' }), cmd('show table cookie'), from(2), from(2, { cookie: 'SRV=Z' }), from(3)]
  },
  {
    backend: 'nonstick',
    lines: ['stick-table type ip size 1k expire 30m', 'stick on src', 'server a @a non-stick', 'server b @b', 'server c @c'],
    steps: [from(2), from(2), from(2), from(3), cmd('show table nonstick')]
  },
  {
    // counters and persistence in one table; an entry made by track-sc has no server yet
    backend: 'counted',
    lines: ['stick-table type ip size 1k expire 30m store http_req_cnt', 'http-request track-sc0 src', 'stick on src if { path_end /s }', 'server a @a', 'server b @b'],
    steps: [from(2), from(3, {}, '/s'), from(4), cmd('show table counted')]
  },
  {
    backend: 'listen',
    listen: true,
    lines: ['stick-table type string size 1k expire 30m', 'stick store-request req.hdr(x-user)', 'stick match req.hdr(x-user)', 'server a @a', 'server b @b'],
    steps: [from(2, { 'x-user': 'ann' }), from(2, { 'x-user': 'bob' }), from(2, { 'x-user': 'ann' }), from(2), from(2, { 'x-user': 'bob' }), cmd('show table listen'), cmd('show table')]
  },
  {
    // an expired entry sends the client to the balancer again
    backend: 'expire',
    lines: ['stick-table type ip size 1k expire 2s', 'stick on src', 'server a @a', 'server b @b'],
    steps: [from(2), from(2), { sleep: 3000 }, cmd('show table expire'), from(2), from(2)]
  }
]

const config = (ports: Record<string, number>, sock: (port: number) => string) => (port: number): string => head() + [
  'global',
  `    stats socket ${sock(port)} level admin`,
  'frontend fe',
  `    bind 127.0.0.1:${port}`,
  '    log stdout format raw local0',
  '    log-format "LOG %ci %b/%s %ST %tsc"',
  '    use_backend %[path,field(2,/)]',
  '',
  ...cases.flatMap(c => [`${c.listen === true ? 'listen' : 'backend'} ${c.backend}`, ...c.lines.map(l => '    ' + l.replace(/@(a|b|c|dead)/, (_m, n: string) => `127.0.0.1:${ports[n]}`)), ''])
].join('\n')

/** `show table` lines with what differs between two processes (entry addresses, milliseconds left) masked. */
const masked = (text: string): string => text.replace(/^0x[0-9a-f]+:/gm, '0x?:').replace(/ exp=\d+/g, ' exp=?')

/** What each step gave: the server and cookie of an answer, the text of a command. */
async function sequence (port: number, sock: string, c: Case): Promise<string[]> {
  const out: string[] = []
  for (const step of c.steps) {
    if ('sleep' in step) {
      await new Promise(resolve => setTimeout(resolve, step.sleep))
      continue
    }
    if ('cli' in step) {
      out.push(`${step.cli}\n${masked(await cli(sock, step.cli + '\n'))}`)
      continue
    }
    const a = await send(port, { path: `/${c.backend}${step.path}`, from: step.from, headers: step.headers })
    out.push(JSON.stringify({ ...step, status: a.status, server: a.headers['x-served-by'] ?? null, setCookie: a.headers['set-cookie'] ?? null }))
  }
  return out
}

describe('differential: stick-table persistence vs real HAProxy', { skip: skipWithoutHaproxy }, () => {
  const upstreams: Upstream[] = []
  const dir = mkdtempSync(join(tmpdir(), 'fh-diff-persistence-'))
  const sock = (port: number): string => join(dir, `${port}.sock`)
  let both: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    for (const name of ['a', 'b', 'c']) upstreams.push(await startUpstream(name, answer(name)))
    const ports: Record<string, number> = Object.fromEntries(upstreams.map(u => [u.name, u.port]))
    ports.dead = await freePort()
    both = await startBoth(config(ports, sock))
    for (const p of [both.haproxy.port, both.ours.port]) await waitForSocket(sock(p))
  })

  after(async () => {
    await both?.stop()
    await Promise.all(upstreams.map(u => u.close()))
    rmSync(dir, { recursive: true, force: true })
  })

  for (const c of cases) {
    test(`${c.backend}: ${c.lines.filter(l => !l.startsWith('server')).join('; ')}`, { timeout: 60_000 }, async (t) => {
      const logged = [both.haproxy, both.ours].map(p => logLines(p.output()).length)
      const [theirs, ours] = await Promise.all([
        sequence(both.haproxy.port, sock(both.haproxy.port), c),
        sequence(both.ours.port, sock(both.ours.port), c)
      ])
      assert.equal(theirs.length, c.steps.filter(s => !('sleep' in s)).length)
      for (const line of theirs) t.diagnostic(line)
      assert.deepEqual(ours, theirs)
      // the access log: the server, the status and the persistence cookie's states (%tsc)
      const requests = c.steps.filter(s => 'from' in s).length
      for (const p of [both.haproxy, both.ours]) await waitFor(() => logLines(p.output()).length >= logged[0]! + requests, `${p.label}: ${requests} log lines`)
      assert.deepEqual(logLines(both.ours.output()).slice(logged[1]), logLines(both.haproxy.output()).slice(logged[0]))
    })
  }
})

/**
 * The access log lines a proxy wrote on its stdout, less the line of the harness's readiness
 * probe (a connection closed without a request: `<NOSRV> 400 CR--`), which a loaded process may
 * write after a test has counted the lines before its own.
 */
const logLines = (out: string): string[] => out.split('\n').filter(l => l.startsWith('LOG ') && !l.endsWith(' fe/<NOSRV> 400 CR--'))

/** `-c` on configs whose `stick` lines are wrong: the same alerts and warnings as `haproxy -c`. */
const BAD: Array<[string, string[]]> = [
  ['no table', ['backend b', '    stick on src', '    server s 127.0.0.1:1']],
  ['a table nobody declares', ['backend b', '    stick-table type ip size 1k', '    stick match src table nope', '    server s 127.0.0.1:1']],
  ['a table name missing', ['backend b', '    stick-table type ip size 1k', '    stick on src table', '    server s 127.0.0.1:1']],
  ['no pattern', ['backend b', '    stick-table type ip size 1k', '    stick on', '    server s 127.0.0.1:1']],
  ['an unknown kind', ['backend b', '    stick-table type ip size 1k', '    stick at src', '    server s 127.0.0.1:1']],
  ['an unknown fetch', ['backend b', '    stick-table type ip size 1k', '    stick on nosuchfetch', '    server s 127.0.0.1:1']],
  ['a response header read on the request', ['backend b', '    stick-table type ip size 1k', '    stick store-request res.hdr(x)', '    server s 127.0.0.1:1']],
  ['a stray word', ['backend b', '    stick-table type ip size 1k', '    stick on src foo', '    server s 127.0.0.1:1']],
  ['in defaults', ['defaults', '    stick on src']],
  ['in a frontend', ['frontend f', '    bind 127.0.0.1:1', '    stick on src', 'backend b', '    server s 127.0.0.1:1']]
]

test('stick: -c reports what haproxy -c reports', { skip: skipWithoutHaproxy }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-persistence-check-'))
  // the lines about `stick`, without the process id
  const lines = (out: string): string[] => out.split('\n').filter(l => l.includes('stick')).map(l => l.replace(/\(\d+\)/, '(pid)'))
  try {
    for (const [name, body] of BAD) {
      const file = join(dir, 'haproxy.cfg')
      writeFileSync(file, head() + body.join('\n') + '\n')
      const real = spawnSync(haproxyBin!, ['-c', '-f', file], { encoding: 'utf8' })
      const ours = spawnSync(process.execPath, [cliPath, '-c', '-f', file], { encoding: 'utf8' })
      assert.ok(lines(real.stderr + real.stdout).length > 0, `${name}: haproxy says something about stick`)
      assert.deepEqual(lines(ours.stderr + ours.stdout), lines(real.stderr + real.stdout), name)
      assert.equal(ours.status === 0, real.status === 0, `${name}: the same verdict`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
