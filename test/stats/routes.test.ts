// The stats page over real sockets: prefix matching, modifiers, basic auth and the ways people
// try to get around it, `stats http-request` rules, and the admin form changing server state.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Condition, Proxy, StatsConfig } from '../../lib/config/model.js'
import { serverAdminHandler } from '../../lib/stats/admin.js'
import { FakeBackend, FakeFrontend, FakeServer, makeProxy, model, parseCsv, statsConfig } from './views.js'
import { basic, raw, startStats } from './server.js'

const LOC = { file: 'test.cfg', line: 3 }
const cond = (...words: string[]): Condition => ({ polarity: 'if', words, loc: LOC })

function setup (stats: Partial<StatsConfig>): { proxy: Proxy, backend: FakeBackend, statsModel: () => ReturnType<typeof model> } {
  const proxy = makeProxy('listen', 'stats', 1, { stats: statsConfig(stats) })
  const backend = new FakeBackend('app', 2, [
    new FakeServer('web1', 1),
    new FakeServer('web2', 2, { op: 'down', health: 0, lastCheck: { status: 'L4CON', code: null, duration: 0, desc: 'Connection refused' } }),
    new FakeServer('web3', 3, { admin: 'maint' })
  ])
  const entries = [
    { proxy, frontend: new FakeFrontend('stats', 1, 100), backend: new FakeBackend('stats', 1, []) },
    { proxy: makeProxy('backend', 'app', 2), frontend: null, backend }
  ]
  return { proxy, backend, statsModel: () => model(entries) }
}

test('no auth configured: the default URI serves HTML, `;csv` text, no challenge', async (t) => {
  const { proxy, statsModel } = setup({})
  const { app, port } = await startStats(proxy, statsModel)
  t.after(() => app.close())
  const html = await raw(port, 'GET', '/haproxy?stats')
  assert.equal(html.status, 200)
  assert.match(html.headers['content-type'], /^text\/html/)
  assert.equal(html.headers['www-authenticate'], undefined)
  assert.equal(html.headers['cache-control'], 'no-cache')
  assert.match(html.body, /Statistics Report for pid 4242/)
  const csv = await raw(port, 'GET', '/haproxy?stats;csv')
  assert.equal(csv.status, 200)
  assert.match(csv.headers['content-type'], /^text\/plain/)
  assert.deepEqual([...parseCsv(csv.body).rows.keys()], ['stats/FRONTEND', 'stats/BACKEND', 'app/web1', 'app/web2', 'app/web3', 'app/BACKEND'])
  // `/haproxy` without the `stats` query is not the stats URI
  assert.equal((await raw(port, 'GET', '/haproxy?other')).status, 404)
  assert.equal((await raw(port, 'GET', '/haproxy_stats')).status, 404)
})

