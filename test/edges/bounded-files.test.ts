// Every file a configuration names is read with a bound: `-c` on /dev/zero, a FIFO or a file
// larger than its limit ends at once with an error at the line that names it.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'fh-bounded-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

const HEAD = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'
const TAIL = '    default_backend be\nbackend be\n    server s1 127.0.0.1:18081\n'

/** `fastify-haproxy -c -f cfg`; a check that never ends is killed after a generous bound and fails the test. */
async function check (text: string): Promise<{ code: number | null, out: string }> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.cfg`)
  writeFileSync(file, text)
  return await new Promise(resolve => {
    const child = spawn(process.execPath, [CLI, '-c', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { out += d })
    const killer = setTimeout(() => { child.kill('SIGKILL') }, 60_000)
    child.on('exit', code => { clearTimeout(killer); resolve({ code, out }) })
  })
}

test('errorfile /dev/zero: larger than a buffer, an alert at its line', async () => {
  const r = await check(HEAD + '    errorfile 503 /dev/zero\nfrontend fe\n    bind 127.0.0.1:18080\n' + TAIL)
  assert.equal(r.code, 1, r.out)
  assert.match(r.out, /\[ALERT\].*\[.*:6\] : errorfile : '\/dev\/zero': unable to add payload into the HTX message/)
})

test('an errorfile larger than tune.bufsize is refused; within it, accepted', async () => {
  const big = join(dir, 'big.http')
  writeFileSync(big, 'HTTP/1.0 503 Busy\r\ncontent-type: text/plain\r\n\r\n' + 'x'.repeat(5000))
  const small = await check('global\n    tune.bufsize 8192\n' + HEAD + `    errorfile 503 ${big}\nfrontend fe\n    bind 127.0.0.1:18080\n` + TAIL)
  assert.equal(small.code, 0, small.out)
  const r = await check('global\n    tune.bufsize 4096\n' + HEAD + `    errorfile 503 ${big}\nfrontend fe\n    bind 127.0.0.1:18080\n` + TAIL)
  assert.equal(r.code, 1, r.out)
  assert.match(r.out, /:8\] : errorfile : .*tune\.bufsize 4096/)
})

test('acl -f /dev/zero, a map on /dev/zero and return file /dev/zero end with located errors', async () => {
  const acl = await check(HEAD + 'frontend fe\n    bind 127.0.0.1:18080\n    acl a path -f /dev/zero\n    http-request deny if a\n' + TAIL)
  assert.equal(acl.code, 1, acl.out)
  assert.match(acl.out, /:8\].*\/dev\/zero/)
  const map = await check(HEAD + 'frontend fe\n    bind 127.0.0.1:18080\n    http-request set-header x %[path,map(/dev/zero)]\n' + TAIL)
  assert.equal(map.code, 1, map.out)
  assert.match(map.out, /:8\].*\/dev\/zero/)
  const ret = await check(HEAD + 'frontend fe\n    bind 127.0.0.1:18080\n    http-request return status 200 file /dev/zero\n' + TAIL)
  assert.equal(ret.code, 1, ret.out)
  assert.match(ret.out, /:8\].*\/dev\/zero.*larger than a buffer/)
})

test('a FIFO with no writer is read as empty at once, never waited on', async () => {
  const fifo = join(dir, 'pipe')
  execFileSync('mkfifo', [fifo])
  const r = await check(HEAD + 'frontend fe\n    bind 127.0.0.1:18080\n' + `    acl a path -f ${fifo}\n    http-request deny if a\n` + TAIL)
  assert.equal(r.code, 0, r.out)
  assert.match(r.out, /Configuration file is valid/)
})
