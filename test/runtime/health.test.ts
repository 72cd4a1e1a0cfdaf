// Active and passive health checks against real sockets on 127.0.0.1 with short intervals.
// Expected log lines and check statuses are the ones haproxy 2.6.12 printed for the same
// situations (`haproxy -db`, upstreams answering the same bytes).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import tls from 'node:tls'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { backendOf, closedPort, Log, picks, server, upstream, type Upstream } from './helpers.js'
import { waitFor } from '../gateway/fixtures.js'
import { HealthChecker } from '../../lib/runtime/health.js'
import type { Backend } from '../../lib/runtime/backend.js'

const head = 'defaults\n  mode http\n  timeout connect 1s\nbackend be\n'
const OK = 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'

function run (be: Backend | Backend[]): HealthChecker {
  const hc = new HealthChecker(Array.isArray(be) ? be : [be])
  hc.start()
  return hc
}

test('TCP check: a closed port is DOWN at its first check, a listening one fully UP after one success', async (t) => {
  const live = await upstream()
  const dead = await closedPort()
  t.after(() => live.close())
  const log = new Log()
  const be = backendOf(`${head}  server dead 127.0.0.1:${dead} check inter 60\n  server live 127.0.0.1:${live.port} check inter 60\n`, log)
  const d = server(be, 'dead')
  const l = server(be, 'live')
  assert.equal(d.health, 2, 'starts at health = rise (UP 1/3)')
  assert.equal(d.op, 'up')
  assert.equal(d.lastCheck.status, 'INI')
  const hc = run(be)
  t.after(() => hc.stop())
  await waitFor(() => d.op === 'down' && l.health === 4, 'first checks')
  assert.equal(d.health, 0)
  assert.equal(d.lastCheck.status, 'L4CON')
  assert.equal(d.lastCheck.desc, 'Connection refused')
  assert.equal(d.chkdown, 1)
  assert.equal(l.lastCheck.status, 'L4OK')
  assert.match(log.lines[0], /^Server be\/dead is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 1 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$/)
  assert.equal(picks(be, 4), 'live live live live')
})

test('rise/fall: fall failures take a fully-UP server DOWN, rise successes bring it back', async (t) => {
  const up = await upstream()
  t.after(() => up.close())
  const log = new Log()
  const be = backendOf(`${head}  server s1 127.0.0.1:${up.port} check inter 40 rise 2 fall 3\n  server s2 127.0.0.1:${up.port}\n`, log)
  const s1 = server(be, 's1')
  const hc = run(be)
  t.after(() => hc.stop())
  await waitFor(() => s1.health === 4, 'fully up')
  const seen: number[] = []
  const watch = setInterval(() => { if (seen.at(-1) !== s1.health) seen.push(s1.health) }, 2)
  t.after(() => clearInterval(watch))
  await up.down()
  await waitFor(() => s1.op === 'down', 'down')
  if (seen.at(-1) !== s1.health) seen.push(s1.health)
  assert.deepEqual(seen, [4, 3, 2, 0], 'one step per failed check, then straight to 0')
  assert.equal(s1.chkfail, 3)
  assert.equal(picks(be, 2), 's2 s2')
  seen.length = 0
  await up.up()
  await waitFor(() => s1.op === 'up', 'up again')
  if (seen.at(-1) !== s1.health) seen.push(s1.health)
  assert.deepEqual(seen, [0, 1, 4], 'rise successes, then straight to the top')
  clearInterval(watch)
  assert.match(log.lines.at(-1) ?? '', /^Server be\/s1 is UP, reason: Layer4 check passed, check duration: \d+ms\. 2 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.$/)
  assert.equal(s1.chkdown, 1)
})

