// Picks while earlier requests are still being served (+ a new request, -sN one on sN finished).
// Recorded from real HAProxy 2.6.12 by test/runtime/recorded/record.ts: regenerate, do not edit.

import type { HeldCase } from './types.js'

export const HELD: HeldCase[] = [
  { balance: 'leastconn', servers: ['weight 1', 'weight 1', 'weight 1', 'weight 3'], steps: '+ + + + + - - - - + + - -', expected: 's1 s2 s3 s4 s4 -s2 -s3 -s4 -s4 s2 s3 -s2 -s3' },
  { balance: 'leastconn', servers: ['weight 3 maxconn 1', 'weight 1 maxconn 2', 'weight 5 maxconn 3'], steps: '+ + + + + + - - + - - - - +', expected: 's1 s2 s3 s3 s3 s2 -s1 -s3 s1 -s3 -s2 -s3 -s1 s3' },
  { balance: 'first', servers: ['weight 5 maxconn 2', 'weight 2 maxconn 2', 'weight 1 maxconn 3', 'weight 2 maxconn 2'], steps: '+ - + - + + - - + + - + - +', expected: 's1 -s1 s1 -s1 s1 s1 -s1 -s1 s1 s1 -s1 s1 -s1 s1' },
  { balance: 'roundrobin', servers: ['weight 2 maxconn 2', 'weight 5 maxconn 1', 'weight 5 maxconn 1', 'weight 1 maxconn 4'], steps: '+ + - + + + - + + - - -', expected: 's2 s3 -s2 s2 s1 s4 -s4 s1 s4 -s3 -s4 -s2' },
  { balance: 'static-rr', servers: ['weight 1 maxconn 2', 'weight 1 maxconn 2', 'weight 2 maxconn 2', 'weight 3 maxconn 1', 'weight 1 maxconn 4'], steps: '+ + + + - - + + + +', expected: 's1 s2 s4 s3 -s3 -s4 s3 s4 s5 s1' },
  { balance: 'leastconn', servers: ['weight 1', 'weight 1', 'weight 5', 'weight 5'], steps: '+ + + + + + + - - +', expected: 's1 s2 s3 s4 s3 s4 s3 -s1 -s3 s1' },
  { balance: 'leastconn', servers: ['weight 3 maxconn 4', 'weight 2 maxconn 3', 'weight 5 maxconn 3'], steps: '+ + + + + + - - + - + + + - -', expected: 's1 s2 s3 s3 s3 s1 -s2 -s3 s2 -s1 s3 s1 s2 -s1 -s3' },
  { balance: 'first', servers: ['weight 1 maxconn 3', 'weight 5 maxconn 4', 'weight 5 maxconn 2', 'weight 1 maxconn 1', 'weight 1 maxconn 3'], steps: '+ + + + + - - - - + + + +', expected: 's1 s1 s1 s2 s2 -s2 -s1 -s2 -s1 s1 s1 s2 s2' },
  { balance: 'roundrobin', servers: ['weight 3 maxconn 3', 'weight 5 maxconn 4', 'weight 5 maxconn 4', 'weight 5 maxconn 1', 'weight 1 maxconn 3'], steps: '+ + - + + + + + + +', expected: 's2 s3 -s2 s4 s2 s3 s1 s2 s3 s5' },
  { balance: 'static-rr', servers: ['weight 1 maxconn 2', 'weight 1 maxconn 4', 'weight 1 maxconn 3'], steps: '+ - + - + + + + - + + + + - +', expected: 's1 -s1 s2 -s2 s3 s1 s2 s3 -s2 s1 s2 s3 s2 -s1 s1' },
  { balance: 'leastconn', servers: ['weight 1', 'weight 1', 'weight 1', 'weight 2', 'weight 2'], steps: '+ - + - + - + + + + -', expected: 's1 -s1 s2 -s2 s3 -s3 s4 s5 s1 s2 -s2' },
  { balance: 'leastconn', servers: ['weight 2 maxconn 4', 'weight 1 maxconn 2', 'weight 1 maxconn 1'], steps: '+ - + + - + + + + + + - + - + - -', expected: 's1 -s1 s2 s3 -s3 s1 s3 s1 s1 s2 s1 -s2 s2 -s1 s1 -s1 -s1' },
  { balance: 'first', servers: ['weight 3 maxconn 1', 'weight 1 maxconn 4', 'weight 2 maxconn 4', 'weight 3 maxconn 2'], steps: '+ + - + + - - - + - + - + + +', expected: 's1 s2 -s2 s2 s2 -s2 -s2 -s1 s1 -s1 s1 -s1 s1 s2 s2' },
  { balance: 'roundrobin', servers: ['weight 1 maxconn 1', 'weight 2 maxconn 1', 'weight 2 maxconn 1'], steps: '+ - + + - + + - + - + - + - - +', expected: 's2 -s2 s3 s2 -s2 s1 s2 -s1 s1 -s2 s2 -s1 s1 -s3 -s2 s3' },
  { balance: 'static-rr', servers: ['weight 1 maxconn 1', 'weight 2 maxconn 3', 'weight 5 maxconn 4'], steps: '+ + + - + - - + - + + - + + + + +', expected: 's1 s3 s2 -s3 s3 -s2 -s3 s3 -s3 s2 s3 -s2 s3 s3 s2 s3 s2' },
  { balance: 'leastconn', servers: ['weight 1', 'weight 1'], steps: '+ + + + + + - - - + -', expected: 's1 s2 s1 s2 s1 s2 -s2 -s2 -s1 s2 -s1' },
  { balance: 'leastconn', servers: ['weight 2 maxconn 3', 'weight 1 maxconn 2', 'weight 1 maxconn 3', 'weight 2 maxconn 1'], steps: '+ + + + - + + + + - - + - - -', expected: 's1 s2 s3 s4 -s4 s4 s1 s1 s2 -s2 -s3 s3 -s1 -s3 -s1' },
  { balance: 'first', servers: ['weight 2 maxconn 4', 'weight 3 maxconn 3'], steps: '+ + - + + + + + - - + + + - - + - + +', expected: 's1 s1 -s1 s1 s1 s1 s2 s2 -s2 -s2 s2 s2 s2 -s1 -s2 s1 -s1 s1 s2' },
  { balance: 'roundrobin', servers: ['weight 1 maxconn 4', 'weight 1 maxconn 3'], steps: '+ + + + - - + - - + + + + - +', expected: 's1 s2 s1 s2 -s1 -s1 s1 -s2 -s1 s2 s1 s2 s1 -s2 s2' },
  { balance: 'static-rr', servers: ['weight 5 maxconn 2', 'weight 1 maxconn 1'], steps: '+ - + - + - + + + - + - + -', expected: 's1 -s1 s1 -s1 s1 -s1 s1 s1 s2 -s2 s2 -s1 s1 -s1' },
  { balance: 'leastconn', servers: ['weight 5', 'weight 3', 'weight 5', 'weight 1', 'weight 5'], steps: '+ + + + + + - + - + + -', expected: 's1 s2 s3 s4 s5 s1 -s1 s3 -s1 s1 s5 -s5' },
  { balance: 'leastconn', servers: ['weight 1 maxconn 1', 'weight 1 maxconn 2', 'weight 1 maxconn 1', 'weight 5 maxconn 4', 'weight 1 maxconn 2'], steps: '+ - + + + + - + + + + - + +', expected: 's1 -s1 s2 s3 s4 s5 -s5 s1 s5 s4 s4 -s4 s4 s4' },
  { balance: 'first', servers: ['weight 1 maxconn 1', 'weight 1 maxconn 3', 'weight 3 maxconn 2', 'weight 2 maxconn 4', 'weight 1 maxconn 2'], steps: '+ + - + - - + - + - +', expected: 's1 s2 -s2 s2 -s1 -s2 s1 -s1 s1 -s1 s1' },
  { balance: 'roundrobin', servers: ['weight 5 maxconn 4', 'weight 1 maxconn 2'], steps: '+ + + - - - + - + + +', expected: 's1 s1 s1 -s1 -s1 -s1 s1 -s1 s1 s2 s1' },
  { balance: 'static-rr', servers: ['weight 1 maxconn 1', 'weight 5 maxconn 3', 'weight 1 maxconn 1'], steps: '+ + + + + - + - + - +', expected: 's1 s2 s2 s2 s3 -s2 s2 -s2 s2 -s2 s2' },
  { balance: 'leastconn', servers: ['weight 2', 'weight 3'], steps: '+ + + + + + + + - - + + + + + + + + -', expected: 's1 s2 s2 s1 s2 s2 s1 s2 -s1 -s2 s1 s2 s1 s2 s2 s1 s2 s1 -s2' },
  { balance: 'leastconn', servers: ['weight 1 maxconn 2', 'weight 5 maxconn 3'], steps: '+ + - + - + + + + - - - + - - + +', expected: 's1 s2 -s2 s2 -s2 s2 s2 s2 s1 -s2 -s1 -s2 s2 -s2 -s1 s1 s2' },
  { balance: 'first', servers: ['weight 1 maxconn 3', 'weight 5 maxconn 4', 'weight 2 maxconn 3'], steps: '+ + + + + + + - + - - + - + - +', expected: 's1 s1 s1 s2 s2 s2 s2 -s1 s1 -s1 -s2 s1 -s2 s2 -s1 s1' },
  { balance: 'roundrobin', servers: ['weight 2 maxconn 3', 'weight 5 maxconn 2', 'weight 3 maxconn 4', 'weight 3 maxconn 2', 'weight 1 maxconn 2'], steps: '+ + - + + - + - - + - + +', expected: 's2 s3 -s2 s2 s4 -s3 s1 -s1 -s2 s2 -s4 s3 s4' },
  { balance: 'static-rr', servers: ['weight 1 maxconn 3', 'weight 5 maxconn 1', 'weight 1 maxconn 4', 'weight 3 maxconn 3', 'weight 1 maxconn 4'], steps: '+ + - + - - + - + + + - + + + +', expected: 's1 s2 -s1 s4 -s2 -s4 s2 -s2 s3 s2 s4 -s2 s2 s4 s5 s1' }
]
