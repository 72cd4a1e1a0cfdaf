// `default-path { current | config | parent | origin <path> }` (configuration.txt §3.1): where
// the relative file names of the lines after it are read (errorfiles, pattern and map files). A
// setting holds until the next one, in the files read after it too, and `config`/`parent` follow
// the file being read. The CLI (dist/cli.js) and real HAProxy 2.6 run the same two files from
// the same working directory.

import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { haproxyInstalled } from '../acl/real-haproxy.js'
import { freePorts, get, waitListening } from '../gateway/fixtures.js'

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), 'default-path-'))
after(() => rmSync(root, { recursive: true, force: true }))

// each directory holds an errorfile, a map and a pattern file saying where they are
const place = (dir: string, name: string): void => {
  mkdirSync(join(root, dir), { recursive: true })
  writeFileSync(join(root, dir, 'e.http'), `HTTP/1.0 503 Service Unavailable\r\ncontent-type: text/plain\r\n\r\nfrom ${name}\n`)
  writeFileSync(join(root, dir, 'm.map'), `/map ${name}\n`)
  writeFileSync(join(root, dir, 'l.acl'), `/listed-${name}\n`)
}
place('.', 'top')
place('run', 'run')
place('conf', 'conf')
place('conf/sub', 'sub')
place('conf2', 'conf2')
place('origin', 'origin')

// HAProxy keeps one copy of an errorfile per name as written: each backend writes it its own way
const first = (port: number): string => `global
    default-path current
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
backend current
    errorfile 503 e.http
global
    default-path config
backend config
    errorfile 503 ./e.http
global
    default-path origin ${join(root, 'origin')}
backend origin
    errorfile 503 .//e.http
global
    default-path parent
backend parent
    errorfile 503 ././e.http
frontend fe
    bind 127.0.0.1:${port}
    acl listed path -f l.acl
    http-request return status 200 content-type text/plain lf-string "map=%[path,map(m.map,none)]" if { path /map }
    http-request return status 200 content-type text/plain string listed if listed
    use_backend %[path,field(2,/)]
`
// read after the first file: parent still holds, of this file's directory
const second = `backend second
    errorfile 503 .///e.http
`

async function check (port: number): Promise<void> {
  const text = async (path: string): Promise<string> => (await get(port, path)).text.trim()
  assert.equal(await text('/current'), 'from run')
  assert.equal(await text('/config'), 'from sub')
  assert.equal(await text('/origin'), 'from origin')
  assert.equal(await text('/parent'), 'from conf')
  assert.equal(await text('/second'), 'from top')
  assert.equal(await text('/map'), 'map=conf')
  assert.equal(await text('/listed-conf'), 'listed')
  assert.equal((await get(port, '/listed-run')).status, 503)
}

async function run (command: string, args: string[]): Promise<void> {
  const port = await freePorts()
  writeFileSync(join(root, 'conf/sub/a.cfg'), first(port))
  writeFileSync(join(root, 'conf2/b.cfg'), second)
  const child: ChildProcess = spawn(command, [...args, '-f', '../conf/sub/a.cfg', '-f', '../conf2/b.cfg'], { cwd: join(root, 'run'), stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  try {
    await waitListening(port).catch((err: Error) => { throw new Error(`${err.message}: ${stderr}`) })
    await check(port)
  } finally {
    child.kill('SIGKILL')
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
  }
}

describe('default-path', () => {
  test('through the CLI', async () => {
    await run(process.execPath, [CLI])
  })

  test('through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, async () => {
    await run('haproxy', ['-db'])
  })

  test("HAProxy's alerts", () => {
    const check = (line: string): string => {
      const file = join(root, 'bad.cfg')
      writeFileSync(file, `global\n    ${line}\n`)
      const r = spawnSync(process.execPath, [CLI, '-c', '-f', file], { cwd: root, encoding: 'utf8' })
      return r.stderr.split('\n').find((l) => l.includes('ALERT'))?.replace(/^.*\] : /, '') ?? ''
    }
    assert.equal(check('default-path'), "missing default-path mode '' for 'default-path', supported modes include 'current', 'config', 'parent', and 'origin'.")
    assert.equal(check('default-path here'), "unsupported default-path mode 'here' for 'default-path', supported modes include 'current', 'config', 'parent', and 'origin'.")
    assert.equal(check('default-path origin'), "'default-path origin' expects a directory as an argument.")
    assert.equal(check('default-path origin nowhere'), `couldn't set 'default-path' to origin 'nowhere': Impossible to get back to directory '${root}': No such file or directory.`)
  })
})
