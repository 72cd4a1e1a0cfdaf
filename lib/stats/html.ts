// The HTML stats page: HAProxy 2.6's layout (one table per proxy, the same column groups and
// columns, the same row classes and row colours), so it reads like the page operators know. The
// style sheet, script, legend and help texts are this project's own. Every text that comes from
// the config (names, descriptions, node) is HTML-escaped; HAProxy prints `description` and
// `stats show-desc` raw.

import type { StatsConfig } from '../config/model.js'
import type { ServerView } from '../runtime/state.js'
import { type ObjType, type RowContext, FIELD, STAT_FIELDS, fieldValue } from './fields.js'
import type { StatsEntry, StatsModel } from './model.js'
import { type RowFilter, walkRows } from './rows.js'
import { checkDescription, checkShown, serverRowClass, serverStatus } from './status.js'

export interface HtmlOptions {
  /** The `stats uri` prefix, for the page's own links. */
  uri: string
  stats: StatsConfig
  /** Name of the proxy serving the page (`stats scope .`). */
  self: string
  /** The admin form is shown (`stats admin` condition true for this request). */
  admin: boolean
  /** `;norefresh` was asked (links keep it). */
  noRefresh: boolean
  filter: RowFilter
  /** `;st=<code>`: the result banner of an admin action. */
  status?: string
  /** Product version shown in the title unless `stats hide-version`. */
  version: string
  now: number
}

/**
 * The page style. Row colours are HAProxy's, because operators read server states by them; they
 * are set once as custom properties and shared by the classes that look alike.
 */
const CSS = `
:root {
  --ink: #000; --paper: #fff; --grid: #808080; --band: #e8e8d0; --head: #20d0d0;
  --accent: #b00040; --accent-ink: #ffff40; --title: #6020a0; --tip: #f0f060; --tip-edge: #7040c0;
  --up: #c0ffc0; --up-failing: #ffffa0; --down-passing: #ffd020; --down: #ff9090;
  --lb-off: #20a0ff; --unchecked: #e0e0e0; --maint: #c07820;
  --bk-up: #b0d0ff; --bk-up-failing: #c060ff; --bk-down-passing: #ff80ff; --bk-lb-off: #90b0e0; --bk-drain: #cc9900;
}
body { font: 12px arial, helvetica, sans-serif; color: var(--ink); background: var(--paper); }
h1 { font-size: x-large; margin-bottom: .5em; }
h2, h3 { margin: 0; font-family: helvetica, arial, sans-serif; }
h2 { font-size: x-large; font-style: italic; color: var(--title); }
h3 { font-size: 16px; color: var(--accent); background: var(--band); }
hr.hr { margin: .25em 0 .5em; border: 1px solid var(--ink); }
ul { margin-top: .25em; }
li { margin: .25em 2em 0 0; }
th, td { font-size: 10px; }
u { text-decoration: none; border-bottom: 1px dotted var(--ink); }
.alert { color: red; }
.rls { letter-spacing: .2em; margin-right: 1px; }
a.px { color: var(--accent-ink); text-decoration: none; }
a.px:hover { color: var(--paper); }
a.lfsb { color: var(--ink); text-decoration: none; }
a.lfsb:hover { color: #505050; }

.titre { background: var(--head); font-weight: bold; text-align: center; }
.frontend, .backend { background: var(--band); }
.active_up { background: var(--up); }
.active_going_down { background: var(--up-failing); }
.active_going_up { background: var(--down-passing); }
.active_down, .backup_down { background: var(--down); }
.active_nolb, .active_draining { background: var(--lb-off); }
.active_no_check, .backup_no_check { background: var(--unchecked); }
.backup_up { background: var(--bk-up); }
.backup_going_down { background: var(--bk-up-failing); }
.backup_going_up { background: var(--bk-down-passing); }
.backup_nolb { background: var(--bk-lb-off); }
.backup_draining { background: var(--bk-drain); }
.maintain { background: var(--maint); }

table.tbl { border-collapse: collapse; }
table.tbl th, table.tbl td { border: 1px solid var(--grid); }
table.tbl td { padding: 2px 3px; text-align: right; white-space: nowrap; }
table.tbl td.ac { text-align: center; }
table.tbl th.pxname, table.tbl th.desc { padding: 2px 3px; border-bottom-style: none; }
table.tbl th.pxname { background: var(--accent); color: var(--accent-ink); white-space: nowrap; }
table.tbl th.desc { background: var(--paper); text-align: left; }
table.tbl th.empty { border-style: none; background: var(--paper); }

table.lgd { border-collapse: collapse; border-left: 1px solid var(--ink); }
table.lgd td { padding: 2px; border: 1px solid var(--grid); }
table.lgd td.noborder { border-style: none; white-space: nowrap; }

div.tips {
  position: absolute; z-index: 100; visibility: hidden; padding: 2px 4px 3px;
  font: normal 11px arial, helvetica, sans-serif; white-space: nowrap; text-align: left;
  color: var(--ink); background: var(--tip); border: 1px solid var(--tip-edge); border-radius: 3px; box-shadow: 2px 2px 3px var(--grid);
}
u:hover div.tips { visibility: visible; }
table.det { border-collapse: collapse; }
table.det th, table.det td { padding: 0; border: none; font-size: 11px; }
table.det th { padding-right: 1px; text-align: left; }
table.det td { padding-left: 4px; text-align: right; font-weight: normal; white-space: nowrap; }
`

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const ESCAPE_RE = /[&<>"']/g

export function escapeHtml (s: string): string {
  return ESCAPE_RE.test(s) ? s.replace(ESCAPE_RE, c => ESCAPES[c]) : s
}

/** HAProxy's human_time(): at most two units, `0s` for zero (`1m2s`, `3h5m`, `2d4h`). */
export function humanTime (seconds: number): string {
  if (seconds < 0) return '?'
  const t = Math.floor(seconds)
  let out = ''
  let units = 2
  if (t >= 86400) { out += Math.floor(t / 86400) + 'd'; units-- }
  if (units > 0 && Math.floor(t % 86400 / 3600) > 0) { out += Math.floor(t % 86400 / 3600) + 'h'; units-- }
  if (units > 0 && Math.floor(t % 3600 / 60) > 0) { out += Math.floor(t % 3600 / 60) + 'm'; units-- }
  if ((units > 0 && t % 60 > 0) || t === 0) out += (t % 60) + 's'
  return out
}

/**
 * Large numbers as HAProxy's stats page writes them: the digit just left of each group of three sits in a
 * letter-spaced span, so `84521` reads `84 521` without a separator character.
 */
export function groupDigits (n: number): string {
  const s = String(n)
  if (s.length <= 3) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const fromRight = s.length - 1 - i
    out += fromRight > 0 && fromRight % 3 === 0 ? '<span class="rls">' + s[i] + '</span>' : s[i]
  }
  return out
}

