// One process under test for bench/proxy-throughput.ts, started as a child so that it can be
// pinned to its own CPU and its CPU time read from /proc/PID/stat:
//   upstream <port> [<port>…]             bare node:http servers answering a 31-byte JSON
//   http-proxy <port> <upstream-port>     Fastify + @fastify/http-proxy to one upstream
//   plugin <port> <config-file> [<setup>] Fastify + our plugin (frontend `main`); setup:
//                                         `onRequest` the gateway decides in onRequest (HAProxy first),
//                                         `preParsing` the default, named,
//                                         `app-noop` an app onRequest hook that does nothing,
//                                         `app-header` an app onRequest hook sets a header (merged)
// Prints `ready` once listening.

import { createServer } from 'node:http'

const BODY = '{"hello":"world","n":123456789}'

const [variant, portArg, arg] = process.argv.slice(2)
const port = Number(portArg)

async function start (): Promise<void> {
  switch (variant) {
    case 'upstream': {
      for (const p of process.argv.slice(3).map(Number)) {
        await new Promise<void>(resolve => createServer((_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length })
          res.end(BODY)
        }).listen(p, '127.0.0.1', resolve))
      }
      return
    }
    case 'http-proxy': {
      const { default: Fastify } = await import('fastify')
      const { default: httpProxy } = await import('@fastify/http-proxy')
      const app = Fastify({ logger: false })
      await app.register(httpProxy, { upstream: `http://127.0.0.1:${arg}` })
      await app.listen({ port, host: '127.0.0.1' })
      return
    }
    case 'plugin': {
      const { default: Fastify } = await import('fastify')
      const { default: haproxyRouter } = await import('fastify-haproxy')
      const setup = process.argv[5]
      const app = Fastify({ logger: false })
      if (setup === 'app-noop') app.addHook('onRequest', (_request, _reply, done) => { done() })
      if (setup === 'app-header') app.addHook('onRequest', (_request, reply, done) => { reply.header('x-app', 'bench'); done() })
      await app.register(haproxyRouter, { configFile: arg, frontend: 'main', ...(setup === 'onRequest' ? { hook: 'onRequest' as const } : {}) })
      await app.listen({ port, host: '127.0.0.1' })
      return
    }
    default:
      throw new Error(`unknown variant ${variant}`)
  }
}

start().then(() => console.log('ready'), (err: Error) => {
  console.error(err.message.split('\n')[0])
  process.exit(1)
})
