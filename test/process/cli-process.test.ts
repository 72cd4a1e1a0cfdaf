// HAProxy's process interface on the built CLI (management.txt §3): inherited sockets (`bind fd@N`,
// as VTest and systemd socket activation pass them), -W/-Ws/-D/-p/-sf, the version and usage
// texts, and Debian's haproxy.service command lines pointed at our binary.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { get, freePorts, waitFor, waitListening } from '../gateway/fixtures.js'

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'fh-process-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

const DEFAULTS = 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n'
const answering = (bind: string, text: string): string =>
  DEFAULTS + `frontend fe\n    bind ${bind}\n    http-request return status 200 content-type text/plain string ${text}\n`

function write (name: string, text: string): string {
  const f = join(dir, name)
  writeFileSync(f, text)
  return f
}

interface Run { child: ChildProcess, exit: Promise<{ code: number | null, signal: NodeJS.Signals | null }>, output: () => string }

function start (args: string[], opts: { env?: NodeJS.ProcessEnv, stdio?: Array<'ignore' | 'pipe' | number> } = {}): Run {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: opts.env ?? process.env, stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', d => { out += d })
  child.stderr?.on('data', d => { out += d })
  const exit = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.on('exit', (code, signal) => resolve({ code, signal })))
  return { child, exit, output: () => out }
}

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true } catch { return false } }

