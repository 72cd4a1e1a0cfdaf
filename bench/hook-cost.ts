// (h) What the embedded seam costs per proxied request (issue 8: at most 2 % CPU). Four plugin
// processes on the seed config, pinned like (d): the gateway deciding in `onRequest` (HAProxy
// first), in `preParsing` (the default: after every app onRequest hook), and two apps with one
// onRequest hook of their own, one that does nothing and one that sets a header the gateway merges
// into every proxied response. Each round measures the four back to back in a rotating order,
// so a busy machine weighs on both sides of a ratio alike; a ratio is taken within each round
// and the report gives the median over rounds with its spread.
//   option cost  = preParsing / onRequest
//   merge cost   = app-header / app-noop (includes Fastify's own reply.header(), an upper bound)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { fmt, median, table, verdict } from './report.js'
import { seedConfig } from './seed-config.js'
import { freePort, launch, loadWrk, measureCpu, stop, targetScript } from './proxy-throughput.js'

export interface HookBenchOptions {
  /** Seconds per measurement. */
  duration: number
  /** Rounds in all; the first is dropped as warm-up. */
  rounds: number
}

const SETUPS = [
  ['onRequest', "hook: 'onRequest', no app hook"],
  ['preParsing', "hook: 'preParsing' (default), no app hook"],
  ['app-noop', 'default hook, an app onRequest hook that does nothing'],
  ['app-header', 'default hook, an app onRequest hook that sets x-app (merged into the response)']
] as const
type Setup = typeof SETUPS[number][0]

export async function benchHookCost (opts: HookBenchOptions): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-hook-'))
  const tsx = ['--import', 'tsx', targetScript]
  const [up1, up2] = [await freePort(), await freePort()]
  const children: ChildProcess[] = []
  try {
    children.push(await launch(0, process.execPath, [...tsx, 'upstream', String(up1), String(up2)], { line: 'ready' }))
    const suts = new Map<Setup, { pid: number, port: number }>()
    for (const [setup] of SETUPS) {
      const port = await freePort()
      const file = join(dir, `${setup}.cfg`)
      writeFileSync(file, seedConfig({ frontend: port, stats: await freePort(), up1, up2 }))
      const child = await launch(1, process.execPath, [...tsx, 'plugin', String(port), file, setup], { line: 'ready' })
      children.push(child)
      suts.set(setup, { pid: child.pid as number, port })
    }
    const cpu = new Map<Setup, number[]>(SETUPS.map(([s]) => [s, []]))
    let errors = 0
    for (let round = 0; round < opts.rounds; round++) {
      for (let k = 0; k < SETUPS.length; k++) {
        const setup = SETUPS[(k + round) % SETUPS.length][0]
        const sut = suts.get(setup)!
        const sample = await measureCpu(sut.pid, sut.port, loadWrk, opts.duration)
        errors += sample.bad
        if (round > 0) cpu.get(setup)!.push(sample.cpuUs)
      }
    }
    const perRound = (a: Setup, b: Setup): number[] => cpu.get(a)!.map((v, i) => v / cpu.get(b)![i])
    const option = perRound('preParsing', 'onRequest')
    const merge = perRound('app-header', 'app-noop')
    const spread = (r: number[]): string => `${fmt(Math.min(...r), 3)}–${fmt(Math.max(...r), 3)}`
    return [
      `wrk, ${opts.duration} s per measurement, ${opts.rounds} rounds (first dropped), ratios taken within each round`, '',
      ...table(['setup', 'CPU µs/req (median)', 'min–max', 'what'],
        SETUPS.map(([s, what]) => [s, fmt(median(cpu.get(s)!)), `${fmt(Math.min(...cpu.get(s)!))}–${fmt(Math.max(...cpu.get(s)!))}`, what])),
      '',
      ...table(['cost', 'ratio (median of rounds)', 'min–max', 'target ≤ 1.02', ''], [
        ['hook option: preParsing / onRequest', fmt(median(option), 3), spread(option), verdict(median(option), 1.02), ''],
        ['header merge: app-header / app-noop', fmt(median(merge), 3), spread(merge), verdict(median(merge), 1.02), 'includes reply.header() itself']
      ]),
      errors === 0 ? '' : `note: ${errors} errors or non-2xx answers during the measurements`
    ]
  } finally {
    for (const child of children) await stop(child)
    rmSync(dir, { recursive: true, force: true })
  }
}
