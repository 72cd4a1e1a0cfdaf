// checkExpressions: every grammar error of ACLs, conditions, rules, sample expressions and
// log-format strings is an alert worded as HAProxy 2.6 words it; valid lines give no alert.
// When haproxy is installed, each snippet's verdict is also checked with `haproxy -c`.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { checkExpressions } from '../../lib/acl/check.js'
import { compileProxy } from '../../lib/acl/compile.js'
import { txnFromParts } from '../../lib/acl/make-txn.js'
import { parseConfig } from '../../lib/config/parse.js'
import { haproxyInstalled } from './real-haproxy.js'

const dir = mkdtempSync(join(tmpdir(), 'acl-check-'))
writeFileSync(join(dir, 'ok.lst'), '/a\n')
writeFileSync(join(dir, 'bad.map'), '/a b\n')
after(() => rmSync(dir, { recursive: true, force: true }))

/** [line in frontend fe, expected alert (exact), or null when the line is valid]. */
const LINES: Array<[string, string | null]> = [
  ['acl x no_such_fetch foo', "error detected while parsing ACL 'x' : unknown fetch method 'no_such_fetch' in ACL expression 'no_such_fetch'."],
  ['acl r path_reg ^/(unclosed', "error detected while parsing ACL 'r' : regex '^/(unclosed' is invalid (error=missing closing parenthesis, erroffset=11)."],
  ['acl x path_beg -f /nonexistent/paths.lst', "error detected while parsing ACL 'x' : failed to open pattern file </nonexistent/paths.lst>."],
  [`acl x path_beg -f ${dir}/ok.lst`, null],
  ['acl lenbad path_len abc', "error detected while parsing ACL 'lenbad' : 'abc' is not a number."],
  ['acl r path -m foo x', "error detected while parsing ACL 'r' : unknown matching method 'foo' when parsing ACL expression."],
  ['acl ip src 1.2.3.400', "error detected while parsing ACL 'ip' : '1.2.3.400' is not a valid IPv4 or IPv6 address."],
  ['acl i path -m int 3:x', "error detected while parsing ACL 'i' : '3:x' is not a valid number range."],
  ['acl x var(txn.foo) a', "error detected while parsing ACL 'x' : matching method must be specified first (using '-m') when using a sample fetch of this type ('var')."],
  ['acl x var(txn.foo) -m str a', null],
  ['acl x hdr_found(host)', "error detected while parsing ACL 'x' : unknown fetch method 'hdr_found' in ACL expression 'hdr_found(host)'."],
  ['acl x path -x', "error detected while parsing ACL 'x' : '-x' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'."],
  ['acl x path,map(/nonexistent/m.map) v', "error detected while parsing ACL 'x' : ACL keyword 'path' : invalid args in converter 'map' : failed to open pattern file </nonexistent/m.map>.."],
  ['acl h hdr(host,3,4) x', "error detected while parsing ACL 'h' : ACL keyword 'hdr' : expected ')' before ',4)'."],
  ['acl x path,lower,upper,host_only,field(1,/),word(1,/),regsub(a,b,g),base64,json,url_dec,length ge 0', null],
  ['http-request set-header x %[path,map_len(/x)]', "error detected in frontend 'fe' while parsing 'http-request set-header' rule : failed to parse sample expression <path,map_len(/x)]> : unknown converter 'map_len'."],
  [`http-request set-header x %[path,map_str_int(${dir}/bad.map)]`, `error detected in frontend 'fe' while parsing 'http-request set-header' rule : failed to parse sample expression <path,map_str_int(${dir}/bad.map)]> : invalid args in converter 'map_str_int' : unable to parse 'b' at line 1 of file '${dir}/bad.map'.`],
  [`http-request set-header x %[path,map_str_int(${dir}/ok.lst)]`, null],
  ['acl x always_true', null],
  ['acl x path,crc32,crc32(1),djb2,sdbm(1),wt6 gt 0', null],
  ['acl x path,xxh32(3),add(1) gt 0', null],
  ['http-request set-header x %[path,sha1,hex]%[path,sha2(512),ub64enc]%[str(ff),hex2i]%[path,concat(a,txn.v,b),bytes(1,2),cut_crlf,url_enc]%[int(0),http_date(0,ms)]%[str(1),iif(y,n)]', null],
  ['http-request set-header x %[req.hdrs]%[req.hdr_names(;)]%[baseq]%[http_auth_bearer]%[capture.req.method]%[capture.req.uri]%[capture.req.ver]%[fe_id]%[uuid]%[date_us]', null],
  ['acl x fc_src 127.0.0.1', null],
  ['acl x fc_rcvd_proxy', null],
  ['acl x ipv4(127.0.0.1) 127.0.0.0/8', null],
  ['acl x be_conn(be) gt 10', null],
  ['acl x srv_conn(be/s1) gt 10', null],
  ['acl x queue(be) gt 10', null],
  ['acl x nbsrv(be) gt 0', null],
  ['http-request set-header x %[be_name]', "error detected in frontend 'fe' while parsing 'http-request set-header' rule : sample fetch <be_name]> may not be reliably used here because it needs 'backend' which is not available here."],
  ['http-request set-var(txn.x) be_id', "error detected in frontend 'fe' while parsing 'http-request set-var(txn.x)' rule : fetch method 'set-var(txn.x)' extracts information from 'backend', none of which is available here."],
  ['http-response set-header x %[be_name]%[be_id]', null],
  ['http-request set-header x %[status]', "error detected in frontend 'fe' while parsing 'http-request set-header' rule : sample fetch <status]> may not be reliably used here because it needs 'HTTP response' which is not available here."],
  ['http-response set-header x %[req.hdr(host)]', "error detected in frontend 'fe' while parsing 'http-response set-header' rule : sample fetch <req.hdr(host)]> may not be reliably used here because it needs 'HTTP request headers' which is not available here."],
  ['http-request deny if { status 200 }', null],
  // wait-for-body's arguments, worded as HAProxy 2.6.12 words them (recorded with haproxy -c)
  ['http-request wait-for-body', "error detected in frontend 'fe' while parsing 'http-request wait-for-body' rule : expects time <time> [ at-least <bytes> ]."],
  ['http-request wait-for-body time', "error detected in frontend 'fe' while parsing 'http-request wait-for-body' rule : missing argument for 'time'."],
  ['http-request wait-for-body time abc', "error detected in frontend 'fe' while parsing 'http-request wait-for-body' rule : unexpected character 'a'."],
  ['http-request wait-for-body time 1s at-least', "error detected in frontend 'fe' while parsing 'http-request wait-for-body' rule : missing argument for 'at-least'."],
  ['http-request wait-for-body time 1s at-least 1x', "error detected in frontend 'fe' while parsing 'http-request wait-for-body' rule : unexpected character 'x'."],
  ['http-request wait-for-body time 1s at-least 2k if { req.body_size gt 0 }', null],
  ['http-request set-header x %[req.body]%[req.body_len]%[req.body_size]%[req.body_param(a)]', null],
  ['use_backend be if later', "error detected while parsing switching rule : no such ACL : 'later'."],
  ['use_backend be if { path /x', "error detected while parsing switching rule : missing closing '}' in condition."],
  ['use_backend be if {path_beg /x}', "error detected while parsing switching rule : no such ACL : '{path_beg'."],
  ['use_backend be if { }', "error detected while parsing switching rule : missing fetch method in ACL expression ''."],
  ['use_backend be if TRUE !FALSE HTTP HTTP_1.1 LOCALHOST METH_GET or !! WAIT_END || HTTP_URL_SLASH', null],
  ['use_backend %[req.hdr(host),map_str(/nonexistent/hosts.map,be)]', "failed to parse use_backend rule '%[req.hdr(host),map_str(/nonexistent/hosts.map,be)]' : failed to parse sample expression <req.hdr(host),map_str(/nonexistent/hosts.map,be)]> : invalid args in converter 'map_str' : failed to open pattern file </nonexistent/hosts.map>."],
  ['use_backend %[path,lowerx]', "failed to parse use_backend rule '%[path,lowerx]' : failed to parse sample expression <path,lowerx]> : unknown converter 'lowerx'."],
  ['http-request frobnicate', "'http-request' expects 'wait-for-handshake', 'ot-group', 'set-log-level', 'set-nice', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', 'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset', but got 'frobnicate'."],
  ['http-request deny if nope', "error detected while parsing an 'http-request deny' condition : no such ACL : 'nope'."],
  ['http-request deny foo', "'http-request deny' expects either 'if' or 'unless' followed by a condition but found 'foo'."],
  ['http-request deny deny_status 999', "error detected in frontend 'fe' while parsing 'http-request deny' rule : Unexpected status code '999'."],
  ['http-request set-header X-A %[nofetch]', "error detected in frontend 'fe' while parsing 'http-request set-header' rule : failed to parse sample expression <nofetch]> : unknown fetch method 'nofetch'."],
  ['http-request set-header X-E %[path', "error detected in frontend 'fe' while parsing 'http-request set-header' rule : missing ']' after 'path'."],
  ['http-request set-header X-G %Z', "error detected in frontend 'fe' while parsing 'http-request set-header' rule : no such format variable 'Z'. If you wanted to emit the '%' character verbatim, you need to use '%%'."],
  ['http-request set-header', "error detected in frontend 'fe' while parsing 'http-request set-header' rule : expects exactly 2 arguments."],
  ['http-request set-header X "%ci:%cp %[src] %%"', null],
  ['http-request set-var(foo) path', "error detected in frontend 'fe' while parsing 'http-request set-var(foo)' rule : invalid variable name 'foo'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'."],
  ['http-request set-var(txn.x) path,nope', "error detected in frontend 'fe' while parsing 'http-request set-var(txn.x)' rule : unknown converter 'nope'."],
  ['http-request redirect', "error detected in frontend 'fe' while parsing 'http-request redirect' rule : redirection type expected ('prefix', 'location', or 'scheme')."],
  ['http-request redirect location /x code 304', "error detected in frontend 'fe' while parsing 'http-request redirect' rule : 'code': unsupported HTTP code '304' (must be one of 301, 302, 303, 307 or 308)."],
  ['http-request redirect location /x if { path_reg ( }', "error detected in frontend 'fe' while parsing 'http-request redirect' rule : error in condition: regex '(' is invalid (error=missing closing parenthesis, erroffset=1)."],
  ['redirect foo /x', "error detected in frontend 'fe' while parsing redirect rule : expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'foo')."],
  ['redirect prefix /x if nope3', "error detected in frontend 'fe' while parsing redirect rule : error in condition: no such ACL : 'nope3'."],
  ['http-request return status 200 string x', "error detected in frontend 'fe' while parsing 'http-request return' rule : a content type must be defined when non-empty payload is configured."],
  ['http-request return status 200 file /nonexistent/body', "error detected in frontend 'fe' while parsing 'http-request return' rule : error opening file '/nonexistent/body'."],
  ['http-request auth realm', "error detected in frontend 'fe' while parsing 'http-request auth' rule : missing realm value."],
  ['http-request replace-header X ( y', "error detected in frontend 'fe' while parsing 'http-request replace-header' rule : regex '(' is invalid (error=missing closing parenthesis, erroffset=1)."],
  ['http-request use-service foo', "error detected in frontend 'fe' while parsing 'http-request use-service' rule : 'foo' unknown service name.."],
  ['http-request use-service prometheus-exporter', null],
  ['http-response set-header X-C 1 if nope2', "error detected while parsing an 'http-response set-header' condition : no such ACL : 'nope2'."],
  ['http-response set-status abc', "error detected in frontend 'fe' while parsing 'http-response set-status' rule : expects an integer status code between 100 and 999."],
  ['http-response set-header X-Path-Hit yes if { status 200 }', null],
  ['http-response auth', "'http-response' expects 'ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'cache-store', 'add-acl(*)', 'add-header', 'allow', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'redirect', 'replace-header', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-status', 'strict-mode', 'track-sc(*)', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop', but got 'auth'."]
]

