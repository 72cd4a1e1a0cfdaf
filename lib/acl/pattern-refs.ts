// Pattern references (HAProxy's pat_ref): the contents of one pattern file (`acl … -f file`) or
// map file (`map(file)`), shared by every ACL and converter naming it, and changed at run time by
// the CLI (`add map`, `del acl`, `clear map` … management.txt §9.3). A change of its keys bumps
// `keysVersion`; the compiled matchers compare it with the version they were built from and
// rebuild on the next request that reads them, so the request path pays one integer comparison
// and nothing else. `set map` changes values only: entries are changed in place and the map
// converters read them through (no rebuild). Entries are indexed by key, for the CLI's changes
// and for exact-match maps (`map`, `map_str`), which look keys up there and never rebuild.
// Versions (`prepare map`, `add map @<ver>`, `commit map @<ver>`): `entries` is always the
// current version, the one requests read; entries of other versions wait in `staged` until a
// commit makes theirs current and drops the older ones, as HAProxy 2.6's generations.

import type { Matcher } from './matchers.js'

/** How HAProxy indexes a match method's patterns, as `get map` / `get acl` say: a tree for exact, prefix and address ones. */
export const indexKind = (match: string): 'tree' | 'list' => match === 'str' || match === 'beg' || match === 'ip' ? 'tree' : 'list'

export interface PatternEntry {
  key: string
  value: string
  /** Stable handle shown by `show map`/`show acl` as a pointer and accepted as `#<ref>`. */
  readonly handle: number
}

export type PatternKind = 'acl' | 'map'

export class PatternRef {
  entries: PatternEntry[]
  /** Bumped when keys come or go; every reference of a registry shares one counter, so versions never repeat. */
  keysVersion: number
  /** The entries of each key, in file order. */
  private readonly byKey = new Map<string, PatternEntry[]>()
  /** Where it is used, for `show map` / `show acl`: "map at file 'h.cfg' line 16". */
  readonly users: string[] = []
  /**
   * The answer of each way the map is read (match kind and value type: converters that share
   * both share one, as HAProxy's pattern expressions) to `get map <map> <value>`, `type=str,
   * case=sensitive, found=yes, idx=tree, key="/k1", value="v1", type="str"`, as looked up now.
   */
  readonly probes = new Map<string, (sample: string) => string>()
  /** Each user's check of a new entry (a map_int value, an ip pattern): throws HAProxy's complaint. */
  readonly validators: Array<(key: string, value: string) => void> = []
  /** The version requests read (`curr_ver`) and the last one prepared (`next_ver`). */
  currVersion = 0
  nextVersion = 0
  /** Entries of versions other than the current one, by version. */
  private readonly staged = new Map<number, PatternEntry[]>()

  constructor (
    readonly registry: PatternRefs,
    readonly id: number,
    /** The file it was read from. */
    readonly file: string,
    readonly kind: PatternKind,
    entries: Array<{ key: string, value: string }>
  ) {
    this.entries = entries.map(e => ({ key: e.key, value: e.value, handle: registry.nextHandle() }))
    for (const e of this.entries) this.index(e)
    this.keysVersion = registry.tick()
  }

  private index (e: PatternEntry): void {
    const same = this.byKey.get(e.key)
    if (same === undefined) this.byKey.set(e.key, [e])
    else same.push(e)
  }

  keys (): string[] { return this.entries.map(e => e.key) }
  values (): string[] { return this.entries.map(e => e.value) }

  /** The first entry of a key (file order), as an exact-match lookup finds it; kept up to date by each change. */
  first (key: string): PatternEntry | undefined {
    return this.byKey.get(key)?.[0]
  }

  /** Throws the first user's complaint about an entry, before it is added or set. */
  validate (key: string, value: string): void {
    for (const v of this.validators) v(key, value)
  }

  add (key: string, value: string, version = this.currVersion): void {
    const e = { key, value, handle: this.registry.nextHandle() }
    if (version !== this.currVersion) {
      const list = this.staged.get(version)
      if (list === undefined) this.staged.set(version, [e])
      else list.push(e)
      return
    }
    this.entries.push(e)
    this.index(e)
    this.keysVersion = this.registry.tick()
  }

  /** Sets the value of every entry with this key (or the one with this handle), in place; false when none. */
  set (key: string, value: string): boolean {
    const hits = this.select(key)
    for (const e of hits) e.value = value
    return hits.length > 0
  }

