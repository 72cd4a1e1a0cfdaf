// `-c` for log formats: a `log-format`, `log-format-sd` or `unique-id-format` that would not
// compile is an alert, as HAProxy refuses it when loading.

import type { Diagnostic, ParsedConfig } from '../config/model.js'
import { sharedFor } from '../acl/compile.js'
import type { CompileEnv } from '../acl/env.js'
import { compileLogFormat, type ConnectionCounts } from './format.js'
import { CLF_FORMAT, HTTPLOG_FORMAT, HTTPSLOG_FORMAT, sessionFormat } from './formats.js'

const OPTION_OF = new Map([[HTTPLOG_FORMAT, 'httplog'], [CLF_FORMAT, 'httplog'], [HTTPSLOG_FORMAT, 'httpslog']])

const NO_COUNTS: ConnectionCounts = { active: () => 0, frontend: () => 0, backend: () => 0, server: () => 0 }

export function checkLogFormats (config: ParsedConfig): Diagnostic[] {
  const out: Diagnostic[] = []
  const shared = sharedFor(config)
  for (const proxy of config.proxies) {
    if (proxy.kind === 'backend') continue
    if (proxy.mode === 'tcp' && proxy.modeExplicit) {
      if (sessionFormat(proxy.logFormat) !== proxy.logFormat) {
        const option = OPTION_OF.get(proxy.logFormat!)!
        out.push({ level: 'warning', message: `'option ${option}' not usable with ${proxy.kind} '${proxy.name}' (needs 'mode http'). Falling back to 'option tcplog'.`, loc: proxy.loc, keyword: `option ${option}` })
      }
      continue
    }
    const env: CompileEnv = { config, proxy, files: shared.files, userlist: (n) => shared.userlists.get(n), warn: () => {} }
    for (const [keyword, text] of [['log-format', proxy.logFormat], ['log-format-sd', proxy.logFormatSd], ['unique-id-format', proxy.uniqueIdFormat]] as const) {
      if (text === null) continue
      try {
        compileLogFormat(text, env, NO_COUNTS, () => 0)
      } catch (err) {
        out.push({ level: 'alert', message: `failed to parse ${keyword} : ${(err as Error).message}.`, loc: proxy.loc, keyword })
      }
    }
  }
  return out
}
