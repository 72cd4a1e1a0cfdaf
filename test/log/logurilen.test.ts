// `tune.http.logurilen` (§3.2): the request line a log line shows is cut to that many bytes, and
// `%HM %HU %HP %HQ %HV %HPO` are read from what is left. The lines were recorded with HAProxy
// 2.6.12 on loopback; when it is installed, the same requests go to it too.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { haproxyBin, startProxy } from '../differential/harness.js'
import { rawRequest } from '../gateway/fixtures.js'
import { syslogServer } from './syslog.js'

const FORMAT = 'r=[%r] HU=[%HU] HP=[%HP] HQ=[%HQ] HV=[%HV] HM=[%HM] HPO=[%HPO]'

const config = (limit: number, syslog: number) => (port: number): string => `
global
    tune.http.logurilen ${limit}
defaults
    mode http
    option dontlognull
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:${port}
    log 127.0.0.1:${syslog} len 4096 format raw local0
    log-format "${FORMAT}"
    http-request return status 200
`

/** logurilen, request line → the log line HAProxy 2.6.12 wrote. */
const CASES: Array<[number, string, string]> = [
  [20, 'GET /abcdefghijklmnopqrstuvwxyz HTTP/1.1', 'r=[GET /abcdefghijklmno] HU=[/abcdefghijklmno] HP=[/abcdefghijklmno] HQ=[] HV=[HTTP/0.9] HM=[GET] HPO=[/abcdefghijklmno]'],
  [20, 'GET /abcdefghi?q=12345678 HTTP/1.1', 'r=[GET /abcdefghi?q=123] HU=[/abcdefghi?q=123] HP=[/abcdefghi] HQ=[?q=123] HV=[HTTP/0.9] HM=[GET] HPO=[/abcdefghi]'],
  [20, 'GET /ab?c HTTP/1.1', 'r=[GET /ab?c HTTP/1.1] HU=[/ab?c] HP=[/ab] HQ=[?c] HV=[HTTP/1.1] HM=[GET] HPO=[/ab]'],
  [20, 'GET /abcdefghij HTTP/1.1', 'r=[GET /abcdefghij HTTP] HU=[/abcdefghij] HP=[/abcdefghij] HQ=[] HV=[HTTP] HM=[GET] HPO=[/abcdefghij]'],
  [20, 'GET /abcdefghijkl HTTP/1.1', 'r=[GET /abcdefghijkl HT] HU=[/abcdefghijkl] HP=[/abcdefghijkl] HQ=[] HV=[HT] HM=[GET] HPO=[/abcdefghijkl]'],
  [20, 'DELETE /abcdefghijklmnopqrstuvwxyz HTTP/1.1', 'r=[DELETE /abcdefghijkl] HU=[/abcdefghijkl] HP=[/abcdefghijkl] HQ=[] HV=[HTTP/0.9] HM=[DELETE] HPO=[/abcdefghijkl]'],
  [2, 'GET /abc HTTP/1.1', 'r=[GE] HU=[<BADREQ>] HP=[<BADREQ>] HQ=[] HV=[<BADREQ>] HM=[<BADREQ>] HPO=[<BADREQ>]'],
  [5, 'GET /abc HTTP/1.1', 'r=[GET /] HU=[/] HP=[/] HQ=[] HV=[HTTP/0.9] HM=[GET] HPO=[/]'],
  [-5, 'GET /abc HTTP/1.1', 'r=[GET /abc HTTP/1.1] HU=[/abc] HP=[/abc] HQ=[] HV=[HTTP/1.1] HM=[GET] HPO=[/abc]']
]

test('tune.http.logurilen cuts the logged request line, and its parts, as HAProxy 2.6.12 does', async () => {
  const labels = haproxyBin === null ? ['ours'] as const : ['ours', 'haproxy'] as const
  for (const label of labels) {
    for (const limit of [...new Set(CASES.map(([n]) => n))]) {
      const cases = CASES.filter(([n]) => n === limit)
      const syslog = await syslogServer()
      const proxy = await startProxy(label, config(limit, syslog.port))
      try {
        for (const [, line] of cases) {
          const r = await rawRequest(proxy.port, `${line}\r\nHost: a.b\r\nConnection: close\r\n\r\n`)
          assert.equal(r.status, 200, `${label}: ${line}`)
        }
        const lines = await syslog.wait(cases.length)
        assert.deepEqual(lines.map((l) => l.trimEnd()), cases.map(([, , logged]) => logged), `${label}, logurilen ${limit}`)
      } finally {
        await proxy.stop()
        await syslog.close()
      }
    }
  }
})

test('without tune.http.logurilen, a request line is logged up to 1023 bytes, and 1024 with its default set', async () => {
  const path = '/' + 'a'.repeat(1100)
  for (const label of haproxyBin === null ? ['ours'] as const : ['ours', 'haproxy'] as const) {
    for (const [limit, kept] of [[null, 1023], [1024, 1024]] as const) {
      const syslog = await syslogServer()
      const proxy = await startProxy(label, (port) => config(limit ?? 0, syslog.port)(port).replace(limit === null ? /\n {4}tune\.http\.logurilen 0/ : /^$/, ''))
      try {
        await rawRequest(proxy.port, `GET ${path} HTTP/1.1\r\nHost: a.b\r\nConnection: close\r\n\r\n`)
        const [line] = await syslog.wait(1)
        const uri = path.slice(0, kept - 4)
        assert.ok(line!.startsWith(`r=[GET ${uri}] HU=[${uri}] `), `${label}, logurilen ${limit}: …${line!.slice(1000, 1100)}`)
      } finally {
        await proxy.stop()
        await syslog.close()
      }
    }
  }
})
