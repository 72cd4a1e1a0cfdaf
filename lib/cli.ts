#!/usr/bin/env node
// `fastify-haproxy` — the command line of haproxy(1) for this gateway (management.txt §3):
//   -c            check the configuration and exit (0 valid, 1 errors, 2 nothing to listen on)
//   -f FILE|DIR   configuration file, or a directory whose *.cfg are read in lexical order; repeatable
//   -q            quiet: print nothing          -dW  warnings are fatal (zero-warning)
//   -v / -vv      version                        -h   usage
// Without -c it serves the configuration (lib/serve.ts runGateway). A thin user of the library.

import { readFileSync, statSync } from 'node:fs'
import type { Diagnostic } from './config/model.js'
import { loadConfig } from './config/parse.js'
import { formatDiagnostic } from './config/diagnostics.js'
import { checkStages, NO_LISTENER } from './check.js'

interface CliOptions {
  check: boolean
  files: string[]
  quiet: boolean
  zeroWarning: boolean
  version: 0 | 1 | 2
  help: boolean
  bad: string | null
}

const USAGE = `Usage : fastify-haproxy [-f <cfgfile|cfgdir>]* [ -c ] [ -q ] [ -dW ] [ -v | -vv ] [-- <cfgfile>*]
        -f <cfgfile|cfgdir> loads a configuration file, or the *.cfg files of a directory; repeatable
        -c check mode : only check config files and exit (0 valid, 1 errors, 2 no listener)
        -q quiet mode : don't display messages
        -dW fails if any warning is emitted
        -v displays version ; -vv shows versions of the runtime too.
        -h shows this help.
Without -c, the configuration is served until SIGINT/SIGTERM.`

function parseArgv (argv: string[]): CliOptions {
  const o: CliOptions = { check: false, files: [], quiet: false, zeroWarning: false, version: 0, help: false, bad: null }
  for (let i = 0; i < argv.length; i++) {
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
    else if (a === '-f') {
      const f = argv[++i]
      if (f === undefined) {
        o.bad = "'-f' expects a configuration file or directory"
        break
      }
      o.files.push(f)
    } else if (a.startsWith('-f') && a.length > 2) o.files.push(a.slice(2))
    else if (a === '-db' || a === '-V') continue
    else {
      o.bad = `unknown option '${a}'`
      break
    }
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
  const config = loadConfig(files)
  const { parse, post } = checkStages(config)
  const diags = [...parse, ...post]
  // The global `quiet` / `zero-warning` keywords act like -q / -dW (§3.1).
  const quiet = o.quiet || config.global.ignored.some(k => k.keyword === 'quiet')
  const zeroWarning = o.zeroWarning || config.global.ignored.some(k => k.keyword === 'zero-warning')
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
  if (warnings && zeroWarning) {
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

async function main (argv: string[]): Promise<number> {
  const o = parseArgv(argv)
  const out = (s: string): void => { process.stdout.write(s + '\n') }
  const err = (s: string): void => { process.stderr.write(s + '\n') }
  if (o.bad !== null) {
    err(`[ALERT]    (${process.pid}) : ${o.bad}`)
    err(USAGE)
    return 1
  }
  if (o.version > 0) {
    out(`fastify-haproxy version ${version()} - reads HAProxy 2.6 configurations`)
    if (o.version > 1) out(`Running on: Node.js ${process.version} (${process.platform} ${process.arch})`)
    return 0
  }
  if (o.help || o.files.length === 0) {
    err(USAGE)
    return 1
  }
  if (o.check) return runCheck(o.files, o, out, err)
  // Loaded lazily so that -c works on its own.
  const serve = await import('./serve.js') as { runGateway: (files: string[], opts: { quiet?: boolean }) => Promise<void> }
  await serve.runGateway(o.files, { quiet: o.quiet })
  return 0
}

main(process.argv.slice(2)).then(
  code => { process.exitCode = code },
  (e: unknown) => {
    process.stderr.write(`[ALERT]    (${process.pid}) : ${e instanceof Error ? e.message : String(e)}\n`)
    process.exitCode = 1
  }
)
