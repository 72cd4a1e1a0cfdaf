// How a health or agent check words a socket error in its info (`last_chk`, the check log line):
// the strerror() text HAProxy prints.

/** strerror() texts HAProxy puts in the check `info` for socket errors. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ETIMEDOUT: 'Connection timed out',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EPIPE: 'Broken pipe',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted'
}

/**
 * Errors the connect() call itself returns (not a later answer from the network): HAProxy
 * reports them as "General socket error (<strerror>)".
 */
const SOCKET_CALL_ERRORS = new Set(['ENETUNREACH', 'EACCES', 'EPERM'])

export function errnoText (err: NodeJS.ErrnoException): string {
  return (err.code !== undefined ? ERRNO_TEXT[err.code] : undefined) ?? err.message
}

/** The info of a failed connection (L4CON). */
export function connectErrorText (err: NodeJS.ErrnoException): string {
  if (err.code === undefined || !SOCKET_CALL_ERRORS.has(err.code)) return errnoText(err)
  return `General socket error (${ERRNO_TEXT[err.code] ?? err.message})`
}

/**
 * The info of a TLS handshake that failed (L6RSP), as HAProxy 2.6 words it (observed): a reset
 * by the server is named, a close, an alert or bytes that are not TLS are all one failure.
 */
export function handshakeErrorText (err: NodeJS.ErrnoException): string {
  // node names a close during the handshake ECONNRESET too, but without the read() that saw a reset
  return err.code === 'ECONNRESET' && err.syscall === 'read' ? 'SSL handshake failure (Connection reset by peer)' : 'SSL handshake failure'
}

/**
 * The error came from a connection that was accepted: a read or a write failed, or it was reset
 * (even when the reset beat the connect's completion, which then reports it).
 */
export function failedWhileConnected (err: NodeJS.ErrnoException): boolean {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return true
  return err.syscall !== undefined && err.syscall !== 'connect' && err.syscall !== 'getaddrinfo'
}
