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
    frontend: 'main',
    backend: '',
    vars: null,
    authUser: null
  }
}

const HEAD = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'

const SEED = HEAD + `
frontend  main
    bind 127.0.0.1:8080
    acl url_static       path_beg       -i /static /images /javascript /stylesheets
    acl url_static       path_end       -i .jpg .gif .png .css .js

    use_backend static          if url_static
    default_backend             app

backend static
    balance     roundrobin
    server      static 127.0.0.1:4331 check

backend app
    balance     roundrobin
    server  app1 127.0.0.1:8081 check
    server  app2 127.0.0.1:8082 check
`

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

/** ns per decision: median of 5 timed batches after a warm-up batch. */
function measure (compile: Compile, config: ParsedConfig, txns: HttpTxn[]): { ns: number, sample: string } {
  const fe = config.proxies.find(p => p.name === 'main')
  if (fe === undefined) throw new Error('no frontend main')
  const compiled = compile(fe, config)
  const decide = (t: HttpTxn): string => {
    const d = compiled.requestRules(t) ?? compiled.switching(t)
    return d.kind === 'backend' ? d.backend : d.kind
  }
  const sample = txns.slice(0, 4).map(t => `${t.path}${t.headers.host === 'www.example.com' ? '' : ' ' + String(t.headers.host)}→${decide(t)}`).join(', ')
  const n = txns.length
  const batch = 200_000
  let sink = 0
  const runs: number[] = []
  for (let r = 0; r < 6; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) {
      const t = txns[i % n]
      const d = compiled.requestRules(t) ?? compiled.switching(t)
      sink += d.kind.length
    }
    const ns = Number(process.hrtime.bigint() - t0) / batch
    if (r > 0) runs.push(ns)
  }
  if (sink === 0) throw new Error('decisions were optimised away')
  return { ns: median(runs), sample }
}

export async function benchAclDecision (): Promise<string[]> {
  const { parseConfig } = await import('../lib/config/parse.js')
  const { compileProxy } = await import('../lib/acl/compile.js')
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-acl-'))
  const parse: Parse = (text, opts) => parseConfig(text, { baseDir: dir, ...opts })
  try {
    const lines: string[] = []
    const seed = measure(compileProxy, parse(SEED), seedTxns())
    const acl10 = measure(compileProxy, parse(manyAcls(10)), [txn('/nothing/here'), txn('/svc9/x')])
    const acl1000 = measure(compileProxy, parse(manyAcls(1000)), [txn('/nothing/here'), txn('/svc999/x')])
    lines.push(...table(['case', 'ns/request', 'target', ''], [
      ['seed config (8 requests: static and app)', fmt(seed.ns, 0), '< 2000', verdict(seed.ns, 2000)],
      ['10 ACLs + 10 use_backend (miss, last rule)', fmt(acl10.ns, 0), '', ''],
      ['1,000 ACLs + 1,000 use_backend (miss, last rule)', fmt(acl1000.ns, 0), '', `${fmt(acl1000.ns / acl10.ns, 1)}x the 10-rule case`]
    ]))
    lines.push('', `seed decisions: ${seed.sample}`, '')

    const rows: string[][] = []
    for (const c of patternCases) {
      const cost = (n: number): number => {
        const file = join(dir, `${c.name.split(' ')[0]}-${n}.lst`)
        writeFileSync(file, '# generated by bench/acl-decision.ts\n' + Array.from({ length: n }, (_, i) => c.pattern(i)).join('\n') + '\n')
        return measure(compileProxy, parse(patternConfig(c.acl(file))), spread(n, c.hit, c.miss)).ns
      }
      const small = cost(10)
      const big = cost(10_000)
      rows.push([c.name, fmt(small, 0), fmt(big, 0), fmt(big / small, 2), '< 1.5', verdict(big / small, 1.5)])
    }
    for (const conv of ['map_dom', 'map_str']) {
      const cost = (n: number): number => {
        const file = join(dir, `hosts-${conv}-${n}.map`)
        writeFileSync(file, '# host → backend\n' + Array.from({ length: n }, (_, i) => `h${i}.example.com be_${i % 10}`).join('\n') + '\n')
        const hit = (i: number): HttpTxn => txn('/', { host: conv === 'map_dom' ? `www.H${i}.example.com` : `H${i}.example.com` })
        return measure(compileProxy, parse(mapConfig(`${conv}(${file},be_default)`)), spread(n, hit, () => txn('/', { host: 'nowhere.example.org' }))).ns
      }
      const small = cost(10)
      const big = cost(10_000)
      rows.push([`map  (req.hdr(host),lower,${conv})`, fmt(small, 0), fmt(big, 0), fmt(big / small, 2), '< 1.5', verdict(big / small, 1.5)])
    }
    lines.push(...table(['pattern set', '10 entries ns', '10,000 ns', 'ratio', 'target', ''], rows))
    lines.push('', 'each row: 16 requests, half hitting entries spread over the set (first, middle, last), half missing')
    return lines
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
