// The project's rule for keywords HAProxy 2.6 accepts: what we do not implement and that changes
// requests or responses is an alert in a proxy served as HTTP (a warning in a `mode tcp` one,
// which the CLI refuses whole); what means nothing inside Node, or only logs or tunes, is a
// warning (a notice for logging) that says why. One row per decision: where the line goes, the
// line, and the level and message expected for it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../lib/config/parse.js'
import type { Diagnostic } from '../../lib/config/model.js'
import { TCP_REQUEST_ACTIONS, TCP_RESPONSE_ACTIONS } from '../../lib/config/keywords.js'

type Where = 'frontend' | 'backend' | 'defaults' | 'top'
type Level = Diagnostic['level']

const not = (what: string, does: string): [Level, string] => ['alert', `'${what}' is not supported by fastify-haproxy (${does}).`]
const noEffect = (what: string, why: string, level: Level = 'warning'): [Level, string] => [level, `'${what}' is accepted but has no effect in fastify-haproxy (${why}).`]
const section = (kw: string, name: string, why: string): [Level, string] => ['warning', `'${kw}' section '${name}' is accepted but has no effect in fastify-haproxy (${why}).`]
const PERSISTENCE = 'sends a client back to the server it used before'

const ROWS: Array<[Where, string, [Level, string]]> = [
  // persistence and stick tables
  ['backend', 'cookie SRV insert indirect nocache', ['notice', '']],
  ['backend', 'cookie SRV insert postonly', not('cookie postonly', 'inserts the cookie only in answers to POST requests')],
  ['backend', 'cookie SRV insert maxidle 30m', not('cookie maxidle', 'expires persistence cookies left unused')],
  ['backend', 'cookie SRV insert maxlife 8h', not('cookie maxlife', 'expires persistence cookies after a lifetime')],
  ['backend', 'cookie SRV insert dynamic', ['notice', '']],
  ['backend', 'dynamic-cookie-key s3cr3t', ['notice', '']],
  ['backend', 'cookie SRV insert attr SameSite=Strict', not('cookie attr', 'adds attributes to the inserted cookie')],
  ['backend', 'stick-table type ip size 1m expire 30s', ['notice', '']],
  ['backend', 'stick-table type ip size 1m peers p', noEffect('stick-table peers', 'peers synchronise stick tables between processes; each process here keeps its own')],
  ['backend', 'stick on src', ['notice', '']],
  ['backend', 'stick match src', ['notice', '']],
  ['backend', 'stick store-request src', ['notice', '']],
  ['backend', 'stick store-response res.hdr(x-session)', ['notice', '']],
  ['backend', 'stick-table type ip size 1k srvkey name', ['notice', '']],
  ['backend', 'stick-table type ip size 1k srvkey addr', not('stick-table srvkey addr', 'stick rules naming servers by address in the table')],
  ['backend', 'persist rdp-cookie', not('persist rdp-cookie', `RDP cookie persistence: ${PERSISTENCE}`)],
  ['backend', 'force-persist if TRUE', not('force-persist', 'keeps persistence to a down server on a condition')],
  ['backend', 'ignore-persist if TRUE', not('ignore-persist', 'skips persistence on a condition')],
  ['backend', 'option persist', ['notice', '']],
  ['backend', 'use-server s1 if TRUE', not('use-server', 'sends requests to a named server on a condition')],
  // TCP-level rules
  ['frontend', 'tcp-request connection reject if { src 10.0.0.0/8 }', ['notice', '']],
  ['frontend', 'tcp-request connection set-var(sess.x) int(1)', ['notice', '']],
  ['frontend', 'tcp-request connection track-sc0 src', ['notice', '']],
  ['frontend', 'http-request track-sc0 src table t', ['notice', '']],
  ['backend', 'tcp-response content reject if FALSE', ['notice', '']],
  ['frontend', 'tcp-request inspect-delay 5s', noEffect('tcp-request inspect-delay', 'no content is inspected before HTTP')],
  ['frontend', 'tcp-request content set-log-level silent', noEffect('tcp-request content set-log-level', 'it only logs or tunes the socket')],
  // responses
  ['frontend', 'compression algo gzip', ['notice', '']],
  ['backend', 'filter compression', ['notice', '']],
  ['frontend', 'filter cache c', ['notice', '']],
  ['frontend', 'filter trace', noEffect('filter trace', 'the trace filter only logs')],
  ['frontend', 'errorloc302 503 https://example.com/down', ['notice', '']],
  ['backend', 'option checkcache', not('option checkcache', 'blocks cacheable responses that would set a cookie')],
  ['frontend', 'monitor fail if FALSE', not('monitor fail', 'makes the monitor URI report failure on a condition')],
  // requests and servers
  ['frontend', 'option originalto', ['notice', '']],
  ['backend', 'option originalto except 10.0.0.0/8 header X-Dest', ['notice', '']],
  ['frontend', 'http-request set-src hdr(x-real-ip)', ['notice', '']],
  ['frontend', 'http-request set-dst-port int(8080)', ['notice', '']],
  ['frontend', 'tcp-request content set-src src,ipmask(24)', ['notice', '']],
  ['frontend', 'tcp-request connection set-src src,ipmask(24)', ['notice', '']],
  ['frontend', 'tcp-request connection expect-proxy layer4 if { src 10.0.0.0/8 }', not('tcp-request connection expect-proxy', "reads a PROXY protocol header when a condition holds; 'accept-proxy' on the bind reads one on every connection")],
  ['backend', 'http-send-name-header X-Server', not('http-send-name-header', "adds the chosen server's name to requests")],
  ['frontend', 'option http-restrict-req-hdr-names reject', ['notice', '']],
  ['backend', 'option http-restrict-req-hdr-names delete', ['notice', '']],
  ['backend', 'use-fcgi-app php', not('use-fcgi-app', 'talks FastCGI to the servers')],
  // server options
  ['backend', 'server s2 127.0.0.1:18082 send-proxy', ['notice', '']],
  ['backend', 'server s2 127.0.0.1:18082 redir http://example.com', not('redir', 'redirects clients to the server instead of forwarding their requests')],
  ['backend', 'server s2 127.0.0.1:18082 proto fcgi', ['alert', "'server be/s2' : " + not('proto fcgi', 'speaks FastCGI to the server')[1]]],
  ['backend', 'server s2 127.0.0.1:18082 track s1', not('track', "takes the server's up/down state from another server's checks")],
  ['backend', 'default-server send-proxy-v2', ['notice', '']],
  ['backend', 'server s2 127.0.0.1:18082 init-addr last,libc,none', ['notice', '']],
  ['backend', 'server s2 127.0.0.1:18082 pool-max-conn 10', noEffect('pool-max-conn', 'connection reuse is left to undici')],
  ['backend', 'server s2 127.0.0.1:18082 no-send-proxy check inter 2s weight 10', ['notice', '']],
  // in a defaults section served as HTTP
  ['defaults', 'cookie SRV insert', ['notice', '']],
  ['defaults', 'cookie SRV insert maxidle 30m', not('cookie maxidle', 'expires persistence cookies left unused')],
  // sections
  ['top', 'cache c\n    total-max-size 4', ['notice', '']],
  ['top', 'fcgi-app php\n    docroot /var/www', section('fcgi-app', 'php', "FastCGI is not spoken: a backend's use-fcgi-app is refused")],
  ['top', 'peers p\n    peer a 127.0.0.1:10000', section('peers', 'p', 'peers synchronise stick tables between processes; each process here keeps its own')],
  ['top', 'resolvers dns\n    nameserver d 127.0.0.1:53', ['notice', '']],
  ['top', 'mailers m\n    mailer smtp 127.0.0.1:25', section('mailers', 'm', 'e-mail alerts are not sent')],
  ['top', 'ring r\n    size 32764', ['notice', '']],
  ['top', 'program p\n    command /bin/true', section('program', 'p', 'no external programs are started')],
  ['top', 'log-forward lf\n    dgram-bind 127.0.0.1:5140', ['notice', '']],
  // no meaning inside Node, logging, tuning
  ['backend', 'http-reuse safe', noEffect('http-reuse', 'connection reuse is left to undici')],
  ['backend', 'option prefer-last-server', ['notice', '']],
  ['frontend', 'rate-limit sessions 10', noEffect('rate-limit', 'no session rate limiting')],
  ['frontend', 'option http-restrict-req-hdr-names preserve', ['notice', '']],
  // implemented: nothing to say
  ['frontend', 'unique-id-header X-Request-ID', ['notice', '']],
  ['frontend', 'capture request header Host len 32', ['notice', '']],
  ['frontend', 'http-after-response set-header X-A b', ['notice', '']],
  ['frontend', 'option httplog', ['notice', '']],
  ['frontend', 'option http-server-close', ['notice', '']],
  ['frontend', 'tcp-request content accept if TRUE', ['notice', '']],
  ['frontend', 'tcp-request content reject', ['notice', '']],
  ['frontend', 'tcp-request session set-var(sess.x) int(1)', ['notice', '']],
  ['backend', 'option httpclose', ['notice', '']],
  ['frontend', 'log-format "%ci %r"', ['notice', '']],
  ['frontend', 'log 127.0.0.1:514 local0', ['notice', '']],
  ['backend', 'option log-health-checks', ['notice', '']],
  ['backend', 'option spop-check', ['notice', '']],
  ['backend', 'hash-type consistent sdbm avalanche', ['notice', '']],
  ['backend', 'server-template web 1-3 127.0.0.1:8080', ['notice', '']],
  ['frontend', 'monitor-uri /health', ['notice', '']]
]

