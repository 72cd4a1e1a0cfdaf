// `stats maxconn` (configuration.txt §3.1): how many runtime API connections are served at once,
// all `stats socket` lines together. A connection beyond it is accepted by the system and
// answered once one in service closes, as real HAProxy 2.6 does (compared here).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { head, skipWithoutHaproxy, startBoth } from '../differential/harness.js'
import { cli, waitForSocket } from './client.js'

/** A connection in interactive mode (it stays open until `quit`). */
async function interactive (path: string): Promise<Socket> {
  const c = connect(path)
  c.setEncoding('latin1')
  let prompt = ''
  await new Promise<void>((resolve, reject) => {
    c.on('data', (d: string) => { prompt += d; if (prompt.includes('> ')) resolve() })
    c.on('error', reject)
    c.write('prompt\n')
  })
  return c
}

/** Events in the order they happened: the held connection's answer must follow the busy one's close. */
async function heldUntilFree (busy: Socket, other: string): Promise<string[]> {
  const events: string[] = []
  const second = cli(other, 'show cli level\n').then((answer) => { events.push(`answer ${answer.trim()}`) })
  // the second connection is accepted: its command waits, unanswered, while the first is open
  await new Promise(resolve => setTimeout(resolve, 300))
  events.push('first closes')
  busy.end('quit\n')
  await second
  return events
}

test('stats maxconn: a connection beyond the limit waits for a free slot, across sockets, as in HAProxy', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-max-'))
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${dir}/a-${port}.sock level admin`,
    `    stats socket ${dir}/b-${port}.sock level admin`,
    '    stats maxconn 1',
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    http-request return status 200',
    ''
  ].join('\n'))
  try {
    for (const p of [both.haproxy.port, both.ours.port]) await waitForSocket(join(dir, `a-${p}.sock`))
    const real = await heldUntilFree(await interactive(join(dir, `a-${both.haproxy.port}.sock`)), join(dir, `b-${both.haproxy.port}.sock`))
    const ours = await heldUntilFree(await interactive(join(dir, `a-${both.ours.port}.sock`)), join(dir, `b-${both.ours.port}.sock`))
    assert.deepEqual(real, ['first closes', 'answer admin'])
    assert.deepEqual(ours, real)
  } finally {
    await both.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('stats maxconn: without it, ten connections are served at once (HAProxy\'s default)', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-max-'))
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${dir}/a-${port}.sock level admin`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    http-request return status 200',
    ''
  ].join('\n'))
  try {
    for (const p of [both.haproxy.port, both.ours.port]) {
      const sock = join(dir, `a-${p}.sock`)
      await waitForSocket(sock)
      const open = await Promise.all(Array.from({ length: 9 }, async () => await interactive(sock)))
      // the tenth is served while nine are open; then an eleventh waits for one of them
      assert.equal(await cli(sock, 'show cli level\n'), 'admin\n\n')
      assert.deepEqual(await heldUntilFree(await interactive(sock), sock), ['first closes', 'answer admin'], `port ${p}`)
      for (const c of open) c.destroy()
    }
  } finally {
    await both.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
