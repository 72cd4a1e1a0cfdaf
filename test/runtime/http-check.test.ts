// `http-check` rulesets run as HAProxy 2.6 runs them: several connect/send/expect exchanges in
// one check, `check.*` variables and log-format strings, several expect rules on one response,
// and which rules a backend inherits from its defaults. The requests and verdicts expected are
// the ones haproxy 2.6.12 gave on the same configs (its own reg-tests checks/http-check*.vtc,
// run against it).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../lib/config/parse.js'
import { Backend } from '../../lib/runtime/backend.js'
import { HealthChecker } from '../../lib/runtime/health.js'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { server, upstream } from './helpers.js'
import { waitFor } from '../gateway/fixtures.js'

const OK = 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'

/** The backend `name` of `text` with its checks running (the config is given to the checker: rules read it). */
function checked (text: string, name: string, t: { after: (fn: () => void) => void }): Backend {
  const config = parseConfig(text)
  const be = new Backend(config.proxies.find(p => p.name === name)!)
  const hc = new HealthChecker([be], { config })
  hc.start()
  t.after(() => hc.stop())
  return be
}

test('http-check: connect/send/expect exchanges with variables and log-formats, each on its own connection', async (t) => {
  const up = await upstream(OK)
  t.after(() => up.close())
  const be = checked([
    'defaults', '  mode http', '  timeout connect 1s',
    'backend be4',
    '  option httpchk',
    '  http-check send-state',
    `  http-check connect addr 127.0.0.1:${up.port}`,
    '  http-check set-var(check.server) "str(srv)"',
    '  http-check set-var(check.path) "str(/req1)"',
    '  http-check send meth GET uri-lf "%[var(check.path)]" ver HTTP/1.1 hdr x-test "server=%[var(check.server)]"',
    '  http-check expect status 200',
    `  http-check connect addr 127.0.0.1 port ${up.port}`,
    '  http-check unset-var(check.server)',
    '  http-check set-var(check.path) "str(/req2)"',
    '  http-check send meth GET uri-lf "%[var(check.path)]" ver HTTP/1.1 hdr x-test "server=%[var(check.server)]" body "health-check body"',
    '  http-check expect rstatus "^2[0-9]{2}"',
    `  http-check connect addr 127.0.0.1 port ${up.port}`,
    '  http-check unset-var(check.path)',
    '  http-check send meth GET uri-lf "%[var(check.path)]" body-lf "health-check on %[be_name]-%[srv_name]"',
    // the server's own address is closed: every exchange goes where its connect says
    '  server srv 127.0.0.1:1 check inter 10s rise 1 fall 1', ''
  ].join('\n'), 'be4', t)
  const s = server(be, 'srv')
  await waitFor(() => s.lastCheck.status === 'L7OK', 'L7OK')
  assert.equal(up.requests.length, 3)
  const [r1, r2, r3] = up.requests.map(r => r.replace(/node=[^;]*/, 'node=N'))
  assert.equal(r1, 'GET /req1 HTTP/1.1\r\nx-test: server=srv\r\nx-haproxy-server-state: UP; name=be4/srv; node=N; weight=1/1; scur=0/0; qcur=0\r\nconnection: close\r\n\r\n')
  assert.equal(r2, 'GET /req2 HTTP/1.1\r\nx-test: server=\r\nx-haproxy-server-state: UP; name=be4/srv; node=N; weight=1/1; scur=0/0; qcur=0\r\ncontent-length: 17\r\nconnection: close\r\n\r\nhealth-check body')
  assert.equal(r3, 'GET / HTTP/1.0\r\nx-haproxy-server-state: UP; name=be4/srv; node=N; weight=1/1; scur=0/0; qcur=0\r\ncontent-length: 23\r\n\r\nhealth-check on be4-srv')
})

