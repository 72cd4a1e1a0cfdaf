// A ring's TCP link to its server, against a real syslog receiver on 127.0.0.1: lines kept while
// a connected server is slow are sent once it has taken what was written (not only after a
// reconnection), and the ring's size counts bytes, not UTF-16 code units.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { parseConfig } from '../../lib/config/parse.js'
import { RingSink } from '../../lib/log/ring.js'
import type { Ring } from '../../lib/config/model.js'
import { waitFor } from '../gateway/fixtures.js'

/** A TCP syslog receiver that keeps the bytes it reads; `pause()` stops reading from its connections. */
async function receiver (): Promise<{ port: number, bytes: () => Buffer, connections: net.Socket[], close: () => Promise<void> }> {
  const chunks: Buffer[] = []
  const connections: net.Socket[] = []
  const server = net.createServer(s => {
    connections.push(s)
    s.on('data', (d: Buffer) => { chunks.push(d) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    bytes: () => Buffer.concat(chunks),
    connections,
    close: async () => {
      for (const s of connections) s.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

function ringOf (port: number, size: number): Ring {
  const config = parseConfig(`
ring r
    size ${size}
    timeout connect 1s
    timeout server 1s
    server s 127.0.0.1:${port}
`, { env: {} })
  assert.deepEqual(config.diagnostics.filter(d => d.level !== 'notice'), [])
  return config.rings![0]!
}

test('lines kept while the connected server is slow are sent once it reads again, in order', async (t) => {
  const rx = await receiver()
  const sink = new RingSink(ringOf(rx.port, 1000))
  t.after(async () => { sink.close(); await rx.close() })
  sink.send('hello\n')
  await waitFor(() => rx.bytes().toString() === 'hello\n', 'the first line', 8000)
  // the receiver stops reading: a line larger than the kernel's buffers stays partly unsent...
  const stalled = rx.connections[0]!
  stalled.pause()
  const big = 'x'.repeat(16 << 20) + '\n'
  sink.send(big)
  // ...so these wait in the ring (before the fix they waited there until a reconnection)
  sink.send('après un\n')
  sink.send('après deux\n')
  stalled.resume()
  const expected = Buffer.byteLength('hello\n' + big + 'après un\naprès deux\n')
  await waitFor(() => rx.bytes().length >= expected, 'the lines kept while the server was slow', 20000)
  const text = rx.bytes().toString()
  assert.equal(text.length, ('hello\n' + big).length + 'après un\naprès deux\n'.length)
  assert.ok(text.endsWith('\naprès un\naprès deux\n'), JSON.stringify(text.slice(-40)))
  assert.equal(sink.dropped, 0)
  // still one connection: nothing waited for a reconnection
  assert.equal(rx.connections.length, 1)
})

test("a ring's size is counted in bytes: non-ASCII lines fill it by their UTF-8 length", async (t) => {
  const rx = await receiver()
  const sink = new RingSink(ringOf(rx.port, 100))
  t.after(async () => { sink.close(); await rx.close() })
  // 81 bytes but 41 UTF-16 code units each: sent while connecting, only the first fits in 100 bytes
  const line = 'é'.repeat(40) + '\n'
  sink.send(line)
  sink.send(line)
  assert.equal(sink.dropped, 1)
  await waitFor(() => rx.bytes().toString().endsWith('\n'), 'the kept line', 8000)
  sink.send('end\n')
  await waitFor(() => rx.bytes().toString().endsWith('end\n'), 'the line sent once connected', 8000)
  assert.equal(rx.bytes().toString(), line + 'end\n')
})
