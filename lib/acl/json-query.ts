// `json_query(<json_path>[,<output_type>])` (configuration.txt §7.3.1): one value out of a JSON
// text, addressed by a JSON Path of member names (`$.a.b`, `\.` for a dot inside a name) and
// array indexes (`$.list[2]`). Strings and booleans come out as they are, integers as integers,
// other numbers as strings; `int` asks for an integer and fails on anything else.

import { ExprError, type Sample } from './sample.js'

type Step = string | number

/** null: a path that can match nothing (HAProxy accepts it, the converter then always fails). */
function parsePath (path: string): Step[] | null {
  if (!path.startsWith('$')) return null
  const steps: Step[] = []
  let i = 1
  while (i < path.length) {
    if (path[i] === '.') {
      let name = ''
      i++
      while (i < path.length && path[i] !== '.' && path[i] !== '[') {
        if (path[i] === '\\' && i + 1 < path.length) i++
        name += path[i++]
      }
      steps.push(name)
    } else if (path[i] === '[') {
      const end = path.indexOf(']', i)
      const index = path.slice(i + 1, end)
      if (end < 0 || !/^\d+$/.test(index)) return null
      steps.push(Number(index))
      i = end + 1
    } else return null
  }
  return steps
}

/** C's `%g`: 6 significant digits, trailing zeros dropped, an exponent below 1e-4 or from 1e6 on. */
function printG (x: number): string {
  if (x === 0) return '0'
  const exp = Math.floor(Math.log10(Math.abs(x)))
  const strip = (s: string): string => s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split('e')
    const n = Number(e)
    return `${strip(m)}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`
  }
  return strip(x.toFixed(5 - exp))
}

const INT64 = 2 ** 63

/** The converter's function for a path and output type; input and output strings are bytes (latin1). */
export function jsonQuery (path: string, output: string | undefined): (input: string) => Sample | null {
  if (output !== undefined && output !== '' && output !== 'int') throw new ExprError(`output_type only supports "int" as argument`)
  const steps = parsePath(path)
  const wantInt = output === 'int'
  if (steps === null) return () => null
  return (input) => {
    let v: unknown
    try {
      v = JSON.parse(Buffer.from(input, 'latin1').toString('utf8'))
    } catch {
      return null
    }
    for (const s of steps) {
      if (v === null || typeof v !== 'object') return null
      if (typeof s === 'number' ? !Array.isArray(v) : Array.isArray(v) || !Object.hasOwn(v, s)) return null
      v = (v as Record<string | number, unknown>)[s]
    }
    // as observed on 2.6.12: `int` truncates (4.5 → 4); integral numbers are integers, others print as %g
    if (wantInt) return typeof v === 'number' && Math.abs(v) < INT64 ? Math.trunc(v) : null
    if (typeof v === 'boolean') return v
    if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < INT64 ? v : printG(v)
    if (typeof v === 'string') return Buffer.from(v, 'utf8').toString('latin1')
    return null
  }
}
