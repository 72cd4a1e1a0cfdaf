// TLS and HTTP/2 clients for the tests: a handshake that reports what the server chose, and
// requests over HTTPS (HTTP/1.1) and HTTP/2.

import tls from 'node:tls'
import https from 'node:https'
import http2 from 'node:http2'
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
