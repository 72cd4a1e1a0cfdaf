// The runtime API on a running gateway: its changes take effect on the next request (maps,
// ACLs, server address, dynamic servers), server states survive a restart through the state
// file, and app.haproxy offers the same operations.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { upstream, waitFor, type Upstream } from '../gateway/fixtures.js'
import { cli, waitForSocket } from './client.js'

const DEFAULTS = 'defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n'

async function gateway (config: string): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(haproxyRouter, { config, defaultBackend: 'always', runtimeSocket: true })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app
}

async function get (app: FastifyInstance, path: string, headers: Record<string, string> = {}): Promise<{ status: number, location: string | undefined, servedBy: string | undefined }> {
  const r = await app.inject({ method: 'GET', url: path, headers: { host: 'example.org', ...headers } })
  return { status: r.statusCode, location: r.headers.location as string | undefined, servedBy: r.headers['x-served-by'] as string | undefined }
}

function setup (): { dir: string, sock: string, done (): void } {
  const dir = mkdtempSync(join(tmpdir(), 'fh-rt-'))
  return { dir, sock: join(dir, 'admin.sock'), done: () => rmSync(dir, { recursive: true, force: true }) }
}

test('maps and ACLs changed on the socket apply to the next request', async () => {
  const { dir, sock, done } = setup()
  const a = await upstream('a')
  writeFileSync(join(dir, 'redirect.map'), '/old /new\n')
  writeFileSync(join(dir, 'agents.acl'), 'BadBot\n')
  const app = await gateway(`global\n stats socket ${sock} level admin\n${DEFAULTS}frontend fe\n bind :1\n` +
    ` http-request deny if { hdr(user-agent) -f ${dir}/agents.acl }\n` +
    ` http-request redirect location %[path,map(${dir}/redirect.map)] if { path,map(${dir}/redirect.map) -m found }\n` +
    ` default_backend be\nbackend be\n server a ${a.addr}\n`)
  try {
    await waitForSocket(sock)
    assert.equal((await get(app, '/old')).location, '/new')
    assert.equal((await get(app, '/x')).status, 200)
    assert.equal(await cli(sock, `add map ${dir}/redirect.map /x /y\n`), '\n')
    assert.equal((await get(app, '/x')).location, '/y')
    assert.equal(await cli(sock, `set map ${dir}/redirect.map /x /z\n`), '\n')
    assert.equal((await get(app, '/x')).location, '/z')
    assert.equal(await cli(sock, `del map ${dir}/redirect.map /old\n`), '\n')
    assert.equal((await get(app, '/old')).status, 200)

    assert.equal((await get(app, '/', { 'user-agent': 'BadBot' })).status, 403)
    assert.equal((await get(app, '/', { 'user-agent': 'Mon User Agent;' })).status, 200)
    // backslashes escape blanks and semicolons (management.txt §9.3)
    assert.equal(await cli(sock, `add acl ${dir}/agents.acl Mon\\ User\\ Agent\\;\n`), '\n')
    assert.match(await cli(sock, `show acl ${dir}/agents.acl\n`), /^0x[0-9a-f]+ BadBot\n0x[0-9a-f]+ Mon User Agent;\n\n$/)
    assert.equal((await get(app, '/', { 'user-agent': 'Mon User Agent;' })).status, 403)
    assert.equal(await cli(sock, `clear acl ${dir}/agents.acl\n`), '\n')
    assert.equal((await get(app, '/', { 'user-agent': 'BadBot' })).status, 200)
    assert.match(await cli(sock, `show map\n`), /^# id \(file\) description\n\d+ \(.*redirect\.map\) pattern loaded from file .* entry_cnt=1\n\n$/)
  } finally {
    await app.close()
    await a.close()
    done()
  }
})

test('live maps: values set in place are read at once, keys added and deleted in file order, every lookup kind', async () => {
  const { dir, done } = setup()
  const a = await upstream('a')
  writeFileSync(join(dir, 'exact.map'), '/a 1\n/b 2\n/a 3\n')
  writeFileSync(join(dir, 'prefix.map'), '/api v1\n/api/v2 v2\n')
  const app = await gateway(`${DEFAULTS}frontend fe\n bind :1\n` +
    ` http-request return status 200 content-type text/plain lf-string "%[path,map(${dir}/exact.map,none)] %[path,map_str_int(${dir}/exact.map,-1)] %[path,map_beg(${dir}/prefix.map,none)]"\n` +
    ` default_backend be\nbackend be\n server a ${a.addr}\n`)
  const body = async (path: string): Promise<string> => (await app.inject({ url: path, headers: { host: 'x' } })).body
  const cmd = (line: string): string => app.haproxy.command(line)
  try {
    // duplicates: the first line of a key wins, as in HAProxy
    assert.equal(await body('/a'), '1 1 none')
    // one line by its handle (as show map prints it)
    const handle = /^(0x[0-9a-f]+) \/a 1$/m.exec(cmd(`show map ${dir}/exact.map`))![1]!
    assert.equal(cmd(`set map ${dir}/exact.map #${handle} 7`), '\n')
    assert.equal(await body('/a'), '7 7 none')
    assert.equal(cmd(`set map ${dir}/exact.map /a x`), "'x' is not a valid integer\n\n")
    assert.equal(await body('/a'), '7 7 none')
    // deleting a key removes all its lines; added lines go last
    assert.equal(cmd(`add map ${dir}/exact.map /b 9`), '\n')
    assert.equal(await body('/b'), '2 2 none')
    assert.equal(cmd(`del map ${dir}/exact.map /b`), '\n')
    assert.equal(await body('/b'), 'none -1 none')
    assert.equal(cmd(`add map ${dir}/exact.map /b 5`), '\n')
    assert.equal(await body('/b'), '5 5 none')
    assert.equal(cmd(`del map ${dir}/exact.map #${handle}`), '\n')
    assert.equal(await body('/a'), '3 3 none')
    // a key's every line
    assert.equal(cmd(`add map ${dir}/exact.map /a 4`), '\n')
    assert.equal(cmd(`set map ${dir}/exact.map /a 8`), '\n')
    assert.match(cmd(`show map ${dir}/exact.map`), /^0x[0-9a-f]+ \/a 8\n0x[0-9a-f]+ \/b 5\n0x[0-9a-f]+ \/a 8\n\n$/)
    // a prefix map rebuilds its lookup after keys change
    assert.equal(await body('/api/v2/x'), 'none -1 v2')
    assert.equal(cmd(`del map ${dir}/prefix.map /api/v2`), '\n')
    assert.equal(await body('/api/v2/x'), 'none -1 v1')
    assert.equal(cmd(`set map ${dir}/prefix.map /api v9`), '\n')
    assert.equal(await body('/api/v2/x'), 'none -1 v9')
    assert.equal(cmd(`clear map ${dir}/exact.map`), '\n')
    assert.equal(await body('/a'), 'none -1 none')
  } finally {
    await app.close()
    await a.close()
    done()
  }
})

test('set server addr moves a server without losing a request; add/del server', async () => {
  const { sock, done } = setup()
  const a = await upstream('a', { delayMs: 30 })
  const b = await upstream('b')
  const c = await upstream('c')
  const app = await gateway(`global\n stats socket ${sock} level admin\n${DEFAULTS}frontend fe\n bind :1\n default_backend be\nbackend be\n server s1 ${a.addr}\n`)
  const port = (app.server.address() as { port: number }).port
  const fetchOne = async (): Promise<string> => {
    const r = await fetch(`http://127.0.0.1:${port}/`)
    await r.text()
    return `${r.status} ${r.headers.get('x-served-by') ?? ''}`
  }
  try {
    await waitForSocket(sock)
    // requests under way on the old address finish there; the next ones go to the new one
    const during = Array.from({ length: 20 }, () => fetchOne())
    // some of them are under way on the old address when it changes
    await waitFor(() => a.seen.length > 0, 'a request on the old address')
    assert.equal(await cli(sock, `set server be/s1 addr 127.0.0.1 port ${b.port}\n`), `no need to change the addr, port changed from '${a.port}' to '${b.port}' by 'stats socket command'\n\n`)
    const results = await Promise.all(during)
    assert.ok(results.every(r => r === '200 a' || r === '200 b'), results.join(', '))
    assert.equal(await fetchOne(), '200 b')

    assert.equal(await cli(sock, `add server be/s2 ${c.addr} weight 3\n`), 'New server registered.\n\n')
    assert.match(await cli(sock, 'show servers state be\n'), /\n\d+ be 2 s2 127\.0\.0\.1 0 1 3 3 /)
    assert.equal(await cli(sock, 'set server be/s1 state maint;enable server be/s2\n'), '\n\n')
    assert.equal(await fetchOne(), '200 c')
    assert.equal(await cli(sock, 'del server be/s2\n'), 'Only servers in maintenance mode can be deleted.\n')
    assert.equal(await cli(sock, 'disable server be/s2;del server be/s2\n'), '\nServer deleted.\n')
    assert.equal(await cli(sock, 'enable server be/s1\n'), '\n')
    assert.equal(await fetchOne(), '200 b')
  } finally {
    await app.close()
    await Promise.all([a.close(), b.close(), c.close()])
    done()
  }
})

test('one-shot mode answers every line the client sent at once, then closes; levels hold', async () => {
  const { dir, done } = setup()
  const a = await upstream('a')
  const app = await gateway(`global\n stats socket ${dir}/user.sock level user\n stats socket ${dir}/op.sock\n${DEFAULTS}frontend fe\n bind :1\n default_backend be\nbackend be\n server s1 ${a.addr} weight 4\n`)
  try {
    await waitForSocket(join(dir, 'user.sock'))
    assert.equal(await cli(join(dir, 'user.sock'), 'get weight be/s1\nshow cli level\n'), '4 (initial 4)\n\nuser\n\n')
    assert.equal(await cli(join(dir, 'user.sock'), 'set weight be/s1 2\n'), 'Permission denied\n\n')
    // the default level is operator, as HAProxy's
    assert.equal(await cli(join(dir, 'op.sock'), 'show cli level\n'), 'operator\n\n')
    // user level hides addresses and algorithms in show stat, as HAProxy does
    const csv = await cli(join(dir, 'user.sock'), 'show stat\n')
    assert.ok(!csv.includes(a.addr), csv)
    assert.ok((await cli(join(dir, 'op.sock'), 'show stat -1 4 -1\n')).includes(`be,s1,`))
  } finally {
    await app.close()
    await a.close()
    done()
  }
})

test('app.haproxy: the same operations, errors thrown with HAProxy\'s message', async () => {
  const a = await upstream('a')
  const b = await upstream('b')
  const app = Fastify()
  await app.register(haproxyRouter, { config: `${DEFAULTS}frontend fe\n bind :1\n default_backend be\nbackend be\n server s1 ${a.addr} weight 10\nbackend st\n balance source\n server t ${a.addr}\n`, defaultBackend: 'always' })
  await app.ready()
  try {
    assert.deepEqual(app.haproxy.getServerWeight('be', 's1'), { current: 10, initial: 10 })
    assert.equal(app.haproxy.command('set weight be/s1 50%;get weight be/s1'), '\n5 (initial 10)\n\n')
    assert.equal(app.haproxy.command('set weight be/s1 1', 'user'), 'Permission denied\n\n')
    assert.throws(() => app.haproxy.addServer('st', 'x', b.addr), /Backend must use a dynamic load balancing to support dynamic servers\./)
    app.haproxy.setServerAddress('be', 's1', '127.0.0.1', b.port)
    assert.equal((await app.inject('/')).headers['x-served-by'], 'b')
    app.haproxy.addServer('be', 's2', a.addr)
    app.haproxy.setServerState('be', 's1', 'maint')
    app.haproxy.setServerState('be', 's2', 'ready')
    assert.equal((await app.inject('/')).headers['x-served-by'], 'a')
    app.haproxy.setServerState('be', 's2', 'maint')
    app.haproxy.deleteServer('be', 's2')
    assert.throws(() => app.haproxy.deleteServer('be', 's2'), /No such server\./)
  } finally {
    await app.close()
    await Promise.all([a.close(), b.close()])
  }
})

test('server-state-file: weights, maintenance and addresses survive a restart', async () => {
  const { dir, sock, done } = setup()
  const a = await upstream('a')
  const b = await upstream('b')
  const config = `global\n stats socket ${sock} level admin\n server-state-base ${dir}\n server-state-file state\n${DEFAULTS} load-server-state-from-file global\n` +
    `frontend fe\n bind :1\n default_backend be\nbackend be\n server s1 ${a.addr} weight 10\n server s2 ${a.addr}\n server s3 ${a.addr}\n`
  const first = await gateway(config)
  let state: string
  try {
    await waitForSocket(sock)
    await cli(sock, `set weight be/s1 4;set server be/s2 state maint;set server be/s3 addr 127.0.0.1 port ${b.port}\n`)
    state = await cli(sock, 'show servers state\n')
  } finally {
    await first.close()
  }
  writeFileSync(join(dir, 'state'), state)
  const second = await gateway(config)
  try {
    await waitForSocket(sock)
    const lines = (await cli(sock, 'show servers state be\n')).split('\n').slice(2, 5).map(l => l.split(' '))
    assert.deepEqual(lines.map(f => [f[3], f[6], f[7], f[18]]), [['s1', '0', '4', String(a.port)], ['s2', '1', '1', String(a.port)], ['s3', '0', '1', String(b.port)]])
    assert.equal((await get(second, '/')).servedBy !== undefined, true)
  } finally {
    await second.close()
    await Promise.all([a.close(), b.close()])
    done()
  }
})