/** `1d 2h03m04s`: HAProxy's uptime on the stats page and in `show info`. */
export function uptime (ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(t / 86400)
  const h = Math.floor(t % 86400 / 3600)
  const m = Math.floor(t % 3600 / 60)
  const s = t % 60
  return `${d}d ${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`
}

const num = (v: string | number | undefined): string => v === undefined ? '' : typeof v === 'number' ? groupDigits(v) : escapeHtml(v)

function val (c: RowContext, t: ObjType, name: string): string | number | undefined {
  return fieldValue(STAT_FIELDS[FIELD[name]], t, c)
}

const td = (v: string | number | undefined): string => '<td>' + num(v) + '</td>'

/** A tooltip row: a label and its value cells (already HTML); a label alone is a caption line. */
type TipRow = readonly [label: string, ...cells: string[]]
const tipTable = (rows: readonly TipRow[]): string =>
  '<div class=tips><table class=det>' + rows.map(([label, ...cells]) => cells.length === 0
    ? `<tr><th colspan=3>${label}</th></tr>`
    : `<tr><th>${label}</th>${cells.map(v => `<td>${v}</td>`).join('')}</tr>`).join('') + '</table></div>'
const tipText = (text: string): string => `<div class=tips>${text}</div>`
const RESPONSE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'].map(k => k + ' responses')

