// TCP health-check scripts (configuration.txt §4.2 `option tcp-check` and `tcp-check …`) and the
// protocol checks HAProxy builds from the same steps: `option redis-check`, `ssl-hello-chk`,
// `smtpchk`, `pgsql-check`, `mysql-check`, `ldap-check`, `spop-check`. A script is a list of
// steps: `connect` (a new connection), `send` bytes, `expect` a verdict on what arrived since the
// last send. Every status, code and info text below was recorded from haproxy 2.6 against fake
// servers (test/tcp/protocol-checks.test.ts holds the recordings).

import type net from 'node:net'
import tls from 'node:tls'
import type { Proxy, Rule } from '../config/model.js'
import { errnoText, failedWhileConnected, handshakeErrorText } from './socket-errors.js'

/** Checks read at most one buffer of response (HAProxy's tune.bufsize). */
export const MAX_RESPONSE = 16384

/** A failed (or, with `ok`, passed) verdict of a step, as the check reports it. */
export interface ScriptResult { ok: boolean, status: string, desc: string, code?: number, logInfo?: string }

/** What an expect step decides on the data received since the last send: null waits for more. */
type Judge = (data: Buffer, ended: boolean) => ScriptResult | null

/**
 * A `tcp-check connect` line (§4.2): where and how its connection is opened. Without `default`
 * only the port and address come from the server (its check port and address); with it, the
 * server's `check-ssl`, `check-sni`, `check-alpn` and `check-via-socks4` apply too, unless the
 * line says otherwise (observed on HAProxy 2.6).
 */
export interface ConnectSpec {
  useDefault: boolean
  port: number | null
  addr: string | null
  ssl: boolean
  sni: string | null
  alpn: string[] | null
  sendProxy: boolean
  viaSocks4: boolean
  /** `linger`: closed with a FIN; HAProxy closes other check connections with a reset. */
  linger: boolean
}
interface Connect { kind: 'connect', spec: ConnectSpec, label: string }
interface Send { kind: 'send', data: Buffer, label: string }
interface Expect {
  kind: 'expect'
  judge: Judge
  /** `(expect string 'x')`: how timeouts and socket errors name the step (tcp-check scripts). */
  label: string
  /** The status of "TCPCHK got an empty response" (null: a close without data reports nothing). */
  empty: string | null
  /** `tcp-check expect … on-success`: the info of a passed check. */
  onSuccess?: string
}
type Step = Connect | Send | Expect

const PASS: ScriptResult = { ok: true, status: 'L7OK', desc: '' }
const fail = (status: string, desc = '', code?: number): ScriptResult => ({ ok: false, status, desc, ...(code !== undefined ? { code } : {}) })

export interface TcpScript {
  /** A leading `tcp-check connect`: how the check's first connection is opened (null: the server's check settings). */
  first: ConnectSpec | null
  steps: Step[]
  /** The number HAProxy gives each step in its messages (1-based, explicit connects and comments counted). */
  numbers: number[]
  /** `tcp-check` comments, by step: `comment …` lines and the `comment` option. */
  comments: Array<string | undefined>
  /** tcp-check scripts name the step in connection, timeout and socket-error infos; protocol checks do not. */
  verbose: boolean
  /** The layer of timeouts and of a failed connection's TLS (ssl-hello-chk reports Layer6). */
  timeoutStatus: 'L7TOUT' | 'L6TOUT'
  /** The verdict once every step passed; `last` is the data the last expect judged, `secure` whether the last connection is TLS. */
  passed: (last: Buffer, lastExpect: Expect | null, secure: boolean) => ScriptResult
}

/** The first line of `data` (up to CR or LF), as HAProxy quotes answers in its check infos. */
function firstLine (data: Buffer, from = 0): string {
  let end = from
  while (end < data.length && data[end] !== 0x0d && data[end] !== 0x0a) end++
  return data.toString('latin1', from, end)
}

/**
 * One `tcp-check expect [min-recv N] [comment C] [ok-status S] [error-status S] [tout-status S]
 * [on-success T] [on-error T] [!] string|rstring|binary|rbinary <pattern>` (options before or after
 * the match). A match that is not found yet waits for more data unless `min-recv` bytes arrived,
 * the server closed or the buffer is full; a negated match passes on the same conditions.
 */
