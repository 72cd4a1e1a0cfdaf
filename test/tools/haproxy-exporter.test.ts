// Prometheus' haproxy exporter (Debian package `prometheus-haproxy-exporter`) scraping real
// HAProxy and our CLI on the same config, through the stats socket (`unix:`) and through the
// stats page's CSV (`http://…/stats;csv`): the same metrics with the same values for our
// servers, backends and frontends once the same requests went through both.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { freePort, send } from '../differential/harness.js'
import { cli } from '../socket/client.js'
import { PACKAGE_VERSION } from '../../lib/stats/routes.js'
import { needs, withBoth, type Target } from './tools.js'
import { waitFor } from '../gateway/fixtures.js'

const skip = needs('prometheus-haproxy-exporter', 'prometheus-haproxy-exporter')

/** Runs the exporter on `scrapeUri` for the time of `use`, which gets its /metrics URL. */
async function withExporter (scrapeUri: string, use: (metricsUrl: string) => Promise<void>): Promise<void> {
  const port = await freePort()
  const child = spawn('prometheus-haproxy-exporter', [`--haproxy.scrape-uri=${scrapeUri}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr.on('data', (d: Buffer) => { log += d.toString() })
  const url = `http://127.0.0.1:${port}/metrics`
  try {
    await waitFor(async () => await fetch(url).then(r => r.ok, () => false), `the exporter on ${scrapeUri}`)
    await use(url)
  } catch (err) {
    throw new Error(`${(err as Error).message}\nexporter log:\n${log}`)
  } finally {
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
}

/** The `haproxy_*` samples of one scrape, name{labels} → value. */
async function scrape (url: string): Promise<Map<string, string>> {
  const text = await (await fetch(url)).text()
  const samples = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (!line.startsWith('haproxy_')) continue
    const space = line.lastIndexOf(' ')
    samples.set(line.slice(0, space), line.slice(space + 1))
  }
  return samples
}

/**
 * Samples whose values differ by nature: maxconn comes from each process's file descriptors
 * (the limits), the version is each one's, timings, rates and downtimes are measured, and the
 * `stats` section serving the CSV counts the scrapes (HAProxy counts the bytes of a stats page in
 * the section's frontend and backend rows once the page is sent, ours the request's head at once
 * and no page bytes: a known difference of the stats page, not of the exporter's metrics).
 */
const BY_NATURE = /^haproxy_(frontend_limit_sessions|backend_limit_sessions|version_info)\{|_average_seconds\{|_session_rate\{|_check_duration_seconds\{|_downtime_seconds_total\{|^haproxy_frontend_\w+\{frontend="stats"\}|^haproxy_backend_bytes_\w+\{backend="stats"\}/

function comparable (samples: Map<string, string>): Record<string, string> {
  return Object.fromEntries([...samples].filter(([k]) => !BY_NATURE.test(k)).sort())
}

/** The config, its stats page on `statsPort` (one free port per proxy). */
const config = (statsPort: (port: number) => number) => (port: number, _sock: string, web: Array<{ port: number }>): string => [
  'frontend fe',
  `    bind 127.0.0.1:${port}`,
  '    default_backend app',
  'listen stats',
  `    bind 127.0.0.1:${statsPort(port)}`,
  '    stats enable',
  '    stats uri /stats',
  'backend app',
  '    balance roundrobin',
  `    server web1 127.0.0.1:${web[0]!.port} check inter 100ms`,
  `    server web2 127.0.0.1:${web[1]!.port} check inter 100ms`,
  '    server down 127.0.0.1:1 check inter 100ms',
  ''
].join('\n')

/** The same traffic through both, and the same state change on their sockets. */
async function drive (targets: Target[]): Promise<void> {
  for (const t of targets) {
    await waitFor(async () => {
      const stat = await cli(t.sock, 'show stat\n')
      return /\napp,web1,(?:[^,]*,){15}UP,/.test(stat) && /\napp,web2,(?:[^,]*,){15}UP,/.test(stat) && /\napp,down,(?:[^,]*,){15}DOWN,/.test(stat)
    }, `${t.label}: the checks' verdicts`)
    for (let i = 0; i < 5; i++) assert.equal((await send(t.proxy.port, { path: `/r${i}` })).status, 200)
    assert.equal(await cli(t.sock, 'set server app/web2 state drain\n'), '\n')
    assert.equal(await cli(t.sock, 'set server app/web1 weight 7\n'), '\n')
  }
}

test('prometheus-haproxy-exporter on the stats socket (unix:) and on the stats CSV: the same metrics as from HAProxy', { skip, timeout: 120_000 }, async () => {
  const free = [await freePort(), await freePort()]
  const statsPorts = new Map<number, number>()
  const statsPort = (port: number): number => {
    if (!statsPorts.has(port)) statsPorts.set(port, free[statsPorts.size]!)
    return statsPorts.get(port)!
  }
  await withBoth(config(statsPort), async (targets) => {
    await drive(targets)
    for (const uri of [(t: Target) => `unix:${t.sock}`, (t: Target) => `http://127.0.0.1:${statsPort(t.proxy.port)}/stats;csv`]) {
      const [real, ours] = [new Map<string, string>(), new Map<string, string>()]
      await withExporter(uri(targets[0]!), async url => { for (const [k, v] of await scrape(url)) real.set(k, v) })
      await withExporter(uri(targets[1]!), async url => { for (const [k, v] of await scrape(url)) ours.set(k, v) })
      const how = uri(targets[1]!)
      assert.equal(real.get('haproxy_up'), '1', how)
      assert.equal(ours.get('haproxy_up'), '1', how)
      assert.deepEqual(comparable(ours), comparable(real), how)
      // what the metrics say about our servers
      assert.equal(ours.get('haproxy_server_http_responses_total{backend="app",code="2xx",server="web1"}'), '3', how)
      assert.equal(ours.get('haproxy_server_http_responses_total{backend="app",code="2xx",server="web2"}'), '2', how)
      assert.equal(ours.get('haproxy_server_weight{backend="app",server="web1"}'), '7', how)
      assert.equal(ours.get('haproxy_server_up{backend="app",server="web1"}'), '1', how)
      assert.equal(ours.get('haproxy_server_up{backend="app",server="down"}'), '0', how)
      assert.equal(ours.get('haproxy_backend_up{backend="app"}'), '1', how)
      // the harness's readiness probe (a connection closed without a byte) is a failed request, as in HAProxy
      assert.equal(ours.get('haproxy_frontend_http_requests_total{frontend="fe"}'), '6', how)
      assert.equal(ours.get('haproxy_frontend_request_errors_total{frontend="fe"}'), '1', how)
      // `show info` is read on the socket only
      if (how.startsWith('unix:')) assert.equal(ours.get(`haproxy_version_info{release_date="2023/03/10",version="2.6.12-fastify-haproxy-${PACKAGE_VERSION}"}`), '1', how)
    }
  })
})
