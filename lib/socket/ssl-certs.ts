// The certificate commands of the runtime API (management.txt §9.3), answers recorded against
// haproxy 2.6.12 with socat:
// - `show ssl cert [<file>]`: the certificate files (those the TLS binds loaded and those `new ssl
//   cert` made), the pending transaction first as `*<file>`; one file's details in 2.6's lines:
//   only the subjectAltName's DNS entries are shown; subjects in OpenSSL's one-line
//   `/C=FR/O=Org/CN=name` form; the algorithm as its type and size (`RSA2048`, `EC256`).
// - `new|set|commit|abort|del ssl cert`: one transaction at a time; `set` fills it with a PEM
//   payload, `commit` puts it in the binds using the file (their next handshakes present it,
//   open connections keep theirs), `abort` drops it.

import { X509Certificate, createPrivateKey } from 'node:crypto'
import { certificateOf, parsePem, type LoadedCertificate } from '../tls.js'
import type { CrtListState } from './crt-lists.js'

/** What the certificate commands need of the gateway. */
export interface CertificateRuntime {
  /** The certificate files the TLS binds loaded, once per place they are used. */
  certificates (): LoadedCertificate[]
  /** Puts a certificate in the binds using its file; how many places use it. */
  replaceCertificate (cert: LoadedCertificate): number
  readonly certificateStore: CertificateStore
}

/** The pending transaction, the files `new ssl cert` made (null while empty), the crt-lists `add|del ssl crt-list` edited. */
export class CertificateStore {
  transaction: { file: string, certs: string[], key?: string, dhparam?: string } | null = null
  readonly created = new Map<string, LoadedCertificate | null>()
  readonly crtLists = new Map<string, CrtListState>()
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** `C=FR\nO=Org\nCN=name` → `/C=FR/O=Org/CN=name`. */
const oneLine = (dn: string): string => dn.split('\n').map(part => '/' + part).join('')

/** The curve's size in bits, as OpenSSL counts it for an EC key. */
const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256, secp224r1: 224 }

function algorithm (cert: X509Certificate): string {
  const key = cert.publicKey
  const details = key.asymmetricKeyDetails ?? {}
  const bits = details.modulusLength ?? (details.namedCurve !== undefined ? CURVE_BITS[details.namedCurve] : undefined)
  return `${(key.asymmetricKeyType ?? '').toUpperCase()}${bits ?? ''}`
}

/** The loaded and created files, each once, in name order; the transaction's file first. */
function listCertificates (rt: CertificateRuntime): string {
  const store = rt.certificateStore
  const files = [...new Set([...rt.certificates().map(c => c.file), ...store.created.keys()])].sort()
  const pending = store.transaction === null ? '' : `# transaction\n*${store.transaction.file}\n`
  return pending + '# filename\n' + files.map(f => f + '\n').join('') + '\n'
}

/** One certificate's lines; `chain` is its PEM text, leaf first. */
function describe (name: string, status: string, chainPem: string): string {
  const [leaf, ...chain] = [...chainPem.matchAll(PEM_CERTIFICATE)].map(m => new X509Certificate(m[0]))
  if (leaf === undefined) return `Filename: ${name}\nStatus: Empty\nOCSP Response Key: \n\n`
  // every entry but the last is followed by ", ", even when it is not a DNS name and so not shown
  const names = leaf.subjectAltName === undefined ? [] : leaf.subjectAltName.split(', ')
  const dns = names.map((n, i) => n.startsWith('DNS:') ? n + (i < names.length - 1 ? ', ' : '') : '').join('')
  let out = `Filename: ${name}\nStatus: ${status}\nSerial: ${leaf.serialNumber}\nnotBefore: ${leaf.validFrom}\nnotAfter: ${leaf.validTo}\n`
  out += `Subject Alternative Name: ${dns}\n`
  out += `Algorithm: ${algorithm(leaf)}\nSHA1 FingerPrint: ${leaf.fingerprint.replace(/:/g, '')}\n`
  out += `Subject: ${oneLine(leaf.subject)}\nIssuer: ${oneLine(leaf.issuer)}\n`
  for (const c of chain) out += `Chain Subject: ${oneLine(c.subject)}\nChain Issuer: ${oneLine(c.issuer)}\n`
  return out + 'OCSP Response Key: \n\n'
}

const NOT_FOUND = "Can't display the certificate: Not found or the certificate is a bundle!\n\n"

