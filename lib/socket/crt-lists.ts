// The crt-list commands of the runtime API (management.txt §9.3), answers recorded against
// haproxy 2.6.12 with socat (admin level only):
// - `show ssl crt-list [-n] [<list>]`: the crt-lists of the TLS binds, or one list's lines as a
//   crt-list file would hold them (`-n`: each certificate followed by `:<line>`). The certificate
//   paths are shown resolved; options in 2.6's own order whatever their order on the line, `npn`
//   and `alpn` values followed by a NUL byte as 2.6 prints them.
// - `add ssl crt-list <list> <cert>` or `<<` + one crt-list line: a line for a certificate the
//   process holds (loaded, or made by `new|set|commit ssl cert`); the binds using the list serve
//   it from their next handshake, by its names or the line's SNI filters. Added lines are numbered
//   after the highest number the list had, deleted numbers are not reused.
// - `del ssl crt-list <list> <cert[:line]>`: removes a line (the line number is needed when the
//   certificate has several); a bind's default certificate (its first line) stays.
// A reload reads the files again, as HAProxy's new process does.

import type { ParsedConfig, Bind } from '../config/model.js'
import { isAbsolute, join } from 'node:path'
import { parseCrtList, parseCrtListLine, type CrtListEntry } from '../config/crt-list.js'
import type { LoadedCertificate } from '../tls.js'
import type { CertificateRuntime } from './ssl-certs.js'

/** What the crt-list commands need of the gateway. */
export interface CrtListRuntime extends CertificateRuntime {
  readonly config: ParsedConfig
  /** Makes the binds using `list` serve `entries`, taking their certificates from `certs` first. */
  editCrtList (list: string, entries: CrtListEntry[], certs: LoadedCertificate[]): void
}

/** A crt-list as the runtime API has edited it. */
export interface CrtListState {
  entries: CrtListEntry[]
  /** The highest line number given so far. */
  lastLine: number
  /** Where its relative certificate paths start. */
  base: string
}

/** The options of a crt-list line in the order 2.6 prints them (it does not print `ca-verify-file`). */
const OPTION_ORDER = ['npn', 'alpn', 'verify', 'no-ca-names', 'allow-0rtt', 'ca-file', 'crl-file', 'ciphers', 'ciphersuites', 'curves', 'ecdhe', 'ssl-min-ver', 'ssl-max-ver']
const NUL_ENDED = new Set(['npn', 'alpn'])

/** The binds using each crt-list, in configuration order. */
function crtListBinds (config: ParsedConfig): Map<string, Bind[]> {
  const lists = new Map<string, Bind[]>()
  for (const p of config.proxies) {
    if (p.kind === 'backend' || p.disabled) continue
    for (const b of p.binds) {
      for (const list of b.tls?.crtLists ?? []) {
        const binds = lists.get(list)
        if (binds === undefined) lists.set(list, [b])
        else binds.push(b)
      }
    }
  }
  return lists
}

/** The list's lines as the runtime API holds them (read from its file on first use); undefined for a list no bind uses. */
function stateOf (rt: CrtListRuntime, list: string): CrtListState | undefined {
  const known = rt.certificateStore.crtLists.get(list)
  if (known !== undefined) return known
  const bind = crtListBinds(rt.config).get(list)?.[0]
  if (bind?.tls === undefined) return undefined
  const entries = parseCrtList(list, bind.tls.crtListBase)
  const state = { entries, lastLine: entries.reduce((n, e) => Math.max(n, e.line), 0), base: bind.tls.crtListBase }
  rt.certificateStore.crtLists.set(list, state)
  return state
}

function formatEntry (e: CrtListEntry, numbered: boolean): string {
  const options = OPTION_ORDER.filter(o => o in e.options).map(o => {
    const value = e.options[o]!
    return value === '' ? o : `${o} ${value}${NUL_ENDED.has(o) ? '\0' : ''}`
  })
  return e.file + (numbered ? `:${e.line}` : '') + (options.length > 0 ? ` [${options.join(' ')}]` : '') +
    e.filters.map(f => ' ' + f).join('') + '\n'
}

/** `show ssl crt-list [-n] [<list>]`. */
export function showSslCrtList (rt: CrtListRuntime, args: string[]): string {
  const numbered = args[0] === '-n'
  const list = numbered ? args[1] : args[0]
  if (list === undefined) {
    if (numbered) return "'show ssl crt-list -n' expects a filename or a directory\n\n"
    return [...crtListBinds(rt.config).keys()].map(l => l + '\n').join('') + '\n'
  }
  const state = stateOf(rt, list)
  if (state === undefined) return "didn't find the specified filename\n\n"
  return `# ${list}\n` + state.entries.map(e => formatEntry(e, numbered)).join('') + '\n'
}

