// The PROXY protocol header on its own (lib/proxy-protocol.ts): what parseProxyHeader makes of
// whole, partial and wrong headers, and that what send-proxy / send-proxy-v2 write reads back.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseProxyHeader, proxyHeader, type ConnectionAddresses } from '../../lib/proxy-protocol.js'

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex')

test('a v1 line: its addresses and its length, the request after it left alone', () => {
  const data = Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 1234 80\r\nGET / HTTP/1.1\r\n')
  assert.deepEqual(parseProxyHeader(data), { kind: 'done', length: 43, announcement: { addresses: { src: '192.0.2.1', srcPort: 1234, dst: '198.51.100.2', dstPort: 80 } } })
  assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { kind: 'done', length: 15, announcement: { addresses: null } })
  // IPv6 addresses are written back in their short form
  const v6 = parseProxyHeader(Buffer.from('PROXY TCP6 2001:0db8:0:0:0:0:0:1 ::ffff:10.0.0.1 1 2\r\n'))
  assert.equal(v6.kind === 'done' && v6.announcement.addresses?.src, '2001:db8::1')
  assert.equal(v6.kind === 'done' && v6.announcement.addresses?.dst, '::ffff:10.0.0.1')
})

test('the start of a header is incomplete; anything else is refused with HAProxy\'s words', () => {
  for (const part of ['P', 'PROXY TCP4 1.2', '\r\n\r\n\x00']) assert.deepEqual(parseProxyHeader(Buffer.from(part, 'latin1')), { kind: 'incomplete' }, part)
  assert.deepEqual(parseProxyHeader(Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x11, 0, 12])])), { kind: 'incomplete' })
  const refused = (data: string | Buffer): string => { const r = parseProxyHeader(typeof data === 'string' ? Buffer.from(data) : data); return r.kind === 'invalid' ? r.message : r.kind }
  assert.equal(refused('GET / HTTP/1.1\r\n'), 'Received something which does not look like a PROXY protocol header')
  assert.equal(refused('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'Received an unhandled protocol in the PROXY protocol header')
  assert.equal(refused('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'), 'Received an invalid PROXY protocol header')
  assert.equal(refused('PROXY TCP4 1.2.3.4 5.6.7.8 1 2' + ' '.repeat(100)), 'Received an invalid PROXY protocol header')
  assert.equal(refused(Buffer.concat([SIGNATURE, Buffer.from([0x22, 0x11, 0, 12]), Buffer.alloc(12)])), 'Received an invalid PROXY protocol header')
})

test('send-proxy and send-proxy-v2 headers read back as the addresses they carry', () => {
  const cases: ConnectionAddresses[] = [
    { src: '192.0.2.1', srcPort: 40000, dst: '198.51.100.2', dstPort: 443 },
    { src: '2001:db8::7', srcPort: 1, dst: '2001:db8::1', dstPort: 65535 }
  ]
  for (const a of cases) {
    for (const version of [1, 2] as const) {
      const r = parseProxyHeader(Buffer.concat([proxyHeader(version, a), Buffer.from('data')]))
      assert.equal(r.kind, 'done')
      if (r.kind !== 'done') continue
      assert.deepEqual(r.announcement.addresses, a, `v${version} ${a.src}`)
      assert.equal(r.length, proxyHeader(version, a).length)
    }
  }
  // an IPv4 client of an IPv6 destination is written IPv4-mapped
  assert.equal(proxyHeader(1, { src: '192.0.2.1', srcPort: 1, dst: '::1', dstPort: 2 }).toString(), 'PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n')
})
