// Requests without Host go to the server without one (test/edges/protocol.test.ts checks the
// wire); this leans on undici's 'host header' symbol, undici having no supported way to leave the
// Host out. These check that the pinned undici has it, and what the gateway says at start-up
// when an undici does not.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Client } from 'undici'
import { DEFAULT_HOST_LINE, hostlessWarning } from '../../lib/runtime/forward.js'
import { Gateway, type GatewayLogger } from '../../lib/plugin.js'

const CONFIG = `
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind 127.0.0.1:8
    default_backend be
backend be
    server s 127.0.0.1:9
`

function recordingLog (): { warnings: string[], log: GatewayLogger } {
  const warnings: string[] = []
  const ignore = (): void => {}
  return { warnings, log: { warn: (m) => { warnings.push(m) }, info: ignore, error: ignore } }
}

test("the pinned undici names its default Host line 'host header': no start-up warning", () => {
  assert.notEqual(DEFAULT_HOST_LINE, null)
  assert.equal(typeof (new Client('http://127.0.0.1:9') as unknown as Record<symbol, unknown>)[DEFAULT_HOST_LINE!], 'string')
  assert.equal(hostlessWarning(), null)
  const { warnings, log } = recordingLog()
  const gateway = new Gateway(Gateway.prepare(CONFIG, log), log)
  assert.ok(gateway)
  assert.deepEqual(warnings.filter(w => w.includes('host header')), [])
})

test('an undici without that symbol: the warning says Host-less requests get the server as Host', () => {
  assert.equal(hostlessWarning(null), "fastify-haproxy: this undici has no 'host header' symbol: requests without a Host header are forwarded with the server's address as Host (HAProxy sends none).")
})
