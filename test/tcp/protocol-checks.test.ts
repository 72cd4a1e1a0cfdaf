// The protocol health checks and tcp-check scripts against fake servers answering right, wrong,
// partly, late or not at all: the syslog line of each first check ("Health check for server …
// succeeded|failed, reason: …, code: …, info: "…", …") must be the one recorded from haproxy 2.6.12
// on the same config and the same server behaviour (`seen` below; the check duration is masked).
// With haproxy installed, a second test replays the cases against it, so the recordings stay true.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startProxy, startRawUpstream, skipWithoutHaproxy } from '../differential/harness.js'
import { syslogServer } from '../log/syslog.js'
import { fetchCsvRows } from '../stats/views.js'

/** What a fake server does, in order: send bytes, wait for `recv` bytes, pause, close (FIN) or reset. */
type Act = { send: string | Buffer } | { recv: number } | { delay: number } | 'close' | 'rst'
interface Case {
  name: string
  /** The backend's check lines; the server line is added (`PORT` is a listening port that never answers). */
  lines: string[]
  acts?: Act[]
  /** `refused`: the server address is 127.0.0.1:1, where nothing listens. */
  port?: 'refused'
  /** haproxy 2.6.12's log line for the first check. */
  seen: string
}

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex')
/** A MySQL 8.0.19 greeting and an ERR packet 1251, as HAProxy's own reg-test plays them. */
const G = hex('4A0000000A382E302E3139000A0000006F3C025E6249410D00FFFFFF0200FFC715000000000000000000007C182159106E2761144322200063616368696E675F736861325F70617373776F726400')
const E1251 = hex('67000002FFE304436C69656E7420646F6573206E6F7420737570706F72742061757468656E7469636174696F6E2070726F746F636F6C20726571756573746564206279207365727665723B20636F6E736964657220757067726164696E67204D7953514C20636C69656E74')
function errPkt (seq: number, code: number, msg: string): Buffer {
  const body = Buffer.concat([Buffer.from([0xff, code & 0xff, code >> 8]), Buffer.from(msg, 'latin1')])
  const h = Buffer.alloc(4)
  h.writeUIntLE(body.length, 0, 3)
  h[3] = seq
  return Buffer.concat([h, body])
}
const pg = ['option pgsql-check user postgres']
const sp = ['option spop-check']
const ssl = ['option ssl-hello-chk']
const tc = (...l: string[]): string[] => ['option tcp-check', ...l.map(x => `tcp-check ${x}`)]
const minrecv = tc('connect', 'expect !rstring "^error" comment "negative check"', 'expect string "valid" comment "positive check"', 'send "0123456789"', 'expect string "valid" comment "positive check"')
const minrecv2 = tc('connect', 'expect min-recv 5 !rstring "^error" comment "negative check"', 'expect string "valid" comment "positive check"', 'send "0123456789"', 'expect string "valid" comment "positive check"')

