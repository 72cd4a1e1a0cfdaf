// Do the real-world configs that terminate TLS (`bind … ssl crt …`) serve HTTPS as HAProxy does?
// For each corpus config with an `ssl` bind carrying `crt` or `crt-list`, a copy is made servable
// on loopback without touching its rules: only paths and addresses change.
//   - every bind listens on 127.0.0.1 and a free port; QUIC binds (`quic4@`, `quic6@`) are dropped
//     (neither our CLI nor this HAProxy build speaks QUIC);
//   - every `server` points at an upstream of its own started here (HTTP/1.1, h2c for `proto h2`,
//     TLS with ALPN h2,http/1.1 for `ssl`), which answers 200 naming `<backend>/<server>` and the
//     `x-*` and `forwarded` headers it received (X-Forwarded-Proto, -Port, -For …);
//     `source <address>` becomes 127.0.0.1;
//   - the certificates it names (crt files, crt directories, crt-lists, ca-file) are made by the
//     openssl CLI into a temp dir, one CA signing them all; a certificate answers for the host
//     names the frontend routes on (ssl_fc_sni, Host), a directory holds two certificates;
//   - the other files it names (errorfile, map files, stats socket, pidfile, chroot, DH
//     parameters) are made there too; Lua scripts and SPOE configurations are not made;
//   - a missing final newline is added.
// Then our CLI (`node dist/cli.js -f`) and real HAProxy (`haproxy -db -f`) serve that copy in turn,
// and curl -k asks each TLS bind `GET /` for every name
// (no SNI, each certificate name, each routed host name, an unknown name), with HTTP/1.1 and,
// where the bind's `alpn` names h2, also with HTTP/2, and with a client limited to TLSv1.2; each clear bind is asked `GET /` over
// HTTP/1.1 too (the `redirect scheme https` idioms). A bind agrees when every
// answer has the same certificate, TLS version, cipher, ALPN, status and upstream with both; a file serves
// HTTPS when every TLS bind agrees and each name got its own certificate where one names it.
//
//   npm run build && node --import tsx scripts/corpus-tls.ts <corpus dir> [NNN …]
//
//   CORPUS_TLS_KEEP=1 keeps each config's directory (the rewritten config and its files);
//   CORPUS_TLS_VERBOSE=1 prints every answer of ours.
//
// Prints a table (file, TLS binds, ours, HAProxy, note), then the disagreements in detail.

import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliPath, freePort, haproxyBin } from '../test/differential/harness.js'
import { makeCa, makeLeaf, type Ca } from '../test/tls/certs.js'
import { curlGet } from '../test/tls/helpers.js'

const UNKNOWN_NAME = 'unknown.corpus.test'

interface TlsBind {
  line: number
  port: number
  frontend: string
  mode: string
  /** Per certificate file made for it, in the bind's order: the names it answers for. */
  certs: Array<{ cn: string, names: string[] }>
  names: string[]
  /** The bind line's `alpn` protocols (none without it). */
  alpn: string[]
}

interface UpstreamSpec { backend: string, server: string, kind: 'h1' | 'h2c' | 'tls', port: number }

/** Words of a config line, quotes removed (enough for the paths and addresses rewritten here). */
function words (line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map(m => m[1] ?? m[2] ?? m[3]!)
}

