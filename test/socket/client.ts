// A runtime API client for the tests: what `socat stdio UNIX-CONNECT:path` does.

import { connect } from 'node:net'

/** Sends `text` on a fresh connection and reads until the proxy closes it. */
export function cli (path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(path)
    let out = ''
    c.setEncoding('latin1')
    c.on('data', (d: string) => { out += d })
    c.on('end', () => resolve(out))
    c.on('error', reject)
    c.setTimeout(8000, () => { c.destroy(); reject(new Error(`no end of answer to ${JSON.stringify(text)}: ${JSON.stringify(out)}`)) })
    c.end(text)
  })
}

/** The proxy creates its sockets once it listens; wait for them (generous bound). */
export async function waitForSocket (path: string): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await cli(path, 'show cli level\n')
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
}


/** One command sent at once to real HAProxy's socket and to ours: both answers. */
export async function askBoth (real: string, ours: string, command: string): Promise<{ real: string, ours: string }> {
  const [a, b] = await Promise.all([cli(real, command + '\n'), cli(ours, command + '\n')])
  return { real: a, ours: b }
}
