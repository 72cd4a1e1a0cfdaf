// A frontend's capture slots (configuration.txt §4.2 "capture request header", "capture response
// header", "declare capture", "http-request capture"): one list per direction, in declaration
// order, read by `capture.req.hdr(n)` / `capture.res.hdr(n)` and by the log's `%hr` / `%hs`.
// Header slots are filled when the headers arrive, before any rule; the others by capture rules.

import type { CaptureSlot } from '../config/model.js'
import type { HttpTxn } from './txn.js'

/** The slots' values: a header slot's first value cut to its length, null for the others. */
export function captureHeaders (slots: readonly CaptureSlot[], get: (name: string) => string | undefined): Array<string | null> {
  return slots.map(s => {
    if (s.header === null) return null
    const v = get(s.header)
    return v === undefined ? null : v.length > s.len ? v.slice(0, s.len) : v
  })
}

export function firstValue (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/** Fills the request slots once, from the headers as received. */
export function captureRequest (txn: HttpTxn, slots: readonly CaptureSlot[]): void {
  if (slots.length > 0 && txn.reqCaptures === undefined) txn.reqCaptures = captureHeaders(slots, n => firstValue(txn.headers[n]))
}

/** Fills the response header slots in place; the values capture rules wrote stay. */
export function captureResponse (txn: HttpTxn, slots: readonly CaptureSlot[], get: (name: string) => string | undefined): Array<string | null> {
  const values = txn.resCaptures ??= slots.map(() => null)
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!
    if (s.header === null) continue
    const v = get(s.header)
    values[i] = v === undefined ? null : v.length > s.len ? v.slice(0, s.len) : v
  }
  return values
}