/** `show ssl cert [<file>|*<file>]`. */
export function showSslCert (rt: CertificateRuntime, file: string | undefined): string {
  if (file === undefined) return listCertificates(rt)
  const store = rt.certificateStore
  if (file.startsWith('*')) {
    const t = store.transaction
    return t !== null && t.file === file.slice(1) ? describe(file, 'Unused', t.certs.join('\n')) : NOT_FOUND
  }
  const loaded = rt.certificates().find(c => c.file === file)
  if (loaded !== undefined) return describe(file, 'Used', loaded.cert)
  if (!store.created.has(file)) return NOT_FOUND
  return describe(file, 'Unused', store.created.get(file)?.cert ?? '')
}

/** `new ssl cert <file>`: an empty certificate to fill with `set` and `commit`. */
export function newSslCert (rt: CertificateRuntime, file: string | undefined): string {
  if (file === undefined) return "'new ssl cert' expects a filename\n\n"
  if (rt.certificateStore.created.has(file) || rt.certificates().some(c => c.file === file)) return `Certificate '${file}' already exists!\n\n`
  rt.certificateStore.created.set(file, null)
  return `New empty certificate store '${file}'!\n\n`
}

/**
 * `set ssl cert <file> <<` + PEM: starts the transaction, or replaces its contents. As on
 * 2.6.12, while a transaction is pending the payload goes to it whatever file is named.
 */
export function setSslCert (rt: CertificateRuntime, file: string | undefined, payload: string[] | null): string {
  if (file === undefined || payload === null) return "'set ssl cert expects a filename and a certificate as a payload\n\n"
  const store = rt.certificateStore
  const target = store.transaction?.file ?? file
  if (store.transaction === null && !store.created.has(file) && !rt.certificates().some(c => c.file === file)) {
    return `Can't replace a certificate which is not referenced by the configuration!\nCan't update ${file}!\n\n`
  }
  const pem = parsePem(payload.join('\n') + '\n')
  if (pem.certs.length === 0 || !pem.certs.every(readable)) return `unable to load certificate from file '${file}'.\nCan't load the payload\nCan't update ${file}!\n\n`
  const created = store.transaction === null
  store.transaction = { file: target, ...pem }
  return `Transaction ${created ? 'created' : 'updated'} for certificate ${target}!\n\n`
}

function readable (pem: string): boolean {
  try {
    return new X509Certificate(pem) !== undefined
  } catch {
    return false
  }
}

/** Whether the private key is the certificate's. */
function keyMatches (certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem))
  } catch {
    return false
  }
}

/** `commit ssl cert <file>`: the transaction's certificate replaces the file's (a dot per place using it). */
export function commitSslCert (rt: CertificateRuntime, file: string | undefined): string {
  if (file === undefined) return "'commit ssl cert expects a filename\n\n"
  const store = rt.certificateStore
  const t = store.transaction
  if (t === null) return `No ongoing transaction! !\nCan't commit ${file}!\n\n`
  if (t.file !== file) return `The ongoing transaction is about '${t.file}' but you are trying to set '${file}'\nCan't commit ${file}!\n\n`
  if (t.key === undefined) return `The transaction must contain at least a certificate and a private key!\nCan't commit ${file}!\n\n`
  if (!keyMatches(t.certs[0]!, t.key)) return `inconsistencies between private key and certificate loaded '${file}'.\nCan't commit ${file}!\n\n`
  const cert = certificateOf(file, t.certs, t.key, t.dhparam)
  store.transaction = null
  if (store.created.has(file)) store.created.set(file, cert)
  const uses = rt.replaceCertificate(cert)
  return `Committing ${file}${'.'.repeat(uses)}\nSuccess!\n\n`
}

/** `abort ssl cert <file>`: drops the pending transaction. */
export function abortSslCert (rt: CertificateRuntime, file: string | undefined): string {
  if (file === undefined) return "'abort ssl cert' expects a filename\n\n"
  const t = rt.certificateStore.transaction
  if (t === null) return 'No ongoing transaction!\n\n'
  if (t.file !== file) return `The ongoing transaction is about '${t.file}' but you are trying to abort a transaction for '${file}'\n\n`
  rt.certificateStore.transaction = null
  return `Transaction aborted for certificate '${file}'!\n\n`
}

/** `del ssl cert <file>`: removes a certificate no bind uses (one `new ssl cert` made). */
export function delSslCert (rt: CertificateRuntime, file: string | undefined): string {
  if (file === undefined) return "'del ssl cert' expects a certificate name\n\n"
  const store = rt.certificateStore
  if (store.transaction?.file === file) return `Can't remove the certificate: ongoing transaction for the certificate '${file}'\n\n`
  // 2.6.12 ends these two refusals with one more empty line
  if (rt.certificates().some(c => c.file === file)) return `Can't remove the certificate: certificate '${file}' in use, can't be deleted!\n\n\n`
  if (!store.created.delete(file)) return `Can't remove the certificate: certificate '${file}' doesn't exist!\n\n\n`
  return `Certificate '${file}' deleted!\n\n`
}
