// `npm start`: a small Fastify monolith with routes of its own, put behind the seed note's
// haproxy.cfg by registering the plugin. Its demo upstreams run in this process too.
// Ports: EXAMPLE_PORT (8080), EXAMPLE_STATS_PORT (9000), EXAMPLE_STATIC_PORT (8001),
// EXAMPLE_APP1_PORT (8002), EXAMPLE_APP2_PORT (8003) — the same variables haproxy.cfg expands.

import Fastify from 'fastify'
import haproxyRouter from 'fastify-haproxy'
import { fileURLToPath } from 'node:url'
import { relative } from 'node:path'
import { startUpstreams } from './upstreams.js'

const configFile = fileURLToPath(new URL('./haproxy.cfg', import.meta.url))
const port = Number(process.env.EXAMPLE_PORT ?? 8080)
const statsPort = Number(process.env.EXAMPLE_STATS_PORT ?? 9000)

const upstreams = await startUpstreams()

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })

// The app's own routes: served here unless a `use_backend` rule claims the request first.
app.get('/api/hello', async () => ({ hello: 'from the Fastify app itself', pid: process.pid }))
app.get('/api/time', async () => ({ now: new Date().toISOString() }))

// The frontend's rules see every request of the app; `default_backend app` receives what
// no route of the app matches (instead of Fastify's 404).
await app.register(haproxyRouter, { configFile })

try {
  await app.listen({ port, host: '127.0.0.1' })
} catch (err) {
  await upstreams.close()
  throw err
}

const base = `http://127.0.0.1:${port}`
const cfg = relative(process.cwd(), configFile) || configFile
console.log(`
fastify-haproxy example: a Fastify app at ${base} behind ${cfg}
  demo upstreams on 127.0.0.1: static :${upstreams.ports.static}, app1 :${upstreams.ports.app1}, app2 :${upstreams.ports.app2}

Try:
  # the app's own routes
  curl ${base}/api/hello
  curl ${base}/api/time

  # roundrobin: no app route matches /, so default_backend app alternates app1 and app2
  for i in 1 2 3 4; do curl -s ${base}/; done

  # the static split: url_static (path_beg /static /images …, path_end .png .css …) goes to backend static
  curl -sI ${base}/images/logo.png
  curl -s ${base}/static/style.css
  curl -s ${base}/api/avatar.png        # use_backend wins over the app's /api routes

  # the stats page (HAProxy's, user admin, password admin); ;csv for scripts
  curl -s -u admin:admin '${base}/haproxy_stats;csv'
  open ${base}/haproxy_stats in a browser

  # the same config, served by the standalone CLI (run in a second terminal: it reuses these
  # upstreams; the ports are moved so that they do not clash with this app)
  npx fastify-haproxy -c -f ${cfg}
  EXAMPLE_PORT=8081 EXAMPLE_STATS_PORT=9001 npx fastify-haproxy -f ${cfg}
  # then: curl http://127.0.0.1:8081/ and http://127.0.0.1:9001/haproxy_stats (admin/admin)
  # without this app running: node --import tsx example-app/upstreams.ts, then
  # npx fastify-haproxy -f ${cfg}  (frontend on :${port}, stats on :${statsPort})

Ctrl-C stops.
`)

let stopping = false
async function stop (): Promise<void> {
  if (stopping) return
  stopping = true
  await app.close()
  await upstreams.close()
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stop().then(() => process.exit(0), err => {
      console.error(err)
      process.exit(1)
    })
  })
}
