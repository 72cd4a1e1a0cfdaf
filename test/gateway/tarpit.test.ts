// `http-request tarpit` holds the request for `timeout tarpit` before its answer (500, or its
// deny_status); `http-request silent-drop` answers nothing and leaves the connection open
// (configuration.txt §4.2). The CLI and (when installed) real HAProxy run the same config.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { haproxyInstalled, withHaproxy } from '../acl/real-haproxy.js'
import { withGateway } from './fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'tarpit-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const TARPIT_MS = 400

const config = (port: number): string => `
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
    timeout tarpit ${TARPIT_MS}ms
frontend fe
    bind 127.0.0.1:${port}
    http-request silent-drop if { path /drop }
    http-request tarpit if { path /tarpit }
    http-request tarpit deny_status 403 if { path /tarpit403 }
    http-request return status 200
`

/** The status line of the answer and how long it took; '' when nothing came within `waitMs` and the connection stayed open. */
async function ask (port: number, path: string, waitMs: number): Promise<{ line: string, ms: number, open: boolean }> {
  return await new Promise((resolve, reject) => {
    const t0 = Date.now()
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nhost: h\r\n\r\n`))
    let data = ''
    const timer = setTimeout(() => { s.destroy(); resolve({ line: data.split('\r\n')[0]!, ms: Date.now() - t0, open: true }) }, waitMs)
    s.on('data', (c: Buffer) => {
      data += c.toString('latin1')
      if (data.includes('\r\n\r\n')) { clearTimeout(timer); s.destroy(); resolve({ line: data.split('\r\n')[0]!, ms: Date.now() - t0, open: true }) }
    })
    s.on('close', () => { clearTimeout(timer); resolve({ line: data.split('\r\n')[0]!, ms: Date.now() - t0, open: false }) })
    s.on('error', reject)
  })
}

async function check (port: number): Promise<void> {
  const tarpit = await ask(port, '/tarpit', 10_000)
  assert.equal(tarpit.line, 'HTTP/1.1 500 Internal Server Error')
  assert.ok(tarpit.ms >= TARPIT_MS - 20, `held ${tarpit.ms} ms, at least timeout tarpit`)
  assert.equal((await ask(port, '/tarpit403', 10_000)).line, 'HTTP/1.1 403 Forbidden')
  const drop = await ask(port, '/drop', 500)
  assert.deepEqual([drop.line, drop.open], ['', true], 'no answer, and no close either')
  assert.equal((await ask(port, '/', 10_000)).line, 'HTTP/1.1 200 OK')
}

describe('tarpit and silent-drop', () => {
  test('through the CLI', async () => {
    await withGateway(join(dir, 'ours.cfg'), config, check)
  })

  test('through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
    await withHaproxy(join(dir, 'real.cfg'), config, check)
  })
})
