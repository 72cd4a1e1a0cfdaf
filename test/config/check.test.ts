// checkConfig: HAProxy's load-time verdict (src/haproxy.c: readcfgfile → check_config_validity →
// server address init), with post-parse checks only after a clean parse.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../lib/config/parse.js'
import { checkConfig, NO_LISTENER } from '../../lib/check.js'
import type { Diagnostic } from '../../lib/config/model.js'

const DEFAULTS = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'
const check = (text: string): Diagnostic[] => checkConfig(parseConfig(text, { filename: 'c.cfg', env: {} }))
const lines = (ds: Diagnostic[], level: Diagnostic['level']): string[] => ds.filter(d => d.level === level).map(d => (d.loc ? `${d.loc.line}: ` : '') + d.message)

test('a valid config gives no alert and no warning', () => {
  const d = check(DEFAULTS + 'frontend fe\n bind 127.0.0.1:8080\n default_backend be\nbackend be\n server s1 127.0.0.1:8081\n')
  assert.deepEqual(lines(d, 'alert'), [])
  assert.deepEqual(lines(d, 'warning'), [])
})

test('missing backends are reported after parsing, in HAProxy\'s words; dynamic names are left to run time', () => {
  const d = check(DEFAULTS + 'frontend fe\n bind :1\n use_backend nowhere if { path_beg /x }\n use_backend be_%[req.hdr(host)]\n default_backend nope\nbackend be\n')
  assert.deepEqual(lines(d, 'alert'), [
    "Proxy 'fe': unable to find required default_backend: 'nope'.",
    "Proxy 'fe': unable to find required use_backend: 'nowhere'."
  ])
})

test('a frontend is not a backend: default_backend must name a proxy with backend capability', () => {
  const d = check(DEFAULTS + 'frontend fe\n bind :1\n default_backend other\nfrontend other\n bind :2\n')
  assert.deepEqual(lines(d, 'alert'), ["Proxy 'fe': unable to find required default_backend: 'other'."])
})

test('post-parse checks do not run when parsing found an alert (as in HAProxy)', () => {
  const d = check(DEFAULTS + 'frontend fe\n bind :1\n frobnicate\n default_backend nope\n')
  assert.deepEqual(lines(d, 'alert'), ["8: unknown keyword 'frobnicate' in 'frontend' section"])
})

test('expression errors come from the ACL compiler and count as parse errors', () => {
  const d = check(DEFAULTS + 'frontend fe\n bind :1\n use_backend be if not_declared\n default_backend nope\nbackend be\n')
  const alerts = lines(d, 'alert')
  assert.equal(alerts.length, 1)
  assert.match(alerts[0]!, /^8: .*not_declared/)
})

test('warnings after parsing: missing timeouts (HAProxy\'s text) and frontends without bind', () => {
  const d = check('defaults\n mode http\nfrontend f\n default_backend b\nbackend b\n server s 127.0.0.1:1\nlisten l\n bind :1\n timeout client 1s\n timeout connect 1s\n timeout server 1s\n')
  assert.deepEqual(lines(d, 'warning'), [
    "frontend 'f' has no 'bind' directive. Please declare it as a backend if this was intended.",
    "missing timeouts for frontend 'f'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
    "missing timeouts for backend 'b'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."
  ])
})

test('server names are resolved last: /etc/hosts names pass, unknown ones fail unless resolvers/init-addr none', () => {
  const ok = check(DEFAULTS + 'frontend f\n bind :1\n default_backend b\nbackend b\n server s localhost:80\n')
  assert.deepEqual(lines(ok, 'alert'), [])
  const bad = check('resolvers dns\n nameserver d 127.0.0.1:53\n' + DEFAULTS + 'frontend f\n bind :1\n default_backend b\nbackend b\n server s no-such-host.invalid:80\n server t other.invalid:80 resolvers dns\n default-server init-addr last,libc,none\n server u third.invalid:80\n')
  assert.deepEqual(lines(bad, 'alert'), [
    "12: 'server b/s' : could not resolve address 'no-such-host.invalid'.",
    'Failed to initialize server(s) addr.'
  ])
  assert.deepEqual(lines(bad, 'warning').filter(w => /could not resolve/.test(w)), [
    "13: 'server b/t' : could not resolve address 'other.invalid', disabling server.",
    "15: 'server b/u' : could not resolve address 'third.invalid', disabling server."
  ])
  const noSection = check(DEFAULTS + 'frontend f\n bind :1\n default_backend b\nbackend b\n server t 127.0.0.1:80 resolvers dns\n')
  assert.deepEqual(lines(noSection, 'alert'), ["backend 'b', server 't': unable to find required resolvers 'dns'"])
})

