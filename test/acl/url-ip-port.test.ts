// `url_ip` and `url_port` (configuration.txt §7.3.6): the IPv4 address and port of an
// absolute-form target's authority. The expected answers were recorded with HAProxy 2.6.12 on
// loopback; when it is installed, the same requests go to it too.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { haproxyBin, head, startProxy, type Proxied } from '../differential/harness.js'
import { rawRequest } from '../gateway/fixtures.js'

/** Request target, Host → body of `ip=[%[url_ip]] port=[%[url_port]] m=[%[url_ip,ipmask(24)]]`. */
const CASES: Array<[string, string, string]> = [
  ['http://10.1.2.3/x', '10.1.2.3', 'ip=[10.1.2.3] port=[80] m=[10.1.2.0]'],
  ['http://10.1.2.3:8080/x', '10.1.2.3:8080', 'ip=[10.1.2.3] port=[8080] m=[10.1.2.0]'],
  ['https://10.1.2.3/x', '10.1.2.3', 'ip=[10.1.2.3] port=[443] m=[10.1.2.0]'],
  ['http://010.1.2.3/x', '010.1.2.3', 'ip=[10.1.2.3] port=[80] m=[10.1.2.0]'],
  ['http://10.1.2.3:99999/x', '10.1.2.3:99999', 'ip=[10.1.2.3] port=[34463] m=[10.1.2.0]'],
  ['http://10.1.2.3:abc/x', '10.1.2.3:abc', 'ip=[10.1.2.3] port=[0] m=[10.1.2.0]'],
  ['http://example.com:81/x', 'example.com:81', 'ip=[] port=[] m=[]'],
  ['http://[::1]:82/x', '[::1]:82', 'ip=[] port=[] m=[]'],
  ['http://u@10.1.2.3:83/x', '10.1.2.3:83', 'ip=[] port=[] m=[]'],
  ['/x', '1.2.3.4:80', 'ip=[] port=[] m=[]']
]

const config = (port: number): string => `${head()}
frontend fe
    bind 127.0.0.1:${port}
    http-request return status 200 content-type text/plain lf-string "ip=[%[url_ip]] port=[%[url_port]] m=[%[url_ip,ipmask(24)]]"
`

test('url_ip and url_port read the absolute-form authority as HAProxy 2.6.12 does', async (t) => {
  const proxies: Proxied[] = [await startProxy('ours', config)]
  t.after(async () => { for (const p of proxies) await p.stop() })
  if (haproxyBin !== null) proxies.push(await startProxy('haproxy', config))
  for (const proxy of proxies) {
    for (const [target, host, expected] of CASES) {
      const r = await rawRequest(proxy.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
      assert.equal(r.status, 200, `${proxy.label}: ${target}`)
      assert.equal(r.text, expected, `${proxy.label}: ${target}`)
    }
  }
})

test('an ACL on url_ip matches the authority\'s address against a network', async (t) => {
  const proxy = await startProxy('ours', (port) => `${head()}
frontend fe
    bind 127.0.0.1:${port}
    acl private url_ip 10.0.0.0/8 192.168.0.0/16
    http-request deny if private
    http-request return status 200
`)
  t.after(() => proxy.stop())
  const ask = async (target: string, host: string): Promise<number> =>
    (await rawRequest(proxy.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).status
  assert.equal(await ask('http://10.9.8.7/x', '10.9.8.7'), 403)
  assert.equal(await ask('http://192.168.1.1:8080/x', '192.168.1.1:8080'), 403)
  assert.equal(await ask('http://8.8.8.8/x', '8.8.8.8'), 200)
  assert.equal(await ask('/x', '10.9.8.7'), 200)
})
