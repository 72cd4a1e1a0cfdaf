// Files a configuration names are read with a bound: `/dev/zero`, a FIFO or a runaway file
// must give a clear error at its line, never an endless read.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'

const MiB = 1024 * 1024

/** Configuration files (`-f`), pattern files (`acl … -f`) and maps, certificates and CA bundles. */
export const CONFIG_FILE_LIMIT = 64 * MiB
export const PATTERN_FILE_LIMIT = 256 * MiB
export const PEM_FILE_LIMIT = 16 * MiB

export class FileTooLarge extends Error {
  constructor (readonly file: string, readonly limit: number) {
    super(`'${file}' is larger than ${limit} bytes`)
  }
}

/**
 * The file's bytes, at most `limit` of them (FileTooLarge past that). Opened non-blocking, so a
 * FIFO without a writer is an error (EAGAIN) rather than a wait.
 */
export function readBounded (file: string, limit: number): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    const st = fstatSync(fd)
    if (st.isFile() && st.size > limit) throw new FileTooLarge(file, limit)
    const chunk = Buffer.allocUnsafe(st.isFile() ? Math.min(st.size, limit) + 1 : Math.min(limit + 1, 64 * 1024))
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null)
      if (n === 0) break
      total += n
      if (total > limit) throw new FileTooLarge(file, limit)
      chunks.push(Buffer.from(chunk.subarray(0, n)))
    }
    return Buffer.concat(chunks, total)
  } finally {
    closeSync(fd)
  }
}