test('nothing to listen on: a notice marked no-listener (the CLI exits 2); a stats socket listens', () => {
  for (const text of ['', 'backend b\n server s 127.0.0.1:1\n', 'frontend f\n mode http\n disabled\n bind :1\n']) {
    const d = check(text)
    assert.deepEqual(lines(d, 'alert'), [], text)
    assert.ok(d.some(x => x.keyword === NO_LISTENER), text)
  }
  assert.ok(!check('global\n stats socket /run/haproxy.sock\n').some(x => x.keyword === NO_LISTENER))
})

test('errorfiles must name an http-errors section', () => {
  const d = check(DEFAULTS + 'frontend f\n bind :1\n errorfiles site\n')
  assert.deepEqual(lines(d, 'alert'), ["6: proxy 'f': unable to find http-errors section 'site'."])
})

test('diagnostics from several sources come out in line order', () => {
  const d = check(DEFAULTS + 'frontend fe\n bind :1\n acl x nope_fetch foo\n frob\n')
  const located = d.filter(x => x.loc).map(x => x.loc!.line)
  assert.deepEqual(located, [...located].sort((a, b) => a - b))
})

test('an http frontend cannot use a tcp backend; modes are HAProxy\'s (no mode = tcp there)', () => {
  const T = 'defaults\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'
  const d = check(T + 'frontend fe\n mode http\n bind :1\n use_backend bt if TRUE\n default_backend bn\nbackend bt\n mode tcp\n server s 127.0.0.1:1\nbackend bn\n server s 127.0.0.1:1\n')
  assert.deepEqual(lines(d, 'alert'), [
    "http frontend 'fe' (c.cfg:5) tries to use incompatible tcp backend 'bn' (c.cfg:13) as its default backend (see 'mode').",
    "http frontend 'fe' (c.cfg:5) tries to use incompatible tcp backend 'bt' (c.cfg:10) in a 'use_backend' rule (see 'mode')."
  ])
  const tcpToHttp = check(T + 'listen l\n mode tcp\n bind :1\n default_backend b\nbackend b\n mode http\n server s 127.0.0.1:1\n')
  assert.deepEqual(lines(tcpToHttp, 'alert'), [])
})

test('option pgsql-check and mysql-check arguments are checked with HAProxy 2.6\'s messages (recorded with haproxy -c)', () => {
  const cases: Array<[string, string | null]> = [
    ['option pgsql-check', "'option pgsql-check' expects 'user <username>' as argument."],
    ['option pgsql-check foo bar', "'option pgsql-check' only supports optional values: 'user'."],
    ['option pgsql-check user u', null],
    ['option mysql-check foo', "'option mysql-check' only supports optional values: 'user' (got 'foo')."],
    ['option mysql-check user', "'option mysql-check user' expects <username> as argument."],
    ['option mysql-check user u post-42', "keyword 'user' only supports 'post-41' and 'pre-41' (got 'post-42')."],
    ['option mysql-check user u pre-41', null]
  ]
  for (const [line, alert] of cases) {
    const d = check(DEFAULTS.replace('mode http', 'mode tcp') + `backend b\n ${line}\n server s 127.0.0.1:1 check\n`)
    assert.deepEqual(lines(d, 'alert'), alert === null ? [] : [`7: ${alert}`], line)
  }
})

test('a server whose port follows the client\'s cannot be checked without a check port (2.6.12\'s words, `proxy` for a listen)', () => {
  const d = check(DEFAULTS + 'listen l\n bind :1\n server a 127.0.0.1 check\n server b 127.0.0.1:+1 check\n server c 127.0.0.1:-1 check port 80\n server d 127.0.0.1\n')
  assert.deepEqual(lines(d, 'alert'), [
    "config: proxy 'l': server 'a' has neither service port nor check port.",
    "config: proxy 'l': server 'b' has neither service port nor check port."
  ])
  assert.deepEqual(lines(d, 'warning'), [])
})
