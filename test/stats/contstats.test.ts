// `option contstats` (configuration.txt §4.2): without it HAProxy adds a stream's bytes to the
// `bin`/`bout` counters when the stream ends; with it, along the transfer too (every 5 s, and
// from the answer on). Real HAProxy 2.6 and our CLI serve the same slow download; `show stat`
// on each one's runtime socket is read in the middle of it and at its end.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { head, skipWithoutHaproxy, startBoth, startUpstream } from '../differential/harness.js'
import { cli, waitForSocket } from '../socket/client.js'

/** `bin` and `bout` of the frontend, backend and server rows, as `show stat` gives them. */
async function bytes (sock: string): Promise<string> {
  const csv = await cli(sock, 'show stat\n')
  const fields = csv.split('\n')[0]!.replace(/^# /, '').split(',')
  const bin = fields.indexOf('bin')
  const bout = fields.indexOf('bout')
  return csv.split('\n').filter(l => /^(fe|be),/.test(l)).map(l => {
    const f = l.split(',')
    return `${f[0]}/${f[1]} ${f[bin]} ${f[bout]}`
  }).join(' | ')
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

test('contstats: bytes counted at the end of a transfer without it, along it with it, as in HAProxy', { skip: skipWithoutHaproxy, timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-contstats-'))
  // the server sends its head and a first chunk, then the rest when told
  const releases: Array<() => void> = []
  const up = await startUpstream('s1', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '30000' })
    res.write(Buffer.alloc(10000, 97))
    releases.push(() => { res.write(Buffer.alloc(10000, 98)); releases.push(() => res.end(Buffer.alloc(10000, 99))) })
  })
  for (const contstats of [false, true]) {
    const both = await startBoth((port) => head(['timeout client 30s', 'timeout server 30s', ...(contstats ? ['option contstats'] : [])]) + [
      'global',
      `    stats socket ${dir}/${port}.sock level admin`,
      'frontend fe',
      `    bind 127.0.0.1:${port}`,
      '    default_backend be',
      'backend be',
      `    server s1 127.0.0.1:${up.port}`,
      ''
    ].join('\n'))
    try {
      const seen: Record<string, string[]> = {}
      for (const p of [both.haproxy, both.ours]) {
        const sock = join(dir, `${p.port}.sock`)
        await waitForSocket(sock)
        releases.length = 0
        let got = 0
        const done = new Promise<void>((resolve, reject) => {
          request({ host: '127.0.0.1', port: p.port, path: '/', agent: false }, (res) => {
            res.on('data', (c: Buffer) => { got += c.length })
            res.on('end', resolve)
            res.on('error', reject)
          }).on('error', reject).end()
        })
        while (got < 10000) await sleep(20)
        const start = await bytes(sock)
        releases.shift()!()
        while (got < 20000) await sleep(20)
        // past contstats' 5 s, the stream still under way
        await sleep(5500)
        const later = await bytes(sock)
        releases.shift()!()
        await done
        seen[p.label] = [start, later, await bytes(sock)]
      }
      const [start, later, end] = seen.haproxy!
      if (!contstats) {
        assert.equal(start, 'fe/FRONTEND 0 0 | be/s1 0 0 | be/BACKEND 0 0', 'nothing counted under way')
        assert.equal(later, start)
      } else {
        assert.notEqual(start, 'fe/FRONTEND 0 0 | be/s1 0 0 | be/BACKEND 0 0', 'counted from the answer on')
        assert.notEqual(later, start, 'counted again along the transfer')
        assert.notEqual(later, end)
      }
      // the totals are the same; under way, the same moments of counting (the first one may hold
      // more or less of the first chunk)
      assert.equal(seen.ours![2], end)
      assert.equal(seen.ours![1], later)
      if (!contstats) assert.equal(seen.ours![0], start)
    } finally {
      await both.stop()
    }
  }
  await up.close()
  rmSync(dir, { recursive: true, force: true })
})
