// Converters (configuration.txt §7.3.1), one row each: name, argument kinds, output type and a
// compiler that binds the arguments into `(sample) => sample | null` (null: conversion failed,
// the expression has no value). Map converters read and index their file at compile time.

import { configFilePath } from '../config/default-path.js'
import { createHash, createHmac, getHashes, timingSafeEqual } from 'node:crypto'

import { xxh3 as XXH3, xxh64 as xxh64Native } from '@node-rs/xxhash'

import type { ArgKind, ArgValue } from './arguments.js'
import type { CompileEnv } from './env.js'
import { avalanche, crc32, crc32c, djb2, sdbm, wt6, xxh32 } from './hashes.js'
import { formatV4, formatV6, parseAddr } from './ip.js'
import { compileRegex, MATCHERS } from './matchers.js'
import { indexKind, type PatternEntry } from './pattern-refs.js'
import { checkVarName } from './arguments.js'
import { varConditions, varRef, type VarRef } from './vars.js'
import { jsonQuery } from './json-query.js'
import { FIX_TAG_NAMES, fixTagValue, fixValidate } from './fix.js'
import { CONNACK, CONNECT, MQTT_FIELDS, MQTT_TYPES, mqttParse } from './mqtt.js'
import { messageDecided, messageMayGrow } from '../tcp/payload.js'
import { stickConverterRows } from './stick-counters.js'
import { ExprError, lowerAscii, toBool, toInt, toStr, upperAscii, type Sample, type SampleType } from './sample.js'
import type { HttpTxn } from './txn.js'

/** A converter bound to its arguments; the transaction is there for the ones reading variables. */
export type ConvertFn = (v: Sample, txn: HttpTxn) => Sample | null

export interface ConverterRow {
  name: string
  args: readonly ArgKind[]
  minArgs: number
  out: SampleType
  compile (args: ArgValue[], env: CompileEnv): ConvertFn
}

const intArg = (a: ArgValue[], i: number, dflt: number): number => typeof a[i] === 'number' ? a[i] as number : dflt

/**
 * `field` and `word` (§7.3.1): 1-based index, negative counts from the end, optional count of
 * fields (0 = all the rest). The result is the original text from the first to the last field
 * taken; `word` ignores empty fields.
 */
function splitter (skipEmpty: boolean): ConverterRow['compile'] {
  return (a) => {
    const index = intArg(a, 0, 1)
    const delims = String(a[1])
    const count = intArg(a, 2, 1)
    return (v) => {
      const s = toStr(v)
      const spans: Array<[number, number]> = []
      let from = 0
      for (let i = 0; i <= s.length; i++) {
        if (i === s.length || delims.includes(s[i])) {
          if (!skipEmpty || i > from) spans.push([from, i])
          from = i + 1
        }
      }
      let first: number
      let last: number
      if (index > 0) {
        first = index - 1
        last = count === 0 ? spans.length - 1 : first + count - 1
      } else {
        last = spans.length + index
        first = count === 0 ? 0 : last - count + 1
      }
      if (index === 0 || first < 0 || first >= spans.length || last < first) return null
      return s.slice(spans[first][0], spans[Math.min(last, spans.length - 1)][1])
    }
  }
}

const JSON_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** HAProxy's `json` converter: quotes, backslash and '/' escaped, other characters outside 0x20–0x7e as \uXXXX. */
function jsonChar (code: number): string {
  const c = String.fromCharCode(code)
  return JSON_ESCAPES[c] ?? (code < 0x20 || code > 0x7e ? `\\u${code.toString(16).padStart(4, '0')}` : c)
}

/** `ascii`: every byte is a character. */
function jsonEscape (s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) out += jsonChar(s.charCodeAt(i))
  return out
}

const CONTINUATION = (b: number): boolean => (b & 0xc0) === 0x80

/**
 * `utf8`, `utf8s`, `utf8p`, `utf8ps`: the bytes decoded as UTF-8. An error (bad sequence, code
 * point in a forbidden range or above U+FFFF, overlong form) fails the conversion, or with `s`
 * drops the character; `p` accepts overlong forms.
 */
