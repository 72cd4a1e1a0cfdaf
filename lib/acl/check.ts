// The checker's view of the routing engine: compile every expression of every proxy and keep
// the diagnostics instead of throwing (configuration.txt §7, §4.2 http-request / use_backend).

import type { Diagnostic, ParsedConfig } from '../config/model.js'
import { compileProxyDiagnostics, sharedFor } from './compile.js'
import { globalVarDiagnostics } from './global-vars.js'

export function checkExpressions (config: ParsedConfig): Diagnostic[] {
  const shared = sharedFor(config)
  const out: Diagnostic[] = globalVarDiagnostics(config)
  for (const proxy of config.proxies) {
    try {
      out.push(...compileProxyDiagnostics(proxy, config, shared).diagnostics)
    } catch (err) {
      out.push({ level: 'alert', message: `internal error while compiling proxy '${proxy.name}': ${(err as Error).message}`, loc: proxy.loc })
    }
  }
  return out
}
