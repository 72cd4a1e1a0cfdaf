// Regenerates the recorded balancing tables of this directory from real HAProxy 2.6 on 127.0.0.1:
//   node --import tsx test/runtime/recorded/record.ts [--only=sequences,dynamic,held,hashes,functions] [--check]
// HAProxy (HAPROXY_BIN, else /usr/sbin/haproxy) runs in front of small upstreams that answer
// with their own name; runtime changes go through its admin socket (`set weight`, `set server …
// state`, `disable server`, `enable server`). --check records again and compares with the stored
// tables instead of writing them (a differential run against the installed HAProxy).
// The scenarios are drawn from a seeded generator: the same seed gives the same tables.

import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, request, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual, parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import type { DynamicCase, HashCase, HashFunctionVector, HeldCase, SequenceCase, Step } from './types.js'
import { freePort } from '../../differential/harness.js'
import { HASH_FUNCTION_INPUTS, HOST_KEYS, SOURCE_KEYS, URL_KEYS } from './keys.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const haproxyBin = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy'
const MAX_SERVERS = 16

// --- a seeded generator (mulberry32) --------------------------------------------------------------

function generator (seed: number): { int (lo: number, hi: number): number, pick<T> (xs: readonly T[]): T, chance (p: number): boolean } {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p
  }
}

// --- upstreams that say who they are, optionally holding their answer ------------------------------

interface Held { server: string, res: ServerResponse }

class Upstreams {
  readonly ports: number[] = []
  holding = false
  readonly held: Held[] = []
  private readonly servers: Server[] = []
  private arrivals: Array<(held: Held) => void> = []

  async start (n: number): Promise<void> {
    for (let i = 1; i <= n; i++) {
      const name = `s${i}`
      const srv = createServer((req, res) => {
        req.resume()
        req.on('end', () => {
          if (this.holding) {
            const held = { server: name, res }
            this.held.push(held)
            const waiters = this.arrivals
            this.arrivals = []
            for (const w of waiters) w(held)
          } else {
            res.writeHead(200, { 'x-served-by': name, 'content-length': String(name.length) })
            res.end(name)
          }
        })
      })
      srv.keepAliveTimeout = 100
      await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
      this.servers.push(srv)
      this.ports.push((srv.address() as AddressInfo).port)
    }
  }

  arrival (): Promise<Held> {
    return new Promise((resolve) => this.arrivals.push(resolve))
  }

  /** Answers a held request. */
  release (h: Held): void {
    this.held.splice(this.held.indexOf(h), 1)
    h.res.writeHead(200, { 'x-served-by': h.server, 'content-length': String(h.server.length) })
    h.res.end(h.server)
  }

  async close (): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections() })))
  }
}

// --- one real HAProxy ---------------------------------------------------------------------------

interface Backend { name: string, lines: string[] }

class Haproxy {
  port = 0
  private child: ChildProcess | null = null
  private dir = ''
  private output = ''

  get socket (): string { return join(this.dir, 'admin.sock') }

