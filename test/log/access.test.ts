// Access logs the HAProxy way: targets and framing, httplog lines with their values (timers,
// bytes, termination states, captures), and the plugin's request logger.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import { deadPort, gatewayApp, get, rawServer, upstream, waitFor, type Upstream } from '../gateway/fixtures.js'
import { syslogServer, type Syslog } from './syslog.js'

const PID = process.pid

/** One frontend logging raw lines to a UDP receiver, in front of one upstream; `lines` go in the frontend. */
async function rawLogged (t: { after: (fn: () => Promise<void>) => void }, lines: string): Promise<{ syslog: Syslog, up: Upstream, port: number }> {
  const syslog = await syslogServer()
  const up = await upstream('up1')
  const { app, port } = await gatewayApp(`
defaults
    mode http
frontend fe
    bind 127.0.0.1:8080
    log 127.0.0.1:${syslog.port} format raw local0
${lines}    default_backend be
backend be
    server s1 ${up.addr}
`)
  t.after(async () => { await app.close(); await up.close(); await syslog.close() })
  return { syslog, up, port }
}
/** `<134>Dec  6 14:00:00 haproxy[pid]: ` — local0.info in HAProxy's default ("local") format. */
const HEAD = new RegExp(`^<134>[A-Z][a-z]{2} [ 1-3][0-9] \\d\\d:\\d\\d:\\d\\d haproxy\\[${PID}\\]: `)

test('option httplog to a UDP syslog target: framing and fields as HAProxy writes them', async (t) => {
  const syslog = await syslogServer()
  const up = await upstream('up1')
  const dead = await deadPort()
  const { app, port } = await gatewayApp(`
global
    log 127.0.0.1:${syslog.port} local0
defaults
    mode http
    log global
    option httplog
    timeout connect 500ms
    retries 1
frontend fe
    bind 127.0.0.1:8080
    capture request header Host len 20
    capture response header X-Missing len 10
    http-request deny if { path /deny }
    http-request redirect location /x if { path /redir }
    http-request return status 200 content-type text/plain string hi if { path /ret }
    use_backend dead if { path /dead }
    default_backend be
backend be
    server s1 ${up.addr}
backend dead
    server d 127.0.0.1:${dead}
`)
  t.after(async () => { await app.close(); await up.close(); await syslog.close() })
  for (const path of ['/', '/deny', '/redir', '/ret', '/dead', '/a?b=c']) await get(port, path)
  const lines = await syslog.wait(6)
  for (const l of lines) {
    assert.match(l, HEAD)
    assert.ok(l.endsWith('\n'))
  }
  const body = lines.map(l => l.replace(HEAD, '').trimEnd())
  const fields = body.map(l => {
    const m = /^127\.0\.0\.1:\d+ \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] (\S+) (\S+) (-?\d+)\/(-?\d+)\/(-?\d+)\/(-?\d+)\/(\d+) (-?\d+) (\d+) (\S+) (\S+) (\S+) (\d+\/\d+\/\d+\/\d+\/\+?\d+) (\d+\/\d+) (\{.*?\}) (\{.*?\}) "(.*)"$/.exec(l)
    assert.ok(m, l)
    return m
  })
  // frontend, backend/server, status, termination state, retries, captures, request line
  assert.deepEqual(fields.map(m => [m[1], m[2], m[8], m[12], m[13]!.split('/')[4], m[15], m[16], m[17]]), [
    ['fe', 'be/s1', '200', '----', '0', `{127.0.0.1:${port}}`, '{}', 'GET / HTTP/1.1'],
    ['fe', 'fe/<NOSRV>', '403', 'PR--', '0', `{127.0.0.1:${port}}`, '{}', 'GET /deny HTTP/1.1'],
    ['fe', 'fe/<NOSRV>', '302', 'LR--', '0', `{127.0.0.1:${port}}`, '{}', 'GET /redir HTTP/1.1'],
    ['fe', 'fe/<NOSRV>', '200', 'LR--', '0', `{127.0.0.1:${port}}`, '{}', 'GET /ret HTTP/1.1'],
    ['fe', 'dead/d', '503', 'SC--', '1', `{127.0.0.1:${port}}`, '{}', 'GET /dead HTTP/1.1'],
    ['fe', 'be/s1', '200', '----', '0', `{127.0.0.1:${port}}`, '{}', 'GET /a?b=c HTTP/1.1']
  ])
  // timers: a rule verdict never reached a server (-1), a dead server was never connected
  assert.deepEqual(fields.map(m => [m[4], m[5], m[6]].map(Number).map(n => n < 0 ? n : 0)), [
    [0, 0, 0], [-1, -1, -1], [-1, -1, -1], [-1, -1, -1], [0, -1, -1], [0, 0, 0]
  ])
  // bytes as HAProxy counts them: the deny page is 192, the 503 page 217
  assert.equal(fields[1]![9], '192')
  assert.equal(fields[4]![9], '217')
})

