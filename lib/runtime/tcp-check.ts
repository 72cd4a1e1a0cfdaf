// TCP health-check scripts (configuration.txt §4.2 `option tcp-check` and `tcp-check …`) and the
// protocol checks HAProxy builds from the same steps: `option redis-check`, `ssl-hello-chk`,
// `smtpchk`, `pgsql-check`, `mysql-check`, `ldap-check`. A script is a list of steps run on one
// connection: `send` bytes, `expect` a match on what arrived since the last expect.
// Results: every expect matched → L7OK; a mismatch → L7RSP ("TCPCHK did not match content …
// at step N"); no expect at all → L4OK, as HAProxy reports them.

import type { Socket } from 'node:net'
import type { Proxy, Rule } from '../config/model.js'

/** Checks read at most one buffer of response (HAProxy's tune.bufsize). */
const MAX_RESPONSE = 16384

interface Send { kind: 'send', data: Buffer }
interface Expect {
  kind: 'expect'
  /** true / false once decided on the data; null: more data may change it. */
  test (data: Buffer, ended: boolean): boolean | null
  /** How a mismatch is described. */
  what: string
}
type Step = Send | Expect

export interface TcpScript {
  /** `tcp-check connect port N`: the port the check connects to, else the server's check port. */
  port: number | null
  steps: Step[]
  /** The number HAProxy gives each step in its messages (1-based, connect and comments counted). */
  numbers: number[]
  /** The check's info (and status code) on success, from the last answer (protocol checks). */
  passed?: (last: Buffer) => { desc: string, code?: number }
}

/** The verdict of a script run, as the health checker records it. */
export interface ScriptResult { ok: boolean, status: 'L4OK' | 'L7OK' | 'L7RSP', desc: string, code?: number }

function stringExpect (pattern: string, negate: boolean, what: string): Expect {
  const needle = Buffer.from(pattern, 'latin1')
  return {
    kind: 'expect',
    what,
    test: (data, ended) => {
      const found = data.includes(needle)
      if (found) return !negate
      return ended || data.length >= MAX_RESPONSE ? negate : null
    }
  }
}

function regexExpect (re: RegExp, binary: boolean, negate: boolean, what: string): Expect {
  return {
    kind: 'expect',
    what,
    test: (data, ended) => {
      const found = re.test(binary ? data.toString('hex') : data.toString('latin1'))
      if (found) return !negate
      return ended || data.length >= MAX_RESPONSE ? negate : null
    }
  }
}

/** One `tcp-check expect [min-recv N] [comment C] [!] string|rstring|binary|rbinary <pattern>`. */
function expectStep (args: string[]): Expect {
  let i = 0
  let minRecv = -1
  while (i < args.length && ['min-recv', 'comment', 'ok-status', 'error-status', 'tout-status', 'on-success', 'on-error', 'status-code'].includes(args[i]!)) {
    if (args[i] === 'min-recv') minRecv = Number(args[i + 1])
    i += 2
  }
  let negate = args[i] === '!'
  if (negate) i++
  let kind = args[i]!
  if (kind.startsWith('!')) { negate = true; kind = kind.slice(1) }
  const pattern = args[i + 1] ?? ''
  let step: Expect
  switch (kind) {
    case 'binary': step = stringExpect(Buffer.from(pattern, 'hex').toString('latin1'), negate, `binary '${pattern}'`); break
    case 'rstring': step = regexExpect(new RegExp(pattern), false, negate, `(regex)`); break
    case 'rbinary': step = regexExpect(new RegExp(pattern, 'i'), true, negate, `(regex)`); break
    default: step = stringExpect(pattern, negate, `'${pattern}'`)
  }
  if (minRecv < 0) return step
  return { ...step, test: (data, ended) => data.length < minRecv && !ended ? null : step.test(data, ended) }
}

const send = (data: string | Buffer): Send => ({ kind: 'send', data: typeof data === 'string' ? Buffer.from(data, 'latin1') : data })

/** The `tcp-check` lines of a proxy as a script (§4.2). */
function fromRules (rules: Rule[]): TcpScript {
  const script: TcpScript = { port: null, steps: [], numbers: [] }
  rules.forEach((r, n) => {
    if (r.action === 'connect') {
      const p = r.args.indexOf('port')
      if (p >= 0 && n === 0) script.port = Number(r.args[p + 1])
      return
    }
    let step: Step | null = null
    if (r.action === 'send') step = send(r.args[0]!)
    else if (r.action === 'send-binary') step = send(Buffer.from(r.args[0]!, 'hex'))
    else if (r.action === 'expect') step = expectStep(r.args)
    if (step === null) return
    script.steps.push(step)
    script.numbers.push(n + 1)
  })
  return script
}

const simple = (...steps: Step[]): TcpScript => ({ port: null, steps, numbers: steps.map((_s, i) => i + 1) })
const described = (script: TcpScript, passed: TcpScript['passed']): TcpScript => ({ ...script, passed })

/**
 * A TLS 1.0 ClientHello with common cipher suites: what `ssl-hello-chk` sends; any TLS record
 * back (a ServerHello, 0x16, or an alert, 0x15) proves a TLS server listens.
 */
