// http-request rules, legacy redirect rules and use_backend switching, case by case: each case
// states what HAProxy 2.6 answers; the engine must give the same, and (when installed) real
// HAProxy is run on the same config to keep the expectations honest. Backends answer with
// `http-request return` so no upstream server is needed.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

import { checkExpressions } from '../../lib/acl/check.js'
import { compileProxy, type CompiledProxy } from '../../lib/acl/compile.js'
import { txnFromParts } from '../../lib/acl/make-txn.js'
import type { Decision } from '../../lib/acl/txn.js'
import { parseConfig } from '../../lib/config/parse.js'
import { Backend } from '../../lib/runtime/backend.js'
import { haproxyInstalled, send, withHaproxy, type Answer, type SentRequest } from './real-haproxy.js'

const dir = mkdtempSync(join(tmpdir(), 'acl-rules-'))
writeFileSync(join(dir, 'hosts.map'), 'a.test be_a\nb.test be_b\nnone.test be_missing\n')
writeFileSync(join(dir, '429.http'), 'HTTP/1.1 429 Too Many\r\nContent-Type: text/html\r\nX-E: 1\r\n\r\n<h1>slow</h1>\n')
after(() => rmSync(dir, { recursive: true, force: true }))

interface Expect {
  status: number
  body?: string
  location?: string
  realm?: string
  headers?: Record<string, string>
}

interface Case {
  name: string
  /** Sections after `defaults`; the frontend is `fe` and gets its bind line from the test. */
  config: string
  requests: Array<[SentRequest, Expect]>
}

const be = (name: string): string => `backend ${name}\n  http-request return status 200 content-type text/plain string ${name}\n`
const get = (url: string, headers?: Record<string, string>, method?: string): SentRequest => ({ url, headers, method })
const basic = (cred: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(cred).toString('base64')}` })

const CASES: Case[] = [
  {
    name: 'url_dec (+ after ?), json(utf8*), length of binary, bin(), cookies without a name',
    config: `frontend fe
  http-request return status 200 content-type text/plain lf-string "u0=%[url,url_dec] u1=%[url,url_dec(1)] j=%[str(\\xE0),json(utf8)] js=%[str(-\\xE0-\\xC3\\xA9),json(utf8s)] jp=%[str(\\xC1\\x81),json(utf8p)] ja=%[str(\\xE0),json] l=%[bin(00414243),length] l1=%[bin(00414243),bytes(1),length] b=%[bin(414243)] c=%[req.cook()] cv=%[req.cook_val()] cx=%[req.cook(x)]"
`,
    requests: [
      [get('/bla+%20?foo%3Dbar%2B42+42%20', { cookie: 'c1=7; x=1; c3=22; x=2' }), { status: 200, body: 'u0=/bla+ ?foo=bar+42 42  u1=/bla  ?foo=bar+42 42  j= js=--\\u00e9 jp=A ja=\\u00e0 l=0 l1=3 b=ABC c=7 cv=7 cx=2' }]
    ]
  },
  {
    name: 'add_item, be2dec, be2hex, digest, hmac, secure_memcmp, xxh3, xxh64, json_query and str()',
    config: `frontend fe
  http-request set-var(txn.v) str(VV)
  http-request set-var(txn.e) str()
  http-request set-var(txn.k) str(my_super_secret_long_key),base64
  http-request set-var(txn.h) req.hdr(x-h)
  http-request return status 200 content-type text/plain lf-string "ai1=%[path,add_item(',',txn.v,_s)] ai2=%[str(),add_item(',',txn.v)] ai3=%[path,add_item(',',txn.nope)] ai4=%[path,add_item(',',txn.e)] ai5=%[str(),add_item(',',,x)] bd=%[path,be2dec(:,3)] bdt=%[path,be2dec(-,2,1)] bd8=%[path,be2dec(,8)] bh=%[path,be2hex] bh2=%[path,be2hex(:,2,1)] bh3=%[path,be2hex(,2)]" if { path_beg /a }
  http-request return status 200 content-type text/plain lf-string "d1=%[path,digest(sha256),hex] d2=%[path,digest(SHA1),hex] h1=%[path,hmac(sha256,a2V5),hex] h2=%[path,hmac(sha1,txn.k),hex] h3=%[path,hmac(sha1,txn.nope),hex] sm=%[path,sha1,base64,secure_memcmp(txn.h)] sm2=%[path,secure_memcmp(txn.nope)] x3=%[path,xxh3] x3s=%[path,xxh3(-5)] x64=%[path,xxh64(7)]" if { path_beg /d }
  http-request return status 200 content-type text/plain lf-string "j1=%[req.fhdr(x-j),json_query('\\$.a')] j2=%[req.fhdr(x-j),json_query('\\$.b.c')] j3=%[req.fhdr(x-j),json_query('\\$.n','int')] j4=%[req.fhdr(x-j),json_query('\\$.f')] j5=%[req.fhdr(x-j),json_query('\\$.t')] j6=%[req.fhdr(x-j),json_query('\\$.l[1]')] j7=%[req.fhdr(x-j),json_query('\\$.o')] j8=%[req.fhdr(x-j),json_query('\\$.f','int')] j9=%[req.fhdr(x-j),json_query('\\$.my\\\\.key')] j10=%[req.fhdr(x-j),json_query('\\$.z')] j11=%[req.fhdr(x-j),json_query('\\$.big')] j14=%[req.fhdr(x-j),json_query('\\$.e')]" if { path_beg /j }