const D = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'

/** The config with `line` in `where`; returns the config and the line number `line` starts on. */
function place (where: Where, line: string, mode = 'http'): { text: string, at: number } {
  const d = D.replace('mode http', `mode ${mode}`)
  const fe = 'frontend fe\n    bind 127.0.0.1:18080\n    default_backend be\n'
  const be = 'backend be\n    server s1 127.0.0.1:18081\n'
  const head = where === 'top' ? '' : where === 'defaults' ? d : where === 'frontend' ? d + fe : d + fe + be
  const tail = where === 'top' ? d + fe + be : where === 'defaults' ? fe + be : where === 'frontend' ? be : ''
  const indented = where === 'top' ? line : `    ${line}`
  return { text: `${head}${indented}\n${tail}`, at: head.split('\n').length }
}

for (const [where, line, [level, message]] of ROWS) {
  test(`${where}: ${line.split('\n')[0]} → ${message === '' ? 'no message' : level}`, () => {
    const { text, at } = place(where, line)
    const c = parseConfig(text, { filename: 't.cfg', env: {} })
    const here = c.diagnostics.filter(d => d.loc?.line === at)
    if (message === '') return assert.deepEqual(here, [])
    assert.deepEqual(here.map(d => [d.level, d.message]), [[level, message]])
  })
}

