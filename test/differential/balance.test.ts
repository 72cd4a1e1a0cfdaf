// Balancing order, side by side: a fresh real HAProxy and a fresh CLI get the same sequence of
// requests per backend; the servers that answer must come in the same order.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startBoth, startUpstream, send, head, skipWithoutHaproxy, type Upstream } from './harness.js'

interface Case {
  backend: string
  /** Lines after `backend NAME`; `@a` … `@d` stand for the upstream ports. */
  lines: string[]
  /** How many requests to send, one after the other. */
  count: number
}

const cases: Case[] = [
  { backend: 'rr-5-1-1', lines: ['balance roundrobin', 'server a @a weight 5', 'server b @b weight 1', 'server c @c weight 1'], count: 15 },
  { backend: 'rr-1-3', lines: ['balance roundrobin', 'server a @a weight 1', 'server b @b weight 3'], count: 9 },
  { backend: 'rr-2-3', lines: ['balance roundrobin', 'server a @a weight 2', 'server b @b weight 3'], count: 11 },
  { backend: 'rr-equal', lines: ['balance roundrobin', 'server a @a', 'server b @b', 'server c @c', 'server d @d'], count: 9 },
  { backend: 'rr-3-2-1-0', lines: ['balance roundrobin', 'server a @a weight 3', 'server b @b weight 2', 'server c @c weight 1', 'server d @d weight 0'], count: 13 },
  { backend: 'rr-default', lines: ['server a @a', 'server b @b weight 2'], count: 7 },
  { backend: 'rr-disabled', lines: ['balance roundrobin', 'server a @a disabled', 'server b @b', 'server c @c'], count: 5 },
  { backend: 'rr-backup', lines: ['balance roundrobin', 'server a @a', 'server b @b backup', 'server c @c'], count: 5 },
  { backend: 'static-rr-3-1', lines: ['balance static-rr', 'server a @a weight 3', 'server b @b weight 1'], count: 9 },
  { backend: 'first', lines: ['balance first', 'server a @a', 'server b @b'], count: 4 },
  { backend: 'leastconn', lines: ['balance leastconn', 'server a @a', 'server b @b', 'server c @c'], count: 7 }
]

const config = (ports: Record<string, number>) => (port: number): string => head() + [
  'frontend fe',
  `    bind 127.0.0.1:${port}`,
  ...cases.map(c => `    use_backend ${c.backend} if { path_beg /${c.backend}/ }`),
  '',
  ...cases.flatMap(c => [`backend ${c.backend}`, ...c.lines.map(l => '    ' + l.replace(/@([a-d])/, (_m, n: string) => `127.0.0.1:${ports[n]}`)), ''])
].join('\n')

async function sequence (port: number, c: Case): Promise<string[]> {
  const order: string[] = []
  for (let i = 0; i < c.count; i++) {
    const a = await send(port, { path: `/${c.backend}/${i}` })
    order.push(a.status === 200 ? String(a.headers['x-served-by']) : `status ${a.status}`)
  }
  return order
}

describe('differential: balancing order vs real HAProxy', { skip: skipWithoutHaproxy }, () => {
  const upstreams: Upstream[] = []
  let both: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    for (const name of ['a', 'b', 'c', 'd']) upstreams.push(await startUpstream(name))
    both = await startBoth(config(Object.fromEntries(upstreams.map(u => [u.name, u.port]))))
  })

  after(async () => {
    await both?.stop()
    await Promise.all(upstreams.map(u => u.close()))
  })

  for (const c of cases) {
    test(`${c.backend}: ${c.lines.join('; ')}`, async () => {
      const [theirs, ours] = await Promise.all([sequence(both.haproxy.port, c), sequence(both.ours.port, c)])
      assert.equal(theirs.length, c.count)
      assert.ok(theirs.every(s => !s.startsWith('status')), `haproxy answered ${theirs.join(' ')}`)
      assert.deepEqual(ours, theirs)
    })
  }
})
