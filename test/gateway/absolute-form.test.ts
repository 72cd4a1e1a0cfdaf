// An absolute-form target (`GET http://h/x`) stays absolute toward the server after path
// rewrites, `url` shows it whole while `path` and `pathq` do not (HAProxy's path_and_pathq.vtc
// case). The CLI and (when installed) real HAProxy serve the same config to the same upstream.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { haproxyInstalled, withHaproxy } from '../acl/real-haproxy.js'
import { rawRequest, upstream, withGateway, type Upstream } from './fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'absolute-form-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const config = (port: number, up: Upstream): string => `
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    http-request add-header x-path %[path]
    http-request add-header x-pathq %[pathq]
    http-request add-header x-url %[url]
    http-request set-path /fe%[path]
    http-request replace-path (.*) /foo\\1
    http-request set-pathq %[path]?app=1&%[query]
    default_backend be
backend be
    server s ${up.addr}
`

async function check (port: number, up: Upstream): Promise<void> {
  for (const [target, url, path, pathq, full] of [
    ['/r1?a=1', '/foo/fe/r1?app=1&a=1', '/r1', '/r1?a=1', '/r1?a=1'],
    [`http://127.0.0.1:${port}/r2?a=1`, `http://127.0.0.1:${port}/foo/fe/r2?app=1&a=1`, '/r2', '/r2?a=1', `http://127.0.0.1:${port}/r2?a=1`]
  ]) {
    const r = await rawRequest(port, `GET ${target} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n\r\n`)
    assert.equal(r.status, 200, target)
    const seen = up.seen.at(-1)!
    assert.deepEqual([seen.url, seen.headers['x-path'], seen.headers['x-pathq'], seen.headers['x-url']], [url, path, pathq, full], target)
  }
}

describe('absolute-form targets', () => {
  test('through the CLI', async (t) => {
    const up = await upstream('u')
    t.after(() => up.close())
    await withGateway(join(dir, 'ours.cfg'), (port) => config(port, up), async (port) => { await check(port, up) })
  })

  test('through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async (t) => {
    const up = await upstream('u')
    t.after(() => up.close())
    await withHaproxy(join(dir, 'real.cfg'), (port) => config(port, up), async (port) => { await check(port, up) })
  })
})
