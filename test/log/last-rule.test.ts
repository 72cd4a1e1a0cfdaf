// `last_rule_file` / `last_rule_line`: the config file and line of the last final rule that
// matched (tcp-request / tcp-response content, http-request, http-response; not the legacy
// `redirect` rules), in the log line of each request, compared with real HAProxy on the same
// config and requests (the rule sets of HAProxy's log/last_rule reg-test, one request per
// connection). `tcp-response content` rules run on each response of an HTTP backend.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { head, skipWithoutHaproxy, startUpstream } from '../differential/harness.js'
import { bothProxies } from './syslog.js'

function config (log: number, up: number) {
  return (port: number): string => `${head(['option http-server-close', 'option dontlognull'])}
frontend fe1
    bind 127.0.0.1:${port}
    log 127.0.0.1:${log} local0
    log-format "%HP lr=%[last_rule_file]:%[last_rule_line] %ST %tsc"
    default_backend be
backend be
    tcp-response inspect-delay 10s
    tcp-request content set-var(txn.path) path
    tcp-request content accept if { var(txn.path) -m beg /trqacc1 /hrqrej1 }
    tcp-request content reject if { var(txn.path) -m beg /trqrej1 }
    tcp-response content reject unless WAIT_END
    tcp-response content set-var(txn.foo) var(txn.path)
    tcp-response content accept if { var(txn.path) -m beg /trsacc1 /hrsrej1 }
    tcp-response content reject if { var(txn.path) -m beg /trsrej1 }
    http-request set-var(txn.bar) var(txn.path) if { path_beg /hrqvar }
    http-request allow if { var(txn.path) -m beg /hrqacc1 /hrsrej2 }
    http-request redirect location / if { var(txn.path) -m beg /hrqred1 }
    http-request deny if { var(txn.path) -m beg /hrqrej1 }
    redirect location /legacy if { var(txn.path) -m beg /legacy }
    http-response allow if { var(txn.path) -m beg /hrsacc1 }
    http-response redirect location / if { var(txn.path) -m beg /hrsred1 }
    http-response deny if { var(txn.path) -m beg /hrsrej1 }
    http-response deny if { var(txn.path) -m beg /hrsrej2 }
    server app1 127.0.0.1:${up}
`
}

const PATHS = ['/trqacc1', '/trqrej1', '/trsacc1', '/trsrej1', '/hrqvar', '/hrqacc1', '/hrqred1', '/hrqrej1', '/legacy', '/hrsacc1', '/hrsred1', '/hrsrej1', '/hrsrej2']

/** One request on its own connection: the status, or 'closed' when the connection closed without an answer. */
function get (port: number, path: string): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, res => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve('closed'))
    req.end()
  })
}

test('last_rule_file / last_rule_line name the rule that decided, as HAProxy does', { skip: skipWithoutHaproxy }, async (t) => {
  const upstream = await startUpstream('app1')
  t.after(() => upstream.close())
  const seen = await bothProxies(log => config(log, upstream.port), async (port, syslog) => {
    const statuses: Array<number | 'closed'> = []
    for (const [i, path] of PATHS.entries()) {
      statuses.push(await get(port, path))
      await syslog.wait(i + 1, 8000)
    }
    // each run has its own copy of the config: the directory differs, not the name
    return syslog.lines.map((l, i) => `${statuses[i]!} ${l.replace(/^.*?\]: /, '').replace(/=\S*\/haproxy\.cfg:/, '=haproxy.cfg:').trim()}`)
  })
  assert.deepEqual(seen.ours, seen.haproxy)
  const denyLine = config(0, 0)(0).split('\n').findIndex(l => l.includes('http-request deny')) + 1
  assert.ok(seen.ours.includes(`403 /hrqrej1 lr=haproxy.cfg:${denyLine} 403 PR--`), seen.ours.join('\n'))
  assert.equal(seen.ours.length, PATHS.length)
})
