// (i) Live maps: a 10,000-entry map read on every request (`http-request set-header … %[path,map(…)]`)
// while the runtime API changes it. The CLI (`fastify-haproxy -f`) serves the config in a child
// process; CPU µs per proxied request (from /proc, wrk -c50) with the map left alone — the
// baseline of the same run — with `set map` commands arriving on the stats socket at 100/s and
// 1,000/s (values change in place), with `add map`/`del map` at 10/s and 100/s (keys change: each
// rebuilds the lookup once), the commands' handling included (it is what live maps cost), and
// without the map at all. Then the socket's own throughput: 10,000 commands written at once on one connection,
// interactive mode, time to the last answer, for `get weight` (the CLI's per-command cost, the baseline) and for
// `set map`, `add map`, `del map` on the 10,000-entry map.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import { fmt, median, table } from './report.js'
import { freePort, launch, loadWrk, measureCpu, stop, targetScript } from './proxy-throughput.js'

const ENTRIES = 10_000
const cliPath = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

function config (port: number, up: number, sock: string, map: string | null): string {
  return [
    'global', '    nbthread 1', `    stats socket ${sock} level admin`,
    'defaults', '    mode http', '    timeout connect 5s', '    timeout client 30s', '    timeout server 30s',
    'frontend main', `    bind 127.0.0.1:${port}`,
    ...(map === null ? [] : [`    http-request set-header x-route %[path,map(${map},none)]`]),
    '    default_backend app',
    'backend app', `    server app1 127.0.0.1:${up}`, ''
  ].join('\n')
}

/**
 * Sends `lines` on one connection in interactive mode (one-shot mode, HAProxy's as ours, answers
 * what arrived with the first read and closes), then `quit`; ms until the proxy closed it.
 */
function burst (sock: string, lines: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const c = connect(sock)
    c.on('data', () => {})
    c.on('end', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6))
    c.on('error', reject)
    c.end('prompt\n' + lines.join('\n') + '\nquit\n')
  })
}

/**
 * Changes at `perSecond`, in batches every 20 ms at most on one interactive connection, until stopped:
 * `set map` on existing keys (values only), or `add map` of a new key and `del map` of the
 * previous one in turn (keys change: the lookup is rebuilt). Resolves the number sent.
 */
function changer (sock: string, map: string, perSecond: number, what: 'set' | 'add-del'): { stop (): Promise<number> } {
  const c = connect(sock)
  c.on('data', () => {})
  c.on('error', () => {})
  c.write('prompt\n')
  let sent = 0
  const every = Math.max(20, 1000 / perSecond)
  const perTick = Math.max(1, Math.round(perSecond * every / 1000))
  const timer = setInterval(() => {
    let text = ''
    for (let i = 0; i < perTick; i++, sent++) {
      if (what === 'set') text += `set map ${map} /k${(sent * 7919) % ENTRIES} v${sent}\n`
      else text += sent % 2 === 0 ? `add map ${map} /x${sent} v${sent}\n` : `del map ${map} /x${sent - 1}\n`
    }
    c.write(text)
  }, every)
  return {
    stop: async () => {
      clearInterval(timer)
      await new Promise<void>(resolve => { c.once('close', () => resolve()); c.end('quit\n') })
      return sent
    }
  }
}

interface Variant { name: string, map: boolean, rate: number, what: 'set' | 'add-del' }

const VARIANTS: Variant[] = [
  { name: 'no map', map: false, rate: 0, what: 'set' },
  { name: '10k map, unchanged (baseline)', map: true, rate: 0, what: 'set' },
  { name: '10k map, 100 set map/s', map: true, rate: 100, what: 'set' },
  { name: '10k map, 1,000 set map/s', map: true, rate: 1000, what: 'set' },
  { name: '10k map, 10 add+del map/s', map: true, rate: 10, what: 'add-del' },
  { name: '10k map, 100 add+del map/s', map: true, rate: 100, what: 'add-del' }
]

