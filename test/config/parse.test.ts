// Sections, keyword rows and the model they fill (configuration.txt §3, §4, §5), plus the two
// real-world files the project starts from: the seed note's config and CentOS 7's default.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig, loadConfig } from '../../lib/config/parse.js'
import { makeCa, makeLeaf } from '../tls/certs.js'
import type { Diagnostic, ParsedConfig, Proxy } from '../../lib/config/model.js'

const fixtures = mkdtempSync(join(tmpdir(), 'fh-parse-fixtures-'))
test.after(() => rmSync(fixtures, { recursive: true, force: true }))
const ERRFILE = join(fixtures, '503.http')
writeFileSync(ERRFILE, 'HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<h1>down</h1>\n')

const DEFAULTS = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'
const parse = (text: string, env: Record<string, string | undefined> = {}): ParsedConfig => parseConfig(text, { filename: 't.cfg', env })
const alerts = (c: ParsedConfig): string[] => c.diagnostics.filter(d => d.level === 'alert').map(d => `${d.loc?.line ?? '-'}: ${d.message}`)
const warnings = (c: ParsedConfig): Diagnostic[] => c.diagnostics.filter(d => d.level === 'warning')
const proxy = (c: ParsedConfig, name: string): Proxy => {
  const p = c.proxies.find(x => x.name === name)
  assert.ok(p, `no proxy ${name}`)
  return p
}

test('a minimal config: proxies in order with kinds, binds, servers, default_backend', () => {
  const c = parse(DEFAULTS + 'frontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server s1 127.0.0.1:8081\n')
  assert.deepEqual(alerts(c), [])
  assert.deepEqual(c.proxies.map(p => [p.kind, p.name, p.id]), [['frontend', 'fe', 1], ['backend', 'be', 2]])
  const fe = proxy(c, 'fe')
  assert.deepEqual(fe.binds, [{ host: '127.0.0.1', port: 8080, portEnd: 8080, ssl: false, legacy: false, loc: { file: 't.cfg', line: 7 } }])
  assert.deepEqual(fe.defaultBackend, { name: 'be', loc: { file: 't.cfg', line: 8 } })
  assert.deepEqual(fe.timeouts, { connect: 5000, client: 30000, server: 30000 })
  const be = proxy(c, 'be')
  assert.deepEqual(be.servers.map(s => [s.name, s.host, s.port, s.id]), [['s1', '127.0.0.1', 8081, 1]])
  assert.equal(be.mode, 'http')
  assert.equal(be.modeExplicit, true)
  assert.equal(be.retries, 3)
  assert.deepEqual(JSON.parse(JSON.stringify(c)), c, 'the model is JSON-serialisable')
})

test('proxy ids follow HAProxy: config order, explicit ids skipped, the counter moves on for every proxy', () => {
  // Observed with haproxy 2.6 stats CSV (iid column): fa=1 ba=2 st=4 bb=3(explicit) fc=6; servers 1,7(explicit),3.
  const c = parse(DEFAULTS + 'frontend fa\n bind :1\nbackend ba\nlisten st\n bind :2\nbackend bb\n id 3\n server s1 1.1.1.1:1\n server s2 1.1.1.1:1 id 7\n server s3 1.1.1.1:1\nfrontend fc\n bind :3\n')
  assert.deepEqual(c.proxies.map(p => [p.name, p.id]), [['fa', 1], ['ba', 2], ['st', 4], ['bb', 3], ['fc', 6]])
  assert.deepEqual(proxy(c, 'bb').servers.map(s => s.id), [1, 7, 3])
})

test('defaults are inherited; a later defaults section replaces the earlier one', () => {
  const c = parse('defaults\n mode http\n timeout client 5s\n option redispatch\n option forwardfor except 127.0.0.0/8\n balance leastconn\n default-server inter 3s fall 2\n' +
    'backend b1\n server s 1.1.1.1:80 weight 5\n' +
    'defaults\n mode http\n timeout client 7s\nbackend b2\n server s 1.1.1.1:80\n')
  const b1 = proxy(c, 'b1')
  assert.equal(b1.timeouts.client, 5000)
  assert.deepEqual(b1.redispatch, { interval: -1 })
  assert.deepEqual(b1.forwardFor, { header: 'X-Forwarded-For', ifNone: false, except: '127.0.0.0/8' })
  assert.equal(b1.balance?.algorithm, 'leastconn')
  assert.deepEqual([b1.servers[0]!.inter, b1.servers[0]!.fall, b1.servers[0]!.weight], [3000, 2, 5])
  const b2 = proxy(c, 'b2')
  assert.equal(b2.timeouts.client, 7000)
  assert.equal(b2.redispatch, null)
  assert.equal(b2.balance, null)
  assert.equal(b2.servers[0]!.inter, undefined)
})

