// The example app as a newcomer runs it: `npm start` (example-app/main.ts) and the CLI on the
// same config (example-app/upstreams.ts + `fastify-haproxy -f example-app/haproxy.cfg`), each
// as a real process on free ports, checked with the requests that `npm start` prints.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort, send } from './differential/harness.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const config = 'example-app/haproxy.cfg'
const basicAdmin = 'Basic ' + Buffer.from('admin:admin').toString('base64')

interface Running {
  child: ChildProcess
  output (): string
  /** Resolves with the exit code after SIGINT (Ctrl-C). */
  interrupt (): Promise<number | null>
}

/** Starts a process and waits until its stdout says `ready` (null: does not wait). */
function run (args: string[], env: Record<string, string>, ready: string | null): Promise<Running> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const output = (): string => out
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const interrupt = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    const code = await exited
    clearTimeout(timer)
    return code
  }
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  if (ready === null) {
    child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
    return Promise.resolve({ child, output, interrupt })
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      interrupt().finally(() => reject(new Error(`no "${ready}" within 15 s:\n${out}`)))
    }, 15_000)
    const onData = (d: Buffer): void => {
      out += d.toString()
      if (out.includes(ready)) {
        clearTimeout(timer)
        resolve({ child, output, interrupt })
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before "${ready}":\n${out}`))
    })
  })
}

async function examplePorts (): Promise<Record<string, string>> {
  const names = ['EXAMPLE_PORT', 'EXAMPLE_STATS_PORT', 'EXAMPLE_STATIC_PORT', 'EXAMPLE_APP1_PORT', 'EXAMPLE_APP2_PORT']
  const env: Record<string, string> = {}
  for (const n of names) env[n] = String(await freePort())
  return env
}

async function rotation (port: number, n: number): Promise<string[]> {
  const served: string[] = []
  for (let i = 0; i < n; i++) {
    const a = await send(port, { path: `/rotation/${i}` })
    assert.equal(a.status, 200, a.body)
    assert.match(a.body, /^Hello from app[12]: GET \/rotation\//)
    served.push(String(a.headers['x-served-by']))
  }
  return served
}

function assertAlternates (served: string[]): void {
  assert.deepEqual(new Set(served), new Set(['app1', 'app2']), served.join(' '))
  for (let i = 1; i < served.length; i++) assert.notEqual(served[i], served[i - 1], `roundrobin repeated a server: ${served.join(' ')}`)
}

async function assertStaticSplit (port: number): Promise<void> {
  const png = await send(port, { path: '/images/logo.png' })
  assert.equal(png.status, 200)
  assert.equal(png.headers['x-served-by'], 'static')
  assert.equal(png.headers['content-type'], 'image/png')
  const css = await send(port, { path: '/STATIC/style.css' })
  assert.equal(css.headers['x-served-by'], 'static', 'path_beg -i /static')
  const js = await send(port, { path: '/javascript/app.js' })
  assert.equal(js.status, 200)
  assert.match(js.body, /hello from the static backend/)
  const ext = await send(port, { path: '/api/avatar.png' })
  assert.equal(ext.headers['x-served-by'], 'static', 'path_end .png goes to backend static')
  assert.equal(ext.status, 404)
}

async function assertStatsPage (port: number): Promise<void> {
  const anonymous = await send(port, { path: '/haproxy_stats' })
  assert.equal(anonymous.status, 401)
  assert.match(String(anonymous.headers['www-authenticate']), /^Basic realm="HAProxy Statistics"/)
  const wrong = await send(port, { path: '/haproxy_stats', headers: { authorization: 'Basic ' + Buffer.from('admin:nope').toString('base64') } })
  assert.equal(wrong.status, 401)
  const csv = await send(port, { path: '/haproxy_stats;csv', headers: { authorization: basicAdmin } })
  assert.equal(csv.status, 200)
  assert.match(csv.body, /^# pxname,svname,qcur,qmax,/)
  for (const row of ['main,FRONTEND,', 'static,static,', 'app,app1,', 'app,app2,', 'app,BACKEND,']) {
    assert.ok(csv.body.includes('\n' + row), `CSV has a ${row} row`)
  }
  const html = await send(port, { path: '/haproxy_stats', headers: { authorization: basicAdmin } })
  assert.equal(html.status, 200)
  assert.match(String(html.headers['content-type']), /^text\/html/)
}

describe('npm start (example-app/main.ts)', () => {
  let env: Record<string, string>
  let app: Running

  before(async () => {
    env = await examplePorts()
    app = await run(['--import', 'tsx', 'example-app/main.ts'], env, 'Ctrl-C stops.')
  })

  after(async () => { await app?.interrupt() })

  test('prints what to try, with the ports in use', () => {
    const out = app.output()
    assert.ok(out.includes(`curl http://127.0.0.1:${env.EXAMPLE_PORT}/api/hello`), out)
    assert.ok(out.includes('npx fastify-haproxy -f example-app/haproxy.cfg'), out)
    assert.ok(out.includes('admin'), out)
  })

  test("the app's own routes answer themselves", async () => {
    const hello = await send(Number(env.EXAMPLE_PORT), { path: '/api/hello' })
    assert.equal(hello.status, 200)
    assert.equal(hello.headers['x-served-by'], undefined)
    assert.equal((JSON.parse(hello.body) as { hello: string }).hello, 'from the Fastify app itself')
    const time = await send(Number(env.EXAMPLE_PORT), { path: '/api/time' })
    assert.ok(!Number.isNaN(Date.parse((JSON.parse(time.body) as { now: string }).now)))
  })

  test('default_backend app: roundrobin between app1 and app2', async () => {
    assertAlternates(await rotation(Number(env.EXAMPLE_PORT), 6))
  })

  test('url_static goes to backend static', async () => {
    await assertStaticSplit(Number(env.EXAMPLE_PORT))
  })

  test('the stats page asks for admin:admin', async () => {
    await assertStatsPage(Number(env.EXAMPLE_PORT))
  })

  test('Ctrl-C stops it cleanly', async () => {
    assert.equal(await app.interrupt(), 0, app.output())
  })
})

describe('the CLI on the example config', () => {
  let env: Record<string, string>
  let upstreams: Running
  let cli: Running

  before(async () => {
    env = await examplePorts()
    upstreams = await run(['--import', 'tsx', 'example-app/upstreams.ts'], env, 'Ctrl-C stops these')
    cli = await run(['dist/cli.js', '-f', config], env, null)
    await waitListening(Number(env.EXAMPLE_PORT), cli)
  })

  after(async () => {
    await cli?.interrupt()
    await upstreams?.interrupt()
  })

  test('fastify-haproxy -c says the example config is valid', () => {
    const r = spawnSync(process.execPath, ['dist/cli.js', '-c', '-f', config], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /Configuration file is valid/)
  })

  test('roundrobin and the static split on the frontend bind', async () => {
    assertAlternates(await rotation(Number(env.EXAMPLE_PORT), 6))
    await assertStaticSplit(Number(env.EXAMPLE_PORT))
  })

  test('the stats page on the `listen stats` bind', async () => {
    await assertStatsPage(Number(env.EXAMPLE_STATS_PORT))
  })
})

async function waitListening (port: number, proc: Running): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await send(port, { path: '/api/hello' })
      return
    } catch (err) {
      if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`CLI not listening on ${port}: ${(err as Error).message}\n${proc.output()}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
}
