// The runtime API on servers that follow DNS, compared with real HAProxy 2.6: both resolve
// through the same DNS server, run here, whose answers the test changes. `show servers state`
// and `show stat` say the same of them (SRV weights, names, addresses, admin flags), and
// `set server … fqdn|ssl|addr` answer and act as 2.6 does, edge cases included.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { head, skipWithoutHaproxy, startBoth } from '../differential/harness.js'
import { dnsServer, type DnsServer } from '../discovery/dns-server.js'
import { cli, waitForSocket } from './client.js'

/** SRV weights and the server weights 2.6 gives them (observed: the SRV weight / 256, rounded up). */
const SRV_WEIGHTS: Array<[number, number]> = [[0, 0], [1, 1], [255, 1], [256, 1], [257, 2], [512, 2], [1000, 4], [32768, 128], [65535, 256]]

function zone (dns: DnsServer): void {
  dns.zone.set('a.test', [{ type: 'A', address: '127.0.0.1' }])
  dns.zone.set('b.test', [{ type: 'A', address: '127.0.0.2' }])
  SRV_WEIGHTS.forEach((_w, i) => dns.zone.set(`h${i}.test`, [{ type: 'A', address: `127.0.1.${i + 1}` }]))
  dns.zone.set('_http._tcp.svc.test', SRV_WEIGHTS.map(([weight], i) => ({ type: 'SRV' as const, target: `h${i}.test`, port: 8100 + i, weight })))
}

/**
 * `show servers state` with what differs by nature masked: the seconds since the last change,
 * and which slot of the server-template holds which record (HAProxy's order is its own): slot
 * lines lose their id and name and are sorted.
 */
function state (text: string, emptySlots: 'compared' | 'masked' = 'compared'): string[] {
  const lines = text.split('\n').filter(l => /^\d+ /.test(l)).map(l => {
    const f = l.split(' ')
    f[9] = 'T'
    if (f[3]!.startsWith('web')) { f[2] = 'ID'; f[3] = 'web' }
    // an empty slot keeps the weight and flags of the record it held, if any
    if (f[3] === 'web' && f[4] === '-' && emptySlots === 'masked') { f[6] = 'A'; f[7] = 'W' }
    return f.join(' ')
  })
  return [...lines.filter(l => !l.includes(' web ')), ...lines.filter(l => l.includes(' web ')).sort()]
}

/** `show stat`'s server rows: name (slots as `web`), status, weight, addr; sorted like state(). */
function stat (text: string, emptySlots: 'compared' | 'masked' = 'compared'): string[] {
  const rows = text.split('\n').filter(l => l.startsWith('be,')).map(l => {
    const f = l.split(',')
    const slot = f[1]!.startsWith('web')
    return [slot ? 'web' : f[1], f[17], slot && f[73] === '' && emptySlots === 'masked' ? 'W' : f[18], f[19], f[73]].join(',')
  })
  return [...rows.filter(r => !r.startsWith('web,')), ...rows.filter(r => r.startsWith('web,')).sort()]
}

