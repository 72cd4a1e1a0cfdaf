// `timeout connect` with a connect that really hangs on loopback: a listener whose accept queue
// is full (its thread never accepts) makes the kernel drop new SYNs, so the handshake never
// completes. HAProxy and the gateway, on the same config, answer 503 once every attempt
// (`retries`) has waited `timeout connect`, log `sC` with the retries, and count `econ`/`wretr`.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { Worker } from 'node:worker_threads'
import { head, send, skipWithoutHaproxy, startBoth } from '../differential/harness.js'

/** A listener with a full accept queue: connects to it hang until the caller gives up. */
async function hangingListener (): Promise<{ port: number, close (): Promise<void> }> {
  const gate = new SharedArrayBuffer(4)
  // the worker listens, then blocks its thread (without spinning) so that nothing is accepted
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads')
    const net = require('node:net')
    const server = net.createServer()
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      parentPort.postMessage(server.address().port)
      Atomics.wait(new Int32Array(workerData), 0, 0)
      server.close()
    })`, { eval: true, workerData: gate })
  const port = await new Promise<number>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) })
  // Linux queues backlog + 1 handshakes nobody accepts; the SYNs after them are dropped
  const fillers: net.Socket[] = []
  for (let i = 0; i < 2; i++) {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    fillers.push(socket)
    await new Promise(resolve => socket.once('connect', resolve))
  }
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy()
      Atomics.notify(new Int32Array(gate), 0)
      await worker.terminate()
    }
  }
}

/** One row of a stats CSV, by proxy and server name: field name → value. */
function csvRow (csv: string, px: string, sv: string): Record<string, string> {
  const [header, ...rows] = csv.trim().split('\n')
  const names = header!.replace(/^# /, '').split(',')
  const row = rows.map(r => r.split(',')).find(r => r[0] === px && r[1] === sv)
  assert.ok(row !== undefined, `${px}/${sv} in the CSV`)
  return Object.fromEntries(names.map((n, i) => [n, row[i] ?? '']))
}

test('timeout connect: each attempt waits its value, then 503 sC with the retries counted, as HAProxy', { skip: skipWithoutHaproxy }, async (t) => {
  const hang = await hangingListener()
  t.after(() => hang.close())
  const config = (port: number): string => `${head().replace('timeout connect 1s', 'timeout connect 300ms')}
frontend fe
    bind 127.0.0.1:${port}
    log stdout format raw local0
    option httplog
    stats enable
    stats uri /st
    default_backend be
backend be
    retries 2
    server s1 127.0.0.1:${hang.port}
`
  const pair = await startBoth(config)
  t.after(() => pair.stop())
  for (const proxy of [pair.haproxy, pair.ours]) {
    const started = Date.now()
    const answer = await send(proxy.port, { path: '/x', headers: { host: 'x' } })
    const elapsed = Date.now() - started
    assert.equal(answer.status, 503, proxy.label)
    assert.match(answer.body, /503 Service Unavailable/, proxy.label)
    // three attempts of 300 ms each: never sooner; the bound only says the connect did not hang on
    assert.ok(elapsed >= 3 * 300 && elapsed < 5000, `${proxy.label}: 503 after ${elapsed} ms`)
    const csv = (await send(proxy.port, { path: '/st;csv', headers: { host: 'x' } })).body
    const server = csvRow(csv, 'be', 's1')
    const backend = csvRow(csv, 'be', 'BACKEND')
    assert.deepEqual({ econ: server.econ, wretr: server.wretr, hrsp_5xx: backend.hrsp_5xx, becon: backend.econ }, { econ: '1', wretr: '2', hrsp_5xx: '1', becon: '1' }, proxy.label)
  }
  // the log line: backend/server, 503, termination sC, 2 retries (%rc, the last of the connection counts)
  const line = (label: 'haproxy' | 'ours'): string => (label === 'haproxy' ? pair.haproxy : pair.ours).output().split('\n').find(l => l.includes('"GET /x HTTP/1.1"')) ?? ''
  for (const label of ['haproxy', 'ours'] as const) {
    assert.match(line(label), / fe be\/s1 \d+\/\d+\/-1\/-1\/\d+ 503 \d+ - - sC-- \d+\/\d+\/\d+\/\d+\/2 0\/0 "GET \/x HTTP\/1\.1"/, `${label}: ${line(label)}`)
  }
})