test('named defaults and `from`: explicit inheritance, unknown names, and mixing explicit with implicit use', () => {
  const ok = parse('defaults base\n mode http\n timeout server 9s\ndefaults other\n mode tcp\nbackend b from base\n server s 1.1.1.1:80\n')
  assert.deepEqual(alerts(ok), [])
  assert.equal(proxy(ok, 'b').timeouts.server, 9000)
  assert.equal(proxy(ok, 'b').mode, 'http')
  const missing = parse('backend b from nope\n')
  assert.deepEqual(alerts(missing), ["1: defaults section 'nope' not found for backend 'b'."])
  const mixed = parse('defaults d1\n mode http\nfrontend f\n bind :80\nbackend b from d1\n')
  assert.match(alerts(mixed)[0]!, /^5: defaults section 'd1' \(declared at t.cfg:1\) is explicitly referenced by another proxy and implicitly used here/)
  const rules = parse('defaults d1\n mode http\n http-request deny if { path /x }\nfrontend f from d1\n bind :80\nbackend b from d1\n')
  assert.match(alerts(rules)[0]!, /^6: frontends and backends cannot inherit from the same defaults section if it defines TCP\/HTTP rules/)
})

test('rules keep their words: action and args split from the if/unless condition', () => {
  const c = parse(DEFAULTS + 'frontend fe\n bind :80\n acl api path_beg /api /v1\n http-request set-header X-A "a b" if api !{ src 10.0.0.0/8 }\n' +
    ' http-response del-header Server\n redirect prefix /new code 301 unless api\n use_backend be if api or { hdr(host) -i x }\n use_backend %[req.hdr(host),lower]\n default_backend be\nbackend be\n')
  const fe = proxy(c, 'fe')
  assert.deepEqual(fe.acls.map(a => [a.name, a.words]), [['api', ['path_beg', '/api', '/v1']]])
  assert.deepEqual(fe.httpRequest[0], { action: 'set-header', args: ['X-A', 'a b'], cond: { polarity: 'if', words: ['api', '!{', 'src', '10.0.0.0/8', '}'], loc: { file: 't.cfg', line: 9 } }, loc: { file: 't.cfg', line: 9 } })
  assert.deepEqual(fe.httpResponse[0]!.action, 'del-header')
  assert.equal(fe.httpResponse[0]!.cond, null)
  assert.deepEqual([fe.redirects[0]!.action, fe.redirects[0]!.args, fe.redirects[0]!.cond?.polarity], ['redirect', ['prefix', '/new', 'code', '301'], 'unless'])
  assert.deepEqual(fe.useBackends.map(u => [u.backend, u.cond?.words ?? null]), [['be', ['api', 'or', '{', 'hdr(host)', '-i', 'x', '}']], ['%[req.hdr(host),lower]', null]])
})

test('options, balance, hash-type, timeouts and health-check settings fill the model', () => {
  const c = parse(DEFAULTS + 'backend be\n balance url_param uid check_post\n hash-type consistent sdbm\n option allbackups\n option http-server-close\n' +
    ' option httpchk GET /health HTTP/1.1\n http-check send hdr Host example.com\n http-check expect status 200\n http-check disable-on-404\n' +
    ' option redispatch 2\n retries 5\n retry-on conn-failure 503\n timeout queue 2s\n timeout check 500ms\n timeout tunnel 1h\n' +
    ` errorfile 503 ${ERRFILE}\n server s1 10.0.0.1:80 check inter 2s fastinter 500 downinter 5s rise 3 fall 4 weight 10 maxconn 50 maxqueue 5 backup slowstart 10s\n` +
    ' server s2 10.0.0.2 disabled observe layer7 error-limit 5 on-error mark-down port 8081 addr 127.0.0.1\n')
  assert.deepEqual(alerts(c), [])
  const be = proxy(c, 'be')
  assert.deepEqual(be.balance, { algorithm: 'url_param', args: ['uid', 'check_post'], loc: { file: 't.cfg', line: 7 } })
  assert.deepEqual(be.hashType, { method: 'consistent', fn: 'sdbm' })
  assert.equal(be.allBackups, true)
  assert.equal(be.httpConnectionMode, 'server-close')
  assert.deepEqual(be.httpCheck, {
    method: 'GET',
    uri: '/health',
    version: 'HTTP/1.1',
    headers: [],
    rules: [{ kind: 'send', headers: [['Host', 'example.com']] }, { kind: 'expect', expect: { negate: false, kind: 'status', pattern: '200' } }],
    disableOn404: true,
    sendState: false,
    inherited: false
  })
  assert.deepEqual(be.redispatch, { interval: 2 })
  assert.equal(be.retries, 5)
  assert.deepEqual(be.retryOn, ['conn-failure', '503'])
  assert.deepEqual([be.timeouts.queue, be.timeouts.check, be.timeouts.tunnel], [2000, 500, 3600000])
  assert.deepEqual(be.errorSources, [{ kind: 'errorfile', code: '503', file: ERRFILE }])
  const [s1, s2] = be.servers
  assert.deepEqual({ ...s1, loc: undefined }, { name: 's1', host: '10.0.0.1', port: 80, check: true, inter: 2000, fastinter: 500, downinter: 5000, rise: 3, fall: 4, weight: 10, maxconn: 50, maxqueue: 5, backup: true, slowstart: 10000, id: 1, loc: undefined })
  assert.deepEqual([s2!.port, s2!.disabled, s2!.observe, s2!.errorLimit, s2!.onError, s2!.checkPort, s2!.checkAddr], [0, true, 'layer7', 5, 'mark-down', 8081, '127.0.0.1'])
})

