// HTTP response compression (`compression algo|type|offload`, §4.2), compared with real HAProxy
// on the same config and requests: which answers are compressed and with what, the headers that
// change (Content-Encoding, Vary, ETag, Content-Length), what the server is sent (offload), and
// the body once decompressed. The compressed bytes themselves differ (HAProxy's libslz and node's
// zlib write different deflate streams of the same data) and are not compared.

import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http, { type IncomingHttpHeaders } from 'node:http'
import http2 from 'node:http2'
import zlib from 'node:zlib'
import { startBoth, startRawUpstream, skipWithoutHaproxy } from './harness.js'

const TEXT = 'hello world '.repeat(200)

/**
 * The upstream: the query says what it answers. `s` status, `ct` Content-Type (`none`: none),
 * `len` body length, `mode=chunked` (a first piece, then the rest 100 ms later), `h-<name>` a
 * header; `x-ae-seen` tells what Accept-Encoding it got.
 */
function upstream (): Promise<{ port: number, close (): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams
    const headers: Record<string, string | number> = { 'x-ae-seen': req.headers['accept-encoding'] ?? '-' }
    if (q.get('ct') !== 'none') headers['content-type'] = q.get('ct') ?? 'text/html'
    for (const [k, v] of q) if (k.startsWith('h-')) headers[k.slice(2)] = v
    const body = q.has('len') ? 'x'.repeat(Number(q.get('len'))) : TEXT
    const status = Number(q.get('s') ?? 200)
    if (q.get('mode') === 'chunked') {
      res.writeHead(status, headers)
      res.write(body.slice(0, 10))
      setTimeout(() => res.end(body.slice(10)), 100)
      return
    }
    // HAProxy drops a 204's Content-Length (not a matter of compression)
    if (status !== 204) headers['content-length'] = Buffer.byteLength(body)
    res.writeHead(status, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  })
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => {
    resolve({
      port: (server.address() as { port: number }).port,
      close: () => new Promise<void>(done => { server.close(() => done()); server.closeAllConnections() })
    })
  }))
}

/** What is compared of one answer. */
interface Seen {
  status: number
  encoding: string
  vary: string
  etag: string
  length: string
  chunked: boolean
  serverGot: string
  /** `res.comp` and `res.comp_algo`, as an http-response rule read them. */
  comp: string
  /** The body once decoded (its length and whether it is the upstream's text). */
  body: string
}

function decode (encoding: string, raw: Buffer): Buffer {
  switch (encoding) {
    case 'gzip': return zlib.gunzipSync(raw)
    // `deflate` is zlib-wrapped with the deflate algorithm, bare with raw-deflate
    case 'deflate': return raw[0] === 0x78 ? zlib.inflateSync(raw) : zlib.inflateRawSync(raw)
    default: return raw
  }
}

function seen (status: number, h: IncomingHttpHeaders | http2.IncomingHttpHeaders, raw: Buffer): Seen {
  const encoding = String(h['content-encoding'] ?? '-')
  const body = decode(encoding, raw).toString('latin1')
  return {
    status,
    encoding,
    vary: String(h.vary ?? '-'),
    etag: String(h.etag ?? '-'),
    length: String(h['content-length'] ?? '-'),
    chunked: h['transfer-encoding'] === 'chunked',
    serverGot: String(h['x-ae-seen'] ?? '-'),
    comp: String(h['x-comp'] ?? '-'),
    body: body === TEXT ? 'TEXT' : `${body.length} bytes`
  }
}

/** One request on a fresh HTTP/1.1 connection. */
function ask (port: number, path: string, headers: Record<string, string | string[]>, method = 'GET'): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(seen(res.statusCode ?? 0, res.headers, Buffer.concat(chunks))))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(8000, () => req.destroy(new Error(`no answer to ${path} within 8 s`)))
    req.end()
  })
}

/** One request over HTTP/2 (prior knowledge, a clear `proto h2` bind). */
async function askH2 (port: number, path: string, headers: Record<string, string>): Promise<Seen> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  try {
    return await new Promise<Seen>((resolve, reject) => {
      const req = session.request({ ':path': path, ...headers })
      req.on('response', h => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => resolve(seen(Number(h[':status']), h, Buffer.concat(chunks))))
      })
      req.on('error', reject)
      req.end()
    })
  } finally {
    session.destroy()
  }
}