/** The certificates the process holds, by file: those the binds loaded and those committed with `new ssl cert`. */
function heldCertificates (rt: CrtListRuntime): Map<string, LoadedCertificate> {
  const held = new Map<string, LoadedCertificate>()
  for (const c of rt.certificates()) held.set(c.file, c)
  for (const [file, c] of rt.certificateStore.created) if (c !== null) held.set(file, c)
  return held
}

const EDIT = "Can't edit the crt-list: "

/** `add ssl crt-list <list> <cert>`, or `add ssl crt-list <list> <<` + one crt-list line. */
export function addSslCrtList (rt: CrtListRuntime, args: string[], payload: string[] | null): string {
  const list = args[0]
  const lines = payload?.filter(l => l.trim() !== '') ?? null
  if (list === undefined || (args[1] === undefined && lines === null)) return "'add ssl crtlist' expects a filename and a certificate name\n\n"
  const state = stateOf(rt, list)
  if (state === undefined) return `${EDIT}crt-list '${list}' does not exist!\n\n`
  let entry: CrtListEntry
  if (lines !== null && args[1] === undefined) {
    if (lines.length > 1) return `${EDIT}only one line of payload is supported!\n\n`
    try {
      const parsed = parseCrtListLine(lines[0] ?? '', 'parsing [CLI:1]', state.base, 0)
      if (parsed === null) return "'add ssl crtlist' expects a filename and a certificate name\n\n"
      entry = parsed
    } catch (err) {
      return `${EDIT}${(err as Error).message}\n\n`
    }
  } else {
    const cert = args[1]!
    entry = { file: isAbsolute(cert) ? cert : join(state.base, cert), options: {}, filters: [], line: 0 }
  }
  const held = heldCertificates(rt)
  if (!held.has(entry.file)) return `${EDIT}certificate '${entry.file}' does not exist!\n\n`
  entry.line = ++state.lastLine
  state.entries = [...state.entries, entry]
  rt.editCrtList(list, state.entries, [...held.values()])
  return `Inserting certificate '${entry.file}' in crt-list '${list}'.\nSuccess!\n\n`
}

const DELETE = "Can't delete the entry: "

/** `del ssl crt-list <list> <cert[:line]>`. */
export function delSslCrtList (rt: CrtListRuntime, args: string[]): string {
  const [list, target] = args
  if (list === undefined || target === undefined) return "'del ssl crtlist' expects a filename and a certificate name\n\n"
  const state = stateOf(rt, list)
  if (state === undefined) return `${DELETE}crt-list '${list}' does not exist!\n\n`
  const numbered = /^(.*):(\d+)$/.exec(target)
  const cert = numbered?.[1] ?? target
  const matches = state.entries.filter(e => e.file === cert)
  if (matches.length === 0) return `${DELETE}certificate '${cert}' does not exist!\n\n`
  const lineNumbers = matches.map(e => e.line).join(', ')
  let entry = matches[0]!
  if (numbered !== null) {
    const hit = matches.find(e => e.line === Number(numbered[2]))
    if (hit === undefined) return `${DELETE}found a certificate '${cert}' but the line number is incorrect, please specify a correct line number preceded by colons (${lineNumbers})!\n\n`
    entry = hit
  } else if (matches.length > 1) {
    return `${DELETE}found the certificate '${cert}' in several entries, please specify a line number preceded by colons (${lineNumbers})!\n\n`
  }
  // the first line of the first crt-list of a bind without `crt`: that bind's default certificate
  const defaultOf = entry === state.entries[0]
    ? (crtListBinds(rt.config).get(list) ?? []).filter(b => b.tls!.crts.length === 0 && b.tls!.crtLists[0] === list)
    : []
  if (defaultOf.length > 0) {
    return `${DELETE}certificate '${cert}' cannot be deleted, it is used as default certificate by the following frontends:\n` +
      defaultOf.map(b => `\t- ${b.loc.file}:${b.loc.line}\n`).join('') + '\n\n'
  }
  state.entries = state.entries.filter(e => e !== entry)
  rt.editCrtList(list, state.entries, [...heldCertificates(rt).values()])
  return `Entry '${cert}' deleted in crtlist '${list}'!\n\n`
}
