// A crt-list line's own `alpn`, `verify` and `ca-file` (configuration.txt §5.1 crt-list), beside
// real HAProxy on the same files: the protocol negotiated and the client certificate asked for
// depend on the certificate the SNI name picks. `-c` refuses what HAProxy refuses in a crt-list.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ConnectionOptions } from 'node:tls'
import { startBoth, startUpstream, skipWithoutHaproxy, haproxyBin, type Upstream } from './harness.js'
import { makeCa, makeLeaf, type Ca, type Leaf } from '../tls/certs.js'
import { handshake, httpsGet } from '../tls/helpers.js'

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname

/** The certificate, version and ALPN a handshake gave, or 'refused'. */
async function outcome (port: number, name: string, opts: ConnectionOptions = {}): Promise<string> {
  try {
    const h = await handshake(port, name, opts)
    return `${h.cn} ${String(h.alpn)}`
  } catch {
    return 'refused'
  }
}

const HEAD = `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
`

describe('differential: crt-list per-line alpn, verify, ca-file', { skip: skipWithoutHaproxy }, () => {
  let ca: Ca
  let other: Ca
  let alice: Leaf
  let bob: Leaf
  let app: Upstream
  let both: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    ca = makeCa()
    other = makeCa('Other CA')
    const dir = ca.dir
    makeLeaf(ca, join(dir, 'h2.pem'), 'h2.test', ['h2.test'])
    makeLeaf(ca, join(dir, 'strict.pem'), 'strict.test', ['strict.test'])
    makeLeaf(ca, join(dir, 'other.pem'), 'other.test', ['other.test'])
    makeLeaf(ca, join(dir, 'plain.pem'), 'plain.test', ['plain.test'])
    alice = makeLeaf(ca, join(dir, 'alice.pem'), 'alice', [], { client: true })
    bob = makeLeaf(other, join(other.dir, 'bob.pem'), 'bob', [], { client: true })
    writeFileSync(join(dir, 'list.txt'), [
      `${join(dir, 'plain.pem')}`,
      `${join(dir, 'h2.pem')} [alpn h2,http/1.1]`,
      `${join(dir, 'strict.pem')} [verify required ca-file ${ca.cert}]`,
      `${join(dir, 'other.pem')} [verify required ca-file ${other.cert} alpn http/1.1]`,
      ''
    ].join('\n'))
    app = await startUpstream('app')
    both = await startBoth(port => `${HEAD}
frontend fe
    bind 127.0.0.1:${port} ssl crt-list ${join(dir, 'list.txt')}
    http-request set-header X-Client %[ssl_c_used]/%[ssl_c_s_dn(CN)]
    default_backend app
backend app
    server app1 127.0.0.1:${app.port}
`)
  })
  after(async () => { await both?.stop(); await app?.close() })

  test('alpn of the line the name picks', async () => {
    const offer = { ALPNProtocols: ['h2', 'http/1.1'] }
    for (const name of ['h2.test', 'other.test']) {
      assert.equal(await outcome(both.ours.port, name, offer), await outcome(both.haproxy.port, name, offer), name)
    }
    assert.equal(await outcome(both.ours.port, 'h2.test', offer), 'h2.test h2')
    // a line without alpn: HAProxy negotiates nothing; node's selection can only choose or refuse
    // once a line has its own, so http/1.1 (what is spoken anyway) is chosen
    assert.equal(await outcome(both.haproxy.port, 'plain.test', offer), 'plain.test false')
    assert.equal(await outcome(both.ours.port, 'plain.test', offer), 'plain.test http/1.1')
    assert.equal(await outcome(both.ours.port, 'plain.test'), await outcome(both.haproxy.port, 'plain.test'))
  })

  test('verify and ca-file of the line the name picks', async () => {
    const cert = (leaf: Leaf): ConnectionOptions => ({ cert: leaf.certOnly, key: leaf.key })
    const ask = async (port: number, name: string, leaf?: Leaf): Promise<string> => {
      try {
        const r = await httpsGet(port, '/', { servername: name, headers: { host: 'site.test' }, ...(leaf !== undefined ? cert(leaf) : {}) })
        return (JSON.parse(r.text) as { headers: Array<[string, string]> }).headers.find(([k]) => k === 'x-client')?.[1] ?? ''
      } catch {
        return 'refused'
      }
    }
    const cases: Array<[string, Leaf | undefined, string]> = [
      ['plain.test', undefined, '0/'],
      ['strict.test', undefined, 'refused'],
      ['strict.test', alice, '1/alice'],
      ['strict.test', bob, 'refused'],
      ['other.test', bob, '1/bob'],
      ['other.test', alice, 'refused']
    ]
    for (const [name, leaf, expected] of cases) {
      const what = `${name} with ${leaf === undefined ? 'no certificate' : leaf === alice ? 'alice' : 'bob'}`
      assert.equal(await ask(both.haproxy.port, name, leaf), expected, `haproxy, ${what}`)
      assert.equal(await ask(both.ours.port, name, leaf), expected, what)
    }
  })
})

