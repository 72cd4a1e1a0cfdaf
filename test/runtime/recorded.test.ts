// Replays the tables real HAProxy 2.6.12 produced (test/runtime/recorded/*.ts, written by
// record.ts there) against our balancers and hash functions: pick orders, runtime changes,
// picks under load, hash placements for every key kind and the hash converters' values.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { backendOf, picks, server, txn } from './helpers.js'
import type { HttpTxn } from '../../lib/acl/txn.js'
import type { ServerRuntime } from '../../lib/runtime/backend.js'
import { Hasher, avalanche, crc32, crc32c, djb2, sdbm, wt6 } from '../../lib/acl/hashes.js'
import { SEQUENCES } from './recorded/sequences.js'
import { DYNAMIC } from './recorded/dynamic.js'
import { HELD } from './recorded/held.js'
import { HASHES } from './recorded/hashes.js'
import { HASH_FUNCTIONS } from './recorded/functions.js'
import { HOST_KEYS, SOURCE_KEYS, URL_KEYS } from './recorded/keys.js'

function config (balance: string, lines: string[], servers: string[]): string {
  return 'defaults\n  mode http\nbackend be\n' + [`balance ${balance}`, ...lines, ...servers.map((o, i) => `server s${i + 1} 127.0.0.1:${10001 + i} ${o}`)].map((l) => `  ${l}\n`).join('')
}

const short = (servers: string[]): string => servers.map((s) => s.replace('weight ', 'w').replace(' maxconn ', '/mc').replace(' backup', 'b')).join(':')

test(`recorded pick orders: ${SEQUENCES.length} roundrobin / static-rr backends`, () => {
  for (const c of SEQUENCES) {
    const be = backendOf(config(c.balance, c.lines, c.servers))
    assert.equal(picks(be, c.count), c.expected, `${c.balance} ${short(c.servers)}`)
  }
})

const dynamicGroups = new Map<string, typeof DYNAMIC>()
for (const c of DYNAMIC) {
  const group = [c.balance, ...c.lines].join(', ')
  dynamicGroups.set(group, [...(dynamicGroups.get(group) ?? []), c])
}

for (const [group, cases] of dynamicGroups) {
  test(`recorded runtime changes, ${group}: ${cases.length} sequences around set weight / set server state`, () => {
    const wrong: string[] = []
    for (const c of cases) {
      const be = backendOf(config(c.balance, c.lines, c.servers))
      const out: string[] = []
      for (const step of c.steps) {
        if (typeof step === 'number') out.push(picks(be, step))
        else if (step[1] === 'weight') server(be, step[0]).setWeight(step[2])
        else server(be, step[0]).setAdmin(step[2])
      }
      if (out.join(' | ') !== c.expected) wrong.push(`${short(c.servers)} ${JSON.stringify(c.steps)}\n  got      ${out.join(' | ')}\n  recorded ${c.expected}`)
    }
    assert.deepEqual(wrong, [])
  })
}

test(`recorded picks with requests in flight: ${HELD.length} leastconn / first / maxconn sequences`, () => {
  for (const c of HELD) {
    const be = backendOf(config(c.balance, [], c.servers))
    const open: ServerRuntime[] = []
    const out: string[] = []
    for (const token of c.expected.split(' ')) {
      if (token.startsWith('-')) {
        const i = open.findIndex((s) => s.name === token.slice(1))
        assert.ok(i >= 0, `${token}: nothing open there`)
        be.release(open.splice(i, 1)[0])
        out.push(token)
      } else {
        const s = be.acquire(txn(), null)
        assert.ok(s !== null && !(s instanceof Promise), 'a request was refused or queued')
        open.push(s)
        out.push(s.name)
      }
    }
    assert.equal(out.join(' '), c.expected, `${c.balance} ${short(c.servers)}`)
  }
})

function keyTxns (kind: 'url' | 'host' | 'header' | 'source'): HttpTxn[] {
  if (kind === 'url') return URL_KEYS.map((u) => txn(u, { 'x-key': 'k' }))
  if (kind === 'host') return HOST_KEYS.map((h) => txn('/', { host: h }))
  if (kind === 'header') return HOST_KEYS.map((h) => txn('/', { 'x-key': h }))
  return SOURCE_KEYS.map((ip) => txn('/', {}, ip))
}

test(`recorded hash placements: ${HASHES.length} key kinds × hash-types × weights`, () => {
  for (const c of HASHES) {
    const be = backendOf(config(c.balance, [`hash-type ${c.hashType}`], c.servers))
    const got = keyTxns(c.keys).map((t) => picks(be, 1, t))
    assert.equal(got.join(' '), c.expected, `balance ${c.balance}, hash-type ${c.hashType}, ${short(c.servers)}`)
  }
})

test(`recorded hash converter values: ${HASH_FUNCTIONS.length} vectors, plain and with avalanche`, () => {
  const converters = { sdbm, djb2, wt6, crc32, crc32c }
  for (const [fn, input, plain, mixed] of HASH_FUNCTIONS) {
    assert.equal(converters[fn](input), plain, `${fn}('${input}')`)
    assert.equal(avalanche(plain), mixed, `${fn}('${input}', 1)`)
    const h = new Hasher(fn, true).reset()
    h.chars(input, 0, input.length)
    assert.equal(h.result(), mixed, `Hasher ${fn} avalanche '${input}'`)
  }
})
