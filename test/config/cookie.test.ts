// `cookie` persistence in the model (configuration.txt §4.2 cookie): options, the defaults
// section's rule inherited by backends and replaced by their own, and HAProxy's checks.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../lib/config/parse.js'

const D = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'

test('every implemented option lands in Proxy.cookie', () => {
  const c = parseConfig('backend be\n    mode http\n    cookie SRV insert indirect nocache preserve httponly secure dynamic domain .a.example domain .b.example\n    dynamic-cookie-key k1\n    server s 127.0.0.1:1 cookie S1\n', { filename: 't.cfg', env: {} })
  assert.deepEqual(c.diagnostics, [])
  const be = c.proxies[0]!
  assert.deepEqual(be.cookie, {
    name: 'SRV', mode: 'insert', indirect: true, nocache: true, preserve: true, httponly: true, secure: true,
    domains: ['.a.example', '.b.example'], dynamic: true, loc: { file: 't.cfg', line: 3 }
  })
  assert.equal(be.dynamicCookieKey, 'k1')
  assert.equal(be.servers[0]!.cookie, 'S1')
})

test('no mode is passive; prefix and rewrite are modes of their own', () => {
  const modes = ['', 'prefix', 'rewrite', 'indirect'].map(opt => {
    const c = parseConfig(`${D}backend be\n    cookie SRV ${opt}\n    server s 127.0.0.1:1\n`, { env: {} })
    assert.deepEqual(c.diagnostics.filter(d => d.level === 'alert'), [], opt)
    return [c.proxies[0]!.cookie!.mode, c.proxies[0]!.cookie!.indirect]
  })
  assert.deepEqual(modes, [['passive', false], ['prefix', false], ['rewrite', false], ['passive', true]])
})

test('backends inherit the defaults section rule; their own line replaces it; a backend without either has none', () => {
  const c = parseConfig(`${D}    cookie DFL insert nocache\nbackend inherits\n    server s 127.0.0.1:1\nbackend own\n    cookie OWN prefix\n    server s 127.0.0.1:1\n${D}backend none\n    server s 127.0.0.1:1\n`, { env: {} })
  const by = Object.fromEntries(c.proxies.map(p => [p.name, p.cookie === null ? null : [p.cookie.name, p.cookie.mode, p.cookie.nocache]]))
  assert.deepEqual(by, { inherits: ['DFL', 'insert', true], own: ['OWN', 'prefix', false], none: null })
})

test('a domain without an embedded dot gets HAProxy\'s warning', () => {
  const c = parseConfig(`${D}backend be\n    cookie SRV insert domain localhost\n    server s 127.0.0.1:1\n`, { env: {} })
  assert.deepEqual(c.diagnostics.map(d => [d.level, d.message]), [['warning', "domain 'localhost' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3)."]])
})

test('dynamic-cookie-key: inherited from defaults, required argument as haproxy -c says', () => {
  const c = parseConfig(`${D}    dynamic-cookie-key dk\nbackend be\n    cookie SRV insert dynamic\n    server s 127.0.0.1:1\n`, { env: {} })
  assert.equal(c.proxies.find(p => p.name === 'be')!.dynamicCookieKey, 'dk')
  const bad = parseConfig(`${D}backend be\n    dynamic-cookie-key\n`, { env: {} })
  assert.ok(bad.diagnostics.some(d => d.level === 'alert' && d.message.includes("'dynamic-cookie-key' expects <secret_key> as argument.")))
})
