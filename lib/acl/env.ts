// What compiling an expression may consult: the config (userlists, backends), the proxy being
// compiled, and the files already read. One per compilation of a proxy.

import type { Loc, ParsedConfig, Proxy } from '../config/model.js'
import type { BackendView } from '../runtime/state.js'
import type { StickTable } from '../runtime/stick-table.js'
import type { Cache } from '../runtime/cache.js'
import type { TrafficCounters } from '../runtime/state.js'
import type { FileCache } from './maps.js'
import type { UserlistAuth } from './userlist.js'

export interface CompileEnv {
  config: ParsedConfig
  proxy: Proxy
  files: FileCache
  /** The compiled userlist of that name, or undefined when the config has none. */
  userlist (name: string): UserlistAuth | undefined
  /** The live state of a backend (for `nbsrv`, `srv_is_up`), when the caller provides it. */
  backend? (name: string): BackendView | undefined
  /** Where the item being compiled was written (pattern references list their users). */
  location? (): Loc | undefined
  /**
   * The running stick table a proxy declares, by the proxy's name (track-sc, sc_*, src_*,
   * table_*); without it (checking a config) a table is made from the declaration.
   */
  stickTable? (name: string): StickTable | undefined
  /** The cache of that name (`cache-use`, `cache-store`); undefined when the config has none. */
  cache? (name: string): Cache | undefined
  /** The running counters of the proxy being compiled (cache_lookups, cache_hits), once it runs. */
  counters? (): TrafficCounters | undefined
  /** A warning about the item being compiled (e.g. a fetch this engine does not evaluate). */
  warn (message: string): void
}
