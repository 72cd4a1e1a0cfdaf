// The `ring` and `log-forward` sections (configuration.txt §3.9, §3.10): a ring holds log lines
// for TCP syslog servers, a log-forward section receives syslog lines and sends them to its
// `log` targets. Messages are HAProxy 2.6's, recorded with `haproxy -c`.

import { DEFAULT_BUFSIZE, type LogForward, type LogFraming, type Loc, type Ring } from './model.js'
import type { DiagnosticList } from './diagnostics.js'
import { atoi, parseAddress, parseTime } from './args.js'
import { LOG_FORMATS, parseLogTarget } from './keywords.js'

export function newRing (name: string, loc: Loc): Ring {
  return { name, format: 'raw', maxLen: DEFAULT_BUFSIZE, size: DEFAULT_BUFSIZE, timeoutConnect: null, timeoutServer: null, servers: [], loc }
}

export function newLogForward (name: string, loc: Loc): LogForward {
  return { name, binds: [], dgramBinds: [], logs: [], maxconn: 10, backlog: null, timeoutClient: null, loc }
}

/** Server parameters a ring's TCP connection has no use for in Node: accepted, with a warning. */
const RING_SERVER_INERT = new Set(['check', 'inter', 'fall', 'rise', 'weight', 'maxconn', 'send-proxy', 'send-proxy-v2', 'resolvers', 'init-addr'])

/** One line of a `ring` section. */
export function ringLine (r: Ring, args: string[], loc: Loc, diags: DiagnosticList, env: Record<string, string | undefined>): void {
  const kw = args[0]!
  const alert = (m: string): void => { diags.alert(m, loc, kw) }
  switch (kw) {
    case 'description': return
    case 'backing-file': return diags.warn(`'backing-file' is ignored by fastify-haproxy: the ring stays in memory.`, loc, kw)
    case 'format':
      if (!LOG_FORMATS.includes(args[1] as LogFraming)) return alert(`unable to set format '${args[1] ?? ''}'.`)
      r.format = args[1] as LogFraming
      return
    case 'maxlen': {
      const n = atoi(args[1] ?? '')
      if (!(n > 0) || !/^\d/.test(args[1] ?? '')) return alert(`unable to set event max length '${args[1] ?? ''}'.`)
      r.maxLen = Math.min(n, r.size)
      return
    }
    case 'size': {
      const n = atoi(args[1] ?? '')
      if (!(n > 0) || !/^\d/.test(args[1] ?? '')) return alert(`invalid size '${args[1] ?? ''}' for new sink buffer.`)
      r.size = n
      return
    }
    case 'timeout': {
      const t = parseTime(args[2] ?? '')
      if (args[1] !== 'connect' && args[1] !== 'server') return alert(`'timeout' expects 'connect' or 'server' (got '${args[1] ?? ''}').`)
      if (!t.ok) return alert(`'timeout ${args[1]}' expects <time> as argument.`)
      if (args[1] === 'connect') r.timeoutConnect = t.value
      else r.timeoutServer = t.value
      return
    }
    case 'server': {
      const name = args[1]
      if (name === undefined || args[2] === undefined) return alert("'server' expects <name> and <addr>[:<port>] as arguments.")
      const a = parseAddress(args[2], { portRequired: true, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: false, env })
      if (!a.ok) return alert(`'server ${r.name}/${name}' : ${a.error}`)
      if (a.value.family !== 'ipv4' && a.value.family !== 'ipv6') return alert(`'server ${r.name}/${name}' : only IPv4 and IPv6 syslog servers are supported by fastify-haproxy.`)
      let octetCount = false
      for (let i = 3; i < args.length; i++) {
        const p = args[i]!
        if (p === 'log-proto') {
          const v = args[++i]
          if (v !== 'legacy' && v !== 'octet-count') return alert(`'log-proto' expects one of 'legacy' or 'octet-count' but got '${v ?? ''}'.`)
          octetCount = v === 'octet-count'
        } else if (RING_SERVER_INERT.has(p)) {
          diags.warn(`'server ${r.name}/${name}' : '${p}' is ignored in a ring by fastify-haproxy.`, loc, kw)
          if (!['check', 'send-proxy', 'send-proxy-v2'].includes(p)) i++
        } else {
          return alert(`'server ${r.name}/${name}' : '${p}' is not supported in a ring by fastify-haproxy.`)
        }
      }
      r.servers.push({ name, host: a.value.host, port: a.value.port, octetCount, loc })
    }
  }
}

/** One line of a `log-forward` section. */
export function logForwardLine (f: LogForward, args: string[], loc: Loc, diags: DiagnosticList, env: Record<string, string | undefined>): void {
  const kw = args[0]!
  const alert = (m: string): void => { diags.alert(m, loc, kw) }
  switch (kw) {
    case 'bind':
    case 'dgram-bind': {
      if (args[1] === undefined) return alert(`'${kw}' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.`)
      for (const one of args[1].split(',')) {
        const a = parseAddress(one, { portRequired: true, allowRange: false, allowOffset: false, allowFqdn: false, allowZeroPort: true, env })
        if (!a.ok) return alert(`'${kw}' : ${a.error}`)
        if (a.value.family !== 'ipv4' && a.value.family !== 'ipv6') return alert(`'${kw} ${one}' : only IPv4 and IPv6 addresses are supported by fastify-haproxy.`)
        ;(kw === 'bind' ? f.binds : f.dgramBinds).push({ host: a.value.host, port: a.value.port, loc })
      }
      if (args.length > 2) diags.warn(`'${kw}' options are ignored by fastify-haproxy in a log-forward section (${args.slice(2).join(' ')}).`, loc, kw)
      return
    }
    case 'log': {
      if (args[1] === 'global' && args[2] === undefined) { f.logs.push('global'); return }
      const target = parseLogTarget(args, alert, m => { diags.warn(m, loc, kw) }, env, loc)
      if (target !== null) f.logs.push(target)
      return
    }
    case 'maxconn':
      f.maxconn = atoi(args[1] ?? '')
      return
    case 'backlog':
      f.backlog = atoi(args[1] ?? '')
      return
    case 'timeout': {
      if (args[1] !== 'client') return alert(`'timeout' supports 'client' (got '${args[1] ?? ''}').`)
      const t = parseTime(args[2] ?? '')
      if (!t.ok) return alert(`'timeout client' expects <time> as argument.`)
      f.timeoutClient = t.value
    }
  }
}
