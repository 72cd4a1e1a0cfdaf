// Backend state: backup servers, admin states and their log lines, runtime weights, maxconn
// queues with `timeout queue`, slowstart, counters. Log texts are the ones haproxy 2.6.12
// printed for the same changes (`haproxy -db`, `set server … state` on its stats socket).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { backendOf, Log, picks, server, serverLines, txn } from './helpers.js'
import { waitFor } from '../gateway/fixtures.js'
import type { ServerRuntime } from '../../lib/runtime/backend.js'

const head = 'defaults\n  mode http\n  timeout connect 1s\nbackend be\n'

test('admin state changes are logged in HAProxy\'s words', () => {
  const log = new Log()
  const be = backendOf(`${head}  server s1 127.0.0.1:10001\n  server s2 127.0.0.1:10002\n  server s3 127.0.0.1:10003 backup\n`, log)
  const s1 = server(be, 's1')
  for (const state of ['drain', 'ready', 'maint', 'drain', 'maint', 'ready'] as const) s1.setAdmin(state)
  server(be, 's3').setAdmin('maint')
  server(be, 's3').setAdmin('ready')
  server(be, 's2').setAdmin('maint')
  s1.setAdmin('maint')
  assert.deepEqual(log.lines, [
    'Server be/s1 enters drain state. 1 active and 1 backup servers online. 0 sessions requeued, 0 total in queue.',
    'Server be/s1 is UP (leaving forced drain).',
    'Server be/s1 is going DOWN for maintenance. 1 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    'Server be/s1 is UP/DRAIN (leaving forced maintenance).',
    'Server be/s1 remains in forced drain mode.',
    'Server be/s1 is going DOWN for maintenance. 1 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    'Server be/s1 is UP/READY (leaving forced maintenance).',
    'Backup Server be/s3 is going DOWN for maintenance. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    'Backup Server be/s3 is UP/READY (leaving forced maintenance).',
    'Server be/s2 is going DOWN for maintenance. 1 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    'Server be/s1 is going DOWN for maintenance. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.'
  ])
})

test('draining the last usable server makes the backend DOWN, as haproxy logs it', () => {
  const log = new Log()
  const be = backendOf(`${head}${serverLines('1 1')}`, log)
  server(be, 's1').setAdmin('drain')
  server(be, 's2').setAdmin('drain')
  assert.deepEqual(log.lines.slice(1), [
    'Server be/s2 enters drain state. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.',
    "backend 'be' has no server available!"
  ])
  assert.equal(be.isUp, false)
  server(be, 's2').setAdmin('ready')
  assert.equal(log.lines.at(-1), 'Server be/s2 is UP (leaving forced drain).')
  assert.equal(be.isUp, true)
})

test('drain and maint take a server out of the rotation; ready brings it back', () => {
  const be = backendOf(`${head}${serverLines('1 1')}`)
  const s2 = server(be, 's2')
  s2.setAdmin('drain')
  assert.equal(picks(be, 3), 's1 s1 s1')
  assert.equal(s2.admin, 'drain')
  assert.equal(s2.op, 'up')
  s2.setAdmin('maint')
  assert.equal(s2.op, 'down')
  assert.equal(s2.chkdown, 1, 'maintenance counts as a transition to DOWN')
  assert.equal(picks(be, 2), 's1 s1')
  s2.setAdmin('ready')
  assert.equal(picks(be, 4).split(' ').filter((n) => n === 's2').length, 2)
})

test('a disabled server starts in maintenance and never gets traffic until made ready', () => {
  const be = backendOf(`${head}  server e1 127.0.0.1:10001\n  server e2 127.0.0.1:10002 disabled\n  server e3 127.0.0.1:10003\n`)
  const e2 = server(be, 'e2')
  assert.equal(e2.admin, 'maint')
  assert.equal(picks(be, 8), 'e1 e3 e1 e3 e1 e3 e1 e3')
  e2.setAdmin('ready')
  assert.ok(picks(be, 6).includes('e2'))
})

test('backup servers: unused while an active one is up; the first backup only, unless allbackups', () => {
  const cfg = '  server p1 127.0.0.1:10001\n  server b1 127.0.0.1:10002 backup\n  server b2 127.0.0.1:10003 backup\n'
  const be = backendOf(`${head}${cfg}`)
  assert.equal(picks(be, 4), 'p1 p1 p1 p1')
  server(be, 'p1').setAdmin('maint')
  assert.equal(picks(be, 4), 'b1 b1 b1 b1')
  server(be, 'b1').setAdmin('maint')
  assert.equal(picks(be, 2), 'b2 b2')
  server(be, 'b1').setAdmin('ready')
  assert.equal(picks(be, 2), 'b1 b1', 'a backup declared earlier takes over again')
  const all = backendOf(`${head}  option allbackups\n${cfg}`)
  server(all, 'p1').setAdmin('maint')
  assert.equal(picks(all, 4), 'b1 b2 b1 b2')
})

