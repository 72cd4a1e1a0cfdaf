// The package as an application gets it: `npm pack`, the tarball installed offline (from npm's
// cache) into a new app, then `import` and `require()` of it proxying a request to a real upstream.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { upstream } from './gateway/fixtures.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

interface PackedFile { path: string }
interface PackResult { filename: string, files: PackedFile[], integrity: string }
interface LockEntry { version?: string, dependencies?: Record<string, string>, peerDependencies?: Record<string, string>, peerDependenciesMeta?: Record<string, { optional?: boolean }>, optionalDependencies?: Record<string, string>, dev?: boolean, [k: string]: unknown }
interface Lockfile { packages: Record<string, LockEntry> }

/**
 * The app's package-lock: the entries of the project's own lockfile that the given dependencies
 * need (resolved as node does, from the nested node_modules up), so that `npm ci --offline` takes
 * every tarball from npm's cache (the project's `npm ci` put them there) and asks no registry.
 */
function appLockfile (project: Lockfile, deps: Record<string, string>, extra: Record<string, LockEntry>): Lockfile {
  const packages: Record<string, LockEntry> = { '': { name: 'app', version: '1.0.0', dependencies: deps }, ...extra }
  const resolve = (from: string, name: string): string | null => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules')))) {
      const key = (dir === '' ? '' : dir + '/') + 'node_modules/' + name
      if (packages[key] !== undefined || project.packages[key] !== undefined) return key
      if (dir === '') return null
    }
  }
  const visit = (from: string, wanted: Record<string, string>, optional: (name: string) => boolean): void => {
    for (const name of Object.keys(wanted)) {
      const key = resolve(from, name)
      if (key === null) {
        if (optional(name)) continue
        throw new Error(`${name} (needed by ${from || 'the app'}) is not in the project's lockfile`)
      }
      if (packages[key] !== undefined) continue
      const { dev: _dev, devOptional: _devOptional, ...entry } = project.packages[key]!
      packages[key] = entry
      const meta = entry.peerDependenciesMeta ?? {}
      visit(key, { ...entry.dependencies, ...entry.peerDependencies }, n => meta[n]?.optional === true)
      visit(key, entry.optionalDependencies ?? {}, () => true)
    }
  }
  for (const [key, entry] of Object.entries(extra)) visit(key, { ...entry.dependencies, ...entry.peerDependencies }, () => false)
  visit('', deps, () => false)
  return { name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages } as unknown as Lockfile
}

/** The app: registers the plugin from `fastify-haproxy`, listens on port 0, prints a GET through it. */
function appSource (kind: 'esm' | 'cjs'): string {
  const load = kind === 'esm'
    ? "import Fastify from 'fastify'\nimport haproxyRouter, { parseConfig } from 'fastify-haproxy'\n"
    : "const Fastify = require('fastify')\nconst haproxyRouter = require('fastify-haproxy')\nconst { parseConfig } = require('fastify-haproxy')\n"
  return `${load}
const main = async () => {
  if (typeof parseConfig !== 'function') throw new Error('named exports missing')
  const app = Fastify()
  app.get('/own', async () => 'own route')
  await app.register(haproxyRouter, { configFile: process.argv[2] })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address()
  const proxied = await fetch('http://127.0.0.1:' + port + '/api/x')
  const own = await fetch('http://127.0.0.1:' + port + '/own')
  console.log(JSON.stringify({ status: proxied.status, servedBy: proxied.headers.get('x-served-by'), own: await own.text() }))
  await app.close()
}
main().catch((err) => { console.error(err); process.exitCode = 1 })
`
}

test('npm pack → offline install in a new app → ESM import and CommonJS require() proxy a request', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fastify-haproxy-pack-'))
  const up = await upstream('packed')
  t.after(async () => { await up.close(); await rm(dir, { recursive: true, force: true }) })

  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', dir], { cwd: root, maxBuffer: 16 << 20 })
  const packed = (JSON.parse(stdout) as PackResult[])[0]!
  const shipped = new Set(packed.files.map(f => f.path))
  assert.ok(shipped.has('LICENSE'), 'the licence is in the tarball')
  assert.ok(shipped.has('dist/index.js') && shipped.has('dist/cli.js') && shipped.has('dist/index.d.ts'))
  assert.ok(![...shipped].some(p => p.startsWith('test/') || p.startsWith('lib/')), 'only the build is shipped')

  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    peerDependencies?: Record<string, string>, dependencies?: Record<string, string>, devDependencies: Record<string, string>, bin: Record<string, string>
  }
  assert.ok(pkg.peerDependencies?.fastify !== undefined, 'fastify is a peer dependency')
  assert.equal(pkg.dependencies?.fastify, undefined, 'and not a dependency of its own (one fastify per app)')

  const app = join(dir, 'app')
  await run('mkdir', ['-p', app])
  const fastifyVersion = pkg.devDependencies.fastify!.replace(/^\^/, '')
  const deps = { 'fastify-haproxy': `file:../${packed.filename}`, fastify: fastifyVersion }
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: deps }))
  const project = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as Lockfile
  const self: LockEntry = {
    version: '0.1.0', resolved: `file:../${packed.filename}`, integrity: packed.integrity,
    dependencies: pkg.dependencies ?? {}, peerDependencies: pkg.peerDependencies ?? {}, bin: pkg.bin
  }
  await writeFile(join(app, 'package-lock.json'), JSON.stringify(appLockfile(project, deps, { 'node_modules/fastify-haproxy': self }), null, 2))
  await run(npm, ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app, maxBuffer: 16 << 20 })

  const installed = join(app, 'node_modules', 'fastify-haproxy')
  for (const file of shipped) {
    if (!file.endsWith('.map')) continue
    const map = JSON.parse(await readFile(join(installed, file), 'utf8')) as { sources: string[], sourcesContent?: Array<string | null> }
    map.sources.forEach((source, i) => {
      const inline = typeof map.sourcesContent?.[i] === 'string'
      const present = existsSync(join(installed, file, '..', source))
      assert.ok(inline || present, `${file}: source ${source} is neither inline nor shipped`)
    })
  }

  const cfg = join(app, 'haproxy.cfg')
  await writeFile(cfg, `defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend fe\n    bind 127.0.0.1:8080\n    use_backend api if { path_beg /api }\nbackend api\n    server s1 ${up.addr}\n`)
  await writeFile(join(app, 'esm.mjs'), appSource('esm'))
  await writeFile(join(app, 'cjs.cjs'), appSource('cjs'))
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const out = await run(process.execPath, [file, cfg], { cwd: app })
    assert.deepEqual(JSON.parse(out.stdout), { status: 200, servedBy: 'packed', own: 'own route' }, file)
  }

  const check = await run(join(app, 'node_modules', '.bin', 'fastify-haproxy'), ['-c', '-f', cfg], { cwd: app })
  assert.match(check.stdout, /Configuration file is valid/, 'the installed bin runs')
})

test('prepare does not rebuild an up-to-date dist/ (npx fastify-haproxy in a clone runs it each time)', async () => {
  const index = join(root, 'dist', 'index.js')
  const before = statSync(index).mtimeMs
  await run(process.execPath, [join(root, 'lib', 'build-if-stale.mjs')], { cwd: root })
  assert.equal(statSync(index).mtimeMs, before, 'dist/ was left alone')
})
