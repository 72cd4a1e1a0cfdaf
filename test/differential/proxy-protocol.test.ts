// `bind … accept-proxy`: PROXY protocol headers (v1 text, v2 binary) sent on raw sockets, good
// and bad, to an HTTP frontend that answers with the addresses its rules see. Each case holds
// what HAProxy 2.6.12 answered (or the log line of a refused connection), recorded on loopback;
// our CLI must do the same, and with haproxy installed the recordings are replayed against it too.
// Then a `mode tcp` listener with `accept-proxy` in front of a `send-proxy` / `send-proxy-v2`
// server, and an `ssl` bind with `accept-proxy`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import tls from 'node:tls'
import http2 from 'node:http2'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { head, startProxy, startRawUpstream, skipWithoutHaproxy, type Proxied } from './harness.js'
import { syslogServer } from '../log/syslog.js'
import { acceptProxy, announcement } from '../../lib/proxy-protocol.js'
import { makeCa, makeLeaf } from '../tls/certs.js'

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex')
const GET = 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'

function v2 (versionCommand: number, family: number, body: Buffer): Buffer {
  const len = Buffer.alloc(2)
  len.writeUInt16BE(body.length)
  return Buffer.concat([SIGNATURE, Buffer.from([versionCommand, family]), len, body])
}
const ports = (a: number, b: number): Buffer => { const p = Buffer.alloc(4); p.writeUInt16BE(a, 0); p.writeUInt16BE(b, 2); return p }
const ip6 = (...words: number[]): Buffer => { const b = Buffer.alloc(16); words.forEach((w, i) => b.writeUInt16BE(w, 16 - 2 * words.length + 2 * i)); return b }

interface Case {
  name: string
  /** What the client writes, piece by piece (a short pause between pieces); 'close' ends its side. */
  send: Array<string | Buffer>
  /** The answer's address headers (`PORT`: the frontend's port, `*`: any), or the refusal's log message. */
  seen: { src: string, sport: string, dst: string, fc: string } | { log: string }
}

