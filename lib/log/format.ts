// Log lines from log-format strings (configuration.txt §8.2.6): the `%` variables of a log line,
// read from the request's LogRecord, on top of lib/acl/logformat.ts's parser (which also compiles
// `%[sample]` expressions). Rendering follows HAProxy's rules: an empty value prints `-` (`""`
// quoted), `+Q` quotes strings, `+X` prints numbers and IPv4 addresses in hex, `+E` escapes
// `"`, `\` and `]`, and a variable with nothing to show (`%hr` without captures) takes the space
// after it along.

import { hostname } from 'node:os'
import type { TLSSocket } from 'node:tls'

import type { CompileEnv } from '../acl/env.js'
import { parseFormat, type FormatFn, type FormatNode } from '../acl/logformat.js'
import type { Sample } from '../acl/sample.js'
import type { HttpResponseView, HttpTxn } from '../acl/txn.js'
import { HTTPLOG_FORMAT, HTTPSLOG_FORMAT } from './formats.js'
import type { LogRecord } from './record.js'
import { MONTHS, pad2 } from './syslog.js'

/** Live counters a line shows (`%ac/%fc/%bc/%sc`), read when it is written. */
export interface ConnectionCounts {
  active: () => number
  frontend: () => number
  backend: (rec: LogRecord) => number
  server: (rec: LogRecord) => number
}

export type LogFormat = (rec: LogRecord) => string

const HOSTNAME = hostname()
const pad3 = (n: number): string => n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n)

/** The part of `%t` before the milliseconds, made once per second (not per line). */
let dateSecond = -1
let datePrefix = ''

/** `06/Dec/2026:15:51:09.672` (local time): `%t`, `%tr`. */
export function dateMs (ms: number): string {
  const second = Math.floor(ms / 1000)
  if (second !== dateSecond) {
    const d = new Date(second * 1000)
    datePrefix = `${pad2(d.getDate())}/${MONTHS[d.getMonth()]!}/${d.getFullYear()}:${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.`
    dateSecond = second
  }
  return datePrefix + pad3(ms - second * 1000)
}

