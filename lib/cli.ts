#!/usr/bin/env node
// `fastify-haproxy` — the command line of haproxy(1) for this gateway (management.txt §3):
//   -c            check the configuration and exit (0 valid, 1 errors, 2 nothing to listen on)
//   -f FILE|DIR   configuration file, or a directory whose *.cfg are read in lexical order; repeatable
//   -q            quiet: print nothing          -dW  warnings are fatal (zero-warning)
//   -W / -Ws      master-worker (-Ws: systemd readiness)   -D  daemon   -p FILE  pid file
//   -sf/-st PIDs  old processes to stop once serving       -S   master CLI (lib/socket/master.ts)
//   -v / -vv      version                        -h   usage
// Without -c it serves the configuration (lib/serve.ts runGateway). A thin user of the library.

import { readFileSync, statSync } from 'node:fs'
import { release } from 'node:os'
import type { Diagnostic } from './config/model.js'
import { loadConfig } from './config/parse.js'
import { fatalUnderZeroWarning, formatDiagnostic } from './config/diagnostics.js'
import { checkStages, NO_LISTENER } from './check.js'
import type { GatewayRunOptions } from './serve.js'
import {
  DAEMON_ENV, daemonize, detachOutput, masterExitStatus, notifySystemd, stopOldProcesses, writePidFile
} from './process.js'
import type { DaemonMessage } from './process.js'

interface CliOptions {
  check: boolean
  files: string[]
  quiet: boolean
  zeroWarning: boolean
  version: 0 | 1 | 2
  help: boolean
  daemon: boolean
  /** -W / -Ws: HAProxy's master-worker mode ('systemd' for -Ws). */
  master: false | 'plain' | 'systemd'
  pidFile: string | null
  /** -sf (soft: SIGUSR1) / -st (hard: SIGTERM) and their pids. */
  oldPids: { signal: 'SIGUSR1' | 'SIGTERM', pids: number[] } | null
  masterCli: string | null
  bad: string | null
}

const USAGE = `Usage : fastify-haproxy [-f <cfgfile|cfgdir>]* [ -c ] [ -q ] [ -dW ] [ -vdD ] [ -W | -Ws ]
        [ -p <pidfile> ] [ -sf|-st <pid>* ] [ -S <bind> ] [ -v | -vv ] [-- <cfgfile>*]
        -f <cfgfile|cfgdir> loads a configuration file, or the *.cfg files of a directory; repeatable
        -c check mode : only check config files and exit (0 valid, 1 errors, 2 no listener)
        -q quiet mode : don't display messages
        -dW fails if any warning is emitted
        -d / -db stay in the foreground (the default) ; -V verbose (the default)
        -D goes daemon : returns once the configuration is served in the background
        -W master-worker mode : SIGUSR2 reloads, the exit status is 128 + the stopping signal
        -Ws master-worker mode with systemd notify support (READY=1 to $NOTIFY_SOCKET)
        -p <pidfile> writes the pid of the serving process to this file
        -sf/-st [pid ]* finishes/terminates old pids once this process serves.
        -S <bind>[,<bind options>...] master CLI : this process's runtime API through @1 / @!<pid>
        -v displays version ; -vv shows versions of the runtime too.
        -h shows this help.
Listeners may be inherited sockets: 'bind fd@<n>' or 'bind "fd@\${NAME}"'.
Without -c, the configuration is served until SIGINT/SIGTERM (SIGUSR1 : soft stop ; SIGHUP/SIGUSR2 : reload).`

/** HAProxy options without a meaning here (peer name, memory limit, pollers, splicing, SO_REUSEPORT); accepted and skipped. */
const IGNORED_WITH_VALUE = new Set(['-L', '-m'])
const IGNORED = new Set(['-d', '-db', '-V', '-de', '-dp', '-dS', '-dG', '-dR', '-dV'])

