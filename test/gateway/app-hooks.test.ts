// "The gateway among your hooks": for each place an app hook can be registered (before or after
// the plugin, at the root or in an encapsulated plugin, each lifecycle hook) and each value of
// the `hook` option, does the hook run for proxied requests, for the config's `http-request`
// answers, for stats requests? One data table drives the tests and is the README's table.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import haproxyRouter from '../../lib/index.js'
import { upstream, get } from './fixtures.js'
import type { Upstream } from './fixtures.js'

type Position = 'before' | 'after'
type Scope = 'root' | 'encapsulated'
type HookName = 'onRequest' | 'preParsing' | 'preHandler' | 'onSend' | 'onResponse'
type Mode = 'onRequest' | 'preParsing'
type Kind = 'proxied' | 'answer' | 'stats'
/** Runs for proxied requests, `http-request` answers, stats requests: 'y' or '-' each. */
type Runs = `${'y' | '-'}${'y' | '-'}${'y' | '-'}`

interface Row { position: Position, scope: Scope, hook: HookName, onRequest: Runs, preParsing: Runs }

const row = (position: Position, scope: Scope, hook: HookName, onRequest: Runs, preParsing: Runs): Row =>
  ({ position, scope, hook, onRequest, preParsing })

export const HOOK_TABLE: readonly Row[] = [
  row('before', 'root', 'onRequest', 'yy-', 'yy-'),
  row('before', 'root', 'preParsing', '---', 'yy-'),
  row('before', 'root', 'preHandler', '---', '---'),
  row('before', 'root', 'onSend', '---', '---'),
  row('before', 'root', 'onResponse', 'yy-', 'yy-'),
  row('after', 'root', 'onRequest', '---', 'yy-'),
  row('after', 'root', 'preParsing', '---', '---'),
  row('after', 'root', 'preHandler', '---', '---'),
  row('after', 'root', 'onSend', '---', '---'),
  row('after', 'root', 'onResponse', 'yy-', 'yy-'),
  row('before', 'encapsulated', 'onRequest', 'yy-', 'yy-'),
  row('before', 'encapsulated', 'preParsing', '---', 'yy-'),
  row('before', 'encapsulated', 'preHandler', '---', '---'),
  row('before', 'encapsulated', 'onSend', '---', '---'),
  row('before', 'encapsulated', 'onResponse', 'yy-', 'yy-'),
  row('after', 'encapsulated', 'onRequest', '---', 'yy-'),
  row('after', 'encapsulated', 'preParsing', '---', '---'),
  row('after', 'encapsulated', 'preHandler', '---', '---'),
  row('after', 'encapsulated', 'onSend', '---', '---'),
  row('after', 'encapsulated', 'onResponse', 'yy-', 'yy-')
]

const KINDS: readonly Kind[] = ['proxied', 'answer', 'stats']
const HOOKS: readonly HookName[] = ['onRequest', 'preParsing', 'preHandler', 'onSend', 'onResponse']

/** The README's table, rendered from HOOK_TABLE. */
export function renderHookTable (): string {
  const mark = (r: Runs, i: number): string => r[i] === 'y' ? 'runs' : '–'
  const lines = [
    "| registered | hook | `'onRequest'`: proxied | answers | stats | `'preParsing'`: proxied | answers | stats |",
    '| --- | --- | --- | --- | --- | --- | --- | --- |'
  ]
  for (const r of HOOK_TABLE) {
    lines.push(`| ${r.position} the plugin, ${r.scope} | \`${r.hook}\` | ${[0, 1, 2].map(i => mark(r.onRequest, i)).join(' | ')} | ${[0, 1, 2].map(i => mark(r.preParsing, i)).join(' | ')} |`)
  }
  return lines.join('\n')
}

const label = (position: Position, scope: Scope, hook: HookName): string => `${position}/${scope}/${hook}`
/** Requests for the rows of an encapsulated plugin go under its prefix; root rows under either. */
const prefixOf = (position: Position): string => position === 'before' ? '/encb' : '/enca'

type Seen = Map<string, Set<string>>

function addHooks (app: FastifyInstance, position: Position, scope: Scope, seen: Seen): void {
  for (const hook of HOOKS) {
    const mark = (request: FastifyRequest): void => {
      const id = request.headers['x-test-id']
      if (typeof id === 'string') seen.get(id)?.add(label(position, scope, hook))
    }
    if (hook === 'preParsing' || hook === 'onSend') {
      app.addHook(hook, (request: FastifyRequest, _reply: FastifyReply, payload: unknown, done: (err: null, p: unknown) => void) => { mark(request); done(null, payload) })
    } else {
      app.addHook(hook, (request: FastifyRequest, _reply: FastifyReply, done: () => void) => { mark(request); done() })
    }
  }
}

/** An encapsulated plugin with a prefix, whose not-found handler puts every path under it in its context. */
function encapsulated (position: Position, seen: Seen) {
  return async (child: FastifyInstance): Promise<void> => {
    addHooks(child, position, 'encapsulated', seen)
    child.get('/own', async () => 'own')
    child.setNotFoundHandler((_request, reply) => { void reply.code(404).send('not found here') })
  }
}

const config = (up: Upstream): string => `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    http-request deny if { path_end /deny }
    use_backend be if { path_end /proxied }
backend be
    server s1 ${up.addr}
listen statsb
    stats enable
    stats uri /encb/stats
listen statsa
    stats enable
    stats uri /enca/stats
`

