// `http-request normalize-uri`: every normalizer of configuration.txt §4.2 on the cases observed
// on HAProxy 2.6.12, through the gateway on a real socket and (when installed) through real
// HAProxy on the same config. Each backend holds one unconditional rule; the frontend picks the
// backend from the x-n header. (HAProxy 2.6.12 never applies path-strip-dotdot,
// percent-decode-unreserved and percent-to-uppercase rules written with a condition but without
// their option word, which is why the rules sit unconditional in backends.)

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { parseConfig } from '../../lib/config/parse.js'
import { checkExpressions } from '../../lib/acl/check.js'
import { freePorts, rawRequest, startGateway, waitListening } from '../gateway/fixtures.js'
import { haproxyInstalled, withHaproxy } from './real-haproxy.js'

const NORMALIZERS: Record<string, string> = {
  merge: 'path-merge-slashes',
  dot: 'path-strip-dot',
  dotdot: 'path-strip-dotdot',
  full: 'path-strip-dotdot full',
  decode: 'percent-decode-unreserved',
  decodestrict: 'percent-decode-unreserved strict',
  upper: 'percent-to-uppercase',
  upperstrict: 'percent-to-uppercase strict',
  sort: 'query-sort-by-name',
  fstrip: 'fragment-strip',
  fencode: 'fragment-encode'
}

const config = (port: number): string => `global
  expose-experimental-directives
defaults
  mode http
  option accept-invalid-http-request
  timeout connect 5s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:${port}
  use_backend be_%[req.hdr(x-n)]
${Object.entries(NORMALIZERS).map(([k, n]) => `backend be_${k}
  http-request normalize-uri ${n}
  http-request return status 200 content-type text/plain lf-string "%[url]|%[path]|%[query]"
`).join('')}`

/** [backend, request target, status, `url|path|query` after the rule (200 only)] as HAProxy 2.6.12 answered. */
type Case = [string, string, number, string?]
const CASES: Case[] = [
  ['merge', '/foo//bar', 200, '/foo/bar|/foo/bar|'],
  ['merge', '///foo///bar///', 200, '/foo/bar/|/foo/bar/|'],
  ['merge', '//a//b?x=//y', 200, '/a/b?x=//y|/a/b|x=//y'],
  ['merge', '/a#//b', 200, '/a#/b|/a#/b|'],
  ['dot', '/./a/./b/.', 200, '/a/b/|/a/b/|'],
  ['dot', '/.', 200, '/|/|'],
  ['dot', '/./.', 200, '/|/|'],
  ['dot', '/.//.', 200, '//|//|'],
  ['dot', '/a/.?x=/./', 200, '/a/?x=/./|/a/|x=/./'],
  ['dot', '/..', 200, '/..|/..|'],
  ['dot', '/%2e/a', 200, '/%2e/a|/%2e/a|'],
  ['dot', '/a/.b/./', 200, '/a/.b/|/a/.b/|'],
  ['dotdot', '/foo/..', 200, '/|/|'],
  ['dotdot', '/foo/bar/../', 200, '/foo/|/foo/|'],
  ['dotdot', '/foo/../../bar/', 200, '/../bar/|/../bar/|'],
  ['dotdot', '/foo//../../bar/', 200, '/bar/|/bar/|'],
  ['dotdot', '/a/b/../../../c', 200, '/../c|/../c|'],
  ['dotdot', '/a/./../b', 200, '/a/b|/a/b|'],
  ['dotdot', '/..', 200, '/../|/../|'],
  ['dotdot', '/../..', 200, '/../../|/../../|'],
  ['dotdot', '/a/../../b/../..', 200, '/../../|/../../|'],
  ['dotdot', '/../a/../b', 200, '/../b|/../b|'],
  ['dotdot', '/a//b/../c', 200, '/a//c|/a//c|'],
  ['dotdot', '/..a/../b', 200, '/b|/b|'],
  ['dotdot', '/a/b/..?x=/../', 200, '/a/?x=/../|/a/|x=/../'],
  ['full', '/../../a', 200, '/a|/a|'],
  ['full', '/..', 200, '/|/|'],
  ['full', '/a/../../', 200, '/|/|'],
  ['full', '/foo/../../bar/', 200, '/bar/|/bar/|'],
  ['decode', '/%41%2d%2E%5f%7e%7E%2f%20%3f?q=%61%26', 200, '/A-._~~%2f%20%3f?q=a%26|/A-._~~%2f%20%3f|q=a%26'],
  ['decode', '/%4', 200, '/%4|/%4|'],
  ['decode', '/%zz%41', 200, '/%zzA|/%zzA|'],
  ['decode', '/%%36%36', 200, '/%66|/%66|'],
  ['decode', '/%c3%a9', 200, '/%c3%a9|/%c3%a9|'],
  ['decode', '/%2541', 200, '/%2541|/%2541|'],
  ['decode', '/a#%41', 200, '/a#A|/a#A|'],
  ['decodestrict', '/%4a%4A?%4a', 200, '/JJ?J|/JJ|J'],
  ['decodestrict', '/%zz%41', 400],
  ['decodestrict', '/a%', 400],
  ['decodestrict', '/%41?%zz', 400],
  ['upper', '/%aa%bB?x=%cc%z', 200, '/%AA%BB?x=%CC%z|/%AA%BB|x=%CC%z'],
  ['upper', '/%%aa', 200, '/%%AA|/%%AA|'],
  ['upper', '/%a%aa', 200, '/%a%AA|/%a%AA|'],
  ['upperstrict', '/%aa', 200, '/%AA|/%AA|'],
  ['upperstrict', '/%a', 400],
  ['upperstrict', '/a?%zz', 400],
  ['sort', '/?c=3&a=1&b=2', 200, '/?a=1&b=2&c=3|/|a=1&b=2&c=3'],
  ['sort', '/?a=5&b=3&a=1&a=2&b=4', 200, '/?a=5&a=1&a=2&b=3&b=4|/|a=5&a=1&a=2&b=3&b=4'],
  ['sort', '/?aaaa=&a=&aa=&aaa=', 200, '/?a=&aa=&aaa=&aaaa=|/|a=&aa=&aaa=&aaaa='],
  ['sort', '/?b&a=1&&c', 200, '/?&a=1&b&c|/|&a=1&b&c'],
  ['sort', '/?b=1&a&b=0&', 200, '/?a&b=1&b=0|/|a&b=1&b=0'],
  ['sort', '/?&', 200, '/?|/|'],
  ['sort', '/?&&', 200, '/?&|/|&'],
  ['sort', '/?', 200, '/?|/|'],
  ['sort', '/?a=2&A=1&_=3', 200, '/?A=1&_=3&a=2|/|A=1&_=3&a=2'],
  ['sort', '/?a%3D=1&a=2', 200, '/?a=2&a%3D=1|/|a=2&a%3D=1'],
  ['sort', '/?b=2&a=1#f&z', 200, '/?a=1#f&b=2&z|/|a=1#f&b=2&z'],
  ['fstrip', '/a#b?c=d', 200, '/a|/a|'],
  ['fstrip', '/a?c=d#e', 200, '/a?c=d|/a|c=d'],
  ['fstrip', '/#', 200, '/|/|'],
  ['fstrip', '/%23foo', 200, '/%23foo|/%23foo|'],
  ['fencode', '/a#b?c#d', 200, '/a%23b?c%23d|/a%23b|c%23d'],
  ['fencode', '/#', 200, '/%23|/%23|']
]

