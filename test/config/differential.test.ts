// Our `-c` against real `haproxy -c` (2.6) on configs of our own: the same verdict (exit status).
// Skips with a message when haproxy is not installed (.ci installs it).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { haproxyInstalled, send, withHaproxy } from '../acl/real-haproxy.js'
import { freePort } from '../differential/harness.js'
import { parseConfig } from '../../lib/config/parse.js'

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname
const D = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'
const FE = 'frontend fe\n    bind 127.0.0.1:18080\n    default_backend be\n'
const BE = 'backend be\n    server s1 127.0.0.1:18081\n'

/** name, config (`{dir}` = a directory holding `503.http`), environment */
const CASES: Array<[string, string, Record<string, string>?]> = [
  ['minimal valid', D + FE + BE],
  ['a cache used and filled', 'cache c\n    total-max-size 4\n    max-object-size 10000\n    max-age 60\n    process-vary on\n    max-secondary-entries 5\n' + D + FE + '    http-request cache-use c\n    http-response cache-store c if { status 200 }\n' + BE],
  ['a cache without total-max-size', 'cache c\n    max-age 60\n' + D + FE + BE],
  ['a cache with a wrong size', 'cache c\n    total-max-size x\n' + D + FE + BE],
  ['a cache larger than 4095 MB', 'cache c\n    total-max-size 5000\n' + D + FE + BE],
  ['a cache object larger than half the cache', 'cache c\n    total-max-size 1\n    max-object-size 999999\n' + D + FE + BE],
  ['a duplicated cache name', 'cache c\n    total-max-size 1\ncache c\n    total-max-size 1\n' + D + FE + BE],
  ['a cache section keyword unknown', 'cache c\n    total-max-size 1\n    frobnicate 1\n' + D + FE + BE],
  ['a bad process-vary is only a warning', 'cache c\n    total-max-size 1\n    process-vary maybe\n' + D + FE + BE],
  ['cache-use of an unknown cache', D + FE + '    http-request cache-use nope\n' + BE],
  ['cache-store of an unknown cache', D + FE + '    http-response cache-store nope\n' + BE],
  ['cache-use without a name', 'cache c\n    total-max-size 1\n' + D + FE + '    http-request cache-use\n' + BE],
  ['filter cache and the rules', 'cache c\n    total-max-size 1\n' + D + FE + '    filter cache c\n    http-request cache-use c\n    http-response cache-store c\n' + BE],
  ['filter cache of an unknown cache', D + FE + '    filter cache nope\n' + BE],
  ['filter cache twice', 'cache c\n    total-max-size 1\n' + D + FE + '    filter cache c\n    filter cache c\n    http-request cache-use c\n' + BE],
  ['empty file: no listener', ''],
  ['backend only: no listener', D + BE],
  ['unknown keyword', D + FE + BE + '    frobnicate yes\n'],
  ['keyword out of section', '    bind :80\n' + D + FE + BE],
  ['timeouts in every unit', D.replace('5s', '500ms') + '    timeout http-request 1h\n    timeout queue 1d\n    timeout tunnel 100us\n    timeout check 2000\n' + FE + BE],
  ['timeout with a bad unit', D.replace('5s', '5x') + FE + BE],
  ['timeout client in a backend is only a warning', D + FE + BE + '    timeout client 5s\n'],
  ['use_backend in a backend is only a warning', D + FE + BE + '    use_backend be if TRUE\n'],
  ['server in a frontend is an error', D + FE + '    server s 127.0.0.1:1\n' + BE],
  ['bind in defaults is an error', D + '    bind :8080\n' + FE + BE],
  ['acl in an anonymous defaults is an error', D + '    acl a path /\n' + FE + BE],
  ['named defaults with from', 'defaults base\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    http-request set-header X-A b\nbackend be from base\n    server s 127.0.0.1:1\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n' + FE],
  ['from an unknown defaults', D + FE + 'backend be from nope\n    server s 127.0.0.1:1\n'],
  ['removed keywords of 1.x', D + FE + BE + '    reqrep ^a b\n    contimeout 5s\n'],
  ['option redispatch as a keyword', D + FE + BE + '    redispatch\n'],
  ['no option forwardfor is an error', D + FE + '    no option forwardfor\n' + BE],
  ['no option redispatch is fine', D + FE + BE + '    no option redispatch\n'],
  ['option originalto except an IPv6 network, header', D + FE + BE + '    option originalto except 2001:db8::/48 header X-Dest\n'],
  ['option originalto except without a network', D + FE + BE + '    option originalto except\n'],
  ['option originalto except a bad network', D + FE + BE + '    option originalto except bogus\n'],
  ['option forwardfor except a bad network', D + FE + BE + '    option forwardfor except bogus\n'],
  ['option originalto if-none is an error', D + FE + BE + '    option originalto if-none\n'],
  ['http-request set-src without an expression', D + FE + '    http-request set-src\n' + BE],
  ['accept-proxy bind, set-src and set-dst-port', D + 'frontend fe\n    bind 127.0.0.1:18080 accept-proxy\n    http-request set-src hdr(x-ip)\n    http-request set-dst-port int(81)\n    default_backend be\n' + BE],
  ['lenient values: maxconn lots, stats auth without colon', D + FE + '    maxconn lots\n    stats auth admin\n' + BE],
  ['server weight out of range', D + FE + 'backend be\n    server s1 127.0.0.1:18081 weight 300\n'],
  ['server unknown option', D + FE + 'backend be\n    server s1 127.0.0.1:18081 chek\n'],
  ['duplicate server name', D + FE + 'backend be\n    server s1 127.0.0.1:1\n    server s1 127.0.0.1:2\n'],
  ['duplicate backend', D + FE + BE + BE],
  ['frontend and backend may share a name', D + FE + BE + 'backend fe\n    server s 127.0.0.1:1\n'],
  ['bind port out of range', D + FE.replace('18080', '99999') + BE],
  ['bind on a host that does not resolve', D + FE.replace('127.0.0.1:18080', 'no-such-host.invalid:80') + BE],
  ['server on a host that does not resolve', D + FE + 'backend be\n    server s1 no-such-host.invalid:80\n'],
  ['server host unresolved but with resolvers', 'resolvers dns\n    nameserver d 127.0.0.1:53\n' + D + FE + 'backend be\n    server s1 no-such-host.invalid:80 resolvers dns\n'],
  ['peers and ring sections', 'peers p\n    peer x 127.0.0.1:10000\nring r\n    size 32764\n' + D + FE + BE],
  ['default_backend to a missing backend', D + FE.replace('default_backend be', 'default_backend nowhere') + BE],
  ['balance variants', D + FE + 'backend be\n    balance url_param uid\n    server s 127.0.0.1:1\nbackend b2\n    balance hdr(host)\n    server s 127.0.0.1:1\nbackend b3\n    balance random(2)\n    hash-type consistent\n    server s 127.0.0.1:1\n'],
  ['unknown balance', D + FE + 'backend be\n    balance fastest\n    server s 127.0.0.1:1\n'],
  ['health checks', D + FE + 'backend be\n    option httpchk GET /health HTTP/1.1\n    http-check send hdr Host x\n    http-check expect rstatus ^2\n    http-check disable-on-404\n    server s 127.0.0.1:1 check inter 2s fastinter 1s downinter 5s rise 3 fall 2 port 8081\n'],
  ['stats in a listen', D + FE + BE + 'listen stats\n    bind :9000\n    stats enable\n    stats uri /s\n    stats realm Hello\\ World\n    stats auth a:b\n    stats refresh 5s\n    stats admin if TRUE\n'],
  ['stats auth in global', 'global\n    stats auth a:b\n' + D + FE + BE],
  ['global keywords Node ignores', 'global\n    daemon\n    nbthread 2\n    tune.bufsize 32768\n    ssl-default-bind-options no-sslv3\n    log 127.0.0.1 local2\n    pidfile /tmp/x.pid\n' + D + FE + BE],
  ['nbproc is gone', 'global\n    nbproc 2\n' + D + FE + BE],
  ['errorfile present and missing', D + FE + '    errorfile 503 {dir}/503.http\n' + BE],
  ['errorfile missing', D + FE + '    errorfile 503 {dir}/404.http\n' + BE],
  ['http-errors and userlist', 'http-errors site\n    errorfile 503 {dir}/503.http\nuserlist L\n    user a insecure-password b\n' + D + FE + '    errorfiles site\n' + BE],
  ['missing final newline', (D + FE + BE).slice(0, -1)],
  ['unterminated quote', D + FE + '    http-request set-header X "a b\n' + BE],
  ['env: default value, [*] expansion, comments inside words', D + 'frontend fe\n    bind "${ADDR-127.0.0.1}:${PORT}"#c\n    http-request set-header X "${LIST[*]}"\n    default_backend be\n' + BE, { PORT: '18080', LIST: 'a b' }],
  ['a trailing backslash is no continuation', D + FE + '    http-request set-header X a \\\n' + BE],
  ['undefined ACL', D + FE + '    use_backend be if nope\n' + BE],
  ['anonymous ACL without spaces', D + FE + '    use_backend be if {path_beg /x}\n' + BE],
  ['ACL declared in another section', D + 'frontend fe\n    bind :18080\n    use_backend be if is_x\n    default_backend be\nbackend be\n    acl is_x path /x\n    server s 127.0.0.1:1\n'],
  ['bad mode', D + FE + BE + '    mode websocket\n'],
  ['mode tcp proxies are valid for -c', 'defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n' + FE + BE],
  ['ssl certificate missing', D + 'frontend fe\n    bind :8443 ssl crt /nonexistent/site.pem\n    default_backend be\n' + BE],
  ['log with an unknown facility', 'global\n    log 127.0.0.1 local9\n' + D + FE + BE],
  ['balance uri with an unknown parameter', D + FE + 'backend be\n    balance uri foo\n    server s 127.0.0.1:1\n'],
  ['errorfile that is not an HTTP response', D + FE + '    errorfile 503 {dir}/not-http.txt\n' + BE],
  ['userlist user in an undeclared group', 'userlist L\n    user bob insecure-password pw groups nope\n' + D + FE + BE],
  // Tracking is not implemented (an alert): HAProxy's own refusal of a server without check still shows.
  ['server tracking a server without check', D + FE + BE + 'backend bt\n    mode tcp\n    server s1 127.0.0.1:1\n    server s2 127.0.0.1:2 track s1\n'],
  ['two proxies with the same custom id', D + FE + '    id 7\n' + BE + '    id 7\n'],
  ['ssl server without ca-file (verify required by default)', D + FE + 'backend be\n    server s1 127.0.0.1:443 ssl\n'],
  ['ssl-server-verify none', 'global\n    ssl-server-verify none\n' + D + FE + 'backend be\n    server s1 127.0.0.1:443 ssl\n'],
  ['conditional blocks', '.if defined(NOPE)\n    frobnicate\n.elif version_atleast(2.4) && feature(OPENSSL)\n' + D + FE + BE + '.else\n    frobnicate\n.endif\n'],
  ['an unterminated .if', '.if 1\n' + D + FE + BE],
  ['stats auth with stats http-request', D + FE + BE + '    stats auth a:b\n    stats http-request deny\n'],
  ['an extra argument to retries', D + FE + BE + '    retries 3 extra\n'],
  ['an extra argument to a global flag', 'global\n    daemon extra\n' + D + FE + BE],
  ['an extra argument to a tune keyword that does not check', 'global\n    tune.lua.maxmem 10 extra\n' + D + FE + BE],
  ['ssl-default-bind-options with an unknown option', 'global\n    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets frob\n' + D + FE + BE],
  ['an http frontend using a tcp backend', D + FE.replace('default_backend be', 'default_backend bt') + BE + 'backend bt\n    mode tcp\n    server s1 127.0.0.1:1\n'],
  ['an http listen using a backend without mode (tcp in HAProxy)', 'defaults\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nlisten l\n    mode http\n    bind 127.0.0.1:18080\n    use_backend bn if TRUE\n    server s 127.0.0.1:1\nbackend bn\n    server s1 127.0.0.1:1\n'],
  ['cookie options in a mode tcp backend', D + FE + BE + 'backend bt\n    mode tcp\n    cookie SRV insert indirect nocache domain .example.com\n    server s1 127.0.0.1:1 cookie a\n'],
  ['an action reads its own words before the condition: return string "unless"', D + FE.replace('    default_backend', '    http-request return status 200 string unless\n    default_backend') + BE],
  ['an action reads its own words before the condition: content-type "if", set-header value "unless"', D + FE.replace('    default_backend', '    http-request return status 200 content-type if string x\n    http-request set-header X-A unless if TRUE\n    http-request redirect location if\n    default_backend') + BE],
  ['cookie with an unknown option', D + FE + 'backend be\n    cookie SRV insert sticky\n    server s1 127.0.0.1:1\n'],
  ['balance modifiers', D + FE + 'backend be\n    balance url_param uid check_post\n    server s 127.0.0.1:1\nbackend b2\n    balance hdr(host) use_domain_only\n    server s 127.0.0.1:1\n'],
  ['balance hdr with an unknown modifier', D + FE + 'backend be\n    balance hdr(host) foo\n    server s 127.0.0.1:1\n'],
  ['balance uri len without a number', D + FE + 'backend be\n    balance uri len\n    server s 127.0.0.1:1\n'],
  ['a checked server without any port', D + FE + 'backend be\n    server s1 127.0.0.1 check\n'],
  ['a checked server with a check port only', D + FE + 'backend be\n    server s1 127.0.0.1 check port 8080\n'],
  ['a server naming a resolvers section that does not exist', D + FE + 'backend be\n    server s1 127.0.0.1:80 resolvers nope\n'],
  ['stats socket with an unknown option', 'global\n    stats socket /tmp/fh-diff.sock levle admin\n' + D + FE + BE],
  ['unknown keyword in a resolvers section', 'resolvers dns\n    nameserver d 127.0.0.1:53\n    frob 1\n' + D + FE + BE],
  ['ssl bind without a certificate', D + 'frontend fe\n    bind 127.0.0.1:18443 ssl\n    default_backend be\n' + BE],
  ['server-template with a range and parameters', D + FE + 'backend be\n    server-template web 2-4 127.0.0.1:18081 check weight 5\n'],
  ['server-template with a decreasing range', D + FE + 'backend be\n    server-template web 4-2 127.0.0.1:18081\n'],
  ['server-template clashing with a server name', D + FE + 'backend be\n    server web2 127.0.0.1:1\n    server-template web 3 127.0.0.1:18081\n'],
  ['server-template on an unresolvable name with init-addr none', D + FE + 'backend be\n    server-template web 2 no-such-host.invalid:80 init-addr none\n'],
  ['server-template on an unresolvable name', D + FE + 'backend be\n    server-template web 2 no-such-host.invalid:80\n'],
  ['monitor-uri in defaults, frontend and backend', D + '    monitor-uri /d\n' + FE + '    monitor-uri /health\n' + BE + '    monitor-uri /b\n'],
  ['monitor-uri with two URIs', D + FE + '    monitor-uri /a /b\n' + BE],
  ['monitor fail without a condition', D + FE + '    monitor fail\n' + BE],
  ['monitor fail in defaults', D + '    monitor fail if TRUE\n' + FE + BE],
  ['cookie persistence in defaults and backends', D + '    cookie DFL insert nocache\n' + FE + 'backend be\n    cookie SRV insert indirect nocache httponly secure domain .example.com\n    server s1 127.0.0.1:1 cookie a\n    server s2 127.0.0.1:2\n'],
  ['cookie prefix and rewrite', D + FE + 'backend be\n    cookie SRV prefix indirect\n    server s1 127.0.0.1:1 cookie a\nbackend be2\n    cookie SRV rewrite\n    server s1 127.0.0.1:1 cookie a\n'],
  ['cookie with incompatible modes', D + FE + 'backend be\n    cookie SRV insert rewrite\n    server s1 127.0.0.1:1 cookie a\n'],
  ['cookie preserve without insert', D + FE + 'backend be\n    cookie SRV preserve\n    server s1 127.0.0.1:1 cookie a\n'],
  ['cookie with a bad option', D + FE + 'backend be\n    cookie SRV insert nocache bogus\n    server s1 127.0.0.1:1 cookie a\n'],
  ['compression in every section', D + '    compression algo gzip deflate\n    compression type text/\n    compression offload\n' + FE + '    compression algo raw-deflate identity\n    compression offload\n' + BE + '    compression type application/json\n    filter compression\n'],
  ['compression with an unknown algorithm', D + FE + '    compression algo brotli\n' + BE],
  ['compression algo without one', D + FE + '    compression algo\n' + BE],
  ['compression type without one', D + FE + '    compression type\n' + BE],
  ['compression without a word', D + FE + '    compression\n' + BE],
  ['compression with an unknown word', D + FE + '    compression level 9\n' + BE],
  ['filter compression twice', D + FE + '    filter compression\n    filter compression\n' + BE],
  ['filter compression with an argument', D + FE + '    filter compression fast\n' + BE],
  ['filter compression in defaults', D + '    filter compression\n' + FE + BE],
  ['another filter, compression without its filter line', D + FE + '    filter trace\n    compression algo gzip\n' + BE],
  ['another filter, and filter compression', D + FE + '    filter trace\n    filter compression\n    compression algo gzip\n' + BE],
  ['tune.comp.maxlevel in range', 'global\n    tune.comp.maxlevel 9\n    maxcomprate 100\n    maxcompcpuusage 50\n' + D + FE + BE],
  ['tune.comp.maxlevel out of range', 'global\n    tune.comp.maxlevel 10\n' + D + FE + BE],
  ['maxcompcpuusage out of range', 'global\n    maxcompcpuusage 101\n' + D + FE + BE],
  ['maxcomprate without a value', 'global\n    maxcomprate\n' + D + FE + BE],
  ['stick on src with its table, stick match in another backend\'s', D + FE + 'backend be\n    stick-table type ip size 1m expire 30m\n    stick on src\n    server s1 127.0.0.1:1 non-stick\n    server s2 127.0.0.1:2 stick\nbackend b2\n    option persist\n    stick match src table be if { path_beg /x }\n    stick store-response res.hdr(x-sess) table be\n    server s1 127.0.0.1:1\n'],
  ['stick on without a table', D + FE + 'backend be\n    stick on src\n    server s1 127.0.0.1:1\n'],
  ['stick on a table nobody declares', D + FE + 'backend be\n    stick-table type ip size 1k\n    stick on src table nope\n    server s1 127.0.0.1:1\n'],
  ['stick store-request of a response header', D + FE + 'backend be\n    stick-table type ip size 1k\n    stick store-request res.hdr(x)\n    server s1 127.0.0.1:1\n'],
  ['stick on an unknown fetch', D + FE + 'backend be\n    stick-table type ip size 1k\n    stick on nosuchfetch\n    server s1 127.0.0.1:1\n'],
  ['stick with a stray word', D + FE + 'backend be\n    stick-table type ip size 1k\n    stick on src foo\n    server s1 127.0.0.1:1\n'],
  ['stick in a frontend is only a warning', D + FE + '    stick on src\n' + BE],
  ['stick in defaults is an error', D + '    stick on src\n' + FE + BE],
  ['the CentOS 7 default with its address moved to a bind line', readFileSync(new URL('../fixtures/centos7-haproxy.cfg', import.meta.url), 'utf8').replace('frontend  main *:5000', 'frontend  main\n    bind *:5000')]
]

