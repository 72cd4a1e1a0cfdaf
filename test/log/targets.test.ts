// Log targets: a dead UDP server costs nothing but counted drops; unix datagram sockets
// (`/dev/log`, `unix@/path`) through the optional unix-dgram package.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import dgram from 'node:dgram'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../lib/config/parse.js'
import { LogTargets } from '../../lib/log/logger.js'
import { LogSinks, unixSocketsAvailable } from '../../lib/log/targets.js'
import { deadPort } from '../gateway/fixtures.js'

function targetsOf (line: string): { targets: LogTargets, sinks: LogSinks } {
  const config = parseConfig(`global\n    ${line}\n`, { env: {} })
  assert.deepEqual(config.diagnostics.filter(d => d.level === 'alert'), [])
  const sinks = new LogSinks()
  return { targets: new LogTargets(config.global.logs, config, 'haproxy', sinks), sinks }
}

test('a dead UDP syslog server: sending returns at once, the lost lines are counted', async () => {
  const { targets, sinks } = targetsOf(`log 127.0.0.1:${await deadPort()} local0`)
  const started = process.hrtime.bigint()
  for (let i = 0; i < 200; i++) {
    targets.send(6, `line ${i}`)
    await new Promise(resolve => setImmediate(resolve))
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  for (let i = 0; i < 100 && sinks.dropped === 0; i++) await new Promise(resolve => setTimeout(resolve, 20))
  assert.ok(sinks.dropped > 0, 'ICMP port unreachable comes back as counted drops')
  // after the first error the target rests: the other lines are dropped without a send
  assert.ok(sinks.dropped > 100, `${sinks.dropped} of 200 lines counted as dropped`)
  assert.ok(ms < 5000, `200 lines took ${ms} ms`)
  sinks.close()
})

test('lines sent after the sinks closed (requests finishing during a stop) are dropped, never thrown', async (t) => {
  const server = dgram.createSocket('udp4')
  let received = 0
  server.on('message', () => { received++ })
  await new Promise<void>(resolve => server.bind(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const { targets, sinks } = targetsOf(`log 127.0.0.1:${server.address().port} local0`)
  // the socket is connected once a line has arrived
  for (let i = 0; i < 100 && received === 0; i++) {
    targets.send(6, `line ${i}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  assert.ok(received > 0)
  sinks.close()
  assert.doesNotThrow(() => targets.send(6, 'after close'))
})

test('unix datagram socket targets (`unix@/path`, `/path`)', { skip: unixSocketsAvailable() ? false : 'the optional unix-dgram package is not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-log-unix-'))
  const path = join(dir, 'log.sock')
  const unix = createRequire(import.meta.url)('unix-dgram') as { createSocket: (t: string, cb: (m: Buffer) => void) => { bind (p: string): void, close (): void } }
  const got: string[] = []
  const rx = unix.createSocket('unix_dgram', (m) => { got.push(m.toString()) })
  rx.bind(path)
  try {
    for (const [n, target] of [`unix@${path}`, path].entries()) {
      const { targets, sinks } = targetsOf(`log ${target} local0`)
      targets.send(5, `hello from ${target}`)
      for (let i = 0; i < 100 && got.length <= n; i++) await new Promise(resolve => setTimeout(resolve, 20))
      sinks.close()
    }
    assert.equal(got.length, 2, JSON.stringify(got))
    assert.match(got[0]!, new RegExp(`^<133>\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d haproxy\\[${process.pid}\\]: hello from unix@`))
  } finally {
    rx.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
