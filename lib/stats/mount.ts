// The stats pages of a configuration, mounted on a listener that is not theirs (the app's port):
// a private Fastify instance holds the `statsRoutes` of each section, and requests for a stats
// URI are handed to it whole (`routing(req, res)`), so that they go through none of the app's
// hooks, routes or schemas (an app-wide Bearer check must not lock out `stats auth`, and
// @fastify/swagger never sees them). A reload builds a new instance and swaps it in.

import type { IncomingMessage, ServerResponse } from 'node:http'
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Proxy } from '../config/model.js'
import type { FrontendCounters } from '../runtime/forward.js'
import type { CompiledProxy } from '../acl/compile.js'
import type { AdminHandler, StatsModel } from './model.js'
import { matchesStatsUri, statsRoutes } from './routes.js'

/** What the mount needs from the runtime (the Gateway). */
export interface StatsSource {
  statsModel (): StatsModel
  adminHandler (): AdminHandler
  compile (proxy: Proxy): CompiledProxy
  /** The section's counters: its requests count there, as on its own bind in HAProxy. */
  sectionCounters (name: string): FrontendCounters | undefined
}

interface Mounted {
  readonly uri: string
  readonly section: string
  /** A backend's page: served only to requests routed to that backend (`matchRouted`). */
  readonly routed: boolean
}

export class StatsMount {
  private constructor (
    private readonly app: FastifyInstance,
    private readonly mounted: readonly Mounted[],
    private readonly source: StatsSource,
    /** The section whose sessions this listener's connections are. */
    private readonly listenerSection: string
  ) {}

  /** Mounts the stats page of each section (the first of those that share a URI). */
  static async build (source: StatsSource, proxies: readonly Proxy[], log: FastifyBaseLogger, opts: { logRequests: boolean, listenerSection: string, routed?: readonly string[] }): Promise<StatsMount> {
    const app = Fastify({ loggerInstance: log, logController: new LogController({ disableRequestLogging: !opts.logRequests }) })
    const mounted: Mounted[] = []
    for (const proxy of proxies) {
      const stats = proxy.stats
      if (stats === null || mounted.some(m => m.uri === stats.uri)) continue
      mounted.push({ uri: stats.uri, section: proxy.name, routed: opts.routed?.includes(proxy.name) === true })
      await app.register(statsRoutes, {
        proxy,
        model: () => source.statsModel(),
        admin: source.adminHandler(),
        rules: source.compile(proxy)
      })
    }
    await app.ready()
    // the longest URI first, as the stats routes' constraint picks the page that serves it
    mounted.sort((a, b) => b.uri.length - a.uri.length)
    return new StatsMount(app, mounted, source, opts.listenerSection)
  }

  /** The section whose stats URI this raw request target is for, or null. */
  match (url: string): string | null {
    const m = this.mounted
    for (let i = 0; i < m.length; i++) if (!m[i]!.routed && matchesStatsUri(m[i]!.uri, url)) return m[i]!.section
    return null
  }

  /** Whether a request routed to `backend` is for that backend's stats page. */
  matchRouted (backend: string, url: string): boolean {
    const m = this.mounted
    for (let i = 0; i < m.length; i++) if (m[i]!.routed && m[i]!.section === backend) return matchesStatsUri(m[i]!.uri, url)
    return false
  }

  /**
   * Serves a stats request. It counts under its own section; on a listener that is another
   * section's (the app's port), as one session of its own too, one request long.
   */
  serve (section: string, req: IncomingMessage, res: ServerResponse): void {
    this.source.sectionCounters(section)?.statsRequest(res, section !== this.listenerSection)
    this.app.routing(req, res)
  }

  async close (): Promise<void> {
    await this.app.close()
  }
}
