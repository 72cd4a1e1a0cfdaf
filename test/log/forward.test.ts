// `ring` and `log-forward` sections: received syslog lines written again in each target's format
// (compared with lines recorded from real HAProxy 2.6), the listeners' framings (UDP datagrams,
// TCP octet counting and '\n' lines), ring servers over TCP (legacy and octet-count), the
// access log through log-forward -> ring -> log-forward -> syslog as HAProxy's log_forward
// reg-test chains them, and the same chain through real HAProxy.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { parseConfig } from '../../lib/config/parse.js'
import { checkConfig } from '../../lib/check.js'
import { parseReceived, reformat } from '../../lib/log/received.js'
import { startLogForwarders } from '../../lib/log/forward.js'
import { LogTargets } from '../../lib/log/logger.js'
import { LogSinks } from '../../lib/log/targets.js'
import { freePort, head, send, skipWithoutHaproxy, startProxy, startUpstream } from '../differential/harness.js'
import { waitFor } from '../gateway/fixtures.js'
import { syslogServer } from './syslog.js'

/** Each line sent to a log-forward section and what real HAProxy 2.6.12 sent on to a target of each format (none: no `format`). */
const RECORDED: Array<{ sent: string, got: Record<string, string> }> = [
  {
    sent: '<14>Dec  6 14:00:00 myhost app[12]: hello A',
    got: {
      iso: '2026-12-06T14:00:00-00:00 hello A',
      local: '<14>Dec  6 14:00:00 app[12]: hello A',
      none: '<14>Dec  6 14:00:00 myhost app[12]: hello A',
      priority: '<14>hello A',
      raw: 'hello A',
      rfc3164: '<14>Dec  6 14:00:00 myhost app[12]: hello A',
      rfc5424: '<14>1 2026-12-06T14:00:00-00:00 myhost app 12 - - hello A',
      short: '<6>hello A',
      timed: '<6>2026-12-06T14:00:00-00:00 hello A'
    }
  },
  {
    sent: '<14>Dec  6 14:00:00 app[12]: hello B',
    got: {
      iso: '2026-12-06T14:00:00-00:00 hello B',
      local: '<14>Dec  6 14:00:00 hello B',
      none: '<14>Dec  6 14:00:00 app[12]: hello B',
      priority: '<14>hello B',
      raw: 'hello B',
      rfc3164: '<14>Dec  6 14:00:00 app[12]: hello B',
      rfc5424: '<14>1 2026-12-06T14:00:00-00:00 app[12]: - - - - hello B',
      short: '<6>hello B',
      timed: '<6>2026-12-06T14:00:00-00:00 hello B'
    }
  },
  {
    sent: '<14>Dec  6 14:00:00 myhost app: hello C',
    got: {
      iso: '2026-12-06T14:00:00-00:00 hello C',
      local: '<14>Dec  6 14:00:00 app: hello C',
      none: '<14>Dec  6 14:00:00 myhost app: hello C',
      priority: '<14>hello C',
      raw: 'hello C',
      rfc3164: '<14>Dec  6 14:00:00 myhost app: hello C',
      rfc5424: '<14>1 2026-12-06T14:00:00-00:00 myhost app - - - hello C',
      short: '<6>hello C',
      timed: '<6>2026-12-06T14:00:00-00:00 hello C'
    }
  },
  {
    sent: '<14>1 2026-12-06T14:00:00.123Z h5 a5 55 ID7 [x@1 a="b"] hello D',
    got: {
      iso: '2026-12-06T14:00:00.123Z hello D',
      local: '<14>Dec  6 14:00:00 a5[55]: hello D',
      none: '<14>1 2026-12-06T14:00:00.123Z h5 a5 55 ID7 [x@1 a="b"] hello D',
      priority: '<14>hello D',
      raw: 'hello D',
      rfc3164: '<14>Dec  6 14:00:00 h5 a5[55]: hello D',
      rfc5424: '<14>1 2026-12-06T14:00:00.123Z h5 a5 55 ID7 [x@1 a="b"] hello D',
      short: '<6>hello D',
      timed: '<6>2026-12-06T14:00:00.123Z hello D'
    }
  },
  {
    sent: '<14>1 2026-12-06T14:00:00+02:00 - - - - - hello E',
    got: {
      iso: '2026-12-06T14:00:00+02:00 hello E',
      local: '<14>Dec  6 14:00:00 hello E',
      none: '<14>hello E',
      priority: '<14>hello E',
      raw: 'hello E',
      rfc3164: '<14>Dec  6 14:00:00 localhost hello E',
      rfc5424: '<14>1 2026-12-06T14:00:00+02:00 - - - - - hello E',
      short: '<6>hello E',
      timed: '<6>2026-12-06T14:00:00+02:00 hello E'
    }
  },
  {
    sent: '<191>Dec 16 04:05:06 h t: G2',
    got: {
      iso: '2026-12-16T04:05:06-00:00 G2',
      local: '<191>Dec 16 04:05:06 t: G2',
      none: '<191>Dec 16 04:05:06 h t: G2',
      priority: '<191>G2',
      raw: 'G2',
      rfc3164: '<191>Dec 16 04:05:06 h t: G2',
      rfc5424: '<191>1 2026-12-16T04:05:06-00:00 h t - - - G2',
      short: '<7>G2',
      timed: '<7>2026-12-16T04:05:06-00:00 G2'
    }
  },
  {
    sent: '<14>1 2026-12-06T14:00:00Z h5 - - - - hello H',
    got: {
      iso: '2026-12-06T14:00:00Z hello H',
      local: '<14>Dec  6 14:00:00 hello H',
      none: '<14>1 2026-12-06T14:00:00Z h5 - - - - hello H',
      priority: '<14>hello H',
      raw: 'hello H',
      rfc3164: '<14>Dec  6 14:00:00 h5 hello H',
      rfc5424: '<14>1 2026-12-06T14:00:00Z h5 - - - - hello H',
      short: '<6>hello H',
      timed: '<6>2026-12-06T14:00:00Z hello H'
    }
  },
  {
    sent: '<14>1 2026-12-06T14:00:00Z - a5 - - - hello I',
    got: {
      iso: '2026-12-06T14:00:00Z hello I',
      local: '<14>Dec  6 14:00:00 a5: hello I',
      none: '<14>Dec  6 14:00:00 a5: hello I',
      priority: '<14>hello I',
      raw: 'hello I',
      rfc3164: '<14>Dec  6 14:00:00 localhost a5: hello I',
      rfc5424: '<14>1 2026-12-06T14:00:00Z - a5 - - - hello I',
      short: '<6>hello I',
      timed: '<6>2026-12-06T14:00:00Z hello I'
    }
  },
  {
    sent: '<14>1 2026-12-06T14:00:00Z - - 55 - - hello J',
    got: {
      iso: '2026-12-06T14:00:00Z hello J',
      local: '<14>Dec  6 14:00:00 hello J',
      none: '<14>hello J',
      priority: '<14>hello J',
      raw: 'hello J',
      rfc3164: '<14>Dec  6 14:00:00 localhost hello J',
      rfc5424: '<14>1 2026-12-06T14:00:00Z - - 55 - - hello J',
      short: '<6>hello J',
      timed: '<6>2026-12-06T14:00:00Z hello J'
    }
  },
  {
    sent: '<14>1 2026-12-06T14:00:00Z - - - - [a@1 x="y"] hello L',
    got: {
      iso: '2026-12-06T14:00:00Z hello L',
      local: '<14>Dec  6 14:00:00 hello L',
      none: '<14>hello L',
      priority: '<14>hello L',
      raw: 'hello L',
      rfc3164: '<14>Dec  6 14:00:00 localhost hello L',
      rfc5424: '<14>1 2026-12-06T14:00:00Z - - - - [a@1 x="y"] hello L',
      short: '<6>hello L',
      timed: '<6>2026-12-06T14:00:00Z hello L'
    }
  },
  {
    sent: '<14>Dec  6 14:00:00 h t[1]:no space',
    got: {
      iso: '2026-12-06T14:00:00-00:00 t[1]:no space',
      local: '<14>Dec  6 14:00:00 t[1]:no space',
      none: '<14>Dec  6 14:00:00 h t[1]:no space',
      priority: '<14>t[1]:no space',
      raw: 't[1]:no space',
      rfc3164: '<14>Dec  6 14:00:00 h t[1]:no space',
      rfc5424: '<14>1 2026-12-06T14:00:00-00:00 h - - - - t[1]:no space',
      short: '<6>t[1]:no space',
      timed: '<6>2026-12-06T14:00:00-00:00 t[1]:no space'
    }
  },
]

