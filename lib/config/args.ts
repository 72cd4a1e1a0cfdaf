// Argument grammars shared by the keyword rows: times, sizes, integers and addresses, each
// returning a value or HAProxy's own complaint (configuration.txt §2.5 "Time format", §2.4
// sizes, §4.2 `bind` addresses).

import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { isIP } from 'node:net'

export type Parsed<T> = { ok: true, value: T } | { ok: false, error: string }

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value })
const err = <T>(error: string): Parsed<T> => ({ ok: false, error })

/** Largest timer HAProxy accepts: 2^31-1 ms (about 24.8 days). */
const MAX_TIMER_MS = 2147483647

export type TimeResult =
  | { ok: true, value: number, trailing?: string }
  | { ok: false, bad: string | null, overflow?: boolean }

/**
 * §2.5: a number with an optional unit (us, ms, s, m, h, d); a bare number is in `unit` (ms by
 * default). Rounded up like HAProxy. `bad` is the first unexpected character ('' when the value
 * does not start with a digit); `trailing` reports characters after the unit, which HAProxy
 * accepts with a warning.
 */
export function parseTime (text: string, unit: 'ms' | 's' = 'ms'): TimeResult {
  let i = 0
  let value = 0
  if (!(text[0]! >= '0' && text[0]! <= '9')) return { ok: false, bad: text[0] ?? null }
  while (i < text.length && text[i]! >= '0' && text[i]! <= '9') value = value * 10 + (text.charCodeAt(i++) - 48)
  let mult = 1
  let div = 1
  const u = text[i]
  if (u === undefined) {
    if (unit === 's') mult = 1000
  } else {
    if (u === 's') mult = 1000
    else if (u === 'u' && text[i + 1] === 's') { div = 1000; i++ } else if (u === 'm' && text[i + 1] === 's') { i++ } else if (u === 'm') mult = 60000
    else if (u === 'h') mult = 3600000
    else if (u === 'd') mult = 86400000
    else return { ok: false, bad: u }
    i++
  }
  const ms = Math.ceil(value * mult / div)
  if (ms > MAX_TIMER_MS) return { ok: false, bad: null, overflow: true }
  const r: TimeResult = { ok: true, value: ms }
  if (i < text.length) r.trailing = text[i]
  return r
}

/** C's atoi: leading digits (with an optional sign), 0 when there are none — HAProxy is that lenient. */
export function atoi (text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text)
  return m ? Number(m[1]) : 0
}

/** Strict decimal integer. */
export function isInteger (text: string): boolean {
  return /^[+-]?\d+$/.test(text)
}

export interface Address {
  family: 'ipv4' | 'ipv6' | 'unix' | 'abns' | 'fd' | 'sockpair' | 'fqdn'
  /** '' for "any address"; the host name itself for 'fqdn'. */
  host: string
  port: number
  portEnd: number
  /** `+N` / `-N`: a port relative to the one the client connected to (servers only); `port` is then N, signed. */
  portOffset: boolean
  hasPort: boolean
}

export interface AddressRules {
  /** bind needs a port; a server may omit it (same port as the client used). */
  portRequired: boolean
  allowRange: boolean
  allowOffset: boolean
  /** servers keep unresolved names for later; binds resolve now. */
  allowFqdn: boolean
  allowZeroPort: boolean
  /** Addresses expand `$VAR` / `${VAR}` themselves, quoted or not (configuration.txt §4.2 `bind`). */
  env?: Record<string, string | undefined>
}

/** `$NAME` and `${NAME}` anywhere in the string; unset names vanish (configuration.txt §2.3). */
export function expandEnv (text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$(?:\{([A-Za-z0-9_]*)\}|([A-Za-z0-9_]*))/g, (_m, a: string | undefined, b: string | undefined) => env[a ?? b ?? ''] ?? '')
}

