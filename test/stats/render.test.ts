// The renderers against runtime-like objects: CSV rows and values, status texts, backend
// aggregates, the HTML page (row classes, durations, escaping), ;json / ;typed and Prometheus.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { CSV_HEADER, csvValue, renderCsv } from '../../lib/stats/csv.js'
import { STAT_FIELDS } from '../../lib/stats/fields.js'
import { escapeHtml, groupDigits, humanTime, renderHtml, type HtmlOptions } from '../../lib/stats/html.js'
import { renderTyped, statsJson } from '../../lib/stats/json.js'
import { renderPrometheus } from '../../lib/stats/prometheus.js'
import { serverState, serverStatus, serverRowClass } from '../../lib/stats/status.js'
import { FakeBackend, FakeFrontend, FakeServer, makeProxy, model, parseCsv, statsConfig } from './views.js'

function htmlOptions (over: Partial<HtmlOptions> = {}): HtmlOptions {
  return { uri: '/s', stats: statsConfig(), self: 'stats', admin: false, noRefresh: false, filter: {}, version: '9.9.9', now: Date.now(), ...over }
}

test('CSV header: the 103 standard fields of HAProxy 2.6 in order, a trailing comma', () => {
  assert.equal(STAT_FIELDS.length, 103)
  assert.ok(CSV_HEADER.startsWith('# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,'))
  assert.ok(CSV_HEADER.endsWith(',uweight,agg_server_status,agg_server_check_status,agg_check_status,\n'))
  STAT_FIELDS.forEach((f, i) => assert.equal(f.pos, i))
  assert.equal(new Set(STAT_FIELDS.map(f => f.name)).size, 103)
  assert.ok(STAT_FIELDS.every(f => f.desc !== ''), 'every field is described')
})

