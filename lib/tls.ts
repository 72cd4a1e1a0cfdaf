// TLS termination for `bind … ssl` (configuration.txt §5.1): the certificates of `crt` files,
// directories and `crt-list` files become node SecureContexts compiled once per (re)load, and
// the SNI a client sends picks one by the names it carries — exact names first, then wildcards,
// the first certificate loaded being the default (none with `strict-sni`).

import { readdirSync, statSync } from 'node:fs'
import { PEM_FILE_LIMIT, readBounded } from './files.js'
import { X509Certificate, constants as cryptoConstants } from 'node:crypto'
import { join } from 'node:path'
import tls from 'node:tls'
import type { SecureContext, SecureContextOptions, TlsOptions } from 'node:tls'
import type { BindTls, GlobalTls } from './config/model.js'
import { parseCrtList, type CrtListEntry } from './config/crt-list.js'

/** What a certificate file gives: its chain (leaf first), key, optional DH parameters, and the names it answers for. */
export interface LoadedCertificate {
  file: string
  cert: string
  key: string
  dhparam?: string
  names: string[]
}

/** An entry of the SNI table: a context and the names (lower-case, `*.` for wildcards) it serves. */
interface SniEntry {
  names: string[]
  excluded: string[]
  context: SecureContext
  /** Versions this certificate's line allows (a crt-list line may narrow the bind's). */
  versions: { minVersion: tls.SecureVersion, maxVersion: tls.SecureVersion }
  /** `verify` and `alpn` of its line (the bind's unless a crt-list line says otherwise). */
  verify: string
  alpn: string[]
}

const VERSION_ORDER: tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']

/** Files a `crt <directory>` skips: the companions HAProxy loads beside a certificate (§5.1 crt). */
const COMPANIONS = ['.key', '.issuer', '.ocsp', '.sctl']

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g

/** A server's `crt` (§5.2): the certificate chain and key a connection to it presents. */
export function clientIdentity (file: string): { cert: string, key: string } {
  const { cert, key } = loadCertificate(file)
  return { cert, key }
}

/** The blocks of a PEM text: certificates in order, the first private key, DH parameters. */
export function parsePem (text: string): { certs: string[], key?: string, dhparam?: string } {
  const certs: string[] = []
  let key: string | undefined
  let dhparam: string | undefined
  for (const m of text.matchAll(PEM_BLOCK)) {
    const kind = m[1]!
    if (kind === 'CERTIFICATE' || kind === 'TRUSTED CERTIFICATE') certs.push(m[0])
    else if (kind.endsWith('PRIVATE KEY')) key ??= m[0]
    else if (kind === 'DH PARAMETERS') dhparam = m[0]
  }
  return { certs, ...(key !== undefined ? { key } : {}), ...(dhparam !== undefined ? { dhparam } : {}) }
}

/** A certificate for `file` from its chain (leaf first), key and optional DH parameters. */
export function certificateOf (file: string, certs: string[], key: string, dhparam?: string): LoadedCertificate {
  const loaded: LoadedCertificate = { file, cert: certs.join('\n'), key, names: certificateNames(new X509Certificate(certs[0]!)) }
  if (dhparam !== undefined) loaded.dhparam = dhparam
  return loaded
}

/** Reads one PEM: certificates in order, the private key (or `<file>.key`), DH parameters. */
export function loadCertificate (file: string): LoadedCertificate {
  const { certs, key, dhparam } = parsePem(readBounded(file, PEM_FILE_LIMIT).toString('latin1'))
  const privateKey = key ?? readBounded(`${file}.key`, PEM_FILE_LIMIT).toString('latin1')
  if (certs.length === 0) throw new Error(`unable to load SSL certificate from PEM file '${file}'.`)
  return certificateOf(file, certs, privateKey, dhparam)
}

/** The DNS names of the subjectAltName, and the subject's CN, lower-case, each once. */
export function certificateNames (cert: X509Certificate): string[] {
  const names: string[] = []
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) names.push(part.slice(4).toLowerCase())
  }
  for (const line of cert.subject.split('\n')) {
    if (line.startsWith('CN=')) names.push(line.slice(3).toLowerCase())
  }
  return [...new Set(names)]
}

/** `crt <path>`: a file, or every certificate file of a directory in alphabetical order. */
function expandCrt (path: string): string[] {
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path)
    .filter(f => !f.startsWith('.') && !COMPANIONS.some(ext => f.endsWith(ext)))
    .sort()
    .map(f => join(path, f))
    .filter(f => statSync(f).isFile())
}

// ---------------------------------------------------------------------------------------------
// Versions, ciphers, client certificates

