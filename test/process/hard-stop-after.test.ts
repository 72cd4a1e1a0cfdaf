// `hard-stop-after` (configuration.txt §3.1), against real HAProxy 2.6.12: after a soft stop
// (SIGUSR1) the process waits for the requests under way, but no longer than this; then the
// connections left are cut (a request waiting for its server answered 502, `KH`; a download under
// way cut, `KD`) and it exits, saying so in HAProxy's words.

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

test('hard-stop-after: a soft stop ends with the connections left cut, as in HAProxy', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  // `/wait` is answered when the test ends, `/stream` sends a line every 100 ms until then
  const pending: Array<() => void> = []
  const up = await startUpstream('s1', (req, res) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      const timer = setInterval(() => res.write('line\n'), 100)
      pending.push(() => { clearInterval(timer); res.end() })
      return
    }
    pending.push(() => res.end('late\n'))
  })
  const dir = mkdtempSync(join(tmpdir(), 'fh-hard-stop-'))
  try {
    const seen: Record<string, unknown> = {}
    for (const label of ['haproxy', 'ours'] as const) {
      const port = await freePort()
      const file = join(dir, `${label}.cfg`)
      writeFileSync(file, [
        'global',
        '    hard-stop-after 1s',
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
        // the upstream never answers /wait by itself: the process ends without it
        await exited
        const lasted = Date.now() - stoppedAt
        assert.ok(lasted >= 900, `${label} waited for hard-stop-after (1 s), not ${lasted} ms`)
        seen[label] = {
          answers: await answers,
          said: out.split('\n').filter(l => /^(\[WARNING\]\s+\(\d+\) : )?(soft-stop running|Proxy \S+ hard-stopped)/.test(l)).map(l => l.replace(/^\[WARNING\]\s+\(\d+\) : /, ''))
        }
      } finally {
        child.kill('SIGKILL')
        await exited
        for (const release of pending.splice(0)) release()
      }
    }
    assert.deepEqual(seen.ours, seen.haproxy)
    assert.deepEqual(seen.haproxy, {
      answers: [{ status: 502, whole: true }, { status: 200, whole: false }],
      said: ['soft-stop running for too long, performing a hard-stop.', 'Proxy fe hard-stopped (2 remaining conns will be closed).']
    })
  } finally {
    await up.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
