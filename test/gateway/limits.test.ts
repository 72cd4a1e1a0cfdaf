// Session limits in the stats (`slim`) against real HAProxy 2.6: a frontend's maxconn (its own,
// its defaults', `global maxconn`, else the default HAProxy computes from the file-descriptor
// limit) and a backend's fullconn (a tenth of the maxconn of the frontends that route to it).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startProxy, freePort, skipWithoutHaproxy } from '../differential/harness.js'
import { HTTP_DEFAULTS, gatewayApp, get, upstream } from './fixtures.js'

/** `pxname/svname` → slim, for every row. */
function limits (csv: string): Record<string, string> {
  const lines = csv.trim().split('\n')
  const slim = lines[0]!.replace(/^# /, '').split(',').indexOf('slim')
  return Object.fromEntries(lines.slice(1).map(l => { const v = l.split(','); return [`${v[0]}/${v[1]}`, v[slim]!] }))
}

const variants: Array<{ name: string, global: string, fe: string }> = [
  { name: 'no maxconn anywhere: HAProxy\'s default from the fd limit', global: '', fe: '' },
  { name: 'global maxconn', global: 'global\n    maxconn 500\n', fe: '' },
  { name: 'frontend maxconn beside global maxconn', global: 'global\n    maxconn 500\n', fe: '    maxconn 77\n' }
]

for (const v of variants) {
  test(`slim equals real HAProxy's: ${v.name}`, { skip: skipWithoutHaproxy }, async (t) => {
    const up = await upstream('up')
    t.after(() => up.close())
    const statsPort = await freePort()
    const config = (port: number): string => `${v.global}
${HTTP_DEFAULTS}frontend fe
    bind 127.0.0.1:${port}
${v.fe}    use_backend other if { path_beg /other }
    default_backend be
backend be
    server s1 ${up.addr} check inter 10s
    server s2 ${up.addr} check inter 10s
backend other
    server s1 ${up.addr}
listen stats
    bind 127.0.0.1:${statsPort}
    stats enable
    stats uri /st
`
    const haproxy = await startProxy('haproxy', config)
    t.after(() => haproxy.stop())
    const ours = await gatewayApp(config(await freePort()))
    t.after(() => ours.app.close())
    const expected = limits((await get(statsPort, '/st;csv')).text)
    const actual = limits((await get(ours.port, '/st;csv')).text)
    assert.ok(Number(expected['fe/FRONTEND']) > 0, 'HAProxy shows a limit')
    assert.deepEqual(actual, expected)
  })
}
