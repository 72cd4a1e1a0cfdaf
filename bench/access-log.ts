// (g) Access logs. First in process, the cost of one request's line alone (record, httplog
// format, syslog framing, the send) for each kind of target, from process.cpuUsage over many
// lines: steady on a busy machine. Then CPU per proxied request with `option httplog` written
// to stdout and sent to a UDP syslog server, against the same plugin without logging (seed
// config), in the same run (target: ≤ 3 µs more per request); then 10,000 req/s with the log
// target dead (nothing listens on its UDP port): the request path must not slow down.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dgram from 'node:dgram'
import type { AddressInfo } from 'node:net'
import type { ChildProcess } from 'node:child_process'
import autocannon from 'autocannon'
import { fmt, median, table, verdict } from './report.js'
import { seedConfig } from './seed-config.js'
import { clockTicks, cpuTicks, freePort, launch, stop, targetScript } from './proxy-throughput.js'
import type { IncomingMessage } from 'node:http'
import { parseConfig } from '../lib/config/parse.js'
import { AccessLog, LogTargets } from '../lib/log/logger.js'
import { LogSinks } from '../lib/log/targets.js'
import { makeTxn } from '../lib/runtime/forward.js'

/** µs of CPU per line: `n` requests' records made and written by a frontend's AccessLog. */
async function perLine (logLine: string, n: number): Promise<number> {
  const config = parseConfig(`defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:1\n    option httplog\n${logLine}    default_backend be\nbackend be\n    server s 127.0.0.1:2\n`, { env: {} })
  const proxy = config.proxies[0]!
  const sinks = new LogSinks()
  const targets = new LogTargets(LogTargets.of(proxy, config), config, 'haproxy', sinks)
  const counts = { active: () => 1, frontend: () => 1, backend: () => 0, server: () => 0 }
  const log = new AccessLog(proxy, config, targets, counts, targets.empty)
  const socket = { remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 8080 }
  const req = { url: '/api/items?page=2', method: 'GET', httpVersion: '1.1', headers: { host: 'example.com', 'user-agent': 'bench' }, socket } as unknown as IncomingMessage
  const one = (): void => {
    const now = Date.now()
    const rec = log.begin(makeTxn(req, 'fe'), req, now)
    rec.backend = 'be'
    rec.server = 's'
    rec.tw = 0; rec.tc = 0; rec.tr = 1; rec.status = 200; rec.bytesOut = 312
    log.emit(rec, now + 1)
  }
  for (let i = 0; i < 20_000; i++) one()
  // the transaction is made for every request with or without logging: measured apart
  const t0 = process.cpuUsage()
  for (let i = 0; i < n; i++) makeTxn(req, 'fe')
  const txnOnly = process.cpuUsage(t0)
  const t1 = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    one()
    // let the datagrams leave as they would between requests
    if (i % 500 === 499) await new Promise(resolve => setImmediate(resolve))
  }
  const all = process.cpuUsage(t1)
  await new Promise(resolve => setTimeout(resolve, 100))
  sinks.close()
  return ((all.user + all.system) - (txnOnly.user + txnOnly.system)) / n
}

interface Variant { name: string, log: (syslog: number, dead: number) => string }

const VARIANTS: Variant[] = [
  { name: 'no logging', log: () => '' },
  { name: 'option httplog, log stdout', log: () => '    option httplog\n    log stdout format raw local0\n' },
  { name: 'option httplog, log UDP syslog', log: (syslog) => `    option httplog\n    log 127.0.0.1:${syslog} local0\n` },
  { name: 'option httplog, dead UDP target', log: (_s, dead) => `    option httplog\n    log 127.0.0.1:${dead} local0\n` }
]

/** The seed config with `lines` in its frontend. */
function withLog (base: string, lines: string): string {
  return base.replace(/(frontend\s+main\n\s+bind [^\n]+\n)/, `$1${lines}`)
}

async function cpuPerRequest (child: ChildProcess, port: number, seconds: number): Promise<{ us: number, rps: number }> {
  const before = cpuTicks(child.pid!)
  const r = await autocannon({ url: `http://127.0.0.1:${port}/bench`, connections: 50, duration: seconds })
  const ticks = cpuTicks(child.pid!) - before
  return { us: ticks * (1e6 / clockTicks) / Math.max(r.requests.total, 1), rps: r.requests.average }
}

