// (c) Stats CSV render time for 1,000 servers (20 backends of 50, one frontend), with counters
// filled in so every column has a value to print. Target: under 20 ms per render. Baseline in
// the same run: JSON.stringify of the same numbers (a floor for "turn the model into text").

import { RateCounter, TrafficCounters, type FrontendView } from '../lib/runtime/state.js'
import { fmt, median, table, verdict } from './report.js'

const BACKENDS = 20
const SERVERS = 50

function configText (): string {
  const lines = ['defaults', '    mode http', '    timeout connect 5s', '    timeout client 30s', '    timeout server 30s',
    'frontend main', '    bind 127.0.0.1:8080', '    default_backend be_0']
  for (let b = 0; b < BACKENDS; b++) {
    lines.push(`backend be_${b}`, '    balance roundrobin')
    for (let s = 0; s < SERVERS; s++) lines.push(`    server s${s} 127.0.${b}.${s + 1}:8080 check weight ${1 + (s % 5)}`)
  }
  return lines.join('\n') + '\n'
}

function fill (c: TrafficCounters, seed: number): void {
  c.stot = 1000 + seed
  c.scur = seed % 7
  c.smax = 50 + (seed % 13)
  c.bin = 123456 * (seed + 1)
  c.bout = 654321 * (seed + 1)
  c.reqTot = 1000 + seed
  c.econ = seed % 3
  c.eresp = seed % 5
  c.wretr = seed % 2
  c.hrsp = [0, 990 + seed, 4, 3, 3 + (seed % 4), 0]
  c.lastSess = Date.now() - seed * 10
  for (let i = 0; i < 10; i++) {
    c.ctime.add(1 + (i % 3))
    c.rtime.add(5 + i)
    c.ttime.add(7 + i)
  }
}

export async function benchStatsCsv (): Promise<string[]> {
  const { parseConfig } = await import('../lib/config/parse.js')
  const { Backend } = await import('../lib/runtime/backend.js')
  const { renderCsv } = await import('../lib/stats/csv.js')
  const config = parseConfig(configText(), { filename: 'stats-bench.cfg' })
  let n = 0
  const proxies = config.proxies.map(proxy => {
    if (proxy.kind === 'frontend') {
      const counters = new TrafficCounters()
      fill(counters, n++)
      const frontend: FrontendView = { name: proxy.name, id: proxy.id, counters, connTot: counters.stot, connRate: new RateCounter(), reqRate: new RateCounter(), maxconn: 0 }
      return { proxy, frontend, backend: null }
    }
    const backend = new Backend(proxy)
    fill(backend.counters, n++)
    for (const server of backend.servers) fill(server.counters, n++)
    return { proxy, frontend: null, backend }
  })
  const servers = proxies.reduce((sum, p) => sum + (p.backend?.servers.length ?? 0), 0)
  const model = { pid: process.pid, startedAt: Date.now() - 60_000, proxies }

  const render = (): string => renderCsv(model)
  const floor = (): string => JSON.stringify(proxies.map(p => [p.proxy.name, p.backend?.servers.map(s => [s.name, s.counters.stot, s.counters.bin, s.counters.bout, s.counters.hrsp, s.weight])]))
  const time = (fn: () => string, reps: number): { ms: number, bytes: number } => {
    let bytes = fn().length
    const runs: number[] = []
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now()
      bytes = fn().length
      runs.push(performance.now() - t0)
    }
    return { ms: median(runs), bytes }
  }
  const first = performance.now()
  render()
  const firstMs = performance.now() - first
  const csv = time(render, 30)
  const json = time(floor, 30)
  const rows = csv.bytes > 0 ? renderCsv(model).split('\n').filter(l => l !== '' && !l.startsWith('#')).length : 0
  return [
    `model: ${servers} servers in ${BACKENDS} backends + 1 frontend; the CSV has ${rows} rows, ${csv.bytes} bytes`,
    '',
    ...table(['what', 'ms', 'target', ''], [
      ['renderCsv, first call', fmt(firstMs, 2), '', ''],
      ['renderCsv, median of 30', fmt(csv.ms, 2), '< 20', verdict(csv.ms, 20)],
      ['baseline: JSON.stringify of the server counters', fmt(json.ms, 2), '', `ours = ${fmt(csv.ms / json.ms, 1)}x`]
    ])
  ]
}