test('received lines are written again in each target format as HAProxy does (recorded)', () => {
  // the year of an rfc3164 date is the current one: these lines were recorded in 2026
  const now = new Date(2026, 11, 6, 21, 0, 0).getTime()
  for (const { sent, got } of RECORDED) {
    const r = parseReceived(sent)
    for (const [format, line] of Object.entries(got)) {
      assert.equal(reformat(r, format === 'none' ? null : format as 'raw', 19, now), line, `${sent} -> format ${format}`)
    }
  }
})

test('a line without a priority takes the target facility at level emerg; a priority alone keeps it', () => {
  const now = new Date(2026, 11, 6, 21, 29, 3).getTime()
  const bare = parseReceived('hello F no pri')
  assert.equal(reformat(bare, null, 19, now), 'hello F no pri')
  assert.equal(reformat(bare, 'priority', 19, now), '<152>hello F no pri')
  assert.equal(reformat(bare, 'short', 19, now), '<0>hello F no pri')
  assert.equal(reformat(bare, 'local', 19, now), '<152>Dec  6 21:29:03 hello F no pri')
  const pri = parseReceived('<14>hello G')
  assert.equal(reformat(pri, null, 19, now), '<14>hello G')
  assert.equal(reformat(pri, 'rfc3164', 19, now), '<14>Dec  6 21:29:03 localhost hello G')
  // an rfc5424 line without a timestamp keeps '-' in rfc5424 and gets the current date elsewhere
  const nodate = parseReceived('<14>1 - h5 a5 55 - - hello M')
  assert.equal(reformat(nodate, null, 19, now), '<14>1 - h5 a5 55 - - hello M')
  assert.equal(reformat(nodate, 'local', 19, now), '<14>Dec  6 21:29:03 a5[55]: hello M')
})

