// `show ssl crt-list`, `add ssl crt-list` (a certificate name or a payload line) and `del ssl
// crt-list`, compared byte for byte with real HAProxy 2.6 on the same config and files, at each
// level; the certificates added are served from the next handshake, by the line's SNI filters.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { freePort, head, skipWithoutHaproxy, startBoth } from '../differential/harness.js'
import { makeCa, makeLeaf } from '../tls/certs.js'
import { askBoth, waitForSocket } from './client.js'

/** The subject CN of the certificate a TLS handshake on `port` with SNI `name` presents. */
function presented (port: number, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: name }, () => {
      const cn = s.getPeerX509Certificate()?.subject.split('\n').find(l => l.startsWith('CN='))?.slice(3) ?? ''
      s.destroy()
      resolve(cn)
    })
    s.on('error', reject)
  })
}

test('show|add|del ssl crt-list as haproxy 2.6, added lines served by their SNI filters', { skip: skipWithoutHaproxy, timeout: 90_000 }, async () => {
  const ca = makeCa('Test CA')
  const dir = ca.dir
  makeLeaf(ca, join(dir, 'a.pem'), 'a.test', ['a.test', 'www.a.test'])
  makeLeaf(ca, join(dir, 'b.pem'), 'b.test', ['b.test'])
  // the certificate the runtime API brings in has no file of that name: `new ssl cert` makes it
  const source = makeLeaf(ca, join(dir, 'c-source.pem'), 'c.test', ['c.test', 'www.c.test'])
  const c = join(dir, 'c.pem')
  const list = join(dir, 'list.txt')
  writeFileSync(list, 'a.pem [alpn http/1.1 ssl-min-ver TLSv1.2] a.test !www.a.test\n' +
    `b.pem [ciphers ECDHE-ECDSA-AES128-GCM-SHA256 allow-0rtt ca-verify-file ${ca.cert} ca-file ${ca.cert} verify optional no-ca-names]\na.pem\n`)
  const tlsPort = new Map<number, number>()
  const tlsPorts = [await freePort(), await freePort()]
  const both = await startBoth((port) => {
    tlsPort.set(port, tlsPorts.shift()!)
    return head() + [
      'global',
      ...['admin', 'operator', 'user'].map(l => `    stats socket ${dir}/${l}-${port}.sock level ${l}`),
      `    crt-base ${dir}`,
      'frontend fe',
      `    bind 127.0.0.1:${port}`,
      `    bind 127.0.0.1:${tlsPort.get(port)!} ssl crt-list ${list}`,
      '    http-request return status 200 content-type text/plain string ok',
      ''
    ].join('\n')
  })
  const ports = [both.haproxy.port, both.ours.port]
  const sock = (level: string, p: number): string => join(dir, `${level}-${p}.sock`)
  // the bind a refusal names is in each side's own config file
  const sameFile = (text: string): string => text.replace(/\t- .*:(\d+)\n/g, '\t- <config>:$1\n')
  const ask = async (level: string, cmd: string): Promise<void> => {
    const { real, ours } = await askBoth(sock(level, ports[0]!), sock(level, ports[1]!), cmd)
    assert.equal(sameFile(ours), sameFile(real), `${level}: ${cmd}`)
  }
  const serves = async (name: string, cn: string): Promise<void> => {
    const seen = await Promise.all(ports.map(async p => await presented(tlsPort.get(p)!, name)))
    assert.deepEqual(seen, [cn, cn], `SNI ${name}`)
  }
  try {
    for (const p of ports) await waitForSocket(sock('admin', p))
    const probes = [
      'show ssl crt-list', `show ssl crt-list ${list}`, `show ssl crt-list -n ${list}`, 'show ssl crt-list -n', 'show ssl crt-list nosuch',
      `add ssl crt-list ${list} ${c}`, `add ssl crt-list ${list} c.pem`, `add ssl crt-list ${list}`, 'add ssl crt-list', `add ssl crt-list nosuch ${c}`,
      `del ssl crt-list ${list} ${dir}/a.pem`, `del ssl crt-list ${list} ${dir}/a.pem:9`, `del ssl crt-list ${list} ${dir}/nosuch.pem`,
      `del ssl crt-list nosuch ${dir}/a.pem`, `del ssl crt-list ${list}`, 'del ssl crt-list'
    ]
    for (const level of ['user', 'operator', 'admin']) for (const cmd of probes) await ask(level, cmd)

    await ask('admin', `new ssl cert ${c}`)
    await ask('admin', `set ssl cert ${c} <<\n${readFileSync(source.pem, 'latin1')}`)
    await ask('admin', `commit ssl cert ${c}`)
    await serves('c.test', 'a.test')
    // a payload line: its options, relative path (crt-base) and SNI filters
    await ask('admin', 'add ssl crt-list ' + list + ' <<\nc.pem [verify none alpn http/1.1] filtered.test !www.c.test\n')
    await ask('admin', `show ssl crt-list -n ${list}`)
    await serves('filtered.test', 'c.test')
    await serves('c.test', 'a.test')
    for (const payload of [`${c}\n${c}`, `${c} [bogus] x`, `${dir}/zz.pem`]) await ask('admin', `add ssl crt-list ${list} <<\n${payload}\n`)
    // by name: the certificate's own names
    await ask('admin', `add ssl crt-list ${list} ${c}`)
    await serves('www.c.test', 'c.test')
    for (const cmd of [`show ssl crt-list -n ${list}`, `del ssl crt-list ${list} ${c}`, `del ssl crt-list ${list} ${c}:5`, `show ssl crt-list -n ${list}`,
      `del ssl crt-list ${list} ${dir}/b.pem`, `del ssl crt-list ${list} ${dir}/a.pem:1`, `show ssl crt-list ${list}`, `del ssl cert ${c}`, 'show ssl crt-list']) {
      await ask('admin', cmd)
    }
    await serves('www.c.test', 'a.test')
    await serves('filtered.test', 'c.test')
    await serves('b.test', 'a.test')
    await ask('admin', `del ssl crt-list ${list} ${c}`)
    await serves('filtered.test', 'a.test')
    await ask('admin', `del ssl cert ${c}`)
    await ask('admin', `show ssl crt-list -n ${list}`)
  } finally {
    await both.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