test('http-check expect: every rule must hold, hdr/fhdr with -m methods, -lf patterns and variables set from the response', async (t) => {
  const answer = 'HTTP/1.0 202 OK\r\nx-test1: true, next value\r\nx-test2: true, begin-value, value-end, value-sub-string, value-reg-123ABC\r\n' +
    'x-begin-test: 1\r\nx-test-end: 1\r\nx-sub-test: 1\r\nx-reg-test1: 1\r\nx-hdr-name: x-test1\r\n\r\n'
  const rules = [
    'http-check expect status 200-399',
    'http-check expect hdr name "x-test1"',
    'http-check expect hdr name -m str "X-Test2"',
    'http-check expect hdr name -m reg "^[a-z]+-Reg-[a-z]+[0-9]$"',
    'http-check set-var(check.hdr_name) res.fhdr(x-hdr-name)',
    'http-check expect hdr name-lf -m str "%[var(check.hdr_name)]"',
    'http-check expect fhdr name "x-test1" value "true, next value"',
    'http-check expect hdr name -m beg "x-test" value -m end "-end"',
    'http-check expect fhdr name -m beg "x-test" value -m reg "value-reg-[A-Z0-9]+"',
    'http-check expect fhdr name -m beg "x-" value-lf -m str "%[res.fhdr(x-hdr-name)]"'
  ]
  const verdict = async (lines: string[]): Promise<string> => {
    const up = await upstream(answer)
    t.after(() => up.close())
    const be = checked(['defaults', '  mode http', '  timeout connect 1s', 'backend be1', '  option httpchk', ...lines.map(l => '  ' + l),
      `  server srv 127.0.0.1:${up.port} check inter 10s rise 1 fall 1`, ''].join('\n'), 'be1', t)
    const s = server(be, 'srv')
    await waitFor(() => s.lastCheck.status !== 'INI', 'a verdict')
    return `${s.lastCheck.status} ${s.lastCheck.code ?? '-'}`
  }
  assert.equal(await verdict(rules), 'L7OK 202')
  assert.equal(await verdict([...rules, 'http-check expect hdr name "x-missing"']), 'L7STS 202')
  assert.equal(await verdict(['http-check expect fhdr name "x-test1" value "true"']), 'L7STS 202')
})

test('http-check rules of a defaults section: a backend with its own option httpchk or send rule starts over', async (t) => {
  const ups = await Promise.all([1, 2, 3].map(async () => await upstream(OK)))
  t.after(async () => { for (const u of ups) await u.close() })
  const text = [
    'defaults', '  mode http', '  timeout connect 1s',
    '  option httpchk GET /status HTTP/1.1\\r\\nHdr:\\ must-be-removed',
    '  http-check send hdr Host "my-www-host" hdr X-test true body "test"',
    'backend be3', '  option httpchk', `  server srv 127.0.0.1:${ups[0]!.port} check inter 10s rise 1 fall 1`,
    'backend be4', `  server srv 127.0.0.1:${ups[1]!.port} check inter 10s rise 1 fall 1`,
    'backend be5', '  http-check send hdr Host "other-www-host" hdr X-New-Test true body "other test"', `  server srv 127.0.0.1:${ups[2]!.port} check inter 10s rise 1 fall 1`, ''
  ].join('\n')
  for (const name of ['be3', 'be4', 'be5']) {
    const be = checked(text, name, t)
    await waitFor(() => server(be, 'srv').lastCheck.status === 'L7OK', `${name} L7OK`)
  }
  assert.equal(ups[0]!.requests[0], 'OPTIONS / HTTP/1.0\r\n\r\n')
  assert.equal(ups[1]!.requests[0], 'GET /status HTTP/1.1\r\nhost: my-www-host\r\nx-test: true\r\ncontent-length: 4\r\nconnection: close\r\n\r\ntest')
  assert.equal(ups[2]!.requests[0], 'OPTIONS / HTTP/1.0\r\nhost: other-www-host\r\nx-new-test: true\r\ncontent-length: 10\r\n\r\nother test')
})

test('HTTP/2 checks: a proto h2 server, and check-proto h2, are checked over h2c (the request line as headers)', async (t) => {
  const seen: Array<Record<string, string>> = []
  const h2 = http2.createServer((req, res) => {
    seen.push({ method: req.method, path: req.url, version: req.httpVersion, test: String(req.headers['x-test'] ?? '') })
    res.writeHead(200).end()
  })
  await new Promise<void>(resolve => h2.listen(0, '127.0.0.1', resolve))
  t.after(() => h2.close())
  const port = (h2.address() as AddressInfo).port
  const text = [
    'defaults', '  mode http', '  timeout connect 1s',
    'backend be5', '  option httpchk', `  server srv 127.0.0.1:${port} proto h2 check inter 10s rise 1 fall 1`,
    'backend be6', '  option httpchk GET /status HTTP/1.1', '  http-check send hdr x-test yes hdr connection close',
    `  server srv 127.0.0.1:${port} check check-proto h2 inter 10s rise 1 fall 1`, ''
  ].join('\n')
  for (const name of ['be5', 'be6']) {
    const be = checked(text, name, t)
    await waitFor(() => server(be, 'srv').lastCheck.status !== 'INI', `${name} checked`)
    assert.equal(`${server(be, 'srv').lastCheck.status} ${server(be, 'srv').lastCheck.code}`, 'L7OK 200')
  }
  assert.deepEqual(seen, [
    { method: 'OPTIONS', path: '/', version: '2.0', test: '' },
    { method: 'GET', path: '/status', version: '2.0', test: 'yes' }
  ])
})
