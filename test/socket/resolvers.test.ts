// `show resolvers [<section>]`: every resolvers section's name servers and their counters in
// HAProxy 2.6's layout, compared with real HAProxy resolving through the same DNS server (run
// here); the counts themselves depend on timing, so they are compared where they cannot differ
// (a section nobody uses) and checked for what they mean elsewhere.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, head, skipWithoutHaproxy, startBoth } from '../differential/harness.js'
import { dnsServer } from '../discovery/dns-server.js'
import { cli, waitForSocket } from './client.js'

/** `show resolvers`'s counters: section → name server → counter → value. */
function counters (text: string): Map<string, Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, Map<string, number>>>()
  let section = new Map<string, Map<string, number>>()
  let ns = new Map<string, number>()
  for (const line of text.split('\n')) {
    let m = /^Resolvers section (\S+)$/.exec(line)
    if (m !== null) { section = new Map(); out.set(m[1]!, section); continue }
    m = /^ nameserver (\S+):$/.exec(line)
    if (m !== null) { ns = new Map(); section.set(m[1]!, ns); continue }
    m = /^ {2}(\w+): +(\d+)$/.exec(line)
    if (m !== null) ns.set(m[1]!, Number(m[2]))
  }
  return out
}

test('show resolvers: sections, name servers and counters as haproxy 2.6', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const dns = await dnsServer()
  dns.zone.set('a.test', [{ type: 'A', address: '127.0.0.1' }])
  // a port nothing listens on: its queries are refused
  const silent = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-resolvers-'))
  const sock = (level: string, port: number): string => join(dir, `${level}-${port}.sock`)
  const both = await startBoth((port) => head() + [
    'global',
    ...['admin', 'operator', 'user'].map(l => `    stats socket ${sock(l, port)} level ${l}`),
    'resolvers dns',
    `    nameserver ns1 127.0.0.1:${dns.port}`,
    `    nameserver ns2 127.0.0.1:${silent}`,
    '    timeout resolve 100ms',
    '    timeout retry 100ms',
    'resolvers idle',
    `    nameserver only 127.0.0.1:${dns.port}`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    default_backend be',
    'backend be',
    '    server s1 a.test:80 resolvers dns init-addr none',
    '    server s2 nx.test:80 resolvers dns init-addr none',
    ''
  ].join('\n'))
  const ports = [both.haproxy.port, both.ours.port]
  try {
    for (const p of ports) await waitForSocket(sock('admin', p))
    // s1 has its address on both (a valid answer changed it)
    for (const p of ports) {
      const deadline = Date.now() + 10_000
      while (!(await cli(sock('admin', p), 'show servers state be\n')).includes(' s1 127.0.0.1 ')) {
        assert.ok(Date.now() < deadline, `s1 never resolved on port ${p}`)
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    }
    for (const level of ['admin', 'operator', 'user']) {
      for (const cmd of ['show resolvers idle', 'show resolvers nope']) {
        const [real, ours] = await Promise.all(ports.map(async p => await cli(sock(level, p), cmd + '\n')))
        assert.equal(ours, real, `${level}: ${cmd}`)
      }
    }
    const [real, ours] = await Promise.all(ports.map(async p => await cli(sock('user', p), 'show resolvers\n')))
    // the same lines once the counts are set aside: sections (2.6's own `default` from
    // /etc/resolv.conf included), name servers, counters, in the same order
    const mask = (text: string): string => text.replace(/ \d+$/gm, ' N')
    assert.equal(mask(ours!), mask(real!))
    const mine = counters(ours!).get('dns')!
    const ns1 = mine.get('ns1')!
    const ns2 = mine.get('ns2')!
    assert.ok(ns1.get('sent')! > 0 && ns1.get('sent') === ns2.get('sent'), 'every query goes to both name servers')
    assert.equal(ns1.get('update'), 1, 's1 got its address once')
    assert.ok(ns1.get('valid')! >= 1, 'a.test answered')
    assert.ok(ns1.get('nx')! >= 1, 'nx.test is NXDOMAIN')
    assert.ok(ns1.get('any_err')! >= 1, "a.test's AAAA query (IPv6 preferred) has no record")
    assert.equal(ns2.get('valid'), 0)
    assert.ok(ns2.get('snd_error')! >= 1, 'the queries to a closed port are refused')
    assert.ok([...counters(ours!).get('idle')!.get('only')!.values()].every(v => v === 0))
  } finally {
    await both.stop()
    await dns.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
