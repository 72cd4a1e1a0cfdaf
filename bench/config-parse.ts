// (a) Config parse + check time for a generated 10,000-line config (2,000 backends, ACLs,
// servers). Target: under 100 ms. Baseline in the same run: real `haproxy -c` on the same file
// (process start included, so its start-up on a tiny config is shown too).

import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fmt, median, table, verdict } from './report.js'

const BACKENDS = 2000

/** ACL shapes cycled over the 2,000 rules, so the checker sees several fetches and match methods. */
const aclShapes: Array<(i: number) => string> = [
  i => `path_beg /svc${i}/ /api/v${i}/`,
  i => `hdr(host) -i svc${i}.example.com`,
  i => `path_end -i .s${i}`,
  i => `url_param(tenant) -m str t${i}`,
  i => `src 10.${(i >> 8) & 255}.${i & 255}.0/24`
]

export function generateConfig (): string {
  const lines = [
    'global',
    '    maxconn 20000',
    'defaults',
    '    mode http',
    '    timeout connect 5s',
    '    timeout client 30s',
    '    timeout server 30s',
    'frontend main',
    '    bind 127.0.0.1:8080'
  ]
  for (let i = 0; i < BACKENDS; i++) lines.push(`    acl is_${i} ${aclShapes[i % aclShapes.length](i)}`)
  for (let i = 0; i < BACKENDS; i++) lines.push(`    use_backend be_${i} if is_${i}`)
  lines.push('    default_backend be_0')
  for (let i = 0; i < BACKENDS; i++) {
    lines.push(`backend be_${i}`, '    balance roundrobin', `    server s${i} 127.${(i >> 8) & 255}.${i & 255}.1:${8000 + (i % 1000)} check`)
  }
  return lines.join('\n') + '\n'
}

/** Wall time of `haproxy -c` (null when haproxy is not installed) and whether it found the file valid. */
function timeHaproxyCheck (file: string): { ms: number, valid: boolean } | null {
  const t0 = performance.now()
  const r = spawnSync('haproxy', ['-c', '-q', '-f', file], { encoding: 'utf8' })
  if (r.error !== undefined) return null
  return { ms: performance.now() - t0, valid: r.status === 0 }
}

export async function benchConfigParse (): Promise<string[]> {
  const { parseConfig } = await import('../lib/config/parse.js')
  const { checkConfig } = await import('../lib/check.js')
  const text = generateConfig()
  const lineCount = text.split('\n').length - 1
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-parse-'))
  const file = join(dir, 'big.cfg')
  writeFileSync(file, text)
  try {
    const parseMs: number[] = []
    const checkMs: number[] = []
    let alerts = 0
    for (let run = 0; run < 6; run++) {
      const t0 = performance.now()
      const config = parseConfig(text, { filename: file })
      const t1 = performance.now()
      const diagnostics = checkConfig(config)
      const t2 = performance.now()
      parseMs.push(t1 - t0)
      checkMs.push(t2 - t1)
      alerts = diagnostics.filter(d => d.level === 'alert').length
    }
    const total = parseMs.map((p, i) => p + checkMs[i])
    const warm = total.slice(1)
    const tiny = join(dir, 'tiny.cfg')
    writeFileSync(tiny, 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nbackend b\n    server s 127.0.0.1:1\n')
    const haBig = timeHaproxyCheck(file)
    const haTiny = timeHaproxyCheck(tiny)
    const rows = [
      ['ours: parseConfig + checkConfig, first run', fmt(total[0]), '', ''],
      ['ours: parseConfig + checkConfig, median of 5 more', fmt(median(warm)), '< 100', verdict(median(warm), 100)],
      ['  of which parseConfig', fmt(median(parseMs.slice(1))), '', ''],
      ['  of which checkConfig', fmt(median(checkMs.slice(1))), '', '']
    ]
    if (haBig !== null && haTiny !== null) {
      rows.push([`haproxy -c on the same file (whole process; ${haBig.valid ? 'valid' : 'INVALID'})`, fmt(haBig.ms), '', ''])
      rows.push(['haproxy -c on a 7-line file (process start-up)', fmt(haTiny.ms), '', ''])
    }
    const lines = [
      `config: ${lineCount} lines, ${BACKENDS} backends, ${BACKENDS} ACLs + use_backend rules, ${BACKENDS} servers; ` +
        `our checker reported ${alerts} alert(s)`,
      '',
      ...table(['what', 'ms', 'target', ''], rows)
    ]
    if (haBig !== null && haTiny !== null) {
      lines.push('', `ratio ours (median) / haproxy -c without its start-up: ${fmt(median(warm) / Math.max(haBig.ms - haTiny.ms, 0.1), 2)}x`)
    } else {
      lines.push('', 'haproxy is not installed: no baseline')
    }
    return lines
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
