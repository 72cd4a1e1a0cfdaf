// Samples: the values fetches produce and converters transform (configuration.txt §7.3).
// A sample is a plain JS value; `null` means "no sample" (the fetch found nothing), which is
// not the same as an empty string (`query` of `/x?` is '').

import type { HttpResponseView, HttpTxn } from './txn.js'

/** HAProxy's sample types, as far as this engine distinguishes them. */
export type SampleType = 'str' | 'int' | 'bool' | 'ip' | 'meth' | 'any'

export type Sample = string | number | boolean

/** A compiled fetch or expression: one value (HAProxy's sample context). */
export type SampleFn = (txn: HttpTxn, res: HttpResponseView | null) => Sample | null

/**
 * Every value of a multi-valued fetch (ACL context: `hdr(x) v` matches if any occurrence
 * does). Calls `test` per value and stops at the first true; returns whether one was true.
 */
export type EachFn = (txn: HttpTxn, res: HttpResponseView | null, test: (v: Sample) => boolean) => boolean

/** Which message a fetch reads: the request (line and headers) or the response. */
export type Side = 'request' | 'response'

/** A grammar error in an expression; the message is HAProxy's wording without the location prefix. */
export class ExprError extends Error {}

/** HAProxy's casts to string: booleans print as 1/0. */
export function toStr (v: Sample): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : v ? '1' : '0'
}

/** HAProxy's str→int cast (c_str2int): a leading optional sign and digits, else no sample. */
export function toInt (v: Sample): number | null {
  if (typeof v === 'number') return v
  if (typeof v === 'boolean') return v ? 1 : 0
  const m = /^[ \t]*([-+]?[0-9]+)/.exec(v)
  return m === null ? null : Number(m[1])
}

export function toBool (v: Sample): boolean {
  if (typeof v === 'boolean') return v
  if (typeof v === 'number') return v !== 0
  const n = toInt(v)
  return n !== null && n !== 0
}

/**
 * Lower-cases ASCII letters only, as C's tolower() in HAProxy does (`-i`, `lower`): a byte
 * above 0x7f, such as a latin1 'À', is left alone.
 */
export function lowerAscii (s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
  }
  return s.toLowerCase()
}

export function upperAscii (s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return s.replace(/[a-z]+/g, (m) => m.toUpperCase())
  }
  return s.toUpperCase()
}
