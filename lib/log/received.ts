// A syslog message a `log-forward` section received, read into its fields and written again in a
// target's format, as HAProxy 2.6 does (configuration.txt §3.10 `log`: without a format the
// incoming one is kept; the incoming facility is kept unless the message has none). The rules
// below were recorded from real HAProxy, one datagram per case, to a target of each format:
//   <14>Dec  6 14:00:00 host app[12]: msg   rfc3164: the word after the date is the host, then
//                                           an optional `tag[pid]: ` (or `tag: `)
//   <14>1 2026-12-06T14:00:00Z h a 12 ID [sd] msg   rfc5424 ('-' = nil field)
//   <14>msg / msg                           only a priority, or nothing: the message is all
// Kept as received ("no format"): rfc3164 and rfc5424 with a host as they came; rfc5424 without
// a host becomes `local` when it has an app name, else `priority`; a bare line stays bare.

import type { LogFraming } from '../config/model.js'
import { isoDate, MONTHS, pad2, syslogDate } from './syslog.js'

export interface Received {
  /** The text as received (after the framing), for the lines sent unchanged. */
  text: string
  /** `<pri>`, null when the line has none. */
  pri: number | null
  kind: 'rfc3164' | 'rfc5424' | 'bare'
  /** rfc3164: `Dec  6 14:00:00`; rfc5424: the timestamp as written ('-' = none); bare: ''. */
  date: string
  host: string
  tag: string
  pid: string
  msgid: string
  sd: string
  msg: string
}

const PRI = /^<(\d{1,3})>/
const RFC3164 = /^((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d\d:\d\d:\d\d) (\S+) /
const TAG = /^([A-Za-z0-9_-]+)(?:\[(\d+)\])?: /
const RFC5424 = /^1 (\S+) (\S+) (\S+) (\S+) (\S+) /
/** Structured data: '-' or `[id param="value" …]` elements, `\]` escaped inside values. */
const SD = /^(?:-|(?:\[(?:[^\]"\\]|"(?:[^"\\]|\\.)*")*\])+)(?: |$)/
/** The month, day and time of an rfc5424 timestamp. */
const ISO_DAY_TIME = /^\d{4}-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d)/

const nil = (v: string): string => v === '-' ? '' : v

export function parseReceived (text: string): Received {
  const r: Received = { text, pri: null, kind: 'bare', date: '', host: '', tag: '', pid: '', msgid: '', sd: '', msg: text }
  const p = PRI.exec(text)
  if (p === null || Number(p[1]) > 191) return r
  r.pri = Number(p[1])
  let rest = text.slice(p[0].length)
  r.msg = rest
  const m5 = RFC5424.exec(rest)
  if (m5 !== null) {
    const sd = SD.exec(rest.slice(m5[0].length))
    if (sd !== null) {
      r.kind = 'rfc5424'
      r.date = m5[1]!
      r.host = nil(m5[2]!)
      r.tag = nil(m5[3]!)
      r.pid = nil(m5[4]!)
      r.msgid = nil(m5[5]!)
      r.sd = sd[0].trimEnd()
      r.msg = rest.slice(m5[0].length + sd[0].length)
      return r
    }
  }
  const m3 = RFC3164.exec(rest)
  if (m3 === null) return r
  r.kind = 'rfc3164'
  r.date = m3[1]!
  r.host = m3[2]!
  rest = rest.slice(m3[0].length)
  const t = TAG.exec(rest)
  if (t !== null) {
    r.tag = t[1]!
    r.pid = t[2] ?? ''
    rest = rest.slice(t[0].length)
  }
  r.msg = rest
  return r
}

/** `Dec  6 14:00:00`: an rfc5424 timestamp's own fields (no time zone change), or now. */
function date3164 (r: Received, now: number): string {
  if (r.kind === 'rfc3164') return r.date
  const m = ISO_DAY_TIME.exec(r.date)
  if (m === null) return syslogDate(now)
  const day = Number(m[2])
  return `${MONTHS[Number(m[1]) - 1] ?? 'Jan'} ${day < 10 ? ` ${day}` : day} ${m[3]!}`
}

/** An rfc5424 timestamp: as received, an rfc3164 date in the current year with an unknown zone, or now. */
function date5424 (r: Received, now: number, keepNil: boolean): string {
  if (r.kind === 'rfc5424' && (keepNil || r.date !== '-')) return r.date
  if (r.kind === 'rfc3164') {
    const month = MONTHS.indexOf(r.date.slice(0, 3)) + 1
    return `${new Date(now).getFullYear()}-${pad2(month)}-${r.date.slice(4, 6).replace(' ', '0')}T${r.date.slice(7)}-00:00`
  }
  return isoDate(now)
}

const tagPart = (r: Received): string => r.tag === '' ? '' : `${r.tag}${r.pid === '' ? '' : `[${r.pid}]`}: `

/**
 * The line sent to a target (without its '\n'): in `format`, or when `format` is null in the
 * received one; `facility` is the target's, used when the line has no priority (at level emerg).
 */
export function reformat (r: Received, format: LogFraming | null, facility: number, now: number): string {
  const pri = r.pri ?? facility * 8
  if (format === null) {
    if (r.kind === 'rfc3164' || (r.kind === 'rfc5424' && r.host !== '')) return r.text
    if (r.kind === 'rfc5424') format = r.tag === '' ? 'priority' : 'local'
    else return r.pri === null ? r.msg : `<${pri}>${r.msg}`
  }
  switch (format) {
    case 'raw': return r.msg
    case 'short': return `<${pri & 7}>${r.msg}`
    case 'priority': return `<${pri}>${r.msg}`
    case 'iso': return `${date5424(r, now, false)} ${r.msg}`
    case 'timed': return `<${pri & 7}>${date5424(r, now, false)} ${r.msg}`
    case 'rfc5424':
      return `<${pri}>1 ${date5424(r, now, true)} ${r.host || '-'} ${r.tag || '-'} ${r.pid || '-'} ${r.msgid || '-'} ${r.sd || '-'} ${r.msg}`
    case 'rfc3164': return `<${pri}>${date3164(r, now)} ${r.host || 'localhost'} ${tagPart(r)}${r.msg}`
    default: return `<${pri}>${date3164(r, now)} ${tagPart(r)}${r.msg}`
  }
}