const DIRECT = { src: '127.0.0.1', sport: '*', dst: '127.0.0.1|PORT', fc: '127.0.0.1|0' }
const CASES: Case[] = [
  { name: 'v1 TCP4', send: [`PROXY TCP4 1.2.3.4 5.6.7.8 11 22\r\n${GET}`], seen: { src: '1.2.3.4', sport: '11', dst: '5.6.7.8|22', fc: '127.0.0.1|1' } },
  { name: 'v1 TCP6', send: [`PROXY TCP6 2001:db8::1 ::1 11 22\r\n${GET}`], seen: { src: '2001:db8::1', sport: '11', dst: '::1|22', fc: '127.0.0.1|1' } },
  { name: 'v1 UNKNOWN', send: [`PROXY UNKNOWN\r\n${GET}`], seen: { ...DIRECT, fc: '127.0.0.1|1' } },
  { name: 'v1 short address', send: [`PROXY TCP4 1.2.3 5.6.7.8 11 22\r\n${GET}`], seen: { src: '1.2.3.0', sport: '11', dst: '5.6.7.8|22', fc: '127.0.0.1|1' } },
  { name: 'v1 port past 65535', send: [`PROXY TCP4 1.2.3.4 5.6.7.8 70000 22\r\n${GET}`], seen: { src: '1.2.3.4', sport: '4464', dst: '5.6.7.8|22', fc: '127.0.0.1|1' } },
  { name: 'v2 TCP4', send: [Buffer.concat([v2(0x21, 0x11, Buffer.concat([Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), ports(11, 22)])), Buffer.from(GET)])], seen: { src: '1.2.3.4', sport: '11', dst: '5.6.7.8|22', fc: '127.0.0.1|1' } },
  { name: 'v2 TCP6 with a TLV', send: [Buffer.concat([v2(0x21, 0x21, Buffer.concat([ip6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 5), ip6(1), ports(11, 22), Buffer.from([4, 0, 2, 0, 0])])), Buffer.from(GET)])], seen: { src: '2001:db8::5', sport: '11', dst: '::1|22', fc: '127.0.0.1|1' } },
  { name: 'v2 LOCAL', send: [Buffer.concat([v2(0x20, 0x00, Buffer.alloc(0)), Buffer.from(GET)])], seen: { ...DIRECT, fc: '127.0.0.1|1' } },
  { name: 'no header', send: [GET], seen: { log: 'Received something which does not look like a PROXY protocol header' } },
  { name: 'v1 UNKNOWN with addresses', send: [`PROXY UNKNOWN 1.2.3.4 5.6.7.8 11 22\r\n${GET}`], seen: { log: 'Received an unhandled protocol in the PROXY protocol header' } },
  { name: 'v1 TCP4 with an IPv6 address', send: [`PROXY TCP4 ::1 5.6.7.8 1 22\r\n${GET}`], seen: { log: 'Received an invalid PROXY protocol header' } },
  { name: 'v1 ending in LF', send: [`PROXY TCP4 1.2.3.4 5.6.7.8 1 22\n${GET}`], seen: { log: 'Received an invalid PROXY protocol header' } },
  { name: 'v2 version 3', send: [Buffer.concat([v2(0x31, 0x11, Buffer.alloc(12)), Buffer.from(GET)])], seen: { log: 'Received something which does not look like a PROXY protocol header' } },
  { name: 'v2 UNIX', send: [Buffer.concat([v2(0x21, 0x31, Buffer.alloc(216)), Buffer.from(GET)])], seen: { log: 'Received an invalid PROXY protocol header' } },
  { name: 'v2 TCP4 too short', send: [Buffer.concat([v2(0x21, 0x11, Buffer.alloc(8)), Buffer.from(GET)])], seen: { log: 'Received an invalid PROXY protocol header' } },
  { name: 'closed at once', send: ['close'], seen: { log: 'Connection closed while waiting for PROXY protocol header' } },
  // HAProxy reads the header from what its first read brings, and waits for no more: a header
  // split across two packets is refused the same way when the proxy reads the first alone (not
  // replayed here: whether two writes arrive in one read depends on the machine's load)
  { name: 'closed within the header', send: ['PROXY TCP4 1.2', 'close'], seen: { log: 'Truncated PROXY protocol header received' } },
  { name: 'silent past timeout client', send: [], seen: { log: 'Timeout while waiting for PROXY protocol header' } }
]

/** Writes the pieces, then reads until the proxy closes; resolves with all it sent back. */
function exchange (port: number, pieces: Array<string | Buffer>): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let got = ''
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no close within 8 s after ${JSON.stringify(got)}`)) }, 8000)
    socket.on('data', (d: Buffer) => { got += d.toString('latin1') })
    socket.on('error', () => {})
    socket.on('close', () => { clearTimeout(timer); resolve(got) })
    socket.once('connect', async () => {
      for (const p of pieces) {
        if (p === 'close') { socket.end(); return }
        socket.write(p)
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    })
  })
}

function headerOf (answer: string, name: string): string {
  return new RegExp(`^${name}: (.*)$`, 'mi').exec(answer)?.[1]?.trim() ?? '(none)'
}

function httpConfig (syslog: number) {
  return (port: number): string => `global
    nbthread 1
    log 127.0.0.1:${syslog} local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 1500ms
    timeout server 2s
frontend fe
    bind 127.0.0.1:${port} accept-proxy
    http-request return status 200 hdr x-src "%[src]" hdr x-sport "%[src_port]" hdr x-dst "%[dst]|%[dst_port]" hdr x-fc "%[fc_src]|%[fc_rcvd_proxy]"
