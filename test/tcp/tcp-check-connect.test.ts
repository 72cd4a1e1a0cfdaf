// `tcp-check connect` options (§4.2): `ssl`, `sni`, `alpn`, `port`, `addr`, `default`,
// `send-proxy`, `linger`, and how HAProxy 2.6 words a check's failed TLS handshake. The check
// log lines below were recorded from haproxy 2.6.12 on the same config; with haproxy installed
// the test also runs it beside ours and compares the lines and what the servers saw.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import tls from 'node:tls'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { makeCa, makeLeaf } from '../tls/certs.js'
import { startProxy, skipWithoutHaproxy, type Proxied } from '../differential/harness.js'

interface Upstreams {
  ports: Record<'tls' | 'plain' | 'fin' | 'rst' | 'linger' | 'nolinger', number>
  /** What the TLS server saw: `sni alpn` per handshake. */
  handshakes: Set<string>
  /** The first bytes the plain server read on each connection. */
  firstBytes: Set<string>
  /** How check connections to the linger/nolinger servers ended: FIN or RST. */
  closes: Record<'linger' | 'nolinger', Set<string>>
  close (): Promise<void>
}

async function listen (server: net.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

async function upstreams (pem: string): Promise<Upstreams> {
  const handshakes = new Set<string>()
  const firstBytes = new Set<string>()
  const closes = { linger: new Set<string>(), nolinger: new Set<string>() }
  const sockets = new Set<net.Socket>()
  const track = (s: net.Socket): void => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  }
  const key = readFileSync(pem)
  const servers: net.Server[] = []
  const secure = tls.createServer({ cert: key, key, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => {
    track(s)
    handshakes.add(`${s.servername || '-'} ${s.alpnProtocol || '-'}`)
    s.on('data', () => s.end('HTTP/1.0 200 OK\r\n\r\n'))
  })
  secure.on('tlsClientError', () => {})
  servers.push(secure)
  const plain = net.createServer((s) => {
    track(s)
    let first = true
    s.on('data', (d) => {
      // the PROXY line's source port is the check connection's own, different each time
      if (first) firstBytes.add(d.toString('latin1').replace(/ \d+ (\d+)\r\n/, ' <port> $1\r\n'))
      first = false
      if (d.includes('PING')) s.write('+PONG\r\n')
    })
  })
  const fin = net.createServer((s) => { track(s); s.end() })
  const rst = net.createServer((s) => { track(s); s.resetAndDestroy() })
  const ending = (into: Set<string>) => net.createServer((s) => {
    track(s)
    s.on('data', () => s.write('+PONG\r\n'))
    s.on('end', () => into.add('FIN'))
    s.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ECONNRESET') into.add('RST') })
  })
  servers.push(plain, fin, rst, ending(closes.linger), ending(closes.nolinger))
  const [tlsPort, plainPort, finPort, rstPort, lingerPort, nolingerPort] = await Promise.all(servers.map(listen))
  return {
    ports: { tls: tlsPort!, plain: plainPort!, fin: finPort!, rst: rstPort!, linger: lingerPort!, nolinger: nolingerPort! },
    handshakes,
    firstBytes,
    closes,
    close: async () => {
      for (const s of sockets) s.destroy()
      await Promise.all(servers.map(async s => await new Promise(resolve => s.close(resolve))))
    }
  }
}

function config (p: Upstreams['ports']) {
  const tcpCheck = (name: string, lines: string[], server: string): string =>
    `backend ${name}\n    option tcp-check\n` + lines.map(l => `    tcp-check ${l}\n`).join('') + `    server s ${server} check verify none\n`
  return (port: number): string =>
    'global\n    log stdout format raw local0\n' +
    'defaults\n    mode tcp\n    log global\n    option log-health-checks\n    timeout client 3s\n    timeout server 3s\n    timeout connect 1s\n' +
    '    default-server inter 1s fall 1 rise 1\n' +
    tcpCheck('ssl_sni_alpn', [`connect port ${p.tls} ssl sni port.example alpn http/1.1`], `127.0.0.1:${p.plain}`) +
    `backend dflt\n    option tcp-check\n    tcp-check connect default\n    server s 127.0.0.1:1 check check-ssl check-sni dflt.example port ${p.tls} verify none\n` +
    // without `default` a connect is plain, whatever check-ssl says
    `backend plain_connect\n    option tcp-check\n    tcp-check connect\n    tcp-check send PING\\r\\n\n    tcp-check expect string PONG\n    server s 127.0.0.1:${p.plain} check check-ssl verify none\n` +
    tcpCheck('addr', [`connect addr 127.0.0.1 port ${p.tls} ssl`], '127.0.0.2:1') +
    tcpCheck('two', [`connect port ${p.plain}`, 'send PING\\r\\n', 'expect string PONG', `connect port ${p.tls} ssl`], '127.0.0.1:1') +
    tcpCheck('two_plain', [`connect port ${p.plain}`, 'send PING\\r\\n', 'expect string PONG', `connect port ${p.plain}`], '127.0.0.1:1') +
    tcpCheck('fin', ['connect ssl'], `127.0.0.1:${p.fin}`) +
    tcpCheck('rst', ['connect ssl'], `127.0.0.1:${p.rst}`) +
    tcpCheck('later', [`connect port ${p.plain}`, 'send PING\\r\\n', 'expect string PONG', `connect port ${p.fin} ssl`], '127.0.0.1:1') +
    tcpCheck('proxy', ['connect send-proxy', 'send PING\\r\\n', 'expect string PONG'], `127.0.0.1:${p.plain}`) +
    tcpCheck('linger', ['connect linger', 'send PING\\r\\n', 'expect string PONG'], `127.0.0.1:${p.linger}`) +
    tcpCheck('nolinger', ['connect', 'send PING\\r\\n', 'expect string PONG'], `127.0.0.1:${p.nolinger}`) +
    `listen front\n    bind 127.0.0.1:${port}\n    server x 127.0.0.1:1\n`
}

const BACKENDS = ['ssl_sni_alpn', 'dflt', 'plain_connect', 'addr', 'two', 'two_plain', 'fin', 'rst', 'later', 'proxy', 'linger', 'nolinger']

/** The first check line of each backend, its duration left out. */
async function firstLines (p: Proxied): Promise<Record<string, string>> {
  const end = Date.now() + 15_000
  for (;;) {
    const lines: Record<string, string> = {}
    for (const line of p.output().split('\n')) {
      const m = /^Health check for server ([^/]+)\/s (.*)$/.exec(line)
      if (m !== null && lines[m[1]!] === undefined) lines[m[1]!] = m[2]!.replace(/check duration: \d+ms/, 'check duration: Nms')
    }
    if (BACKENDS.every(b => lines[b] !== undefined)) return lines
    if (Date.now() > end) throw new Error(`not every backend was checked:\n${p.output()}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

const up6 = 'succeeded, reason: Layer6 check passed, info: "(tcp-check)", check duration: Nms, status: 1/1 UP.'
const up7 = 'succeeded, reason: Layer7 check passed, code: 0, info: "(tcp-check)", check duration: Nms, status: 1/1 UP.'
const down6 = (info: string): string => `failed, reason: Layer6 invalid response, info: "${info}", check duration: Nms, status: 0/1 DOWN.`

test('tcp-check connect ssl|sni|alpn|port|addr|default|send-proxy|linger: the lines HAProxy 2.6 logs, and what the servers see', async (t) => {
  const ca = makeCa()
  const pem = makeLeaf(ca, join(ca.dir, 'srv.pem'), 'srv.example').pem
  const up = await upstreams(pem)
  const ours = await startProxy('ours', config(up.ports))
  t.after(async () => { await ours.stop(); await up.close(); rmSync(ca.dir, { recursive: true, force: true }) })
  const lines = await firstLines(ours)
  // the reset is named when it is read before the handshake fails otherwise: HAProxy 2.6.12 logs either too
  assert.match(lines.rst!, /^failed, reason: Layer6 invalid response, info: "SSL handshake failure( \(Connection reset by peer\))? at step 1 of tcp-check \(connect\)"/)
  delete lines.rst
  assert.deepEqual(lines, {
    ssl_sni_alpn: up6,
    dflt: up6,
    plain_connect: up7,
    addr: up6,
    // the last step decides the layer
    two: up6,
    two_plain: 'succeeded, reason: Layer4 check passed, info: "(tcp-check)", check duration: Nms, status: 1/1 UP.',
    fin: down6('SSL handshake failure at step 1 of tcp-check (connect)'),
    later: down6(`SSL handshake failure at step 4 of tcp-check (connect port ${up.ports.fin})`),
    proxy: up7,
    linger: up7,
    nolinger: up7
  })
  for (const h of ['port.example http/1.1', 'dflt.example -', '- -']) assert.ok(up.handshakes.has(h), `handshake ${h} in ${[...up.handshakes].join(', ')}`)
  assert.ok(up.firstBytes.has(`PROXY TCP4 127.0.0.1 127.0.0.1 <port> ${up.ports.plain}\r\n`) || up.firstBytes.has(`PROXY TCP4 127.0.0.1 127.0.0.1 <port> ${up.ports.plain}\r\nPING\r\n`))
  assert.ok(up.firstBytes.has('PING\r\n'), 'a plain connect on a check-ssl server')
  const closed = async (): Promise<void> => {
    const end = Date.now() + 5000
    while ((up.closes.linger.size === 0 || up.closes.nolinger.size === 0) && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 50))
  }
  await closed()
  assert.deepEqual([...up.closes.linger], ['FIN'])
  assert.deepEqual([...up.closes.nolinger], ['RST'])
})

test('real HAProxy and ours: the same check lines and the same handshakes for the same tcp-check connect options', { skip: skipWithoutHaproxy }, async (t) => {
  const ca = makeCa()
  const pem = makeLeaf(ca, join(ca.dir, 'srv.pem'), 'srv.example').pem
  const seen = async (label: 'haproxy' | 'ours'): Promise<{ lines: Record<string, string>, handshakes: string[], firstBytes: string[] }> => {
    const up = await upstreams(pem)
    const p = await startProxy(label, config(up.ports))
    try {
      const lines = await firstLines(p)
      return { lines, handshakes: [...up.handshakes].sort(), firstBytes: [...up.firstBytes].map(b => b.replace(/PING\r\n$/, '')).filter(b => b !== '').sort() }
    } finally {
      await p.stop()
      await up.close()
    }
  }
  t.after(() => rmSync(ca.dir, { recursive: true, force: true }))
  const theirs = await seen('haproxy')
  const ours = await seen('ours')
  // HAProxy names the reset of a server cutting the handshake only when it reads it before its
  // own error (both seen on 2.6.12); ours always does
  for (const lines of [theirs.lines, ours.lines]) {
    assert.match(lines.rst!, /info: "SSL handshake failure( \(Connection reset by peer\))? at step 1 of tcp-check \(connect\)"/)
    delete lines.rst
  }
  // ports differ between the two runs
  const portless = (v: { lines: Record<string, string>, handshakes: string[], firstBytes: string[] }): unknown => JSON.parse(JSON.stringify(v).replace(/port \d+/g, 'port N').replace(/ \d+\\r\\n/g, ' N\\r\\n'))
  assert.deepEqual(portless(ours), portless(theirs))
})
