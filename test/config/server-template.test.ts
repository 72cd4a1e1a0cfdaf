// `server-template` (configuration.txt §4.2) expands into servers at parse time, and server
// names are resolved as HAProxy resolves them at load (`init-addr`, §5.2). Compared with real
// haproxy 2.6: the messages of `haproxy -c`, and the server rows of its stats CSV.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { haproxyInstalled, send, withHaproxy } from '../acl/real-haproxy.js'
import { parseConfig } from '../../lib/config/parse.js'
import { checkConfig } from '../../lib/check.js'
import { Backend } from '../../lib/runtime/backend.js'
import { serverStatus } from '../../lib/stats/status.js'

const D = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'
const NO_HAPROXY = haproxyInstalled ? false : 'haproxy is not installed (apt-get install haproxy)'

const backend = (lines: string): string => `${D}backend b1\n${lines}`

test('a template gives <prefix><n> for 1..num or low..high, each with the parameters and default-server', () => {
  const c = parseConfig(backend('    default-server inter 3s\n    server-template web 3 127.0.0.1:9001 check weight 7\n    server-template api 0-1 127.0.0.2 maxconn 5\n'), { env: {} })
  assert.deepEqual(c.diagnostics, [])
  const servers = c.proxies[0]!.servers
  assert.deepEqual(servers.map(s => [s.name, s.host, s.port, s.id]), [
    ['web1', '127.0.0.1', 9001, 1], ['web2', '127.0.0.1', 9001, 2], ['web3', '127.0.0.1', 9001, 3],
    ['api0', '127.0.0.2', 0, 4], ['api1', '127.0.0.2', 0, 5]
  ])
  for (const s of servers.slice(0, 3)) assert.deepEqual([s.check, s.weight, s.inter], [true, 7, 3000])
  for (const s of servers.slice(3)) assert.deepEqual([s.maxconn, s.inter], [5, 3000])
})

test('a name the system resolves is resolved once, at load; one it cannot is kept for init-addr none', () => {
  const c = parseConfig(backend('    server-template a 2 localhost:80\n    server-template n 1 no-such-host.invalid:80 init-addr none\n    server-template i 1 no-such-host.invalid:80 init-addr last,10.0.0.9\n'), { env: {} })
  const [a1, a2, n1, i1] = c.proxies[0]!.servers
  assert.match(a1!.host, /^(127\.0\.0\.1|::1)$/)
  assert.equal(a2!.host, a1!.host)
  assert.deepEqual([n1!.host, n1!.unresolved], ['no-such-host.invalid', true])
  assert.deepEqual([i1!.host, i1!.unresolved], ['10.0.0.9', undefined])
  const b = new Backend(c.proxies[0]!)
  assert.deepEqual(b.servers.map(s => [s.name, s.admin, s.unresolved]), [['a1', 'ready', false], ['a2', 'ready', false], ['n1', 'maint', true], ['i1', 'ready', false]])
  // HAProxy keeps it in MAINT (resolution) whatever the admin asks; no resolver ever finds it here.
  b.servers[2]!.setAdmin('ready')
  assert.equal(b.servers[2]!.admin, 'maint')
})

/** Alert and warning texts of a `haproxy -c` run (without the file:line prefix and the closing lines). */
function realMessages (file: string): string[] {
  const r = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' })
  return r.stderr.split('\n')
    .filter(l => /^\[(ALERT|WARNING)\]/.test(l) && !/Fatal errors found|Error\(s\) found in configuration file/.test(l))
    .map(l => `${l.startsWith('[ALERT]') ? 'alert' : 'warning'}: ${l.replace(/^.*? : config : (?:parsing )?(?:\[[^\]]*\] : )?/, '')}`)
}

function ourMessages (text: string, file: string): string[] {
  const c = parseConfig(text, { filename: file, env: {} })
  const all = c.diagnostics.some(d => d.level === 'alert') ? c.diagnostics : checkConfig(c)
  // Our own words on what is implemented here are no HAProxy message.
  return all.filter(d => d.level !== 'notice' && !d.message.includes('fastify-haproxy')).map(d => `${d.level}: ${d.message}`)
}

const RESOLVERS = 'resolvers dns\n    nameserver d 127.0.0.1:53\n'