`,
    requests: [
      [get('/abcdefgh'), { status: 200, body: 'ai1=/abcdefgh,VV_s ai2=VV ai3=/abcdefgh ai4=/abcdefgh ai5=x bd=3105122:6513765:6711144 bdt=12129-25187-25701-26215 bd8=3414118171549197927104 bh=2F6162636465666768 bh2=2F61:6263:6465:6667 bh3=2F6162636465666768' }],
      [get('/d', { 'x-h': 'saX6bBBW/Oaxk2+BXSw1zm+SliM=' }), { status: 200, body: 'd1=4823E769DBAF8FB90F5EA4986C50C26D9635A66CF1E3C20454EDB3DE696A5B42 d2=B1A5FA6C1056FCE6B1936F815D2C35CE6F929623 h1=35623E6F89CD6D33843E0A49395192704E245D7B4064CB7739BE38805C549F49 h2=57C39688A4D5EA6B008DEC576070A0961FF052C0 h3= sm=1 sm2= x3=4139814838719834210 x3s=669712635782423047 x64=-4417188385957971505' }],
      [get('/j', { 'x-j': '{"a":"x/y","b":{"c":2},"n":-4,"f":4.5,"t":true,"l":[1,"two"],"o":{"p":1},"my.key":"mv","z":null,"big":12345678901234567890,"e":1e3}' }), { status: 200, body: 'j1=x/y j2=2 j3=-4 j4=4.5 j5=1 j6=two j7= j8=4 j9=mv j10= j11=1.23457e+19 j14=1000' }]
    ]
  },
  {
    name: 'hash converters compute what HAProxy computes (crc32, crc32c, djb2, sdbm, wt6, xxh32, avalanche)',
    config: `frontend fe
  http-request return status 200 content-type text/plain lf-string "crc=%[path,crc32] crca=%[path,crc32(1)] crcc=%[path,crc32c] djb=%[path,djb2] djba=%[path,djb2(1)] sdbm=%[path,sdbm] wt6=%[path,wt6] wt6a=%[path,wt6(1)] xxh=%[path,xxh32] xxhs=%[path,xxh32(7)]"
`,
    requests: [
      [get('/h/abc-123456789/x'), { status: 200, body: 'crc=2576665699 crca=135602275 crcc=2130651855 djb=3370974306 djba=473816233 sdbm=1703835581 wt6=826766440 wt6a=3178048918 xxh=508236192 xxhs=1325529468' }]
    ]
  },
  {
    name: 'digest, encoding and string converters (sha1, sha2, hex2i, ub64enc/dec, concat, iif, bytes, url_enc, http_date)',
    config: `frontend fe
  http-request set-var(txn.v) str(VV)
  http-request return status 200 content-type text/plain lf-string "sha1=%[path,sha1,hex] sha224=%[path,sha2(224),hex] h2i=%[str(ff),hex2i] h2ib=%[str(zz),hex2i] ub=%[path,ub64enc] ubd=%[str(L2E_),ub64dec] cat=%[path,concat(<,txn.v,>)] cat2=%[path,concat(,txn.nope,!)]" if { path_beg /c/ }
  http-request return status 200 content-type text/plain lf-string "iif=%[str(1),iif(yes,no)] iifs=%[str(abc),iif(yes,no)] by=%[path,bytes(1,3)] by9=%[path,bytes(99)] ue=%[path,url_dec,url_enc] hd=%[int(86400),http_date(3600)] hd2=%[int(1500000000003),http_date(0,ms)]"
`,
    requests: [
      [get('/c/x'), { status: 200, body: 'sha1=853950F4FABC2271BD3DCAC521FC7B1A187D1D0B sha224=B5FCF84C6A36DD2B9CFE45E5A8422E324D160E48D92A399DB513741A h2i=255 h2ib= ub=L2MveA ubd=/a? cat=/c/x<VV> cat2=/c/x!' }],
      [get('/i/a%20b+c/%C3%A9'), { status: 200, body: 'iif=yes iifs=no by=i/a by9= ue=%2Fi%2Fa%20b%2Bc%2F%C3%A9 hd=Fri, 02 Jan 1970 01:00:00 GMT hd2=Fri, 14 Jul 2017 02:40:00.3 GMT' }]
    ]
  },
  {
    name: 'method after set-method: a well-known original method stays, another reads the new line; capture.req.* keep the original',
    config: `frontend fe
  http-request set-method POST if { path /sm }
  http-request set-method FOO if { path /smx }
  http-request set-path /new%[path] if { path_beg /p/ }
  http-request return status 200 content-type text/plain lf-string "m=%[method] cm=%[capture.req.method] cu=%[capture.req.uri] cv=%[capture.req.ver] p=%[path]"