test('stats settings', () => {
  const c = parse(DEFAULTS + 'listen stats\n bind :9000\n stats enable\n stats uri /haproxy_stats\n stats realm My\\ Realm\n stats auth admin:admin\n stats auth ro:pw:x\n' +
    ' stats refresh 10s\n stats hide-version\n stats show-legends\n stats show-node n1\n stats scope be\n stats admin if TRUE\n stats http-request auth realm R unless TRUE\n')
  assert.deepEqual(alerts(c), [])
  const s = proxy(c, 'stats').stats!
  assert.deepEqual({ ...s, loc: undefined, admin: s.admin?.words, httpRequest: s.httpRequest.map(r => [r.action, r.args]) }, {
    enabled: true, uri: '/haproxy_stats', realm: 'My Realm', auth: [{ user: 'admin', password: 'admin' }, { user: 'ro', password: 'pw:x' }],
    refresh: 10000, hideVersion: true, showLegends: true, showNode: 'n1', scope: ['be'], admin: ['TRUE'], httpRequest: [['auth', ['realm', 'R']]], loc: undefined
  })
  const d = parse('defaults\n mode http\n stats enable\nlisten l\n bind :1\n')
  assert.equal(proxy(d, 'l').stats?.uri, '/haproxy?stats', 'stats enable alone serves the default URI, inherited from defaults')
})

test('userlist and http-errors sections', () => {
  const c = parse('userlist L\n group admins users bob\n group ops\n user bob password $6$abc$xyz groups ops\n user al insecure-password secret\n' +
    `http-errors site\n errorfile 503 ${ERRFILE}\n` + DEFAULTS + 'backend b\n errorfiles site\n')
  assert.deepEqual(alerts(c), [])
  assert.deepEqual(c.userlists[0]!.users.map(u => [u.name, u.password, u.insecure, u.groups]), [['bob', '$6$abc$xyz', false, ['ops']], ['al', 'secret', true, []]])
  assert.deepEqual(c.userlists[0]!.groups, { admins: ['bob'], ops: ['bob'] })
  assert.deepEqual(c.httpErrors[0]!.errorFiles, { 503: ERRFILE })
  assert.deepEqual(proxy(c, 'b').errorSources.map(e => e.kind === 'errorfiles' ? e.section : null), ['site'])
  const bad = parse('userlist L\n user x frob y\n user y insecure-password p groups nope\nhttp-errors e\n errorfile 999 /etc/hostname\n errorfile 503 /nonexistent/x.http\n errorfile 503 /etc/hostname\n foo\n')
  assert.deepEqual(alerts(bad), [
    "2: 'user' only supports 'password', 'insecure-password' and 'groups' options, got 'frob'.",
    "5: errorfile : status code '999' not handled.",
    "6: errorfile : error opening file '/nonexistent/x.http'.",
    "7: errorfile : '/etc/hostname': unable to parse headers (error offset: 0)",
    "8: unknown keyword 'foo' in 'http-errors' section",
    "-: userlist 'L': no such group 'nope' specified in user 'y'"
  ])
})

test('other HAProxy sections are recognised, reported once with their line, and skipped', () => {
  const c = parse('peers p\n peer a 127.0.0.1:1024\nresolvers dns\n nameserver d 127.0.0.1:53\n hold valid 10s\ncache c\n total-max-size 4\nprogram x\n command /bin/true\nring r\nmailers m\n' + DEFAULTS)
  // a cache is served (lib/runtime/cache.ts): nothing to say
  assert.deepEqual(alerts(c), [])
  // a ring is served (lib/log/ring.ts): nothing to say
  assert.deepEqual(warnings(c).map(d => [d.loc?.line, d.keyword]), [[1, 'peers'], [8, 'program'], [11, 'mailers']])
  assert.match(warnings(c)[0]!.message, /^'peers' section 'p' is accepted but has no effect in fastify-haproxy/)
  const ns = parse('resolvers dns\n nameserver d no-such-name.invalid:53\n')
  assert.deepEqual(alerts(ns), ["2: 'nameserver d' : invalid address: 'no-such-name.invalid' in 'no-such-name.invalid:53'"])
})