`
}

async function playCases (label: 'haproxy' | 'ours'): Promise<void> {
  const syslog = await syslogServer()
  let proxy: Proxied | null = null
  try {
    proxy = await startProxy(label, httpConfig(syslog.port))
    const port = proxy.port
    const answers = await Promise.all(CASES.map(async c => await exchange(port, c.send)))
    // the harness's probe of the port (connect, close) is a refusal too
    const refused = [...CASES.filter(c => 'log' in c.seen), { seen: { log: 'Connection closed while waiting for PROXY protocol header' } }]
    // the accepted connections have their `Connect from` lines (no `option httplog`) besides
    const refusals = (): string[] => syslog.lines.flatMap(l => /fe\/1: (.*?)\n?$/.exec(l)?.[1] ?? [])
    for (let n = refused.length; refusals().length < refused.length; n++) await syslog.wait(n + 1)
    const messages = refusals().sort()
    assert.deepEqual(messages, refused.map(c => (c.seen as { log: string }).log).sort(), `${label}: the refusals' log lines`)
    // the default log format's `Connect from` line names the announced addresses
    const connects = syslog.lines.flatMap(l => /Connect from (.*?)\n?$/.exec(l)?.[1] ?? []).map(l => l.replace(/^127\.0\.0\.1:\d+/, '127.0.0.1:*')).sort()
    const accepted = CASES.flatMap(c => 'log' in c.seen ? [] : [`${c.seen.src}:${c.seen.sport} to ${c.seen.dst.replace('|', ':').replace('PORT', String(port))} (fe/HTTP)`]).sort()
    assert.deepEqual(connects, accepted, `${label}: the Connect from lines`)
    CASES.forEach((c, i) => {
      const answer = answers[i]!
      if ('log' in c.seen) {
        assert.equal(answer, '', `${label}, ${c.name}: closed without an answer`)
        return
      }
      assert.match(answer, /^HTTP\/1\.1 200/, `${label}, ${c.name}`)
      const want = { ...c.seen, dst: c.seen.dst.replace('PORT', String(port)) }
      const seen = { src: headerOf(answer, 'x-src'), sport: want.sport === '*' ? '*' : headerOf(answer, 'x-sport'), dst: headerOf(answer, 'x-dst'), fc: headerOf(answer, 'x-fc') }
      assert.deepEqual(seen, want, `${label}, ${c.name}`)
    })
  } finally {
    await proxy?.stop()
    await syslog.close()
  }
}

test('accept-proxy on an HTTP bind: the header\'s addresses, or a logged close (as recorded from HAProxy 2.6.12)', async () => {
  await playCases('ours')
})

test('accept-proxy on an HTTP bind: the recordings hold on real HAProxy', { skip: skipWithoutHaproxy }, async () => {
  await playCases('haproxy')
})

/** A raw server that records what each connection sent, and answers `hello` once it has the header. */
async function recordingServer (): Promise<{ port: number, received: Buffer[], close (): Promise<void> }> {
  const received: Buffer[] = []
  const upstream = await startRawUpstream((socket) => {
    const i = received.push(Buffer.alloc(0)) - 1
    socket.on('data', (d: Buffer) => {
      received[i] = Buffer.concat([received[i]!, d])
      if (received[i]!.includes('ping')) socket.end('hello')
    })
  })
  return { ...upstream, received }
}

function tcpConfig (upstream: number, server: string) {
  return (port: number): string => `global
    nbthread 1
defaults
    mode tcp
    timeout connect 1s
    timeout client 2s
    timeout server 2s
listen li
    bind 127.0.0.1:${port} accept-proxy
    tcp-request content reject if { src 10.0.0.0/8 }
    server s1 127.0.0.1:${upstream} ${server}
`
}

async function tcpExchanges (label: 'haproxy' | 'ours', server: string): Promise<Array<{ answer: string, received: string }>> {
  const upstream = await recordingServer()
  const proxy = await startProxy(label, tcpConfig(upstream.port, server))
  try {
    const out: Array<{ answer: string, received: string }> = []
    for (const header of ['PROXY TCP4 192.0.2.7 198.51.100.1 4000 443\r\n', 'PROXY TCP6 2001:db8::7 2001:db8::1 4000 443\r\n', 'PROXY TCP4 10.1.1.1 198.51.100.1 4000 443\r\n']) {
      const before = upstream.received.length
      const answer = await exchange(proxy.port, [header + 'ping'])
      out.push({ answer, received: upstream.received.length > before ? upstream.received[before]!.toString('hex') : '' })
    }
    return out
  } finally {
    await proxy.stop()
    await upstream.close()
  }
}

