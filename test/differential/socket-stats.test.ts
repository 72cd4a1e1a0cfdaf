// `option socket-stats` against real HAProxy 2.6: the same traffic (answered, denied, malformed)
// through a frontend of three listeners, one bind named; the listeners' rows of `show stat`,
// `show stat typed`, `show stat json`, the stats page's `;csv` and its HTML must be the same.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, head, send, skipWithoutHaproxy, startBoth, startUpstream, writePieces, type Upstream } from './harness.js'
import { cli, waitForSocket } from '../socket/client.js'

interface Ports { second: number, third: number, stats: number, plain: number, tcp1: number, tcp2: number }

const config = (upstream: number, sock: (port: number) => string, extra: Map<number, Ports>, spare: Ports[]) => (port: number): string => {
  const p = spare.shift()!
  extra.set(port, p)
  return head() + [
    'global',
    `    stats socket ${sock(port)} level admin`,
    'frontend fe',
    '    option socket-stats',
    `    bind 127.0.0.1:${port} name first`,
    `    bind 127.0.0.1:${p.second},127.0.0.1:${p.third}`,
    '    http-request deny if { path /deny }',
    '    default_backend be',
    // the same frontend without the option: no listener rows
    'frontend plain',
    `    bind 127.0.0.1:${p.plain}`,
    '    default_backend be',
    // mode tcp: the listeners count the bytes passed both ways
    'listen tcpfe',
    '    mode tcp',
    '    option socket-stats',
    `    bind 127.0.0.1:${p.tcp1}`,
    `    bind 127.0.0.1:${p.tcp2} name t2`,
    `    server s1 127.0.0.1:${upstream}`,
    'backend be',
    `    server s1 127.0.0.1:${upstream}`,
    'listen stats',
    `    bind 127.0.0.1:${p.stats}`,
    '    stats uri /',
    ''
  ].join('\n')
}

/**
 * Listener rows of a CSV (type 3), the port of `addr` masked (each process listens on its own),
 * cut after the 103 standard fields (HAProxy prints its modules' columns after them, left out here).
 */
function listenerRows (csv: string): string[] {
  return csv.split('\n').filter(l => l.split(',')[32] === '3')
    .map(l => l.split(',').slice(0, 103).join(',').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT'))
}

describe('differential: option socket-stats vs real HAProxy', { skip: skipWithoutHaproxy }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-diff-sockstats-'))
  const sock = (port: number): string => join(dir, `${port}.sock`)
  const extra = new Map<number, Ports>()
  let upstream: Upstream
  let both: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    // a fixed answer: the bytes out must not depend on what each proxy forwards
    upstream = await startUpstream('s1', (_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('hello\n') })
    const spare: Ports[] = []
    // one set per start: each proxy, and again for a start retried on a port taken meanwhile
    for (let i = 0; i < 6; i++) spare.push({ second: await freePort(), third: await freePort(), stats: await freePort(), plain: await freePort(), tcp1: await freePort(), tcp2: await freePort() })
    both = await startBoth(config(upstream.port, sock, extra, spare))
    for (const proxy of [both.haproxy, both.ours]) {
      await waitForSocket(sock(proxy.port))
      const p = extra.get(proxy.port)!
      assert.equal((await send(proxy.port, { path: '/a' })).status, 200)
      assert.equal((await send(p.second, { path: '/a' })).status, 200)
      assert.equal((await send(proxy.port, { path: '/deny' })).status, 403)
      const bad = await writePieces(p.third, ['GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'], 0)
      assert.match(bad.data, /^HTTP\/1\.1 400 /)
      assert.equal((await send(p.tcp2, { path: '/t' })).status, 200)
    }
  })

  after(async () => {
    await both?.stop()
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** `show stat` once every connection of the traffic above is closed on both sides. */
  async function settled (port: number): Promise<string> {
    let csv = ''
    for (let i = 0; i < 100; i++) {
      csv = await cli(sock(port), 'show stat\n')
      if (listenerRows(csv).every(l => l.split(',')[4] === '0')) return csv
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    return csv
  }

  test('show stat: the same listener rows, names, counters and place', async () => {
    const theirs = await settled(both.haproxy.port)
    const ours = await settled(both.ours.port)
    const rows = listenerRows(theirs)
    assert.equal(rows.length, 5)
    assert.deepEqual(listenerRows(ours), rows)
    // after the FRONTEND row of their section, before the next section's rows
    const order = (csv: string): string[] => csv.split('\n').filter(l => l !== '' && !l.startsWith('#')).map(l => l.split(',').slice(0, 2).join('/'))
    assert.deepEqual(order(ours), order(theirs))
    assert.deepEqual(order(ours).slice(0, 5), ['fe/FRONTEND', 'fe/first', 'fe/sock-2', 'fe/sock-3', 'plain/FRONTEND'])

  })

  test('show stat <proxy> <type> <sid>: mask 8 picks the listeners, the sid one of them', async () => {
    for (const args of ['fe 8 -1', 'fe 8 2', 'fe 1 -1', '-1 12 -1', 'tcpfe 8 2']) {
      const names = async (port: number): Promise<string[]> => (await cli(sock(port), `show stat ${args}\n`)).split('\n')
        .filter(l => l !== '' && !l.startsWith('#')).map(l => l.split(',').slice(0, 2).join('/'))
      assert.deepEqual(await names(both.ours.port), await names(both.haproxy.port), args)
    }
  })

  test('show stat typed and json: the same listener fields and tags', async () => {
    await settled(both.haproxy.port)
    await settled(both.ours.port)
    const typed = async (port: number): Promise<string[]> => (await cli(sock(port), 'show stat typed\n')).split('\n')
      .filter(l => l.startsWith('L.')).map(l => l.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:PORT'))
      // the SSL module's columns (103 …): HAProxy prints them with its modules, which this package leaves out
      .filter(l => Number(l.split('.')[3]) < 103)
    const theirs = await typed(both.haproxy.port)
    assert.ok(theirs.length > 0)
    assert.deepEqual(await typed(both.ours.port), theirs)
    const json = async (port: number): Promise<unknown[]> => {
      const objects = JSON.parse(await cli(sock(port), 'show stat json\n')) as Array<Array<{ objType: string, field: { pos: number, name: string }, value: { value: unknown } }>>
      return objects.filter(o => o[0]?.objType === 'Listener')
        .map(o => o.filter(f => f.field.pos < 103).map(f => f.field.name === 'addr' ? { ...f, value: { ...f.value, value: 'PORT' } } : f))
    }
    assert.deepEqual(await json(both.ours.port), await json(both.haproxy.port))
  })

  test('the stats page: the same rows in ;csv, the same socket rows in HTML', async () => {
    await settled(both.haproxy.port)
    await settled(both.ours.port)
    const page = async (port: number, path: string): Promise<string> => (await send(extra.get(port)!.stats, { path })).body
    const theirCsv = listenerRows(await page(both.haproxy.port, '/;csv'))
    assert.equal(theirCsv.length, 5)
    assert.deepEqual(listenerRows(await page(both.ours.port, '/;csv')), theirCsv)
    const socketRows = (html: string): string[] => html.match(/<tr class=socket>.*?<\/tr>/g) ?? []
    const theirHtml = socketRows(await page(both.haproxy.port, '/'))
    assert.equal(theirHtml.length, 5)
    assert.deepEqual(socketRows(await page(both.ours.port, '/')), theirHtml)
  })
})
