// (g) Access logs (issue 12: `option httplog` costs at most 3 µs CPU per proxied request, to
// stdout and to UDP syslog, against no logging in the same run; 10k req/s to a dead syslog target
// does not slow the request path). Method of bench/paired.ts: paired batches in ABBA order, CPU
// time of the process under test, the median of the differences with a bootstrap 95 % interval.
//   1. In this process, the parts of a request's line: the record and the httplog line (no
//      target: the request-logger path), the same sent to a UDP syslog server, and node's bare
//      dgram send of such a line (the system call's floor) — each against the same loop without it.
//   2. Over sockets: one child process (pinned to CPU 1) serves the variants, each its own Fastify
//      app and port (no logging; a second identical one, the A/A control; `log stdout`; UDP
//      syslog; a dead UDP target); wrk (CPU 0) loads one port for 1 s per batch; CPU ns of the
//      child (schedstat) per request. Real HAProxy 2.6 is measured the same way, one process with
//      two frontends (without and with `option httplog` + UDP syslog), for what the same line
//      costs it on this machine.
//   3. 10,000 req/s offered to the no-logging app and to the dead-target app (ABBA, 2 s each): p99 latency.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dgram from 'node:dgram'
import type { AddressInfo } from 'node:net'
import { spawn, type ChildProcess } from 'node:child_process'
import type { IncomingMessage } from 'node:http'
import autocannon from 'autocannon'
import { fmt, median, table } from './report.js'
import { seedConfig } from './seed-config.js'
import { freePort, has, launch, loadWrk, stop, targetScript } from './proxy-throughput.js'
import { cpuNs, fmtInterval, medianInterval, runPaired, settle, verdict, type Pair } from './paired.js'
import { parseConfig } from '../lib/config/parse.js'
import { AccessLog, LogTargets } from '../lib/log/logger.js'
import { LogSinks } from '../lib/log/targets.js'
import { makeTxn } from '../lib/runtime/forward.js'

export interface LogBenchOptions {
  /** Seconds of paired batches over sockets; the in-process part takes a fifth of it more. */
  budget: number
}

/** Write system calls of a process so far (proc(5) /proc/PID/io `syscw`); NaN where it cannot be read. */
function writeCalls (pid: number): number {
  try {
    return Number(/syscw:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1])
  } catch {
    return NaN
  }
}

/** Requests per in-process batch. */
const LINE_BATCH = 500
/** Seconds per batch over sockets (wrk counts whole seconds). */
const BATCH_SECONDS = 1
/** The target of issue 12, µs per request. */
const TARGET_US = 3

type LineSetup = 'none' | 'format' | 'udp' | 'dgram' | 'stdout'
/** Requests per event-loop turn in the in-process loops (lines written to stdout leave once per turn). */
const PER_TURN = 10

/**
 * In process: µs of CPU per request for each part of a line, paired against the loop without it.
 * `pipe` stands for the CLI's stdout: a pipe to a process that reads and drops.
 */