async function tcpCollector (): Promise<{ port: number, text: () => string, close: () => Promise<void> }> {
  let text = ''
  const sockets = new Set<net.Socket>()
  const server = net.createServer(s => {
    sockets.add(s)
    s.on('data', (d: Buffer) => { text += d.toString('latin1') })
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    text: () => text,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

async function sendUdp (port: number, text: string): Promise<void> {
  const s = dgram.createSocket('udp4')
  await new Promise<void>((resolve, reject) => s.send(Buffer.from(text, 'latin1'), port, '127.0.0.1', err => err == null ? resolve() : reject(err)))
  s.close()
}

async function sendTcp (port: number, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(text, 'latin1') })
    s.on('error', reject)
    s.on('close', () => resolve())
  })
}

test('log-forward listeners: datagrams, TCP octet counting and lines; targets filter by level', async (t) => {
  const syslog = await syslogServer()
  const [udp, tcp] = [await freePort(), await freePort()]
  const config = parseConfig(`
log-forward lf
    dgram-bind 127.0.0.1:${udp}
    bind 127.0.0.1:${tcp}
    maxconn 4
    timeout client 5s
    log 127.0.0.1:${syslog.port} local0 notice
`, { env: {} })
  assert.deepEqual(config.diagnostics.filter(d => d.level === 'alert'), [])
  const sinks = new LogSinks()
  const forwarders = await startLogForwarders(config, sinks)
  t.after(async () => {
    await Promise.all(forwarders.map(f => f.close()))
    sinks.close()
    await syslog.close()
  })
  await sendUdp(udp, '<14>Dec  6 14:00:00 h t: info is above notice, not sent')
  await sendUdp(udp, '<13>Dec  6 14:00:00 h t: one\n\0')
  await sendTcp(tcp, '28 <13>Dec  6 14:00:00 h t: two<13>Dec  6 14:00:00 h t: three\r\n<13>Dec  6 14:00:00 h t: four\n')
  const lines = await syslog.wait(4)
  assert.deepEqual(lines.slice().sort(), [
    '<13>Dec  6 14:00:00 h t: four\n',
    '<13>Dec  6 14:00:00 h t: one\n',
    '<13>Dec  6 14:00:00 h t: three\n',
    '<13>Dec  6 14:00:00 h t: two\n'
  ])
})

