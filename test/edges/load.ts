// Keep-alive clients in a loop, for what happens to traffic while the gateway stops.

import net from 'node:net'

export interface LoadResult {
  /** Answers received, by status. */
  statuses: Map<number, number>
  /** Requests sent that got no answer (the connection closed under them), and socket errors. */
  lost: number
  /** Connections whose last answer said `connection: close` before the gateway closed them. */
  toldToClose: number
  /** Answers that said keep-alive and after which the connection was closed anyway with a request pending. */
  connections: number
}

/**
 * `clients` connections, each sending `request` again as soon as the previous answer is in,
 * until the gateway closes it. `onWarm` runs once every client has had `warm` answers.
 */
export async function keepAliveLoad (port: number, request: string, clients: number, warm: number, onWarm: () => void): Promise<LoadResult> {
  const result: LoadResult = { statuses: new Map(), lost: 0, toldToClose: 0, connections: clients }
  let warmed = 0
  const one = async (): Promise<void> => await new Promise(resolve => {
    let buf = Buffer.alloc(0)
    let answered = 0
    let pending = false
    let closeSaid = false
    const socket = net.connect(port, '127.0.0.1', () => { send() })
    const send = (): void => { pending = true; socket.write(request) }
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buf.subarray(0, end).toString('latin1')
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
        if (buf.length < end + 4 + length) return
        buf = buf.subarray(end + 4 + length)
        const status = Number(head.slice(9, 12))
        result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1)
        pending = false
        closeSaid = /\r\nconnection: *close/i.test(head)
        if (++answered === warm && ++warmed === clients) onWarm()
        if (!closeSaid) send()
      }
    })
    socket.on('error', () => { result.lost++ })
    socket.on('close', () => {
      if (pending) result.lost++
      if (closeSaid) result.toldToClose++
      resolve()
    })
  })
  await Promise.all(Array.from({ length: clients }, one))
  return result
}
