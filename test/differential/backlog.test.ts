// The listen() backlog of each bind (configuration.txt §4.2 `backlog`, §5.1 bind `backlog` and
// `maxconn`), read from the kernel (`ss -lt` shows a listener's backlog in its Send-Q column) for
// real HAProxy 2.6 and our CLI on the same config.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { freePort, skipWithoutHaproxy, startProxy } from './harness.js'

const ssMissing = spawnSync('ss', ['-V']).error !== undefined ? 'ss (iproute2) is not installed' : false

/** Listening TCP sockets of 127.0.0.1: port → backlog. */
function backlogs (): Map<number, number> {
  const out = spawnSync('ss', ['-ltnH'], { encoding: 'utf8' }).stdout
  const seen = new Map<number, number>()
  for (const line of out.split('\n')) {
    const m = /^LISTEN\s+\d+\s+(\d+)\s+127\.0\.0\.1:(\d+)\s/.exec(line)
    if (m !== null) seen.set(Number(m[2]), Number(m[1]))
  }
  return seen
}

/** One frontend per case: the bind's options and the section's lines. */
const CASES: Array<[string, string, string[]]> = [
  ['bind-backlog', 'backlog 20', ['backlog 50']],
  ['proxy-backlog', 'maxconn 70', ['backlog 50']],
  ['bind-maxconn', 'maxconn 70', ['maxconn 50']],
  ['proxy-maxconn', '', ['maxconn 100']],
  ['global-maxconn', '', []],
  ['defaults', '', []]
]

test('backlog: the bind\'s, the proxy\'s, then maxconn (bind, proxy, global) as in HAProxy', { skip: skipWithoutHaproxy || ssMissing, timeout: 60_000 }, async () => {
  const seen: Record<string, Record<string, number | undefined>> = {}
  for (const label of ['haproxy', 'ours'] as const) {
    const ports = await Promise.all(CASES.map(async () => await freePort()))
    const tcpPort = await freePort()
    const proxy = await startProxy(label, (port) => [
      'global',
      '    maxconn 300',
      'defaults named',
      '    mode http',
      '    timeout connect 1s',
      '    timeout client 5s',
      '    timeout server 5s',
      'frontend first',
      `    bind 127.0.0.1:${port}`,
      '    http-request return status 200',
      ...CASES.flatMap(([name, bind, lines], i) => [
        `frontend ${name}`,
        `    bind 127.0.0.1:${ports[i]!} ${bind}`,
        ...lines.map(l => `    ${l}`),
        '    http-request return status 200'
      ]),
      'defaults tcp',
      '    mode tcp',
      '    timeout connect 1s',
      '    timeout client 5s',
      '    timeout server 5s',
      '    backlog 33',
      'listen tcp-from-defaults',
      `    bind 127.0.0.1:${tcpPort}`,
      '    server s1 127.0.0.1:1',
      ''
    ].join('\n'))
    try {
      // the CLI opens its listeners one after the other: wait for the last
      let kernel = backlogs()
      const deadline = Date.now() + 10_000
      while ((!kernel.has(tcpPort) || ports.some(p => !kernel.has(p))) && Date.now() < deadline) {
        await new Promise(resolve => setTimeout(resolve, 50))
        kernel = backlogs()
      }
      seen[label] = Object.fromEntries([...CASES.map(([name], i) => [name, kernel.get(ports[i]!)]), ['tcp-from-defaults', kernel.get(tcpPort)]])
    } finally {
      await proxy.stop()
    }
  }
  assert.deepEqual(seen.haproxy, { 'bind-backlog': 20, 'proxy-backlog': 50, 'bind-maxconn': 70, 'proxy-maxconn': 100, 'global-maxconn': 300, defaults: 300, 'tcp-from-defaults': 33 })
  assert.deepEqual(seen.ours, seen.haproxy)
})