test('formats: rfc5424 with log-format-sd, short, raw, len; levels filter; log-tag', async (t) => {
  const syslog = await syslogServer()
  const up = await upstream('up1')
  const { app, port } = await gatewayApp(`
global
    log-tag gw
defaults
    mode http
    timeout connect 1s
frontend fe
    bind 127.0.0.1:8080
    log 127.0.0.1:${syslog.port} format rfc5424 local1
    log 127.0.0.1:${syslog.port} format short local2
    log 127.0.0.1:${syslog.port} format raw local3
    log 127.0.0.1:${syslog.port} len 80 local4
    log 127.0.0.1:${syslog.port} local5 notice
    log-format "%ci %HM %HU %ST %{+Q}r"
    log-format-sd "[x@1 a=\\"1\\"]"
    default_backend be
backend be
    server s1 ${up.addr}
`)
  t.after(async () => { await app.close(); await up.close(); await syslog.close() })
  const path = `/p?q=${'x'.repeat(40)}`
  await get(port, path)
  const lines = await syslog.wait(4)
  // a second request's lines come after anything the first one sent: once they are in, a line
  // the notice-level target got for the first request would be there too
  await get(port, '/marker')
  await syslog.wait(8)
  assert.equal(syslog.lines.filter(l => !l.includes('/marker')).length, 4, 'the notice-level target gets no info line')
  assert.equal(syslog.lines.length, 8)
  const msg = `127.0.0.1 GET ${path} 200 "GET ${path} HTTP/1.1"`
  const sorted = [...lines].sort((a, b) => a.localeCompare(b))
  assert.match(sorted[0]!, new RegExp(`^<142>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}[+-]\\d\\d:\\d\\d - gw ${PID} - \\[x@1 a="1"\\] ${msg.replace(/[?]/g, '\\?')}\n$`))
  assert.equal(sorted.find(l => l.startsWith('<6>')), `<6>${msg}\n`)
  assert.equal(sorted.find(l => l.startsWith('127')), `${msg}\n`)
  const cut = sorted.find(l => l.startsWith('<166>'))!
  assert.equal(cut.length, 81, 'cut to len, then the newline')
  assert.ok(cut.endsWith('\n') && msg.startsWith(cut.slice(cut.indexOf(']: ') + 3, -1)))
})

test('plugin without a log target: each proxied request line goes to the request logger', async (t) => {
  const up = await upstream('up1')
  const logs: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l !== '') logs.push(JSON.parse(l)); cb() } })
  const { app, port } = await gatewayApp(`
defaults
    mode http
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    server s1 ${up.addr}
`, { defaultBackend: 'always' }, { logger: { level: 'info', stream } })
  t.after(async () => { await app.close(); await up.close() })
  await get(port, '/hello')
  for (let i = 0; i < 50 && !logs.some(l => typeof l.msg === 'string' && l.msg.includes('GET /hello')); i++) await new Promise(resolve => setTimeout(resolve, 20))
  const line = logs.find(l => typeof l.msg === 'string' && l.msg.includes('"GET /hello HTTP/1.1"'))
  assert.ok(line, JSON.stringify(logs))
  assert.match(String(line.msg), /^127\.0\.0\.1:\d+ \[.*\] fe be\/s1 0\/\d+\/\d+\/\d+\/\d+ 200 \d+ - - ---- \d+\/\d+\/0\/0\/0 0\/0 "GET \/hello HTTP\/1\.1"$/)
  assert.equal(typeof line.reqId, 'string', "the request's own child logger")
})

test('unique-id-format and unique-id-header: the id reaches the server and the log; logasap logs at the headers with + marks', async (t) => {
  const { syslog, up, port } = await rawLogged(t, `
    option logasap
    unique-id-format %{+X}o\\ %ci_%rt
    unique-id-header X-Unique-ID
    log-format "id=%ID B=%B Ta=%Ta %ST"
`)
  await get(port, '/')
  const [line] = await syslog.wait(1)
  const id = up.seen[0]!.headers['x-unique-id']
  assert.match(String(id), /^7F000001_[0-9A-F]+$/, 'hex flags apply to the IP and the counter')
  assert.match(line!, new RegExp(`^id=${String(id)} B=\\+\\d+ Ta=\\+\\d+ 200\\n$`))
  // the next request's line comes after any line the first one still had to send
  await get(port, '/')
  await syslog.wait(2)
  const second = String(up.seen[1]!.headers['x-unique-id'])
  assert.ok(syslog.lines[1]!.startsWith(`id=${second} `), 'one line per request, at its headers')
  assert.equal(syslog.lines.length, 2)
})

