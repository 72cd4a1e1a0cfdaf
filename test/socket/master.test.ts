// The master CLI (`fastify-haproxy -W -S <socket>`): commands reach the process through `@1` or
// `@!<pid>`, the master's own commands answer without a prefix, with haproxy 2.6.12's texts.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cli, waitForSocket } from './client.js'
import { freePort } from '../differential/harness.js'

const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

test('master CLI: @1 / @!pid reach the runtime API, show proc and help answer as the master', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-mcli-'))
  const cfg = join(dir, 'h.cfg')
  const sock = join(dir, 'master.sock')
  writeFileSync(cfg, 'defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n' +
    `frontend fe\n bind 127.0.0.1:${await freePort()}\n` + ' default_backend be\nbackend be\n server s1 127.0.0.1:1 weight 7\n')
  const child = spawn(process.execPath, [cliPath, '-W', '-S', sock, '-f', cfg], { stdio: 'ignore' })
  try {
    await waitForSocket(sock)
    assert.equal(await cli(sock, '@1 get weight be/s1;show cli level\n'), '7 (initial 7)\n\nadmin\n\n')
    assert.equal(await cli(sock, `@!${child.pid ?? 0} show backend\n`), '# name\nbe\n\n')
    assert.equal(await cli(sock, '@7 show backend\n'), "Can't find the target PID matching the prefix '@7'\n")
    assert.match(await cli(sock, 'show proc\n'), new RegExp(`^#<PID> +<type> +<reloads> +<uptime> +<version> +\\n${child.pid ?? 0} +master +0 \\[failed: 0\\] +\\S+ +\\S+\\n# workers\\n${child.pid ?? 0} +worker +0 `))
    assert.match(await cli(sock, 'help\n'), /^The following commands are valid at this level:\n {2}@!<pid> +: send a command to the <pid> process\n/)
  } finally {
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
})
