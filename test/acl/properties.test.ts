// Properties (fast-check): matching never throws on arbitrary input; the indexed match methods
// answer exactly what HAProxy's list scans (src/pattern.c) would; paths and url parameters are
// matched raw (never percent-decoded); -i folds ASCII letters only, as C's tolower().

import assert from 'node:assert/strict'
import { test } from 'node:test'

import { crc32 as zlibCrc32 } from 'node:zlib'

import fc from 'fast-check'

import { compileProxy } from '../../lib/acl/compile.js'
import { txnFromParts } from '../../lib/acl/make-txn.js'
import { crc32 } from '../../lib/acl/hashes.js'
import { MATCHERS } from '../../lib/acl/matchers.js'
import { parseConfig } from '../../lib/config/parse.js'

/** Strings over a small alphabet with delimiters, so that patterns and samples often meet. */
const word = fc.string({ unit: fc.constantFrom('a', 'b', 'A', '.', '/', ':', '?', '%', '2', '0'), maxLength: 10 })
const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 })

/** HAProxy's match_word (pat_match_dir / pat_match_dom), transcribed. */
function matchWord (s: string, pattern: string, delims: string): boolean {
  let ps = pattern
  while (ps.length > 0 && delims.includes(ps[0])) ps = ps.slice(1)
  while (ps.length > 0 && delims.includes(ps[ps.length - 1])) ps = ps.slice(0, -1)
  if (ps.length === 0 || ps.length > s.length) return false
  let mayMatch = true
  for (let c = 0; c <= s.length - ps.length; c++) {
    if (delims.includes(s[c])) { mayMatch = true; continue }
    if (!mayMatch) continue
    if (s.startsWith(ps, c) && (c === s.length - ps.length || delims.includes(s[c + ps.length]))) return true
    mayMatch = false
  }
  return false
}

test('indexed str/beg/end/sub/dir/dom pick the pattern HAProxy picks', () => {
  fc.assert(fc.property(fc.array(word, { minLength: 1, maxLength: 40 }), word, fc.boolean(), (patterns, sample, icase) => {
    const fold = (x: string): string => icase ? x.replace(/[A-Z]/g, (c) => c.toLowerCase()) : x
    const s = fold(sample)
    const ps = patterns.map(fold)
    const first = (pred: (p: string) => boolean): number => ps.findIndex(pred)
    const longest = (pred: (p: string) => boolean): number => {
      let best = -1
      ps.forEach((p, i) => { if (pred(p) && (best === -1 || p.length > ps[best].length)) best = i })
      return best
    }
    const find = (m: string): number => MATCHERS.get(m)!.build(patterns, icase).find(sample)
    assert.equal(find('str'), first((p) => p === s))
    assert.equal(find('beg'), longest((p) => s.startsWith(p)))
    assert.equal(find('end'), first((p) => s.endsWith(p)))
    assert.equal(find('sub'), first((p) => s.includes(p)))
    assert.equal(find('dir'), first((p) => matchWord(s, p, '/?')))
    assert.equal(find('dom'), first((p) => matchWord(s, p, '/?.:')))
  }), { numRuns: 3000 })
})

test('ip: the most specific network wins; IPv4-mapped IPv6 samples match IPv4 networks', () => {
  const octet = fc.integer({ min: 0, max: 255 })
  fc.assert(fc.property(fc.array(fc.tuple(octet, fc.integer({ min: 0, max: 32 })), { minLength: 1, maxLength: 8 }), fc.tuple(octet, octet, octet, octet), (nets, [a, b, c, d]) => {
    const patterns = nets.map(([o, bits]) => `${o}.0.0.0/${bits}`)
    const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d
    let best = -1
    nets.forEach(([o, bits], i) => {
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
      if (((n & mask) >>> 0) === (((o << 24) >>> 0) & mask) >>> 0 && (best === -1 || bits > nets[best][1])) best = i
    })
    const m = MATCHERS.get('ip')!.build(patterns, false)
    assert.equal(m.find(`${a}.${b}.${c}.${d}`), best)
    assert.equal(m.find(`::ffff:${a}.${b}.${c}.${d}`), best)
  }), { numRuns: 2000 })
})

const config = parseConfig(`defaults
  mode http
frontend fe
  bind :8080
  acl p path_beg /a%2F
  acl e path_end -i .PnG
  acl d hdr_dom(host) -i example.com
  acl r path_reg ^/x/(.*)$
  acl q url_param(q) -m sub %20
  acl c cook(s) -m beg x
  acl n hdr_cnt(x) gt 1
  acl v hdr_val(x) ge 3
  acl i req.hdr(x) -m ip 10.0.0.0/8
  acl l path_len 1:4
  acl m method GET
  acl u url,url_dec -m sub ..
  http-request set-header x-out "%[path]|%[query]|%[req.hdr(x),lower,base64]|%[url_param(q),url_dec]"
  http-request return status 200 content-type text/plain string p if p
  http-request return status 200 content-type text/plain string e if e || d || r || q || c
  http-request return status 200 content-type text/plain string n if n v i l !m u
  use_backend %[req.hdr(host),lower,field(1,:)] if { hdr(host) -m found }
  default_backend be
backend be
`, { filename: '/properties.cfg' })
const fe = compileProxy(config.proxies[0], config)

test('arbitrary request bytes never make matching or rules throw', () => {
  const path = latin1.map((s) => '/' + s.replace(/\?/g, ''))
  fc.assert(fc.property(path, fc.option(latin1), fc.dictionary(fc.constantFrom('host', 'x', 'cookie', 'y'), latin1), latin1, (p, q, headers, method) => {
    const txn = txnFromParts({ method, url: q === null ? p : `${p}?${q}`, headers })
    fe.requestRules(txn)
    fe.switching(txn)
  }), { numRuns: 3000 })
})

test('paths are matched raw: percent-encoding is never decoded', () => {
  const pct = fc.string({ unit: fc.constantFrom('a', '/', '%2F', '%2f', '%41', 'A'), maxLength: 8 })
  fc.assert(fc.property(pct, (rest) => {
    const path = '/a' + rest
    const d = fe.requestRules(txnFromParts({ url: path }))
    const matchedP = d !== null && d.kind === 'reply' && d.body === 'p'
    assert.equal(matchedP, path.startsWith('/a%2F'))
  }), { numRuns: 500 })
})

test('url_param values are not decoded unless a converter says so', () => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', '%20', ' ', '+', '%2'), maxLength: 6 }), (value) => {
    const d = fe.requestRules(txnFromParts({ url: `/z?q=${value}` }))
    const hit = d !== null && d.kind === 'reply' && d.body === 'e'
    assert.equal(hit, value.includes('%20'))
  }), { numRuns: 500 })
})

test('-i folds ASCII letters only', () => {
  const m = MATCHERS.get('str')!.build(['ÀBC'], true)
  assert.equal(m.find('Àbc'), 0)
  assert.equal(m.find('àbc'), -1)
  fc.assert(fc.property(latin1, latin1, (a, b) => {
    const fold = (x: string): string => x.replace(/[A-Z]/g, (c) => c.toLowerCase())
    assert.equal(MATCHERS.get('str')!.build([a], true).find(b) === 0, fold(a) === fold(b))
  }), { numRuns: 2000 })
})

test('crc32 is the standard CRC-32 of the sample bytes', () => {
  fc.assert(fc.property(latin1, (s) => crc32(s) === zlibCrc32(Buffer.from(s, 'latin1'))), { numRuns: 500 })
})
