// Runtime API commands about the process and its listeners: `show servers conn`, `show env`,
// `show cli sockets`, `show startup-logs`, `shutdown frontend`. Compared with real HAProxy 2.6
// where the answers can match byte for byte; what is ours by nature (the socket paths, the
// warnings our CLI prints) is checked against what this process did.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, head, skipWithoutHaproxy, startBoth, startProxy, startUpstream } from '../differential/harness.js'
import { askBoth, cli, waitForSocket } from './client.js'

const COMMANDS = [
  'show servers conn', 'show servers conn be', 'show servers conn fe', 'show servers conn nope',
  'show env PATH', 'show env FH_SURELY_UNSET', 'operator;show env PATH', 'user;show env PATH',
  'user;show servers conn be', 'user;show startup-logs',
  'shutdown frontend', 'shutdown frontend nope', 'shutdown frontend be', 'operator;shutdown frontend other',
  'shutdown frontend other', 'shutdown frontend other', 'disable frontend other', 'enable frontend other'
]

test('runtime API: process commands as haproxy 2.6 answers them', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const up = await startUpstream('s1')
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-proc-'))
  // the second frontend's port: one for HAProxy (started first), one for ours
  const otherPorts = [await freePort(), await freePort()]
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${dir}/admin-${port}.sock level admin`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    default_backend be',
    'frontend other',
    `    bind 127.0.0.1:${otherPorts.shift()!}`,
    '    default_backend be',
    'backend be',
    `    server s1 127.0.0.1:${up.port}`,
    '    server s2 127.0.0.1:1 disabled',
    ''
  ].join('\n'))
  try {
    for (const p of [both.haproxy.port, both.ours.port]) await waitForSocket(join(dir, `admin-${p}.sock`))
    // before any traffic: HAProxy's idle connection counts (undici's pools here) are not compared
    for (const cmd of COMMANDS) {
      const { real, ours } = await askBoth(join(dir, `admin-${both.haproxy.port}.sock`), join(dir, `admin-${both.ours.port}.sock`), cmd)
      assert.equal(ours, real, cmd)
    }
    // the frontend shut down reads STOP (HAProxy's CSV has more columns: the status is compared)
    const status = async (p: number): Promise<string[]> =>
      (await cli(join(dir, `admin-${p}.sock`), 'show stat -1 1 -1\n')).split('\n').slice(1, -2).map(l => l.split(',').slice(0, 2).concat(l.split(',')[17]!).join(','))
    assert.deepEqual(await status(both.ours.port), await status(both.haproxy.port))
    assert.deepEqual(await status(both.ours.port), ['fe,FRONTEND,OPEN', 'other,FRONTEND,STOP'])
  } finally {
    await both.stop()
    await up.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('show cli sockets lists the sockets served, show startup-logs what the CLI printed, show env the environment', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-proc-'))
  const sock = join(dir, 'admin.sock')
  const tcpPort = await freePort()
  // `nbthread` (in head()) is one of the warnings our CLI prints
  const ours = await startProxy('ours', (port) => head() + [
    'global',
    `    stats socket ${sock} level admin`,
    `    stats socket ipv4@127.0.0.1:${tcpPort} level user`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    default_backend be',
    'backend be',
    '    server s1 127.0.0.1:1',
    ''
  ].join('\n'))
  try {
    await waitForSocket(sock)
    const sockets = await cli(sock, 'show cli sockets\n')
    assert.match(sockets, new RegExp(`^# socket lvl processes\\nunix@${sock.replace(/[.]/g, '\\.')} admin all\\nipv4@127\\.0\\.0\\.1:${tcpPort} user all\\n\\n$`))
    const warnings = ours.output().split('\n').filter(l => l.startsWith('[WARNING]'))
    assert.ok(warnings.length > 0, ours.output())
    const logs = await cli(sock, 'show startup-logs\n')
    for (const w of warnings) assert.ok(logs.includes(w + '\n'), `${w} in ${logs}`)
    assert.ok(logs.endsWith('\n\n'))
    const env = await cli(sock, 'show env\n')
    assert.ok(env.includes(`\nPATH=${process.env.PATH ?? ''}\n`) || env.startsWith(`PATH=${process.env.PATH ?? ''}\n`))
    assert.ok(env.endsWith('\n\n'))
  } finally {
    await ours.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
