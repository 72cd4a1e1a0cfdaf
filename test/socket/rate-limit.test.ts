// `set rate-limit connections|sessions|ssl-sessions global <n>` and `maxconnrate`: the answers
// and `show info`'s limits compared with real HAProxy 2.6, and the limit enforced on accept
// (connections over the rate wait, none is refused).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { head, send, skipWithoutHaproxy, startBoth, startProxy } from '../differential/harness.js'
import { cli, waitForSocket } from './client.js'
import { parseConfig } from '../../lib/config/parse.js'
import { checkConfig } from '../../lib/check.js'

const limits = (info: string): string[] => info.split('\n').filter(l => /RateLimit:|RateLim:/.test(l))

test('set rate-limit: answers, levels and show info as haproxy 2.6', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-ratelimit-'))
  const sock = (level: string, port: number): string => join(dir, `${level}-${port}.sock`)
  const both = await startBoth((port) => head() + [
    'global',
    '    maxsslrate 40',
    ...['admin', 'operator', 'user'].map(l => `    stats socket ${sock(l, port)} level ${l}`),
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    http-request return status 200',
    ''
  ].join('\n'))
  const ports = [both.haproxy.port, both.ours.port]
  try {
    for (const p of ports) await waitForSocket(sock('admin', p))
    const ask = async (level: string, cmd: string): Promise<void> => {
      const [real, ours] = await Promise.all(ports.map(async p => await cli(sock(level, p), cmd + '\n')))
      assert.equal(ours, real, `${level}: ${cmd}`)
    }
    for (const level of ['operator', 'user']) await ask(level, 'set rate-limit connections global 5')
    for (const cmd of ['set rate-limit', 'set rate-limit connections', 'set rate-limit connections global', 'set rate-limit connections fe 5',
      'set rate-limit foo global 1', 'set rate-limit connections global -1', 'set rate-limit sessions global 7', 'set rate-limit ssl-sessions global 8',
      'set rate-limit connections global 5', 'set rate-limit connections global 12abc']) await ask('admin', cmd)
    const infos = await Promise.all(ports.map(async p => await cli(sock('user', p), 'show info\n')))
    assert.deepEqual(limits(infos[1]!), limits(infos[0]!))
    assert.ok(limits(infos[1]!).includes('ConnRateLimit: 12'))
    // `x` reads as 0 (C's atoi): no limit
    await ask('admin', 'set rate-limit connections global x')
    const after = await Promise.all(ports.map(async p => await cli(sock('user', p), 'show info\n')))
    assert.deepEqual(limits(after[1]!), limits(after[0]!))
    // no compression here: refused as 2.6 built without it refuses it
    assert.equal(await cli(sock('admin', both.ours.port), 'set rate-limit http-compression global 9\n'), 'Compression is not supported.\n\n')
  } finally {
    await both.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('maxconnrate: connections over the rate wait for the next second; set rate-limit lifts it at once', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-ratelimit-'))
  const admin = join(dir, 'admin.sock')
  const ours = await startProxy('ours', (port) => head() + [
    'global',
    '    maxconnrate 2',
    `    stats socket ${admin} level admin`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    http-request return status 200',
    ''
  ].join('\n'))
  try {
    await waitForSocket(admin)
    // the harness's readiness probe took one connection: start from a fresh second
    await new Promise(resolve => setTimeout(resolve, 1100))
    const started = Date.now()
    const done = await Promise.all(Array.from({ length: 6 }, async () => {
      const answer = await send(ours.port, { path: '/' })
      assert.equal(answer.status, 200)
      return Date.now() - started
    }))
    // 2 per second: the 5th and 6th are taken two windows after the first (a lower bound only)
    assert.ok(Math.max(...done) >= 1900, `6 connections at 2/s all served after ${Math.max(...done)} ms`)
    assert.match(await cli(admin, 'show info\n'), /^ConnRateLimit: 2$/m)

    await cli(admin, 'set rate-limit connections global 1\n')
    await new Promise(resolve => setTimeout(resolve, 1100))
    const waiting = Array.from({ length: 4 }, async () => (await send(ours.port, { path: '/' })).status)
    // one is served in this second; the others wait until the limit is lifted
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(await cli(admin, 'set rate-limit connections global 0\n'), '\n')
    assert.deepEqual(await Promise.all(waiting), [200, 200, 200, 200])
    assert.match(await cli(admin, 'show info\n'), /^ConnRateLimit: 0$/m)
  } finally {
    await ours.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('maxconnrate, maxsessrate, maxsslrate: an integer is required, as haproxy -c says', () => {
  for (const kw of ['maxconnrate', 'maxsessrate', 'maxsslrate']) {
    const diags = checkConfig(parseConfig(`global\n    ${kw}\n`))
    assert.ok(diags.some(d => d.level === 'alert' && d.message.includes(`'${kw}' expects an integer argument.`)), kw)
    assert.deepEqual(checkConfig(parseConfig(`global\n    ${kw} 10\n`)).filter(d => d.message.includes(kw)), [], kw)
  }
})