test('a flapping server: every down and up is seen, logged and counted', async (t) => {
  const up = await upstream()
  t.after(() => up.close())
  const log = new Log()
  const be = backendOf(`${head}  server s1 127.0.0.1:${up.port} check inter 25 rise 1 fall 1\n`, log)
  const s1 = server(be, 's1')
  const hc = run(be)
  t.after(() => hc.stop())
  for (let i = 0; i < 3; i++) {
    await up.down()
    await waitFor(() => s1.op === 'down', 'down')
    assert.equal(be.isUp, false)
    await up.up()
    await waitFor(() => s1.op === 'up', 'up')
    assert.equal(be.isUp, true)
  }
  assert.equal(s1.chkdown, 3)
  assert.equal(be.chkdown, 3)
  assert.equal(log.lines.filter((l) => l === "backend 'be' has no server available!").length, 3)
  assert.equal(log.lines.filter((l) => / is UP, /.test(l)).length, 3)
})

test('option httpchk sends HAProxy\'s bytes: OPTIONS / HTTP/1.0, no Host header', async (t) => {
  const cases: Array<[string, string]> = [
    ['  option httpchk\n', 'OPTIONS / HTTP/1.0\r\n\r\n'],
    ['  option httpchk GET /health HTTP/1.1\n', 'GET /health HTTP/1.1\r\nconnection: close\r\n\r\n'],
    ['  option httpchk HEAD /x\n', 'HEAD /x HTTP/1.0\r\n\r\n'],
    ['  option httpchk\n  http-check send meth POST uri /h ver HTTP/1.1 hdr Host example.com body hello\n',
      'POST /h HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello']
  ]
  for (const [lines, bytes] of cases) {
    const up = await upstream(OK)
    t.after(() => up.close())
    const be = backendOf(`${head}${lines}  server s1 127.0.0.1:${up.port} check inter 500\n`)
    const hc = run(be)
    t.after(() => hc.stop())
    await waitFor(() => server(be, 's1').lastCheck.status === 'L7OK', 'L7OK')
    assert.equal(up.requests[0], bytes)
    assert.equal(server(be, 's1').lastCheck.code, 200)
    hc.stop()
  }
})

// [check lines, upstream answer, expected status, code, expected log reason]
const HTTP_CASES: Array<[string, string, string, number | null, string]> = [
  ['', 'HTTP/1.0 500 Internal Server Error\r\n\r\n', 'L7STS', 500, 'reason: Layer7 wrong status, code: 500, info: "Internal Server Error"'],
  ['', 'HTTP/1.0 503 Service Unavailable\r\n\r\n', 'L7STS', 503, 'reason: Layer7 wrong status, code: 503, info: "Service Unavailable"'],
  ['', 'garbage\r\n\r\n', 'L7RSP', null, 'reason: Layer7 invalid response'],
  ['  http-check expect status 201\n', 'HTTP/1.0 200 OK\r\n\r\n', 'L7STS', 200, 'reason: Layer7 wrong status, code: 200, info: "OK"'],
  ['  http-check expect ! status 200\n', 'HTTP/1.0 200 OK\r\n\r\n', 'L7STS', 200, 'reason: Layer7 wrong status, code: 200, info: "OK"'],
  ['  http-check expect rstatus ^3\n', 'HTTP/1.0 200 OK\r\n\r\n', 'L7STS', 200, 'reason: Layer7 wrong status, code: 200, info: "OK"'],
  ['  http-check expect string alive\n', 'HTTP/1.0 200 OK\r\n\r\nnot here', 'L7RSP', null, 'reason: Layer7 invalid response, info: "HTTP content check did not match"'],
  ['  http-check expect rstring ^al\n', 'HTTP/1.0 200 OK\r\n\r\nnot here', 'L7RSP', null, 'reason: Layer7 invalid response, info: "HTTP content check did not match"'],
  ['  http-check expect hdr name x-ok value yes\n', 'HTTP/1.0 200 OK\r\nX-Ok: no, maybe\r\n\r\n', 'L7STS', 200, 'reason: Layer7 wrong status, code: 200, info: "OK"'],
  ['  http-check expect fhdr name x-ok value yes\n', 'HTTP/1.0 200 OK\r\nX-Ok: no, yes\r\n\r\n', 'L7STS', 200, 'reason: Layer7 wrong status, code: 200, info: "OK"'],
  ['  http-check expect ! hdr name x-down\n', 'HTTP/1.0 200 OK\r\nX-Down: 1\r\n\r\n', 'L7STS', 200, 'reason: Layer7 wrong status, code: 200, info: "OK"']
]

