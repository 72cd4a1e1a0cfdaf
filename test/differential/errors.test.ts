// Error answers, side by side: statuses, HAProxy's bodies and the headers that go with them,
// for answers made by the proxy itself (deny, return, redirect, auth) and for upstream failures
// (no server, refused connection with and without retries, invalid response, timeout).

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startBoth, startUpstream, startRawUpstream, freePort, send, head, skipWithoutHaproxy, type Answer, type Upstream } from './harness.js'

interface Case {
  path: string
  /** HAProxy's status, asserted on its own answer too. */
  status: number
  /** HAProxy's answer took half a second or more (retries on one server wait 1 s each); compared. */
  slow?: boolean
}

const cases: Case[] = [
  { path: '/deny', status: 403 },
  { path: '/deny429', status: 429 },
  { path: '/return', status: 200 },
  { path: '/redirect', status: 301 },
  { path: '/redirect308', status: 308 },
  { path: '/redirect303', status: 303 },
  { path: '/redirect-prefix/x?y=1', status: 302 },
  { path: '/auth', status: 401 },
  { path: '/no-server', status: 503 },
  { path: '/all-disabled', status: 503 },
  { path: '/refused', status: 503 },
  { path: '/refused-retries', status: 503, slow: true },
  { path: '/refused-redispatch', status: 200, slow: false },
  { path: '/garbage', status: 502 },
  { path: '/closed', status: 502 },
  { path: '/slow', status: 504 },
  { path: '/no-default', status: 503 }
]

const comparedHeaders = ['content-type', 'cache-control', 'location', 'www-authenticate', 'x-served-by']

function view (a: Answer, ms: number, c: Case): unknown {
  return {
    status: a.status,
    body: a.body,
    headers: Object.fromEntries(comparedHeaders.map(h => [h, a.headers[h]])),
    ...(c.slow === undefined ? {} : { slow: ms >= 500 })
  }
}

async function timed (port: number, path: string): Promise<[Answer, number]> {
  const t0 = performance.now()
  const a = await send(port, { path, headers: { host: 'www.example.com' } })
  return [a, performance.now() - t0]
}

describe('differential: error answers vs real HAProxy', { skip: skipWithoutHaproxy }, () => {
  let live: Upstream
  let slow: Upstream
  const raw: Array<{ close (): Promise<void> }> = []
  let both: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    live = await startUpstream('live', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': 'live' }).end('live\n')
    })
    slow = await startUpstream('slow', (_req, res) => { setTimeout(() => res.end('late'), 1500) })
    const garbage = await startRawUpstream(s => { s.once('data', () => s.end('this is not HTTP\r\n\r\n')) })
    const closed = await startRawUpstream(s => { s.once('data', () => s.destroy()) })
    raw.push(garbage, closed)
    const dead = await freePort()
    both = await startBoth(port => head() + `
frontend fe
    bind 127.0.0.1:${port}
    http-request deny if { path /deny }
    http-request deny deny_status 429 if { path /deny429 }
    http-request return status 200 content-type text/plain string hello if { path /return }
    http-request redirect location /elsewhere code 301 if { path /redirect }
    http-request redirect location /elsewhere code 308 if { path /redirect308 }
    http-request redirect scheme https code 303 if { path /redirect303 }
    http-request redirect prefix /new if { path_beg /redirect-prefix/ }
    http-request auth realm Private if { path /auth }
    use_backend no-server if { path /no-server }
    use_backend all-disabled if { path /all-disabled }
    use_backend refused if { path /refused }
    use_backend refused-retries if { path /refused-retries }
    use_backend refused-redispatch if { path /refused-redispatch }
    use_backend garbage if { path /garbage }
    use_backend closed if { path /closed }
    use_backend slow if { path /slow }

backend no-server
backend all-disabled
    server d1 127.0.0.1:${live.port} disabled
backend refused
    retries 0
    server r1 127.0.0.1:${dead}
backend refused-retries
    retries 3
    server r1 127.0.0.1:${dead}
backend refused-redispatch
    balance roundrobin
    retries 3
    option redispatch
    server r1 127.0.0.1:${dead}
    server l1 127.0.0.1:${live.port}
backend garbage
    retries 0
    server g1 127.0.0.1:${garbage.port}
backend closed
    retries 0
    server c1 127.0.0.1:${closed.port}
backend slow
    timeout server 300ms
    server s1 127.0.0.1:${slow.port}
`)
  })

  after(async () => {
    await both?.stop()
    await Promise.all([live?.close(), slow?.close(), ...raw.map(r => r.close())])
  })

  for (const c of cases) {
    test(`${c.path} → ${c.status}`, async () => {
      const [[theirs, theirMs], [ours, ourMs]] = await Promise.all([timed(both.haproxy.port, c.path), timed(both.ours.port, c.path)])
      assert.equal(theirs.status, c.status, `haproxy answered ${theirs.status}`)
      if (c.slow !== undefined) assert.equal(theirMs >= 500, c.slow, `haproxy took ${Math.round(theirMs)} ms`)
      assert.deepEqual(view(ours, ourMs, c), view(theirs, theirMs, c))
    })
  }
})
