/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The page in a real browser (Debian's chromium, headless): read the tables back from the DOM,
// check each server row's colour for its state, the column layout, and keep a screenshot
// (path in the test diagnostics; STATS_SCREENSHOT=<file> chooses it).

import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chromium } from 'playwright-core'
import type { Condition } from '../../lib/config/model.js'
import { serverAdminHandler } from '../../lib/stats/admin.js'
import { FakeBackend, FakeFrontend, FakeServer, makeProxy, model, statsConfig } from './views.js'
import { startStats } from './server.js'

const CHROMIUM = '/usr/bin/chromium'
const skip = !existsSync(CHROMIUM) && 'chromium is not installed'

/** HAProxy's row colours (src/stats.c CSS), as the browser computes them. */
const COLOURS: Record<string, string> = {
  active_up: 'rgb(192, 255, 192)',
  active_going_down: 'rgb(255, 255, 160)',
  active_going_up: 'rgb(255, 208, 32)',
  active_down: 'rgb(255, 144, 144)',
  active_nolb: 'rgb(32, 160, 255)',
  active_draining: 'rgb(32, 160, 255)',
  active_no_check: 'rgb(224, 224, 224)',
  backup_up: 'rgb(176, 208, 255)',
  backup_down: 'rgb(255, 144, 144)',
  backup_going_down: 'rgb(192, 96, 255)',
  backup_going_up: 'rgb(255, 128, 255)',
  backup_draining: 'rgb(204, 153, 0)',
  backup_nolb: 'rgb(144, 176, 224)',
  backup_no_check: 'rgb(224, 224, 224)',
  maintain: 'rgb(192, 120, 32)',
  frontend: 'rgb(232, 232, 208)',
  backend: 'rgb(232, 232, 208)'
}

