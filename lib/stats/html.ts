// The HTML stats page, drawn as HAProxy 2.6 draws it (src/stats.c stats_dump_html_*): the same
// tables, column groups, CSS classes and row colours, so it looks and reads the same. One
// deliberate difference: every text that comes from the config (names, descriptions, node) is
// HTML-escaped; HAProxy prints `description` and `stats show-desc` raw.

import type { StatsConfig } from '../config/model.js'
import type { ServerView } from '../runtime/state.js'
import { type RowContext, FIELD, STAT_FIELDS, fieldValue } from './fields.js'
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

/** HAProxy's page style (src/stats.c stats_dump_html_head), verbatim. */
const CSS = `
body { font-family: arial, helvetica, sans-serif; font-size: 12px; font-weight: normal; color: black; background: white;}
th,td { font-size: 10px;}
h1 { font-size: x-large; margin-bottom: 0.5em;}
h2 { font-family: helvetica, arial; font-size: x-large; font-weight: bold; font-style: italic; color: #6020a0; margin-top: 0em; margin-bottom: 0em;}
h3 { font-family: helvetica, arial; font-size: 16px; font-weight: bold; color: #b00040; background: #e8e8d0; margin-top: 0em; margin-bottom: 0em;}
li { margin-top: 0.25em; margin-right: 2em;}
.hr {margin-top: 0.25em; border-color: black; border-bottom-style: solid;}
.titre	{background: #20D0D0;color: #000000; font-weight: bold; text-align: center;}
.total	{background: #20D0D0;color: #ffff80;}
.frontend	{background: #e8e8d0;}
.socket	{background: #d0d0d0;}
.backend	{background: #e8e8d0;}
.active_down		{background: #ff9090;}
.active_going_up		{background: #ffd020;}
.active_going_down	{background: #ffffa0;}
.active_up		{background: #c0ffc0;}
.active_nolb		{background: #20a0ff;}
.active_draining		{background: #20a0FF;}
.active_no_check		{background: #e0e0e0;}
.backup_down		{background: #ff9090;}
.backup_going_up		{background: #ff80ff;}
.backup_going_down	{background: #c060ff;}
.backup_up		{background: #b0d0ff;}
.backup_nolb		{background: #90b0e0;}
.backup_draining		{background: #cc9900;}
.backup_no_check		{background: #e0e0e0;}
.maintain	{background: #c07820;}
.rls      {letter-spacing: 0.2em; margin-right: 1px;}

a.px:link {color: #ffff40; text-decoration: none;}a.px:visited {color: #ffff40; text-decoration: none;}a.px:hover {color: #ffffff; text-decoration: none;}a.lfsb:link {color: #000000; text-decoration: none;}a.lfsb:visited {color: #000000; text-decoration: none;}a.lfsb:hover {color: #505050; text-decoration: none;}
table.tbl { border-collapse: collapse; border-style: none;}
table.tbl td { text-align: right; border-width: 1px 1px 1px 1px; border-style: solid solid solid solid; padding: 2px 3px; border-color: gray; white-space: nowrap;}
table.tbl td.ac { text-align: center;}
table.tbl th { border-width: 1px; border-style: solid solid solid solid; border-color: gray;}
table.tbl th.pxname { background: #b00040; color: #ffff40; font-weight: bold; border-style: solid solid none solid; padding: 2px 3px; white-space: nowrap;}
table.tbl th.empty { border-style: none; empty-cells: hide; background: white;}
table.tbl th.desc { background: white; border-style: solid solid none solid; text-align: left; padding: 2px 3px;}

table.lgd { border-collapse: collapse; border-width: 1px; border-style: none none none solid; border-color: black;}
table.lgd td { border-width: 1px; border-style: solid solid solid solid; border-color: gray; padding: 2px;}
table.lgd td.noborder { border-style: none; padding: 2px; white-space: nowrap;}
table.det { border-collapse: collapse; border-style: none; }
table.det th { text-align: left; border-width: 0px; padding: 0px 1px 0px 0px; font-style:normal;font-size:11px;font-weight:bold;font-family: sans-serif;}
table.det td { text-align: right; border-width: 0px; padding: 0px 0px 0px 4px; white-space: nowrap; font-style:normal;font-size:11px;font-weight:normal;}
u {text-decoration:none; border-bottom: 1px dotted black;}
div.tips {
 display:block;
 visibility:hidden;
 z-index:2147483647;
 position:absolute;
 padding:2px 4px 3px;
 background:#f0f060; color:#000000;
 border:1px solid #7040c0;
 white-space:nowrap;
 font-style:normal;font-size:11px;font-weight:normal;
 -moz-border-radius:3px;-webkit-border-radius:3px;border-radius:3px;
 -moz-box-shadow:gray 2px 2px 3px;-webkit-box-shadow:gray 2px 2px 3px;box-shadow:gray 2px 2px 3px;
}
u:hover div.tips {visibility:visible;}
@media (prefers-color-scheme: dark) {
 body { font-family: arial, helvetica, sans-serif; font-size: 12px; font-weight: normal; color: #e8e6e3; background: #131516;}
 h1 { color: #a265e0!important; }
 h2 { color: #a265e0; }
 h3 { color: #ff5190; background-color: #3e3e1f; }
 a { color: #3391ff; }
 input { background-color: #2f3437; }
 .hr { border-color: #8c8273; }
 .titre { background-color: #1aa6a6; color: #e8e6e3; }
 .frontend {background: #2f3437;}
 .socket	{background: #2a2d2f;}
 .backend {background: #2f3437;}
 .active_down {background: #760000;}
 .active_going_up {background: #b99200;}
 .active_going_down {background: #6c6c00;}
 .active_up {background: #165900;}
 .active_nolb {background: #006ab9;}
 .active_draining {background: #006ab9;}
 .active_no_check {background: #2a2d2f;}
 .backup_down {background: #760000;}
 .backup_going_up {background: #7f007f;}
 .backup_going_down {background: #580092;}
 .backup_up {background: #2e3234;}
 .backup_nolb {background: #1e3c6a;}
 .backup_draining {background: #a37a00;}
 .backup_no_check {background: #2a2d2f;}
 .maintain {background: #9a601a;}
 a.px:link {color: #d8d83b; text-decoration: none;}
 a.px:visited {color: #d8d83b; text-decoration: none;}
 a.px:hover {color: #ffffff; text-decoration: none;}
 a.lfsb:link {color: #e8e6e3; text-decoration: none;}
 a.lfsb:visited {color: #e8e6e3; text-decoration: none;}
 a.lfsb:hover {color: #b5afa6; text-decoration: none;}
 table.tbl th.empty { background-color: #181a1b; }
 table.tbl th.desc { background: #181a1b; }
 table.tbl th.pxname { background-color: #8d0033; color: #ffff46; }
 table.tbl th { border-color: #808080; }
 table.tbl td { border-color: #808080; }
 u {text-decoration:none; border-bottom: 1px dotted #e8e6e3;}
 div.tips {
  background:#8e8e0d;
  color:#e8e6e3;
  border-color: #4e2c86;
  -moz-box-shadow: #60686c 2px 2px 3px;
  -webkit-box-shadow: #60686c 2px 2px 3px;
  box-shadow: #60686c 2px 2px 3px;
 }
}
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
 * HAProxy's U2H() (tools.c ulltoh_r): the digit just left of each group of three sits in a
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

function uptime (ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(t / 86400)
  const h = Math.floor(t % 86400 / 3600)
  const m = Math.floor(t % 3600 / 60)
  const s = t % 60
  return `${d}d ${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`
}

const num = (v: string | number | undefined): string => v === undefined ? '' : typeof v === 'number' ? groupDigits(v) : escapeHtml(v)

function val (c: RowContext, t: 'F' | 'B' | 'S', name: string): string | number | undefined {
  return fieldValue(STAT_FIELDS[FIELD[name]], t, c)
}

const td = (v: string | number | undefined): string => '<td>' + num(v) + '</td>'
const tips = (rows: Array<[string, string | number]>): string =>
  '<div class=tips><table class=det>' + rows.map(([k, v]) => `<tr><th>${k}</th><td>${typeof v === 'number' ? groupDigits(v) : v}</td></tr>`).join('') + '</table></div>'

const ADMIN_ACTIONS: Array<[string, string]> = [
  ['', ''], ['ready', 'Set state to READY'], ['drain', 'Set state to DRAIN'], ['maint', 'Set state to MAINT'],
  ['dhlth', 'Health: disable checks'], ['ehlth', 'Health: enable checks'], ['hrunn', 'Health: force UP'],
  ['hnolb', 'Health: force NOLB'], ['hdown', 'Health: force DOWN'], ['dagent', 'Agent: disable checks'],
  ['eagent', 'Agent: enable checks'], ['arunn', 'Agent: force UP'], ['adown', 'Agent: force DOWN'], ['shutdown', 'Kill Sessions']
]
const ADMIN_SELECT = '<select name=action>' + ADMIN_ACTIONS.map(([v, l]) => `<option value="${v}">${l}</option>`).join('') + '</select>'

/** Banners of `;st=<code>` (src/stats.c stats_dump_html_info). */
const STATUS_BANNERS: Record<string, [string, string]> = {
  DONE: ['active_up', 'Action processed successfully.'],
  NONE: ['active_going_down', 'Nothing has changed.'],
  PART: ['active_going_down', 'Action partially processed.<br>Some server names are probably unknown or ambiguous (duplicated names in the backend).'],
  ERRP: ['active_down', 'Action not processed because of invalid parameters.<ul><li>The action is maybe unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name is probably unknown or ambiguous (duplicated names).</li><li>Some server names are probably unknown or ambiguous (duplicated names in the backend).</li></ul>'],
  EXCD: ['active_down', "<b>Action not processed : the buffer couldn't store all the data.<br>You should retry with less servers at a time.</b>"],
  DENY: ['active_down', '<b>Action denied.</b>'],
  IVAL: ['active_down', '<b>Invalid requests (unsupported method or chunked encoded request).</b>']
}

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
      ? `<u><a class=px href="#${name}">${name}</a><div class=tips>cap: ${capability(entry)}, mode: ${entry.proxy.mode}, id: ${entry.proxy.id}</div></u>`
      : `<a class=px href="#${name}">${name}</a>`
    const desc = entry.proxy.description
    this.out += (this.form ? '<form method="post">' : '') +
      `<table class="tbl" width="100%">\n<tr class="titre"><th class="pxname" width="10%"><a name="${name}"></a>${legend}</th>` +
      (desc !== undefined && desc !== '' ? `<th class="desc" width="90%">${escapeHtml(desc)}</th></tr>\n` : '<th class="empty" width="90%"></th></tr>\n') +
      '</table>\n<table class="tbl" width="100%">\n<tr class="titre">'
    if (this.form) {
      const cls = JSON.stringify(entry.proxy.name + '-checkbox').slice(1, -1).replace(/'/g, "\\'")
      this.out += `<th rowspan=2 width=1><input type="checkbox" onclick="for(c in document.getElementsByClassName('${escapeHtml(cls)}')) document.getElementsByClassName('${escapeHtml(cls)}').item(c).checked = this.checked"></th>`
    } else if (o.admin) {
      this.out += '<th rowspan=2></th>'
    }
    this.out += '<th rowspan=2></th>' + COLUMN_HEADS
  }

  proxyEnd (entry: StatsEntry): void {
    this.out += '</table>'
    if (this.form) {
      this.out += `Choose the action to perform on the checked servers : ${ADMIN_SELECT}<input type="hidden" name="b" value="#${entry.proxy.id}">&nbsp;<input type="submit" value="Apply"></form>`
    }
    this.out += '<p>\n'
  }

  private nameCell (px: string, label: string, anchor: string, tip: string | null): string {
    const a = `<a name="${px}/${anchor}"></a>`
    const link = `<a class=lfsb href="#${px}/${anchor}">${label}</a>`
    return tip === null ? `<td class=ac>${a}${link}</td>` : `<td class=ac>${a}<u>${link}<div class=tips>${tip}</div></u></td>`
  }

  frontend (c: RowContext): void {
    const px = escapeHtml(c.proxy.name)
    const fe = c.fe
    if (fe === null) return
    const http = c.http
    const totals: Array<[string, string | number]> = [['Cum. connections:', fe.connTot], ['Cum. sessions:', fe.counters.stot]]
    if (http) {
      const h = fe.counters.hrsp
      totals.push(['Cum. HTTP requests:', fe.counters.reqTot], ['- HTTP 1xx responses:', h[0]], ['- HTTP 2xx responses:', h[1]],
        ['- HTTP 3xx responses:', h[2]], ['- HTTP 4xx responses:', h[3]], ['- HTTP 5xx responses:', h[4]],
        ['- other responses:', h[5]], ['Intercepted requests:', fe.counters.intercepted])
    }
    const rateLim = val(c, 'F', 'rate_lim')
    const slim = val(c, 'F', 'slim')
    this.out += '<tr class="frontend">' + (this.o.admin ? '<td></td>' : '') +
      this.nameCell(px, 'Frontend', 'Frontend', null) +
      '<td colspan=3></td>' +
      `<td><u>${num(val(c, 'F', 'rate'))}${tips([['Current connection rate:', `${fe.connRate.read(c.now)}/s`], ['Current session rate:', `${fe.counters.rate.read(c.now)}/s`], ...(http ? [['Current request rate:', `${fe.reqRate.read(c.now)}/s`] as [string, string]] : [])])}</u></td>` +
      `<td><u>${num(val(c, 'F', 'rate_max'))}${tips([['Max connection rate:', `${fe.connRate.max}/s`], ['Max session rate:', `${fe.counters.rate.max}/s`], ...(http ? [['Max request rate:', `${fe.reqRate.max}/s`] as [string, string]] : [])])}</u></td>` +
      `<td>${rateLim === undefined || rateLim === 0 ? '-' : num(rateLim)}</td>` +
      td(val(c, 'F', 'scur')) + td(val(c, 'F', 'smax')) + `<td>${slim === undefined ? '-' : num(slim)}</td>` +
      `<td><u>${num(val(c, 'F', 'stot'))}${tips(totals)}</u></td><td></td><td></td>` +
      td(val(c, 'F', 'bin')) + td(val(c, 'F', 'bout')) +
      td(val(c, 'F', 'dreq')) + td(val(c, 'F', 'dresp')) + td(val(c, 'F', 'ereq')) + '<td></td><td></td>' +
      '<td></td><td></td>' +
      `<td class=ac>${num(val(c, 'F', 'status'))}</td><td class=ac colspan=8></td></tr>`
  }

  private totalsTip (c: RowContext, t: 'B' | 'S'): string {
    const cnt = t === 'S' ? c.sv?.counters : c.be?.counters
    if (cnt === undefined) return ''
    const rows: Array<[string, string | number]> = [['Cum. sessions:', cnt.stot]]
    if (c.http) {
      const total = cnt.hrsp.reduce((a, b) => a + b, 0)
      const pct = (n: number): string => total === 0 ? '0' : String(Math.round(n * 100 / total))
      const labels = ['- HTTP 1xx responses:', '- HTTP 2xx responses:', '- HTTP 3xx responses:', '- HTTP 4xx responses:', '- HTTP 5xx responses:', '- other responses:']
      rows.push(['Cum. HTTP requests:', cnt.reqTot])
      labels.forEach((l, i) => rows.push([l, `${groupDigits(cnt.hrsp[i])}</td><td>(${pct(cnt.hrsp[i])}%)`]))
    }
    const avg = (name: string, a: { value: number, max: number }): [string, string] => [name, `${Math.round(a.max)} / ${Math.round(a.value)}</td><td>ms`]
    return tips(rows).replace('</table></div>',
      '<tr><th colspan=3>Max / Avg over last 1024 success. conn.</th></tr>' +
      [avg('- Queue time:', cnt.qtime), avg('- Connect time:', cnt.ctime), avg('- Responses time:', cnt.rtime), avg('- Total time:', cnt.ttime)]
        .map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('') + '</table></div>')
  }

  private abortTip (c: RowContext, t: 'B' | 'S'): string {
    return `<div class=tips>Connection resets during transfers: ${num(val(c, t, 'cli_abrt'))} client, ${num(val(c, t, 'srv_abrt'))} server</div>`
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
      (this.form ? `<td><input class='${px}-checkbox' type="checkbox" name="s" value="${name}"></td>` : '') +
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
        ? `<td><u>${num(sv.chkfail)}<div class=tips>Failed Health Checks</div></u></td>${td(sv.chkdown)}<td>${humanTime(Math.floor(sv.downtime(c.now) / 1000))}</td>`
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
      `<div class=tips>${desc}${chk.desc !== '' ? ': ' + escapeHtml(chk.desc) : ''}</div></u></td>`
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
      `<td class=ac>${humanTime(Math.floor((c.now - be.lastChange) / 1000))} ${c.lb.status === 'UP' ? 'UP' : '<font color="red"><b>DOWN</b></font>'}</td>` +
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

const LEGEND = '<table class="lgd"><tr>\n' +
  '<td class="active_up">&nbsp;</td><td class="noborder">active UP </td><td class="backup_up">&nbsp;</td><td class="noborder">backup UP </td></tr><tr>\n' +
  '<td class="active_going_down"></td><td class="noborder">active UP, going down </td><td class="backup_going_down"></td><td class="noborder">backup UP, going down </td></tr><tr>\n' +
  '<td class="active_going_up"></td><td class="noborder">active DOWN, going up </td><td class="backup_going_up"></td><td class="noborder">backup DOWN, going up </td></tr><tr>\n' +
  '<td class="active_down"></td><td class="noborder">active or backup DOWN &nbsp;</td><td class="active_no_check"></td><td class="noborder">not checked </td></tr><tr>\n' +
  '<td class="maintain"></td><td class="noborder" colspan="3">active or backup DOWN for maintenance (MAINT) &nbsp;</td></tr><tr>\n' +
  '<td class="active_draining"></td><td class="noborder" colspan="3">active or backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>\n' +
  'Note: "NOLB"/"DRAIN" = UP with load-balancing disabled.'

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
    '<style type="text/css"><!--\n' + CSS + '-->\n</style></head>\n' +
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
    '</td><td align="left" valign="top" nowrap width="1%"><b>Display option:</b><ul style="margin-top: 0.25em;">' +
    displayOptions(o) +
    '</ul></td><td align="left" valign="top" nowrap width="1%"><b>External resources:</b><ul style="margin-top: 0.25em;">\n' +
    '<li><a href="http://www.haproxy.org/">Primary site</a><br>\n' +
    '<li><a href="http://www.haproxy.org/#down">Updates (v2.6)</a><br>\n' +
    '<li><a href="https://docs.haproxy.org/2.6/configuration.html">Online manual</a><br>\n' +
    '</ul></td></tr></table>\n'
  if (o.status !== undefined) {
    const [cls, text] = STATUS_BANNERS[o.status] ?? ['active_no_check', 'Unexpected result.']
    w.out += `<p><div class=${cls}><a class=lfsb href="${link(o, o.noRefresh ? ';norefresh' : '', true)}" title="Remove this message">[X]</a> ${text}</div>\n`
  }
  w.out += '<p>\n'
  walkRows(model, { ...o.filter, self: o.self }, o.now, {
    proxy: (entry) => w.proxyHead(entry),
    row (t, c) {
      if (t === 'F') w.frontend(c)
      else if (t === 'S') w.server(c)
      else w.backend(c)
    },
    endProxy: (entry) => w.proxyEnd(entry)
  })
  return w.out + '</body></html>\n'
}
