// TLS health checks (§5.2 `check-ssl`, `check-sni`, `check-alpn`, `crt`, `ca-file`, `verify`)
// against a real TLS server on 127.0.0.1 that requires a client certificate signed by its CA and
// records the SNI and ALPN each handshake offered.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import tls from 'node:tls'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { makeCa, makeLeaf } from '../tls/certs.js'
import { backendOf, Log, server } from './helpers.js'
import { waitFor } from '../gateway/fixtures.js'
import { HealthChecker } from '../../lib/runtime/health.js'

test('check-ssl with crt: the client certificate, check-sni and check-alpn reach the server; without crt the server refuses the check', async (t) => {
  const ca = makeCa()
  t.after(() => rmSync(ca.dir, { recursive: true, force: true }))
  const srvLeaf = makeLeaf(ca, join(ca.dir, 'server.pem'), 'check.example')
  const client = makeLeaf(ca, join(ca.dir, 'client.pem'), 'haproxy-client', [], { client: true })
  const seen: Array<{ sni: string | false | null, alpn: string | false | null, peer: string }> = []
  const srv = tls.createServer({
    cert: readFileSync(srvLeaf.pem),
    key: readFileSync(srvLeaf.pem),
    ca: readFileSync(ca.cert),
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: ['h2', 'http/1.1']
  }, (sock) => {
    seen.push({ sni: sock.servername, alpn: sock.alpnProtocol, peer: String(sock.getPeerCertificate().subject?.CN ?? '') })
    sock.on('error', () => {})
    sock.end('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')
  })
  srv.on('tlsClientError', () => {})
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  t.after(() => srv.close())
  const port = (srv.address() as AddressInfo).port
  const log = new Log()
  const be = backendOf([
    'defaults', '  mode http', '  timeout connect 2s', 'backend be', '  option log-health-checks', '  option httpchk',
    // no `ssl` for the traffic: check-ssl alone puts the checks over TLS
    `  server withcrt 127.0.0.1:${port} check check-ssl check-sni check.example check-alpn h2,http/1.1 crt ${client.pem} ca-file ${ca.cert} verify required inter 5s rise 1 fall 1`,
    `  server nocrt 127.0.0.1:${port} check check-ssl ca-file ${ca.cert} verify required inter 5s rise 1 fall 1`,
    ''
  ].join('\n'), log)
  const hc = new HealthChecker([be])
  hc.start()
  t.after(() => hc.stop())
  const withCrt = server(be, 'withcrt')
  const noCrt = server(be, 'nocrt')
  await waitFor(() => withCrt.lastCheck.status !== 'INI' && noCrt.lastCheck.status !== 'INI', 'both checked')
  assert.equal(withCrt.lastCheck.status, 'L7OK')
  assert.equal(withCrt.op, 'up')
  assert.deepEqual(seen, [{ sni: 'check.example', alpn: 'h2', peer: 'haproxy-client' }])
  assert.notEqual(noCrt.lastCheck.status, 'L7OK')
  assert.equal(noCrt.op, 'down')
  assert.ok(log.lines.some(l => l.startsWith('Health check for server be/withcrt succeeded, reason: Layer7 check passed, code: 200, check duration: ')))
})