test('the page renders in chromium with HAProxy\'s layout and row colours', { skip, timeout: 20_000 }, async (t) => {
  // the browser first: its start-up time must not shift the durations the rows show
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
  t.after(() => browser.close())
  const now = Date.now()
  const ago = (s: number): number => now - s * 1000
  const refused = { status: 'L4CON', code: null, duration: 0, desc: 'Connection refused' }
  const servers: Array<[FakeServer, string, string]> = [
    [new FakeServer('app1', 1, { lastChange: ago(4) }), 'active_up', '4s UP'],
    [new FakeServer('app2', 2, { lastChange: ago(62), health: 2 }), 'active_going_down', '1m2s UP 1/3 ↓'],
    [new FakeServer('app3', 3, { op: 'down', health: 1, lastChange: ago(4), lastCheck: refused, chkfail: 1 }), 'active_going_up', '4s DOWN 1/2 ↑'],
    [new FakeServer('app4', 4, { op: 'down', health: 0, lastChange: ago(11100), downMs: 11_100_000, lastCheck: refused, chkfail: 3, chkdown: 1 }), 'active_down', '3h5m DOWN'],
    [new FakeServer('app5', 5, { admin: 'maint', lastChange: ago(2) }), 'maintain', '2s MAINT'],
    [new FakeServer('app6', 6, { admin: 'drain', lastChange: ago(2) }), 'active_draining', '2s DRAIN'],
    [new FakeServer('app7', 7, { nolb: true, lastChange: ago(2) }), 'active_nolb', '2s NOLB'],
    [new FakeServer('app8', 8, { hasCheck: false, checkEnabled: false }), 'active_no_check', 'no check'],
    [new FakeServer('bak1', 9, { backup: true, lastChange: ago(4) }), 'backup_up', '4s UP'],
    [new FakeServer('bak2', 10, { backup: true, op: 'down', health: 0, lastCheck: refused, lastChange: ago(4) }), 'backup_down', '4s DOWN'],
    [new FakeServer('bak3', 11, { backup: true, health: 2, lastChange: ago(4) }), 'backup_going_down', '4s UP 1/3 ↓'],
    [new FakeServer('bak4', 12, { backup: true, op: 'down', health: 1, lastCheck: refused, lastChange: ago(4) }), 'backup_going_up', '4s DOWN 1/2 ↑'],
    [new FakeServer('bak5', 13, { backup: true, admin: 'drain', lastChange: ago(2) }), 'backup_draining', '2s DRAIN'],
    [new FakeServer('bak6', 14, { backup: true, nolb: true, lastChange: ago(2) }), 'backup_nolb', '2s NOLB'],
    [new FakeServer('bak7', 15, { backup: true, hasCheck: false, checkEnabled: false }), 'backup_no_check', 'no check']
  ]
  for (const [sv] of servers) {
    sv.counters.stot = sv.id * 1234
    sv.lbtot = sv.id * 1234
    sv.counters.bin = sv.id * 84521
    sv.counters.bout = sv.id * 1090
    sv.counters.lastSess = sv.id % 3 === 0 ? 0 : ago(sv.id)
  }
  const app = new FakeBackend('app', 2, servers.map(([sv]) => sv))
  app.counters.stot = 40
  const fe = new FakeFrontend('main', 1, 9988)
  fe.counters.stot = 9988
  fe.connTot = 9988
  const admin: Condition = { polarity: 'if', words: ['TRUE'], loc: { file: 'test.cfg', line: 1 } }
  const proxy = makeProxy('listen', 'stats', 3, { stats: statsConfig({ uri: '/haproxy_stats', showLegends: true, admin, showDesc: '<b>not bold</b>' }) })
  const entries = [
    { proxy: makeProxy('frontend', 'main', 1), frontend: fe, backend: null },
    { proxy: makeProxy('backend', 'app', 2, { description: 'app <i>servers</i>' }), frontend: null, backend: app },
    { proxy, frontend: new FakeFrontend('stats', 3, 100), backend: new FakeBackend('stats', 3, []) }
  ]
  // the page is rendered on the clock the rows were made with: durations do not depend on how fast the machine is
  const { app: server, port } = await startStats(proxy, () => model(entries), serverAdminHandler(() => [app]), () => now)
  t.after(() => server.close())

  const page = await browser.newPage({ viewport: { width: 1600, height: 700 } })
  const res = await page.goto(`http://127.0.0.1:${port}/haproxy_stats`)
  assert.equal(res?.status(), 200)

  const rows = await page.$$eval('tr', trs => trs.map(tr => ({
    cls: tr.className,
    colour: getComputedStyle(tr).backgroundColor,
    cells: [...tr.children].map(c => (c as HTMLElement).innerText.trim()),
    width: [...tr.children].reduce((n, c) => n + Number(c.getAttribute('colspan') ?? 1), 0)
  })))
  const byName = new Map(rows.filter(r => r.cells.length > 2).map(r => [r.cells[1], r]))
  for (const [sv, cls, status] of servers) {
    const row = byName.get(sv.name)
    assert.ok(row !== undefined, `row of ${sv.name}`)
    assert.equal(row.cls, cls, sv.name)
    assert.equal(row.colour, COLOURS[cls], `${sv.name} colour`)
    assert.equal(row.cells[23], status, `${sv.name} status cell`)
    assert.equal(row.width, 32, `${sv.name}: checkbox + name + 30 columns`)
  }
  assert.equal(byName.get('app1')?.cells[24], 'L4OK in 0ms')
  assert.equal(byName.get('app1')?.cells[12], '1234')
  assert.ok(await page.locator('span.rls').count() > 10, 'thousands are spaced by letter-spacing spans')
  assert.equal(byName.get('app4')?.cells[30], '3h5m', 'downtime')
  const frontends = rows.filter(r => r.cls === 'frontend')
  assert.equal(frontends.length, 2)
  assert.equal(frontends[0].colour, COLOURS.frontend)
  assert.ok(frontends.every(r => r.width === 32))
  const backends = rows.filter(r => r.cls === 'backend')
  assert.equal(backends.length, 2)
  assert.ok(backends.every(r => r.width === 32 && r.colour === COLOURS.backend))
  const heads = await page.$$eval('tr.titre th[colspan]', ths => ths.map(th => th.textContent))
  assert.deepEqual(heads.slice(0, 9), ['Queue', 'Session rate', 'Sessions', 'Bytes', 'Denied', 'Errors', 'Warnings', 'Server', 'Queue'])
  // config text arrives as text, not markup
  assert.equal(await page.$$eval('b, i', els => els.filter(e => e.textContent === 'not bold' || e.textContent === 'servers').length), 0)
  assert.match(await page.locator('h2').innerText(), /<b>not bold<\/b>/)
  assert.match(await page.locator('th.desc').innerText(), /app <i>servers<\/i>/)

  // tooltips: hidden until their cell is hovered, dark text on yellow even inside the proxy name header
  const nameTip = page.locator('th.pxname div.tips').first()
  assert.equal(await nameTip.isVisible(), false)
  await page.locator('th.pxname u').first().hover()
  assert.equal(await nameTip.isVisible(), true)
  assert.match(await nameTip.innerText(), /^cap: frontend, mode: http, id: 1$/)
  assert.deepEqual(await nameTip.evaluate(e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]), ['rgb(0, 0, 0)', 'rgb(240, 240, 96)'])

  // the header box of the form ticks and clears every server box of that form
  const boxes = page.locator('form input[name="s"]')
  assert.equal(await boxes.count(), servers.length)
  await page.locator('form th input[type="checkbox"]').check()
  assert.deepEqual(await boxes.evaluateAll(els => els.map(e => (e as HTMLInputElement).checked)), servers.map(() => true))
  await page.locator('form th input[type="checkbox"]').uncheck()
  assert.deepEqual(await boxes.evaluateAll(els => els.map(e => (e as HTMLInputElement).checked)), servers.map(() => false))

  // the admin form works from the browser: tick app1, choose MAINT, apply
  await page.check('input[name="s"][value="app1"]')
  await page.selectOption('select[name="action"] >> nth=0', 'maint')
  await Promise.all([page.waitForURL(/;st=DONE/), page.click('input[type="submit"] >> nth=0')])
  assert.equal(servers[0][0].admin, 'maint')
  assert.match(await page.locator('div.active_up').innerText(), /^\[X\] Done/)
  servers[0][0].admin = 'ready'
  await page.goto(`http://127.0.0.1:${port}/haproxy_stats`)

  const file = process.env.STATS_SCREENSHOT ?? join(mkdtempSync(join(tmpdir(), 'stats-page-')), 'stats.png')
  await page.screenshot({ path: file, fullPage: true })
  t.diagnostic(`screenshot: ${file}`)
  assert.ok(existsSync(file))
})
