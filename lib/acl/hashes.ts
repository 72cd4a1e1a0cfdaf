// The hash functions of HAProxy's converters (`crc32`, `crc32c`, `djb2`, `sdbm`, `wt6`, `xxh32`;
// configuration.txt §7.3.1) and of `hash-type ... avalanche`, transcribed from src/hash.c and
// include/haproxy/hash.h, over the sample's bytes (latin1 strings, as node hands headers over).
// All results are unsigned 32-bit integers.

export function crcTable (poly: number): Uint32Array {
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

/** HAProxy's full_hash (include/haproxy/hash.h): the `avalanche` option. */
export function avalanche (a: number): number {
  a = (a + 0x7ed55d16 + (a << 12)) >>> 0
  a = ((a ^ 0xc761c23c) ^ (a >>> 19)) >>> 0
  a = (a + 0x165667b1 + (a << 5)) >>> 0
  a = ((a + 0xd3a2646c) ^ (a << 9)) >>> 0
  a = (a + 0xfd7046c5 + (a << 3)) >>> 0
  a = ((a ^ 0xb55a4f09) ^ (a >>> 16)) >>> 0
  // Spread over the whole tree: times a prime close to 3/4 of 2^32.
  return Math.imul(a, 0xc0000001) >>> 0
}

export type HashFn = 'sdbm' | 'djb2' | 'wt6' | 'crc32' | 'crc32c' | 'none'

/**
 * One hashing state fed byte by byte, so that the balancer can hash keys spread over several
 * strings without building one; the converters hash whole strings through the same code.
 */
export class Hasher {
  private h0 = 0
  private h1 = 0
  private step0 = 0
  private step1 = 0
  /** `none`: the key is its own hash, read as a decimal number (backend.c gen_hash) */
  private digits = true

  constructor (readonly fn: HashFn, readonly avalanche: boolean) {}

  reset (): this {
    this.digits = true
    switch (this.fn) {
      case 'djb2': this.h0 = 5381; break
      case 'wt6':
        this.h0 = 0xa53c965a
        this.h1 = 0x5ca6953a
        this.step0 = 6
        this.step1 = 18
        break
      case 'crc32': case 'crc32c': this.h0 = 0xffffffff; break
      default: this.h0 = 0
    }
    return this
  }

  byte (c: number): void {
    c &= 0xff
    switch (this.fn) {
      case 'sdbm': this.h0 = (Math.imul(this.h0, 65599) + c) >>> 0; break
      case 'djb2': this.h0 = (Math.imul(this.h0, 33) + c) >>> 0; break
      case 'crc32': this.h0 = (CRC32[(this.h0 ^ c) & 0xff] ^ (this.h0 >>> 8)) >>> 0; break
      case 'crc32c': this.h0 = (CRC32C[(this.h0 ^ c) & 0xff] ^ (this.h0 >>> 8)) >>> 0; break
      case 'wt6': {
        let h0 = ~(this.h0 ^ c) >>> 0
        let h1 = ~(this.h1 + c) >>> 0
        const t = ((h1 << this.step0) | (h1 >>> (32 - this.step0))) >>> 0
        h1 = ((h0 << this.step1) | (h0 >>> (32 - this.step1))) >>> 0
        h0 = t
        const u = ((h0 >>> 16) ^ h1) & 0xffff
        this.step0 = u & 0x1f
        this.step1 = u >>> 11
        this.h0 = h0
        this.h1 = h1
        break
      }
      case 'none':
        if (this.digits && c >= 0x30 && c <= 0x39) this.h0 = (this.h0 * 10 + c - 0x30) >>> 0
        else this.digits = false
        break
    }
  }

  /** Feeds chars start..end-1 of s (node strings of HTTP data hold one byte per char). */
  chars (s: string, start: number, end: number): void {
    for (let i = start; i < end; i++) this.byte(s.charCodeAt(i))
  }

  result (): number {
    let h: number
    switch (this.fn) {
      case 'wt6': h = (this.h0 ^ this.h1) >>> 0; break
      case 'crc32': case 'crc32c': h = ~this.h0 >>> 0; break
      default: h = this.h0
    }
    return this.avalanche ? avalanche(h) : h
  }
}

function stringHash (fn: HashFn): (s: string) => number {
  const h = new Hasher(fn, false)
  return (s) => {
    h.reset().chars(s, 0, s.length)
    return h.result()
  }
}

export const crc32 = stringHash('crc32')
export const crc32c = stringHash('crc32c')
export const djb2 = stringHash('djb2')
export const sdbm = stringHash('sdbm')
export const wt6 = stringHash('wt6')

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