test('global: supported, ignored-with-warning, removed and unknown keywords', () => {
  const c = parse('global\n maxconn 100\n node n1\n description my lb\n daemon\n nbthread 4\n tune.bufsize 32768\n ssl-default-bind-options no-sslv3\n pidfile /run/x.pid\n stats timeout 30s\n' +
    ' nbproc 2\n frobnicate yes\n tune.stick-counters 4\n stats auth admin:admin\n')
  assert.equal(c.global.maxconn, 100)
  assert.equal(c.global.node, 'n1')
  assert.equal(c.global.description, 'my lb')
  assert.equal(c.global.stats.timeout, 30000)
  assert.deepEqual(c.global.ignored.map(i => i.keyword), ['daemon', 'nbthread', 'pidfile'])
  assert.deepEqual(warnings(c).map(d => d.loc?.line), [5, 6, 9])
  assert.equal(c.global.bufsize, 32768, 'tune.bufsize bounds a request head and an errorfile')
  assert.deepEqual(c.global.tls?.bindOptions, ['no-sslv3'], 'ssl-default-bind-options applies to ssl binds')
  assert.deepEqual(alerts(c), [
    '11: nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.',
    "12: unknown keyword 'frobnicate' in 'global' section",
    "13: unknown keyword 'tune.stick-counters' in 'global' section; did you mean 'tune.idletimer' maybe ?",
    "14: 'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got 'auth')"
  ])
})

test('global: log targets, stats socket and setenv', () => {
  const c = parse('global\n log 127.0.0.1 local9\n log no-such-host.invalid:514 local0\n log\n stats socket relative/path.sock\n setenv PORT 8081\n' +
    DEFAULTS + 'frontend f\n bind ":${PORT}"\n')
  assert.deepEqual(alerts(c), [
    "2: log : unknown log facility 'local9'",
    "3: log : invalid address: 'no-such-host.invalid' in 'no-such-host.invalid:514'",
    '4: log : expects <address> and <facility> or global as arguments',
    "5: 'stats socket' : missing port specification in 'relative/path.sock'"
  ])
  assert.equal(proxy(c, 'f').binds[0]!.port, 8081)
})

test('removed directives get HAProxy 2.6\'s message', () => {
  const c = parse(DEFAULTS + 'listen l\n bind :1\n reqrep ^a b\n reqadd X-A:\\ b\n block if TRUE\n contimeout 5s\n clitimeout 5s\n srvtimeout 5s\n redispatch\n rspdel x\n option forceclose\n option http-tunnel\n monitor-net 1.2.3.4/32\n')
  assert.deepEqual(alerts(c), [
    "8: The 'reqrep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.",
    "9: The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead.",
    "10: The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax.",
    "11: the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'.",
    "12: the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout client'.",
    "13: the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'.",
    "14: keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.",
    "15: The 'rspdel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' .",
    "16: option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.",
    "17: option 'http-tunnel' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed.",
    "18: 'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src 1.2.3.4/32 }' instead."
  ])
})

test('keywords in the wrong section: alerts for defaults, warnings for a missing capability (as HAProxy)', () => {
  const c = parse('defaults\n mode http\n bind :80\n use_backend x\n server s 1.1.1.1:80\n acl a path /\n http-request deny\n description x\n' +
    'frontend f\n bind :1\n server s 1.1.1.1:1\n balance roundrobin\n timeout server 1s\n option allbackups\n default-server inter 1s\n' +
    'backend b\n use_backend x if TRUE\n bind :2\n timeout client 1s\n default_backend x\n')
  assert.deepEqual(alerts(c), [
    "3: 'bind' not allowed in 'defaults' section.",
    "4: 'use_backend' not allowed in 'defaults' section.",
    "5: 'server' not allowed in 'defaults' section.",
    "6: 'acl' not allowed in anonymous 'defaults' section.",
    "7: 'http-request' not allowed in anonymous 'defaults' section.",
    "8: 'description' not allowed in 'defaults' section.",
    "11: 'server' not allowed because frontend 'f' has no backend capability.",
    "15: 'default-server' not allowed because frontend 'f' has no backend capability."
  ])
  assert.deepEqual(warnings(c).filter(d => /capability/.test(d.message)).map(d => `${d.loc?.line}: ${d.message}`), [
    "12: 'balance' ignored because frontend 'f' has no backend capability.",
    "13: 'timeout server' will be ignored because frontend 'f' has no backend capability",
    "14: 'option allbackups' ignored because frontend 'f' has no backend capability.",
    "17: 'use_backend' ignored because backend 'b' has no frontend capability.",
    "18: 'bind' ignored because backend 'b' has no frontend capability.",
    "19: 'timeout client' will be ignored because backend 'b' has no frontend capability",
    "20: 'default_backend' ignored because backend 'b' has no frontend capability."
  ])
})

