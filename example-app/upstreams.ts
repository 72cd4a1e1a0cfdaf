// The example's demo upstreams, standing in for the seed config's servers: one static file
// server (`backend static`) and two app servers that say their name (`backend app`).
// `npm start` starts them itself; for the standalone CLI run them on their own:
//   node --import tsx example-app/upstreams.ts

import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { AddressInfo } from 'node:net'

const publicDir = fileURLToPath(new URL('./public/', import.meta.url))

const contentTypes: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8'
}

export interface UpstreamPorts {
  static: number
  app1: number
  app2: number
}

/** The ports the example's haproxy.cfg expects, from the same variables it expands. */
export function upstreamPortsFromEnv (env: NodeJS.ProcessEnv = process.env): UpstreamPorts {
  return {
    static: Number(env.EXAMPLE_STATIC_PORT ?? 8001),
    app1: Number(env.EXAMPLE_APP1_PORT ?? 8002),
    app2: Number(env.EXAMPLE_APP2_PORT ?? 8003)
  }
}

/** Serves example-app/public/ and says so in `x-served-by`; never leaves public/. */
function staticServer (): Server {
  return createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0])
    const file = normalize(join(publicDir, path))
    res.setHeader('x-served-by', 'static')
    if (!file.startsWith(publicDir)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('static: forbidden\n')
      return
    }
    readFile(file).then(body => {
      res.writeHead(200, { 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream' })
      res.end(req.method === 'HEAD' ? undefined : body)
    }, () => {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`static: no file ${path}\n`)
    })
  })
}

/** An app server that answers every request with its own name, the path and what the proxy added. */
function appServer (name: string): Server {
  return createServer((req, res) => {
    const body = `Hello from ${name}: ${req.method} ${req.url}` +
      (req.headers['x-forwarded-for'] === undefined ? '' : ` (x-forwarded-for: ${req.headers['x-forwarded-for']})`) + '\n'
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-served-by': name })
    res.end(body)
  })
}

export interface Upstreams {
  ports: UpstreamPorts
  close (): Promise<void>
}

function listen (server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
  })
}

/** Starts the three demo servers on 127.0.0.1 (port 0 picks a free one). */
export async function startUpstreams (ports: UpstreamPorts = upstreamPortsFromEnv()): Promise<Upstreams> {
  const servers = [staticServer(), appServer('app1'), appServer('app2')]
  try {
    const [s, a1, a2] = await Promise.all([
      listen(servers[0], ports.static), listen(servers[1], ports.app1), listen(servers[2], ports.app2)
    ])
    return {
      ports: { static: s, app1: a1, app2: a2 },
      async close () {
        await Promise.all(servers.map(srv => new Promise<void>(resolve => {
          srv.close(() => resolve())
          srv.closeAllConnections()
        })))
      }
    }
  } catch (err) {
    for (const srv of servers) if (srv.listening) srv.close()
    throw err
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const up = await startUpstreams()
  console.log(`static  http://127.0.0.1:${up.ports.static}  (serves example-app/public/)`)
  console.log(`app1    http://127.0.0.1:${up.ports.app1}`)
  console.log(`app2    http://127.0.0.1:${up.ports.app2}`)
  console.log('Now, in another terminal: npx fastify-haproxy -f example-app/haproxy.cfg   (Ctrl-C stops these)')
  const stop = (): void => { up.close().then(() => process.exit(0), () => process.exit(1)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