function jsonUtf8 (s: string, skip: boolean, permissive: boolean): string | null {
  let out = ''
  for (let i = 0; i < s.length;) {
    const b = s.charCodeAt(i) & 0xff
    if (b < 0x80) { out += jsonChar(b); i++; continue }
    const len = b >= 0xc0 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf8 ? 4 : 0
    let ok = len > 0 && i + len <= s.length
    for (let k = 1; ok && k < len; k++) ok = CONTINUATION(s.charCodeAt(i + k) & 0xff)
    if (!ok) {
      if (!skip) return null
      i++
      continue
    }
    let cp = b & (0xff >> (len + 1))
    for (let k = 1; k < len; k++) cp = (cp << 6) | (s.charCodeAt(i + k) & 0x3f)
    const overlong = cp < [0, 0, 0x80, 0x800, 0x10000][len]
    const bad = (cp >= 0xd800 && cp <= 0xdfff) || cp > 0xffff || (overlong && !permissive)
    i += len
    if (bad) {
      if (!skip) return null
      continue
    }
    out += jsonChar(cp)
  }
  return out
}

/** `regsub(regex, subst[, flags])`: `\N` in subst are references; flags `i` and `g`. */
function regsub (a: ArgValue[]): ConvertFn {
  const base = a[0] as RegExp
  const flags = typeof a[2] === 'string' ? a[2] : ''
  for (const f of flags) if (f !== 'i' && f !== 'g') throw new ExprError(`invalid regex flag '${f}', only 'i' and 'g' are supported`)
  const re = new RegExp(base.source, base.flags + flags)
  const subst = String(a[1]).replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1')
  return (v) => toStr(v).replace(re, subst)
}

/** `url_enc` (query type): bytes other than letters, digits and `-._~` as %XX (upper case). */
function urlEncode (s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff
    out += /[A-Za-z0-9\-._~]/.test(s[i]) ? s[i] : '%' + c.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

/** `+` is a space in a form (`inForm`), else only after the first '?'. */
function urlDecode (s: string, inForm: boolean): string | null {
  let out = ''
  let plusIsSpace = inForm
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '?') plusIsSpace = true
    if (c === '%') {
      const h = s.slice(i + 1, i + 3)
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return null
      out += String.fromCharCode(parseInt(h, 16))
      i += 2
    } else out += plusIsSpace && c === '+' ? ' ' : c
  }
  return out
}

/**
 * `map_<match>[_int|_ip](file[,default])` and `map_regm` (§7.3.1 "map"): the file's keys indexed
 * with that match method; `_int` / `_ip` values are checked when the file is read.
 */
