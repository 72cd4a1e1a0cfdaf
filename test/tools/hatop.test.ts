// hatop (Debian package `hatop`), the curses client ops people watch HAProxy with, driven in
// tmux against real HAProxy and against our CLI on the same config: its views parse our
// `show info` and `show stat` alike, and its hotkeys (disable/enable a server, change its
// weight) act on our servers as on HAProxy's.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cli } from '../socket/client.js'
import { needs, run, withBoth, type Target } from './tools.js'
import { waitFor } from '../gateway/fixtures.js'

const skip = needs('hatop', 'hatop') || needs('tmux', 'tmux')

/** A tmux server of the test's own (its socket in a temp dir), one session per target. */
class Tmux {
  readonly dir = mkdtempSync(join(tmpdir(), 'fh-tmux-'))
  readonly socket = join(this.dir, 'tmux.sock')

  async tmux (...args: string[]): Promise<string> {
    const r = await run('tmux', ['-S', this.socket, ...args], { TERM: 'xterm' }, 10_000)
    if (r.code !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }

  async start (name: string, command: string): Promise<void> {
    await this.tmux('new-session', '-d', '-s', name, '-x', '132', '-y', '40', command)
  }

  /** The screen's text, one string per row. */
  async screen (name: string): Promise<string[]> {
    return (await this.tmux('capture-pane', '-p', '-t', name)).split('\n')
  }

  /** The row hatop's cursor (reverse video) is on, as text. */
  async cursor (name: string): Promise<string> {
    const rows = (await this.tmux('capture-pane', '-p', '-e', '-t', name)).split('\n')
    const row = rows.find(r => r.includes('\x1b[7m'))
    // eslint-disable-next-line no-control-regex
    return row === undefined ? '' : row.slice(row.indexOf('\x1b[7m')).replace(/\x1b\[[0-9;]*m/g, '').trim()
  }

  async keys (name: string, ...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', name, ...keys)
  }

  async close (): Promise<void> {
    await run('tmux', ['-S', this.socket, 'kill-server'], {}, 10_000).catch(() => {})
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** The rows of the stat table: `>>> app`, `web1 10 - …`, with their columns' blanks collapsed. */
function statRows (screen: string[]): string[] {
  const start = screen.findIndex(r => r.startsWith('NAME '))
  return screen.slice(start).map(r => r.trim().replace(/\s+/g, ' ')).filter(r => r !== '' && !/^\d-STATUS/.test(r) && !r.startsWith('1-STATUS'))
}

/** A server's row in the stat table. */
function row (screen: string[], name: string): string {
  return statRows(screen).find(r => r.startsWith(name + ' ')) ?? ''
}

const CONFIG = (port: number, _sock: string, web: Array<{ port: number }>): string => [
  'frontend fe',
  `    bind 127.0.0.1:${port}`,
  '    default_backend app',
  'backend app',
  '    balance roundrobin',
  `    server web1 127.0.0.1:${web[0]!.port} weight 10`,
  `    server web2 127.0.0.1:${web[1]!.port} weight 20 check inter 200ms`,
  ''
].join('\n')

test('hatop: its five views read our show info and show stat as HAProxy\'s', { skip, timeout: 120_000 }, async () => {
  await withBoth(CONFIG, async (targets) => {
    const tmux = new Tmux()
    try {
      for (const t of targets) await tmux.start(t.label, `hatop -s ${t.sock}; echo hatop exited $?; sleep 60`)
      const screens = async (): Promise<Record<string, string[]>> => ({ haproxy: await tmux.screen('haproxy'), ours: await tmux.screen('ours') })
      await waitFor(async () => {
        const s = await screens()
        return targets.every(t => /^web2 20 UP /.test(row(s[t.label]!, 'web2')))
      }, 'both STATUS views with web2 UP')
      let s = await screens()
      assert.match(s.ours!.join('\n'), /HAProxy Version: 2\.6\.12-fastify-haproxy-/)
      for (const t of targets) assert.ok(!s[t.label]!.join('\n').includes('hatop exited'), s[t.label]!.join('\n'))
      // the server rows agree column for column; the proxies' rows up to the session limit
      // (SLIM is maxconn, which the two processes compute from their own file descriptors)
      const names = (rows: string[]): string[] => rows.map(r => r.split(' ').slice(0, 3).join(' '))
      assert.deepEqual(names(statRows(s.ours!)), names(statRows(s.haproxy!)))
      assert.equal(row(s.ours!, 'web1'), row(s.haproxy!, 'web1'))
      assert.match(row(s.ours!, 'web1'), /^web1 10 - none 1 0 /)
      assert.match(row(s.ours!, 'BACKEND'), /^BACKEND 30 UP 2 0 /)

      // TRAFFIC, HTTP, ERRORS: each view's columns, the same rows in each (ERRORS' CL column is
      // the time since the server's last change, which differs by the seconds between starts)
      for (const [view, column] of [['TRAFFIC', 'LBTOT'], ['HTTP', '2xx'], ['ERRORS', 'ECONN']] as const) {
        for (const t of targets) await tmux.keys(t.label, 'Tab')
        const web1 = (screen: string[]): string => view === 'ERRORS' ? row(screen, 'web1').replace(/^((?:\S+ ){6})\S+/, '$1CL') : row(screen, 'web1')
        await waitFor(async () => {
          s = await screens()
          return targets.every(t => s[t.label]!.some(r => r.startsWith('NAME ') && r.includes(` ${column} `)) && row(s[t.label]!, 'web2') !== '')
        }, `the ${view} view`)
        // hatop redraws a view row by row on its own timer: a screen taken mid-redraw shows a row
        // of the previous view, so the rows are read again until they agree (or the wait ends)
        await waitFor(async () => {
          s = await screens()
          return web1(s.ours!) === web1(s.haproxy!)
        }, `the ${view} rows of both`, 20_000).catch(() => {})
        assert.deepEqual(names(statRows(s.ours!)), names(statRows(s.haproxy!)), view)
        assert.equal(web1(s.ours!), web1(s.haproxy!), view)
      }
      // CLI view: a command typed in hatop's own prompt reaches the socket
      for (const t of targets) await tmux.keys(t.label, 'Tab', 'get weight app/web2', 'Enter')
      await waitFor(async () => {
        s = await screens()
        return targets.every(t => s[t.label]!.some(r => r.trim() === '20 (initial 20)'))
      }, 'the answer in the CLI view')
    } finally {
      await tmux.close()
    }
  })
})

test('hatop: its hotkeys disable and enable a server and change its weight, as on HAProxy', { skip, timeout: 120_000 }, async () => {
  await withBoth(CONFIG, async (targets) => {
    const tmux = new Tmux()
    const weight = async (t: Target): Promise<string> => await cli(t.sock, 'get weight app/web1\n')
    const states = async (): Promise<string[]> => await Promise.all(targets.map(async t => row(await tmux.screen(t.label), 'web1')))
    try {
      for (const t of targets) await tmux.start(t.label, `hatop -s ${t.sock}; echo hatop exited $?; sleep 60`)
      for (const t of targets) {
        await waitFor(async () => row(await tmux.screen(t.label), 'web1') !== '', `${t.label}: hatop's first screen`)
        // the cursor starts on the first proxy's row; walk it down to web1, one key at a time: a
        // second Down sent before hatop took the first would carry the cursor past web1
        const rowName = async (): Promise<string> => (await tmux.cursor(t.label)).split(' ').slice(0, 2).join(' ')
        await waitFor(async () => {
          const at = await rowName()
          if (at.startsWith('web1 ')) return true
          await tmux.keys(t.label, 'Down')
          await waitFor(async () => await rowName() !== at, `${t.label}: the cursor leaves ${at}`)
          return false
        }, `${t.label}: the cursor on web1`)
      }
      const step = async (key: string, what: string, expected: RegExp, socket: string): Promise<void> => {
        for (const t of targets) await tmux.keys(t.label, key)
        await waitFor(async () => (await states()).every(r => expected.test(r)), what)
        const [real, ours] = await states()
        assert.equal(ours, real, what)
        for (const t of targets) assert.equal(await weight(t), socket, `${t.label}: ${what}`)
      }
      await step('F10', 'F10 puts web1 in maintenance', /^web1 10 MAINT /, '10 (initial 10)\n\n')
      await step('F9', 'F9 takes it out', /^web1 10 - /, '10 (initial 10)\n\n')
      await step('F7', 'F7 adds one to its weight', /^web1 11 - /, '11 (initial 10)\n\n')
      await step('F8', 'F8 adds ten', /^web1 21 - /, '21 (initial 10)\n\n')
      await step('F6', 'F6 takes one', /^web1 20 - /, '20 (initial 10)\n\n')
      await step('F5', 'F5 takes ten', /^web1 10 - /, '10 (initial 10)\n\n')
      await step('F5', 'F5 again', /^web1 0 - /, '0 (initial 10)\n\n')
      await step('F4', 'F4 restores the initial weight', /^web1 10 - /, '10 (initial 10)\n\n')
      await step('F2', 'F2 disables it on every backend', /^web1 10 MAINT /, '10 (initial 10)\n\n')
      await step('F1', 'F1 enables it again', /^web1 10 - /, '10 (initial 10)\n\n')
    } finally {
      await tmux.close()
    }
  })
})