function parseArgv (argv: string[]): CliOptions {
  const o: CliOptions = {
    check: false, files: [], quiet: false, zeroWarning: false, version: 0, help: false, daemon: false,
    master: false, pidFile: null, oldPids: null, masterCli: null, bad: null
  }
  const value = (i: number, what: string): string | null => {
    const v = argv[i]
    if (v === undefined) o.bad = `'${argv[i - 1]}' expects ${what}`
    return v ?? null
  }
  for (let i = 0; i < argv.length && o.bad === null; i++) {
    const a = argv[i]!
    if (a === '--') {
      o.files.push(...argv.slice(i + 1))
      break
    }
    if (a === '-c') o.check = true
    else if (a === '-q') o.quiet = true
    else if (a === '-dW') o.zeroWarning = true
    else if (a === '-v') o.version = 1
    else if (a === '-vv') o.version = 2
    else if (a === '-h' || a === '--help') o.help = true
    else if (a === '-D') o.daemon = true
    else if (a === '-W') o.master = 'plain'
    else if (a === '-Ws') o.master = 'systemd'
    else if (a === '-f' || a === '-p' || a === '-S' || a === '-C') {
      const v = value(++i, a === '-f' ? 'a configuration file or directory' : a === '-p' ? 'a pid file' : a === '-C' ? 'a directory' : 'a bind address')
      if (v === null) break
      if (a === '-f') o.files.push(v)
      else if (a === '-p') o.pidFile = v
      else if (a === '-S') o.masterCli = v
      else process.chdir(v)
    } else if (a === '-sf' || a === '-st') {
      const pids: number[] = []
      while (i + 1 < argv.length && /^\d+$/.test(argv[i + 1]!)) pids.push(Number(argv[++i]))
      o.oldPids = { signal: a === '-sf' ? 'SIGUSR1' : 'SIGTERM', pids }
    } else if (a.startsWith('-f') && a.length > 2) o.files.push(a.slice(2))
    else if (IGNORED_WITH_VALUE.has(a)) i++
    else if (IGNORED.has(a) || a.startsWith('-dM')) continue
    else o.bad = `unknown option '${a}'`
  }
  return o
}

function version (): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    return pkg.version
  } catch {
    return 'unknown'
  }
}

/** Runs `-c`; returns the exit status and writes what haproxy -c would. */
function runCheck (files: string[], o: { quiet: boolean, zeroWarning: boolean }, out: (s: string) => void, err: (s: string) => void): number {
  const pid = process.pid
  for (const f of files) {
    try {
      statSync(f)
    } catch {
      if (!o.quiet) err(`[ALERT]    (${pid}) : config : Cannot open configuration file/directory ${f} : No such file or directory`)
      return 1
    }
  }
  const config = loadConfig(files, { modeless: 'tcp' })
  const { parse, post } = checkStages(config)
  const diags = [...parse, ...post]
  // The global `quiet` / `zero-warning` keywords act like -q / -dW (§3.1).
  const quiet = o.quiet || config.global.quiet === true
  const zeroWarning = o.zeroWarning || config.global.zeroWarning === true
  const say = quiet ? () => {} : err
  const shown = diags.filter(d => d.keyword !== NO_LISTENER)
  for (const d of shown) say(formatDiagnostic(d, pid))
  const alerts = shown.filter(d => d.level === 'alert')
  if (alerts.length > 0) {
    // "Error(s) found" closes each file whose reading failed; later stages only get the last line.
    const failedFiles = new Set(parse.filter(d => d.level === 'alert').map(d => d.loc?.file ?? config.files[0]).filter((f): f is string => f !== undefined))
    for (const f of failedFiles) say(formatDiagnostic({ level: 'alert', message: `Error(s) found in configuration file : ${f}` }, pid))
    if (!alerts.some(d => d.message === 'Failed to initialize server(s) addr.')) say(formatDiagnostic({ level: 'alert', message: 'Fatal errors found in configuration.' }, pid))
    return 1
  }
  const warnings = shown.some(d => d.level === 'warning')
  if (zeroWarning && shown.some(fatalUnderZeroWarning)) {
    say(formatDiagnostic({ level: 'alert', message: "Some warnings were found and 'zero-warning' is set. Aborting." }, pid))
    return 1
  }
  const noListener = diags.find((d: Diagnostic) => d.keyword === NO_LISTENER)
  if (noListener) {
    if (!quiet) out(noListener.message)
    return 2
  }
  if (!quiet) {
    if (warnings) out('Warnings were found.')
    out('Configuration file is valid')
  }
  return 0
}

