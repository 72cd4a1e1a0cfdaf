// Userlists for `http_auth(<userlist>)`, `http_auth_group(<userlist>)` and `http-request auth`
// (configuration.txt §3.4). `insecure-password` compares plain text; `password` holds a crypt(3)
// hash: SHA-512 `$6$` and SHA-256 `$5$` through unixcrypt, MD5 `$1$` through nano-md5. Hashing
// is slow on purpose, so each distinct Authorization value is verified once and the verdict
// kept in a small cache (HAProxy 2.6 has a similar per-credential cache for crypt()).

import { createRequire } from 'node:module'

import { verify as verifySha } from 'unixcrypt'

import type { Userlist } from '../config/model.js'
import { basicCredentials } from './fetches.js'
import type { HttpTxn } from './txn.js'

const md5 = createRequire(import.meta.url)('nano-md5') as { crypt (key: string, setting: string): string }

/** Verdicts kept per userlist before the cache is emptied and starts over. */
const CACHE_SIZE = 1024

function checkPassword (plain: string, stored: string, insecure: boolean): boolean {
  if (insecure) return plain === stored
  if (stored.startsWith('$6$') || stored.startsWith('$5$')) {
    try { return verifySha(plain, stored) } catch { return false }
  }
  if (stored.startsWith('$1$')) {
    const setting = stored.slice(0, stored.lastIndexOf('$') + 1)
    try { return md5.crypt(plain, setting) === stored } catch { return false }
  }
  return false
}

export class UserlistAuth {
  readonly name: string
  private readonly users: Map<string, { password: string, insecure: boolean }>
  private readonly groups: Map<string, Set<string>>
  private readonly cache = new Map<string, string | null>()

  constructor (list: Userlist) {
    this.name = list.name
    this.users = new Map(list.users.map((u) => [u.name, { password: u.password, insecure: u.insecure }]))
    this.groups = new Map(Object.entries(list.groups).map(([g, members]) => [g, new Set(members)]))
  }

  /** The user name when the request's Basic credentials are valid for this list, else null. */
  authenticate (txn: HttpTxn): string | null {
    const header = txn.headers.authorization
    if (typeof header !== 'string') return null
    const known = this.cache.get(header)
    if (known !== undefined) return known
    const cred = basicCredentials(txn)
    let user: string | null = null
    if (cred !== null) {
      const u = this.users.get(cred[0])
      if (u !== undefined && checkPassword(cred[1], u.password, u.insecure)) user = cred[0]
    }
    if (this.cache.size >= CACHE_SIZE) this.cache.clear()
    this.cache.set(header, user)
    return user
  }

  /** Whether `user` belongs to `group` (§3.4 `group`, `user ... groups`). */
  inGroup (user: string, group: string): boolean {
    return this.groups.get(group)?.has(user) === true
  }
}
