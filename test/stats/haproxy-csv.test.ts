// Our CSV against real HAProxy 2.6's, column by column: the same config runs through haproxy on
// loopback, and a model in the same state goes through renderCsv. Per row, the set of empty
// columns must be the same and the columns that come from config and state must be equal.

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { renderCsv } from '../../lib/stats/csv.js'
import { renderTyped, statsJson } from '../../lib/stats/json.js'
import { renderHtml } from '../../lib/stats/html.js'
import { renderPrometheus } from '../../lib/stats/prometheus.js'
import { STAT_FIELDS } from '../../lib/stats/fields.js'
import { freePort } from '../differential/harness.js'
import { FakeBackend, FakeFrontend, FakeServer, HTTP_DEFAULTS, makeProxy, model, parseCsv, statsConfig } from './views.js'

const HAPROXY = '/usr/sbin/haproxy'
const skip = !existsSync(HAPROXY) && 'haproxy is not installed'

/** Columns whose value follows from config and state alone (not from timing or traffic). */
const EQUAL = ['pxname', 'svname', 'slim', 'status', 'weight', 'act', 'bck', 'chkfail', 'chkdown', 'qlimit', 'pid', 'iid', 'sid',
  'type', 'rate_lim', 'check_status', 'check_code', 'last_chk', 'check_desc', 'check_rise', 'check_fall', 'check_health',
  'addr', 'mode', 'algo', 'uweight', 'agg_server_status', 'agg_server_check_status', 'agg_check_status']

async function get (port: number, path: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { connection: 'close' } }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', d => { body += d })
      res.on('end', () => resolve(body))
    }).on('error', reject)
  })
}

async function waitListening (port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>(resolve => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`port ${port} never listened`)
}

let upstream: http.Server
let haproxy: ChildProcess | null = null
let dir = ''
let haproxyCsv = ''
let up = 0
let dead = 0
const ports = { fe: 0, stats: 0, tcp: 0, legends: 0, prom: 0 }
let haproxyLegendsCsv = ''
let haproxyTyped = ''
let haproxyHtml = ''
let haproxyJson = ''
let haproxyProm = ''

before(async () => {
  if (skip !== false) return
  upstream = http.createServer((req, res) => {
    res.statusCode = req.url === '/health' ? 500 : 200
    res.end('ok')
  })
  await new Promise<void>(resolve => upstream.listen(0, '127.0.0.1', resolve))
  up = (upstream.address() as net.AddressInfo).port
  dead = await freePort()
  ports.fe = await freePort()
  ports.stats = await freePort()
  ports.tcp = await freePort()
  ports.legends = await freePort()
  ports.prom = await freePort()
  dir = mkdtempSync(join(tmpdir(), 'stats-csv-'))
  const cfg = join(dir, 'haproxy.cfg')
  writeFileSync(cfg, `
${HTTP_DEFAULTS}
frontend main
    bind 127.0.0.1:${ports.fe}
    maxconn 100
    default_backend app
backend app
    server up1 127.0.0.1:${up} check inter 100
    server down1 127.0.0.1:${dead} check inter 100 downinter 30s
    server bdown 127.0.0.1:${dead} check inter 100 downinter 30s backup
    server plain 127.0.0.1:${up} maxconn 7 maxqueue 3 weight 5
    server off 127.0.0.1:${up} disabled
    server bup 127.0.0.1:${up} check inter 100 backup
backend chk
    balance leastconn
    option httpchk GET /health
    server c1 127.0.0.1:${up} check inter 100 downinter 30s
listen tcpx
    mode tcp
    bind 127.0.0.1:${ports.tcp}
    maxconn 30
    server t1 127.0.0.1:${up}
listen stats
    bind 127.0.0.1:${ports.stats}
    maxconn 50
    stats enable
    stats uri /s
frontend prom
    bind 127.0.0.1:${ports.prom}
    maxconn 10
    http-request use-service prometheus-exporter if { path /metrics }
listen legends
    bind 127.0.0.1:${ports.legends}
    maxconn 20
    stats enable
    stats uri /
    stats show-legends
`)
  haproxy = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: 'ignore' })
  await waitListening(ports.stats)
  // the checks have settled: each checked server shows the state ourModel gives it
  await settled(ports.stats)
  haproxyCsv = await get(ports.stats, '/s;csv')
  haproxyLegendsCsv = await get(ports.legends, '/;csv')
  haproxyTyped = await get(ports.stats, '/s;typed')
  haproxyHtml = await get(ports.legends, '/')
  haproxyJson = await get(ports.stats, '/s;json')
  haproxyProm = await get(ports.prom, '/metrics')
})

