// The client's first bytes as `tcp-request content` rules read them (configuration.txt §7.3.5):
// `req.len`, `req.payload`, `req.payload_lv`, and the TLS ClientHello fields of
// `req.ssl_hello_type`, `req.ssl_ver`, `req.ssl_sni`, `req.ssl_alpn`, `req.ssl_ec_ext`,
// `req.ssl_st_ext`. A fetch over data that may still grow
// marks the buffer `incomplete`: the rule that read it waits for more (until inspect-delay
// expires) instead of deciding on a partial message, as HAProxy's "may change" samples do.

/** What a TCP connection has received so far, while its content rules run. */
export interface TcpPayload {
  data: Buffer
  /** No more data will come before the rules decide (inspect-delay expired, client closed). */
  final: boolean
  /** Set by a fetch whose answer may change with more data. */
  incomplete: boolean
}

function waitMore (p: TcpPayload): null {
  if (!p.final) p.incomplete = true
  return null
}

/** `req.len`: bytes received so far (may grow). */
export function payloadLength (p: TcpPayload): number {
  if (!p.final) p.incomplete = true
  return p.data.length
}

/** `req.payload(offset,length)`: a length of 0 means everything from offset. */
export function payloadSlice (p: TcpPayload, offset: number, length: number): Buffer | null {
  if (length === 0) {
    if (!p.final) p.incomplete = true
    return p.data.length >= offset ? p.data.subarray(offset) : null
  }
  if (p.data.length < offset + length) return waitMore(p)
  return p.data.subarray(offset, offset + length)
}

/** `req.payload_lv(offset1,length[,offset2])`: a big-endian length of `length` bytes at offset1, then the block it sizes. */
export function payloadLv (p: TcpPayload, lenOffset: number, lenSize: number, dataOffset?: number): Buffer | null {
  if (lenSize < 1 || lenSize > 4) return null
  if (p.data.length < lenOffset + lenSize) return waitMore(p)
  let size = 0
  for (let i = 0; i < lenSize; i++) size = size * 256 + p.data[lenOffset + i]!
  const start = dataOffset ?? lenOffset + lenSize
  if (p.data.length < start + size) return waitMore(p)
  return p.data.subarray(start, start + size)
}

/** The TLS handshake record at the start of the payload, or null (incomplete or not TLS). */
function handshake (p: TcpPayload): Buffer | null {
  const d = p.data
  if (d.length < 5) return waitMore(p)
  // a TLS record: content type 22 (handshake), major version 3
  if (d[0] !== 0x16 || d[1] !== 0x03) return null
  const len = d.readUInt16BE(3)
  if (d.length < 5 + len) return waitMore(p)
  return d.subarray(5, 5 + len)
}

/** `req.ssl_hello_type`: the handshake message type of a TLS hello (1 = ClientHello). */
export function sslHelloType (p: TcpPayload): number | null {
  const d = p.data
  if (d.length < 6) return waitMore(p)
  if (d[0] !== 0x16 || d[1] !== 0x03) return null
  return d[5]!
}

/** `req.ssl_ver`: the record's version as HAProxy gives it (major << 16 | minor, e.g. 0x030001 for TLS 1.0). */
export function sslVersion (p: TcpPayload): number | null {
  const d = p.data
  if (d.length < 3) return waitMore(p)
  if (d[0] !== 0x16 || d[1] !== 0x03) return null
  return (d[1]! << 16) | d[2]!
}

/**
 * The extensions of a whole ClientHello at the start of the payload, by type, or null (not a
 * hello, or not all there yet: the rule waits for more).
 */
function helloExtensions (p: TcpPayload): Map<number, Buffer> | null {
  const h = handshake(p)
  if (h === null || h.length < 4 || h[0] !== 0x01) return null
  let i = 4 + 2 + 32 // type, length, client version, random
  if (h.length < i + 1) return null
  i += 1 + h[i]! // session id
  if (h.length < i + 2) return null
  i += 2 + h.readUInt16BE(i) // cipher suites
  if (h.length < i + 1) return null
  i += 1 + h[i]! // compression methods
  const found = new Map<number, Buffer>()
  if (h.length < i + 2) return found
  const end = Math.min(h.length, i + 2 + h.readUInt16BE(i))
  i += 2
  while (i + 4 <= end) {
    const type = h.readUInt16BE(i)
    const len = h.readUInt16BE(i + 2)
    i += 4
    if (!found.has(type)) found.set(type, h.subarray(i, Math.min(end, i + len)))
    i += len
  }
  return found
}

const SERVER_NAME = 0
const SUPPORTED_GROUPS = 10
const ALPN = 16
const SESSION_TICKET = 35

/** `req.ssl_sni`: the server_name extension of the ClientHello, or null. */
export function sslSni (p: TcpPayload): string | null {
  const ext = helloExtensions(p)?.get(SERVER_NAME)
  // server_name_list: list length, then (name type 0 = host_name, length, name)
  if (ext === undefined || ext.length < 5 || ext[2] !== 0) return null
  return ext.toString('latin1', 5, Math.min(ext.length, 5 + ext.readUInt16BE(3)))
}

/**
 * `req.ssl_alpn`: the protocols of the ClientHello's ALPN extension (RFC 7301), in the client's
 * order, or null. Observed on HAProxy 2.6: a sample expression gets the first one, an ACL
 * matches any of them.
 */
export function sslAlpn (p: TcpPayload): string[] | null {
  const ext = helloExtensions(p)?.get(ALPN)
  if (ext === undefined || ext.length < 2) return null
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0))
  const protocols: string[] = []
  for (let i = 2; i < end; i += 1 + ext[i]!) protocols.push(ext.toString('latin1', i + 1, Math.min(end, i + 1 + ext[i]!)))
  return protocols.length > 0 ? protocols : null
}

/** `req.ssl_ec_ext`: the ClientHello carries the Supported Elliptic Curves (supported_groups) extension. */
export function sslEcExtension (p: TcpPayload): boolean | null {
  const ext = helloExtensions(p)
  return ext === null ? null : ext.has(SUPPORTED_GROUPS)
}

/** `req.ssl_st_ext`: 0 without the SessionTicket extension (RFC 5077), 1 with an empty one, 2 with a ticket. */
export function sslSessionTicket (p: TcpPayload): number | null {
  const ext = helloExtensions(p)
  if (ext === null) return null
  const ticket = ext.get(SESSION_TICKET)
  return ticket === undefined ? 0 : ticket.length > 0 ? 2 : 1
}

/** The payload a rule reads now: the server's while tcp-response rules run, else the client's. */
function inspected (txn: { payload?: TcpPayload, resPayload?: TcpPayload }): TcpPayload | undefined {
  return txn.resPayload ?? txn.payload
}

/**
 * A converter parsing a protocol message (`fix_*`, `mqtt_*`) found it unfinished: true (the
 * rule waits) while more data may come, false once the payload is final.
 */
export function messageMayGrow (txn: { payload?: TcpPayload, resPayload?: TcpPayload }): boolean {
  const p = inspected(txn)
  if (p === undefined || p.final) return false
  p.incomplete = true
  return true
}

/** The message is whole: its answer will not change, whatever `req.payload(0,0)` said. */
export function messageDecided (txn: { payload?: TcpPayload, resPayload?: TcpPayload }): void {
  const p = inspected(txn)
  if (p !== undefined) p.incomplete = false
}
