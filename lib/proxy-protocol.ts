// The PROXY protocol (HAProxy's doc/proxy-protocol.txt): a load balancer in front announces the
// client's addresses in a header that opens the connection, in text (v1) or binary (v2).
// `bind … accept-proxy` reads it on every connection before anything else (TLS handshake, HTTP
// request, `mode tcp` content); `server … send-proxy[-v2]` writes one toward the server.
// What is accepted and refused, and the log line of each refusal, are HAProxy 2.6.12's
// (observed on loopback): only TCP over IPv4/IPv6, `PROXY UNKNOWN` and the v2 LOCAL command
// (which keep the connection's own addresses).

import net from 'node:net'
import type { Server } from 'node:net'
import { formatV6, parseAddr, plainAddress } from './acl/ip.js'

/** A session's endpoints, as the rules see them (`src`, `src_port`, `dst`, `dst_port`). */
export interface ConnectionAddresses {
  src: string
  srcPort: number
  dst: string
  dstPort: number
}

/**
 * A header read: the addresses it announced, or null when it announced none (`UNKNOWN`,
 * LOCAL, an unspecified family): then the connection's own are used.
 */
export interface Announcement { readonly addresses: ConnectionAddresses | null }

/** What the bytes received are: a header, not one, or the start of one (HAProxy refuses it as truncated). */
export type HeaderParse =
  | { kind: 'incomplete' }
  | { kind: 'invalid', message: string }
  | { kind: 'done', length: number, announcement: Announcement }

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex')
const V1_PREFIX = Buffer.from('PROXY ', 'latin1')
/** A v1 line is at most 107 bytes, CRLF included. */
const V1_MAX = 107
const V2_HEAD = 16
/** `::ffff:0:0/96`: an IPv4 address written as IPv6. */
const MAPPED_V4 = 0xffffn << 32n

const NOT_PROXY = 'Received something which does not look like a PROXY protocol header'
const INVALID = 'Received an invalid PROXY protocol header'
const UNHANDLED = 'Received an unhandled protocol in the PROXY protocol header'
const CLOSED = 'Connection closed while waiting for PROXY protocol header'
const TRUNCATED = 'Truncated PROXY protocol header received'
const TIMEOUT = 'Timeout while waiting for PROXY protocol header'

/** Whether `data` starts like `prefix` as far as both go. */
function startsLike (data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length)
  return data.subarray(0, n).equals(prefix.subarray(0, n))
}

/** Reads a header at the start of `data` (whatever follows it is the connection's own data). */
export function parseProxyHeader (data: Buffer): HeaderParse {
  if (startsLike(data, V2_SIGNATURE)) return data.length < V2_HEAD ? { kind: 'incomplete' } : parseV2(data)
  if (startsLike(data, V1_PREFIX)) return parseV1(data)
  return { kind: 'invalid', message: NOT_PROXY }
}

function parseV1 (data: Buffer): HeaderParse {
  const end = data.subarray(0, V1_MAX).indexOf('\r\n')
  if (end < 0) return data.length >= V1_MAX || data.subarray(0, V1_MAX).includes(0x0a) ? { kind: 'invalid', message: INVALID } : { kind: 'incomplete' }
  const words = data.subarray(V1_PREFIX.length, end).toString('latin1').split(' ')
  const done = (addresses: ConnectionAddresses | null): HeaderParse => ({ kind: 'done', length: end + 2, announcement: { addresses } })
  const family = words[0]
  if (family === 'UNKNOWN' && words.length === 1) return done(null)
  if (family !== 'TCP4' && family !== 'TCP6') return { kind: 'invalid', message: UNHANDLED }
  if (words.length !== 5) return { kind: 'invalid', message: INVALID }
  const [, src, dst, sport, dport] = words as [string, string, string, string, string]
  const address = family === 'TCP4' ? textV4 : textV6
  const a = address(src)
  const b = address(dst)
  if (a === null || b === null || !/^\d{1,5}$/.test(sport) || !/^\d{1,5}$/.test(dport)) return { kind: 'invalid', message: INVALID }
  // a port past 65535 wraps, as HAProxy reads it (observed: 70000 gives 4464)
  return done({ src: a, srcPort: Number(sport) & 0xffff, dst: b, dstPort: Number(dport) & 0xffff })
}

