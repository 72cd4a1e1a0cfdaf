// `option tcpka` / `clitcpka` (configuration.txt §4.2): the CLI's client connections get
// SO_KEEPALIVE. Seen from outside with `ss -o`, which shows a keepalive timer on such sockets
// (the test skips when iproute2's ss is missing).

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { freePorts, startGateway, waitListening } from './fixtures.js'

const hasSs = spawnSync('ss', ['-V'], { stdio: 'ignore' }).status === 0
const dir = mkdtempSync(join(tmpdir(), 'tcpka-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** ss's view of the server side of established connections on `port`. */
const serverSockets = (port: number): string =>
  spawnSync('ss', ['-tnoH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' }).stdout

async function keepaliveShown (option: string): Promise<boolean> {
  const port = await freePorts()
  const file = join(dir, `${option || 'none'}.cfg`)
  writeFileSync(file, `
defaults
    mode http
    timeout client 5s
frontend fe
    bind 127.0.0.1:${port}
    ${option}
    http-request return status 200
`)
  const gw = startGateway(file)
  try {
    await waitListening(port)
    const client = net.connect(port, '127.0.0.1')
    await new Promise((resolve) => client.once('connect', resolve))
    let shown = serverSockets(port)
    for (let i = 0; i < 50 && shown === ''; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      shown = serverSockets(port)
    }
    client.destroy()
    assert.notEqual(shown, '', 'the connection is seen')
    return shown.includes('keepalive')
  } finally {
    gw.child.kill('SIGTERM')
    await gw.exited
  }
}

test('option tcpka and clitcpka turn SO_KEEPALIVE on for client connections', { skip: hasSs ? false : 'ss is not installed' }, async () => {
  assert.equal(await keepaliveShown('option tcpka'), true)
  assert.equal(await keepaliveShown('option clitcpka'), true)
  assert.equal(await keepaliveShown(''), false)
})