const ADMIN_ACTIONS: Array<[string, string]> = [
  ['', ''], ['ready', 'Set state to READY'], ['drain', 'Set state to DRAIN'], ['maint', 'Set state to MAINT'],
  ['dhlth', 'Health: disable checks'], ['ehlth', 'Health: enable checks'], ['hrunn', 'Health: force UP'],
  ['hnolb', 'Health: force NOLB'], ['hdown', 'Health: force DOWN'], ['dagent', 'Agent: disable checks'],
  ['eagent', 'Agent: enable checks'], ['arunn', 'Agent: force UP'], ['adown', 'Agent: force DOWN'], ['shutdown', 'Kill Sessions']
]
const ADMIN_SELECT = '<select name=action>' + ADMIN_ACTIONS.map(([v, l]) => `<option value="${v}">${l}</option>`).join('') + '</select>'
/** The header box of the checkbox column ticks or clears every server box of its form. */
const TICK_ALL = '<input type="checkbox" title="Select all servers" ' +
  `onclick="for (const box of this.form.querySelectorAll('input[name=s]')) box.checked = this.checked">`

/** The banner after an admin action, per `;st=` code: its row class (colour) and what it says. */
const STATUS_BANNERS: Record<string, [string, string]> = {
  DONE: ['active_up', 'Done: every selected server was updated.'],
  NONE: ['active_going_down', 'No change: no server was selected.'],
  PART: ['active_going_down', 'Partly done: some selected servers could not be changed (unknown name, or the action does not apply).'],
  ERRP: ['active_down', 'Not done: unknown action, backend or servers, or the action applies to none of them.'],
  EXCD: ['active_down', 'Not done: too many servers in one request; select fewer.'],
  DENY: ['active_down', 'Not done: this client may not change servers.'],
  IVAL: ['active_down', 'Not done: the request could not be read (method or body encoding).']
}
const UNKNOWN_BANNER: [string, string] = ['active_no_check', 'Unknown result code.']

const COLUMN_HEADS = '<th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n' +
  '<tr class="titre"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>'

function capability (entry: StatsEntry): string {
  return entry.proxy.kind === 'listen' ? 'proxy' : entry.proxy.kind
}

class PageWriter {
  out = ''
  private readonly o: HtmlOptions
  /** Current proxy has servers and the admin form applies. */
  private form = false

  constructor (o: HtmlOptions) { this.o = o }

  proxyHead (entry: StatsEntry): void {
    const o = this.o
    const name = escapeHtml(entry.proxy.name)
    this.form = o.admin && entry.backend !== null && entry.backend.servers.length > 0
    const legend = o.stats.showLegends
      ? `<u><a class=px href="#${name}">${name}</a>${tipText(`cap: ${capability(entry)}, mode: ${entry.proxy.mode}, id: ${entry.proxy.id}`)}</u>`
      : `<a class=px href="#${name}">${name}</a>`
    const desc = entry.proxy.description
    this.out += (this.form ? '<form method="post">' : '') +
      `<table class="tbl" width="100%">\n<tr class="titre"><th class="pxname" width="10%"><a name="${name}"></a>${legend}</th>` +
      (desc !== undefined && desc !== '' ? `<th class="desc" width="90%">${escapeHtml(desc)}</th></tr>\n` : '<th class="empty" width="90%"></th></tr>\n') +
      '</table>\n<table class="tbl" width="100%">\n<tr class="titre">'
    if (this.form) {
      this.out += `<th rowspan=2 width=1>${TICK_ALL}</th>`
    } else if (o.admin) {
      this.out += '<th rowspan=2></th>'
    }
    this.out += '<th rowspan=2></th>' + COLUMN_HEADS
  }

  proxyEnd (entry: StatsEntry): void {
    this.out += '</table>'
    if (this.form) {
      this.out += `Action for the ticked servers: ${ADMIN_SELECT}<input type="hidden" name="b" value="#${entry.proxy.id}">&nbsp;<input type="submit" value="Apply"></form>`
    }
    this.out += '<p>\n'
  }

  private nameCell (px: string, label: string, anchor: string, tip: string | null): string {
    const a = `<a name="${px}/${anchor}"></a>`
    const link = `<a class=lfsb href="#${px}/${anchor}">${label}</a>`
    return tip === null ? `<td class=ac>${a}${link}</td>` : `<td class=ac>${a}<u>${link}${tipText(tip)}</u></td>`
  }

