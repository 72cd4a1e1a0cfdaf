// Stick-counter actions (configuration.txt §4.2 "track-sc0", "sc-inc-gpc0", "sc-set-gpt0"):
// `track-sc0/1/2 <key> [table <t>]` makes the stream track a key's entry in a stick table;
// `sc-inc-gpc0/1(<n>)` and `sc-set-gpt0(<n>)` change the entry counter n tracks. What tracking
// counts, as observed on HAProxy 2.6.12: a connection (conn_cnt, conn_rate, and conn_cur while
// tracked); from `http-request` (and an HTTP proxy's `tcp-request content`) also the request;
// a session once the connection rules accepted it (lib/acl/stick-counters.ts startSession).

import type { CompileEnv } from './env.js'
import { compileExpr, parseExpr } from './expr.js'
import { ExprError, toInt } from './sample.js'
import { MAX_COUNTERS, tableNamed } from './stick-counters.js'
import type { HttpTxn } from './txn.js'
import { tableKey } from '../runtime/stick-table.js'

/** Where a `track-sc` runs: what the tracking counts besides the connection. */
export type TrackLevel = 'session' | 'content' | 'request'

/**
 * `track-sc<n> <key> [table <t>]`: the first tracking of counter n in the stream wins. The
 * returned closure never decides (null): the rule list goes on.
 */
function compileTrack (n: number, args: string[], env: CompileEnv, level: TrackLevel): (txn: HttpTxn) => null {
  if (args.length === 0 || args[0] === '') throw new ExprError('missing fetch method')
  if (args[1] !== undefined && args[1] !== 'table') throw new ExprError(`expects 'table' but got '${args[1]}'`)
  if (args[1] === 'table' && (args[2] === undefined || args[2] === '')) throw new ExprError('missing table name')
  const table = tableNamed(env, args[2], `track-sc${n}`)
  const key = compileExpr(parseExpr(args[0]!), env)
  return (txn) => {
    const slots = txn.tracked ??= []
    if (slots[n] !== undefined) return null
    const v = key.one(txn, null)
    if (v === null) return null
    const k = tableKey(table.spec, v)
    const entry = k === null ? undefined : table.obtain(k)
    if (entry === undefined) return null
    slots[n] = { table, entry }
    const now = table.now()
    entry.use++
    entry.add('conn_cnt', 'conn_rate', 1, now)
    entry.add('conn_cur', null, 1, now)
    if (level === 'request') entry.add('http_req_cnt', 'http_req_rate', 1, now)
    table.touch(entry)
    return null
  }
}

/**
 * A stick-counter action of a rule (`track-sc<n>`, `sc-inc-gpc0/1(<n>)`, `sc-set-gpt0(<n>)`),
 * or null when `action` is none of them.
 */
export function compileStickAction (action: string, args: string[], env: CompileEnv, level: TrackLevel): ((txn: HttpTxn) => null) | null {
  const track = /^track-sc(\d+)$/.exec(action)
  if (track !== null) return compileTrack(Number(track[1]), args, env, level)
  return compileCounterAction(action, args, env)
}

/** `sc-inc-gpc0(<n>)`, `sc-inc-gpc1(<n>)`, `sc-set-gpt0(<n>) <int|expr>`; null when `action` is none of them. */
function compileCounterAction (action: string, args: string[], env: CompileEnv): ((txn: HttpTxn) => null) | null {
  const m = /^sc-(inc-gpc[01]|set-gpt0)\((\d+)\)$/.exec(action)
  if (m === null) return null
  const n = Number(m[2])
  if (n >= MAX_COUNTERS) throw new ExprError(`invalid stick table track ID '${m[2]}'. The max allowed ID is ${MAX_COUNTERS - 1}`)
  if (m[1] === 'set-gpt0') {
    if (args.length === 0) throw new ExprError('expects an integer or a sample expression')
    const value = /^[-+]?\d+$/.test(args[0]!) ? Number(args[0]) : compileExpr(parseExpr(args[0]!), env).one
    return (txn) => {
      const t = txn.tracked?.[n]
      if (t === undefined) return null
      const v = typeof value === 'number' ? value : value(txn, null)
      const i = v === null ? null : toInt(v)
      if (i !== null && t.entry.set('gpt0', i)) t.table.touch(t.entry)
      return null
    }
  }
  const gpc = m[1] === 'inc-gpc0' ? 'gpc0' : 'gpc1'
  return (txn) => {
    const t = txn.tracked?.[n]
    if (t !== undefined) {
      t.entry.add(gpc, `${gpc}_rate`, 1, t.table.now())
      t.table.touch(t.entry)
    }
    return null
  }
}