test('unknown keywords, options and sub-keywords in HAProxy\'s words', () => {
  const c = parse(DEFAULTS + 'frontend fe\n bind :1\n frobnicate yes\n option frobnicate\n option independant-streams\n timeout foo 1s\n stats foo\n' +
    'backend be\n server s1 127.0.0.1:1 chek\n server-pool x\n rise 2\n server s2\n server s3 1.1.1.1:1 weight 300\n server s4 1.1.1.1:1 rise 0\n server s5 1.1.1.1:1 inter 10x\n' +
    ' server s6 1.1.1.1:1 id 0\n server s7 not..an..address:80:90\n balance fastest\n mode websocket\n')
  assert.deepEqual(alerts(c), [
    "8: unknown keyword 'frobnicate' in 'frontend' section",
    "9: unknown option 'frobnicate'.",
    "10: unknown option 'independant-streams'; did you mean 'independent-streams' maybe ?",
    "11: 'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got 'foo')",
    "12: unknown stats parameter 'foo', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'.",
    "14: 'server be/s1' : unknown keyword 'chek'; did you mean 'check' maybe ?",
    "15: unknown keyword 'server-pool' in 'backend' section; did you mean 'server' maybe ?",
    "16: unknown keyword 'rise' in 'backend' section",
    "17: 'server' expects <name> and <addr>[:<port>] as arguments.",
    "18: 'server be/s3' : weight of server s3 is not within 0 and 256 (300).",
    "19: 'server be/s4' : 'rise' has to be > 0.",
    "20: 'server be/s5' : unexpected character 'x' in 'agent-inter' argument of server s5.",
    "21: 'server be/s6' : 'id' : custom id has to be > 0.",
    "22: 'server be/s7' : Can't create DNS resolution for server 's7'",
    "23: balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.",
    "24: unknown proxy mode 'websocket'."
  ])
})

test('argument errors of common keywords', () => {
  const c = parse(DEFAULTS + 'listen l\n bind :1\n timeout connect\n timeout client 10x\n timeout server 100000000000\n maxconn\n retries\n default_backend\n use_backend\n' +
    ' option forwardfor foo\n option httpchk GET / HTTP/1.1 extra\n hash-type foo\n errorfile 503\n no option httplog\n no stats enable\n mode http x\n bind\n stats admin\n' +
    ' http-check expect foo 200\n http-check foo\n capture\n option\n id x\n')
  assert.deepEqual(alerts(c), [
    "8: 'timeout connect' expects an integer value (in milliseconds)",
    "9: unexpected character 'x' in 'timeout client'",
    "10: timer overflow in argument '100000000000' to 'timeout server' (maximum value is 2147483647 ms or ~24.8 days)",
    "11: 'maxconn' expects an integer argument.",
    "12: 'retries' expects an integer argument (dispatch counts for one).",
    "13: 'default_backend' expects a backend name.",
    "14: 'use_backend' expects a backend name.",
    "15: 'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.",
    "16: 'option httpchk' cannot handle unexpected argument 'extra'.",
    "17: 'hash-type' only supports 'consistent' and 'map-based'.",
    '18: errorfile : expects <status_code> and <file> as arguments.',
    "19: negation/default is not supported for option 'httplog'.",
    '20: negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.',
    "21: 'mode' cannot handle unexpected argument 'x'.",
    "22: 'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
    "23: 'stats admin' requires either 'if' or 'unless' followed by a condition.",
    "24: 'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got 'foo' as argument..",
    "25: 'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'foo'",
    "26: 'capture' expects 'cookie' or 'request header' or 'response header'.",
    "27: 'option' expects an option name.",
    '28: custom id has to be > 0.'
  ])
})

test('lenient values HAProxy accepts: maxconn lots, stats auth without colon, "" ends the arguments', () => {
  const c = parse(DEFAULTS + 'frontend f\n bind :1\n maxconn lots\n stats auth admin\n http-request set-header "" x\n')
  assert.deepEqual(alerts(c), [])
  assert.equal(proxy(c, 'f').maxconn, 0)
  assert.deepEqual(proxy(c, 'f').stats?.auth, [{ user: 'admin', password: '' }])
  assert.deepEqual(proxy(c, 'f').httpRequest[0], { action: 'set-header', args: ['', 'x'], cond: null, loc: { file: 't.cfg', line: 10 } })
})

test('structure errors: keywords out of section, duplicates, bad names, missing final LF, tokenizer errors', () => {
  const c = parse('    bind 127.0.0.1:1\n' + DEFAULTS + 'frontend fe\n bind :1\nfrontend fe\n bind :2\nbackend fe\nbackend be\n server a 1.1.1.1:1\n server a 1.1.1.1:2\nlisten be\n bind :3\n' +
    'backend "bad name"\n http-request set-header X "y\nbackend last\n server z 1.1.1.1:1')
  assert.deepEqual(alerts(c), [
    "1: unknown keyword 'bind' out of section.",
    "9: frontend 'fe' has the same name as frontend 'fe' declared at t.cfg:7.",
    "14: backend 'be', another server named 'a' was already defined at line 13, please use distinct names.",
    "15: listen 'be' has the same name as backend 'be' declared at t.cfg:12.",
    "17: character ' ' is not permitted in 'backend' name 'bad name'.",
    '18: unmatched quote at position 28:\n  http-request set-header X "y\n                            ^',
    '20: Missing LF on last line, file might have been truncated at position 20.'
  ])
  assert.equal(proxy(c, 'fe').kind, 'frontend')
  assert.equal(c.proxies.filter(p => p.name === 'fe').length, 3, 'a frontend and a backend may share a name')
})

