// `http-request set-src|set-dst|set-src-port|set-dst-port` and `tcp-request content set-*`, then
// `option forwardfor except` / `option originalto except|header` on the addresses they set. Each
// case holds what HAProxy 2.6.12 answered on loopback; our CLI must answer the same, and with
// haproxy installed the recordings are replayed against it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { startProxy, startUpstream, skipWithoutHaproxy, send, head } from './harness.js'

interface Case { headers: Record<string, string>, seen: { src: string, dst: string, ci: string } }

// `PORT`: the frontend's port, `CPORT`: the client's own port
const CASES: Case[] = [
  { headers: { 'x-src': '10.1.2.3' }, seen: { src: '10.1.2.3|CPORT|127.0.0.1|CPORT', dst: '127.0.0.1|PORT|127.0.0.1', ci: '10.1.2.3:CPORT 127.0.0.1:PORT' } },
  { headers: { 'x-src': 'nonsense' }, seen: { src: '127.0.0.1|CPORT|127.0.0.1|CPORT', dst: '127.0.0.1|PORT|127.0.0.1', ci: '127.0.0.1:CPORT 127.0.0.1:PORT' } },
  { headers: { 'x-src': '::ffff:1.2.3.4' }, seen: { src: '::ffff:1.2.3.4|CPORT|127.0.0.1|CPORT', dst: '127.0.0.1|PORT|127.0.0.1', ci: '::ffff:1.2.3.4:CPORT 127.0.0.1:PORT' } },
  { headers: { 'x-src': '2001:db8::1' }, seen: { src: '2001:db8::1|CPORT|127.0.0.1|CPORT', dst: '127.0.0.1|PORT|127.0.0.1', ci: '2001:db8::1:CPORT 127.0.0.1:PORT' } },
  { headers: { 'x-sport': '99' }, seen: { src: '127.0.0.1|99|127.0.0.1|CPORT', dst: '127.0.0.1|PORT|127.0.0.1', ci: '127.0.0.1:99 127.0.0.1:PORT' } },
  { headers: { 'x-sport': '70000' }, seen: { src: '127.0.0.1|4464|127.0.0.1|CPORT', dst: '127.0.0.1|PORT|127.0.0.1', ci: '127.0.0.1:4464 127.0.0.1:PORT' } },
  { headers: { 'x-dst': '10.9.9.9' }, seen: { src: '127.0.0.1|CPORT|127.0.0.1|CPORT', dst: '10.9.9.9|PORT|127.0.0.1', ci: '127.0.0.1:CPORT 10.9.9.9:PORT' } },
  { headers: { 'x-dport': '81' }, seen: { src: '127.0.0.1|CPORT|127.0.0.1|CPORT', dst: '127.0.0.1|81|127.0.0.1', ci: '127.0.0.1:CPORT 127.0.0.1:81' } },
  { headers: { 'x-tcp-src': '192.0.2.1' }, seen: { src: '192.0.2.1|CPORT|127.0.0.1|CPORT', dst: '127.0.0.1|PORT|127.0.0.1', ci: '192.0.2.1:CPORT 127.0.0.1:PORT' } }
]

const setters = (port: number): string => head() + `frontend fe
    bind 127.0.0.1:${port}
    tcp-request content set-src req.hdr(x-tcp-src) if { req.hdr(x-tcp-src) -m found }
    http-request set-src hdr(x-src) if { hdr(x-src) -m found }
    http-request set-src-port hdr(x-sport) if { hdr(x-sport) -m found }
    http-request set-dst hdr(x-dst) if { hdr(x-dst) -m found }
    http-request set-dst-port hdr(x-dport) if { hdr(x-dport) -m found }
    http-request return status 200 hdr x-src "%[src]|%[src_port]|%[fc_src]|%[fc_src_port]" hdr x-dst "%[dst]|%[dst_port]|%[fc_dst]" hdr x-ci "%ci:%cp %fi:%fp"
`

/** Requests on one keep-alive connection: each answer's headers, and the client's own port. */
async function onOneConnection (port: number, requests: Array<Record<string, string>>): Promise<{ answers: string[], cport: number }> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let got = ''
    socket.on('data', (d: Buffer) => { got += d.toString('latin1') })
    socket.on('error', reject)
    socket.once('connect', () => {
      const cport = socket.localPort
      socket.write(requests.map((h, i) => `GET / HTTP/1.1\r\nHost: a\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}${i === requests.length - 1 ? 'Connection: close\r\n' : ''}\r\n`).join(''))
      socket.once('close', () => resolve({ answers: got.split(/(?=HTTP\/1\.1 )/), cport: cport ?? 0 }))
    })
  })
}

const header = (answer: string, name: string): string => new RegExp(`^${name}: (.*)$`, 'mi').exec(answer)?.[1]?.trim() ?? '(none)'

async function playSetters (label: 'haproxy' | 'ours'): Promise<void> {
  const proxy = await startProxy(label, setters)
  try {
    for (const c of CASES) {
      // a second request on the same connection starts from the connection's addresses again
      const { answers, cport } = await onOneConnection(proxy.port, [c.headers, {}])
      const fill = (s: string): string => s.replace(/CPORT/g, String(cport)).replace(/PORT/g, String(proxy.port))
      const seen = (a: string): Case['seen'] => ({ src: header(a, 'x-src'), dst: header(a, 'x-dst'), ci: header(a, 'x-ci') })
      assert.deepEqual(seen(answers[0]!), { src: fill(c.seen.src), dst: fill(c.seen.dst), ci: fill(c.seen.ci) }, `${label}: ${JSON.stringify(c.headers)}`)
      assert.deepEqual(seen(answers[1]!), { src: fill(CASES[1]!.seen.src), dst: fill(CASES[1]!.seen.dst), ci: fill(CASES[1]!.seen.ci) }, `${label}: the next request after ${JSON.stringify(c.headers)}`)
    }
  } finally {
    await proxy.stop()
  }
}