test('servers that follow DNS: show servers state, show stat and set server fqdn|ssl|addr as haproxy 2.6', { skip: skipWithoutHaproxy, timeout: 120_000 }, async () => {
  const dns = await dnsServer()
  zone(dns)
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-dns-'))
  const sockOf = (port: number): string => join(dir, `admin-${port}.sock`)
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${sockOf(port)} level admin`,
    'resolvers dns',
    `    nameserver ns1 127.0.0.1:${dns.port}`,
    '    hold valid 1s',
    '    hold nx 200ms',
    '    hold obsolete 0s',
    '    timeout resolve 100ms',
    '    timeout retry 100ms',
    '    resolve_retries 1',
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    default_backend be',
    'backend be',
    '    balance roundrobin',
    '    server s1 a.test:80 resolvers dns init-addr none resolve-prefer ipv4',
    '    server s2 127.0.0.1:80',
    '    server s3 127.0.0.1:443 ssl verify none',
    '    server n1 nx.test:80 resolvers dns init-addr none resolve-prefer ipv4',
    '    server l1 localhost:80',
    '    server i1 no-such-host.invalid:80 init-addr none',
    '    server v6 ::1:80',
    `    server-template web ${SRV_WEIGHTS.length + 1} _http._tcp.svc.test resolvers dns init-addr none resolve-prefer ipv4`,
    // ssl settings from a default-server, `no-ssl` (srv_use_ssl -1)
    'backend tls',
    '    server w0 127.0.0.1:1 no-ssl',
    '    default-server ssl verify none',
    '    server w1 127.0.0.1:1 no-ssl',
    '    server w2 127.0.0.1:1',
    ''
  ].join('\n'))
  const socks = [sockOf(both.haproxy.port), sockOf(both.ours.port)] as const
  const ask = async (cmd: string): Promise<[string, string]> => {
    const [real, ours] = await Promise.all(socks.map(async s => await cli(s, cmd + '\n')))
    return [real!, ours!]
  }
  /** Waits until both say the same of their servers and `ready` holds for that state. */
  const settled = async (what: string, ready: (lines: string[]) => boolean, emptySlots: 'compared' | 'masked' = 'compared'): Promise<void> => {
    const deadline = Date.now() + 20_000
    for (;;) {
      const [real, ours] = await ask('show servers state be')
      if (ready(state(real)) && ready(state(ours))) {
        assert.deepEqual(state(ours, emptySlots), state(real, emptySlots), what)
        const [realStat, ourStat] = await ask('show stat')
        assert.deepEqual(stat(ourStat, emptySlots), stat(realStat, emptySlots), what)
        return
      }
      if (Date.now() > deadline) assert.deepEqual(state(ours), state(real), `${what} (not settled)`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
  const line = (lines: string[], name: string): string[] => lines.find(l => l.split(' ')[3] === name)?.split(' ') ?? []
  try {
    for (const s of socks) await waitForSocket(s)
    await settled('the first answers', l => line(l, 's1')[4] === '127.0.0.1' && l.filter(x => x.includes(' web ') && x.split(' ')[4] !== '-').length === SRV_WEIGHTS.length)
    const [, first] = await ask('show servers state be')
    // every SRV weight got its server weight; the slot left over is empty
    const slots = state(first).filter(l => l.includes(' web ')).map(l => l.split(' '))
    assert.deepEqual(slots.filter(f => f[4] !== '-').map(f => [f[17], Number(f[7])]).sort(), SRV_WEIGHTS.map(([, w], i) => [`h${i}.test`, w]).sort())
    assert.deepEqual(slots.filter(f => f[4] === '-').map(f => [f[6], f[17], f[19]]), [['32', '-', '_http._tcp.svc.test']])

    const commands = [
      // fqdn: who may, what names
      'set server be/s2 fqdn b.test', 'set server be/web1 fqdn b.test', 'set server be/s1 fqdn', 'set server be/s1 fqdn bad_name!',
      'set server be/s1 fqdn a..b', 'set server be/s1 fqdn a.test', 'set server be/l1 fqdn b.test', 'set server be/zz fqdn b.test',
      // ssl: only servers with ssl settings
      'set server be/s2 ssl on', 'set server be/s2 ssl', 'set server be/s3 ssl foo', 'set server be/s3 ssl', 'set server be/s3 ssl off',
      'set server be/s3 ssl off', 'set server be/s3 ssl on', 'set server tls/w0 ssl on', 'set server tls/w1 ssl on',
      'set server tls/w1 ssl off', 'set server tls/w2 ssl off', 'set server tls/w2 ssl on',
      // addr: literals only, ports as strtol reads them, each part answered
      'set server be/s2 addr 127.0.0.1 port 0', 'set server be/s2 addr 127.0.0.1 port 65537', 'set server be/s2 addr 127.0.0.1 port abc',
      'set server be/s2 addr 127.0.0.1 port', 'set server be/s2 addr 127.0.0.1 foo 12', 'set server be/s2 addr 127.0.0.1:90',
      'set server be/s2 addr ::0001', 'set server be/s2 addr localhost', 'set server be/s2 addr 127.0.0.1 port +5',
      'set server be/s2 addr 127.0.0.1 port -0', 'set server be/s2 addr 127.0.0.1 port 080', 'set server be/s2 addr 127.0.0.1 port 81x',
      'set server be/s2 addr 127.0.0.9 port 81', 'set server be/s2 addr 127.0.0.9 port 99999999999', 'set server be/s2 addr 127.0.0.1 port 0x50',
      'set server be/s2 addr [::1] port 80', 'set server be/s2 addr ipv4@127.0.0.3', 'set server be/s2 addr 127.1', 'set server be/s2 addr 127.000.0.1',
      'set server be/s2 addr 1.2.3.4.5', 'set server be/s2 addr', 'set server be/s2 addr 127.0.0.1 port 80'
    ]
    for (const cmd of commands) {
      const [real, ours] = await ask(cmd)
      assert.equal(ours, real, cmd)
      const [realState, ourState] = await ask('show servers state')
      assert.deepEqual(state(ourState), state(realState), `after ${cmd}`)
    }
    const [realStat, ourStat] = await ask('show stat')
    assert.deepEqual(stat(ourStat), stat(realStat), 'show stat after the commands')

    // a new name, followed from the resolvers' next round: a running server moves to its
    // address, one without address gets it and keeps the admin flag 0x40
    for (const [srv, from, addr, admin] of [['s1', 'a.test', '127.0.0.2', '0'], ['n1', 'nx.test', '127.0.0.1', '64']] as const) {
      const to = srv === 's1' ? 'b.test' : 'a.test'
      const [real, ours] = await ask(`set server be/${srv} fqdn ${to}`)
      assert.equal(ours, real)
      assert.equal(ours, `be/${srv} changed its FQDN from ${from} to ${to} by 'stats socket command'\n\n`)
      await settled(`set server ${srv} fqdn: the new name resolved`, l => line(l, srv)[4] === addr)
      assert.deepEqual(line(state((await ask('show servers state be'))[1]), srv).slice(4, 8), [addr, '2', admin, '1'])
    }

    // records go away: their slots are emptied; a name that stops resolving loses its address
    dns.zone.set('_http._tcp.svc.test', SRV_WEIGHTS.slice(0, 3).map(([weight], i) => ({ type: 'SRV' as const, target: `h${i}.test`, port: 8100 + i, weight })))
    dns.zone.delete('b.test')
    await settled('records removed', l => l.filter(x => x.includes(' web ') && x.split(' ')[4] !== '-').length === 3 && line(l, 's1')[4] === '-')
    // and come back (to slots of HAProxy's choice: the one left empty may have held a record)
    zone(dns)
    await settled('records back', l => l.filter(x => x.includes(' web ') && x.split(' ')[4] !== '-').length === SRV_WEIGHTS.length && line(l, 's1')[4] === '127.0.0.2', 'masked')
  } finally {
    await both.stop()
    await dns.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