const v1Hex = (line: string): string => Buffer.from(line + 'ping').toString('hex')
const TCP_SEEN: Record<string, Array<{ answer: string, received: string }>> = {
  'send-proxy': [
    { answer: 'hello', received: v1Hex('PROXY TCP4 192.0.2.7 198.51.100.1 4000 443\r\n') },
    { answer: 'hello', received: v1Hex('PROXY TCP6 2001:db8::7 2001:db8::1 4000 443\r\n') },
    // the content rules see the announced address: 10.1.1.1 is refused
    { answer: '', received: '' }
  ],
  'send-proxy-v2': [
    { answer: 'hello', received: v2(0x21, 0x11, Buffer.concat([Buffer.from([192, 0, 2, 7, 198, 51, 100, 1]), ports(4000, 443)])).toString('hex') + Buffer.from('ping').toString('hex') },
    { answer: 'hello', received: v2(0x21, 0x21, Buffer.concat([ip6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7), ip6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), ports(4000, 443)])).toString('hex') + Buffer.from('ping').toString('hex') },
    { answer: '', received: '' }
  ]
}

for (const server of ['send-proxy', 'send-proxy-v2']) {
  test(`mode tcp: accept-proxy in front of a ${server} server passes the announced addresses on`, async () => {
    assert.deepEqual(await tcpExchanges('ours', server), TCP_SEEN[server])
  })
  test(`mode tcp: accept-proxy and ${server}, the same on real HAProxy`, { skip: skipWithoutHaproxy }, async () => {
    // HAProxy 2.6 adds a TLV-less v2 header too; only the address part is compared
    assert.deepEqual(await tcpExchanges('haproxy', server), TCP_SEEN[server])
  })
}

test('accept-proxy on an ssl bind: the header comes before the TLS handshake', async () => {
  const ca = makeCa()
  const leaf = makeLeaf(ca, join(ca.dir, 'site.pem'), 'site.test', ['site.test'])
  const proxy = await startProxy('ours', (port) => `global
    nbthread 1
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend fe
    bind 127.0.0.1:${port} ssl crt ${leaf.pem} accept-proxy
    http-request return status 200 hdr x-src "%[src]:%[src_port]" hdr x-ssl "%[ssl_fc]"
`)
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const raw = net.connect(proxy.port, '127.0.0.1', () => {
        raw.write('PROXY TCP4 203.0.113.9 198.51.100.1 5555 443\r\n')
        const secure = tls.connect({ socket: raw, servername: 'site.test', ca: [readFileSync(ca.cert)] }, () => { secure.write(GET) })
        let got = ''
        secure.on('data', (d: Buffer) => { got += d.toString('latin1') })
        secure.on('error', reject)
        secure.on('close', () => resolve(got))
      })
      raw.on('error', reject)
    })
    assert.equal(headerOf(answer, 'x-src'), '203.0.113.9:5555')
    assert.equal(headerOf(answer, 'x-ssl'), '1')
  } finally {
    await proxy.stop()
  }
})

/**
 * A raw HTTP server that records each connection's bytes and answers each request head with a
 * 200 (whatever precedes the first request: a PROXY header).
 */
async function recordingHttpServer (): Promise<{ port: number, connections: string[], close (): Promise<void> }> {
  const connections: string[] = []
  const upstream = await startRawUpstream((socket) => {
    const i = connections.push('') - 1
    let answered = 0
    socket.on('data', (d: Buffer) => {
      connections[i] += d.toString('latin1')
      const heads = connections[i]!.split('\r\n\r\n').length - 1
      for (; answered < heads; answered++) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
    })
  })
  return { ...upstream, connections }
}

