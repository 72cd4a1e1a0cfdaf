// HAProxy's process interface (management.txt §3, §4) as far as it has a meaning for one Node
// process: the pid file (-p), daemon mode (-D), master-worker exit statuses (-W), systemd's
// readiness notification (-Ws), and the old processes a reload replaces (-sf / -st).
//
// Master-worker is one process here: HAProxy's master re-executes itself on SIGUSR2 to read the
// new configuration, this process reloads it in place (lib/serve.ts), so the pid systemd or
// VTest watch stays the one serving, and a configuration with errors leaves the old one running,
// as HAProxy's master does.

import { spawn } from 'node:child_process'
import { renameSync, writeFileSync } from 'node:fs'
import { constants } from 'node:os'

/** Set in the environment of the background process `-D` starts. */
export const DAEMON_ENV = 'FASTIFY_HAPROXY_DAEMON_CHILD'

/** What the daemon's child tells its parent over the IPC channel. */
export type DaemonMessage = { ready: true } | { failed: string }

/**
 * `-p FILE`: the pid, one line, as HAProxy writes it. Written beside and renamed over, so that a
 * reader who sees the file (systemd, a script polling for it) never reads it empty.
 * Errors are the caller's to report.
 */
export function writePidFile (file: string, pid: number): void {
  const partial = `${file}.${process.pid}.tmp`
  writeFileSync(partial, `${pid}\n`)
  renameSync(partial, file)
}

/**
 * HAProxy's master exits with 128 + the signal that stopped it (VTest and systemd's
 * `SuccessExitStatus=143` rely on it); a soft stop (SIGUSR1) ends with 0.
 */
export function masterExitStatus (signal: NodeJS.Signals | null): number {
  if (signal === null || signal === 'SIGUSR1') return 0
  return 128 + (constants.signals[signal] ?? 0)
}

/**
 * sd_notify(3): sends `state` (e.g. `READY=1`) to `$NOTIFY_SOCKET`, a unix datagram socket node
 * cannot write to. systemd's own `systemd-notify` sends it, with `--pid` naming this process as
 * the service's main pid (as root, systemd also attributes the message to it); without it,
 * `socat` does. Resolves false when there is no socket, or neither tool could send.
 */
export async function notifySystemd (state: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const socket = env.NOTIFY_SOCKET
  if (socket === undefined || socket === '') return false
  if (await run('systemd-notify', ['--no-block', `--pid=${process.pid}`, state], null, env)) return true
  const target = socket.startsWith('@') ? `ABSTRACT-SENDTO:${socket.slice(1)}` : `UNIX-SENDTO:${socket}`
  return await run('socat', ['-u', 'STDIN', target], `MAINPID=${process.pid}\n${state}\n`, env)
}

async function run (file: string, args: string[], input: string | null, env: NodeJS.ProcessEnv): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const child = spawn(file, args, { env, stdio: [input === null ? 'ignore' : 'pipe', 'ignore', 'ignore'] })
    child.once('error', () => resolve(false))
    child.once('exit', code => resolve(code === 0))
    if (input !== null) child.stdin!.end(input)
  })
}

/**
 * `-sf` / `-st`: once this process serves, the old ones finish their connections (SIGUSR1) or
 * stop now (SIGTERM). Returns the pids that could not be signalled.
 */
export function stopOldProcesses (pids: readonly number[], signal: 'SIGUSR1' | 'SIGTERM'): number[] {
  const missed: number[] = []
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      missed.push(pid)
    }
  }
  return missed
}

/**
 * `-D`: starts this same command line again, detached, without `-D`, and returns once the child
 * serves (exit status 0, its pid written to `pidFile`) or failed (1; its messages were relayed).
 * The child's output reaches this terminal until then, and nowhere after, as a daemon's does.
 */
export async function daemonize (argv: readonly string[], pidFile: string | null, err: (s: string) => void): Promise<number> {
  const args = [...process.execArgv, process.argv[1]!, ...argv.filter(a => a !== '-D')]
  const child = spawn(process.execPath, args, {
    detached: true,
    env: { ...process.env, [DAEMON_ENV]: '1' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  child.stdout!.pipe(process.stdout, { end: false })
  child.stderr!.pipe(process.stderr, { end: false })
  const outcome = await new Promise<DaemonMessage | null>((resolve) => {
    child.on('message', (m: DaemonMessage) => resolve(m))
    child.once('exit', () => resolve(null))
    child.once('error', (e) => resolve({ failed: e.message }))
  })
  if (outcome === null || 'failed' in outcome) {
    if (outcome !== null) err(outcome.failed)
    return 1
  }
  if (pidFile !== null) writePidFile(pidFile, child.pid!)
  child.stdout!.unpipe()
  child.stderr!.unpipe()
  child.stdout!.destroy()
  child.stderr!.destroy()
  child.disconnect()
  child.unref()
  return 0
}

/**
 * In the daemon's child: after telling the parent it serves, its stdout/stderr pipes lose their
 * reader; writes to them must fail quietly instead of crashing the process.
 */
export function detachOutput (): void {
  const ignore = (): void => {}
  process.stdout.on('error', ignore)
  process.stderr.on('error', ignore)
}
