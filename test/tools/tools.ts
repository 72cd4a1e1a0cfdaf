// The ops tools that speak the runtime API (hatop, Ansible's haproxy module, Prometheus'
// haproxy exporter), run for real against real HAProxy and against this package's CLI on the
// same config. Each is a Debian package (.ci/run installs them); a test skips, saying which
// package is missing, when one is not installed.

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { haproxyBin, startBoth, startUpstream, type Proxied, type Upstream } from '../differential/harness.js'
import { waitForSocket } from '../socket/client.js'

/** A skip reason when a program is missing (or real HAProxy, which every test compares with). */
export function needs (program: string, debianPackage: string): string | false {
  if (haproxyBin === null) return 'real haproxy is not installed (apt-get install haproxy): no comparison possible'
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' })
  return r.status === 0 ? false : `${program} is not installed (apt-get install ${debianPackage})`
}

/** Runs a program to its end (bounded), resolving its exit code and output. */
export function run (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${cmd} ${args.join(' ')} did not end in ${timeoutMs} ms:\n${stdout}\n${stderr}`)) }, timeoutMs)
    child.on('error', reject)
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

export interface Target {
  label: 'haproxy' | 'ours'
  proxy: Proxied
  /** The admin socket. */
  sock: string
}

/**
 * Real HAProxy and our CLI on the same config (`body(port, sock)` after the common head, the
 * socket at `sock`), two upstreams `web1` and `web2` (answering their name) behind them; both sockets answer before
 * `use` runs.
 */
export async function withBoth (body: (port: number, sock: string, web: Upstream[]) => string, use: (targets: Target[], web: Upstream[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fh-tools-'))
  // a fixed answer, the same number of bytes through both proxies
  const fixed = (name: string) => async () => await startUpstream(name, (_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(name) })
  const web = [await fixed('web1')(), await fixed('web2')()]
  const sockOf = (port: number): string => join(dir, `admin-${port}.sock`)
  const both = await startBoth(port => [
    'global',
    '    nbthread 1',
    `    stats socket ${sockOf(port)} level admin`,
    'defaults',
    '    mode http',
    '    timeout connect 1s',
    '    timeout client 5s',
    '    timeout server 5s',
    body(port, sockOf(port), web)
  ].join('\n') + '\n')
  try {
    const targets: Target[] = [
      { label: 'haproxy', proxy: both.haproxy, sock: sockOf(both.haproxy.port) },
      { label: 'ours', proxy: both.ours, sock: sockOf(both.ours.port) }
    ]
    for (const t of targets) await waitForSocket(t.sock)
    await use(targets, web)
  } finally {
    await both.stop()
    for (const w of web) await w.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