/** What the servers got: requests and checks, with the ports that change from run to run masked. */
async function httpSendProxy (label: 'haproxy' | 'ours'): Promise<{ answers: string[], s1: string[], s2: string[] }> {
  const s1 = await recordingHttpServer()
  const s2 = await recordingHttpServer()
  const proxy = await startProxy(label, (port) => head() + `frontend fe
    bind 127.0.0.1:${port} accept-proxy
    use_backend b2 if { path_beg /v2 }
    default_backend b1
backend b1
    option httpchk GET /chk
    server s1 127.0.0.1:${s1.port} send-proxy check inter 1s
backend b2
    option httpchk GET /chk
    server s2 127.0.0.1:${s2.port} send-proxy-v2 check inter 1s
`)
  try {
    // the first check of each server has been sent once both are up
    const deadline = Date.now() + 5000
    while ((s1.connections.length === 0 || s2.connections.length === 0 || !s1.connections[0]!.includes('\r\n\r\n') || !s2.connections[0]!.includes('\r\n\r\n')) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    const req = (path: string, last: boolean): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n${last ? 'Connection: close\r\n' : ''}\r\n`
    const answers: string[] = []
    // two requests on one client connection share its server connection; another client gets its own
    answers.push(await exchange(proxy.port, [`PROXY TCP4 192.0.2.7 198.51.100.1 4000 443\r\n${req('/a', false)}`, req('/b', true)]))
    answers.push(await exchange(proxy.port, [`PROXY TCP6 2001:db8::7 2001:db8::1 4001 443\r\n${req('/c', true)}`]))
    answers.push(await exchange(proxy.port, [`PROXY TCP4 192.0.2.7 198.51.100.1 4000 443\r\n${req('/v2/a', true)}`]))
    // the check port, and the connection header (what the gateway tells servers is not the point here)
    const mask = (text: string): string => text.replace(/127\.0\.0\.1 127\.0\.0\.1 \d+ \d+/, '127.0.0.1 127.0.0.1 P P').replace(/\r\n[Hh]ost: a/g, '\r\nhost: a').replace(/\r\nconnection: [^\r]*/gi, '')
    const hex = (text: string): string => Buffer.from(text, 'latin1').toString('hex')
    // the first check, then the requests (checks go on every second meanwhile)
    const seen = (connections: string[]): string[] => [connections.find(c => c.includes('/chk'))!, ...connections.filter(c => !c.includes('/chk'))]
    return {
      answers: answers.map(a => (a.match(/HTTP\/1\.1 \d+/g) ?? []).join(',')),
      s1: seen(s1.connections).map(mask),
      // v2 headers are binary: compared as hex, the request after them as text
      s2: seen(s2.connections).map(c => { const at = c.indexOf('GET '); return at < 0 ? hex(c) : hex(c.slice(0, at)) + ' ' + mask(c.slice(at)) })
    }
  } finally {
    await proxy.stop()
    await s1.close()
    await s2.close()
  }
}

const LOCAL_V2 = v2(0x20, 0x00, Buffer.alloc(0)).toString('hex')
const HTTP_SEND_PROXY_SEEN = {
  answers: ['HTTP/1.1 200,HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200'],
  s1: [
    'PROXY TCP4 127.0.0.1 127.0.0.1 P P\r\nGET /chk HTTP/1.0\r\n\r\n',
    'PROXY TCP4 192.0.2.7 198.51.100.1 4000 443\r\nGET /a HTTP/1.1\r\nhost: a\r\n\r\nGET /b HTTP/1.1\r\nhost: a\r\n\r\n',
    'PROXY TCP6 2001:db8::7 2001:db8::1 4001 443\r\nGET /c HTTP/1.1\r\nhost: a\r\n\r\n'
  ],
  s2: [
    `${LOCAL_V2} GET /chk HTTP/1.0\r\n\r\n`,
    `${v2(0x21, 0x11, Buffer.concat([Buffer.from([192, 0, 2, 7, 198, 51, 100, 1]), ports(4000, 443)])).toString('hex')} GET /v2/a HTTP/1.1\r\nhost: a\r\n\r\n`
  ]
}

test('send-proxy / send-proxy-v2 on HTTP servers: one server connection per client connection, opened with its addresses; checks send one too', async () => {
  assert.deepEqual(await httpSendProxy('ours'), HTTP_SEND_PROXY_SEEN)
})

test('send-proxy on HTTP servers: the same on real HAProxy', { skip: skipWithoutHaproxy }, async () => {
  assert.deepEqual(await httpSendProxy('haproxy'), HTTP_SEND_PROXY_SEEN)
})

test('accept-proxy on a clear HTTP/2 bind (proto h2): the header comes before the preface', async () => {
  const proxy = await startProxy('ours', (port) => `global
    nbthread 1
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend fe
    bind 127.0.0.1:${port} proto h2 accept-proxy
    http-request return status 200 hdr x-src "%[src]:%[src_port]" hdr x-proxied "%[fc_rcvd_proxy]"
`)
  try {
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const session = http2.connect(`http://127.0.0.1:${proxy.port}`, {
        createConnection: () => {
          const raw = net.connect(proxy.port, '127.0.0.1')
          raw.write('PROXY TCP6 2001:db8::9 2001:db8::1 6000 80\r\n')
          return raw
        }
      })
      session.on('error', reject)
      const req = session.request({ ':path': '/' })
      req.on('response', (h) => { resolve(h); session.close() })
      req.on('error', reject)
      req.end()
    })
    assert.equal(headers['x-src'], '2001:db8::9:6000')
    assert.equal(headers['x-proxied'], '1')
  } finally {
    await proxy.stop()
  }
})