async function atRate (port: number, rate: number, seconds: number): Promise<{ p50: number, p99: number, rps: number, bad: number }> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/bench`, connections: 50, overallRate: rate, duration: seconds })
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, bad: r.non2xx + r.errors }
}

export async function benchAccessLog (opts: { duration: number, rounds: number }): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-log-'))
  const tsx = ['--import', 'tsx', targetScript]
  const receiver = dgram.createSocket('udp4')
  let received = 0
  receiver.on('message', () => { received++ })
  await new Promise<void>(resolve => receiver.bind(0, '127.0.0.1', resolve))
  const syslog = (receiver.address() as AddressInfo).port
  const dead = await freePort()
  const [up1, up2] = [await freePort(), await freePort()]
  let upstream: ChildProcess | undefined
  const children: ChildProcess[] = []
  try {
    const n = 100_000
    const inProcess = [
      ['format only (request logger off)', await perLine('', n)],
      ['UDP syslog (live receiver)', await perLine(`    log 127.0.0.1:${syslog} local0\n`, n)],
      ['UDP syslog (dead target)', await perLine(`    log 127.0.0.1:${dead} local0\n`, n)]
    ] as const
    upstream = await launch(0, process.execPath, [...tsx, 'upstream', String(up1), String(up2)], { line: 'ready' })
    const suts: Array<{ v: Variant, child: ChildProcess, port: number }> = []
    for (const v of VARIANTS) {
      const port = await freePort()
      const file = join(dir, `${suts.length}.cfg`)
      writeFileSync(file, withLog(seedConfig({ frontend: port, stats: await freePort(), up1, up2 }), v.log(syslog, dead)))
      const child = await launch(1, process.execPath, [...tsx, 'plugin', String(port), file], { line: 'ready' })
      // the stdout variant's lines are read and dropped here, as a log collector would
      child.stdout?.removeAllListeners('data')
      child.stdout?.resume()
      children.push(child)
      suts.push({ v, child, port })
      await atRate(port, 2000, 1) // warm-up
    }
    const cpu = new Map<string, number[]>(VARIANTS.map(v => [v.name, []]))
    for (let round = 0; round < opts.rounds; round++) {
      for (let i = 0; i < suts.length; i++) {
        const s = suts[(i + round) % suts.length]!
        const r = await cpuPerRequest(s.child, s.port, opts.duration)
        if (round > 0) cpu.get(s.v.name)!.push(r.us)
      }
    }
    const base = median(cpu.get('no logging')!)
    const rows = VARIANTS.map(v => {
      const us = median(cpu.get(v.name)!)
      return [v.name, fmt(us, 1), fmt(us - base, 2), v.name === 'no logging' ? '' : verdict(us - base, 3)]
    })
    // 10,000 req/s, no logging vs a dead target
    const rate = 10_000
    const quiet = await atRate(suts[0]!.port, rate, opts.duration * 2)
    const deadRun = await atRate(suts[3]!.port, rate, opts.duration * 2)
    const slower = deadRun.p99 <= quiet.p99 * 1.5 || deadRun.p99 - quiet.p99 <= 2
    return [
      `One request's line in process (record + httplog format + framing + send), CPU µs per line over ${n} lines:`, '',
      ...table(['target', 'CPU µs/line', 'target ≤ 3 µs'], inProcess.map(([name, us]) => [name, fmt(us, 2), verdict(us, 3)])), '',
      `CPU µs per proxied request (medians of rounds 2–${opts.rounds}, ${opts.duration} s each, autocannon -c50); syslog datagrams received: ${received}`, '',
      ...table(['variant', 'CPU µs/req', '+µs vs no logging', 'target ≤ 3 µs'], rows), '',
      `${rate} req/s offered for ${opts.duration * 2} s: no logging p50 ${fmt(quiet.p50, 1)} ms p99 ${fmt(quiet.p99, 1)} ms (${fmt(quiet.rps, 0)} req/s, ${quiet.bad} errors);`,
      `dead UDP target p50 ${fmt(deadRun.p50, 1)} ms p99 ${fmt(deadRun.p99, 1)} ms (${fmt(deadRun.rps, 0)} req/s, ${deadRun.bad} errors): ${slower ? 'not slowed (met)' : 'SLOWER (MISSED)'}`
    ]
  } finally {
    await Promise.all([...children.map(c => stop(c)), stop(upstream)])
    receiver.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
