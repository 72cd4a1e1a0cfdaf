// The ClientHello fetches of TLS-inspecting `mode tcp` listeners (§7.3.5): `req.ssl_alpn` (any
// protocol for an ACL, the first one for a sample expression, as observed on HAProxy 2.6),
// `req.ssl_ec_ext`, `req.ssl_st_ext`, beside `req.ssl_sni`; the same routes on real HAProxy.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import tls from 'node:tls'
import { constants } from 'node:crypto'
import { startProxy, startRawUpstream, skipWithoutHaproxy, startBoth, type Proxied } from '../differential/harness.js'

const DEFAULTS = 'defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n'
const NAMES = ['h2', 'len8', 'len1', 'noalpn', 'ec', 'st0', 'st1', 'other'] as const

/** Upstreams that are not TLS servers: each counts the hellos it received, then closes. */
async function upstreams (): Promise<{ ports: Record<string, number>, hits: Record<string, number>, close (): Promise<void> }> {
  const hits: Record<string, number> = {}
  const ports: Record<string, number> = {}
  const ups = await Promise.all(NAMES.map(async (n) => {
    hits[n] = 0
    const up = await startRawUpstream((s) => { hits[n]!++; s.destroy() })
    ports[n] = up.port
    return up
  }))
  return { ports, hits, close: async () => { for (const u of ups) await u.close() } }
}

function config (ports: Record<string, number>, route: string) {
  return (port: number): string => DEFAULTS +
    `listen l\n    bind 127.0.0.1:${port}\n    tcp-request inspect-delay 2s\n` +
    '    tcp-request content accept if { req.ssl_hello_type 1 }\n' + route +
    '    default_backend other\n' +
    NAMES.map(n => `backend ${n}\n    server s 127.0.0.1:${ports[n]!}\n`).join('')
}

const ALPN_ROUTES = '    use_backend noalpn if !{ req.ssl_alpn -m found }\n' +
  '    use_backend h2 if { req.ssl_alpn h2 }\n' +
  '    use_backend len%[req.ssl_alpn,length]\n'
const EXT_ROUTES = '    use_backend ec if { req.ssl_ec_ext } { req.ssl_sni ec.example }\n' +
  '    use_backend st%[req.ssl_st_ext]\n'

/** Which upstream a ClientHello (then a failed handshake) reached. */
async function reached (port: number, hits: Record<string, number>, opts: tls.ConnectionOptions): Promise<string> {
  const before = { ...hits }
  await new Promise<void>((resolve) => {
    const sock = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...opts })
    sock.on('error', () => resolve())
    sock.on('close', () => resolve())
  })
  const end = Date.now() + 10_000
  for (;;) {
    const hit = NAMES.find(n => hits[n]! > before[n]!)
    if (hit !== undefined) return hit
    if (Date.now() > end) return 'none'
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

test('req.ssl_alpn: an ACL matches any offered protocol, an expression reads the first; req.ssl_ec_ext and req.ssl_st_ext', async (t) => {
  const up = await upstreams()
  const alpn = await startProxy('ours', config(up.ports, ALPN_ROUTES))
  const ext = await startProxy('ours', config(up.ports, EXT_ROUTES))
  t.after(async () => { await alpn.stop(); await ext.stop(); await up.close() })
  assert.equal(await reached(alpn.port, up.hits, { ALPNProtocols: ['http/1.1', 'h2'] }), 'h2')
  assert.equal(await reached(alpn.port, up.hits, { ALPNProtocols: ['http/1.1', 'x'] }), 'len8')
  assert.equal(await reached(alpn.port, up.hits, { ALPNProtocols: ['x', 'http/1.1'] }), 'len1')
  assert.equal(await reached(alpn.port, up.hits, {}), 'noalpn')
  // node's client offers supported_groups, and an empty SessionTicket extension unless tickets are off
  assert.equal(await reached(ext.port, up.hits, { servername: 'ec.example' }), 'ec')
  assert.equal(await reached(ext.port, up.hits, {}), 'st1')
  assert.equal(await reached(ext.port, up.hits, { secureOptions: constants.SSL_OP_NO_TICKET }), 'st0')
})

test('real HAProxy and ours route the same ClientHellos alike on req.ssl_alpn, req.ssl_ec_ext and req.ssl_st_ext', { skip: skipWithoutHaproxy }, async (t) => {
  const up = await upstreams()
  const alpn = await startBoth(config(up.ports, ALPN_ROUTES))
  const ext = await startBoth(config(up.ports, EXT_ROUTES))
  t.after(async () => { await alpn.stop(); await ext.stop(); await up.close() })
  const run = async (a: Proxied, e: Proxied): Promise<string[]> => [
    await reached(a.port, up.hits, { ALPNProtocols: ['http/1.1', 'h2'] }),
    await reached(a.port, up.hits, { ALPNProtocols: ['http/1.1', 'x'] }),
    await reached(a.port, up.hits, { ALPNProtocols: ['x', 'http/1.1'] }),
    await reached(a.port, up.hits, {}),
    await reached(e.port, up.hits, { servername: 'ec.example' }),
    await reached(e.port, up.hits, {}),
    await reached(e.port, up.hits, { secureOptions: constants.SSL_OP_NO_TICKET })
  ]
  assert.deepEqual(await run(alpn.ours, ext.ours), await run(alpn.haproxy, ext.haproxy))
})
