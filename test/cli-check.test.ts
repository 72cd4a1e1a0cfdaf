// `fastify-haproxy -c` end to end: the built CLI, its output shapes and exit codes (management.txt §3).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const CLI = new URL('../dist/cli.js', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'fh-cli-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

const DEFAULTS = 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n'
const VALID = DEFAULTS + 'frontend fe\n    bind 127.0.0.1:18080\n    default_backend be\nbackend be\n    server s1 127.0.0.1:18081\n'

function write (name: string, text: string): string {
  const f = join(dir, name)
  writeFileSync(f, text)
  return f
}

function run (...args: string[]): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('a valid file: "Configuration file is valid" on stdout, exit 0', () => {
  const r = run('-c', '-f', write('valid.cfg', VALID))
  assert.equal(r.code, 0)
  assert.equal(r.stdout, 'Configuration file is valid\n')
  assert.equal(r.stderr, '')
})

test('warnings: printed on stderr, "Warnings were found." then valid; -dW makes them fatal', () => {
  const f = write('warn.cfg', 'defaults\n mode http\nfrontend fe\n bind :18080\n')
  const r = run('-c', '-f', f)
  assert.equal(r.code, 0)
  assert.equal(r.stdout, 'Warnings were found.\nConfiguration file is valid\n')
  assert.match(r.stderr, /^\[WARNING\] {2}\(\d+\) : config : missing timeouts for frontend 'fe'\.\n {3}\| While not properly invalid/m)
  const strict = run('-c', '-dW', '-f', f)
  assert.equal(strict.code, 1)
  assert.equal(strict.stdout, '')
  assert.match(strict.stderr, /\[ALERT\] {4}\(\d+\) : config : Some warnings were found and 'zero-warning' is set\. Aborting\.\n$/)
})

test('zero-warning aborts for HAProxy\'s warnings, not for the lines that mean nothing inside Node', () => {
  // a config hardened for HAProxy (zero-warning beside chroot, user, daemon) runs: HAProxy takes
  // those lines without a word, only this package warns that Node ignores them
  const hardened = write('hardened.cfg', 'global\n    zero-warning\n    chroot /var/empty\n    daemon\n' + VALID)
  const r = run('-c', '-f', hardened)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'Warnings were found.\nConfiguration file is valid\n')
  assert.match(r.stderr, /'chroot' is accepted but has no effect in fastify-haproxy/)
  assert.doesNotMatch(r.stderr, /zero-warning/)
  // HAProxy's own warning (missing timeouts) is fatal under the global keyword, as under -dW
  const strict = run('-c', '-f', write('strict.cfg', 'global\n    zero-warning\ndefaults\n mode http\nfrontend fe\n bind :18080\n'))
  assert.equal(strict.code, 1)
  assert.match(strict.stderr, /missing timeouts for frontend 'fe'/)
  assert.match(strict.stderr, /Some warnings were found and 'zero-warning' is set\. Aborting\.\n$/)
})

test('errors: HAProxy\'s alert lines on stderr, the closing lines, exit 1', () => {
  const f = write('bad.cfg', DEFAULTS + 'frontend fe\n    bind 127.0.0.1:18080\n    frobnicate yes\n')
  const r = run('-c', '-f', f)
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '')
  const pid = /\((\d+)\)/.exec(r.stderr)![1]
  assert.equal(r.stderr,
    `[ALERT]    (${pid}) : config : parsing [${f}:8] : unknown keyword 'frobnicate' in 'frontend' section\n` +
    `[ALERT]    (${pid}) : config : Error(s) found in configuration file : ${f}\n` +
    `[ALERT]    (${pid}) : config : Fatal errors found in configuration.\n`)
})

test('-q prints nothing but keeps the exit code', () => {
  const bad = run('-c', '-q', '-f', write('bad2.cfg', 'frontend fe\n frob\n'))
  assert.deepEqual([bad.code, bad.stdout, bad.stderr], [1, '', ''])
  const good = run('-c', '-q', '-f', write('valid2.cfg', VALID))
  assert.deepEqual([good.code, good.stdout, good.stderr], [0, '', ''])
})

test('the global `quiet` keyword silences -c like -q', () => {
  const r = run('-c', '-f', write('quiet.cfg', 'global\n quiet\nfrontend fe\n frob\n'))
  assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', ''])
})

test('an empty file: no listener, exit 2', () => {
  const r = run('-c', '-f', write('empty.cfg', ''))
  assert.equal(r.code, 2)
  assert.equal(r.stdout, 'Configuration file has no error but will not start (no listener) => exit(2).\n')
})

test('a missing file: HAProxy\'s message, exit 1', () => {
  const r = run('-c', '-f', join(dir, 'nope.cfg'))
  assert.equal(r.code, 1)
  assert.match(r.stderr, /\[ALERT\] {4}\(\d+\) : config : Cannot open configuration file\/directory .*nope\.cfg : No such file or directory/)
})

test('several -f and a directory of *.cfg files are read in order, sharing defaults', () => {
  const d = join(dir, 'conf.d')
  mkdirSync(d, { recursive: true })
  writeFileSync(join(d, '00-defaults.cfg'), DEFAULTS)
  writeFileSync(join(d, '10-fe.cfg'), 'frontend fe\n    bind 127.0.0.1:18080\n    default_backend be\n')
  writeFileSync(join(d, 'README'), 'not a config\n')
  const be = write('be.cfg', 'backend be\n    server s1 127.0.0.1:18081\n')
  const r = run('-c', '-f', d, '-f', be)
  assert.deepEqual([r.code, r.stdout], [0, 'Configuration file is valid\n'])
  const alone = run('-c', '-f', d)
  assert.equal(alone.code, 1, 'the backend lives in the other file')
  assert.match(alone.stderr, /unable to find required default_backend: 'be'/)
})

test('the seed config: the 1.x section-line address is a warning, `listen stats //` an error saying what was expected', () => {
  const seed = 'frontend  main *:80\n    acl url_static       path_beg       -i /static /images /javascript /stylesheets\n    use_backend static          if url_static\n    default_backend             app\n' +
    'backend static\n    server      static 127.0.0.1:4331 check\nbackend app\n    server  app1 192.168.6.31:8080 check\n'
  const ok = run('-c', '-f', write('seed-ok.cfg', seed + 'listen stats\n  bind  :9000\n  mode  http\n  stats enable\n'))
  assert.equal(ok.code, 0)
  assert.match(ok.stderr, /\[WARNING\] .*parsing \[.*seed-ok\.cfg:1\] : address '\*:80' on the 'frontend' line is HAProxy 1\.x syntax/)
  assert.doesNotMatch(ok.stderr, /has no 'mode'/, 'the CLI runs a mode-less proxy in TCP mode, as HAProxy does, without a word')
  const bad = run('-c', '-f', write('seed-bad.cfg', seed + 'listen stats //\n  bind  :9000\n  mode  http\n  stats enable\n'))
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /parsing \[.*seed-bad\.cfg:9\] : '\/\/' after the listen name: a listening address was expected here .*comments start with '#'\./)
})

test('-v, -vv, -h and bad options', () => {
  const v = run('-v')
  assert.equal(v.code, 0)
  assert.match(v.stdout, /^fastify-haproxy version \d+\.\d+\.\d+/)
  assert.match(run('-vv').stdout, /Node\.js v\d+/)
  const h = run('-h')
  assert.equal(h.code, 1)
  assert.match(h.stderr, /^Usage : fastify-haproxy/)
  const bad = run('-x')
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /unknown option '-x'/)
})
