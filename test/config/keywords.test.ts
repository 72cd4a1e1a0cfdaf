// The keyword tables are data: every row is well-formed, and every keyword of HAProxy 2.6's §4.1
// matrix is either supported, accepted with a message, or refused with HAProxy's message.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GLOBAL_KNOWN, GLOBAL_REMOVED, OPTIONS, PROXY_KEYWORDS, SERVER_OPTIONS, OTHER_SECTIONS } from '../../lib/config/keywords.js'
import { parseConfig } from '../../lib/config/parse.js'

test('proxy rows: sections are §4.1 letters and each row says what it does', () => {
  for (const [name, row] of Object.entries(PROXY_KEYWORDS)) {
    assert.match(row.where, /^D?!?F?L?B?$/, name)
    assert.ok(row.support !== 'removed' || row.removed !== undefined, `${name}: removed rows carry HAProxy's message`)
    assert.ok(row.support !== 'args' || row.apply !== undefined, `${name}: a decision by argument is made by apply`)
    assert.ok(row.support !== 'yes' || row.apply !== undefined || ['server', 'default-server', 'server-template'].includes(name), `${name}: supported but does nothing`)
    if (row.where.includes('F')) assert.ok(row.where.includes('L'), `${name}: a listen has every frontend keyword`)
    if (row.where.includes('B')) assert.ok(row.where.includes('L'), `${name}: a listen has every backend keyword`)
  }
  for (const [name, row] of Object.entries(OPTIONS)) {
    assert.match(row.where, /^D?F?L?B?$/, name)
    assert.ok(row.support !== 'removed' || row.removed !== undefined, `option ${name}: removed rows carry HAProxy's message`)
    assert.ok((row.support !== 'yes' && row.support !== 'args') || row.apply !== undefined, `option ${name}: supported but does nothing`)
  }
})

test('no keyword appears twice; removed global keywords are not also known', () => {
  assert.equal(new Set(GLOBAL_KNOWN).size, GLOBAL_KNOWN.length)
  for (const k of Object.keys(GLOBAL_REMOVED)) assert.ok(!GLOBAL_KNOWN.includes(k), k)
  for (const k of Object.keys(OTHER_SECTIONS)) assert.ok(PROXY_KEYWORDS[k] === undefined, k)
})

// configuration.txt §4.1, first word of each row (and every `option`).
const MATRIX = 'acl backlog balance bind bind-process capture clitcpka-cnt clitcpka-idle clitcpka-intvl compression cookie declare default-server ' +
  'default_backend description disabled dispatch email-alert enabled errorfile errorfiles errorloc errorloc302 errorloc303 error-log-format force-persist ' +
  'filter fullconn hash-type http-after-response http-check http-error http-request http-response http-reuse http-send-name-header id ignore-persist ' +
  'load-server-state-from-file log log-format log-format-sd log-tag max-keep-alive-queue maxconn mode monitor monitor-uri option external-check persist ' +
  'rate-limit redirect retries retry-on server server-state-file-name server-template source srvtcpka-cnt srvtcpka-idle srvtcpka-intvl stats stick ' +
  'stick-table tcp-check tcp-request tcp-response timeout transparent unique-id-format unique-id-header use_backend use-fcgi-app use-server'
const MATRIX_OPTIONS = 'abortonclose accept-invalid-http-request accept-invalid-http-response allbackups checkcache clitcpka contstats disable-h2-upgrade ' +
  'dontlog-normal dontlognull forwardfor h1-case-adjust-bogus-client h1-case-adjust-bogus-server http-buffer-request http-ignore-probes http-keep-alive ' +
  'http-no-delay http-pretend-keepalive http-restrict-req-hdr-names http-server-close http-use-proxy-header httpchk httpclose httplog httpslog ' +
  'independent-streams ldap-check external-check log-health-checks log-separate-errors logasap mysql-check nolinger originalto persist pgsql-check ' +
  'prefer-last-server redispatch redis-check smtpchk socket-stats splice-auto splice-request splice-response spop-check srvtcpka ssl-hello-chk ' +
  'tcp-check tcp-smart-accept tcp-smart-connect tcpka tcplog transparent idle-close-on-response'

test('every §4.1 keyword and option has a row', () => {
  for (const k of MATRIX.split(' ')) assert.ok(PROXY_KEYWORDS[k], k)
  for (const o of MATRIX_OPTIONS.split(' ')) assert.ok(OPTIONS[o], `option ${o}`)
})

test('server options of §5.2 that the gateway uses are rows with an effect', () => {
  for (const k of ['weight', 'backup', 'disabled', 'check', 'inter', 'fastinter', 'downinter', 'rise', 'fall', 'port', 'addr', 'maxconn', 'maxqueue', 'slowstart', 'ssl', 'verify', 'ca-file', 'sni', 'observe', 'error-limit', 'on-error', 'id', 'cookie']) {
    assert.ok(SERVER_OPTIONS[k]?.apply, k)
  }
})

test('nothing is silently ignored: every accepted-without-effect keyword produces a message', () => {
  const c = parseConfig('defaults\n mode http\n maxconn 10\n option nolinger\nlisten l\n bind :1\n http-reuse safe\n stick-table type ip size 1k peers p\n', { env: {} })
  const lines = c.diagnostics.map(d => d.loc?.line)
  for (const line of [4, 7, 8]) assert.ok(lines.includes(line), `line ${line}`)
})
