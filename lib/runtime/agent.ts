// Agent checks (configuration.txt §5.2 `agent-check`, `agent-addr`, `agent-port`, `agent-inter`,
// `agent-send`): every agent-inter the server's agent is asked over TCP (the `agent-send` string,
// if any) and answers one line of words separated by spaces, tabs or commas: a weight `N%`,
// `maxconn:N`, an administrative state (`ready`, `drain`, `maint`) and an operational one
// (`up`, `down`, `stopped`, `fail`), `#` then a description. Texts are the ones haproxy 2.6
// reports (recorded: "via agent : down", "agent reports an error : foo", CHECKED "No status
// change"). An agent that cannot be reached changes nothing: the health check owns connectivity.

import net from 'node:net'
import { connectErrorText } from './socket-errors.js'
import type { CheckResult, ServerAdminState } from './state.js'

/** What one answer asks for; words it does not carry stay undefined. */
export interface AgentAnswer {
  /** Percentage of the configured weight. */
  weightPercent?: number
  maxconn?: number
  admin?: ServerAdminState
  state?: 'up' | 'down' | 'stopped' | 'fail'
  /** The text after `#`, for the check's info. */
  description?: string
  /** The first word that is none of the above: the whole answer is then ignored. */
  unknown?: string
}

const SEPARATORS = /[ \t,]+/
/** `#` at the start of a word begins the description (`down#x` is one unknown word). */
const DESCRIPTION = /(?:^|[ \t,])#(.*)$/

/** Reads the first line of an agent's answer (an empty line means `up`). */
export function parseAgentAnswer (line: string): AgentAnswer {
  const answer: AgentAnswer = {}
  const hash = DESCRIPTION.exec(line)
  const words = (hash === null ? line : line.slice(0, hash.index)).split(SEPARATORS).filter(w => w !== '')
  if (words.length === 0 && hash === null) return { state: 'up' }
  for (const w of words) {
    const lower = w.toLowerCase()
    if (/^\d+%$/.test(w)) answer.weightPercent = Number(w.slice(0, -1))
    else if (lower.startsWith('maxconn:') && /^\d+$/.test(w.slice(8))) answer.maxconn = Number(w.slice(8))
    else if (lower === 'ready' || lower === 'drain' || lower === 'maint') answer.admin = lower
    else if (lower === 'up' || lower === 'down' || lower === 'stopped' || lower === 'fail') answer.state = lower
    else return { unknown: w }
  }
  if (hash !== null) answer.description = hash[1]!.trim()
  return answer
}

/** The agent's verdict as the stats show it (`agent_status`, `last_agt`). */
export function agentResult (answer: AgentAnswer, duration: number): CheckResult {
  if (answer.unknown !== undefined) return { status: 'CHECKED', code: null, duration, desc: `agent reports an error : ${answer.unknown}` }
  if (answer.state === undefined) return { status: 'CHECKED', code: null, duration, desc: '' }
  const desc = `via agent : ${answer.state}${answer.description ? ` (${answer.description})` : ''}`
  return { status: answer.state === 'up' ? 'L7OK' : 'L7STS', code: 0, duration, desc }
}

/** The server side of an agent check (implemented by ServerRuntime). */
export interface AgentTarget {
  readonly agent: AgentSettings | null
  /** The server's own port, for an agent without `agent-port`. */
  readonly port: number
  agentReport (result: CheckResult, answer: AgentAnswer | null): void
}

/** A server's agent: where it is, how often it is asked, and what it said last. */
export class AgentSettings {
  enabled = true
  /** The agent's last word on the operational state: false after down/stopped/fail. */
  up = true
  last: CheckResult = { status: 'INI', code: null, duration: null, desc: '' }
  running = false

  constructor (public host: string, public port: number, readonly inter: number, public send: string, public hostExplicit: boolean) {}
}

/** Answers are one line; more than a buffer is not read (HAProxy's tune.bufsize). */
const MAX_ANSWER = 16384

/** One server's agent check: a timer and, while asking, a socket. */
export class AgentTask {
  private timer: NodeJS.Timeout | null = null
  private socket: net.Socket | null = null
  private stopped = true

  constructor (readonly target: AgentTarget, private readonly timeout: number | undefined, private readonly spread: (inter: number) => number) {}

  get inter (): number { return this.agent.inter }

  start (delay: number): void {
    this.stopped = false
    this.schedule(delay)
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.close()
  }

  private schedule (ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => this.run(), ms)
    this.timer.unref()
  }

  private get agent (): AgentSettings {
    return this.target.agent as AgentSettings
  }

  private close (): void {
    const s = this.socket
    this.socket = null
    this.agent.running = false
    if (s === null) return
    s.removeAllListeners()
    s.on('error', () => {})
    s.destroy()
  }

  private run (): void {
    this.timer = null
    const agent = this.agent
    const started = Date.now()
    const next = (): void => { this.schedule(Math.max(0, started + this.spread(agent.inter) - Date.now())) }
    if (!agent.enabled) return next()
    let data = ''
    let done = false
    const finish = (result: CheckResult, answer: AgentAnswer | null): void => {
      if (done) return
      done = true
      clearTimeout(deadline)
      this.close()
      this.target.agentReport(result, answer)
      next()
    }
    const sock = net.connect({ host: agent.host, port: agent.port || this.target.port })
    this.socket = sock
    agent.running = true
    const deadline = setTimeout(() => {
      finish({ status: sock.connecting ? 'L4TOUT' : 'L7TOUT', code: null, duration: Date.now() - started, desc: '' }, null)
    }, this.timeout ?? agent.inter)
    deadline.unref()
    sock.setEncoding('latin1')
    sock.on('connect', () => { if (agent.send !== '') sock.write(agent.send) })
    const answered = (): void => {
      const eol = data.indexOf('\n')
      const line = (eol < 0 ? data : data.slice(0, eol)).replace(/\r$/, '')
      const answer = parseAgentAnswer(line)
      finish(agentResult(answer, Date.now() - started), answer)
    }
    sock.on('data', (chunk: string) => {
      data += chunk
      if (data.includes('\n') || data.length >= MAX_ANSWER) answered()
    })
    sock.on('end', () => {
      if (data !== '') return answered()
      // the step that read nothing: the connect, then the send when there is one
      finish({ status: 'L7RSP', code: null, duration: Date.now() - started, desc: `TCPCHK got an empty response at step ${agent.send !== '' ? 2 : 1}` }, null)
    })
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (sock.connecting || !sock.readable) finish({ status: 'L4CON', code: null, duration: Date.now() - started, desc: connectErrorText(err) }, null)
      else finish({ status: 'L7RSP', code: null, duration: Date.now() - started, desc: connectErrorText(err) }, null)
    })
  }
}
