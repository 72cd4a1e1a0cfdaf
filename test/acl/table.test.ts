// Replays the match table (table.ts) through the engine and, when it is installed, through real
// HAProxy on loopback: one frontend declares every row's ACL, marks the rows that match in a
// header (http-request set-header) and answers the list with http-request return.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { compileProxy } from '../../lib/acl/compile.js'
import { txnFromParts } from '../../lib/acl/make-txn.js'
import { parseConfig } from '../../lib/config/parse.js'
import { haproxyInstalled, send, withHaproxy } from './real-haproxy.js'
import { FILES, ROWS, type Req } from './table.js'

const dir = mkdtempSync(join(tmpdir(), 'acl-table-'))
for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text)
after(() => rmSync(dir, { recursive: true, force: true }))

function configText (port: number): string {
  const lines = [
    'defaults', '  mode http', '  timeout connect 5s', '  timeout client 5s', '  timeout server 5s',
    'frontend fe', `  bind 127.0.0.1:${port}`
  ]
  ROWS.forEach((row, i) => lines.push(`  acl r${i} ${row.acl.replaceAll('{{dir}}', dir)}`))
  lines.push('  http-request del-header x-acl-m')
  ROWS.forEach((_row, i) => lines.push(`  http-request set-header x-acl-m "%[req.fhdr(x-acl-m)],r${i}" if r${i}`))
  lines.push('  http-request return status 200 content-type text/plain lf-string "%[req.fhdr(x-acl-m)]"')
  return lines.join('\n') + '\n'
}

/** Every distinct request of the table, with the rows that must and must not match it. */
const requests = new Map<string, { req: Req, match: number[], miss: number[] }>()
ROWS.forEach((row, i) => {
  for (const [list, key] of [[row.match, 'match'], [row.miss, 'miss']] as const) {
    for (const req of list) {
      const id = JSON.stringify([req.method ?? 'GET', req.url, req.headers ?? {}])
      let e = requests.get(id)
      if (e === undefined) requests.set(id, e = { req, match: [], miss: [] })
      e[key].push(i)
    }
  }
})

const hostOf = (req: Req): string | string[] => req.headers?.host ?? 'h.test'

/** Headers as node's IncomingMessage holds them: repeated lines joined with ", " (cookies "; "). */
function asNodeHeaders (req: Req): Record<string, string> {
  const out: Record<string, string> = { host: String(hostOf(req)) }
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(k.toLowerCase() === 'cookie' ? '; ' : ', ') : v
  }
  return out
}

const matched = (body: string): Set<number> => new Set(body.split(',').filter((s) => s !== '').map((s) => Number(s.slice(1))))

function verdicts (answer: (req: Req) => string): string[] {
  const wrong: string[] = []
  for (const { req, match, miss } of requests.values()) {
    const got = matched(answer(req))
    const label = `${req.method ?? 'GET'} ${req.url} ${JSON.stringify(req.headers ?? {})}`
    for (const i of match) if (!got.has(i)) wrong.push(`${ROWS[i].acl} should match ${label}`)
    for (const i of miss) if (got.has(i)) wrong.push(`${ROWS[i].acl} should not match ${label}`)
  }
  return wrong
}

describe('match table through the engine', () => {
  const config = parseConfig(configText(8080), { filename: join(dir, 'haproxy.cfg') })
  const fe = compileProxy(config.proxies[0], config)
  const answer = (req: Req): string => {
    const d = fe.requestRules(txnFromParts({ method: req.method, url: req.url, headers: asNodeHeaders(req) }))
    assert.ok(d !== null && d.kind === 'reply')
    return String(d.body)
  }
  test('the config compiles without diagnostics', () => {
    assert.deepEqual(config.diagnostics.filter((d) => d.level === 'alert'), [])
  })
  for (const [i, row] of ROWS.entries()) {
    test(`acl ${row.acl}`, () => {
      for (const req of row.match) assert.ok(matched(answer(req)).has(i), `should match ${req.method ?? 'GET'} ${req.url} ${JSON.stringify(req.headers ?? {})}`)
      for (const req of row.miss) assert.ok(!matched(answer(req)).has(i), `should not match ${req.method ?? 'GET'} ${req.url} ${JSON.stringify(req.headers ?? {})}`)
    })
  }
})

test('match table through real HAProxy 2.6 agrees with every row', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
  const answers = await withHaproxy(join(dir, 'haproxy-real.cfg'), configText, async (port) => {
    const out = new Map<Req, string>()
    for (const { req } of requests.values()) {
      out.set(req, (await send(port, { method: req.method, url: req.url, headers: { host: hostOf(req), ...req.headers } })).body)
    }
    return out
  })
  assert.deepEqual(verdicts((req) => answers.get(req)!), [])
})