`,
    requests: [
      [get('/sm'), { status: 200, body: 'm=GET cm=GET cu=/sm cv=HTTP/1.1 p=/sm' }],
      [get('/sm', {}, 'PUT'), { status: 200, body: 'm=PUT cm=PUT cu=/sm cv=HTTP/1.1 p=/sm' }],
      [get('/smx', {}, 'PATCH'), { status: 200, body: 'm=FOO cm=PATCH cu=/smx cv=HTTP/1.1 p=/smx' }],
      [get('/p/x?y=1'), { status: 200, body: 'm=GET cm=GET cu=/p/x?y=1 cv=HTTP/1.1 p=/new/p/x' }]
    ]
  },
  {
    name: 'method ACLs after set-method match the method HAProxy parsed; an unknown one compares as text',
    config: `frontend fe
  http-request set-method POST if { path /sm }
  http-request set-method get if { path /sml }
  http-request return status 200 content-type text/plain lf-string "post m=%[method]" if METH_POST
  http-request return status 200 content-type text/plain lf-string "patchi m=%[method]" if { method -i patch }
  http-request return status 200 content-type text/plain lf-string "geti m=%[method]" if { method -i get }
  http-request return status 200 content-type text/plain lf-string "postlow m=%[method]" if { method -i post }
  http-request return status 200 content-type text/plain lf-string "none m=%[method]"
`,
    requests: [
      [get('/sm', {}, 'PATCH'), { status: 200, body: 'postlow m=POST' }],
      [get('/sm'), { status: 200, body: 'none m=GET' }],
      [get('/sml', {}, 'PATCH'), { status: 200, body: 'geti m=get' }],
      [get('/x', {}, 'PATCH'), { status: 200, body: 'patchi m=PATCH' }],
      [get('/x', {}, 'POST'), { status: 200, body: 'post m=POST' }],
      [get('/sml', {}, 'PUT'), { status: 200, body: 'none m=PUT' }]
    ]
  },
  {
    name: 'request fetches: http_auth_bearer, fc_*, fe_id, ipv4, req.hdr_names, baseq, req.cook_cnt/val, uuid',
    config: `frontend fe
  http-request return status 200 content-type text/plain lf-string "bearer=%[http_auth_bearer] x=%[http_auth_bearer(x-tok)] fcp=%[fc_rcvd_proxy] fe=%[fe_id] fcs=%[fc_src] ip4=%[ipv4(1.2.3.4)] names=%[req.hdr_names] n2=%[req.hdr_names(;x)] baseq=%[baseq] cc=%[req.cook_cnt(a)] cv=%[req.cook_val(a)] uuid=%[uuid,length]"
`,
    requests: [
      [get('/f?q=1', { authorization: 'Bearer  tok123 ', 'x-tok': 'bearer zz', cookie: 'a=12; b=2; a=3x' }), { status: 200, body: 'bearer=tok123 x=zz fcp=0 fe=1 fcs=127.0.0.1 ip4=1.2.3.4 names=host,authorization,x-tok,cookie n2=host;authorization;x-tok;cookie baseq=h.test/f?q=1 cc=2 cv=3 uuid=36' }],
      [get('/f', { authorization: 'Basic abc' }), { status: 200, body: 'bearer= x= fcp=0 fe=1 fcs=127.0.0.1 ip4=1.2.3.4 names=host,authorization n2=host;authorization baseq=h.test/f cc=0 cv= uuid=36' }]
    ]
  },
  {
    name: 'set-header replaces, add-header appends, del-header removes; log-format values',
    config: `frontend fe
  http-request set-header X-Set set-value
  http-request add-header X-Add added
  http-request del-header X-Del
  http-request set-header X-Src %[src]
  http-request set-header X-HP "%[req.hdr(host)]%[path]"
  http-request set-header X-Cond yes if { path_beg /cond }
  http-request return status 200 content-type text/plain lf-string "set=%[req.fhdr(x-set)] add=%[req.hdr(x-add,1)]/%[req.hdr(x-add,2)] cnt=%[req.hdr_cnt(x-add)] del=%[req.hdr_cnt(x-del)] src=%[req.hdr(x-src)] hp=%[req.hdr(x-hp)] cond=%[req.hdr(x-cond)]"
`,
    requests: [
      [get('/p', { 'x-set': 'old', 'x-add': 'client', 'x-del': 'gone' }), { status: 200, body: 'set=set-value add=client/added cnt=2 del=0 src=127.0.0.1 hp=h.test/p cond=' }],
      [get('/cond/x'), { status: 200, body: 'set=set-value add=added/ cnt=1 del=0 src=127.0.0.1 hp=h.test/cond/x cond=yes' }]
    ]
  },
  {
    name: 'replace-header rewrites the whole value, replace-value each comma-separated value',
    config: `frontend fe
  http-request replace-header X-R ^(.*)-old$ \\1-new
  http-request replace-value X-V ^a(.*) b\\1
  http-request return status 200 content-type text/plain lf-string "r=%[req.fhdr(x-r)] v=%[req.fhdr(x-v)]"
`,
    requests: [
      [get('/', { 'x-r': 'v-old', 'x-v': 'a1, c, a2' }), { status: 200, body: 'r=v-new v=b1, c,b2' }],
      [get('/', { 'x-r': 'v-older' }), { status: 200, body: 'r=v-older v=' }]
    ]
  },
  {
    name: 'path and query rewrites are seen by later rules; the path is never decoded',
    config: `frontend fe
  http-request set-path /v2%[path] if { path_beg /users }
  http-request replace-path /api/(.*) /\\1 if { path_beg /api/ }
  http-request set-query x=1 if { path_beg /q }
  http-request set-uri /u?y=2 if { path /seturi }
  http-request replace-uri ^/old/(.*) /new/\\1 if { path_beg /old/ }
  http-request return status 201 content-type text/plain lf-string "%[method] %[path] q=%[query]" if { path_beg /v2/ }
  http-request return status 200 content-type text/plain lf-string "%[method] %[path] q=%[query]"
