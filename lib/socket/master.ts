// The master CLI (`haproxy -W -S <address>`, management.txt §9.4), for a single process: the
// worker's commands are reached with a `@1` or `@!<pid>` prefix (this process), the master's own
// (`show proc`, `reload`, `show cli level` …) without one or with `@master`. Texts recorded
// from haproxy 2.6.12.

import { runCommand, type CliRuntime, type CliSession } from './commands.js'
import { INFO_VERSION } from './info.js'

const MASTER_HELP = [
  '  @!<pid>                                 : send a command to the <pid> process',
  '  @<relative pid>                         : send a command to the <relative pid> process',
  '  @master                                 : send a command to the master process',
  '  operator                                : lower the level of the current CLI session to operator',
  '  reload                                  : reload haproxy',
  '  show cli level                          : display the level of the current CLI session',
  '  show cli sockets                        : dump list of cli sockets',
  '  show proc                               : show processes status',
  '  show version                            : show version of the current process',
  '  user                                    : lower the level of the current CLI session to user',
  '  help [<command>]                        : list matching or all commands',
  '  prompt                                  : toggle interactive mode with prompt',
  '  quit                                    : disconnect'
]

function uptime (ms: number): string {
  const s = Math.floor(ms / 1000)
  return `${Math.floor(s / 86400)}d${String(Math.floor(s / 3600) % 24).padStart(2, '0')}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`
}

/** `show proc`: this one process is master and worker at once. */
function showProc (rt: CliRuntime): string {
  const up = uptime(Date.now() - rt.info().startedAt)
  const row = (pid: number | string, type: string, reloads: string): string =>
    `${String(pid).padEnd(16)}${type.padEnd(16)}${reloads.padEnd(16)}${up.padEnd(16)}${INFO_VERSION}\n`
  return '#<PID>          <type>          <reloads>       <uptime>        <version>      \n' +
    row(process.pid, 'master', '0 [failed: 0]') + '# workers\n' + row(process.pid, 'worker', '0') + '# programs\n\n'
}

function masterCommand (rt: CliRuntime, words: string[], session: CliSession): string {
  const line = words.join(' ')
  switch (line) {
    case 'show proc': return showProc(rt)
    case 'show cli level': case 'show version': case 'prompt': case 'quit': case 'user': case 'operator':
      return runCommand(rt, words, session)
    case 'reload':
      process.kill(process.pid, 'SIGUSR2')
      return ''
    case 'help': return ['The following commands are valid at this level:', ...MASTER_HELP].join('\n') + '\n\n'
  }
  const first = words[0] ?? ''
  const hits = MASTER_HELP.filter(l => l.slice(2).startsWith(first) && first !== '')
  return ['Unknown command, but maybe one of the following ones is a better match:', ...(hits.length > 0 ? hits : MASTER_HELP)].join('\n') + '\n\n'
}

/** One command received on the master CLI. */
export function runMasterCommand (rt: CliRuntime, words: string[], session: CliSession, payload: string[] | null): string {
  const target = words[0] ?? ''
  if (!target.startsWith('@')) return masterCommand(rt, words, session)
  const rest = words.slice(1)
  if (target === '@master') return masterCommand(rt, rest, session)
  if (target === '@1' || target === `@!${process.pid}`) return runCommand(rt, rest, session, payload)
  return `Can't find the target PID matching the prefix '${target}'\n`
}