const CASES: Case[] = [
  { name: 'redis_ok', lines: ['option redis-check'], acts: [{ recv: 14 }, { send: '+PONG\r\n' }] , seen: "Health check for server redis_ok/srv succeeded, reason: Layer7 check passed, code: 0, info: \"Redis server is ok\", check duration: Nms, status: 1/1 UP." },
  { name: 'redis_err', lines: ['option redis-check'], acts: [{ recv: 14 }, { send: '-Error message\r\n' }] , seen: "Health check for server redis_err/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'redis_garbage', lines: ['option redis-check'], acts: [{ recv: 14 }, { send: 'hello\r\n' }] , seen: "Health check for server redis_garbage/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'redis_close', lines: ['option redis-check'], acts: [{ recv: 14 }, 'close'] , seen: "Health check for server redis_close/srv failed, reason: Layer7 wrong status, code: 0, info: \"TCPCHK got an empty response at step 2\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'redis_silent', lines: ['option redis-check'], acts: [{ recv: 14 }, { delay: 10000 }] , seen: "Health check for server redis_silent/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'redis_refused', lines: ['option redis-check'], port: 'refused' , seen: "Health check for server redis_refused/srv failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'redis_noeol', lines: ['option redis-check'], acts: [{ recv: 14 }, { send: '+PONG' }, 'close'] , seen: "Health check for server redis_noeol/srv failed, reason: Layer7 wrong status, code: 0, info: \"+PONG\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'ldap_ok', lines: ['option ldap-check'], acts: [{ recv: 14 }, { send: hex('300C020101 61 070A01 00 04000400') }] , seen: "Health check for server ldap_ok/srv succeeded, reason: Layer7 check passed, code: 0, info: \"Success\", check duration: Nms, status: 1/1 UP." },
  { name: 'ldap_not3', lines: ['option ldap-check'], acts: [{ recv: 14 }, { send: hex('300C020101 60 070A01 00 04000400') }] , seen: "Health check for server ldap_not3/srv failed, reason: Layer7 invalid response, info: \"Not LDAPv3 protocol\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'ldap_rc1', lines: ['option ldap-check'], acts: [{ recv: 14 }, { send: hex('300C020101 61 070A01 01 04000400') }] , seen: "Health check for server ldap_rc1/srv failed, reason: Layer7 wrong status, code: 1, info: \"See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'ldap_split', lines: ['option ldap-check'], acts: [{ recv: 14 }, { send: hex('308400000010020101 61 84000000070A01') }, { delay: 100 }, { send: hex('00 04000400') }] , seen: "Health check for server ldap_split/srv succeeded, reason: Layer7 check passed, code: 0, info: \"Success\", check duration: Nms, status: 1/1 UP." },
  { name: 'ldap_garbage', lines: ['option ldap-check'], acts: [{ recv: 14 }, { send: 'hello world, not ldap' }] , seen: "Health check for server ldap_garbage/srv failed, reason: Layer7 invalid response, info: \"Not LDAPv3 protocol\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'ldap_close', lines: ['option ldap-check'], acts: [{ recv: 14 }, 'close'] , seen: "Health check for server ldap_close/srv failed, reason: Layer7 invalid response, info: \"TCPCHK got an empty response at step 2\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'ldap_short', lines: ['option ldap-check'], acts: [{ recv: 14 }, { send: hex('300C02') }, 'close'] , seen: "Health check for server ldap_short/srv failed, reason: Layer7 invalid response, check duration: Nms, status: 0/1 DOWN." },
  { name: 'ldap_notseq', lines: ['option ldap-check'], acts: [{ recv: 14 }, { send: hex('310C020101 61 070A01 00 04000400') }] , seen: "Health check for server ldap_notseq/srv failed, reason: Layer7 invalid response, info: \"Not LDAPv3 protocol\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'ldap_msgid', lines: ['option ldap-check'], acts: [{ recv: 14 }, { send: hex('300C020102 61 070A01 00 04000400') }] , seen: "Health check for server ldap_msgid/srv failed, reason: Layer7 invalid response, info: \"Not LDAPv3 protocol\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'ldap_rc49', lines: ['option ldap-check'], acts: [{ recv: 14 }, { send: hex('300C020101 61 070A01 31 04000400') }] , seen: "Health check for server ldap_rc49/srv failed, reason: Layer7 wrong status, code: 49, info: \"See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'ldap_noenum', lines: ['option ldap-check'], acts: [{ recv: 14 }, { send: hex('300C020101 61 07020100 04000400') }] , seen: "Health check for server ldap_noenum/srv failed, reason: Layer7 invalid response, info: \"Not LDAPv3 protocol\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'redis_err_closed', lines: ['option redis-check'], acts: [{ recv: 14 }, { send: '-Error message\r\n' }, 'close'] , seen: "Health check for server redis_err_closed/srv failed, reason: Layer7 wrong status, code: 0, info: \"-Error message\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'redis_multi', lines: ['option redis-check'], acts: [{ recv: 14 }, { send: '-Error\r\nsecond line\r\n' }, 'close'] , seen: "Health check for server redis_multi/srv failed, reason: Layer7 wrong status, code: 0, info: \"-Error\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'redis_garbage_closed', lines: ['option redis-check'], acts: [{ recv: 14 }, { send: 'hello' }, 'close'] , seen: "Health check for server redis_garbage_closed/srv failed, reason: Layer7 wrong status, code: 0, info: \"hello\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'redis_pong2', lines: ['option redis-check'], acts: [{ recv: 14 }, { send: 'xx+PONG\r\n' }] , seen: "Health check for server redis_pong2/srv succeeded, reason: Layer7 check passed, code: 0, info: \"Redis server is ok\", check duration: Nms, status: 1/1 UP." },
  { name: 'redis_rst', lines: ['option redis-check'], acts: [{ recv: 14 }, 'rst'] , seen: "Health check for server redis_rst/srv failed, reason: Socket error, info: \"Connection reset by peer\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'redis_pongsplit', lines: ['option redis-check'], acts: [{ recv: 14 }, { send: '+PO' }, { delay: 100 }, { send: 'NG\r\n' }] , seen: "Health check for server redis_pongsplit/srv succeeded, reason: Layer7 check passed, code: 0, info: \"Redis server is ok\", check duration: Nms, status: 1/1 UP." },
  { name: 'm_greet', lines: ['option mysql-check'], acts: [{ send: G }, { delay: 3000 }] , seen: "Health check for server m_greet/srv succeeded, reason: Layer7 check passed, code: 0, info: \"8.0.19\", check duration: Nms, status: 1/1 UP." },
  { name: 'm_greet_close', lines: ['option mysql-check'], acts: [{ send: G }, 'close'] , seen: "Health check for server m_greet_close/srv succeeded, reason: Layer7 check passed, code: 0, info: \"8.0.19\", check duration: Nms, status: 1/1 UP." },
  { name: 'm_greet_err', lines: ['option mysql-check'], acts: [{ send: errPkt(0, 1040, 'Too many connections') }, 'close'] , seen: "Health check for server m_greet_err/srv failed, reason: Layer7 wrong status, code: 1040, info: \"Too many connections\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_greet_err_open', lines: ['option mysql-check'], acts: [{ send: errPkt(0, 1040, 'Too many connections') }, { delay: 3000 }] , seen: "Health check for server m_greet_err_open/srv failed, reason: Layer7 wrong status, code: 1040, info: \"Too many connections\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_garbage', lines: ['option mysql-check'], acts: [{ send: 'hello world, this is not mysql' }, 'close'] , seen: "Health check for server m_garbage/srv failed, reason: Layer7 invalid response, check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_close', lines: ['option mysql-check'], acts: ['close'] , seen: "Health check for server m_close/srv failed, reason: Layer7 invalid response, info: \"TCPCHK got an empty response at step 2\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_silent', lines: ['option mysql-check'], acts: [{ delay: 5000 }] , seen: "Health check for server m_silent/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_short', lines: ['option mysql-check'], acts: [{ send: G.subarray(0, 10) }, 'close'] , seen: "Health check for server m_short/srv failed, reason: Layer7 invalid response, check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_short_open', lines: ['option mysql-check'], acts: [{ send: G.subarray(0, 10) }, { delay: 3000 }] , seen: "Health check for server m_short_open/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_pre41_ok', lines: ['option mysql-check user user pre-41'], acts: [{ send: G }, { recv: 20 }, { send: hex('03000002000000') }] , seen: "Health check for server m_pre41_ok/srv succeeded, reason: Layer7 check passed, code: 0, info: \"8.0.19\", check duration: Nms, status: 1/1 UP." },
  { name: 'm_post41_ok', lines: ['option mysql-check user user'], acts: [{ send: G }, { recv: 47 }, { send: hex('0700000200000002000000') }] , seen: "Health check for server m_post41_ok/srv succeeded, reason: Layer7 check passed, code: 0, info: \"8.0.19\", check duration: Nms, status: 1/1 UP." },
  { name: 'm_post41_ok_explicit', lines: ['option mysql-check user user post-41'], acts: [{ send: G }, { recv: 47 }, { send: hex('0700000200000002000000') }] , seen: "Health check for server m_post41_ok_explicit/srv succeeded, reason: Layer7 check passed, code: 0, info: \"8.0.19\", check duration: Nms, status: 1/1 UP." },
  { name: 'm_pre41_err', lines: ['option mysql-check user pouet'], acts: [{ send: G }, { recv: 21 }, { send: E1251 }] , seen: "Health check for server m_pre41_err/srv failed, reason: Layer7 wrong status, code: 1251, info: \"Client does not support authentication protocol requested by server; consider upgrading MySQL client\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_post41_err', lines: ['option mysql-check user pouet post-41'], acts: [{ send: G }, { recv: 48 }, { send: E1251 }] , seen: "Health check for server m_post41_err/srv failed, reason: Layer7 wrong status, code: 1251, info: \"Client does not support authentication protocol requested by server; consider upgrading MySQL client\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_err_state', lines: ['option mysql-check user user post-41'], acts: [{ send: G }, { recv: 47 }, { send: errPkt(2, 1045, "#28000Access denied for user 'user'") }] , seen: "Health check for server m_err_state/srv failed, reason: Layer7 wrong status, code: 1045, info: \"#28000Access denied for user 'user'\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_user_garbage', lines: ['option mysql-check user user post-41'], acts: [{ send: G }, { recv: 47 }, { send: 'hello' }, 'close'] , seen: "Health check for server m_user_garbage/srv failed, reason: Layer7 invalid response, check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_user_close', lines: ['option mysql-check user user post-41'], acts: [{ send: G }, { recv: 47 }, 'close'] , seen: "Health check for server m_user_close/srv failed, reason: Layer7 invalid response, check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_user_silent', lines: ['option mysql-check user user post-41'], acts: [{ send: G }, { recv: 47 }, { delay: 5000 }] , seen: "Health check for server m_user_silent/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_user_greet_err', lines: ['option mysql-check user user post-41'], acts: [{ send: errPkt(0, 1040, 'Too many connections') }, 'close'] , seen: "Health check for server m_user_greet_err/srv failed, reason: Layer7 wrong status, code: 1040, info: \"Too many connections\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'm_proto9', lines: ['option mysql-check'], acts: [{ send: Buffer.concat([G.subarray(0, 4), Buffer.from([9]), G.subarray(5)]) }, 'close'] , seen: "Health check for server m_proto9/srv succeeded, reason: Layer7 check passed, code: 0, info: \"8.0.19\", check duration: Nms, status: 1/1 UP." },
  { name: 'p_ok', lines: pg, acts: [{ recv: 23 }, { send: hex('520000000800000000') }] , seen: "Health check for server p_ok/srv succeeded, reason: Layer7 check passed, code: 0, info: \"PostgreSQL server is ok\", check duration: Nms, status: 1/1 UP." },
  { name: 'p_fatal', lines: pg, acts: [{ recv: 23 }, { send: hex('450000000B53464154414C00') }] , seen: "Health check for server p_fatal/srv failed, reason: Layer7 invalid response, info: \"FATAL\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'p_fatal_close', lines: pg, acts: [{ recv: 23 }, { send: hex('450000000B53464154414C00') }, 'close'] , seen: "Health check for server p_fatal_close/srv failed, reason: Layer7 invalid response, info: \"FATAL\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'p_fields', lines: pg, acts: [{ recv: 23 }, { send: Buffer.concat([hex('4500000040'), Buffer.from('SFATAL\0VFATAL\0C28000\0Mno pg_hba.conf entry\0\0')]) }, 'close'] , seen: "Health check for server p_fields/srv failed, reason: Layer7 invalid response, info: \"FATAL\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'p_mfirst', lines: pg, acts: [{ recv: 23 }, { send: Buffer.concat([hex('4500000020'), Buffer.from('Mno entry\0SERROR\0\0')]) }, 'close'] , seen: "Health check for server p_mfirst/srv failed, reason: Layer7 invalid response, info: \"no entry\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'p_garbage', lines: pg, acts: [{ recv: 23 }, { send: 'Not a PostgreSQL response' }] , seen: "Health check for server p_garbage/srv failed, reason: Layer7 wrong status, code: 0, info: \"PostgreSQL unknown error\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'p_garbage_close', lines: pg, acts: [{ recv: 23 }, { send: 'Not a PostgreSQL response' }, 'close'] , seen: "Health check for server p_garbage_close/srv failed, reason: Layer7 wrong status, code: 0, info: \"PostgreSQL unknown error\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'p_sasl', lines: pg, acts: [{ recv: 23 }, { send: hex('52000000170000000A534352414D2D5348412D3235360000') }] , seen: "Health check for server p_sasl/srv succeeded, reason: Layer7 check passed, code: 0, info: \"PostgreSQL server is ok\", check duration: Nms, status: 1/1 UP." },
  { name: 'p_close', lines: pg, acts: [{ recv: 23 }, 'close'] , seen: "Health check for server p_close/srv failed, reason: Layer7 invalid response, info: \"TCPCHK got an empty response at step 3\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'p_silent', lines: pg, acts: [{ recv: 23 }, { delay: 5000 }] , seen: "Health check for server p_silent/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'p_R_only', lines: pg, acts: [{ recv: 23 }, { send: 'R' }, 'close'] , seen: "Health check for server p_R_only/srv failed, reason: Layer7 wrong status, code: 0, info: \"PostgreSQL unknown error\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'p_E_only', lines: pg, acts: [{ recv: 23 }, { send: 'E' }, 'close'] , seen: "Health check for server p_E_only/srv failed, reason: Layer7 invalid response, check duration: Nms, status: 0/1 DOWN." },
  { name: 's_ok', lines: ['option smtpchk'], acts: [{ send: '220 smtp SMTP Server\r\n' }, { recv: 16 }, { send: '250 smtp\r\n' }, { recv: 6 }, { send: '221 smtp closing\r\n' }] , seen: "Health check for server s_ok/srv succeeded, reason: Layer7 check passed, code: 221, info: \"smtp closing\", check duration: Nms, status: 1/1 UP." },
  { name: 's_ehlo', lines: ['option smtpchk EHLO domain.tld'], acts: [{ send: '220 smtp SMTP Server\r\n' }, { recv: 17 }, { send: '250-smtp\r\n250-KEYWORD\r\n' }, { delay: 50 }, { send: '250 LAST KEYWORD\r\n' }, { recv: 6 }, { send: '221 smtp closing\r\n' }] , seen: "Health check for server s_ehlo/srv succeeded, reason: Layer7 check passed, code: 221, info: \"smtp closing\", check duration: Nms, status: 1/1 UP." },
  { name: 's_notsmtp', lines: ['option smtpchk'], acts: [{ send: "I'm not a SMTP server\r\n" }] , seen: "Health check for server s_notsmtp/srv failed, reason: Layer7 invalid response, info: \"I'm not a SMTP server\", check duration: Nms, status: 0/1 DOWN." },
  { name: 's_421', lines: ['option smtpchk'], acts: [{ send: '421 Try again later\r\n' }] , seen: "Health check for server s_421/srv failed, reason: Layer7 wrong status, code: 421, info: \"Try again later\", check duration: Nms, status: 0/1 DOWN." },
  { name: 's_512', lines: ['option smtpchk EHLO domain.tld'], acts: [{ send: '220 smtp SMTP Server\r\n' }, { recv: 17 }, { send: '512 DNS error\r\n' }] , seen: "Health check for server s_512/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 's_512c', lines: ['option smtpchk EHLO domain.tld'], acts: [{ send: '220 smtp SMTP Server\r\n' }, { recv: 17 }, { send: '512 DNS error\r\n' }, 'close'] , seen: "Health check for server s_512c/srv failed, reason: Layer7 wrong status, code: 512, info: \"DNS error\", check duration: Nms, status: 0/1 DOWN." },
  { name: 's_quit_500', lines: ['option smtpchk'], acts: [{ send: '220 smtp SMTP Server\r\n' }, { recv: 16 }, { send: '250 smtp\r\n' }, { recv: 6 }, { send: '500 no quit\r\n' }] , seen: "Health check for server s_quit_500/srv failed, reason: Layer7 wrong status, code: 500, info: \"no quit\", check duration: Nms, status: 0/1 DOWN." },
  { name: 's_close', lines: ['option smtpchk'], acts: ['close'] , seen: "Health check for server s_close/srv failed, reason: Layer7 invalid response, info: \"TCPCHK got an empty response at step 2\", check duration: Nms, status: 0/1 DOWN." },
  { name: 's_close_after_helo', lines: ['option smtpchk'], acts: [{ send: '220 smtp SMTP Server\r\n' }, { recv: 16 }, 'close'] , seen: "Health check for server s_close_after_helo/srv failed, reason: Layer7 wrong status, code: 0, info: \"TCPCHK got an empty response at step 5\", check duration: Nms, status: 0/1 DOWN." },
  { name: 's_close_after_quit', lines: ['option smtpchk'], acts: [{ send: '220 smtp SMTP Server\r\n' }, { recv: 16 }, { send: '250 smtp\r\n' }, { recv: 6 }, 'close'] , seen: "Health check for server s_close_after_quit/srv failed, reason: Layer7 wrong status, code: 0, info: \"TCPCHK got an empty response at step 7\", check duration: Nms, status: 0/1 DOWN." },
  { name: 's_silent', lines: ['option smtpchk'], acts: [{ delay: 5000 }] , seen: "Health check for server s_silent/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 's_noeol', lines: ['option smtpchk'], acts: [{ send: '220 smtp' }, { delay: 5000 }] , seen: "Health check for server s_noeol/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 's_noeol_close', lines: ['option smtpchk'], acts: [{ send: '220 smtp' }, 'close'] , seen: "Health check for server s_noeol_close/srv failed, reason: Layer7 wrong status, code: 0, info: \"TCPCHK got an empty response at step 5\", check duration: Nms, status: 0/1 DOWN." },
  { name: 's_helo_arg', lines: ['option smtpchk HELO'], acts: [{ send: '220 smtp SMTP Server\r\n' }, { recv: 16 }, { send: '250 smtp\r\n' }, { recv: 6 }, { send: '221 smtp closing\r\n' }] , seen: "Health check for server s_helo_arg/srv succeeded, reason: Layer7 check passed, code: 221, info: \"smtp closing\", check duration: Nms, status: 1/1 UP." },
  { name: 's_other', lines: ['option smtpchk FOO bar'], acts: [{ send: '220 smtp SMTP Server\r\n' }, { recv: 16 }, { send: '250 smtp\r\n' }, { recv: 6 }, { send: '221 smtp closing\r\n' }] , seen: "Health check for server s_other/srv succeeded, reason: Layer7 check passed, code: 221, info: \"smtp closing\", check duration: Nms, status: 1/1 UP." },
  { name: 's_2xx', lines: ['option smtpchk'], acts: [{ send: '299 weird\r\n' }, { recv: 16 }, { send: '250 smtp\r\n' }, { recv: 6 }, { send: '221 smtp closing\r\n' }] , seen: "Health check for server s_2xx/srv succeeded, reason: Layer7 check passed, code: 221, info: \"smtp closing\", check duration: Nms, status: 1/1 UP." },
  { name: 's_3xx', lines: ['option smtpchk'], acts: [{ send: '354 weird\r\n' }] , seen: "Health check for server s_3xx/srv failed, reason: Layer7 wrong status, code: 354, info: \"weird\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_ok', lines: sp, acts: [{ recv: 82 }, { send: hex('00000036 65 00000001 0000 0776657273696F6E 0803322E30 0E6D61782D6672616D652D73697A65 03FCF0 060C6361706162696C6974696573 0800') }] , seen: "Health check for server sp_ok/srv succeeded, reason: Layer7 check passed, code: 0, info: \"SPOA server is ok\", check duration: Nms, status: 1/1 UP." },
  { name: 'sp_zero', lines: sp, acts: [{ recv: 82 }, { send: hex('00000000') }] , seen: "Health check for server sp_zero/srv failed, reason: Layer7 invalid response, info: \"invalid frame received\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_frag', lines: sp, acts: [{ recv: 82 }, { send: hex('00000007 65 00000000 0000') }] , seen: "Health check for server sp_frag/srv failed, reason: Layer7 invalid response, info: \"fragmentation not supported\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_v1', lines: sp, acts: [{ recv: 82 }, { send: hex('00000014 65 00000001 0000 0776657273696F6E 0803312E30') }] , seen: "Health check for server sp_v1/srv failed, reason: Layer7 invalid response, info: \"unsupported version\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_close', lines: sp, acts: [{ recv: 82 }, 'close'] , seen: "Health check for server sp_close/srv failed, reason: Layer7 invalid response, info: \"TCPCHK got an empty response at step 2\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_silent', lines: sp, acts: [{ recv: 82 }, { delay: 5000 }] , seen: "Health check for server sp_silent/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_garbage', lines: sp, acts: [{ recv: 82 }, { send: 'hello world!' }, 'close'] , seen: "Health check for server sp_garbage/srv failed, reason: Layer7 invalid response, info: \"invalid frame received\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_short', lines: sp, acts: [{ recv: 82 }, { send: hex('000000') }, 'close'] , seen: "Health check for server sp_short/srv failed, reason: Layer7 invalid response, info: \"invalid frame received\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_partial', lines: sp, acts: [{ recv: 82 }, { send: hex('00000036 65 0000') }, 'close'] , seen: "Health check for server sp_partial/srv failed, reason: Layer7 invalid response, info: \"fragmentation not supported\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_disc', lines: sp, acts: [{ recv: 82 }, { send: Buffer.concat([hex('0000002a 66 00000001 0000 0b7374617475732d636f6465 0302 076d657373616765 0810'), Buffer.from('agent is leaving')]) }] , seen: "Health check for server sp_disc/srv failed, reason: Layer7 invalid response, info: \"invalid frame received\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_wrongtype', lines: sp, acts: [{ recv: 82 }, { send: hex('00000007 01 00000001 0000') }] , seen: "Health check for server sp_wrongtype/srv failed, reason: Layer7 invalid response, info: \"invalid frame received\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_noversion', lines: sp, acts: [{ recv: 82 }, { send: hex('00000007 65 00000001 0000') }] , seen: "Health check for server sp_noversion/srv failed, reason: Layer7 invalid response, info: \"version value not found\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_nomax', lines: sp, acts: [{ recv: 82 }, { send: hex('00000014 65 00000001 0000 0776657273696F6E 0803322E30') }] , seen: "Health check for server sp_nomax/srv failed, reason: Layer7 invalid response, info: \"max-frame-size value not found\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'sp_big', lines: sp, acts: [{ recv: 82 }, { send: hex('00ffffff 65') }] , seen: "Health check for server sp_big/srv failed, reason: Layer7 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'ssl_alert', lines: ssl, acts: [{ recv: 1 }, { send: hex('15030100020246') }] , seen: "Health check for server ssl_alert/srv succeeded, reason: Layer6 check passed, check duration: Nms, status: 1/1 UP." },
  { name: 'ssl_hs', lines: ssl, acts: [{ recv: 1 }, { send: hex('160300000402000000') }] , seen: "Health check for server ssl_hs/srv succeeded, reason: Layer6 check passed, check duration: Nms, status: 1/1 UP." },
  { name: 'ssl_hs1', lines: ssl, acts: [{ recv: 1 }, { send: hex('16') }] , seen: "Health check for server ssl_hs1/srv failed, reason: Layer6 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'ssl_hs1c', lines: ssl, acts: [{ recv: 1 }, { send: hex('16') }, 'close'] , seen: "Health check for server ssl_hs1c/srv succeeded, reason: Layer6 check passed, check duration: Nms, status: 1/1 UP." },
  { name: 'ssl_http', lines: ssl, acts: [{ recv: 1 }, { send: 'HTTP/1.1 400 Bad Request\r\n\r\n' }, 'close'] , seen: "Health check for server ssl_http/srv failed, reason: Layer6 invalid response, check duration: Nms, status: 0/1 DOWN." },
  { name: 'ssl_http_open', lines: ssl, acts: [{ recv: 1 }, { send: 'HTTP/1.1 400 Bad Request\r\n\r\n' }] , seen: "Health check for server ssl_http_open/srv failed, reason: Layer6 invalid response, check duration: Nms, status: 0/1 DOWN." },
  { name: 'ssl_close', lines: ssl, acts: [{ recv: 1 }, 'close'] , seen: "Health check for server ssl_close/srv failed, reason: Layer6 invalid response, info: \"TCPCHK got an empty response at step 2\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'ssl_silent', lines: ssl, acts: [{ delay: 5000 }] , seen: "Health check for server ssl_silent/srv failed, reason: Layer6 timeout, check duration: Nms, status: 0/1 DOWN." },
  { name: 'ssl_refused', lines: ssl, port: 'refused' , seen: "Health check for server ssl_refused/srv failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'ssl_17', lines: ssl, acts: [{ recv: 1 }, { send: hex('17030100020246') }] , seen: "Health check for server ssl_17/srv failed, reason: Layer6 invalid response, check duration: Nms, status: 0/1 DOWN." },
  { name: 'mr1', lines: minrecv, acts: [{ send: 'valid' }, { delay: 3000 }] , seen: "Health check for server mr1/srv failed, reason: Layer7 timeout, info: \" at step 2 of tcp-check (expect regex) comment: 'negative check'\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'mr2', lines: minrecv2, acts: [{ send: 'valid' }, { recv: 10 }, { send: 'valid' }, { delay: 3000 }] , seen: "Health check for server mr2/srv succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP." },
  { name: 'mp1', lines: tc('connect port PORT', 'connect port 1'), acts: [{ delay: 3000 }] , seen: "Health check for server mp1/srv failed, reason: Layer4 connection problem, info: \"Connection refused at step 2 of tcp-check (connect port 1)\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'mp2', lines: tc('connect port 1', 'connect port PORT'), acts: [{ delay: 3000 }] , seen: "Health check for server mp2/srv failed, reason: Layer4 connection problem, info: \"Connection refused at step 1 of tcp-check (connect port 1)\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'mp3', lines: tc('connect port PORT', 'send "x"', 'connect port 1'), acts: [{ delay: 3000 }] , seen: "Health check for server mp3/srv failed, reason: Layer4 connection problem, info: \"Connection refused at step 3 of tcp-check (connect port 1)\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_str', lines: tc('expect string hello'), acts: [{ send: 'world' }, 'close'] , seen: "Health check for server t_str/srv failed, reason: Layer7 invalid response, info: \"TCPCHK did not match content 'hello' at step 1\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_str_open', lines: tc('expect string hello'), acts: [{ send: 'world' }] , seen: "Health check for server t_str_open/srv failed, reason: Layer7 timeout, info: \" at step 1 of tcp-check (expect string 'hello')\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_str_c', lines: tc('expect string hello comment "greeting"'), acts: [{ send: 'world' }, 'close'] , seen: "Health check for server t_str_c/srv failed, reason: Layer7 invalid response, info: \"TCPCHK did not match content 'hello' at step 1 comment: greeting\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_rstr', lines: tc('expect rstring ^hel+o'), acts: [{ send: 'world' }, 'close'] , seen: "Health check for server t_rstr/srv failed, reason: Layer7 invalid response, info: \"TCPCHK did not match content (regex) at step 1\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_bin', lines: tc('expect binary 68656c6c6f'), acts: [{ send: 'world' }, 'close'] , seen: "Health check for server t_bin/srv failed, reason: Layer7 invalid response, info: \"TCPCHK did not match content (binary) at step 1\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_rbin', lines: tc('expect rbinary ^68'), acts: [{ send: 'world' }, 'close'] , seen: "Health check for server t_rbin/srv failed, reason: Layer7 invalid response, info: \"TCPCHK did not match content (binary regex) at step 1\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_neg', lines: tc('expect ! string world'), acts: [{ send: 'world' }, 'close'] , seen: "Health check for server t_neg/srv failed, reason: Layer7 invalid response, info: \"TCPCHK matched unwanted content 'world' at step 1\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_neg_r', lines: tc('expect ! rstring ^wor'), acts: [{ send: 'world' }, 'close'] , seen: "Health check for server t_neg_r/srv failed, reason: Layer7 invalid response, info: \"TCPCHK matched unwanted content (regex) at step 1\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_empty', lines: tc('send ping', 'expect string pong'), acts: ['close'] , seen: "Health check for server t_empty/srv failed, reason: Layer7 invalid response, info: \"TCPCHK got an empty response at step 2\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_tout', lines: tc('send ping', 'expect string pong'), acts: [{ delay: 5000 }] , seen: "Health check for server t_tout/srv failed, reason: Layer7 timeout, info: \" at step 2 of tcp-check (expect string 'pong')\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_tout_c', lines: tc('send ping', 'expect string pong comment "the pong"'), acts: [{ delay: 5000 }] , seen: "Health check for server t_tout_c/srv failed, reason: Layer7 timeout, info: \" at step 2 of tcp-check (expect string 'pong') comment: 'the pong'\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_tout_conn', lines: tc('connect', 'send ping', 'expect string pong'), acts: [{ delay: 5000 }] , seen: "Health check for server t_tout_conn/srv failed, reason: Layer7 timeout, info: \" at step 3 of tcp-check (expect string 'pong')\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_ok', lines: tc('send ping', 'expect string pong'), acts: [{ send: 'pong' }] , seen: "Health check for server t_ok/srv succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP." },
  { name: 't_ok_c', lines: tc('send ping', 'expect string pong comment "is pong"'), acts: [{ send: 'pong' }] , seen: "Health check for server t_ok_c/srv succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP." },
  { name: 't_noexp', lines: tc('send ping'), acts: [{ delay: 3000 }] , seen: "Health check for server t_noexp/srv succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP." },
  { name: 't_noexp_c', lines: tc('connect comment "just connect"'), acts: [{ delay: 3000 }] , seen: "Health check for server t_noexp_c/srv succeeded, reason: Layer4 check passed, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP." },
  { name: 't_refused', lines: tc('send ping', 'expect string pong'), port: 'refused' , seen: "Health check for server t_refused/srv failed, reason: Layer4 connection problem, info: \"Connection refused at initial connection step of tcp-check\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_refused_c', lines: tc('connect comment "the connect"', 'send ping'), port: 'refused' , seen: "Health check for server t_refused_c/srv failed, reason: Layer4 connection problem, info: \"Connection refused at step 1 of tcp-check (connect) comment: 'the connect'\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_only_opt', lines: ['option tcp-check'], acts: [{ delay: 3000 }] , seen: "Health check for server t_only_opt/srv succeeded, reason: Layer4 check passed, check duration: Nms, status: 1/1 UP." },
  { name: 't_status', lines: tc('expect string hello error-status L7STS'), acts: [{ send: 'world' }, 'close'] , seen: "Health check for server t_status/srv failed, reason: Layer7 wrong status, code: 0, info: \"TCPCHK did not match content 'hello' at step 1\", check duration: Nms, status: 0/1 DOWN." },
  { name: 't_onsucc', lines: tc('expect string hello on-success "good"'), acts: [{ send: 'hello' }] , seen: "Health check for server t_onsucc/srv succeeded, reason: Layer7 check passed, code: 0, info: \"good\", check duration: Nms, status: 1/1 UP." },
  { name: 't_rst', lines: tc('send ping', 'expect string pong'), acts: [{ recv: 4 }, 'rst'] , seen: "Health check for server t_rst/srv failed, reason: Socket error, info: \"Connection reset by peer at step 2 of tcp-check (expect string 'pong')\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'x_bin_t', lines: tc('expect binary 68656c6c6f'), acts: [{ delay: 5000 }] , seen: "Health check for server x_bin_t/srv failed, reason: Layer7 timeout, info: \" at step 1 of tcp-check (expect binary 'hello')\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'x_rbin_t', lines: tc('expect rbinary ^68'), acts: [{ delay: 5000 }] , seen: "Health check for server x_rbin_t/srv failed, reason: Layer7 timeout, info: \" at step 1 of tcp-check (expect binary regex)\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'x_neg_t', lines: tc('expect ! string world'), acts: [{ delay: 5000 }] , seen: "Health check for server x_neg_t/srv failed, reason: Layer7 timeout, info: \" at step 1 of tcp-check (expect string 'world')\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'x_sendbin_t', lines: tc('send-binary 414243', 'expect string x'), acts: [{ delay: 5000 }] , seen: "Health check for server x_sendbin_t/srv failed, reason: Layer7 timeout, info: \" at step 2 of tcp-check (expect string 'x')\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'x_conn_p_rst', lines: tc('connect port PORT', 'send ping', 'expect string pong'), acts: [{ delay: 5000 }] , seen: "Health check for server x_conn_p_rst/srv failed, reason: Layer7 timeout, info: \" at step 3 of tcp-check (expect string 'pong')\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'x_mr_str', lines: tc('expect min-recv 10 string hello'), acts: [{ send: 'world' }, { delay: 5000 }] , seen: "Health check for server x_mr_str/srv failed, reason: Layer7 timeout, info: \" at step 1 of tcp-check (expect string 'hello')\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'x_mr_str2', lines: tc('expect min-recv 4 string hello'), acts: [{ send: 'world' }, { delay: 5000 }] , seen: "Health check for server x_mr_str2/srv failed, reason: Layer7 invalid response, info: \"TCPCHK did not match content 'hello' at step 1\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'x_mr_neg', lines: tc('expect min-recv 4 ! string hello'), acts: [{ send: 'world' }, { delay: 5000 }] , seen: "Health check for server x_mr_neg/srv succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP." },
  { name: 'x_neg_close', lines: tc('expect ! string hello'), acts: [{ send: 'world' }, 'close'] , seen: "Health check for server x_neg_close/srv succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP." },
  { name: 'x_neg_empty', lines: tc('expect ! string hello'), acts: ['close'] , seen: "Health check for server x_neg_empty/srv failed, reason: Layer7 invalid response, info: \"TCPCHK got an empty response at step 1\", check duration: Nms, status: 0/1 DOWN." },
  { name: 'x_last_send', lines: tc('expect string hi', 'send bye'), acts: [{ send: 'hi' }, { delay: 3000 }] , seen: "Health check for server x_last_send/srv succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP." },
  { name: 'x_two', lines: tc('expect string a', 'expect string b'), acts: [{ send: 'a' }, { delay: 100 }, { send: 'b' }, { delay: 3000 }] , seen: "Health check for server x_two/srv succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP." },
  { name: 'x_two_same', lines: tc('expect string a', 'expect string b'), acts: [{ send: 'ab' }, { delay: 3000 }] , seen: "Health check for server x_two_same/srv succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\", check duration: Nms, status: 1/1 UP." },
  { name: 'x_cmt_only', lines: tc('comment "hello there"', 'expect string q'), acts: [{ send: 'z' }, 'close'] , seen: "Health check for server x_cmt_only/srv failed, reason: Layer7 invalid response, info: \"TCPCHK did not match content 'q' at step 2 comment: hello there\", check duration: Nms, status: 0/1 DOWN." },
]

async function fake (acts: Act[]): Promise<{ port: number, close (): Promise<void> }> {
  return await startRawUpstream((s) => {
    let got = 0
    let need = 0
    let wake: (() => void) | null = null
    s.on('data', d => {
      got += d.length
      if (wake !== null && got >= need) {
        const w = wake
        wake = null
        w()
      }
    })
    const play = async (): Promise<void> => {
      for (const a of acts) {
        if (a === 'close') { s.end(); return }
        if (a === 'rst') { s.resetAndDestroy(); return }
        if ('send' in a) s.write(a.send)
        // unref'd: a server still waiting when the test ends does not hold the process
        else if ('delay' in a) await new Promise(resolve => setTimeout(resolve, a.delay).unref())
        else {
          need = a.recv
          await new Promise<void>(resolve => { if (got >= need) resolve(); else wake = resolve })
          got = 0
        }
      }
    }
    play().catch(() => {})
  })
}

/** Runs every case on one proxy; resolves with the first health-check line of each backend, duration masked. */
async function firstChecks (label: 'haproxy' | 'ours'): Promise<Map<string, string>> {
  const log = await syslogServer()
  const servers: Array<{ close (): Promise<void> }> = []
  const silent = await fake([{ delay: 10_000 }])
  servers.push(silent)
  const ports = new Map<string, number>()
  for (const c of CASES) {
    if (c.port === 'refused' || c.acts === undefined) continue
    const up = await fake(c.acts)
    servers.push(up)
    ports.set(c.name, up.port)
  }
  const config = 'defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n' +
    CASES.map(c => `backend ${c.name}\n    log 127.0.0.1:${log.port} daemon\n    option log-health-checks\n` +
      c.lines.map(l => `    ${l.replace('PORT', String(silent.port))}\n`).join('') +
      `    server srv 127.0.0.1:${ports.get(c.name) ?? (c.port === 'refused' ? 1 : silent.port)} check inter 1s rise 1 fall 1\n`).join('')
  // the proxy needs a listener for the harness to know it is up
  const proxy = await startProxy(label, port => config + `listen up\n    bind 127.0.0.1:${port}\n    server s 127.0.0.1:${silent.port}\n`)
  const lines = new Map<string, string>()
  try {
    const deadline = Date.now() + 20_000
    while (lines.size < CASES.length && Date.now() < deadline) {
      for (const l of log.lines) {
        const m = / for server ([^/]+)\/srv /.exec(l)
        if (m !== null && !lines.has(m[1]!)) lines.set(m[1]!, l.replace(/^.*?\]: /, '').replace(/duration: \d+ms/, 'duration: Nms').trim())
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  } finally {
    await proxy.stop()
    for (const s of servers) await s.close()
    await log.close()
  }
  return lines
}

function compare (lines: Map<string, string>): void {
  const wrong = CASES.filter(c => lines.get(c.name) !== c.seen).map(c => `${c.name}:\n  want ${c.seen}\n  got  ${lines.get(c.name) ?? '(no log line)'}`)
  assert.equal(wrong.length, 0, wrong.join('\n'))
}

test('protocol checks and tcp-check scripts log what haproxy 2.6 logs, for every recorded server behaviour', async () => {
  compare(await firstChecks('ours'))
})

test('real HAProxy still logs the recorded lines', { skip: skipWithoutHaproxy }, async () => {
  compare(await firstChecks('haproxy'))
})

test('the stats CSV carries the check status, code and info of the log line (ldap-check success aside, as in HAProxy)', async (t) => {
  const redis = await fake([{ recv: 14 }, { send: '-ERR loading\r\n' }, 'close'])
  const smtp = await fake([{ send: '421 Try again later\r\n' }])
  const ldap = await fake([{ recv: 14 }, { send: hex('300C020101 61 070A01 00 04000400') }])
  t.after(async () => { await redis.close(); await smtp.close(); await ldap.close() })
  const proxy = await startProxy('ours', port => 'defaults\n    mode tcp\n    timeout connect 1s\n' +
    `listen stats\n    mode http\n    bind 127.0.0.1:${port}\n    stats enable\n    stats uri /stats\n` +
    `backend redis\n    option redis-check\n    server srv 127.0.0.1:${redis.port} check inter 1s rise 1 fall 1\n` +
    `backend smtp\n    option smtpchk\n    server srv 127.0.0.1:${smtp.port} check inter 1s rise 1 fall 1\n` +
    `backend ldap\n    option ldap-check\n    server srv 127.0.0.1:${ldap.port} check inter 1s rise 1 fall 1\n`)
  t.after(async () => { await proxy.stop() })
  const row = async (pxname: string): Promise<Record<string, string>> => (await fetchCsvRows(proxy.port)).get(`${pxname}/srv`) ?? {}
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline && ((await row('redis')).status !== 'DOWN' || (await row('smtp')).status !== 'DOWN' || (await row('ldap')).check_status !== 'L7OK')) await new Promise(resolve => setTimeout(resolve, 100))
  const r = await row('redis')
  assert.deepEqual([r.check_status, r.check_code, r.last_chk, r.check_desc], ['L7STS', '0', '-ERR loading', 'Layer7 wrong status'])
  const s = await row('smtp')
  assert.deepEqual([s.check_status, s.check_code, s.last_chk], ['L7STS', '421', 'Try again later'])
  // recorded: ldap-check logs info "Success" but leaves last_chk empty (so do mysql-check and spop-check)
  const l = await row('ldap')
  assert.deepEqual([l.check_status, l.check_code, l.last_chk], ['L7OK', '0', ''])
})
