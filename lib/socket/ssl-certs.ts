// `show ssl cert [<file>]` (management.txt §9.3): the certificate files the TLS binds loaded,
// and one file's details in HAProxy 2.6's lines (recorded against haproxy 2.6.12 with socat):
// only the subjectAltName's DNS entries are shown; subjects in OpenSSL's one-line
// `/C=FR/O=Org/CN=name` form; the algorithm as its type and size (`RSA2048`, `EC256`).

import { X509Certificate } from 'node:crypto'
import type { LoadedCertificate } from '../tls.js'

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

/** The loaded files, each once, in name order. */
export function listCertificates (certs: readonly LoadedCertificate[]): string {
  const files = [...new Set(certs.map(c => c.file))].sort()
  return '# filename\n' + files.map(f => f + '\n').join('') + '\n'
}

/** One file's certificate and chain; null when no bind loaded it. */
export function describeCertificate (certs: readonly LoadedCertificate[], file: string): string | null {
  const loaded = certs.find(c => c.file === file)
  if (loaded === undefined) return null
  const [leaf, ...chain] = [...loaded.cert.matchAll(PEM_CERTIFICATE)].map(m => new X509Certificate(m[0]))
  if (leaf === undefined) return null
  // every entry but the last is followed by ", ", even when it is not a DNS name and so not shown
  const names = leaf.subjectAltName === undefined ? [] : leaf.subjectAltName.split(', ')
  const dns = names.map((n, i) => n.startsWith('DNS:') ? n + (i < names.length - 1 ? ', ' : '') : '').join('')
  let out = `Filename: ${file}\nStatus: Used\nSerial: ${leaf.serialNumber}\nnotBefore: ${leaf.validFrom}\nnotAfter: ${leaf.validTo}\n`
  out += `Subject Alternative Name: ${dns}\n`
  out += `Algorithm: ${algorithm(leaf)}\nSHA1 FingerPrint: ${leaf.fingerprint.replace(/:/g, '')}\n`
  out += `Subject: ${oneLine(leaf.subject)}\nIssuer: ${oneLine(leaf.issuer)}\n`
  for (const c of chain) out += `Chain Subject: ${oneLine(c.subject)}\nChain Issuer: ${oneLine(c.issuer)}\n`
  return out + 'OCSP Response Key: \n\n'
}