`,
    requests: [
      [get('/users/7?z=9'), { status: 201, body: 'GET /v2/users/7 q=z=9' }],
      [get('/api/items/3?k=v'), { status: 200, body: 'GET /items/3 q=k=v' }],
      [get('/q/search?old=1'), { status: 200, body: 'GET /q/search q=x=1' }],
      [get('/seturi'), { status: 200, body: 'GET /u q=y=2' }],
      [get('/old/a?b=1'), { status: 200, body: 'GET /new/a q=b=1' }],
      [get('/a%2Fb/../c'), { status: 200, body: 'GET /a%2Fb/../c q=' }]
    ]
  },
  {
    name: 'deny, deny_status, return with headers and lf-string, allow stops the rules',
    config: `frontend fe
  http-request allow if { path /allowed }
  http-request deny if { path_beg /admin }
  http-request deny deny_status 429 if { path_beg /limited }
  http-request return status 404 content-type application/json string "{}" hdr X-Why missing if { path /missing }
  http-request return content-type text/plain lf-string "path=%[path]" if { path_beg /echo }
  http-request return if { path /empty }
  http-request deny if { path /allowed }
  default_backend be_a
${be('be_a')}`,
    requests: [
      [get('/admin/x'), { status: 403 }],
      [get('/limited'), { status: 429 }],
      [get('/missing'), { status: 404, body: '{}', headers: { 'x-why': 'missing', 'content-type': 'application/json' } }],
      [get('/echo/abc'), { status: 200, body: 'path=/echo/abc' }],
      [get('/empty'), { status: 200, body: '' }],
      [get('/allowed'), { status: 200, body: 'be_a' }]
    ]
  },
  {
    name: 'redirect location / prefix / scheme, codes, drop-query, append-slash',
    config: `frontend fe
  http-request redirect location /new code 301 if { path /old }
  http-request redirect location https://example.org/landing if { path /away }
  http-request redirect location /loc/%[path] append-slash if { path_beg /lf }
  http-request redirect prefix https://new.example.com code 308 if { path_beg /p/ }
  http-request redirect prefix /mount drop-query if { path_beg /d/ }
  http-request redirect prefix /pre append-slash if { path_beg /slash }
  http-request redirect prefix / if { path_beg /root }
  http-request redirect scheme https code 301 if { path_beg /sch }
  default_backend be_a
${be('be_a')}`,
    requests: [
      [get('/old?x=1'), { status: 301, location: '/new' }],
      [get('/away'), { status: 302, location: 'https://example.org/landing' }],
      [get('/lf/x?y=1'), { status: 302, location: '/loc//lf/x' }],
      [get('/p/x/y?q=1'), { status: 308, location: 'https://new.example.com/p/x/y?q=1' }],
      [get('/d/page?drop=me'), { status: 302, location: '/mount/d/page' }],
      [get('/slash/x?y=1'), { status: 302, location: '/pre/slash/x?y=1/' }],
      [get('/slash/x/'), { status: 302, location: '/pre/slash/x/' }],
      [get('/root/x?y=1'), { status: 302, location: '/root/x?y=1' }],
      [get('/sch/x?y=1', { host: 'h.test:8080' }), { status: 301, location: 'https://h.test:8080/sch/x?y=1' }],
      [get('/stay'), { status: 200, body: 'be_a' }]
    ]
  },
  {
    name: 'redirect cookies, errorfile responses, deny with a body',
    config: `frontend fe
  http-request redirect location /c set-cookie SEEN=1 if { path /c }
  http-request redirect location /d code 303 clear-cookie OLD if { path /d }
  http-request return errorfile ${dir}/429.http if { path /ef }
  http-request deny errorfile ${dir}/429.http if { path /def }
  http-request deny deny_status 404 content-type text/plain string gone hdr X-A b if { path /dbody }
  http-request return status 503 content-type text/plain string ok
`,
    requests: [
      [get('/c'), { status: 302, location: '/c', headers: { 'set-cookie': 'SEEN=1; path=/;' } }],
      [get('/d'), { status: 303, location: '/d', headers: { 'set-cookie': 'OLD; path=/; Max-Age=0;' } }],
      [get('/ef'), { status: 429, body: '<h1>slow</h1>\n', headers: { 'x-e': '1', 'content-type': 'text/html' } }],
      [get('/def'), { status: 429, body: '<h1>slow</h1>\n' }],
      [get('/dbody'), { status: 404, body: 'gone', headers: { 'x-a': 'b' } }],
      [get('/x'), { status: 503, body: 'ok' }]
    ]
  },
  {
    name: 'converters: field, word, regsub, json, url_dec, host_only, port_only, base64, case, trims, arithmetic, ipmask',
    config: `frontend fe
  http-request return status 200 content-type text/plain lf-string "f2=%[path,field(2,/)] f-1=%[path,field(-1,/)] f23=%[path,field(2,/,2)] fm2c2=%[path,field(-2,/,2)] f0c=%[path,field(2,/,0)] w1=%[path,word(1,/)] w-1=%[path,word(-1,/)] w2c0=%[path,word(2,/,0)] rs=%[path,regsub(/,_,g)] rs1=%[path,regsub('^/(a+)',<\\1>)] ri=%[hdr(x),regsub(A,z,ig)] js=%[hdr(x),json] ud=%[url_param(q),url_dec] ud1=%[url_param(q),url_dec(1)] ho=%[hdr(host),host_only] po=%[hdr(host),port_only] b64=%[hdr(x),base64] up=%[hdr(x),upper] lo=%[hdr(x),lower] len=%[hdr(x),length] hex=%[hdr(x),hex] lt=%[hdr(x),ltrim(a)] rt=%[hdr(x),rtrim(a)] add=%[hdr(n),add(3)] div=%[hdr(n),div(2)] neg=%[hdr(n),neg] ipm=%[hdr(ip),ipmask(24)] b64d=%[hdr(b),b64dec]"
