// TLS termination side by side with real HAProxy on the same config and certificates: the
// certificate served per SNI name, the protocol version and ALPN negotiated, strict-sni and
// crt-list filters, client certificates, and what the ssl_* fetches put in the request.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ConnectionOptions } from 'node:tls'
import type https from 'node:https'
import { startBoth, startUpstream, head, skipWithoutHaproxy, type Upstream, type Seen } from './harness.js'
import { makeCa, makeLeaf, type Ca, type Leaf } from '../tls/certs.js'
import { handshake, httpsGet, h2Requests } from '../tls/helpers.js'

/** What a handshake gave, or the fact that it failed (the error texts differ between the two). */
async function outcome (port: number, name: string, opts: ConnectionOptions = {}): Promise<string> {
  try {
    const h = await handshake(port, name, opts)
    return `${h.cn} ${String(h.protocol)} ${String(h.alpn)}`
  } catch {
    return 'refused'
  }
}

/** The headers the rules set, as the server received them. */
function ruleHeaders (text: string): Record<string, string> {
  const seen = JSON.parse(text) as Seen
  return Object.fromEntries(seen.headers.filter(([k]) => k.startsWith('x-') || k === 'host'))
}

const FETCH_RULES = `    http-request set-header X-Proto https if { ssl_fc }
    http-request set-header X-SNI %[ssl_fc_sni]
    http-request set-header X-TLS %[ssl_fc_protocol]/%[ssl_fc_alpn]/%[ssl_fc_has_sni]/%[req.ver]
    http-request set-header X-Client %[ssl_c_used]/%[ssl_fc_has_crt]/%[ssl_c_verify]/%[ssl_c_s_dn]/%[ssl_c_s_dn(CN)]/%[ssl_c_i_dn]/%[ssl_c_serial,hex]
    http-request set-header X-Front %[ssl_f_s_dn]/%[ssl_f_i_dn(CN)]/%[ssl_f_s_dn(,0,rfc2253)]
    http-response set-header Strict-Transport-Security max-age=31536000 if { ssl_fc }
`

