// One process under test for bench/proxy-throughput.ts, started as a child so that it can be
// pinned to its own CPU and its CPU time read from /proc/PID/stat:
//   upstream <port> [<port>…]             bare node:http servers answering a 31-byte JSON
//   http-proxy <port> <upstream-port>     Fastify + @fastify/http-proxy to one upstream
//   plugin <port> <config-file> [<setup>] Fastify + our plugin (frontend `main`); setups: bench/variant-app.ts
//   plugins <setup>=<port>=<config-file>… several of those apps in this one process, each on its
//                                         own port: variants measured in turn share the process
//                                         (the same JIT, heap and memory layout), so their
//                                         difference is theirs alone
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
      await plugin(port, arg, process.argv[5])
      return
    }
    case 'plugins': {
      for (const spec of process.argv.slice(3)) {
        const [setup, p, file] = spec.split('=')
        await plugin(Number(p), file, setup)
      }
      return
    }
    default:
      throw new Error(`unknown variant ${variant}`)
  }
}

async function plugin (port: number, configFile: string, setup: string | undefined): Promise<void> {
  const { variantApp } = await import('./variant-app.js')
  const app = await variantApp(configFile, setup)
  await app.listen({ port, host: '127.0.0.1' })
}

start().then(() => console.log('ready'), (err: Error) => {
  console.error(err.message.split('\n')[0])
  process.exit(1)
})
