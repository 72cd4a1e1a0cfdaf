// Variables by scope and the conditions of `set-var(name,cond…)` (configuration.txt §4.2):
// `proc.` ones set in `global` and through the runtime API (`get var`, `set var` in experimental
// mode), `sess.` ones shared by the requests of one connection and set by `tcp-request session`
// rules, `txn.`/`req.`/`res.` ones per request. The CLI and real HAProxy 2.6 run the same config.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { haproxyInstalled, withHaproxy } from '../acl/real-haproxy.js'
import { withGateway } from '../gateway/fixtures.js'
import { cli } from '../socket/client.js'

const dir = mkdtempSync(join(tmpdir(), 'vars-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const config = (sock: string) => (port: number): string => `
global
    stats socket ${sock} level admin
    set-var proc.twelve int(12)
    set-var proc.five var(proc.missing,60),div(proc.twelve)
    set-var-fmt proc.text "%[var(proc.twelve)] units"
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    tcp-request session set-var(sess.conn) var(proc.five)
    http-request set-var(proc.requests) var(proc.requests,0),add(1)
    http-request set-var(req.before) var(sess.conn)
    http-request set-var(sess.conn) var(sess.conn),add(req.before)
    # conditions: the variable as it is against the new value
    http-request set-var(txn.a) int(5)
    http-request set-var(txn.a,ifgt) int(9)
    http-request set-var(txn.b) int(5)
    http-request set-var(txn.b,iflt) int(9)
    http-request set-var(txn.c,ifexists) str(never)
    http-request set-var(txn.d,ifnotexists) str(new)
    http-request set-var(txn.e) str(kept)
    http-request set-var(txn.e,ifempty) str(other)
    http-request set-var(txn.e,ifempty) str()
    http-request set-var(txn.f) str(kept)
    http-request set-var(txn.f,ifnotempty) int(0)
    http-request unset-var(txn.f)
    http-request set-var(txn.g,ifset) str(never)
    http-request set-var(proc.declared,ifexists) str(declared)
    http-request set-header x-conv "%[str(conv),set-var(txn.h,ifnotset)]=%[var(txn.h)]"
    http-request return status 200 hdr x-sess "proc=%[var(proc.requests)] sess=%[var(sess.conn)] req=%[var(req.before)]" hdr x-cond "a=%[var(txn.a)] b=%[var(txn.b)] c=%[var(txn.c)] d=%[var(txn.d)] e=%[var(txn.e)] f=%[var(txn.f)] g=%[var(txn.g)] p=%[var(proc.declared)] %[req.fhdr(x-conv)]" hdr x-text "%[var(proc.text)]"
`

/** Requests on one keep-alive connection; the answers' head lines, in order. */
async function onOneConnection (port: number, paths: string[]): Promise<Array<Record<string, string>>> {
  const s = net.connect(port, '127.0.0.1')
  const heads: Array<Record<string, string>> = []
  let buf = ''
  for (const path of paths) {
    s.write(`GET ${path} HTTP/1.1\r\nhost: h\r\n\r\n`)
    const head = await new Promise<string>((resolve, reject) => {
      const take = (): void => {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const h = buf.slice(0, end)
        // bodyless answers (return without a body): content-length 0
        buf = buf.slice(end + 4)
        s.off('data', onData)
        resolve(h)
      }
      const onData = (d: Buffer): void => { buf += d.toString('latin1'); take() }
      s.on('data', onData)
      s.once('error', reject)
      take()
    })
    heads.push(Object.fromEntries(head.split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()])))
  }
  s.destroy()
  return heads
}

async function check (port: number, sock: string): Promise<void> {
  assert.equal(await cli(sock, 'get var proc.five\n'), 'proc.five: type=sint value=<5>\n')
  assert.equal(await cli(sock, 'get var proc.text\n'), 'proc.text: type=str value=<12 units>\n')
  assert.equal(await cli(sock, 'get var txn.a\n'), 'Variable not found.\n\n')
  const [first, second] = await onOneConnection(port, ['/1', '/2'])
  // the session rules ran once for the connection; its sess. variable lives across its requests
  assert.equal(first!['x-sess'], 'proc=1 sess=10 req=5')
  assert.equal(second!['x-sess'], 'proc=2 sess=20 req=10')
  // ifgt / iflt: set when the variable is greater / less than the new value
  assert.equal(first!['x-cond'], 'a=5 b=9 c= d=new e= f= g= p=declared conv=conv')
  assert.equal((await onOneConnection(port, ['/3']))[0]!['x-sess'], 'proc=3 sess=10 req=5')
  assert.equal(await cli(sock, 'get var proc.requests\n'), 'proc.requests: type=sint value=<3>\n')
  // `set var` wants the experimental mode
  assert.equal(await cli(sock, 'set var proc.text str(x)\n'), 'This command is restricted to experimental mode only.\n\n')
  assert.equal(await cli(sock, 'experimental-mode on; set var txn.x str(a)\n'), "\n'set var': cannot set variable 'txn.x', only scope 'proc' is permitted here.\n")
  await cli(sock, 'experimental-mode on; set var proc.text str(updating); set var proc.text fmt %[var(proc.text),regsub(ing,ed)]\n')
  assert.equal(await cli(sock, 'get var proc.text\n'), 'proc.text: type=str value=<updated>\n')
  assert.equal((await onOneConnection(port, ['/4']))[0]!['x-text'], 'updated')
}

describe('variables', () => {
  test('through the CLI', async () => {
    const sock = join(dir, 'ours.sock')
    await withGateway(join(dir, 'ours.cfg'), config(sock), async (port) => { await check(port, sock) })
  })

  test('through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
    const sock = join(dir, 'real.sock')
    await withHaproxy(join(dir, 'real.cfg'), config(sock), async (port) => { await check(port, sock) })
  })
})
