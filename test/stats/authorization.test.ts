// How `stats auth` reads unusual Authorization values, side by side with real HAProxy 2.6.12:
// spacing, the scheme's case, base64 padding and alphabet, a user without colon, an empty
// password, lists, repeated headers, long values. The same reading decides `http_auth`
// (lib/acl/fetches.ts parseBasicAuth). The stats page checks users with @fastify/basic-auth
// behind that reading, which refuses a credentials list HAProxy reads up to its first comma
// (a README difference): those rows give our status apart.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { head, skipWithoutHaproxy, startBoth } from '../differential/harness.js'
import { parseBasicAuth } from '../../lib/acl/fetches.js'

const b64 = (text: string): string => Buffer.from(text, 'latin1').toString('base64')
const OK = b64('admin:secret')
const BAD = b64('admin:wrong')

/** Authorization header values (several: repeated headers), the status HAProxy 2.6.12 answers (recorded) and ours where it differs. */
const CASES: Array<[string, string[], number, number?]> = [
  ['as sent by browsers', [`Basic ${OK}`], 200],
  ['lower-case scheme', [`basic ${OK}`], 200],
  ['upper-case scheme', [`BASIC ${OK}`], 200],
  ['two spaces after the scheme', [`Basic  ${OK}`], 200],
  ['three spaces after the scheme', [`Basic   ${OK}`], 200],
  ['a tab after the scheme', [`Basic\t${OK}`], 401],
  ['a space then a tab', [`Basic \t${OK}`], 401],
  ['no space after the scheme', [`Basic${OK}`], 401],
  ['trailing space', [`Basic ${OK} `], 200],
  ['padded base64', [`Basic ${b64('admin2:secret1')}`], 200],
  ['padding missing', [`Basic ${b64('admin2:secret1').replace(/=+$/, '')}`], 401],
  ['padding added to an unpadded value', [`Basic ${OK}=`], 401],
  ['one padding character too many', [`Basic ${b64('admin2:secret1')}=`], 401],
  ['+ and / in the base64', [`Basic ${b64('plus:~~~')}`], 200],
  ['URL-safe alphabet', [`Basic ${b64('plus:~~~').replace(/\+/g, '-')}`], 401],
  ['a space inside the base64', [`Basic ${OK.slice(0, 8)} ${OK.slice(8)}`], 401],
  ['a user without colon', [`Basic ${b64('admin')}`], 401],
  ['an empty password', [`Basic ${b64('empty:')}`], 200],
  ['a password for the user with an empty one', [`Basic ${b64('empty:x')}`], 401],
  ['an empty user', [`Basic ${b64(':secret')}`], 401],
  ['a colon in the password', [`Basic ${b64('colon:a:b')}`], 200],
  ['a 3,000-character password', [`Basic ${b64('long:' + 'x'.repeat(3000))}`], 200],
  ['the scheme alone', ['Basic'], 401],
  ['the scheme and a space', ['Basic '], 401],
  ['a lone padding character', ['Basic ='], 401],
  ['another scheme', [`Bearer ${OK}`], 401],
  ['words after the credentials', [`Basic ${OK} junk`], 401],
  ['a list: good credentials first', [`Basic ${OK}, junk`], 200, 401],
  ['a list: good credentials, then bad ones', [`Basic ${OK},Basic ${BAD}`], 200, 401],
  ['a list: bad credentials first', [`Basic ${BAD},Basic ${OK}`], 401],
  ['a list: junk first', [`junk, Basic ${OK}`], 401],
  ['two headers, the good one first', [`Basic ${OK}`, `Basic ${BAD}`], 200],
  ['two headers, the bad one first', [`Basic ${BAD}`, `Basic ${OK}`], 401],
  ['12,000 characters of base64', [`Basic ${'A'.repeat(12000)}`], 401],
  // the head no longer fits in a buffer (tune.bufsize less tune.maxrewrite): HAProxy's 400
  ['20,000 characters of base64', [`Basic ${'A'.repeat(20000)}`], 400]
]

async function status (port: number, values: string[]): Promise<number> {
  const socket = net.connect(port, '127.0.0.1')
  let data = ''
  socket.setEncoding('latin1')
  socket.on('data', (d: string) => { data += d })
  socket.on('error', () => {})
  socket.end(`GET /st HTTP/1.1\r\nHost: x\r\n${values.map(v => `Authorization: ${v}\r\n`).join('')}Connection: close\r\n\r\n`)
  await new Promise(resolve => socket.once('close', resolve))
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)
}

test('stats auth: unusual Authorization values get the status HAProxy gives them', { skip: skipWithoutHaproxy }, async (t) => {
  const config = (port: number): string => `${head()}
listen stats
    bind 127.0.0.1:${port}
    stats enable
    stats uri /st
    stats auth admin:secret
    stats auth admin2:secret1
    stats auth empty:
    stats auth colon:a:b
    stats auth plus:~~~
    stats auth long:${'x'.repeat(3000)}
`
  const pair = await startBoth(config)
  t.after(() => pair.stop())
  for (const [what, values, want, ours = want] of CASES) {
    assert.equal(await status(pair.haproxy.port, values), want, `haproxy: ${what}`)
    assert.equal(await status(pair.ours.port, values), ours, `ours: ${what}`)
  }
})

test('parseBasicAuth: the user and password HAProxy reads', () => {
  assert.deepEqual(parseBasicAuth(`basic   ${OK}`), ['admin', 'secret'])
  assert.deepEqual(parseBasicAuth(`Basic ${b64('colon:a:b')}, x`), ['colon', 'a:b'])
  assert.deepEqual(parseBasicAuth(`Basic ${b64('empty:')}`), ['empty', ''])
  assert.equal(parseBasicAuth(`Basic ${b64('admin')}`), null)
  assert.equal(parseBasicAuth(`Basic ${OK}=`), null)
  assert.equal(parseBasicAuth(undefined), null)
})
