// The runtime API's health-check and agent commands, compared with real HAProxy 2.6: the same
// config served by both, the same commands sent to both sockets, answers compared byte for byte.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closedPort } from '../runtime/helpers.js'
import { head, skipWithoutHaproxy, startBoth } from '../differential/harness.js'
import { cli, waitForSocket } from './client.js'

const COMMANDS = [
  'set server be/agt agent foo', 'set server be/agt agent', 'set server be/plain agent up',
  'disable agent be/plain', 'enable agent be/plain', 'disable agent be/agt', 'set server be/agt agent-port 80',
  'set server be/agt agent-send x', 'set server be/agt agent down', 'enable agent be/agt',
  'set server be/agt agent-addr 127.0.0.2', 'set server be/agt agent-addr foo', 'set server be/agt agent-addr',
  'set server be/plain agent-addr 127.0.0.1', 'set server be/agt agent-port abc', 'set server be/agt agent-port 70000',
  'set server be/agt agent-port', 'set server be/plain agent-port 80', 'set server be/agt agent-send hello',
  'set server be/agt agent-send', 'set server be/plain agent-send x', 'set server be/agt check-addr 127.0.0.1',
  'set server be/chk check-addr 127.0.0.1', 'set server be/chk check-addr 127.0.0.1 port 81', 'set server be/chk check-addr foo',
  'set server be/chk check-addr', 'set server be/chk check-addr 127.0.0.1 port', 'set server be/chk check-port 70000',
  'set server be/chk check-port x', 'set server be/chk check-port', 'set server be/agt check-port 80',
  'set server be/chk health foo', 'enable health be/agt', 'disable health be/agt', 'enable health be/plain',
  'disable health be/chk', 'enable health be/chk', 'set server be/chk health stopping', 'set server be/plain health down',
  'set server be/agt agent up', 'set server be/agt agent down', 'show servers state be'
]

/**
 * `show servers state`'s seconds since the last change vary from run to run, and so does the
 * moment of a server's first check (its status and result).
 */
const mask = (s: string): string => s.replace(/^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+) \d+ \d+ \d+ /gm, '$1 T S R ')

test('runtime API: agent and health-check commands answer as haproxy 2.6', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const dead = await closedPort()
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-checks-'))
  // checks and agents every minute: none runs between the commands
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${dir}/admin-${port}.sock level admin`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    default_backend be',
    'backend be',
    `    server agt 127.0.0.1:${dead} agent-check agent-addr 127.0.0.1 agent-port ${dead} agent-inter 60s`,
    `    server plain 127.0.0.1:${dead}`,
    `    server chk 127.0.0.1:${dead} check inter 60s`,
    ''
  ].join('\n'))
  try {
    for (const p of [both.haproxy.port, both.ours.port]) await waitForSocket(join(dir, `admin-${p}.sock`))
    for (const cmd of COMMANDS) {
      const [real, ours] = await Promise.all([
        cli(join(dir, `admin-${both.haproxy.port}.sock`), cmd + '\n'),
        cli(join(dir, `admin-${both.ours.port}.sock`), cmd + '\n')
      ])
      assert.equal(mask(ours), mask(real), cmd)
    }
  } finally {
    await both.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