test('the backend is DOWN when no server is usable: logged, counted, timed', (t) => {
  // time is the subject: a fake clock, advanced by hand
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
  const log = new Log()
  const be = backendOf(`${head}${serverLines('1 1')}`, log)
  assert.equal(be.isUp, true)
  server(be, 's1').setAdmin('maint')
  server(be, 's2').setAdmin('maint')
  assert.equal(be.isUp, false)
  assert.equal(be.chkdown, 1)
  assert.equal(log.lines.at(-1), "backend 'be' has no server available!")
  assert.equal(be.acquire(txn(), null), null, 'no usable server: the caller answers 503')
  t.mock.timers.tick(30)
  server(be, 's2').setAdmin('ready')
  assert.equal(be.isUp, true)
  assert.equal(be.downtime(Date.now()), 30)
  assert.equal(server(be, 's1').downtime(Date.now()), 30)
  assert.equal(backendOf(`${head}`).isUp, true, 'a backend without servers is not "down" (HAProxy shows UP)')
})

test('setWeight: 0 stops new traffic, a new weight changes the share at once', () => {
  const be = backendOf(`${head}${serverLines('1 1')}`)
  const s1 = server(be, 's1')
  s1.setWeight(0)
  assert.equal(s1.weight, 0)
  assert.equal(s1.uweight, 0)
  assert.equal(picks(be, 3), 's2 s2 s2')
  s1.setWeight(3)
  const seq = picks(be, 8).split(' ')
  assert.equal(seq.filter((n) => n === 's1').length, 6)
  assert.equal(s1.weight, 3)
})

test('counters: stot, scur, smax, lbtot, lastSess', () => {
  const be = backendOf(`${head}${serverLines('1 1')}`)
  const a = be.acquire(txn(), null) as ServerRuntime
  const b = be.acquire(txn(), null) as ServerRuntime
  const c = be.acquire(txn(), null) as ServerRuntime
  assert.equal(a, c)
  assert.equal(a.counters.scur, 2)
  assert.equal(a.counters.smax, 2)
  be.release(a)
  be.release(c)
  be.release(b)
  assert.equal(a.counters.scur, 0)
  assert.equal(a.counters.smax, 2)
  assert.equal(a.counters.stot, 2)
  assert.equal(a.lbtot, 2)
  assert.equal(be.lbtot, 3)
  assert.ok(a.counters.lastSess > 0)
})

test('maxconn: requests wait in the backend queue, first come first served', async (t) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 })
  const be = backendOf(`${head}  timeout queue 2s\n${serverLines('1 1', ' maxconn 1')}`)
  const a = be.acquire(txn(), null) as ServerRuntime
  const b = be.acquire(txn(), null) as ServerRuntime
  assert.deepEqual([a.name, b.name], ['s1', 's2'])
  const w1 = be.acquire(txn(), null)
  const w2 = be.acquire(txn(), null)
  assert.ok(w1 instanceof Promise && w2 instanceof Promise)
  assert.equal(be.qcur, 2)
  assert.equal(be.qmax, 2)
  assert.equal(b.counters.qtime.max, 0, 'served at once: 0 ms in the queue')
  t.mock.timers.tick(30)
  be.release(b)
  assert.equal((await w1)?.name, 's2')
  be.release(a)
  assert.equal((await w2)?.name, 's1')
  assert.equal(be.qcur, 0)
  assert.equal(a.counters.stot, 2)
  assert.equal(b.counters.qtime.max, 30, 'queue time')
  assert.equal(be.counters.qtime.max, 30)
})

test('timeout queue: a request that waited too long gets null (503)', async () => {
  const be = backendOf(`${head}  timeout queue 80ms\n${serverLines('1', ' maxconn 1')}`)
  const held = be.acquire(txn(), null) as ServerRuntime
  const start = Date.now()
  const waiting = be.acquire(txn(), null)
  assert.ok(waiting instanceof Promise)
  assert.equal(await waiting, null)
  const waited = Date.now() - start
  assert.ok(waited >= 75 && waited < 1000, `waited ${waited} ms`)
  assert.equal(be.qcur, 0)
  be.release(held)
  assert.equal(held.served, 0, 'a timed-out request never holds a slot')
})

test('timeout queue defaults to timeout connect', async () => {
  const be = backendOf(`defaults\n  mode http\n  timeout connect 60ms\nbackend be\n${serverLines('1', ' maxconn 1')}`)
  assert.equal(be.timeoutQueue, 60)
  be.acquire(txn(), null)
  assert.equal(await be.acquire(txn(), null), null)
})

