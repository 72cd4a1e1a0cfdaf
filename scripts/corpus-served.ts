// How many real-world configs the CLI serves whole: of a corpus of configs with HAProxy 2.6's
// verdict on each (`verdicts.json`, `configs/NNN.cfg`), the files HAProxy finds valid in their
// text (every category but `invalid-syntax`: a missing file or host name is the machine's), run
// through `fastify-haproxy -c` each alone in a fresh directory. A file is served whole when no
// line of it is refused ("is not supported by fastify-haproxy") or accepted and ignored ("has no
// effect", "is ignored" …), apart from settings that have no meaning
// for a Node process: its identity and management (user, chroot, daemon, pidfile …), threads,
// the TLS library's tuning, the runtime socket's owner.
//
//   npm run build && node --import tsx scripts/corpus-served.ts <corpus dir>
//
// Prints the count, then each keyword that keeps files from being served whole, with the files.

import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const CLI = new URL('../dist/cli.js', import.meta.url).pathname

/** Settings with no meaning for a Node process: their warnings do not count. */
const NODE_MEANINGLESS = new Set([
  'user', 'group', 'uid', 'gid', 'chroot', 'daemon', 'pidfile', 'master-worker', 'mworker-max-reloads', 'zero-warning', 'quiet',
  'ulimit-n', 'strict-limits', 'insecure-fork-wanted', 'insecure-setuid-wanted', 'nbthread', 'cpu-map', 'thread-groups',
  'numa-cpu-mapping', 'busy-polling', 'stats bind-process', "'stats socket' option 'user'", "'stats socket' option 'group'",
  "'stats socket' option 'mode'"
])

/** What a diagnostic line of ours says is refused or ignored: its keyword, or null. */
function blocker (line: string): string | null {
  if (!line.includes('fastify-haproxy')) return null
  const message = line.replace(/^\[[A-Z]+\]\s+\(\d+\) : (config : )?/, '').replace(/^parsing \[[^\]]*\] : /, '')
  const keyword = /^'stats socket' option '[^']+'/.exec(message)?.[0] ??
    /(converter|fetch method) '[^']+'/.exec(message)?.[0] ??
    /^'([^']+)'/.exec(message)?.[1] ?? message.slice(0, 60)
  if (NODE_MEANINGLESS.has(keyword) || /^(tune\.ssl\.|ssl-)/.test(keyword)) return null
  return keyword
}

const corpus = process.argv[2]
if (corpus === undefined) {
  process.stderr.write('usage: node --import tsx scripts/corpus-served.ts <corpus dir>\n')
  process.exit(2)
}
const verdicts = JSON.parse(readFileSync(join(corpus, 'verdicts.json'), 'utf8')) as Record<string, { category: string }>
const blocked = new Map<string, string[]>()
let counted = 0
let whole = 0
for (const [id, verdict] of Object.entries(verdicts)) {
  if (verdict.category === 'invalid-syntax') continue
  counted++
  const dir = mkdtempSync(join(tmpdir(), 'corpus-served-'))
  try {
    copyFileSync(join(corpus, 'configs', `${id}.cfg`), join(dir, `${id}.cfg`))
    const run = spawnSync(process.execPath, [CLI, '-c', '-f', `${id}.cfg`], { cwd: dir, encoding: 'utf8', timeout: 30_000 })
    const keywords = new Set(`${run.stderr}\n${run.stdout}`.split('\n').map(blocker).filter((k): k is string => k !== null))
    if (keywords.size === 0) whole++
    for (const k of keywords) blocked.set(k, [...(blocked.get(k) ?? []), id])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
process.stdout.write(`${whole} of ${counted} served whole\n`)
for (const [k, ids] of [...blocked].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))) {
  process.stdout.write(`${String(ids.length).padStart(3)}  ${k}  (${ids.join(' ')})\n`)
}
