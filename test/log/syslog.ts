// A UDP syslog receiver on 127.0.0.1 for tests: collects datagrams, waits for a count.

import dgram from 'node:dgram'
import type { AddressInfo } from 'node:net'
import { startProxy } from '../differential/harness.js'

export interface Syslog {
  port: number
  lines: string[]
  /** Resolves with the lines once `n` arrived (rejects after `ms`). */
  wait (n: number, ms?: number): Promise<string[]>
  close (): Promise<void>
}

export async function syslogServer (): Promise<Syslog> {
  const socket = dgram.createSocket('udp4')
  const lines: string[] = []
  const waiters: Array<() => void> = []
  socket.on('message', (m) => {
    lines.push(m.toString('latin1'))
    for (const w of waiters.splice(0)) w()
  })
  await new Promise<void>(resolve => socket.bind(0, '127.0.0.1', resolve))
  return {
    port: (socket.address() as AddressInfo).port,
    lines,
    async wait (n, ms = 5000) {
      const deadline = Date.now() + ms
      while (lines.length < n) {
        if (Date.now() > deadline) throw new Error(`waited for ${n} syslog lines, got ${lines.length}: ${JSON.stringify(lines)}`)
        await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 50) })
      }
      return lines.slice(0, n)
    },
    close: async () => { await new Promise<void>(resolve => socket.close(() => resolve())) }
  }
}

/**
 * Runs real HAProxy, then our CLI, on `config` (given its syslog receiver's port, then its own),
 * `drive` sending the same traffic to each; returns what `drive` made of each one's lines.
 */
export async function bothProxies (config: (syslog: number) => (port: number) => string, drive: (port: number, syslog: Syslog) => Promise<string[]>): Promise<{ haproxy: string[], ours: string[] }> {
  const seen = { haproxy: [] as string[], ours: [] as string[] }
  for (const label of ['haproxy', 'ours'] as const) {
    const syslog = await syslogServer()
    const proxy = await startProxy(label, config(syslog.port))
    try {
      seen[label] = await drive(proxy.port, syslog)
    } finally {
      await proxy.stop()
      await syslog.close()
    }
  }
  return seen
}