function configWith (line: string): string {
  return `defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\nfrontend fe\n  bind 127.0.0.1:18080\n  ${line}\n  acl later path /x\n  default_backend be\nbackend be\n  server s1 127.0.0.1:18081\n`
}

const alertsOf = (line: string): string[] => {
  const config = parseConfig(configWith(line), { filename: join(dir, 'haproxy.cfg') })
  return checkExpressions(config).filter((d) => d.level === 'alert').map((d) => d.message)
}

describe('checkExpressions words errors as HAProxy', () => {
  for (const [line, want] of LINES) {
    test(line.slice(0, 80), () => {
      const alerts = alertsOf(line)
      if (want === null) assert.deepEqual(alerts, [])
      else assert.deepEqual(alerts, [want])
    })
  }
  test('diagnostics carry the line and the keyword', () => {
    const config = parseConfig(configWith('acl x no_such_fetch foo'), { filename: join(dir, 'haproxy.cfg') })
    const [d] = checkExpressions(config)
    assert.deepEqual({ line: d.loc?.line, keyword: d.keyword }, { line: 8, keyword: 'acl' })
  })
  test('an ACL line without pattern is a warning, as in HAProxy', () => {
    const config = parseConfig(configWith('acl e path'), { filename: join(dir, 'haproxy.cfg') })
    const ds = checkExpressions(config)
    assert.deepEqual(ds.map((d) => d.level), ['warning'])
    assert.match(ds[0].message, /^parsing acl keyword 'path' :\n {2}no pattern to match against were provided, so this ACL will never match\./)
  })
  test('conditions reading the other message are warnings and never match, as in HAProxy', () => {
    const text = configWith('acl p path /x\n  acl p status 200\n  acl s status 200\n  http-response set-header x y if p\n  http-response set-header x y if s { path /y }\n  http-request deny if s\n  use_backend be if p')
    const config = parseConfig(text, { filename: join(dir, 'haproxy.cfg') })
    assert.deepEqual(checkExpressions(config).map((d) => `${d.level} ${d.loc?.line}: ${d.message}`), [
      "warning 11: acl 'p' involves keywords 'path' which is incompatible with 'frontend http-response header rule'",
      "warning 12: anonymous acl will never match because it uses keyword 'path' which is incompatible with 'frontend http-response header rule'",
      "warning 13: acl 's' will never match because it only involves keywords that are incompatible with 'frontend http-request header rule'",
      "warning 14: acl 'p' involves keywords 'status' which is incompatible with 'frontend use-backend rule'"
    ])
    const fe = compileProxy(config.proxies[0], config)
    const res = { status: 200, headers: {} as Record<string, string> }
    fe.responseRules(txnFromParts({ url: '/x' }), res)
    assert.deepEqual(res.headers, { x: 'y' })
    assert.equal(fe.requestRules(txnFromParts({ url: '/x' })), null)
  })
  test('a frontend\'s request rules cannot read the backend: be_name conditions never match, as in HAProxy', () => {
    const config = parseConfig(configWith('acl b be_name be\n  use_backend be if b\n  http-request deny if { be_id 2 }'), { filename: join(dir, 'haproxy.cfg') })
    assert.deepEqual(checkExpressions(config).map((d) => `${d.level} ${d.loc?.line}: ${d.message}`), [
      "warning 9: acl 'b' will never match because it only involves keywords that are incompatible with 'frontend use-backend rule'",
      "warning 10: anonymous acl will never match because it uses keyword 'be_id' which is incompatible with 'frontend http-request header rule'"
    ])
  })
  test('nbsrv, be_conn and queue without a backend argument need a proxy with backend capability', () => {
    for (const fetch of ['nbsrv', 'be_conn', 'queue']) {
      assert.deepEqual(alertsOf(`acl x ${fetch} gt 0`), [`error detected while parsing ACL 'x' : proxy 'fe', referenced in arg 1 of sample fetch keyword '${fetch}', has not backend capability.`])
      const inBackend = parseConfig(configWith('default_backend be').replace('  server s1', `  acl x ${fetch} gt 0\n  server s1`), { filename: join(dir, 'haproxy.cfg') })
      assert.deepEqual(checkExpressions(inBackend).filter((d) => d.level === 'alert'), [])
    }
  })
  test('compileProxy throws with the diagnostics attached', () => {
    const config = parseConfig(configWith('http-request deny if nope'), { filename: join(dir, 'haproxy.cfg') })
    assert.throws(() => compileProxy(config.proxies[0], config), (err: Error & { diagnostics?: unknown[] }) => {
      assert.match(err.message, /no such ACL : 'nope'/)
      assert.equal(err.diagnostics?.length, 1)
      return true
    })
  })
})

