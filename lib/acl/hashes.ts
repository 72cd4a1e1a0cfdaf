// The hash functions of HAProxy's converters (`crc32`, `crc32c`, `djb2`, `sdbm`, `wt6`, `xxh32`;
// configuration.txt §7.3.1) and of `hash-type ... avalanche`, transcribed from src/hash.c and
// include/haproxy/hash.h, over the sample's bytes (latin1 strings, as node hands headers over).
// All results are unsigned 32-bit integers.

function crcTable (poly: number): Uint32Array {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ poly : c >>> 1
    table[n] = c >>> 0
  }
  return table
}

const CRC32 = crcTable(0xedb88320)
/** Castagnoli polynomial, reflected (src/hash.c hash_crc32c). */
const CRC32C = crcTable(0x82f63b78)

function crcWith (table: Uint32Array, s: string): number {
  let c = 0xffffffff
  for (let i = 0; i < s.length; i++) c = table[(c ^ s.charCodeAt(i)) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

export const crc32 = (s: string): number => crcWith(CRC32, s)
export const crc32c = (s: string): number => crcWith(CRC32C, s)

export function djb2 (s: string): number {
  let h = 5381
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 33) + (s.charCodeAt(i) & 0xff)) | 0
  return h >>> 0
}

export function sdbm (s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = ((s.charCodeAt(i) & 0xff) + (h << 6) + (h << 16) - h) | 0
  return h >>> 0
}

export function wt6 (s: string): number {
  let h0 = 0xa53c965a
  let h1 = 0x5ca6953a
  let step0 = 6
  let step1 = 18
  for (let i = 0; i < s.length; i++) {
    let t = s.charCodeAt(i) & 0xff
    h0 = ~(h0 ^ t)
    h1 = ~(h1 + t)
    t = (h1 << step0) | (h1 >>> (32 - step0))
    h1 = (h0 << step1) | (h0 >>> (32 - step1))
    h0 = t
    t = ((h0 >>> 16) ^ h1) & 0xffff
    step0 = t & 0x1f
    step1 = t >>> 11
  }
  return (h0 ^ h1) >>> 0
}

const P1 = 0x9e3779b1
const P2 = 0x85ebca77
const P3 = 0xc2b2ae3d
const P4 = 0x27d4eb2f
const P5 = 0x165667b1

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))
const round = (acc: number, lane: number): number => Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1)

/** XXH32 (the xxHash reference algorithm HAProxy links). */
export function xxh32 (s: string, seed: number): number {
  const n = s.length
  const b = (i: number): number => s.charCodeAt(i) & 0xff
  const u32 = (i: number): number => (b(i) | (b(i + 1) << 8) | (b(i + 2) << 16) | (b(i + 3) << 24))
  let i = 0
  let h: number
  if (n >= 16) {
    let v1 = (seed + P1 + P2) | 0
    let v2 = (seed + P2) | 0
    let v3 = seed | 0
    let v4 = (seed - P1) | 0
    for (; i + 16 <= n; i += 16) {
      v1 = round(v1, u32(i))
      v2 = round(v2, u32(i + 4))
      v3 = round(v3, u32(i + 8))
      v4 = round(v4, u32(i + 12))
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0
  } else {
    h = (seed + P5) | 0
  }
  h = (h + n) | 0
  for (; i + 4 <= n; i += 4) h = Math.imul(rotl((h + Math.imul(u32(i), P3)) | 0, 17), P4)
  for (; i < n; i++) h = Math.imul(rotl((h + Math.imul(b(i), P5)) | 0, 11), P1)
  h = Math.imul(h ^ (h >>> 15), P2)
  h = Math.imul(h ^ (h >>> 13), P3)
  return (h ^ (h >>> 16)) >>> 0
}

/** HAProxy's full_hash (include/haproxy/hash.h): the `avalanche` option. */
export function avalanche (a: number): number {
  a = ((a + 0x7ed55d16) + (a << 12)) | 0
  a = ((a ^ 0xc761c23c) ^ (a >>> 19)) | 0
  a = ((a + 0x165667b1) + (a << 5)) | 0
  a = ((a + 0xd3a2646c) ^ (a << 9)) | 0
  a = ((a + 0xfd7046c5) + (a << 3)) | 0
  a = ((a ^ 0xb55a4f09) ^ (a >>> 16)) | 0
  // Spread over the whole tree: times a prime close to 3/4 of 2^32.
  return Math.imul(a, 0xc0000001) >>> 0
}