function mapRows (): ConverterRow[] {
  const rows: ConverterRow[] = []
  for (const match of ['str', 'beg', 'sub', 'dir', 'dom', 'end', 'reg', 'regm', 'int', 'ip']) {
    for (const out of ['', '_int', '_ip']) {
      if (match === 'regm' && out !== '') continue
      const names = match === 'str' && out === '' ? ['map', 'map_str'] : [`map_${match}${out}`]
      const outType: SampleType = out === '_int' ? 'int' : out === '_ip' ? 'ip' : 'str'
      for (const name of names) {
        rows.push({
          name, args: ['file', 'str'], minArgs: 1, out: outType,
          compile: (a, env) => {
            const path = String(a[0])
            const at = env.location?.()
            const source = configFilePath(env.config, at, path)
            const file = env.files.mapFile(path, source)
            const ref = env.files.mapRef(path, source)
            ref.users.push(`map at file '${at?.file ?? ''}' line ${at?.line ?? 0}`)
            const cast = (s: string, line?: number): Sample => {
              const ok = s === '' || (outType === 'int' ? /^[-+]?\d+$/.test(s) : outType === 'ip' ? parseAddr(s) !== null : true)
              if (!ok) throw new ExprError(line === undefined ? `'${s}' is not a valid ${outType === 'int' ? 'integer' : 'IP address'}` : `unable to parse '${s}' at line ${line} of file '${path}'`)
              return outType === 'int' ? Number(s) : s
            }
            file.values.forEach((v, i) => cast(v, file.lines[i]))
            const dflt = a.length > 1 ? cast(String(a[1])) : null
            // the map may change at run time. Exact-match maps look keys up in the reference's
            // own index, always current; the others rebuild their lookup on the first request
            // after keys changed (`add map`, `del map`). Values (`set map`) are read through.
            const idx = indexKind(match)
            const probe = (e: { key: string, value: string } | undefined): string => `type=${match}, case=sensitive, ` +
              (e === undefined ? 'found=no' : `found=yes, idx=${idx}, key="${e.key}", value="${e.value}", type="${outType === 'int' ? 'sint' : outType}"`)
            if (match === 'str') {
              if (!ref.probes.has(`${match}${out}`)) ref.probes.set(`${match}${out}`, (s) => probe(ref.first(s)))
              const casts = new WeakMap<PatternEntry, { raw: string, value: Sample }>()
              const value = (e: PatternEntry): Sample => {
                if (outType === 'str') return e.value
                let c = casts.get(e)
                if (c === undefined || c.raw !== e.value) casts.set(e, c = { raw: e.value, value: cast(e.value) })
                return c.value
              }
              ref.validators.push((_key, v) => { cast(v) })
              return (v) => {
                const e = ref.first(toStr(v))
                return e === undefined ? dflt : value(e)
              }
            }
            let seen = -1
            let lookup: (s: Sample) => Sample | null = () => null
            let entryOf: (s: string) => PatternEntry | undefined = () => undefined
            const build = (): void => {
              const entries = ref.entries
              const raws = entries.map((e) => e.value)
              const values = raws.map((v) => cast(v))
              const value = (i: number): Sample => {
                const raw = entries[i]!.value
                if (raw !== raws[i]) {
                  raws[i] = raw
                  values[i] = cast(raw)
                }
                return values[i]!
              }
              const keys = entries.map((e) => e.key)
              if (match === 'regm') {
                // The value may hold \N references to the key's groups.
                const res = keys.map((k) => compileRegex(k, false))
                entryOf = (s) => entries[res.findIndex((re) => re.test(s))]
                lookup = (v) => {
                  const s = toStr(v)
                  for (let i = 0; i < res.length; i++) {
                    const m = res[i].exec(s)
                    if (m !== null) return String(value(i)).replace(/\\(\d)/g, (_x, d: string) => m[Number(d)] ?? '')
                  }
                  return dflt
                }
                return
              }
              const matcher = MATCHERS.get(match)!.build(keys, false)
              entryOf = (s) => entries[matcher.find(s)]
              lookup = (v) => {
                const i = matcher.find(v)
                return i === -1 ? dflt : value(i)
              }
            }
            const refresh = (): void => {
              build()
              seen = ref.keysVersion
            }
            refresh()
            if (!ref.probes.has(`${match}${out}`)) ref.probes.set(`${match}${out}`, (s) => {
              if (ref.keysVersion !== seen) refresh()
              return probe(entryOf(s))
            })
            ref.validators.push((key, value) => {
              cast(value)
              if (match === 'regm') compileRegex(key, false)
              else MATCHERS.get(match)!.build([key], false)
            })
            return (v) => {
              if (ref.keysVersion !== seen) refresh()
              return lookup(v)
            }
          }
        })
      }
    }
  }
  return rows
}

/**
 * `be2dec(<separator>,<chunk_size>[,<truncate>])` and `be2hex([<separator>][,<chunk_size>][,<truncate>])`:
 * the bytes in big-endian chunks, each printed, separated; `truncate` drops a short last chunk.
 */
function bigEndian (print: (chunk: string) => string, decimal: boolean): ConverterRow['compile'] {
  return (a) => {
    const sep = typeof a[0] === 'string' ? a[0] : ''
    const size = intArg(a, 1, 0)
    const truncate = intArg(a, 2, 0) !== 0
    if (decimal && (size < 1 || size > 8)) throw new ExprError(`chunk_size out of [1..8] range (${size})`)
    if (size < 0) throw new ExprError(`chunk_size needs to be positive (${size})`)
    return (v) => {
      const s = toStr(v)
      if (size === 0) return print(s)
      const out: string[] = []
      for (let i = 0; i < s.length; i += size) {
        const chunk = s.slice(i, i + size)
        if (truncate && chunk.length < size) break
        out.push(print(chunk))
      }
      return out.join(sep)
    }
  }
}

