// TLS terminated on a `mode tcp` bind (`bind … ssl crt …`): the certificate the SNI picks, the
// clear stream to the server with half-close, `tcp-request content` rules on the deciphered
// bytes and on `ssl_fc*`, and the same exchanges against real HAProxy on the same certificates.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import tls from 'node:tls'
import net from 'node:net'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { makeCa, makeLeaf } from '../tls/certs.js'
import { startProxy, skipWithoutHaproxy, startBoth, type Proxied } from '../differential/harness.js'
import { TCP_DEFAULTS, echo } from './fixtures.js'

interface Outcome { cn: string, alpn: string | false, got: string }

/** A TLS client: sends `data`, half-closes, and reads until the proxy closes; '' when cut. */
async function tlsExchange (port: number, servername: string, data: string, alpn?: string[]): Promise<Outcome> {
  return await new Promise((resolve) => {
    let got = ''
    let cn = ''
    let proto: string | false = false
    // node's TLS client keeps its side open after the server's end with allowHalfOpen (not in its typings)
    const options = { port, host: '127.0.0.1', servername, rejectUnauthorized: false, allowHalfOpen: true, ...(alpn !== undefined ? { ALPNProtocols: alpn } : {}) } as tls.ConnectionOptions
    const s = tls.connect(options, () => {
      cn = String(s.getPeerCertificate().subject?.CN ?? '')
      proto = s.alpnProtocol ?? false
      s.end(data)
    })
    s.on('data', d => { got += d.toString('latin1') })
    s.on('end', () => s.end())
    s.on('error', () => {})
    s.on('close', () => resolve({ cn, alpn: proto, got }))
  })
}

function config (dir: string, ports: { a: number, b: number, h2: number }) {
  return (port: number): string => TCP_DEFAULTS +
    `listen tls\n    bind 127.0.0.1:${port} ssl crt ${join(dir, 'a.pem')} crt ${join(dir, 'b.pem')} alpn h2,x-demo\n` +
    '    tcp-request inspect-delay 2s\n' +
    '    tcp-request content reject if !{ ssl_fc }\n' +
    '    tcp-request content reject if { req.payload(0,4) -m str QUIT }\n' +
    '    tcp-request content accept if { req.len ge 5 }\n' +
    '    use_backend b if { ssl_fc_sni -i b.example }\n' +
    '    use_backend h2 if { ssl_fc_alpn h2 }\n' +
    `    server a 127.0.0.1:${ports.a}\n` +
    `backend b\n    server b 127.0.0.1:${ports.b}\n` +
    `backend h2\n    server h2 127.0.0.1:${ports.h2}\n`
}

test('bind ssl in mode tcp: deciphered, routed on ssl_fc_sni / ssl_fc_alpn, content rules on the clear bytes, half-close both ways', async (t) => {
  const ca = makeCa()
  makeLeaf(ca, join(ca.dir, 'a.pem'), 'a.example', ['a.example'])
  makeLeaf(ca, join(ca.dir, 'b.pem'), 'b.example', ['b.example'])
  const [a, b, h2] = await Promise.all([echo('a'), echo('b'), echo('h2')])
  const gw = await startProxy('ours', config(ca.dir, { a: a.port, b: b.port, h2: h2.port }))
  t.after(async () => { await gw.stop(); await a.close(); await b.close(); await h2.close(); rmSync(ca.dir, { recursive: true, force: true }) })
  assert.deepEqual(await tlsExchange(gw.port, 'a.example', 'hello'), { cn: 'a.example', alpn: false, got: 'a:hello' })
  assert.deepEqual(await tlsExchange(gw.port, 'b.example', 'hello there'), { cn: 'b.example', alpn: false, got: 'b:hello there' })
  assert.deepEqual(await tlsExchange(gw.port, 'a.example', 'hello', ['h2']), { cn: 'a.example', alpn: 'h2', got: 'h2:hello' })
  // the rules read the deciphered stream
  assert.equal((await tlsExchange(gw.port, 'a.example', 'QUIT now')).got, '')
  // a clear client on the TLS bind never reaches a server
  const clear = await new Promise<string>((resolve) => {
    let got = ''
    const s = net.connect(gw.port, '127.0.0.1', () => s.write('hello world\r\n'))
    s.on('data', d => { got += d.toString('latin1') })
    s.on('error', () => {})
    s.on('close', () => resolve(got))
  })
  assert.ok(!clear.includes('hello'), 'nothing of the clear bytes echoed back')
})

test('real HAProxy and ours terminate TLS in mode tcp alike (certificate, ALPN, route, rule verdicts)', { skip: skipWithoutHaproxy }, async (t) => {
  const ca = makeCa()
  makeLeaf(ca, join(ca.dir, 'a.pem'), 'a.example', ['a.example'])
  makeLeaf(ca, join(ca.dir, 'b.pem'), 'b.example', ['b.example'])
  const [a, b, h2] = await Promise.all([echo('a'), echo('b'), echo('h2')])
  const both = await startBoth(config(ca.dir, { a: a.port, b: b.port, h2: h2.port }))
  t.after(async () => { await both.stop(); await a.close(); await b.close(); await h2.close(); rmSync(ca.dir, { recursive: true, force: true }) })
  const run = async (p: Proxied): Promise<Outcome[]> => [
    await tlsExchange(p.port, 'a.example', 'hello'),
    await tlsExchange(p.port, 'b.example', 'hello there'),
    await tlsExchange(p.port, 'unknown.example', 'hello', ['x-demo', 'h2']),
    await tlsExchange(p.port, 'b.example', 'hi', ['h2']),
    await tlsExchange(p.port, 'a.example', 'QUIT now')
  ]
  assert.deepEqual(await run(both.ours), await run(both.haproxy))
})

test('accept-proxy on a TLS bind in mode tcp: the PROXY line comes before the handshake, the rules see its source', async (t) => {
  const ca = makeCa()
  makeLeaf(ca, join(ca.dir, 'a.pem'), 'a.example', ['a.example'])
  const a = await echo('a')
  const gw = await startProxy('ours', port => TCP_DEFAULTS +
    `listen tls\n    bind 127.0.0.1:${port} accept-proxy ssl crt ${join(ca.dir, 'a.pem')}\n` +
    '    tcp-request content reject if !{ src 10.1.2.3 }\n' +
    `    server a 127.0.0.1:${a.port}\n`)
  t.after(async () => { await gw.stop(); await a.close(); rmSync(ca.dir, { recursive: true, force: true }) })
  const through = async (source: string): Promise<string> => await new Promise((resolve) => {
    const raw = net.connect(gw.port, '127.0.0.1', () => {
      raw.write(`PROXY TCP4 ${source} 127.0.0.1 40000 443\r\n`)
      let got = ''
      const s = tls.connect({ socket: raw, servername: 'a.example', rejectUnauthorized: false }, () => { s.end('hello') })
      s.on('data', d => { got += d.toString('latin1') })
      s.on('error', () => {})
      s.on('close', () => resolve(got))
    })
    raw.on('error', () => resolve(''))
  })
  assert.equal(await through('10.1.2.3'), 'a:hello')
  assert.equal(await through('10.9.9.9'), '')
})
