// HAProxy's message shapes and its "did you mean" (src/cfgparse.c cfg_find_best_match).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bestMatch, didYouMean, formatDiagnostic } from '../../lib/config/diagnostics.js'

test('formatDiagnostic: located alert, warning, notice and an unlocated message', () => {
  assert.equal(formatDiagnostic({ level: 'alert', message: "unknown keyword 'foo' in 'backend' section", loc: { file: 'h.cfg', line: 12 } }, 42),
    "[ALERT]    (42) : config : parsing [h.cfg:12] : unknown keyword 'foo' in 'backend' section")
  assert.equal(formatDiagnostic({ level: 'warning', message: 'w', loc: { file: 'h.cfg', line: 1 } }, 1), '[WARNING]  (1) : config : parsing [h.cfg:1] : w')
  assert.equal(formatDiagnostic({ level: 'notice', message: 'n' }, 7), '[NOTICE]   (7) : config : n')
})

test('bestMatch finds what HAProxy suggests, and nothing for unrelated words', () => {
  assert.equal(bestMatch('chek', ['check', 'backup', 'weight']), 'check')
  assert.equal(bestMatch('server-pool', ['server', 'balance', 'bind']), 'server')
  assert.equal(bestMatch('independant-streams', ['independent-streams', 'httpclose']), 'independent-streams')
  assert.equal(bestMatch('frobnicate', ['bind', 'server', 'mode', 'acl']), null)
  assert.equal(didYouMean('chek', ['check']), "; did you mean 'check' maybe ?")
  assert.equal(didYouMean('zzzzzzzz', ['check']), '')
})