/** `06/Dec/2026:15:51:09 +0000`: `%T`, `%trg` (GMT), `%Tl`, `%trl` (local). */
function dateZone (ms: number, gmt: boolean): string {
  const d = new Date(ms)
  if (gmt) {
    return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]!}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`
  }
  const off = -d.getTimezoneOffset()
  const abs = Math.abs(off)
  return `${pad2(d.getDate())}/${MONTHS[d.getMonth()]!}/${d.getFullYear()}:${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${off < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`
}

const rec = (t: HttpTxn): LogRecord => t.log as LogRecord

/** Active time: from the request's first byte to the answer's last one. */
const ta = (r: LogRecord): number => r.end - r.start + r.headTime
/** The date of the request's first byte (`%tr`). */
const received = (r: LogRecord): number => r.start - r.headTime
/** `<BADREQ>` in place of the request's parts on a connection that brought none. */
const part = (r: LogRecord, value: string): string => r.badRequest || r.cut ? '<BADREQ>' : value
const tt = (r: LogRecord): number => ta(r) + r.idle + r.handshake
const early = (r: LogRecord, n: number): Sample => r.early ? `+${n}` : n
const pos = (n: number): number => n < 0 ? 0 : n

/** `/p?q` or `http://h/p?q` as received (`%HU`), its path part (`%HP`), query (`%HQ`), path only (`%HPO`). */
function uriParts (r: LogRecord): { uri: string, q: number } {
  const uri = r.uri
  return { uri, q: uri.indexOf('?') }
}

function pathOnly (uri: string): string {
  const q = uri.indexOf('?')
  const u = q < 0 ? uri : uri.slice(0, q)
  if (u.charCodeAt(0) === 47) return u
  const scheme = u.indexOf('://')
  if (scheme < 0) return u
  const slash = u.indexOf('/', scheme + 3)
  return slash < 0 ? '/' : u.slice(slash)
}

/** `{a|b}`: captured headers, HAProxy's default style; undefined when there are none (nothing shown). */
function captured (values: ReadonlyArray<string | null> | null): string | undefined {
  if (values === null) return undefined
  return `{${values.map(v => v ?? '').join('|')}}`
}

/** The TLS tail of `option httpslog`: `fc_err/ssl_fc_err/ssl_c_err/ssl_c_ca_err/resumed sni/version/cipher`. */
function tlsTail (t: HttpTxn): string {
  const socket = rec(t).socket as TLSSocket | null
  if (socket === null || socket.encrypted !== true) return '0/-/-/-/0 -/-/-'
  const sni = (socket as TLSSocket & { servername?: string | false }).servername
  return `0/0/0/0/${socket.isSessionReused() ? 1 : 0} ${typeof sni === 'string' && sni !== '' ? sni : '-'}/${socket.getProtocol() ?? '-'}/${socket.getCipher()?.standardName ?? '-'}`
}

/** Variables printed empty when empty (HAProxy's `%HQ` of a request without a query), not as '-'. */
const KEPT_EMPTY = new Set(['HQ'])

/** Strings a `+Q` flag quotes (§8.2.6 table: string types; `%ts` / `%tsc` print bare). */
const STRINGS = new Set(['CC', 'CS', 'H', 'HM', 'HP', 'HPO', 'HQ', 'HU', 'HV', 'ID', 'b', 'f', 'ft', 'r', 's', 'sslc', 'sslv'])

/** The variables of a log line (§8.2.6), over the request's LogRecord. */
function logAliases (counts: ConnectionCounts, logCounter: () => number): Map<string, FormatFn> {
  return new Map<string, FormatFn>([
    ['B', (t) => early(rec(t), rec(t).bytesOut)],
    ['CC', (t) => rec(t).cookieCaptures?.[0] ?? null],
    ['CS', (t) => rec(t).cookieCaptures?.[1] ?? null],
    ['H', () => HOSTNAME],
    ['HM', (t) => part(rec(t), rec(t).method)],
    ['HP', (t) => { const { uri, q } = uriParts(rec(t)); return part(rec(t), q < 0 ? uri : uri.slice(0, q)) }],
    ['HPO', (t) => part(rec(t), pathOnly(rec(t).uri))],
    ['HQ', (t) => { const { uri, q } = uriParts(rec(t)); return rec(t).cut ? '' : part(rec(t), q < 0 ? '' : uri.slice(q)) }],
    ['HU', (t) => part(rec(t), rec(t).uri)],
    ['HV', (t) => part(rec(t), rec(t).protocol ?? 'HTTP/0.9')],
    ['ID', (t) => rec(t).uniqueId],
    ['ST', (t) => rec(t).status],
    ['T', (t) => dateZone(rec(t).accepted, true)],
    ['Ta', (t) => early(rec(t), ta(rec(t)))],
    ['Tc', (t) => rec(t).tc],
    ['Td', (t) => { const r = rec(t); return pos(ta(r) - r.headTime - pos(r.tw) - pos(r.tc) - pos(r.tr)) }],
    ['Th', (t) => rec(t).handshake],
    ['Ti', (t) => rec(t).idle],
    ['Tl', (t) => dateZone(rec(t).accepted, false)],
    ['Tq', (t) => { const r = rec(t); return r.badRequest ? -1 : r.handshake + r.idle + r.headTime }],
    ['TR', (t) => rec(t).badRequest ? -1 : rec(t).headTime],
    ['Tr', (t) => rec(t).tr],
    ['Ts', (t) => Math.floor(rec(t).accepted / 1000)],
    ['Tt', (t) => early(rec(t), tt(rec(t)))],
    ['Tu', (t) => ta(rec(t))],
    ['Tw', (t) => rec(t).tw],
    ['U', (t) => rec(t).bytesIn],
    ['ac', () => counts.active()],
    ['b', (t) => rec(t).backend ?? t.frontend],
    ['bc', (t) => counts.backend(rec(t))],
    ['bi', (t) => rec(t).sourceAddr],
    ['bp', (t) => rec(t).sourceAddr === '-' ? null : rec(t).sourcePort],
    ['bq', (t) => rec(t).beQueue],
    ['ci', (t) => t.src],
    ['cp', (t) => t.srcPort],
    ['f', (t) => t.frontend],
    ['fc', () => counts.frontend()],
    ['fi', (t) => t.dst],
    ['fp', (t) => t.dstPort],
    ['ft', (t) => t.ssl ? `${t.frontend}~` : t.frontend],
    ['hr', (t) => captured(rec(t).reqCaptures)],
    ['hrl', (t) => rec(t).reqCaptures?.map(v => v ?? '').join(' ')],
    ['hs', (t) => captured(rec(t).resCaptures)],
    ['hsl', (t) => rec(t).resCaptures?.map(v => v ?? '').join(' ')],
    ['lc', () => logCounter()],
    ['ms', (t) => pad3(rec(t).accepted % 1000)],
    ['pid', () => process.pid],
    ['r', (t) => { const r = rec(t); return r.badRequest ? '<BADREQ>' : r.line }],
    ['rc', (t) => { const r = rec(t); return r.redispatched ? `+${r.retries}` : r.retries }],
    ['rt', (t) => rec(t).counter],
    ['s', (t) => rec(t).server],
    ['sc', (t) => counts.server(rec(t))],
    ['si', (t) => rec(t).serverAddr],
    ['sp', (t) => rec(t).serverAddr === '-' ? null : rec(t).serverPort],
    ['sq', (t) => rec(t).srvQueue],
    ['sslc', (t) => (t.ssl ? (rec(t).socket as TLSSocket | null)?.getCipher()?.standardName : null) ?? null],
    ['sslv', (t) => (t.ssl ? (rec(t).socket as TLSSocket | null)?.getProtocol() : null) ?? null],
    ['t', (t) => dateMs(rec(t).accepted)],
    ['tr', (t) => dateMs(received(rec(t)))],
    ['trg', (t) => dateZone(received(rec(t)), true)],
    ['trl', (t) => dateZone(received(rec(t)), false)],
    ['ts', (t) => rec(t).term],
    ['tsc', (t) => rec(t).term + rec(t).cookie]
  ])
}

const hex = (v: Sample): string => {
  if (typeof v === 'number') return v.toString(16).toUpperCase()
  if (typeof v === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(v)) {
    return v.split('.').map(b => Number(b).toString(16).toUpperCase().padStart(2, '0')).join('')
  }
  return String(v)
}

const escapeSd = (s: string): string => s.replace(/["\\\]]/g, '\\$&')

/**
 * Compiles a log format (the proxy's `log-format`, `option httplog` …) into a function of the
 * request's record. `side` is 'response': log lines are written once the answer is known.
 */
export function compileLogFormat (text: string, env: CompileEnv, counts: ConnectionCounts, logCounter: () => number): LogFormat {
  const aliases = logAliases(counts, logCounter)
  const httpslog = text === HTTPSLOG_FORMAT
  const nodes: FormatNode[] = parseFormat(httpslog ? HTTPLOG_FORMAT : text, env, 'response', aliases)
  if (httpslog) nodes.push(' ', { name: '', fn: tlsTail, flags: {} })
  // spaces are delimiters and are merged (§8.2.6)
  const parts = nodes.map(n => typeof n === 'string' ? n.replace(/ {2,}/g, ' ') : n)
  const samples = parts.some(p => typeof p !== 'string' && p.name === '')
  return (r: LogRecord): string => {
    const t = r.txn
    const res = samples ? responseView(r) : null
    let out = ''
    let skipSpace = false
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!
      if (typeof p === 'string') {
        out += skipSpace && p.charCodeAt(0) === 32 ? p.slice(1) : p
        skipSpace = false
        continue
      }
      const v = p.fn(t, res)
      if (v === undefined) { skipSpace = true; continue }
      skipSpace = false
      const f = p.flags
      if (v === null || (v === '' && !KEPT_EMPTY.has(p.name))) { out += f.Q === true ? '""' : '-'; continue }
      let s = f.X === true ? hex(v) : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : v ? '1' : '0'
      if (f.E === true) s = escapeSd(s)
      if (f.Q === true && typeof v === 'string' && (p.name === '' || STRINGS.has(p.name))) s = `"${s}"`
      out += s
    }
    return out
  }
}

/** A log line's view of the response for `%[res.*]` samples (status and headers as sent). */
export function responseView (r: LogRecord): HttpResponseView | null {
  if (r.resHeaders === null) return r.status < 0 ? null : withCompression({ status: r.status, headers: {} }, r)
  const headers: HttpResponseView['headers'] = {}
  const h = r.resHeaders
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!.toLowerCase()
    const prev = headers[name]
    headers[name] = prev === undefined ? h[i + 1]! : `${String(prev)}, ${h[i + 1]!}`
  }
  return withCompression({ status: r.status, headers }, r)
}

function withCompression (view: HttpResponseView, r: LogRecord): HttpResponseView {
  if (r.compression !== null) view.compression = r.compression
  return view
}
