// (f) The pick path: Backend.acquire + release (what every proxied request pays to get a server),
// per algorithm, on prepared request transactions, no I/O. Baseline in the same run: the same
// backend's acquireServer + release on servers taken in turn (the path a persistence cookie
// takes: every bookkeeping step but the algorithm's choice), so the ratio is what choosing costs
// on top. Compare the ratios of runs before and after a change to lib/runtime/algorithms.ts
// (or, for the `stick on src` row, lib/runtime/stick-persistence.ts and stick-table.ts).

import type { HttpTxn } from '../lib/acl/txn.js'
import { fmt, median, table } from './report.js'

const SERVERS = 12
const ROUNDS = 7
const PICKS = 200_000

function txn (url: string, src: string): HttpTxn {
  const q = url.indexOf('?')
  return {
    method: 'GET',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? null : url.slice(q + 1),
    headers: { host: 'www.example.com', 'user-agent': 'bench/1.0' },
    version: '1.1',
    src,
    srcPort: 40000,
    dst: '127.0.0.1',
    dstPort: 8080,
    ssl: false,
    tls: null,
    frontend: 'main',
    backend: '',
    vars: null,
    authUser: null
  }
}

const CASES: Array<[string, string]> = [
  ['roundrobin', 'balance roundrobin'],
  ['static-rr', 'balance static-rr'],
  ['leastconn', 'balance leastconn'],
  ['first', 'balance first'],
  ['uri map-based', 'balance uri'],
  ['uri consistent', 'balance uri\n    hash-type consistent'],
  ['source consistent', 'balance source\n    hash-type consistent'],
  ['url_param map-based', 'balance url_param id']
]

/** CPU ns per pick over PICKS picks (CPU time: the machine's other load does not count). */
function measure (pick: (t: HttpTxn) => void, txns: HttpTxn[]): number {
  const start = process.cpuUsage()
  for (let i = 0; i < PICKS; i++) pick(txns[i & 15])
  const used = process.cpuUsage(start)
  return (used.user + used.system) * 1000 / PICKS
}

export async function benchPickPath (): Promise<string[]> {
  const { parseConfig } = await import('../lib/config/parse.js')
  const { Backend } = await import('../lib/runtime/backend.js')
  const txns = Array.from({ length: 16 }, (_, i) => txn(`/p/${i}/item?id=u${i * 7}`, `10.0.${i}.${i * 3 + 1}`))
  const servers = Array.from({ length: SERVERS }, (_, i) => `    server s${i} 127.0.0.1:${9000 + i} weight ${1 + ((i * 7) % 13)}`).join('\n')
  const backends = CASES.map(([, lines]) => {
    const config = parseConfig(`defaults\n    mode http\nbackend be\n    ${lines}\n${servers}\n`)
    return new Backend(config.proxies[0])
  })
  const direct = backends[0]
  let next = 0
  const baseline = (): void => {
    const s = direct.acquireServer(direct.servers[next])
    next = next + 1 === SERVERS ? 0 : next + 1
    if (s !== null && !(s instanceof Promise)) direct.release(s)
  }
  // `stick on src` before roundrobin: the table lookup, the balancer for a new client, the store
  // of the answering server (lib/runtime/stick-persistence.ts); the 16 clients are found from the
  // second round on
  const { compileProxy } = await import('../lib/acl/compile.js')
  const { StickPersistence } = await import('../lib/runtime/stick-persistence.js')
  const stickConfig = parseConfig(`defaults\n    mode http\nbackend be\n    balance roundrobin\n    stick-table type ip size 1m expire 30m\n    stick on src\n${servers}\n`)
  const stuck = new Backend(stickConfig.proxies[0]!)
  const stick = new StickPersistence(compileProxy(stickConfig.proxies[0]!, stickConfig).stick!, stuck, false)
  const stickPick = (t: HttpTxn): void => {
    const keys: Parameters<typeof stick.store>[2] = []
    const named = stick.request(t, keys, true)
    const s = named !== null ? stuck.acquireServer(named) : stuck.acquire(t, null)
    if (s === null || s instanceof Promise) return
    stick.store(t, s, keys, null)
    stuck.release(s)
  }
  const runs: number[][] = CASES.map(() => [])
  const stickRuns: number[] = []
  const base: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    base.push(measure(baseline, txns))
    backends.forEach((be, i) => {
      runs[i].push(measure((t) => {
        const s = be.acquire(t, null)
        if (s !== null && !(s instanceof Promise)) be.release(s)
      }, txns))
    })
    stickRuns.push(measure(stickPick, txns))
  }
  const baseNs = median(base)
  const rows = [...CASES.map(([name]) => name), 'roundrobin + stick on src'].map((name, i) => {
    const ns = median(runs[i] ?? stickRuns)
    const ratio = ns / baseNs
    return [name, fmt(ns, 1), fmt(ratio, 2)]
  })
  return [
    `${SERVERS} servers, weights 1..13, ${PICKS.toLocaleString('en')} acquire+release per round, median of ${ROUNDS} rounds, CPU time.`,
    `baseline (acquireServer + release, no algorithm): ${fmt(baseNs, 1)} ns per pick`,
    '',
    ...table(['algorithm', 'ns/pick', 'x baseline'], rows)
  ]
}