test('haproxy -c agrees with every verdict', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, () => {
  const wrong: string[] = []
  for (const [i, [line, want]] of LINES.entries()) {
    const file = join(dir, `c${i}.cfg`)
    writeFileSync(file, configWith(line))
    const r = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' })
    if ((r.status === 0) !== (want === null)) wrong.push(`${line}: haproxy exit ${r.status}`)
    if (want !== null && !r.stderr.includes(want)) wrong.push(`${line}: haproxy said ${r.stderr.split('\n').find((l) => l.includes('ALERT'))}`)
  }
  assert.deepEqual(wrong, [])
})

/**
 * Deliberate differences from HAProxy (which accepts these lines): a fetch or converter HAProxy
 * has and this engine does not evaluate is an alert naming it and its line, never a condition
 * that silently never matches. In a `mode tcp` proxy, which the gateway refuses to run, the
 * fetch is a warning so that HAProxy-valid TCP sections still pass `-c`.
 */
describe('fetches and converters HAProxy has and fastify-haproxy does not evaluate', () => {
  const cases: Array<[string, string]> = [
    ['acl x ssl_fc_use_keysize gt 128', "error detected while parsing ACL 'x' : fetch method 'ssl_fc_use_keysize' is not supported by fastify-haproxy."],
    ['acl x fc_rtt gt 10', "error detected while parsing ACL 'x' : fetch method 'fc_rtt' is not supported by fastify-haproxy."],
    ['acl x sc_get_gpc(0,1) gt 10', "error detected while parsing ACL 'x' : fetch method 'sc_get_gpc' is not supported by fastify-haproxy."],
    ['http-response deny if { res.ssl_hello_type gt 0 }', "error detected while parsing an 'http-response deny' condition : fetch method 'res.ssl_hello_type' is not supported by fastify-haproxy."],
    ['http-request set-header x %[bc_src]', "error detected in frontend 'fe' while parsing 'http-request set-header' rule : failed to parse sample expression <bc_src]> : fetch method 'bc_src' is not supported by fastify-haproxy."],
    ['http-request set-var(txn.x) req.hdr(x),jwt_payload_query(\'$.sub\')', "error detected in frontend 'fe' while parsing 'http-request set-var(txn.x)' rule : converter 'jwt_payload_query' is not supported by fastify-haproxy."],
    ['use_backend %[src,table_gpc(1,st)]', "failed to parse use_backend rule '%[src,table_gpc(1,st)]' : failed to parse sample expression <src,table_gpc(1,st)]> : converter 'table_gpc' is not supported by fastify-haproxy."]
  ]
  for (const [line, want] of cases) {
    test(line, () => {
      const config = parseConfig(configWith(line), { filename: join(dir, 'haproxy.cfg') })
      const alerts = checkExpressions(config).filter((d) => d.level === 'alert')
      assert.deepEqual(alerts.map((d) => d.message), [want])
      assert.equal(alerts[0].loc?.line, 8)
    })
  }
  test('in a mode tcp proxy (served by lib/tcp) the payload fetches compile and an unsupported fetch is an alert too', () => {
    const text = 'defaults\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\nfrontend t\n  mode tcp\n  bind 127.0.0.1:18443\n' +
      '  use_backend b if { req_ssl_sni -i a.test }\n  use_backend b if { fc_rtt gt 10 }\n  default_backend b\nbackend b\n  mode tcp\n  server s 127.0.0.1:18444\n'
    const ds = checkExpressions(parseConfig(text, { filename: join(dir, 'tcp.cfg') }))
    assert.deepEqual(ds.map((d) => `${d.level} ${d.loc?.line}: ${d.message}`), [
      "alert 9: error detected while parsing switching rule : fetch method 'fc_rtt' is not supported by fastify-haproxy."
    ])
  })
})