function expectStep (args: string[], number: number, comment: string | undefined): { step: Expect, comment: string | undefined } {
  let minRecv = -1
  let negate = false
  let kind = ''
  let pattern = ''
  let errorStatus = 'L7RSP'
  let okStatus = 'L7OK'
  let onError: string | undefined
  let onSuccess: string | undefined
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!
    const v = args[i + 1] ?? ''
    if (w === 'min-recv') minRecv = Number(v)
    else if (w === 'comment') comment = v
    else if (w === 'error-status') errorStatus = v
    else if (w === 'ok-status') okStatus = v
    else if (w === 'on-error') onError = v
    else if (w === 'on-success') onSuccess = v
    else if (w === 'tout-status' || w === 'status-code') { /* statuses of timeouts stay HAProxy's defaults */ } else if (w === '!') { negate = true; continue } else {
      negate ||= w.startsWith('!')
      kind = w.replace(/^!/, '')
      pattern = v
    }
    i++
  }
  let found: (data: Buffer) => boolean
  let what: string
  let label: string
  switch (kind) {
    case 'binary': {
      const needle = Buffer.from(pattern, 'hex')
      found = (d) => d.includes(needle)
      what = '(binary)'
      label = `(expect binary '${needle.toString('latin1')}')`
      break
    }
    case 'rstring': {
      const re = new RegExp(pattern)
      found = (d) => re.test(d.toString('latin1'))
      what = '(regex)'
      label = '(expect regex)'
      break
    }
    case 'rbinary': {
      const re = new RegExp(pattern, 'i')
      found = (d) => re.test(d.toString('hex'))
      what = '(binary regex)'
      label = '(expect binary regex)'
      break
    }
    default: {
      const needle = Buffer.from(pattern, 'latin1')
      found = (d) => d.includes(needle)
      what = `'${pattern}'`
      label = `(expect string '${pattern}')`
    }
  }
  const at = `at step ${number}${comment !== undefined ? ` comment: ${comment}` : ''}`
  const failed = (desc: string): ScriptResult => fail(errorStatus, onError ?? desc, errorStatus === 'L7STS' ? 0 : undefined)
  const judge: Judge = (data, ended) => {
    const enough = (minRecv >= 0 && data.length >= minRecv) || ended || data.length >= MAX_RESPONSE
    if (found(data)) return negate ? failed(`TCPCHK matched unwanted content ${what} ${at}`) : { ...PASS, status: okStatus }
    if (!enough) return null
    return negate ? { ...PASS, status: okStatus } : failed(`TCPCHK did not match content ${what} ${at}`)
  }
  return { step: { kind: 'expect', judge, label, empty: errorStatus, onSuccess }, comment }
}

const send = (data: string | Buffer, label = '(send)'): Send => ({ kind: 'send', data: typeof data === 'string' ? Buffer.from(data, 'latin1') : data, label })

const CONNECT_FLAGS = new Set(['default', 'send-proxy', 'ssl', 'via-socks4', 'linger'])

/** The options of a `tcp-check connect` line (the flags alone, the others with a value). */
function connectSpec (args: string[]): { spec: ConnectSpec, comment: string | undefined } {
  const spec: ConnectSpec = { useDefault: false, port: null, addr: null, ssl: false, sni: null, alpn: null, sendProxy: false, viaSocks4: false, linger: false }
  let comment: string | undefined
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!
    if (CONNECT_FLAGS.has(w)) {
      if (w === 'default') spec.useDefault = true
      else if (w === 'send-proxy') spec.sendProxy = true
      else if (w === 'ssl') spec.ssl = true
      else if (w === 'via-socks4') spec.viaSocks4 = true
      else spec.linger = true
      continue
    }
    const v = args[++i] ?? ''
    if (w === 'port') spec.port = Number(v)
    else if (w === 'addr') spec.addr = v
    else if (w === 'sni') spec.sni = v
    else if (w === 'alpn') spec.alpn = v.split(',')
    else if (w === 'comment') comment = v
  }
  return { spec, comment }
}

