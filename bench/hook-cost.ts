// (h) What the embedded seam costs per proxied request (issue 8: at most 2 % CPU). Four plugin
// processes on the seed config, pinned like (d): the gateway deciding in `onRequest` (HAProxy
// first), in `preParsing` (the default: after every app onRequest hook), and two apps with one
// onRequest hook of their own, one that does nothing and one that sets a header the gateway merges
// into every proxied response. Each round measures the four back to back in a rotating order,
// so a busy machine weighs on both sides of a ratio alike; a ratio is taken within each round
// and the report gives the median over rounds with its spread.
//   option cost  = preParsing / onRequest
//   merge cost   = app-header / app-noop (includes Fastify's own reply.header(), an upper bound)
// Between rounds a busy VM moves that figure by ±15 %, far more than the 2 % it is to show, so the
// same four setups are also run in this process without sockets (`inject`, a `http-request return`
// answered by the gateway, which carries the app's headers as a proxied response does), best of
// many short batches (other work on the machine only ever adds CPU to a batch): each setup's extra
// CPU over its baseline there, divided by the CPU of a whole proxied request above, is the seam's
// share of that request.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import Fastify, { type FastifyInstance } from 'fastify'
import haproxyRouter from 'fastify-haproxy'
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
    const inProcess = await seamInProcess(dir)
    const proxied = median(cpu.get('onRequest')!)
    const optionExtra = inProcess.extra('preParsing', 'onRequest')
    const mergeExtra = inProcess.extra('app-header', 'app-noop')
    return [
      `wrk, ${opts.duration} s per measurement, ${opts.rounds} rounds (first dropped), ratios taken within each round`, '',
      ...table(['setup', 'CPU µs/req (median)', 'min–max', 'what'],
        SETUPS.map(([s, what]) => [s, fmt(median(cpu.get(s)!)), `${fmt(Math.min(...cpu.get(s)!))}–${fmt(Math.max(...cpu.get(s)!))}`, what])),
      '',
      ...table(['cost', 'ratio (median of rounds)', 'min–max', 'target ≤ 1.02', ''], [
        ['hook option: preParsing / onRequest', fmt(median(option), 3), spread(option), verdict(median(option), 1.02), ''],
        ['header merge: app-header / app-noop', fmt(median(merge), 3), spread(merge), verdict(median(merge), 1.02), 'includes reply.header() itself']
      ]),
      errors === 0 ? '' : `note: ${errors} errors or non-2xx answers during the measurements`,
      `In this process, no sockets: ${INJECT_BATCH} injected requests per batch, ${INJECT_ROUNDS} batches per setup taking turns (first dropped),`,
      'the gateway answering `http-request return`; best batch of each setup, its extra CPU over the baseline, then as a share of a',
      `whole proxied request (onRequest median above, ${fmt(proxied)} µs):`, '',
      ...table(['setup', 'CPU µs/req (best batch)', 'median batch'], SETUPS.map(([s]) => [s, fmt(Math.min(...inProcess.cpu.get(s)!), 2), fmt(median(inProcess.cpu.get(s)!), 2)])),
      '',
      ...table(['cost', 'extra µs/req', 'proxied request with it / without', 'target ≤ 1.02'], [
        ['hook option: preParsing − onRequest', fmt(optionExtra, 3), fmt(1 + optionExtra / proxied, 3), verdict(1 + optionExtra / proxied, 1.02)],
        ['header merge: app-header − app-noop', fmt(mergeExtra, 3), fmt(1 + mergeExtra / proxied, 3), verdict(1 + mergeExtra / proxied, 1.02)]
      ])
    ]
  } finally {
    for (const child of children) await stop(child)
    rmSync(dir, { recursive: true, force: true })
  }
}

const INJECT_BATCH = 1000
const INJECT_ROUNDS = 61

/** The four setups as apps in this process, answered by the gateway; CPU µs per injected request. */
async function seamInProcess (dir: string): Promise<{ cpu: Map<Setup, number[]>, extra: (a: Setup, b: Setup) => number }> {
  const file = join(dir, 'answer.cfg')
  writeFileSync(file, `defaults
    mode http
    timeout client 30s
frontend main
    http-request return status 200 content-type text/plain string ok
`)
  const apps = new Map<Setup, FastifyInstance>()
  try {
    for (const [setup] of SETUPS) {
      const app = Fastify({ logger: false })
      if (setup === 'app-noop') app.addHook('onRequest', (_request, _reply, done) => { done() })
      if (setup === 'app-header') app.addHook('onRequest', (_request, reply, done) => { reply.header('x-app', 'bench'); done() })
      await app.register(haproxyRouter, { configFile: file, frontend: 'main', ...(setup === 'onRequest' ? { hook: 'onRequest' as const } : {}) })
      await app.ready()
      apps.set(setup, app)
    }
    const cpu = new Map<Setup, number[]>(SETUPS.map(([s]) => [s, []]))
    for (let round = 0; round < INJECT_ROUNDS; round++) {
      for (let k = 0; k < SETUPS.length; k++) {
        const setup = SETUPS[(k + round) % SETUPS.length][0]
        const app = apps.get(setup)!
        const before = process.cpuUsage()
        for (let i = 0; i < INJECT_BATCH; i++) {
          const res = await app.inject({ method: 'GET', url: '/index.html', headers: { host: 'bench' } })
          if (res.statusCode !== 200) throw new Error(`${setup}: the gateway answered ${res.statusCode}`)
        }
        const used = process.cpuUsage(before)
        if (round > 0) cpu.get(setup)!.push((used.user + used.system) / INJECT_BATCH)
      }
    }
    const best = (s: Setup): number => Math.min(...cpu.get(s)!)
    const extra = (a: Setup, b: Setup): number => best(a) - best(b)
    return { cpu, extra }
  } finally {
    for (const app of apps.values()) await app.close()
  }
}