/** `OPTIONS *` goes through every normalizer untouched. */
const STAR: Case[] = Object.keys(NORMALIZERS).map((k) => [k, '*', 200, '*||'])

async function ask (port: number, [n, target]: Case): Promise<[number, string]> {
  const method = target === '*' ? 'OPTIONS' : 'GET'
  const r = await rawRequest(port, `${method} ${target} HTTP/1.1\r\nhost: h.test\r\nx-n: ${n}\r\nconnection: close\r\n\r\n`)
  return [r.status, r.text]
}

async function check (port: number, cases: Case[]): Promise<void> {
  for (const c of cases) {
    const [status, text] = await ask(port, c)
    assert.equal(status, c[2], `${c[0]} ${c[1]}: status`)
    if (c[3] !== undefined) assert.equal(text, c[3], `${c[0]} ${c[1]}`)
  }
}

const dir = mkdtempSync(join(tmpdir(), 'normalize-uri-'))
after(() => rmSync(dir, { recursive: true, force: true }))

// standalone, as the CLI serves: URLs Fastify's router refuses (`/%4`) reach the rules too
describe('normalize-uri through the gateway', () => {
  let port = 0
  let stop = async (): Promise<void> => {}
  before(async () => {
    port = await freePorts()
    writeFileSync(join(dir, 'ours.cfg'), config(port))
    const g = startGateway(join(dir, 'ours.cfg'))
    stop = async () => { g.child.kill('SIGTERM'); await g.exited }
    await waitListening(port)
  })
  after(async () => { await stop() })

  test('each normalizer rewrites as HAProxy 2.6.12 does', async () => { await check(port, CASES) })
  test('OPTIONS * is left alone', async () => { await check(port, STAR) })
})

describe('normalize-uri through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, () => {
  test('the same cases give the same answers', async () => {
    await withHaproxy(join(dir, 'haproxy.cfg'), config, async (port) => { await check(port, [...CASES, ...STAR]) })
  })
})

describe('normalize-uri configuration', () => {
  const alerts = (rule: string, global = 'global\n  expose-experimental-directives\n'): string[] => {
    const cfg = parseConfig(`${global}defaults\n  mode http\nfrontend fe\n  bind :8080\n  http-request ${rule}\n  default_backend be\nbackend be\n`, { filename: '/t.cfg' })
    return [...cfg.diagnostics, ...checkExpressions(cfg)].filter((d) => d.level === 'alert').map((d) => d.message)
  }
  const prefix = "error detected in frontend 'fe' while parsing 'http-request normalize-uri' rule : "

  test('HAProxy\'s messages for wrong arguments', () => {
    assert.deepEqual(alerts('normalize-uri'), [`${prefix}missing argument <normalizer>.`])
    assert.deepEqual(alerts('normalize-uri bar'), [`${prefix}unknown normalizer 'bar'.`])
    assert.deepEqual(alerts('normalize-uri percent-to-uppercase foo'), [`${prefix}unknown argument 'foo' for 'percent-to-uppercase' normalizer.`])
    assert.deepEqual(alerts('normalize-uri path-merge-slashes full'), ["'http-request normalize-uri' expects either 'if' or 'unless' followed by a condition but found 'full'."])
    assert.deepEqual(alerts('normalize-uri path-strip-dotdot full extra'), ["'http-request normalize-uri' expects either 'if' or 'unless' followed by a condition but found 'extra'."])
    assert.deepEqual(alerts('normalize-uri fragment-strip if TRUE'), [])
  })

  test('it is refused without expose-experimental-directives, as in HAProxy 2.6', () => {
    assert.deepEqual(alerts('normalize-uri path-merge-slashes', ''), ["'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'"])
  })
})
