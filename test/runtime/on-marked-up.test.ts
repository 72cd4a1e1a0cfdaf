// `on-marked-up shutdown-backup-sessions` (§5.2): when a health check marks a (non-backup) server
// UP, the requests under way on the backend's backup servers are cut at once, as HAProxy 2.6.12
// does (observed on loopback): one still waiting for its answer gets a 502, one whose answer is
// streaming is cut off mid-body; the log names them `DH--` and `DD--` (HAProxy's "killed by an
// administrative action"). With real HAProxy installed, the same scenario runs through it too.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import type { ServerResponse } from 'node:http'
import { freePort, haproxyBin, startProxy, startUpstream } from '../differential/harness.js'
import { rawRequest, waitFor } from '../gateway/fixtures.js'
import { termination } from './cut-sessions.js'

const config = (primary: number, check: number, backup: number) => (port: number): string => `
global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout client 30s
    timeout server 30s
    timeout connect 2s
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${primary} check port ${check} inter 100ms fall 1 rise 1 on-marked-up shutdown-backup-sessions
    server b1 127.0.0.1:${backup} backup
`

test('on-marked-up shutdown-backup-sessions cuts the backups\' requests when the server comes UP', async (t) => {
  // the backup never finishes: only the cut can end these requests
  const held: ServerResponse[] = []
  const backup = await startUpstream('backup', (req, res) => {
    held.push(res)
    if (req.url === '/stream') { res.writeHead(200, { 'content-type': 'text/plain' }); res.write('first') }
  })
  const primary = await startUpstream('primary')
  t.after(async () => { for (const r of held) r.destroy(); await backup.close(); await primary.close() })
  for (const label of haproxyBin === null ? ['ours'] as const : ['haproxy', 'ours'] as const) {
    // nothing answers the checks yet: s1 starts DOWN after its first check, the backup serves
    const checkPort = await freePort()
    const proxy = await startProxy(label, config(primary.port, checkPort, backup.port))
    const checks = net.createServer((s) => s.destroy())
    try {
      const before = backup.seen.length
      const waiting = rawRequest(proxy.port, 'GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 30_000)
      const streaming = rawRequest(proxy.port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 30_000)
      await waitFor(() => backup.seen.length === before + 2, 'both requests at the backup')
      await new Promise<void>((resolve) => checks.listen(checkPort, '127.0.0.1', resolve))
      const [w, s] = await Promise.all([waiting, streaming])
      assert.equal(w.status, 502, `${label}: the waiting request`)
      assert.equal(s.status, 200, `${label}: the streaming request`)
      // the backup never ends this body: the connection closing is the cut
      assert.equal(s.text, 'first', `${label}: the streaming request, cut mid-body`)
      assert.deepEqual([await termination(proxy.output, '/wait'), await termination(proxy.output, '/stream')], ['UH--', 'UD--'], `${label}: the log`)
      // the next request goes to the server that came up
      const next = await rawRequest(proxy.port, 'GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
      assert.equal(next.status, 200)
      assert.equal(primary.seen.at(-1)?.url, '/next')
    } finally {
      await proxy.stop()
      await new Promise<void>((resolve) => checks.close(() => resolve()))
    }
  }
})
