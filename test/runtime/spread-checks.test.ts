// `spread-checks` (configuration.txt §3.2): each check interval is drawn within ± the percentage
// of `inter`, for health checks and agent checks alike; without it checks keep their interval.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { parseConfig } from '../../lib/config/parse.js'
import { Backend } from '../../lib/runtime/backend.js'
import { HealthChecker } from '../../lib/runtime/health.js'
import { spreadInterval } from '../../lib/runtime/spread-checks.js'
import { waitFor } from '../gateway/fixtures.js'

test('spreadInterval: within ± percent of the interval, uniformly; 0 keeps it', () => {
  assert.equal(spreadInterval(2000, 5, () => 0), 1900)
  assert.equal(spreadInterval(2000, 5, () => 0.5), 2000)
  assert.equal(spreadInterval(2000, 5, () => 1), 2100)
  assert.equal(spreadInterval(2000, 50, () => 0), 1000)
  assert.equal(spreadInterval(2000, 0, () => 0), 2000)
})

test('spread-checks: -c takes 0..50 with HAProxy\'s messages', () => {
  const alerts = (v: string): string[] => parseConfig(`global\n  spread-checks ${v}\n`).diagnostics.filter(d => d.level !== 'notice').map(d => d.message)
  assert.deepEqual(alerts('5'), [])
  assert.deepEqual(alerts('60'), ["'spread-checks' needs a positive value in range 0..50."])
  assert.deepEqual(alerts('-1'), ["'spread-checks' needs a positive value in range 0..50."])
  assert.deepEqual(alerts(''), ["'spread-checks' expects an integer argument (0..50)."])
  assert.equal(parseConfig('global\n  spread-checks 5\n').global.spreadChecks, 5)
})

/**
 * When each check connection reached a listener, for `count` checks of a server (`extra`: its
 * check options); `random` draws the spread (0: every interval at its shortest).
 */
async function checkTimes (global: string, extra: string, count: number, random: () => number, agent = false): Promise<number[]> {
  const times: number[] = []
  const srv = net.createServer((sock) => { times.push(Date.now()); sock.on('error', () => {}); if (agent) sock.end('up\n'); else sock.destroy() })
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', () => resolve()))
  const port = (srv.address() as net.AddressInfo).port
  const config = parseConfig(`${global}defaults\n  mode http\n  timeout connect 1s\nbackend be\n  server s1 127.0.0.1:${port} ${extra.replaceAll('PORT', String(port))}\n`)
  const hc = new HealthChecker([new Backend(config.proxies[0]!)], { config, random })
  hc.start()
  try {
    await waitFor(() => times.length >= count, `${count} checks`)
  } finally {
    hc.stop()
    await new Promise<void>(resolve => srv.close(() => resolve()))
  }
  return times
}

/** The middle interval between checks: one late timer or slow connect does not move it. */
function medianGap (t: number[]): number {
  const gaps = t.slice(1).map((x, i) => x - t[i]!).sort((a, b) => a - b)
  return gaps[Math.floor(gaps.length / 2)]!
}

test('spread-checks 50: intervals drawn at their shortest are half of inter, for checks and agents', async () => {
  const shortest = (): number => 0
  // without spread-checks the draw changes nothing: intervals stay at inter (a busy machine only lengthens them)
  const plain = await checkTimes('', 'check inter 200', 8, shortest)
  assert.ok(medianGap(plain) >= 180, `without spread-checks: ${medianGap(plain)} ms`)
  const checks = await checkTimes('global\n  spread-checks 50\n', 'check inter 200', 8, shortest)
  assert.ok(medianGap(checks) < 160, `with spread-checks 50: ${medianGap(checks)} ms`)
  const agents = await checkTimes('global\n  spread-checks 50\n', 'agent-check agent-port PORT agent-inter 200', 8, shortest, true)
  assert.ok(medianGap(agents) < 160, `agent checks with spread-checks 50: ${medianGap(agents)} ms`)
})