/** A v1 IPv4 address; missing trailing bytes are zeros, as HAProxy reads them (`1.2.3` is 1.2.3.0). */
function textV4 (s: string): string | null {
  const parts = s.split('.')
  if (parts.length > 4 || parts.some(p => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null
  while (parts.length < 4) parts.push('0')
  return parts.map(Number).join('.')
}

function textV6 (s: string): string | null {
  if (!net.isIPv6(s)) return null
  const addr = parseAddr(s)
  if (addr === null) return null
  return formatV6(addr.v6 ? addr.n : MAPPED_V4 | BigInt(addr.n))
}

function parseV2 (data: Buffer): HeaderParse {
  const versionCommand = data[12]!
  if (versionCommand >> 4 !== 2) return { kind: 'invalid', message: NOT_PROXY }
  const length = V2_HEAD + data.readUInt16BE(14)
  if (data.length < length) return { kind: 'incomplete' }
  const done = (addresses: ConnectionAddresses | null): HeaderParse => ({ kind: 'done', length, announcement: { addresses } })
  const command = versionCommand & 0x0f
  if (command === 0) return done(null)
  if (command !== 1) return { kind: 'invalid', message: INVALID }
  const family = data[13]!
  const body = data.subarray(V2_HEAD, length)
  if (family === 0x00) return done(null)
  if (family === 0x11 && body.length >= 12) {
    const v4 = (at: number): string => [...body.subarray(at, at + 4)].join('.')
    return done({ src: v4(0), dst: v4(4), srcPort: body.readUInt16BE(8), dstPort: body.readUInt16BE(10) })
  }
  if (family === 0x21 && body.length >= 36) {
    const v6 = (at: number): string => formatV6(body.subarray(at, at + 16).reduce((n, byte) => (n << 8n) | BigInt(byte), 0n))
    return done({ src: v6(0), dst: v6(16), srcPort: body.readUInt16BE(32), dstPort: body.readUInt16BE(34) })
  }
  return { kind: 'invalid', message: INVALID }
}

const kAnnouncement = Symbol('fastify-haproxy.proxyProtocol')

type Announced = { [kAnnouncement]?: Announcement, _parent?: Announced, socket?: Announced }

/**
 * The header a client connection came with, or undefined without one. Found on the TCP socket,
 * from a TLS socket (`_parent`) or a stream reading it (the HTTP/2 screen's `socket`).
 */
export function announcement (socket: object): Announcement | undefined {
  const s = socket as Announced
  return s[kAnnouncement] ?? s._parent?.[kAnnouncement] ?? s.socket?.[kAnnouncement]
}

/** How a header wait ended: read (the socket carries it), or refused with HAProxy's log message. */
export type HeaderResult = { ok: true } | { ok: false, message: string }

/**
 * Reads the header at the start of `socket`, within `timeout` ms (0: no limit), and puts back
 * what follows it. On success the socket carries the announcement (see `announcement`).
 */
export async function readProxyHeader (socket: net.Socket, timeout: number): Promise<HeaderResult> {
  return await new Promise((resolve) => {
    let data: Buffer = Buffer.alloc(0)
    let timer: NodeJS.Timeout | undefined
    const finish = (result: HeaderResult): void => {
      clearTimeout(timer)
      socket.off('readable', onReadable)
      socket.off('end', onEnd)
      socket.off('error', onEnd)
      socket.off('close', onEnd)
      resolve(result)
    }
    const onReadable = (): void => {
      for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null;) data = data.length === 0 ? chunk : Buffer.concat([data, chunk])
      if (data.length === 0) return
      const parsed = parseProxyHeader(data)
      // HAProxy reads the header from what the first read brings: it waits for no more (observed)
      if (parsed.kind === 'incomplete') return finish({ ok: false, message: TRUNCATED })
      if (parsed.kind === 'invalid') return finish({ ok: false, message: parsed.message })
      ;(socket as Announced)[kAnnouncement] = parsed.announcement
      if (parsed.length < data.length) socket.unshift(data.subarray(parsed.length))
      finish({ ok: true })
    }
    const onEnd = (): void => { finish({ ok: false, message: CLOSED }) }
    if (timeout > 0) timer = setTimeout(() => { finish({ ok: false, message: TIMEOUT }) }, timeout)
    socket.on('readable', onReadable)
    socket.once('end', onEnd)
    socket.once('error', onEnd)
    socket.once('close', onEnd)
  })
}

/**
 * `bind … accept-proxy` on a node server: every accepted connection is held back from the
 * server's own `connection` listeners (node's HTTP parser, the TLS handshake, the counters)
 * until its header is read. A connection without a valid header is closed without a word,
 * as HAProxy does; `refused` hears why (for the log).
 */
export function acceptProxy (server: Server, timeout: number, refused: (socket: net.Socket, message: string, accepted: number) => void): void {
  const emit = server.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean
  const held = new WeakSet<net.Socket>()
  server.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    const socket = args[0] as net.Socket
    if (event !== 'connection' || held.has(socket)) return emit.call(this, event, ...args)
    held.add(socket)
    const accepted = Date.now()
    void readProxyHeader(socket, timeout).then((result) => {
      if (result.ok) { emit.call(this, 'connection', socket); return }
      refused(socket, result.message, accepted)
      socket.destroy()
    })
    return true
  } as typeof server.emit
}