test('HAProxy 1.x address on the section line: accepted as a bind with a warning; `//` is an error', () => {
  const c = parse(DEFAULTS + 'frontend  main *:80\n default_backend be\nlisten stats //\n bind :9000\nlisten old 127.0.0.1:8080,127.0.0.1:8081\nbackend be\n')
  const main = proxy(c, 'main')
  assert.deepEqual(main.binds.map(b => [b.host, b.port, b.legacy]), [['', 80, true]])
  const w = warnings(c).find(d => d.loc?.line === 6 && d.keyword === 'bind')
  assert.ok(w)
  assert.match(w.message, /HAProxy 1\.x syntax.*please use the 'bind' keyword for listening addresses.*\n {4}frontend main\n {8}bind \*:80$/s)
  assert.deepEqual(proxy(c, 'old').binds.map(b => b.port), [8080, 8081])
  const a = alerts(c)
  assert.equal(a.length, 1)
  assert.match(a[0]!, /^8: '\/\/' after the listen name: a listening address was expected here .*comments start with '#'\.$/)
  assert.deepEqual(proxy(c, 'stats').binds.map(b => b.port), [9000], 'the rest of the section is still read')
})

test('a proxy without mode runs as HTTP in the plugin with a warning, as TCP in the CLI; mode tcp is kept', () => {
  const c = parse('frontend f\n bind :1\nbackend t\n mode tcp\n')
  assert.equal(proxy(c, 'f').mode, 'http')
  assert.equal(proxy(c, 'f').modeExplicit, false)
  assert.equal(proxy(c, 't').mode, 'tcp')
  const msgs = warnings(c).filter(d => d.keyword === 'mode').map(d => d.message)
  assert.match(msgs[0]!, /^frontend 'f' has no 'mode' .*HAProxy 2\.6 and the fastify-haproxy CLI run it in TCP mode.*add 'mode http'/)
  assert.equal(msgs.length, 1)
  const cli = parseConfig('frontend f\n bind :1\nbackend t\n mode tcp\n', { modeless: 'tcp' })
  assert.deepEqual(cli.proxies.map(p => [p.name, p.mode, p.modeExplicit]), [['f', 'tcp', true], ['t', 'tcp', true]], 'the CLI runs it in TCP mode, as HAProxy does')
  assert.deepEqual(warnings(cli).filter(d => d.keyword === 'mode'), [])
})

test('the seed config (HAProxy 1.x syntax, from the project\'s origin note)', () => {
  const seed = [
    '#---------------------------------------------------------------------',
    '# main frontend which proxys to the backends',
    '#---------------------------------------------------------------------',
    'frontend  main *:80',
    '    acl url_static       path_beg       -i /static /images /javascript /stylesheets',
    '    acl url_static       path_end       -i .jpg .gif .png .css .js',
    '',
    '    use_backend static          if url_static',
    '    default_backend             app',
    'backend static',
    '    balance     roundrobin',
    '    server      static 127.0.0.1:4331 check',
    'backend app',
    '    balance     roundrobin',
    '    server  app1 192.168.6.31:8080 check',
    '    server  app2 192.168.6.31:80 check',
    '#    server  app3 127.0.0.1:5003 check',
    'listen stats // ',
    '  bind  :9000',
    '  mode  http',
    '',
    '  stats enable',
    '  stats uri /haproxy_stats',
    '  stats auth  admin:admin',
    ''
  ].join('\n')
  const c = parse(seed)
  assert.deepEqual(alerts(c).map(a => a.split(':')[0]), ['18'], 'only `listen stats //` is refused')
  const fixed = parse(seed.replace('listen stats // ', 'listen stats'))
  assert.deepEqual(alerts(fixed), [])
  assert.deepEqual(fixed.proxies.map(p => [p.kind, p.name, p.mode, p.modeExplicit]), [
    ['frontend', 'main', 'http', false], ['backend', 'static', 'http', false], ['backend', 'app', 'http', false], ['listen', 'stats', 'http', true]
  ])
  const main = proxy(fixed, 'main')
  assert.deepEqual(main.binds.map(b => [b.host, b.port, b.legacy]), [['', 80, true]])
  assert.deepEqual(main.acls.map(a => a.words[0]), ['path_beg', 'path_end'])
  assert.deepEqual(proxy(fixed, 'app').servers.map(s => [s.name, s.host, s.port, s.check]), [['app1', '192.168.6.31', 8080, true], ['app2', '192.168.6.31', 80, true]])
  assert.deepEqual(proxy(fixed, 'stats').stats?.auth, [{ user: 'admin', password: 'admin' }])
})

