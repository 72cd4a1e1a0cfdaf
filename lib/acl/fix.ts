// FIX (Financial Information eXchange) messages for the `fix_is_valid` and `fix_tag_value`
// converters (configuration.txt §7.3.1): `tag=value` fields each ended by SOH (0x01);
// BeginString (8) first, BodyLength (9) second, MsgType (35) third, and CheckSum (10) last,
// three digits, the sum of every byte before it modulo 256. BodyLength counts the bytes from
// after its own field to the CheckSum field. Only the first message of a stream is read.

const SOH = '\x01'

/** The FIX versions a BeginString may name. */
const VERSIONS = new Set(['FIX.4.0', 'FIX.4.1', 'FIX.4.2', 'FIX.4.3', 'FIX.4.4', 'FIXT.1.1'])

/** The tag names `fix_tag_value` translates (matched without regard to case, as HAProxy does). */
export const FIX_TAG_NAMES: ReadonlyMap<string, number> = new Map([
  ['beginstring', 8], ['bodylength', 9], ['msgtype', 35], ['sendercompid', 49], ['targetcompid', 56], ['checksum', 10]
])

/** 'partial': the bytes so far could still become a valid message. */
export type FixVerdict = boolean | 'partial'

interface Field { tag: string, value: string, end: number }

/** The field starting at `at`, 'partial' when its SOH has not arrived, false when it is malformed. */
function fieldAt (s: string, at: number): Field | 'partial' | false {
  const end = s.indexOf(SOH, at)
  if (end === -1) return 'partial'
  const eq = s.indexOf('=', at)
  if (eq === -1 || eq > end) return false
  const tag = s.slice(at, eq)
  const value = s.slice(eq + 1, end)
  if (tag === '' || value === '' || !/^[0-9]+$/.test(tag)) return false
  return { tag, value, end: end + 1 }
}

export function fixValidate (s: string): FixVerdict {
  const begin = fieldAt(s, 0)
  if (begin === 'partial') return s.startsWith('8=') || '8='.startsWith(s) ? 'partial' : false
  if (begin === false || begin.tag !== '8' || !VERSIONS.has(begin.value)) return false
  const length = fieldAt(s, begin.end)
  if (length === false || (length !== 'partial' && (length.tag !== '9' || !/^[0-9]+$/.test(length.value)))) return false
  if (length === 'partial') return 'partial'
  const bodyStart = length.end
  const checksumAt = bodyStart + Number(length.value)
  const type = fieldAt(s, bodyStart)
  if (type === false || (type !== 'partial' && type.tag !== '35')) return false
  // every field of the body is well formed and the last one ends where BodyLength says
  let at = bodyStart
  while (at < checksumAt) {
    const f = fieldAt(s, at)
    if (f === 'partial') return 'partial'
    if (f === false || f.end > checksumAt) return false
    at = f.end
  }
  const checksum = fieldAt(s, checksumAt)
  if (checksum === 'partial') return s.length - checksumAt < 7 ? 'partial' : false
  if (checksum === false || checksum.tag !== '10' || !/^[0-9]{3}$/.test(checksum.value)) return false
  let sum = 0
  for (let i = 0; i < checksumAt; i++) sum += s.charCodeAt(i) & 0xff
  return sum % 256 === Number(checksum.value)
}

/** The value of the first field with that tag; 'partial' when not found in an unfinished message. */
export function fixTagValue (s: string, tag: string): string | null | 'partial' {
  let at = 0
  while (at < s.length) {
    const f = fieldAt(s, at)
    if (f === 'partial') return 'partial'
    if (f === false) return null
    if (f.tag === tag) return f.value
    if (f.tag === '10') return null
    at = f.end
  }
  return 'partial'
}
