// Log variables checked against real HAProxy on the same traffic: `%TR` (from the request's first
// byte to the end of its head), `%bi` / `%bp` (the server connection's source), the request's
// parts on a `<BADREQ>` line, and `option dontlognull` with a head that began but never ended
// (HAProxy's 408 `cR--`) beside connections that sent nothing (no line).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { head, skipWithoutHaproxy, startUpstream } from '../differential/harness.js'
import { bothProxies } from './syslog.js'

function config (log: number, up: number) {
  return (port: number): string => `${head(['option dontlognull', 'timeout http-request 1s'])}
frontend fe1
    bind 127.0.0.1:${port}
    log 127.0.0.1:${log} local0
    log-format "%ST %tsc HM=%HM HP=%HP HPO=%HPO HQ=%HQ HU=%HU HV=%HV bi=%bi bp=%bp si=%si sp=%sp TR=%TR r=%{+Q}r"
    default_backend be
backend be
    server app1 127.0.0.1:${up}
`
}

/** Writes `parts` on a new connection, `pause` ms apart, and waits for the proxy to close it. */
async function raw (port: number, parts: string[], pause: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.resume()
  const closed = new Promise(resolve => socket.once('close', resolve))
  await new Promise(resolve => socket.once('connect', resolve))
  for (const [i, p] of parts.entries()) {
    if (i > 0) await new Promise(resolve => setTimeout(resolve, pause))
    socket.write(p)
  }
  await closed
}

/** A line with its ports and times made comparable: `%TR` only says whether the head came slowly. */
const comparable = (line: string, up: number): string => line
  .replace(/^.*?\]: /, '')
  .replace(/ bp=\d+/, ' bp=P')
  .replace(` sp=${up}`, ' sp=UP')
  .replace(/ TR=(\d+)/, (_m, n: string) => ` TR=${Number(n) >= 200 ? 'slow' : 'fast'}`)
  .trim()

test('%TR, %bi/%bp, <BADREQ> parts and dontlognull on an unfinished head, as HAProxy logs them', { skip: skipWithoutHaproxy }, async (t) => {
  const upstream = await startUpstream('app1')
  t.after(() => upstream.close())
  const seen = await bothProxies(log => config(log, upstream.port), async (port, syslog) => {
    const close = 'Host: x\r\nConnection: close\r\n\r\n'
    await raw(port, [`GET /x?y=1 HTTP/1.1\r\n${close}`], 0)
    await syslog.wait(1)
    // the head arrives in two parts, 300 ms apart
    await raw(port, ['GET /slow', ` HTTP/1.1\r\n${close}`], 300)
    await syslog.wait(2)
    await raw(port, ['GARBAGE\r\n\r\n'], 0)
    await syslog.wait(3)
    // nothing sent: no line under dontlognull
    await raw(port, [''], 0)
    // a head that began and never ended: 408 when `timeout http-request` expires
    await raw(port, ['GET /a'], 0)
    await syslog.wait(4, 8000)
    return syslog.lines.map(l => comparable(l, upstream.port))
  })
  assert.deepEqual(seen.ours, seen.haproxy)
  assert.deepEqual(seen.ours, [
    '200 ---- HM=GET HP=/x HPO=/x HQ=?y=1 HU=/x?y=1 HV=HTTP/1.1 bi=127.0.0.1 bp=P si=127.0.0.1 sp=UP TR=fast r="GET /x?y=1 HTTP/1.1"',
    '200 ---- HM=GET HP=/slow HPO=/slow HQ= HU=/slow HV=HTTP/1.1 bi=127.0.0.1 bp=P si=127.0.0.1 sp=UP TR=slow r="GET /slow HTTP/1.1"',
    '400 PR-- HM=<BADREQ> HP=<BADREQ> HPO=<BADREQ> HQ=<BADREQ> HU=<BADREQ> HV=<BADREQ> bi=- bp=- si=- sp=- TR=-1 r="<BADREQ>"',
    '408 cR-- HM=<BADREQ> HP=<BADREQ> HPO=<BADREQ> HQ=<BADREQ> HU=<BADREQ> HV=<BADREQ> bi=- bp=- si=- sp=- TR=-1 r="<BADREQ>"'
  ])
})
