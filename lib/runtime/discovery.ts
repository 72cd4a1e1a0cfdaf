// Service discovery (configuration.txt §5.3): servers whose address is a name and who name a
// `resolvers` section are resolved again every `timeout resolve` while running, through that
// section's name servers.
// - A/AAAA names: a server keeps its address while the answer still holds it, else takes the
//   first one (`resolve-prefer`, IPv6 first by default, as HAProxy); when the name stops resolving
//   (NXDOMAIN, or no answer) for longer than `hold nx` (`hold timeout` / `hold other` for the other
//   failures) the server goes to MAINT (resolution) and comes back with the next good answer.
// - SRV names (`_http._tcp.svc`, with `server-template`): each record fills one slot with its
//   target's address, its port and its weight: the SRV weight (0-65535) divided by 256, rounded
//   up (0 stays 0, 1-256 give 1, 65535 gives 256: observed on haproxy 2.6.12); slots already
//   holding a record keep it, free slots stay in MAINT (resolution).
// - `set server <b>/<s> fqdn <name>` changes the name an A/AAAA server follows: the next round
//   resolves the new one.
// - `resolve-net` puts the addresses of its networks first; by default (`prevent-dup-ip`) an
//   A/AAAA server does not take an address another server of its backend following the same
//   name already has (it keeps its own, or waits, when the answer has no other); `allow-dup-ip`
//   lets it; `ignore-weight` leaves an SRV slot's weight alone.
// Requests under way on a server that moves finish at its old address (lib/runtime/forward.ts).

import type { ParsedConfig } from '../config/model.js'
import { newResolvers } from '../config/parse.js'
import type { Backend, ServerRuntime } from './backend.js'
import { NameServers, resolvConfServers, type Found } from './nameservers.js'
import { netTest } from '../acl/ip.js'

interface Watched {
  servers: ServerRuntime[]
  fqdn: string
  prefer: 'ipv4' | 'ipv6'
  /** `resolve-net`: whether an address is in one of the networks to pick first. */
  preferred: ((ip: string) => boolean) | null
  allowDupIp: boolean
  ignoreWeight: boolean
  nameservers: NameServers
  /** ms since epoch of the last good answer. */
  lastValid: number
}

/** A name's addresses, the preferred family asked first (one query to every name server per family). */
async function addresses (ns: NameServers, name: string, prefer: 'ipv4' | 'ipv6'): Promise<Found<string>> {
  const order = prefer === 'ipv6' ? ['AAAA', 'A'] as const : ['A', 'AAAA'] as const
  let last: unknown = null
  for (const kind of order) {
    try {
      return await ns.query(kind, name)
    } catch (err) {
      last = err
    }
  }
  throw last
}

export class ServiceDiscovery {
  private readonly watched: Watched[] = []
  private timers: NodeJS.Timeout[] = []
  private stopped = true
  /**
   * Every `resolvers` section's name servers (`show resolvers`); as in 2.6, a section `default`
   * reading /etc/resolv.conf is added when the configuration names none so.
   */
  readonly sections: NameServers[]

  constructor (config: ParsedConfig, backends: readonly Backend[], private readonly log: { warn (m: string): void }) {
    const declared = config.resolvers ?? []
    const all = declared.some(r => r.name === 'default') || resolvConfServers().length === 0
      ? declared
      : [...declared, { ...newResolvers('default', { file: '', line: 0 }), parseResolvConf: true }]
    this.sections = all.map(r => new NameServers(r))
    const sections = new Map(this.sections.map(n => [n.section.name, n]))
    for (const be of backends) {
      const groups = new Map<string, Watched>()
      for (const srv of be.servers) {
        const conf = be.proxy.servers.find(s => s.name === srv.name)
        if (conf?.fqdn === undefined || conf.resolvers === undefined) continue
        const nameservers = sections.get(conf.resolvers)
        if (nameservers === undefined || nameservers.servers.length === 0) continue
        // the slots of a server-template share one SRV name; A names are resolved per server
        const key = conf.fqdn.startsWith('_') ? conf.fqdn : `${conf.fqdn}\0${srv.name}`
        let w = groups.get(key)
        if (w === undefined) {
          const nets = (conf.resolveNet ?? []).map(n => netTest(n)!)
          w = {
            servers: [],
            fqdn: conf.fqdn,
            prefer: conf.resolvePrefer ?? 'ipv6',
            preferred: nets.length === 0 ? null : (ip) => nets.some(t => t(ip)),
            allowDupIp: conf.resolveOpts?.allowDupIp ?? false,
            ignoreWeight: conf.resolveOpts?.ignoreWeight ?? false,
            nameservers,
            lastValid: Date.now()
          }
          groups.set(key, w)
          this.watched.push(w)
        }
        w.servers.push(srv)
      }
    }
  }

