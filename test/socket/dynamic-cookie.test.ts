// Dynamic cookies (`cookie … dynamic` with `dynamic-cookie-key`, §4.2) and their runtime API
// commands (`enable|disable dynamic-cookie backend`, `set dynamic-cookie-key backend`), compared
// with real HAProxy 2.6 on the same servers: the cookie values (a hash of key, address and
// port: the same on both sides), the server a cookie sends a request to, each command's answers
// at each level, and the values after the key, the switch or a server's address changed.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { head, send, skipWithoutHaproxy, startBoth, startUpstream } from '../differential/harness.js'
import { cli, waitForSocket } from './client.js'
import { dynamicCookie } from '../../lib/runtime/persistence.js'

test('dynamicCookie: XXH64 of key, address and port, as haproxy 2.6.12 made them (recorded)', () => {
  // values read from real HAProxy's Set-Cookie for these servers
  assert.equal(dynamicCookie('mykey', '127.0.0.1', 18501), '92b7ee297b20070b')
  assert.equal(dynamicCookie('mykey', '127.0.0.1', 18502), '640a9cd6b0e0a72e')
  assert.equal(dynamicCookie('other', '127.0.0.1', 18501), '558de2365415260d')
  assert.equal(dynamicCookie('mykey', '::1', 18503), '230166d627c2a04c')
  assert.equal(dynamicCookie('mykey', 'localhost', 80), null)
})

test('dynamic cookies and their runtime API commands as haproxy 2.6', { skip: skipWithoutHaproxy, timeout: 60_000 }, async () => {
  const ups = await Promise.all(['u1', 'u2', 'u3'].map(async n => await startUpstream(n)))
  const dir = mkdtempSync(join(tmpdir(), 'fh-cli-dyncookie-'))
  const sock = (level: string, port: number): string => join(dir, `${level}-${port}.sock`)
  const both = await startBoth((port) => head() + [
    'global',
    ...['admin', 'operator', 'user'].map(l => `    stats socket ${sock(l, port)} level ${l}`),
    'frontend fe',
    `    bind 127.0.0.1:${port}`,
    '    use_backend nokey if { path_beg /nokey }',
    '    use_backend mixed if { path_beg /mixed }',
    '    default_backend be',
    'backend be',
    '    balance roundrobin',
    '    cookie SRV insert dynamic',
    '    dynamic-cookie-key mykey',
    `    server s1 127.0.0.1:${ups[0]!.port}`,
    `    server s2 127.0.0.1:${ups[1]!.port}`,
    'backend nokey',
    '    cookie SRV insert dynamic',
    `    server s1 127.0.0.1:${ups[0]!.port}`,
    'backend mixed',
    '    cookie SRV insert dynamic',
    '    dynamic-cookie-key mykey',
    `    server s1 127.0.0.1:${ups[0]!.port} cookie fixed`,
    ''
  ].join('\n'))
  const ports = [both.haproxy.port, both.ours.port]
  /** The Set-Cookie lines and the servers of `n` requests on `path` (with `cookie`), on each side. */
  const answers = async (path: string, n: number, cookie?: string): Promise<[string[], string[]]> => {
    const out: string[][] = []
    for (const p of ports) {
      const seen: string[] = []
      for (let i = 0; i < n; i++) {
        const a = await send(p, { path, headers: cookie === undefined ? {} : { cookie } })
        seen.push(`${String(a.headers['x-served-by'])} ${String(a.headers['set-cookie'] ?? '-')}`)
      }
      out.push(seen.sort())
    }
    return [out[0]!, out[1]!]
  }
  const ask = async (level: string, cmd: string): Promise<void> => {
    const [real, ours] = await Promise.all(ports.map(async p => await cli(sock(level, p), cmd + '\n')))
    assert.equal(ours, real, `${level}: ${cmd}`)
  }
  const same = async (what: string, path: string, n: number, cookie?: string): Promise<string[]> => {
    const [real, ours] = await answers(path, n, cookie)
    assert.deepEqual(ours, real, what)
    return ours
  }
  try {
    for (const p of ports) await waitForSocket(sock('admin', p))
    const first = await same('dynamic values', '/', 2)
    assert.deepEqual(first, [`u1 SRV=${dynamicCookie('mykey', '127.0.0.1', ups[0]!.port)!}; path=/`, `u2 SRV=${dynamicCookie('mykey', '127.0.0.1', ups[1]!.port)!}; path=/`])
    // the cookie names the server: every request goes to s2, no cookie inserted again
    await same('persistence', '/', 3, `SRV=${dynamicCookie('mykey', '127.0.0.1', ups[1]!.port)!}`)
    await same('no key: no value', '/nokey', 1)
    await same("a server's own value wins", '/mixed', 1)
    for (const level of ['operator', 'user']) {
      for (const cmd of ['disable dynamic-cookie backend be', 'enable dynamic-cookie backend be', 'set dynamic-cookie-key backend be k']) await ask(level, cmd)
    }
    for (const cmd of ['disable dynamic-cookie backend', 'disable dynamic-cookie backend zz', 'enable dynamic-cookie backend fe',
      'set dynamic-cookie-key backend', 'set dynamic-cookie-key backend zz k', 'set dynamic-cookie-key backend be', 'enable dynamic-cookie']) await ask('admin', cmd)
    await ask('admin', 'disable dynamic-cookie backend be')
    await same('disabled', '/', 2)
    await ask('admin', 'enable dynamic-cookie backend be')
    await ask('admin', 'set dynamic-cookie-key backend be other')
    await same('another key', '/', 2)
    await ask('admin', 'set dynamic-cookie-key backend nokey k2')
    await same('a key given at run time', '/nokey', 1)
    // s1 moves to another server: its value follows its address
    await ask('admin', `set server be/s1 addr 127.0.0.1 port ${ups[2]!.port}`)
    const moved = await same('moved', '/', 2)
    assert.ok(moved.includes(`u3 SRV=${dynamicCookie('other', '127.0.0.1', ups[2]!.port)!}; path=/`), moved.join('\n'))
  } finally {
    await both.stop()
    await Promise.all(ups.map(async u => await u.close()))
    rmSync(dir, { recursive: true, force: true })
  }
})
