// Stick tables: `stick-table` declarations, `track-sc0/1/2` in http-request and tcp-request
// rules, the sc_*/src_*/table_* fetches and converters, rates as HAProxy estimates them, and
// the runtime API's `show table` / `set table` / `clear table`; the rate-limiting recipe of the
// README and the socket's answers compared with real HAProxy 2.6 where it is installed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../lib/config/parse.js'
import { RateCounter, StickTable, tableKey } from '../../lib/runtime/stick-table.js'
import { head, skipWithoutHaproxy, startBoth, startProxy, startRawUpstream, startUpstream } from '../differential/harness.js'
import { cli, waitForSocket } from '../socket/client.js'

test('a rate is the current period plus the previous one weighted by what is left of it (HAProxy 2.6.12: 10, then 7, 5, 2, 0)', () => {
  const r = new RateCounter(2000)
  for (let i = 0; i < 10; i++) r.add(1000, 1)
  assert.equal(r.read(1000), 10)
  assert.equal(r.read(2999), 10)
  assert.deepEqual([3500, 4000, 4500, 5000].map(t => r.read(t)), [7, 5, 2, 0])
  // a hit in the next period adds to what is left of the previous one
  r.add(3500, 1)
  assert.equal(r.read(3500), 8)
  // two idle periods: the next hit starts afresh
  r.add(20_000, 1)
  assert.equal(r.read(20_000), 1)
})

test('entries expire after their last update unless tracked; a full table drops its least recently updated entry, not with nopurge', () => {
  let now = 0
  const spec = { type: 'ip' as const, keyLen: 32, size: 2, expire: 1000, nopurge: false, store: [{ type: 'gpc0' as const }], loc: { file: 't', line: 1 } }
  const t = new StickTable('t', spec, () => now)
  const a = t.obtain('10.0.0.1')!
  t.obtain('10.0.0.2')
  now = 500
  t.touch(a)
  t.obtain('10.0.0.3')
  assert.deepEqual(t.sorted().map(e => e.key), ['10.0.0.1', '10.0.0.3'])
  now = 1499
  assert.equal(t.used, 2)
  now = 1600
  assert.equal(t.lookup('10.0.0.1'), undefined)
  const full = new StickTable('f', { ...spec, nopurge: true, expire: null }, () => now)
  full.obtain('1.1.1.1'); full.obtain('2.2.2.2')
  assert.equal(full.obtain('3.3.3.3'), undefined)
  // keys as each table type stores them
  assert.equal(tableKey({ ...spec, type: 'ipv6' }, '192.168.1.0'), '::ffff:192.168.1.0')
  assert.equal(tableKey({ ...spec, type: 'ipv6' }, '2001:db8:0:0:0:0:0:1'), '2001:db8::1')
  assert.equal(tableKey(spec, '::ffff:10.1.2.3'), '10.1.2.3')
  assert.equal(tableKey(spec, '2001:db8::1'), null)
  assert.equal(tableKey({ ...spec, type: 'string', keyLen: 4 }, 'abcdef'), 'abcd')
})

test('stick-table declarations: HAProxy 2.6\'s messages', () => {
  const cases: Array<[string, string]> = [
    ['stick-table type ip size 1m expire 30s store http_req_rate', "stick-table: missing argument to store option 'http_req_rate'."],
    ['stick-table type ip size 1m store foo', "stick-table: unknown store option 'foo'."],
    ['stick-table size 1m', 'stick-table: missing type.'],
    ['stick-table type foo size 1', "stick-table: unknown type 'foo'."],
    ['stick-table type ip', 'stick-table: missing size.'],
    ['stick-table type ip size 10x', "stick-table: unexpected character 'x' in argument of 'size'."],
    ['stick-table type ip size 10 expire foo', "stick-table: unexpected character 'f' in argument of 'expire'."],
    ['stick-table type ip size 10 foo', "stick-table: unknown argument 'foo'."]
  ]
  for (const [line, message] of cases) {
    const c = parseConfig(`defaults\n    mode http\nbackend b\n    ${line}\n`, { filename: 't.cfg', env: {} })
    assert.deepEqual(c.diagnostics.filter(d => d.level === 'alert').map(d => d.message), [message], line)
  }
  const ok = parseConfig('backend b\n    mode http\n    stick-table type string len 20 size 1k expire 10s nopurge store gpc0,http_req_rate(10s) store conn_cnt\n', { env: {} })
  assert.deepEqual(ok.proxies[0]!.stickTable?.store, [{ type: 'gpc0' }, { type: 'http_req_rate', period: 10000 }, { type: 'conn_cnt' }])
  assert.equal(ok.proxies[0]!.stickTable?.size, 1024)
  assert.equal(ok.proxies[0]!.stickTable?.keyLen, 20)
})

