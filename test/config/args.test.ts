// Argument grammars: configuration.txt §2.5 (time), sizes, and addresses (src/tools.c str2sa_range).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTime, parseAddress, atoi, expandEnv, type AddressRules } from '../../lib/config/args.js'

test('time: units us ms s m h d, bare number is ms, rounded up', () => {
  const ms = (t: string): number => {
    const r = parseTime(t)
    assert.ok(r.ok, t)
    return r.value
  }
  assert.equal(ms('2000'), 2000)
  assert.equal(ms('500ms'), 500)
  assert.equal(ms('10s'), 10000)
  assert.equal(ms('1m'), 60000)
  assert.equal(ms('1h'), 3600000)
  assert.equal(ms('1d'), 86400000)
  assert.equal(ms('100us'), 1)
  assert.equal(ms('1500us'), 2)
  assert.equal(ms('0'), 0)
})

test('time: a default unit of seconds for stats refresh', () => {
  const r = parseTime('10', 's')
  assert.ok(r.ok)
  assert.equal(r.value, 10000)
})

test('time: errors name the unexpected character; overflow is reported', () => {
  assert.deepEqual(parseTime('10x'), { ok: false, bad: 'x' })
  assert.deepEqual(parseTime('x'), { ok: false, bad: 'x' })
  assert.deepEqual(parseTime(''), { ok: false, bad: null })
  assert.deepEqual(parseTime('1.5s'), { ok: false, bad: '.' })
  assert.deepEqual(parseTime('100000000000'), { ok: false, bad: null, overflow: true })
  const trailing = parseTime('1sx')
  assert.ok(trailing.ok)
  assert.equal(trailing.trailing, 'x')
})

test('atoi is as lenient as C', () => {
  assert.equal(atoi('12abc'), 12)
  assert.equal(atoi('lots'), 0)
  assert.equal(atoi('-1'), -1)
})

const bind: AddressRules = { portRequired: true, allowRange: true, allowOffset: false, allowFqdn: false, allowZeroPort: false, env: { PORT: '8080' } }
const server: AddressRules = { portRequired: false, allowRange: false, allowOffset: true, allowFqdn: true, allowZeroPort: true }

test('address: the forms a bind accepts', () => {
  const a = (s: string): unknown => {
    const r = parseAddress(s, bind)
    assert.ok(r.ok, `${s}: ${r.ok ? '' : r.error}`)
    return { family: r.value.family, host: r.value.host, port: r.value.port, portEnd: r.value.portEnd }
  }
  assert.deepEqual(a('127.0.0.1:80'), { family: 'ipv4', host: '127.0.0.1', port: 80, portEnd: 80 })
  assert.deepEqual(a('*:80'), { family: 'ipv4', host: '', port: 80, portEnd: 80 })
  assert.deepEqual(a(':9000'), { family: 'ipv4', host: '', port: 9000, portEnd: 9000 })
  assert.deepEqual(a(':::443'), { family: 'ipv6', host: '::', port: 443, portEnd: 443 })
  assert.deepEqual(a('[::1]:80'), { family: 'ipv6', host: '::1', port: 80, portEnd: 80 })
  assert.deepEqual(a('0.0.0.0:8080-8082'), { family: 'ipv4', host: '0.0.0.0', port: 8080, portEnd: 8082 })
  assert.deepEqual(a('ipv4@127.0.0.1:81'), { family: 'ipv4', host: '127.0.0.1', port: 81, portEnd: 81 })
  assert.deepEqual(a('localhost:80'), { family: 'ipv4', host: '127.0.0.1', port: 80, portEnd: 80 })
  assert.deepEqual(a(':${PORT}'), { family: 'ipv4', host: '', port: 8080, portEnd: 8080 })
  assert.deepEqual(a('/run/x.sock'), { family: 'unix', host: '/run/x.sock', port: 0, portEnd: 0 })
})

test('address: HAProxy\'s complaints', () => {
  const e = (s: string, rules = bind): string => {
    const r = parseAddress(s, rules)
    assert.ok(!r.ok, s)
    return r.error
  }
  assert.equal(e('127.0.0.1'), "missing port specification in '127.0.0.1'")
  assert.equal(e('127.0.0.1:99999'), "invalid port '99999'")
  assert.equal(e('127.0.0.1:0'), "invalid port '0'")
  assert.equal(e('1.2.3.4:abc'), "invalid character 'a' in port number 'abc' in '1.2.3.4:abc'")
  assert.equal(e('999.1.1.1:80'), "invalid address: '999.1.1.1' in '999.1.1.1:80'")
  assert.equal(e('no-such-host.invalid:80'), "invalid address: 'no-such-host.invalid' in 'no-such-host.invalid:80'")
  assert.equal(e('mptcp@[::]:5000'), "invalid address: 'mptcp@[::]' in 'mptcp@[::]:5000'")
  assert.equal(e('1.2.3.4:99999', server), "invalid port '99999'")
})

test('address: servers keep host names for later resolution, and may omit the port', () => {
  const r = parseAddress('db01:3306', server)
  assert.ok(r.ok)
  assert.deepEqual([r.value.family, r.value.host, r.value.port], ['fqdn', 'db01', 3306])
  const noPort = parseAddress('10.0.0.1', server)
  assert.ok(noPort.ok)
  assert.equal(noPort.value.hasPort, false)
  const offset = parseAddress('10.0.0.1:+1', server)
  assert.ok(offset.ok)
  assert.equal(offset.value.portOffset, true)
})

test('env expansion inside addresses (env_expand)', () => {
  assert.equal(expandEnv('${A}:$B-x', { A: 'h', B: '1' }), 'h:1-x')
  assert.equal(expandEnv('a$b:80', {}), 'a:80')
})