test('ring servers get every line over TCP: one per newline (legacy) or octet-counted, cut at maxlen', async (t) => {
  const legacy = await tcpCollector()
  const counted = await tcpCollector()
  const config = parseConfig(`
global
    log ring@r1 local0
    log ring@r2 local1
ring r1
    format rfc3164
    maxlen 60
    timeout connect 1s
    timeout server 1s
    server s 127.0.0.1:${legacy.port}
ring r2
    timeout connect 1s
    timeout server 1s
    server s 127.0.0.1:${counted.port} log-proto octet-count
`, { env: {} })
  assert.deepEqual(config.diagnostics.filter(d => d.level !== 'notice'), [])
  const sinks = new LogSinks()
  const targets = new LogTargets(config.global.logs, config, 'haproxy', sinks)
  t.after(async () => {
    sinks.close()
    await legacy.close()
    await counted.close()
  })
  targets.send(6, 'first line, long enough to be cut by the ring maxlen of sixty bytes')
  targets.send(6, 'second')
  await waitFor(() => legacy.text().split('\n').length === 3 && counted.text().includes('second'), 'both rings', 5000)
  const lines = legacy.text().split('\n')
  assert.match(lines[0]!, new RegExp(`^<134>\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d localhost haproxy\\[${process.pid}\\]: first`))
  assert.equal(lines[0]!.length, 60)
  // the ring's format (raw by default) replaces the target's; octet counting has no '\n'
  const first = 'first line, long enough to be cut by the ring maxlen of sixty bytes'
  assert.equal(counted.text(), `${first.length} ${first}6 second`)
})

test('a ring keeps lines while its server is away and sends them once it listens', async (t) => {
  const port = await freePort()
  const config = parseConfig(`
global
    log ring@r local0
ring r
    timeout connect 1s
    timeout server 1s
    server s 127.0.0.1:${port}
`, { env: {} })
  const sinks = new LogSinks()
  const targets = new LogTargets(config.global.logs, config, 'haproxy', sinks)
  targets.send(6, 'sent while no server listens')
  let text = ''
  const sockets = new Set<net.Socket>()
  const server = net.createServer(s => {
    sockets.add(s)
    s.on('data', (d: Buffer) => { text += d.toString() })
  })
  // the first connection is refused (on a slow machine it may come later: the line arrives all the same)
  await new Promise(resolve => setTimeout(resolve, 100))
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
  t.after(async () => {
    sinks.close()
    for (const s of sockets) s.destroy()
    await new Promise(resolve => server.close(resolve))
  })
  await waitFor(() => text.includes('\n'), 'the kept line', 8000)
  assert.equal(text, 'sent while no server listens\n')
})

