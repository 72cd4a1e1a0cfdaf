// `tcp-request content` rules in an HTTP proxy (configuration.txt §4.2): run for each request
// before the http-request rules; `accept` ends them, `reject` closes the connection without an
// answer, `set-var` feeds the later rules. The CLI and (when installed) real HAProxy agree.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { haproxyInstalled, withHaproxy } from '../acl/real-haproxy.js'
import { rawRequest, withGateway } from './fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'tcp-content-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const config = (port: number): string => `
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    acl white hdr(x-ok) -m found
    tcp-request inspect-delay 1s
    tcp-request content set-var(txn.t) str(tcp)
    tcp-request content accept if white
    tcp-request content reject
    http-request return status 200 content-type text/plain lf-string "ok %[var(txn.t)]"
`

async function check (port: number): Promise<void> {
  const ok = await rawRequest(port, 'GET / HTTP/1.1\r\nhost: h\r\nx-ok: 1\r\nconnection: close\r\n\r\n')
  assert.deepEqual([ok.status, ok.text], [200, 'ok tcp'])
  const rejected = await rawRequest(port, 'GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n')
  assert.equal(rejected.status, 0, 'closed without an answer')
}

describe('tcp-request content in an HTTP proxy', () => {
  test('through the CLI', async () => {
    await withGateway(join(dir, 'ours.cfg'), config, check)
  })

  test('through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
    await withHaproxy(join(dir, 'real.cfg'), config, check)
  })
})
