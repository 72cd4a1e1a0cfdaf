// `fastify-haproxy explain -f haproxy.cfg [--frontend fe] 'GET /path' [-H 'Host: example.com']…
// [--src 10.0.0.1]`: prints lib/explain.ts's walk of the request through the rules. Nothing is
// sent and no health check runs: the servers are as the configuration starts them.

import { loadConfig } from './config/parse.js'
import { Gateway } from './plugin.js'
import { explain, renderExplanation, type ExplainRequest } from './explain.js'

export const EXPLAIN_USAGE = "Usage : fastify-haproxy explain -f <cfgfile> [--frontend <name>] '<METHOD> <uri>' [-H '<name>: <value>']* [--src <ip>]"

export async function runExplain (argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const files: string[] = []
  const headers: Record<string, string> = {}
  let frontend: string | undefined
  let line: string | undefined
  let src: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '-f') files.push(argv[++i] ?? '')
    else if (a === '-H') {
      const h = argv[++i] ?? ''
      const colon = h.indexOf(':')
      if (colon <= 0) { err(`[ALERT]    (${process.pid}) : -H expects '<name>: <value>', got '${h}'`); return 1 }
      headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim()
    } else if (a === '--frontend') frontend = argv[++i]
    else if (a === '--src') src = argv[++i]
    else if (line === undefined) line = a
    else { err(EXPLAIN_USAGE); return 1 }
  }
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(line ?? '')
  if (files.length === 0 || m === null) { err(EXPLAIN_USAGE); return 1 }
  const log = { info () {}, warn () {}, error: (s: string) => err(s) }
  const gateway = new Gateway(Gateway.prepare(loadConfig(files), log), log)
  try {
    const request: ExplainRequest = { method: m[1]!, url: m[2]!, headers, ...(src !== undefined ? { src } : {}) }
    out(renderExplanation(explain(gateway, frontend, request)).trimEnd())
    return 0
  } catch (e) {
    err(`[ALERT]    (${process.pid}) : ${(e as Error).message}`)
    return 1
  } finally {
    await gateway.close()
  }
}