for (const [lines, answer, status, code, reason] of HTTP_CASES) {
  test(`httpchk ${lines.trim() || '(default)'} with ${JSON.stringify(answer.split('\r\n')[0])}: ${status}`, async (t) => {
    const up = await upstream(answer)
    t.after(() => up.close())
    const log = new Log()
    const be = backendOf(`${head}  option httpchk\n${lines}  server s1 127.0.0.1:${up.port} check inter 500\n`, log)
    const hc = run(be)
    t.after(() => hc.stop())
    const s1 = server(be, 's1')
    await waitFor(() => s1.op === 'down', 'down')
    assert.equal(s1.lastCheck.status, status)
    assert.equal(s1.lastCheck.code, code)
    assert.equal(log.lines[0].replace(/check duration: \d+ms/, 'check duration: Nms'),
      `Server be/s1 is DOWN, ${reason}, check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`)
    assert.equal(log.lines[1], "backend 'be' has no server available!")
  })
}

test('httpchk passes on 2xx and 3xx, and on what http-check expect asks for', async (t) => {
  const cases: Array<[string, string]> = [
    ['', 'HTTP/1.0 302 Found\r\nLocation: /\r\n\r\n'],
    ['', 'HTTP/1.1 204 No Content\r\n\r\n'],
    ['', 'HTTP/1.0 200\r\n\r\n'],
    ['  http-check expect status 200-299,404\n', 'HTTP/1.0 404 Not Found\r\n\r\n'],
    ['  http-check expect ! rstatus ^5\n', 'HTTP/1.0 404 Not Found\r\n\r\n'],
    ['  http-check expect string alive\n', 'HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nI\'m alive'],
    ['  http-check expect rstring "^I.m al"\n', 'HTTP/1.0 500 Oops\r\n\r\nI\'m alive'],
    ['  http-check expect hdr name x-ok value yes\n', 'HTTP/1.0 200 OK\r\nX-Ok: no, yes\r\n\r\n'],
    ['  http-check expect hdr name -m beg x-o\n', 'HTTP/1.0 500 Bad\r\nX-Ok: no\r\n\r\n'],
    ['  http-check expect hdr name x-ok value -m reg ^y.s$\n', 'HTTP/1.0 200 OK\r\nX-Ok: yes\r\n\r\n'],
    ['  http-check expect rstring \'^alive$\'\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nali\r\n2\r\nve\r\n0\r\n\r\n']
  ]
  for (const [lines, answer] of cases) {
    const up = await upstream(answer)
    t.after(() => up.close())
    const be = backendOf(`${head}  option httpchk\n${lines}  server s1 127.0.0.1:${up.port} check inter 500\n`)
    const hc = run(be)
    const s1 = server(be, 's1')
    await waitFor(() => s1.lastCheck.status !== 'INI', 'a check')
    hc.stop()
    assert.equal(s1.lastCheck.status, 'L7OK', `${lines} ${answer}`)
    assert.equal(s1.health, 4)
  }
})

