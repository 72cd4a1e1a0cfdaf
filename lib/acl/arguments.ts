// Arguments of fetches and converters: `name(arg1,arg2)` (configuration.txt §7.3; HAProxy
// make_arg_list). Arguments are split at commas outside quotes, unquoted, then typed by the
// row's argument kinds; messages are HAProxy's.

import type { CompileEnv } from './env.js'
import { compileRegex } from './matchers.js'
import { ExprError } from './sample.js'

export type ArgKind = 'str' | 'int' | 'userlist' | 'var' | 'reg' | 'file'

export type ArgValue = string | number | RegExp

const KIND_NAMES: Record<ArgKind, string> = {
  str: 'string', int: 'integer', userlist: 'user list', var: 'variable', reg: 'regex', file: 'string'
}

/** Variable scopes of `set-var(<scope>.<name>)` and `var()` (§2.8). */
const VAR_NAME = /^(proc|sess|txn|req|res|check)\.[A-Za-z0-9._-]+$/

export function checkVarName (name: string): void {
  if (!VAR_NAME.test(name)) {
    throw new ExprError(`invalid variable name '${name}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'`)
  }
}

export interface RawArg {
  text: string
  /** Where this argument starts in the source: the text from there on, for messages. */
  rest: string
}

/**
 * Splits the text between the parentheses (with the closing one and what follows in `tail`).
 * Outside quotes a backslash only escapes a quote, a comma, ')' or itself, inside quotes a quote
 * or itself: `regsub(x,<\1>)` keeps its back-reference, as with HAProxy 2.6.
 */
export function splitArgs (inner: string, tail: string): RawArg[] {
  const out: RawArg[] = []
  if (inner === '') return out
  let cur = ''
  let start = 0
  let quote = 0
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charCodeAt(i)
    if (quote !== 0) {
      if (c === quote) quote = 0
      // inside quotes too, a backslash only escapes a quote or itself: `'$.my\.key'` keeps it (json_query)
      else if (c === 92 && i + 1 < inner.length && `"'\\`.includes(inner[i + 1])) cur += inner[++i]
      else cur += inner[i]
    } else if (c === 34 || c === 39) quote = c
    else if (c === 92 && i + 1 < inner.length && `"',)\\`.includes(inner[i + 1])) cur += inner[++i]
    else if (c === 44) {
      out.push({ text: cur, rest: inner.slice(start) + tail })
      cur = ''
      start = i + 1
    } else cur += inner[i]
  }
  out.push({ text: cur, rest: inner.slice(start) + tail })
  return out
}

/** Types raw arguments against a row's kinds; `minArgs` of them are mandatory. */
export function bindArgs (raw: RawArg[], kinds: readonly ArgKind[], minArgs: number, env: CompileEnv): ArgValue[] {
  if (raw.length > kinds.length) {
    const extra = kinds.length === 0 ? raw[0] : raw[kinds.length]
    const rest = kinds.length === 0 ? extra.rest : ',' + extra.rest
    throw new ExprError(`expected ')' before '${rest}'`)
  }
  if (raw.length < minArgs) {
    throw new ExprError(`missing arguments (got ${raw.length}/${minArgs}), type '${KIND_NAMES[kinds[raw.length]]}' expected`)
  }
  return raw.map((a, i) => {
    const kind = kinds[i]
    switch (kind) {
      case 'int':
        if (a.text === '') throw new ExprError(`expected type 'integer' at position ${i + 1}, but got nothing`)
        if (!/^[-+]?\d+$/.test(a.text)) throw new ExprError(`failed to parse '${a.text}' as type 'integer' at position ${i + 1}`)
        return Number(a.text)
      case 'userlist':
        if (a.text === '') throw new ExprError(`missing userlist name in arg ${i + 1}`)
        if (env.userlist(a.text) === undefined) throw new ExprError(`unable to find userlist '${a.text}' referenced in arg ${i + 1}`)
        return a.text
      case 'var':
        // an optional variable may be left empty (`concat(x,,)`); a mandatory one may not
        if (a.text === '') {
          if (i >= minArgs) return ''
          throw new ExprError('Empty variable name cannot be accepted')
        }
        checkVarName(a.text)
        return a.text
      case 'reg':
        return compileRegex(a.text, false)
      default:
        return a.text
    }
  })
}