/** The README's recipe: more than 3 requests in 10 s from one address get 429. */
const RECIPE = (upstream: number) => (port: number): string => head() +
  `frontend fe\n    bind 127.0.0.1:${port}\n` +
  '    stick-table type ip size 100k expire 30s store http_req_rate(10s)\n' +
  '    http-request track-sc0 src\n' +
  '    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 3 }\n' +
  '    default_backend be\n' +
  `backend be\n    server s1 127.0.0.1:${upstream}\n`

test('the rate-limiting recipe: the same answers as HAProxy, request after request', { skip: skipWithoutHaproxy, timeout: 60_000 }, async (t) => {
  const up = await startUpstream('s1')
  const both = await startBoth(RECIPE(up.port))
  t.after(async () => { await both.stop(); await up.close() })
  for (const proxy of [both.haproxy, both.ours]) {
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await fetch(`http://127.0.0.1:${proxy.port}/`)).status)
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429])
  }
})

test('the recipe, ours alone: sc_* read the tracked entry, src_* and table_* look the client up', async (t) => {
  const up = await startUpstream('s1')
  const gw = await startProxy('ours', (port) => head() +
    `frontend fe\n    bind 127.0.0.1:${port}\n` +
    '    stick-table type ip size 100 expire 30s store http_req_rate(10s),http_req_cnt,conn_cur,gpc0\n' +
    '    http-request track-sc1 src if { path_beg /t }\n' +
    '    http-request sc-inc-gpc0(1) if { path /t/inc }\n' +
    '    http-request deny deny_status 429 if { sc1_http_req_rate gt 3 }\n' +
    '    http-request return status 200 content-type text/plain lf-string "sc=[%[sc1_http_req_cnt]] cur=[%[sc_conn_cur(1)]] src=[%[src_http_req_rate]] gpc=[%[src_get_gpc0]] in=[%[src,in_table(fe)]] cnt=[%[table_cnt]] tracked=[%[sc_tracked(1)]]"\n')
  t.after(async () => { await gw.stop(); await up.close() })
  const get = async (path: string): Promise<string> => await (await fetch(`http://127.0.0.1:${gw.port}${path}`)).text()
  // values checked against HAProxy 2.6.12: an untracked counter has no value, an unknown client counts 0
  assert.equal(await get('/x'), 'sc=[] cur=[] src=[0] gpc=[0] in=[0] cnt=[0] tracked=[0]')
  assert.equal(await get('/t'), 'sc=[1] cur=[1] src=[1] gpc=[0] in=[1] cnt=[1] tracked=[1]')
  assert.equal(await get('/t/inc'), 'sc=[2] cur=[1] src=[2] gpc=[1] in=[1] cnt=[1] tracked=[1]')
  assert.equal(await get('/x'), 'sc=[] cur=[] src=[2] gpc=[1] in=[1] cnt=[1] tracked=[0]')
  assert.equal(await get('/t'), 'sc=[3] cur=[1] src=[3] gpc=[1] in=[1] cnt=[1] tracked=[1]')
  assert.equal((await fetch(`http://127.0.0.1:${gw.port}/t`)).status, 429)
})

