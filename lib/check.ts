// `haproxy -c` as a function: the parser's diagnostics, then the ACL/expression compiler's, then
// — only when neither found an alert, as in HAProxy — the post-parse cross-checks and finally
// the server address resolution (the order of `haproxy -c`'s messages).

import type { Diagnostic, ParsedConfig } from './config/model.js'
import { checkExpressions } from './acl/check.js'
import { listenerCheck, resolveServers, validateReferences } from './config/validate.js'
import { checkLogFormats } from './log/check.js'

const isAlert = (d: Diagnostic): boolean => d.level === 'alert'

/**
 * The diagnostics in HAProxy's two stages: what reading the files found (the parser's and the
 * expression compiler's messages, interleaved by line), then what the load-time checks found —
 * which only run when the first stage had no alert. Never throws.
 */
export function checkStages (config: ParsedConfig): { parse: Diagnostic[], post: Diagnostic[] } {
  let expr: Diagnostic[]
  try {
    expr = [...checkExpressions(config), ...checkLogFormats(config)]
  } catch (e) {
    expr = [{ level: 'alert', message: `internal error while checking expressions: ${(e as Error).message}` }]
  }
  const order = new Map(config.files.map((f, i) => [f, i]))
  const rank = (d: Diagnostic): number => d.loc ? (order.get(d.loc.file) ?? 0) * 1e9 + d.loc.line : Number.MAX_SAFE_INTEGER
  const parse = [...config.diagnostics, ...expr]
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i)
    .map(x => x.d)
  if (parse.some(isAlert)) return { parse, post: [] }
  const refs = validateReferences(config)
  if (refs.some(isAlert)) return { parse, post: refs }
  const servers = resolveServers(config)
  if (servers.some(isAlert)) return { parse, post: [...refs, ...servers] }
  return { parse, post: [...refs, ...servers, ...listenerCheck(config)] }
}

/** Every diagnostic of the configuration, in the order HAProxy would print them. Never throws. */
export function checkConfig (config: ParsedConfig): Diagnostic[] {
  const { parse, post } = checkStages(config)
  return [...parse, ...post]
}

export { NO_LISTENER } from './config/validate.js'
