// The match table: for each fetch × match method × flag, requests that match and requests that
// must not. Every row was checked against real HAProxy 2.6.12 on loopback (table.test.ts replays
// the whole table through haproxy when it is installed, so a wrong row fails there).

export interface Req {
  method?: string
  url: string
  /** Header lines as sent; an array sends several lines of one header. */
  headers?: Record<string, string | string[]>
}

export interface Row {
  /** The ACL as written after `acl <name>`; `{{dir}}` is the fixture directory. */
  acl: string
  match: Req[]
  miss: Req[]
}

const u = (url: string, headers?: Record<string, string | string[]>, method?: string): Req => ({ url, headers, method })
const h = (name: string, value: string | string[], url = '/'): Req => u(url, { [name]: value })

/** Files the rows name, written under {{dir}} by the test. */
export const FILES: Record<string, string> = {
  'paths.lst': '# prefixes\n/private\n\n  #not-a-comment\n/secret/\n\t/tabbed\n',
  'hosts.lst': 'alpha.test\nBETA.test\n',
  'nets.lst': '10.0.0.0/8\n192.168.1.1\n2001:db8::/32\n',
  'hosts.map': '# domain backend\nexample.com site\nstatic.example.com static\napi.example.net   api  \n  #k comment-or-key\nkeyonly\n',
  'paths.map': '/api be_site\n/api/v2 be_api\n/static be_static\n',
  'nets.map': '10.0.0.0/8 ten\n10.1.0.0/16 ten-one\n0.0.0.0/0 any\n',
  'suffix.map': '.png image\n.example.png special\n',
  'regm.map': '^/v/([0-9]+)$ v-\\1\n',
  'ints.map': '/a 10\n/b 3\n'
}