const hexOf = (bytes: string): string => Buffer.from(bytes, 'latin1').toString('hex').toUpperCase()
const decimalOf = (bytes: string): string => {
  let n = 0n
  for (let i = 0; i < bytes.length; i++) n = (n << 8n) | BigInt(bytes.charCodeAt(i) & 0xff)
  return n.toString()
}

function ipv4Mask (text: string): number {
  if (/^\d+$/.test(text)) {
    const bits = Number(text)
    if (bits > 32) throw new ExprError(`invalid IPv4 mask '${text}'`)
    return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  }
  const addr = parseAddr(text)
  if (addr === null || addr.v6) throw new ExprError(`invalid IPv4 mask '${text}'`)
  return addr.n
}

function ipv6Mask (text: string): bigint {
  if (/^\d+$/.test(text)) {
    const bits = Number(text)
    if (bits > 128) throw new ExprError(`invalid IPv6 mask '${text}'`)
    return bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n)
  }
  const addr = parseAddr(text)
  if (addr === null || !addr.v6) throw new ExprError(`invalid IPv6 mask '${text}'`)
  return addr.n
}

/** An OpenSSL digest name, checked once (`digest`, `hmac`). */
function digestName (name: ArgValue | undefined): string {
  const alg = String(name ?? '').toLowerCase()
  if (!getHashes().includes(alg)) throw new ExprError('algorithm must be a valid OpenSSL message digest name.')
  return alg
}

/** A 64-bit hash as HAProxy prints it: signed, exact (beyond a double's precision). */
const signed64 = (n: bigint): string => BigInt.asIntN(64, n).toString()

/** A variable's value as text, null when it has none. */
const varText = (t: HttpTxn, ref: VarRef): string | null => {
  const x = ref.get(t)
  return x === undefined ? null : toStr(x)
}

/** `strcmp(<var>)`: the first differing byte's difference, else -1, 0 or 1 by length (observed on 2.6.12). */
function compareBytes (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a.charCodeAt(i) & 0xff) - (b.charCodeAt(i) & 0xff)
    if (d !== 0) return d
  }
  return Math.sign(a.length - b.length)
}

/**
 * `mqtt_field_value(<packettype>,<fieldname_or_property_ID>)`: a CONNECT or CONNACK field by
 * name, or a 5.0 property by number (CONNECT's will properties included).
 */
function mqttField (a: ArgValue[]): ConvertFn {
  const typeArg = String(a[0])
  const type = /^[0-9]+$/.test(typeArg) ? Number(typeArg) : MQTT_TYPES.get(typeArg.toLowerCase())
  if (type === undefined || type < 1 || type > 15) throw new ExprError(`Unknown MQTT type '${typeArg}'`)
  const fieldArg = String(a[1])
  const property = /^[0-9]+$/.test(fieldArg) ? Number(fieldArg) : null
  const field = fieldArg.toLowerCase()
  if (property === null && !(MQTT_FIELDS.get(type) ?? []).includes(field)) throw new ExprError(`Unknown MQTT field name '${fieldArg}' for packet type '${typeArg}'`)
  return (v, t) => {
    const packet = mqttParse(toStr(v))
    if (packet === 'partial') { messageMayGrow(t); return null }
    messageDecided(t)
    if (packet === null || packet.type !== type) return null
    return (property === null ? packet.fields.get(field) : packet.properties.get(property)) ?? null
  }
}

/** A variable named by a converter argument (`secure_memcmp`, `strcmp`), with HAProxy's message. */
function registeredVar (name: string): void {
  if (!/^(proc|sess|txn|req|res|check)\.[A-Za-z0-9._-]+$/.test(name)) throw new ExprError(`failed to register variable name '${name}'`)
}

const simple = (name: string, out: SampleType, fn: ConvertFn): ConverterRow =>
  ({ name, args: [], minArgs: 0, out, compile: () => fn })