test('differential: the one deliberate difference — a 1.x address on the section line', { skip: haproxyInstalled ? false : 'haproxy is not installed (apt-get install haproxy)' }, () => {
  const file = new URL('../fixtures/centos7-haproxy.cfg', import.meta.url).pathname
  const real = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' })
  const ours = spawnSync(process.execPath, [CLI, '-c', '-f', file], { encoding: 'utf8' })
  assert.equal(real.status, 1)
  assert.match(real.stderr, /please use the 'bind' keyword for listening addresses/)
  assert.equal(ours.status, 0, ours.stderr)
  assert.match(ours.stderr, /address '\*:5000' on the 'frontend' line is HAProxy 1\.x syntax/)
})

// The project's rule: keywords HAProxy implements and we do not, that change requests or
// responses, fail our -c (test/config/support.test.ts has every decision).
const DELIBERATE: Array<[string, string, RegExp]> = [
  ['cookie persistence with idle expiry', D + FE + 'backend be\n    cookie SRV insert indirect nocache maxidle 30m\n    server s1 127.0.0.1:1 cookie a\n', /\[.*case\d+\.cfg:10\] : 'cookie maxidle' is not supported by fastify-haproxy/],
  ['a monitor URI that can fail', D + FE + '    monitor-uri /health\n    monitor fail if FALSE\n' + BE, /\[.*case\d+\.cfg:10\] : 'monitor fail' is not supported by fastify-haproxy/],
  ['a server name header', D + FE + 'backend be\n    http-send-name-header X-Server\n    server s1 127.0.0.1:1\n', /\[.*case\d+\.cfg:10\] : 'http-send-name-header' is not supported by fastify-haproxy/]
]

