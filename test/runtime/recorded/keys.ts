// The keys sent to HAProxy when recording hash placements and hash function values.

export const URL_KEYS: readonly string[] = [
  '/', '/a', '/a/b', '/a/b/c?x=1', '/img/logo.png', '/api/v1/users/42', '/x?id=1', '/x?id=2', '/x?id=abc', '/x?a=1&id=zz',
  '/x?idx=3', '/deep/er/path/here?q', '/x?id=', '/x?x=1&x=2', '/x?id=1&id=2', '/x/y?', '/a//b///c', '/%41%42?id=%20',
  '/very/long/path/with/many/levels/to/cut/by/depth/and/len?id=first&other=second', '/x?ID=upper', '/x?id=7&x=seven',
  '/index.html', '/static/app.css?v=12345', '/x;p=1?id=2', '/user/0', '/user/1', '/user/2', '/user/3', '/user/4', '/user/5',
  '/a?x=/b/c/d', '/a/b?/c/d/e', '/?id=//'
]

export const HOST_KEYS: readonly string[] = [
  'example.com', 'www.example.com', 'api.example.org', 'a.b.c.d.net', 'localhost', 'shop.example.co.uk', 'x', 'example.com:8080',
  'www.example.com:443', '.', 'a.', '.b', 'one.two', 'A.B.C', 'host-1.internal', 'host-2.internal', 'host-3.internal', '127.0.0.1', 'foo.bar.baz.qux.example',
  'a..b', 'x.y..', '..z', 'a.b..c', '.a.b', 'ab.c.'
]

/** Loopback addresses the recorder binds its requests to (source hashing). */
export const SOURCE_KEYS: readonly string[] = [
  '127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.1.1', '127.1.2.3', '127.10.20.30', '127.200.100.50', '127.255.255.254', '127.0.0.100', '127.3.3.3', '::1'
]

export const HASH_FUNCTION_INPUTS: readonly string[] = [
  'a', 'b', 'ab', 'abc', 'The quick brown fox jumps over the lazy dog', 'example.com', '/index.html', '0', '1', '12345', 'zzzzzzzzzzzzzzzz',
  'A', 'AA', 'AAA', 'AAAA', 'hello world', '~!@#$%^&*()_+', 'www.haproxy.org', 'user42', '\xe9t\xe9', 'a b c d e f g h i j k l m n o p q r s t u v w x y z'
]