test('http-check disable-on-404: 404 makes the server NOLB ("is stopping"), 200 brings it back', async (t) => {
  const up = await upstream('HTTP/1.0 404 Not Found\r\n\r\n')
  t.after(() => up.close())
  const log = new Log()
  const be = backendOf(`${head}  option httpchk\n  http-check disable-on-404\n  server s1 127.0.0.1:${up.port} check inter 40\n  server s2 127.0.0.1:1\n`, log)
  const hc = run(be)
  t.after(() => hc.stop())
  const s1 = server(be, 's1')
  await waitFor(() => s1.nolb, 'nolb')
  assert.equal(s1.op, 'up')
  assert.equal(s1.lastCheck.status, 'L7OKC')
  assert.equal(log.lines[0].replace(/\d+ms/, 'Nms'), 'Server be/s1 is stopping, reason: Layer7 check conditionally passed, code: 404, check duration: Nms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.')
  assert.equal(picks(be, 3), 's2 s2 s2', 'no new load-balanced traffic')
  up.reply = OK
  await waitFor(() => !s1.nolb, 'back')
  assert.match(log.lines[1], /^Server be\/s1 is UP, reason: Layer7 check passed, code: 200, check duration: \d+ms\. 2 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.$/)
  assert.ok(picks(be, 4).includes('s1'))
  // A DOWN server answering 404 stays DOWN: disable-on-404 only applies to servers that are up.
  up.reply = 'HTTP/1.0 500 Oops\r\n\r\n'
  await waitFor(() => s1.op === 'down', 'down')
  up.reply = 'HTTP/1.0 404 Not Found\r\n\r\n'
  const n = up.requests.length
  await waitFor(() => up.requests.length >= n + 3, 'three more checks')
  assert.equal(s1.op, 'down')
  assert.equal(s1.lastCheck.status, 'L7STS')
  assert.equal(s1.lastCheck.code, 404)
})

test('check timeouts: inter bounds the whole check, timeout check bounds the response', async (t) => {
  const silent = await upstream(null)
  t.after(() => silent.close())
  const be = backendOf(`${head}  option httpchk\n  server s1 127.0.0.1:${silent.port} check inter 120\n`)
  const hc = run(be)
  t.after(() => hc.stop())
  const s1 = server(be, 's1')
  await waitFor(() => s1.op === 'down', 'L7TOUT')
  assert.equal(s1.lastCheck.status, 'L7TOUT')
  assert.ok((s1.lastCheck.duration ?? 0) >= 110, `duration ${s1.lastCheck.duration}`)
  hc.stop()
  const be2 = backendOf(`${head}  timeout check 40ms\n  option httpchk\n  server s1 127.0.0.1:${silent.port} check inter 1s\n`)
  const hc2 = run(be2)
  t.after(() => hc2.stop())
  const t1 = server(be2, 's1')
  await waitFor(() => t1.op === 'down', 'L7TOUT')
  assert.equal(t1.lastCheck.status, 'L7TOUT')
  assert.ok((t1.lastCheck.duration ?? 0) >= 35 && (t1.lastCheck.duration ?? 0) < 500, `duration ${t1.lastCheck.duration}`)
})

test('port and addr send the check elsewhere', async (t) => {
  const live = await upstream()
  t.after(() => live.close())
  const dead = await closedPort()
  const be = backendOf(`${head}  server s1 127.0.0.1:${dead} check inter 50 port ${live.port}\n  server s2 127.0.0.2:${live.port} check inter 50 addr 127.0.0.1\n`)
  const hc = run(be)
  t.after(() => hc.stop())
  await waitFor(() => server(be, 's1').health === 4 && server(be, 's2').health === 4, 'both up')
  assert.equal(server(be, 's1').lastCheck.status, 'L4OK')
})

test('intervals: fastinter while in transition, downinter while DOWN', async (t) => {
  const up = await upstream('HTTP/1.0 500 Oops\r\n\r\n')
  t.after(() => up.close())
  // inter is far longer than the others, so that which interval ran shows whatever the machine's speed
  const be = backendOf(`${head}  option httpchk\n  server s1 127.0.0.1:${up.port} check inter 4000 fastinter 30 downinter 150 rise 3 fall 1\n`)
  const hc = run(be)
  t.after(() => hc.stop())
  const s1 = server(be, 's1')
  await waitFor(() => s1.op === 'down', 'down')
  const n0 = up.requests.length
  const down = Date.now()
  await waitFor(() => up.requests.length >= n0 + 3, 'three checks while DOWN')
  const whileDown = Date.now() - down
  // three checks 150 ms apart (downinter): never sooner (timers do not fire early), far from 3 × inter
  assert.ok(whileDown >= 2 * 150 && whileDown < 4000, `three checks at downinter 150 took ${whileDown} ms`)
  up.reply = OK
  const start = Date.now()
  await waitFor(() => s1.op === 'up', 'up')
  // first success after ≤150 ms (downinter), then 2 more at fastinter (30 ms), not inter (4 s)
  assert.ok(Date.now() - start < 4000, `rise took ${Date.now() - start} ms`)
})