/** Host names a frontend's rules route on: ssl_fc_sni / Host matches (at most six). */
function routedNames (section: string[]): string[] {
  const names = new Set<string>()
  for (const line of section) {
    const w = words(line.replace(/#.*$/, ''))
    for (let i = 0; i < w.length; i++) {
      if (!/^(ssl_fc_sni(_\w+)?|req\.ssl_sni|hdr(_\w+)?\(host\)|req\.hdr\(host\))/i.test(w[i]!)) continue
      for (let j = i + 1; j < w.length && !/^(\}|if|unless|or|\|\|)$/.test(w[j]!); j++) {
        const v = w[j]!.toLowerCase()
        if (/^([a-z0-9-]+\.)+[a-z]{2,}$/.test(v)) names.add(v)
      }
    }
  }
  return [...names].slice(0, 6)
}

function safeName (path: string): string {
  return path.replace(/^[/@]+/, '').replace(/[^A-Za-z0-9._-]+/g, '_')
}

/** A `crt` argument that names a directory: a trailing slash, or a last element without an extension named like one. */
function isDirectory (path: string): boolean {
  return path.endsWith('/') || /(^|\/)(certs?|certdir|ssl|live)$/.test(path)
}

interface Prepared {
  text: string
  tlsBinds: TlsBind[]
  clearPorts: number[]
  upstreams: UpstreamSpec[]
  /** Backends under `balance random`: which of their servers answers is chance, for both proxies. */
  randomBackends: Set<string>
  notes: string[]
}

/** The backends whose `balance` (their own, else the last `defaults` before them) is `random`. */
function randomBackends (lines: string[], sections: Array<{ kind: string, name: string, start: number, end: number }>): Set<string> {
  const out = new Set<string>()
  let inherited: string | undefined
  for (const s of sections) {
    const own = lines.slice(s.start, s.end).map(l => /^\s*balance\s+(\S+)/.exec(l)?.[1]).find(b => b !== undefined)
    if (s.kind === 'defaults') inherited = own
    else if ((s.kind === 'backend' || s.kind === 'listen') && (own ?? inherited) === 'random') out.add(s.name)
  }
  return out
}

/** The servable copy of a config in `dir` (see the header). */
async function prepare (text: string, dir: string, ca: Ca): Promise<Prepared> {
  const lines = text.split(/\r?\n/)
  if (lines.at(-1) === '') lines.pop()
  const files = join(dir, 'files')
  mkdirSync(files, { recursive: true })
  const made = new Map<string, string>()
  const notes: string[] = []
  const tlsBinds: TlsBind[] = []
  const clearPorts: number[] = []
  const upstreams: UpstreamSpec[] = []
  const certsByPath = new Map<string, Array<{ cn: string, names: string[] }>>()

  // sections, for the names a frontend routes on
  const sections: Array<{ kind: string, name: string, start: number, end: number }> = []
  lines.forEach((l, i) => {
    const m = /^\s*(global|defaults|frontend|backend|listen|resolvers|userlist|peers|cache|ring|program|http-errors|mailers|crt-store|log-profile)\b\s*(\S*)/.exec(l)
    if (m !== null) { const last = sections.at(-1); if (last !== undefined) last.end = i; sections.push({ kind: m[1]!, name: m[2]!, start: i, end: lines.length }) }
  })
  const sectionOf = (i: number): { kind: string, name: string, start: number, end: number } | undefined => sections.find(s => i >= s.start && i < s.end)
  const modeOf = (s: { start: number, end: number } | undefined): string => {
    const own = s === undefined ? undefined : lines.slice(s.start, s.end).map(l => /^\s*mode\s+(\w+)/.exec(l)?.[1]).find(m => m !== undefined)
    return own ?? lines.map(l => /^\s*mode\s+(\w+)/.exec(l)?.[1]).find(m => m !== undefined) ?? 'tcp'
  }

  /** A generated file standing for `path`, made once. */
  const file = (path: string, content: () => string): string => {
    let out = made.get(path)
    if (out === undefined) {
      out = join(files, safeName(path))
      writeFileSync(out, content())
      made.set(path, out)
    }
    return out
  }
  const certificate = (path: string, names: string[]): string => {
    const existing = made.get(`crt:${path}`)
    if (existing !== undefined) return existing
    const base = safeName(path).replace(/\.(pem|crt|ecdsa|rsa)$/g, '').replace(/\./g, '-')
    const out = join(files, `crt-${safeName(path)}`)
    if (isDirectory(path)) {
      mkdirSync(out)
      const list = [`one-${base}.corpus.test`, `two-${base}.corpus.test`]
      for (const cn of list) makeLeaf(ca, join(out, `${cn}.pem`), cn, [cn])
      certsByPath.set(path, list.map(cn => ({ cn, names: [cn] })))
    } else {
      const cn = `${base}.corpus.test`
      const sans = [cn, ...names]
      makeLeaf(ca, out, cn, sans)
      certsByPath.set(path, [{ cn, names: sans }])
    }
    made.set(`crt:${path}`, out)
    return out
  }

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const code = line.replace(/(^|\s)#.*$/, '')
    const w = words(code)
    const indent = /^\s*/.exec(line)![0]
    const section = sectionOf(i)
    if (w[0] === 'bind') {
      if (/^quic[46]@/.test(w[1] ?? '')) { lines[i] = `${indent}# corpus-tls: QUIC bind dropped: ${line.trim()}`; notes.push('QUIC bind dropped'); continue }
      const port = await freePort()
      const rest = w.slice(2)
      const isTls = rest.includes('ssl') && (rest.includes('crt') || rest.includes('crt-list'))
      const names = isTls ? routedNames(lines.slice(section?.start ?? 0, section?.end ?? lines.length)) : []
      const certs: Array<{ cn: string, names: string[] }> = []
      for (let k = 0; k < rest.length; k++) {
        const opt = rest[k]!
        const arg = rest[k + 1]
        if (arg === undefined) continue
        if (opt === 'crt') {
          rest[k + 1] = certificate(arg, certs.length === 0 ? names : [])
          certs.push(...certsByPath.get(arg)!)
          k++
        } else if (opt === 'crt-list') {
          const leafs = [`listed-a.corpus.test`, `listed-b.corpus.test`]
          const lists = leafs.map(cn => { const f = join(files, `${cn}.pem`); makeLeaf(ca, f, cn, [cn, ...names]); return f })
          rest[k + 1] = file(arg, () => lists.map(f => `${f}\n`).join(''))
          certs.push(...leafs.map(cn => ({ cn, names: [cn, ...names] })))
          k++
        } else if (opt === 'ca-file' || opt === 'ca-verify-file') {
          rest[k + 1] = file(arg, () => readFileSync(ca.cert, 'latin1'))
          k++
        }
      }
      lines[i] = `${indent}bind 127.0.0.1:${port} ${rest.join(' ')}`
      if (isTls) tlsBinds.push({ line: i + 1, port, frontend: section?.name ?? '?', mode: modeOf(section), certs, names, alpn: rest.includes('alpn') ? (rest[rest.indexOf('alpn') + 1] ?? '').split(',') : [] })
      else clearPorts.push(port)
    } else if (w[0] === 'server' || w[0] === 'default-server') {
      if (w[0] === 'server' && w.length >= 3) {
        const opts = w.slice(3)
        const kind = opts.includes('ssl') ? 'tls' : opts.includes('proto') && opts[opts.indexOf('proto') + 1] === 'h2' ? 'h2c' : 'h1'
        const port = await freePort()
        upstreams.push({ backend: section?.name ?? '?', server: w[1]!, kind, port })
        w[2] = `127.0.0.1:${port}`
      }
      for (let k = 0; k < w.length - 1; k++) {
        if (w[k] === 'source') w[k + 1] = w[k + 1]!.replace(/^[^:]+|^\[[^\]]+\]/, '127.0.0.1')
        if (w[k] === 'ca-file' || w[k] === 'crl-file') w[k + 1] = file(w[k + 1]!, () => readFileSync(ca.cert, 'latin1'))
      }
      lines[i] = `${indent}${w.join(' ')}`
    } else if (w[0] === 'stats' && w[1] === 'socket' && w[2] !== undefined) {
      w[2] = /^(ipv4@|ipv6@)?[\d.:*]*:\d+$/.test(w[2]) ? `127.0.0.1:${await freePort()}` : join(dir, `stats-${i}.sock`)
      lines[i] = `${indent}${w.join(' ')}`
    } else if ((w[0] === 'pidfile' || w[0] === 'chroot') && w[1] !== undefined && w[1] !== 'auto') {
      const path = join(dir, w[0])
      if (w[0] === 'chroot') mkdirSync(path, { recursive: true })
      lines[i] = `${indent}${w[0]} ${path}`
    } else if (w[0] === 'errorfile' && w.length >= 3) {
      const status = w[1]!
      lines[i] = `${indent}errorfile ${status} ${file(w[2]!, () => `HTTP/1.0 ${status} Corpus\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nConnection: close\r\n\r\nerrorfile ${status}\n`)}`
    } else if (w[0] === 'ssl-dh-param-file' && w[1] !== undefined) {
      lines[i] = `${indent}ssl-dh-param-file ${file(w[1], () => spawnSync('openssl', ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'dh_param:ffdhe2048'], { encoding: 'latin1' }).stdout)}`
    } else if (/\bmap(_\w+)?\(/.test(code) || /\s-f\s/.test(code)) {
      lines[i] = line.replace(/(\bmap(?:_\w+)?\()([^,)]+)/g, (_m, fn: string, path: string) => `${fn}${file(path, () => '')}`)
        .replace(/(\s-f\s+)(\S+)/g, (_m, flag: string, path: string) => `${flag}${file(path, () => '')}`)
    } else if (w[0] === 'lua-load' || (w[0] === 'filter' && w[1] === 'spoe')) {
      notes.push(`needs ${w[0] === 'lua-load' ? 'Lua' : 'SPOE'}`)
    }
  }
  return { text: lines.join('\n') + '\n', tlsBinds, clearPorts, upstreams, randomBackends: randomBackends(lines, sections), notes }
}

// ---------------------------------------------------------------------------------------------
// Upstreams, the proxies, the probes

async function startUpstreams (specs: UpstreamSpec[], ca: Ca): Promise<() => Promise<void>> {
  const closers: Array<() => Promise<void>> = []
  const tlsPem = specs.some(s => s.kind === 'tls') ? makeLeaf(ca, join(ca.dir, 'upstream.pem'), 'upstream.corpus.test', ['upstream.corpus.test']) : undefined
  for (const s of specs) {
    const name = `${s.backend}/${s.server}`
    // the answer names the server and the headers the rules added to the request
    const answer = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
      const added = Object.entries(req.headers).filter(([k]) => k.startsWith('x-') || k === 'forwarded').map(([k, v]) => `${k}=${String(v)}`).sort().join(' ')
      res.writeHead(200, { 'content-type': 'text/plain', 'x-corpus-upstream': `${name}${added === '' ? '' : ` ${added}`}` })
      res.end(`${name}\n`)
    }
    const server = s.kind === 'h1'
      ? http.createServer(answer)
      : s.kind === 'h2c'
        ? http2.createServer(answer)
        : http2.createSecureServer({ cert: tlsPem!.certOnly, key: tlsPem!.key, allowHTTP1: true, ALPNProtocols: ['h2', 'http/1.1'] }, answer)
    const sockets = new Set<net.Socket>()
    server.on('connection', (c: net.Socket) => { sockets.add(c); c.on('close', () => sockets.delete(c)) })
    server.on('error', () => {})
    await new Promise<void>(resolve => server.listen(s.port, '127.0.0.1', resolve))
    closers.push(async () => { for (const c of sockets) c.destroy(); await new Promise<void>(resolve => server.close(() => resolve())) })
  }
  return async () => { await Promise.all(closers.map(async c => await c())) }
}

