// Variables (configuration.txt §4.2 "set-var", §7.3.2 "var"): a name's scope decides where its
// value lives and how long. `proc.` is the process's (shared by every gateway of the Node
// process, set by `set-var` in `global` and by the runtime API), `sess.` the client connection's
// (every request of a keep-alive connection sees it), `txn.`, `req.`, `res.` and `check.` the
// transaction's. A `proc.` name the configuration sets exists from the start, without a value.

import type { HttpTxn } from './txn.js'
import type { Sample } from './sample.js'
import { ExprError } from './sample.js'

/** A `proc.` variable the configuration declared and nothing set yet (or `unset-var` emptied). */
const UNSET = Symbol('fastify-haproxy.var.unset')
type Slot = Sample | typeof UNSET

const proc = new Map<string, Slot>()
const sessions = new WeakMap<object, Map<string, Sample>>()

/** The session's variables: those of the client connection, else (a transaction of its own) the transaction's. */
function sessionOf (t: HttpTxn, create: boolean): Map<string, Sample> | null {
  const conn = t.session
  if (conn === undefined) return create ? (t.vars ??= new Map()) : t.vars
  let m = sessions.get(conn)
  if (m === undefined && create) sessions.set(conn, m = new Map())
  return m ?? null
}

/** One variable, its scope resolved once (at compile time). */
export interface VarRef {
  readonly name: string
  get (t: HttpTxn): Sample | undefined
  /** Created before: set once, or a `proc.` name of the configuration. */
  exists (t: HttpTxn): boolean
  set (t: HttpTxn, v: Sample): void
  unset (t: HttpTxn): void
}

const procRef = (name: string): VarRef => ({
  name,
  get: () => { const v = proc.get(name); return v === UNSET ? undefined : v },
  exists: () => proc.has(name),
  set: (_t, v) => { proc.set(name, v) },
  unset: () => { if (proc.has(name)) proc.set(name, UNSET) }
})

const sessRef = (name: string): VarRef => ({
  name,
  get: (t) => sessionOf(t, false)?.get(name),
  exists: (t) => sessionOf(t, false)?.has(name) === true,
  set: (t, v) => { sessionOf(t, true)!.set(name, v) },
  unset: (t) => { sessionOf(t, false)?.delete(name) }
})

const txnRef = (name: string): VarRef => ({
  name,
  get: (t) => t.vars?.get(name),
  exists: (t) => t.vars?.has(name) === true,
  set: (t, v) => { (t.vars ??= new Map()).set(name, v) },
  unset: (t) => { t.vars?.delete(name) }
})

/**
 * The variable `name` (already checked by checkVarName). `declare`: a rule sets it, so a `proc.`
 * one exists from now on, as HAProxy creates them while reading the configuration.
 */
export function varRef (name: string, declare = false): VarRef {
  if (name.startsWith('proc.')) {
    if (declare && !proc.has(name)) proc.set(name, UNSET)
    return procRef(name)
  }
  return name.startsWith('sess.') ? sessRef(name) : txnRef(name)
}

/** The process's variables, for the runtime API (`get var`, `set var`). */
export function procVar (name: string): Sample | undefined {
  const v = proc.get(name)
  return v === UNSET ? undefined : v
}

export function setProcVar (name: string, v: Sample): void {
  proc.set(name, v)
}

/** `set-var(name,<cond>…)` conditions (§4.2): all must hold for the variable to be set. */
type VarCondition = (ref: VarRef, t: HttpTxn, v: Sample) => boolean

const scalar = (v: Sample): boolean => typeof v !== 'string'
const int = (v: Sample | undefined): v is number => typeof v === 'number'

const CONDITIONS: Record<string, VarCondition> = {
  ifexists: (ref, t) => ref.exists(t),
  ifnotexists: (ref, t) => !ref.exists(t),
  // scalar types are never empty
  ifempty: (_ref, _t, v) => !scalar(v) && v === '',
  ifnotempty: (_ref, _t, v) => scalar(v) || v !== '',
  ifset: (ref, t) => ref.get(t) !== undefined,
  ifnotset: (ref, t) => ref.get(t) === undefined,
  // compared only when both are integers; true otherwise
  ifgt: (ref, t, v) => { const cur = ref.get(t); return !int(cur) || !int(v) || cur > v },
  iflt: (ref, t, v) => { const cur = ref.get(t); return !int(cur) || !int(v) || cur < v }
}

/** Compiles the conditions of `set-var(name,cond…)`, null when there are none. */
export function varConditions (words: readonly string[]): ((ref: VarRef, t: HttpTxn, v: Sample) => boolean) | null {
  if (words.length === 0) return null
  const tests = words.map((w) => {
    const c = CONDITIONS[w]
    if (c === undefined) throw new ExprError(`unknown condition "${w}"`)
    return c
  })
  return (ref, t, v) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(ref, t, v)) return false
    return true
  }
}
