// The plugin's bench variants as Fastify apps on frontend `main`: one definition for the child
// that serves them over sockets (bench/proxy-target.ts) and for the hook part's in-process apps
// (bench/hook-cost.ts), so that both measure the same thing. Setups:
//   `onRequest`        the gateway decides in onRequest (HAProxy first)
//   `preParsing`       the default, named (so is any other name without a rule below)
//   `app-noop`         an app onRequest hook that does nothing
//   `app-header`       an app onRequest hook sets a header (merged into the proxied response)
//   `app-header-bare`  the same, the merge switched off (kBenchNoHeaderMerge, bench only)

import Fastify, { type FastifyInstance } from 'fastify'
import haproxyRouter from 'fastify-haproxy'
import { kBenchNoHeaderMerge } from '../lib/symbols.js'

export async function variantApp (configFile: string, setup: string | undefined): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  if (setup === 'app-noop') app.addHook('onRequest', (_request, _reply, done) => { done() })
  if (setup?.startsWith('app-header') === true) app.addHook('onRequest', (_request, reply, done) => { reply.header('x-app', 'bench'); done() })
  await app.register(haproxyRouter, {
    configFile,
    frontend: 'main',
    ...(setup === 'onRequest' ? { hook: 'onRequest' as const } : {}),
    ...(setup === 'app-header-bare' ? { [kBenchNoHeaderMerge]: true } : {})
  })
  return app
}