async function listening (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
  })
}

interface Running { stop: () => Promise<void>, output: () => string, failed: () => string | null }

/** Starts `haproxy -db -f` or our CLI on the file, waiting until every bind listens (15 s at most). */
async function serve (who: 'ours' | 'haproxy', cfg: string, cwd: string, ports: number[]): Promise<Running> {
  const [cmd, args] = who === 'haproxy' ? [haproxyBin ?? 'haproxy', ['-db', '-f', cfg]] : [process.execPath, [cliPath, '-f', cfg]]
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
  let failed: string | null = null
  const deadline = Date.now() + 15_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) { failed = `exited ${child.exitCode ?? child.signalCode}`; break }
    const up = await Promise.all(ports.map(listening))
    if (up.every(Boolean)) break
    if (Date.now() > deadline) { failed = `ports ${ports.filter((_p, i) => !up[i]).join(',')} never listened`; break }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return { stop, output: () => out, failed: () => failed }
}

/** What one request gave, as compared: certificate CN, TLS version, ALPN, status, upstream, some headers. */
interface Probe { cn: string, tls: string, cipher: string, alpn: string, status: string, upstream: string, headers: string }

/** Answer headers the corpus's rules set, compared too. */
const COMPARED_HEADERS = ['location', 'strict-transport-security', 'alt-svc', 'x-frame-options']

