// Real upstream servers and a raw HTTP client on 127.0.0.1 for the gateway tests.

import { writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import haproxyRouter from '../../lib/index.js'

export interface Seen {
  server: string
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  rawHeaders: string[]
  bodyLength: number
  sha256: string
}

export interface Upstream {
  name: string
  port: number
  addr: string
  /** Requests seen, in order. */
  seen: Seen[]
  close (): Promise<void>
}

export interface UpstreamOptions {
  delayMs?: number
  status?: number
  headers?: Record<string, string | string[]>
  /** Replace the default JSON echo. */
  handler?: http.RequestListener
  /** false: requests without Host are served too (node answers them 400 by default). */
  requireHost?: boolean
}

/** An HTTP server that answers with what it received: `x-served-by` and a JSON echo. */
export async function upstream (name: string, opts: UpstreamOptions = {}): Promise<Upstream> {
  const seen: Seen[] = []
  const server = http.createServer({ requireHostHeader: opts.requireHost ?? true }, opts.handler ?? ((req, res) => {
    const hash = createHash('sha256')
    let length = 0
    req.on('data', (d: Buffer) => { length += d.length; hash.update(d) })
    req.on('end', () => {
      const s: Seen = { server: name, method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, bodyLength: length, sha256: hash.digest('hex') }
      seen.push(s)
      const reply = (): void => {
        res.writeHead(opts.status ?? 200, { 'content-type': 'application/json', 'x-served-by': name, ...opts.headers })
        res.end(JSON.stringify(s))
      }
      if (opts.delayMs !== undefined) setTimeout(reply, opts.delayMs)
      else reply()
    })
  }))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    name,
    port,
    addr: `127.0.0.1:${port}`,
    seen,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

/** A TCP port with nothing listening on it (bound, then released). */
export async function deadPort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

/** A TCP server that answers every request with the given raw bytes (for invalid responses). */
export async function rawServer (answer: (data: Buffer, socket: net.Socket) => void): Promise<{ port: number, close (): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const s = net.createServer(c => { sockets.add(c); c.on('error', () => {}); c.once('data', d => answer(d, c)) })
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  return {
    port: (s.address() as AddressInfo).port,
    close: async () => { for (const c of sockets) c.destroy(); await new Promise<void>(resolve => s.close(() => resolve())) }
  }
}

export interface RawResponse {
  status: number
  reason: string
  headers: Record<string, string>
  /** Header lines as sent, lower-cased names. */
  lines: Array<[string, string]>
  body: Buffer
  text: string
}

/** Sends raw bytes on a fresh connection and reads until the server closes (send `Connection: close`). */
export async function rawRequest (port: number, data: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data))
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('timeout')) }, timeoutMs)
    socket.on('data', d => chunks.push(d))
    socket.on('error', reject)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(parseResponse(Buffer.concat(chunks)))
    })
  })
}

