// Shapes of the recorded balancing tables (see record.ts, which writes them, and
// test/runtime/recorded.test.ts, which replays them against our balancers).

/** Options after `server sN <addr>`, one string per server in order (s1, s2, …). */
type Servers = string[]

export interface SequenceCase {
  balance: string
  /** Extra backend lines before the servers. */
  lines: string[]
  servers: Servers
  count: number
  /** The servers that answered, one request after the other. */
  expected: string
}

/** Requests in a row (a number) or a runtime change on the admin socket. */
export type Step = number | [string, 'weight', number] | [string, 'state', 'ready' | 'drain' | 'maint']

export interface DynamicCase {
  balance: string
  lines: string[]
  servers: Servers
  steps: Step[]
  /** The picks of each request step, steps separated by ' | '. */
  expected: string
}

export interface HeldCase {
  balance: string
  servers: Servers
  /** `+` a request that stays open, `-` one open request finished. */
  steps: string
  /** `sN` where each new request went, `-sN` the server whose request finished. */
  expected: string
}

export interface HashCase {
  balance: string
  hashType: string
  servers: Servers
  /** Which key list of keys.ts was sent: paths, Host values, x-key values or client addresses. */
  keys: 'url' | 'host' | 'header' | 'source'
  expected: string
}

/** [function, input, value, value with the avalanche option] */
export type HashFunctionVector = ['sdbm' | 'djb2' | 'wt6' | 'crc32' | 'crc32c', string, number, number]
