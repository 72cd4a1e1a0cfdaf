// `mode tcp` served by the CLI (lib/tcp): balancing over real TCP upstreams, streaming with
// half-close, tcp-request rules (connection, content with inspect-delay, SNI routing for TLS
// passthrough), maxconn queues, timeouts, TCP health-check scripts, and the stats CSV; then the
// same configs against real HAProxy where the comparison is the point.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import tls from 'node:tls'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startProxy, startRawUpstream, skipWithoutHaproxy, startBoth } from '../differential/harness.js'
import { cli, waitForSocket } from '../socket/client.js'
import { waitFor } from '../gateway/fixtures.js'
import { TCP_DEFAULTS, echo, exchange } from './fixtures.js'
import { fetchCsvRows } from '../stats/views.js'

/** Resolves with what arrived before the proxy closed the connection (empty when refused). */
async function closedWith (port: number, data: string | Buffer | null, opts: { keepOpen?: boolean } = {}): Promise<string> {
  return await new Promise((resolve) => {
    let got = ''
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    s.on('data', c => { got += c.toString('latin1') })
    s.on('end', () => s.end())
    s.on('close', () => resolve(got))
    s.on('error', () => {})
    if (data !== null) s.write(data)
    if (opts.keepOpen !== true && data !== null) s.end()
  })
}

test('roundrobin with weights, over TCP; the reply streams back and the half-close reaches both ends', async (t) => {
  const [a, b] = await Promise.all([echo('a'), echo('b')])
  const gw = await startProxy('ours', port => TCP_DEFAULTS + `listen l\n    bind 127.0.0.1:${port}\n    balance roundrobin\n    server a 127.0.0.1:${a.port} weight 1\n    server b 127.0.0.1:${b.port} weight 2\n`)
  t.after(async () => { await gw.stop(); await a.close(); await b.close() })
  const who: string[] = []
  for (let i = 0; i < 6; i++) who.push((await exchange(gw.port)).toString().split(':')[0]!)
  assert.deepEqual(who.slice().sort(), ['a', 'a', 'b', 'b', 'b', 'b'])
  // 8 MiB through, both ways: streamed with back-pressure
  const big = Buffer.alloc(8 << 20, 'x')
  const back = await exchange(gw.port, big)
  assert.equal(back.length, big.length + 2)
})

test('tcp-request connection reject, content rules with inspect-delay, use_backend on the TLS SNI (passthrough)', async (t) => {
  const [one, two, dflt] = await Promise.all([echo('one'), echo('two'), echo('default')])
  const gw = await startProxy('ours', port => TCP_DEFAULTS +
    `frontend fe\n    bind 127.0.0.1:${port}\n    tcp-request inspect-delay 2s\n` +
    '    tcp-request connection reject if { src 10.0.0.0/8 }\n' +
    '    tcp-request content reject if { req.payload(0,4) -m str QUIT }\n' +
    '    tcp-request content accept if { req_ssl_hello_type 1 }\n' +
    '    tcp-request content accept if { req.len ge 5 }\n' +
    '    use_backend one if { req_ssl_sni -i one.example }\n' +
    '    use_backend two if { req.ssl_sni -m end .two.example }\n' +
    '    default_backend dflt\n' +
    `backend one\n    server s 127.0.0.1:${one.port}\nbackend two\n    server s 127.0.0.1:${two.port}\nbackend dflt\n    server s 127.0.0.1:${dflt.port}\n`)
  t.after(async () => { await gw.stop(); await one.close(); await two.close(); await dflt.close() })

  const ups = { one, two, default: dflt }
  /** Which upstream a TLS ClientHello for `servername` reached (they are not TLS servers: the handshake then fails). */
  const sni = async (servername: string): Promise<string> => {
    const before = Object.fromEntries(Object.entries(ups).map(([k, u]) => [k, u.connections()]))
    await new Promise<void>((resolve) => {
      const sock = tls.connect({ port: gw.port, host: '127.0.0.1', servername, rejectUnauthorized: false })
      sock.on('error', () => resolve())
      sock.on('close', () => resolve())
    })
    await waitFor(() => Object.entries(ups).some(([k, u]) => u.connections() > before[k]!), 'the hello to reach an upstream')
    return Object.entries(ups).find(([k, u]) => u.connections() > before[k]!)![0]
  }
  assert.equal(await sni('one.example'), 'one')
  assert.equal(await sni('www.two.example'), 'two')
  assert.equal(await sni('three.example'), 'default')
  // plain text: accepted once 5 bytes are there, whatever the pace
  assert.equal((await closedWith(gw.port, 'hello world')).split(':')[0], 'default')
  assert.equal(await closedWith(gw.port, 'QUIT now'), '', 'rejected on its first bytes')
})