test('differential: deliberate differences — unsupported keywords that change requests', { skip: haproxyInstalled ? false : 'haproxy is not installed (apt-get install haproxy)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-diff-'))
  try {
    for (const [i, [name, text, message]] of DELIBERATE.entries()) {
      await t.test(name, () => {
        const file = join(dir, `case${i}.cfg`)
        writeFileSync(file, text)
        const real = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', cwd: dir })
        const ours = spawnSync(process.execPath, [CLI, '-c', '-f', file], { encoding: 'utf8', cwd: dir })
        assert.equal(real.status, 0, real.stderr)
        assert.equal(ours.status, 1, ours.stderr)
        assert.match(ours.stderr, message)
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('differential: same verdict as haproxy -c', { skip: haproxyInstalled ? false : 'haproxy is not installed (apt-get install haproxy)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-diff-'))
  writeFileSync(join(dir, '503.http'), 'HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<h1>503</h1>\n')
  writeFileSync(join(dir, 'not-http.txt'), 'Service down\n')
  try {
    for (const [i, [name, text, env]] of CASES.entries()) {
      await t.test(name, () => {
        const file = join(dir, `case${i}.cfg`)
        writeFileSync(file, text.replaceAll('{dir}', dir))
        const e = { ...process.env, ...env }
        const real = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', env: e, cwd: dir })
        const ours = spawnSync(process.execPath, [CLI, '-c', '-f', file], { encoding: 'utf8', env: e, cwd: dir })
        assert.equal(ours.status, real.status,
          `haproxy exit ${real.status}:\n${real.stderr}${real.stdout}\nours exit ${ours.status}:\n${ours.stderr}${ours.stdout}`)
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('differential: proxy and server ids are the iid/sid columns of real haproxy\'s stats CSV', { skip: haproxyInstalled ? false : 'haproxy is not installed (apt-get install haproxy)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-ids-'))
  const [p1, p2] = [await freePort(), await freePort()]
  const config = (port: number): string => D +
    `frontend fa\n    bind 127.0.0.1:${p1}\n    default_backend bb\nbackend ba\n    server s1 127.0.0.1:1\n` +
    `listen st\n    bind 127.0.0.1:${port}\n    stats enable\n    stats uri /s\n` +
    'backend bb\n    id 3\n    server s1 127.0.0.1:1\n    server s2 127.0.0.1:1 id 7\n    server s3 127.0.0.1:1\n' +
    `frontend fc\n    bind 127.0.0.1:${p2}\n    default_backend ba\n`
  try {
    let text = ''
    const csv = await withHaproxy(join(dir, 'ids.cfg'), (port) => { text = config(port); return text }, async (port) => (await send(port, { url: '/s;csv' })).body)
    const real = csv.trim().split('\n').slice(1).map(l => l.split(',')).map(f => `${f[0]}/${f[1]}=${f[27]}/${f[28]}`)
    const parsed = parseConfig(text, { env: {} })
    const ours: string[] = []
    for (const p of parsed.proxies) {
      if (p.kind !== 'backend') ours.push(`${p.name}/FRONTEND=${p.id}/0`)
      for (const sv of p.servers) ours.push(`${p.name}/${sv.name}=${p.id}/${sv.id}`)
      if (p.kind !== 'frontend') ours.push(`${p.name}/BACKEND=${p.id}/0`)
    }
    assert.deepEqual(ours.sort(), real.sort())
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