describe('differential: TLS on binds', { skip: skipWithoutHaproxy }, () => {
  let ca: Ca
  let client: Leaf
  let stranger: Leaf
  let app: Upstream
  let sni: Awaited<ReturnType<typeof startBoth>>
  let strict: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    ca = makeCa()
    const dir = ca.dir
    makeLeaf(ca, join(dir, 'default.pem'), 'default.test')
    mkdirSync(join(dir, 'certs'))
    makeLeaf(ca, join(dir, 'certs', '10-a.pem'), 'a.test', ['a.test', 'www.a.test'], { separateKey: true })
    makeLeaf(ca, join(dir, 'certs', '20-b.pem'), 'wild.b.test', ['*.b.test'])
    makeLeaf(ca, join(dir, 'certs', '30-cn-only.pem'), 'cn.test')
    makeLeaf(ca, join(dir, 'certs', '40-also-a.pem'), 'second.a.test', ['a.test'])
    makeLeaf(ca, join(dir, 'listed.pem'), 'listed.test', ['listed.test', 'other.test', 'bad.other.test'])
    makeLeaf(ca, join(dir, 'plain.pem'), 'plain.test', ['plain.test'])
    writeFileSync(join(dir, 'list.txt'), `${join(dir, 'listed.pem')} other.test !bad.other.test\n${join(dir, 'plain.pem')}\n`)
    client = makeLeaf(ca, join(dir, 'client.pem'), 'alice', [], { client: true, serial: '4660' })
    stranger = makeLeaf(makeCa('Other CA'), join(dir, 'stranger.pem'), 'mallory', [], { client: true })
    app = await startUpstream('app')
    sni = await startBoth(port => `${head()}
frontend fe
    bind 127.0.0.1:${port} ssl crt ${join(dir, 'default.pem')} crt ${join(dir, 'certs')} alpn h2,http/1.1
${FETCH_RULES}    default_backend app
backend app
    server app1 127.0.0.1:${app.port}
`)
    strict = await startBoth(port => `${head()}
frontend fe
    bind 127.0.0.1:${port} ssl crt-list ${join(dir, 'list.txt')} strict-sni verify optional ca-file ${ca.cert} ssl-max-ver TLSv1.2
${FETCH_RULES}    default_backend app
backend app
    server app1 127.0.0.1:${app.port}
`)
  })
  after(async () => { await sni?.stop(); await strict?.stop(); await app?.close() })

  const names = ['a.test', 'WWW.A.TEST', 'x.b.test', 'y.x.b.test', 'b.test', 'cn.test', 'unknown.test', '']
  for (const name of names) {
    test(`certificate, version and ALPN for SNI '${name}'`, async () => {
      for (const opts of [{}, { ALPNProtocols: ['h2', 'http/1.1'] }, { ALPNProtocols: ['http/1.1'] }, { maxVersion: 'TLSv1.2' as const }, { maxVersion: 'TLSv1.1' as const, minVersion: 'TLSv1' as const }]) {
        assert.equal(await outcome(sni.ours.port, name, opts), await outcome(sni.haproxy.port, name, opts), JSON.stringify(opts))
      }
    })
  }

  test('crt-list with SNI filters, strict-sni, ssl-max-ver', async () => {
    for (const name of ['listed.test', 'other.test', 'bad.other.test', 'plain.test', 'unknown.test', '']) {
      assert.equal(await outcome(strict.ours.port, name), await outcome(strict.haproxy.port, name), name)
      // no `alpn` on the line: no protocol negotiated, whatever the client offers
      const offer = { ALPNProtocols: ['h2', 'http/1.1'] }
      assert.equal(await outcome(strict.ours.port, name, offer), await outcome(strict.haproxy.port, name, offer), `${name} with ALPN offered`)
    }
  })

  test('fetches over HTTPS/1.1 and HTTP/2, HSTS', async () => {
    for (const [name, alpn] of [['www.a.test', ['http/1.1']], ['x.b.test', undefined], ['', ['http/1.1']]] as const) {
      const opts = { ...(name !== '' ? { servername: name } : {}), ...(alpn !== undefined ? { ALPNProtocols: [...alpn] } : {}), headers: { host: 'site.test' } } as https.RequestOptions
      const theirs = await httpsGet(sni.haproxy.port, '/p', opts)
      const ours = await httpsGet(sni.ours.port, '/p', opts)
      assert.equal(ours.status, theirs.status)
      assert.equal(ours.headers['strict-transport-security'], theirs.headers['strict-transport-security'])
      assert.deepEqual(ruleHeaders(ours.text), ruleHeaders(theirs.text), name)
    }
    const [theirs] = await h2Requests(`https://127.0.0.1:${sni.haproxy.port}`, [{ path: '/h2' }], { servername: 'a.test' })
    const [ours] = await h2Requests(`https://127.0.0.1:${sni.ours.port}`, [{ path: '/h2' }], { servername: 'a.test' })
    assert.equal(ours!.status, theirs!.status)
    assert.equal(ours!.headers['strict-transport-security'], theirs!.headers['strict-transport-security'])
    const strip = (h: Record<string, string>): Record<string, string> => ({ ...h, host: h.host?.replace(/:\d+$/, '') ?? '' })
    assert.deepEqual(strip(ruleHeaders(ours!.text)), strip(ruleHeaders(theirs!.text)))
  })

  test('client certificates with verify optional: none, signed by the CA, a stranger', async () => {
    const opts = (leaf?: Leaf): https.RequestOptions => ({ servername: 'other.test', headers: { host: 'site.test' }, ...(leaf !== undefined ? { cert: leaf.certOnly, key: leaf.key } : {}) })
    for (const leaf of [undefined, client]) {
      const theirs = await httpsGet(strict.haproxy.port, '/c', opts(leaf))
      const ours = await httpsGet(strict.ours.port, '/c', opts(leaf))
      assert.deepEqual(ruleHeaders(ours.text), ruleHeaders(theirs.text))
    }
    const refused = async (port: number): Promise<boolean> => await httpsGet(port, '/c', opts(stranger)).then(() => false, () => true)
    assert.equal(await refused(strict.ours.port), await refused(strict.haproxy.port))
  })
})