test('in a mode tcp proxy (served by the CLI) the same keywords are alerts too', () => {
  for (const [where, line, [level, message]] of ROWS) {
    if (level !== 'alert' || where === 'top') continue
    const { text, at } = place(where, line, 'tcp')
    const here = parseConfig(text, { filename: 't.cfg', env: {} }).diagnostics.filter(d => d.loc?.line === at)
    // tcp-request rules are what the TCP proxy runs (lib/tcp)
    const served = (line.startsWith('tcp-request') && TCP_REQUEST_ACTIONS.includes(line.split(' ')[2]!.replace(/\(.*$/, ''))) ||
      (line.startsWith('tcp-response content') && TCP_RESPONSE_ACTIONS.test(line.split(' ')[2]!)) ||
      / send-proxy(-v2)?$/.test(line)
    // a row HTTP proxies no longer alert on (implemented since the row was written) is not one here either
    const http = place(where, line)
    const httpAlerts = parseConfig(http.text, { filename: 't.cfg', env: {} }).diagnostics.filter(d => d.loc?.line === http.at && d.level === 'alert')
    const want = served || httpAlerts.length === 0 ? [] : [['alert', message]]
    assert.deepEqual(here.map(d => [d.level, d.message]), want, line)
  }
})

test('the mode decides at the end of the section, and a proxy without a mode is served as HTTP', () => {
  const late = parseConfig('backend b\n    tcp-request inspect-delay 5s\n    mode tcp\n    server s 127.0.0.1:1\n', { env: {} })
  assert.equal(late.diagnostics.find(d => d.loc?.line === 2)?.level, undefined)
  const http = parseConfig('backend b\n    tcp-request inspect-delay 5s\n    server s 127.0.0.1:1\n', { env: {} })
  assert.equal(http.diagnostics.find(d => d.loc?.line === 2)?.level, 'warning')
  const none = parseConfig('backend b\n    cookie S insert postonly\n    server s 127.0.0.1:1\n', { env: {} })
  assert.equal(none.diagnostics.find(d => d.loc?.line === 2)?.level, 'alert')
})

test('a line HAProxy ignores for lack of capability gets only its warning', () => {
  const c = parseConfig(D + 'frontend fe\n    bind 127.0.0.1:18080\n    cookie S insert\n', { env: {} })
  assert.deepEqual(c.diagnostics.filter(d => d.loc?.line === 8).map(d => d.message), ["'cookie' ignored because frontend 'fe' has no backend capability."])
})

test('arguments are still checked as HAProxy checks them', () => {
  const bad = (where: Where, line: string): string[] => {
    const { text, at } = place(where, line)
    return parseConfig(text, { env: {} }).diagnostics.filter(d => d.loc?.line === at && d.level === 'alert').map(d => d.message)
  }
  assert.deepEqual(bad('frontend', 'tcp-request foo'), ["'tcp-request' expects 'inspect-delay', 'connection', or 'content' in frontend 'fe' (got 'foo')"])
  assert.match(bad('frontend', 'tcp-request content bogus')[0]!, /^'tcp-request content' expects 'accept', 'reject', .* in frontend 'fe' \(got 'bogus'\)\.$/)
  assert.deepEqual(bad('frontend', 'tcp-request content track-sc5 src'), ["'tcp-request content track-sc5' : 5 track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value"])
  assert.deepEqual(bad('backend', 'tcp-response foo'), ["'tcp-response' expects 'inspect-delay' or 'content' in backend 'be' (got 'foo')"])
  assert.deepEqual(bad('frontend', 'tcp-request inspect-delay'), ["'tcp-request inspect-delay' expects a positive delay in milliseconds, in frontend 'fe'"])
  assert.deepEqual(bad('backend', 'cookie'), ["'cookie' expects <cookie_name> as argument."])
  assert.deepEqual(bad('backend', 'cookie S insert prefix'), ["cookie 'rewrite', 'insert' and 'prefix' modes are incompatible."])
  assert.deepEqual(bad('backend', 'cookie S rewrite prefix'), ["cookie 'rewrite', 'insert' and 'prefix' modes are incompatible."])
  assert.deepEqual(bad('backend', 'cookie S preserve'), ["cookie 'preserve' requires at least 'insert' or 'indirect'."])
  assert.deepEqual(bad('backend', 'cookie S insert bogus'), ["'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options."])
  assert.deepEqual(bad('backend', 'cookie S insert domain'), ["'domain' expects <domain> as argument."])
  assert.deepEqual(bad('backend', 'cookie S insert maxidle'), ["'maxidle' expects <idletime> in seconds as argument."])
  assert.deepEqual(bad('backend', 'cookie S insert maxidle 1x'), ["unexpected character 'x' in argument to <maxidle>."])
  assert.deepEqual(bad('backend', 'cookie S insert attr'), ["'attr' expects <value> as argument."])
  assert.deepEqual(bad('backend', 'cookie S insert attr a;b'), ["character '%x3B' is not permitted in attribute value."])
  assert.deepEqual(bad('backend', 'stick foo'), ["'stick' expects 'on', 'match', or 'store'."])
  assert.deepEqual(bad('backend', 'stick on'), ["'stick' expects a fetch method."])
  assert.deepEqual(bad('backend', 'stick on src foo'), ["'stick': unknown keyword 'foo'."])
  assert.deepEqual(bad('backend', 'persist foo'), ['unknown persist method.'])
  assert.deepEqual(bad('frontend', 'monitor foo'), ["'monitor' only supports 'fail'."])
  assert.deepEqual(bad('frontend', 'filter bogus'), ["'filter' : unknown keyword 'bogus'."])
  assert.deepEqual(bad('frontend', 'option http-restrict-req-hdr-names bogus'), ["invalid parameter 'bogus'. option 'http-restrict-req-hdr-names' expects 'preserve', 'reject' or 'delete' option."])
  assert.deepEqual(bad('backend', 'hash-type consistent sdbm foo'), ["'hash-type' only supports 'avalanche' as a modifier for hash functions."])
})

test('hash-type keeps its avalanche modifier in fn', () => {
  const { text } = place('backend', 'hash-type consistent sdbm avalanche')
  const be = parseConfig(text, { env: {} }).proxies.find(p => p.name === 'be')!
  assert.deepEqual(be.hashType, { method: 'consistent', fn: 'sdbm avalanche' })
})

test('global ssl-server-verify is implemented: no "no effect" warning, servers default to its value', () => {
  const c = parseConfig('global\n    ssl-server-verify none\n' + D + 'backend be\n    server s1 127.0.0.1:443 ssl\n', { env: {} })
  assert.deepEqual(c.diagnostics.filter(d => d.loc?.line === 2), [])
  assert.equal(c.proxies[0]!.servers[0]!.verify, 'none')
})