  async start (backends: Backend[], upstreams: Upstreams): Promise<void> {
    this.port = await freePort()
    this.dir = mkdtempSync(join(tmpdir(), 'fh-record-'))
    const server = (line: string): string => line.replace(/@(\d+)/, (_m, i: string) => `127.0.0.1:${upstreams.ports[Number(i) - 1]}`)
    const text = [
      'global', '    nbthread 1', `    stats socket ${this.socket} level admin`,
      'defaults', '    mode http', '    timeout connect 2s', '    timeout client 60s', '    timeout server 60s', '    timeout queue 60s',
      'frontend fe', `    bind 127.0.0.1:${this.port}`, `    bind [::1]:${this.port}`,
      '    http-request return status 200 content-type text/plain lf-string "%[req.hdr(x-in),sdbm(0)] %[req.hdr(x-in),sdbm(1)] %[req.hdr(x-in),djb2(0)] %[req.hdr(x-in),djb2(1)] %[req.hdr(x-in),wt6(0)] %[req.hdr(x-in),wt6(1)] %[req.hdr(x-in),crc32(0)] %[req.hdr(x-in),crc32(1)] %[req.hdr(x-in),crc32c(0)] %[req.hdr(x-in),crc32c(1)]" if { req.hdr(x-be) -m str hash-functions }',
      '    use_backend %[req.hdr(x-be)]',
      ...backends.flatMap((b) => [`backend ${b.name}`, ...b.lines.map((l) => `    ${server(l)}`)]),
      ''
    ].join('\n')
    const file = join(this.dir, 'haproxy.cfg')
    writeFileSync(file, text)
    this.child = spawn(haproxyBin, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout?.on('data', (d: Buffer) => { this.output += d.toString() })
    this.child.stderr?.on('data', (d: Buffer) => { this.output += d.toString() })
    const deadline = Date.now() + 10_000
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`haproxy exited:\n${this.output}`)
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect(this.port, '127.0.0.1')
        s.once('connect', () => { s.destroy(); resolve(true) })
        s.once('error', () => { s.destroy(); resolve(false) })
      })
      if (ok) break
      if (Date.now() > deadline) throw new Error(`haproxy not listening:\n${this.output}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** One command on the admin socket; throws on anything but an empty answer. */
  command (cmd: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect(this.socket)
      let answer = ''
      s.on('data', (d) => { answer += d.toString() })
      s.on('error', reject)
      s.on('end', () => answer.trim() === '' ? resolve() : reject(new Error(`${cmd}: ${answer.trim()}`)))
      s.end(cmd + '\n')
    })
  }

  async stop (): Promise<void> {
    const child = this.child
    if (child !== null && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

interface Ask { backend: string, path?: string, headers?: Record<string, string>, from?: string }

function ask (port: number, a: Ask): Promise<string> {
  return new Promise((resolve, reject) => {
    const ipv6 = a.from !== undefined && a.from.includes(':')
    const req = request({
      host: ipv6 ? '::1' : '127.0.0.1',
      port,
      path: a.path ?? '/',
      headers: { host: 'localhost', ...a.headers, 'x-be': a.backend },
      localAddress: a.from,
      agent: false
    }, (res) => {
      let body = ''
      res.setEncoding('latin1')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve(res.statusCode === 200 ? body : String(res.statusCode)))
    })
    req.on('error', reject)
    req.end()
  })
}

// --- the scenarios ------------------------------------------------------------------------------

const serverLine = (i: number, opts: string): string => `server s${i + 1} @${i + 1}${opts === '' ? '' : ' ' + opts}`
const backendLines = (c: { lines?: string[], servers: string[] }): string[] => [...(c.lines ?? []), ...c.servers.map((o, i) => serverLine(i, o))]

function sequenceCases (): SequenceCase[] {
  const g = generator(1)
  const cases: SequenceCase[] = []
  const fixed = ['1', '256', '1 256', '256 1', '255 256', '128 64 32 16 8 4 2 1', '1 2 4 8 16 32 64 128', '100 99 98', '7 7 7 7 7 7 7', '3 5 7 11 13 17 19 23', '250 3 1', '17 0 5']
  for (const balance of ['roundrobin', 'static-rr']) {
    const weightSets = [...fixed]
    for (let i = 0; i < 24; i++) {
      const n = g.int(2, MAX_SERVERS)
      const top = g.pick([3, 10, 40, 256])
      weightSets.push(Array.from({ length: n }, () => String(g.int(1, top))).join(' '))
    }
    for (const w of weightSets) {
      const weights = w.split(' ').map(Number)
      const total = weights.reduce((a, b) => a + b, 0)
      cases.push({ balance, lines: [], servers: weights.map((x) => `weight ${x}`), count: Math.min(300, Math.max(20, 2 * total + 3)), expected: '' })
    }
  }
  return cases
}

function dynamicCases (): DynamicCase[] {
  const g = generator(2)
  const cases: DynamicCase[] = []
  const kinds: Array<{ balance: string, lines: string[] }> = [
    { balance: 'roundrobin', lines: [] },
    { balance: 'roundrobin', lines: [] },
    { balance: 'roundrobin', lines: [] },
    { balance: 'roundrobin', lines: ['option allbackups'] },
    { balance: 'static-rr', lines: [] },
    { balance: 'static-rr', lines: ['option allbackups'] },
    { balance: 'leastconn', lines: [] },
    { balance: 'first', lines: [] },
    { balance: 'uri', lines: ['hash-type consistent'] },
    { balance: 'hdr(x-none)', lines: ['hash-type consistent'] },
    { balance: 'hdr(x-none)', lines: [] }
  ]
  // Round robin's schedule carries the most state across changes: half of the cases are its own.
  for (let k = 0; k < 132; k++) {
    const kind = k % 2 === 0 ? kinds[g.int(0, 2)] : kinds[(k >> 1) % kinds.length]
    const n = g.int(2, 7)
    const backups = g.chance(0.4) ? g.int(1, 3) : 0
    const servers: string[] = []
    for (let i = 0; i < n + backups; i++) servers.push(`weight ${g.pick([1, 1, 2, 3, 5, 8, 13, 50, 256])}${i >= n ? ' backup' : ''}`)
    const weightOf = (i: number): number => Number(servers[i].split(' ')[1])
    const steps: Step[] = []
    const ops = g.int(3, 9)
    for (let o = 0; o < ops; o++) {
      steps.push(g.int(1, 14))
      const s = g.int(0, servers.length - 1)
      const name = `s${s + 1}`
      const dynamic = ['roundrobin', 'leastconn', 'first'].includes(kind.balance) || kind.lines.includes('hash-type consistent')
      const action = g.pick(dynamic ? ['weight', 'weight', 'maint', 'ready', 'ready', 'drain', 'disable', 'enable'] : ['weight', 'maint', 'ready', 'ready', 'drain', 'disable', 'enable'])
      if (action === 'weight') steps.push([name, 'weight', dynamic ? g.pick([0, 1, 2, 3, 7, 20, 100, 256]) : g.pick([0, weightOf(s)])])
      else if (action === 'disable') steps.push([name, 'state', 'maint'])
      else if (action === 'enable') steps.push([name, 'state', 'ready'])
      else steps.push([name, 'state', action as 'maint' | 'ready' | 'drain'])
    }
    steps.push(g.int(8, 20))
    cases.push({ balance: kind.balance, lines: kind.lines, servers, steps, expected: '' })
  }
  return cases
}

function heldCases (): HeldCase[] {
  const g = generator(3)
  const cases: HeldCase[] = []
  const kinds: Array<{ balance: string, maxconn: boolean }> = [
    { balance: 'leastconn', maxconn: false },
    { balance: 'leastconn', maxconn: true },
    { balance: 'first', maxconn: true },
    { balance: 'roundrobin', maxconn: true },
    { balance: 'static-rr', maxconn: true }
  ]
  for (let k = 0; k < 30; k++) {
    const kind = kinds[k % kinds.length]
    const n = g.int(2, 5)
    const servers = Array.from({ length: n }, () => {
      const w = g.pick([1, 1, 1, 2, 3, 5])
      return kind.maxconn ? `weight ${w} maxconn ${g.int(1, 4)}` : `weight ${w}`
    })
    const capacity = kind.maxconn ? servers.reduce((a, s) => a + Number(s.split(' ')[3]), 0) : 1000
    const steps: string[] = []
    let inFlight = 0
    for (let i = 0; i < g.int(10, 30); i++) {
      if (inFlight < capacity && (inFlight === 0 || g.chance(0.65))) {
        steps.push('+')
        inFlight++
      } else {
        steps.push('-')
        inFlight--
      }
    }
    cases.push({ balance: kind.balance, servers, steps: steps.join(' '), expected: '' })
  }
  return cases
}

function hashCases (): HashCase[] {
  const g = generator(4)
  const cases: HashCase[] = []
  const keyed: Array<[string, HashCase['keys']]> = [
    ['uri', 'url'], ['uri whole', 'url'], ['uri len 5', 'url'], ['uri depth 1', 'url'], ['uri depth 3', 'url'], ['uri len 12 depth 2', 'url'], ['uri whole depth 2', 'url'], ['uri whole len 9', 'url'],
    ['uri path-only', 'url'], ['url_param id', 'url'], ['url_param x', 'url'], ['hdr(host)', 'host'], ['hdr(host) use_domain_only', 'host'],
    ['hdr(x-key)', 'header'], ['source', 'source'], ['hash path', 'url'], ['hash req.hdr(x-key)', 'header']
  ]
  const types = ['map-based', 'consistent', 'map-based djb2', 'consistent djb2', 'map-based wt6', 'consistent wt6', 'map-based crc32', 'consistent crc32',
    'map-based sdbm avalanche', 'consistent sdbm', 'map-based djb2 avalanche', 'consistent wt6 avalanche', 'map-based crc32 avalanche']
  const weightSets = ['1 1 1', '3 1 2 1', '1 1 1 1 1 1 1 1 1 1', '10 20 30 40', '256 1', '5 5 5 5 5 0 5', '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16']
  for (const [balance, keys] of keyed) {
    for (const hashType of types) {
      if (keys === 'source' && hashType.includes(' ') && !hashType.includes('avalanche')) continue
      cases.push({ balance, hashType, servers: g.pick(weightSets).split(' ').map((w) => `weight ${w}`), keys, expected: '' })
    }
  }
  return cases
}

const keysOf = (k: HashCase['keys']): readonly string[] => k === 'url' ? URL_KEYS : k === 'source' ? SOURCE_KEYS : HOST_KEYS

function askFor (backend: string, kind: HashCase['keys'], key: string): Ask {
  if (kind === 'url') return { backend, path: key, headers: { 'x-key': 'k' } }
  if (kind === 'host') return { backend, headers: { host: key } }
  if (kind === 'header') return { backend, headers: { 'x-key': key } }
  return { backend, from: key }
}

// --- recording ----------------------------------------------------------------------------------

async function withHaproxy<T> (backends: Backend[], upstreams: Upstreams, run: (h: Haproxy) => Promise<T>): Promise<T> {
  const h = new Haproxy()
  await h.start(backends, upstreams)
  try {
    return await run(h)
  } finally {
    await h.stop()
  }
}

async function recordSequences (up: Upstreams): Promise<SequenceCase[]> {
  const cases = sequenceCases()
  const backends = cases.map((c, i) => ({ name: `b${i}`, lines: [`balance ${c.balance}`, ...backendLines(c)] }))
  await withHaproxy(backends, up, async (h) => {
    for (const [i, c] of cases.entries()) {
      const got: string[] = []
      for (let k = 0; k < c.count; k++) got.push(await ask(h.port, { backend: `b${i}` }))
      c.expected = got.join(' ')
    }
  })
  return cases
}

async function recordDynamic (up: Upstreams): Promise<DynamicCase[]> {
  const cases = dynamicCases()
  const backends = cases.map((c, i) => ({ name: `b${i}`, lines: [`balance ${c.balance}`, ...backendLines(c)] }))
  await withHaproxy(backends, up, async (h) => {
    for (const [i, c] of cases.entries()) {
      const parts: string[] = []
      for (const step of c.steps) {
        if (typeof step === 'number') {
          const got: string[] = []
          for (let k = 0; k < step; k++) got.push(await ask(h.port, { backend: `b${i}` }))
          parts.push(got.join(' '))
        } else {
          const [srv, what, value] = step
          await h.command(what === 'weight' ? `set weight b${i}/${srv} ${value}` : `set server b${i}/${srv} state ${value}`)
        }
      }
      c.expected = parts.join(' | ')
    }
  })
  return cases
}

async function recordHeld (up: Upstreams): Promise<HeldCase[]> {
  const cases = heldCases()
  const backends = cases.map((c, i) => ({ name: `b${i}`, lines: [`balance ${c.balance}`, ...backendLines(c)] }))
  up.holding = true
  try {
    await withHaproxy(backends, up, async (h) => {
      for (const [i, c] of cases.entries()) {
        const got: string[] = []
        const open: Array<{ held: Held, done: Promise<string> }> = []
        const g = generator(100 + i)
        for (const step of c.steps.split(' ')) {
          if (step === '+') {
            const arrived = up.arrival()
            const done = ask(h.port, { backend: `b${i}` })
            const held = await Promise.race([arrived, new Promise<Held>((_resolve, reject) => setTimeout(() => reject(new Error(`b${i} ${c.balance} ${c.servers.join(', ')}: request ${got.length + 1} never reached a server (${got.join(' ')})`)), 5000))])
            got.push(held.server)
            open.push({ held, done })
          } else {
            // Finish one of the open requests, chosen by the generator; recorded by name.
            const j = g.int(0, open.length - 1)
            const [o] = open.splice(j, 1)
            up.release(o.held)
            await o.done
            // HAProxy frees the server's slot as the stream ends, just after the answer left.
            await new Promise((resolve) => setTimeout(resolve, 30))
            got.push(`-${o.held.server}`)
          }
        }
        for (const o of open) { up.release(o.held); await o.done }
        c.expected = got.join(' ')
      }
    })
  } finally {
    up.holding = false
  }
  return cases
}

async function recordHashes (up: Upstreams): Promise<HashCase[]> {
  const cases = hashCases()
  const backends = cases.map((c, i) => ({ name: `b${i}`, lines: [`balance ${c.balance}`, `hash-type ${c.hashType}`, ...backendLines({ lines: [], servers: c.servers })] }))
  await withHaproxy(backends, up, async (h) => {
    for (const [i, c] of cases.entries()) {
      const got: string[] = []
      for (const key of keysOf(c.keys)) got.push(await ask(h.port, askFor(`b${i}`, c.keys, key)))
      c.expected = got.join(' ')
    }
  })
  return cases
}

async function recordFunctions (up: Upstreams): Promise<HashFunctionVector[]> {
  const names = ['sdbm', 'djb2', 'wt6', 'crc32', 'crc32c'] as const
  const out: HashFunctionVector[] = []
  await withHaproxy([{ name: 'unused', lines: ['server s1 @1'] }], up, async (h) => {
    for (const input of HASH_FUNCTION_INPUTS) {
      const values = (await ask(h.port, { backend: 'hash-functions', headers: { 'x-in': input } })).split(' ').map(Number)
      names.forEach((fn, i) => out.push([fn, input, values[2 * i], values[2 * i + 1]]))
    }
  })
  return out
}

// --- writing ------------------------------------------------------------------------------------

/** A TypeScript literal of recorded data: single-quoted strings, unquoted keys. */
function literal (v: unknown): string {
  if (typeof v === 'string') return `'${JSON.stringify(v).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`
  if (typeof v === 'object' && v !== null) return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${literal(x)}`).join(', ')} }`
  return String(v)
}