async function linesInProcess (syslog: number, pipe: NodeJS.WriteStream, seconds: number): Promise<{ diffs: Map<string, number[]>, base: number, seconds: number, dropped: number }> {
  const make = (logLine: string): { log: AccessLog, sinks: LogSinks } => {
    const config = parseConfig(`defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:1\n    option httplog\n${logLine}    default_backend be\nbackend be\n    server s 127.0.0.1:2\n`, { env: {} })
    const proxy = config.proxies[0]!
    const sinks = new LogSinks()
    const targets = new LogTargets(LogTargets.of(proxy, config), config, 'haproxy', sinks)
    const counts = { active: () => 1, frontend: () => 1, backend: () => 0, server: () => 0 }
    return { log: new AccessLog(proxy, config, targets, counts, targets.empty), sinks }
  }
  const format = make('')
  const udp = make(`    log 127.0.0.1:${syslog} local0\n`)
  // the stdout target's sink takes process.stdout when it is made: the pipe, for that moment only
  const stdoutProperty = Object.getOwnPropertyDescriptor(process, 'stdout')!
  Object.defineProperty(process, 'stdout', { value: pipe, configurable: true })
  let stdout: ReturnType<typeof make>
  try {
    stdout = make('    log stdout format raw local0\n')
  } finally {
    Object.defineProperty(process, 'stdout', stdoutProperty)
  }
  const socket = { remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 8080 }
  const req = { url: '/api/items?page=2', method: 'GET', httpVersion: '1.1', headers: { host: 'example.com', 'user-agent': 'bench' }, socket } as unknown as IncomingMessage
  // a framed line as the UDP target sends it, for node's bare send
  const sample = '<134>Dec  7 00:00:00 haproxy[12345]: 127.0.0.1:40000 [07/Dec/2026:00:00:00.000] fe be/s 0/0/0/1/1 200 312 - - ---- 1/1/0/0/0 0/0 "GET /api/items?page=2 HTTP/1.1"'
  const bare = dgram.createSocket('udp4')
  await new Promise<void>(resolve => bare.connect(syslog, '127.0.0.1', resolve))
  const one = (log: AccessLog): void => {
    const now = Date.now()
    // the transaction is made for every request with or without logging: in every setup
    const rec = log.begin(makeTxn(req, 'fe'), req, now)
    rec.backend = 'be'
    rec.server = 's'
    rec.tw = 0; rec.tc = 0; rec.tr = 1; rec.status = 200; rec.bytesOut = 312
    log.emit(rec, now + 1)
  }
  const batch = async (setup: LineSetup): Promise<number> => {
    settle()
    const log = setup === 'format' ? format.log : setup === 'udp' ? udp.log : stdout.log
    const before = process.cpuUsage()
    for (let i = 0; i < LINE_BATCH; i++) {
      if (setup === 'none') makeTxn(req, 'fe')
      else if (setup === 'dgram') { makeTxn(req, 'fe'); bare.send(sample) } else one(log)
      // turns of the event loop as between requests (stdout's lines of a turn leave together)
      if (i % PER_TURN === PER_TURN - 1) await new Promise(resolve => setImmediate(resolve))
    }
    const used = process.cpuUsage(before)
    return (used.user + used.system) / LINE_BATCH
  }
  try {
    for (let i = 0; i < 40; i++) for (const s of ['none', 'format', 'udp', 'dgram', 'stdout'] as const) await batch(s)
    const pairs: Array<Pair<LineSetup>> = [
      { name: 'record + httplog line, no target (the request-logger path)', a: 'none', b: 'format' },
      { name: `record + httplog line + log stdout (a pipe; one write per turn of ${PER_TURN} requests)`, a: 'none', b: 'stdout' },
      { name: 'record + httplog line + syslog framing + UDP send', a: 'none', b: 'udp' },
      { name: "node's dgram send of one framed line alone (the floor)", a: 'none', b: 'dgram' }
    ]
    const started = Date.now()
    const r = await runPaired(pairs, 1_000_000, batch, started + seconds * 1000)
    return { diffs: r.diffs, base: median(r.samples.get('none')!), seconds: (Date.now() - started) / 1000, dropped: udp.sinks.dropped }
  } finally {
    format.sinks.close()
    udp.sinks.close()
    stdout.sinks.close()
    bare.close()
  }
}

const VARIANTS = {
  off: { what: 'no logging (seed config)', log: () => '' },
  'off-2': { what: 'the same, a second app (A/A control)', log: () => '' },
  stdout: { what: 'option httplog, log stdout format raw', log: () => '    option httplog\n    log stdout format raw local0\n' },
  udp: { what: 'option httplog, log to a UDP syslog server', log: (syslog: number) => `    option httplog\n    log 127.0.0.1:${syslog} local0\n` },
  dead: { what: 'option httplog, log to a dead UDP target', log: (_syslog: number, dead: number) => `    option httplog\n    log 127.0.0.1:${dead} local0\n` },
  'haproxy-off': { what: 'real HAProxy 2.6, 1 thread, seed frontend', log: () => '' },
  'haproxy-udp': { what: 'the same HAProxy process, a second frontend with option httplog + UDP syslog', log: () => '' }
} as const
type Variant = keyof typeof VARIANTS

/** The seed config with `lines` in its frontend. */
function withLog (base: string, lines: string): string {
  return base.replace(/(frontend\s+main\n\s+bind [^\n]+\n)/, `$1${lines}`)
}

/** The seed config for HAProxy with a second frontend `logged`, the same rules plus `lines`. */
function withLoggedFrontend (base: string, port: number, lines: string): string {
  const fe = /frontend\s+main\n[\s\S]*?(?=\nbackend )/.exec(base)![0]
  const logged = fe.replace(/frontend\s+main\n\s+bind [^\n]+\n/, `frontend logged\n    bind 127.0.0.1:${port}\n${lines}`)
  return base.replace(fe, `${fe}\n${logged}`)
}