`,
    requests: [
      [get('/aa//b/c/d?q=a%20b+c%2F', { x: 'aAbA"/\\\u00c3\u00a9', host: '[::1]:8080', n: '7', ip: '10.1.2.3', b: 'aGVsbG8=' }), { status: 200, body: "f2=aa f-1=d f23=aa/ fm2c2=b/c f0c=aa//b/c/d w1=aa w-1=d w2c0=b/c/d rs=_aa__b_c_d rs1=<aa>//b/c/d ri=zzbz\"/\\\u00c3\u00a9 js=aAbA\\\"\\/\\\\\\u00c3\\u00a9 ud=a b+c/ ud1=a b c/ ho=[::1] po=8080 b64=YUFiQSIvXMOp up=AABA\"/\\\u00c3\u00a9 lo=aaba\"/\\\u00c3\u00a9 len=9 hex=61416241222F5CC3A9 lt=AbA\"/\\\u00c3\u00a9 rt=aAbA\"/\\\u00c3\u00a9 add=10 div=3 neg=-7 ipm=10.1.2.0 b64d=hello" }],
      [get('/x?q=%zz', { x: 'abc', host: 'h.test', n: '-7' }), { status: 200, body: "f2=x f-1=x f23=x fm2c2= f0c=x w1=x w-1=x w2c0= rs=_x rs1=/x ri=zbc js=abc ud= ud1= ho=h.test po=0 b64=YWJj up=ABC lo=abc len=3 hex=616263 lt=bc rt=abc add=-4 div=-3 neg=7 ipm= b64d=" }]
    ]
  },
  {
    name: 'legacy redirect rules run after every http-request rule',
    config: `frontend fe
  redirect location /from-legacy if { path /both }
  redirect prefix /legacy code 307 if { path_beg /only }
  http-request return status 200 content-type text/plain string from-rule if { path /both }
  default_backend be_a
${be('be_a')}`,
    requests: [
      [get('/both'), { status: 200, body: 'from-rule' }],
      [get('/only/x'), { status: 307, location: '/legacy/only/x' }]
    ]
  },
  {
    name: 'userlists: insecure-password and crypt(3) SHA-512, SHA-256 and MD5; groups; realm defaults to the proxy name',
    config: `userlist users
  group admins
  user plain insecure-password s3cret groups admins
  user sha6 password $6$saltsalt$F0dgheNVQid92t98c9KC4gMwd/Q3dVizyYVevnUn23icrfWowmM.zsS6AgqzlsTFmiHdzOTMu7Yd9fZEpX3Pz.
  user sha5 password $5$saltsalt$V2acQsGaglhtr.zkehrl3G/z3clLbdyErAh3zOc1mF7
  user md5 password $1$saltsalt$6hVAq1OEFkF9ETLTfphS21
frontend fe
  acl authok http_auth(users)
  acl admin http_auth_group(users) admins
  http-request auth realm Restricted if { path_beg /r } !authok
  http-request auth if !authok
  http-request return status 200 content-type text/plain lf-string "admin" if admin
  http-request return status 200 content-type text/plain lf-string "user"
`,
    requests: [
      [get('/r'), { status: 401, realm: 'Restricted' }],
      [get('/x'), { status: 401, realm: 'fe' }],
      [get('/x', basic('plain:wrong')), { status: 401, realm: 'fe' }],
      [get('/x', basic('nobody:s3cret')), { status: 401, realm: 'fe' }],
      [get('/x', basic('plain:s3cret')), { status: 200, body: 'admin' }],
      [get('/x', basic('sha6:s6cret')), { status: 200, body: 'user' }],
      [get('/x', basic('sha6:s5cret')), { status: 401, realm: 'fe' }],
      [get('/x', basic('sha5:s5cret')), { status: 200, body: 'user' }],
      [get('/x', basic('md5:s1cret')), { status: 200, body: 'user' }],
      [get('/x', basic('md5:s1cre')), { status: 401, realm: 'fe' }]
    ]
  },
  {
    name: 'use_backend: first match wins, default_backend otherwise',
    config: `frontend fe
  use_backend be_a if { path_beg /p }
  use_backend be_b if { path_beg /p/q }
  use_backend be_b if { path_beg /s } || { hdr(x-b) 1 }
  default_backend be_c
${be('be_a')}${be('be_b')}${be('be_c')}`,
    requests: [
      [get('/p/q'), { status: 200, body: 'be_a' }],
      [get('/s'), { status: 200, body: 'be_b' }],
      [get('/t', { 'x-b': '1' }), { status: 200, body: 'be_b' }],
      [get('/t'), { status: 200, body: 'be_c' }]
    ]
  },
  {
    name: 'no matching rule and no default_backend: 503',
    config: `frontend fe
  use_backend be_a if { path_beg /only }