async function listeningSocket (): Promise<{ server: net.Server, port: number, fd: number }> {
  const server = net.createServer()
  await new Promise<void>(resolve => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd
  return { server, port: (server.address() as net.AddressInfo).port, fd }
}

test('bind fd@N and "fd@${NAME}": the inherited listening sockets are served; -c accepts them silently', async (t) => {
  const a = await listeningSocket()
  const b = await listeningSocket()
  t.after(() => { a.server.close(); b.server.close() })
  const cfg = write('fd.cfg', DEFAULTS +
    'frontend one\n    bind fd@3\n    http-request return status 200 content-type text/plain string one\n' +
    'frontend two\n    bind "fd@${SOCK_TWO}"\n    http-request return status 200 content-type text/plain string two\n')
  const env = { ...process.env, SOCK_TWO: '4' }
  const check = spawnSync(process.execPath, [CLI, '-c', '-f', cfg], { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', a.fd, b.fd] })
  assert.equal(check.status, 0, check.stderr)
  assert.equal(check.stdout + check.stderr, 'Configuration file is valid\n')

  const run = start(['-f', cfg], { env, stdio: ['ignore', 'pipe', 'pipe', a.fd, b.fd] })
  t.after(() => run.child.kill('SIGKILL'))
  // the parent stops accepting on its copies, so every connection reaches the child
  a.server.close(); b.server.close()
  await waitFor(() => /Proxy two started on fd@4/.test(run.output()), 'the fd listeners')
  assert.equal((await get(a.port, '/')).text, 'one')
  assert.equal((await get(b.port, '/')).text, 'two')
  run.child.kill('SIGTERM')
  assert.equal((await run.exit).code, 0, 'without -W a stop is a clean exit')
})

test('bind fd@N on a descriptor that is not open, or not a number: the alerts of HAProxy', () => {
  const r = spawnSync(process.execPath, [CLI, '-c', '-f', write('badfd.cfg', answering('fd@abc', 'x') + '    bind fd@987\n')], { cwd: dir, encoding: 'utf8' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /'bind' : file descriptor 'abc' is not a valid integer in 'fd@abc'/)
  assert.match(r.stderr, /'bind' : cannot use file descriptor '987' : Bad file descriptor\./)
})

test('-W -p: the pid file names the serving process; SIGINT ends it with 130 and SIGTERM with 143, as HAProxy\'s master', async () => {
  for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGUSR1', 0]] as const) {
    const port = await freePorts()
    const pidFile = join(dir, `w-${signal}.pid`)
    const run = start(['-W', '-f', write('w.cfg', answering(`127.0.0.1:${port}`, 'w')), '-p', pidFile])
    await waitFor(() => existsSync(pidFile), 'the pid file')
    assert.equal(Number(readFileSync(pidFile, 'utf8').trim()), run.child.pid)
    await waitListening(port)
    assert.equal((await get(port, '/')).text, 'w')
    run.child.kill(signal)
    assert.deepEqual(await run.exit, { code: status, signal: null }, `${signal}: ${run.output()}`)
  }
})

test('-D -p: the command returns once the configuration is served; the daemon\'s pid is in the pid file', async (t) => {
  const port = await freePorts()
  const pidFile = join(dir, 'd.pid')
  const run = start(['-D', '-f', write('d.cfg', answering(`127.0.0.1:${port}`, 'daemon')), '-p', pidFile])
  assert.equal((await run.exit).code, 0, run.output())
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  assert.notEqual(pid, run.child.pid)
  t.after(() => { if (alive(pid)) process.kill(pid, 'SIGKILL') })
  assert.equal((await get(port, '/')).text, 'daemon', 'serving as soon as -D returned')
  process.kill(pid, 'SIGINT')
  await waitFor(() => !alive(pid), 'the daemon to stop')
})

test('-D on a configuration that cannot be served: its alert is shown and the command fails', async () => {
  const taken = await listeningSocket()
  try {
    const run = start(['-D', '-f', write('d-bad.cfg', answering(`127.0.0.1:${taken.port}`, 'x'))])
    const { code } = await run.exit
    assert.equal(code, 1)
    assert.match(run.output(), /\[ALERT\].*EADDRINUSE/)
  } finally {
    taken.server.close()
  }
})

test('-sf: the new process takes over the address from the old one, which finishes softly', async () => {
  const port = await freePorts()
  const old = start(['-f', write('sf-old.cfg', answering(`127.0.0.1:${port}`, 'old'))])
  await waitListening(port)
  assert.equal((await get(port, '/')).text, 'old')
  const next = start(['-f', write('sf-new.cfg', answering(`127.0.0.1:${port}`, 'new')), '-sf', String(old.child.pid)])
  try {
    assert.equal((await old.exit).code, 0, old.output())
    await waitFor(async () => { try { return (await get(port, '/')).text === 'new' } catch { return false } }, 'the new process')
  } finally {
    next.child.kill('SIGTERM')
    await next.exit
  }
})

test('-v and -vv print our version in HAProxy\'s shape; --help lists the process options', () => {
  const v = spawnSync(process.execPath, [CLI, '-v'], { encoding: 'utf8' })
  assert.equal(v.status, 0)
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.match(v.stdout.split('\n')[0]!, new RegExp(`^fastify-haproxy version ${pkg.version.replace(/\./g, '\\.')} - `))
  assert.match(v.stdout, /^Running on: /m)
  const vv = spawnSync(process.execPath, [CLI, '-vv'], { encoding: 'utf8' })
  assert.match(vv.stdout, new RegExp(`Built with Node.js ${process.version}`))
  const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stderr
  for (const opt of ['-W', '-Ws', '-D', '-p', '-sf', '-st', '-S', '-q', '-dW', '-v', '-vv']) assert.match(help, new RegExp(`(^|[^\\w-])${opt}(?!\\w)`, 'm'), opt)
})

/** A unix datagram socket, read with socat (node has none): what sd_notify sends to $NOTIFY_SOCKET. */
function notifySocket (path: string): { received: () => string, close: () => void } {
  const socat = spawn('socat', ['-u', `UNIX-RECV:${path}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'ignore'] })
  let text = ''
  socat.stdout.on('data', d => { text += d })
  return { received: () => text, close: () => { socat.kill('SIGKILL') } }
}

// Debian 12's /lib/systemd/system/haproxy.service (haproxy 2.6.12-1+deb12u4), its command lines:
//   Environment="CONFIG=/etc/haproxy/haproxy.cfg" "PIDFILE=/run/haproxy.pid" "EXTRAOPTS=-S /run/haproxy-master.sock"
//   ExecStart=/usr/sbin/haproxy -Ws -f $CONFIG -p $PIDFILE $EXTRAOPTS
//   ExecReload=/usr/sbin/haproxy -Ws -f $CONFIG -c -q $EXTRAOPTS
//   ExecReload=/bin/kill -USR2 $MAINPID
//   KillMode=mixed   SuccessExitStatus=143   Type=notify
test('Debian\'s haproxy.service command lines: start with readiness, check and reload, stop with 143', async (t) => {
  const port = await freePorts()
  const CONFIG = write('unit.cfg', answering(`127.0.0.1:${port}`, 'v1'))
  const PIDFILE = join(dir, 'haproxy.pid')
  const EXTRAOPTS = ['-S', join(dir, 'haproxy-master.sock')]
  const NOTIFY_SOCKET = join(dir, 'notify')
  const notify = notifySocket(NOTIFY_SOCKET)
  t.after(() => notify.close())
  await waitFor(() => existsSync(NOTIFY_SOCKET), 'the notify socket')

  const main = start(['-Ws', '-f', CONFIG, '-p', PIDFILE, ...EXTRAOPTS], { env: { ...process.env, NOTIFY_SOCKET } })
  t.after(() => main.child.kill('SIGKILL'))
  await waitFor(() => /READY=1/.test(notify.received()), 'READY=1 on $NOTIFY_SOCKET')
  const MAINPID = main.child.pid!
  assert.match(notify.received(), new RegExp(`MAINPID=${MAINPID}`))
  assert.equal(Number(readFileSync(PIDFILE, 'utf8').trim()), MAINPID)
  assert.equal((await get(port, '/')).text, 'v1', main.output())

  writeFileSync(CONFIG, answering(`127.0.0.1:${port}`, 'v2'))
  const reloadCheck = spawnSync(process.execPath, [CLI, '-Ws', '-f', CONFIG, '-c', '-q', ...EXTRAOPTS], { cwd: dir, encoding: 'utf8' })
  assert.equal(reloadCheck.status, 0)
  assert.equal(reloadCheck.stdout + reloadCheck.stderr, '', '-q: nothing printed')
  assert.equal(spawnSync('/bin/kill', ['-USR2', String(MAINPID)]).status, 0)
  await waitFor(async () => (await get(port, '/')).text === 'v2', 'the reloaded configuration').catch((e: Error) => { throw new Error(`${e.message}\n${main.output()}`) })

  // a broken configuration: the check fails, and a reload asked anyway keeps the old one serving
  writeFileSync(CONFIG, answering(`127.0.0.1:${port}`, 'v3') + '    no-such-keyword\n')
  assert.equal(spawnSync(process.execPath, [CLI, '-Ws', '-f', CONFIG, '-c', '-q', ...EXTRAOPTS], { cwd: dir }).status, 1)
  process.kill(MAINPID, 'SIGUSR2')
  await waitFor(() => /Reload refused/.test(main.output()), 'the refused reload')
  assert.equal((await get(port, '/')).text, 'v2')

  main.child.kill('SIGTERM')
  assert.deepEqual(await main.exit, { code: 143, signal: null }, 'SuccessExitStatus=143')
})