  frontend (c: RowContext): void {
    const px = escapeHtml(c.proxy.name)
    const fe = c.fe
    if (fe === null) return
    const http = c.http
    const totals: TipRow[] = [['Since start'], ['connections', groupDigits(fe.connTot)], ['sessions', groupDigits(fe.counters.stot)]]
    const now: TipRow[] = [['Per second, now'], ['connections', String(fe.connRate.read(c.now))], ['sessions', String(fe.counters.rate.read(c.now))]]
    const peak: TipRow[] = [['Per second, highest'], ['connections', String(fe.connRate.max)], ['sessions', String(fe.counters.rate.max)]]
    if (http) {
      const h = fe.counters.hrsp
      totals.push(['HTTP requests', groupDigits(fe.counters.reqTot)], ...RESPONSE_CLASSES.map((l, i): TipRow => [l, groupDigits(h[i])]),
        ['intercepted requests', groupDigits(fe.counters.intercepted)])
      now.push(['HTTP requests', String(fe.reqRate.read(c.now))])
      peak.push(['HTTP requests', String(fe.reqRate.max)])
    }
    const rateLim = val(c, 'F', 'rate_lim')
    const slim = val(c, 'F', 'slim')
    this.out += '<tr class="frontend">' + (this.o.admin ? '<td></td>' : '') +
      this.nameCell(px, 'Frontend', 'Frontend', null) +
      '<td colspan=3></td>' +
      `<td><u>${num(val(c, 'F', 'rate'))}${tipTable(now)}</u></td>` +
      `<td><u>${num(val(c, 'F', 'rate_max'))}${tipTable(peak)}</u></td>` +
      `<td>${rateLim === undefined || rateLim === 0 ? '-' : num(rateLim)}</td>` +
      td(val(c, 'F', 'scur')) + td(val(c, 'F', 'smax')) + `<td>${slim === undefined ? '-' : num(slim)}</td>` +
      `<td><u>${num(val(c, 'F', 'stot'))}${tipTable(totals)}</u></td><td></td><td></td>` +
      td(val(c, 'F', 'bin')) + td(val(c, 'F', 'bout')) +
      td(val(c, 'F', 'dreq')) + td(val(c, 'F', 'dresp')) + td(val(c, 'F', 'ereq')) + '<td></td><td></td>' +
      '<td></td><td></td>' +
      `<td class=ac>${num(val(c, 'F', 'status'))}</td><td class=ac colspan=8></td></tr>`
  }

  /** An `option socket-stats` row, as HAProxy 2.6.12 draws it (class socket, anchor `<proxy>/+<name>`). */
  listener (c: RowContext): void {
    const li = c.li
    if (li === null) return
    const px = escapeHtml(c.proxy.name)
    const name = escapeHtml(li.name)
    const legend = this.o.stats.showLegends && li.addr !== '' ? `${li.addr.startsWith('[') ? 'IPv6' : 'IPv4'}: ${escapeHtml(li.addr)}, id: ${li.sid}` : null
    this.out += '<tr class=socket>' + (this.o.admin ? '<td></td>' : '') +
      this.nameCell(px, name, '+' + name, legend) +
      '<td colspan=3></td><td colspan=3>&nbsp;</td>' +
      td(val(c, 'L', 'scur')) + td(val(c, 'L', 'smax')) + td(val(c, 'L', 'slim')) + td(val(c, 'L', 'stot')) +
      '<td>&nbsp;</td><td>&nbsp;</td>' +
      td(val(c, 'L', 'bin')) + td(val(c, 'L', 'bout')) +
      td(val(c, 'L', 'dreq')) + td(val(c, 'L', 'dresp')) + td(val(c, 'L', 'ereq')) + '<td></td><td></td>' +
      '<td></td><td></td>' +
      `<td class=ac>${num(val(c, 'L', 'status'))}</td><td class=ac colspan=8></td></tr>`
  }