describe('differential: ssl_fc_alpn where HAProxy negotiates no protocol', { skip: skipWithoutHaproxy }, () => {
  let h2Bind: Awaited<ReturnType<typeof startBoth>>
  let list: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    const ca = makeCa()
    const dir = ca.dir
    makeLeaf(ca, join(dir, 'h2.pem'), 'h2.test', ['h2.test'])
    makeLeaf(ca, join(dir, 'plain.pem'), 'plain.test', ['plain.test'])
    writeFileSync(join(dir, 'list.txt'), `${join(dir, 'plain.pem')}\n${join(dir, 'h2.pem')} [alpn h2,http/1.1]\n`)
    const config = (bind: string) => (port: number): string => `${HEAD}
frontend fe
    bind 127.0.0.1:${port} ssl ${bind}
    http-request return status 200 content-type text/plain lf-string "alpn=%[ssl_fc_alpn] %[req.ver]"
`
    h2Bind = await startBoth(config(`crt ${join(dir, 'h2.pem')} alpn h2`))
    list = await startBoth(config(`crt-list ${join(dir, 'list.txt')}`))
  })
  after(async () => { await h2Bind?.stop(); await list?.stop() })

  const ask = async (port: number, name: string, alpn: string[]): Promise<string> => {
    const tlsOptions: ConnectionOptions = { servername: name, ALPNProtocols: alpn }
    return (await httpsGet(port, '/', { ...tlsOptions })).text
  }

  test('an `alpn h2` bind with a client offering only http/1.1, a crt-list line without alpn: empty, served over HTTP/1.1', async () => {
    const cases: Array<[typeof h2Bind, string, string[], string]> = [
      [h2Bind, 'h2.test', ['http/1.1'], 'alpn= 1.1'],
      [list, 'plain.test', ['h2', 'http/1.1'], 'alpn= 1.1'],
      [list, 'plain.test', ['http/1.1'], 'alpn= 1.1'],
      // negotiated by both: read as negotiated
      [list, 'h2.test', ['http/1.1'], 'alpn=http/1.1 1.1']
    ]
    for (const [pair, name, alpn, expected] of cases) {
      const what = `${pair === h2Bind ? 'alpn h2 bind' : 'crt-list'}, ${name}, client offers ${alpn.join(',')}`
      assert.equal(await ask(pair.haproxy.port, name, alpn), expected, `haproxy, ${what}`)
      assert.equal(await ask(pair.ours.port, name, alpn), expected, what)
    }
    // the client's handshake still says http/1.1 with ours: node's selection can only choose or refuse
    const offer = { ALPNProtocols: ['h2', 'http/1.1'] }
    assert.equal(await outcome(list.haproxy.port, 'plain.test', offer), 'plain.test false')
    assert.equal(await outcome(list.ours.port, 'plain.test', offer), 'plain.test http/1.1')
  })
})

test('crt-list: -c refuses unknown keywords, missing values and verify without a CA as HAProxy does', () => {
  const ca = makeCa()
  const dir = ca.dir
  makeLeaf(ca, join(dir, 'a.pem'), 'a.test')
  const cases: Array<[string, string | null]> = [
    ['[alpn h2] a.test', null],
    ['[npn h2]', null],
    ['[no-alpn]', "'crt-list' : parsing [list.txt:1]: unknown ssl keyword no-alpn"],
    ['[alpn]', "'crt-list' : parsing [list.txt:1]: ssl args out of '[]' for alpn"],
    ['[verify optional]', "verify is enabled but no CA file specified for bind '127.0.0.1:8443'"],
    [`[verify required ca-file ${ca.cert}]`, null]
  ]
  for (const [line, message] of cases) {
    writeFileSync(join(dir, 'list.txt'), `a.pem ${line}\n`)
    writeFileSync(join(dir, 'haproxy.cfg'), `${HEAD}frontend fe\n    bind 127.0.0.1:8443 ssl crt-list list.txt\n    http-request return status 200\n`)
    const runs = [spawnSync(process.execPath, [CLI, '-c', '-f', 'haproxy.cfg'], { encoding: 'utf8', cwd: dir })]
    if (haproxyBin !== null) runs.push(spawnSync(haproxyBin, ['-c', '-f', 'haproxy.cfg'], { encoding: 'utf8', cwd: dir }))
    for (const r of runs) {
      if (message === null) assert.equal(r.status, 0, `${line}: ${r.stderr}`)
      else assert.ok(r.status !== 0 && r.stderr.includes(message), `${line}: ${r.stderr}`)
    }
  }
})