test('the CentOS/RHEL 7 default haproxy.cfg parses, with warnings for what Node ignores', () => {
  const file = new URL('../fixtures/centos7-haproxy.cfg', import.meta.url).pathname
  const c = loadConfig(file)
  const haveHaproxyUser = readFileSync('/etc/passwd', 'utf8').split('\n').some(l => l.startsWith('haproxy:')) &&
    readFileSync('/etc/group', 'utf8').split('\n').some(l => l.startsWith('haproxy:'))
  if (haveHaproxyUser) assert.deepEqual(alerts(c), [])
  else assert.ok(alerts(c).every(a => /cannot find (user|group) id for 'haproxy'/.test(a)))
  assert.deepEqual(c.proxies.map(p => p.name), ['main', 'static', 'app'])
  assert.deepEqual(c.global.ignored.map(i => i.keyword), ['chroot', 'pidfile', ...(haveHaproxyUser ? ['user', 'group'] : []), 'daemon'])
  assert.equal(c.global.maxconn, 4000)
  const main = proxy(c, 'main')
  assert.deepEqual([main.maxconn, main.httpConnectionMode, main.forwardFor?.except, main.timeouts.httpRequest, main.timeouts.httpKeepAlive], [3000, 'server-close', '127.0.0.0/8', 10000, 10000])
  assert.deepEqual(main.binds.map(b => [b.host, b.port]), [['', 5000]])
  assert.deepEqual(proxy(c, 'app').servers.map(s => s.port), [5001, 5002, 5003, 5004])
  assert.deepEqual(proxy(c, 'app').redispatch, { interval: -1 })
})