${be('be_a')}`,
    requests: [
      [get('/only'), { status: 200, body: 'be_a' }],
      [get('/else'), { status: 503 }]
    ]
  },
  {
    name: 'dynamic use_backend: map lookups, be_%[...] names; an unknown or empty name stops the rules',
    config: `frontend fe
  http-request set-var(txn.host) req.hdr(host),lower
  use_backend %[var(txn.host),map(${dir}/hosts.map)] if { path_beg /map }
  use_backend be_%[req.hdr(x-be)] if { hdr(x-be) -m found }
  use_backend be_b
  default_backend be_c
${be('be_a')}${be('be_b')}${be('be_c')}`,
    requests: [
      [get('/map', { host: 'A.test' }), { status: 200, body: 'be_a' }],
      [get('/map', { host: 'none.test' }), { status: 200, body: 'be_c' }],
      [get('/map', { host: 'other.test' }), { status: 200, body: 'be_c' }],
      [get('/x', { 'x-be': 'a' }), { status: 200, body: 'be_a' }],
      [get('/x', { 'x-be': 'zz' }), { status: 200, body: 'be_c' }],
      [get('/x'), { status: 200, body: 'be_b' }]
    ]
  },
  {
    name: 'conditions: implicit AND, or, ||, !, unless, anonymous ACLs, ACLs OR-ed by name, predefined ACLs',
    config: `frontend fe
  acl a path_beg /a
  acl b hdr(x-b) 1
  acl special path_end .two
  acl special hdr(x-three) yes
  http-request return status 200 content-type text/plain string and if a b
  http-request return status 200 content-type text/plain string or if !a { hdr(x-c) 1 } or b
  http-request return status 200 content-type text/plain string special if special
  http-request return status 200 content-type text/plain string head if METH_GET !METH_HEAD { path /m }
  http-request return status 200 content-type text/plain string neither unless a || HTTP_1.0 || { path_beg /n }
  http-request return status 200 content-type text/plain string rest
`,
    requests: [
      [get('/a1', { 'x-b': '1' }), { status: 200, body: 'and' }],
      [get('/z', { 'x-b': '1' }), { status: 200, body: 'or' }],
      [get('/z', { 'x-c': '1' }), { status: 200, body: 'or' }],
      [get('/x.two'), { status: 200, body: 'special' }],
      [get('/a', { 'x-three': 'yes' }), { status: 200, body: 'special' }],
      [get('/m'), { status: 200, body: 'head' }],
      [get('/z'), { status: 200, body: 'neither' }],
      [get('/a'), { status: 200, body: 'rest' }],
      [get('/n'), { status: 200, body: 'rest' }]
    ]
  }
]

function configFor (c: Case, port: number): string {
  const text = 'defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n' + c.config
  return text.replace(/^frontend fe\n/m, `frontend fe\n  bind 127.0.0.1:${port}\n`)
}

/** The answer a gateway would give for a decision (what the tests compare). */
function toAnswer (d: Decision): Answer {
  switch (d.kind) {
    case 'reply': return { status: d.status, headers: { ...Object.fromEntries(d.headers), ...(d.contentType === null ? {} : { 'content-type': d.contentType }) }, body: String(d.body) }
    case 'redirect': return { status: d.status, headers: { location: d.location, ...Object.fromEntries(d.headers) }, body: '' }
    case 'auth': return { status: 401, headers: { 'www-authenticate': `Basic realm="${d.realm}"` }, body: '' }
    case 'deny': return { status: d.status, headers: {}, body: '' }
    case 'none': return { status: 503, headers: {}, body: '' }
    default: return { status: 500, headers: {}, body: '' }
  }
}

function engine (c: Case): (req: SentRequest) => Answer {
  const config = parseConfig(configFor(c, 8080), { filename: join(dir, 'haproxy.cfg') })
  assert.deepEqual(config.diagnostics.filter((d) => d.level === 'alert'), [])
  const compiled = new Map<string, CompiledProxy>(config.proxies.map((p) => [p.name, compileProxy(p, config)]))
  const fe = compiled.get('fe')!
  return (req) => {
    const txn = txnFromParts({ method: req.method, url: req.url, headers: { host: 'h.test', ...req.headers } })
    const early = fe.requestRules(txn)
    if (early !== null) return toAnswer(early)
    const sw = fe.switching(txn)
    if (sw.kind !== 'backend') return toAnswer(sw)
    txn.backend = sw.backend
    return toAnswer(compiled.get(sw.backend)!.requestRules(txn) ?? { kind: 'none' })
  }
}

function compare (got: Answer, want: Expect, label: string): void {
  assert.equal(got.status, want.status, `${label}: status`)
  if (want.body !== undefined) assert.equal(got.body, want.body, `${label}: body`)
  if (want.location !== undefined) assert.equal(got.headers.location, want.location, `${label}: location`)
  if (want.realm !== undefined) assert.equal(got.headers['www-authenticate'], `Basic realm="${want.realm}"`, `${label}: realm`)
  for (const [k, v] of Object.entries(want.headers ?? {})) {
    const h = got.headers[k]
    assert.equal(Array.isArray(h) ? h.join(', ') : h, v, `${label}: header ${k}`)
  }
}

const label = (req: SentRequest): string => `${req.method ?? 'GET'} ${req.url} ${JSON.stringify(req.headers ?? {})}`

describe('rules through the engine', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const answer = engine(c)
      for (const [req, want] of c.requests) compare(answer(req), want, label(req))
    })
  }
})

describe('rules through real HAProxy 2.6', { skip: haproxyInstalled ? false : 'haproxy is not installed' }, () => {
  for (const c of CASES) {
    test(c.name, async () => {
      await withHaproxy(join(dir, 'real.cfg'), (port) => configFor(c, port), async (port) => {
        for (const [req, want] of c.requests) compare(await send(port, req), want, label(req))
      })
    })
  }
})

describe('http-response rules and engine-only facts', () => {
  const config = parseConfig(`defaults
  mode http
