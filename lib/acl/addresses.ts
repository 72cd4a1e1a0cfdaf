// `set-src`, `set-dst`, `set-src-port`, `set-dst-port` (configuration.txt §4.2, in `http-request`
// and `tcp-request connection|content` rules): the stream's addresses become an expression's
// value. As observed on HAProxy 2.6.12: only the stream is changed (the next request on the
// connection starts from the connection's addresses again, and `fc_src` … keep them); a value
// that is no address (or no integer, for a port) changes nothing; an IPv4-mapped IPv6 address
// stays written as IPv6; a port wraps past 65535.

import { formatV4, formatV6, parseAddr } from './ip.js'
import { compileExpr, parseExpr } from './expr.js'
import type { CompileEnv } from './env.js'
import { RuleArgError, TrailingWordError, type Action } from './rules.js'
import { toInt, toStr, type Sample } from './sample.js'
import type { HttpTxn } from './txn.js'
import type { ConnectionAddresses } from '../proxy-protocol.js'

/** The address text a sample stands for (an integer is an IPv4 address, as HAProxy casts it), or null. */
function addressOf (v: Sample): string | null {
  if (typeof v === 'number') return formatV4(v)
  const text = toStr(v)
  const a = parseAddr(text)
  if (a === null) return null
  if (a.v6) return formatV6(a.n)
  const dotted = formatV4(a.n)
  return text.includes(':') ? `::ffff:${dotted}` : dotted
}

/** Before the first change, the connection's own endpoints are kept for `fc_src` … */
function keepConnection (t: HttpTxn): void {
  t.connection ??= { src: t.src, srcPort: t.srcPort, dst: t.dst, dstPort: t.dstPort }
}

const SETTERS: Record<string, (t: HttpTxn, v: Sample) => void> = {
  'set-src': (t, v) => { const a = addressOf(v); if (a !== null) { keepConnection(t); t.src = a } },
  'set-dst': (t, v) => { const a = addressOf(v); if (a !== null) { keepConnection(t); t.dst = a } },
  'set-src-port': (t, v) => { const n = toInt(v); if (n !== null) { keepConnection(t); t.srcPort = n & 0xffff } },
  'set-dst-port': (t, v) => { const n = toInt(v); if (n !== null) { keepConnection(t); t.dstPort = n & 0xffff } }
}

/** One of the four actions, or null for any other action name. */
export function addressAction (name: string, args: string[], env: CompileEnv): Action | null {
  const set = SETTERS[name]
  if (set === undefined) return null
  if (args.length === 0) throw new RuleArgError('missing fetch method')
  if (args.length > 1) throw new TrailingWordError(args[1])
  const expr = compileExpr(parseExpr(args[0]!), env)
  return (t, r) => {
    const v = expr.one(t, r)
    if (v !== null) set(t, v)
    return null
  }
}

const kConnectionAddresses = Symbol('fastify-haproxy.connectionAddresses')

/**
 * After `tcp-request connection set-src|set-dst…` in an HTTP proxy: the connection's addresses
 * become the rules' (its requests start from them, and `fc_src` … report them, as in HAProxy).
 */
export function keepConnectionAddresses (socket: object, t: HttpTxn): void {
  if (t.connection === undefined) return
  (socket as { [kConnectionAddresses]?: ConnectionAddresses })[kConnectionAddresses] = { src: t.src, srcPort: t.srcPort, dst: t.dst, dstPort: t.dstPort }
}

/** The addresses `tcp-request connection` rules gave the connection, if they changed any. */
export function connectionAddresses (socket: object): ConnectionAddresses | undefined {
  const s = socket as { [kConnectionAddresses]?: ConnectionAddresses, _parent?: { [kConnectionAddresses]?: ConnectionAddresses } }
  return s[kConnectionAddresses] ?? s._parent?.[kConnectionAddresses]
}