/** `-v` / `-vv` in HAProxy's shape: "<name> version <version> - <where>", then the platform. */
function versionText (verbose: boolean): string[] {
  const lines = [
    `fastify-haproxy version ${version()} - https://www.npmjs.com/package/fastify-haproxy`,
    'Status: reads HAProxy 2.6 configurations (what is served: see the README).',
    `Running on: ${process.platform === 'linux' ? 'Linux' : process.platform} ${release()} ${process.arch}`
  ]
  if (verbose) {
    lines.push(`Built with Node.js ${process.version}`, `Running on OpenSSL version : ${process.versions.openssl}`,
      'Supported process interface : -W -Ws -D -p -sf -st -q -dW, bind fd@<n>')
  }
  return lines
}

async function serve (o: CliOptions, argv: string[], err: (s: string) => void): Promise<number> {
  const daemonChild = process.env[DAEMON_ENV] === '1' && process.send !== undefined
  if (o.daemon && !daemonChild) return await daemonize(argv, o.pidFile, err)
  // Loaded lazily so that -c works on its own.
  const serveModule = await import('./serve.js') as { runGateway: (files: string[], opts: GatewayRunOptions) => Promise<NodeJS.Signals | null> }
  let oldStopped = false
  const stopOld = (): void => {
    if (o.oldPids === null || oldStopped) return
    oldStopped = true
    for (const pid of stopOldProcesses(o.oldPids.pids, o.oldPids.signal)) {
      if (!o.quiet) err(`[WARNING]  (${process.pid}) : Failed to send signal to old process ${pid}.`)
    }
  }
  const ready = async (): Promise<void> => {
    if (o.pidFile !== null && !daemonChild) writePidFile(o.pidFile, process.pid)
    stopOld()
    if (daemonChild) {
      process.send!({ ready: true } satisfies DaemonMessage)
      process.disconnect()
      detachOutput()
    }
    if (o.master === 'systemd' && process.env.NOTIFY_SOCKET !== undefined && !await notifySystemd('READY=1')) {
      err(`[WARNING]  (${process.pid}) : -Ws: could not notify systemd: neither systemd-notify nor socat could send to $NOTIFY_SOCKET.`)
    }
  }
  let signal: NodeJS.Signals | null
  try {
    signal = await serveModule.runGateway(o.files, { quiet: o.quiet, zeroWarning: o.zeroWarning, ready, ...(o.oldPids !== null ? { addressInUse: stopOld } : {}), ...(o.masterCli !== null ? { masterCli: o.masterCli } : {}) })
  } catch (e) {
    if (daemonChild) process.send!({ failed: `[ALERT]    (${process.pid}) : ${(e as Error).message}` } satisfies DaemonMessage)
    throw e
  }
  return o.master !== false ? masterExitStatus(signal) : 0
}

async function main (argv: string[]): Promise<number> {
  const out = (s: string): void => { process.stdout.write(s + '\n') }
  const err = (s: string): void => { process.stderr.write(s + '\n') }
  if (argv[0] === 'explain') {
    const { runExplain } = await import('./explain-cli.js')
    return await runExplain(argv.slice(1), out, err)
  }
  const o = parseArgv(argv)
  if (o.bad !== null) {
    err(`[ALERT]    (${process.pid}) : ${o.bad}`)
    err(USAGE)
    return 1
  }
  if (o.version > 0) {
    for (const line of versionText(o.version > 1)) out(line)
    return 0
  }
  if (o.help || o.files.length === 0) {
    err(USAGE)
    return 1
  }
  if (o.check) return runCheck(o.files, o, out, err)
  return await serve(o, argv, err)
}

main(process.argv.slice(2)).then(
  code => { process.exitCode = code },
  (e: unknown) => {
    process.stderr.write(`[ALERT]    (${process.pid}) : ${e instanceof Error ? e.message : String(e)}\n`)
    process.exitCode = 1
  }
)