test('loadConfig: several files share defaults; a directory loads its *.cfg in order; relative paths resolve against the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-parse-'))
  try {
    mkdirSync(join(dir, 'conf.d'))
    writeFileSync(join(dir, 'conf.d', '10-defaults.cfg'), 'defaults\n mode http\n timeout client 3s\n')
    writeFileSync(join(dir, 'conf.d', '20-fe.cfg'), 'frontend f\n bind :1\n errorfile 503 err/503.http\n')
    writeFileSync(join(dir, 'conf.d', 'ignored.txt'), 'garbage\n')
    mkdirSync(join(dir, 'conf.d', 'err'))
    writeFileSync(join(dir, 'conf.d', 'err', '503.http'), 'HTTP/1.0 503 x\r\n\r\n')
    writeFileSync(join(dir, 'extra.cfg'), 'backend b\n server s 1.1.1.1:1\n')
    const c = loadConfig([join(dir, 'conf.d'), join(dir, 'extra.cfg')])
    assert.deepEqual(alerts(c), [])
    assert.deepEqual(c.files, [join(dir, 'conf.d', '10-defaults.cfg'), join(dir, 'conf.d', '20-fe.cfg'), join(dir, 'extra.cfg')])
    assert.equal(proxy(c, 'f').timeouts.client, 3000)
    assert.equal(proxy(c, 'b').timeouts.client, 3000)
    assert.deepEqual(proxy(c, 'f').errorSources, [{ kind: 'errorfile', code: '503', file: join(dir, 'conf.d', 'err', '503.http') }])
    assert.equal(proxy(c, 'f').loc.file, join(dir, 'conf.d', '20-fe.cfg'))
    const missing = loadConfig(join(dir, 'nope.cfg'))
    assert.match(alerts(missing)[0]!, /Could not open configuration file .*nope\.cfg : No such file or directory/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('bind options: ssl and certificates are checked like HAProxy does at load time', () => {
  const c = parse(DEFAULTS + 'frontend f\n bind :443 ssl crt /nonexistent/site.pem\n bind :80 frob\n bind :81 v4v6 tfo\nbackend b\n server s 1.1.1.1:443 ssl verify required ca-file /nonexistent/ca.pem\n')
  assert.deepEqual(alerts(c), [
    "7: 'bind :443' in section 'frontend' : unable to stat SSL certificate from file '/nonexistent/site.pem' : No such file or directory.",
    "8: 'bind :80' in section 'frontend': unknown keyword 'frob'.",
    "11: 'server b/s' : Couldn't open the ca-file '/nonexistent/ca.pem' (No such file or directory)."
  ])
  const ca = makeCa()
  try {
    const pem = makeLeaf(ca, join(ca.dir, 'site.pem'), 'site.example').pem
    const ok = parse(DEFAULTS + `frontend f\n bind :443 ssl crt ${pem}\n`)
    assert.deepEqual(ok.proxies[0]!.binds.map(b => b.ssl), [true])
    // a file with no certificate in it (such as a symbolic link checked out as a text file)
    const link = join(ca.dir, 'link.pem')
    writeFileSync(link, '../ssl/common.pem')
    assert.deepEqual(alerts(parse(DEFAULTS + `frontend f\n mode tcp\n bind :443 ssl crt ${link}\nbackend b\n server s 1.1.1.1:443 ssl crt ${link}\n`)), [
      `8: 'bind :443' in section 'frontend' : unable to load certificate from file '${link}'.`,
      `10: 'server b/s' : unable to load certificate from file '${link}'.`
    ])
  } finally {
    rmSync(ca.dir, { recursive: true, force: true })
  }
})

test('conditional blocks (.if/.elif/.else/.endif) and report directives', () => {
  const c = parse('.if defined(WITH_FE)\nfrontend on\n bind :1\n.else\nfrontend off\n bind :2\n.endif\n' +
    '.if streq("${MODE}",prod) && !feature(NOPE)\n.notice "prod"\n.elif version_atleast(2.4) || 0\n.warning "not prod"\n.else\n.alert "never"\n.endif\n' +
    '.if 0\n frobnicate\n .if 1\n.alert "nested in a false block"\n .endif\n.endif\n' +
    '.if (1 && version_before(3.0))\n.diag "quiet"\n.endif\n', { WITH_FE: '', MODE: 'dev' })
  assert.deepEqual(c.proxies.map(p => p.name), ['on'])
  assert.deepEqual(alerts(c), [])
  assert.deepEqual(warnings(c).filter(d => d.loc?.line === 11).map(d => d.message), ["'not prod'."])
  const bad = parse('.endif\n.else\n.foo\n.if frob(x)\n.endif\n.if (1\n.endif\n.if 1\n', {})
  assert.deepEqual(alerts(bad), [
    "1: lone '.endif' with no matching '.if'.",
    "2: lone '.else' with no matching '.if'.",
    "3: unknown directive '.foo'.",
    "4: unparsable conditional expression 'frob(x)' at position 1 in '.if'",
    "6: expected ')' after conditional expression '(1' at position 1 in '.if'",
    "8: non-terminated '.if' block."
  ])
})

test('a named defaults section\'s ACLs and HTTP rules come first in the proxies that use it', () => {
  const c = parse('defaults base\n mode http\n acl blocked path_beg /private\n http-request deny if blocked\n http-response del-header Server\n' +
    'frontend f from base\n bind :1\n http-request set-header X-A 1\n')
  assert.deepEqual(alerts(c), [])
  const f = proxy(c, 'f')
  assert.deepEqual(f.acls.map(a => [a.name, a.loc.line]), [['blocked', 3]])
  assert.deepEqual(f.httpRequest.map(r => [r.action, r.loc.line]), [['deny', 4], ['set-header', 8]])
  assert.deepEqual(f.httpResponse.map(r => [r.action, r.loc.line]), [['del-header', 5]])
})

test('an action reads its own words before its condition (src/http_act.c): `if`/`unless` may be an argument', () => {
  const c = parse(DEFAULTS + 'frontend f\n    bind :1\n' +
    '    http-request return status 200 string unless\n' +
    '    http-request return status 200 content-type if string x if TRUE\n' +
    '    http-request set-header X-A unless if TRUE\n' +
    '    http-request redirect location if\n' +
    '    http-request deny deny_status 403 unless FALSE\n' +
    '    http-request track-sc0 src table t if TRUE\n' +
    '    http-response set-status 503 reason Down if TRUE\n' +
    '    redirect prefix if code 301 if TRUE\n')
  const f = proxy(c, 'f')
  const rules = [...f.httpRequest, ...f.httpResponse, ...f.redirects].map(r => [r.action, r.args.join(' '), r.cond === null ? null : `${r.cond.polarity} ${r.cond.words.join(' ')}`])
  assert.deepEqual(rules, [
    ['return', 'status 200 string unless', null],
    ['return', 'status 200 content-type if string x', 'if TRUE'],
    ['set-header', 'X-A unless', 'if TRUE'],
    ['redirect', 'location if', null],
    ['deny', 'deny_status 403', 'unless FALSE'],
    ['track-sc0', 'src table t', 'if TRUE'],
    ['set-status', '503 reason Down', 'if TRUE'],
    ['redirect', 'prefix if code 301', 'if TRUE']
  ])
})

test('monitor-uri: frontends and listens keep it, inherited from defaults; every monitor fail line is kept in order', () => {
  const c = parse(DEFAULTS.replace('mode http', 'mode http\n monitor-uri /d') + 'frontend f\n bind :1\n monitor-uri /health\n monitor fail if { nbsrv(b) lt 1 }\n monitor fail unless TRUE\n' +
    'listen l\n bind :2\nbackend b\n monitor-uri /b\n')
  const [f, l, b] = c.proxies
  assert.deepEqual([f!.monitorUri, l!.monitorUri, b!.monitorUri], ['/health', '/d', null])
  assert.deepEqual(f!.monitorFail.map(m => [m.polarity, m.words.join(' '), m.loc.line]), [['if', '{ nbsrv(b) lt 1 }', 10], ['unless', 'TRUE', 11]])
  assert.deepEqual([l!.monitorFail, b!.monitorFail], [[], []])
})
