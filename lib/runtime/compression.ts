// HTTP response compression (configuration.txt §4.2 `compression`, §9.2 `filter compression`),
// as HAProxy 2.6.12 does it, observed on loopback: the algorithm is chosen from the request's
// Accept-Encoding once the http-request rules are done, and the server's answer is compressed
// only when HAProxy would (status, framing, Content-Encoding, Cache-Control, ETag, Content-Type).
// The body streams through node's zlib, flushed after each piece the server sends, as HAProxy
// sends a compressed piece for each piece it forwards.

import zlib from 'node:zlib'
import type { IncomingHttpHeaders } from 'node:http'
import type { CompressionAlgo, CompressionConfig } from '../config/model.js'
import type { TrafficCounters } from './state.js'

/** The Accept-Encoding / Content-Encoding token of each algorithm (raw-deflate answers `deflate`). */
const TOKEN: Readonly<Record<CompressionAlgo, string>> = { identity: 'identity', gzip: 'gzip', deflate: 'deflate', 'raw-deflate': 'deflate' }

/** zlib's level when `tune.comp.maxlevel` is not set: HAProxy's default. */
export const DEFAULT_COMP_LEVEL = 1

/** The settings that apply to one frontend and backend pair, compiled once. */
export class CompressionRule {
  /** `compression offload`: the server never sees the client's Accept-Encoding. */
  readonly offload: boolean

  private constructor (
    /** In configuration order (a `*` in Accept-Encoding takes the last one). */
    readonly algos: readonly CompressionAlgo[],
    /** Lower-cased Content-Type prefixes; null: every type but multipart. */
    private readonly types: readonly string[] | null,
    offload: boolean,
    /** zlib level: `tune.comp.maxlevel` (1 by default, as HAProxy's). */
    private readonly level: number
  ) {
    this.offload = offload
  }

  /**
   * The rule of a frontend and a backend: each of `algo` and `type` is the backend's when it gave
   * one, else the frontend's (observed); offload when either asks for it. null: no compression.
   */
  static of (fe: CompressionConfig | undefined, be: CompressionConfig | undefined, level: number): CompressionRule | null {
    if (fe === undefined && be === undefined) return null
    const algos = be?.algos ?? fe?.algos ?? null
    const offload = fe?.offload === true || be?.offload === true
    if (algos === null && !offload) return null
    const types = be?.types ?? fe?.types ?? null
    return new CompressionRule(algos ?? [], types === null ? null : types.map(t => t.toLowerCase()), offload, level)
  }

  /**
   * The algorithm for a request (its headers after the http-request rules), or null. HAProxy
   * takes the Accept-Encoding token with the highest q-value (the first one of equal q); `*`
   * stands for the last configured algorithm; q=0 refuses. `identity` applies when nothing else
   * does. HTTP/1.0 requests, HEAD, and old Mozilla/4 browsers get no compression.
   */
  choose (method: string, http10: boolean, headers: IncomingHttpHeaders): CompressionAlgo | null {
    const algos = this.algos
    if (algos.length === 0 || http10 || method === 'HEAD') return null
    const ua = headers['user-agent']
    if (ua !== undefined && ua.startsWith('Mozilla/4') && !modernMsie(ua)) return null
    const ae = headers['accept-encoding']
    let best: CompressionAlgo | null = null
    if (ae !== undefined) {
      let bestQ = 0
      for (const value of typeof ae === 'string' ? [ae] : ae) {
        for (const item of value.split(',')) {
          const semi = item.indexOf(';')
          const q = semi < 0 ? 1 : qValue(item, semi)
          if (q <= bestQ) continue
          const token = (semi < 0 ? item : item.slice(0, semi)).trim().toLowerCase()
          const algo = token === '*' ? algos[algos.length - 1]! : algos.find(a => TOKEN[a] === token)
          if (algo === undefined) continue
          best = algo
          bestQ = q
        }
      }
    }
    if (best === null && algos.includes('identity')) return 'identity'
    return best
  }

