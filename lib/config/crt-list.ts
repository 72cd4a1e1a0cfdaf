// `crt-list <file>` (configuration.txt §5.1 crt-list): one certificate a line, with its own SSL
// options between brackets and SNI filters after them. Read when the configuration is parsed
// (so that `-c` refuses what HAProxy refuses) and again by lib/tls.ts on each (re)load.

import { isAbsolute, join } from 'node:path'
import { PEM_FILE_LIMIT, readBounded } from '../files.js'

/** One line of a `crt-list`: `<crtfile> [<sslbindconf> …] [[!]<snifilter> …]`. */
export interface CrtListEntry {
  file: string
  options: Record<string, string>
  filters: string[]
  /** Its line number in the file (the runtime API's `show ssl crt-list -n`, `del ssl crt-list <crt>:<line>`). */
  line: number
}

/** The bind options a crt-list line may carry in HAProxy 2.6, and how many values each takes. */
const CRT_LIST_OPTIONS: Record<string, number> = {
  'allow-0rtt': 0,
  alpn: 1,
  'ca-file': 1,
  'ca-verify-file': 1,
  ciphers: 1,
  ciphersuites: 1,
  'crl-file': 1,
  curves: 1,
  ecdhe: 1,
  'no-ca-names': 0,
  npn: 1,
  'ssl-min-ver': 1,
  'ssl-max-ver': 1,
  verify: 1
}

/**
 * Reads a crt-list; relative certificate paths are taken from `base` (crt-base, else the
 * config's directory). Throws HAProxy's complaint about a line (`shown` names the file in it).
 */
export function parseCrtList (file: string, base: string, shown = file): CrtListEntry[] {
  const entries: CrtListEntry[] = []
  const lines = readBounded(file, PEM_FILE_LIMIT).toString('utf8').split('\n')
  for (let n = 0; n < lines.length; n++) {
    const entry = parseCrtListLine(lines[n]!, `parsing [${shown}:${n + 1}]`, base, n + 1)
    if (entry !== null) entries.push(entry)
  }
  return entries
}

/** One crt-list line (null when blank or a comment); `at` starts the complaint about it. */
export function parseCrtListLine (text: string, at: string, base: string, lineNo: number): CrtListEntry | null {
  const line = text.replace(/#.*$/, '').trim()
  if (line === '') return null
  const open = line.indexOf('[')
  const close = line.indexOf(']')
  const head = (open >= 0 ? line.slice(0, open) : line).trim().split(/\s+/)
  const crt = head[0]!
  const options: Record<string, string> = {}
  if (open >= 0) {
    if (close < open) throw new Error(`${at}: missing ']' in ssl args.`)
    const words = line.slice(open + 1, close).trim().split(/\s+/).filter(w => w !== '')
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!
      const arity = CRT_LIST_OPTIONS[w]
      if (arity === undefined) throw new Error(`${at}: unknown ssl keyword ${w}`)
      if (arity === 0) { options[w] = ''; continue }
      if (words[i + 1] === undefined) throw new Error(`${at}: ssl args out of '[]' for ${w}`)
      options[w] = words[++i]!
    }
  }
  const rest = open >= 0 ? line.slice(close + 1) : head.slice(1).join(' ')
  const filters = rest.trim().split(/\s+/).filter(w => w !== '')
  return { file: isAbsolute(crt) ? crt : join(base, crt), options, filters, line: lineNo }
}