  private totalsTip (c: RowContext, t: 'B' | 'S'): string {
    const cnt = t === 'S' ? c.sv?.counters : c.be?.counters
    if (cnt === undefined) return ''
    const rows: TipRow[] = [['Since start'], ['sessions', groupDigits(cnt.stot)]]
    if (c.http) {
      const answered = cnt.hrsp.reduce((a, b) => a + b, 0)
      const share = (n: number): string => `(${answered === 0 ? 0 : Math.round(n * 100 / answered)}%)`
      rows.push(['HTTP requests', groupDigits(cnt.reqTot)], ...RESPONSE_CLASSES.map((l, i): TipRow => [l, groupDigits(cnt.hrsp[i]), share(cnt.hrsp[i])]))
    }
    const timing = (label: string, a: { value: number, max: number }): TipRow => [label, `${Math.round(a.max)} / ${Math.round(a.value)}`, 'ms']
    rows.push(['Last 1024 successful connections, max / avg'],
      timing('queue', cnt.qtime), timing('connect', cnt.ctime), timing('response', cnt.rtime), timing('total', cnt.ttime))
    return tipTable(rows)
  }

  private abortTip (c: RowContext, t: 'B' | 'S'): string {
    return tipText(`Aborted transfers: ${num(val(c, t, 'cli_abrt'))} by clients, ${num(val(c, t, 'srv_abrt'))} by servers`)
  }

  private lastSess (c: RowContext, t: 'B' | 'S'): string {
    const v = val(c, t, 'lastsess')
    return typeof v === 'number' && v >= 0 ? humanTime(v) : '?'
  }

  server (c: RowContext): void {
    const sv = c.sv
    if (sv === null) return
    const px = escapeHtml(c.proxy.name)
    const name = escapeHtml(sv.name)
    const qlimit = val(c, 'S', 'qlimit')
    const slim = val(c, 'S', 'slim')
    this.out += `<tr class="${serverRowClass(sv, c.state)}">` +
      (this.form ? `<td><input type="checkbox" name="s" value="${name}"></td>` : '') +
      this.nameCell(px, name, name, this.o.stats.showLegends ? `${sv.addr.includes('[') ? 'IPv6' : 'IPv4'}: ${escapeHtml(sv.addr)}, id: ${sv.id}` : null) +
      td(val(c, 'S', 'qcur')) + td(val(c, 'S', 'qmax')) + `<td>${qlimit === undefined ? '-' : num(qlimit)}</td>` +
      td(val(c, 'S', 'rate')) + td(val(c, 'S', 'rate_max')) + '<td></td>' +
      td(val(c, 'S', 'scur')) + td(val(c, 'S', 'smax')) + `<td>${slim === undefined ? '-' : num(slim)}</td>` +
      `<td><u>${num(val(c, 'S', 'stot'))}${this.totalsTip(c, 'S')}</u></td>` + td(val(c, 'S', 'lbtot')) + `<td>${this.lastSess(c, 'S')}</td>` +
      td(val(c, 'S', 'bin')) + td(val(c, 'S', 'bout')) +
      '<td></td>' + td(val(c, 'S', 'dresp')) +
      '<td></td>' + td(val(c, 'S', 'econ')) + `<td><u>${num(val(c, 'S', 'eresp'))}${this.abortTip(c, 'S')}</u></td>` +
      td(val(c, 'S', 'wretr')) + td(val(c, 'S', 'wredis')) +
      this.statusCell(c, sv) + this.lastCheckCell(sv) +
      `<td class=ac>${sv.weight}/${sv.uweight}</td><td class=ac>${sv.backup ? '-' : 'Y'}</td><td class=ac>${sv.backup ? 'Y' : '-'}</td>` +
      (sv.checkEnabled
        ? `<td><u>${num(sv.chkfail)}${tipText('Failed checks, in total')}</u></td>${td(sv.chkdown)}<td>${humanTime(Math.floor(sv.downtime(c.now) / 1000))}</td>`
        : '<td colspan=3></td>') +
      '<td class=ac>-</td></tr>\n'
  }

  private statusCell (c: RowContext, sv: ServerView): string {
    const status = serverStatus(sv, c.state)
    if (c.state === 'no_check') return '<td class=ac><i>no check</i></td>'
    const arrow = c.state === 'going_up' ? ' &uarr;' : c.state.endsWith('going_down') ? ' &darr;' : ''
    return `<td class=ac>${humanTime(Math.floor((c.now - sv.lastChange) / 1000))} ${status}${arrow}</td>`
  }

  private lastCheckCell (sv: ServerView): string {
    if (!checkShown(sv)) return '<td></td>'
    const chk = sv.lastCheck
    const desc = checkDescription(chk.status)
    return `<td class=ac><u> ${escapeHtml(chk.status)}${chk.code !== null ? '/' + chk.code : ''}${chk.duration !== null ? ` in ${chk.duration}ms` : ''}` +
      `${tipText(desc + (chk.desc !== '' ? ': ' + escapeHtml(chk.desc) : ''))}</u></td>`
  }

