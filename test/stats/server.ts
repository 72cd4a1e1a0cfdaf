// A Fastify app serving one stats page on 127.0.0.1, and a raw HTTP/1.1 client that sends the
// request target byte for byte (for the bypass attempts: `//s`, `/%73`, absolute-form …).

import net from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import { compileProxy } from '../../lib/acl/compile.js'
import type { ParsedConfig, Proxy } from '../../lib/config/model.js'
import type { AdminHandler, StatsModel } from '../../lib/stats/model.js'
import { statsRoutes } from '../../lib/stats/routes.js'

export function configOf (proxies: Proxy[]): ParsedConfig {
  return { files: ['test.cfg'], global: { ignored: [], stats: { sockets: [] }, logs: [] }, proxies, userlists: [], httpErrors: [], diagnostics: [] }
}

export async function startStats (proxy: Proxy, model: () => StatsModel, admin?: AdminHandler, now?: () => number): Promise<{ app: FastifyInstance, port: number }> {
  const app = Fastify()
  const needsRules = proxy.stats !== null && (proxy.stats.admin !== null || proxy.stats.httpRequest.length > 0)
  await app.register(statsRoutes, {
    proxy,
    model,
    ...(admin !== undefined ? { admin } : {}),
    ...(now !== undefined ? { now } : {}),
    ...(needsRules ? { rules: compileProxy(proxy, configOf([proxy])) } : {})
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as net.AddressInfo).port
  return { app, port }
}

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** One request on a fresh connection, the target sent verbatim. */
export async function raw (port: number, method: string, target: string, headers: Record<string, string> = {}, body = ''): Promise<RawResponse> {
  return await new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    let data = ''
    sock.setEncoding('latin1')
    sock.on('connect', () => {
      let head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`
      for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`
      if (body !== '') head += `Content-Length: ${Buffer.byteLength(body)}\r\n`
      sock.write(head + '\r\n' + body)
    })
    sock.on('data', (d: string) => { data += d })
    sock.on('error', reject)
    sock.on('end', () => {
      const end = data.indexOf('\r\n\r\n')
      const lines = data.slice(0, end).split('\r\n')
      const status = Number(lines[0].split(' ')[1])
      const hdrs: Record<string, string> = {}
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':')
        hdrs[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
      }
      let rest = data.slice(end + 4)
      if (hdrs['transfer-encoding'] === 'chunked') {
        let out = ''
        while (rest.length > 0) {
          const nl = rest.indexOf('\r\n')
          const size = parseInt(rest.slice(0, nl), 16)
          if (size === 0 || Number.isNaN(size)) break
          out += rest.slice(nl + 2, nl + 2 + size)
          rest = rest.slice(nl + 2 + size + 2)
        }
        rest = out
      }
      resolve({ status, headers: hdrs, body: rest })
    })
  })
}

export const basic = (user: string, pass: string): Record<string, string> =>
  ({ authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') })