  /**
   * Whether the server's answer is compressed, as HAProxy decides (§4.2 "Compression is disabled
   * when", and observed): status 200 to 203, a body of known framing that is not empty, no
   * Content-Encoding, no `Cache-Control: no-transform`, at most one ETag and a valid one, and a
   * Content-Type in the list (not multipart). `headers` is the flat list of the answer's headers.
   */
  applies (status: number, headers: readonly string[], framedByServer: boolean): boolean {
    if (status < 200 || status > 203) return false
    let framed = framedByServer
    let etags = 0
    let type: string | undefined
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase()
      const value = headers[i + 1]!
      switch (name) {
        case 'content-length':
          if (value.trim() === '0') return false
          framed = true
          break
        case 'transfer-encoding':
          if (/(?:^|,)[ \t]*chunked[ \t]*$/i.test(value)) framed = true
          break
        case 'content-encoding':
          return false
        case 'cache-control':
          if (NO_TRANSFORM.test(value)) return false
          break
        case 'etag':
          if (++etags > 1 || !ETAG.test(value)) return false
          break
        case 'content-type':
          type ??= value.trimStart().toLowerCase()
          break
      }
    }
    if (!framed) return false
    if (type === undefined) return this.types === null
    if (type.startsWith('multipart')) return false
    return this.types === null || this.types.some(t => type!.startsWith(t))
  }

  /**
   * Rewrites the answer's headers for `algo` (in place): no Content-Length (the body is then
   * chunked in HTTP/1.1), a strong ETag made weak, `Vary: Accept-Encoding` and the
   * Content-Encoding appended, in HAProxy's order.
   */
  static rewrite (headers: string[], algo: CompressionAlgo): void {
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase()
      if (name === 'content-length') {
        headers.splice(i, 2)
        i -= 2
      } else if (name === 'etag' && headers[i + 1]!.charCodeAt(0) === 34 /* " */) {
        headers[i + 1] = 'W/' + headers[i + 1]!
      }
    }
    headers.push('vary', 'Accept-Encoding')
    if (algo !== 'identity') headers.push('content-encoding', TOKEN[algo])
  }

  /**
   * A compressor for one answer; identity passes the body through (counted as bypassed).
   * `chunked`: the server's answer is chunked, which HAProxy counts one byte more for (observed).
   */
  compressor (algo: CompressionAlgo, chunked: boolean, counters: readonly TrafficCounters[]): ResponseCompressor {
    const opts = { level: this.level }
    const stream = algo === 'gzip'
      ? zlib.createGzip(opts)
      : algo === 'deflate'
        ? zlib.createDeflate(opts)
        : algo === 'raw-deflate' ? zlib.createDeflateRaw(opts) : null
    for (const c of counters) c.compRsp++
    return new ResponseCompressor(stream, chunked, counters)
  }
}

/** `Cache-Control: no-transform` (RFC 9111 §5.2.2.6), any case, among other directives. */
const NO_TRANSFORM = /(?:^|,)[ \t]*no-transform[ \t]*(?:,|$)/i
/** An entity-tag (RFC 9110 §8.8.3): strong or weak, quoted. */
const ETAG = /^[ \t]*(?:W\/)?"[^"]*"[ \t]*$/
const MSIE = /MSIE (\d+)/

/** Mozilla/4 user agents get compressed answers only from MSIE 6 with XP SP2, or MSIE 7 and later (§4.2). */
function modernMsie (ua: string): boolean {
  const m = MSIE.exec(ua)
  if (m === null) return false
  const major = Number(m[1])
  return major >= 7 || (major === 6 && ua.includes('SV1'))
}

/** The `q=` parameter of an Accept-Encoding item (lower-case `q` only, as HAProxy reads it); 1 without one. */
function qValue (item: string, semi: number): number {
  for (const param of item.slice(semi + 1).split(';')) {
    const p = param.trim()
    if (p.startsWith('q=')) {
      const q = Number(p.slice(2))
      return Number.isNaN(q) ? 0 : q
    }
  }
  return 1
}

/**
 * The body of one compressed answer: what the server sends goes in (`write`, flushed after each
 * piece), what comes out goes to the client through `start`'s callbacks. Counts comp_in /
 * comp_out, or comp_byp for identity, on each counter (frontend and backend).
 */
export class ResponseCompressor {
  private send: (chunk: Buffer) => boolean = () => true
  private whenDrained: (go: () => void) => void = () => {}
  private done: () => void = () => {}

  constructor (
    private readonly stream: zlib.Gzip | zlib.Deflate | zlib.DeflateRaw | null,
    private readonly chunked: boolean,
    private readonly counters: readonly TrafficCounters[]
  ) {}

  /**
   * Starts sending: `send` writes to the client (false: it is full, and `whenDrained` calls back
   * once it drained); `done` once the last byte went.
   */
  start (send: (chunk: Buffer) => boolean, whenDrained: (go: () => void) => void, done: () => void): void {
    this.send = send
    this.whenDrained = whenDrained
    this.done = done
    const stream = this.stream
    if (stream === null) return
    stream.on('data', (chunk: Buffer) => {
      for (const c of this.counters) c.compOut += chunk.length
      if (!send(chunk)) {
        stream.pause()
        whenDrained(() => stream.resume())
      }
    })
    stream.once('end', done)
    // deflate takes any bytes: an error can only come from a destroy, which is ours
    stream.once('error', () => {})
  }

  /** A piece of the server's body. false: the next one waits for `go`. */
  write (chunk: Buffer, go: () => void): boolean {
    const stream = this.stream
    if (stream === null) {
      for (const c of this.counters) c.compByp += chunk.length
      if (this.send(chunk)) return true
      this.whenDrained(go)
      return false
    }
    for (const c of this.counters) c.compIn += chunk.length
    const more = stream.write(chunk)
    stream.flush(zlib.constants.Z_SYNC_FLUSH)
    if (more) return true
    stream.once('drain', go)
    return false
  }

  /** The server's body is complete: `done` follows once the compressed end is sent. */
  end (): void {
    if (this.chunked) for (const c of this.counters) this.stream === null ? c.compByp++ : c.compIn++
    if (this.stream === null) this.done()
    else this.stream.end()
  }

  /** The answer was given up (client gone, server cut): frees zlib's memory. */
  destroy (): void {
    this.stream?.destroy()
  }
}
