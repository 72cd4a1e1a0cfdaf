// (b) ACL decision cost per request: http-request rules + use_backend switching of a compiled
// frontend (compileProxy from lib/acl/compile.ts) on prepared HttpTxn objects, no I/O.
// Targets: the seed config under 2 µs; 10,000 pattern-file / map entries under 1.5x the cost of
// 10 entries (the baseline, measured in the same run) for str, beg, end, dom, ip and map lookups.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HttpTxn } from '../lib/acl/txn.js'
import type { ParsedConfig } from '../lib/config/model.js'
import { fmt, median, table, verdict } from './report.js'
import { seedConfig } from './seed-config.js'

type Compile = typeof import('../lib/acl/compile.js').compileProxy
type Parse = typeof import('../lib/config/parse.js').parseConfig

function txn (url: string, headers: Record<string, string> = {}, src = '192.0.2.10'): HttpTxn {
  const q = url.indexOf('?')
  return {
    method: 'GET',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? null : url.slice(q + 1),
    headers: { host: 'www.example.com', 'user-agent': 'bench/1.0', accept: '*/*', ...headers },
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

const HEAD = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'

const SEED = seedConfig({ frontend: 8080, stats: 9000, up1: 8081, up2: 8082 })

const seedTxns = (): HttpTxn[] => [
  txn('/'), txn('/index.html'), txn('/static/app.css'), txn('/images/logo.png'),
  txn('/api/users?id=7'), txn('/shop/cart.js'), txn('/Stylesheets/site.css'), txn('/account/settings')
]

function manyAcls (n: number): string {
  const lines = [HEAD, 'frontend main', '    bind 127.0.0.1:8080']
  for (let i = 0; i < n; i++) lines.push(`    acl r${i} path_beg /svc${i}/`)
  for (let i = 0; i < n; i++) lines.push(`    use_backend be${i % 10} if r${i}`)
  lines.push('    default_backend app')
  for (let i = 0; i < 10; i++) lines.push(`backend be${i}`, `    server s 127.0.0.1:${9000 + i}`)
  lines.push('backend app', '    server s 127.0.0.1:8081')
  return lines.join('\n') + '\n'
}

/** One pattern-file case: patterns for entry i, the ACL line, and a request hitting entry i. */
interface PatternCase {
  name: string
  pattern (i: number): string
  acl (file: string): string
  hit (i: number): HttpTxn
  miss (): HttpTxn
}

const patternCases: PatternCase[] = [
  { name: 'str  (path -f)', pattern: i => `/p/${i}/item`, acl: f => `path -f ${f}`, hit: i => txn(`/p/${i}/item`), miss: () => txn('/p/none/item') },
  { name: 'beg  (path_beg -f)', pattern: i => `/b${i}/`, acl: f => `path_beg -f ${f}`, hit: i => txn(`/b${i}/x/y`), miss: () => txn('/zz/x/y') },
  { name: 'end  (path_end -f)', pattern: i => `.e${i}`, acl: f => `path_end -f ${f}`, hit: i => txn(`/x/y.e${i}`), miss: () => txn('/x/y.none') },
  { name: 'dom  (hdr_dom(host) -f)', pattern: i => `h${i}.example.com`, acl: f => `hdr_dom(host) -f ${f}`, hit: i => txn('/', { host: `www.h${i}.example.com` }), miss: () => txn('/', { host: 'www.other.example.org' }) },
  { name: 'ip   (src -f, /24 nets)', pattern: i => `10.${(i >> 8) & 255}.${i & 255}.0/24`, acl: f => `src -f ${f}`, hit: i => txn('/', {}, `10.${(i >> 8) & 255}.${i & 255}.7`), miss: () => txn('/', {}, '172.16.0.1') }
]

function patternConfig (aclLine: string): string {
  return HEAD + `frontend main\n    bind 127.0.0.1:8080\n    acl hit ${aclLine}\n    use_backend b_hit if hit\n    default_backend b_miss\n` +
    'backend b_hit\n    server s 127.0.0.1:9001\nbackend b_miss\n    server s 127.0.0.1:9002\n'
}

function mapConfig (converter: string): string {
  const lines = [HEAD, 'frontend main', '    bind 127.0.0.1:8080', `    use_backend %[req.hdr(host),lower,${converter}]`, '    default_backend be_default']
  for (let i = 0; i < 10; i++) lines.push(`backend be_${i}`, `    server s 127.0.0.1:${9000 + i}`)
  lines.push('backend be_default', '    server s 127.0.0.1:9100')
  return lines.join('\n') + '\n'
}

/** Hits spread over the whole set (first, middle, last entries) and misses, half and half. */
function spread (n: number, hit: (i: number) => HttpTxn, miss: () => HttpTxn): HttpTxn[] {
  const picks = [0, n - 1, n >> 1, (n * 3) >> 2, n >> 2, 1, n - 2, (n * 7) >> 3]
  const out: HttpTxn[] = []
  for (const i of picks) out.push(hit(i), miss())
  return out
}

interface Timed {
  /** ns per decision over one batch of about 50 ms. */
  run (): number
  /** The first decisions, for the report. */
  sample: string
}

/** Compiles the frontend `main` and sizes a batch of decisions over `txns` (after a warm-up). */
function prepare (compile: Compile, config: ParsedConfig, txns: HttpTxn[]): Timed {
  const fe = config.proxies.find(p => p.name === 'main')
  if (fe === undefined) throw new Error('no frontend main')
  const compiled = compile(fe, config)
  const decide = (t: HttpTxn): string => {
    const d = compiled.requestRules(t) ?? compiled.switching(t)
    return d.kind === 'backend' ? d.backend : d.kind
  }
  const sample = txns.slice(0, 4).map(t => `${t.path}${t.headers.host === 'www.example.com' ? '' : ' ' + String(t.headers.host)}→${decide(t)}`).join(', ')
  const n = txns.length
  let sink = 0
  const batchNs = (batch: number): number => {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) {
      const t = txns[i % n]
      const d = compiled.requestRules(t) ?? compiled.switching(t)
      sink += d.kind.length
    }
    if (sink === 0) throw new Error('decisions were optimised away')
    return Number(process.hrtime.bigint() - t0) / batch
  }
  // warm-up and calibration: grow the batch until it takes 20 ms, then size batches to ~50 ms
  let batch = 1000
  let ns = batchNs(batch)
  while (ns * batch < 20e6) {
    batch *= 4
    ns = batchNs(batch)
  }
  batch = Math.max(1, Math.round(50e6 / ns))
  return { run: () => batchNs(batch), sample }
}

/** Medians of 7 runs each, the cases taking turns so that machine noise hits them alike. */
function interleaved (cases: Timed[]): number[] {
  const runs: number[][] = cases.map(() => [])
  for (let r = 0; r < 7; r++) cases.forEach((c, i) => runs[i].push(c.run()))
  return runs.map(median)
}

export async function benchAclDecision (): Promise<string[]> {
  const { parseConfig } = await import('../lib/config/parse.js')
  const { compileProxy } = await import('../lib/acl/compile.js')
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-acl-'))
  const parse: Parse = (text, opts) => parseConfig(text, { baseDir: dir, ...opts })
  try {
    const lines: string[] = []
    const [seed, acl10, acl1000] = interleaved([
      prepare(compileProxy, parse(SEED), seedTxns()),
      prepare(compileProxy, parse(manyAcls(10)), [txn('/nothing/here'), txn('/svc9/x')]),
      prepare(compileProxy, parse(manyAcls(1000)), [txn('/nothing/here'), txn('/svc999/x')])
    ])
    lines.push(...table(['case', 'ns/request', 'target', ''], [
      ['seed config (8 requests: static and app)', fmt(seed, 0), '< 2000', verdict(seed, 2000)],
      ['10 ACLs + 10 use_backend (/nothing/here, /svc9/x)', fmt(acl10, 0), '', ''],
      ['1,000 ACLs + 1,000 use_backend (/nothing/here, /svc999/x)', fmt(acl1000, 0), '', `${fmt(acl1000 / acl10, 1)}x the 10-rule case`]
    ]))
    lines.push('', `seed decisions: ${prepare(compileProxy, parse(SEED), seedTxns()).sample}`, '')

    const rows: string[][] = []
    for (const c of patternCases) {
      const timed = (n: number): Timed => {
        const file = join(dir, `${c.name.split(' ')[0]}-${n}.lst`)
        writeFileSync(file, '# generated by bench/acl-decision.ts\n' + Array.from({ length: n }, (_, i) => c.pattern(i)).join('\n') + '\n')
        return prepare(compileProxy, parse(patternConfig(c.acl(file))), spread(n, c.hit, c.miss))
      }
      const [small, big] = interleaved([timed(10), timed(10_000)])
      rows.push([c.name, fmt(small, 0), fmt(big, 0), fmt(big / small, 2), '< 1.5', verdict(big / small, 1.5)])
    }
    for (const conv of ['map_dom', 'map_str']) {
      const timed = (n: number): Timed => {
        const file = join(dir, `hosts-${conv}-${n}.map`)
        writeFileSync(file, '# host → backend\n' + Array.from({ length: n }, (_, i) => `h${i}.example.com be_${i % 10}`).join('\n') + '\n')
        const hit = (i: number): HttpTxn => txn('/', { host: conv === 'map_dom' ? `www.H${i}.example.com` : `H${i}.example.com` })
        return prepare(compileProxy, parse(mapConfig(`${conv}(${file},be_default)`)), spread(n, hit, () => txn('/', { host: 'nowhere.example.org' })))
      }
      const [small, big] = interleaved([timed(10), timed(10_000)])
      rows.push([`map  (req.hdr(host),lower,${conv})`, fmt(small, 0), fmt(big, 0), fmt(big / small, 2), '< 1.5', verdict(big / small, 1.5)])
    }
    lines.push(...table(['pattern set', '10 entries ns', '10,000 ns', 'ratio', 'target', ''], rows))
    lines.push('', 'each row: 16 requests, half hitting entries spread over the set (first, middle, last), half missing')
    return lines
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
