// `prepare`: npm runs it after `npm install` in a clone, on `npm pack`, and again each time
// `npx fastify-haproxy` links the clone into npx's cache. Building only when a source is newer
// than the build keeps that last one instant (a full `tsc` takes many seconds on a small machine).

import { execFileSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function newest (dir) {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

function builtAt () {
  try {
    return statSync(join(root, 'dist', 'index.js')).mtimeMs
  } catch {
    return -1
  }
}

const sources = Math.max(newest(join(root, 'lib')), statSync(join(root, 'tsconfig.json')).mtimeMs)
if (builtAt() < sources) {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' })
}
