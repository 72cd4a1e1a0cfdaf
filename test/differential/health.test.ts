// Health checks, side by side: a checked server stops, both proxies must take it out of the
// rotation and show it DOWN on the stats page (with HAProxy's check status); it comes back on the
// same port, and both must put it back.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { startBoth, freePort, send, head, skipWithoutHaproxy, type Proxied } from './harness.js'

const INTER = 200

function named (name: string): Server {
  return createServer((_req, res) => { res.writeHead(200, { 'x-served-by': name }).end(name) })
}

function listen (server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
}

function close (server: Server): Promise<void> {
  return new Promise(resolve => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

async function served (p: Proxied, n: number): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const a = await send(p.port, { path: `/x${i}` })
    out.push(a.status === 200 ? String(a.headers['x-served-by']) : `status ${a.status}`)
  }
  return out
}

/**
 * `status` and `check_status` of each server row of backend `app`, from the stats CSV. A check
 * running at the moment of the read shows as `* L4CON`: that is when, not what, so it is dropped.
 */
async function serverStates (p: Proxied): Promise<Record<string, string>> {
  const csv = (await send(p.port, { path: '/stats;csv' })).body
  const [header, ...rows] = csv.trim().split('\n')
  const cols = header.replace(/^# /, '').split(',')
  const at = (row: string[], name: string): string => row[cols.indexOf(name)] ?? ''
  const out: Record<string, string> = {}
  for (const line of rows) {
    const row = line.split(',')
    if (at(row, 'pxname') === 'app' && at(row, 'svname') !== 'BACKEND') out[at(row, 'svname')] = `${at(row, 'status')} ${at(row, 'check_status').replace(/^\* /, '')}`
  }
  return out
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Waits until both proxies' stats show the server states `wanted` (checks take as long as the
 * machine needs: a condition, not a duration; the bound only ends a test that would never pass).
 */
async function settled (both: { haproxy: Proxied, ours: Proxied }, wanted: Record<string, string>): Promise<void> {
  const deadline = Date.now() + 60_000
  const matches = (states: Record<string, string>): boolean => Object.entries(wanted).every(([k, v]) => states[k] === v)
  for (;;) {
    const [theirs, ours] = await Promise.all([serverStates(both.haproxy), serverStates(both.ours)])
    if (matches(theirs) && matches(ours)) return
    if (Date.now() > deadline) assert.fail(`states never reached ${JSON.stringify(wanted)}: haproxy ${JSON.stringify(theirs)}, ours ${JSON.stringify(ours)}`)
    await sleep(INTER / 2)
  }
}

describe('differential: health checks vs real HAProxy', { skip: skipWithoutHaproxy }, () => {
  const a = named('a')
  let b = named('b')
  let bPort = 0
  let both: Awaited<ReturnType<typeof startBoth>>

  before(async () => {
    const aPort = await freePort()
    bPort = await freePort()
    await listen(a, aPort)
    await listen(b, bPort)
    both = await startBoth(port => head() + `
frontend fe
    bind 127.0.0.1:${port}
    stats enable
    stats uri /stats
    default_backend app

backend app
    balance roundrobin
    default-server check inter ${INTER} fall 2 rise 2
    server a 127.0.0.1:${aPort}
    server b 127.0.0.1:${bPort}
`)
    await settled(both, { a: 'UP L4OK', b: 'UP L4OK' })
  })

  after(async () => {
    await both?.stop()
    await Promise.all([close(a), b.listening ? close(b) : Promise.resolve()])
  })

  test('both servers up: roundrobin over both, stats UP L4OK', async () => {
    const [theirs, ours] = await Promise.all([served(both.haproxy, 4), served(both.ours, 4)])
    assert.deepEqual(new Set(theirs), new Set(['a', 'b']), theirs.join(' '))
    assert.deepEqual(ours, theirs)
    const [theirStates, ourStates] = await Promise.all([serverStates(both.haproxy), serverStates(both.ours)])
    assert.deepEqual(theirStates, { a: 'UP L4OK', b: 'UP L4OK' })
    assert.deepEqual(ourStates, theirStates)
  })

  test('b stops: after `fall` failed checks it is DOWN and gets no request', async () => {
    await close(b)
    await settled(both, { b: 'DOWN L4CON' })
    const [theirs, ours] = await Promise.all([served(both.haproxy, 4), served(both.ours, 4)])
    assert.deepEqual(theirs, ['a', 'a', 'a', 'a'])
    assert.deepEqual(ours, theirs)
    const [theirStates, ourStates] = await Promise.all([serverStates(both.haproxy), serverStates(both.ours)])
    assert.equal(theirStates.b, 'DOWN L4CON')
    assert.deepEqual(ourStates, theirStates)
  })

  test('b comes back on its port: after `rise` good checks it is UP and in the rotation again', async () => {
    b = named('b')
    await listen(b, bPort)
    await settled(both, { a: 'UP L4OK', b: 'UP L4OK' })
    const [theirs, ours] = await Promise.all([served(both.haproxy, 4), served(both.ours, 4)])
    assert.deepEqual(new Set(theirs), new Set(['a', 'b']), theirs.join(' '))
    assert.deepEqual(new Set(ours), new Set(theirs), ours.join(' '))
    const [theirStates, ourStates] = await Promise.all([serverStates(both.haproxy), serverStates(both.ours)])
    assert.deepEqual(theirStates, { a: 'UP L4OK', b: 'UP L4OK' })
    assert.deepEqual(ourStates, theirStates)
  })
})