test('first checks are spread over the interval, in server order', async (t) => {
  const ups: Upstream[] = []
  for (let i = 0; i < 4; i++) ups.push(await upstream())
  t.after(() => Promise.all(ups.map((u) => u.close())))
  const be = backendOf(`${head}${ups.map((u, i) => `  server s${i} 127.0.0.1:${u.port} check inter 400\n`).join('')}`)
  const start = Date.now()
  const firsts: number[] = []
  const hc = run(be)
  t.after(() => hc.stop())
  await waitFor(() => be.servers.every((s) => s.lastCheckAt > 0), 'all checked')
  for (const s of be.servers) firsts.push(s.lastCheckAt - start)
  firsts.forEach((ms, k) => assert.ok(Math.abs(ms - 100 * k) < 60, `server ${k} first checked at ${ms} ms`))
})

test('checks over TLS for ssl servers: L6OK, certificate verification when required', async (t) => {
  const dir = fileURLToPath(new URL('./fixtures/', import.meta.url))
  const key = readFileSync(dir + 'localhost.key')
  const cert = readFileSync(dir + 'localhost.crt')
  const srv = tls.createServer({ key, cert }, (s) => { s.on('error', () => {}); s.end() })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()))
  t.after(() => srv.close())
  const port = (srv.address() as { port: number }).port
  // inter bounds the whole check, the TLS handshake included: long enough for a loaded machine
  const be = backendOf(`${head}  server a 127.0.0.1:${port} check inter 2s ssl verify none\n  server b 127.0.0.1:${port} check inter 2s ssl verify required ca-file ${dir}localhost.crt\n  server c 127.0.0.1:${port} check inter 2s ssl verify required\n`)
  const hc = run(be)
  t.after(() => hc.stop())
  await waitFor(() => be.servers.every((s) => s.lastCheck.status !== 'INI'), 'checked')
  assert.equal(server(be, 'a').lastCheck.status, 'L6OK')
  assert.equal(server(be, 'b').lastCheck.status, 'L6OK')
  assert.equal(server(be, 'c').lastCheck.status, 'L6RSP', 'a self-signed certificate fails verification against the system CAs')
  // HAProxy 2.6 words a failed verification as any other failed handshake (observed)
  assert.equal(server(be, 'c').lastCheck.desc, 'SSL handshake failure')
  assert.equal(server(be, 'a').origin, `https://127.0.0.1:${port}`)
  hc.stop()
  // A plain TCP listener answering garbage to a TLS hello: Layer6 invalid response.
  const plain = net.createServer((s) => { s.on('error', () => {}); s.end('HTTP/1.0 400 Bad\r\n\r\n') })
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', () => resolve()))
  t.after(() => plain.close())
  const be2 = backendOf(`${head}  server p 127.0.0.1:${(plain.address() as { port: number }).port} check inter 2s ssl verify none\n`)
  const hc2 = run(be2)
  t.after(() => hc2.stop())
  const p = server(be2, 'p')
  await waitFor(() => p.op === 'down', 'L6RSP')
  assert.equal(p.lastCheck.status, 'L6RSP')
  hc2.stop()
  // A TCP listener that never answers the TLS hello: Layer6 timeout once inter runs out.
  const mute = await upstream(null)
  t.after(() => mute.close())
  const be3 = backendOf(`${head}  server m 127.0.0.1:${mute.port} check inter 80 ssl verify none\n`)
  const hc3 = run(be3)
  t.after(() => hc3.stop())
  await waitFor(() => server(be3, 'm').op === 'down', 'L6TOUT')
  assert.equal(server(be3, 'm').lastCheck.status, 'L6TOUT')
})

