// `log stdout`: the CLI writes the lines of one event-loop turn together (one write, not one per
// request), so nothing may be lost or reordered by it: every request's line comes out once, in the
// order the requests ended, and the lines of requests still under way when a soft stop begins
// are written before the process exits.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliPath, freePort } from '../differential/harness.js'

function get (port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, res => {
      res.resume()
      res.once('end', () => resolve(res.statusCode ?? 0))
    })
    req.once('error', reject)
    req.end()
  })
}

test('log stdout: one line per request, in order, none lost at a soft stop', async () => {
  // /last/… are held until the soft stop has begun
  let held = 0
  let release = (): void => {}
  const released = new Promise<void>(resolve => { release = resolve })
  const upstream: Server = createServer((req, res) => {
    if (req.url?.startsWith('/last/') !== true) { res.end(req.url); return }
    held++
    void released.then(() => res.end(req.url))
  })
  await new Promise<void>(resolve => upstream.listen(0, '127.0.0.1', resolve))
  const dir = mkdtempSync(join(tmpdir(), 'fh-log-stdout-'))
  const port = await freePort()
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, `defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:${port}
    option httplog
    log stdout format raw local0
    default_backend be
backend be
    server s1 127.0.0.1:${(upstream.address() as AddressInfo).port}
`)
  const child = spawn(process.execPath, [cliPath, '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('latin1').on('data', (d: string) => { out += d })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const lines = (): string[] => out.split('\n').filter(l => l.includes(' fe be/s1 '))
  try {
    const deadline = Date.now() + 20_000
    for (;;) {
      try { await get(port, '/warm'); break } catch (err) {
        if (Date.now() > deadline) throw err
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    }
    // one after the other: their lines in that order
    for (let i = 0; i < 30; i++) assert.equal(await get(port, `/seq/${i}`), 200)
    // many ending in the same turns of the loop: each line once
    const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => get(port, `/burst/${i}`)))
    assert.ok(statuses.every(s => s === 200))
    // the last ones are under way when the soft stop begins: they finish, and their lines are
    // written before the process exits
    const last = Array.from({ length: 20 }, (_, i) => get(port, `/last/${i}`))
    const deadline2 = Date.now() + 20_000
    while (held < 20 && Date.now() < deadline2) await new Promise(resolve => setTimeout(resolve, 20))
    assert.equal(held, 20)
    child.kill('SIGUSR1')
    await new Promise(resolve => setTimeout(resolve, 200))
    release()
    assert.deepEqual(await Promise.all(last), Array(20).fill(200))
    assert.equal(await exited, 0)

    const all = lines()
    const paths = all.map(l => /"GET (\S+) HTTP\/1\.1"$/.exec(l)?.[1])
    assert.equal(all.length, 1 + 30 + 60 + 20, out)
    assert.deepEqual(paths.filter(p => p?.startsWith('/seq/')), Array.from({ length: 30 }, (_, i) => `/seq/${i}`))
    assert.deepEqual(paths.filter(p => p?.startsWith('/burst/')).sort(), Array.from({ length: 60 }, (_, i) => `/burst/${i}`).sort())
    assert.deepEqual(paths.filter(p => p?.startsWith('/last/')).sort(), Array.from({ length: 20 }, (_, i) => `/last/${i}`).sort())
    // whole lines only: every line of the output is one line of the format, none cut or run together
    for (const l of all) assert.match(l, /^127\.0\.0\.1:\d+ \[\d\d\/\w{3}\/\d{4}:[\d:.]+\] fe be\/s1 \d+\/\d+\/\d+\/\d+\/\d+ 200 \d+ - - ---- [\d/]+ \d+\/\d+ "GET \S+ HTTP\/1\.1"$/)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await new Promise<void>(resolve => upstream.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  }
})