async function atRate (port: number, rate: number, seconds: number): Promise<{ p50: number, p99: number, rps: number, bad: number }> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/bench`, connections: 50, overallRate: rate, duration: seconds })
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, bad: r.non2xx + r.errors }
}

export async function benchAccessLog (opts: LogBenchOptions): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-log-'))
  const tsx = ['--import', 'tsx', targetScript]
  const receiver = dgram.createSocket('udp4')
  let received = 0
  receiver.on('message', () => { received++ })
  await new Promise<void>(resolve => receiver.bind(0, '127.0.0.1', resolve))
  const syslog = (receiver.address() as AddressInfo).port
  const dead = await freePort()
  const [up1, up2] = [await freePort(), await freePort()]
  const children: ChildProcess[] = []
  const notes: string[] = []
  try {
    // the in-process part's datagrams go to another process: reading them here would land in its batches
    const sink = await freePort()
    children.push(await launch(0, process.execPath, ['-e', `require('node:dgram').createSocket('udp4').on('message', () => {}).bind(${sink}, '127.0.0.1', () => console.log('ready'))`], { line: 'ready' }))
    const drop = spawn('sh', ['-c', 'cat > /dev/null'], { stdio: ['pipe', 'ignore', 'ignore'] })
    let lines: Awaited<ReturnType<typeof linesInProcess>>
    try {
      lines = await linesInProcess(sink, drop.stdin as unknown as NodeJS.WriteStream, opts.budget / 5)
    } finally {
      drop.stdin.end()
    }

    children.push(await launch(0, process.execPath, [...tsx, 'upstream', String(up1), String(up2)], { line: 'ready' }))
    const ports = new Map<Variant, number>()
    const specs: string[] = []
    for (const v of ['off', 'off-2', 'stdout', 'udp', 'dead'] as const) {
      const port = await freePort()
      const file = join(dir, `${v}.cfg`)
      writeFileSync(file, withLog(seedConfig({ frontend: port, stats: await freePort(), up1, up2 }), VARIANTS[v].log(syslog, dead)))
      ports.set(v, port)
      specs.push(`plain=${port}=${file}`)
    }
    const sut = await launch(1, process.execPath, [...tsx, 'plugins', ...specs], { line: 'ready' })
    children.push(sut)
    // the stdout variant's lines are read and dropped here, as a log collector would
    sut.stdout?.removeAllListeners('data')
    sut.stdout?.resume()
    const pids = new Map<Variant, number>([...ports.keys()].map(v => [v, sut.pid as number]))
    if (has('haproxy')) {
      const [off, logged] = [await freePort(), await freePort()]
      const file = join(dir, 'haproxy.cfg')
      writeFileSync(file, withLoggedFrontend(seedConfig({ frontend: off, stats: await freePort(), up1, up2 }), logged, VARIANTS.udp.log(syslog)))
      const haproxy = await launch(1, 'haproxy', ['-db', '-f', file], { port: logged })
      children.push(haproxy)
      ports.set('haproxy-off', off).set('haproxy-udp', logged)
      pids.set('haproxy-off', haproxy.pid as number).set('haproxy-udp', haproxy.pid as number)
    } else {
      notes.push('haproxy is not installed: no HAProxy rows')
    }
    let errors = 0
    // write system calls per request (/proc/PID/io syscw): how many lines one stdout write carries
    const writes = new Map<Variant, number[]>()
    const batch = async (v: Variant): Promise<number> => {
      const pid = pids.get(v)!
      const before = cpuNs(pid)
      const syscw = writeCalls(pid)
      const r = await loadWrk(ports.get(v)!, BATCH_SECONDS)
      errors += r.bad
      writes.set(v, [...(writes.get(v) ?? []), (writeCalls(pid) - syscw) / Math.max(r.requests, 1)])
      return (cpuNs(pid) - before) / 1000 / Math.max(r.requests, 1)
    }
    for (const v of ports.keys()) await batch(v) // warm-up
    const pairs: Array<Pair<Variant>> = [
      { name: 'option httplog + log stdout − no logging', a: 'off', b: 'stdout' },
      { name: 'option httplog + UDP syslog − no logging', a: 'off', b: 'udp' },
      { name: 'A/A control: two identical apps', a: 'off-2', b: 'off' }
    ]
    if (ports.has('haproxy-udp')) pairs.push({ name: 'real HAProxy: option httplog + UDP syslog − none', a: 'haproxy-off', b: 'haproxy-udp' })
    const started = Date.now()
    const sockets = await runPaired(pairs, 1000, batch, started + opts.budget * 1000)
    const socketSeconds = (Date.now() - started) / 1000

    // 10,000 req/s, no logging vs a dead target
    // in ABBA order too, 2 s each; the two runs of each averaged
    const rate = 10_000
    const runs = { off: [] as Array<Awaited<ReturnType<typeof atRate>>>, dead: [] as Array<Awaited<ReturnType<typeof atRate>>> }
    for (const v of ['off', 'dead', 'dead', 'off'] as const) runs[v].push(await atRate(ports.get(v)!, rate, 2))
    const mean = (rs: typeof runs.off): Awaited<ReturnType<typeof atRate>> =>
      ({ p50: (rs[0]!.p50 + rs[1]!.p50) / 2, p99: (rs[0]!.p99 + rs[1]!.p99) / 2, rps: (rs[0]!.rps + rs[1]!.rps) / 2, bad: rs[0]!.bad + rs[1]!.bad })
    const quiet = mean(runs.off)
    const deadRun = mean(runs.dead)
    const notSlower = deadRun.p99 <= quiet.p99 * 1.5 || deadRun.p99 - quiet.p99 <= 2

    // over sockets, a run whose A/A pair strays beyond the target cannot tell the target either way
    const rows = (diffs: Map<string, number[]>, names: string[]): string[][] => {
      const floor = diffs.has(pairs[2]!.name) ? medianInterval(diffs.get(pairs[2]!.name)!) : null
      const sound = floor === null || Math.max(Math.abs(floor.lo), Math.abs(floor.hi)) <= TARGET_US
      return names.map(name => {
        const d = medianInterval(diffs.get(name)!)
        return [name, String(d.n), fmtInterval(d, 2), name.startsWith('A/A') ? '(floor)' : name.startsWith('real HAProxy') ? '(HAProxy)' : sound ? verdict(d, TARGET_US) : `noise (A/A > ${TARGET_US} µs)`]
      })
    }
    const usedVariants = [...ports.keys()]
    const stdoutWrites = median(writes.get('stdout') ?? []) - median(writes.get('off') ?? [])
    return [
      `1. In this process, ${LINE_BATCH} requests per batch, ABBA quads for ${fmt(lines.seconds, 0)} s, each against the same loop without the part`,
      `   (${fmt(lines.base, 2)} µs: the transaction every request makes, and a turn of the loop per ${PER_TURN}), CPU µs per request; UDP lines dropped: ${lines.dropped}:`, '',
      ...table(['part of a line', 'quads', 'µs per request', `target ≤ ${TARGET_US} µs`], rows(lines.diffs, [...lines.diffs.keys()]).map(r => r[0]!.startsWith("node's") ? [...r.slice(0, 3), '(floor)'] : r)),
      '',
      `2. Over sockets: one process serving our variants (each its own app and port), HAProxy another; wrk -c50 ${BATCH_SECONDS} s per batch,`,
      `   ABBA quads for ${fmt(socketSeconds, 0)} s; CPU of the process (schedstat, user + system) per request; syslog datagrams received: ${received}`, '',
      ...table(['variant', 'CPU µs/req (median)', 'min–max', 'batches', 'what'], usedVariants.filter(v => sockets.samples.has(v)).map(v => {
        const s = sockets.samples.get(v)!
        return [v, fmt(median(s), 2), `${fmt(Math.min(...s), 1)}–${fmt(Math.max(...s), 1)}`, String(s.length), VARIANTS[v].what]
      })),
      '',
      ...table(['difference (b − a)', 'quads', 'µs per request', `target ≤ ${TARGET_US} µs`], rows(sockets.diffs, pairs.map(p => p.name))),
      `   stdout: ${fmt(stdoutWrites, 3)} more write system calls per request than without logging, so one write carried about ${fmt(1 / stdoutWrites, 0)} lines`,
      '   (the lines of one turn of the event loop leave in one write; at one request per turn each line is a write of its own)',
      errors === 0 ? '' : `note: ${errors} errors or non-2xx answers during the measurements`,
      `3. ${rate} req/s offered, 2 s each in ABBA order, means of two: no logging p50 ${fmt(quiet.p50, 1)} ms p99 ${fmt(quiet.p99, 1)} ms (${fmt(quiet.rps, 0)} req/s, ${quiet.bad} errors);`,
      `   dead UDP target p50 ${fmt(deadRun.p50, 1)} ms p99 ${fmt(deadRun.p99, 1)} ms (${fmt(deadRun.rps, 0)} req/s, ${deadRun.bad} errors): ${notSlower ? 'not slowed (met)' : 'SLOWER (MISSED)'}`,
      '',
      `met: the interval's upper end is ≤ ${TARGET_US} µs; MISSED: its lower end is above; otherwise not resolved. (floor): what the method`,
      `cannot go below (the A/A pair; the bare system call a syslog line needs); where the A/A interval reaches beyond ±${TARGET_US} µs,`,
      'the rows beside it get no verdict (noise).',
      ...notes.map(n => `note: ${n}`)
    ]
  } finally {
    for (const child of children) await stop(child)
    receiver.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
