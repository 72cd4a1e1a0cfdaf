// `option external-check` with `external-check command|path` (configuration.txt §4.2), against
// real HAProxy 2.6.12: each check runs a real shell script with HAProxy's arguments and only its
// environment; exit 0 passes (PROCOK), another status fails with it as the code (PROCERR), a
// script still running after the check's time (min(inter, timeout connect) with `timeout check`)
// is killed (PROCTOUT, code 0). Compared: what the script was given, the state log lines, and
// `show stat`'s check columns.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { skipWithoutHaproxy, startProxy } from '../differential/harness.js'
import { cli, waitForSocket } from '../socket/client.js'
import { waitFor } from '../gateway/fixtures.js'

/**
 * `check_status check_code status check_desc` of each server of `be`: the last verdict, without
 * the `* ` that marks a check under way at the instant of reading (either side may be in one).
 */
async function checkColumns (sock: string): Promise<Record<string, string>> {
  const csv = await cli(sock, 'show stat\n')
  const fields = csv.split('\n')[0]!.replace(/^# /, '').split(',')
  const at = (name: string): number => fields.indexOf(name)
  const out: Record<string, string> = {}
  for (const line of csv.split('\n')) {
    const f = line.split(',')
    if (f[0] !== 'be' || f[1] === 'BACKEND' || f[1] === 'FRONTEND' || f[1] === undefined) continue
    out[f[1]] = `${f[at('check_status')]!.replace(/^\* /, '')} ${f[at('check_code')]!} ${f[at('status')]!} ${f[at('check_desc')]!}`
  }
  return out
}

test('external-check: the command, its arguments and environment, and its verdicts as in HAProxy', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-external-check-'))
  try {
    const seen: Record<string, unknown> = {}
    for (const label of ['haproxy', 'ours'] as const) {
      const script = join(dir, `${label}.sh`)
      // the first run of each server records its arguments and environment (no PATH lookups:
      // the tools are named by their paths)
      writeFileSync(script, [
        '#!/bin/sh',
        `out=${dir}/${label}-$HAPROXY_SERVER_NAME.env`,
        'if [ ! -e "$out" ]; then { echo "ARGS: $*"; /usr/bin/env | /usr/bin/sort; } > "$out.tmp"; /bin/mv "$out.tmp" "$out"; fi',
        'case "$HAPROXY_SERVER_NAME" in',
        '  good) exit 0;;',
        '  bad) exit 3;;',
        '  slow) /bin/sleep 30;;',
        'esac',
        ''
      ].join('\n'))
      chmodSync(script, 0o755)
      const sock = join(dir, `${label}.sock`)
      const proxy = await startProxy(label, (port) => [
        'global',
        '    external-check',
        '    insecure-fork-wanted',
        `    stats socket ${sock} level admin`,
        'defaults',
        '    mode http',
        '    timeout connect 1s',
        '    timeout client 5s',
        '    timeout server 5s',
        '    timeout check 300ms',
        'listen be',
        `    bind 127.0.0.1:${port}`,
        '    option external-check',
        '    option log-health-checks',
        `    external-check command ${script}`,
        '    external-check path "/usr/bin:/bin"',
        '    server good 127.0.0.1:9 check inter 1s',
        '    server bad 127.0.0.1:9 check inter 1s maxconn 7',
        '    server slow 127.0.0.1:9 check inter 2s',
        ''
      ].join('\n'))
      try {
        await waitForSocket(sock)
        await waitFor(async () => Object.values(await checkColumns(sock)).every(c => !c.includes('INI')), `${label}: a first verdict on each server`)
        const env = (server: string): string[] => readFileSync(join(dir, `${label}-${server}.env`), 'latin1').split('\n')
          .filter(l => l !== '' && !l.startsWith('PWD=') && !l.startsWith('_=') && !l.startsWith('SHLVL='))
          .map(l => l.replaceAll(String(proxy.port), 'PORT'))
        seen[label] = {
          env: { good: env('good'), bad: env('bad'), slow: env('slow') },
          columns: await checkColumns(sock),
          // (HAProxy's on stderr, as warnings)
          said: proxy.output().split('\n').map(l => l.replace(/^\[WARNING\]\s+\(\d+\) : /, '')).filter(l => /^Health check for server/.test(l)).map(l => l.replace(/check duration: \d+ms/, 'check duration: Nms')).sort()
        }
      } finally {
        await proxy.stop()
      }
    }
    assert.deepEqual(seen.ours, seen.haproxy)
    const real = seen.haproxy as { env: Record<string, string[]>, columns: Record<string, string>, said: string[] }
    assert.deepEqual(real.env.bad, [
      'ARGS: 127.0.0.1 PORT 127.0.0.1 9', 'HAPROXY_PROXY_ADDR=127.0.0.1', 'HAPROXY_PROXY_ID=2', 'HAPROXY_PROXY_NAME=be', 'HAPROXY_PROXY_PORT=PORT',
      'HAPROXY_SERVER_ADDR=127.0.0.1', 'HAPROXY_SERVER_CURCONN=0', 'HAPROXY_SERVER_ID=2', 'HAPROXY_SERVER_MAXCONN=7', 'HAPROXY_SERVER_NAME=bad',
      'HAPROXY_SERVER_PORT=9', 'HAPROXY_SERVER_PROTO=h1', 'HAPROXY_SERVER_SSL=0', 'PATH=/usr/bin:/bin'
    ])
    assert.deepEqual(real.columns, {
      good: 'PROCOK 0 UP External check passed',
      bad: 'PROCERR 3 DOWN External check error',
      slow: 'PROCTOUT 0 DOWN External check timeout'
    })
    // the slow one was given min(inter, timeout connect) = 1 s
    assert.ok(real.said.some(l => l.startsWith('Health check for server be/slow failed, reason: External check timeout, code: 0,')))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('external-check in a mode tcp listen on a wildcard bind, an ssl server, no external-check path: what the command is given, as in HAProxy', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-external-check-tcp-'))
  try {
    const seen: Record<string, string[]> = {}
    for (const label of ['haproxy', 'ours'] as const) {
      const script = join(dir, `${label}.sh`)
      const out = join(dir, `${label}.env`)
      writeFileSync(script, `#!/bin/sh\n[ -e ${out} ] || { echo "ARGS: $*"; /usr/bin/env | /usr/bin/sort; } > ${out}.tmp && /bin/mv ${out}.tmp ${out}\nexit 0\n`)
      chmodSync(script, 0o755)
      const proxy = await startProxy(label, (port) => [
        'global',
        '    external-check',
        '    insecure-fork-wanted',
        'defaults',
        '    timeout connect 1s',
        '    timeout client 5s',
        '    timeout server 5s',
        'listen tcpx',
        '    mode tcp',
        `    bind :${port}`,
        '    option external-check',
        `    external-check command ${script}`,
        '    server a 127.0.0.1:9 check inter 200ms ssl verify none',
        ''
      ].join('\n'))
      try {
        await waitFor(() => { try { readFileSync(out); return true } catch { return false } }, `${label}: the command ran`)
        seen[label] = readFileSync(out, 'latin1').split('\n')
          .filter(l => l !== '' && !l.startsWith('PWD=') && !l.startsWith('_=') && !l.startsWith('SHLVL='))
          .map(l => l.replaceAll(String(proxy.port), 'PORT'))
      } finally {
        await proxy.stop()
      }
    }
    assert.deepEqual(seen.ours, seen.haproxy)
    assert.deepEqual(seen.haproxy, [
      'ARGS: 0.0.0.0 PORT 127.0.0.1 9', 'HAPROXY_PROXY_ADDR=0.0.0.0', 'HAPROXY_PROXY_ID=1', 'HAPROXY_PROXY_NAME=tcpx', 'HAPROXY_PROXY_PORT=PORT',
      'HAPROXY_SERVER_ADDR=127.0.0.1', 'HAPROXY_SERVER_CURCONN=0', 'HAPROXY_SERVER_ID=1', 'HAPROXY_SERVER_MAXCONN=0', 'HAPROXY_SERVER_NAME=a',
      'HAPROXY_SERVER_PORT=9', 'HAPROXY_SERVER_PROTO=tcp', 'HAPROXY_SERVER_SSL=1', 'PATH='
    ])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