  backend (c: RowContext): void {
    const be = c.be
    if (be === null) return
    const px = escapeHtml(c.proxy.name)
    const downtime = val(c, 'B', 'downtime')
    this.out += '<tr class="backend">' + (this.o.admin ? '<td></td>' : '') +
      this.nameCell(px, 'Backend', 'Backend', this.o.stats.showLegends ? `balancing: ${escapeHtml(be.algorithm)}` : null) +
      td(val(c, 'B', 'qcur')) + td(val(c, 'B', 'qmax')) + '<td></td>' +
      td(val(c, 'B', 'rate')) + td(val(c, 'B', 'rate_max')) + '<td></td>' +
      td(val(c, 'B', 'scur')) + td(val(c, 'B', 'smax')) + td(val(c, 'B', 'slim')) +
      `<td><u>${num(val(c, 'B', 'stot'))}${this.totalsTip(c, 'B')}</u></td>` + td(val(c, 'B', 'lbtot')) + `<td>${this.lastSess(c, 'B')}</td>` +
      td(val(c, 'B', 'bin')) + td(val(c, 'B', 'bout')) +
      td(val(c, 'B', 'dreq')) + td(val(c, 'B', 'dresp')) +
      '<td></td>' + td(val(c, 'B', 'econ')) + `<td><u>${num(val(c, 'B', 'eresp'))}${this.abortTip(c, 'B')}</u></td>` +
      td(val(c, 'B', 'wretr')) + td(val(c, 'B', 'wredis')) +
      `<td class=ac>${humanTime(Math.floor((c.now - be.lastChange) / 1000))} ${c.lb.status === 'UP' ? 'UP' : '<b class=alert>DOWN</b>'}</td>` +
      '<td class=ac>&nbsp;</td>' +
      `<td class=ac>${c.lb.weight}/${c.lb.uweight}</td><td class=ac>${c.lb.act}</td><td class=ac>${c.lb.bck}</td>` +
      `<td class=ac>&nbsp;</td>${td(be.chkdown)}<td>${typeof downtime === 'number' ? humanTime(downtime) : '&nbsp;'}</td>` +
      '<td></td></tr>'
  }
}

function link (o: HtmlOptions, mods: string, scope: boolean): string {
  const search = o.filter.search
  return escapeHtml(o.uri + mods + (scope && search !== undefined && search !== '' ? '?scope=' + search : ''))
}

function displayOptions (o: HtmlOptions): string {
  const up = o.filter.up === true ? ';up' : ''
  const nr = o.noRefresh ? ';norefresh' : ''
  let out = '<li><form method="GET">Scope : <input value="' + escapeHtml(o.filter.search ?? '') + '" name="scope" size="8" maxlength="20" tabindex="1"/></form>\n'
  out += o.filter.up === true
    ? `<li><a href="${link(o, nr, true)}">Show all servers</a><br>\n`
    : `<li><a href="${link(o, ';up' + nr, true)}">Hide 'DOWN' servers</a><br>\n`
  if (o.stats.refresh !== undefined) {
    out += o.noRefresh
      ? `<li><a href="${link(o, up, true)}">Enable refresh</a><br>\n`
      : `<li><a href="${link(o, up + ';norefresh', true)}">Disable refresh</a><br>\n`
  }
  out += `<li><a href="${link(o, up + nr, true)}">Refresh now</a><br>\n`
  out += `<li><a href="${link(o, ';csv;norefresh', true)}">CSV export</a><br>\n`
  out += `<li><a href="${link(o, ';json;norefresh', true)}">JSON export</a> (<a href="${link(o, ';json-schema', false)}">schema</a>)<br>\n`
  return out
}

