// `spread-checks` (configuration.txt §3.2): each check interval is drawn within ± the percentage
// of `inter`, for health checks and agent checks alike; without it checks keep their interval.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { parseConfig } from '../../lib/config/parse.js'
import { Backend } from '../../lib/runtime/backend.js'
import { HealthChecker } from '../../lib/runtime/health.js'
import { spreadInterval } from '../../lib/runtime/spread-checks.js'
import { until } from './helpers.js'

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

/** When each check connection reached a listener, for `count` checks of a server (`extra`: its check options). */
async function checkTimes (global: string, extra: string, count: number, agent = false): Promise<number[]> {
  const times: number[] = []
  const srv = net.createServer((sock) => { times.push(Date.now()); sock.on('error', () => {}); if (agent) sock.end('up\n'); else sock.destroy() })
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', () => resolve()))
  const port = (srv.address() as net.AddressInfo).port
  const config = parseConfig(`${global}defaults\n  mode http\n  timeout connect 1s\nbackend be\n  server s1 127.0.0.1:${port} ${extra.replaceAll('PORT', String(port))}\n`)
  const hc = new HealthChecker([new Backend(config.proxies[0]!)], { config })
  hc.start()
  try {
    await until(() => times.length >= count, 30_000, `${count} checks`)
  } finally {
    hc.stop()
    await new Promise<void>(resolve => srv.close(() => resolve()))
  }
  return times
}

const gaps = (t: number[]): number[] => t.slice(1).map((x, i) => x - t[i]!)

test('spread-checks 50: some intervals are well under inter (never without it)', async () => {
  // an interval never comes early without spreading (a busy machine only makes them later; the
  // margin covers a slow connect followed by a quick one)
  const plain = gaps(await checkTimes('', 'check inter 100', 6))
  assert.ok(Math.min(...plain) >= 70, `without spread-checks: ${plain.join(' ')}`)
  // with ±50 %, intervals fall in 50…150 ms: none under 70 ms in 40 has odds of 1 in 7000
  const spread = gaps(await checkTimes('global\n  spread-checks 50\n', 'check inter 100', 41))
  assert.ok(Math.min(...spread) < 70, `with spread-checks 50: ${spread.join(' ')}`)
  const agents = gaps(await checkTimes('global\n  spread-checks 50\n', 'agent-check agent-port PORT agent-inter 100', 41, true))
  assert.ok(Math.min(...agents) < 70, `agent checks with spread-checks 50: ${agents.join(' ')}`)
})
