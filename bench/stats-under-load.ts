// (e) The stats page under load: proxied traffic at a steady 100 requests/s through our plugin
// (seed config), measured alone and then while an operator's browser and a CSV scraper read
// the stats page (HTML and `;csv`, 10 requests/s together). Target (issue: stats page): no
// visible latency added to proxied traffic — p50/p99 of the proxied requests about equal.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import autocannon from 'autocannon'
import { fmt, table } from './report.js'
import { seedConfig } from './seed-config.js'
import { freePort, launch, stop, targetScript } from './proxy-throughput.js'

const PROXIED_RATE = 100
const STATS_RATE = 10
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`

interface Latency { p50: number, p99: number, requests: number, bad: number }

async function proxied (port: number, seconds: number): Promise<Latency> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/bench`, connections: 10, overallRate: PROXIED_RATE, duration: seconds })
  return { p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, bad: r.non2xx + r.errors }
}

function statsReaders (port: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 2,
    overallRate: STATS_RATE,
    duration: seconds,
    requests: [
      { method: 'GET', path: '/haproxy_stats', headers: { authorization: AUTH } },
      { method: 'GET', path: '/haproxy_stats;csv', headers: { authorization: AUTH } }
    ]
  })
}

export async function benchStatsUnderLoad (seconds = 10): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-stats-'))
  const [up1, up2, port] = [await freePort(), await freePort(), await freePort()]
  const tsx = ['--import', 'tsx', targetScript]
  let upstream: ChildProcess | undefined
  let plugin: ChildProcess | undefined
  try {
    upstream = await launch(0, process.execPath, [...tsx, 'upstream', String(up1), String(up2)], { line: 'ready' })
    const file = join(dir, 'seed.cfg')
    writeFileSync(file, seedConfig({ frontend: port, stats: await freePort(), up1, up2 }))
    plugin = await launch(1, process.execPath, [...tsx, 'plugin', String(port), file], { line: 'ready' })
    await proxied(port, 2) // warm-up
    const alone = await proxied(port, seconds)
    const [withStats, readers] = await Promise.all([proxied(port, seconds), statsReaders(port, seconds)])
    const rows = [
      ['alone', fmt(alone.p50, 1), fmt(alone.p99, 1), String(alone.requests), String(alone.bad)],
      [`with stats readers (${readers.requests.total} pages, ${readers.non2xx} non-2xx)`, fmt(withStats.p50, 1), fmt(withStats.p99, 1), String(withStats.requests), String(withStats.bad)]
    ]
    const p99Ratio = withStats.p99 / Math.max(alone.p99, 1)
    // p99 is in whole milliseconds: a 2 ms difference is within one tick of scheduling noise
    const unchanged = p99Ratio <= 1.5 || withStats.p99 - alone.p99 <= 2
    return [
      `proxied GET at ${PROXIED_RATE} req/s for ${seconds} s; stats readers: ${STATS_RATE} req/s of HTML and ;csv with auth`, '',
      ...table(['proxied traffic', 'p50 ms', 'p99 ms', 'requests', 'errors'], rows), '',
      `p99 with stats readers / alone: ${fmt(p99Ratio, 2)}x (target: ≤ 1.5x or ≤ 2 ms more: ${unchanged ? 'met' : 'MISSED'})`
    ]
  } finally {
    await Promise.all([stop(plugin), stop(upstream)])
    rmSync(dir, { recursive: true, force: true })
  }
}
