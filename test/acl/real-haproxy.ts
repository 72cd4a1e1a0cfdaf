// Real HAProxy on loopback for parity tests: start `haproxy -db -f cfg` on a free port, send
// requests over fresh connections, stop it. Tests skip their HAProxy half when it is missing.

import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { freePort } from '../differential/harness.js'

export const haproxyInstalled = spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0

export interface SentRequest {
  method?: string
  url: string
  headers?: Record<string, string | string[]>
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export function send (port: number, req: SentRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { host: 'h.test', connection: 'close', ...req.headers }
    const r = request({ host: '127.0.0.1', port, method: req.method ?? 'GET', path: req.url, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('latin1')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    r.on('error', reject)
    r.end()
  })
}

/** Runs `fn` against haproxy serving `config(port)`; the process is killed afterwards. */
export async function withHaproxy<T> (file: string, config: (port: number) => string, fn: (port: number) => Promise<T>): Promise<T> {
  const port = await freePort()
  writeFileSync(file, config(port))
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString() })
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`haproxy exited: ${stderr}`)
      const up = await new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
        s.on('error', () => resolve(false))
      })
      if (up) break
      if (i > 100) throw new Error(`haproxy did not listen: ${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return await fn(port)
  } finally {
    child.kill('SIGKILL')
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
  }
}