test('show table, set table, clear table: the answers of HAProxy 2.6', { skip: skipWithoutHaproxy, timeout: 60_000 }, async (t) => {
  const up = await startUpstream('s1')
  const dir = mkdtempSync(join(tmpdir(), 'fh-stick-'))
  const both = await startBoth((port) => head() +
    `global\n    stats socket ${dir}/admin-${port}.sock level admin\n` +
    `frontend fe\n    bind 127.0.0.1:${port}\n` +
    '    http-request track-sc0 src table t1\n' +
    '    http-request return status 404 if { path /nf }\n' +
    '    default_backend be\n' +
    `backend be\n    server s1 127.0.0.1:${up.port}\n` +
    'backend t1\n    stick-table type ip size 100 expire 30s store gpc0,conn_cnt,conn_cur,http_req_cnt,http_req_rate(10s),http_err_cnt,gpt0\n' +
    'backend t2\n    stick-table type string len 8 size 10 store gpc0\n')
  t.after(async () => { await both.stop(); await up.close(); rmSync(dir, { recursive: true, force: true }) })
  for (const p of [both.haproxy.port, both.ours.port]) {
    await waitForSocket(join(dir, `admin-${p}.sock`))
    for (const path of ['/', '/', '/nf']) await (await fetch(`http://127.0.0.1:${p}${path}`)).text()
  }
  // entry addresses and remaining lifetimes differ from run to run
  const mask = (s: string): string => s.replace(/^0x[0-9a-f]+:/gm, '0x:').replace(/exp=\d+/g, 'exp=')
  const commands = [
    'show table', 'show table t1', 'show table nope',
    'set table t1 key 10.0.0.1 data.gpc0 5 data.gpt0 7', 'set table t1 key 10.0.0.3 data.gpt0 3', 'set table t1 key 10.0.0.1 data.foo 1', 'set table t1 key',
    'set table t2 key abcdefghij data.gpc0 1',
    'show table t1', 'show table t1 key 10.0.0.1', 'show table t1 data.gpc0 gt 1', 'show table t1 data.gpc0 gt', 'show table t1 data.foo gt 1',
    'show table t1 data.sess_cnt gt 1', 'show table t1 foo', 'show table t2',
    'clear table t1 data.gpt0 eq 7', 'show table t1', 'clear table t1 key 10.0.0.3', 'show table t1', 'clear table', 'clear table nope', 'clear table t1', 'show table'
  ]
  for (const cmd of commands) {
    const [real, ours] = [await cli(join(dir, `admin-${both.haproxy.port}.sock`), cmd + '\n'), await cli(join(dir, `admin-${both.ours.port}.sock`), cmd + '\n')]
    assert.equal(mask(ours), mask(real), cmd)
  }
})

test('mode tcp: tcp-request connection track-sc0 counts connections, and a connection rate limit refuses as HAProxy does', { skip: skipWithoutHaproxy, timeout: 60_000 }, async (t) => {
  const up = await startRawUpstream((s) => { s.end('hi\n') })
  const config = (port: number): string => 'defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n' +
    `frontend fe\n    bind 127.0.0.1:${port}\n` +
    '    stick-table type ip size 10 expire 30s store conn_cnt,conn_rate(10s),conn_cur,sess_cnt\n' +
    '    tcp-request connection track-sc0 src\n' +
    '    tcp-request connection reject if { sc0_conn_rate gt 2 }\n' +
    '    default_backend be\n' +
    `backend be\n    server s1 127.0.0.1:${up.port}\n`
  const both = await startBoth(config)
  t.after(async () => { await both.stop(); await up.close() })
  const greet = async (port: number): Promise<string> => await new Promise((resolve) => {
    let got = ''
    const s = net.connect({ port, host: '127.0.0.1' })
    s.on('data', (d) => { got += d.toString() })
    s.on('close', () => resolve(got))
    s.on('error', () => {})
  })
  // the harness's readiness probe was each proxy's first connection: one more passes, then the rate is over 2
  const seen: string[][] = []
  for (const proxy of [both.haproxy, both.ours]) {
    const answers: string[] = []
    for (let i = 0; i < 4; i++) answers.push(await greet(proxy.port))
    seen.push(answers)
  }
  assert.deepEqual(seen[1], seen[0])
  assert.deepEqual(seen[1], ['hi\n', '', '', ''])
})