export async function benchLiveMap (opts: { duration: number, rounds: number }): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-map-'))
  const map = join(dir, 'routes.map')
  const lines: string[] = []
  for (let i = 0; i < ENTRIES - 1; i++) lines.push(`/k${i} v${i}`)
  lines.push('/bench hit')
  writeFileSync(map, lines.join('\n') + '\n')
  const up = await freePort()
  let upstream: ChildProcess | undefined
  const suts: Array<{ v: Variant, child: ChildProcess, port: number, sock: string }> = []
  try {
    upstream = await launch(0, process.execPath, ['--import', 'tsx', targetScript, 'upstream', String(up)], { line: 'ready' })
    for (const [i, v] of [VARIANTS[0]!, VARIANTS[1]!].entries()) {
      const port = await freePort()
      const sock = join(dir, `s${i}.sock`)
      const file = join(dir, `${i}.cfg`)
      writeFileSync(file, config(port, up, sock, v.map ? map : null))
      const child = await launch(1, process.execPath, [cliPath, '-f', file], { port })
      suts.push({ v, child, port, sock })
      await loadWrk(port, 1) // warm-up
    }
    const withMap = suts[1]!
    const cpu = new Map<string, number[]>(VARIANTS.map(v => [v.name, []]))
    const applied = new Map<string, number>()
    for (let round = 0; round < opts.rounds; round++) {
      for (let i = 0; i < VARIANTS.length; i++) {
        const v = VARIANTS[(i + round) % VARIANTS.length]!
        const sut = v.map ? withMap : suts[0]!
        const change = v.rate > 0 ? changer(sut.sock, map, v.rate, v.what) : null
        const r = await measureCpu(sut.child.pid!, sut.port, loadWrk, opts.duration)
        const sent = await change?.stop()
        if (sent !== undefined) applied.set(v.name, sent / opts.duration)
        if (round > 0) cpu.get(v.name)!.push(r.cpuUs)
      }
    }
    const base = median(cpu.get(VARIANTS[1]!.name)!)
    const rows = VARIANTS.map(v => {
      const us = median(cpu.get(v.name)!)
      return [v.name, fmt(us, 1), fmt(us / base, 2), v.rate > 0 ? fmt(applied.get(v.name) ?? NaN, 0) : '']
    })

    // the socket's throughput, 10,000 commands at once
    const n = 10_000
    const cmds: Array<[string, string[]]> = [
      ['get weight (baseline)', Array.from({ length: n }, () => 'get weight app/app1')],
      ['set map, existing keys', Array.from({ length: n }, (_x, i) => `set map ${map} /k${i % (ENTRIES - 1)} w${i}`)],
      ['add map, new keys', Array.from({ length: n }, (_x, i) => `add map ${map} /n${i} x${i}`)],
      ['del map, those keys', Array.from({ length: n }, (_x, i) => `del map ${map} /n${i}`)]
    ]
    await burst(withMap.sock, cmds[0]![1]) // warm-up
    const rates: Array<[string, number]> = []
    for (const [name, batch] of cmds) rates.push([name, n / (await burst(withMap.sock, batch)) * 1000])
    const cliBase = rates[0]![1]
    return [
      `CPU µs per proxied request (medians of rounds 2–${opts.rounds}, ${opts.duration} s each, wrk -c50), map of ${ENTRIES} entries read by every request:`, '',
      ...table(['variant', 'CPU µs/req', 'ratio vs unchanged map', 'changes/s sent'], rows), '',
      `The stats socket, ${n} commands written at once on one connection (the map holds ${ENTRIES} entries):`, '',
      ...table(['command', 'commands/s', 'ratio vs get weight'], rates.map(([name, r]) => [name, fmt(r, 0), fmt(r / cliBase, 2)]))
    ]
  } finally {
    await Promise.all([...suts.map(s => stop(s.child)), stop(upstream)])
    rmSync(dir, { recursive: true, force: true })
  }
}
