// `show sess [<id>|all]` and `shutdown session <id>` (management.txt §9.3), in HAProxy 2.6's
// layout (recorded against 2.6.12 with socat). The fields tools read are the gateway's own: the
// id, protocol, source, frontend, backend, server, epoch and age, the file descriptors of the
// client side; the scheduler's figures (calls, rate, cpu, lat) and the channel flags have no
// counterpart in Node and read 0.

import type { Socket } from 'node:net'
import type { ParsedConfig } from '../config/model.js'
import type { Backend } from '../runtime/backend.js'
import type { LiveSession, SessionRegistry } from '../runtime/sessions.js'
import { dateMs } from '../log/format.js'
import { humanTime } from '../stats/html.js'

/** What the session commands need of the gateway. */
export interface SessionRuntime {
  readonly sessions: SessionRegistry
  readonly config: ParsedConfig
  runtimeBackends (): Backend[]
}

const hex = (n: number): string => n === 0 ? '0' : '0x' + n.toString(16)

function fd (socket: Socket): number {
  return (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1
}

function line (s: LiveSession, now: number): string {
  return `0x${s.id.toString(16)}: proto=${s.proto} src=${s.src} fe=${s.frontend} be=${s.route?.backend ?? '<NONE>'} srv=${s.route?.server ?? '<none>'}` +
    ` ts=00 epoch=${hex(s.epoch)} age=${humanTime(Math.max(0, (now - s.accepted) / 1000))} calls=0 rate=0 cpu=0 lat=0` +
    ' rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=]' +
    ` scf=[8,0h,fd=${fd(s.socket)}] scb=[8,0h,fd=-1] exp= rc=0 c_exp=\n`
}

/** A session's id as `show sess` prints it (`0x1f`), null when the text is not one. */
function idArg (text: string | undefined): number | null {
  if (text === undefined || !/^(0x)?[0-9a-fA-F]+$/.test(text)) return null
  return parseInt(text.replace(/^0x/, ''), 16)
}

/** `show sess [<id>|all]`: one line per session; one session's details by id. */
export function showSess (rt: SessionRuntime, arg: string | undefined): string {
  const now = Date.now()
  const id = idArg(arg)
  const listed = rt.sessions.listed()
  // every call starts an epoch: sessions opened from now on show the next number
  rt.sessions.epoch++
  if (id === null || id === 0) return listed.map(s => line(s, now)).join('') + '\n'
  const s = listed.find(x => x.id === id)
  return s === undefined ? 'Session not found.\n\n' : details(rt, s)
}

/** The first lines of `show sess <id>`: when and where from, frontend, backend and server. */
function details (rt: SessionRuntime, s: LiveSession): string {
  const local = `${s.socket.localAddress ?? ''}:${s.socket.localPort ?? ''}`
  const fe = rt.config.proxies.find(p => p.name === s.frontend && p.kind !== 'backend')
  const be = rt.runtimeBackends().find(b => b.name === s.route?.backend)
  const srv = be?.servers.find(x => x.name === s.route?.server)
  let out = `0x${s.id.toString(16)}: [${dateMs(s.accepted)}000] id=${s.id} proto=${s.proto} source=${s.src}\n`
  out += `  flags=0x0, conn_retries=0, conn_exp=<NEVER> conn_et=0x000 srv_conn=(nil), pend_pos=(nil) waiting=0 epoch=${hex(s.epoch)}\n`
  out += fe === undefined
    ? `  frontend=${s.frontend} (id=0 mode=cli), listener=? (id=0) addr=${local}\n`
    : `  frontend=${fe.name} (id=${fe.id} mode=${fe.mode}), listener=? (id=1) addr=${local}\n`
  out += be === undefined ? '  backend=<NONE> (id=-1 mode=-)\n' : `  backend=${be.name} (id=${be.id} mode=${be.proxy.mode})\n`
  out += srv === undefined ? '  server=<NONE> (id=-1)\n' : `  server=${srv.name} (id=${srv.id}) addr=${srv.host}:${srv.port}\n`
  return out + '\n'
}

/**
 * `shutdown session <id>`: an HTTP/1 request waiting for its server is answered a 502 (as HAProxy
 * 2.6.12 does), any other session's client connection is closed at once.
 */
export function shutdownSession (rt: SessionRuntime, arg: string | undefined): string {
  const id = idArg(arg)
  if (id === null) return "Session pointer expected (use 'show sess').\n\n"
  const s = rt.sessions.listed().find(x => x.id === id)
  if (s === undefined) return "No such session (use 'show sess').\n\n"
  if (s.kill?.('session shut down from the runtime API') !== true) s.socket.destroy()
  return '\n'
}
