// (j) TLS and HTTP/2 termination in the CLI, against real HAProxy on the same config and the same
// certificate (ECDSA P-256), each a child pinned to CPU 1 like (d); load generators and the
// upstream on CPU 0. Three loads, each counted per CPU-second of the process under test
// (utime+stime from /proc/PID/stat):
//   handshakes  full TLS handshakes (`openssl s_time -new`, two clients, no request)
//   https       HTTPS/1.1 keep-alive requests proxied to the upstream (wrk, 50 connections)
//   h2          HTTP/2 requests over TLS proxied to the upstream (h2load, 10 clients × 10 streams)
// Each round measures every (load, proxy) pair with the proxies' order alternating, so a busy
// machine weighs on both sides of a ratio alike; the ratio ours/HAProxy is taken within each
// round, round 1 is dropped as warm-up, and the report gives the median with its spread.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt, median, table } from './report.js'
import { clockTicks, cpuTicks, freePort, has, launch, loadWrk, pinning, stop, targetScript } from './proxy-throughput.js'

export interface TlsBenchOptions {
  /** Seconds per measurement. */
  duration: number
  /** Rounds in all; the first is dropped. */
  rounds: number
}

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

/** What a load reports: operations done (handshakes or answered requests) and failures. */
interface Done { ops: number, bad: number }

/** Runs a load generator on CPU 0 and hands its stdout to `parse`. */
function onCpu0 (cmd: string, args: string[], parse: (out: string) => Done): Promise<Done> {
  const [file, argv] = pinning ? ['taskset', ['-c', '0', cmd, ...args]] : [cmd, args]
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
    child.once('error', reject)
    child.once('exit', () => {
      const done = parse(out)
      if (Number.isFinite(done.ops)) resolve(done)
      else reject(new Error(`${cmd}: ${out.slice(-300)}`))
    })
  })
}

const LOADS: Record<'handshakes' | 'https' | 'h2', { what: string, run: (port: number, seconds: number) => Promise<Done> }> = {
  handshakes: {
    what: 'full TLS handshakes (openssl s_time -new, 2 clients)',
    run: async (port, seconds) => {
      const one = (): Promise<Done> => onCpu0('openssl', ['s_time', '-connect', `127.0.0.1:${port}`, '-new', '-time', String(seconds)],
        out => ({ ops: Number(/(\d+) connections in [\d.]+ real seconds/.exec(out)?.[1]), bad: 0 }))
      const runs = await Promise.all([one(), one()])
      return { ops: runs[0]!.ops + runs[1]!.ops, bad: 0 }
    }
  },
  https: {
    what: 'HTTPS/1.1 keep-alive requests, proxied (wrk, 50 connections)',
    run: async (port, seconds) => {
      const r = await loadWrk(port, seconds, `https://127.0.0.1:${port}/bench`)
      return { ops: r.requests - r.bad, bad: r.bad }
    }
  },
  h2: {
    what: 'HTTP/2 requests over TLS, proxied (h2load, 10 clients x 10 streams)',
    run: (port, seconds) => onCpu0('h2load', ['-D', String(seconds), '-c', '10', '-m', '10', `https://127.0.0.1:${port}/bench`], out => {
      const m = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out)
      return { ops: Number(m?.[1]), bad: Number(m?.[2] ?? 0) + Number(m?.[3] ?? 0) }
    })
  }
}
type LoadName = keyof typeof LOADS

function config (port: number, pem: string, upstream: number): string {
  return `global
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend main
    bind 127.0.0.1:${port} ssl crt ${pem} alpn h2,http/1.1
    default_backend app
backend app
    server app1 127.0.0.1:${upstream}
`
}

/** Resolves once something accepts TCP connections on `port` (a TLS port answers no plain HTTP probe). */
async function listening (port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`)
    const ok = await new Promise<boolean>(resolve => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`port ${port} not listening after 15 s`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

export async function benchTls (opts: TlsBenchOptions): Promise<string[]> {
  const missing = ['haproxy', 'openssl', 'wrk', 'h2load'].filter(bin => !has(bin))
  if (missing.length > 0) return [`skipped: ${missing.join(', ')} not installed (Debian: haproxy, openssl, wrk, nghttp2-client)`]
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-tls-'))
  const children: ChildProcess[] = []
  try {
    spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=bench.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')])
    // HAProxy's PEM: the certificate and its key in one file
    const pem = join(dir, 'bench.pem')
    writeFileSync(pem, readFileSync(join(dir, 'cert.pem'), 'latin1') + readFileSync(join(dir, 'key.pem'), 'latin1'), 'latin1')
    const up = await freePort()
    children.push(await launch(0, process.execPath, ['--import', 'tsx', targetScript, 'upstream', String(up)], { line: 'ready' }))
    const suts: Array<{ name: 'ours' | 'haproxy', pid: number, port: number }> = []
    for (const name of ['ours', 'haproxy'] as const) {
      const port = await freePort()
      const file = join(dir, `${name}.cfg`)
      writeFileSync(file, config(port, pem, up))
      const child = name === 'ours'
        ? await launch(1, process.execPath, [cli, '-q', '-f', file], { line: '' })
        : await launch(1, 'haproxy', ['-db', '-q', '-f', file], { line: '' })
      children.push(child)
      await listening(port, child)
      suts.push({ name, pid: child.pid as number, port })
    }
    const names = Object.keys(LOADS) as LoadName[]
    const perCpuSecond = new Map<string, number[]>()
    const ratios = new Map<LoadName, number[]>(names.map(n => [n, []]))
    let bad = 0
    for (let round = 0; round < opts.rounds; round++) {
      for (const load of names) {
        const order = round % 2 === 0 ? suts : [...suts].reverse()
        const rate: Record<string, number> = {}
        for (const sut of order) {
          const before = cpuTicks(sut.pid)
          const done = await LOADS[load].run(sut.port, opts.duration)
          const cpuSeconds = (cpuTicks(sut.pid) - before) / clockTicks
          bad += done.bad
          rate[sut.name] = done.ops / Math.max(cpuSeconds, 1 / clockTicks)
          if (round > 0) perCpuSecond.set(`${load}/${sut.name}`, [...(perCpuSecond.get(`${load}/${sut.name}`) ?? []), rate[sut.name]!])
        }
        if (round > 0) ratios.get(load)!.push(rate.ours! / rate.haproxy!)
      }
    }
    const m = (key: string): string => fmt(median(perCpuSecond.get(key) ?? []), 0)
    return [
      `${opts.duration} s per measurement, ${opts.rounds} rounds (first dropped), ratios taken within each round; ` +
        `real HAProxy ${spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.replace(/^HAProxy version /, '').split(' ')[0] ?? ''}, 1 thread`,
      pinning ? 'processes under test on CPU 1, load generators and upstream on CPU 0' : 'note: taskset or a second CPU is missing: not pinned, figures are noisier',
      '',
      ...table(['load', 'ours per CPU-s', 'HAProxy per CPU-s', 'ours / HAProxy', 'min–max', 'what'],
        names.map(n => {
          const r = ratios.get(n)!
          return [n, m(`${n}/ours`), m(`${n}/haproxy`), fmt(median(r), 3), `${fmt(Math.min(...r), 3)}–${fmt(Math.max(...r), 3)}`, LOADS[n].what]
        })),
      bad === 0 ? '' : `note: ${bad} failed requests during the measurements`
    ]
  } finally {
    for (const child of children) await stop(child)
    rmSync(dir, { recursive: true, force: true })
  }
}