/** The `tcp-check` lines of a proxy as a script (§4.2). */
function fromRules (rules: Rule[]): TcpScript {
  const script: TcpScript = {
    first: null,
    steps: [],
    numbers: [],
    comments: [],
    verbose: true,
    timeoutStatus: 'L7TOUT',
    // Recorded: the last step decides the layer: a connect passes at Layer4 (Layer6 over TLS),
    // a send or an expect at Layer7
    passed: (_last, lastExpect, secure) => {
      if (rules.length === 0) return { ...PASS, status: 'L4OK' }
      if (script.steps.at(-1)?.kind !== 'send' && script.steps.at(-1)?.kind !== 'expect') return { ...PASS, status: secure ? 'L6OK' : 'L4OK', desc: '(tcp-check)' }
      return { ...PASS, status: 'L7OK', desc: lastExpect?.onSuccess ?? '(tcp-check)', code: 0 }
    }
  }
  let pending: string | undefined
  rules.forEach((r, n) => {
    let comment = pending
    pending = undefined
    let step: Step | null = null
    if (r.action === 'comment') {
      pending = r.args[0]
      return
    }
    if (r.action === 'connect') {
      const line = connectSpec(r.args)
      const spec = line.spec
      comment = line.comment ?? comment
      step = { kind: 'connect', spec, label: spec.port !== null ? `(connect port ${spec.port})` : '(connect)' }
      if (script.steps.length === 0) script.first = spec
    } else if (r.action === 'send' || r.action === 'send-lf') step = send(r.args[0]!)
    else if (r.action === 'send-binary' || r.action === 'send-binary-lf') step = send(Buffer.from(r.args[0]!, 'hex'))
    else if (r.action === 'expect') ({ step, comment } = expectStep(r.args, n + 1, comment))
    if (step === null) return
    script.steps.push(step)
    script.numbers.push(n + 1)
    script.comments.push(comment)
  })
  return script
}

/** A protocol check: its steps numbered as HAProxy's built-in rulesets number them. */
function protocol (steps: Array<[number, Step]>, passed: TcpScript['passed'], timeoutStatus: TcpScript['timeoutStatus'] = 'L7TOUT'): TcpScript {
  return { first: null, steps: steps.map(s => s[1]), numbers: steps.map(s => s[0]), comments: [], verbose: false, timeoutStatus, passed }
}

const expect = (judge: Judge, empty: string | null = 'L7RSP'): Expect => ({ kind: 'expect', judge, label: '', empty })
/** Waits until `n` bytes arrived (a close before that is `short`). */
const atLeast = (n: number, then: Judge, short: ScriptResult): Judge => (d, ended) => d.length >= n ? then(d, ended) : ended ? short : null

/** The SSLv3 ClientHello ssl-hello-chk sends (recorded from haproxy 2.6: its random carries "HAPROXYSSLCHK"). */
function sslv3Hello (): Buffer {
  const ciphers: number[] = []
  for (let c = 0x0001; c <= 0x001b; c++) ciphers.push(c)
  for (let c = 0x002f; c <= 0x003a; c++) ciphers.push(c)
  const body = Buffer.alloc(2 + 4 + 28 + 1 + 2 + ciphers.length * 2 + 2)
  let i = body.writeUInt16BE(0x0300, 0)
  i = body.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, i)
  i += body.write('HAPROXYSSLCHK\nHAPROXYSSLCHK\n', i, 'latin1')
  body[i++] = 0
  i = body.writeUInt16BE(ciphers.length * 2, i)
  for (const c of ciphers) i = body.writeUInt16BE(c, i)
  body[i++] = 1
  body[i] = 0
  const hs = Buffer.concat([Buffer.from([0x01, 0, body.length >> 8, body.length & 0xff]), body])
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x00, hs.length >> 8, hs.length & 0xff]), hs])
}

/** PostgreSQL StartupMessage (protocol 3.0) for `pgsql-check user <name>`. */
function pgStartup (user: string): Buffer {
  const params = Buffer.from(`user\0${user}\0\0`, 'latin1')
  const msg = Buffer.alloc(8 + params.length)
  msg.writeUInt32BE(msg.length, 0)
  msg.writeUInt32BE(0x00030000, 4)
  params.copy(msg, 8)
  return msg
}

/** A MySQL packet: 3-byte little-endian length, sequence number, payload. */
function mysqlPacket (seq: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4)
  head.writeUIntLE(payload.length, 0, 3)
  head[3] = seq
  return Buffer.concat([head, payload])
}