test('the URI is a prefix: `;csv`, `;json`, `;typed` anywhere after it, other suffixes still the page', async (t) => {
  const { proxy, statsModel } = setup({ uri: '/st' })
  const { app, port } = await startStats(proxy, statsModel)
  t.after(() => app.close())
  assert.match((await raw(port, 'GET', '/stats')).body, /<html>/)
  assert.match((await raw(port, 'GET', '/st/x;csv')).body, /^# pxname,svname,/)
  const json = await raw(port, 'GET', '/st;json')
  assert.match(json.headers['content-type'], /^application\/json/)
  const objs = JSON.parse(json.body) as Array<Array<{ objType: string, field: { name: string } }>>
  assert.equal(objs.length, 6)
  assert.equal(objs[0][0].objType, 'Frontend')
  assert.match((await raw(port, 'GET', '/st;typed')).body, /^F\.1\.0\.0\.pxname\.1:KNS:str:stats$/m)
  assert.equal((await raw(port, 'GET', '/s')).status, 404)
  assert.equal((await raw(port, 'PUT', '/st')).status, 503, "HAProxy's 503 for a method the stats page does not serve")
})

test('`;up` hides DOWN and MAINT servers, `;no-maint` only MAINT, `scope=` filters proxies', async (t) => {
  const { proxy, statsModel } = setup({ uri: '/s' })
  const { app, port } = await startStats(proxy, statsModel)
  t.after(() => app.close())
  const names = async (target: string): Promise<string[]> => [...parseCsv((await raw(port, 'GET', target)).body).rows.keys()]
  assert.deepEqual(await names('/s;csv;up'), ['stats/FRONTEND', 'stats/BACKEND', 'app/web1', 'app/BACKEND'])
  assert.deepEqual(await names('/s;csv;no-maint'), ['stats/FRONTEND', 'stats/BACKEND', 'app/web1', 'app/web2', 'app/BACKEND'])
  assert.deepEqual(await names('/s;csv?scope=AP'), ['app/web1', 'app/web2', 'app/web3', 'app/BACKEND'])
  const page = (await raw(port, 'GET', '/s;up')).body
  assert.doesNotMatch(page, /web2/)
  assert.match(page, /Show all servers/)
})

test('`stats scope` limits the proxies, `.` naming the stats proxy itself', async (t) => {
  const { proxy, statsModel } = setup({ uri: '/s', scope: ['.'] })
  const { app, port } = await startStats(proxy, statsModel)
  t.after(() => app.close())
  assert.deepEqual([...parseCsv((await raw(port, 'GET', '/s;csv')).body).rows.keys()], ['stats/FRONTEND', 'stats/BACKEND'])
})

test('`stats refresh` sends a refresh header; `;norefresh` drops it', async (t) => {
  const { proxy, statsModel } = setup({ uri: '/s', refresh: 10_000 })
  const { app, port } = await startStats(proxy, statsModel)
  t.after(() => app.close())
  const page = await raw(port, 'GET', '/s')
  assert.equal(page.headers.refresh, '10')
  assert.match(page.body, /Disable refresh/)
  const off = await raw(port, 'GET', '/s;norefresh')
  assert.equal(off.headers.refresh, undefined)
  assert.match(off.body, /Enable refresh/)
})

test('basic auth: 401 with the realm, wrong or unknown credentials refused, every `stats auth` user accepted', async (t) => {
  const { proxy, statsModel } = setup({ uri: '/admin/stats', realm: 'MyRealm', auth: [{ user: 'ops', password: 'pw' }, { user: 'ro', password: 'ro:x' }] })
  const { app, port } = await startStats(proxy, statsModel)
  t.after(() => app.close())
  const none = await raw(port, 'GET', '/admin/stats')
  assert.equal(none.status, 401)
  assert.equal(none.headers['www-authenticate'], 'Basic realm="MyRealm"')
  assert.match(none.headers['content-type'], /^text\/html/)
  assert.match(none.body, /401 Unauthorized/)
  assert.doesNotMatch(none.body, /pxname|web1/)
  for (const [u, p] of [['ops', 'wrong'], ['root', 'pw'], ['ro', 'ro'], ['ops', 'pw '], ['OPS', 'pw'], ['', '']]) {
    const r = await raw(port, 'GET', '/admin/stats', basic(u, p))
    assert.equal(r.status, 401, `${u}:${p}`)
    assert.equal(r.headers['www-authenticate'], 'Basic realm="MyRealm"')
  }
  assert.equal((await raw(port, 'GET', '/admin/stats', basic('ops', 'pw'))).status, 200)
  assert.equal((await raw(port, 'GET', '/admin/stats;csv', basic('ro', 'ro:x'))).status, 200)
  assert.equal((await raw(port, 'GET', '/admin/stats', { authorization: 'Bearer abc' })).status, 401)
})

test('auth cannot be bypassed: case, slashes, %-encoding, suffixes, dot segments, HEAD, absolute-form', async (t) => {
  const { proxy, statsModel } = setup({ uri: '/s', auth: [{ user: 'a', password: 'b' }] })
  const { app, port } = await startStats(proxy, statsModel)
  t.after(() => app.close())
  const attempts = ['/s', '/S', '//s', '/%73', '/s;csv', '/s;json', '/s;typed', '/s/', '/s/../s', '/x/../s', '/./s', '/s?x', '/sfoo',
    '/s%3bcsv', `http://127.0.0.1:${port}/s`, `http://127.0.0.1:${port}/s;csv`, `HTTP://127.0.0.1:${port}/s`, '*']
  for (const target of attempts) {
    for (const method of ['GET', 'HEAD', 'POST']) {
      const r = await raw(port, method, target)
      // never the page: a challenge when it is the stats URI, otherwise not found
      assert.ok(r.status === 401 || r.status === 404 || r.status === 400, `${method} ${target} → ${r.status}`)
      assert.doesNotMatch(r.body, /pxname|web1|Statistics Report/, `${method} ${target} leaked the page`)
      assert.equal(r.headers.location, undefined, `${method} ${target} ran an admin action`)
      if (r.status === 401) assert.equal(r.headers['www-authenticate'], 'Basic realm="HAProxy Statistics"')
    }
  }
  // the same targets HAProxy treats as the stats URI do serve it with credentials
  for (const target of ['/s', '/s;csv', '/s/', '/s/../s', '/s?x', '/sfoo', `http://127.0.0.1:${port}/s`]) {
    assert.equal((await raw(port, 'GET', target, basic('a', 'b'))).status, 200, target)
  }
  const head = await raw(port, 'HEAD', '/s', basic('a', 'b'))
  assert.equal(head.status, 200)
  assert.equal(head.body, '')
})

test('`stats http-request deny` and `auth realm` run before `stats auth`', async (t) => {
  const { proxy, statsModel } = setup({
    uri: '/s',
    auth: [{ user: 'a', password: 'b' }],
    httpRequest: [
      { action: 'deny', args: [], cond: cond('{', 'hdr(x-block)', '-m', 'found', '}'), loc: LOC },
      { action: 'auth', args: ['realm', 'Special'], cond: cond('{', 'hdr(x-special)', '-m', 'found', '}'), loc: LOC }
    ]
  })
  const { app, port } = await startStats(proxy, statsModel)
  t.after(() => app.close())
  const denied = await raw(port, 'GET', '/s', { ...basic('a', 'b'), 'x-block': '1' })
  assert.equal(denied.status, 403)
  assert.match(denied.body, /403 Forbidden/)
  const special = await raw(port, 'GET', '/s', { 'x-special': '1' })
  assert.equal(special.status, 401)
  assert.equal(special.headers['www-authenticate'], 'Basic realm="Special"')
  assert.equal((await raw(port, 'GET', '/s')).headers['www-authenticate'], 'Basic realm="HAProxy Statistics"')
  assert.equal((await raw(port, 'GET', '/s', basic('a', 'b'))).status, 200)
})

test('`stats http-request allow` skips `stats auth`', async (t) => {
  const { proxy, statsModel } = setup({
    uri: '/s',
    auth: [{ user: 'a', password: 'b' }],
    httpRequest: [{ action: 'allow', args: [], cond: cond('{', 'hdr(x-trusted)', '-m', 'found', '}'), loc: LOC }]
  })
  const { app, port } = await startStats(proxy, statsModel)
  t.after(() => app.close())
  assert.equal((await raw(port, 'GET', '/s', { 'x-trusted': '1' })).status, 200)
  assert.equal((await raw(port, 'GET', '/s')).status, 401)
})

test('admin form: 303 to `;st=CODE`, servers change state through the AdminHandler', async (t) => {
  const { proxy, backend, statsModel } = setup({ uri: '/s', admin: cond('{', 'hdr(x-admin)', 'yes', '}') })
  const handler = serverAdminHandler(() => [backend])
  const { app, port } = await startStats(proxy, statsModel, handler)
  t.after(() => app.close())
  const post = async (body: string, target = '/s', admin = true): Promise<{ status: number, location: string | undefined }> => {
    const r = await raw(port, 'POST', target, { 'content-type': 'application/x-www-form-urlencoded', ...(admin ? { 'x-admin': 'yes' } : {}) }, body)
    return { status: r.status, location: r.headers.location }
  }
  assert.deepEqual(await post('s=web1&action=drain&b=%232'), { status: 303, location: '/s;st=DONE' })
  assert.equal(backend.servers[0].admin, 'drain')
  assert.deepEqual(await post('s=web1&s=web2&action=maint&b=app', '/s;norefresh'), { status: 303, location: '/s;st=DONE;norefresh' })
  assert.equal(backend.servers[1].admin, 'maint')
  assert.deepEqual(await post('s=web1&s=nope&action=ready&b=%232', '/s?scope=ap'), { status: 303, location: '/s;st=PART?scope=ap' })
  assert.equal(backend.servers[0].admin, 'ready')
  assert.deepEqual(await post('action=ready&b=%232'), { status: 303, location: '/s;st=NONE' })
  assert.deepEqual(await post('s=web1&action=bogus&b=%232'), { status: 303, location: '/s;st=ERRP' })
  assert.deepEqual(await post('s=web1&action=ready&b=%2399'), { status: 303, location: '/s;st=ERRP' })
  assert.deepEqual(await post('s=web1&action=dhlth&b=%232'), { status: 303, location: '/s;st=DONE' })
  assert.equal(backend.servers[0].checkEnabled, false)
  assert.deepEqual(await post('s=web1&action=ehlth&b=%232'), { status: 303, location: '/s;st=DONE' })
  assert.equal(backend.servers[0].checkEnabled, true)
  // the condition does not hold: denied, nothing changes
  assert.deepEqual(await post('s=web1&action=maint&b=%232', '/s', false), { status: 303, location: '/s;st=DENY' })
  assert.equal(backend.servers[0].admin, 'ready')
  // the page shows the form only to admins, and the banner of the last action
  const adminPage = await raw(port, 'GET', '/s;st=DONE', { 'x-admin': 'yes' })
  assert.match(adminPage.body, /<select name=action>/)
  assert.match(adminPage.body, /<div class=active_up>.*\[X\]<\/a> Done: /)
  assert.doesNotMatch((await raw(port, 'GET', '/s')).body, /<select name=action>/)
})

test('no `stats admin`: every POST answers `;st=DENY`', async (t) => {
  const { proxy, backend, statsModel } = setup({ uri: '/s' })
  const { app, port } = await startStats(proxy, statsModel, serverAdminHandler(() => [backend]))
  t.after(() => app.close())
  const r = await raw(port, 'POST', '/s', { 'content-type': 'application/x-www-form-urlencoded' }, 's=web1&action=maint&b=%232')
  assert.equal(r.status, 303)
  assert.equal(r.headers.location, '/s;st=DENY')
  assert.equal(backend.servers[0].admin, 'ready')
})

test('registration fails closed when stats conditions have no compiled rules', async () => {
  const { default: Fastify } = await import('fastify')
  const { statsRoutes } = await import('../../lib/stats/routes.js')
  const { proxy, statsModel } = setup({ uri: '/s', admin: cond('TRUE') })
  const app = Fastify()
  await assert.rejects(async () => { await app.register(statsRoutes, { proxy, model: statsModel }); await app.ready() }, /need the 'rules' option/)
  await app.close()
})
