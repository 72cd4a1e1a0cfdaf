// A client's next request back to the server of its last one (configuration.txt §4.2 "option
// prefer-last-server"), as HAProxy 2.6.12 does it: only while the client's connection owns its
// server connection (`http-reuse never`, or a 401 asking for NTLM), with an algorithm that leaves
// the choice free, and a server connection kept alive. The CLI and real HAProxy run the same
// config against the same servers.

import assert from 'node:assert/strict'
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { haproxyInstalled, withHaproxy } from '../acl/real-haproxy.js'
import { HTTP_DEFAULTS, withGateway } from '../gateway/fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'last-server-'))
const servers: http.Server[] = []
const ports: number[] = []
before(async () => {
  for (const name of ['a', 'b', 'c']) {
    const s = http.createServer((req, res) => {
      res.setHeader('x-srv', name)
      if (req.url?.includes('challenge') === true) {
        res.statusCode = 401
        res.setHeader('www-authenticate', 'NTLM')
      }
      res.end(name)
    })
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    servers.push(s)
    ports.push((s.address() as AddressInfo).port)
  }
})
after(async () => {
  for (const s of servers) { s.closeAllConnections(); await new Promise((resolve) => s.close(resolve)) }
  rmSync(dir, { recursive: true, force: true })
})

const three = (): string => ['a', 'b', 'c'].map((n, i) => `    server ${n} 127.0.0.1:${ports[i]}\n`).join('')

const config = (port: number): string => `${HTTP_DEFAULTS}frontend fe
    bind 127.0.0.1:${port}
    use_backend %[path,field(2,/)]
backend prefer
    option prefer-last-server
    http-reuse never
${three()}backend shared
    option prefer-last-server
${three()}backend never
    http-reuse never
${three()}backend hash
    option prefer-last-server
    http-reuse never
    balance url_param k
${three()}backend closing
    option prefer-last-server
    option http-server-close
    http-reuse never
${three()}backend ntlm
${three()}backend ntlmhash
    balance url_param k
${three()}`

/** The servers that answered `paths`, in order, on one keep-alive connection. */
async function onOneConnection (port: number, paths: string[]): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const seen: string[] = []
  try {
    for (const path of paths) {
      seen.push(await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
          res.resume()
          res.on('end', () => resolve(String(res.headers['x-srv'])))
        }).on('error', reject)
      }))
    }
  } finally {
    agent.destroy()
  }
  return seen
}

const same = (list: string[]): boolean => list.every((s) => s === list[0])
const alternates = (list: string[]): boolean => list.every((s, i) => i === 0 || s !== list[i - 1])

async function check (port: number): Promise<void> {
  const four = (path: string): string[] => [path, path, path, path]
  // prefer-last-server with http-reuse never: the client stays on its server
  assert.ok(same(await onOneConnection(port, four('/prefer'))), 'prefer-last-server, http-reuse never')
  // with the default http-reuse safe the connection is shared: each request is balanced
  assert.ok(alternates(await onOneConnection(port, four('/shared'))), 'prefer-last-server, http-reuse safe')
  // http-reuse never alone does not keep the server
  assert.ok(alternates(await onOneConnection(port, four('/never'))), 'http-reuse never without the option')
  // the server connection closed after each response: nothing to keep
  assert.ok(alternates(await onOneConnection(port, four('/closing'))), 'http-server-close')
  // another backend in between: each backend keeps its own
  const mixed = await onOneConnection(port, ['/prefer', '/never', '/prefer', '/never', '/prefer'])
  assert.ok(same([mixed[0], mixed[2], mixed[4]]), `a backend in between: ${mixed.join(' ')}`)
  // a hash decides whatever the option
  const keys = ['/hash?k=1', '/hash?k=2', '/hash?k=3', '/hash?k=4', '/hash?k=5']
  const hashed = await onOneConnection(port, keys)
  const fresh: string[] = []
  for (const k of keys) fresh.push(...await onOneConnection(port, [k]))
  assert.deepEqual(hashed, fresh, 'url_param')
  assert.ok(!same(hashed), `the keys spread over the servers: ${hashed.join(' ')}`)

  // a 401 asking for NTLM ties the connection to its server, without the option
  const ntlm = await onOneConnection(port, ['/ntlm/challenge', '/ntlm', '/ntlm', '/ntlm'])
  assert.ok(same(ntlm), `NTLM: ${ntlm.join(' ')}`)
  assert.ok(alternates(await onOneConnection(port, four('/ntlm'))), 'without the challenge')
  const ntlmHashed = await onOneConnection(port, ['/ntlmhash/challenge?k=1', ...keys.map((k) => k.replace('/hash', '/ntlmhash'))])
  assert.deepEqual(ntlmHashed.slice(1), fresh, 'NTLM under a hash')
}

describe('option prefer-last-server', () => {
  test('through the CLI', async () => {
    await withGateway(join(dir, 'ours.cfg'), config, check)
  })

  test('through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
    await withHaproxy(join(dir, 'real.cfg'), config, check)
  })
})