test('passive checks: observe layer7 + error-limit + on-error', async () => {
  const cases: Array<[string, (s: ReturnType<typeof server>) => void]> = [
    ['mark-down', (s) => {
      for (let i = 0; i < 3; i++) s.observe('http-status', 500)
      assert.equal(s.op, 'down')
      assert.equal(s.lastCheck.status, 'HANA')
    }],
    ['fail-check', (s) => {
      for (let i = 0; i < 3; i++) s.observe('http-status', 502)
      assert.equal(s.op, 'up')
      assert.equal(s.health, 3, 'one failed check')
    }],
    ['sudden-death', (s) => {
      for (let i = 0; i < 3; i++) s.observe('timeout')
      assert.equal(s.op, 'up')
      assert.equal(s.health, 2, 'one failure away from DOWN')
      for (let i = 0; i < 3; i++) s.observe('conn-error')
      assert.equal(s.op, 'down')
    }],
    ['fastinter', (s) => {
      for (let i = 0; i < 3; i++) s.observe('http-status', 503)
      assert.equal(s.op, 'up')
      assert.equal(s.health, 4)
      assert.equal(s.hanafail, 1)
    }]
  ]
  for (const [onError, check] of cases) {
    const log = new Log()
    const be = backendOf(`${head}  server s1 127.0.0.1:1 check observe layer7 error-limit 3 on-error ${onError}\n  server s2 127.0.0.1:2\n`, log)
    const s = server(be, 's1')
    s.health = 4
    // Good answers in between reset the count.
    s.observe('http-status', 500)
    s.observe('http-status', 404)
    s.observe('http-status', 500)
    s.observe('http-status', 200)
    assert.equal(s.consecutiveErrors, 0)
    check(s)
    if (onError === 'mark-down') {
      assert.equal(log.lines[0], 'Server be/s1 is DOWN, reason: Health analyze, info: "Detected 3 consecutive errors, last one was: Wrong http response". 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.')
    }
  }
  const unchecked = backendOf(`${head}  server s1 127.0.0.1:1 observe layer7 error-limit 2 on-error mark-down\n`)
  for (let i = 0; i < 4; i++) server(unchecked, 's1').observe('http-status', 500)
  assert.equal(server(unchecked, 's1').op, 'up', 'no effect without checks, as in haproxy')
  const l4 = backendOf(`${head}  server s1 127.0.0.1:1 check observe layer4 error-limit 2 on-error mark-down\n`)
  const s = server(l4, 's1')
  s.observe('http-status', 500)
  s.observe('http-status', 500)
  assert.equal(s.op, 'up', 'layer4 ignores HTTP statuses')
  s.observe('conn-error')
  s.observe('conn-error')
  assert.equal(s.op, 'down')
})

test('on-error brings the next check forward to fastinter', async (t) => {
  const up = await upstream()
  t.after(() => up.close())
  const be = backendOf(`${head}  server s1 127.0.0.1:${up.port} check inter 5s fastinter 30 observe layer4 error-limit 1 on-error fastinter\n`)
  const hc = run(be)
  t.after(() => hc.stop())
  const s1 = server(be, 's1')
  await waitFor(() => s1.lastCheckAt > 0, 'first check')
  const first = s1.lastCheckAt
  s1.observe('conn-error')
  await waitFor(() => s1.lastCheckAt > first, 'a check 30 ms later')
})

