// `minconn` with `fullconn` (configuration.txt §4.2 fullconn, §5.2 minconn): a server's maxconn
// follows the backend's load, at least minconn, maxconn once the backend holds fullconn sessions.
// Six slow requests at once; the upstream counts how many it serves at the same time. The same
// config runs through real HAProxy when it is installed.

import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { haproxyInstalled, withHaproxy } from '../acl/real-haproxy.js'
import { gatewayApp, get } from './fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'minconn-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** An upstream that answers after `ms` and records the most requests it held at once. */
async function slowUpstream (ms: number): Promise<{ port: number, peak: () => number, close: () => Promise<void> }> {
  let now = 0
  let peak = 0
  const server = http.createServer((_req, res) => {
    peak = Math.max(peak, ++now)
    setTimeout(() => { now--; res.end('ok') }, ms)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    peak: () => peak,
    close: async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) }
  }
}

const config = (bind: number, upstream: number, fullconn: number): string => `
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout queue 5s
frontend fe
    bind 127.0.0.1:${bind}
    default_backend be
backend be
    fullconn ${fullconn}
    server s 127.0.0.1:${upstream} minconn 2 maxconn 10
`

async function peakWith (fullconn: number, serve: (cfg: (port: number) => string, run: (port: number) => Promise<void>) => Promise<void>): Promise<number> {
  const up = await slowUpstream(300)
  try {
    await serve((port) => config(port, up.port, fullconn), async (port) => {
      const answers = await Promise.all(Array.from({ length: 6 }, async () => await get(port, '/')))
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 200])
    })
    return up.peak()
  } finally {
    await up.close()
  }
}

const ours = async (cfg: (port: number) => string, run: (port: number) => Promise<void>): Promise<void> => {
  const { app, port } = await gatewayApp(cfg(1))
  try { await run(port) } finally { await app.close() }
}
const real = async (cfg: (port: number) => string, run: (port: number) => Promise<void>): Promise<void> => {
  await withHaproxy(join(dir, 'haproxy.cfg'), cfg, run)
}

test('a light load keeps the server at minconn; at fullconn it takes maxconn', async () => {
  assert.equal(await peakWith(100, ours), 2, 'six sessions of a fullconn of 100: the limit stays at minconn 2')
  assert.equal(await peakWith(6, ours), 6, 'six sessions of a fullconn of 6: the limit is maxconn (10), all six at once')
})

test('real HAProxy 2.6 does the same', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
  assert.equal(await peakWith(100, real), 2)
  assert.equal(await peakWith(6, real), 6)
})
