// (d) Proxy throughput and CPU per proxied request, side by side in one run, method of
// /work/shared/research/fast-path.md: each process under test (SUT) is a child pinned to CPU 1,
// the load generator and the upstreams to CPU 0; CPU µs/request = the SUT's utime+stime from
// /proc/PID/stat over the requests completed. Warm-up, then interleaved rounds (the order
// rotates), round 1 dropped as extra warm-up, medians of the rest. Ratios are to bare
// @fastify/http-proxy measured in the same run. Targets for our plugin (seed config): CPU per
// request ≤ 0.7x (stretch 0.6x), p99 not worse, RSS growth < 10%.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer, type AddressInfo } from 'node:net'
import autocannon from 'autocannon'
import { fmt, median, table, verdict } from './report.js'
import { seedConfig } from './seed-config.js'

export interface ProxyBenchOptions {
  /** Seconds per measurement. */
  duration: number
  /** Rounds in all; the first is dropped. */
  rounds: number
  /** Seconds of continuous load on our plugin for the RSS soak; 0 = no soak. */
  soak: number
}

const CONNECTIONS = 50
export const targetScript = fileURLToPath(new URL('./proxy-target.ts', import.meta.url))
const root = fileURLToPath(new URL('..', import.meta.url))
export const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100
export const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0
export const pinning = has('taskset') && availableParallelism() >= 2

interface Sut {
  name: string
  what: string
  child: ChildProcess
  port: number
  rss: number[]
}

interface Sample {
  cpuUs: number
  rps: number
  p99: number
  bad: number
}

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

/** utime + stime of a process, in clock ticks (proc(5)). */
export function cpuTicks (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

function rssKb (pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Number(m[1])
}

/** Spawns `cmd args` on `cpu` (when pinning) and waits for `ready` on stdout or a listening port. */
export async function launch (cpu: number, cmd: string, args: string[], ready: { line: string } | { port: number }): Promise<ChildProcess> {
  const [file, argv] = pinning ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]
  const child = spawn(file, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const deadline = Date.now() + 15_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(out.trim().split('\n').slice(-3).join(' | ') || `exited with ${child.exitCode}`)
    if ('line' in ready ? out.includes(ready.line) : await connects(ready.port)) return child
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`not ready after 15 s: ${out.trim()}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

function connects (port: number): Promise<boolean> {
  return new Promise(resolve => {
    fetch(`http://127.0.0.1:${port}/bench`).then(r => r.arrayBuffer().then(() => resolve(true)), () => resolve(false))
  })
}

async function loadAutocannon (port: number, seconds: number): Promise<{ requests: number, rps: number, p99: number, bad: number }> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/bench`, connections: CONNECTIONS, pipelining: 1, duration: seconds })
  return { requests: r.requests.total, rps: r.requests.average, p99: r.latency.p99, bad: r.non2xx + r.errors }
}

function wrkMs (text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text)
  if (m === null) return NaN
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1)
}

export function loadWrk (port: number, seconds: number, url = `http://127.0.0.1:${port}/bench`): Promise<{ requests: number, rps: number, p99: number, bad: number }> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', url]
  const [file, argv] = pinning ? ['taskset', ['-c', '0', 'wrk', ...args]] : ['wrk', args]
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
    child.once('error', reject)
    child.once('exit', () => {
      const requests = Number(/(\d+) requests in/.exec(out)?.[1])
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
      const p99 = wrkMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '')
      const bad = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors: connect (\d+)/.exec(out)?.[1] ?? 0)
      if (!Number.isFinite(requests)) reject(new Error(`wrk: ${out}`))
      else resolve({ requests, rps, p99, bad })
    })
  })
}

type Load = typeof loadAutocannon

/** CPU µs per request of process `pid` while `load` drives `port` for `seconds`. */
export async function measureCpu (pid: number, port: number, load: Load, seconds: number): Promise<Sample> {
  const before = cpuTicks(pid)
  const r = await load(port, seconds)
  const ticks = cpuTicks(pid) - before
  return { cpuUs: ticks * (1e6 / clockTicks) / Math.max(r.requests, 1), rps: r.rps, p99: r.p99, bad: r.bad }
}