/** The first health check each server gets: `check-send-proxy` forces a header, a check `port` drops send-proxy's. */
async function checkHeaders (label: 'haproxy' | 'ours'): Promise<string[]> {
  const forced = await recordingHttpServer()
  const ported = await recordingHttpServer()
  const proxy = await startProxy(label, (port) => head(['timeout check 2s']) + `frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    option httpchk GET /chk
    server forced 127.0.0.1:${forced.port} check check-send-proxy inter 1s
    server ported 127.0.0.1:${ported.port} send-proxy check port ${ported.port} inter 1s
`)
  try {
    const deadline = Date.now() + 5000
    const first = (s: { connections: string[] }): string | undefined => s.connections.find(c => c.includes('\r\n\r\n'))
    while ((first(forced) === undefined || first(ported) === undefined) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    return [first(forced) ?? '', first(ported) ?? ''].map(c => c.replace(/127\.0\.0\.1 127\.0\.0\.1 \d+ \d+/, '127.0.0.1 127.0.0.1 P P'))
  } finally {
    await proxy.stop()
    await forced.close()
    await ported.close()
  }
}

const CHECK_HEADERS_SEEN = ['PROXY TCP4 127.0.0.1 127.0.0.1 P P\r\nGET /chk HTTP/1.0\r\n\r\n', 'GET /chk HTTP/1.0\r\n\r\n']

test('check-send-proxy: a PROXY header on checks without send-proxy; send-proxy with a check port sends none', async () => {
  assert.deepEqual(await checkHeaders('ours'), CHECK_HEADERS_SEEN)
})

test('check-send-proxy: the same on real HAProxy', { skip: skipWithoutHaproxy }, async () => {
  assert.deepEqual(await checkHeaders('haproxy'), CHECK_HEADERS_SEEN)
})

/** A TLS server that wants a PROXY header first (read by lib/proxy-protocol.ts), recording each header and request. */
async function proxiedTlsServer (): Promise<{ port: number, seen: string[], close (): Promise<void> }> {
  const ca = makeCa()
  const leaf = makeLeaf(ca, join(ca.dir, 'server.pem'), 'server.test', ['server.test'])
  const pem = readFileSync(leaf.pem)
  const seen: string[] = []
  const server = tls.createServer({ key: pem, cert: pem }, (socket) => {
    const a = announcement(socket)
    socket.once('data', (d: Buffer) => {
      seen.push(`${a === undefined ? 'no header' : JSON.stringify(a.addresses)} ${d.toString('latin1')}`)
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
    })
    socket.on('error', () => {})
  })
  acceptProxy(server, 2000, () => { seen.push('refused') })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as net.AddressInfo).port, seen, close: async () => { await new Promise(resolve => server.close(resolve)) } }
}

