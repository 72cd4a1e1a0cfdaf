// FIX and MQTT converters (`fix_is_valid`, `fix_tag_value`, `mqtt_is_valid`, `mqtt_field_value`)
// on a `mode tcp` proxy's first bytes, both ways: `tcp-request content` rules on the client's
// message and `tcp-response content` rules on the server's answer, held until they decide. The
// same configs run against real HAProxy 2.6 where it is installed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { startProxy, startRawUpstream, skipWithoutHaproxy } from '../differential/harness.js'

const DEFAULTS = 'defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n'
const hex = (s: string): Buffer => Buffer.from(s, 'hex')
/** `tag=value` fields joined with SOH, as FIX writes them. */
const fix = (fields: string): Buffer => Buffer.from(fields.split('|').join('\x01'), 'latin1')

// Valid logons (the messages of HAProxy's reg-test converter/fix.vtc)
const FIX44_LOGON = fix('8=FIX.4.4|9=102|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=252|')
const FIX44_ANSWER = fix('8=FIX.4.4|9=79|35=A|34=1|49=EXECUTOR|52=20201029-13:02:44.535360|56=CLIENT1|98=0|108=30|141=Y|10=038|')
const MQTT5_CONNECT = hex('107e00044d51545405ee003c182700000014170126000161000162260001630001642100140008746573745f7375622a03000a746578742f706c61696e08000c77696c6c727370746f7069632600016500016626000167000168000977696c6c746f706963000b77696c6c7061796c6f61640004746573740006706173737764')
const MQTT5_CONNACK = hex('20250000221100000078217fff24012501270000ffff22000a2600016100016226000163000164')

/** Sends `data` in pieces (the rules must wait for the whole message), resolves with what came back before the close. */
async function converse (port: number, data: Buffer, pieces = 1): Promise<Buffer> {
  return await new Promise((resolve) => {
    const chunks: Buffer[] = []
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    s.on('data', c => chunks.push(c))
    s.on('end', () => s.end())
    s.on('close', () => resolve(Buffer.concat(chunks)))
    s.on('error', () => {})
    const size = Math.ceil(data.length / pieces)
    let at = 0
    const next = (): void => {
      s.write(data.subarray(at, at + size))
      at += size
      if (at < data.length) setTimeout(next, 30)
    }
    next()
  })
}

/** An upstream that waits for `expect` bytes, then answers and closes. */
async function answering (expect: number, answer: Buffer): Promise<{ port: number, close (): Promise<void> }> {
  return await startRawUpstream((s) => {
    let got = 0
    s.on('data', (d) => {
      got += d.length
      if (got >= expect) s.end(answer)
    })
  })
}

const FIX_CONFIG = (up: number) => (port: number): string => DEFAULTS +
  `frontend fe\n    bind 127.0.0.1:${port}\n    tcp-request inspect-delay 3s\n` +
  '    tcp-request content reject unless { req.payload(0,0),fix_is_valid }\n' +
  '    tcp-request content set-var(req.sender) req.payload(0,0),fix_tag_value(SenderCompID)\n' +
  '    tcp-request content set-var(req.sum) req.payload(0,0),fix_tag_value(10)\n' +
  '    tcp-request content reject if ! { var(req.sender) -m str CLIENT1 } || ! { var(req.sum) -m str 252 }\n' +
  '    default_backend be\n' +
  `backend be\n    server s 127.0.0.1:${up}\n    tcp-response inspect-delay 3s\n` +
  '    tcp-response content reject unless { res.payload(0,0),fix_is_valid }\n' +
  '    tcp-response content set-var(res.target) res.payload(0,0),fix_tag_value(TargetCompID)\n' +
  '    tcp-response content reject unless { var(res.target) -m str CLIENT1 }\n'

