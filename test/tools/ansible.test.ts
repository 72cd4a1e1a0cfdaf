// Ansible's community.general.haproxy module (Debian package `ansible`), the way deploys drain
// and disable servers, run for real against real HAProxy and against our CLI on the same config:
// the same tasks give the same results (states before and after, the commands' answers, whether
// anything changed), `wait: yes` sees the state it waits for, and the servers really change.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cli } from '../socket/client.js'
import { needs, run, withBoth, type Target } from './tools.js'

const skip = needs('ansible', 'ansible')

interface ModuleResult {
  changed?: boolean
  failed?: boolean
  msg?: string
  state_before?: Array<Record<string, string>>
  state_after?: Array<Record<string, string>>
  command?: string[]
  output?: string[]
}

/** `ansible localhost -m community.general.haproxy -a <args>` with the json callback. */
async function haproxyModule (home: string, t: Target, args: string): Promise<ModuleResult> {
  const r = await run('ansible', ['localhost', '-i', 'localhost,', '-c', 'local', '-m', 'community.general.haproxy', '-a', `socket=${t.sock} ${args}`], {
    ANSIBLE_STDOUT_CALLBACK: 'json',
    ANSIBLE_LOAD_CALLBACK_PLUGINS: '1',
    ANSIBLE_HOME: home,
    ANSIBLE_LOCAL_TEMP: join(home, 'tmp'),
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    ANSIBLE_LOCALHOST_WARNING: 'False',
    ANSIBLE_NOCOLOR: '1'
  }, 90_000)
  let parsed: { plays: Array<{ tasks: Array<{ hosts: Record<string, ModuleResult & Record<string, unknown>> }> }> }
  try {
    parsed = JSON.parse(r.stdout)
  } catch {
    throw new Error(`ansible printed no JSON (exit ${String(r.code)}):\n${r.stdout}\n${r.stderr}`)
  }
  const res = parsed.plays[0]!.tasks[0]!.hosts.localhost!
  return { changed: res.changed, failed: res.failed, msg: res.msg, state_before: settled(res.state_before), state_after: settled(res.state_after), command: res.command, output: res.output }
}

/**
 * A server's status without its check progress: `UP 1/3` (up, its health still climbing after
 * `enable`) becomes `UP` one `inter` later, at a moment that depends on each process's check timer,
 * so the two processes are compared on the state alone.
 */
function settled (servers: Array<Record<string, string>> | undefined): Array<Record<string, string>> | undefined {
  return servers?.map(s => s.status === undefined ? s : { ...s, status: s.status.replace(/ \d+\/\d+$/, '') })
}

/** `show servers state` of web1 in each backend: admin state, user weight. */
async function web1State (t: Target): Promise<string[]> {
  const text = await cli(t.sock, 'show servers state\n')
  return text.split('\n').filter(l => / web1 /.test(l)).map(l => {
    const f = l.split(' ')
    return `${f[1]}/${f[3]} admin=${f[6]} weight=${f[7]}`
  })
}

test('Ansible community.general.haproxy: drain, disable, enable with wait, as on HAProxy', { skip, timeout: 300_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'fh-ansible-'))
  try {
    await withBoth((port, _sock, web) => [
      'frontend fe',
      `    bind 127.0.0.1:${port}`,
      '    default_backend app',
      'backend app',
      '    balance roundrobin',
      `    server web1 127.0.0.1:${web[0]!.port} weight 10 check inter 100ms rise 1`,
      `    server web2 127.0.0.1:${web[1]!.port} weight 20 check inter 100ms rise 1`,
      'backend other',
      `    server web1 127.0.0.1:${web[0]!.port} check inter 100ms rise 1`,
      ''
    ].join('\n'), async (targets) => {
      const wait = 'wait=yes wait_interval=1 wait_retries=30'
      const tasks: Array<[string, string, string, string[]]> = [
        ['drain with wait', `state=drain host=web1 backend=app ${wait}`, 'changed', ['app/web1 admin=8 weight=10', 'other/web1 admin=0 weight=1']],
        ['disable with wait and shutdown_sessions', `state=disabled host=web1 backend=app shutdown_sessions=yes ${wait}`, 'changed', ['app/web1 admin=1 weight=10', 'other/web1 admin=0 weight=1']],
        ['enable with wait and a new weight', `state=enabled host=web1 backend=app weight=5 ${wait}`, 'changed', ['app/web1 admin=0 weight=5', 'other/web1 admin=0 weight=1']],
        ['disable with drain: first DRAIN, then MAINT once no session is left', `state=disabled drain=yes host=web1 backend=app ${wait}`, 'changed', ['app/web1 admin=1 weight=5', 'other/web1 admin=0 weight=1']],
        ['disable on every backend (no backend given)', `state=disabled host=web1 ${wait}`, 'changed', ['app/web1 admin=1 weight=5', 'other/web1 admin=1 weight=1']],
        ['enable on every backend', `state=enabled host=web1 ${wait}`, 'changed', ['app/web1 admin=0 weight=5', 'other/web1 admin=0 weight=1']],
        ['enable again: nothing changes', `state=enabled host=web1 backend=app ${wait}`, 'unchanged', ['app/web1 admin=0 weight=5', 'other/web1 admin=0 weight=1']],
        ['a server that does not exist', 'state=disabled host=nope backend=app fail_on_not_found=yes', 'failed', ['app/web1 admin=0 weight=5', 'other/web1 admin=0 weight=1']]
      ]
      for (const [what, args, outcome, after] of tasks) {
        const [real, ours] = await Promise.all(targets.map(async t => await haproxyModule(home, t, args)))
        assert.deepEqual(ours, real, what)
        assert.equal(real.failed === true ? 'failed' : real.changed === true ? 'changed' : 'unchanged', outcome, `${what}: ${JSON.stringify(real)}`)
        const [realState, ourState] = await Promise.all(targets.map(web1State))
        assert.deepEqual(ourState, realState, `the servers after: ${what}`)
        assert.deepEqual(realState, after, what)
      }
    })
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
})