function clientHello (): Buffer {
  const ciphers = [0x002f, 0x0035, 0x000a, 0x0005, 0x0004, 0xc013, 0xc014, 0x009c]
  const body = Buffer.alloc(2 + 32 + 1 + 2 + ciphers.length * 2 + 2)
  let i = 0
  body.writeUInt16BE(0x0301, i); i += 2
  for (let k = 0; k < 32; k++) body[i++] = (k * 37 + 11) & 0xff
  body[i++] = 0
  body.writeUInt16BE(ciphers.length * 2, i); i += 2
  for (const c of ciphers) { body.writeUInt16BE(c, i); i += 2 }
  body[i++] = 1; body[i++] = 0
  const hs = Buffer.concat([Buffer.from([0x01, 0, (body.length >> 8) & 0xff, body.length & 0xff]), body])
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, (hs.length >> 8) & 0xff, hs.length & 0xff]), hs])
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

/**
 * The script a proxy's health checks run, or null for a plain connect (or `option httpchk`).
 * `mysql-check` reads the server's greeting and fails on an error packet; with `user` HAProxy
 * also logs in, which is not done here (the greeting alone proves a MySQL server answers).
 */
export function compileTcpScript (proxy: Proxy): TcpScript | null {
  if (proxy.httpCheck !== null || proxy.checkType === undefined) return null
  const args = proxy.checkType.args
  switch (proxy.checkType.name) {
    case 'tcp-check': return fromRules(proxy.tcpChecks)
    case 'redis-check': return described(simple(send('PING\r\n'), stringExpect('+PONG', false, "'+PONG'")), () => ({ desc: 'Redis server is ok' }))
    case 'ssl-hello-chk': return simple(send(clientHello()), regexExpect(/^1[56]/, true, false, '(regex)'))
    case 'smtpchk': {
      const ok = (): Expect => regexExpect(/^[23][0-9]{2}[ \r-]/, false, false, '(regex)')
      const hello = args[0] === 'EHLO' || args[0] === 'HELO' ? `${args[0]} ${args[1] ?? 'localhost'}` : 'HELO localhost'
      // the last answer (to QUIT) gives the code and info HAProxy reports
      return described(simple(ok(), send(`${hello}\r\n`), ok(), send('QUIT\r\n'), ok()), (last) => {
        const line = last.toString('latin1').split('\r\n')[0] ?? ''
        return { code: Number(line.slice(0, 3)), desc: line.slice(4) }
      })
    }
    case 'pgsql-check':
      // an authentication request ('R'), not an error ('E')
      return described(simple(send(pgStartup(args[0] === 'user' ? args[1] ?? '' : '')), { kind: 'expect', what: "'R'", test: (d, ended) => d.length === 0 ? (ended ? false : null) : d[0] === 0x52 }), () => ({ desc: 'PostgreSQL server is ok' }))
    case 'mysql-check':
      // a greeting: 3-byte length, sequence, then protocol version 10 (0xff would be an error packet)
      return described(simple({ kind: 'expect', what: 'a MySQL greeting', test: (d, ended) => d.length < 5 ? (ended ? false : null) : d[4] === 0x0a }), (last) => {
        // the server version: a NUL-terminated string after the protocol version
        const end = last.indexOf(0, 5)
        return { desc: last.subarray(5, end < 0 ? last.length : end).toString('latin1') }
      })
    case 'ldap-check':
      // an anonymous LDAPv3 bind; the answer must be a BindResponse with resultCode success (0)
      return described(simple(send(Buffer.from('300c020101600702010304008000', 'hex')), {
        kind: 'expect',
        what: 'an LDAP BindResponse',
        test: (d, ended) => {
          if (d.length < 14) return ended ? false : null
          const i = d.indexOf(0x61)
          return i > 0 && d[i + 2] === 0x0a && d[i + 3] === 0x01 && d[i + 4] === 0x00
        }
      }), () => ({ desc: 'Success' }))
    default: return null
  }
}

/**
 * Runs `script` on a connected socket; calls `done` once with the verdict, or with null when
 * the socket failed (the caller reports that as it does for any check).
 */
export function runTcpScript (sock: Socket, script: TcpScript, done: (r: ScriptResult) => void): void {
  let data: Buffer = Buffer.alloc(0)
  let last: Buffer = data
  let step = 0
  let ended = false
  let finished = false
  const hasExpect = script.steps.some(s => s.kind === 'expect')
  const finish = (r: ScriptResult): void => {
    if (finished) return
    finished = true
    done(r)
  }
  const advance = (): void => {
    while (!finished && step < script.steps.length) {
      const s = script.steps[step]!
      if (s.kind === 'send') {
        sock.write(s.data)
        step++
        continue
      }
      const verdict = s.test(data, ended)
      if (verdict === null) return
      if (!verdict) {
        return finish({ ok: false, status: 'L7RSP', desc: `TCPCHK did not match content ${s.what} at step ${script.numbers[step]}` })
      }
      last = data
      data = Buffer.alloc(0)
      step++
    }
    if (finished) return
    const info = script.passed?.(last)
    finish({ ok: true, status: hasExpect ? 'L7OK' : 'L4OK', desc: info?.desc ?? '', ...(info?.code !== undefined ? { code: info.code } : {}) })
  }
  sock.on('data', (chunk: Buffer) => {
    data = data.length === 0 ? chunk : Buffer.concat([data, chunk])
    advance()
  })
  sock.on('end', () => { ended = true; advance() })
  advance()
}