test('a dead UDP target drops nothing on the request path; tcplog and clf formats', async (t) => {
  const dead = await deadPort()
  const syslog = await syslogServer()
  const up = await upstream('up1')
  const { app, port } = await gatewayApp(`
defaults
    mode http
frontend fe
    bind 127.0.0.1:8080
    log 127.0.0.1:${dead} local0
    log 127.0.0.1:${syslog.port} format raw local0
    option tcplog
    default_backend be
frontend clf
    bind 127.0.0.1:8081
    log 127.0.0.1:${syslog.port} format raw local0
    option httplog clf
    default_backend be
backend be
    server s1 ${up.addr}
`, { defaultBackend: 'always', frontend: 'fe' })
  t.after(async () => { await app.close(); await up.close(); await syslog.close() })
  for (let i = 0; i < 50; i++) assert.equal((await get(port, `/n${i}`)).status, 200)
  const lines = await syslog.wait(50)
  for (const l of lines) assert.match(l, /^127\.0\.0\.1:\d+ \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe be\/s1 \d+\/\d+\/\d+ \d+ -- \d+\/\d+\/0\/0\/0 0\/0\n$/)
})

test('http-request capture and declare capture fill %hr after the header captures', async (t) => {
  const { syslog, port } = await rawLogged(t, `
    option httplog
    capture request header X-A len 3
    declare capture request len 4
    http-request capture req.hdr(x-b) id 1
    http-request capture path len 2
`)
  await get(port, '/path', { 'x-a': 'abcdef', 'x-b': '123456' })
  const [line] = await syslog.wait(1)
  assert.match(line!, / \{abc\|1234\|\/p\} "GET \/path HTTP\/1\.1"\n$/)
})

test('server state and health-check messages go to the backend targets at HAProxy levels', async (t) => {
  const syslog = await syslogServer()
  const dead = await deadPort()
  const { app } = await gatewayApp(`
defaults
    mode http
    timeout connect 500ms
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    log 127.0.0.1:${syslog.port} local0
    option log-health-checks
    server s1 127.0.0.1:${dead} check inter 100 rise 1 fall 1
`)
  t.after(async () => { await app.close(); await syslog.close() })
  // the priority kept, the date and tag dropped
  const lines = (await syslog.wait(3)).map(l => l.replace(/^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy\[\d+\]: /, '<$1>'))
  assert.match(lines[0]!, /^<133>Health check for server be\/s1 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms, status: 0\/1 DOWN\.\n$/)
  assert.match(lines[1]!, /^<129>Server be\/s1 is DOWN\. 0 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.\n$/)
  assert.equal(lines[2], '<128>backend be has no server available!\n')
})

test('without a log format a frontend logs HAProxy\'s "Connect from" line per connection', async (t) => {
  const { syslog, port } = await rawLogged(t, '')
  await get(port, '/')
  const [line] = await syslog.wait(1)
  assert.equal(line, `Connect from 127.0.0.1:${line!.split(':')[1]!.split(' ')[0]!} to 127.0.0.1:${port} (fe/HTTP)\n`)
})

test('option abortonclose: a client that closes while the request is retried is logged CC at once', async (t) => {
  const dead = await deadPort()
  const syslog = await syslogServer()
  const { app, port } = await gatewayApp(`
defaults
    mode http
    timeout connect 1s
frontend fe
    bind 127.0.0.1:8080
    log 127.0.0.1:${syslog.port} format raw local0
    option httplog
    default_backend retrying
backend retrying
    option abortonclose
    retries 10
    server d 127.0.0.1:${dead}
`)
  t.after(async () => { await app.close(); await syslog.close() })
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>(resolve => socket.once('connect', () => resolve()))
  socket.end('GET /c2 HTTP/1.1\r\nHost: x\r\n\r\n')
  socket.resume()
  const started = Date.now()
  const [line] = await syslog.wait(1)
  assert.match(line!, / fe retrying\/d \d+\/\d+\/-1\/-1\/\d+ -1 0 - - CC-- .* "GET \/c2 HTTP\/1\.1"\n$/)
  assert.ok(Date.now() - started < 5000, 'not after the ten retries')
})

test('option abortonclose: a client that closes while the server holds its answer is logged 400 CH, and the server connection is closed', async (t) => {
  const syslog = await syslogServer()
  let serverClosed = false
  let received = false
  const holding = await rawServer((_data, socket) => {
    received = true
    socket.once('close', () => { serverClosed = true })
  })
  const { app, port } = await gatewayApp(`
defaults
    mode http
    timeout server 10s
frontend fe
    bind 127.0.0.1:8080
    log 127.0.0.1:${syslog.port} format raw local0
    option httplog
    default_backend be
backend be
    option abortonclose
    server s1 127.0.0.1:${holding.port}
`)
  t.after(async () => { await app.close(); await holding.close(); await syslog.close() })
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>(resolve => socket.once('connect', () => resolve()))
  socket.write('GET /c3 HTTP/1.1\r\nHost: x\r\n\r\n')
  await waitFor(() => received, 'the server got the request')
  socket.end()
  const [line] = await syslog.wait(1)
  assert.match(line!, / fe be\/s1 \d+\/\d+\/\d+\/-1\/\d+ 400 \d+ - - CH-- .* "GET \/c3 HTTP\/1\.1"\n$/)
  await waitFor(() => serverClosed, 'the server connection closed')
})