/** An arithmetic converter: its argument is an integer or a variable's name (§7.3.1 `add(<value>)`). */
const arith = (name: string, op: (x: number, y: number) => number | null): ConverterRow => ({
  name, args: ['str'], minArgs: 1, out: 'int',
  compile: (a) => {
    const arg = String(a[0])
    if (/^[-+]?\d+$/.test(arg)) {
      const y = Number(arg)
      return (v) => { const x = toInt(v); return x === null ? null : op(x, y) }
    }
    checkVarName(arg)
    const ref = varRef(arg)
    return (v, t) => {
      const x = toInt(v)
      const held = ref.get(t)
      const y = held === undefined ? null : toInt(held)
      return x === null || y === null ? null : op(x, y)
    }
  }
})

/** `set-var(<var>[,<cond>…])` / `unset-var(<var>)` as converters: the sample goes on unchanged. */
const varConverters: ConverterRow[] = [
  {
    name: 'set-var', args: ['str', 'str', 'str', 'str', 'str'], minArgs: 1, out: 'any',
    compile: (a) => {
      const [name, ...conds] = a.map(String)
      checkVarName(name!)
      const ref = varRef(name!, true)
      const when = varConditions(conds.filter((c) => c !== ''))
      return (v, t) => { if (when === null || when(ref, t, v)) ref.set(t, v); return v }
    }
  },
  {
    name: 'unset-var', args: ['str'], minArgs: 1, out: 'any',
    compile: (a) => {
      const name = String(a[0])
      checkVarName(name)
      const ref = varRef(name, true)
      return (v, t) => { ref.unset(t); return v }
    }
  }
]