test('CSV values are quoted only when they hold a comma, quote or line break', () => {
  assert.equal(csvValue('plain text'), 'plain text')
  assert.equal(csvValue('a,b'), '"a,b"')
  assert.equal(csvValue('say "hi"'), '"say ""hi"""')
  assert.equal(csvValue(12), '12')
  assert.equal(csvValue(undefined), '')
  fc.assert(fc.property(fc.string(), (s) => {
    const v = csvValue(s)
    // what a CSV reader gets back is the original text
    const back = v.startsWith('"') ? v.slice(1, -1).replace(/""/g, '"') : v
    return back === s && (v === s || /[",\r\n]/.test(s))
  }))
})

test('CSV rows: frontend-only gives FRONTEND, backend-only servers+BACKEND, listen all three, config order', () => {
  const be = new FakeBackend('be', 2, [new FakeServer('s1', 1), new FakeServer('s2', 2)])
  const text = renderCsv(model([
    { proxy: makeProxy('frontend', 'fe', 1), frontend: new FakeFrontend('fe', 1), backend: null },
    { proxy: makeProxy('backend', 'be', 2), frontend: null, backend: be },
    { proxy: makeProxy('listen', 'both', 3), frontend: new FakeFrontend('both', 3), backend: new FakeBackend('both', 3, [new FakeServer('x', 1)]) }
  ]))
  const { rows } = parseCsv(text)
  assert.deepEqual([...rows.keys()], ['fe/FRONTEND', 'be/s1', 'be/s2', 'be/BACKEND', 'both/FRONTEND', 'both/x', 'both/BACKEND', ])
  for (const line of text.split('\n').slice(1, -1)) assert.equal(line.split(',').length, 104, 'every line has 103 fields and a trailing comma')
  assert.equal(rows.get('fe/FRONTEND')?.type, '0')
  assert.equal(rows.get('be/BACKEND')?.type, '1')
  assert.equal(rows.get('be/s2')?.type, '2')
  assert.equal(rows.get('be/s2')?.sid, '2')
  assert.equal(rows.get('be/s2')?.iid, '2')
  assert.equal(rows.get('be/s2')?.pid, '1')
})

test('counters flow into the CSV; the backend sums what its servers served', () => {
  const now = Date.now()
  const servers = [new FakeServer('a', 1), new FakeServer('b', 2), new FakeServer('c', 3)]
  const be = new FakeBackend('be', 1, servers)
  const n = 97
  for (let i = 0; i < n; i++) {
    const sv = servers[i % 3]
    sv.counters.stot++
    sv.lbtot++
    sv.counters.countResponse(i % 10 === 0 ? 503 : 200)
    sv.counters.rate.hit(now)
    be.counters.stot++
    be.lbtot++
    be.counters.countResponse(i % 10 === 0 ? 503 : 200)
  }
  const { rows } = parseCsv(renderCsv(model([{ proxy: makeProxy('backend', 'be', 1), frontend: null, backend: be }]), {}, now))
  const sum = (field: string): number => ['a', 'b', 'c'].reduce((acc, s) => acc + Number(rows.get(`be/${s}`)?.[field]), 0)
  assert.equal(sum('stot'), n)
  assert.equal(sum('lbtot'), n)
  assert.equal(sum('hrsp_2xx') + sum('hrsp_5xx'), n)
  assert.equal(rows.get('be/BACKEND')?.stot, String(n))
  assert.equal(rows.get('be/BACKEND')?.hrsp_5xx, '10')
  assert.equal(rows.get('be/a')?.rate, '33')
})

test('server status texts and row classes follow HAProxy\'s state table', () => {
  const cases: Array<[Partial<FakeServer>, string, string]> = [
    [{}, 'UP', 'active_up'],
    [{ backup: true }, 'UP', 'backup_up'],
    [{ health: 2 }, 'UP 1/3', 'active_going_down'],
    [{ health: 3, backup: true }, 'UP 2/3', 'backup_going_down'],
    [{ op: 'down', health: 0 }, 'DOWN', 'active_down'],
    [{ op: 'down', health: 1 }, 'DOWN 1/2', 'active_going_up'],
    [{ op: 'down', health: 1, backup: true }, 'DOWN 1/2', 'backup_going_up'],
    [{ nolb: true }, 'NOLB', 'active_nolb'],
    [{ admin: 'drain' }, 'DRAIN', 'active_draining'],
    [{ admin: 'drain', backup: true }, 'DRAIN', 'backup_draining'],
    [{ admin: 'drain', health: 2 }, 'DRAIN 1/3', 'active_going_down'],
    [{ admin: 'maint' }, 'MAINT', 'maintain'],
    [{ admin: 'maint', op: 'down', health: 0 }, 'MAINT', 'maintain'],
    [{ hasCheck: false, checkEnabled: false }, 'no check', 'active_no_check'],
    [{ hasCheck: true, checkEnabled: false }, 'no check', 'active_no_check'],
    [{ hasCheck: false, checkEnabled: false, backup: true }, 'no check', 'backup_no_check']
  ]
  for (const [over, status, cls] of cases) {
    const sv = new FakeServer('s', 1, over)
    const st = serverState(sv)
    assert.equal(serverStatus(sv, st), status, JSON.stringify(over))
    assert.equal(serverRowClass(sv, st), cls, JSON.stringify(over))
  }
})

test('backend aggregate: act/bck/weight from usable servers, first backup unless allbackups', () => {
  const csvOf = (servers: FakeServer[], allBackups = false): Record<string, string> => {
    const be = new FakeBackend('be', 1, servers)
    return parseCsv(renderCsv(model([{ proxy: makeProxy('backend', 'be', 1, { allBackups }), frontend: null, backend: be }]))).rows.get('be/BACKEND') as Record<string, string>
  }
  const mixed = csvOf([new FakeServer('a', 1, { weight: 3, uweight: 3 }), new FakeServer('b', 2, { admin: 'drain' }), new FakeServer('c', 3, { op: 'down', health: 0 }), new FakeServer('d', 4, { backup: true, weight: 7, uweight: 7 })])
  assert.deepEqual([mixed.status, mixed.weight, mixed.act, mixed.bck, mixed.uweight], ['UP', '3', '1', '1', '3'])
  const backups = [new FakeServer('a', 1, { op: 'down', health: 0 }), new FakeServer('b', 2, { backup: true, weight: 3, uweight: 3 }), new FakeServer('c', 3, { backup: true, weight: 5, uweight: 5 })]
  assert.deepEqual([csvOf(backups).weight, csvOf(backups).bck], ['3', '2'])
  assert.equal(csvOf(backups, true).weight, '8')
  const down = csvOf([new FakeServer('a', 1, { op: 'down', health: 0 })])
  assert.deepEqual([down.status, down.weight, down.act], ['DOWN', '0', '0'])
  assert.equal(csvOf([]).status, 'UP', 'a backend without servers is UP, as HAProxy shows a stats listen')
})

test('check columns: shown with checks, hidden in maintenance and without checks; L7 code and detail', () => {
  const l7 = new FakeServer('l7', 1, { op: 'down', health: 0, lastCheck: { status: 'L7STS', code: 500, duration: 3, desc: 'Internal Server Error' } })
  const maint = new FakeServer('m', 2, { admin: 'maint', chkfail: 2 })
  const plain = new FakeServer('p', 3, { hasCheck: false, checkEnabled: false })
  const { rows } = parseCsv(renderCsv(model([{ proxy: makeProxy('backend', 'be', 1), frontend: null, backend: new FakeBackend('be', 1, [l7, maint, plain]) }])))
  const r = rows.get('be/l7') as Record<string, string>
  assert.deepEqual([r.check_status, r.check_code, r.check_duration, r.last_chk, r.check_desc, r.check_health], ['L7STS', '500', '3', 'Internal Server Error', 'Layer7 wrong status', '0'])
  const m = rows.get('be/m') as Record<string, string>
  assert.deepEqual([m.status, m.check_status, m.check_desc, m.chkfail], ['MAINT', '', '', '2'])
  const p = rows.get('be/p') as Record<string, string>
  assert.deepEqual([p.status, p.chkfail, p.chkdown, p.downtime, p.check_status], ['no check', '', '', '', ''])
})

test('humanTime and groupDigits format as HAProxy does', () => {
  const cases: Array<[number, string]> = [[0, '0s'], [5, '5s'], [59, '59s'], [60, '1m'], [62, '1m2s'], [3600, '1h'], [3600 + 5 * 60 + 7, '1h5m'],
    [11100, '3h5m'], [86400, '1d'], [86400 + 2 * 3600 + 1, '1d2h'], [86400 + 61, '1d1m'], [-1, '?']]
  for (const [s, text] of cases) assert.equal(humanTime(s), text, String(s))
  assert.equal(groupDigits(987), '987')
  assert.equal(groupDigits(9987), '<span class="rls">9</span>987')
  assert.equal(groupDigits(84521), '8<span class="rls">4</span>521')
  assert.equal(groupDigits(1234567), '<span class="rls">1</span>23<span class="rls">4</span>567')
})

test('HTML: a table per proxy with HAProxy\'s classes, status and last check texts', () => {
  const now = Date.now()
  const be = new FakeBackend('app', 2, [
    new FakeServer('up1', 1, { lastChange: now - 62_000 }),
    new FakeServer('dn', 2, { op: 'down', health: 0, lastChange: now - 11_100_000, downMs: 11_100_000, chkfail: 4, chkdown: 1, lastCheck: { status: 'L7STS', code: 500, duration: 1, desc: 'Internal Server Error' } }),
    new FakeServer('nc', 3, { hasCheck: false, checkEnabled: false })
  ])
  be.lastChange = now - 5000
  const html = renderHtml(model([
    { proxy: makeProxy('frontend', 'main', 1), frontend: new FakeFrontend('main', 1, 9987), backend: null },
    { proxy: makeProxy('backend', 'app', 2), frontend: null, backend: be }
  ]), htmlOptions({ now }))
  assert.match(html, /<tr class="frontend">.*>Frontend<\/a>.*<td>.*<span class="rls">9<\/span>987<\/td>.*<td class=ac>OPEN<\/td>/)
  assert.match(html, /<tr class="active_up">.*href="#app\/up1">up1<\/a>.*<td class=ac>1m2s UP<\/td><td class=ac><u> L4OK in 0ms<div class=tips>Layer4 check passed<\/div><\/u><\/td>/)
  assert.match(html, /<tr class="active_down">.*<td class=ac>3h5m DOWN<\/td><td class=ac><u> L7STS\/500 in 1ms<div class=tips>Layer7 wrong status: Internal Server Error<\/div><\/u><\/td>.*<td><u>4<div class=tips>[^<]+<\/div><\/u><\/td><td>1<\/td><td>3h5m<\/td>/)
  assert.match(html, /<tr class="active_no_check">.*<td class=ac><i>no check<\/i><\/td><td><\/td>.*<td colspan=3><\/td>/)
  assert.match(html, /<tr class="backend">.*<td class=ac>5s UP<\/td><td class=ac>&nbsp;<\/td><td class=ac>2\/2<\/td><td class=ac>2<\/td><td class=ac>0<\/td>/)
  const down = new FakeBackend('dead', 3, [new FakeServer('x', 1, { op: 'down', health: 0 })])
  down.lastChange = now - 5000
  const downHtml = renderHtml(model([{ proxy: makeProxy('backend', 'dead', 3), frontend: null, backend: down }]), htmlOptions({ now }))
  assert.match(downHtml, /<tr class="backend">.*<td class=ac>5s <b class=alert>DOWN<\/b><\/td>/)
  assert.match(html, /<th colspan=3>Queue<\/th><th colspan=3>Session rate<\/th><th colspan=6>Sessions<\/th><th colspan=2>Bytes<\/th><th colspan=2>Denied<\/th><th colspan=3>Errors<\/th><th colspan=2>Warnings<\/th><th colspan=9>Server<\/th>/)
  assert.match(html, /fastify-haproxy version 9\.9\.9/)
  assert.doesNotMatch(renderHtml(model([]), htmlOptions({ stats: statsConfig({ hideVersion: true }) })), /[Vv]ersion:? v?\d/)
})

test('HTML: every config text is escaped (names, description, show-desc, show-node)', () => {
  const evil = '<script>alert(1)</script>"\'&'
  const proxy = makeProxy('backend', evil, 1, { description: evil })
  const be = new FakeBackend(evil, 1, [new FakeServer(evil, 1, { addr: evil, lastCheck: { status: 'L7STS', code: 500, duration: 1, desc: evil } })])
  be.algorithm = evil
  const html = renderHtml(model([{ proxy, frontend: null, backend: be }], { node: evil, description: evil }),
    htmlOptions({ admin: true, stats: statsConfig({ showDesc: '', showNode: '', showLegends: true }), filter: { search: evil } }))
  assert.doesNotMatch(html, /<script>/)
  assert.doesNotMatch(html, /alert\(1\)<\/script>/)
  assert.ok(html.includes(escapeHtml(evil)))
  assert.equal(escapeHtml(evil), '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;')
  const own = renderHtml(model([]), htmlOptions({ stats: statsConfig({ showDesc: '<b>desc</b>', showNode: '<i>n</i>' }) }))
  assert.match(own, /<h2>Statistics Report for pid 4242 on &lt;i&gt;n&lt;\/i&gt;: &lt;b&gt;desc&lt;\/b&gt;<\/h2>/)
  assert.match(own, /<title>Statistics Report for HAProxy on &lt;i&gt;n&lt;\/i&gt;<\/title>/)
})

test('HTML: admin mode adds the checkbox column and the action form per backend with servers', () => {
  const html = renderHtml(model([
    { proxy: makeProxy('frontend', 'fe', 1), frontend: new FakeFrontend('fe', 1), backend: null },
    { proxy: makeProxy('backend', 'be', 2), frontend: null, backend: new FakeBackend('be', 2, [new FakeServer('s1', 1)]) }
  ]), htmlOptions({ admin: true }))
  assert.match(html, /<form method="post">.*<a name="be">/s)
  assert.match(html, /<input type="checkbox" name="s" value="s1">/)
  assert.match(html, /<option value="drain">Set state to DRAIN<\/option>/)
  assert.match(html, /<input type="hidden" name="b" value="#2">/)
  assert.equal(html.match(/<form method="post">/g)?.length, 1, 'no form for a frontend')
})

test(';json and ;typed: HAProxy\'s shapes, absent fields left out', () => {
  const m = model([{ proxy: makeProxy('listen', 'px', 7), frontend: new FakeFrontend('px', 7, 10), backend: new FakeBackend('px', 7, [new FakeServer('s', 3)]) }])
  const json = statsJson(m)
  assert.equal(json.length, 3)
  assert.deepEqual(json[0][0], { objType: 'Frontend', proxyId: 7, id: 0, field: { pos: 0, name: 'pxname' }, processNum: 1, tags: { origin: 'Key', nature: 'Name', scope: 'Service' }, value: { type: 'str', value: 'px' } })
  const server = json[1]
  assert.ok(server.every(f => f.objType === 'Server' && f.id === 3))
  assert.ok(!server.some(f => f.field.name === 'dreq'), 'servers have no dreq')
  assert.deepEqual(server.find(f => f.field.name === 'weight')?.tags, { origin: 'Metric', nature: 'Avg', scope: 'Process' })
  assert.deepEqual(json[2].find(f => f.field.name === 'lastsess')?.value, { type: 's32', value: -1 })
  const typed = renderTyped(m).split('\n')
  assert.ok(typed.includes('F.7.0.0.pxname.1:KNS:str:px'))
  assert.ok(typed.includes('S.7.3.17.status.1:SGP:str:UP'))
  assert.ok(typed.includes('B.7.0.32.type.1:CGS:u32:1'))
  assert.ok(!typed.some(l => l.startsWith('S.7.3.10.dreq')))
})

test('Prometheus: HAProxy exporter names, proxy/server labels, one sample per state', () => {
  const sv = new FakeServer('web"1', 1, { op: 'down', health: 0, lastCheck: { status: 'L4CON', code: null, duration: 2, desc: '' } })
  sv.counters.stot = 5
  sv.counters.countResponse(200)
  const text = renderPrometheus(model([
    { proxy: makeProxy('frontend', 'fe', 1), frontend: new FakeFrontend('fe', 1, 100), backend: null },
    { proxy: makeProxy('backend', 'be', 2), frontend: null, backend: new FakeBackend('be', 2, [sv, new FakeServer('web2', 2)]) }
  ]))
  assert.match(text, /^# HELP haproxy_frontend_current_sessions .+\n# TYPE haproxy_frontend_current_sessions gauge\nhaproxy_frontend_current_sessions\{proxy="fe"\} 0$/m)
  assert.match(text, /^haproxy_frontend_limit_sessions\{proxy="fe"\} 100$/m)
  assert.match(text, /^haproxy_backend_status\{proxy="be",state="DOWN"\} 0$/m)
  assert.match(text, /^haproxy_backend_status\{proxy="be",state="UP"\} 1$/m)
  assert.match(text, /^haproxy_server_sessions_total\{proxy="be",server="web\\"1"\} 5$/m)
  assert.match(text, /^haproxy_server_status\{proxy="be",server="web\\"1",state="DOWN"\} 1$/m)
  assert.match(text, /^haproxy_server_status\{proxy="be",server="web2",state="UP"\} 1$/m)
  assert.match(text, /^haproxy_server_check_status\{proxy="be",server="web\\"1",state="L4CON"\} 1$/m)
  assert.match(text, /^haproxy_server_check_duration_seconds\{proxy="be",server="web\\"1"\} 0\.002000$/m)
  assert.match(text, /^haproxy_server_http_responses_total\{proxy="be",server="web\\"1",code="2xx"\} 1$/m)
  assert.match(text, /^haproxy_server_limit_sessions\{proxy="be",server="web2"\} NaN$/m)
  assert.match(text, /^haproxy_backend_agg_server_status\{proxy="be",state="DOWN"\} 1$/m)
  assert.match(text, /^# TYPE haproxy_server_sessions_total counter$/m)
  // every family is announced once
  const helps = text.match(/^# HELP \S+/gm) ?? []
  assert.equal(new Set(helps).size, helps.length)
})
