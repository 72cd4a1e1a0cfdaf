// The tables behind the engine: fetch, converter, match-method and ACL-keyword rows are
// consistent with each other (every derived keyword names a real fetch and method, no name is
// both evaluated and listed as unsupported).

import assert from 'node:assert/strict'
import { test } from 'node:test'

import { CONVERTERS } from '../../lib/acl/converters.js'
import { ACL_KEYWORDS, FETCHES } from '../../lib/acl/fetches.js'
import { MATCHERS } from '../../lib/acl/matchers.js'
import { UNSUPPORTED_FETCHES } from '../../lib/acl/unsupported-fetches.js'

test('every ACL keyword is a fetch crossed with a match method', () => {
  for (const [name, kw] of ACL_KEYWORDS) {
    assert.ok(FETCHES.has(kw.fetch), `${name}: fetch ${kw.fetch}`)
    assert.ok(MATCHERS.has(kw.match) || kw.match === 'group', `${name}: match ${kw.match}`)
  }
  assert.deepEqual(ACL_KEYWORDS.get('path_beg'), { fetch: 'path', match: 'beg' })
  assert.deepEqual(ACL_KEYWORDS.get('hdr_dom'), { fetch: 'req.hdr', match: 'dom' })
})

test('rows are keyed by their own name and mandatory arguments fit the argument list', () => {
  for (const [name, row] of FETCHES) {
    assert.equal(row.name, name)
    assert.ok(row.minArgs <= row.args.length, name)
  }
  for (const [name, row] of CONVERTERS) {
    assert.equal(row.name, name)
    assert.ok(row.minArgs <= row.args.length, name)
  }
  for (const [name, row] of MATCHERS) assert.equal(row.name, name)
})

test('no fetch is both evaluated and listed as unsupported', () => {
  for (const name of UNSUPPORTED_FETCHES.keys()) assert.ok(!FETCHES.has(name), name)
})

test('the issue\'s fetches, converters and match methods are all present', () => {
  for (const f of ['path', 'base', 'url', 'query', 'url_param', 'urlp', 'method', 'req.hdr', 'hdr', 'req.fhdr', 'hdr_cnt', 'req.cook', 'cook', 'src', 'src_port', 'dst', 'dst_port', 'ssl_fc', 'req.ver', 'http_auth', 'http_auth_group', 'var']) {
    assert.ok(FETCHES.has(f), f)
  }
  for (const c of ['lower', 'upper', 'map', 'map_str', 'map_beg', 'map_end', 'map_sub', 'map_dir', 'map_dom', 'map_reg', 'map_int', 'map_ip', 'host_only', 'field', 'word', 'regsub', 'base64', 'json', 'url_dec']) {
    assert.ok(CONVERTERS.has(c), c)
  }
  for (const m of ['str', 'beg', 'end', 'sub', 'dir', 'dom', 'reg', 'len', 'int', 'ip', 'found', 'bool']) assert.ok(MATCHERS.has(m), m)
})