/**
 * `mysql-check user <u> [pre-41|post-41]`: the login packet (no password) then COM_QUIT, as
 * recorded from haproxy 2.6 (capability flags and max packet size included).
 */
function mysqlLogin (user: string, post41: boolean): Buffer {
  const name = Buffer.from(`${user}\0`, 'latin1')
  const login = post41
    ? Buffer.concat([Buffer.from('0082000000800001', 'hex'), Buffer.from([0x21]), Buffer.alloc(23), name, Buffer.from([0])])
    : Buffer.concat([Buffer.from('0080000001', 'hex'), name, Buffer.from([0])])
  return Buffer.concat([mysqlPacket(1, login), mysqlPacket(0, Buffer.from([0x01]))])
}

/** A whole MySQL packet, or null while it is incomplete; a close before it is complete is an invalid response. */
const mysqlJudge = (then: (packet: Buffer) => ScriptResult): Judge => (d, ended) => {
  if (d.length >= 4 && d.length >= 4 + d.readUIntLE(0, 3)) {
    const packet = d.subarray(0, 4 + d.readUIntLE(0, 3))
    // an ERR packet: 0xff, the error number, then the message (a post-4.1 SQL state stays in it)
    if (packet[4] === 0xff) return fail('L7STS', packet.toString('latin1', 7), packet.length >= 7 ? packet.readUInt16LE(5) : 0)
    return then(packet)
  }
  return ended ? fail('L7RSP') : null
}

function mysqlCheck (args: string[]): TcpScript {
  let version = ''
  const greeting = mysqlJudge((packet) => {
    const end = packet.indexOf(0, 5)
    version = packet.toString('latin1', 5, end < 0 ? packet.length : end)
    return PASS
  })
  const passed = (): ScriptResult => logged(version)
  if (args[0] !== 'user' || args[1] === undefined) return protocol([[2, expect(greeting)]], passed)
  // Recorded: the login goes out right after the connect, without waiting for the greeting;
  // the server's answer to it is the packet after the greeting.
  const answer = mysqlJudge(() => PASS)
  const afterGreeting: Judge = (d, ended) => answer(d.subarray(4 + d.readUIntLE(0, 3)), ended)
  return protocol([[2, send(mysqlLogin(args[1], args[2] !== 'pre-41'))], [3, expect(greeting)], [4, expect(afterGreeting, null)]], passed)
}

/** BER length at `i`: [length, offset of the contents], or null when the bytes are not there yet. */
function berLength (d: Buffer, i: number): [number, number] | null {
  if (i >= d.length) return null
  const first = d[i]!
  if (first < 0x80) return [first, i + 1]
  const n = first & 0x7f
  if (n === 0 || n > 4 || i + 1 + n > d.length) return null
  return [d.readUIntBE(i + 1, n), i + 1 + n]
}

/** The answer to the anonymous LDAPv3 bind: a BindResponse to message 1, then its resultCode. */
const ldapJudge: Judge = (d, ended) => {
  const NOT_V3 = fail('L7RSP', 'Not LDAPv3 protocol')
  if (d[0] !== 0x30) return NOT_V3
  const outer = berLength(d, 1)
  if (outer === null || d.length < outer[1] + outer[0]) return ended ? fail('L7RSP') : null
  let i = outer[1]
  if (d[i] !== 0x02 || d[i + 1] !== 0x01 || d[i + 2] !== 0x01 || d[i + 3] !== 0x61) return NOT_V3
  const op = berLength(d, i + 4)
  if (op === null) return NOT_V3
  i = op[1]
  if (d[i] !== 0x0a || d[i + 1] !== 0x01 || i + 2 >= d.length) return NOT_V3
  const rc = d[i + 2]!
  return rc === 0 ? PASS : fail('L7STS', 'See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9', rc)
}

/** `option pgsql-check user <u>`: an authentication request ('R') passes, an error ('E') reports its first field. */
const pgsqlJudge: Judge = (d, ended) => {
  if (d[0] === 0x45) {
    const nul = d.indexOf(0, 6)
    if (nul < 0 && !ended) return null
    return fail('L7RSP', d.length > 6 ? d.toString('latin1', 6, nul < 0 ? d.length : nul) : '')
  }
  const unknown = fail('L7STS', 'PostgreSQL unknown error', 0)
  if (d[0] !== 0x52) return unknown
  if (d.length < 9) return ended ? unknown : null
  return PASS
}