test('server maxconn: the second connection waits in the queue until the first ends', async (t) => {
  const up = await echo('s')
  const sock = join(mkdtempSync(join(tmpdir(), 'tcp-queue-')), 'admin.sock')
  const gw = await startProxy('ours', port => `global\n    stats socket ${sock} level admin\n` + TCP_DEFAULTS + `listen l\n    bind 127.0.0.1:${port}\n    timeout queue 5s\n    server s 127.0.0.1:${up.port} maxconn 1\n`)
  t.after(async () => { await gw.stop(); await up.close() })
  await waitForSocket(sock)
  const queued = async (): Promise<number> => Number((await cli(sock, 'show stat -1 2 -1\n')).split('\n').find(l => l.startsWith('l,BACKEND,'))?.split(',')[2])
  // the harness's readiness probe made one connection already
  await waitFor(() => up.connections() >= 1, 'the probe connection to end')
  const before = up.connections()
  const first = net.connect(gw.port, '127.0.0.1')
  first.on('error', () => {})
  await new Promise<void>(resolve => first.once('data', () => resolve()))
  let secondGot = ''
  const second = net.connect(gw.port, '127.0.0.1')
  second.on('data', d => { secondGot += d })
  second.on('error', () => {})
  // the backend's queue (qcur) says the gateway holds the second connection back
  await waitFor(async () => await queued() === 1, 'the second connection to wait in the queue')
  assert.equal(secondGot, '', 'queued while the first holds the only slot')
  assert.equal(up.connections(), before + 1)
  first.end()
  await waitFor(() => secondGot.startsWith('s:'), 'the queued connection to reach the server')
  second.destroy()
})

test('timeout client closes an idle connection; the server side is closed with it', async (t) => {
  let upstreamClosed = false
  const up = await startRawUpstream((s) => { s.on('close', () => { upstreamClosed = true }) })
  const gw = await startProxy('ours', port => 'defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 300ms\n    timeout server 10s\n' +
    `listen l\n    bind 127.0.0.1:${port}\n    server s 127.0.0.1:${up.port}\n`)
  t.after(async () => { await gw.stop(); await up.close() })
  const started = Date.now()
  await closedWith(gw.port, 'x', { keepOpen: true })
  assert.ok(Date.now() - started >= 250, 'not before the timeout')
  await waitFor(() => upstreamClosed, 'the server connection to close')
})

test('tcp-check scripts and redis-check take servers down and up; the CSV counts the TCP proxies', async (t) => {
  let healthy = true
  const redis = await startRawUpstream((s) => { s.on('data', () => { s.end(healthy ? '+PONG\r\n' : '-ERR loading\r\n') }) })
  const banner = await startRawUpstream((s) => { s.write('220 ready\r\n'); s.on('data', d => { if (String(d).startsWith('PING')) s.end('OK\r\n') }) })
  const refusing = await startRawUpstream((s) => { s.end('554 go away\r\n') })
  const gw = await startProxy('ours', port => TCP_DEFAULTS +
    `listen stats\n    mode http\n    bind 127.0.0.1:${port}\n    stats enable\n    stats uri /stats\n` +
    `backend redis\n    option redis-check\n    server r 127.0.0.1:${redis.port} check inter 200 fall 1 rise 1\n` +
    `backend scripted\n    option tcp-check\n    tcp-check expect string 220\n    tcp-check send PING\\r\\n\n    tcp-check expect string OK\n    server s 127.0.0.1:${banner.port} check inter 200 fall 1 rise 1\n` +
    `    server bad 127.0.0.1:${refusing.port} check inter 200 fall 1 rise 1\n`)
  t.after(async () => { await gw.stop(); await redis.close(); await banner.close(); await refusing.close() })
  const csv = async (): Promise<Map<string, Record<string, string>>> => await fetchCsvRows(gw.port)
  const status = async (row: string): Promise<string> => (await csv()).get(row)?.status ?? ''
  await waitFor(async () => (await status('redis/r')) === 'UP', 'redis r up with +PONG')
  await waitFor(async () => (await status('scripted/s')) === 'UP', 'the scripted check to pass on s')
  await waitFor(async () => (await status('scripted/bad')) === 'DOWN', 'the scripted check to fail on bad')
  const bad = (await csv()).get('scripted/bad')!
  assert.equal(bad.check_status, 'L7RSP')
  assert.match(bad.last_chk ?? '', /TCPCHK did not match content '220' at step 1/)
  healthy = false
  await waitFor(async () => (await status('redis/r')) === 'DOWN', 'redis r down on -ERR')
  const rows = await csv()
  assert.equal(rows.get('redis/BACKEND')?.mode, 'tcp')
})

