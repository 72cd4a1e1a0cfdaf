// `tune.h2.*` (configuration.txt §3.2) as HAProxy 2.6.12 applies them: the SETTINGS frame an
// HTTP/2 bind announces (compared with real HAProxy on the same config), and the values `-c`
// refuses with HAProxy's words.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'
import { startBoth, skipWithoutHaproxy, haproxyBin } from '../differential/harness.js'

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname

/** The server's first SETTINGS frame on a clear HTTP/2 connection, as `id=value` sorted by id. */
async function announced (port: number): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1')
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]))
  let data = Buffer.alloc(0)
  try {
    return await new Promise<string[]>((resolve, reject) => {
      socket.on('error', reject)
      socket.on('data', (d: Buffer) => {
        data = Buffer.concat([data, d])
        if (data.length < 9 || data.length < 9 + data.readUIntBE(0, 3)) return
        if (data[3] !== 4) { reject(new Error(`first frame of type ${String(data[3])}`)); return }
        const payload = data.subarray(9, 9 + data.readUIntBE(0, 3))
        const out: Array<[number, number]> = []
        for (let i = 0; i + 6 <= payload.length; i += 6) out.push([payload.readUInt16BE(i), payload.readUInt32BE(i + 2)])
        resolve(out.sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}=${v}`))
      })
    })
  } finally {
    socket.destroy()
  }
}

/** SETTINGS_ENABLE_CONNECT_PROTOCOL, which HAProxy always announces (RFC 8441). */
const CONNECT_PROTOCOL = '8=1'

const config = (global: string) => (port: number): string => `global
${global}
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen fe
    bind 127.0.0.1:${port} proto h2
    http-request return status 200
`

test('tune.h2.*: the SETTINGS an HTTP/2 bind announces are HAProxy\'s', { skip: skipWithoutHaproxy }, async () => {
  const cases: Array<[string, string, string[]]> = [
    ['defaults: 100 streams', '', ['3=100']],
    ['the four settings', '    tune.h2.header-table-size 8192\n    tune.h2.initial-window-size 100000\n    tune.h2.max-concurrent-streams 7\n    tune.h2.max-frame-size 32768\n    tune.bufsize 65536',
      ['1=8192', '3=7', '4=100000', '5=32768']],
    ['no stream limit, a closed window', '    tune.h2.max-concurrent-streams 0\n    tune.h2.initial-window-size 0', ['4=0']],
    ['the frame size capped by tune.bufsize', '    tune.h2.max-frame-size 40000\n    tune.bufsize 32768', ['3=100', '5=32768']],
    ['a frame size the default buffer cannot hold: not announced', '    tune.h2.max-frame-size 32768', ['3=100']]
  ]
  for (const [what, global, expected] of cases) {
    const both = await startBoth(config(global))
    try {
      const [theirs, ours] = [await announced(both.haproxy.port), await announced(both.ours.port)]
      assert.deepEqual(theirs.filter(s => s !== CONNECT_PROTOCOL), expected, `haproxy, ${what}`)
      assert.deepEqual(ours.filter(s => s !== CONNECT_PROTOCOL), expected, what)
    } finally {
      await both.stop()
    }
  }
})

test('tune.h2.*: out-of-range values are refused by -c with HAProxy\'s message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'h2-tuning-'))
  const cases: Array<[string, string | null]> = [
    ['tune.h2.header-table-size 70000', "'tune.h2.header-table-size' expects a numeric value between 4096 and 65536."],
    ['tune.h2.header-table-size abc', "'tune.h2.header-table-size' expects a numeric value between 4096 and 65536."],
    ['tune.h2.max-frame-size 100', "'tune.h2.max-frame-size' expects a numeric value between 16384 and 16777215."],
    ['tune.h2.initial-window-size -5', "'tune.h2.initial-window-size' expects a positive numeric value."],
    ['tune.h2.initial-window-size 3000000000', "'tune.h2.initial-window-size' expects a positive numeric value."],
    ['tune.h2.max-concurrent-streams -1', "'tune.h2.max-concurrent-streams' expects a positive numeric value."],
    ['tune.h2.max-concurrent-streams 0', null],
    ['tune.h2.max-frame-size 32768', null]
  ]
  for (const [line, message] of cases) {
    const file = join(dir, 'haproxy.cfg')
    writeFileSync(file, config(`    ${line}`)(8443))
    const runs = [spawnSync(process.execPath, [CLI, '-c', '-f', file], { encoding: 'utf8' })]
    if (haproxyBin !== null) runs.push(spawnSync(haproxyBin, ['-c', '-f', file], { encoding: 'utf8' }))
    for (const r of runs) {
      if (message === null) {
        assert.equal(r.status, 0, `${line}: ${r.stderr}`)
        assert.ok(!r.stderr.includes('tune.h2'), `${line}: no warning`)
      } else {
        assert.notEqual(r.status, 0, line)
        assert.ok(r.stderr.includes(`parsing [${file}:2] : ${message}`), `${line}: ${r.stderr}`)
      }
    }
  }
})
