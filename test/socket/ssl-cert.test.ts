// `show ssl cert [<file>]`: the certificate files of the TLS binds and one file's details
// (serial, validity, DNS names, algorithm, fingerprint, subject, issuer, chain), compared with
// real HAProxy 2.6 on the same files, at each level.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { once } from 'node:events'
import { freePort, head, skipWithoutHaproxy, startBoth } from '../differential/harness.js'
import { makeCa, makeLeaf } from '../tls/certs.js'
import { askBoth, waitForSocket } from './client.js'

test('show ssl cert: the loaded files and their certificates as haproxy 2.6 shows them', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const ca = makeCa('Test CA')
  const dir = ca.dir
  const leaf = makeLeaf(ca, join(dir, 'b-leaf.pem'), 'a.test', ['a.test', '*.b.test'])
  // the leaf, its chain and its key in one file, as HAProxy reads a `crt`
  const chained = join(dir, 'a-chain.pem')
  writeFileSync(chained, leaf.certOnly + readFileSync(ca.cert, 'latin1') + leaf.key)
  const tlsPorts = [await freePort(), await freePort()]
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${dir}/admin-${port}.sock level admin`,
    `    stats socket ${dir}/operator-${port}.sock level operator`,
    `    stats socket ${dir}/user-${port}.sock level user`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    `    bind 127.0.0.1:${tlsPorts.shift()!} ssl crt ${leaf.pem} crt ${chained}`,
    '    default_backend be',
    'backend be',
    '    server s1 127.0.0.1:1',
    ''
  ].join('\n'))
  try {
    for (const p of [both.haproxy.port, both.ours.port]) await waitForSocket(join(dir, `admin-${p}.sock`))
    for (const level of ['admin', 'operator', 'user']) {
      for (const cmd of ['show ssl cert', `show ssl cert ${leaf.pem}`, `show ssl cert ${chained}`, `show ssl cert ${dir}/nope.pem`]) {
        const { real, ours } = await askBoth(join(dir, `${level}-${both.haproxy.port}.sock`), join(dir, `${level}-${both.ours.port}.sock`), cmd)
        assert.equal(ours, real, `${level}: ${cmd}`)
      }
    }
  } finally {
    await both.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

/** The subject CN of the certificate a TLS handshake on `port` presents (SNI `name` if given). */
function presented (port: number, name?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(name !== undefined ? { servername: name } : {}) }, () => {
      const cn = s.getPeerX509Certificate()?.subject.split('\n').find(l => l.startsWith('CN='))?.slice(3) ?? ''
      s.destroy()
      resolve(cn)
    })
    s.on('error', reject)
  })
}

/** An HTTPS keep-alive connection: each `get()` sends a request on it and resolves with the status line. */
async function keepAlive (port: number): Promise<{ get: () => Promise<string>, close: () => void }> {
  const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
  await once(s, 'secureConnect')
  s.setEncoding('latin1')
  return {
    get: async () => {
      let data = ''
      const answer = new Promise<string>((resolve, reject) => {
        const onData = (d: string): void => {
          data += d
          if (data.includes('\r\n\r\n') && data.endsWith('ok')) { s.off('data', onData); resolve(data.split('\r\n')[0]!) }
        }
        s.on('data', onData)
        s.once('close', () => reject(new Error(`closed: ${JSON.stringify(data)}`)))
      })
      s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n')
      return await answer
    },
    close: () => { s.destroy() }
  }
}

test('new|set|commit|abort|del ssl cert: the transaction as haproxy 2.6 runs it, and the next handshakes present the committed certificate', { skip: skipWithoutHaproxy, timeout: 90_000 }, async () => {
  const ca = makeCa('Test CA')
  const dir = ca.dir
  const a = makeLeaf(ca, join(dir, 'a.pem'), 'a.test', ['a.test'])
  const b = makeLeaf(ca, join(dir, 'b.pem'), 'b.test', ['b.test'])
  const c = makeLeaf(ca, join(dir, 'c.pem'), 'c.test', ['c.test'])
  const tlsPorts = [await freePort(), await freePort(), await freePort(), await freePort()]
  const tlsOf = new Map<number, number[]>()
  const both = await startBoth((port) => {
    const mine = [tlsPorts.shift()!, tlsPorts.shift()!]
    tlsOf.set(port, mine)
    return head() + [
      'global',
      `    stats socket ${dir}/admin-${port}.sock level admin`,
      `    stats socket ${dir}/operator-${port}.sock level operator`,
      `    stats socket ${dir}/user-${port}.sock level user`,
      'frontend fe',
      '    timeout client 30s',
      `    bind 127.0.0.1:${port}`,
      `    bind 127.0.0.1:${mine[0]!} ssl crt ${a.pem}`,
      `    bind 127.0.0.1:${mine[1]!} ssl crt ${a.pem} crt ${b.pem}`,
      '    http-request return status 200 content-type text/plain string ok',
      ''
    ].join('\n')
  })
  const sides = [both.haproxy, both.ours].map(p => ({ port: p.port, tls: tlsOf.get(p.port)! }))
  const payload = (pem: string): string => ` <<\n${pem}`
  try {
    for (const s of sides) await waitForSocket(join(dir, `admin-${s.port}.sock`))
    const conversation = [
      'show ssl cert',
      `set ssl cert ${c.pem}${payload(c.certOnly + c.key)}`,
      `commit ssl cert ${a.pem}`,
      `abort ssl cert ${a.pem}`,
      'set ssl cert', `set ssl cert ${a.pem}`, 'commit ssl cert', 'abort ssl cert', 'new ssl cert', 'del ssl cert',
      `set ssl cert ${a.pem}${payload('garbage\n')}`,
      `set ssl cert ${a.pem}${payload(c.key)}`,
      `set ssl cert ${a.pem}${payload(c.certOnly)}`,
      'show ssl cert', `show ssl cert *${a.pem}`, `show ssl cert ${a.pem}`,
      `commit ssl cert ${a.pem}`,
      `set ssl cert ${a.pem}${payload(c.certOnly + b.key)}`,
      `commit ssl cert ${a.pem}`,
      `set ssl cert ${a.pem}${payload(c.certOnly + readFileSync(ca.cert, 'latin1') + c.key)}`,
      `show ssl cert *${a.pem}`,
      `abort ssl cert ${c.pem}`, `commit ssl cert ${c.pem}`, `del ssl cert ${a.pem}`,
      // while a transaction is pending, 2.6.12 puts any payload in it, whatever file is named
      `set ssl cert ${b.pem}${payload(c.certOnly + c.key)}`
    ]
    for (const level of ['operator', 'user']) {
      for (const cmd of [`new ssl cert ${dir}/x.pem`, `set ssl cert ${a.pem}${payload(c.certOnly + c.key)}`, `commit ssl cert ${a.pem}`, `abort ssl cert ${a.pem}`, `del ssl cert ${a.pem}`, 'show ssl cert']) {
        const { real, ours } = await askBoth(join(dir, `${level}-${sides[0]!.port}.sock`), join(dir, `${level}-${sides[1]!.port}.sock`), cmd)
        assert.equal(ours, real, `${level}: ${cmd}`)
      }
    }
    const ask = async (cmd: string): Promise<void> => {
      const { real, ours } = await askBoth(join(dir, `admin-${sides[0]!.port}.sock`), join(dir, `admin-${sides[1]!.port}.sock`), cmd)
      assert.equal(ours, real, cmd.split('\n')[0])
    }
    for (const cmd of conversation) await ask(cmd)

    const open = await Promise.all(sides.map(s => keepAlive(s.tls[1]!)))
    for (const conn of open) assert.equal(await conn.get(), 'HTTP/1.1 200 OK')
    for (const s of sides) {
      assert.equal(await presented(s.tls[0]!), 'a.test')
      assert.equal(await presented(s.tls[1]!, 'a.test'), 'a.test')
      assert.equal(await presented(s.tls[1]!, 'b.test'), 'b.test')
    }
    // two binds use a.pem: two dots
    await ask(`commit ssl cert ${a.pem}`)
    for (const s of sides) {
      assert.equal(await presented(s.tls[0]!), 'c.test')
      assert.equal(await presented(s.tls[1]!, 'c.test'), 'c.test')
      assert.equal(await presented(s.tls[1]!, 'b.test'), 'b.test')
    }
    // a connection opened before the commit goes on
    for (const conn of open) { assert.equal(await conn.get(), 'HTTP/1.1 200 OK'); conn.close() }
    for (const cmd of [
      'show ssl cert', `show ssl cert ${a.pem}`,
      `new ssl cert ${dir}/n.pem`, `new ssl cert ${dir}/n.pem`, `new ssl cert ${a.pem}`,
      'show ssl cert', `show ssl cert ${dir}/n.pem`,
      `set ssl cert ${dir}/n.pem${payload(b.certOnly + b.key)}`,
      'show ssl cert', `commit ssl cert ${dir}/n.pem`, `show ssl cert ${dir}/n.pem`,
      `del ssl cert ${a.pem}`, `del ssl cert ${dir}/zz.pem`, `del ssl cert ${dir}/n.pem`, 'show ssl cert'
    ]) await ask(cmd)
  } finally {
    await both.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