  start (): void {
    if (!this.stopped) return
    this.stopped = false
    for (const w of this.watched) this.schedule(w, 0)
  }

  stop (): void {
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.timers = []
    for (const n of this.sections) n.cancel()
  }

  private schedule (w: Watched, delay: number): void {
    if (this.stopped) return
    const t = setTimeout(() => {
      this.timers = this.timers.filter(x => x !== t)
      void this.resolve(w).finally(() => this.schedule(w, w.nameservers.section.timeoutResolve))
    }, delay)
    t.unref()
    this.timers.push(t)
  }

  private async resolve (w: Watched): Promise<void> {
    try {
      if (w.fqdn.startsWith('_')) await this.resolveSrv(w)
      else {
        const srv = w.servers[0]!
        const name = srv.fqdn ?? w.fqdn
        const { records, from } = await addresses(w.nameservers, name, w.prefer)
        if (this.stopped || srv.fqdn !== name) return
        const host = this.pick(w, srv, records)
        if (host === null) return
        if (host !== srv.host || !srv.hasAddress) from.counters.update++
        srv.resolved(host)
      }
      w.lastValid = Date.now()
    } catch (err) {
      if (this.stopped) return
      const code = (err as { code?: string }).code
      const holds = w.nameservers.section.hold
      const hold = code === 'ENOTFOUND' || code === 'ENODATA' ? holds.nx
        : code === 'ETIMEOUT' ? holds.timeout
          : code === 'EREFUSED' ? holds.refused : holds.other
      if (Date.now() - w.lastValid < hold) return
      for (const srv of w.servers) {
        if (!srv.unresolved) this.log.warn(`Server ${srv.backend.name}/${srv.name} is going DOWN for maintenance (${code === 'ENOTFOUND' ? 'DNS NX status' : 'DNS resolution failed'}).`)
        srv.unresolvedNow()
      }
    }
  }

  /**
   * The address a server takes from an answer: its own while the answer holds it (and no
   * `resolve-net` address is there that it lacks), else the first free one, `resolve-net`
   * networks first; null when every address is another server's (`prevent-dup-ip`).
   */
  private pick (w: Watched, srv: ServerRuntime, records: string[]): string | null {
    const ordered = w.preferred === null ? records : [...records.filter(w.preferred), ...records.filter(r => !w.preferred!(r))]
    if (srv.hasAddress && ordered.includes(srv.host) && (w.preferred === null || w.preferred(srv.host) || !ordered.some(w.preferred))) return srv.host
    if (w.allowDupIp) return ordered[0]!
    const taken = new Set(srv.backend.servers.filter(o => o !== srv && o.hasAddress && o.fqdn === srv.fqdn).map(o => o.host))
    return ordered.find(r => !taken.has(r)) ?? null
  }

  private async resolveSrv (w: Watched): Promise<void> {
    let records: Array<{ name: string, port: number, weight: number, priority: number }>
    let from: NameServers['servers'][number] | null = null
    try {
      ({ records, from } = await w.nameservers.query('SRV', w.fqdn))
    } catch (err) {
      // an empty answer empties every slot at once
      if ((err as { code?: string }).code !== 'ENODATA') throw err
      records = []
    }
    const targets = await Promise.all(records.map(async r => {
      try {
        const found = await addresses(w.nameservers, r.name, w.prefer)
        const host = found.records.find(a => w.preferred?.(a) === true) ?? found.records[0]!
        return { host, port: r.port, target: r.name, ...(w.ignoreWeight ? {} : { weight: Math.ceil(r.weight / 256) }) }
      } catch {
        return null
      }
    }))
    if (this.stopped) return
    const wanted = targets.filter((t): t is { host: string, port: number, target: string, weight?: number } => t !== null)
    const free: ServerRuntime[] = []
    const placed = new Set<number>()
    for (const srv of w.servers) {
      const i = srv.unresolved ? -1 : wanted.findIndex((t, j) => !placed.has(j) && t.host === srv.host && t.port === srv.port)
      if (i < 0) { free.push(srv); continue }
      placed.add(i)
      srv.resolved(wanted[i]!.host, wanted[i]!.port, wanted[i]!)
    }
    wanted.forEach((t, j) => {
      if (placed.has(j)) return
      const srv = free.shift()
      if (srv === undefined) return
      if (from !== null) from.counters.update++
      srv.resolved(t.host, t.port, t)
    })
    for (const srv of free) srv.unresolvedNow()
  }
}