test('real HAProxy and ours: the same order over weighted roundrobin, and the same verdicts of tcp-request rules', { skip: skipWithoutHaproxy }, async (t) => {
  const ups = await Promise.all(['a', 'b', 'c'].map(async n => await echo(n)))
  const both = await startBoth(port => TCP_DEFAULTS +
    `frontend fe\n    bind 127.0.0.1:${port}\n    tcp-request inspect-delay 1s\n` +
    '    tcp-request content reject if { req.payload(0,3) -m str BAD }\n' +
    '    tcp-request content accept if { req.len ge 4 }\n' +
    '    default_backend be\n' +
    `backend be\n    balance roundrobin\n` + ups.map((u, i) => `    server ${['a', 'b', 'c'][i]} 127.0.0.1:${u.port} weight ${i + 1}\n`).join(''))
  t.after(async () => { await both.stop(); for (const u of ups) await u.close() })
  const order = async (port: number): Promise<string[]> => {
    const out: string[] = []
    for (let i = 0; i < 12; i++) out.push((await exchange(port, 'ping')).toString().split(':')[0]!)
    return out
  }
  assert.deepEqual(await order(both.ours.port), await order(both.haproxy.port))
  assert.equal(await closedWith(both.ours.port, 'BAD request'), await closedWith(both.haproxy.port, 'BAD request'))
})

test('send-proxy and send-proxy-v2: the server connection starts with the PROXY header of the client connection', async (t) => {
  const first: Buffer[] = []
  const up = await startRawUpstream((s) => { s.once('data', d => { first.push(d); s.end() }) })
  const gw = await startProxy('ours', port => TCP_DEFAULTS + `frontend fe\n    bind 127.0.0.1:${port}\n    use_backend v2 if { req.len ge 2 } { req.payload(0,2) -m str v2 }\n    tcp-request inspect-delay 1s\n    tcp-request content accept if { req.len ge 2 }\n    default_backend v1\n` +
    `backend v1\n    server s 127.0.0.1:${up.port} send-proxy\nbackend v2\n    server s 127.0.0.1:${up.port} send-proxy-v2\n`)
  t.after(async () => { await gw.stop(); await up.close() })
  const client = net.connect(gw.port, '127.0.0.1')
  client.on('error', () => {})
  await new Promise<void>(resolve => client.once('connect', () => resolve()))
  const clientPort = client.localPort!
  client.write('v1 data')
  // (the harness's readiness probe made a connection of its own before)
  const line = `PROXY TCP4 127.0.0.1 127.0.0.1 ${clientPort} ${gw.port}\r\n`
  await waitFor(() => first.some(b => b.toString('latin1').startsWith(line)), 'the v1 header')
  assert.equal(first.find(b => b.toString('latin1').startsWith(line))!.toString('latin1').slice(0, line.length), line)
  client.destroy()
  const c2 = net.connect(gw.port, '127.0.0.1')
  c2.on('error', () => {})
  c2.write('v2 data')
  await waitFor(() => first.some(b => b[0] === 0x0d), 'the v2 header')
  const v2 = first.find(b => b[0] === 0x0d)!
  assert.equal(v2.subarray(0, 12).toString('hex'), '0d0a0d0a000d0a515549540a')
  assert.equal(v2[12], 0x21)
  assert.equal(v2[13], 0x11)
  assert.equal(v2.readUInt16BE(14), 12)
  assert.equal(v2.subarray(16, 24).toString('hex'), '7f0000017f000001')
  assert.equal(v2.readUInt16BE(26), gw.port)
  c2.destroy()
})
