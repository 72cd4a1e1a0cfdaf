// `shutdown sessions server <backend>/<server>` on the runtime API (management.txt §9.3): the
// requests under way on that server are cut at once, as HAProxy 2.6.12 does (observed on
// loopback): one still waiting for its answer gets a 502, one whose answer is streaming is cut
// off mid-body, and the log names them `KH--` and `KD--` (killed by an administrator). With real
// HAProxy installed, the same scenario runs through it too.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServerResponse } from 'node:http'
import { haproxyBin, startProxy, startUpstream } from '../differential/harness.js'
import { rawRequest, waitFor } from '../gateway/fixtures.js'
import { termination } from './cut-sessions.js'
import { cli } from '../socket/client.js'

const config = (up: number, sock: string) => (port: number): string => `
global
    log stdout format raw local0
    stats socket ${sock} level admin
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
    server s1 127.0.0.1:${up}
`

test('shutdown sessions server cuts the requests under way on that server', async (t) => {
  const held: ServerResponse[] = []
  const up = await startUpstream('u', (req, res) => {
    held.push(res)
    if (req.url === '/stream') { res.writeHead(200, { 'content-type': 'text/plain' }); res.write('first') }
  })
  const dir = mkdtempSync(join(tmpdir(), 'fh-shutdown-sessions-'))
  t.after(async () => { for (const r of held) r.destroy(); await up.close(); rmSync(dir, { recursive: true, force: true }) })
  for (const label of haproxyBin === null ? ['ours'] as const : ['haproxy', 'ours'] as const) {
    const sock = join(dir, `${label}.sock`)
    const proxy = await startProxy(label, config(up.port, sock))
    try {
      const before = up.seen.length
      const waiting = rawRequest(proxy.port, 'GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 30_000)
      const streaming = rawRequest(proxy.port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 30_000)
      await waitFor(() => up.seen.length === before + 2, 'both requests at the server')
      assert.equal((await cli(sock, 'shutdown sessions server be/s1\n')).trim(), '', `${label}: the command's answer`)
      const [w, s] = await Promise.all([waiting, streaming])
      assert.equal(w.status, 502, `${label}: the waiting request`)
      assert.equal(s.status, 200, `${label}: the streaming request`)
      assert.equal(s.text, 'first', `${label}: the streaming request, cut mid-body`)
      assert.deepEqual([await termination(proxy.output, '/wait'), await termination(proxy.output, '/stream')], ['KH--', 'KD--'], `${label}: the log`)
    } finally {
      await proxy.stop()
    }
  }
})
