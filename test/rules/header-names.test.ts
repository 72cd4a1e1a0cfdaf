// `option http-restrict-req-hdr-names preserve|delete|reject` (configuration.txt §4.2): request
// headers whose names hold other characters than letters, digits and '-' are deleted, or the
// request is denied with 403, once each proxy's own http-request rules are done (so a frontend's
// rules still read them, and its backend's rules no longer do). The CLI and real HAProxy 2.6 run
// the same config.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { haproxyInstalled, withHaproxy } from '../acl/real-haproxy.js'
import { HTTP_DEFAULTS, rawRequest, rawServer, withGateway } from '../gateway/fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'header-names-'))
let server: Awaited<ReturnType<typeof rawServer>>
before(async () => {
  // answers with the names of the header lines it got, in order
  server = await rawServer((data, s) => {
    const head = data.toString('latin1').split('\r\n\r\n')[0].split('\r\n').slice(1)
    // (connection: the hop's own header, which each side writes its way)
    const names = head.map((l) => l.slice(0, l.indexOf(':')).toLowerCase()).filter((n) => n !== 'connection').join(' ')
    s.end(`HTTP/1.1 200 OK\r\nx-names: ${names}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`)
  })
})
after(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

const config = (port: number): string => `${HTTP_DEFAULTS}frontend fe
    bind 127.0.0.1:${port}
    # the last line wins
    option http-restrict-req-hdr-names reject
    option http-restrict-req-hdr-names delete
    http-request set-header x-fe_added 1
    http-request set-header x-fe-saw "%[req.hdr(x_in)]"
    use_backend rej if { path_beg /rej }
    use_backend strict if { path_beg /strict }
    default_backend be
backend be
    http-request set-header x-be_added 1
    http-request set-header x-be-saw "<%[req.hdr(x-fe_added)]>"
    server s1 127.0.0.1:${server.port}
backend rej
    option http-restrict-req-hdr-names reject
    server s1 127.0.0.1:${server.port}
backend strict
    option http-restrict-req-hdr-names reject
    http-request set-header x.added 1 if { path /strict/add }
    http-request del-header x.added if { path /strict/add/del }
    server s1 127.0.0.1:${server.port}
`

const ask = async (port: number, path: string, headers = ''): Promise<Awaited<ReturnType<typeof rawRequest>>> =>
  await rawRequest(port, `GET ${path} HTTP/1.1\r\nhost: h\r\n${headers}connection: close\r\n\r\n`)

async function check (port: number): Promise<void> {
  // the frontend's rules read x_in; then it and the header they added are gone; the backend
  // (preserve) keeps what its own rules add
  const plain = await ask(port, '/', 'x_in: v\r\nx.dot: 1\r\nx-ok: 1\r\n')
  assert.equal(plain.status, 200)
  assert.equal(plain.headers['x-names'], 'host x-ok x-fe-saw x-be_added x-be-saw')

  // what the frontend deleted never reaches the backend's reject
  const rej = await ask(port, '/rej', 'x_in: v\r\n')
  assert.equal(rej.status, 200)
  assert.equal(rej.headers['x-names'], 'host x-fe-saw')
  // a backend's own rules add a header with a dot: 403 as by http-request deny, unless they delete it again
  const strict = await ask(port, '/strict/add')
  assert.equal(strict.status, 403)
  assert.match(strict.text, /403 Forbidden/)
  const cleaned = await ask(port, '/strict/add/del')
  assert.equal(cleaned.status, 200)
}

describe('option http-restrict-req-hdr-names', () => {
  test('through the CLI', async () => {
    await withGateway(join(dir, 'ours.cfg'), config, check)
  })

  test('through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
    await withHaproxy(join(dir, 'real.cfg'), config, check)
  })
})
