// Fetches at layer 5 (configuration.txt §7.3.4): the client's TLS connection as node's TLSSocket
// shows it — SNI, protocol, cipher, ALPN, and the client's (`ssl_c_*`) and frontend's
// (`ssl_f_*`) certificates. Binary samples (serial, SHA-1, DER) are their bytes as a latin1
// string, which `hex` and `base64` turn into HAProxy's text.

import type { X509Certificate } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import type { ArgValue } from './arguments.js'
import type { FetchRow } from './fetches.js'
import { ExprError, type Sample } from './sample.js'
import type { HttpTxn } from './txn.js'
import { negotiatedAlpn, VERIFY_ERRORS } from '../tls.js'

const row = (name: string, type: FetchRow['type'], get: (s: TLSSocket) => Sample | null | undefined): FetchRow =>
  ({ name, args: [], minArgs: 0, type, compile: () => ({ one: (t: HttpTxn) => t.tls === null ? null : get(t.tls) ?? null }) })

function peer (s: TLSSocket): X509Certificate | undefined {
  return s.getPeerX509Certificate()
}

function own (s: TLSSocket): X509Certificate | undefined {
  return s.getX509Certificate()
}

/** `Jan  5 16:00:00 2027 GMT` (node) → `270105160000Z` (ASN.1 UTCTime, as HAProxy prints it). */
function utcTime (text: string): string {
  const d = new Date(text)
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`
}

/**
 * `ssl_c_s_dn([<entry>[,<occ>[,<format>]]])`: the whole DN as `/C=FR/O=x/CN=y` (OpenSSL's
 * one-line form) or `CN=y,O=x,C=FR` with `rfc2253`; with an entry, the value of its <occ>th
 * occurrence (negative: from the last).
 */
function dnFetch (name: string, pick: (s: TLSSocket) => X509Certificate | undefined, field: 'subject' | 'issuer'): FetchRow {
  return {
    name,
    args: ['str', 'int', 'str'],
    minArgs: 0,
    type: 'str',
    compile: (a: ArgValue[]) => {
      const entry = a[0] === undefined || a[0] === '' ? null : String(a[0])
      const occ = a[1] === undefined ? 1 : Number(a[1])
      const format = a[2] === undefined ? '' : String(a[2])
      if (format !== '' && format !== 'rfc2253') throw new ExprError(`only rfc2253 or a blank value are currently supported as the format argument to '${name}'`)
      return {
        one: (t: HttpTxn) => {
          const cert = t.tls === null ? undefined : pick(t.tls)
          if (cert === undefined) return null
          const parts = cert[field].split('\n').map(line => {
            const eq = line.indexOf('=')
            return [line.slice(0, eq), line.slice(eq + 1)] as const
          })
          if (entry !== null) {
            const values = parts.filter(([k]) => k === entry).map(([, v]) => v)
            const i = occ > 0 ? occ - 1 : values.length + occ
            return values[i] ?? null
          }
          if (format === 'rfc2253') return parts.map(([k, v]) => `${k}=${v}`).reverse().join(',')
          return parts.map(([k, v]) => `/${k}=${v}`).join('')
        }
      }
    }
  }
}

/** The fetches on a certificate, client's (`ssl_c_`) or frontend's (`ssl_f_`). */
function certificateFetches (prefix: string, pick: (s: TLSSocket) => X509Certificate | undefined): FetchRow[] {
  return [
    dnFetch(`${prefix}_s_dn`, pick, 'subject'),
    dnFetch(`${prefix}_i_dn`, pick, 'issuer'),
    row(`${prefix}_serial`, 'str', s => { const c = pick(s); return c === undefined ? null : Buffer.from(c.serialNumber.length % 2 === 1 ? `0${c.serialNumber}` : c.serialNumber, 'hex').toString('latin1') }),
    row(`${prefix}_sha1`, 'str', s => { const c = pick(s); return c === undefined ? null : Buffer.from(c.fingerprint.replaceAll(':', ''), 'hex').toString('latin1') }),
    row(`${prefix}_der`, 'str', s => pick(s)?.raw.toString('latin1')),
    row(`${prefix}_notafter`, 'str', s => { const c = pick(s); return c === undefined ? null : utcTime(c.validTo) }),
    row(`${prefix}_notbefore`, 'str', s => { const c = pick(s); return c === undefined ? null : utcTime(c.validFrom) })
  ]
}

export const TLS_FETCH_ROWS: FetchRow[] = [
  row('ssl_fc_sni', 'str', s => s.servername || null),
  row('ssl_fc_has_sni', 'bool', s => typeof s.servername === 'string' && s.servername !== ''),
  row('ssl_fc_protocol', 'str', s => s.getProtocol()),
  row('ssl_fc_cipher', 'str', s => s.getCipher()?.name),
  row('ssl_fc_alpn', 'str', negotiatedAlpn),
  row('ssl_fc_is_resumed', 'bool', s => s.isSessionReused()),
  row('ssl_fc_has_crt', 'bool', s => peer(s) !== undefined),
  row('ssl_c_used', 'bool', s => peer(s) !== undefined),
  // 0 without a client certificate too, as HAProxy
  row('ssl_c_verify', 'int', s => peer(s) === undefined || s.authorizationError == null ? 0 : VERIFY_ERRORS[String(s.authorizationError)] ?? 1),
  ...certificateFetches('ssl_c', peer),
  ...certificateFetches('ssl_f', own)
]
