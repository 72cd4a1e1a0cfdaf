// Problems are data: the parser and the checker push Diagnostics and carry on; whoever prints
// them uses formatDiagnostic, which gives HAProxy's own line shape (`[ALERT] … : parsing
// [file:line] : …`, as `haproxy -c` prints it).

import type { Diagnostic, DiagnosticLevel, Loc } from './model.js'

/** HAProxy pads the level tag to a fixed width: `[ALERT]    `, `[WARNING]  `, `[NOTICE]   `. */
const TAGS: Record<DiagnosticLevel, string> = {
  alert: '[ALERT]    ',
  warning: '[WARNING]  ',
  notice: '[NOTICE]   '
}

/** `[ALERT]    (PID) : config : parsing [file:line] : message` — one line per message line. */
export function formatDiagnostic (d: Diagnostic, pid: number): string {
  const where = d.loc ? `parsing [${d.loc.file}:${d.loc.line}] : ` : ''
  return `${TAGS[d.level]}(${pid}) : config : ${where}${d.message}`
}

/** What `zero-warning` (-dW) aborts for: HAProxy's warnings, not ours about Node (Diagnostic.ours). */
export function fatalUnderZeroWarning (d: Diagnostic): boolean {
  return d.level === 'warning' && d.ours !== true
}

/** A sink the parser and checker write into; `hasAlert` tells whether the config is invalid. */
export class DiagnosticList {
  readonly items: Diagnostic[] = []
  alerts = 0

  alert (message: string, loc?: Loc, keyword?: string): void {
    this.alerts++
    this.items.push(make('alert', message, loc, keyword))
  }

  warn (message: string, loc?: Loc, keyword?: string): void {
    this.items.push(make('warning', message, loc, keyword))
  }

  /** A keyword that means nothing inside Node: a warning of ours (Diagnostic.ours). */
  inert (message: string, loc?: Loc, keyword?: string): void {
    this.items.push({ ...make('warning', message, loc, keyword), ours: true })
  }

  notice (message: string, loc?: Loc, keyword?: string): void {
    this.items.push(make('notice', message, loc, keyword))
  }
}

function make (level: DiagnosticLevel, message: string, loc: Loc | undefined, keyword: string | undefined): Diagnostic {
  const d: Diagnostic = { level, message }
  if (loc) d.loc = loc
  if (keyword !== undefined) d.keyword = keyword
  return d
}

// HAProxy's "did you mean" suggestions for unknown keywords: words are compared by their counts of symbol pairs, where
// a symbol is a letter (0..25), any digit (26), anything else (27), the word's start (28) or end (29).
function symbol (ch: string): number {
  const c = ch.toLowerCase()
  if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 97
  if (c >= '0' && c <= '9') return 26
  return 27
}

function fingerprint (word: string): Map<number, number> {
  const fp = new Map<number, number>()
  let from = 28
  for (const ch of word) {
    const to = symbol(ch)
    const k = from * 32 + to
    fp.set(k, (fp.get(k) ?? 0) + 1)
    from = to
  }
  const k = from * 32 + 29
  fp.set(k, (fp.get(k) ?? 0) + 1)
  return fp
}

function distance (a: Map<number, number>, b: Map<number, number>): number {
  let d = 0
  for (const [k, n] of a) d += Math.abs(n - (b.get(k) ?? 0))
  for (const [k, n] of b) if (!a.has(k)) d += n
  return d
}

/** The closest candidate, or null when none is close enough (same cut-off as HAProxy). */
export function bestMatch (word: string, candidates: Iterable<string>): string | null {
  const fp = fingerprint(word)
  let best: string | null = null
  let bestDist = Infinity
  for (const c of candidates) {
    const d = distance(fp, fingerprint(c))
    if (d < bestDist) {
      bestDist = d
      best = c
    }
  }
  if (best === null || bestDist > 2 * word.length || bestDist > 2 * best.length) return null
  return best
}

/** `; did you mean 'x' maybe ?` or '' — appended to "unknown keyword" messages. */
export function didYouMean (word: string, candidates: Iterable<string>): string {
  const m = bestMatch(word, candidates)
  return m ? `; did you mean '${m}' maybe ?` : ''
}
