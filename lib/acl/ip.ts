// IPv4/IPv6 addresses and networks for the `ip` match method, `map_ip` and `src`-style fetches
// (configuration.txt §7.1.6 "Matching IPv4 and IPv6 addresses"). Addresses are compared as
// integers: IPv4 as a uint32 number, IPv6 as a 128-bit bigint; an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d, what node reports on dual-stack sockets) is treated as its IPv4 address.

export type Addr = { v6: false, n: number } | { v6: true, n: bigint }

export interface Net {
  addr: Addr
  bits: number
}

/**
 * A dotted IPv4 address (four decimal parts of 1 to 3 digits, each at most 255) as a uint32; null
 * when it is none. Read without a regex: `src` keys stick tables with it on every request.
 */
export function parseV4 (s: string): number | null {
  let dots = 0
  let digits = 0
  let part = 0
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return null
      n = n * 256 + part
      digits = 0
      part = 0
      continue
    }
    if (c < 48 || c > 57 || ++digits > 3) return null
    part = part * 10 + c - 48
    if (part > 255) return null
  }
  return dots === 3 && digits > 0 ? n * 256 + part : null
}

/** An IPv6 address (an embedded dotted IPv4 tail included) as a 128-bit integer; null when it is none. */
export function parseV6 (s: string): bigint | null {
  if (s.length < 2 || !/^[0-9a-fA-F:.]+$/.test(s)) return null
  let tail: number[] = []
  let text = s
  const lastColon = s.lastIndexOf(':')
  if (s.indexOf('.', lastColon) !== -1) {
    const v4 = parseV4(s.slice(lastColon + 1))
    if (v4 === null) return null
    tail = [v4 >>> 16, v4 & 0xffff]
    text = s.slice(0, lastColon + 1) + (s[lastColon - 1] === ':' ? '' : '0')
    if (text.endsWith(':0')) text = text.slice(0, -2)
    else if (text.endsWith(':')) text = text.slice(0, -1)
  }
  const halves = text.split('::')
  if (halves.length > 2) return null
  const group = (part: string): number[] | null => {
    if (part === '') return []
    const out: number[] = []
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null
      out.push(parseInt(g, 16))
    }
    return out
  }
  const head = group(halves[0])
  const rest = halves.length === 2 ? group(halves[1]) : []
  if (head === null || rest === null) return null
  const given = head.length + rest.length + tail.length
  let words: number[]
  if (halves.length === 2) {
    if (given > 7) return null
    words = [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail]
  } else {
    if (given !== 8) return null
    words = [...head, ...tail]
  }
  let n = 0n
  for (const w of words) n = (n << 16n) | BigInt(w)
  return n
}

const MAPPED_PREFIX = 0xffffn << 32n

/** Parses an address; IPv4-mapped IPv6 addresses come back as IPv4. */
export function parseAddr (s: string): Addr | null {
  const v4 = parseV4(s)
  if (v4 !== null) return { v6: false, n: v4 }
  const v6 = parseV6(s)
  if (v6 === null) return null
  if (v6 >> 32n === 0xffffn) return { v6: false, n: Number(v6 & 0xffffffffn) }
  return { v6: true, n: v6 }
}

/** An IPv4 address (a uint32; any integer is taken modulo 2^32, as HAProxy casts one) in dotted form. */
export function formatV4 (n: number): string {
  const u = n >>> 0
  return `${u >>> 24}.${(u >>> 16) & 255}.${(u >>> 8) & 255}.${u & 255}`
}

