// `monitor-uri`, side by side: which request targets HAProxy answers itself, before any
// http-request rule or backend, and with what.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startBoth, startUpstream, send, head, skipWithoutHaproxy, type Ask, type Upstream } from './harness.js'

const asks: Ask[] = [
  { path: '/health' },
  { path: '/health', method: 'HEAD' },
  { path: '/health', method: 'POST', body: 'x' },
  { path: '/health?x=1' },
  { path: '/health/' },
  { path: '/Health' },
  { path: '/%68ealth' },
  { path: 'http://localhost/health', headers: { host: 'localhost' } },
  { path: '/other' }
]

describe('differential: monitor-uri', { skip: skipWithoutHaproxy }, () => {
  let app: Upstream
  let both: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    app = await startUpstream('app1')
    both = await startBoth(port => `${head()}
frontend fe
    bind 127.0.0.1:${port}
    monitor-uri /health
    http-request deny if { path_beg /health }
    default_backend app
backend app
    server app1 127.0.0.1:${app.port}
`)
  })
  after(async () => { await both?.stop(); await app?.close() })

  for (const ask of asks) {
    test(`${ask.method ?? 'GET'} ${ask.path}`, async () => {
      const theirs = await send(both.haproxy.port, ask)
      const ours = await send(both.ours.port, ask)
      // a proxied answer echoes the Host each proxy was reached on: compare who served it instead
      const view = (a: typeof theirs): unknown => ({
        status: a.status,
        body: a.headers['x-served-by'] === undefined ? a.body : '(proxied)',
        contentType: a.headers['content-type'],
        cacheControl: a.headers['cache-control'],
        servedBy: a.headers['x-served-by'] ?? null
      })
      assert.deepEqual(view(ours), view(theirs))
    })
  }
})
