// Sample expressions `fetch(args),conv(args),...` (configuration.txt §7.3; HAProxy
// sample_parse): parsed once, compiled into closures. An expression gives one value (`one`,
// sample context) and, when its fetch is multi-valued, every value with the converters applied
// to each (`each`, ACL context).

import { bindArgs, splitArgs, type RawArg } from './arguments.js'
import { CONVERTERS, type ConvertFn } from './converters.js'
import type { Proxy } from '../config/model.js'
import type { CompileEnv } from './env.js'
import { fetchRow, type FetchRow } from './fetches.js'
import { ExprError, type EachFn, type SampleFn, type SampleType, type Side } from './sample.js'
import { UNSUPPORTED_CONVERTERS } from './unsupported-fetches.js'

export interface Call {
  name: string
  /** null when written without parentheses. */
  args: RawArg[] | null
}

export interface ParsedExpr {
  fetch: Call
  convs: Call[]
  /** Index in the source just after the expression. */
  end: number
}

export interface CompiledExpr {
  type: SampleType
  one: SampleFn
  each: EachFn | null
  /** The message the fetch reads, when it cannot be used on both sides. */
  needs: Side | null
  /** The fetch reads the stream's backend. */
  backend: boolean
  /** The fetch name as written, for messages. */
  keyword: string
}

/**
 * Reads `name` or `name(args)` at `pos`; `stop` is the character that ends the expression. As
 * in HAProxy, the first ')' outside quotes and not escaped ends the arguments: a regex with
 * groups must be quoted (`regsub('^/(a+)',x)`).
 */
function readCall (src: string, pos: number, stop: string): { call: Call, pos: number } {
  let i = pos
  while (i < src.length && src[i] !== '(' && src[i] !== ',' && src[i] !== stop) i++
  const name = src.slice(pos, i)
  if (src[i] !== '(') return { call: { name, args: null }, pos: i }
  let j = i + 1
  let quote = ''
  for (; j < src.length; j++) {
    const c = src[j]
    if (quote !== '') {
      if (c === '\\') j++
      else if (c === quote) quote = ''
    } else if (c === '"' || c === "'") quote = c
    else if (c === '\\') j++
    else if (c === ')') break
  }
  if (j >= src.length) throw new ExprError("expected ')'")
  return { call: { name, args: splitArgs(src.slice(i + 1, j), src.slice(j)) }, pos: j + 1 }
}

/** Parses the expression starting at `pos`; stops at the end of `src` or at `stop` (']' in log-format). */
export function parseExpr (src: string, pos = 0, stop = ''): ParsedExpr {
  const first = readCall(src, pos, stop)
  if (first.call.name === '') throw new ExprError('missing fetch method')
  let i = first.pos
  const convs: Call[] = []
  if (i < src.length && src[i] !== ',' && src[i] !== stop) throw new ExprError('missing comma after fetch keyword.')
  while (i < src.length && src[i] === ',') {
    const next = readCall(src, i + 1, stop)
    i = next.pos
    if (next.call.name === '') break
    convs.push(next.call)
    if (i < src.length && src[i] !== ',' && src[i] !== stop) throw new ExprError(`missing comma after converter '${next.call.name}'.`)
  }
  return { fetch: first.call, convs, end: i }
}

/**
 * Compiles a parsed expression whose fetch row has been chosen (ACL keywords pick their own).
 * `aclKeyword` words errors as HAProxy does for ACL keywords ("ACL keyword 'path' : ...").
 */
export function compileChain (row: FetchRow, fetch: Call, convs: Call[], env: CompileEnv, aclKeyword = false): CompiledExpr {
  const where = aclKeyword ? `ACL keyword '${fetch.name}'` : `fetch method '${fetch.name}'`
  let args
  try {
    args = bindArgs(fetch.args ?? [], row.args, row.minArgs, env)
  } catch (err) {
    throw new ExprError(`${where} : ${(err as Error).message}`)
  }
  const compiled = row.compile(args, env)
  let type = row.type
  const fns: ConvertFn[] = []
  for (const c of convs) {
    const conv = CONVERTERS.get(c.name)
    if (conv === undefined) {
      throw new ExprError(UNSUPPORTED_CONVERTERS.has(c.name) ? `converter '${c.name}' is not supported by fastify-haproxy` : `unknown converter '${c.name}'`)
    }
    try {
      fns.push(conv.compile(bindArgs(c.args ?? [], conv.args, conv.minArgs, env), env))
    } catch (err) {
      const msg = `invalid args in converter '${c.name}' : ${(err as Error).message}`
      throw new ExprError(aclKeyword ? `${where} : ${msg}.` : msg)
    }
    type = conv.out
  }
  const needs = row.needs ?? null
  const backend = row.backend === true
  const keyword = fetch.name
  if (fns.length === 0) return { type, one: compiled.one, each: compiled.each ?? null, needs, backend, keyword }
  const convert: ConvertFn = fns.length === 1
    ? fns[0]
    : (v, t) => {
        let x: ReturnType<ConvertFn> = v
        for (let i = 0; i < fns.length && x !== null; i++) x = fns[i](x, t)
        return x
      }
  const one: SampleFn = (t, r) => {
    const v = compiled.one(t, r)
    return v === null ? null : convert(v, t)
  }
  const inner = compiled.each
  const each: EachFn | null = inner === undefined
    ? null
    : (t, r, test) => inner(t, r, (v) => { const x = convert(v, t); return x !== null && test(x) })
  return { type, one, each, needs, backend, keyword }
}

/** Compiles a whole expression in sample context (log-format, use_backend, set-var). */
export function compileExpr (parsed: ParsedExpr, env: CompileEnv): CompiledExpr {
  const row = fetchRow(parsed.fetch.name, env)
  if (row === undefined) throw new ExprError(`unknown fetch method '${parsed.fetch.name}'`)
  return compileChain(row, parsed.fetch, parsed.convs, env)
}

/**
 * What an expression reads that rules on `side` of `proxy` do not have, in HAProxy's words
 * ('HTTP response', 'HTTP request headers', 'backend'), or null when it can be used there.
 */
export function missing (e: { needs: Side | null, backend: boolean }, side: Side, proxy: Proxy): string | null {
  if (e.needs !== null && e.needs !== side) return e.needs === 'response' ? 'HTTP response' : 'HTTP request headers'
  if (e.backend && side === 'request' && proxy.kind === 'frontend') return 'backend'
  return null
}

/** HAProxy's words for an expression used where what it reads is not available. */
export function sideError (text: string, what: string): ExprError {
  return new ExprError(`sample fetch <${text}> may not be reliably used here because it needs '${what}' which is not available here`)
}
