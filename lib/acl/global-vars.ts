// `set-var proc.<name> <expr>` and `set-var-fmt proc.<name> <fmt>` in the global section
// (configuration.txt §3.1): evaluated once, in order, when a configuration starts (at every
// reload too, as a new HAProxy process would), outside any request: a fetch that reads one
// has no value there.

import type { Diagnostic, Loc, ParsedConfig } from '../config/model.js'
import { freshProxy } from '../config/parse.js'
import type { CompileEnv } from './env.js'
import { compileExpr, parseExpr } from './expr.js'
import { compileFormat } from './logformat.js'
import { txnFromParts } from './make-txn.js'
import { FileCache } from './maps.js'
import type { Sample } from './sample.js'
import type { HttpTxn } from './txn.js'
import { varRef } from './vars.js'

type Step = (t: HttpTxn) => void

/** An environment outside any proxy, for expressions of the global section and the runtime API. */
function globalEnv (config: ParsedConfig, loc: Loc): CompileEnv {
  return { config, proxy: freshProxy('frontend', 'GLOBAL', loc), files: new FileCache(), userlist: () => undefined, warn: () => {} }
}

function compileGlobalVars (config: ParsedConfig): { steps: Step[], diagnostics: Diagnostic[] } {
  const steps: Step[] = []
  const diagnostics: Diagnostic[] = []
  const lines = config.global.setVars ?? []
  if (lines.length === 0) return { steps, diagnostics }
  const env = globalEnv(config, lines[0]!.loc)
  for (const line of lines) {
    const ref = varRef(line.name, true)
    try {
      if (line.fmt) {
        const f = compileFormat(line.text, env, 'request').format
        steps.push((t) => { ref.set(t, f(t, null)) })
      } else {
        const expr = compileExpr(parseExpr(line.text), env)
        steps.push((t) => { const v: Sample | null = expr.one(t, null); if (v !== null) ref.set(t, v) })
      }
    } catch (err) {
      diagnostics.push({ level: 'alert', message: (err as Error).message, loc: line.loc, keyword: line.fmt ? 'set-var-fmt' : 'set-var' })
    }
  }
  return { steps, diagnostics }
}

/** What `-c` says about the global variables' expressions. */
export function globalVarDiagnostics (config: ParsedConfig): Diagnostic[] {
  return compileGlobalVars(config).diagnostics
}

/** Sets the global variables of a configuration that starts. */
export function setGlobalVars (config: ParsedConfig): void {
  const t = txnFromParts()
  for (const step of compileGlobalVars(config).steps) step(t)
}

/**
 * The value of a sample expression (or a log-format string) evaluated outside any request: the
 * runtime API's `set var`. Throws the compiler's message when it does not compile.
 */
export function evaluateOutside (config: ParsedConfig, text: string, fmt: boolean): Sample | null {
  const env = globalEnv(config, { file: '<cli>', line: 0 })
  const t = txnFromParts()
  return fmt ? compileFormat(text, env, 'request').format(t, null) : compileExpr(parseExpr(text), env).one(t, null)
}
