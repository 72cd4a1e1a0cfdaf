// `show cache` (management.txt §9.3): each cache, then each object it holds. HAProxy prints its
// shared-memory addresses and 1 kB blocks; there is no shared memory here, so the addresses are
// stable made-up ones in the same shape and the blocks are the objects' sizes rounded up to 1 kB.

import { keyHash, VARY_ENCODING, type Cache, type Caches } from '../runtime/cache.js'

const BLOCK = 1024
/** Where the made-up addresses of the first cache start; each cache gets its own range. */
const BASE = 0x7f0000000000
const CACHE_SPAN = 0x10000000

const hex = (n: number): string => '0x' + n.toString(16)
const blocksOf = (size: number): number => Math.max(1, Math.ceil(size / BLOCK))

function showOne (cache: Cache, index: number, now: number): string {
  const base = BASE + index * CACHE_SPAN
  const objects = [...cache.fresh()]
  let used = 0
  for (const o of objects) used += blocksOf(o.size)
  let out = `${hex(base + 0x3a)}: ${cache.name} (shctx:${hex(base)}, available blocks:${Math.floor(cache.totalMaxSize / BLOCK) - used})\n`
  let at = base + 0xc8
  for (const o of objects) {
    // HAProxy's secondary key: the accept-encoding part first, then the referer's hash
    const vary = ((o.vary & VARY_ENCODING) !== 0 ? '0001' : '0000') + '0000' + (o.referer === null ? '00000000' : keyHash(o.referer).toString(16).padStart(8, '0'))
    out += `${hex(at)} hash:${o.hash} vary:0x${vary} size:${o.size} (${blocksOf(o.size)} blocks), refcount:0, expire:${Math.max(0, Math.floor((o.expires - now) / 1000))}\n`
    at += blocksOf(o.size) * (BLOCK + 0x30)
  }
  return out
}

export function showCache (caches: Caches): string {
  const now = Date.now()
  return caches.all().map((c, i) => showOne(c, i, now)).join('') + '\n'
}
