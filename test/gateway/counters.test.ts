// Traffic counters against real HAProxy 2.6: the same config and the same raw requests go to
// haproxy and to the plugin, then both `;csv` pages must agree on bytes in/out (HAProxy counts
// HTX sizes: heads included, for GET too), denied requests/responses and answers per class.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startProxy, freePort, skipWithoutHaproxy } from '../differential/harness.js'
import { HTTP_DEFAULTS, gatewayApp, get, rawRequest, upstream } from './fixtures.js'

const COLUMNS = ['bin', 'bout', 'dreq', 'dresp', 'hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx']

/** `pxname/svname` → the compared columns, for every row but the stats listen's. */
function rows (csv: string): Map<string, Record<string, string>> {
  const lines = csv.trim().split('\n')
  const names = lines[0]!.replace(/^# /, '').split(',')
  const out = new Map<string, Record<string, string>>()
  for (const line of lines.slice(1)) {
    const v = line.split(',')
    if (v[0] === 'stats') continue
    out.set(`${v[0]}/${v[1]}`, Object.fromEntries(COLUMNS.map(c => [c, v[names.indexOf(c)] ?? ''])))
  }
  return out
}

function delta (after: Map<string, Record<string, string>>, before: Map<string, Record<string, string>>): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>()
  for (const [row, v] of after) {
    const b = before.get(row)!
    out.set(row, Object.fromEntries(COLUMNS.map(c => [c, v[c] === '' ? '' : String(Number(v[c]) - Number(b[c]))])))
  }
  return out
}

const requests = [
  'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /some/longer/path?with=query HTTP/1.1\r\nHost: example.com\r\nUser-Agent: counters-test/1.0\r\nAccept: */*\r\nConnection: close\r\n\r\n',
  'GET /chunked HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'POST /post HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789',
  'POST /chunked-post HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\na\r\n0123456789\r\n5\r\nabcde\r\n0\r\n\r\n',
  'GET /deny HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /redir HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /return HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /auth HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /old-redirect HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /none HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /bed/deny HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /bed/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /xdeny HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  // two requests on one keep-alive connection
  'GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET /old HTTP/1.0\r\nHost: a\r\n\r\n'
]

test('bin / bout / dreq / dresp / hrsp_* equal real HAProxy\'s after the same requests', { skip: skipWithoutHaproxy, timeout: 20_000 }, async (t) => {
  const up = await upstream('up', {
    handler: (req, res) => {
      req.resume()
      req.on('end', () => {
        const deny = req.url!.includes('xdeny') ? '1' : '0'
        if (req.url === '/chunked') {
          res.writeHead(200, { 'content-type': 'text/plain', 'x-deny': deny })
          res.write('first\n')
          res.end('second\n')
          return
        }
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '6', 'x-deny': deny })
        res.end('hello\n')
      })
    }
  })
  const statsPort = await freePort()
  const config = (port: number): string => `
global
    nbthread 1
${HTTP_DEFAULTS}frontend fe
    bind 127.0.0.1:${port}
    http-request deny if { path /deny }
    http-request redirect location /x code 302 if { path /redir }
    http-request return status 200 content-type text/plain string hello if { path /return }
    http-request auth realm Private if { path /auth }
    redirect location /moved code 301 if { path /old-redirect }
    http-response deny if { res.hdr(x-deny) 1 }
    use_backend none if { path /none }
    use_backend bed if { path_beg /bed }
    default_backend be
backend be
    server s1 ${up.addr}
backend bed
    http-request deny if { path /bed/deny }
    http-response deny if { res.hdr(x-deny) 0 }
    server s1 ${up.addr}
backend none
listen stats
    bind 127.0.0.1:${statsPort}
    stats enable
    stats uri /st
`
  t.after(() => up.close())
  const haproxy = await startProxy('haproxy', config)
  t.after(() => haproxy.stop())
  // embedded: the plugin serves the frontend's rules and the stats page on the app's own port
  const ours = await gatewayApp(config(await freePort()))
  t.after(() => ours.app.close())

  // HAProxy counts the harness's readiness probe (a connection closed without a request) as a
  // 4xx: compare what the requests below add, from a snapshot taken before them
  const base = rows((await get(statsPort, '/st;csv')).text)
  for (const r of requests) {
    const [theirs, mine] = await Promise.all([rawRequest(haproxy.port, r), rawRequest(ours.port, r)])
    assert.equal(mine.status, theirs.status, r.split('\r\n')[0])
  }
  const expected = delta(rows((await get(statsPort, '/st;csv')).text), base)
  const actual = rows((await get(ours.port, '/st;csv')).text)
  assert.deepEqual([...actual.keys()], [...expected.keys()])
  for (const [row, want] of expected) {
    const got = actual.get(row)!
    // `http-response deny` (/bed/x on bed, /xdeny on be): HAProxy also counts the server's body
    // bytes it had already buffered when the rule ran (here all 6); ours stops at the head
    const denied = row.startsWith('fe/') ? 2 : 1
    const short = Number(want.bout) - Number(got.bout)
    assert.ok(short >= 0 && short <= 6 * denied, `${row}: bout ${got.bout}, HAProxy ${want.bout}`)
    assert.deepEqual({ ...got, bout: want.bout }, want, row)
  }
  // the rows really carry traffic: a GET's head counts, not only declared bodies
  assert.ok(Number(expected.get('be/s1')!.bin) > 300)
})