const PREFIXES: Record<string, Address['family'] | 'ip'> = {
  'ipv4@': 'ipv4', 'ipv6@': 'ipv6', 'unix@': 'unix', 'abns@': 'abns', 'fd@': 'fd', 'sockpair@': 'sockpair',
  'tcp@': 'ip', 'tcp4@': 'ipv4', 'tcp6@': 'ipv6', 'udp@': 'ip', 'udp4@': 'ipv4', 'udp6@': 'ipv6',
  'uxst@': 'unix', 'uxdg@': 'unix', 'stream+ipv4@': 'ipv4', 'stream+ipv6@': 'ipv6', 'stream+unix@': 'unix',
  'dgram+ipv4@': 'ipv4', 'dgram+ipv6@': 'ipv6'
}

const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/

/** An address as a configuration writes it (configuration.txt §4.2 `bind`, §5.2): `[prefix@]host[:port[-end]]`. */
export function parseAddress (raw: string, rules: AddressRules): Parsed<Address> {
  const text = raw.includes('$') ? expandEnv(raw, rules.env ?? process.env) : raw
  let rest = text
  let family: Address['family'] | 'ip' = 'ip'
  for (const p in PREFIXES) {
    if (rest.startsWith(p)) {
      family = PREFIXES[p]!
      rest = rest.slice(p.length)
      break
    }
  }
  if (family === 'unix' || family === 'abns' || (family === 'ip' && rest.startsWith('/'))) {
    return ok({ family: family === 'abns' ? 'abns' : 'unix', host: rest, port: 0, portEnd: 0, portOffset: false, hasPort: false })
  }
  if (family === 'fd' || family === 'sockpair') {
    return ok({ family, host: rest, port: 0, portEnd: 0, portOffset: false, hasPort: false })
  }
  let host = rest
  let portText: string | null = null
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close < 0) return err(`invalid address: '${rest}' in '${text}'`)
    host = rest.slice(1, close)
    const after = rest.slice(close + 1)
    if (after.startsWith(':')) portText = after.slice(1)
    else if (after !== '') return err(`invalid address: '${rest}' in '${text}'`)
  } else {
    const colon = rest.lastIndexOf(':')
    if (colon >= 0) {
      host = rest.slice(0, colon)
      portText = rest.slice(colon + 1)
    }
  }
  let port = 0
  let portEnd = 0
  let portOffset = false
  if (portText === null || portText === '') {
    if (rules.portRequired) return err(`missing port specification in '${text}'`)
  } else {
    let p = portText
    if (p[0] === '+' || p[0] === '-') {
      if (!rules.allowOffset) return err(`invalid port '${portText}'`)
      portOffset = true
      p = p.slice(1)
    }
    const range = /^(\d*)(?:-(\d*))?$/.exec(p)
    if (!range) {
      const bad = /[^0-9-]/.exec(p)![0]
      return err(`invalid character '${bad}' in port number '${portText}' in '${text}'`)
    }
    port = Number(range[1] || 0)
    if (portOffset && portText[0] === '-') port = -port
    portEnd = range[2] !== undefined ? Number(range[2] || 0) : port
    if (range[2] !== undefined && !rules.allowRange) return err(`port range not permitted here in '${text}'`)
    if (Math.abs(port) > 65535 || portEnd > 65535 || (!portOffset && portEnd < port) || (!portOffset && port === 0 && !rules.allowZeroPort)) {
      return err(`invalid port '${portText}'`)
    }
  }
  if (host === '' || host === '*') return ok({ family: family === 'ipv6' ? 'ipv6' : 'ipv4', host: '', port, portEnd, portOffset, hasPort: portText !== null })
  // A zone index (fe80::1%eth0) is not an address HAProxy's parser takes; the resolver also
  // takes inet_aton's short forms ("0", "127.1", "0x7f000001").
  const short = family !== 'ipv6' && isIP(host) === 0 ? inetAton(host) : null
  if (short !== null) host = short
  const ip = host.includes('%') ? 0 : isIP(host)
  if (ip === 4 && family !== 'ipv6') return ok({ family: 'ipv4', host, port, portEnd, portOffset, hasPort: portText !== null })
  if (ip === 6 && family !== 'ipv4') return ok({ family: 'ipv6', host, port, portEnd, portOffset, hasPort: portText !== null })
  // A dotted quad that is not an IPv4 address is never a host name to HAProxy either.
  // Servers keep any other text as a name to resolve later (HAProxy then fails to resolve it).
  if (ip === 0 && rules.allowFqdn) return ok({ family: 'fqdn', host, port, portEnd, portOffset, hasPort: portText !== null })
  if (ip === 0 && HOSTNAME.test(host) && !/^[\d.]+$/.test(host)) {
    const resolved = resolveHost(host)
    if (resolved !== null) return ok({ family: isIP(resolved) === 6 ? 'ipv6' : 'ipv4', host: resolved, port, portEnd, portOffset, hasPort: portText !== null })
  }
  return err(`invalid address: '${host}' in '${raw}'`)
}