/** OpenSSL's X509_V_ERR numbers for the reasons node gives (`authorizationError`), as `ssl_c_verify` returns them. */
export const VERIFY_ERRORS: Record<string, number> = {
  UNABLE_TO_GET_ISSUER_CERT: 2,
  UNABLE_TO_GET_CRL: 3,
  CERT_SIGNATURE_FAILURE: 7,
  CRL_SIGNATURE_FAILURE: 8,
  CERT_NOT_YET_VALID: 9,
  CERT_HAS_EXPIRED: 10,
  CRL_NOT_YET_VALID: 11,
  CRL_HAS_EXPIRED: 12,
  DEPTH_ZERO_SELF_SIGNED_CERT: 18,
  SELF_SIGNED_CERT_IN_CHAIN: 19,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 20,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 21,
  CERT_CHAIN_TOO_LONG: 22,
  CERT_REVOKED: 23,
  INVALID_CA: 24,
  PATH_LENGTH_EXCEEDED: 25,
  INVALID_PURPOSE: 26,
  CERT_UNTRUSTED: 27,
  CERT_REJECTED: 28
}


const VERSIONS = ['SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const
const NODE_VERSION: Record<string, tls.SecureVersion> = { 'TLSv1.0': 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3' }
const NO_FLAG: Record<string, string> = { 'no-sslv3': 'SSLv3', 'no-tlsv10': 'TLSv1.0', 'no-tlsv11': 'TLSv1.1', 'no-tlsv12': 'TLSv1.2', 'no-tlsv13': 'TLSv1.3' }
const FORCE_FLAG: Record<string, string> = { 'force-sslv3': 'SSLv3', 'force-tlsv10': 'TLSv1.0', 'force-tlsv11': 'TLSv1.1', 'force-tlsv12': 'TLSv1.2', 'force-tlsv13': 'TLSv1.3' }

/** `ssl-default-bind-options` words as bind options (name → value). */
function defaultOptions (words: string[]): Record<string, string> {
  const o: Record<string, string> = {}
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!
    if (w === 'ssl-min-ver' || w === 'ssl-max-ver') o[w] = words[++i] ?? ''
    else o[w] = ''
  }
  return o
}

/**
 * The version range: HAProxy 2.6 defaults to TLSv1.2 and up on binds; `ssl-min-ver`/`ssl-max-ver`,
 * `force-*` and `no-*` narrow it. Node takes a contiguous range, so the enabled versions' ends.
 */
function versionRange (o: Record<string, string>): { minVersion: tls.SecureVersion, maxVersion: tls.SecureVersion } {
  let lo = VERSIONS.indexOf((o['ssl-min-ver'] ?? 'TLSv1.2') as typeof VERSIONS[number])
  let hi = VERSIONS.indexOf((o['ssl-max-ver'] ?? 'TLSv1.3') as typeof VERSIONS[number])
  const forced = Object.keys(FORCE_FLAG).filter(f => f in o).map(f => VERSIONS.indexOf(FORCE_FLAG[f] as typeof VERSIONS[number]))
  if (forced.length > 0) { lo = Math.min(...forced); hi = Math.max(...forced) }
  const off = new Set(Object.keys(NO_FLAG).filter(f => f in o).map(f => VERSIONS.indexOf(NO_FLAG[f] as typeof VERSIONS[number])))
  while (lo <= hi && off.has(lo)) lo++
  while (hi >= lo && off.has(hi)) hi--
  // SSLv3 does not exist in node's OpenSSL: the range starts at TLSv1.0 at the lowest
  lo = Math.max(lo, 1)
  if (hi < lo) hi = lo
  return { minVersion: NODE_VERSION[VERSIONS[lo]!]!, maxVersion: NODE_VERSION[VERSIONS[hi]!]! }
}

/**
 * The TLSv1.2 cipher list and TLSv1.3 suites as node's single `ciphers` string (suites are the
 * `TLS_…` names). Without `ciphers`, HAProxy leaves OpenSSL's own default list (AES256-GCM and
 * CHACHA20 before AES128-GCM, picked in that order), where node's default puts AES128-GCM first.
 */
function cipherList (ciphers: string | undefined, suites: string | undefined): string {
  const v13 = suites ?? tls.DEFAULT_CIPHERS.split(':').filter(c => c.startsWith('TLS_')).join(':')
  return [v13, ciphers ?? 'DEFAULT'].filter(s => s !== '').join(':')
}

/** Node's context options for a set of bind options (bind line, global defaults and crt-list line merged). */
function contextOptions (o: Record<string, string>, global: GlobalTls | undefined): SecureContextOptions {
  const curves = o.curves ?? o.ecdhe ?? global?.bindCurves
  const opts: SecureContextOptions = {
    ...versionRange(o),
    // HAProxy picks the cipher by its own order unless `prefer-client-ciphers`
    honorCipherOrder: !('prefer-client-ciphers' in o),
    secureOptions: 'no-tls-tickets' in o ? cryptoConstants.SSL_OP_NO_TICKET : 0,
    ciphers: cipherList(o.ciphers ?? global?.bindCiphers, o.ciphersuites ?? global?.bindCiphersuites)
  }
  if (curves !== undefined) opts.ecdhCurve = curves
  if (o['ca-file'] !== undefined) opts.ca = readBounded(o['ca-file'], PEM_FILE_LIMIT)
  if (o['crl-file'] !== undefined) opts.crl = readBounded(o['crl-file'], PEM_FILE_LIMIT)
  if (global?.dhParamFile !== undefined) opts.dhparam = readBounded(global.dhParamFile, PEM_FILE_LIMIT)
  return opts
}

/** `verify none|optional|required` (none by default) as node's server options. */
function verifyOptions (verify: string | undefined): Pick<TlsOptions, 'requestCert' | 'rejectUnauthorized'> {
  if (verify === 'required') return { requestCert: true, rejectUnauthorized: true }
  if (verify === 'optional') return { requestCert: true, rejectUnauthorized: false }
  return { requestCert: false, rejectUnauthorized: false }
}

/** An `alpn` value as a list (none without it). */
function alpnList (alpn: string | undefined): string[] {
  return alpn?.split(',').filter(p => p !== '') ?? []
}

/**
 * A crt-list line's own `verify`, applied while the handshake is choosing the certificate (before
 * the server asks for the client's): node has no public per-SNI verify mode, so this sets it on
 * the connection's TLS handle and the fields node's handshake-done check reads.
 */
function requestClientCertificate (socket: tls.TLSSocket, verify: string): void {
  const { requestCert, rejectUnauthorized } = verifyOptions(verify)
  const s = socket as tls.TLSSocket & { _handle?: { setVerifyMode?: (request: boolean, reject: boolean) => void } | null, _requestCert?: boolean, _rejectUnauthorized?: boolean }
  if (typeof s._handle?.setVerifyMode !== 'function') return
  s._handle.setVerifyMode(requestCert === true, rejectUnauthorized === true)
  s._requestCert = requestCert === true
  s._rejectUnauthorized = rejectUnauthorized === true
}

/** `ca-ignore-err` / `crt-ignore-err`: `all`, or error ids (OpenSSL's numbers or names). */
function ignoredErrors (o: Record<string, string>): 'all' | Set<string> {
  const words = [o['ca-ignore-err'], o['crt-ignore-err']].filter((w): w is string => w !== undefined).flatMap(w => w.split(','))
  if (words.includes('all')) return 'all'
  const names = new Set<string>()
  for (const w of words) {
    const byNumber = Object.entries(VERIFY_ERRORS).find(([, n]) => String(n) === w)
    names.add(byNumber !== undefined ? byNumber[0] : w.replace(/^X509_V_ERR_/, ''))
  }
  return names
}

// ---------------------------------------------------------------------------------------------
// The terminator

/** The compiled TLS setup of one bind: the contexts by name, and node's server options. */
/** TLS sockets given http/1.1 by the ALPN callback where HAProxy negotiates no protocol. */
const alpnChosenHere = new WeakSet<tls.TLSSocket>()

/** The ALPN protocol as HAProxy's `ssl_fc_alpn` reads it: none where HAProxy negotiates none. */
export function negotiatedAlpn (socket: tls.TLSSocket): string | null {
  const alpn = socket.alpnProtocol
  return typeof alpn === 'string' && alpn !== '' && !alpnChosenHere.has(socket) ? alpn : null
}

export class TlsTerminator {
  private exact = new Map<string, SniEntry>()
  private wildcard = new Map<string, SniEntry>()
  private defaultEntry: SniEntry | null = null
  private strict = false
  /** The certificates loaded, in order (for tests and messages). */
  certificates: LoadedCertificate[] = []
  private serverOpts: TlsOptions = {}
  private ignoredErrors: 'all' | Set<string> = new Set()
  /** What the last compile read, for `replace`. */
  private source: { bind: BindTls, global: GlobalTls | undefined } | null = null
  /** Certificates committed at run time (`commit ssl cert`), by file: used instead of the file until a reload. */
  private replaced = new Map<string, LoadedCertificate>()
  /** Crt-lists edited at run time (`add|del ssl crt-list`), by file: used instead of the file until a reload. */
  private edited = new Map<string, CrtListEntry[]>()

  /** `proto h2`: without `alpn`, h2 is what the bind negotiates (node's HTTP/2 server needs it). */
  constructor (bind: BindTls, global: GlobalTls | undefined, private readonly h2Only = false) {
    this.compile(bind, global)
  }

  /**
   * Reads every certificate again (a renewed PEM), keeping the server and its connections; a
   * reload forgets the certificates committed at run time, as HAProxy's new process does.
   */
  compile (bind: BindTls, global: GlobalTls | undefined, replaced = new Map<string, LoadedCertificate>(), edited = new Map<string, CrtListEntry[]>()): void {
    this.source = { bind, global }
    this.replaced = replaced
    this.edited = edited
    const lineOptions = { ...defaultOptions(global?.bindOptions ?? []), ...bind.options }
    const entries: SniEntry[] = []
    const certificates: LoadedCertificate[] = []
    const add = (file: string, extra: Record<string, string>, filters: string[]): void => {
      const cert = replaced.get(file) ?? loadCertificate(file)
      certificates.push(cert)
      const o = { ...lineOptions, ...extra }
      const context = tls.createSecureContext({ ...contextOptions(o, global), cert: cert.cert, key: cert.key, ...(cert.dhparam !== undefined ? { dhparam: cert.dhparam } : {}) })
      const positive = filters.filter(f => !f.startsWith('!')).map(f => f.toLowerCase())
      const excluded = filters.filter(f => f.startsWith('!')).map(f => f.slice(1).toLowerCase())
      entries.push({ names: positive.length > 0 ? positive : cert.names, excluded, context, versions: versionRange(o), verify: o.verify ?? 'none', alpn: o.alpn === undefined && this.h2Only ? ['h2'] : alpnList(o.alpn) })
    }
    for (const crt of bind.crts) for (const file of expandCrt(crt)) add(file, {}, [])
    for (const list of bind.crtLists) {
      // a certificate the runtime API holds may have no file (`new ssl cert`)
      for (const e of edited.get(list) ?? parseCrtList(list, bind.crtListBase)) for (const file of replaced.has(e.file) ? [e.file] : expandCrt(e.file)) add(file, e.options, e.filters)
    }
    const exact = new Map<string, SniEntry>()
    const wildcard = new Map<string, SniEntry>()
    for (const e of entries) {
      for (const name of e.names) {
        if (e.excluded.includes(name)) continue
        if (name.startsWith('*.')) { if (!wildcard.has(name.slice(1))) wildcard.set(name.slice(1), e) } else if (!exact.has(name)) exact.set(name, e)
      }
    }
    this.exact = exact
    this.wildcard = wildcard
    this.certificates = certificates
    this.defaultEntry = entries[0] ?? null
    this.strict = 'strict-sni' in lineOptions
    this.ignoredErrors = ignoredErrors(lineOptions)
    const first = certificates[0]
    const bindVerify = lineOptions.verify ?? 'none'
    const bindAlpn = lineOptions.alpn === undefined && this.h2Only ? ['h2'] : alpnList(lineOptions.alpn)
    this.bindVerify = bindVerify
    this.offered = [...new Set([...bindAlpn, ...entries.flatMap(e => e.alpn)])]
    const terminator = this
    this.serverOpts = {
      ...contextOptions(lineOptions, global),
      ...verifyOptions(bindVerify),
      ...(bindAlpn.length === 0 && entries.every(e => e.alpn.length === 0)
        // without `alpn` HAProxy negotiates none (node's HTTPS server would offer http/1.1)
        ? { ALPNProtocols: [] }
        : {
            // the protocol is chosen from the `alpn` list of the line whose certificate the name
            // picks (the bind's), server's preference first as HAProxy does: `alpn http/1.1,h2`
            // gives http/1.1 to a client offering both (node's HTTP/2 server would put h2 first).
            // Where HAProxy negotiates nothing, node's callback can only refuse the handshake:
            // http/1.1 is chosen instead when the client offers it (it is what is spoken then),
            // and the socket remembered so that `ssl_fc_alpn` still reads empty. node calls the
            // callback on the TLS socket of the handshake.
            ALPNCallback: function (this: tls.TLSSocket, { servername, protocols }: { servername?: string | false, protocols: string[] }) {
              const offered = typeof servername === 'string' && servername !== '' ? terminator.entry(servername)?.alpn ?? bindAlpn : bindAlpn
              const chosen = offered.find(p => protocols.includes(p))
              if (chosen !== undefined) return chosen
              if (terminator.h2Only || !protocols.includes('http/1.1')) return undefined
              alpnChosenHere.add(this)
              return 'http/1.1'
            }
          }),
      // with strict-sni a client without a matching name gets no certificate: the handshake fails
      ...(first !== undefined && !this.strict ? { cert: first.cert, key: first.key } : {}),
      SNICallback: function (this: tls.TLSSocket, name, cb) {
        const entry = terminator.entry(name)
        if (entry === undefined && terminator.strict) { cb(new Error(`strict-sni: no certificate for '${name}'`)); return }
        if (entry !== undefined && entry.verify !== bindVerify) requestClientCertificate(this, entry.verify)
        cb(null, entry?.context)
      }
    }
  }

  /** `verify` of the bind line: what a handshake without SNI uses. */
  private bindVerify = 'none'
  /** Every protocol some line's `alpn` offers. */
  private offered: string[] = []

  /** The `verify` a handshake was made under: its line's when the client named one. */
  private verifyOf (socket: tls.TLSSocket): string {
    const name = socket.servername
    return typeof name === 'string' && name !== '' ? this.entry(name)?.verify ?? this.bindVerify : this.bindVerify
  }

  /** The context for an SNI name: exact, then the closest wildcard (one label), then the default. */
  lookup (servername: string): SecureContext | undefined {
    return this.entry(servername)?.context
  }

  private entry (servername: string): SniEntry | undefined {
    const name = servername.toLowerCase()
    const hit = this.exact.get(name)
    if (hit !== undefined) return hit
    const dot = name.indexOf('.')
    if (dot > 0) {
      const w = this.wildcard.get(name.slice(dot))
      // a crt-list line's `!name` keeps its wildcard from answering for that name
      if (w !== undefined && !w.excluded.includes(name)) return w
    }
    return this.strict ? undefined : this.defaultEntry ?? undefined
  }

  /**
   * Checks each handshake once done. With `verify optional`, a client certificate that fails
   * verification ends the connection as in HAProxy, unless `ca-ignore-err` / `crt-ignore-err` list its error (or say `all`).
   */
  watch (server: tls.Server): void {
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      // node switches the certificate on SNI but not the versions: a crt-list line's own range is checked here
      const versions = this.entry(socket.servername || '')?.versions
      const protocol = socket.getProtocol() as tls.SecureVersion
      if (versions !== undefined && (VERSION_ORDER.indexOf(protocol) < VERSION_ORDER.indexOf(versions.minVersion) || VERSION_ORDER.indexOf(protocol) > VERSION_ORDER.indexOf(versions.maxVersion))) {
        socket.destroy()
        return
      }
      if (this.verifyOf(socket) === 'none' || socket.authorized || socket.getPeerX509Certificate() === undefined) return
      const code = String(socket.authorizationError)
      const ignored = this.ignoredErrors
      if (ignored === 'all' || ignored.has(code)) return
      socket.destroy()
    })
  }

  /** Options for tls/https/http2 `createServer`. */
  get options (): TlsOptions {
    return this.serverOpts
  }

  /** ALPN protocols the bind or one of its crt-list lines offers (`alpn`; none without it). */
  get alpn (): string[] {
    return this.offered
  }

  /**
   * `commit ssl cert`: the certificate of a file this bind loaded is replaced (its names pick it
   * from now on); the number of places it is used (0 when none here). Apply with `applyTo`.
   */
  replace (cert: LoadedCertificate): number {
    const uses = this.certificates.filter(c => c.file === cert.file).length
    if (uses === 0 || this.source === null) return 0
    this.compile(this.source.bind, this.source.global, new Map([...this.replaced, [cert.file, cert]]), this.edited)
    return uses
  }

  /**
   * `add|del ssl crt-list`: the crt-list's lines become `entries`, their certificates taken from
   * `certs` (those the runtime API holds) before their files; false when this bind does not use
   * the list. Apply with `applyTo`.
   */
  editCrtList (list: string, entries: CrtListEntry[], certs: LoadedCertificate[]): boolean {
    if (this.source === null || !this.source.bind.crtLists.includes(list)) return false
    const replaced = new Map(this.replaced)
    for (const c of certs) if (!replaced.has(c.file)) replaced.set(c.file, c)
    this.compile(this.source.bind, this.source.global, replaced, new Map([...this.edited, [list, entries]]))
    return true
  }

  /** Applies a recompiled setup to a running server: new handshakes use it, open connections keep theirs. */
  applyTo (server: tls.Server): void {
    const { SNICallback: _sni, ALPNCallback: _alpnCallback, ALPNProtocols: _alpn, requestCert: _rc, rejectUnauthorized: _ru, ...context } = this.serverOpts
    server.setSecureContext(context)
  }
}
