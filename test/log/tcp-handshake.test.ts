// A failed TLS handshake on a `mode tcp` bind, through real HAProxy 2.6.12 and our CLI: HAProxy
// logs it as on an HTTP bind, `<frontend>/<bind>: SSL handshake failure`, `Connection closed
// during SSL handshake` or `Timeout during SSL handshake` (`timeout client`), or in the
// `error-log-format` (`fc_err` 34, 24, 26); `option dontlognull` drops the clients that sent nothing.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { skipWithoutHaproxy } from '../differential/harness.js'
import { bothProxies } from './syslog.js'

/** Writes `text` on a new connection, closes after `closeAfterMs` (or waits for the proxy to close); its client port. */
async function raw (port: number, text: string, closeAfterMs: number | null): Promise<number> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.resume()
  const closed = new Promise(resolve => socket.once('close', resolve))
  await new Promise(resolve => socket.once('connect', resolve))
  const local = socket.localPort!
  if (text !== '') socket.write(text)
  if (closeAfterMs !== null) setTimeout(() => socket.end(), closeAfterMs)
  await closed
  return local
}

const CASES: Array<[string, string, number | null]> = [
  ['plain HTTP', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', null],
  ['close before the handshake', '', 0],
  ['nothing until timeout client', '', null]
]

for (const variant of ['tcplog', 'dontlognull', 'error-log-format'] as const) {
  test(`mode tcp, ssl bind: failed handshakes logged as real HAProxy logs them (${variant})`, { skip: skipWithoutHaproxy }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-tcp-handshake-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const pem = join(dir, 'site.pem')
    const fixtures = new URL('../runtime/fixtures/', import.meta.url)
    writeFileSync(pem, Buffer.concat([readFileSync(new URL('localhost.crt', fixtures)), readFileSync(new URL('localhost.key', fixtures))]))
    const seen = await bothProxies(log => (port) => `
global
    nbthread 1
    log 127.0.0.1:${log} format raw local0
defaults
    mode tcp
    log global
    option tcplog
${variant === 'dontlognull' ? '    option dontlognull\n' : ''}${variant === 'error-log-format' ? '    error-log-format "%ci %ft %b/%s %ST %ts %B fc_err=%[fc_err] %[fc_err_str] ssl=%[ssl_fc_err] %[ssl_fc_err_str]"\n' : ''}    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind 127.0.0.1:${port} ssl crt ${pem}
    default_backend be
backend be
    server s 127.0.0.1:9
`, async (port, syslog) => {
      const out: string[] = []
      // the harness's readiness probe closed before its handshake: its line (if any) comes first
      await new Promise(resolve => setTimeout(resolve, 300))
      let seenLines = syslog.lines.length
      for (const [name, text, close] of CASES) {
        await raw(port, text, close)
        const deadline = Date.now() + 1000
        while (syslog.lines.length === seenLines && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
        out.push(`${name}: ${syslog.lines.slice(seenLines).map(l => l.trim().replace(/^127\.0\.0\.1(:\d+)? (\[[^\]]+\] )?/, 'CLIENT ')).join(' | ') || '(no line)'}`)
        seenLines = syslog.lines.length
      }
      return out
    })
    assert.deepEqual(seen.ours, seen.haproxy)
    const expected = {
      tcplog: ['plain HTTP: CLIENT fe/1: SSL handshake failure', 'close before the handshake: CLIENT fe/1: Connection closed during SSL handshake', 'nothing until timeout client: CLIENT fe/1: Timeout during SSL handshake'],
      dontlognull: ['plain HTTP: CLIENT fe/1: SSL handshake failure', 'close before the handshake: (no line)', 'nothing until timeout client: (no line)'],
      'error-log-format': [
        'plain HTTP: CLIENT fe~ fe/<NOSRV> 0 PR 0 fc_err=34 SSL handshake failure ssl=167772316 error:0A00009C:SSL routines::http request',
        'close before the handshake: CLIENT fe~ fe/<NOSRV> 0 PR 0 fc_err=24 Connection closed during SSL handshake ssl=0 -',
        'nothing until timeout client: CLIENT fe~ fe/<NOSRV> 0 PR 0 fc_err=26 Timeout during SSL handshake ssl=0 -'
      ]
    }[variant]
    assert.deepEqual(seen.haproxy, expected)
  })
}