export const ROWS: Row[] = [
  // path: raw, case-sensitive, never decoded, query excluded
  { acl: 'path /exact', match: [u('/exact'), u('/exact?q=1')], miss: [u('/exact/'), u('/EXACT'), u('/exac'), u('/%65xact')] },
  { acl: 'path -i /CaSe', match: [u('/case'), u('/CASE')], miss: [u('/case/x')] },
  { acl: 'path /a%20b', match: [u('/a%20b')], miss: [u('/a%20B')] },
  { acl: 'path_beg /api/', match: [u('/api/users'), u('/api/')], miss: [u('/api'), u('/API/users'), u('/x/api/')] },
  { acl: 'path_beg -i /API/', match: [u('/api/x'), u('/Api/y')], miss: [u('/ap')] },
  { acl: 'path_end .json', match: [u('/x.json'), u('/x.json?y=1')], miss: [u('/x.JSON'), u('/x.json/')] },
  { acl: 'path_end -i .JSON .xml', match: [u('/x.json'), u('/y.XML')], miss: [u('/x.jso')] },
  { acl: 'path_sub admin', match: [u('/super-admin-panel'), u('/admin')], miss: [u('/Admin'), u('/adm')] },
  { acl: 'path_sub -i ADMIN', match: [u('/Admin')], miss: [u('/adm1n')] },
  { acl: 'path_dir img', match: [u('/img/a.png'), u('/a/img'), u('/a/img/')], miss: [u('/images/a'), u('/a/myimg')] },
  { acl: 'path_dir /a/b', match: [u('/a/b/c'), u('/x/a/b')], miss: [u('/a/bc')] },
  { acl: 'path_dom example', match: [u('/www.example.com'), u('/example')], miss: [u('/examples')] },
  { acl: 'path_reg ^/v[0-9]+/users$', match: [u('/v1/users'), u('/v22/users')], miss: [u('/v/users'), u('/v1/users/')] },
  { acl: 'path_reg -i \\.(png|jpe?g)$', match: [u('/a/b.PNG'), u('/c.jpeg')], miss: [u('/c.jpg.txt')] },
  { acl: 'path_len 7', match: [u('/abcdef'), u('/abcdef?long=query')], miss: [u('/abcde'), u('/abcdefg')] },
  { acl: 'path_len gt 5', match: [u('/abcdef')], miss: [u('/abcd')] },
  { acl: 'path -m beg /b/', match: [u('/b/x')], miss: [u('/bb')] },
  { acl: 'path_beg -m str /x', match: [u('/x')], miss: [u('/x/y')] },
  { acl: 'hdr_cnt(h) -m str 2', match: [h('h', 'a,b')], miss: [h('h', 'a')] },
  { acl: 'path -m len 2:3', match: [u('/a'), u('/ab')], miss: [u('/'), u('/abc')] },
  { acl: 'path -m found', match: [u('/'), u('/anything')], miss: [] },
  { acl: 'path,lower -m beg /up', match: [u('/UP'), u('/Up/x')], miss: [u('/down')] },
  { acl: 'path,url_dec "/a b"', match: [u('/a%20b')], miss: [u('/a+b')] },
  { acl: 'path,field(2,/) users', match: [u('/users/1'), u('/users')], miss: [u('/v1/users')] },
  { acl: 'path,word(1,/) users', match: [u('//users/1')], miss: [u('/v1/users')] },
  { acl: 'path,regsub(^/api,) -m beg /v', match: [u('/api/v1'), u('/v2')], miss: [u('/api/x')] },
  { acl: 'path,length ge 10', match: [u('/0123456789')], miss: [u('/short')] },
  { acl: 'path_beg -f {{dir}}/paths.lst', match: [u('/private/x'), u('/secret/y'), u('/tabbed'), u('/private')], miss: [u('/secret'), u('/public'), u('/prefixes')] },
  { acl: 'path -f {{dir}}/paths.lst', match: [u('/private')], miss: [u('/x')] },
  { acl: 'req.hdr(x-p) -f {{dir}}/paths.lst', match: [h('x-p', '#not-a-comment')], miss: [h('x-p', '# prefixes'), h('x-p', 'prefixes')] },
  { acl: 'path_beg -f {{dir}}/paths.lst /extra', match: [u('/extra/1'), u('/private')], miss: [u('/ext')] },
  // url, base, query, url_param
  { acl: 'url /p?a=1', match: [u('/p?a=1')], miss: [u('/p'), u('/p?a=2')] },
  { acl: 'url_beg /p?', match: [u('/p?x')], miss: [u('/p')] },
  { acl: 'url_sub =1', match: [u('/p?a=1')], miss: [u('/p?a=2')] },
  { acl: 'base h.test/x', match: [u('/x', { host: 'h.test' }), u('/x?q=1', { host: 'h.test' })], miss: [u('/x', { host: 'H.test' }), u('/x/', { host: 'h.test' })] },
  { acl: 'base_beg h.test:8080/', match: [u('/a', { host: 'h.test:8080' })], miss: [u('/a', { host: 'h.test' })] },
  { acl: 'query a=1&b=2', match: [u('/x?a=1&b=2')], miss: [u('/x?b=2&a=1'), u('/x')] },
  { acl: 'query -m found', match: [u('/x?'), u('/x?z')], miss: [u('/x')] },
  { acl: 'query -m len 0', match: [u('/x?')], miss: [u('/x'), u('/x?a')] },
  { acl: 'url_param(id) 42', match: [u('/x?id=42'), u('/x?a=1&id=42&b=2'), u('/x?id=1&id=42'), u('/x?b=1;id=42')], miss: [u('/x?id=420'), u('/x?ID=42'), u('/x?xid=42')] },
  { acl: 'urlp(id) -m beg dev', match: [u('/x?id=develop')], miss: [u('/x?id=prod')] },
  { acl: 'url_param(e) -m found', match: [u('/x?e='), u('/x?a&e=1')], miss: [u('/x?e'), u('/x')] },
  { acl: 'url_param(q) a%20b', match: [u('/x?q=a%20b')], miss: [u('/x?q=a+b')] },
  { acl: 'url_param(q),url_dec "a b"', match: [u('/x?q=a%20b')], miss: [u('/x?q=a%2')] },
  { acl: 'urlp_val(n) ge 10', match: [u('/x?n=10'), u('/x?n=99')], miss: [u('/x?n=9'), u('/x?n=abc')] },
  // method
  { acl: 'method GET', match: [u('/', undefined, 'GET')], miss: [u('/', undefined, 'HEAD'), u('/', undefined, 'POST')] },
  { acl: 'method -i get', match: [], miss: [u('/', undefined, 'GET')] },
  { acl: 'method POST PUT', match: [u('/', undefined, 'POST'), u('/', undefined, 'PUT')], miss: [u('/', undefined, 'DELETE')] },
  { acl: 'method PURGE', match: [u('/', undefined, 'PURGE')], miss: [u('/', undefined, 'GET')] },
  // headers
  { acl: 'hdr(host) example.com', match: [u('/', { host: 'example.com' })], miss: [u('/', { host: 'EXAMPLE.com' }), u('/', { host: 'example.com:8080' })] },
  { acl: 'hdr(host) -i other.test', match: [u('/', { host: 'Other.Test' })], miss: [u('/', { host: 'other.test.evil' })] },
  { acl: 'hdr_beg(host) api.', match: [u('/', { host: 'api.example.com' })], miss: [u('/', { host: 'www.api.example.com' })] },
  { acl: 'hdr_end(host) .example.org', match: [u('/', { host: 'shop.example.org' })], miss: [u('/', { host: 'example.org' })] },
  { acl: 'hdr_dom(host) example.net', match: [u('/', { host: 'example.net' }), u('/', { host: 'www.example.net' }), u('/', { host: 'example.net:81' })], miss: [u('/', { host: 'notexample.net' }), u('/', { host: 'example.network' })] },
  { acl: 'hdr_dom(host) -i .Example.NET.', match: [u('/', { host: 'a.EXAMPLE.net' })], miss: [u('/', { host: 'example.ne' })] },
  { acl: 'hdr_sub(x-t) mid', match: [h('x-t', 'amidst')], miss: [h('x-t', 'MID'), u('/')] },
  { acl: 'hdr_reg(x-t) ^a.c$', match: [h('x-t', 'abc')], miss: [h('x-t', 'abcd')] },
  { acl: 'hdr_len(x-t) 3', match: [h('x-t', 'abc'), h('x-t', 'ab, abc')], miss: [h('x-t', 'abcd')] },
  { acl: 'hdr_dir(x-t) b', match: [h('x-t', 'a/b/c')], miss: [h('x-t', 'a/bc')] },
  { acl: 'hdr(x-h) b', match: [h('x-h', 'a, b'), h('x-h', ['a', 'b']), h('x-h', 'a,b ')], miss: [h('x-h', 'a b'), h('x-h', '"a,b"')] },
  { acl: 'hdr(x-h,1) a', match: [h('x-h', 'a, b')], miss: [h('x-h', 'b, a')] },
  { acl: 'hdr(x-h,-1) a', match: [h('x-h', 'b, a')], miss: [h('x-h', 'a, b')] },
  { acl: 'req.fhdr(x-h) -m sub ,', match: [h('x-h', 'a, b')], miss: [h('x-h', 'a')] },
  { acl: 'req.hdr(x-f) -m found', match: [h('x-f', ''), h('x-f', 'v')], miss: [h('x-g', 'v')] },
  { acl: 'hdr_cnt(x-h) 2', match: [h('x-h', 'a, b'), h('x-h', ['a', 'b']), h('x-h', '"q,r", s')], miss: [h('x-h', 'a'), h('x-h', 'a,b,c')] },
  { acl: 'hdr_cnt(x-h) eq 0', match: [u('/')], miss: [h('x-h', 'a')] },
  { acl: 'hdr_val(x-n) ge 10', match: [h('x-n', '10'), h('x-n', '11')], miss: [h('x-n', '9'), h('x-n', 'x')] },
  { acl: 'hdr_ip(x-ip) 10.0.0.0/8', match: [h('x-ip', '10.1.2.3')], miss: [h('x-ip', '11.0.0.1'), h('x-ip', 'junk')] },
  { acl: 'req.hdr(x-ip) -m ip 192.168.0.0/255.255.0.0 2001:db8::/32', match: [h('x-ip', '192.168.7.7'), h('x-ip', '2001:db8::1')], miss: [h('x-ip', '192.169.0.1'), h('x-ip', '2001:db9::1')] },
  // an integer sample is an IPv4 address to -m ip (tcp-checks-socks4.vtc matches the SOCKS4 request's address so)
  { acl: 'req.hdr(x-n),hex2i -m ip 127.0.0.1 10.0.0.0/8', match: [h('x-n', '7f000001'), h('x-n', '0a010203')], miss: [h('x-n', '7f000002')] },
  { acl: 'req.hdr(x-ip) -m ip -f {{dir}}/nets.lst', match: [h('x-ip', '10.9.9.9'), h('x-ip', '192.168.1.1'), h('x-ip', '2001:db8:1::5')], miss: [h('x-ip', '192.168.1.2')] },
  { acl: 'hdr(host),lower -f {{dir}}/hosts.lst', match: [u('/', { host: 'ALPHA.test' })], miss: [u('/', { host: 'beta.test' })] },
  { acl: 'hdr(host) -i -f {{dir}}/hosts.lst', match: [u('/', { host: 'alpha.test' }), u('/', { host: 'beta.TEST' })], miss: [u('/', { host: 'gamma.test' })] },
  { acl: 'hdr(host),host_only example.com', match: [u('/', { host: 'example.com:8080' }), u('/', { host: 'example.com' })], miss: [u('/', { host: 'example.co' })] },
  { acl: 'hdr(x-b),base64 YWJj', match: [h('x-b', 'abc')], miss: [h('x-b', 'abd')] },
  { acl: 'hdr(x-n),add(1) 5', match: [h('x-n', '4')], miss: [h('x-n', '5')] },
  { acl: 'hdr_cnt(x-h) -m bool', match: [h('x-h', 'a')], miss: [u('/')] },
  // cookies
  { acl: 'cook(c) v2', match: [h('cookie', 'c=v1; c=v2'), h('cookie', 'a=1; c=v2')], miss: [h('cookie', 'c=v3'), h('cookie', 'cc=v2')] },
  { acl: 'cook_beg(sess) abc', match: [h('cookie', 'sess=abcdef')], miss: [h('cookie', 'sess=xabc')] },
  { acl: 'cook_cnt(c) 2', match: [h('cookie', 'c=1; c=2')], miss: [h('cookie', 'c=1')] },
  { acl: 'cook_val(n) gt 5', match: [h('cookie', 'n=6')], miss: [h('cookie', 'n=5')] },
  { acl: 'req.cook(c) -m found', match: [h('cookie', 'c=; d=1'), h('cookie', 'c=1; c=')], miss: [h('cookie', 'd=1'), h('cookie', 'c=')] },
  { acl: 'req.cook(c) -m len 0', match: [h('cookie', 'c=; c=1')], miss: [h('cookie', 'c=1')] },
  // maps as converters
  { acl: 'hdr(host),lower,map_dom({{dir}}/hosts.map,none) site', match: [u('/', { host: 'static.example.com' }), u('/', { host: 'WWW.Example.COM' }), u('/', { host: 'example.com:8080' })], miss: [u('/', { host: 'notexample.com' })] },
  { acl: 'hdr(host),map_str({{dir}}/hosts.map,none) none', match: [u('/', { host: 'example.com:8080' }), u('/', { host: 'unknown.test' })], miss: [u('/', { host: 'example.com' })] },
  { acl: 'hdr(host),map({{dir}}/hosts.map) api', match: [u('/', { host: 'api.example.net' })], miss: [u('/', { host: 'example.net' })] },
  { acl: 'hdr(host),map({{dir}}/hosts.map,dflt) -m len 0', match: [u('/', { host: 'keyonly' })], miss: [u('/', { host: 'nokey' })] },
  { acl: 'hdr(host),map({{dir}}/hosts.map,dflt) comment-or-key', match: [u('/', { host: '#k' })], miss: [u('/', { host: 'k' })] },
  { acl: 'path,map_beg({{dir}}/paths.map,def) be_api', match: [u('/api/v2/x')], miss: [u('/api/v1/x')] },
  { acl: 'path,map_beg({{dir}}/paths.map,def) def', match: [u('/'), u('/Static/a')], miss: [u('/static/a.css')] },
  { acl: 'path,map_end({{dir}}/suffix.map,none) image', match: [u('/a.png'), u('/x.example.png')], miss: [u('/a.gif')] },
  { acl: 'req.hdr(x-ip),map_ip({{dir}}/nets.map) ten-one', match: [h('x-ip', '10.1.2.3')], miss: [h('x-ip', '10.2.0.1')] },
  { acl: 'req.hdr(x-ip),map_ip({{dir}}/nets.map) any', match: [h('x-ip', '8.8.8.8')], miss: [h('x-ip', '10.0.0.1')] },
  { acl: 'path,map_regm({{dir}}/regm.map) v-12', match: [u('/v/12')], miss: [u('/v/13'), u('/v/x')] },
  { acl: 'path,map_str_int({{dir}}/ints.map,0) gt 5', match: [u('/a')], miss: [u('/b'), u('/c')] },
  { acl: 'hdr(x-b) -m bin 616263', match: [h('x-b', 'abc')], miss: [h('x-b', 'ABC')] },
  // protocol, predefined ACL sources
  { acl: 'req.ver 1.1', match: [u('/')], miss: [] },
  { acl: 'req.ver 1.0', match: [], miss: [u('/')] },
  { acl: 'always_true', match: [u('/')], miss: [] },
  { acl: 'src 127.0.0.0/8', match: [u('/')], miss: [] },
  { acl: 'src 10.0.0.0/8', match: [], miss: [u('/')] },
  { acl: 'src_port gt 0', match: [u('/')], miss: [] },
  { acl: 'dst 127.0.0.1', match: [u('/')], miss: [] },
  { acl: 'str(abc) -m sub b', match: [u('/')], miss: [] },
  { acl: 'int(5) 1:9', match: [u('/')], miss: [] },
  { acl: 'url_param(a) -- -x', match: [u('/?a=-x')], miss: [u('/?a=x')] },
  { acl: 'path -m str -- -x /y', match: [u('/y')], miss: [u('/x')] }
]