test('-c: ring and log-forward sections are read with HAProxy messages', () => {
  const config = parseConfig(`
ring r1
    format bogus
    maxlen abc
    server s 127.0.0.1:1 log-proto octet-count foo
ring r1
log-forward lf
    log 127.0.0.1:1 local0
`, { env: {} })
  const messages = config.diagnostics.map(d => `${d.level}: ${d.message}`)
  assert.ok(messages.includes("alert: unable to set format 'bogus'."), messages.join('\n'))
  assert.ok(messages.includes("alert: unable to set event max length 'abc'."), messages.join('\n'))
  assert.ok(messages.includes("alert: sink named 'r1' already exists."), messages.join('\n'))
  assert.ok(messages.some(m => m.startsWith("alert: 'server r1/s' : 'foo'")), messages.join('\n'))
  const checked = checkConfig(parseConfig('log-forward lf\n    log 127.0.0.1:1 local0\nring r\n    server s 127.0.0.1:1\n', { env: {} })).map(d => d.message)
  assert.ok(checked.includes("frontend 'lf' has no 'bind' directive. Please declare it as a backend if this was intended."), checked.join('\n'))
  assert.ok(checked.some(m => m.startsWith("missing timeouts for backend 'r'.")), checked.join('\n'))
})

/** The chain of HAProxy's log/log_forward reg-test: access log -> UDP log-forward -> rfc5424 ring -> TCP log-forward -> syslog. */
function chain (syslog: number, up: number, udp: number, tcp: number) {
  return (port: number): string => `${head(['option httplog', 'option dontlognull'])}
frontend fe1
    bind 127.0.0.1:${port}
    log 127.0.0.1:${udp} local0
    default_backend be
backend be
    server app1 127.0.0.1:${up}
ring myring
    description "My local buffer"
    format rfc5424
    maxlen 1200
    size 32764
    timeout connect 5s
    timeout server 10s
    server mysyslogsrv 127.0.0.1:${tcp}
log-forward syslog2tcp
    dgram-bind 127.0.0.1:${udp}
    log ring@myring local0
log-forward syslog2local
    bind 127.0.0.1:${tcp}
    log 127.0.0.1:${syslog} local0
`
}

/**
 * A forwarded line with its dates, pid and ports made comparable, and the access log's own
 * fields left out (test/log/differential.test.ts compares those): what the chain did to the line.
 */
const comparable = (line: string): string => line
  .replace(/^(<\d+>1) \S+ /, '$1 DATE ')
  .replace(/\[\d+\]:/, '[PID]:')
  .replace(/:\d+ \[[^\]]+\]/, ':PORT [DATE]')
  .replace(/ -?\d+\/-?\d+\/-?\d+\/-?\d+\/\d+ [^"]*"/, ' FIELDS "')

test('the access log through log-forward, a ring and log-forward again, as HAProxy chains them', { skip: skipWithoutHaproxy }, async (t) => {
  const upstream = await startUpstream('app1')
  t.after(() => upstream.close())
  const seen: Record<string, string> = {}
  for (const label of ['haproxy', 'ours'] as const) {
    const syslog = await syslogServer()
    const proxy = await startProxy(label, chain(syslog.port, upstream.port, await freePort(), await freePort()))
    try {
      // the ring connects to its server once the listeners are up: the first lines may wait for it
      await send(proxy.port, { path: '/client_c1' })
      const [line] = await syslog.wait(1, 8000)
      seen[label] = line!
    } finally {
      await proxy.stop()
      await syslog.close()
    }
  }
  assert.match(seen.ours!, /^<134>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-00:00 haproxy\[\d+\]: - - - - 127\.0\.0\.1:\d+ \[.*\] fe1 be\/app1 .* "GET \/client_c1 HTTP\/1\.1"\n$/)
  assert.equal(comparable(seen.ours!), comparable(seen.haproxy!))
})