/** SMTP replies: `NNN text`; the code and the text of the first line are the check's code and info. */
function smtpReply (d: Buffer, ok: boolean): ScriptResult {
  const line = firstLine(d)
  const code = Number(line.slice(0, 3))
  return { ok, status: ok ? 'L7OK' : 'L7STS', code: Number.isInteger(code) ? code : 0, desc: line.slice(4) }
}
const SMTP_LINE = /^[0-9]{3}[ \r]/
const SMTP_2XX = /^2[0-9]{2}[ \r]/
/** The greeting: not a reply line → invalid response, a reply but not 2xx → wrong status (both read as soon as 4 bytes are in). */
const smtpGreeting: Judge = atLeast(4, (d) => {
  const text = d.toString('latin1')
  if (!SMTP_LINE.test(text)) return fail('L7RSP', firstLine(d))
  return SMTP_2XX.test(text) ? PASS : smtpReply(d, false)
}, fail('L7RSP'))
/** The HELO/EHLO reply: waits for the final `2NN ` line of a (multi-line) reply; a close before it fails on the first line. */
const SMTP_FINAL_2XX = /(?:^|\n)2[0-9]{2}[ \r]/
const smtpHello: Judge = (d, ended) => SMTP_FINAL_2XX.test(d.toString('latin1')) ? PASS : ended ? smtpReply(d, false) : null
/** The QUIT reply: its line gives the code and info of the check, passed or not. */
const smtpQuit: Judge = atLeast(4, (d) => smtpReply(d, SMTP_2XX.test(d.toString('latin1'))), fail('L7STS', '', 0))

function smtpCheck (args: string[]): TcpScript {
  const hello = args[0] === 'EHLO' || args[0] === 'HELO' ? `${args[0]} ${args[1] ?? 'localhost'}` : 'HELO localhost'
  let quit: ScriptResult = PASS
  return protocol([
    [2, expect(smtpGreeting)],
    [4, send(`${hello}\r\n`)],
    [5, expect(smtpHello, 'L7STS')],
    [6, send('QUIT\r\n')],
    [7, expect((d, ended) => {
      const r = smtpQuit(d, ended)
      if (r?.ok === true) quit = r
      return r
    }, 'L7STS')]
  ], () => quit)
}

/** SPOP's variable-length integers (SPOE spec §3.1): [value, next offset], or null when truncated. */
function spopVarint (d: Buffer, i: number): [number, number] | null {
  if (i >= d.length) return null
  let v = d[i++]!
  if (v < 240) return [v, i]
  let shift = 4
  for (;;) {
    if (i >= d.length) return null
    const b = d[i++]!
    v += b * 2 ** shift
    shift += 7
    if (b < 128) return [v, i]
  }
}

/** The HAPROXY-HELLO frame spop-check sends (recorded from haproxy 2.6): version 2.0, max-frame-size 16380, healthcheck. */
const SPOP_HELLO = Buffer.from('0000004e0100000001000012737570706f727465642d76657273696f6e730803322e300e6d61782d6672616d652d73697a6503fcf0060c6361706162696c697469657308000b6865616c7468636865636b11', 'hex')