test('an HTTP proxy\'s tcp-request connection track-sc0: every request on the connection counts there, and a connection rate limit closes new ones, as HAProxy does', { skip: skipWithoutHaproxy, timeout: 60_000 }, async (t) => {
  const both = await startBoth((port) => head() +
    `frontend fe\n    bind 127.0.0.1:${port}\n` +
    '    stick-table type ip size 10 expire 30s store conn_cnt,conn_cur,conn_rate(10s),sess_cnt,http_req_cnt\n' +
    '    tcp-request connection track-sc0 src\n' +
    '    tcp-request connection reject if { sc0_conn_rate gt 3 }\n' +
    '    http-request return status 200 content-type text/plain lf-string "conn=%[sc0_conn_cnt] cur=%[sc0_conn_cur] sess=%[sc0_sess_cnt] req=%[sc0_http_req_cnt]"\n')
  t.after(async () => { await both.stop() })
  /** Two requests on one connection: the bodies, or '' when the connection is refused. */
  const twoRequests = async (port: number): Promise<string> => await new Promise((resolve) => {
    let got = ''
    const s = net.connect({ port, host: '127.0.0.1' })
    s.on('data', (d) => { got += d.toString('latin1') })
    s.on('close', () => resolve(got.split('\r\n').filter(l => l.startsWith('conn=')).join(' | ')))
    s.on('error', () => {})
    s.write('GET /a HTTP/1.1\r\nhost: x\r\n\r\nGET /b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')
  })
  const seen: string[][] = []
  for (const proxy of [both.haproxy, both.ours]) {
    const answers: string[] = []
    for (let i = 0; i < 4; i++) answers.push(await twoRequests(proxy.port))
    seen.push(answers)
  }
  // HAProxy also counts the readiness probe (a connection closed before any request) as a request
  const connections = (a: string[]): string[] => a.map(x => x.replace(/ req=\d+/g, ''))
  assert.deepEqual(connections(seen[1]!), connections(seen[0]!))
  // the readiness probe was the first connection
  assert.deepEqual(seen[1], ['conn=2 cur=1 sess=2 req=1HTTP/1.1 200 OK | conn=2 cur=1 sess=2 req=2', 'conn=3 cur=1 sess=3 req=3HTTP/1.1 200 OK | conn=3 cur=1 sess=3 req=4', '', ''])
})

test('stick on in the plugin: a user keeps its server; after a reload the backend writes to the new tables show table lists', async (t) => {
  const { upstream, get, gatewayApp } = await import('./fixtures.js')
  const [a, b] = await Promise.all([upstream('a'), upstream('b')])
  const config = (extra = ''): string => 'defaults\n    mode http\n    timeout connect 1s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\n' +
    `backend be\n    stick-table type string size 1k expire 30m\n    stick on req.hdr(x-user)\n    server a ${a.addr}\n    server b ${b.addr}\n${extra}`
  const { app, port } = await gatewayApp(config())
  t.after(async () => { await app.close(); await a.close(); await b.close() })
  const who = async (user: string): Promise<string> => String((await get(port, '/', { 'x-user': user })).headers['x-served-by'])
  const first = [await who('ann'), await who('bob')]
  assert.deepEqual(first, ['a', 'b'])
  assert.deepEqual([await who('bob'), await who('ann'), await who('bob')], ['b', 'a', 'b'])
  assert.match(app.haproxy.command('show table be'), /key=ann use=0 exp=\d+ server_id=1 server_key=a\n.*key=bob use=0 exp=\d+ server_id=2 server_key=b\n/)
  // a reload that leaves the backend as it was: the tables start empty, and the backend fills the new ones
  await app.haproxy.reload(config(`backend other\n    server c ${a.addr}\n`))
  assert.equal(app.haproxy.command('show table be'), '# table: be, type: string, size:1024, used:0\n\n')
  const again = await who('cid')
  assert.equal(await who('cid'), again)
  assert.match(app.haproxy.command('show table be'), new RegExp(`key=cid use=0 exp=\\d+ server_id=\\d server_key=${again}\\n`))
})
