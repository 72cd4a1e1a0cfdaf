// Differential harness: the same config served by real HAProxy and by our CLI
// (`node dist/cli.js -f cfg`), each in its own process on 127.0.0.1, in front of real upstream
// servers started here. Tests send the same requests to both and compare the answers.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createNetServer, connect, type AddressInfo, type Socket } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

/**
 * The haproxy binary (HAPROXY_BIN, else Debian's path or PATH), or null when it is not installed:
 * the tests then skip and say why.
 */
export const haproxyBin: string | null = (() => {
  const candidates = process.env.HAPROXY_BIN === undefined ? ['/usr/sbin/haproxy', 'haproxy'] : [process.env.HAPROXY_BIN]
  for (const bin of candidates) {
    const r = spawnSync(bin, ['-v'], { encoding: 'utf8' })
    if (r.status === 0 && /HAProxy version/.test(r.stdout)) return bin
  }
  return null
})()

export const skipWithoutHaproxy: string | false = haproxyBin === null
  ? 'real haproxy is not installed (apt-get install haproxy): no differential comparison possible'
  : false

/** A port that was free a moment ago (the config needs it before the proxy binds it). */
export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

export interface Seen {
  server: string
  method: string
  url: string
  /** Raw header pairs as the upstream received them, names lower-cased, in order. */
  headers: Array<[string, string]>
  body: string
}

export interface Upstream {
  name: string
  port: number
  /** Requests received, in order. */
  seen: Seen[]
  close (): Promise<void>
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void

/** An upstream that answers with a JSON echo of what it received (or lets `handler` answer). */
export async function startUpstream (name: string, handler?: Handler): Promise<Upstream> {
  const seen: Seen[] = []
  const server: Server = createServer((req, res) => {
    const headers: Array<[string, string]> = []
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]])
    const s: Seen = { server: name, method: req.method ?? '', url: req.url ?? '', headers, body: '' }
    seen.push(s)
    req.setEncoding('utf8')
    req.on('data', (c: string) => { s.body += c })
    req.on('end', () => {
      if (handler !== undefined) return handler(req, res, s)
      res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name })
      res.end(JSON.stringify(s))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    name,
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>(resolve => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }
}

/** A raw TCP upstream for broken answers (garbage, early close, silence). */
export async function startRawUpstream (onConnection: (socket: Socket) => void): Promise<{ port: number, close (): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createNetServer(socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    onConnection(socket)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>(resolve => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  }
}

export interface Proxied {
  label: 'haproxy' | 'ours'
  port: number
  output (): string
  stop (): Promise<void>
}

function waitForPort (port: number, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before listening on ${port}:\n${output()}`))
        return
      }
      const sock = connect(port, '127.0.0.1')
      sock.once('connect', () => { sock.destroy(); resolve() })
      sock.once('error', () => {
        sock.destroy()
        if (Date.now() > deadline) reject(new Error(`not listening on ${port} after ${timeoutMs} ms:\n${output()}`))
        else setTimeout(attempt, 50)
      })
    }
    attempt()
  })
}

/** A port found free was taken before the proxy bound it (another process on a shared machine). */
const PORT_TAKEN = /EADDRINUSE|cannot bind socket/

/**
 * Starts one proxy on `config(port)`, the frontend port found free; the config text is written
 * to a temp dir that is removed on stop. When a port of the config was taken between being found
 * free and being bound, the proxy starts again on a config made anew (fresh ports), twice at most.
 */
export async function startProxy (label: 'haproxy' | 'ours', config: (port: number) => string): Promise<Proxied> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(label, config)
    } catch (err) {
      if (attempt === 3 || !PORT_TAKEN.test((err as Error).message)) throw err
    }
  }
}

async function startOnce (label: 'haproxy' | 'ours', config: (port: number) => string): Promise<Proxied> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), `fh-diff-${label}-`))
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, config(port))
  if (label === 'ours' && !existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build`)
  const [cmd, args] = label === 'haproxy'
    ? [haproxyBin ?? 'haproxy', ['-db', '-f', file]]
    : [process.execPath, [cliPath, '-f', file]]
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const output = (): string => out
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitForPort(port, child, output, 10_000)
  } catch (err) {
    await stop()
    throw new Error(`${label}: ${(err as Error).message}`)
  }
  return { label, port, output, stop }
}

/** Starts real HAProxy and our CLI on the same config; `stop()` stops both. */
export async function startBoth (config: (port: number) => string): Promise<{ haproxy: Proxied, ours: Proxied, stop (): Promise<void> }> {
  const haproxy = await startProxy('haproxy', config)
  let ours: Proxied
  try {
    ours = await startProxy('ours', config)
  } catch (err) {
    await haproxy.stop()
    throw err
  }
  return { haproxy, ours, stop: async () => { await Promise.all([haproxy.stop(), ours.stop()]) } }
}

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export interface Ask {
  method?: string
  path: string
  headers?: Record<string, string | string[]>
  body?: string
  /** The client's own address (any of 127.0.0.0/8 on Linux), for rules that read `src`. */
  from?: string
}

/** One request on a fresh connection (no pooling: every answer stands alone). */
export function send (port: number, ask: Ask): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: ask.method ?? 'GET', path: ask.path, headers: ask.headers, agent: false, ...(ask.from === undefined ? {} : { localAddress: ask.from }) }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(8000, () => req.destroy(new Error(`no answer to ${ask.method ?? 'GET'} ${ask.path} within 8 s`)))
    req.end(ask.body)
  })
}

/**
 * Writes `pieces` on a fresh connection, `pauseMs` between them (then half-closes when `end`), and
 * reads until the proxy closes or 3 s pass: all it sent back, and whether it closed.
 */
export async function writePieces (port: number, pieces: string[], pauseMs: number, end = false): Promise<{ data: string, closed: boolean }> {
  const socket = connect(port, '127.0.0.1')
  let data = ''
  socket.setEncoding('latin1')
  socket.on('data', (d: string) => { data += d })
  socket.on('error', () => {})
  for (const [i, piece] of pieces.entries()) {
    if (i > 0) await new Promise(resolve => setTimeout(resolve, pauseMs))
    socket.write(piece)
  }
  if (end) socket.end()
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 3000)
    socket.on('close', () => { clearTimeout(timer); resolve(true) })
  })
  socket.destroy()
  return { data, closed }
}

/** The common `global`/`defaults` head of the test configs. */
export function head (defaults: string[] = []): string {
  return [
    'global',
    '    nbthread 1',
    'defaults',
    '    mode http',
    '    timeout connect 1s',
    '    timeout client 5s',
    '    timeout server 5s',
    ...defaults.map(l => `    ${l}`),
    ''
  ].join('\n')
}
