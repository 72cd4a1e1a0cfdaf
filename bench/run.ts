// `npm run bench`: one report, every figure next to a baseline measured in the same run and its
// target; nothing asserts. Parts (run in this order; --only / BENCH_ONLY picks some):
//   parse  bench/config-parse.ts     config parse + check time, 10,000-line config
//   acl    bench/acl-decision.ts     routing decision cost per request, pattern sets 10 vs 10,000
//   csv    bench/stats-csv.ts        stats CSV render time, 1,000 servers
//   proxy  bench/proxy-throughput.ts req/s, p99, CPU µs per proxied request, RSS (child processes)
//   stats  bench/stats-under-load.ts proxied latency at 100 req/s with and without stats page readers
//   pick   bench/pick-path.ts        Backend.acquire + release per balance algorithm (and with `stick on src`), no I/O
//   log    bench/access-log.ts       CPU per request with option httplog to stdout / UDP syslog (paired), dead target
//   hook   bench/hook-cost.ts        the embedded seam: hook option and header merge, CPU per request (paired)
//   map    bench/live-map.ts         a 10,000-entry map changed on the stats socket while serving; socket throughput
//   tls    bench/tls.ts              TLS handshakes, HTTPS and h2 requests per CPU-second, CLI vs real HAProxy
// Options: --duration=S (BENCH_DURATION, default 3) seconds per proxy measurement,
// --rounds=N (BENCH_ROUNDS, default 4), --budget=S (BENCH_BUDGET, default 130) seconds of paired
// batches over sockets for the log and hook parts (each takes about 1.5× that in all),
// --soak=S (BENCH_SOAK, default 0 = off) seconds of continuous load for the RSS soak,
// e.g. npm run bench -- --soak=60.

import { parseArgs } from 'node:util'
import { cpus } from 'node:os'
import { print, runPart } from './report.js'
import { benchConfigParse } from './config-parse.js'
import { benchAclDecision } from './acl-decision.js'
import { benchStatsCsv } from './stats-csv.js'
import { benchProxyThroughput } from './proxy-throughput.js'
import { benchStatsUnderLoad } from './stats-under-load.js'
import { benchPickPath } from './pick-path.js'
import { benchAccessLog } from './access-log.js'
import { benchHookCost } from './hook-cost.js'
import { benchLiveMap } from './live-map.js'
import { benchTls } from './tls.js'

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: process.env.BENCH_ONLY ?? 'parse,acl,csv,proxy,stats,pick,log,hook,map,tls' },
    duration: { type: 'string', default: process.env.BENCH_DURATION ?? '3' },
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '4' },
    budget: { type: 'string', default: process.env.BENCH_BUDGET ?? '130' },
    soak: { type: 'string', default: process.env.BENCH_SOAK ?? '0' }
  }
})
const only = new Set(values.only.split(',').map(s => s.trim()))
const started = Date.now()

console.log(`# fastify-haproxy bench — ${new Date().toISOString()}`)
console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`)

if (only.has('parse')) print(await runPart('(a) config parse + check: 10,000-line config', benchConfigParse))
if (only.has('acl')) print(await runPart('(b) routing decision per request (compileProxy)', benchAclDecision))
if (only.has('csv')) print(await runPart('(c) stats CSV render: 1,000 servers', benchStatsCsv))
if (only.has('proxy')) {
  print(await runPart('(d) proxying: throughput, p99, CPU per request, RSS', () => benchProxyThroughput({
    duration: Number(values.duration),
    rounds: Math.max(2, Number(values.rounds)),
    soak: Number(values.soak)
  })))
}
if (only.has('stats')) print(await runPart('(e) the stats page under load: proxied latency with and without readers', () => benchStatsUnderLoad()))
if (only.has('pick')) print(await runPart('(f) the pick path: acquire + release per balance algorithm', benchPickPath))
if (only.has('log')) {
  print(await runPart('(g) access logs: CPU per request with option httplog (paired), a dead log target at 10k req/s', () => benchAccessLog({
    budget: Number(values.budget)
  })))
}
if (only.has('hook')) {
  print(await runPart('(h) the embedded seam: hook option and header merge, CPU per proxied request (paired)', () => benchHookCost({
    budget: Number(values.budget)
  })))
}
if (only.has('map')) {
  print(await runPart('(i) live maps: CPU per request while the socket changes a 10,000-entry map; socket throughput', () => benchLiveMap({
    duration: Number(values.duration),
    rounds: Math.max(2, Number(values.rounds))
  })))
}
if (only.has('tls')) {
  print(await runPart('(j) TLS and HTTP/2 in the CLI: handshakes, HTTPS and h2 requests per CPU-second, vs real HAProxy', () => benchTls({
    duration: Number(values.duration),
    rounds: Math.max(3, Number(values.rounds))
  })))
}
console.log(`\nbench done in ${Math.round((Date.now() - started) / 1000)} s`)
