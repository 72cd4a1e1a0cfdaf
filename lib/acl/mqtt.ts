// MQTT 3.1, 3.1.1 and 5.0 packets for the `mqtt_is_valid` and `mqtt_field_value` converters
// (configuration.txt §7.3.1), read after the OASIS specifications: a fixed header (type and
// flags, then the remaining length as a variable-length integer of at most 4 bytes), then the
// packet. Only CONNECT (the client's first packet) and CONNACK (the server's first one) are
// understood, as in HAProxy: any other packet is not valid.

/** Packet type names of `mqtt_field_value(<packettype>, …)`, by number. */
export const MQTT_TYPES: ReadonlyMap<string, number> = new Map([
  'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback',
  'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'
].map((name, i) => [name, i + 1]))

export const CONNECT = 1
export const CONNACK = 2

/** The named fields of each packet type `mqtt_field_value` reads. */
export const MQTT_FIELDS: ReadonlyMap<number, readonly string[]> = new Map([
  [CONNECT, ['flags', 'protocol_name', 'protocol_version', 'client_identifier', 'will_topic', 'will_payload', 'username', 'password', 'keepalive']],
  [CONNACK, ['flags', 'protocol_version', 'reason_code']]
])

/** MQTT 5.0 property identifiers and how their values are encoded (§2.2.2.2 of the 5.0 specification). */
type PropKind = 'byte' | 'u16' | 'u32' | 'varint' | 'utf8' | 'binary' | 'pair'
const PROPERTIES: ReadonlyMap<number, PropKind> = new Map([
  [1, 'byte'], [2, 'u32'], [3, 'utf8'], [8, 'utf8'], [9, 'binary'], [11, 'varint'], [17, 'u32'], [18, 'utf8'],
  [19, 'u16'], [21, 'utf8'], [22, 'binary'], [23, 'byte'], [24, 'u32'], [25, 'byte'], [26, 'utf8'], [28, 'utf8'],
  [31, 'utf8'], [33, 'u16'], [34, 'u16'], [35, 'u16'], [36, 'byte'], [37, 'byte'], [38, 'pair'], [39, 'u32'],
  [40, 'byte'], [41, 'byte'], [42, 'byte']
])

/** A packet read whole: its type, its named fields and its properties (values as text). */
export interface MqttPacket {
  type: number
  fields: Map<string, string>
  properties: Map<number, string>
}

/** Thrown by the reader on a malformed packet. */
class Malformed extends Error {}

class Reader {
  constructor (private readonly s: string, public at: number, private readonly end: number) {}

  byte (): number {
    if (this.at >= this.end) throw new Malformed()
    return this.s.charCodeAt(this.at++) & 0xff
  }

  u16 (): number { return (this.byte() << 8) | this.byte() }
  u32 (): number { return this.u16() * 65536 + this.u16() }

  varint (): number {
    let n = 0
    for (let i = 0; i < 4; i++) {
      const b = this.byte()
      n += (b & 0x7f) * 128 ** i
      if ((b & 0x80) === 0) return n
    }
    throw new Malformed()
  }

  bytes (n: number): string {
    if (this.at + n > this.end) throw new Malformed()
    const out = this.s.slice(this.at, this.at + n)
    this.at += n
    return out
  }

  /** A UTF-8 string or binary data: a 2-byte length, then that many bytes. */
  block (): string { return this.bytes(this.u16()) }

  /** A 5.0 property list (its length first); user properties (38) are read and not kept. */
  properties (into: Map<number, string>): void {
    const len = this.varint()
    const stop = this.at + len
    if (stop > this.end) throw new Malformed()
    while (this.at < stop) {
      const id = this.varint()
      const kind = PROPERTIES.get(id)
      let value: string
      switch (kind) {
        case 'byte': value = String(this.byte()); break
        case 'u16': value = String(this.u16()); break
        case 'u32': value = String(this.u32()); break
        case 'varint': value = String(this.varint()); break
        case 'utf8': case 'binary': value = this.block(); break
        case 'pair': this.block(); this.block(); continue
        default: throw new Malformed()
      }
      into.set(id, value)
    }
    if (this.at !== stop) throw new Malformed()
  }
}

/**
 * The first packet of `s`: the packet, 'partial' when more bytes are needed to read it, or null
 * when it is malformed or of a type this reader does not understand.
 */
export function mqttParse (s: string): MqttPacket | 'partial' | null {
  if (s.length < 2) return 'partial'
  const head = s.charCodeAt(0) & 0xff
  const type = head >> 4
  if ((head & 0x0f) !== 0 || (type !== CONNECT && type !== CONNACK)) return null
  let length = 0
  let at = 1
  for (let i = 0; ; i++) {
    if (i === 4) return null
    if (at >= s.length) return 'partial'
    const b = s.charCodeAt(at++) & 0xff
    length += (b & 0x7f) * 128 ** i
    if ((b & 0x80) === 0) break
  }
  if (s.length < at + length) return 'partial'
  const r = new Reader(s, at, at + length)
  const packet: MqttPacket = { type, fields: new Map(), properties: new Map() }
  try {
    if (type === CONNECT) readConnect(r, packet)
    else readConnack(r, packet, length)
  } catch (err) {
    if (err instanceof Malformed) return null
    throw err
  }
  return r.at === at + length ? packet : null
}

function readConnect (r: Reader, p: MqttPacket): void {
  const name = r.block()
  const version = r.byte()
  if (!(name === 'MQTT' && (version === 4 || version === 5)) && !(name === 'MQIsdp' && version === 3)) throw new Malformed()
  const flags = r.byte()
  const will = (flags & 0x04) !== 0
  const qos = (flags >> 3) & 3
  const username = (flags & 0x80) !== 0
  const password = (flags & 0x40) !== 0
  // reserved bit; a will QoS of 3; will QoS or retain without a will; before 5.0, a password without a user name
  if ((flags & 0x01) !== 0 || qos === 3 || (!will && (flags & 0x38) !== 0) || (version < 5 && password && !username)) throw new Malformed()
  p.fields.set('protocol_name', name)
  p.fields.set('protocol_version', String(version))
  p.fields.set('flags', String(flags))
  p.fields.set('keepalive', String(r.u16()))
  if (version === 5) r.properties(p.properties)
  p.fields.set('client_identifier', r.block())
  if (will) {
    if (version === 5) r.properties(p.properties)
    p.fields.set('will_topic', r.block())
    p.fields.set('will_payload', r.block())
  }
  if (username) p.fields.set('username', r.block())
  if (password) p.fields.set('password', r.block())
}

/** A CONNACK of 2 bytes is 3.1/3.1.1's; a longer one carries 5.0 properties. */
function readConnack (r: Reader, p: MqttPacket, length: number): void {
  const flags = r.byte()
  if ((flags & 0xfe) !== 0) throw new Malformed()
  p.fields.set('flags', String(flags))
  p.fields.set('reason_code', String(r.byte()))
  p.fields.set('protocol_version', length === 2 ? '4' : '5')
  if (length > 2) r.properties(p.properties)
}
