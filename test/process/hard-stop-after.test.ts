// `hard-stop-after` and `grace` (configuration.txt §3.1), against real HAProxy 2.6.12: after a
// soft stop (SIGUSR1) the process waits for the requests under way, but no longer than
// `hard-stop-after`; then the connections left are cut (a request waiting for its server answered
// 502, `KH`; a download under way cut, `KD`) and it exits, saying so in HAProxy's words. With
// `grace`, the soft stop itself begins that much after the signal, the listeners serving until then.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliPath, freePort, haproxyBin, skipWithoutHaproxy, startUpstream } from '../differential/harness.js'
import { waitListening } from '../gateway/fixtures.js'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** A GET on its own connection: its status and whether its answer ended whole (false: cut). */
function get (port: number, path: string, onHead: () => void): Promise<{ status: number, whole: boolean }> {
  return new Promise((resolve) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      onHead()
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, whole: true }))
      res.on('aborted', () => resolve({ status: res.statusCode!, whole: false }))
      res.on('error', () => resolve({ status: res.statusCode!, whole: false }))
    }).on('error', () => resolve({ status: 0, whole: false })).end()
  })
}

interface Run {
  answers: Array<{ status: number, whole: boolean }>
  /** A request sent 300 ms after the signal (null when none is sent). */
  during: number | null
  said: string[]
}

/** HAProxy's stop messages, without its `[WARNING]  (pid) : ` / `[NOTICE]   (pid) : ` prefix. */
const STOP_LINE = /^(\[(WARNING|NOTICE)\]\s+\(\d+\) : )?(soft-stop running|Proxy \S+ hard-stopped|Scheduling a soft-stop|Grace period expired)/

/**
 * Real HAProxy, then our CLI, on `global` lines: a request the server never answers by itself
 * and a download are under way when SIGUSR1 comes (and, with `during`, one more request 300 ms
 * after it); each process must end before the server answers. `minMs`: the least it lasts.
 */
async function stopBoth (global: string[], during: boolean, minMs: number): Promise<Record<'haproxy' | 'ours', Run>> {
  // `/wait` is answered when the test ends, `/stream` sends a line every 100 ms until then
  const pending: Array<() => void> = []
  const up = await startUpstream('s1', (req, res) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      const timer = setInterval(() => res.write('line\n'), 100)
      pending.push(() => { clearInterval(timer); res.end() })
      return
    }
    if (req.url === '/now') { res.end('now\n'); return }
    pending.push(() => res.end('late\n'))
  })
  const dir = mkdtempSync(join(tmpdir(), 'fh-hard-stop-'))
  const seen: Partial<Record<'haproxy' | 'ours', Run>> = {}
  try {
    for (const label of ['haproxy', 'ours'] as const) {
      const port = await freePort()
      const file = join(dir, `${label}.cfg`)
      writeFileSync(file, [
        'global',
        ...global.map(l => `    ${l}`),
        'defaults',
        '    mode http',
        '    timeout connect 1s',
        '    timeout client 30s',
        '    timeout server 30s',
        'frontend fe',
        `    bind 127.0.0.1:${port}`,
        '    default_backend be',
        'backend be',
        `    server s1 127.0.0.1:${up.port}`,
        ''
      ].join('\n'))
      const child = label === 'haproxy' ? spawn(haproxyBin!, ['-db', '-f', file]) : spawn(process.execPath, [cliPath, '-f', file])
      let out = ''
      child.stdout.on('data', (d: Buffer) => { out += d.toString() })
      child.stderr.on('data', (d: Buffer) => { out += d.toString() })
      const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
      try {
        await waitListening(port)
        const before = up.seen.length
        let streaming = false
        const answers = Promise.all([get(port, '/wait', () => {}), get(port, '/stream', () => { streaming = true })])
        while (up.seen.length < before + 2 || !streaming) await sleep(20)
        const stoppedAt = Date.now()
        child.kill('SIGUSR1')
        let duringStatus: number | null = null
        if (during) {
          await sleep(300)
          duringStatus = (await get(port, '/now', () => {})).status
        }
        // the upstream never answers /wait by itself: the process ends without it
        await exited
        const lasted = Date.now() - stoppedAt
        assert.ok(lasted >= minMs, `${label} lasted ${lasted} ms, less than ${minMs}`)
        seen[label] = {
          answers: await answers,
          during: duringStatus,
          said: out.split('\n').filter(l => STOP_LINE.test(l)).map(l => l.replace(/^\[(WARNING|NOTICE)\]\s+\(\d+\) : /, ''))
        }
      } finally {
        child.kill('SIGKILL')
        await exited
        for (const release of pending.splice(0)) release()
      }
    }
  } finally {
    await up.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return seen as Record<'haproxy' | 'ours', Run>
}

test('hard-stop-after: a soft stop ends with the connections left cut, as in HAProxy', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const seen = await stopBoth(['hard-stop-after 1s'], false, 900)
  assert.deepEqual(seen.ours, seen.haproxy)
  assert.deepEqual(seen.haproxy, {
    answers: [{ status: 502, whole: true }, { status: 200, whole: false }],
    during: null,
    said: ['soft-stop running for too long, performing a hard-stop.', 'Proxy fe hard-stopped (2 remaining conns will be closed).']
  })
})

test('grace: the listeners serve on after SIGUSR1 for that time, then the soft stop (and hard-stop-after) as in HAProxy', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const seen = await stopBoth(['grace 1s', 'hard-stop-after 1s'], true, 1900)
  assert.deepEqual(seen.ours, seen.haproxy)
  assert.deepEqual(seen.haproxy, {
    answers: [{ status: 502, whole: true }, { status: 200, whole: false }],
    during: 200,
    said: [
      'Scheduling a soft-stop in 1000 ms.',
      'Grace period expired, proceeding with soft-stop now.',
      'soft-stop running for too long, performing a hard-stop.',
      'Proxy fe hard-stopped (2 remaining conns will be closed).'
    ]
  })
})