async function tlsCheckHeader (label: 'haproxy' | 'ours'): Promise<string[]> {
  const upstream = await proxiedTlsServer()
  const proxy = await startProxy(label, (port) => head(['timeout check 2s']) + `frontend fe
    bind 127.0.0.1:${port} accept-proxy
    default_backend be
backend be
    option httpchk GET /chk
    server s1 127.0.0.1:${upstream.port} ssl verify none send-proxy check inter 1s
`)
  try {
    const deadline = Date.now() + 5000
    while (upstream.seen.length === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    // a request goes the same way, with the client's addresses
    const answer = await exchange(proxy.port, [`PROXY TCP4 192.0.2.7 198.51.100.1 4000 443\r\n${GET}`])
    const request = upstream.seen.find(x => x.includes('GET / '))
    return [(upstream.seen[0] ?? '').replace(/"srcPort":\d+/, '"srcPort":0').replace(/"dstPort":\d+/, '"dstPort":0'), answer.split('\r\n')[0]!, (request ?? '').split('\r\n')[0]!]
  } finally {
    await proxy.stop()
    await upstream.close()
  }
}

const TLS_CHECK_SEEN = [
  '{"src":"127.0.0.1","srcPort":0,"dst":"127.0.0.1","dstPort":0} GET /chk HTTP/1.0\r\n\r\n',
  'HTTP/1.1 200 OK',
  '{"src":"192.0.2.7","srcPort":4000,"dst":"198.51.100.1","dstPort":443} GET / HTTP/1.1'
]

test('send-proxy on an ssl server: requests and checks send the PROXY header before the TLS handshake', async () => {
  assert.deepEqual(await tlsCheckHeader('ours'), TLS_CHECK_SEEN)
})

test('send-proxy on an ssl server, checks: the same on real HAProxy', { skip: skipWithoutHaproxy }, async () => {
  assert.deepEqual(await tlsCheckHeader('haproxy'), TLS_CHECK_SEEN)
})

test('mode tcp: accept-proxy on an ssl bind, the header before the handshake, its addresses sent on by send-proxy', async () => {
  const ca = makeCa()
  const leaf = makeLeaf(ca, join(ca.dir, 'site.pem'), 'site.test', ['site.test'])
  const upstream = await recordingServer()
  const proxy = await startProxy('ours', (port) => head() + `listen li
    mode tcp
    bind 127.0.0.1:${port} ssl crt ${leaf.pem} accept-proxy
    server s1 127.0.0.1:${upstream.port} send-proxy
`)
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const raw = net.connect(proxy.port, '127.0.0.1', () => {
        raw.write('PROXY TCP4 203.0.113.9 198.51.100.1 5555 443\r\n')
        const secure = tls.connect({ socket: raw, servername: 'site.test', ca: [readFileSync(ca.cert)] }, () => { secure.write('ping') })
        let got = ''
        secure.on('data', (d: Buffer) => { got += d.toString('latin1') })
        secure.on('error', reject)
        secure.on('close', () => resolve(got))
      })
      raw.on('error', reject)
    })
    assert.equal(answer, 'hello')
    assert.equal(upstream.received[0]?.toString('latin1'), 'PROXY TCP4 203.0.113.9 198.51.100.1 5555 443\r\nping')
  } finally {
    await proxy.stop()
    await upstream.close()
  }
})
