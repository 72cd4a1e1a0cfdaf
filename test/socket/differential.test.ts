// The runtime API socket, compared with real HAProxy 2.6: the same config served by both, the
// same commands sent to both sockets at each level, the answers compared byte for byte once
// the values that differ by nature (entry pointers, seconds since a change) are masked.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { head, skipWithoutHaproxy, startBoth, startUpstream } from '../differential/harness.js'
import { cli, waitForSocket } from './client.js'

/** Entry pointers and `show servers state`'s seconds-since-change column vary from run to run. */
function mask (s: string): string {
  return s
    .replace(/0x[0-9a-f]+/g, '0xPTR')
    .replace(/^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+) \d+ /gm, '$1 T ')
}

const COMMANDS = [
  'show servers state', 'show servers state be', 'show servers state nope', 'show backend', 'show cli level',
  'get weight be/s1', 'get weight be/zz', 'get weight zz/s1', 'get weight be',
  'set weight be/s1 5', 'get weight be/s1', 'set weight be/s1 50%', 'get weight be/s1', 'set weight be2/t1 5', 'set weight be2/t1 0',
  'set server be/s1 weight 20', 'get weight be/s1', 'set server be/s1 state drain', 'show servers state be',
  'set server be/s1 state maint', 'show servers state be', 'set server be/s1 state ready', 'set server be/s1 state foo',
  'set server be/s1 foo', 'set server be/s1 addr 127.0.0.2', 'set server be/s1 addr 127.0.0.1 port 18085', 'show servers state be',
  'set server be/s1 check-port 18086', 'set server be/s1 agent up',
  'disable server be/s1', 'show servers state be', 'enable server be/s1', 'disable server be/zz', 'disable server be',
  'enable agent be/s1', 'disable frontend be', 'set maxconn server be/s1 10', 'set maxconn frontend fe 100',
  'add server be/s3 127.0.0.1:18084', 'show servers state be', 'add server be2/s3 127.0.0.1:18084', 'add server be/s3 127.0.0.1:1',
  'add server nob/s5 127.0.0.1:1', 'add server be/p1 127.0.0.1:18084 proto h2', 'add server be/p2 127.0.0.1:1 proto foo',
  'add server be/p3 127.0.0.1:1 proto', 'add server tcpb/p4 127.0.0.1:1 proto h1', 'show servers state be', 'del server be/s3', 'set server be/s3 state maint', 'del server be/s3', 'del server be/s3',
  'get map MAP example.org', 'get map MAP /path/x', 'get map MAP /nope', 'get map MAP', 'get map /nope x',
  'show map MAP', 'add map MAP k1 v1', 'set map MAP k1 v2', 'show map MAP', 'set map MAP nokey v2', 'del map MAP k1', 'del map MAP k1',
  'clear map MAP', 'show map MAP', 'show map /nope', 'show acl ACL', 'add acl ACL baz', 'show acl ACL', 'del acl ACL baz', 'clear acl ACL', 'show acl ACL',
  'add map MAP <<\nk5 v5\nk6 v6\n', 'show map MAP', 'add acl ACL <<\nx1\nx2\n', 'show acl ACL',
  'show backend;show cli level', 'user;show cli level', 'operator;set weight be/s1 1', 'help'
]

test('runtime API: the answers of haproxy 2.6 at each level', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const up = await startUpstream('s1')
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-'))
  const map = join(dir, 'a.map')
  const acl = join(dir, 'a.acl')
  writeFileSync(map, 'example.org https://www.example.org\n/path/x /y\n')
  writeFileSync(acl, 'foo\nbar\n')
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${dir}/admin-${port}.sock level admin`,
    `    stats socket ${dir}/operator-${port}.sock level operator`,
    `    stats socket ${dir}/user-${port}.sock level user`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    `    acl bad hdr(x) -f ${acl}`,
    '    http-request deny if bad',
    `    http-request redirect location %[path,map(${map})] if { path,map(${map}) -m found }`,
    `    http-request set-header x-beg %[path,map_beg(${map},none)]`,
    `    http-request set-header x-sub %[path,map_sub(${map},none)]`,
    '    default_backend be',
    'backend be',
    '    balance roundrobin',
    `    server s1 127.0.0.1:${up.port} weight 10`,
    '    server s2 127.0.0.1:1 check inter 60s',
    'backend be2',
    '    balance source',
    `    server t1 127.0.0.1:${up.port}`,
    'backend tcpb',
    '    mode tcp',
    '    balance roundrobin',
    // ports that follow the client's: srv_port is the offset (a negative one as unsigned 32-bit)
    'backend rel',
    '    server a 127.0.0.1',
    '    server b 127.0.0.1:+1000',
    '    server c 127.0.0.1:-1000',
    ''
  ].join('\n'))
  try {
    for (const p of [both.haproxy.port, both.ours.port]) for (const l of ['admin', 'operator', 'user']) await waitForSocket(join(dir, `${l}-${p}.sock`))
    for (const level of ['admin', 'operator', 'user']) {
      for (const raw of COMMANDS) {
        const cmd = raw.replace(/MAP/g, map).replace(/ACL/g, acl)
        const [real, ours] = await Promise.all([
          cli(join(dir, `${level}-${both.haproxy.port}.sock`), cmd + '\n'),
          cli(join(dir, `${level}-${both.ours.port}.sock`), cmd + '\n')
        ])
        assert.equal(mask(ours), mask(real), `${level}: ${cmd}`)
      }
    }
  } finally {
    await both.stop()
    await up.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('runtime API: prompt mode, several commands on a line, quit', { skip: skipWithoutHaproxy, timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-'))
  const both = await startBoth((port) => head() + [
    'global',
    `    stats socket ${dir}/admin-${port}.sock level admin`,
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    default_backend be',
    'backend be',
    '    server s1 127.0.0.1:1',
    ''
  ].join('\n'))
  try {
    for (const p of [both.haproxy.port, both.ours.port]) await waitForSocket(join(dir, `admin-${p}.sock`))
    const script = 'prompt\nshow backend\nget weight be/s1; get weight be/s1\n\nhelp show servers\nshow backend;;show cli level\noperator\nshow cli level\nquit\nshow backend\n'
    const [real, ours] = await Promise.all([
      cli(join(dir, `admin-${both.haproxy.port}.sock`), script),
      cli(join(dir, `admin-${both.ours.port}.sock`), script)
    ])
    assert.equal(ours, real)
  } finally {
    await both.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
