// The TLS idioms of real-world configs (our own config text, shaped like them), served by our
// CLI and by real HAProxy on the same certificates, asked with curl: a crt file and a crt
// directory chosen by SNI, routing on ssl_fc_sni, ssl-default-bind-* options, `redirect scheme
// https if !{ ssl_fc }` on the clear bind, HSTS and X-Forwarded-Proto on the TLS one, paths
// relative to crt-base and ca-base, TLSv1.3 only by `no-tlsv12`, SNI routing in TCP mode, a crt-list
// with SNI filters under strict-sni, the `alpn` lists people write, and `ca-file … verify optional`.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { startBoth, startUpstream, freePort, skipWithoutHaproxy, type Upstream, type Seen } from '../differential/harness.js'
import { waitListening } from '../gateway/fixtures.js'
import { makeCa, makeLeaf, type Ca, type Leaf } from './certs.js'
import { curlGet, type CurlAnswer } from './helpers.js'

/** The binds beside the main one, in this order. */
const EXTRA = ['clear', 'strict', 'alpnH2', 'alpnOrder', 'alpnOld', 'mtls'] as const
type Ports = Record<'main' | typeof EXTRA[number], number>

function config (dir: string, ca: Ca, p: Ports, up: Record<string, Upstream>): string {
  return `global
    crt-base ${dir}
    ca-base ${dir}
    ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
    ssl-default-bind-options prefer-client-ciphers no-sslv3 no-tlsv10 no-tlsv11 no-tls-tickets
    tune.ssl.default-dh-param 2048

defaults
    mode http
    option httplog
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend www
    bind 127.0.0.1:${p.clear}
    bind 127.0.0.1:${p.main} ssl crt default.pem crt certs/ alpn h2,http/1.1
    http-request redirect scheme https code 301 if !{ ssl_fc }
    http-request set-header X-Forwarded-Proto https if { ssl_fc }
    http-after-response set-header Strict-Transport-Security "max-age=31536000"
    acl api ssl_fc_sni_end .api.test
    use_backend api if api
    use_backend shop if { ssl_fc_sni shop.test } || { hdr(host) -i www.shop.test }
    default_backend web

frontend listed
    bind 127.0.0.1:${p.strict} ssl strict-sni  alpn h2,http/1.1 crt-list ${join(dir, 'list.txt')}
    option http-keep-alive
    default_backend web

frontend alpn
    bind 127.0.0.1:${p.alpnH2} ssl crt ${join(dir, 'default.pem')} alpn h2
    bind 127.0.0.1:${p.alpnOrder} ssl crt ${join(dir, 'default.pem')} alpn http/1.1,h2
    bind 127.0.0.1:${p.alpnOld} ssl crt ${join(dir, 'default.pem')} alpn http/1.1,http/1.0
    http-request return status 200 content-type text/plain lf-string "%[ssl_fc_alpn] %[req.ver]"

frontend entry
    bind 127.0.0.1:${p.mtls} ssl crt default.pem ca-file ${basename(ca.cert)} verify optional
    http-request set-header X-Client %[ssl_c_used]/%[ssl_c_verify]/%[ssl_c_s_dn(CN)]
    use_backend web

backend web
    server app ${`127.0.0.1:${up.web!.port}`}
backend shop
    server app ${`127.0.0.1:${up.shop!.port}`}
backend api
    server app ${`127.0.0.1:${up.api!.port}`}
`
}

/** One answer as compared: what the handshake gave and the answer, ports written as PORT. */
function seen (a: CurlAnswer, port: number): string {
  const headers = Object.entries(a.headers).filter(([k]) => ['location', 'strict-transport-security', 'x-served-by'].includes(k)).map(([k, v]) => `${k}=${v}`).join(' ')
  const upstream = a.headers['x-served-by'] !== undefined ? (JSON.parse(a.body) as Seen).headers.filter(([k]) => k.startsWith('x-')).map(([k, v]) => `${k}=${v}`).join(' ') : a.body
  return `${a.cn} ${a.tls} alpn=${a.alpn} ${a.status} ${headers} ${upstream}`.replaceAll(`:${port}`, ':PORT')
}