/** One raw HTTP/1.0 request: the status line and the headers that matter. */
async function askHttp10 (port: number, path: string): Promise<string> {
  const net = await import('node:net')
  const socket = net.connect(port, '127.0.0.1')
  socket.write(`GET ${path} HTTP/1.0\r\nhost: x\r\naccept-encoding: gzip\r\n\r\n`)
  let data = ''
  socket.setEncoding('latin1')
  socket.on('data', (d: string) => { data += d })
  await new Promise<void>((resolve, reject) => { socket.on('close', () => resolve()); socket.on('error', reject) })
  const head = data.slice(0, data.indexOf('\r\n\r\n'))
  const wanted = head.split('\r\n').filter(l => /^(HTTP\/|content-encoding|content-length|vary)/i.test(l)).map(l => l.toLowerCase())
  return wanted.join(' | ')
}

/** A server that answers in HTTP/1.0, then closes. */
function oldServer (): ReturnType<typeof startRawUpstream> {
  return startRawUpstream(socket => {
    socket.once('data', () => {
      socket.end(`HTTP/1.0 200 OK\r\ncontent-type: text/html\r\ncontent-length: ${TEXT.length}\r\n\r\n${TEXT}`)
    })
  })
}

const config = (up: number, old: number) => (port: number): string => `
global
  nbthread 1
defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:${port}
  compression algo gzip deflate
  compression type text/html text/plain application/json
  stats enable
  stats uri /stats
  http-response set-header x-comp "%[res.comp] %[res.comp_algo]"
  use_backend b_rules if { path_beg /rules }
  use_backend b_old if { path_beg /old }
  use_backend b_identity if { path_beg /identity }
  use_backend b_css if { path_beg /css }
  use_backend b_any if { path_beg /any }
  default_backend b
backend b
  server s1 127.0.0.1:${up}
backend b_old
  server s1 127.0.0.1:${old}
backend b_rules
  http-response set-header content-type text/html
  http-response del-header content-encoding
  server s1 127.0.0.1:${up}
backend b_identity
  compression algo raw-deflate identity
  compression offload
  server s1 127.0.0.1:${up}
backend b_css
  compression type text/css
  server s1 127.0.0.1:${up}
backend b_any
  compression algo deflate gzip
  server s1 127.0.0.1:${up}
`

