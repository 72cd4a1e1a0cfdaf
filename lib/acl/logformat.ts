// Log-format strings where HAProxy allows them in rules: header values, paths, redirect
// locations, `lf-string` bodies, dynamic `use_backend` names (configuration.txt §8.2.4).
// `%[expr]` inserts a sample expression, `%ci`-style aliases insert request facts, `%%` a
// percent sign, `%{+Q}` options quote. A missing sample inserts nothing (observed in
// `http-request return lf-string` and header values of HAProxy 2.6.12).

import { hostname } from 'node:os'

import type { CompileEnv } from './env.js'
import { compileExpr, missing, parseExpr, sideError } from './expr.js'
import { ExprError, toStr, type Sample, type SampleFn, type Side } from './sample.js'
import type { HttpResponseView, HttpTxn } from './txn.js'

export type Format = (txn: HttpTxn, res: HttpResponseView | null) => string

const httpVersion = (t: HttpTxn): string => `HTTP/${t.version}`
const uri = (t: HttpTxn): string => t.query === null ? t.path : `${t.path}?${t.query}`

const HOSTNAME = hostname()

/** §8.2.4 "Custom log format" aliases that mean something before the response. */
const ALIASES: ReadonlyMap<string, SampleFn> = new Map<string, SampleFn>([
  ['ci', (t) => t.src],
  ['cp', (t) => t.srcPort],
  ['fi', (t) => t.dst],
  ['fp', (t) => t.dstPort],
  ['f', (t) => t.frontend],
  ['ft', (t) => t.ssl ? `${t.frontend}~` : t.frontend],
  ['b', (t) => t.backend === '' ? '-' : t.backend],
  ['s', () => '-'],
  ['H', () => HOSTNAME],
  ['ST', (_t, r) => r === null ? null : r.status],
  ['HM', (t) => t.method],
  ['HU', uri],
  ['HP', (t) => t.path],
  ['HQ', (t) => t.query === null ? '' : `?${t.query}`],
  ['HV', httpVersion],
  ['r', (t) => `${t.method} ${uri(t)} ${httpVersion(t)}`],
  ['pid', () => process.pid],
  ['Ts', () => Math.floor(Date.now() / 1000)]
])

/** A variable as a log line reads it: `undefined` means "nothing to show here" (no separator either). */
export type FormatFn = (txn: HttpTxn, res: HttpResponseView | null) => Sample | null | undefined

const NOTHING: FormatFn = () => undefined

/** `%{+Q,-X}` flags: undefined = as `%o` set them (§8.2.6). */
export interface FormatFlags {
  Q?: boolean
  X?: boolean
  E?: boolean
}

export interface FormatVar {
  /** The alias (`ci`, `HPO` …), or '' for a `%[sample]` expression. */
  name: string
  fn: FormatFn
  flags: FormatFlags
}

/** A parsed log-format string: literal text and variables, in order. */
export type FormatNode = string | FormatVar

/**
 * Parses a log-format string evaluated on `side` (fetches of the other side are refused).
 * `aliases` are the `%xx` variables known there (log lines know more than rules do).
 */
export function parseFormat (text: string, env: CompileEnv, side: Side, aliases: ReadonlyMap<string, FormatFn> = ALIASES): FormatNode[] {
  const nodes: FormatNode[] = []
  let lit = ''
  let i = 0
  let global: FormatFlags = {}
  while (i < text.length) {
    const c = text[i]
    if (c !== '%') { lit += c; i++; continue }
    if (text[i + 1] === '%') { lit += '%'; i += 2; continue }
    i++
    let flags: FormatFlags = global
    if (text[i] === '{') {
      const close = text.indexOf('}', i)
      if (close === -1) throw new ExprError(`missing '}' after '%{${text.slice(i + 1)}'`)
      flags = { ...global }
      for (const f of text.slice(i + 1, close).split(',')) {
        const on = f[0] === '+'
        const name = f.slice(1)
        if (name === 'Q' || name === 'X' || name === 'E') flags[name] = on
      }
      i = close + 1
    }
    let fn: FormatFn
    let name = ''
    if (text[i] === '[') {
      let parsed
      try {
        parsed = parseExpr(text, i + 1, ']')
      } catch (err) {
        throw new ExprError(`failed to parse sample expression <${text.slice(i + 1)}> : ${(err as Error).message}`)
      }
      if (text[parsed.end] !== ']') throw new ExprError(`missing ']' after '${text.slice(i + 1)}'`)
      let expr
      try {
        expr = compileExpr(parsed, env)
      } catch (err) {
        throw new ExprError(`failed to parse sample expression <${text.slice(i + 1)}> : ${(err as Error).message}`)
      }
      const lacking = missing(expr, side, env.proxy)
      if (lacking !== null) throw sideError(text.slice(i + 1), lacking)
      fn = expr.one
      i = parsed.end + 1
    } else {
      const m = /^[A-Za-z]+/.exec(text.slice(i))
      name = m === null ? '' : m[0]
      if (name === 'o') {
        // `%o` shows nothing (nor the space after it): it carries its flags to the variables after it
        global = flags
        i += 1
        if (lit !== '') { nodes.push(lit); lit = '' }
        nodes.push({ name, fn: NOTHING, flags })
        continue
      }
      const alias = aliases.get(name)
      if (alias === undefined) {
        throw new ExprError(`no such format variable '${name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'`)
      }
      fn = alias
      i += name.length
    }
    if (lit !== '') { nodes.push(lit); lit = '' }
    nodes.push({ name, fn, flags })
  }
  if (lit !== '') nodes.push(lit)
  return nodes
}

export interface CompiledFormat {
  format: Format
  /** The string has no `%` part: `format` returns this constant. */
  constant: string | null
}

/** Compiles a log-format string of a rule, evaluated on `side`: a missing sample inserts nothing. */
export function compileFormat (text: string, env: CompileEnv, side: Side): CompiledFormat {
  const parts: Array<string | SampleFn> = parseFormat(text, env, side).map((node) => {
    if (typeof node === 'string') return node
    const inner = node.fn
    if (node.flags.Q !== true) return (t, r) => inner(t, r) ?? null
    return (t, r) => { const v = inner(t, r); return v === null || v === undefined ? null : `"${toStr(v)}"` }
  })
  if (parts.every((p) => typeof p === 'string')) {
    const s = parts.join('')
    return { format: () => s, constant: s }
  }
  if (parts.length === 1) {
    const only = parts[0] as SampleFn
    return { format: (t, r) => { const v = only(t, r); return v === null ? '' : toStr(v) }, constant: null }
  }
  return {
    format: (t, r) => {
      let out = ''
      for (let k = 0; k < parts.length; k++) {
        const p = parts[k]
        if (typeof p === 'string') out += p
        else {
          const v = p(t, r)
          if (v !== null) out += toStr(v)
        }
      }
      return out
    },
    constant: null
  }
}