/** inet_aton(3): one to four parts, each decimal, octal (0…) or hex (0x…), the last filling the rest. */
function inetAton (text: string): string | null {
  const parts = text.split('.')
  if (parts.length > 4) return null
  const nums: number[] = []
  for (const p of parts) {
    const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(p)
    if (!m) return null
    nums.push(p.startsWith('0x') || p.startsWith('0X') ? parseInt(p, 16) : p.length > 1 && p.startsWith('0') ? parseInt(p, 8) : Number(p))
  }
  const last = nums.pop()!
  if (nums.some(n => n > 255) || last >= 2 ** (8 * (4 - nums.length))) return null
  let value = last
  for (let i = 0; i < nums.length; i++) value += nums[i]! * 2 ** (8 * (3 - i))
  return [24, 16, 8, 0].map(sh => Math.floor(value / 2 ** sh) % 256).join('.')
}

const resolved = new Map<string, string | null>()
let hostsFile: Map<string, string> | null = null

function loadHosts (): Map<string, string> {
  const map = new Map<string, string>()
  let text = ''
  try {
    text = readFileSync('/etc/hosts', 'utf8')
  } catch {
    return map
  }
  for (const line of text.split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/)
    if (words.length < 2 || isIP(words[0]!) === 0) continue
    for (const name of words.slice(1)) if (!map.has(name.toLowerCase())) map.set(name.toLowerCase(), words[0]!)
  }
  return map
}

/**
 * HAProxy resolves names while loading (getaddrinfo). We do the same synchronously: /etc/hosts
 * first, then the system resolver through `getent ahosts` (NSS, so DNS too where configured),
 * with a short timeout; results are cached for the process.
 */
export function resolveHost (name: string): string | null {
  if (isIP(name) !== 0) return name
  const key = name.toLowerCase()
  if (resolved.has(key)) return resolved.get(key)!
  hostsFile ??= loadHosts()
  let ip: string | null = hostsFile.get(key) ?? null
  if (ip === null) {
    try {
      const r = spawnSync('getent', ['ahosts', name], { encoding: 'utf8', timeout: 3000 })
      const first = r.status === 0 ? r.stdout.split(/\s+/)[0] : undefined
      if (first && isIP(first) !== 0) ip = first
    } catch {
      ip = null
    }
  }
  resolved.set(key, ip)
  return ip
}

/**
 * What HAProxy makes of a server's host name at load (§5.2 `init-addr`): the methods are tried in order — `last` needs a server-state file
 * (none is read here, so it finds nothing), `libc` resolves now, `none` leaves the server in
 * MAINT (resolution), an IP address is used as is. `libc` tells whether resolving was tried
 * (HAProxy then warns or alerts "could not resolve", else "no method found").
 */
export type InitAddr =
  | { kind: 'addr', host: string }
  | { kind: 'none', libc: boolean }
  | { kind: 'failed', libc: boolean }

/** HAProxy's default `init-addr` (§5.2). */
export const DEFAULT_INIT_ADDR = ['last', 'libc']

export function initAddress (host: string, methods: string[]): InitAddr {
  let libc = false
  for (const m of methods) {
    // A DNS SRV name (`_http._tcp.svc`) is only ever resolved by a resolvers section.
    if (m === 'libc' && !host.startsWith('_')) {
      libc = true
      const ip = resolveHost(host)
      if (ip !== null) return { kind: 'addr', host: ip }
    } else if (m === 'none') return { kind: 'none', libc }
    else if (isIP(m) !== 0) return { kind: 'addr', host: m }
  }
  return { kind: 'failed', libc }
}
