// Raw TCP upstreams and clients for the mode tcp tests.

import net from 'node:net'
import { startRawUpstream } from '../differential/harness.js'

/** A `defaults` section for the tests' configs: mode tcp and short timeouts. */
export const TCP_DEFAULTS = 'defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n'

/** An upstream that says its name, then echoes; it answers the client's FIN with its own. */
export async function echo (name: string): Promise<{ port: number, close (): Promise<void>, connections: () => number }> {
  let n = 0
  const up = await startRawUpstream((s) => {
    n++
    s.write(`${name}:`)
    s.on('data', d => s.write(d))
    s.on('end', () => s.end())
  })
  return { ...up, connections: () => n }
}

/** Connects, sends `data`, half-closes, and reads until the proxy closes. */
export async function exchange (port: number, data: string | Buffer = 'hello'): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    s.on('data', c => chunks.push(c))
    s.on('end', () => { s.end(); resolve(Buffer.concat(chunks)) })
    s.on('error', reject)
    s.end(data)
  })
}