userlist admins
  user boss insecure-password pw
frontend fe
  bind :8080
  acl tls ssl_fc
  acl lan src 10.0.0.0/8
  http-response set-header X-Frontend fe-value
  http-response add-header X-Multi one
  http-response add-header X-Multi two
  http-response add-header Set-Cookie b=2
  http-response del-header X-Upstream-Secret
  http-response replace-header X-Ver ^v(.*)$ version-\\1
  http-response set-header X-Path-Hit yes if { status 200 }
  http-response set-header X-Len %[res.hdr(content-length)]
  http-response set-status 299 if { res.hdr(x-bump) -m found }
  http-response deny if { status 418 }
  http-request return status 200 content-type text/plain string tls if tls
  http-request return status 200 content-type text/plain string lan if lan
  stats enable
  stats uri /s
  stats realm MyRealm
  stats admin if { http_auth(admins) }
  stats http-request allow if { src 10.0.0.0/8 }
  stats http-request auth unless { http_auth(admins) }
  http-request redirect scheme https code 301 if !{ ssl_fc } { path /secure }
  default_backend be
backend be
`, { filename: '/engine.cfg' })
  const fe = compileProxy(config.proxies[0], config)

  test('response headers are rewritten in order (add-header makes lines of their own), status fetch and res.hdr work', () => {
    const res = { status: 200, headers: { 'x-upstream-secret': 's', 'x-ver': 'v2', 'content-length': '12', 'set-cookie': ['a=1'] } as Record<string, string | string[]> }
    assert.equal(fe.responseRules(txnFromParts(), res), null)
    assert.deepEqual(res.headers, {
      'x-frontend': 'fe-value', 'x-multi': ['one', 'two'], 'set-cookie': ['a=1', 'b=2'], 'x-ver': 'version-2', 'x-path-hit': 'yes', 'x-len': '12', 'content-length': '12'
    })
    assert.equal(res.status, 200)
  })

  test('set-status and deny (502 by default) on the response side', () => {
    const bumped = { status: 200, headers: { 'x-bump': '1' } }
    assert.equal(fe.responseRules(txnFromParts(), bumped), null)
    assert.equal(bumped.status, 299)
    assert.deepEqual(fe.responseRules(txnFromParts(), { status: 418, headers: {} }), { kind: 'deny', status: 502 })
  })

  test('ssl_fc and src read the transaction', () => {
    assert.deepEqual(fe.requestRules(txnFromParts({ ssl: true })), { kind: 'reply', status: 200, headers: [], contentType: 'text/plain', body: 'tls' })
    assert.deepEqual(fe.requestRules(txnFromParts({ src: '::ffff:10.1.2.3' })), { kind: 'reply', status: 200, headers: [], contentType: 'text/plain', body: 'lan' })
    assert.equal(fe.requestRules(txnFromParts({ src: '192.168.0.1' })), null)
  })

  test('stats http-request rules: allow, auth with the stats realm', () => {
    assert.equal(fe.statsRules(txnFromParts({ src: '10.1.1.1' })), 'allow')
    assert.deepEqual(fe.statsRules(txnFromParts()), { kind: 'auth', realm: 'MyRealm' })
    assert.equal(fe.statsRules(txnFromParts({ headers: basic('boss:pw') })), null)
  })

  test('!{ ssl_fc } negates an anonymous ACL written against the brace', () => {
    assert.deepEqual(fe.requestRules(txnFromParts({ url: '/secure', headers: { host: 'h.test' } })), { kind: 'redirect', status: 301, location: 'https://h.test/secure', headers: [] })
    assert.deepEqual(fe.requestRules(txnFromParts({ url: '/secure', ssl: true })), { kind: 'reply', status: 200, headers: [], contentType: 'text/plain', body: 'tls' })
  })

  test('stats admin condition', () => {
    assert.equal(fe.statsAdmin(txnFromParts({ headers: basic('boss:pw') })), true)
    assert.equal(fe.statsAdmin(txnFromParts({ headers: basic('boss:no') })), false)
  })

  test('backends are constant decisions: switching allocates nothing per request', () => {
    const a = fe.switching(txnFromParts())
    assert.equal(a, fe.switching(txnFromParts({ url: '/other' })))
    assert.deepEqual(a, { kind: 'backend', backend: 'be' })
  })

  test('describe() lists what was compiled', () => {
    assert.match(fe.describe(), /^frontend fe\n {2}acl tls \(1 line\(s\)\)/)
  })
})

describe('nbsrv and srv_is_up read live backend state through the hooks', () => {
  const text = `defaults
  mode http
