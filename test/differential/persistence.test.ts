// Cookie persistence (configuration.txt §4.2 cookie, §5.2 server cookie), side by side: a fresh
// real HAProxy and a fresh CLI get the same sequence of requests per backend; the server that
// answers, the Set-Cookie and Cache-Control lines the client gets and the Cookie header the
// server saw must be the same.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { freePort, startBoth, startUpstream, send, head, skipWithoutHaproxy, type Upstream, type Seen } from './harness.js'
import { waitFor } from '../gateway/fixtures.js'

/** Says its name and the Cookie header it got; `/sc` sets its own SRV cookie, `/cc` sends a freshness hint. */
function answer (name: string) {
  return (req: IncomingMessage, res: ServerResponse, _seen: Seen): void => {
    const headers: Array<[string, string]> = [['x-served-by', name], ['x-cookie-seen', req.headers.cookie ?? '-']]
    if (req.url?.includes('sc') === true) headers.push(['set-cookie', 'SRV=app1; path=/x'], ['set-cookie', 'other=1'])
    if (req.url?.includes('cc') === true) headers.push(['cache-control', 'max-age=60'])
    res.writeHead(200, headers.flat())
    res.end(name)
  }
}

interface Case {
  backend: string
  /** Lines after `backend NAME`; `@a` … `@c` stand for the upstream ports, `@dead` for a closed one. */
  lines: string[]
  /** Requests in order: path (under /<backend>) and the Cookie header sent, if any. */
  asks: Array<[string, string?]>
  /** A server health checks must have marked DOWN before the first request. */
  down?: string
}

const cases: Case[] = [
  {
    backend: 'insert',
    lines: ['cookie SRV insert indirect nocache httponly secure domain .example.com domain .example.org', 'server a @a cookie A', 'server b @b cookie B', 'server c @c'],
    asks: [['/'], ['/'], ['/'], ['/', 'SRV=B'], ['/', 'x=1; SRV=B; y=2'], ['/cc', 'SRV=Z'], ['/cc', 'SRV=A'], ['/sc'], ['/sc', 'SRV=A'], ['/', 'SRV=']]
  },
  {
    backend: 'insert-direct',
    lines: ['cookie SRV insert', 'server a @a cookie A', 'server b @b cookie B'],
    asks: [['/', 'SRV=B'], ['/', 'SRV=B'], ['/'], ['/', 'x=1; SRV=A'], ['/sc'], ['/cc']]
  },
  {
    backend: 'preserve',
    lines: ['cookie SRV insert preserve', 'server a @a cookie A', 'server b @b cookie B'],
    asks: [['/sc'], ['/'], ['/sc', 'SRV=A']]
  },
  {
    backend: 'prefix',
    lines: ['cookie SRV prefix', 'server a @a cookie A', 'server b @b cookie B'],
    asks: [['/sc'], ['/sc', 'SRV=B~app1; z=1'], ['/', 'SRV=B'], ['/', 'SRV=A~']]
  },
  {
    backend: 'rewrite',
    lines: ['cookie SRV rewrite', 'server a @a cookie A', 'server b @b cookie B'],
    asks: [['/sc'], ['/sc', 'SRV=A'], ['/', 'SRV=B']]
  },
  {
    backend: 'passive-indirect',
    lines: ['cookie SRV indirect', 'server a @a cookie A', 'server b @b cookie B'],
    asks: [['/sc', 'SRV=B'], ['/sc'], ['/', 'SRV=A']]
  },
  {
    backend: 'down',
    lines: ['cookie SRV insert', 'server d @dead cookie D check inter 100 fall 1 rise 1', 'server b @b cookie B'],
    asks: [['/', 'SRV=D'], ['/', 'SRV=D']],
    down: 'd'
  },
  {
    backend: 'redispatch',
    lines: ['cookie SRV insert', 'option redispatch', 'retries 1', 'server d @dead cookie D', 'server b @b cookie B'],
    asks: [['/', 'SRV=D'], ['/', 'SRV=B']]
  },
  {
    backend: 'no-redispatch',
    lines: ['cookie SRV insert', 'retries 1', 'server d @dead cookie D', 'server b @b cookie B'],
    asks: [['/', 'SRV=D']]
  },
  {
    // maintenance (`disabled`) ends persistence; weight 0 (HAProxy's soft stop, like drain) keeps it
    backend: 'maint-and-weight-0',
    lines: ['cookie SRV insert', 'server m @a cookie M disabled', 'server z @c cookie Z weight 0', 'server b @b cookie B'],
    asks: [['/', 'SRV=M'], ['/', 'SRV=Z'], ['/']]
  },
  {
    backend: 'inherited',
    lines: ['server a @a cookie A', 'server b @b cookie B'],
    asks: [['/'], ['/', 'DFL=A'], ['/', 'SRV=B']]
  }
]