/** The agent's AGENT-HELLO: one unfragmented frame whose `version` is 2.0 and that gives a `max-frame-size`. */
const spopJudge: Judge = (d, ended) => {
  const INVALID = fail('L7RSP', 'invalid frame received')
  if (d.length < 4) return ended ? INVALID : null
  const len = d.readUInt32BE(0)
  if (len === 0) return INVALID
  if (d.length < 4 + len && !ended) return null
  const frame = d.subarray(4, 4 + len)
  if (frame[0] !== 0x65) return INVALID
  const flags = frame.length >= 5 ? frame.readUInt32BE(1) : 0
  if ((flags & 1) === 0) return fail('L7RSP', 'fragmentation not supported')
  const kv = new Map<string, Buffer | number>()
  let at: [number, number] | null = spopVarint(frame, 5)
  at = at === null ? null : spopVarint(frame, at[1])
  if (at === null) return INVALID
  let i = at[1]
  while (i < frame.length) {
    const klen = spopVarint(frame, i)
    if (klen === null || klen[1] + klen[0] >= frame.length) return INVALID
    const key = frame.toString('latin1', klen[1], klen[1] + klen[0])
    i = klen[1] + klen[0]
    const type = frame[i++]! & 0x0f
    if (type === 8 || type === 9) {
      const vlen = spopVarint(frame, i)
      if (vlen === null || vlen[1] + vlen[0] > frame.length) return INVALID
      kv.set(key, frame.subarray(vlen[1], vlen[1] + vlen[0]))
      i = vlen[1] + vlen[0]
    } else if (type >= 2 && type <= 5) {
      const v = spopVarint(frame, i)
      if (v === null) return INVALID
      kv.set(key, v[0])
      i = v[1]
    } else if (type === 6 || type === 7) i += type === 6 ? 4 : 16
    else if (type > 1) return INVALID
  }
  const version = kv.get('version')
  if (!Buffer.isBuffer(version)) return fail('L7RSP', 'version value not found')
  if (version.toString('latin1').trim() !== '2.0') return fail('L7RSP', 'unsupported version')
  if (typeof kv.get('max-frame-size') !== 'number') return fail('L7RSP', 'max-frame-size value not found')
  return PASS
}

/** `ssl-hello-chk`: any TLS record back (handshake 0x16 or alert 0x15) passes, read once 5 bytes are in. */
const sslJudge: Judge = (d, ended) => {
  if (d.length < 5 && !ended) return null
  return d[0] === 0x15 || d[0] === 0x16 ? { ...PASS, status: 'L6OK' } : fail('L6RSP')
}

const described = (desc: string) => (): ScriptResult => ({ ...PASS, code: 0, desc })
/** A success whose text goes to the log line only (recorded: `last_chk` stays empty). */
const logged = (info: string): ScriptResult => ({ ...PASS, code: 0, desc: '', logInfo: info })

/** The script a proxy's health checks run, or null for a plain connect (or `option httpchk`). */
export function compileTcpScript (proxy: Proxy): TcpScript | null {
  if (proxy.httpCheck !== null || proxy.checkType === undefined) return null
  const args = proxy.checkType.args
  switch (proxy.checkType.name) {
    case 'tcp-check': return fromRules(proxy.tcpChecks)
    case 'redis-check': {
      const pong = Buffer.from('+PONG\r\n')
      const redis: Judge = (d, ended) => d.includes(pong) ? PASS : ended || d.length >= MAX_RESPONSE ? fail('L7STS', firstLine(d), 0) : null
      return protocol([[1, send('*1\r\n$4\r\nPING\r\n')], [2, expect(redis, 'L7STS')]], described('Redis server is ok'))
    }
    case 'ssl-hello-chk':
      return protocol([[1, send(sslv3Hello())], [2, expect(sslJudge, 'L6RSP')]], () => ({ ...PASS, status: 'L6OK' }), 'L6TOUT')
    case 'smtpchk': return smtpCheck(args)
    case 'pgsql-check':
      return protocol([[2, send(pgStartup(args[0] === 'user' ? args[1] ?? '' : ''))], [3, expect(pgsqlJudge)]], described('PostgreSQL server is ok'))
    case 'mysql-check': return mysqlCheck(args)
    case 'ldap-check':
      return protocol([[1, send(Buffer.from('300c020101600702010304008000', 'hex'))], [2, expect(ldapJudge)]], () => logged('Success'))
    case 'spop-check':
      return protocol([[1, send(SPOP_HELLO)], [2, expect(spopJudge)]], () => logged('SPOA server is ok'))
    default: return null
  }
}

/** The info of a failed first connection: tcp-check scripts say which step it was. */
export function connectFailure (script: TcpScript, reason: string): string {
  if (!script.verbose) return reason
  const first = script.steps[0]
  if (first?.kind !== 'connect') return `${reason} at initial connection step of tcp-check`
  const comment = script.comments[0]
  return `${reason} at step ${script.numbers[0]} of tcp-check ${first.label}${comment !== undefined ? ` comment: '${comment}'` : ''}`
}

