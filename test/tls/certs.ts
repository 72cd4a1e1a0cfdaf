// Test certificates made on the fly with the openssl CLI: a CA, and leaf certificates it signs
// (or self-signed), written as HAProxy reads them (key in the same PEM, or beside it in `.key`).

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Ca { cert: string, key: string, dir: string }

function openssl (args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** A self-signed CA in a new temporary directory. */
export function makeCa (cn = 'Test CA'): Ca {
  const dir = mkdtempSync(join(tmpdir(), 'fh-tls-'))
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
    '-subj', `/CN=${cn}`, '-keyout', 'ca.key', '-out', 'ca.pem'], dir)
  return { cert: join(dir, 'ca.pem'), key: join(dir, 'ca.key'), dir }
}

export interface Leaf {
  /** The PEM HAProxy's `crt` takes. */
  pem: string
  certOnly: string
  key: string
}

/**
 * A leaf certificate for `cn` with `sans` as DNS names, signed by `ca`, written as `<file>`:
 * the certificate and its key in one PEM, or (`separateKey`) the key in `<file>.key`.
 */
export function makeLeaf (ca: Ca, file: string, cn: string, sans: string[] = [], opts: { separateKey?: boolean, serial?: string, days?: number, client?: boolean } = {}): Leaf {
  const dir = ca.dir
  const base = join(dir, `leaf-${Math.random().toString(36).slice(2)}`)
  const ext = `${base}.ext`
  writeFileSync(ext, (sans.length > 0 ? `subjectAltName=${sans.map(s => `DNS:${s}`).join(',')}\n` : '') +
    `extendedKeyUsage=${opts.client === true ? 'clientAuth' : 'serverAuth'}\n`)
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/C=FR/O=Test/CN=${cn}`,
    '-keyout', `${base}.key`, '-out', `${base}.csr`], dir)
  openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', opts.serial ?? String(Date.now() % 1e9),
    '-days', String(opts.days ?? 30), '-extfile', ext, '-out', `${base}.crt`], dir)
  const cert = readFileSync(`${base}.crt`, 'latin1')
  const key = readFileSync(`${base}.key`, 'latin1')
  if (opts.separateKey === true) {
    writeFileSync(file, cert)
    writeFileSync(`${file}.key`, key)
  } else {
    writeFileSync(file, cert + key)
  }
  for (const e of ['.key', '.csr', '.crt', '.ext']) rmSync(base + e, { force: true })
  return { pem: file, certOnly: cert, key }
}