const ROWS: ConverterRow[] = [
  simple('lower', 'str', (v) => lowerAscii(toStr(v))),
  simple('upper', 'str', (v) => upperAscii(toStr(v))),
  // a binary sample read as a string stops at its first NUL byte (observed: 256 bytes from 0x00 give 0)
  simple('length', 'int', (v) => { const s = toStr(v); const nul = s.indexOf('\0'); return nul < 0 ? s.length : nul }),
  simple('hex', 'str', (v) => Buffer.from(toStr(v), 'latin1').toString('hex').toUpperCase()),
  simple('base64', 'str', (v) => Buffer.from(toStr(v), 'latin1').toString('base64')),
  simple('b64dec', 'str', (v) => Buffer.from(toStr(v), 'base64').toString('latin1')),
  simple('host_only', 'str', (v) => {
    const s = toStr(v)
    if (s.startsWith('[')) { const e = s.indexOf(']'); return e === -1 ? s : s.slice(0, e + 1) }
    const c = s.indexOf(':')
    return c === -1 ? s : s.slice(0, c)
  }),
  simple('port_only', 'int', (v) => {
    const s = toStr(v)
    const c = s.lastIndexOf(':')
    return c === -1 || s.endsWith(']') ? 0 : (toInt(s.slice(c + 1)) ?? 0)
  }),
  simple('neg', 'int', (v) => { const x = toInt(v); return x === null ? null : -x }),
  simple('not', 'bool', (v) => { const x = toInt(v); return x === null ? null : x === 0 }),
  simple('bool', 'bool', (v) => { const x = toInt(v); return x === null ? null : x !== 0 }),
  simple('odd', 'bool', (v) => { const x = toInt(v); return x === null ? null : (x & 1) === 1 }),
  simple('even', 'bool', (v) => { const x = toInt(v); return x === null ? null : (x & 1) === 0 }),
  arith('add', (x, y) => x + y),
  arith('sub', (x, y) => x - y),
  arith('mul', (x, y) => x * y),
  arith('div', (x, y) => y === 0 ? null : Math.trunc(x / y)),
  arith('mod', (x, y) => y === 0 ? null : x % y),
  arith('and', (x, y) => Number(BigInt.asIntN(64, BigInt(x) & BigInt(y)))),
  arith('or', (x, y) => Number(BigInt.asIntN(64, BigInt(x) | BigInt(y)))),
  arith('xor', (x, y) => Number(BigInt.asIntN(64, BigInt(x) ^ BigInt(y)))),
  { name: 'field', args: ['int', 'str', 'int'], minArgs: 2, out: 'str', compile: splitter(false) },
  { name: 'word', args: ['int', 'str', 'int'], minArgs: 2, out: 'str', compile: splitter(true) },
  { name: 'regsub', args: ['reg', 'str', 'str'], minArgs: 2, out: 'str', compile: regsub },
  {
    name: 'json', args: ['str'], minArgs: 0, out: 'str',
    compile: (a) => {
      const mode = typeof a[0] === 'string' && a[0] !== '' ? a[0] : 'ascii'
      if (!['ascii', 'utf8', 'utf8s', 'utf8p', 'utf8ps'].includes(mode)) throw new ExprError(`Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'`)
      if (mode === 'ascii') return (v) => jsonEscape(toStr(v))
      const skip = mode.endsWith('s')
      const permissive = mode.startsWith('utf8p')
      return (v) => jsonUtf8(toStr(v), skip, permissive)
    }
  },
  {
    name: 'url_dec', args: ['int'], minArgs: 0, out: 'str',
    compile: (a) => { const form = intArg(a, 0, 0) !== 0; return (v) => urlDecode(toStr(v), form) }
  },
  {
    name: 'ltrim', args: ['str'], minArgs: 1, out: 'str',
    compile: (a) => { const set = String(a[0]); return (v) => { const s = toStr(v); let i = 0; while (i < s.length && set.includes(s[i])) i++; return s.slice(i) } }
  },
  {
    name: 'rtrim', args: ['str'], minArgs: 1, out: 'str',
    compile: (a) => { const set = String(a[0]); return (v) => { const s = toStr(v); let i = s.length; while (i > 0 && set.includes(s[i - 1])) i--; return s.slice(0, i) } }
  },
  {
    // ipmask(<mask4>[,<mask6>]): masks in CIDR or address form; without mask6 an IPv6 address has no value
    name: 'ipmask', args: ['str', 'str'], minArgs: 1, out: 'ip',
    compile: (a) => {
      const mask4 = ipv4Mask(String(a[0]))
      const mask6 = typeof a[1] === 'string' && a[1] !== '' ? ipv6Mask(a[1]) : null
      return (v) => {
        const addr = parseAddr(toStr(v))
        if (addr === null) return null
        if (addr.v6) return mask6 === null ? null : formatV6(addr.n & mask6)
        return formatV4(addr.n & mask4)
      }
    }
  },
  ...(['crc32', 'crc32c', 'djb2', 'sdbm', 'wt6'] as const).map((name): ConverterRow => {
    const hash = { crc32, crc32c, djb2, sdbm, wt6 }[name]
    return {
      name, args: ['int'], minArgs: 0, out: 'int',
      compile: (a) => intArg(a, 0, 0) !== 0 ? (v) => avalanche(hash(toStr(v))) : (v) => hash(toStr(v))
    }
  }),
  { name: 'xxh32', args: ['int'], minArgs: 0, out: 'int', compile: (a) => { const seed = intArg(a, 0, 0); return (v) => xxh32(toStr(v), seed) } },
  simple('sha1', 'str', (v) => createHash('sha1').update(toStr(v), 'latin1').digest().toString('latin1')),
  {
    name: 'sha2', args: ['int'], minArgs: 0, out: 'str',
    compile: (a) => {
      const bits = intArg(a, 0, 256)
      if (![224, 256, 384, 512].includes(bits)) throw new ExprError(`Unsupported number of bits: '${bits}'`)
      return (v) => createHash(`sha${bits}`).update(toStr(v), 'latin1').digest().toString('latin1')
    }
  },
  simple('hex2i', 'int', (v) => {
    const s = toStr(v)
    return /^[0-9a-fA-F]+$/.test(s) ? parseInt(s, 16) : null
  }),
  simple('ub64enc', 'str', (v) => Buffer.from(toStr(v), 'latin1').toString('base64url')),
  simple('ub64dec', 'str', (v) => Buffer.from(toStr(v), 'base64url').toString('latin1')),
  simple('cut_crlf', 'str', (v) => { const s = toStr(v); const m = /[\r\n]/.exec(s); return m === null ? s : s.slice(0, m.index) }),
  {
    name: 'bytes', args: ['int', 'int'], minArgs: 1, out: 'str',
    compile: (a) => {
      const from = a[0] as number
      const len = a.length > 1 ? a[1] as number : null
      if (from < 0 || (len !== null && len < 0)) throw new ExprError('offset and length must be positive integers')
      return (v) => { const s = toStr(v); return from >= s.length ? null : s.slice(from, len === null ? undefined : from + len) }
    }
  },
  {
    // concat([<start>],[<var>],[<end>]): a missing variable adds nothing.
    name: 'concat', args: ['str', 'var', 'str'], minArgs: 0, out: 'str',
    compile: (a) => {
      const start = typeof a[0] === 'string' ? a[0] : ''
      const name = typeof a[1] === 'string' && a[1] !== '' ? a[1] : null
      const end = typeof a[2] === 'string' ? a[2] : ''
      const ref = name === null ? null : varRef(name)
      return (v, t) => {
        const x = ref?.get(t)
        return toStr(v) + start + (x === undefined ? '' : toStr(x)) + end
      }
    }
  },
  {
    name: 'iif', args: ['str', 'str'], minArgs: 2, out: 'str',
    compile: (a) => { const yes = String(a[0]); const no = String(a[1]); return (v) => toBool(v) ? yes : no }
  },
  {
    name: 'url_enc', args: ['str'], minArgs: 0, out: 'str',
    compile: (a) => {
      if (typeof a[0] === 'string' && a[0] !== 'query') throw new ExprError(`Unexpected encode type. Allowed value is 'query'`)
      return (v) => urlEncode(toStr(v))
    }
  },
  {
    // http_date([<offset>],[<unit>]): an epoch time, in s (default), ms or us, as an IMF-fixdate.
    name: 'http_date', args: ['int', 'str'], minArgs: 0, out: 'str',
    compile: (a) => {
      const offset = intArg(a, 0, 0)
      const unit = typeof a[1] === 'string' ? a[1] : 's'
      if (!['s', 'ms', 'us'].includes(unit)) throw new ExprError(`Invalid unit '${unit}', allowed values are 's', 'ms' and 'us'`)
      // Sub-second units print their fraction unpadded, as 2.6.12 does: 3 ms past is ":01.3 GMT".
      const perSecond = unit === 'ms' ? 1000 : unit === 'us' ? 1_000_000 : 1
      return (v) => {
        const n = toInt(v)
        if (n === null) return null
        const t = n + offset
        const date = new Date(Math.floor(t / perSecond) * 1000).toUTCString()
        return perSecond === 1 ? date : date.replace(' GMT', `.${((t % perSecond) + perSecond) % perSecond} GMT`)
      }
    }
  },
  { name: 'be2dec', args: ['str', 'int', 'int'], minArgs: 2, out: 'str', compile: bigEndian(decimalOf, true) },
  { name: 'be2hex', args: ['str', 'int', 'int'], minArgs: 0, out: 'str', compile: bigEndian(hexOf, false) },
  {
    // add_item(<delim>,[<var>][,<suff>]): the delimiter only between a non-empty sample and something added
    name: 'add_item', args: ['str', 'str', 'str'], minArgs: 1, out: 'str',
    compile: (a) => {
      const delim = String(a[0])
      const name = typeof a[1] === 'string' && a[1] !== '' ? a[1] : null
      const suffix = typeof a[2] === 'string' ? a[2] : ''
      if (name !== null) checkVarName(name)
      else if (suffix === '') throw new ExprError('one of the optional arguments has to be nonempty')
      const ref = name === null ? null : varRef(name)
      return (v, t) => {
        const s = toStr(v)
        const added = (ref === null ? '' : varText(t, ref) ?? '') + suffix
        return s !== '' && added !== '' ? s + delim + added : s + added
      }
    }
  },
  {
    name: 'digest', args: ['str'], minArgs: 1, out: 'str',
    compile: (a) => { const alg = digestName(a[0]); return (v) => createHash(alg).update(toStr(v), 'latin1').digest().toString('latin1') }
  },
  {
    // hmac(<algorithm>,<key>): the key is base64, given as is or in a variable
    name: 'hmac', args: ['str', 'str'], minArgs: 2, out: 'str',
    compile: (a) => {
      const alg = digestName(a[0])
      const key = String(a[1])
      const mac = (k: Buffer, v: Sample): string => createHmac(alg, k).update(toStr(v), 'latin1').digest().toString('latin1')
      if (!/^(proc|sess|txn|req|res)\./.test(key)) {
        const k = Buffer.from(key, 'base64')
        return (v) => mac(k, v)
      }
      checkVarName(key)
      const ref = varRef(key)
      return (v, t) => {
        const k = varText(t, ref)
        return k === null ? null : mac(Buffer.from(k, 'base64'), v)
      }
    }
  },
  {
    // constant time when both have the same length (timingSafeEqual)
    name: 'secure_memcmp', args: ['str'], minArgs: 1, out: 'bool',
    compile: (a) => {
      const name = String(a[0])
      registeredVar(name)
      const ref = varRef(name)
      return (v, t) => {
        const other = varText(t, ref)
        if (other === null) return null
        const x = Buffer.from(toStr(v), 'latin1')
        const y = Buffer.from(other, 'latin1')
        return x.length === y.length && timingSafeEqual(x, y)
      }
    }
  },
  {
    name: 'json_query', args: ['str', 'str'], minArgs: 1, out: 'any',
    compile: (a) => { const q = jsonQuery(String(a[0]), typeof a[1] === 'string' ? a[1] : undefined); return (v) => q(toStr(v)) }
  },
  {
    name: 'xxh3', args: ['int'], minArgs: 0, out: 'int',
    compile: (a) => { const seed = BigInt.asUintN(64, BigInt(intArg(a, 0, 0))); return (v) => signed64(XXH3.xxh64(Buffer.from(toStr(v), 'latin1'), seed)) }
  },
  {
    name: 'xxh64', args: ['int'], minArgs: 0, out: 'int',
    compile: (a) => { const seed = BigInt.asUintN(64, BigInt(intArg(a, 0, 0))); return (v) => signed64(xxh64Native(Buffer.from(toStr(v), 'latin1'), seed)) }
  },
  {
    name: 'strcmp', args: ['str'], minArgs: 1, out: 'int',
    compile: (a) => {
      const name = String(a[0])
      if (name === '') throw new ExprError('missing variable name')
      registeredVar(name)
      const ref = varRef(name)
      return (v, t) => { const other = varText(t, ref); return other === null ? null : compareBytes(toStr(v), other) }
    }
  },
  // A message still arriving has no answer yet: the rule reading it waits for more (lib/tcp/payload.ts).
  simple('fix_is_valid', 'bool', (v, t) => {
    const verdict = fixValidate(toStr(v))
    if (verdict === 'partial') return messageMayGrow(t) ? null : false
    messageDecided(t)
    return verdict
  }),
  {
    name: 'fix_tag_value', args: ['str'], minArgs: 1, out: 'str',
    compile: (a) => {
      const arg = String(a[0])
      const tag = /^[0-9]+$/.test(arg) ? String(Number(arg)) : FIX_TAG_NAMES.get(arg.toLowerCase())
      if (tag === undefined) throw new ExprError(`Unknown FIX tag name '${arg}'`)
      return (v, t) => {
        const value = fixTagValue(toStr(v), String(tag))
        if (value === 'partial') { messageMayGrow(t); return null }
        messageDecided(t)
        return value
      }
    }
  },
  simple('mqtt_is_valid', 'bool', (v, t) => {
    const packet = mqttParse(toStr(v))
    if (packet === 'partial') return messageMayGrow(t) ? null : false
    messageDecided(t)
    return packet !== null && (packet.type === CONNECT || packet.type === CONNACK)
  }),
  { name: 'mqtt_field_value', args: ['str', 'str'], minArgs: 2, out: 'str', compile: mqttField },
  ...stickConverterRows(),
  ...mapRows()
]

export const CONVERTERS: ReadonlyMap<string, ConverterRow> = new Map([...ROWS, ...varConverters].map((r) => [r.name, r]))
