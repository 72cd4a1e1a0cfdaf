// The name servers of a `resolvers` section, asked as HAProxy asks them: every query goes to all
// of them at once, the first useful answer wins, and each server keeps the counters `show
// resolvers` prints (management.txt §9.3; their meaning observed on haproxy 2.6.12):
// `sent` queries sent, `snd_error` sends refused (ICMP unreachable), `valid` answers used,
// `update` answers that changed a server's address, `any_err` answers without records,
// `nx` NXDOMAIN, `timeout` no answer in `timeout retry`, `refused`, `invalid` malformed answers,
// `other` other failures, `outdated` answers that came after another server's was used.
// `cname`, `cname_error`, `too_big` and `truncated` stay 0: node's resolver follows CNAMEs and
// retries truncated answers out of sight.

import { promises as dns, type SrvRecord } from 'node:dns'
import { readFileSync } from 'node:fs'
import type { Resolvers } from '../config/model.js'

export const NAMESERVER_COUNTERS = ['sent', 'snd_error', 'valid', 'update', 'cname', 'cname_error', 'any_err', 'nx', 'timeout', 'refused', 'other', 'invalid', 'too_big', 'truncated', 'outdated'] as const
export type NameServerCounters = Record<typeof NAMESERVER_COUNTERS[number], number>

export interface NameServer {
  name: string
  counters: NameServerCounters
  resolver: dns.Resolver
}

export type Query = 'A' | 'AAAA' | 'SRV'

/** What a query found, and which name server said it (for its `update` counter). */
export interface Found<T> { records: T[], from: NameServer }

function address (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** `parse-resolv-conf`: the `nameserver` lines of /etc/resolv.conf, port 53, named by their address. */
export function resolvConfServers (): Array<{ name: string, host: string, port: number }> {
  let text = ''
  try { text = readFileSync('/etc/resolv.conf', 'latin1') } catch { return [] }
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map(m => ({ name: m[1]!, host: m[1]!, port: 53 }))
}

/** The counter an error of node's resolver falls in. */
function failure (code: string | undefined): keyof NameServerCounters {
  switch (code) {
    case 'ENODATA': return 'any_err'
    case 'ENOTFOUND': return 'nx'
    case 'ETIMEOUT': return 'timeout'
    case 'EREFUSED': return 'refused'
    case 'ECONNREFUSED': return 'snd_error'
    case 'EBADRESP': case 'EFORMERR': case 'EBADNAME': return 'invalid'
    default: return 'other'
  }
}

/** Failures in the order one stands for all (an NX answer says more than a silent server). */
const VERDICT = ['ENOTFOUND', 'ENODATA', 'EREFUSED', 'ETIMEOUT']

export class NameServers {
  readonly servers: NameServer[]

  constructor (readonly section: Resolvers) {
    const list = [...section.nameservers, ...(section.parseResolvConf ? resolvConfServers() : [])]
    this.servers = list.map(ns => {
      // one try per query: retries are counted here, each one a query sent to every server
      const resolver = new dns.Resolver({ timeout: section.timeoutRetry, tries: 1 })
      resolver.setServers([address(ns.host, ns.port)])
      return { name: ns.name, resolver, counters: Object.fromEntries(NAMESERVER_COUNTERS.map(c => [c, 0])) as NameServerCounters }
    })
  }

  /**
   * Asks every server, up to `resolve_retries` rounds while none answers; resolves with the
   * first answer holding records, else rejects with the most telling failure.
   */
  async query (kind: 'SRV', name: string): Promise<Found<SrvRecord>>
  async query (kind: 'A' | 'AAAA', name: string): Promise<Found<string>>
  async query (kind: Query, name: string): Promise<Found<string | SrvRecord>> {
    let codes: string[] = []
    for (let round = 0; round < Math.max(1, this.section.resolveRetries); round++) {
      codes = []
      let used: NameServer | null = null
      const found = await new Promise<Found<string | SrvRecord> | null>(resolve => {
        let pending = this.servers.length
        for (const ns of this.servers) {
          ns.counters.sent++
          const ask = kind === 'SRV' ? ns.resolver.resolveSrv(name) : kind === 'A' ? ns.resolver.resolve4(name) : ns.resolver.resolve6(name)
          ask.then(records => {
            if (used !== null) ns.counters.outdated++
            else if (records.length === 0) ns.counters.any_err++
            else {
              ns.counters.valid++
              used = ns
              resolve({ records, from: ns })
            }
          }, (err: { code?: string }) => {
            const code = err.code ?? ''
            if (used !== null && code !== 'ETIMEOUT' && code !== 'ECONNREFUSED') ns.counters.outdated++
            else ns.counters[failure(code)]++
            codes.push(code)
          }).finally(() => { if (--pending === 0) resolve(null) })
        }
      })
      if (found !== null) return found
      // an answer (even a negative one) ends the query; only silence is tried again
      if (codes.some(c => c !== 'ETIMEOUT' && c !== 'ECONNREFUSED')) break
    }
    const code = VERDICT.find(c => codes.includes(c)) ?? codes[0] ?? 'ENODATA'
    throw Object.assign(new Error(`${kind} ${name}: ${code}`), { code })
  }

  /** Stops the queries under way. */
  cancel (): void {
    for (const ns of this.servers) ns.resolver.cancel()
  }
}