  /** Deletes every entry with this key (or the one with this handle); false when none. */
  delete (key: string): boolean {
    const hits = this.select(key)
    if (hits.length === 0) return false
    // in place: the lookups reading this array rebuild before their next read (keysVersion)
    const gone = new Set(hits)
    for (const e of hits) this.entries.splice(this.entries.indexOf(e), 1)
    const rest = this.byKey.get(hits[0]!.key)!.filter(e => !gone.has(e))
    if (rest.length === 0) this.byKey.delete(hits[0]!.key)
    else this.byKey.set(hits[0]!.key, rest)
    this.keysVersion = this.registry.tick()
    return true
  }

  clear (version = this.currVersion): void {
    if (version !== this.currVersion) {
      this.staged.delete(version)
      return
    }
    this.entries = []
    this.byKey.clear()
    this.keysVersion = this.registry.tick()
  }

  /** The entries of a version (the current one: what requests read). */
  version (version: number): readonly PatternEntry[] {
    return version === this.currVersion ? this.entries : this.staged.get(version) ?? []
  }

  /** Every entry of every version (`entry_cnt`). */
  count (): number {
    let n = this.entries.length
    for (const list of this.staged.values()) n += list.length
    return n
  }

  /** `prepare map|acl`: a new empty version, its number. */
  prepare (): number {
    return ++this.nextVersion
  }

  /** `commit map|acl @<version>`: that version becomes the current one, older ones are dropped; false when out of range. */
  commit (version: number): boolean {
    if (version <= this.currVersion || version > this.nextVersion) return false
    const entries = this.staged.get(version) ?? []
    for (const v of [...this.staged.keys()]) if (v <= version) this.staged.delete(v)
    this.currVersion = version
    this.entries = entries
    this.byKey.clear()
    for (const e of entries) this.index(e)
    this.keysVersion = this.registry.tick()
    return true
  }

  /** `#<handle>` names one entry (as printed by `show map`), anything else is a key. */
  private select (key: string): readonly PatternEntry[] {
    if (key.startsWith('#')) {
      const handle = parseHandle(key.slice(1))
      return this.entries.filter(e => e.handle === handle)
    }
    return this.byKey.get(key) ?? []
  }
}

/** `#0x55ab…` or `#123` → the handle. */
function parseHandle (s: string): number {
  return /^0x[0-9a-f]+$/i.test(s) ? parseInt(s.slice(2), 16) : Number(s)
}

/** Where an entry handle is printed as a pointer: a fixed base makes them look like HAProxy's. */
const HANDLE_BASE = 0x55aa00000000

/** Every reference of a running configuration, in creation order (their ids). */
export class PatternRefs {
  readonly all: PatternRef[] = []
  private readonly byFile = new Map<string, PatternRef>()
  private clock = 0
  private handles = 0

  tick (): number { return ++this.clock }
  nextHandle (): number { return HANDLE_BASE + (++this.handles) * 0x90 }

  /** The reference of a file, created on first use with the entries `read` returns. */
  file (file: string, kind: PatternKind, read: () => Array<{ key: string, value: string }>, created?: (ref: PatternRef) => void): PatternRef {
    const key = `${kind}\0${file}`
    let ref = this.byFile.get(key)
    if (ref === undefined) {
      ref = new PatternRef(this, this.all.length, file, kind, read())
      this.all.push(ref)
      this.byFile.set(key, ref)
      created?.(ref)
    }
    return ref
  }

  /** By `#<id>` or file name, among the references of that kind. */
  find (kind: PatternKind, name: string): PatternRef | undefined {
    if (name.startsWith('#')) {
      const id = Number(name.slice(1))
      const ref = this.all[id]
      return ref !== undefined && ref.kind === kind && Number.isInteger(id) ? ref : undefined
    }
    return this.byFile.get(`${kind}\0${name}`)
  }
}

/** `0x55aa…` as `show map` prints an entry. */
export function entryPointer (e: PatternEntry): string {
  return '0x' + e.handle.toString(16)
}

/**
 * A matcher over references that may change: rebuilt from their current entries (and the fixed
 * inline patterns) the first time it is used after a change.
 */
export function liveMatcher (refs: readonly PatternRef[], inline: readonly string[], keysOf: (r: PatternRef) => string[], build: (patterns: readonly string[]) => Matcher): Matcher {
  const stamp = refs.length === 1
    ? () => refs[0]!.keysVersion
    : () => { let s = 0; for (const r of refs) s += r.keysVersion; return s }
  const rebuild = (): Matcher => {
    const patterns: string[] = []
    for (const r of refs) patterns.push(...keysOf(r))
    patterns.push(...inline)
    return build(patterns)
  }
  // built now, so that a bad pattern in a file is a configuration error
  let current = rebuild()
  let seen = stamp()
  for (const r of refs) r.validators.push((key) => { build([key]) })
  return {
    find (v) {
      const now = stamp()
      if (now !== seen) {
        current = rebuild()
        seen = now
      }
      return current.find(v)
    }
  }
}