async function probe (port: number, name: string, version: Client, scheme: 'http' | 'https' = 'https'): Promise<Probe> {
  const a = await curlGet(scheme, port, name, '/', version.split(' '))
  return {
    cn: a.cn,
    tls: a.tls,
    cipher: a.cipher,
    alpn: a.alpn,
    status: a.status,
    upstream: a.headers['x-corpus-upstream'] ?? '-',
    headers: COMPARED_HEADERS.filter(h => a.headers[h] !== undefined).map(h => `${h}: ${a.headers[h]!}`).join(' | ')
  }
}

const show = (p: Probe): string => `${p.cn} ${p.tls}/${p.cipher} alpn=${p.alpn} ${p.status} ${p.upstream}${p.headers === '' ? '' : ` [${p.headers}]`}`

/** The names a bind is asked for: none, each certificate's, each routed host, an unknown one. */
function probeNames (b: TlsBind): string[] {
  return [...new Set(['', ...b.certs.flatMap(c => c.names), ...b.names, UNKNOWN_NAME])]
}

/** curl's options for one kind of client. */
type Client = '--http1.1' | '--http2' | '--http1.1 --tlsv1.2 --tls-max 1.2'

/**
 * HTTP/1.1 clients everywhere, one limited to TLSv1.2 (the cipher then comes from the TLSv1.2
 * list), and HTTP/2 ones (ALPN h2,http/1.1) where the bind's `alpn` names h2.
 */