describe('differential: HTTP response compression', { skip: skipWithoutHaproxy }, () => {
  let both: Awaited<ReturnType<typeof startBoth>>
  let up: Awaited<ReturnType<typeof upstream>>
  let old: Awaited<ReturnType<typeof oldServer>>
  before(async () => {
    up = await upstream()
    old = await oldServer()
    both = await startBoth(config(up.port, old.port))
  })
  after(async () => { await both?.stop(); await up?.close(); await old?.close() })

  const gzip = { 'accept-encoding': 'gzip' }
  const cases: Array<[string, string, Record<string, string | string[]>, string?]> = [
    ['gzip asked', '/', gzip],
    ['deflate asked', '/', { 'accept-encoding': 'deflate' }],
    ['the higher q-value wins', '/', { 'accept-encoding': 'gzip;q=0.5, deflate' }],
    ['equal q-values: the first one', '/', { 'accept-encoding': 'deflate, gzip' }],
    ['q=0 refuses', '/', { 'accept-encoding': 'gzip;q=0' }],
    ['* is the last algorithm configured', '/', { 'accept-encoding': '*' }],
    ['names in any case', '/', { 'accept-encoding': 'br, GZIP' }],
    ['x-gzip is not gzip', '/', { 'accept-encoding': 'x-gzip' }],
    ['two Accept-Encoding lines', '/', { 'accept-encoding': ['br', 'deflate'] }],
    ['no Accept-Encoding', '/', {}],
    ['HEAD', '/', gzip, 'HEAD'],
    ['201 is compressed', '/?s=201', gzip],
    ['203 is compressed', '/?s=203', gzip],
    ['204 is not', '/?s=204', gzip],
    ['206 is not', '/?s=206', gzip],
    ['404 is not', '/?s=404', gzip],
    ['a type with parameters', '/?ct=text/html;charset=utf-8', gzip],
    ['types match as prefixes, in any case', '/?ct=TEXT/HTMLX', gzip],
    ['a shorter type does not match', '/?ct=text/htm', gzip],
    ['no Content-Type with a type list', '/?ct=none', gzip],
    ['a type not listed', '/?ct=image/png', gzip],
    ['a chunked answer', '/?mode=chunked', gzip],
    ['an empty chunked answer', '/?mode=chunked&len=0', gzip],
    ['Content-Length: 0', '/?len=0', gzip],
    ['one byte', '/?len=1', gzip],
    ['Cache-Control: no-transform', '/?h-cache-control=public,%20No-Transform', gzip],
    ['already Content-Encoded', '/?h-content-encoding=br', gzip],
    ['a strong ETag turns weak', '/?h-etag=%22abc%22', gzip],
    ['a weak ETag stays', '/?h-etag=W/%22abc%22', gzip],
    ['an invalid ETag', '/?h-etag=abc', gzip],
    ['the server\'s Vary stays', '/?h-vary=Origin', gzip],
    ['Mozilla/4 browsers', '/', { ...gzip, 'user-agent': 'Mozilla/4.0 (compatible)' }],
    ['MSIE 7 is modern enough', '/', { ...gzip, 'user-agent': 'Mozilla/4.0 (compatible; MSIE 7.0)' }],
    ['MSIE 6 with SV1', '/', { ...gzip, 'user-agent': 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)' }],
    ['identity without Accept-Encoding, offload', '/identity', {}],
    ['raw-deflate answers deflate, offload', '/identity', { 'accept-encoding': 'deflate' }],
    ['the backend\'s types replace the frontend\'s', '/css?ct=text/css', gzip],
    ['... not added to them', '/css?ct=text/html', gzip],
    ['the backend\'s algorithms replace the frontend\'s', '/any', { 'accept-encoding': '*' }],
    ['decided before http-response rules: a Content-Type they set', '/rules?ct=text/css', gzip],
    ['decided before http-response rules: a Content-Encoding they remove', '/rules?h-content-encoding=br', gzip],
    ['http-response rules see the decision', '/rules', gzip],
    ['an HTTP/1.0 answer is not compressed', '/old', gzip]
  ]
  for (const [name, path, headers, method] of cases) {
    test(name, async () => {
      const [theirs, ours] = await Promise.all([ask(both.haproxy.port, path, headers, method), ask(both.ours.port, path, headers, method)])
      // every answer passed the frontend's http-response rule that reads res.comp
      assert.match(theirs.comp, /^[01]( |$)/)
      assert.deepEqual(ours, theirs)
    })
  }

  test('an HTTP/1.0 request gets no compression', async () => {
    const [theirs, ours] = await Promise.all([askHttp10(both.haproxy.port, '/'), askHttp10(both.ours.port, '/')])
    assert.match(theirs, /content-length: 2400/)
    assert.equal(ours, theirs)
  })

  test('the stats count compressed, bypassed and identity answers alike', async () => {
    const fields = async (port: number): Promise<string[]> => {
      const csv = await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/stats;csv', agent: false }, res => {
          let s = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => { s += c })
          res.on('end', () => resolve(s))
        }).on('error', reject)
      })
      const lines = csv.trim().split('\n')
      const names = lines[0]!.replace(/^# /, '').split(',')
      const at = (n: string): number => names.indexOf(n)
      return lines.slice(1).map(l => l.split(',')).filter(f => f[1] === 'FRONTEND' || f[1] === 'BACKEND')
        // comp_out is left out: the two compressors write different streams
        .map(f => `${f[0]} ${f[1]} in=${f[at('comp_in')]} byp=${f[at('comp_byp')]} rsp=${f[at('comp_rsp')]} out>0=${Number(f[at('comp_out')]) > 0}`)
    }
    const [theirs, ours] = await Promise.all([fields(both.haproxy.port), fields(both.ours.port)])
    assert.ok(theirs.some(l => l.startsWith('fe FRONTEND') && !l.includes('rsp=0')), theirs.join('\n'))
    assert.deepEqual(ours, theirs)
  })
})

describe('differential: compression to HTTP/2 clients, without a type list', { skip: skipWithoutHaproxy }, () => {
  let both: Awaited<ReturnType<typeof startBoth>>
  let up: Awaited<ReturnType<typeof upstream>>
  before(async () => {
    up = await upstream()
    both = await startBoth(port => `
defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
listen fe
  bind 127.0.0.1:${port} proto h2
  compression algo gzip
  server s1 127.0.0.1:${up.port}
`)
  })
  after(async () => { await both?.stop(); await up?.close() })

  const cases = [
    ['compressed, no Content-Length', '/?h-etag=%22z%22'],
    ['Content-Length: 0 stays', '/?len=0'],
    ['a chunked answer', '/?mode=chunked'],
    ['no type list: any type', '/?ct=image/png'],
    ['no type list: no Content-Type', '/?ct=none'],
    ['no type list: but not multipart', '/?ct=multipart/mixed']
  ]
  for (const [name, path] of cases) {
    test(name, async () => {
      const [theirs, ours] = await Promise.all([askH2(both.haproxy.port, path, { 'accept-encoding': 'gzip' }), askH2(both.ours.port, path, { 'accept-encoding': 'gzip' })])
      assert.deepEqual(ours, theirs)
    })
  }
})
