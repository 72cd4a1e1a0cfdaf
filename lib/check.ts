// `haproxy -c` as a function: the parser's diagnostics, then the ACL/expression compiler's, then
// — only when neither found an alert, as in HAProxy — the post-parse cross-checks and finally
// the server address resolution (src/haproxy.c init: readcfgfile → check_config_validity →
// srv_init_addr).

import type { Diagnostic, ParsedConfig } from './config/model.js'
import { checkExpressions } from './acl/check.js'
import { listenerCheck, resolveServers, validateReferences } from './config/validate.js'

const isAlert = (d: Diagnostic): boolean => d.level === 'alert'

/** Every diagnostic of the configuration, in the order HAProxy would print them. Never throws. */
export function checkConfig (config: ParsedConfig): Diagnostic[] {
  let expr: Diagnostic[]
  try {
    expr = checkExpressions(config)
  } catch (e) {
    expr = [{ level: 'alert', message: `internal error while checking expressions: ${(e as Error).message}` }]
  }
  // Expressions are compiled line by line in HAProxy: their messages interleave with the parser's.
  const order = new Map(config.files.map((f, i) => [f, i]))
  const rank = (d: Diagnostic): number => d.loc ? (order.get(d.loc.file) ?? 0) * 1e9 + d.loc.line : Number.MAX_SAFE_INTEGER
  const parsed = [...config.diagnostics, ...expr]
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i)
    .map(x => x.d)
  if (parsed.some(isAlert)) return parsed
  const refs = validateReferences(config)
  if (refs.some(isAlert)) return [...parsed, ...refs]
  const servers = resolveServers(config)
  if (servers.some(isAlert)) return [...parsed, ...refs, ...servers]
  return [...parsed, ...refs, ...listenerCheck(config)]
}

export { NO_LISTENER } from './config/validate.js'