function tableFile (name: string, type: string, what: string, rows: unknown[]): string {
  return `// ${what}\n// Recorded from real HAProxy 2.6.12 by test/runtime/recorded/record.ts: regenerate, do not edit.\n\n` +
    `import type { ${type} } from './types.js'\n\nexport const ${name}: ${type}[] = [\n${rows.map((r) => '  ' + literal(r)).join(',\n')}\n]\n`
}

const parts = {
  sequences: { file: 'sequences.ts', name: 'SEQUENCES', type: 'SequenceCase', what: 'roundrobin and static-rr pick orders, one request after the other.', record: recordSequences },
  dynamic: { file: 'dynamic.ts', name: 'DYNAMIC', type: 'DynamicCase', what: 'Pick orders around runtime weight and state changes made on the admin socket.', record: recordDynamic },
  held: { file: 'held.ts', name: 'HELD', type: 'HeldCase', what: 'Picks while earlier requests are still being served (+ a new request, -sN one on sN finished).', record: recordHeld },
  hashes: { file: 'hashes.ts', name: 'HASHES', type: 'HashCase', what: 'Hash placements: the server each key of keys.ts went to.', record: recordHashes },
  functions: { file: 'functions.ts', name: 'HASH_FUNCTIONS', type: 'HashFunctionVector', what: 'The hash converters on known inputs: [function, input, hash, hash with avalanche].', record: recordFunctions }
} as const

const { values } = parseArgs({ options: { only: { type: 'string', default: Object.keys(parts).join(',') }, check: { type: 'boolean', default: false } } })
const up = new Upstreams()
await up.start(MAX_SERVERS)
let failed = false
try {
  for (const key of values.only.split(',')) {
    const p = parts[key as keyof typeof parts]
    const rows = await p.record(up)
    const path = join(here, p.file)
    if (values.check) {
      const stored = (await import(path) as Record<string, unknown>)[p.name]
      const same = isDeepStrictEqual(JSON.parse(JSON.stringify(stored)), JSON.parse(JSON.stringify(rows)))
      if (!same) failed = true
      console.log(`${key}: ${rows.length} rows, ${same ? 'same as stored' : 'DIFFERENT from stored'}`)
    } else {
      writeFileSync(path, tableFile(p.name, p.type, p.what, rows))
      console.log(`${key}: ${rows.length} rows written to ${p.file}`)
    }
  }
} finally {
  await up.close()
}
process.exitCode = failed ? 1 : 0
