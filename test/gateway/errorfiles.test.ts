// Which answer a proxy gives for an error status (configuration.txt §4.2 errorfile, errorfiles,
// http-error; §3.8 http-errors): the lines in order, the defaults section's first, the last one
// that gives a status winning; an empty errorfile closes the connection; `return …
// default-errorfiles` and `http-request reject`. The same config runs through the CLI and (when
// installed) through real HAProxy, which must give the same answers.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { haproxyInstalled, withHaproxy } from '../acl/real-haproxy.js'
import { rawRequest, withGateway } from './fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'errorfiles-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const page = (status: number, tag: string): string =>
  `HTTP/1.1 ${status} Some reason\r\nContent-Type: text/html\r\nx-err-type: ${tag}\r\n\r\n<h1>${tag}</h1>\n`
for (const [file, status, tag] of [['400.http', 400, 'default'], ['404.http', 404, 'default'], ['500.http', 500, 'default'],
  ['400-1.http', 400, 'errors-1'], ['403-1.http', 403, 'errors-1'], ['404-1.http', 404, 'errors-1'], ['500-1.http', 500, 'errors-1'],
  ['400-2.http', 400, 'errors-2'], ['403-2.http', 403, 'errors-2'], ['404-2.http', 404, 'errors-2']] as const) {
  writeFileSync(join(dir, file), page(status, tag))
}
writeFileSync(join(dir, 'empty.http'), '')

const config = (port: number): string => `
http-errors errors-1
    errorfile 400 ${dir}/400-1.http
    errorfile 403 ${dir}/403-1.http
    errorfile 404 ${dir}/404-1.http
    errorfile 500 ${dir}/500-1.http
http-errors errors-2
    errorfile 400 ${dir}/400-2.http
    errorfile 403 ${dir}/403-2.http
    errorfile 404 ${dir}/404-2.http
    errorfile 500 ${dir}/empty.http
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s
    errorfiles errors-2
    errorfile 400 ${dir}/400.http
    errorfile 404 ${dir}/404.http
frontend fe
    bind 127.0.0.1:${port}
    errorfiles errors-1 400 500
    errorfile 500 ${dir}/500.http
    errorfiles errors-1 500
    http-error status 403 default-errorfiles
    http-error status 200 content-type text/plain hdr x-path "p=%[path]" lf-string "path is %[path]"
    http-error status 401 content-type text/plain string "nope"
    http-request return status 200 default-errorfiles if { path /200 }
    http-request return status 404 default-errorfiles if { path /404 }
    http-request deny deny_status 401 if { path /401 }
    http-request reject if { path /reject }
    http-request deny deny_status 500 errorfile ${dir}/empty.http if { path /500-empty }
    http-request deny deny_status 500 errorfiles errors-2 if { path /500-2 }
    http-request deny deny_status 400 if { path /400 }
    http-request deny if { path /403 }
    http-request deny deny_status 500 if { path /500 }
`

/** [path, status (0: closed without an answer), x-err-type, body] as HAProxy 2.6.12 answers. */
const CASES: Array<[string, number, string?, string?]> = [
  ['/400', 400, 'errors-1'],
  ['/403', 403, undefined],
  ['/404', 404, 'default'],
  ['/500', 500, 'errors-1'],
  ['/200', 200, undefined, 'path is /200'],
  ['/401', 401, undefined, 'nope'],
  ['/reject', 0],
  ['/500-empty', 0],
  ['/500-2', 0]
]

async function check (port: number): Promise<void> {
  for (const [path, status, tag, body] of CASES) {
    const r = await rawRequest(port, `GET ${path} HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n`)
    assert.equal(r.status, status, `${path}: status`)
    assert.equal(r.headers['x-err-type'], tag, `${path}: x-err-type`)
    if (body !== undefined) assert.equal(r.text, body, `${path}: body`)
  }
  const r = await rawRequest(port, 'GET /200 HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n')
  assert.equal(r.headers['x-path'], 'p=/200')
  assert.equal(r.headers['content-type'], 'text/plain')
}

describe('error answers', () => {
  test('through the CLI', async () => {
    await withGateway(join(dir, 'ours.cfg'), config, check)
  })

  test('through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
    await withHaproxy(join(dir, 'real.cfg'), config, check)
  })
})
