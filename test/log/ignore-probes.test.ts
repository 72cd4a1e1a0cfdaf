// `option http-ignore-probes` (configuration.txt §4.2), against real HAProxy 2.6.12: connections
// that close, or reach `timeout http-request`, without a byte get no 408, no log line and count
// nothing; those that sent part of a request are still a `<BADREQ>` 400/408, counted as failed
// requests. Without the option every one of them is (observed: ereq, req_tot and hrsp_4xx too).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { send, skipWithoutHaproxy } from '../differential/harness.js'
import { cli, waitForSocket } from '../socket/client.js'
import { bothProxies } from './syslog.js'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** A connection that writes `bytes` (nothing when empty), then closes at once or waits for the proxy to: the status line it got. */
async function probe (port: number, bytes: string, wait: boolean): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await new Promise(resolve => socket.once('connect', resolve))
  if (bytes !== '') socket.write(bytes)
  if (!wait) {
    await sleep(50)
    socket.destroy()
    return 'closed by the client'
  }
  let data = ''
  socket.setEncoding('latin1')
  socket.on('data', (d: string) => { data += d })
  await new Promise(resolve => socket.once('close', resolve))
  return data === '' ? 'closed silently' : data.split('\r\n')[0]!
}

/** `ereq req_tot hrsp_4xx` of the frontend's row. */
async function counters (sock: string): Promise<string> {
  const csv = await cli(sock, 'show stat\n')
  const fields = csv.split('\n')[0]!.replace(/^# /, '').split(',')
  const row = csv.split('\n').find(l => l.startsWith('fe,FRONTEND,'))!.split(',')
  return ['ereq', 'req_tot', 'hrsp_4xx'].map(f => `${f}=${row[fields.indexOf(f)]!}`).join(' ')
}

for (const ignore of [false, true]) {
  test(`${ignore ? 'with' : 'without'} option http-ignore-probes: answers, log lines and counters as in HAProxy`, { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-probes-'))
    try {
      const seen = await bothProxies((syslog) => (port) => [
        'global',
        `    log 127.0.0.1:${syslog} local0`,
        `    stats socket ${dir}/${port}.sock level admin`,
        'defaults',
        '    mode http',
        '    timeout connect 1s',
        '    timeout client 5s',
        '    timeout server 5s',
        '    timeout http-request 300ms',
        '    option httplog',
        '    log global',
        'frontend fe',
        `    bind 127.0.0.1:${port}`,
        ...(ignore ? ['    option http-ignore-probes'] : []),
        '    http-request return status 200',
        ''
      ].join('\n'), async (port, syslog) => {
        await waitForSocket(join(dir, `${port}.sock`))
        const answers = [
          await probe(port, '', false),
          await probe(port, '', true),
          await probe(port, 'GE', false),
          await probe(port, 'GE', true)
        ]
        // a request after them: its line comes after theirs
        assert.equal((await send(port, { path: '/end' })).status, 200)
        const lines = await syslog.wait(1)
        while (!lines.at(-1)!.includes('/end')) lines.splice(0, lines.length, ...await syslog.wait(lines.length + 1))
        // (HAProxy's "Proxy fe started." comes first)
        const logged = lines.slice(0, -1).filter(l => l.includes(' fe fe/')).map(l => / (\d{3}) \d+ - - (\S{4}) .*"([^"]*)"/.exec(l)!.slice(1).join(' ')).sort()
        return [...answers, `lines: ${logged.join(', ')}`, await counters(join(dir, `${port}.sock`))]
      })
      assert.deepEqual(seen.ours, seen.haproxy)
      // what HAProxy 2.6.12 does, stated
      assert.deepEqual(seen.haproxy.slice(0, 4), ['closed by the client', ignore ? 'closed silently' : 'HTTP/1.1 408 Request Time-out', 'closed by the client', 'HTTP/1.1 408 Request Time-out'])
      // (the harness's connect to see the port open is one more empty connection: a line, a failed request)
      assert.equal(seen.haproxy[5], ignore ? 'ereq=2 req_tot=3 hrsp_4xx=2' : 'ereq=5 req_tot=6 hrsp_4xx=5')
      assert.equal(seen.haproxy[4], ignore ? 'lines: 400 CR-- <BADREQ>, 408 cR-- <BADREQ>' : 'lines: 400 CR-- <BADREQ>, 400 CR-- <BADREQ>, 400 CR-- <BADREQ>, 408 cR-- <BADREQ>, 408 cR-- <BADREQ>')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