const config = (ports: Record<string, number>) => (port: number): string => head(['cookie DFL insert nocache']) + [
  'frontend fe',
  `    bind 127.0.0.1:${port}`,
  '    stats enable',
  '    stats uri /stats',
  ...cases.map(c => `    use_backend ${c.backend} if { path_beg /${c.backend}/ }`),
  '',
  ...cases.flatMap(c => [`backend ${c.backend}`, ...c.lines.map(l => '    ' + l.replace(/@(a|b|c|dead)/, (_m, n: string) => `127.0.0.1:${ports[n]}`)), ''])
].join('\n')

/** A server's status on the stats page (`stats uri /stats`). */
async function serverStatus (port: number, backend: string, server: string): Promise<string | undefined> {
  const csv = (await send(port, { path: '/stats;csv' })).body
  const [header, ...rows] = csv.trim().split('\n')
  const cols = header!.replace(/^# /, '').split(',')
  const row = rows.map(r => r.split(',')).find(r => r[0] === backend && r[1] === server)
  return row?.[cols.indexOf('status')]
}

/** What the client and the server saw of one request. */
async function sequence (port: number, c: Case): Promise<string[]> {
  const out: string[] = []
  for (const [path, cookie] of c.asks) {
    const a = await send(port, { path: `/${c.backend}${path}`, headers: cookie === undefined ? {} : { cookie } })
    out.push(JSON.stringify({
      ask: [path, cookie],
      status: a.status,
      server: a.headers['x-served-by'] ?? null,
      seen: a.headers['x-cookie-seen'] ?? null,
      setCookie: a.headers['set-cookie'] ?? null,
      cacheControl: a.headers['cache-control'] ?? null
    }))
  }
  return out
}

describe('differential: cookie persistence vs real HAProxy', { skip: skipWithoutHaproxy }, () => {
  const upstreams: Upstream[] = []
  let both: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    for (const name of ['a', 'b', 'c']) upstreams.push(await startUpstream(name, answer(name)))
    const ports: Record<string, number> = Object.fromEntries(upstreams.map(u => [u.name, u.port]))
    ports.dead = await freePort()
    both = await startBoth(config(ports))
    // the servers health checks take down first: a state both proxies' stats show, not a delay
    for (const c of cases.filter(c => c.down !== undefined)) {
      for (const proxy of [both.haproxy, both.ours]) await waitFor(async () => await serverStatus(proxy.port, c.backend, c.down!) === 'DOWN', `${proxy.label}: ${c.backend}/${c.down} DOWN`)
    }
  })

  after(async () => {
    await both?.stop()
    await Promise.all(upstreams.map(u => u.close()))
  })

  for (const c of cases) {
    test(`${c.backend}: ${c.lines.filter(l => !l.startsWith('server')).join('; ') || '(cookie from defaults)'}`, async (t) => {
      const [theirs, ours] = await Promise.all([sequence(both.haproxy.port, c), sequence(both.ours.port, c)])
      assert.equal(theirs.length, c.asks.length)
      for (const line of theirs) t.diagnostic(line)
      assert.deepEqual(ours, theirs)
    })
  }
})