/**
 * The header `send-proxy` (1) or `send-proxy-v2` (2) opens a server connection with: TCP over
 * IPv4, or IPv6 when either address is (an IPv4 one then written as IPv4-mapped).
 */
export function proxyHeader (version: 1 | 2, a: ConnectionAddresses): Buffer {
  const v6 = net.isIPv6(a.src) || net.isIPv6(a.dst)
  const mapped = (text: string): string => v6 && !net.isIPv6(text) ? `::ffff:${text}` : text
  if (version === 1) return Buffer.from(`PROXY ${v6 ? 'TCP6' : 'TCP4'} ${mapped(a.src)} ${mapped(a.dst)} ${a.srcPort} ${a.dstPort}\r\n`, 'latin1')
  const bytes = (text: string): Buffer => {
    const addr = parseAddr(text)
    if (addr === null) return Buffer.alloc(v6 ? 16 : 4)
    if (!v6 && !addr.v6) return Buffer.from([addr.n >>> 24, (addr.n >>> 16) & 255, (addr.n >>> 8) & 255, addr.n & 255])
    const n = addr.v6 ? addr.n : MAPPED_V4 | BigInt(addr.n)
    const out = Buffer.alloc(16)
    for (let i = 0; i < 16; i++) out[i] = Number((n >> BigInt(8 * (15 - i))) & 0xffn)
    return out
  }
  const ports = Buffer.from([a.srcPort >> 8, a.srcPort & 0xff, a.dstPort >> 8, a.dstPort & 0xff])
  const body = Buffer.concat([bytes(a.src), bytes(a.dst), ports])
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, v6 ? 0x21 : 0x11, body.length >> 8, body.length & 0xff]), body])
}

/**
 * The header a health check to a `send-proxy` server opens with (observed on HAProxy 2.6.12):
 * v1 names the check connection's own endpoints, v2 is a LOCAL command without addresses.
 */
export function checkProxyHeader (version: 1 | 2, socket: net.Socket): Buffer {
  if (version === 2) return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0, 0])])
  return proxyHeader(1, { src: plainAddress(socket.localAddress), srcPort: socket.localPort ?? 0, dst: plainAddress(socket.remoteAddress), dstPort: socket.remotePort ?? 0 })
}
