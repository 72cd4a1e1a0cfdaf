// Pattern files (`acl ... -f file`) and map files (`map*()` converters), read once at start-up
// (configuration.txt §7.1 "-f", §7.3.1 "map"; HAProxy pat_ref_read_from_file[_smp]).
// Observed on 2.6.12: only a '#' in the first column starts a comment ("  #x" is a pattern);
// leading blanks are skipped; a pattern keeps its trailing blanks; a map value is the rest of
// the line after the key and blanks, without trailing blanks.

import { FileTooLarge, PATTERN_FILE_LIMIT, readBounded } from '../files.js'

import { ExprError } from './sample.js'
import { PatternRef, PatternRefs } from './pattern-refs.js'

function readLines (file: string): string[] {
  let text: string
  try {
    text = readBounded(file, PATTERN_FILE_LIMIT).toString('latin1')
  } catch (err) {
    if (err instanceof FileTooLarge) throw new ExprError(`pattern file <${file}> is larger than ${PATTERN_FILE_LIMIT} bytes`)
    throw new ExprError(`failed to open pattern file <${file}>`)
  }
  return text.split('\n')
}

/** One pattern per line. */
function readPatternFile (file: string): string[] {
  const out: string[] = []
  for (const raw of readLines(file)) {
    if (raw.startsWith('#')) continue
    const line = raw.replace(/^[ \t]+/, '').replace(/[\r\n].*$/, '')
    if (line !== '') out.push(line)
  }
  return out
}

export interface MapFile {
  keys: string[]
  values: string[]
  /** Line number of each entry, for messages. */
  lines: number[]
}

/** `key value...` per line. */
function readMapFile (file: string): MapFile {
  const keys: string[] = []
  const values: string[] = []
  const lines: number[] = []
  for (const [n, raw] of readLines(file).entries()) {
    if (raw.startsWith('#')) continue
    const line = raw.replace(/^[ \t]+/, '').replace(/[\r\n].*$/, '')
    if (line === '') continue
    const m = /^([^ \t]+)[ \t]*(.*?)[ \t]*$/.exec(line)!
    keys.push(m[1])
    values.push(m[2])
    lines.push(n + 1)
  }
  return { keys, values, lines }
}

/**
 * Files are read once per compilation and shared by every ACL and converter naming them
 * (HAProxy also shares one pattern reference per file). The running gateway keeps its
 * references (`refs`) so that the CLI can change them.
 */
export class FileCache {
  constructor (readonly refs: PatternRefs = new PatternRefs()) {}

  patternFile (file: string): string[] {
    return this.patternRef(file).keys()
  }

  mapFile (file: string, source = file): MapFile {
    const ref = this.mapRef(file, source)
    return { keys: ref.keys(), values: ref.values(), lines: this.lines.get(ref) ?? [] }
  }

  /** `file` as the config names it (the reference's name), read from `source` (lib/config/default-path.ts). */
  patternRef (file: string, source = file): PatternRef {
    return this.refs.file(file, 'acl', () => readPatternFile(source).map(key => ({ key, value: '' })))
  }

  mapRef (file: string, source = file): PatternRef {
    return this.refs.file(file, 'map', () => {
      const m = readMapFile(source)
      this.pendingLines = m.lines
      return m.keys.map((key, i) => ({ key, value: m.values[i]! }))
    }, (ref) => {
      if (this.pendingLines !== null) this.lines.set(ref, this.pendingLines)
      this.pendingLines = null
    })
  }

  /** Line numbers of a map file's entries as read, for messages about a bad value. */
  private readonly lines = new WeakMap<PatternRef, number[]>()
  private pendingLines: number[] | null = null
}
