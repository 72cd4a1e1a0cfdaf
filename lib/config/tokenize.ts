// One configuration line → words, exactly as HAProxy 2.6 splits it (configuration.txt §2.2–2.4:
// quotes, escapes, comments, environment variables and "[*]" word expansion, with the errors
// `haproxy -c` reports for them). Pure: never throws, reports the first error
// with its position, as HAProxy does.

/** Environment lookup for `"${VAR}"`; `.LINE`, `.FILE` and `.SECTION` are HAProxy's pseudo-variables. */
export interface TokenizeContext {
  env: Record<string, string | undefined>
  file: string
  line: number
  section: string
}

export interface TokenizedLine {
  words: string[]
  /** HAProxy's message (with its caret lines) when the line cannot be split; words are then []. */
  error: string | null
}

/** HAProxy's MAX_LINE_ARGS: a line holds at most 64 words. */
export const MAX_LINE_ARGS = 64

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\v' || c === '\f'
const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
const isAlnum = (c: string): boolean => isAlpha(c) || (c >= '0' && c <= '9')
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c)

/** Lines without quotes, escapes, comments or variables split on blanks alone (the common case). */
const SPECIAL = /["'\\#$\r\n]/
const BLANKS = /[ \t\v\f]+/

export function tokenizeLine (raw: string, ctx: TokenizeContext): TokenizedLine {
  if (!SPECIAL.test(raw)) {
    const words = raw.split(BLANKS)
    if (words[0] === '') words.shift()
    if (words.length > 0 && words[words.length - 1] === '') words.pop()
    if (words.length <= MAX_LINE_ARGS) return { words, error: null }
  }
  let start = 0
  while (start < raw.length && isSpace(raw[start]!)) start++
  const words: string[] = []
  let cur = ''
  let squote = false
  let dquote = false
  let quoteAt = -1
  let i = start
  const fail = (what: string, at: number): TokenizedLine => ({ words: [], error: caret(raw, start, what, at) })

  for (;;) {
    const c = raw[i]
    if (c === undefined || c === '\n' || c === '\r') break
    if (c === '#' && !squote && !dquote) break
    if (c === '"' && !squote) {
      dquote = !dquote
      quoteAt = dquote ? i : -1
      i++
    } else if (c === "'" && !dquote) {
      squote = !squote
      quoteAt = squote ? i : -1
      i++
    } else if (c === '\\' && !squote) {
      // §2.2: only these sequences mean something; any other backslash stays as is.
      const n = raw[i + 1]
      if (n === ' ' || n === '\\' || n === '#' || n === "'" || n === '"') {
        cur += n
        i += 2
      } else if (n === 't') { cur += '\t'; i += 2 } else if (n === 'n') { cur += '\n'; i += 2 } else if (n === 'r') { cur += '\r'; i += 2 } else if (n === '$' && dquote) {
        cur += '$'
        i += 2
      } else if (n === 'x') {
        if (!isHex(raw[i + 2]) || !isHex(raw[i + 3])) return fail('truncated or invalid hexadecimal sequence', i)
        cur += String.fromCharCode(parseInt(raw.slice(i + 2, i + 4), 16))
        i += 4
      } else {
        cur += '\\'
        i++
      }
    } else if (isSpace(c) && !squote && !dquote) {
      while (i < raw.length && isSpace(raw[i]!)) i++
      words.push(cur)
      cur = ''
    } else if (c === '$' && dquote) {
      // §2.3: environment variables are expanded inside double quotes only.
      i++
      let brace = -1
      if (raw[i] === '{') brace = i++
      const first = raw[i] ?? ''
      if (!isAlpha(first) && first !== '_' && first !== '.') return fail('forbidden first char in environment variable name', i)
      const nameStart = i
      if (raw[i] === '.') i++
      while (i < raw.length && (isAlnum(raw[i]!) || raw[i] === '_')) i++
      const name = raw.slice(nameStart, i)
      let value: string | undefined
      if (name.startsWith('.')) {
        if (name === '.LINE') value = String(ctx.line)
        else if (name === '.FILE') value = ctx.file
        else if (name === '.SECTION') value = ctx.section
        else return fail('forbidden first char in environment variable name', nameStart)
      } else {
        value = ctx.env[name]
      }
      let expand = false
      if (raw[i] === '[' && brace >= 0) {
        if (raw[i + 1] !== '*' || raw[i + 2] !== ']') return fail('truncated or invalid word expansion sequence', i)
        expand = true
        i += 3
      }
      if (brace >= 0) {
        if (raw[i] === '-') {
          const close = raw.indexOf('}', i)
          if (close < 0) return fail('unmatched brace in environment variable name', brace)
          if (value === undefined) value = raw.slice(i + 1, close)
          i = close
        } else if (raw[i] !== '}') {
          return fail('unmatched brace in environment variable name', brace)
        }
        i++
      }
      if (value !== undefined) {
        if (expand) {
          // §2.3 "${VAR[*]}": the value's space-separated words become separate words.
          let j = 0
          while (j < value.length) {
            if (isSpace(value[j]!)) {
              words.push(cur)
              cur = ''
              while (j < value.length && isSpace(value[j]!)) j++
            } else {
              cur += value[j++]
            }
          }
        } else {
          cur += value
        }
      }
    } else {
      cur += c
      i++
    }
  }
  // No empty word after trailing spaces (parse_line's last-arg rule).
  if (cur !== '') words.push(cur)
  if (quoteAt >= 0) return fail('unmatched quote', quoteAt)
  if (words.length > MAX_LINE_ARGS) {
    return {
      words: [],
      error: `too many words, truncating after word ${MAX_LINE_ARGS}, position ${raw.indexOf(words[MAX_LINE_ARGS - 1]!, start) + 1}: <${words[MAX_LINE_ARGS - 1]}>.`
    }
  }
  return { words, error: null }
}

/** `<what> at position N:` then the line and a caret under the culprit, as readcfgfile prints. */
function caret (raw: string, start: number, what: string, at: number): string {
  const { text, pos } = sanitizeForPrinting(raw.slice(start).replace(/[\r\n]+$/, ''), at - start, 80)
  return `${what} at position ${at + 1}:\n  ${text}\n  ${' '.repeat(pos)}^`
}

/**
 * The line as HAProxy's parse errors quote it: at most `width` characters, non-printable ones
 * as '?'; when the culprit lies beyond, the window is centred on it between "..." marks.
 */
function sanitizeForPrinting (line: string, pos: number, width: number): { text: string, pos: number } {
  const clean = line.replace(/\s/g, ' ').replace(/[^\x20-\x7e]/g, '?')
  if (pos < width) return { text: clean.slice(0, width), pos }
  const shift = pos - Math.floor(width / 2)
  return { text: '...' + clean.slice(shift + 3, shift + width - 3) + '...', pos: pos - shift }
}
