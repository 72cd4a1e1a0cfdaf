// The bench report: sections of aligned tables, medians and ratios. Nothing here asserts:
// a target is printed next to the measured value as met / MISSED.

export interface Section {
  title: string
  /** Lines printed under the title (tables, notes). */
  lines: string[]
}

export function median (values: readonly number[]): number {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Fixed decimals, '-' for a missing or non-finite value. */
export function fmt (value: number | null | undefined, decimals = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(decimals)
}

/** `met` / `MISSED` for "value must stay below (or at) limit". */
export function verdict (value: number, limit: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value <= limit ? 'met' : 'MISSED'
}

/** Left-aligned first column, right-aligned numbers, a rule under the header. */
export function table (header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ').trimEnd()
  return [line(header), widths.map(w => '-'.repeat(w)).join('  ').trimEnd(), ...rows.map(line)]
}

/** Runs a part; a part whose module is missing or that fails says so instead of the figures. */
export async function runPart (title: string, part: () => Promise<string[]>): Promise<Section> {
  try {
    return { title, lines: await part() }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const missing = e.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(e.message)
    return { title, lines: [missing ? `skipped: a module it measures is not there yet (${e.message.split('\n')[0]})` : `failed: ${e.stack ?? e.message}`] }
  }
}

export function print (section: Section): void {
  console.log(`\n## ${section.title}\n`)
  for (const l of section.lines) console.log(l)
}
