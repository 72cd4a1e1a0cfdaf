// Syslog framing of one log line, byte for byte as HAProxy 2.6 sends it (configuration.txt §3.1
// `log … format`), recorded from real HAProxy on a UDP listener:
//   local    <134>Dec  6 14:00:00 haproxy[4242]: msg            (the default)
//   rfc3164  <134>Dec  6 14:00:00 host haproxy[4242]: msg       (`localhost` without log-send-hostname)
//   rfc5424  <134>1 2026-12-06T14:00:00.123456+00:00 - haproxy 4242 - - msg   (host, or '-'; SD or '-')
//   priority <134>msg   short <6>msg   timed <6>ISO-date msg   iso ISO-date msg   raw msg
// Each line is cut to the target's `len` and ends with '\n'.

import type { LogFraming } from '../config/model.js'

export const LOG_EMERG = 0
export const LOG_ALERT = 1
export const LOG_ERR = 3
export const LOG_NOTICE = 5
export const LOG_INFO = 6

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

export const pad2 = (n: number): string => n < 10 ? `0${n}` : String(n)

/** The per-second parts of the headers, rebuilt when the second changes (one per second, not per line). */
let cachedSecond = -1
let cached3164 = ''
let cachedIso = ''
let cachedOffset = ''

function refresh (now: number): void {
  const second = Math.floor(now / 1000)
  if (second === cachedSecond) return
  cachedSecond = second
  const d = new Date(second * 1000)
  const day = d.getDate()
  cached3164 = `${MONTHS[d.getMonth()]!} ${day < 10 ? ` ${day}` : day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  cachedIso = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(day)}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  const off = -d.getTimezoneOffset()
  const abs = Math.abs(off)
  cachedOffset = `${off < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
}

/** `Dec  6 14:00:00` (local time, as HAProxy's rfc3164 header). */
export function syslogDate (now: number): string {
  refresh(now)
  return cached3164
}

/** `2026-12-06T14:00:00.123456+00:00` (local time, microseconds, as HAProxy's rfc5424 header). */
export function isoDate (now: number): string {
  refresh(now)
  const micros = Math.floor((now % 1000) * 1000)
  return `${cachedIso}.${String(micros).padStart(6, '0')}${cachedOffset}`
}

export interface Framing {
  format: LogFraming
  facility: number
  /** The host name in rfc3164 / rfc5424 headers, '' when none is sent. */
  host: string
  tag: string
  pid: number
  maxLen: number
  /** The last header made for a whole-second format (local, rfc3164), reused within its second. */
  cache?: { second: number, level: number, head: string }
}

/** The header of the default and rfc3164 formats: the same for every line of one second and level. */
function secondHead (f: Framing, level: number, now: number): string {
  const second = Math.floor(now / 1000)
  const c = f.cache
  if (c !== undefined && c.second === second && c.level === level) return c.head
  refresh(now)
  const host = f.format === 'rfc3164' ? `${f.host === '' ? 'localhost' : f.host} ` : f.host === '' ? '' : `${f.host} `
  const head = `<${f.facility * 8 + level}>${cached3164} ${host}${f.tag}[${f.pid}]: `
  f.cache = { second, level, head }
  return head
}

/** One framed line (with its '\n'); `sd` is the rfc5424 structured data ('-' when none). */
export function frame (f: Framing, level: number, msg: string, now: number, sd = '-'): string {
  let head: string
  switch (f.format) {
    case 'raw': head = ''; break
    case 'short': head = `<${level}>`; break
    case 'priority': head = `<${f.facility * 8 + level}>`; break
    case 'iso': head = `${isoDate(now)} `; break
    case 'timed': head = `<${level}>${isoDate(now)} `; break
    case 'rfc5424':
      head = `<${f.facility * 8 + level}>1 ${isoDate(now)} ${f.host === '' ? '-' : f.host} ${f.tag} ${f.pid} - ${sd} `
      break
    default:
      head = secondHead(f, level, now)
  }
  const line = head + msg
  return (line.length > f.maxLen ? line.slice(0, f.maxLen) : line) + '\n'
}
