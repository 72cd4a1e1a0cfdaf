// `server … socks4 <addr>:<port> [check-via-socks4]`: requests (HTTP mode), connections (TCP mode)
// and health checks reach the server through a SOCKS4 proxy played here, which records each CONNECT
// request; real HAProxy sends the same request bytes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { startProxy, startRawUpstream, startUpstream, send, skipWithoutHaproxy } from '../differential/harness.js'
import { waitFor } from '../gateway/fixtures.js'
import { fetchCsvRows } from '../stats/views.js'

interface Socks { port: number, requests: Buffer[], close (): Promise<void> }

/** A SOCKS4 proxy: reads the 16-byte CONNECT of a user id "HAProxy", grants (or refuses) it, then relays. */
async function socksProxy (grant = true): Promise<Socks> {
  const requests: Buffer[] = []
  const up = await startRawUpstream((client) => {
    let head = Buffer.alloc(0)
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d])
      const end = head.indexOf(0, 8)
      if (head.length < 9 || end < 0) return
      client.removeListener('data', onData)
      requests.push(head.subarray(0, end + 1))
      if (!grant) { client.end(Buffer.from('005b000000000000', 'hex')); return }
      const target = net.connect(head.readUInt16BE(2), [...head.subarray(4, 8)].join('.'), () => {
        client.write(Buffer.from('005a000000000000', 'hex'))
        if (head.length > end + 1) target.write(head.subarray(end + 1))
        client.pipe(target)
        target.pipe(client)
      })
      target.on('error', () => client.destroy())
      client.on('close', () => target.destroy())
    }
    client.on('data', onData)
  })
  return { port: up.port, requests, close: up.close }
}

const DEFAULTS = 'defaults\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n'

/** The stats CSV row of `backend/server`. */
async function csvRow (port: number, row: string): Promise<Record<string, string>> {
  return (await fetchCsvRows(port)).get(row) ?? {}
}

/** The CONNECT request HAProxy's reg-test accepts: version 4, command 1, port, IPv4, "HAProxy\0". */
function connectRequest (port: number): Buffer {
  const b = Buffer.from('0401000000000000484150726f787900', 'hex')
  b.writeUInt16BE(port, 2)
  Buffer.from([127, 0, 0, 1]).copy(b, 4)
  return b
}

test('HTTP requests and httpchk health checks go through the SOCKS4 proxy; a refused CONNECT takes the server down', async (t) => {
  const app = await startUpstream('app')
  const socks = await socksProxy()
  const refusing = await socksProxy(false)
  t.after(async () => { await app.close(); await socks.close(); await refusing.close() })
  const gw = await startProxy('ours', port => DEFAULTS + '    mode http\n' +
    `listen fe\n    bind 127.0.0.1:${port}\n    stats enable\n    stats uri /stats\n    use_backend be if { path_beg /app }\n` +
    `backend be\n    option httpchk GET /health\n    server srv 127.0.0.1:${app.port} socks4 127.0.0.1:${socks.port} check-via-socks4 check inter 200 rise 1 fall 1\n` +
    `backend refused\n    option httpchk\n    server srv 127.0.0.1:${app.port} socks4 127.0.0.1:${refusing.port} check-via-socks4 check inter 200 rise 1 fall 1\n`)
  t.after(async () => { await gw.stop() })
  await waitFor(async () => app.seen.some(s => s.url === '/health'), 'the check through the proxy')
  await waitFor(async () => (await csvRow(gw.port, 'be/srv')).status === 'UP' && (await csvRow(gw.port, 'refused/srv')).status === 'DOWN', 'be/srv UP, refused/srv DOWN')
  const answer = await send(gw.port, { path: '/app/x' })
  assert.equal(answer.status, 200)
  assert.equal(JSON.parse(answer.body).url, '/app/x')
  assert.ok(socks.requests.length >= 2, 'the check and the request each opened a connection through the proxy')
  for (const r of socks.requests) assert.deepEqual(r, connectRequest(app.port))
  assert.equal((await csvRow(gw.port, 'refused/srv')).check_status, 'L4CON')
})

test('mode tcp: the connection to the server is opened by the SOCKS4 proxy', async (t) => {
  const echo = await startRawUpstream((s) => { s.on('data', d => s.write(d)) })
  const socks = await socksProxy()
  t.after(async () => { await echo.close(); await socks.close() })
  const gw = await startProxy('ours', port => DEFAULTS + '    mode tcp\n' +
    `listen fe\n    bind 127.0.0.1:${port}\n    server srv 127.0.0.1:${echo.port} socks4 127.0.0.1:${socks.port}\n`)
  t.after(async () => { await gw.stop() })
  const back = await new Promise<string>((resolve, reject) => {
    const s = net.connect(gw.port, '127.0.0.1', () => s.write('ping'))
    s.on('data', d => { resolve(d.toString()); s.destroy() })
    s.on('error', reject)
  })
  assert.equal(back, 'ping')
  // (the harness's readiness probe opened a connection too)
  assert.ok(socks.requests.length >= 1)
  for (const r of socks.requests) assert.deepEqual(r, connectRequest(echo.port))
})

test('real HAProxy sends the same SOCKS4 request for its health check', { skip: skipWithoutHaproxy }, async (t) => {
  const requests: Buffer[][] = []
  for (const label of ['haproxy', 'ours'] as const) {
    const app = await startUpstream('app')
    const socks = await socksProxy()
    const gw = await startProxy(label, port => DEFAULTS + '    mode http\n' +
      `listen fe\n    bind 127.0.0.1:${port}\n    option httpchk\n    server srv 127.0.0.1:${app.port} socks4 127.0.0.1:${socks.port} check-via-socks4 check inter 200\n`)
    try {
      await waitFor(async () => socks.requests.length > 0, `${label}'s check through the proxy`)
      requests.push(socks.requests.slice(0, 1).map(r => { const c = Buffer.from(r); c.writeUInt16BE(0, 2); return c }))
    } finally {
      await gw.stop()
      await socks.close()
      await app.close()
    }
  }
  assert.deepEqual(requests[1], requests[0])
})
