// `option external-check` (configuration.txt §4.2, `external-check command|path`): each check
// runs the command with HAProxy's arguments `<proxy_address> <proxy_port> <server_address>
// <server_port>` and only HAProxy's environment (its HAPROXY_* variables, and PATH, empty unless
// `external-check path` gives one); exit status 0 passes. Observed on HAProxy 2.6.12: the
// command's output goes to the process's own, a command still running when the check's time is
// up is killed (PROCTOUT, code 0), any other status fails the check (PROCERR, with it as code).

import { spawn, type ChildProcess } from 'node:child_process'
import type { Proxy } from '../config/model.js'
import type { ServerRuntime } from './backend.js'
import type { CheckResult } from './state.js'

/** What a proxy's external checks run: compiled once per backend. */
export interface ExternalCheck {
  readonly command: string
  /** `external-check path`; without it the command runs with an empty PATH (observed). */
  readonly path: string | undefined
  /** The first bind's address and port ("NOT_USED" in the arguments, empty in the environment, for a backend). */
  readonly proxyAddr: string
  readonly proxyPort: string
}

/** The external check of a proxy with `option external-check` and a command, else null. */
export function compileExternalCheck (proxy: Proxy): ExternalCheck | null {
  if (proxy.checkType?.name !== 'external-check' || proxy.externalCheck?.command === undefined) return null
  const bind = proxy.binds.find(b => b.fd === undefined)
  return {
    command: proxy.externalCheck.command,
    path: proxy.externalCheck.path,
    proxyAddr: bind === undefined ? '' : bind.host === '' || bind.host === '*' ? '0.0.0.0' : bind.host,
    proxyPort: bind === undefined ? '' : String(bind.port)
  }
}

/**
 * Runs one check of `server`; `done` gets its result unless `stop()` (returned) is called first.
 * `timeout` (ms) bounds the command: the check's connect time (`inter`, or min(inter, timeout
 * connect) with `timeout check`), as HAProxy bounds it.
 */
export function runExternalCheck (check: ExternalCheck, proxy: Proxy, server: ServerRuntime, timeout: number, done: (ok: boolean, result: CheckResult) => void): () => void {
  const started = Date.now()
  const env: NodeJS.ProcessEnv = {
    HAPROXY_PROXY_ADDR: check.proxyAddr,
    HAPROXY_PROXY_ID: String(proxy.id),
    HAPROXY_PROXY_NAME: proxy.name,
    HAPROXY_PROXY_PORT: check.proxyPort,
    HAPROXY_SERVER_ADDR: server.host,
    HAPROXY_SERVER_CURCONN: String(server.counters.scur),
    HAPROXY_SERVER_ID: String(server.id),
    HAPROXY_SERVER_MAXCONN: String(server.maxconn),
    HAPROXY_SERVER_NAME: server.name,
    HAPROXY_SERVER_PORT: String(server.port),
    HAPROXY_SERVER_PROTO: proxy.mode === 'tcp' ? 'tcp' : server.proto,
    HAPROXY_SERVER_SSL: server.ssl ? '1' : '0',
    PATH: check.path ?? ''
  }
  const args = [check.proxyAddr === '' ? 'NOT_USED' : check.proxyAddr, check.proxyPort === '' ? 'NOT_USED' : check.proxyPort, server.host, String(server.port)]
  let settled = false
  let child: ChildProcess | null = null
  const settle = (ok: boolean, status: string, code: number): void => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    done(ok, { status, code, duration: Date.now() - started, desc: '' })
  }
  const timer = setTimeout(() => {
    child?.kill('SIGKILL')
    settle(false, 'PROCTOUT', 0)
  }, timeout)
  timer.unref()
  try {
    child = spawn(check.command, args, { env, stdio: ['ignore', 'inherit', 'inherit'] })
  } catch {
    settle(false, 'PROCERR', 0)
    return () => {}
  }
  // a command that cannot be started fails the check, as one that exits with an error
  child.once('error', () => { settle(false, 'PROCERR', 0) })
  child.once('exit', (code) => {
    if (code === 0) settle(true, 'PROCOK', 0)
    else settle(false, 'PROCERR', code ?? 0)
  })
  return () => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    child?.kill('SIGKILL')
  }
}