/** name, backend lines, sections before the defaults */
const MESSAGE_CASES: Array<[string, string, string?]> = [
  ['valid template', '    server-template w 3 127.0.0.1:80\n'],
  ['missing address', '    server-template w 2\n'],
  ['bad prefix character', '    server-template w! a 127.0.0.1:80\n'],
  ['zero count', '    server-template w 0 127.0.0.1:80\n'],
  ['decreasing range', '    server-template w 5-2 127.0.0.1:80\n'],
  ['range starting at 0', '    server-template w 0-2 127.0.0.1:80\n'],
  ['not a number', '    server-template w 1-a 127.0.0.1:80\n'],
  ['unknown parameter names the server (null)', '    server-template w 2 127.0.0.1:80 bogus\n'],
  ['bad port', '    server-template w 2 127.0.0.1:99999\n'],
  ['port range', '    server-template w 2 127.0.0.1:80-90\n'],
  ['name clash with an earlier server', '    server w2 127.0.0.1:80\n    server-template w 3 127.0.0.1:80\n'],
  ['two templates overlapping', '    server-template w 3 127.0.0.1:80\n    server-template w 2-4 127.0.0.1:80\n'],
  ['unresolvable name: one alert per server', '    server-template nx 2 no-such-host.invalid:80\n'],
  ['unresolvable with init-addr none: silent, MAINT', '    server-template nx 2 no-such-host.invalid:80 init-addr none\n'],
  ['unresolvable with init-addr libc,none: warned and disabled', '    server-template nx 2 no-such-host.invalid:80 init-addr libc,none\n'],
  ['unresolvable with init-addr last only: no method', '    server-template nx 1 no-such-host.invalid:80 init-addr last\n'],
  ['init-addr none from default-server', '    default-server init-addr none\n    server nx no-such-host.invalid:80\n'],
  ['unresolvable with resolvers: warned and disabled', '    server-template nx 2 no-such-host.invalid:80 resolvers dns\n', RESOLVERS],
  ['a DNS SRV name is not for libc', '    server-template w 2 _http._tcp.svc.invalid check\n'],
  ['a DNS SRV name with resolvers: silent, and its port comes from the record', '    server-template w 2 _http._tcp.svc.invalid check resolvers dns\n', RESOLVERS],
  ['a checked template on a host name needs no port', '    server-template w 2 localhost check\n'],
  ['a checked server on an IP needs a port', '    server w 127.0.0.1 check\n'],
  ['a checked server on an IP needs a port (with check rules)', '    option httpchk\n    server w 127.0.0.1 check\n']
]

test('differential: the messages of haproxy -c about templates and unresolved names', { skip: NO_HAPROXY }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-tmpl-'))
  try {
    for (const [i, [name, lines, head]] of MESSAGE_CASES.entries()) {
      await t.test(name, () => {
        const file = join(dir, `case${i}.cfg`)
        const text = (head ?? '') + backend(lines)
        writeFileSync(file, text)
        assert.deepEqual(ourMessages(text, file), realMessages(file))
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('differential: the server rows of real haproxy\'s stats CSV (names, ids, status) for templates', { skip: NO_HAPROXY }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-tmpl-'))
  const servers = '    server a 127.0.0.1:1 id 6\n    server-template w 3 127.0.0.1:1 id 5 weight 7\n    server-template v 2-3 localhost:1\n' +
    '    server-template nx 2 no-such-host.invalid:80 init-addr none\n    server-template nl 1 no-such-host.invalid:80 init-addr libc,none\n'
  try {
    let text = ''
    const csv = await withHaproxy(join(dir, 't.cfg'), (port) => {
      text = `${D}listen st\n    bind 127.0.0.1:${port}\n    stats enable\n    stats uri /s\nbackend b1\n${servers}`
      return text
    }, async (port) => (await send(port, { url: '/s;csv' })).body)
    const real = csv.trim().split('\n').slice(1).map(l => l.split(','))
      .filter(f => f[0] === 'b1' && f[1] !== 'BACKEND').map(f => [f[1], f[28], f[18], f[17]])
    const b = new Backend(parseConfig(text, { env: {} }).proxies.find(p => p.name === 'b1')!)
    const ours = b.servers.map(s => [s.name, String(s.id), String(s.uweight), serverStatus(s)])
    assert.deepEqual(ours, real)
    assert.ok(b.servers.filter(s => s.unresolved).every(s => s.admin === 'maint'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
