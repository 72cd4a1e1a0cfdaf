// The hash functions of the converters (`crc32`, `crc32c`, `djb2`, `sdbm`, `wt6`, `xxh32`;
// configuration.txt §7.3.1) and of `hash-type … avalanche`, written from their published
// definitions (lib/runtime/balancing.md, "Hash functions") and checked against the values HAProxy 2.6.12's
// converters return (test/runtime/recorded/functions.ts). They run over the sample's bytes
// (latin1 strings, as node hands headers over); all results are unsigned 32-bit integers.

import { xxh32 as xxh32Bytes } from '@node-rs/xxhash'

/** The byte-wise lookup table of a reflected CRC-32 polynomial. */
export function crcTable (poly: number): Uint32Array {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ poly : c >>> 1
    table[n] = c >>> 0
  }
  return table
}

/** IEEE 802.3 (zlib's crc32) and Castagnoli (iSCSI's crc32c), both reflected. */
const IEEE = crcTable(0xedb88320)
const CASTAGNOLI = crcTable(0x82f63b78)

/**
 * The `avalanche` mix: Bob Jenkins' six-step 32-bit integer hash, then a multiplication by
 * 3221225473 so that neighbouring inputs land far apart on a 32-bit ring. The shift-and-add
 * steps are written as the multiplications they are (a + (a << 12) = a × 4097).
 */
export function avalanche (x: number): number {
  let a = (Math.imul(x, 4097) + 0x7ed55d16) >>> 0
  a = (a ^ 0xc761c23c ^ (a >>> 19)) >>> 0
  a = (Math.imul(a, 33) + 0x165667b1) >>> 0
  a = ((a + 0xd3a2646c) ^ (a << 9)) >>> 0
  a = (Math.imul(a, 9) + 0xfd7046c5) >>> 0
  a = (a ^ 0xb55a4f09 ^ (a >>> 16)) >>> 0
  return Math.imul(a, 0xc0000001) >>> 0
}

export type HashFn = 'sdbm' | 'djb2' | 'wt6' | 'crc32' | 'crc32c' | 'none'

const rotateLeft = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0

/**
 * One running hash fed byte by byte, so that the balancer can hash a key spread over several
 * strings without joining them; the converters hash whole strings through the same code.
 */
export class Hasher {
  /** The running value; wt6 keeps a second register and its two rotation amounts. */
  private value = 0
  private second = 0
  private turnFirst = 0
  private turnSecond = 0
  /** `none`: the key read as a decimal number, up to its first non-digit. */
  private digitsOnly = true

  constructor (readonly fn: HashFn, readonly avalanche: boolean) {}

  reset (): this {
    this.digitsOnly = true
    this.value = this.fn === 'djb2' ? 5381 : this.fn === 'crc32' || this.fn === 'crc32c' ? 0xffffffff : 0
    if (this.fn === 'wt6') {
      this.value = 0xa53c965a
      this.second = 0x5ca6953a
      this.turnFirst = 6
      this.turnSecond = 18
    }
    return this
  }

  byte (c: number): void {
    c &= 0xff
    const v = this.value
    switch (this.fn) {
      case 'sdbm': this.value = (Math.imul(v, 65599) + c) >>> 0; break
      case 'djb2': this.value = (Math.imul(v, 33) + c) >>> 0; break
      case 'crc32': this.value = (IEEE[(v ^ c) & 0xff] ^ (v >>> 8)) >>> 0; break
      case 'crc32c': this.value = (CASTAGNOLI[(v ^ c) & 0xff] ^ (v >>> 8)) >>> 0; break
      case 'wt6': this.wt6(c); break
      case 'none':
        if (this.digitsOnly && c >= 0x30 && c <= 0x39) this.value = (v * 10 + c - 0x30) >>> 0
        else this.digitsOnly = false
        break
    }
  }

  /** The registers cross over, each complemented and rotated; the mix picks the next rotations. */
  private wt6 (c: number): void {
    const first = rotateLeft(~(this.second + c) >>> 0, this.turnFirst)
    const second = rotateLeft(~(this.value ^ c) >>> 0, this.turnSecond)
    const mix = ((first >>> 16) ^ second) & 0xffff
    this.turnFirst = mix & 31
    this.turnSecond = mix >>> 11
    this.value = first
    this.second = second
  }

  /** Feeds chars start..end-1 of s (node strings of HTTP data hold one byte per char). */
  chars (s: string, start: number, end: number): void {
    for (let i = start; i < end; i++) this.byte(s.charCodeAt(i))
  }

  result (): number {
    let h = this.value
    if (this.fn === 'wt6') h = (h ^ this.second) >>> 0
    else if (this.fn === 'crc32' || this.fn === 'crc32c') h = ~h >>> 0
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

/** XXH32 of the string's bytes (the xxHash library's implementation). */
export function xxh32 (s: string, seed: number): number {
  return xxh32Bytes(Buffer.from(s, 'latin1'), seed >>> 0) >>> 0
}
