// `show sess` and `shutdown session`, compared with real HAProxy 2.6 on the same config and the
// same clients: a request waiting for its server, a TCP tunnel, an idle keep-alive connection
// (no stream: not listed) and the runtime API's own connection, each side listed with the same
// protocol, source, frontend, backend, server and epoch; then sessions cut by id (a request
// waiting for its server gets a 502 and a `KH--` log line).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { head, skipWithoutHaproxy, startBoth, startRawUpstream, freePort } from '../differential/harness.js'
import { cli, waitForSocket } from './client.js'
import { humanTime } from '../../lib/stats/html.js'
import { syslogServer, type Syslog } from '../log/syslog.js'

/** The fields of `show sess`'s lines that do not depend on the process (pointers, ports, fds, timings). */
function fields (text: string): string[] {
  return text.split('\n').filter(l => l.startsWith('0x')).map(l => {
    const f = Object.fromEntries(l.split(' ').slice(1).map(w => w.split('=')).filter(kv => kv.length === 2))
    return `proto=${f.proto} src=${String(f.src).replace(/:\d+$/, '')} fe=${f.fe} be=${f.be} srv=${f.srv} epoch=${f.epoch}`
  }).sort()
}

/** The id of the line of frontend `fe` in a `show sess` answer. */
const idOf = (text: string, fe: string): string => text.split('\n').find(l => l.includes(` fe=${fe} `))?.split(':')[0] ?? 'none'

async function open (port: number, data: string): Promise<Socket> {
  const s = connect(port, '127.0.0.1')
  await once(s, 'connect')
  s.on('error', () => {})
  if (data !== '') s.write(data)
  return s
}

test('humanTime: two units at most, as HAProxy prints ages', () => {
  assert.deepEqual([0, 2, 59, 60, 61, 3600, 3661, 86400 + 7200 + 5].map(humanTime), ['0s', '2s', '59s', '1m', '1m1s', '1h', '1h1m', '1d2h'])
})