export function parseResponse (buf: Buffer): RawResponse {
  let end = buf.indexOf('\r\n\r\n')
  if (end < 0) end = buf.length
  const head = buf.subarray(0, end).toString('latin1').split('\r\n')
  // skip interim 1xx answers
  while (/^HTTP\/1\.\d 1\d\d/.test(head[0] ?? '') && !/^HTTP\/1\.\d 101/.test(head[0] ?? '')) {
    const next = buf.indexOf('\r\n\r\n', end + 4)
    buf = buf.subarray(end + 4)
    end = buf.indexOf('\r\n\r\n')
    if (next < 0 || end < 0) break
    head.splice(0, head.length, ...buf.subarray(0, end).toString('latin1').split('\r\n'))
  }
  const m = /^HTTP\/1\.\d (\d{3}) ?(.*)$/.exec(head[0] ?? '')
  const headers: Record<string, string> = {}
  const lines: Array<[string, string]> = []
  for (const line of head.slice(1)) {
    const i = line.indexOf(':')
    if (i < 0) continue
    const k = line.slice(0, i).trim().toLowerCase()
    const v = line.slice(i + 1).trim()
    lines.push([k, v])
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`
  }
  let body = buf.subarray(Math.min(buf.length, end + 4))
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body)
  return { status: m ? Number(m[1]) : 0, reason: m?.[2] ?? '', headers, lines, body, text: body.toString('latin1') }
}

function dechunk (b: Buffer): Buffer {
  const out: Buffer[] = []
  let i = 0
  while (i < b.length) {
    const eol = b.indexOf('\r\n', i)
    if (eol < 0) break
    const size = parseInt(b.subarray(i, eol).toString(), 16)
    if (!(size > 0)) break
    out.push(b.subarray(eol + 2, eol + 2 + size))
    i = eol + 2 + size + 2
  }
  return Buffer.concat(out)
}

/** GET with node's client on a fresh connection; resolves status, headers and text. */
export async function get (port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: Buffer | string): Promise<{ status: number, headers: http.IncomingHttpHeaders, text: string, body: Buffer }> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { connection: 'close', ...headers }, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', d => chunks.push(d))
      res.on('end', () => { const b = Buffer.concat(chunks); resolve({ status: res.statusCode!, headers: res.headers, text: b.toString('latin1'), body: b }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/**
 * Waits until `condition` holds, polling: tests wait for a state, never for a duration that a
 * loaded machine may not honour. The bound only ends a test that would never pass.
 */
export async function waitFor (condition: () => boolean | Promise<boolean>, what: string, boundMs = 60_000): Promise<void> {
  const deadline = Date.now() + boundMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`)
    await sleep(10)
  }
}

/** A `defaults` section for the tests' configs: mode http and short timeouts. */
export const HTTP_DEFAULTS = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
`

export const HAPROXY_503 = '<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n'

/** A Fastify app with the plugin, listening on 127.0.0.1 (default: pure HAProxy semantics). */
export async function gatewayApp (config: string, opts: Record<string, unknown> = { defaultBackend: 'always' }, fastifyOpts: FastifyServerOptions = {}): Promise<{ app: FastifyInstance, port: number }> {
  const app = Fastify(fastifyOpts)
  await app.register(haproxyRouter, { config, ...opts })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port }
}

/** `n` consecutive free ports on 127.0.0.1 (for configs the gateway binds itself). */
export async function freePorts (n = 1): Promise<number> {
  for (;;) {
    const s = net.createServer()
    await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
    const base = (s.address() as AddressInfo).port
    await new Promise<void>(resolve => s.close(() => resolve()))
    let ok = base + n < 65535
    for (let i = 1; ok && i < n; i++) {
      ok = await new Promise<boolean>(resolve => { const t = net.createServer(); t.once('error', () => resolve(false)); t.listen(base + i, '127.0.0.1', () => t.close(() => resolve(true))) })
    }
    if (ok) return base
  }
}

export async function waitListening (port: number, host = '127.0.0.1'): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>(resolve => { const s = net.connect(port, host, () => { s.destroy(); resolve(true) }); s.on('error', () => resolve(false)) })
    if (ok) return
    await sleep(100)
  }
  throw new Error(`${host}:${port} never listened`)
}

const SERVE_MAIN = fileURLToPath(new URL('./serve-main.ts', import.meta.url))

/** runGateway on a config file in a child process (standalone mode, as the CLI runs it). */
export function startGateway (file: string): { child: ChildProcess, exited: Promise<number | null>, output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVE_MAIN, file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', d => { out += d })
  child.stderr!.on('data', d => { out += d })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  return { child, exited, output: () => out }
}

/** Runs `fn` against the CLI serving `config(port)` from `file` (the counterpart of real-haproxy's withHaproxy); stopped afterwards. */
export async function withGateway<T> (file: string, config: (port: number) => string, fn: (port: number) => Promise<T>): Promise<T> {
  const port = await freePorts()
  writeFileSync(file, config(port))
  const gw = startGateway(file)
  try {
    await waitListening(port).catch((err: Error) => { throw new Error(`${err.message}: ${gw.output()}`) })
    return await fn(port)
  } finally {
    gw.child.kill('SIGTERM')
    await gw.exited
  }
}