test('maxqueue: a hash-chosen server with a full queue answers null at once (503)', async () => {
  const be = backendOf(`${head}  balance uri\n  timeout queue 2s\n${serverLines('1 1', ' maxconn 1 maxqueue 1')}`)
  const first = be.acquire(txn('/k'), null) as ServerRuntime
  const second = be.acquire(txn('/k'), null)
  assert.ok(second instanceof Promise, 'queued on the server the key maps to')
  assert.equal(first.qcur, 1)
  assert.equal(be.acquire(txn('/k'), null), null, 'its queue is full')
  be.release(first)
  assert.equal(await second, first)
  assert.equal(first.qmax, 1)
})

test('maxqueue does not bound the backend queue round robin uses (haproxy served all 6 of 6)', async () => {
  const be = backendOf(`${head}  timeout queue 6s\n${serverLines('1 1', ' maxconn 1 maxqueue 1')}`)
  const got = Array.from({ length: 6 }, () => be.acquire(txn(), null))
  assert.equal(got.filter((g) => g instanceof Promise).length, 4)
  assert.ok(got.every((g) => g !== null))
  const names: string[] = []
  for (const g of got) {
    const s = await g
    assert.ok(s !== null)
    names.push(s.name)
    setImmediate(() => be.release(s))
  }
  assert.equal(names.join(' '), 's1 s2 s1 s2 s1 s2', 'the order haproxy answered in')
})

test('a server going into maintenance hands its queue back to the other servers', async () => {
  const be = backendOf(`${head}  balance uri\n  timeout queue 2s\n${serverLines('1 1', ' maxconn 1')}`)
  const first = be.acquire(txn('/k'), null) as ServerRuntime
  const other = be.servers.find((s) => s !== first) as ServerRuntime
  const waiting = be.acquire(txn('/k'), null)
  assert.ok(waiting instanceof Promise)
  first.setAdmin('maint')
  assert.equal(await waiting, other)
})

test('close() answers every queued request with null', async () => {
  const be = backendOf(`${head}  timeout queue 5s\n${serverLines('1', ' maxconn 1')}`)
  be.acquire(txn(), null)
  const waiting = be.acquire(txn(), null)
  be.close()
  assert.equal(await waiting, null)
})

test('slowstart ramps the weight up after a server comes back, not at start', (t) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 })
  const be = backendOf(`${head}  server s1 127.0.0.1:10001 weight 16 slowstart 400ms maxconn 100\n  server s2 127.0.0.1:10002 weight 16\n`)
  const s1 = server(be, 's1')
  assert.equal(s1.weight, 16, 'full weight at process start')
  s1.setAdmin('maint')
  s1.setAdmin('ready')
  const early = s1.weight
  assert.ok(early >= 1 && early <= 2, `starts near 1/16 of its weight, got ${early}`)
  assert.ok(s1.maxconnNow < 20, `maxconn ramps too: ${s1.maxconnNow}`)
  assert.ok(s1.throttle(Date.now()) < 20)
  t.mock.timers.tick(220)
  const mid = s1.weight
  assert.ok(s1.throttle(Date.now()) >= 50 && s1.throttle(Date.now()) < 100)
  assert.ok(mid > early && mid < 16, `halfway: ${mid}`)
  t.mock.timers.tick(300)
  assert.equal(s1.weight, 16)
  assert.equal(s1.maxconnNow, 100)
  assert.equal(s1.startingSince, 0)
  assert.equal(s1.throttle(Date.now()), 100)
  be.close()
})

test('release without queue keeps the server free; qcur/served stay consistent under churn', async () => {
  const be = backendOf(`${head}  timeout queue 1s\n${serverLines('1 2 3', ' maxconn 2')}`)
  const held: Array<ServerRuntime | null | Promise<ServerRuntime | null>> = []
  for (let i = 0; i < 30; i++) held.push(be.acquire(txn(), null))
  const settled: ServerRuntime[] = []
  for (const h of held) {
    if (!(h instanceof Promise) && h !== null) settled.push(h)
  }
  assert.equal(settled.length, 6)
  let releases = 0
  const pending = held.filter((h) => h instanceof Promise) as Array<Promise<ServerRuntime | null>>
  const done = Promise.all(pending.map(async (p) => {
    const s = await p
    assert.ok(s !== null)
    assert.ok(s.served <= 2)
    setImmediate(() => { be.release(s); releases++ })
  }))
  for (const s of settled) be.release(s)
  await done
  // the last releases run on the next turns of the loop
  await waitFor(() => releases === 24, 'every release')
  for (const s of be.servers) assert.equal(s.served, 0)
  assert.equal(be.qcur, 0)
})