after(async () => {
  haproxy?.kill('SIGKILL')
  if (upstream !== undefined) await new Promise<void>(resolve => upstream.close(() => resolve()))
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

/** Polls HAProxy's CSV until the checked servers show the state the test compares with (ourModel). */
async function settled (port: number): Promise<void> {
  const want: Record<string, string> = { up1: 'UP', down1: 'DOWN', bdown: 'DOWN', bup: 'UP', c1: 'DOWN' }
  const deadline = Date.now() + 30_000
  for (;;) {
    const rows = (await get(port, '/s;csv')).split('\n').map(l => l.split(','))
    const status = rows[0]!.indexOf('status')
    const checkStatus = rows[0]!.indexOf('check_status')
    const done = Object.entries(want).every(([name, state]) => rows.some(r => r[1] === name && r[status] === state && r[checkStatus] !== '' && !r[checkStatus]!.startsWith('*') && r[checkStatus] !== 'INI'))
    if (done) return
    if (Date.now() > deadline) throw new Error(`HAProxy's checks did not settle: ${rows.map(r => r.slice(0, 2).concat(r[status] ?? '', r[checkStatus] ?? '').join(',')).join(' ')}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

function ourModel (): ReturnType<typeof model> {
  const addr = (p: number): string => `127.0.0.1:${p}`
  const refused = { status: 'L4CON', code: null, duration: 0, desc: 'Connection refused' }
  const app = new FakeBackend('app', 2, [
    new FakeServer('up1', 1, { addr: addr(up) }),
    new FakeServer('down1', 2, { addr: addr(dead), op: 'down', health: 0, lastCheck: refused, chkfail: 1, chkdown: 1 }),
    new FakeServer('bdown', 3, { addr: addr(dead), op: 'down', health: 0, lastCheck: refused, chkfail: 1, chkdown: 1, backup: true }),
    new FakeServer('plain', 4, { addr: addr(up), hasCheck: false, checkEnabled: false, maxconn: 7, maxqueue: 3, weight: 5, uweight: 5 }),
    new FakeServer('off', 5, { addr: addr(up), hasCheck: false, checkEnabled: false, admin: 'maint' }),
    new FakeServer('bup', 6, { addr: addr(up), backup: true })
  ])
  const chk = new FakeBackend('chk', 3, [
    new FakeServer('c1', 1, { addr: addr(up), op: 'down', health: 0, chkfail: 1, chkdown: 1, lastCheck: { status: 'L7STS', code: 500, duration: 1, desc: 'Internal Server Error' } })
  ])
  chk.algorithm = 'leastconn'
  chk.chkdown = 1
  const tcpx = new FakeBackend('tcpx', 4, [new FakeServer('t1', 1, { addr: addr(up), hasCheck: false, checkEnabled: false })])
  const statsBe = new FakeBackend('stats', 5, [])
  const mainPx = makeProxy('frontend', 'main', 1, { defaultBackend: { name: 'app', loc: { file: 'x', line: 1 } } })
  return model([
    { proxy: mainPx, frontend: new FakeFrontend('main', 1, 100), backend: null },
    { proxy: makeProxy('backend', 'app', 2), frontend: null, backend: app },
    { proxy: makeProxy('backend', 'chk', 3), frontend: null, backend: chk },
    { proxy: makeProxy('listen', 'tcpx', 4, { mode: 'tcp' }), frontend: new FakeFrontend('tcpx', 4, 30), backend: tcpx },
    { proxy: makeProxy('listen', 'stats', 5, { stats: statsConfig({ uri: '/s' }) }), frontend: new FakeFrontend('stats', 5, 50), backend: statsBe },
    { proxy: makeProxy('frontend', 'prom', 6), frontend: new FakeFrontend('prom', 6, 10), backend: null },
    { proxy: makeProxy('listen', 'legends', 7, { stats: statsConfig({ uri: '/', showLegends: true }) }), frontend: new FakeFrontend('legends', 7, 20), backend: new FakeBackend('legends', 7, []) }
  ])
}

function ourCsv (legends: boolean): string {
  return renderCsv(ourModel(), { legends })
}

test('header: HAProxy 2.6 standard fields are a prefix of HAProxy\'s header, ours ends after them', { skip }, () => {
  const theirs = parseCsv(haproxyCsv).fields
  const ours = parseCsv(ourCsv(false)).fields
  assert.equal(ours.length, 103)
  assert.deepEqual(theirs.slice(0, ours.length), ours)
  assert.deepEqual(ours, STAT_FIELDS.map(f => f.name))
})

for (const legends of [false, true]) {
  test(`rows${legends ? ' with show-legends' : ''}: same objects in the same order, same empty columns, same config/state values`, { skip }, () => {
    compareRows(parseCsv(ourCsv(legends)), parseCsv(legends ? haproxyLegendsCsv : haproxyCsv))
  })
}

function compareRows (ours: ReturnType<typeof parseCsv>, theirs: ReturnType<typeof parseCsv>): void {
  assert.deepEqual([...ours.rows.keys()], [...theirs.rows.keys()])
  for (const [key, row] of ours.rows) {
    const ref = theirs.rows.get(key) as Record<string, string>
    const emptyOurs = ours.fields.filter(f => row[f] === '')
    const emptyTheirs = ours.fields.filter(f => ref[f] === '')
    assert.deepEqual(emptyOurs, emptyTheirs, `${key}: empty columns differ`)
    // HAProxy prefixes `* ` while a check is running: not a state difference
    for (const f of EQUAL) assert.equal(row[f], f === 'check_status' ? ref[f].replace(/^\* /, '') : ref[f], `${key}: ${f}`)
  }
}

test(';typed: the same objects, field positions, names, tags and types as HAProxy\'s', { skip }, () => {
  // `T.iid.sid.pos.name.proc:tags:type:value`; module fields (pos > 102) are build dependent
  const parse = (text: string): Map<string, string> => new Map(text.split('\n').filter(l => l !== '').map(l => {
    const m = /^([^:]+):([^:]+):([^:]+):(.*)$/.exec(l) as RegExpExecArray
    return [m[1], `${m[2]}:${m[3]}`] as [string, string]
  }).filter(([key]) => Number(key.split('.')[3]) <= 102))
  const theirs = parse(haproxyTyped)
  const ours = parse(renderTyped(ourModel()))
  assert.deepEqual([...ours.keys()], [...theirs.keys()])
  for (const [key, tags] of ours) assert.equal(tags, theirs.get(key), key)
})

/** Each table row of a stats page: `proxy/class/name` → its cells (attributes | text), tooltips dropped, durations and check times masked. */
function htmlRows (html: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  let px = ''
  const clean = html.replace(/<div class=tips>.*?<\/div>/gs, '')
  for (const m of clean.matchAll(/<a name="([^"/]+)"><\/a>|<tr class="(?!titre)([a-z_]+)">(.*?)<\/tr>/gs)) {
    if (m[1] !== undefined) { px = m[1]; continue }
    const cells = [...m[3].matchAll(/<td([^>]*)>(.*?)<\/td>/gs)].map(c =>
      c[1].trim() + '|' + c[2].replace(/<[^>]+>/g, '').replace(/&nbsp;/g, ' ').trim().replace(/\b\d+[smhd](\d+[smhd])?\b/g, 'T').replace(/ in \d+ms/, ' in Nms').replace(/^\* /, ''))
    out.set(`${px}/${m[2]}/${(cells[0] ?? '').split('|')[1]}`, cells)
  }
  return out
}

test('HTML: the same rows, cells and texts as HAProxy\'s page (tooltips and durations aside)', { skip }, () => {
  const legends = makeProxy('listen', 'legends', 7, { stats: statsConfig({ uri: '/', showLegends: true }) })
  const ours = htmlRows(renderHtml(ourModel(), {
    uri: '/', stats: legends.stats as NonNullable<typeof legends.stats>, self: 'legends', admin: false, noRefresh: false,
    filter: { legends: true }, version: '0', now: Date.now()
  }))
  const theirs = htmlRows(haproxyHtml)
  assert.deepEqual([...ours.keys()], [...theirs.keys()])
  // the stats proxies carry the traffic of these very requests; the others are compared cell by cell
  for (const [key, cells] of ours) {
    if (key.startsWith('stats/') || key.startsWith('legends/')) continue
    assert.deepEqual(cells, theirs.get(key), key)
  }
})

test(';json: the same objects and field descriptors as HAProxy\'s (values aside)', { skip }, () => {
  type Field = { objType: string, proxyId: number, id: number, field: { pos: number }, processNum: number, tags: unknown, value: { type: string, value?: unknown } }
  const shape = (objs: Field[][]): unknown[] => objs.map(o => o.filter(f => f.field.pos <= 102).map(f => ({ ...f, value: { type: f.value.type } })))
  assert.deepEqual(shape(statsJson(ourModel()) as Field[][]), shape(JSON.parse(haproxyJson) as Field[][]))
})

test('Prometheus: the frontend/backend/server families and samples of HAProxy\'s exporter (values aside)', { skip }, () => {
  // `name{labels}` of every sample, in order, process-wide families left out
  const samples = (text: string): string[] => text.split('\n').filter(l => l.startsWith('haproxy_') && !l.startsWith('haproxy_process_')).map(l => l.slice(0, l.lastIndexOf(' ')))
  // HELP texts are our own wording: compare which families are announced, and their types
  const helps = (text: string): string[] => text.split('\n').filter(l => /^# (HELP|TYPE) haproxy_(frontend|backend|server)_/.test(l)).map(l => l.startsWith('# HELP') ? l.split(' ', 3).join(' ') : l)
  const ours = renderPrometheus(ourModel())
  assert.deepEqual(helps(ours), helps(haproxyProm))
  assert.deepEqual(samples(ours), samples(haproxyProm))
})