test('maintenance pauses checks; disableHealth freezes the state; enableHealth resumes', async (t) => {
  const dead = await closedPort()
  // s2 is a witness: its checks, every 30 ms like s1's would be, show that time passed
  const be = backendOf(`${head}  server s1 127.0.0.1:${dead} check inter 30\n  server s2 127.0.0.1:${dead} check inter 30\n`)
  const hc = run(be)
  t.after(() => hc.stop())
  const s1 = server(be, 's1')
  const witness = server(be, 's2')
  const witnessChecks = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const at = witness.lastCheckAt
      await waitFor(() => witness.lastCheckAt > at, 'a check of the witness')
    }
  }
  await waitFor(() => s1.op === 'down', 'down')
  s1.disableHealth()
  assert.equal(s1.op, 'down', 'haproxy 2.6 keeps a DOWN server DOWN when its checks are disabled')
  assert.equal(s1.checkEnabled, false)
  const at = s1.lastCheckAt
  await witnessChecks(3)
  assert.equal(s1.lastCheckAt, at, 'no checks while disabled')
  s1.enableHealth()
  await waitFor(() => s1.lastCheckAt > at, 'checks again')
  assert.equal(s1.op, 'down')
  s1.setAdmin('maint')
  const m = s1.lastCheckAt
  await witnessChecks(3)
  assert.equal(s1.lastCheckAt, m, 'no checks in maintenance')
  s1.setAdmin('ready')
  assert.equal(s1.health, s1.rise, 'leaving maintenance restarts at health = rise')
  await waitFor(() => s1.op === 'down', 'first check after maintenance')
})

test('stop() clears every timer and in-flight socket', async (t) => {
  const silent = await upstream(null)
  t.after(() => silent.close())
  const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length
  const be = backendOf(`${head}  option httpchk\n${[1, 2, 3].map((i) => `  server s${i} 127.0.0.1:${silent.port} check inter 10s\n`).join('')}`)
  const hc = run(be)
  await waitFor(() => silent.requests.length === 1, 'a check in flight')
  assert.ok(process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length > before)
  hc.stop()
  // a destroyed socket is released on a later turn of the loop
  await waitFor(() => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length === before, 'the check sockets closed')
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, 0)
})

test('option log-health-checks: one line per check that moves the counter, as haproxy prints them', async (t) => {
  const up = await upstream(OK)
  t.after(() => up.close())
  const log = new Log()
  const be = backendOf(`${head}  option log-health-checks\n  option httpchk\n  server s1 127.0.0.1:${up.port} check inter 30 rise 3\n`, log)
  const s1 = server(be, 's1')
  const hc = run(be)
  t.after(() => hc.stop())
  await waitFor(() => s1.health === 5, 'up')
  up.reply = 'HTTP/1.0 500 Internal Server Error\r\n\r\n'
  await waitFor(() => s1.op === 'down', 'down')
  up.reply = OK
  await waitFor(() => s1.op === 'up', 'up')
  hc.stop()
  const lines = log.lines.map((l) => l.replace(/check duration: \d+ms/, 'check duration: Nms'))
  const failed = 'Health check for server be/s1 failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: Nms, status: '
  const passed = 'Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: '
  assert.deepEqual(lines, [
    `${passed}3/3 UP.`,
    `${failed}2/3 UP.`,
    `${failed}1/3 UP.`,
    `${failed}0/3 DOWN.`,
    'Server be/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    "backend 'be' has no server available!",
    `${passed}1/3 DOWN.`,
    `${passed}2/3 DOWN.`,
    `${passed}3/3 UP.`,
    'Server be/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.'
  ])
})

test('adoptHealth: after a reload, unchanged servers keep their health, new ones start fresh', async (t) => {
  const live = await upstream()
  t.after(() => live.close())
  const dead = await closedPort()
  const cfg = (extra: string): string => `${head}  server up 127.0.0.1:${live.port} check inter 30\n  server down 127.0.0.1:${dead} check inter 30\n${extra}`
  const old = backendOf(cfg(''))
  const hc = run(old)
  await waitFor(() => server(old, 'down').op === 'down' && server(old, 'up').health === 4, 'settled')
  hc.stop()
  const next = backendOf(cfg(`  server added 127.0.0.1:${live.port} check inter 30\n`))
  next.adoptHealth(old)
  assert.equal(server(next, 'down').op, 'down')
  assert.equal(server(next, 'down').health, 0)
  assert.equal(server(next, 'down').lastCheck.status, 'L4CON')
  assert.equal(server(next, 'up').health, 4)
  assert.equal(server(next, 'added').health, 2, 'a new server starts at rise')
  assert.equal(picks(next, 4), 'up added up added')
})