frontend fe
  bind :8080
  use_backend be_backup if { nbsrv(be_main) lt 1 }
  http-request return status 200 content-type text/plain string s1-up if { srv_is_up(be_main/s1) } { path /probe }
  default_backend be_main
backend be_main
  server s1 127.0.0.1:1
  server s2 127.0.0.1:2
backend be_backup
  server b1 127.0.0.1:3
`
  const config = parseConfig(text, { filename: '/nbsrv.cfg' })
  const backends = new Map(config.proxies.filter((p) => p.kind === 'backend').map((p) => [p.name, new Backend(p)]))
  const fe = compileProxy(config.proxies[0], config, { backend: (name) => backends.get(name) })

  test('the main backend is used while a server is usable, the backup when none is', () => {
    const main = backends.get('be_main')!
    assert.deepEqual(fe.switching(txnFromParts()), { kind: 'backend', backend: 'be_main' })
    main.servers[0].setAdmin('maint')
    assert.deepEqual(fe.switching(txnFromParts()), { kind: 'backend', backend: 'be_main' })
    assert.equal(fe.requestRules(txnFromParts({ url: '/probe' })), null)
    main.servers[1].setAdmin('drain')
    assert.deepEqual(fe.switching(txnFromParts()), { kind: 'backend', backend: 'be_backup' })
    main.servers[0].setAdmin('ready')
    assert.deepEqual(fe.switching(txnFromParts()), { kind: 'backend', backend: 'be_main' })
    assert.equal(fe.requestRules(txnFromParts({ url: '/probe' }))?.kind, 'reply')
  })

  test('without hooks (checking only) the fetches have no value', () => {
    const bare = compileProxy(config.proxies[0], config)
    assert.deepEqual(bare.switching(txnFromParts()), { kind: 'backend', backend: 'be_main' })
  })

  test('an unknown backend is a checker alert', () => {
    const bad = parseConfig(text.replace('nbsrv(be_main)', 'nbsrv(nowhere)'), { filename: '/nbsrv.cfg' })
    assert.match(checkExpressions(bad)[0].message, /unable to find backend 'nowhere' referenced in arg 1 of sample fetch keyword 'nbsrv'/)
  })
})

test('nbsrv counts like HAProxy 2.6: disabled servers are not usable, several backups count as one', async () => {
  const text = (port: number): string => `defaults
  mode http
  timeout connect 1s
  timeout client 1s
  timeout server 1s
frontend fe
  bind 127.0.0.1:${port}
  http-request return status 200 content-type text/plain lf-string "m=%[nbsrv(be_main)] d=%[nbsrv(be_dis)] bk=%[nbsrv(be_bk)] up=%[srv_is_up(be_main/s1)] upd=%[srv_is_up(be_dis/d1)]"
backend be_main
  server s1 127.0.0.1:1
  server s2 127.0.0.1:2
backend be_dis
  server d1 127.0.0.1:1 disabled
backend be_bk
  server a1 127.0.0.1:1 disabled
  server b1 127.0.0.1:2 backup
  server b2 127.0.0.1:3 backup
`
  const want = 'm=2 d=0 bk=1 up=1 upd=0'
  const config = parseConfig(text(8080), { filename: '/nbsrv2.cfg' })
  const backends = new Map(config.proxies.filter((p) => p.kind === 'backend').map((p) => [p.name, new Backend(p)]))
  const fe = compileProxy(config.proxies[0], config, { backend: (name) => backends.get(name) })
  const d = fe.requestRules(txnFromParts())
  assert.equal(d?.kind === 'reply' ? d.body : null, want)
  if (haproxyInstalled) {
    const body = await withHaproxy(join(dir, 'nbsrv.cfg'), text, async (port) => (await send(port, get('/'))).body)
    assert.equal(body, want)
  }
})

test('srv_conn, srv_queue, queue and be_conn read live state through the hooks; without hooks they have no value', async () => {
  const text = `defaults
  mode http
  timeout queue 5s
frontend fe
  bind :8080
  http-request return status 200 content-type text/plain lf-string "sc=%[srv_conn(be/s1)] sq=%[srv_queue(be/s1)] q=%[queue(be)] bc=%[be_conn(be)]"
backend be
  server s1 127.0.0.1:1 maxconn 1
`
  const config = parseConfig(text, { filename: '/live.cfg' })
  const be = new Backend(config.proxies[1])
  const fe = compileProxy(config.proxies[0], config, { backend: (name) => name === 'be' ? be : undefined })
  const body = (c: CompiledProxy): string => { const d = c.requestRules(txnFromParts()); return d?.kind === 'reply' ? String(d.body) : '' }
  assert.equal(body(fe), 'sc=0 sq=0 q=0 bc=0')
  const first = be.acquire(txnFromParts(), null)
  assert.ok(first !== null && !(first instanceof Promise))
  const waiting = be.acquire(txnFromParts(), null)
  assert.ok(waiting instanceof Promise)
  assert.equal(body(fe), `sc=1 sq=${be.servers[0].qcur} q=${be.qcur} bc=0`)
  assert.equal(be.servers[0].qcur + be.qcur, 1)
  assert.equal(body(compileProxy(config.proxies[0], config)), 'sc= sq= q= bc=')
  be.release(first)
  const second = await waiting
  assert.ok(second !== null)
  be.release(second)
  be.close()
})