test('show sess and shutdown session as haproxy 2.6', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  // a server that takes requests and tunnels and never answers
  const upstream = await startRawUpstream(() => {})
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-sess-'))
  const sock = (level: string, port: number): string => join(dir, `${level}-${port}.sock`)
  const tcpPorts = [await freePort(), await freePort()]
  const tcpOf = new Map<number, number>()
  const syslogs = [await syslogServer(), await syslogServer()]
  const logs = new Map<number, Syslog>()
  const both = await startBoth((port) => {
    tcpOf.set(port, tcpPorts.shift()!)
    const syslog = syslogs.shift()!
    logs.set(port, syslog)
    return head() + [
      'global',
      ...['admin', 'operator', 'user'].map(l => `    stats socket ${sock(l, port)} level ${l}`),
      `    log 127.0.0.1:${syslog.port} format raw local0`,
      'frontend fe',
      '    log global',
      '    option httplog',
      '    timeout client 30s',
      `    bind 127.0.0.1:${port}`,
      '    default_backend be',
      'backend be',
      '    timeout server 30s',
      `    server s1 127.0.0.1:${upstream.port}`,
      'listen t',
      '    mode tcp',
      '    timeout client 30s',
      '    timeout server 30s',
      `    bind 127.0.0.1:${tcpOf.get(port)!}`,
      `    server s1 127.0.0.1:${upstream.port}`,
      ''
    ].join('\n')
  })
  const ports = [both.haproxy.port, both.ours.port]
  const clients: Socket[] = []
  try {
    for (const p of ports) await waitForSocket(sock('admin', p))
    for (const p of ports) {
      clients.push(await open(p, 'GET /wait HTTP/1.1\r\nhost: x\r\n\r\n'), await open(p, ''), await open(tcpOf.get(p)!, 'hello'))
    }
    const ask = async (level: string, cmd: string): Promise<[string, string]> => {
      const [real, ours] = await Promise.all(ports.map(async p => await cli(sock(level, p), cmd + '\n')))
      return [real!, ours!]
    }
    // both sides listed the request and the tunnel once they reached the server
    const deadline = Date.now() + 10_000
    let listed: [string, string]
    for (;;) {
      listed = await ask('operator', 'show sess')
      if (listed.every(t => t.includes(' srv=s1 ') && t.includes(' fe=fe ') && t.includes(' fe=t '))) break
      assert.ok(Date.now() < deadline, `not listed: ${listed.join('\n---\n')}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    const epochs = await ask('operator', 'show sess')
    assert.deepEqual(fields(epochs[1]), fields(epochs[0]))
    assert.equal(fields(epochs[1]).length, 3, 'the idle connection has no stream')
    for (const [level, cmd] of [['user', 'show sess'], ['operator', 'shutdown session 0x1'], ['admin', 'shutdown session'], ['admin', 'shutdown session zz'],
      ['admin', 'shutdown session 0x7ffffffffff0'], ['operator', 'show sess 0x7ffffffffff0']] as const) {
      const [real, ours] = await ask(level, cmd)
      assert.equal(ours, real, `${level}: ${cmd}`)
    }
    // `show sess <id>`: the same first lines once the pointers, ports and dates are set aside
    const mask = (t: string): string => t.split('\n').slice(0, 5).map(l => l.replace(/0x[0-9a-f]+/g, 'P').replace(/:\d+\b/g, ':N').replace(/\[.*?\]/, '[D]').replace(/ id=\d+ proto/, ' id=N proto').replace(/srv_conn=\S+/, 'srv_conn=X').replace(/flags=\S+/, 'flags=X').replace(/ addr=127\.0\.0\.1:N$/, '')).join('\n')
    const [realDetail, ourDetail] = await Promise.all(ports.map(async (p, i) => await cli(sock('operator', p), `show sess ${idOf(epochs[i]!, 'fe')}\n`)))
    assert.equal(mask(ourDetail!), mask(realDetail!))

    // the tunnel cut by id: its client sees the close, on both sides
    const closed = [clients[2]!, clients[5]!].map(async c => { if (!c.destroyed) await once(c, 'close') })
    for (const [i, p] of ports.entries()) assert.equal(await cli(sock('admin', p), `shutdown session ${idOf(epochs[i]!, 't')}\n`), '\n')
    await Promise.all(closed)
    // the request cut by id while it waits for its server: both answer the client a 502 and log
    // it `KH--`, status 502, with the same byte count
    const answers = [clients[0]!, clients[3]!].map(async c => {
      let text = ''
      c.setEncoding('latin1')
      for await (const chunk of c) {
        text += chunk as string
        if (text.includes('</html>\n')) return text
      }
      return text
    })
    for (const [i, p] of ports.entries()) assert.equal(await cli(sock('admin', p), `shutdown session ${idOf(epochs[i]!, 'fe')}\n`), '\n')
    const [realAnswer, ourAnswer] = await Promise.all(answers)
    assert.match(realAnswer!, /^HTTP\/1\.1 502 Bad Gateway\r\n/)
    // node's HTTP server adds its own connection headers to every answer of the gateway
    assert.equal(ourAnswer!.replace(/^(Date|Connection|Keep-Alive): .*\r\n/gm, ''), realAnswer)
    // (the harness's readiness probes log a `<BADREQ>` line first)
    const requestLine = async (syslog: Syslog): Promise<string> => {
      for (let n = 1; ; n++) {
        const line = (await syslog.wait(n)).find(l => l.includes(' fe be/s1 '))
        if (line !== undefined) return line
      }
    }
    const logged = await Promise.all(ports.map(async p => await requestLine(logs.get(p)!)))
    const logFields = (l: string): string => l.replace(/^.*?\] /, '').replace(/ \d+\/\d+\/\d+\/-?\d+\/\d+ /, ' T ').replace(/ \d+\/\d+\/\d+\/\d+\/\d+ /, ' C ')
    assert.match(logged[0], / 502 209 - - KH-- /)
    assert.equal(logFields(logged[1]), logFields(logged[0]))
    const after = await cli(sock('operator', both.ours.port), 'show sess\n')
    assert.ok(!after.includes(' fe=fe ') && !after.includes(' fe=t '), after)
  } finally {
    for (const c of clients) c.destroy()
    await both.stop()
    await upstream.close()
    for (const l of logs.values()) await l.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
