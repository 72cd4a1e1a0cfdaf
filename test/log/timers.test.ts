// The timers of a request's line that come before the request: `%Th` (the TLS handshake, on a
// connection's first request only), `%Ti` (idle before the request), `%Tq` = Th + Ti + TR, and
// `%t` as the TCP accept date; `%Tt` is the sum of every phase. Over TLS with the CLI: a client
// that waits before its handshake and before each request makes the times large enough to see.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import { makeCa, makeLeaf } from '../tls/certs.js'
import { sleep, upstream, withGateway } from '../gateway/fixtures.js'
import { syslogServer } from './syslog.js'

/** One GET through `agent`, its body read. */
async function get (agent: https.Agent, port: number, path: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = https.request({ agent, host: '127.0.0.1', port, path, servername: 'site.test', rejectUnauthorized: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

test('%Th, %Ti, %Tq and %t over TLS: the handshake counts on the first request only, %t is the accept', async (t) => {
  const ca = makeCa()
  const pem = join(ca.dir, 'site.pem')
  makeLeaf(ca, pem, 'site.test', ['site.test'])
  const syslog = await syslogServer()
  const up = await upstream('up1')
  t.after(async () => { await up.close(); await syslog.close(); rmSync(ca.dir, { recursive: true, force: true }) })
  await withGateway(join(ca.dir, 'haproxy.cfg'), (port) => `
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port} ssl crt ${pem}
    log 127.0.0.1:${syslog.port} format raw local0
    log-format "%Th %Ti %TR %Tq %Tw %Tc %Tr %Td %Tt %Ts %[date] %HP"
    default_backend be
backend be
    server s1 ${up.addr}
`, async (port) => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 })
    const connected = Date.now()
    // the idle times: the first request leaves 200 ms after the handshake, the second 200 ms after the first answer
    const first = await new Promise<number>((resolve, reject) => {
      const req = https.request({ agent, host: '127.0.0.1', port, path: '/one', servername: 'site.test', rejectUnauthorized: false }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.on('error', reject)
      req.once('socket', (socket) => { socket.once('secureConnect', () => { setTimeout(() => req.end(), 200) }) })
    })
    assert.equal(first, 200)
    await sleep(200)
    assert.equal(await get(agent, port, '/two'), 200)
    agent.destroy()
    // the gateway's readiness probe closed before its handshake: that line is not a request's
    const requests = (): string[] => syslog.lines.filter(l => !l.includes('SSL handshake'))
    for (let n = 1; requests().length < 2; n++) await syslog.wait(n)
    const [one, two] = requests().map(l => l.trim().split(' '))
    const n = (f: string[], i: number): number => Number(f[i])
    for (const f of [one!, two!]) {
      // Tq = Th + Ti + TR, and Tt is every phase added up
      assert.equal(n(f, 3), n(f, 0) + n(f, 1) + n(f, 2), f.join(' '))
      assert.equal(n(f, 8), n(f, 3) + n(f, 4) + n(f, 5) + n(f, 6) + n(f, 7), f.join(' '))
    }
    assert.equal(one![11], '/one')
    assert.ok(n(one!, 1) >= 150, `idle 200 ms before the first request: ${one!.join(' ')}`)
    assert.equal(n(two!, 0), 0, `no handshake on the second request: ${two!.join(' ')}`)
    assert.ok(n(two!, 1) >= 150, `idle 200 ms before the second request: ${two!.join(' ')}`)
    // %Ts is the accept's second, before the handshake started
    assert.ok(Math.abs(n(one!, 9) - Math.floor(connected / 1000)) <= 1, one!.join(' '))
  })
})