describe('corpus shapes: TLS idioms of real-world configs, ours and HAProxy', { skip: skipWithoutHaproxy }, () => {
  let ca: Ca
  let client: Leaf
  const up: Record<string, Upstream> = {}
  let both: Awaited<ReturnType<typeof startBoth>>
  /** No TLS setting but the certificates (as most configs): OpenSSL's defaults, as HAProxy leaves them. */
  let plain: Awaited<ReturnType<typeof startBoth>>
  /** TLSv1.3 only through ssl-default-bind-options, SNI routing in HTTP and TCP frontends. */
  let modern: Awaited<ReturnType<typeof startBoth>>
  const dot = { haproxy: 0, ours: 0 }
  const ports: { haproxy: Ports, ours: Ports } = {} as { haproxy: Ports, ours: Ports }

  before(async () => {
    ca = makeCa('Corpus Shapes CA')
    const dir = ca.dir
    makeLeaf(ca, join(dir, 'default.pem'), 'default.shop.test', ['default.shop.test'])
    mkdirSync(join(dir, 'certs'))
    makeLeaf(ca, join(dir, 'certs', 'shop.test.pem'), 'shop.test', ['shop.test', 'www.shop.test'])
    makeLeaf(ca, join(dir, 'certs', 'api.test.pem'), 'wild.api.test', ['*.api.test'], { separateKey: true })
    makeLeaf(ca, join(dir, 'list-a.pem'), 'a.list.test', ['a.list.test'])
    makeLeaf(ca, join(dir, 'list-b.pem'), 'wild.list.test', ['*.list.test'])
    writeFileSync(join(dir, 'list.txt'), `${join(dir, 'list-a.pem')}\n${join(dir, 'list-b.pem')} *.list.test !bad.list.test\n`)
    client = makeLeaf(ca, join(dir, 'client.pem'), 'alice', [], { client: true })
    for (const name of ['web', 'shop', 'api']) up[name] = await startUpstream(name)
    const sides: Ports[] = []
    for (let i = 0; i < 2; i++) {
      const extra: Partial<Ports> = {}
      for (const name of EXTRA) extra[name] = await freePort()
      sides.push(extra as Ports)
    }
    let call = 0
    both = await startBoth(port => { const p = sides[call++]!; p.main = port; return config(dir, ca, p, up) })
    ports.haproxy = sides[0]!
    ports.ours = sides[1]!
    for (const p of [ports.haproxy, ports.ours]) for (const name of EXTRA) await waitListening(p[name])
    plain = await startBoth(port => `defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend myfrontend
    bind 127.0.0.1:${port} ssl crt ${join(dir, 'default.pem')} crt ${join(dir, 'certs')}/
    default_backend web
backend web
    server s3 127.0.0.1:${up.web!.port}
`)
    const dotPorts = [await freePort(), await freePort()]
    let modernCall = 0
    modern = await startBoth(port => `global
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
    ssl-default-bind-options prefer-client-ciphers no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12 no-tls-tickets
defaults
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend https
    mode http
    bind 127.0.0.1:${port} ssl crt ${join(dir, 'default.pem')} crt ${join(dir, 'certs')}/ alpn h2,http/1.1
    use_backend shop if { ssl_fc_sni_reg shop.test }
    use_backend api if { ssl_fc_sni_end .api.test }
    default_backend web
frontend dot
    mode tcp
    bind 127.0.0.1:${dotPorts[modernCall++]!} ssl crt ${join(dir, 'default.pem')} crt ${join(dir, 'certs')}/
    acl shop ssl_fc_sni shop.test
    use_backend tcp-shop if shop
    default_backend tcp-web
backend web
    mode http
    server s 127.0.0.1:${up.web!.port}
backend shop
    mode http
    server s 127.0.0.1:${up.shop!.port}
backend api
    mode http
    server s 127.0.0.1:${up.api!.port}
backend tcp-web
    mode tcp
    server s 127.0.0.1:${up.web!.port}
backend tcp-shop
    mode tcp
    server s 127.0.0.1:${up.shop!.port}
`)
    dot.haproxy = dotPorts[0]!
    dot.ours = dotPorts[1]!
    await waitListening(dot.haproxy)
    await waitListening(dot.ours)
  })
  after(async () => { await both?.stop(); await plain?.stop(); await modern?.stop(); for (const u of Object.values(up)) await u.close() })

  /** The same request to both; the answers as `seen` gives them. */
  async function ask (bind: keyof Ports, scheme: 'http' | 'https', name: string, args: string[] = [], path = '/'): Promise<{ ours: string, theirs: string, o: CurlAnswer, h: CurlAnswer }> {
    const h = await curlGet(scheme, ports.haproxy[bind], name, path, args)
    const o = await curlGet(scheme, ports.ours[bind], name, path, args)
    return { ours: seen(o, ports.ours[bind]), theirs: seen(h, ports.haproxy[bind]), o, h }
  }

  test('crt file + crt directory: the certificate by SNI, the first file by default; routing on ssl_fc_sni', async () => {
    const expected: Record<string, [string, string]> = {
      '': ['default.shop.test', 'web'],
      'default.shop.test': ['default.shop.test', 'web'],
      'shop.test': ['shop.test', 'shop'],
      // the Host header carries the port: `hdr(host) -i www.shop.test` does not match it
      'www.shop.test': ['shop.test', 'web'],
      'x.api.test': ['wild.api.test', 'api'],
      'unknown.test': ['default.shop.test', 'web']
    }
    for (const [name, [cn, backend]] of Object.entries(expected)) {
      for (const version of ['--http1.1', '--http2']) {
        const { ours, theirs, o } = await ask('main', 'https', name, [version])
        assert.equal(ours, theirs, `${name} ${version}`)
        assert.equal(o.cn, cn, name)
        assert.equal(o.headers['x-served-by'], backend, name)
        assert.equal(o.alpn, version === '--http2' ? 'h2' : 'http/1.1')
      }
    }
  })

  test('redirect scheme https on the clear bind; HSTS and X-Forwarded-Proto on the TLS bind', async () => {
    const clear = await ask('clear', 'http', 'www.shop.test', [], '/cart?x=1')
    assert.equal(clear.ours, clear.theirs)
    assert.equal(clear.o.status, '301')
    assert.equal(clear.o.headers.location, `https://www.shop.test:${ports.ours.clear}/cart?x=1`)
    const secure = await ask('main', 'https', 'www.shop.test', ['--http2'], '/cart?x=1')
    assert.equal(secure.ours, secure.theirs)
    assert.equal(secure.o.headers['strict-transport-security'], 'max-age=31536000')
    assert.match(secure.ours, /x-forwarded-proto=https/)
  })

  test('ssl-default-bind-options and ciphers: TLSv1.1 refused, the client\'s cipher order with prefer-client-ciphers, TLSv1.3', async () => {
    const old = await ask('main', 'https', 'shop.test', ['--tlsv1.1', '--tls-max', '1.1'])
    assert.equal(old.ours, old.theirs)
    assert.equal(old.o.tls, 'no handshake')
    for (const ciphers of ['ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256']) {
      const v12 = await ask('main', 'https', 'shop.test', ['--tlsv1.2', '--tls-max', '1.2', '--ciphers', ciphers])
      assert.equal(`${v12.o.tls} ${v12.o.cipher}`, `${v12.h.tls} ${v12.h.cipher}`, ciphers)
      assert.equal(v12.ours, v12.theirs)
    }
    assert.equal((await ask('main', 'https', 'shop.test', ['--tlsv1.2', '--tls-max', '1.2', '--ciphers', 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256'])).o.cipher, 'ECDHE-ECDSA-CHACHA20-POLY1305')
    const v13 = await ask('main', 'https', 'shop.test', ['--tls13-ciphers', 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256'])
    assert.equal(`${v13.o.tls} ${v13.o.cipher}`, `${v13.h.tls} ${v13.h.cipher}`)
    assert.equal(v13.o.tls, 'TLSv1.3')
  })

  test('without ssl settings: OpenSSL\'s default cipher order (AES256-GCM, CHACHA20 before AES128-GCM), no ALPN', async () => {
    for (const args of [['--tlsv1.2', '--tls-max', '1.2'], ['--tlsv1.2', '--tls-max', '1.2', '--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305'], ['--tlsv1.2', '--tls-max', '1.2', '--ciphers', 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA256'], ['--http2'], ['--tlsv1.3']]) {
      const h = await curlGet('https', plain.haproxy.port, 'shop.test', '/', args)
      const o = await curlGet('https', plain.ours.port, 'shop.test', '/', args)
      assert.equal(seen(o, plain.ours.port), seen(h, plain.haproxy.port), args.join(' '))
      assert.equal(`${o.tls} ${o.cipher}`, `${h.tls} ${h.cipher}`, args.join(' '))
    }
    const v12 = await curlGet('https', plain.ours.port, 'shop.test', '/', ['--tlsv1.2', '--tls-max', '1.2'])
    assert.deepEqual([v12.cn, v12.cipher, v12.alpn], ['shop.test', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'none'])
  })

  test('TLSv1.3 only (no-tlsv12 in ssl-default-bind-options), client suite order; routing on ssl_fc_sni_reg/_end and, in TCP, on ssl_fc_sni', async () => {
    const both2 = async (port: { haproxy: number, ours: number }, name: string, args: string[]): Promise<[CurlAnswer, CurlAnswer]> =>
      [await curlGet('https', port.ours, name, '/', args), await curlGet('https', port.haproxy, name, '/', args)]
    const http = { haproxy: modern.haproxy.port, ours: modern.ours.port }
    const [o12, h12] = await both2(http, 'shop.test', ['--tlsv1.2', '--tls-max', '1.2'])
    assert.deepEqual([o12.tls, o12.status], [h12.tls, h12.status])
    assert.equal(o12.tls, 'no handshake')
    for (const suites of ['TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256']) {
      const [o, h] = await both2(http, 'shop.test', ['--tls13-ciphers', suites])
      assert.equal(`${o.tls} ${o.cipher}`, `${h.tls} ${h.cipher}`, suites)
      assert.equal(o.cipher, suites.split(':')[0])
    }
    // `ssl_fc_sni_reg` is unanchored: default.shop.test matches shop.test too
    const routes: Record<string, string> = { 'shop.test': 'shop', 'www.shop.test': 'shop', 'default.shop.test': 'shop', 'x.api.test': 'api', 'unknown.test': 'web', '': 'web' }
    for (const [name, backend] of Object.entries(routes)) {
      for (const version of ['--http1.1', '--http2']) {
        const [o, h] = await both2(http, name, [version])
        assert.equal(seen(o, http.ours), seen(h, http.haproxy), `${name} ${version}`)
        assert.equal(o.headers['x-served-by'], backend, `${name} ${version}`)
      }
    }
    for (const [name, backend] of Object.entries({ 'shop.test': 'shop', 'www.shop.test': 'web', '': 'web' })) {
      const [o, h] = await both2(dot, name, ['--http1.1'])
      assert.equal(seen(o, dot.ours), seen(h, dot.haproxy), name)
      assert.equal(o.headers['x-served-by'], backend, name)
    }
  })

  test('crt-list with SNI filters under strict-sni and alpn h2,http/1.1', async () => {
    const expected: Record<string, string> = { 'a.list.test': 'a.list.test', 'x.list.test': 'wild.list.test', 'bad.list.test': '-', 'unknown.test': '-', '': '-' }
    for (const [name, cn] of Object.entries(expected)) {
      for (const version of ['--http1.1', '--http2']) {
        const { ours, theirs, o } = await ask('strict', 'https', name, [version])
        assert.equal(ours, theirs, `${name} ${version}`)
        assert.equal(o.cn, cn, name)
      }
    }
  })

  test('alpn lists: h2 alone, http/1.1,h2 (the server\'s order), http/1.1,http/1.0', async () => {
    for (const bind of ['alpnOrder', 'alpnOld'] as const) {
      for (const version of ['--http1.1', '--http2']) {
        const { ours, theirs } = await ask(bind, 'https', 'default.shop.test', [version])
        assert.equal(ours, theirs, `${bind} ${version}`)
      }
    }
    assert.equal((await ask('alpnOrder', 'https', 'default.shop.test', ['--http2'])).o.alpn, 'http/1.1')
    const h2 = await ask('alpnH2', 'https', 'default.shop.test', ['--http2'])
    assert.equal(h2.ours, h2.theirs)
    assert.equal(h2.o.body, 'h2 2.0')
    // README "Differences from HAProxy": a client offering only http/1.1 to `alpn h2` gets an
    // answer over HTTP/1.1 from both; HAProxy negotiates no protocol, node chooses http/1.1 in
    // the handshake, but `ssl_fc_alpn` reads empty in both
    const h1 = await ask('alpnH2', 'https', 'default.shop.test', ['--http1.1'])
    assert.deepEqual([h1.h.alpn, h1.h.status, h1.h.body], ['none', '200', ' 1.1'])
    assert.deepEqual([h1.o.alpn, h1.o.status, h1.o.body], ['http/1.1', '200', ' 1.1'])
  })

  test('ca-file with verify optional: without a client certificate, and with one the CA signed', async () => {
    for (const args of [[], ['--cert', client.pem]]) {
      const { ours, theirs, o } = await ask('mtls', 'https', 'default.shop.test', args)
      assert.equal(ours, theirs, args.join(' '))
      assert.match(ours, args.length === 0 ? /x-client=0\/0\// : /x-client=1\/0\/alice/)
      assert.equal(o.status, '200')
    }
  })
})