function clientsOf (b: TlsBind): Client[] {
  return ['--http1.1', '--http1.1 --tlsv1.2 --tls-max 1.2', ...(b.alpn.includes('h2') ? ['--http2' as const] : [])]
}

/** The certificate a name should get: the first whose names hold it, else the bind's first. */
function expectedCn (b: TlsBind, name: string): string {
  return (b.certs.find(c => c.names.includes(name)) ?? b.certs[0])?.cn ?? '-'
}

async function runAll (who: 'ours' | 'haproxy', prepared: Prepared, cfg: string, cwd: string): Promise<{ failed: string | null, probes: Map<string, Probe>, output: string }> {
  const running = await serve(who, cfg, cwd, [...prepared.tlsBinds.map(b => b.port), ...prepared.clearPorts])
  const probes = new Map<string, Probe>()
  try {
    if (running.failed() === null) {
      for (const b of prepared.tlsBinds) {
        for (const name of probeNames(b)) {
          for (const version of clientsOf(b)) probes.set(`${b.line} ${version} ${name}`, await probe(b.port, name, version))
        }
      }
      for (const port of prepared.clearPorts) probes.set(`clear ${port}`, await probe(port, prepared.tlsBinds[0]?.names[0] ?? '', '--http1.1', 'http'))
    }
  } finally {
    await running.stop()
  }
  return { failed: running.failed(), probes, output: running.output() }
}