for (const label of ['ours', 'haproxy'] as const) {
  test(`FIX: a valid logon passes both ways, sent in pieces; a bad checksum, body length or tag order is refused (${label})`, { skip: label === 'haproxy' ? skipWithoutHaproxy : false }, async (t) => {
    const up = await answering(FIX44_LOGON.length, FIX44_ANSWER)
    const gw = await startProxy(label, FIX_CONFIG(up.port))
    t.after(async () => { await gw.stop(); await up.close() })
    assert.deepEqual(await converse(gw.port, FIX44_LOGON, 4), FIX44_ANSWER)
    const bad = [
      fix('8=FIX.4.4|9=102|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=253|'),
      fix('8=FIX.4.4|9=100|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=252|'),
      fix('9=102|8=FIX.4.4|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=252|'),
      fix('8=FIX.4.4|9=101|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=|108=30|141=Y|553=Username|554=Password|10=252|')
    ]
    for (const msg of bad) assert.equal((await converse(gw.port, msg)).length, 0)
  })

  test(`MQTT: a 5.0 CONNECT's fields and properties, the CONNACK's; other packets are refused (${label})`, { skip: label === 'haproxy' ? skipWithoutHaproxy : false }, async (t) => {
    const up = await answering(MQTT5_CONNECT.length, MQTT5_CONNACK)
    const gw = await startProxy(label, (port) => DEFAULTS +
      `frontend fe\n    bind 127.0.0.1:${port}\n    tcp-request inspect-delay 3s\n` +
      '    tcp-request content reject unless { req.payload(0,0),mqtt_is_valid }\n' +
      '    tcp-request content set-var(req.flags) req.payload(0,0),mqtt_field_value(connect,flags)\n' +
      '    tcp-request content set-var(req.user) req.payload(0,0),mqtt_field_value(CONNECT,username)\n' +
      '    tcp-request content set-var(req.maxpkt) req.payload(0,0),mqtt_field_value(1,39)\n' +
      '    tcp-request content set-var(req.ctype) req.payload(0,0),mqtt_field_value(connect,3)\n' +
      '    tcp-request content reject if ! { var(req.flags) -m str 238 } || ! { var(req.user) -m str test }\n' +
      '    tcp-request content reject if ! { var(req.maxpkt) -m str 20 } || ! { var(req.ctype) -m str text/plain }\n' +
      '    default_backend be\n' +
      `backend be\n    server s 127.0.0.1:${up.port}\n    tcp-response inspect-delay 3s\n` +
      '    tcp-response content reject unless { res.payload(0,0),mqtt_is_valid }\n' +
      '    tcp-response content set-var(res.recvmax) res.payload(0,0),mqtt_field_value(connack,33)\n' +
      '    tcp-response content set-var(res.vsn) res.payload(0,0),mqtt_field_value(connack,protocol_version)\n' +
      '    tcp-response content reject if ! { var(res.recvmax) -m str 32767 } || ! { var(res.vsn) -m str 5 }\n')
    t.after(async () => { await gw.stop(); await up.close() })
    assert.deepEqual(await converse(gw.port, MQTT5_CONNECT, 3), MQTT5_CONNACK)
    // PINGREQ, a CONNECT with flags, a remaining length over 4 bytes
    for (const msg of ['d000', '111400044d5154540402003c0008746573745f737562', '10ffffffff1400044d5154540402003c0008746573745f737562']) {
      assert.equal((await converse(gw.port, hex(msg))).length, 0)
    }
  })
}

test('strcmp: the first differing byte, else the lengths, as HAProxy 2.6 answers', async (t) => {
  const gw = await startProxy('ours', (port) => 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n' +
    `frontend fe\n    bind 127.0.0.1:${port}\n    http-request set-var(txn.b) hdr(b)\n` +
    '    http-request return status 200 content-type text/plain lf-string "%[hdr(a),strcmp(txn.b)]"\n')
  t.after(async () => { await gw.stop() })
  // values observed on HAProxy 2.6.12
  const cases: Array<[string, string, string]> = [['abc', 'abd', '-1'], ['a', 'z', '-25'], ['ab', 'abc', '-1'], ['abcd', 'a', '1'], ['b', 'abcd', '1'], ['abc', 'abc', '0']]
  for (const [a, b, want] of cases) {
    const res = await fetch(`http://127.0.0.1:${gw.port}/`, { headers: { a, b } })
    assert.equal(await res.text(), want, `${a} vs ${b}`)
  }
  const none = await fetch(`http://127.0.0.1:${gw.port}/`, { headers: { a: 'x' } })
  assert.equal(await none.text(), '')
})

test('ipmask with an IPv6 mask, in CIDR or address form, as HAProxy 2.6 prints it', { skip: skipWithoutHaproxy }, async (t) => {
  const masks = ['ipmask(24,64)', 'ipmask(24,120)', 'ipmask(24,ffff:ffff:ffff:ffff:ffff:ffff:ffff:fee0)', 'ipmask(24,ffff:ffff:ffff:ffff:0:ffff:ffff:0)', 'ipmask(255.255.0.0,128)', 'ipmask(24)']
  const config = (port: number): string => 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n' +
    `frontend fe\n    bind 127.0.0.1:${port}\n` +
    `    http-request return status 200 content-type text/plain lf-string "${masks.map(m => `%[req.hdr_ip(a),${m}]`).join(' ')}"\n`
  const [real, ours] = [await startProxy('haproxy', config), await startProxy('ours', config)]
  t.after(async () => { await real.stop(); await ours.stop() })
  for (const a of ['2001:db8:c001:c01a:ffff:ffff:10:ffff', '2001:db8::bad:c0f:ffff', '::ffff:192.168.1.101', '192.168.1.255']) {
    const get = async (port: number): Promise<string> => await (await fetch(`http://127.0.0.1:${port}/`, { headers: { a } })).text()
    assert.equal(await get(ours.port), await get(real.port), a)
  }
})