async function appFor (mode: Mode, up: Upstream, seen: Seen, statsAppHooks: boolean): Promise<{ app: FastifyInstance, port: number }> {
  const app = Fastify()
  addHooks(app, 'before', 'root', seen)
  await app.register(encapsulated('before', seen), { prefix: prefixOf('before') })
  await app.register(haproxyRouter, { config: config(up), hook: mode, stats: { appHooks: statsAppHooks } })
  addHooks(app, 'after', 'root', seen)
  await app.register(encapsulated('after', seen), { prefix: prefixOf('after') })
  app.get('/sync', async () => 'sync')
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port }
}

const PATHS: Record<Kind, string> = { proxied: '/proxied', answer: '/deny', stats: '/stats' }
const STATUS: Record<Kind, number> = { proxied: 200, answer: 403, stats: 200 }

/** Requests of each kind under each encapsulated prefix: the labels of the hooks that ran for each. */
async function observe (port: number, seen: Seen): Promise<Map<string, Set<string>>> {
  const observed = new Map<string, Set<string>>()
  for (const position of ['before', 'after'] as const) {
    for (const kind of KINDS) {
      const id = `${position}-${kind}`
      seen.set(id, new Set())
      const r = await get(port, prefixOf(position) + PATHS[kind], { 'x-test-id': id })
      assert.equal(r.status, STATUS[kind], `${id}: ${r.text.slice(0, 200)}`)
      // onResponse runs once the response is handed to the socket: by the end of a second
      // exchange it has run for the first one
      await get(port, '/sync')
      observed.set(id, seen.get(id)!)
    }
  }
  return observed
}

function check (observed: Map<string, Set<string>>, expected: (r: Row, kind: Kind, i: number) => boolean, what: string): void {
  for (const r of HOOK_TABLE) {
    KINDS.forEach((kind, i) => {
      // root rows are checked on the requests under both prefixes
      const positions: Position[] = r.scope === 'root' ? ['before', 'after'] : [r.position]
      for (const p of positions) {
        const ran = observed.get(`${p}-${kind}`)!.has(label(r.position, r.scope, r.hook))
        assert.equal(ran, expected(r, kind, i), `${what}: ${r.position} the plugin, ${r.scope}, ${r.hook}: ${kind} request under ${prefixOf(p)}`)
      }
    })
  }
}

for (const mode of ['onRequest', 'preParsing'] as const) {
  test(`hook: '${mode}': where each app hook runs, as the README's table says`, async (t) => {
    const up = await upstream('up')
    t.after(async () => { await up.close() })
    const seen: Seen = new Map()
    const { app, port } = await appFor(mode, up, seen, false)
    t.after(async () => { await app.close() })
    check(await observe(port, seen), (r, _kind, i) => r[mode][i] === 'y', `hook: '${mode}'`)

    // stats.appHooks: stats requests meet the app's hooks where the config's answers do
    const seen2: Seen = new Map()
    const { app: app2, port: port2 } = await appFor(mode, up, seen2, true)
    t.after(async () => { await app2.close() })
    check(await observe(port2, seen2), (r, kind, i) => r[mode][kind === 'stats' ? 1 : i] === 'y', `hook: '${mode}', stats.appHooks`)
  })
}

test("the README's table is the one the tests check", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  assert.ok(readme.includes(renderHookTable()), 'README.md "The gateway among your hooks" holds renderHookTable()\'s output:\n' + renderHookTable())
})

test("headers set with reply.header() before the gateway took the request are on the proxied response; the server's win", async (t) => {
  const up = await upstream('up', { headers: { 'x-both': 'upstream' } })
  t.after(async () => { await up.close() })
  for (const mode of ['onRequest', 'preParsing'] as const) {
    const app = Fastify()
    app.addHook('onRequest', async (_request, reply) => {
      void reply.header('x-app', 'app').header('x-both', 'app').header('set-cookie', ['a=1', 'b=2'])
    })
    await app.register(haproxyRouter, { config: config(up), hook: mode })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as AddressInfo).port
    const proxied = await get(port, '/x/proxied')
    assert.equal(proxied.status, 200)
    assert.equal(proxied.headers['x-served-by'], 'up')
    assert.equal(proxied.headers['x-app'], 'app', mode)
    assert.equal(proxied.headers['x-both'], 'upstream', `${mode}: the server's header wins over the app's`)
    assert.deepEqual(proxied.headers['set-cookie'], ['a=1', 'b=2'])
    const denied = await get(port, '/x/deny')
    assert.equal(denied.status, 403)
    assert.equal(denied.headers['x-app'], 'app', `${mode}: on the gateway's own answers too`)
    await app.close()
  }
})

test('a wrong `hook` or `stats` option is a registration error naming it', async () => {
  const up = await upstream('up')
  try {
    for (const [opts, name] of [[{ hook: 'preHandler' }, 'hook'], [{ stats: { listener: 'elsewhere' } }, 'stats.listener']] as const) {
      const app = Fastify()
      await assert.rejects(async () => { await app.register(haproxyRouter, { config: config(up), ...(opts as object) }); await app.ready() }, (err: Error & { code: string }) => {
        assert.equal(err.code, 'FST_HAPROXY_BAD_OPTION')
        assert.ok(err.message.includes(`\`${name}\``), err.message)
        return true
      })
      await app.close()
    }
  } finally {
    await up.close()
  }
})
