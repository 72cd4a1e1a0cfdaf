// Agent checks (`agent-check`): a real TCP agent on 127.0.0.1 answers, the server follows. The
// answers and the texts expected for them (stats info, log lines) are the ones haproxy 2.6.12
// gave for the same answers (recorded with `option log-health-checks`, `show stat`).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { backendOf, closedPort, Log, server } from './helpers.js'
import { waitFor } from '../gateway/fixtures.js'
import { HealthChecker } from '../../lib/runtime/health.js'
import { agentResult, parseAgentAnswer } from '../../lib/runtime/agent.js'

test('agent answers: the words, the description after #, and what 2.6 reports for them', () => {
  assert.deepEqual(parseAgentAnswer('75%,maxconn:30,maint,down'), { weightPercent: 75, maxconn: 30, admin: 'maint', state: 'down' })
  assert.deepEqual(parseAgentAnswer(''), { state: 'up' })
  assert.deepEqual(parseAgentAnswer('50% fail #the reason'), { weightPercent: 50, state: 'fail', description: 'the reason' })
  assert.deepEqual(parseAgentAnswer('down#some text here'), { unknown: 'down#some' })
  assert.deepEqual(parseAgentAnswer('foo bar'), { unknown: 'foo' })
  assert.deepEqual(parseAgentAnswer('ready\tUP'), { admin: 'ready', state: 'up' })
  const r = (line: string): string => { const x = agentResult(parseAgentAnswer(line), 1); return `${x.status} ${x.code ?? '-'} ${x.desc}` }
  assert.equal(r('up'), 'L7OK 0 via agent : up')
  assert.equal(r('stopped'), 'L7STS 0 via agent : stopped')
  assert.equal(r('50% fail #the reason'), 'L7STS 0 via agent : fail (the reason)')
  assert.equal(r('75%'), 'CHECKED - ')
  assert.equal(r('foo bar'), 'CHECKED - agent reports an error : foo')
})

/** An agent answering the current `reply` to each connection, recording what it was sent. */
async function agent (): Promise<{ port: number, reply: string, received: string[], close (): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const a = {
    port: 0,
    reply: 'up\n',
    received: [] as string[],
    close: () => new Promise<void>(resolve => { for (const s of sockets) s.destroy(); srv.close(() => resolve()) })
  }
  const srv = net.createServer(sock => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.on('error', () => {})
    let got = ''
    sock.on('data', d => { got += d.toString('latin1') })
    setTimeout(() => { a.received.push(got); sock.end(a.reply) }, 10)
  })
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  a.port = (srv.address() as net.AddressInfo).port
  return a
}

const head = 'defaults\n  mode tcp\n  timeout connect 1s\nbackend be\n  option log-health-checks\n'

test('agent check: weight, maxconn, maint and down at once, then ready and up bring the server back', async (t) => {
  const ag = await agent()
  t.after(() => ag.close())
  const log = new Log()
  const be = backendOf(`${head}  server srv 127.0.0.1:1 weight 100 agent-check agent-addr 127.0.0.1 agent-port ${ag.port} agent-send "pouet" agent-inter 30\n`, log)
  const s = server(be, 'srv')
  const hc = new HealthChecker([be])
  hc.start()
  t.after(() => hc.stop())
  await waitFor(() => s.agent?.last.status === 'L7OK', 'first answer')
  assert.equal(ag.received[0], 'pouet')
  assert.equal(s.agent?.last.desc, 'via agent : up')
  assert.equal(log.lines[0], 'Agent check for server be/srv succeeded, reason: Layer7 check passed, code: 0, info: "via agent : up", check duration: ' + String(s.agent?.last.duration) + 'ms, status: 1/1 UP.')

  ag.reply = '75%,maxconn:30,maint,down\n'
  await waitFor(() => s.admin === 'maint', 'maint')
  assert.equal(s.op, 'down')
  assert.equal(s.uweight, 75)
  assert.equal(s.maxconn, 30)
  assert.equal(s.agent?.up, false)
  // (the backend's "has no server available!" comes between, as with haproxy)
  const lines = log.lines.slice(1).filter(l => !l.startsWith('backend')).map(l => l.replace(/\d+ms/, 'Nms'))
  assert.deepEqual(lines.slice(0, 2), [
    'Server be/srv is going DOWN for maintenance. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    'Agent check for server be/srv failed, reason: Layer7 wrong status, code: 0, info: "via agent : down", check duration: Nms, status: 0/1 DOWN.'
  ])

  ag.reply = 'ready up 100%\n'
  await waitFor(() => s.op === 'up', 'back up')
  assert.equal(s.admin, 'ready')
  assert.equal(s.uweight, 100)
  assert.ok(log.lines.includes('Server be/srv is UP/READY (leaving forced maintenance).'))

  ag.reply = 'stopped\n'
  await waitFor(() => s.op === 'down', 'down by the agent')
  assert.equal(s.admin, 'ready')
  assert.ok(log.lines.includes('Server be/srv is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.'))
})

test('agent check: an agent that cannot be reached changes nothing (L4CON, still UP)', async (t) => {
  const port = await closedPort()
  const log = new Log()
  const be = backendOf(`${head}  server srv 127.0.0.1:1 agent-check agent-port ${port} agent-inter 30\n`, log)
  const s = server(be, 'srv')
  const hc = new HealthChecker([be])
  hc.start()
  t.after(() => hc.stop())
  await waitFor(() => s.agent?.last.status === 'L4CON', 'refused')
  assert.equal(s.agent?.last.desc, 'Connection refused')
  assert.equal(s.op, 'up')
  assert.match(log.lines[0] ?? '', /^Agent check for server be\/srv failed, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms, status: 1\/1 UP\.$/)
})
