// The `cache` section (configuration.txt §6.2.1): HAProxy's small object cache. Messages are
// HAProxy 2.6.12's, recorded with `haproxy -c`; a "wrong value" is printed by HAProxy as a
// warning that still fails the check, so it is an alert here.

import type { CacheSection, Loc } from './model.js'
import type { DiagnosticList } from './diagnostics.js'

/** `total-max-size` is written in megabytes, at most 4095 of them. */
const MEGABYTE = 1024 * 1024
const MAX_TOTAL_MB = 4095

export function newCache (name: string, loc: Loc): CacheSection {
  return { name, totalMaxSize: 0, maxObjectSize: null, maxAge: 60, processVary: false, maxSecondaryEntries: 10, loc }
}

const decimal = (s: string | undefined): number | null => s !== undefined && /^-?\d+$/.test(s) ? Number(s) : null

/** One line of a `cache` section. */
export function cacheLine (c: CacheSection, args: string[], loc: Loc, diags: DiagnosticList): void {
  const kw = args[0]!
  if (args.length > 2) return diags.alert(`'${kw}' cannot handle unexpected argument '${args[2]}'.`, loc, kw)
  const value = decimal(args[1])
  switch (kw) {
    case 'total-max-size':
      if (value === null) return diags.alert(`total-max-size wrong value '${args[1] ?? ''}'`, loc, kw)
      if (value < 0 || value > MAX_TOTAL_MB) return diags.alert(`"total-max-size" (${value}) must not be greater than ${MAX_TOTAL_MB}`, loc, kw)
      c.totalMaxSize = value * MEGABYTE
      return
    case 'max-object-size':
      if (value === null || value < 0) return diags.alert(`max-object-size wrong value '${args[1] ?? ''}'`, loc, kw)
      c.maxObjectSize = value === 0 ? null : value
      return
    case 'max-age':
      if (value === null) return diags.warn("'max-age' expects an age parameter in seconds.", loc, kw)
      c.maxAge = Math.max(0, value)
      return
    case 'process-vary':
      if (args[1] !== 'on' && args[1] !== 'off') return diags.warn('\'process-vary\' expects "on" or "off" (enable or disable vary processing).', loc, kw)
      c.processVary = args[1] === 'on'
      return
    case 'max-secondary-entries':
      if (value === null || value <= 0) return diags.alert(`max-secondary-entries wrong value '${args[1] ?? ''}'`, loc, kw)
      c.maxSecondaryEntries = value
  }
}

/** A cache's largest object: its `max-object-size`, else a 256th of its size (§6.2.1). */
export function maxObjectSize (c: CacheSection): number {
  return c.maxObjectSize ?? Math.floor(c.totalMaxSize / 256)
}

/** Checks once the whole configuration is read (HAProxy's post-parsing messages carry no line). */
export function checkCaches (caches: readonly CacheSection[], diags: DiagnosticList): void {
  for (const c of caches) {
    if (c.totalMaxSize === 0) {
      diags.alert(`Size not specified for cache '${c.name}'`)
      continue
    }
    if (c.maxObjectSize !== null && c.maxObjectSize > c.totalMaxSize / 2) {
      diags.alert(`"max-object-size" is limited to an half of "total-max-size" => ${c.totalMaxSize / 2}`)
    }
  }
}