/** 1,000 `acl` + `use_backend` rules that /bench misses, so every request runs them all. */
function thousandAclConfig (port: number, up1: number, up2: number): string {
  const lines = ['defaults', '    mode http', '    timeout connect 5s', '    timeout client 30s', '    timeout server 30s',
    'frontend main', `    bind 127.0.0.1:${port}`]
  for (let i = 0; i < 1000; i++) lines.push(`    acl r${i} path_beg /svc${i}/`)
  for (let i = 0; i < 1000; i++) lines.push(`    use_backend svc${i % 10} if r${i}`)
  lines.push('    default_backend app')
  for (let i = 0; i < 10; i++) lines.push(`backend svc${i}`, `    server s 127.0.0.1:${up1}`)
  lines.push('backend app', '    balance roundrobin', `    server app1 127.0.0.1:${up1} check`, `    server app2 127.0.0.1:${up2} check`)
  return lines.join('\n') + '\n'
}

export function stop (child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 3000).unref()
  })
}

export async function benchProxyThroughput (opts: ProxyBenchOptions): Promise<string[]> {
  const lines: string[] = []
  const notes: string[] = []
  if (pinning) spawnSync('taskset', ['-p', '-c', '0', String(process.pid)])
  else notes.push('taskset or a second CPU is missing: processes are not pinned, figures are noisier')
  const tsx = ['--import', 'tsx', targetScript]
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-proxy-'))
  const [up1, up2] = [await freePort(), await freePort()]
  let upstream: ChildProcess | undefined
  const suts: Sut[] = []
  try {
    upstream = await launch(0, process.execPath, [...tsx, 'upstream', String(up1), String(up2)], { line: 'ready' })
    const variants: Array<{ name: string, what: string, start: (port: number) => Promise<ChildProcess> }> = [
      { name: 'direct', what: 'the upstream itself (node:http)', start: port => launch(1, process.execPath, [...tsx, 'upstream', String(port)], { line: 'ready' }) },
      { name: 'http-proxy', what: 'bare @fastify/http-proxy, one upstream', start: port => launch(1, process.execPath, [...tsx, 'http-proxy', String(port), String(up1)], { line: 'ready' }) },
      {
        name: 'plugin-seed',
        what: "our plugin, seed config, 2 servers (default options: hook 'preParsing')",
        start: async port => {
          const file = join(dir, 'seed.cfg')
          writeFileSync(file, seedConfig({ frontend: port, stats: await freePort(), up1, up2 }))
          return launch(1, process.execPath, [...tsx, 'plugin', String(port), file], { line: 'ready' })
        }
      },
      {
        name: 'plugin-1000acl',
        what: 'our plugin, 1,000 ACLs, 2 servers',
        start: port => {
          const file = join(dir, 'acl1000.cfg')
          writeFileSync(file, thousandAclConfig(port, up1, up2))
          return launch(1, process.execPath, [...tsx, 'plugin', String(port), file], { line: 'ready' })
        }
      }
    ]
    if (has('haproxy')) {
      variants.push({
        name: 'haproxy',
        what: 'real HAProxy, seed config, 1 thread',
        start: async port => {
          const file = join(dir, 'haproxy.cfg')
          writeFileSync(file, seedConfig({ frontend: port, stats: await freePort(), up1, up2 }))
          return launch(1, 'haproxy', ['-db', '-f', file], { port })
        }
      })
    } else {
      notes.push('haproxy is not installed: no HAProxy row')
    }
    for (const v of variants) {
      const port = await freePort()
      try {
        suts.push({ name: v.name, what: v.what, child: await v.start(port), port, rss: [] })
      } catch (err) {
        notes.push(`${v.name}: could not start (${(err as Error).message})`)
      }
    }

    const loads: Array<[string, Load]> = [['autocannon', loadAutocannon]]
    if (has('wrk')) loads.push(['wrk', loadWrk])
    else notes.push('wrk is not installed: autocannon only')

    for (const sut of suts) {
      await loadAutocannon(sut.port, 2)
      sut.rss.push(rssKb(sut.child.pid as number))
    }
    const samples = new Map<string, Sample[]>()
    for (let round = 0; round < opts.rounds; round++) {
      for (let k = 0; k < suts.length; k++) {
        const sut = suts[(k + round) % suts.length]
        for (const [tool, load] of loads) {
          const s = await measureCpu(sut.child.pid as number, sut.port, load, opts.duration)
          if (round === 0) continue
          const key = `${tool}/${sut.name}`
          samples.set(key, [...(samples.get(key) ?? []), s])
        }
      }
    }
    for (const sut of suts) sut.rss.push(rssKb(sut.child.pid as number))

    const pick = (tool: string, name: string, f: (s: Sample) => number): number[] => (samples.get(`${tool}/${name}`) ?? []).map(f)
    for (const [tool] of loads) {
      const base = (f: (s: Sample) => number): number => median(pick(tool, 'http-proxy', f))
      const rows = suts.map(sut => {
        const cpu = pick(tool, sut.name, s => s.cpuUs)
        const rps = median(pick(tool, sut.name, s => s.rps))
        const p99 = median(pick(tool, sut.name, s => s.p99))
        const bad = pick(tool, sut.name, s => s.bad).reduce((a, b) => a + b, 0)
        return [
          sut.name,
          fmt(median(cpu)),
          `${fmt(Math.min(...cpu))}–${fmt(Math.max(...cpu))}`,
          fmt(median(cpu) / base(s => s.cpuUs), 2),
          fmt(rps, 0),
          fmt(rps / base(s => s.rps), 2),
          fmt(p99, 1),
          fmt(p99 / base(s => s.p99), 2),
          bad === 0 ? '' : `${bad} errors/non-2xx`
        ]
      })
      lines.push(`${tool}: ${CONNECTIONS} connections, ${opts.duration} s per measurement, ${opts.rounds} rounds (first dropped), medians`, '')
      lines.push(...table(['variant', 'CPU µs/req', 'min–max', 'x http-proxy', 'req/s', 'x http-proxy', 'p99 ms', 'x http-proxy', ''], rows))
      if (suts.some(s => s.name === 'plugin-seed') && suts.some(s => s.name === 'http-proxy')) {
        const cpu = median(pick(tool, 'plugin-seed', s => s.cpuUs)) / base(s => s.cpuUs)
        const p99 = median(pick(tool, 'plugin-seed', s => s.p99)) / base(s => s.p99)
        lines.push(`plugin-seed vs http-proxy: CPU/request ${fmt(cpu, 2)}x (≤ 0.7: ${verdict(cpu, 0.7)}; stretch ≤ 0.6: ${verdict(cpu, 0.6)}), ` +
          `p99 ${fmt(p99, 2)}x (≤ 1.0: ${verdict(p99, 1)})`)
      }
      lines.push('')
    }

    const rssRows = suts.map(sut => {
      const [start, end] = sut.rss
      const growth = (end - start) / start * 100
      return [sut.name, fmt(start / 1024), fmt(end / 1024), fmt(growth), sut.name.startsWith('plugin') ? '< 10' : '', sut.name.startsWith('plugin') ? verdict(growth, 10) : '']
    })
    lines.push(`RSS after warm-up and after all rounds (about ${Math.round(opts.rounds * loads.length * opts.duration * suts.length)} s of load spread over the variants)`, '')
    lines.push(...table(['variant', 'start MB', 'end MB', 'growth %', 'target', ''], rssRows), '')

    const plugin = suts.find(s => s.name === 'plugin-seed')
    if (opts.soak > 0 && plugin !== undefined) {
      const pid = plugin.child.pid as number
      const rss: number[] = [rssKb(pid)]
      const timer = setInterval(() => rss.push(rssKb(pid)), 5000)
      const r = await loadAutocannon(plugin.port, opts.soak)
      clearInterval(timer)
      rss.push(rssKb(pid))
      const first = rss[1] ?? rss[0]
      const growth = (rss[rss.length - 1] - first) / first * 100
      lines.push(`soak: plugin-seed under ${CONNECTIONS} connections for ${opts.soak} s, ${fmt(r.rps, 0)} req/s, ${r.bad} errors/non-2xx`)
      lines.push(`  RSS MB every 5 s: ${rss.map(k => fmt(k / 1024, 0)).join(' ')}`)
      lines.push(`  growth from the 5 s sample to the end: ${fmt(growth)} % (target < 10 %: ${verdict(growth, 10)})`, '')
    } else {
      lines.push('soak: not run (BENCH_SOAK=60 npm run bench, or npm run bench -- --soak=60, runs 60 s of load on plugin-seed and samples RSS every 5 s)', '')
    }

    lines.push('variants:')
    for (const sut of suts) lines.push(`  ${sut.name.padEnd(15)} ${sut.what}`)
    lines.push(`targets for plugin-seed: CPU µs/req ≤ 0.7x http-proxy (stretch 0.6x), p99 ≤ 1.0x, RSS growth < 10 %; ` +
      `pinned: ${pinning ? 'SUT on CPU 1, load and upstreams on CPU 0' : 'no'}; clock ticks/s: ${clockTicks}`)
    for (const n of notes) lines.push(`note: ${n}`)
    return lines
  } finally {
    await Promise.all([...suts.map(s => stop(s.child)), stop(upstream)])
    rmSync(dir, { recursive: true, force: true })
  }
}
