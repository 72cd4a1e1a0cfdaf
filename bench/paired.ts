// Paired A/B measurement of small costs on a noisy machine (parts (g) and (h)). Throughput and
// CPU drift by ±15 % between rounds here when other work shares the VM, so a cost of 1 µs in a
// 30–60 µs request is never read off two separate averages. Instead:
// - what is counted is CPU time of the process under test (user + system, in ns from
//   /proc/PID/task/*/schedstat), not throughput, which a busy neighbour steals;
// - A and B run in short batches in ABBA order (the next quad BAAB), so a drift during a quad
//   weighs on both alike; each quad gives one difference, mean(B) − mean(A);
// - the figure is the median of those differences with a bootstrap 95 % interval of that median
//   (percentile method, a fixed seed so that a run is reproducible from its samples).

import { readdirSync, readFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { clockTicks, cpuTicks } from './proxy-throughput.js'
import { fmt, median } from './report.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void

/**
 * A scavenge before an in-process batch, outside its measurement: else the young generation fills
 * every few batches and its collection lands in a batch of one variant or the other at a near
 * regular phase, a bias of the pairing itself. Batches must be small enough to allocate less than
 * the young generation (garbage costs a scavenge nothing; what survives is the same in A and B).
 */
export function settle (): void {
  gc({ type: 'minor' })
}

/** CPU time in ns of every thread of a process (schedstat); clock-tick precision where it is missing. */
export function cpuNs (pid: number): number {
  try {
    let ns = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {
        // a thread that ended between the listing and the read
      }
    }
    return ns
  } catch {
    return cpuTicks(pid) * (1e9 / clockTicks)
  }
}

export interface Interval {
  median: number
  lo: number
  hi: number
  n: number
}

/** The median of `values` and a bootstrap `level` interval of it. */
export function medianInterval (values: readonly number[], level = 0.95, resamples = 4000): Interval {
  const n = values.length
  if (n === 0) return { median: NaN, lo: NaN, hi: NaN, n }
  let seed = 0x2545f491
  const random = (): number => {
    // xorshift32: reproducible, good enough to pick indices
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5
    return (seed >>> 0) / 0x100000000
  }
  const medians: number[] = new Array(resamples)
  const pick: number[] = new Array(n)
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) pick[i] = values[Math.floor(random() * n)]!
    medians[r] = median(pick)
  }
  medians.sort((a, b) => a - b)
  const tail = (1 - level) / 2
  return {
    median: median(values),
    lo: medians[Math.floor(tail * (resamples - 1))]!,
    hi: medians[Math.ceil((1 - tail) * (resamples - 1))]!,
    n
  }
}

/** An interval against a target: met when its upper end is within, MISSED when its lower end is beyond, else not resolved. */
export function verdict (i: Interval, target: number): string {
  return i.n < 5 ? 'too few quads' : i.hi <= target ? 'met' : i.lo > target ? 'MISSED' : 'not resolved'
}

/** `x (95 % CI lo – hi)` with `decimals`. */
export function fmtInterval (i: Interval, decimals = 2, unit = ''): string {
  return `${fmt(i.median, decimals)}${unit} (95 % CI ${fmt(i.lo, decimals)} – ${fmt(i.hi, decimals)}${unit})`
}

export interface Pair<S extends string> {
  /** What the row says. */
  name: string
  /** The baseline. */
  a: S
  /** The same with the thing measured. */
  b: S
}

export interface PairedResult<S extends string> {
  /** Every batch of each setup, in run order. */
  samples: Map<S, number[]>
  /** Per pair (by name): one difference b − a per quad. */
  diffs: Map<string, number[]>
}

/**
 * Runs `quads` quads of every pair (pairs take turns, quad by quad): A B B A, then B A A B…;
 * `measure(setup)` runs one batch and returns its figure (e.g. CPU µs per request).
 * `deadline` (ms since epoch) stops early after a whole round of quads.
 */
export async function runPaired<S extends string> (pairs: Readonly<Array<Pair<S>>>, quads: number, measure: (setup: S) => Promise<number>, deadline = Infinity): Promise<PairedResult<S>> {
  const samples = new Map<S, number[]>()
  const diffs = new Map<string, number[]>(pairs.map(p => [p.name, []]))
  const record = (s: S, v: number): void => {
    const list = samples.get(s)
    if (list === undefined) samples.set(s, [v])
    else list.push(v)
  }
  for (let q = 0; q < quads && Date.now() < deadline; q++) {
    for (const pair of pairs) {
      const order = q % 2 === 0 ? [pair.a, pair.b, pair.b, pair.a] : [pair.b, pair.a, pair.a, pair.b]
      const got = { a: 0, b: 0 }
      for (const s of order) {
        const v = await measure(s)
        record(s, v)
        got[s === pair.a ? 'a' : 'b'] += v / 2
      }
      diffs.get(pair.name)!.push(got.b - got.a)
    }
  }
  return { samples, diffs }
}
