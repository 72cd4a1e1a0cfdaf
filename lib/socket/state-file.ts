// `load-server-state-from-file global|local` (configuration.txt §4.2): at start and at each
// reload, servers take the weight, forced maintenance or drain and address saved in a file
// written from `show servers state` before the restart. `global` reads the global
// `server-state-file`; `local` the backend's `server-state-file-name` (default: its name).
// Relative names are prefixed with `server-state-base`, as in HAProxy.

import { PATTERN_FILE_LIMIT, readBounded } from '../files.js'
import { isAbsolute, join } from 'node:path'
import type { ParsedConfig } from '../config/model.js'
import type { Backend } from '../runtime/backend.js'
import { applyServerState, parseServersState, type SavedServerState } from './servers-state.js'

function resolveName (config: ParsedConfig, name: string): string {
  const base = config.global.serverStateBase
  return isAbsolute(name) || base === undefined ? name : join(base, name)
}

export function loadServerStates (config: ParsedConfig, backends: readonly Backend[], log: { warn (m: string): void }): void {
  const files = new Map<string, SavedServerState[] | null>()
  const read = (file: string): SavedServerState[] | null => {
    if (!files.has(file)) {
      try {
        files.set(file, parseServersState(readBounded(file, PATTERN_FILE_LIMIT).toString('latin1')))
      } catch {
        log.warn(`Can't open server state file '${file}'`)
        files.set(file, null)
      }
    }
    return files.get(file) ?? null
  }
  for (const be of backends) {
    const mode = be.proxy.loadServerState
    if (mode === undefined || mode === 'none') continue
    const name = mode === 'global' ? config.global.serverStateFile : (be.proxy.serverStateFileName ?? be.name)
    if (name === undefined) continue
    const states = read(resolveName(config, name))
    if (states === null) continue
    for (const saved of states) {
      if (saved.backend !== be.name) continue
      const srv = be.server(saved.server)
      const conf = be.proxy.servers.find(s => s.name === saved.server)
      if (srv !== undefined && conf !== undefined) applyServerState(srv, saved, conf.weight ?? 1)
    }
  }
}