/** A running script: `timedOut()` describes the step the check was waiting on. */
export interface ScriptRun { timedOut (): ScriptResult }

/**
 * Opens the connection of a `connect` step: `reached` once the TCP connection to the server is
 * up, `ready` once it can carry the script (after the TLS handshake for a TLS one).
 */
export type OpenConnection = (spec: ConnectSpec, ready: () => void, reached: () => void) => net.Socket

/**
 * Closes a check connection as HAProxy does: with a reset, unless its `tcp-check connect` says
 * `linger` (observed: the server reads ECONNRESET, or an end with `linger`). A TLS connection
 * is ended once what it wrote is out (its last handshake message may still be queued: a server
 * must see the handshake complete), node resetting plain sockets only.
 */
export function closeCheckConnection (sock: net.Socket, linger: boolean): void {
  if (sock instanceof tls.TLSSocket) sock.destroySoon()
  else if (!linger && !sock.destroyed && sock.readyState === 'open') sock.resetAndDestroy()
  else sock.destroy()
}

/**
 * Runs `script` on a connected socket; calls `done` once with the verdict. A later `connect` step
 * opens its connection with `open` (the previous one is closed) and hands it to `adopt`.
 */
export function runTcpScript (first: net.Socket, script: TcpScript, open: OpenConnection, adopt: (sock: net.Socket, spec: ConnectSpec) => void, done: (r: ScriptResult) => void): ScriptRun {
  let sock = first
  let data: Buffer = Buffer.alloc(0)
  let last: Buffer = data
  let lastExpect: Expect | null = null
  let step = script.steps[0]?.kind === 'connect' ? 1 : 0
  let ended = false
  let finished = false
  let connecting = false
  /** The connection being opened is up to the server, its TLS handshake under way. */
  let handshaking = false
  let linger = script.first?.linger ?? false
  const where = (i: number): string => {
    const s = script.steps[i]
    if (!script.verbose || s === undefined) return ''
    const comment = script.comments[i]
    return ` at step ${script.numbers[i]} of tcp-check ${s.label}${comment !== undefined ? ` comment: '${comment}'` : ''}`
  }
  const finish = (r: ScriptResult): void => {
    if (finished) return
    finished = true
    done(r)
  }
  const listen = (s: net.Socket): void => {
    s.on('data', (chunk: Buffer) => {
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk])
      advance()
    })
    s.on('end', () => { ended = true; advance() })
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (handshaking || (connecting && s instanceof tls.TLSSocket && failedWhileConnected(err))) finish(fail('L6RSP', handshakeErrorText(err) + where(step)))
      else if (connecting) finish(fail('L4CON', errnoText(err) + where(step)))
      else finish(fail('SOCKERR', errnoText(err) + where(step)))
    })
  }
  const advance = (): void => {
    while (!finished && !connecting && step < script.steps.length) {
      const s = script.steps[step]!
      if (s.kind === 'connect') {
        connecting = true
        sock.removeAllListeners()
        sock.on('error', () => {})
        closeCheckConnection(sock, linger)
        data = Buffer.alloc(0)
        ended = false
        linger = s.spec.linger
        sock = open(s.spec, () => {
          connecting = false
          handshaking = false
          step++
          advance()
        }, () => { handshaking = sock instanceof tls.TLSSocket })
        adopt(sock, s.spec)
        listen(sock)
        return
      }
      if (s.kind === 'send') {
        sock.write(s.data)
        data = Buffer.alloc(0)
        step++
        continue
      }
      if (data.length === 0 && !ended) return
      if (ended && data.length === 0 && s.empty !== null) {
        return finish(fail(s.empty, `TCPCHK got an empty response at step ${script.numbers[step]}`, s.empty === 'L7STS' ? 0 : undefined))
      }
      const verdict = s.judge(data, ended)
      if (verdict === null) return
      if (!verdict.ok) return finish(verdict)
      last = data
      lastExpect = s
      step++
    }
    if (finished || connecting) return
    finish(script.passed(last, lastExpect, sock instanceof tls.TLSSocket))
  }
  listen(sock)
  advance()
  return { timedOut: () => fail(connecting ? 'L4TOUT' : script.timeoutStatus, where(step)) }
}
