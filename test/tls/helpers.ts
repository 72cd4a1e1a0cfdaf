// TLS and HTTP/2 clients for the tests: a handshake that reports what the server chose, and
// requests over HTTPS (HTTP/1.1) and HTTP/2.

import tls from 'node:tls'
import https from 'node:https'
import http2 from 'node:http2'
import { spawn } from 'node:child_process'
import type { IncomingHttpHeaders } from 'node:http'

export interface Handshake {
  /** CN of the certificate the server presented. */
  cn: string
  protocol: string | null
  alpn: string | false
}

/** Connects with `servername` (none when ''), reports the certificate, version and ALPN, then closes. */
export async function handshake (port: number, servername: string, opts: tls.ConnectionOptions = {}): Promise<Handshake> {
  return await new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername !== '' ? { servername } : {}), ...opts }, () => {
      const cert = s.getPeerCertificate()
      resolve({ cn: String(cert.subject?.CN ?? ''), protocol: s.getProtocol(), alpn: s.alpnProtocol ?? false })
      s.destroy()
    })
    s.on('error', reject)
  })
}

export interface Answer { status: number, headers: IncomingHttpHeaders, text: string, trailers?: IncomingHttpHeaders }

/** An HTTPS/1.1 request (no keep-alive). */
export async function httpsGet (port: number, path: string, opts: https.RequestOptions = {}): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false, ...opts }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** HTTP/2 requests on one session (`https://…` over TLS with ALPN h2, `http://…` with prior knowledge). */
export async function h2Requests (authority: string, requests: Array<{ path: string, method?: string, headers?: http2.OutgoingHttpHeaders, body?: string }>, opts: http2.SecureClientSessionOptions = {}): Promise<Answer[]> {
  const session = http2.connect(authority, { rejectUnauthorized: false, ...opts })
  session.on('error', () => {})
  try {
    return await Promise.all(requests.map(async r => await new Promise<Answer>((resolve, reject) => {
      const stream = session.request({ ':path': r.path, ':method': r.method ?? 'GET', ...r.headers }, { endStream: r.body === undefined })
      let headers: IncomingHttpHeaders = {}
      let text = ''
      stream.setEncoding('utf8')
      let trailers: IncomingHttpHeaders | undefined
      stream.on('response', (h) => { headers = h as IncomingHttpHeaders })
      stream.on('trailers', (h) => { trailers = h as IncomingHttpHeaders })
      stream.on('data', (d: string) => { text += d })
      stream.on('end', () => resolve({ status: Number(headers[':status']), headers, text, ...(trailers !== undefined ? { trailers } : {}) }))
      stream.on('error', reject)
      if (r.body !== undefined) stream.end(r.body)
    })))
  } finally {
    session.close()
  }
}

/** What curl reports of one request: the certificate's CN, TLS version, ALPN, status, head and body. */
export interface CurlAnswer {
  /** CN of the server's certificate ('-' without a handshake). */
  cn: string
  /** TLS version ('no handshake' when none happened). */
  tls: string
  /** The cipher negotiated ('-' without a handshake). */
  cipher: string
  /** The protocol ALPN chose, 'none' when the server chose none, '-' when not reported. */
  alpn: string
  /** HTTP status, '000' without an answer. */
  status: string
  /** Answer headers, names lower-case (the last of a repeated one). */
  headers: Record<string, string>
  body: string
}

/**
 * `curl -k` GET `<scheme>://<name>:<port><path>` resolved to 127.0.0.1 (so SNI and Host are
 * `name`; none and `127.0.0.1` when `name` is ''), with `args` added (`--http2`, `--tlsv1.2 --tls-max 1.2`,
 * `--cert` …). Run asynchronously: the servers it talks to may live in this process.
 */
export async function curlGet (scheme: 'http' | 'https', port: number, name: string, path = '/', args: string[] = []): Promise<CurlAnswer> {
  const host = name === '' ? '127.0.0.1' : name
  const all = ['-sk', '-v', '--max-time', '8', '-D', '-', '-w', '\n%{http_code}', ...args]
  if (name !== '') all.push('--resolve', `${name}:${port}:127.0.0.1`)
  all.push(`${scheme}://${host}:${port}${path}`)
  const child = spawn('curl', all, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString('latin1') })
  child.stderr.on('data', (d: Buffer) => { err += d.toString('latin1') })
  await new Promise<void>(resolve => child.once('close', () => resolve()))
  const status = out.slice(out.lastIndexOf('\n') + 1)
  const rest = out.slice(0, out.lastIndexOf('\n'))
  const split = rest.indexOf('\r\n\r\n')
  const head = split < 0 ? '' : rest.slice(0, split)
  const headers: Record<string, string> = {}
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  return {
    cn: /subject: .*?CN\s*=\s*([^;\n,]+)/.exec(err)?.[1]?.trim() ?? '-',
    tls: /SSL connection using (\S+)/.exec(err)?.[1] ?? 'no handshake',
    cipher: /SSL connection using \S+ \/ (\S+)/.exec(err)?.[1] ?? '-',
    alpn: /ALPN: server accepted (\S+)/.exec(err)?.[1] ?? (/ALPN: server did not agree/.test(err) ? 'none' : '-'),
    status,
    headers,
    body: split < 0 ? '' : rest.slice(split + 4)
  }
}
