// Plain-data runtime objects for the stats tests: they implement the View interfaces of
// lib/runtime/state.ts the way the runtime does (same counters classes), with every field settable.

import http from 'node:http'
import type { Proxy, StatsConfig } from '../../lib/config/model.js'
import { parseConfig } from '../../lib/config/parse.js'
import { type CheckResult, RateCounter, type ServerAdminState, type ServerOpState, TrafficCounters } from '../../lib/runtime/state.js'
import type { BackendView, FrontendView } from '../../lib/runtime/state.js'
import type { AdminServer } from '../../lib/stats/admin.js'
import type { StatsEntry, StatsModel } from '../../lib/stats/model.js'

/** The stats settings a bare `stats enable` gives, as the config parser builds them, with overrides. */
export function statsConfig (over: Partial<StatsConfig> = {}): StatsConfig {
  const stats = parseConfig('listen stats\n    mode http\n    stats enable\n').proxies[0].stats as StatsConfig
  return { ...stats, ...over }
}

/** A proxy as the config parser builds it (`<kind> px` + `mode http`), named `name`, with overrides. */
export function makeProxy (kind: Proxy['kind'], name: string, id: number, over: Partial<Proxy> = {}): Proxy {
  return { ...parseConfig(`${kind} px\n    mode http\n`).proxies[0], name, id, ...over }
}

/** A `defaults` section for configs run through haproxy or the gateway in tests. */
export const HTTP_DEFAULTS = `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s`

export class FakeServer implements AdminServer {
  name: string
  id: number
  addr: string
  backup = false
  hasCheck = true
  checkEnabled = true
  rise = 2
  fall = 3
  health = 4
  op: ServerOpState = 'up'
  admin: ServerAdminState = 'ready'
  nolb = false
  weight = 1
  uweight = 1
  maxconn = 0
  maxqueue = 0
  lastCheck: CheckResult = { status: 'L4OK', code: null, duration: 0, desc: '' }
  lastCheckAt = 0
  chkfail = 0
  chkdown = 0
  lastChange: number
  downMs = 0
  counters = new TrafficCounters()
  lbtot = 0
  qcur = 0
  qmax = 0

  constructor (name: string, id: number, over: Partial<FakeServer> = {}) {
    this.name = name
    this.id = id
    this.addr = `127.0.0.1:${8000 + id}`
    this.lastChange = Date.now()
    Object.assign(this, over)
  }

  downtime (): number { return this.downMs }
  setAdmin (state: ServerAdminState): void { this.admin = state; this.lastChange = Date.now() }
  enableHealth (): void { if (this.hasCheck) this.checkEnabled = true }
  disableHealth (): void { this.checkEnabled = false }
}

export class FakeBackend implements BackendView {
  name: string
  id: number
  algorithm = 'roundrobin'
  servers: FakeServer[]
  counters = new TrafficCounters()
  lbtot = 0
  qcur = 0
  qmax = 0
  chkdown = 0
  lastChange = Date.now()
  downMs = 0
  constructor (name: string, id: number, servers: FakeServer[]) {
    this.name = name
    this.id = id
    this.servers = servers
  }

  downtime (): number { return this.downMs }
  get isUp (): boolean { return this.servers.some(s => s.op === 'up' && s.admin === 'ready') }
}

export class FakeFrontend implements FrontendView {
  name: string
  id: number
  counters = new TrafficCounters()
  connTot = 0
  connRate = new RateCounter()
  reqRate = new RateCounter()
  maxconn: number
  constructor (name: string, id: number, maxconn = 0) {
    this.name = name
    this.id = id
    this.maxconn = maxconn
  }
}

export function model (proxies: StatsEntry[], over: Partial<StatsModel> = {}): StatsModel {
  return { pid: 4242, startedAt: Date.now() - 3000, proxies, ...over }
}

/** Parses our CSV into header names and rows keyed by `pxname/svname`. */
export function parseCsv (text: string): { fields: string[], rows: Map<string, Record<string, string>> } {
  const lines = text.split('\n').filter(l => l !== '')
  const fields = lines[0].slice(2).split(',')
  if (fields[fields.length - 1] === '') fields.pop()
  const rows = new Map<string, Record<string, string>>()
  for (const line of lines.slice(1)) {
    const cells: string[] = []
    let cur = ''
    let quoted = false
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++ } else if (ch === '"') quoted = false
        else cur += ch
      } else if (ch === '"') quoted = true
      else if (ch === ',') { cells.push(cur); cur = '' } else cur += ch
    }
    const rec: Record<string, string> = {}
    fields.forEach((f, i) => { rec[f] = cells[i] ?? '' })
    rows.set(`${rec.pxname}/${rec.svname}`, rec)
  }
  return { fields, rows }
}

/** A GET on 127.0.0.1: status and body (`agent` false: a connection of its own). */
export async function get (port: number, path: string, agent: http.Agent | false = false): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', d => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject)
  })
}

/**
 * The rows of a stats page's CSV (`GET <uri>;csv` through node's client, which reads the page's
 * chunked framing as HAProxy sends it to HTTP/1.0 clients too), keyed by `pxname/svname`.
 */
export async function fetchCsvRows (port: number, uri = '/stats'): Promise<Map<string, Record<string, string>>> {
  return parseCsv((await get(port, `${uri};csv`)).body).rows
}