test('set-src, set-dst, set-src-port, set-dst-port: the stream\'s addresses (as recorded from HAProxy 2.6.12)', async () => {
  await playSetters('ours')
})

test('set-src and co: the recordings hold on real HAProxy', { skip: skipWithoutHaproxy }, async () => {
  await playSetters('haproxy')
})

/** The vtest except-forwardfor-originalto's networks, and a renamed header. */
const EXCEPT: Array<{ path: string, addr: string, header: boolean }> = [
  { path: '/be1', addr: '127.0.0.1', header: false },
  { path: '/be1', addr: '127.0.0.2', header: true },
  { path: '/be2', addr: '10.0.0.1', header: false },
  { path: '/be2', addr: '10.0.0.127', header: false },
  { path: '/be2', addr: '10.0.0.128', header: true },
  { path: '/be3', addr: '::1', header: false },
  { path: '/be3', addr: '::2', header: true },
  { path: '/be4', addr: '2001:db8:1f89::1', header: false },
  { path: '/be4', addr: '2001:db8:1f90::1', header: true },
  { path: '/be4', addr: '10.0.0.1', header: true },
  { path: '/be5', addr: '10.0.0.1', header: true }
]

async function playExcept (label: 'haproxy' | 'ours'): Promise<void> {
  const upstream = await startUpstream('s1')
  const backend = (name: string, lines: string[]): string => `backend ${name}\n${lines.map(l => `    ${l}\n`).join('')}    server s1 127.0.0.1:${upstream.port}\n`
  const proxy = await startProxy(label, (port) => head() + `frontend fe
    bind 127.0.0.1:${port}
    http-request set-src hdr(x-src)
    http-request set-dst hdr(x-dst)
    use_backend %[path,regsub(^/,)]
` + backend('be1', ['option forwardfor except 127.0.0.1', 'option originalto except 127.0.0.1']) +
    backend('be2', ['option forwardfor except 10.0.0.1/25', 'option originalto except 10.0.0.1/255.255.255.128']) +
    backend('be3', ['option forwardfor except ::1', 'option originalto except ::1']) +
    backend('be4', ['option forwardfor except 2001:db8:1f89::/48', 'option originalto except 2001:db8:1f89::/48']) +
    backend('be5', ['option forwardfor header X-Client', 'option originalto header X-Dest']))
  try {
    for (const c of EXCEPT) {
      const before = upstream.seen.length
      const answer = await send(proxy.port, { path: c.path, headers: { 'x-src': c.addr, 'x-dst': c.addr } })
      assert.equal(answer.status, 200, `${label}: ${c.path} ${c.addr}`)
      const seen = upstream.seen[before]!.headers.filter(([n]) => ['x-forwarded-for', 'x-original-to', 'x-client', 'x-dest'].includes(n))
      const names = c.path === '/be5' ? ['x-client', 'x-dest'] : ['x-forwarded-for', 'x-original-to']
      assert.deepEqual(seen, c.header ? names.map(n => [n, c.addr]) : [], `${label}: ${c.path} ${c.addr}`)
    }
  } finally {
    await proxy.stop()
    await upstream.close()
  }
}

test('option forwardfor|originalto except <IPv4 or IPv6 network>, header <name>: on the addresses set-src/set-dst gave', async () => {
  await playExcept('ours')
})

test('option forwardfor|originalto: the same on real HAProxy', { skip: skipWithoutHaproxy }, async () => {
  await playExcept('haproxy')
})

/** `tcp-request connection set-src` changes the connection's address; a PROXY header read after it still gives `src`. */
async function playConnectionRules (label: 'haproxy' | 'ours'): Promise<string[]> {
  // the second frontend listens on the same port of 127.0.0.2, and first: once the harness
  // reached the other one, both listen
  const proxy = await startProxy(label, (port) => head() + `frontend proxied
    bind 127.0.0.2:${port} accept-proxy
    tcp-request connection set-src int(167772161)
    http-request return status 200 hdr x-src "%[src]|%[fc_src]|%[dst_port]|%[fc_dst_port]"
frontend fe
    bind 127.0.0.1:${port}
    tcp-request connection set-src int(167772161)
    tcp-request connection set-dst-port int(8080)
    http-request return status 200 hdr x-src "%[src]|%[fc_src]|%[dst_port]|%[fc_dst_port]"
`)
  try {
    const { answers } = await onOneConnection(proxy.port, [{}, {}])
    const proxied = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(proxy.port, '127.0.0.2', () => { socket.write('PROXY TCP4 1.2.3.4 5.6.7.8 11 22\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n') })
      let got = ''
      socket.on('data', (d: Buffer) => { got += d.toString('latin1') })
      socket.on('error', reject)
      socket.on('close', () => resolve(got))
    })
    return [...answers, proxied].map(a => header(a, 'x-src').replace(`|${proxy.port}`, '|PORT'))
  } finally {
    await proxy.stop()
  }
}

const CONNECTION_RULES_SEEN = ['10.0.0.1|10.0.0.1|8080|8080', '10.0.0.1|10.0.0.1|8080|8080', '1.2.3.4|10.0.0.1|22|PORT']

test('tcp-request connection set-src|set-dst-port in an HTTP proxy: the connection\'s addresses, for every request on it', async () => {
  assert.deepEqual(await playConnectionRules('ours'), CONNECTION_RULES_SEEN)
})

test('tcp-request connection set-src: the same on real HAProxy', { skip: skipWithoutHaproxy }, async () => {
  assert.deepEqual(await playConnectionRules('haproxy'), CONNECTION_RULES_SEEN)
})
