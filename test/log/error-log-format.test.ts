// `error-log-format` and its fetches (`fc_err`, `fc_err_str`, `ssl_fc_err`, `ssl_fc_err_str`):
// the line of a TLS handshake that failed, compared with real HAProxy on the same connections
// (plain HTTP sent to a TLS bind; a client that leaves before its handshake).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { head, skipWithoutHaproxy } from '../differential/harness.js'
import { bothProxies } from './syslog.js'

const fixtures = new URL('../runtime/fixtures/', import.meta.url)

/** Writes `text` on a new connection (nothing when empty: it only closes) and waits for its end. */
async function raw (port: number, text: string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.resume()
  const closed = new Promise(resolve => socket.once('close', resolve))
  await new Promise(resolve => socket.once('connect', resolve))
  if (text === '') socket.end()
  else socket.write(text)
  await closed
}

test('error-log-format lines of failed TLS handshakes, as HAProxy writes them', { skip: skipWithoutHaproxy }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-error-log-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const pem = join(dir, 'site.pem')
  writeFileSync(pem, Buffer.concat([readFileSync(new URL('localhost.crt', fixtures)), readFileSync(new URL('localhost.key', fixtures))]))
  const seen = await bothProxies(log => (port) => `${head()}
frontend fe1
    bind 127.0.0.1:${port} ssl crt ${pem}
    log 127.0.0.1:${log} local0
    option httplog
    error-log-format "fc_err=%[fc_err] str=%[fc_err_str] ssl=%[ssl_fc_err] sslstr=%[ssl_fc_err_str] ft=%ft b=%b ST=%ST ts=%ts"
    http-request return status 200
`, async (port, syslog) => {
    // the harness's readiness probe was a connection that closed without a byte
    await syslog.wait(1)
    await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    await syslog.wait(2)
    await raw(port, '')
    await syslog.wait(3)
    return syslog.lines.map(l => l.replace(/^.*?\]: /, '').trim())
  })
  assert.deepEqual(seen.ours, seen.haproxy)
  assert.deepEqual(seen.ours, [
    'fc_err=24 str=Connection closed during SSL handshake ssl=0 sslstr=- ft=fe1~ b=fe1 ST=0 ts=PR',
    'fc_err=34 str=SSL handshake failure ssl=167772316 sslstr=error:0A00009C:SSL routines::http request ft=fe1~ b=fe1 ST=0 ts=PR',
    'fc_err=24 str=Connection closed during SSL handshake ssl=0 sslstr=- ft=fe1~ b=fe1 ST=0 ts=PR'
  ])
})