/** The colour key of the server rows, one line of swatches and labels per table row. */
const LEGEND_LINES: ReadonlyArray<ReadonlyArray<readonly [cls: string, label: string]>> = [
  [['active_up', 'active UP'], ['backup_up', 'backup UP']],
  [['active_going_down', 'active UP, checks failing'], ['backup_going_down', 'backup UP, checks failing']],
  [['active_going_up', 'active DOWN, checks passing'], ['backup_going_up', 'backup DOWN, checks passing']],
  [['active_down', 'DOWN'], ['active_no_check', 'no health check']],
  [['active_draining', 'DRAIN or NOLB: UP, out of load balancing'], ['backup_draining', 'backup DRAIN']],
  [['maintain', 'MAINT: in maintenance']]
]
const LEGEND = '<table class="lgd">\n' + LEGEND_LINES.map(line => '<tr>' + line.map(([cls, label]) =>
  `<td class="${cls}">&nbsp;</td><td class="noborder"${line.length === 1 ? ' colspan="3"' : ''}>${label}</td>`).join('') + '</tr>\n').join('') + '</table>\n'

export function renderHtml (model: StatsModel, o: HtmlOptions): string {
  const node = o.stats.showNode === undefined ? undefined : (o.stats.showNode !== '' ? o.stats.showNode : (model.node ?? ''))
  const desc = o.stats.showDesc === undefined ? undefined : (o.stats.showDesc !== '' ? o.stats.showDesc : model.description)
  let conns = 0
  let connRate = 0
  for (const e of model.proxies) {
    if (e.frontend === null) continue
    conns += e.frontend.counters.scur
    connRate += e.frontend.connRate.read(o.now)
  }
  const w = new PageWriter(o)
  w.out = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"\n"http://www.w3.org/TR/html4/loose.dtd">\n' +
    `<html><head><title>Statistics Report for HAProxy${node !== undefined ? ' on ' + escapeHtml(node) : ''}</title>\n` +
    '<link rel="icon" href="data:,">\n<meta http-equiv="content-type" content="text/html; charset=utf-8">\n' +
    '<style type="text/css">' + CSS + '</style></head>\n' +
    '<body><h1><a href="https://github.com/fastify/fastify" style="text-decoration: none;">fastify-haproxy' +
    (o.stats.hideVersion ? '' : ` version ${escapeHtml(o.version)}, HAProxy 2.6 compatible`) + '</a></h1>\n' +
    `<h2>Statistics Report for pid ${model.pid}${node !== undefined ? ' on ' + escapeHtml(node) : ''}${desc !== undefined && desc !== '' ? ': ' + escapeHtml(desc) : ''}</h2>\n` +
    '<hr width="100%" class="hr">\n<h3>&gt; General process information</h3>\n' +
    '<table border=0><tr><td align="left" nowrap width="1%">\n' +
    `<p><b>pid = </b> ${model.pid} (process #1, nbproc = 1, nbthread = 1)<br>\n` +
    `<b>uptime = </b> ${uptime(o.now - model.startedAt)}<br>\n` +
    `<b>runtime = </b> Node.js ${escapeHtml(process.version)}<br>\n` +
    `current conns = ${conns}; conn rate = ${connRate}/sec<br>\n` +
    '</td><td align="center" nowrap>\n' + LEGEND +
    '</td><td align="left" valign="top" nowrap width="1%"><b>Display option:</b><ul>' +
    displayOptions(o) +
    '</ul></td><td align="left" valign="top" nowrap width="1%"><b>External resources:</b><ul>\n' +
    '<li><a href="http://www.haproxy.org/">Primary site</a><br>\n' +
    '<li><a href="http://www.haproxy.org/#down">Updates (v2.6)</a><br>\n' +
    '<li><a href="https://docs.haproxy.org/2.6/configuration.html">Online manual</a><br>\n' +
    '</ul></td></tr></table>\n'
  if (o.status !== undefined) {
    const [cls, text] = STATUS_BANNERS[o.status] ?? UNKNOWN_BANNER
    w.out += `<p><div class=${cls}><a class=lfsb href="${link(o, o.noRefresh ? ';norefresh' : '', true)}" title="Dismiss">[X]</a> ${text}</div>\n`
  }
  w.out += '<p>\n'
  walkRows(model, { ...o.filter, self: o.self }, o.now, {
    proxy: (entry) => w.proxyHead(entry),
    row (t, c) {
      if (t === 'F') w.frontend(c)
      else if (t === 'L') w.listener(c)
      else if (t === 'S') w.server(c)
      else w.backend(c)
    },
    endProxy: (entry) => w.proxyEnd(entry)
  })
  return w.out + '</body></html>\n'
}