/** The first alert of a `-c` run (or its last line), or null when valid. */
function check (who: 'ours' | 'haproxy', cfg: string, cwd: string): string | null {
  const [cmd, args] = who === 'haproxy' ? [haproxyBin ?? 'haproxy', ['-c', '-f', cfg]] : [process.execPath, [cliPath, '-c', '-f', cfg]]
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 30_000 })
  if (r.status === 0) return null
  const text = `${r.stderr}\n${r.stdout}`
  const alert = text.split('\n').find(l => l.includes('[ALERT]') && !/Error\(s\) found|Fatal errors/.test(l)) ?? text.trim().split('\n').at(-1) ?? ''
  return alert.replace(/^\[ALERT\]\s*(\(\d+\)\s*)?:\s*(config\s*:\s*)?/, '').replace(/\/\S*\/files\//g, '').slice(0, 110)
}

// ---------------------------------------------------------------------------------------------

const corpus = process.argv[2]
if (corpus === undefined) {
  process.stderr.write('usage: node --import tsx scripts/corpus-tls.ts <corpus dir> [NNN …]\n')
  process.exit(2)
}
if (haproxyBin === null) { process.stderr.write('real haproxy is not installed: nothing to compare with\n'); process.exit(2) }
const only = new Set(process.argv.slice(3))
const ids = readdirSync(join(corpus, 'configs')).filter(f => f.endsWith('.cfg')).map(f => f.slice(0, -4)).sort()
  .filter(id => only.size === 0 || only.has(id))
  .filter(id => readFileSync(join(corpus, 'configs', `${id}.cfg`), 'latin1').split('\n').some(l => /^\s*bind\s.*\bssl\b/.test(l.replace(/#.*$/, '')) && /\bcrt(-list)?\s/.test(l.replace(/#.*$/, ''))))

const rows: string[][] = [['file', 'TLS binds', 'ours', 'HAProxy', 'note']]
const details: string[] = []
let agreeing = 0
let servedByHaproxy = 0
for (const id of ids) {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), `corpus-tls-${id}-`))
    const ca = makeCa('Corpus TLS CA')
    try {
      const prepared = await prepare(readFileSync(join(corpus, 'configs', `${id}.cfg`), 'latin1'), dir, ca)
      const cfg = `${id}.cfg`
      writeFileSync(join(dir, cfg), prepared.text)
      const notes = [...new Set(prepared.notes)]
      const binds = String(prepared.tlsBinds.length)
      const refusedByHaproxy = check('haproxy', cfg, dir)
      const refusedByUs = check('ours', cfg, dir)
      if (refusedByHaproxy !== null) {
        rows.push([id, binds, refusedByUs === null ? 'valid' : 'refused', 'refused', `HAProxy 2.6: ${refusedByHaproxy}`, ...notes])
        break
      }
      servedByHaproxy++
      const closeUpstreams = await startUpstreams(prepared.upstreams, ca)
      try {
        const theirs = await runAll('haproxy', prepared, cfg, dir)
        if (refusedByUs !== null) {
          rows.push([id, binds, 'refused', theirs.failed ?? 'serves', `ours: ${refusedByUs}`, ...notes])
          break
        }
        const ours = await runAll('ours', prepared, cfg, dir)
        // a port picked free was taken meanwhile (the machine is shared): again on other ports
        if (attempt < 3 && [ours, theirs].some(r => r.failed !== null && /EADDRINUSE|address already in use|cannot bind socket/i.test(r.output))) {
          servedByHaproxy--
          continue
        }
        const problems: string[] = []
        const haproxyProblems: string[] = []
        const known = new Set<string>()
        // under `balance random` only the backend is compared, not which of its servers answered
        const compared = (p: Probe): string => {
          const [backend, rest] = p.upstream.split('/', 2)
          return show(rest !== undefined && prepared.randomBackends.has(backend!) ? { ...p, upstream: `${backend!}/* ${rest.split(' ').slice(1).join(' ')}`.trimEnd() } : p)
        }
        if (ours.failed !== null) problems.push(`ours ${ours.failed}: ${ours.output.split('\n').slice(-4).join(' | ')}`)
        if (theirs.failed !== null) haproxyProblems.push(`haproxy ${theirs.failed}: ${theirs.output.split('\n').slice(-4).join(' | ')}`)
        for (const b of prepared.tlsBinds) {
          for (const name of probeNames(b)) for (const version of clientsOf(b)) {
            const key = `${b.line} ${version} ${name}`
            const o = ours.probes.get(key)
            const h = theirs.probes.get(key)
            const expected = expectedCn(b, name)
            if (o !== undefined && h !== undefined && compared(o) !== compared(h)) {
              // README "Differences from HAProxy": where HAProxy negotiates no protocol, node can
              // only choose one or refuse the handshake, so http/1.1 is chosen when offered
              if (compared({ ...o, alpn: 'none' }) === compared(h) && o.alpn === 'http/1.1' && !b.alpn.includes('http/1.1')) known.add(`ALPN http/1.1 where HAProxy negotiates none (clients offering only http/1.1, bind \`alpn ${b.alpn.join(',')}\`)`)
              else problems.push(`line ${b.line} ${version} sni '${name}': ours ${show(o)} / haproxy ${show(h)}`)
            }
            if (o !== undefined && (o.tls === 'no handshake' || (o.cn !== expected && !(name === UNKNOWN_NAME || name === '')))) problems.push(`line ${b.line} ${version} sni '${name}': ours ${show(o)}, expected certificate ${expected}`)
            if (h !== undefined && (h.tls === 'no handshake' || (h.cn !== expected && !(name === UNKNOWN_NAME || name === '')))) haproxyProblems.push(`line ${b.line} ${version} sni '${name}': haproxy ${show(h)}, expected certificate ${expected}`)
            if (b.mode === 'http' && o !== undefined && o.status === '000') problems.push(`line ${b.line} ${version} sni '${name}': no HTTP answer from ours`)
          }
        }
        for (const port of prepared.clearPorts) {
          const o = ours.probes.get(`clear ${port}`)
          const h = theirs.probes.get(`clear ${port}`)
          if (o !== undefined && h !== undefined && compared(o) !== compared(h)) problems.push(`clear bind :${port}: ours ${show(o)} / haproxy ${show(h)}`)
        }
        if (process.env.CORPUS_TLS_VERBOSE !== undefined) for (const [key, p] of ours.probes) details.push(`${id}: ${key}: ${show(p)}`)
        if (problems.length === 0) agreeing++
        const sample = prepared.tlsBinds.map(b => { const p = ours.probes.get(`${b.line} ${b.alpn.includes('h2') ? '--http2' : '--http1.1'} ${b.names[0] ?? b.certs[0]?.names[0] ?? ''}`); return p === undefined ? '' : `${p.alpn} ${p.status}` }).join(', ')
        rows.push([id, binds, problems.length === 0 ? `same (${sample})` : `differs (${problems.length})`, haproxyProblems.length === 0 ? 'serves' : `problems (${haproxyProblems.length})`, [...notes, ...[...known].map(k => `known difference: ${k}`)].join('; ')])
        for (const p of [...problems, ...haproxyProblems]) details.push(`${id}: ${p}`)
      } finally {
        await closeUpstreams()
      }
    } finally {
      if (process.env.CORPUS_TLS_KEEP === undefined) {
        rmSync(dir, { recursive: true, force: true })
        rmSync(ca.dir, { recursive: true, force: true })
      } else process.stderr.write(`${id}: kept ${dir}\n`)
    }
    break
  }
}

const widths = rows[0]!.map((_c, i) => Math.max(...rows.map(r => (r[i] ?? '').length)))
for (const r of rows) process.stdout.write(r.slice(0, 4).map((c, i) => c.padEnd(widths[i]!)).join('  ') + '  ' + r.slice(4).join('; ') + '\n')
process.stdout.write(`\n${agreeing} of ${servedByHaproxy} configs HAProxy 2.6 serves (of ${ids.length} with \`bind … ssl crt\`) serve HTTPS as HAProxy does\n`)
if (details.length > 0) process.stdout.write(`\n${details.join('\n')}\n`)
process.exitCode = agreeing === servedByHaproxy ? 0 : 1