/** An IPv6 address in RFC 5952's text form (inet_ntop's, as HAProxy prints addresses). */
export function formatV6 (n: bigint): string {
  const words: number[] = []
  for (let i = 7; i >= 0; i--) words.push(Number((n >> BigInt(i * 16)) & 0xffffn))
  if (words.slice(0, 5).every(w => w === 0) && words[5] === 0xffff) {
    return `::ffff:${words[6]! >> 8}.${words[6]! & 255}.${words[7]! >> 8}.${words[7]! & 255}`
  }
  // the longest run of at least two zero words becomes '::'
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLen) { best = i; bestLen = j - i }
    i = j
  }
  const hex = words.map(w => w.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

/** `a.b.c.d`, `a.b.c.d/24`, `a.b.c.d/255.255.0.0`, `v6`, `v6/64`. */
export function parseNet (s: string): Net | null {
  const slash = s.indexOf('/')
  const addr = parseAddr(slash === -1 ? s : s.slice(0, slash))
  if (addr === null) return null
  const max = addr.v6 ? 128 : 32
  if (slash === -1) return { addr, bits: max }
  const m = s.slice(slash + 1)
  let bits: number
  if (/^\d{1,3}$/.test(m)) bits = Number(m)
  else {
    const mask = parseV4(m)
    if (mask === null || addr.v6) return null
    bits = 32 - Math.log2(((~mask) >>> 0) + 1)
    if (!Number.isInteger(bits)) return null
  }
  if (bits > max) return null
  // An IPv4-mapped network written in IPv6 notation keeps only its IPv4 bits.
  if (!addr.v6 && slash !== -1 && s.slice(0, slash).includes(':')) bits = Math.max(0, bits - 96)
  return { addr, bits }
}

function maskV4 (n: number, bits: number): number {
  return bits === 0 ? 0 : (n & (0xffffffff << (32 - bits))) >>> 0
}

function maskV6 (n: bigint, bits: number): bigint {
  return bits === 0 ? 0n : (n >> BigInt(128 - bits)) << BigInt(128 - bits)
}

/**
 * Longest-prefix lookup over a set of networks, as HAProxy's IP trees: one hash per prefix
 * length present, probed from the longest, so the cost depends on the number of distinct
 * prefix lengths, not on the number of networks. Returns the index of the most specific
 * network (the first one given among equals), or -1.
 */
export class NetIndex {
  private readonly v4 = new Map<number, Map<number, number>>()
  private readonly v6 = new Map<number, Map<bigint, number>>()
  private v4Lengths: number[] = []
  private v6Lengths: number[] = []

  add (net: Net, index: number): void {
    if (net.addr.v6) {
      let t = this.v6.get(net.bits)
      if (t === undefined) this.v6.set(net.bits, t = new Map())
      const k = maskV6(net.addr.n, net.bits)
      if (!t.has(k)) t.set(k, index)
      this.v6Lengths = [...this.v6.keys()].sort((a, b) => b - a)
    } else {
      let t = this.v4.get(net.bits)
      if (t === undefined) this.v4.set(net.bits, t = new Map())
      const k = maskV4(net.addr.n, net.bits)
      if (!t.has(k)) t.set(k, index)
      this.v4Lengths = [...this.v4.keys()].sort((a, b) => b - a)
    }
  }

  find (a: Addr): number {
    if (a.v6) {
      for (const bits of this.v6Lengths) {
        const i = this.v6.get(bits)!.get(maskV6(a.n, bits))
        if (i !== undefined) return i
      }
      return -1
    }
    for (const bits of this.v4Lengths) {
      const i = this.v4.get(bits)!.get(maskV4(a.n, bits))
      if (i !== undefined) return i
    }
    if (this.v6Lengths.length === 0) return -1
    return this.find({ v6: true, n: MAPPED_PREFIX | BigInt(a.n) })
  }
}

/** A test of one network (`10.0.0.0/8`, `2001:db8::/48`, an address alone), or null when the text is none. */
export function netTest (text: string): ((ip: string) => boolean) | null {
  const net = parseNet(text)
  if (net === null) return null
  const index = new NetIndex()
  index.add(net, 0)
  return (ip) => {
    const a = parseAddr(ip)
    return a !== null && index.find(a) === 0
  }
}

/** node reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d; HAProxy shows a.b.c.d. */
export function plainAddress (addr: string | undefined): string {
  if (addr === undefined) return ''
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr
}
