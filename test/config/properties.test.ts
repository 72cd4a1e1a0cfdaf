// Bad input never crashes the checker: mutated configs always give a verdict whose messages are
// located (file + line) unless they are about the whole configuration. fast-check properties.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseConfig } from '../../lib/config/parse.js'
import { checkConfig } from '../../lib/check.js'
import { tokenizeLine } from '../../lib/config/tokenize.js'

const BASE = `global
    maxconn 4000
    log 127.0.0.1 local2
    stats socket /run/haproxy.sock
defaults
    mode http
    option forwardfor except 127.0.0.0/8
    option redispatch
    retries 3
    timeout connect 5s
    timeout client 30s
    timeout server "30s"
frontend main
    bind 127.0.0.1:8080
    acl url_static path_beg -i /static /images
    acl api hdr(host) -i api.example.com
    http-request set-header X-Forwarded-Proto http if !{ ssl_fc }
    use_backend static if url_static
    use_backend %[req.hdr(host),lower,map_dom(/nonexistent/hosts.map,app)]
    default_backend app
backend static
    balance roundrobin
    server static 127.0.0.1:4331 check inter 2s rise 2 fall 3
backend app
    balance leastconn
    option httpchk GET /health
    http-check expect status 200
    default-server inter 1s
    server app1 127.0.0.1:5001 check weight 10
    server app2 127.0.0.1:5002 check backup
listen stats
    bind :9000
    stats enable
    stats uri /haproxy_stats
    stats auth admin:admin
userlist admins
    user admin insecure-password secret
`
const LINES = BASE.split('\n')

/** Every line-level message carries a file and a line inside the text (or none at all, for whole-config ones). */
function assertVerdict (text: string): void {
  const config = parseConfig(text, { filename: 'p.cfg', env: {} })
  const diags = checkConfig(config)
  const lineCount = text.split('\n').length
  for (const d of diags) {
    assert.ok(d.level === 'alert' || d.level === 'warning' || d.level === 'notice')
    assert.equal(typeof d.message, 'string')
    assert.ok(d.message.length > 0)
    if (d.loc) {
      assert.equal(d.loc.file, 'p.cfg')
      assert.ok(Number.isInteger(d.loc.line) && d.loc.line >= 1 && d.loc.line <= lineCount, `line ${d.loc.line} of ${lineCount}: ${d.message}`)
    }
  }
  JSON.stringify(config)
}

const lineIndex = fc.integer({ min: 0, max: LINES.length - 1 })

test('property: deleting, duplicating or swapping lines', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('delete', 'dup', 'swap'), lineIndex, lineIndex), { maxLength: 8 }), (ops) => {
    const lines = [...LINES]
    for (const [op, i, j] of ops) {
      if (i >= lines.length || j >= lines.length) continue
      if (op === 'delete') lines.splice(i, 1)
      else if (op === 'dup') lines.splice(i, 0, lines[i]!)
      else [lines[i], lines[j]] = [lines[j]!, lines[i]!]
    }
    assertVerdict(lines.join('\n'))
  }), { numRuns: 300 })
})

test('property: deleting, duplicating and truncating words', () => {
  fc.assert(fc.property(lineIndex, fc.nat(), fc.constantFrom('delete', 'dup', 'truncate'), fc.nat(), (li, wi, op, cut) => {
    const lines = [...LINES]
    const words = lines[li]!.split(' ')
    const w = wi % Math.max(words.length, 1)
    if (op === 'delete') words.splice(w, 1)
    else if (op === 'dup') words.splice(w, 0, words[w] ?? '')
    else words[w] = (words[w] ?? '').slice(0, cut % ((words[w]?.length ?? 0) + 1))
    lines[li] = words.join(' ')
    assertVerdict(lines.join('\n'))
  }), { numRuns: 500 })
})

test('property: truncating the file anywhere (missing final LF included)', () => {
  fc.assert(fc.property(fc.nat({ max: BASE.length }), (n) => assertVerdict(BASE.slice(0, n))), { numRuns: 300 })
})

test('property: random bytes inserted into a valid config', () => {
  fc.assert(fc.property(fc.nat({ max: BASE.length }), fc.string({ unit: 'binary', maxLength: 40 }), (at, junk) => {
    assertVerdict(BASE.slice(0, at) + junk + BASE.slice(at))
  }), { numRuns: 400 })
})

test('property: lines of special characters (quotes, backslashes, $, braces, #)', () => {
  const chars = fc.constantFrom(...'"\'\\${}[]*#- \tax:./%()!'.split(''))
  fc.assert(fc.property(lineIndex, fc.array(chars, { maxLength: 60 }), (li, cs) => {
    const lines = [...LINES]
    lines[li] = lines[li] + ' ' + cs.join('')
    assertVerdict(lines.join('\n'))
  }), { numRuns: 400 })
})

test('property: huge lines and very many words', () => {
  fc.assert(fc.property(lineIndex, fc.integer({ min: 1, max: 20000 }), fc.boolean(), (li, n, spaced) => {
    const lines = [...LINES]
    lines[li] = lines[li] + ' ' + (spaced ? 'w '.repeat(n) : 'x'.repeat(n * 5))
    assertVerdict(lines.join('\n'))
  }), { numRuns: 40 })
})

test('property: the tokenizer never throws and errors point inside the line', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (line) => {
    const r = tokenizeLine(line, { env: { A: 'x y' }, file: 'f', line: 1, section: '' })
    if (r.error !== null) {
      const m = /at position (\d+)/.exec(r.error)
      if (m) assert.ok(Number(m[1]) >= 1 && Number(m[1]) <= line.length + 1, `${r.error} for ${JSON.stringify(line)}`)
      assert.deepEqual(r.words, [])
    }
  }), { numRuns: 2000 })
})
