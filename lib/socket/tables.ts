// The runtime API's stick-table commands (management.txt "show table", "clear table", "set table")
// with HAProxy 2.6's answers, recorded with socat against haproxy 2.6.12: the table header,
// one line per entry in key order, `data.<type> <op> <value>` and `key <k>` filters.

import { STICK_DATA_TYPES, type StickDataType } from '../config/model.js'
import { isRate, tableKey, type StickEntry, type StickTable, type StickTables } from '../runtime/stick-table.js'

const msg = (text: string): string => text + '\n\n'

const OPERATORS: Record<string, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b, ne: (a, b) => a !== b, le: (a, b) => a <= b, ge: (a, b) => a >= b, lt: (a, b) => a < b, gt: (a, b) => a > b
}

interface Filter { key: string | null, data: Array<{ type: StickDataType, op: (a: number, b: number) => boolean, value: number }> }

/** `[data.<type> <op> <value>]* [key <k>]`, or HAProxy's message. */
function filters (table: StickTable, args: string[], usage: string): Filter | string {
  const f: Filter = { key: null, data: [] }
  for (let i = 0; i < args.length;) {
    const w = args[i]!
    if (w === 'key') {
      if (args[i + 1] === undefined) return msg('Key value expected')
      f.key = tableKey(table.spec, args[i + 1]!)
      if (f.key === null) return msg('Unable to parse key')
      i += 2
      continue
    }
    if (!w.startsWith('data.')) return msg(usage)
    const n = f.data.length + 1
    const type = w.slice(5)
    if (!(STICK_DATA_TYPES as readonly string[]).includes(type)) return msg(`Filter entry #${n}: Unknown data type`)
    if (!table.spec.store.some(s => s.type === type)) return msg(`Filter entry #${n}: Data type not stored in this table`)
    const op = OPERATORS[args[i + 1] ?? '']
    if (op === undefined) return msg(`Filter entry #${n}: Require a valid filter operator`)
    const v = args[i + 2]
    if (v === undefined || !/^-?\d+$/.test(v)) return msg(`Filter entry #${n}: Require a valid integer value to compare against`)
    f.data.push({ type: type as StickDataType, op, value: Number(v) })
    i += 3
  }
  return f
}

function matches (table: StickTable, e: StickEntry, f: Filter): boolean {
  if (f.key !== null && e.key !== f.key) return false
  const now = table.now()
  return f.data.every(d => { const v = e.get(d.type, now); return v !== null && d.op(v, d.value) })
}

const SHOW_USAGE = 'Optional argument only supports "data.<store_data_type>" <operator> <value> and key <key>'

/** `show table [<name> [filters]]`: every table's header, or one table's entries. */
export function showTable (tables: StickTables, args: string[]): string {
  const name = args[2]
  if (name === undefined || name === '') return tables.all().map(t => t.header() + '\n').join('') + '\n'
  const table = tables.get(name)
  if (table === undefined) return msg('No such table')
  const f = filters(table, args.slice(3), SHOW_USAGE)
  if (typeof f === 'string') return f
  let out = table.header() + '\n'
  for (const e of table.sorted()) if (matches(table, e, f)) out += table.line(e) + '\n'
  return out + '\n'
}

/** `clear table <name> [filters]`: the matching entries nobody tracks now are removed. */
export function clearTable (tables: StickTables, args: string[]): string {
  const name = args[2]
  if (name === undefined || name === '') return msg('Required arguments: <table> "data.<store_data_type>" <operator> <value> or <table> key <key>')
  const table = tables.get(name)
  if (table === undefined) return msg('No such table')
  const f = filters(table, args.slice(3), 'Required arguments: <table> "data.<store_data_type>" <operator> <value> or <table> key <key>')
  if (typeof f === 'string') return f
  for (const e of table.sorted()) if (matches(table, e, f)) table.delete(e)
  return '\n'
}

/**
 * `set table <name> key <k> [data.<type> <value>]*`: the entry is made (or found) first, then
 * each value is set in turn until one is refused (HAProxy 2.6.12 keeps the entry and the values
 * set before it).
 */
export function setTable (tables: StickTables, args: string[]): string {
  const name = args[2]
  if (name === undefined || name === '') return msg('Required arguments: <table> key <key> [data.<store_data_type> <value>]*')
  const table = tables.get(name)
  if (table === undefined) return msg('No such table')
  if (args[3] !== 'key') return '\n'
  if (args[4] === undefined) return msg('Key value expected')
  const key = tableKey(table.spec, args[4])
  if (key === null) return '\n'
  const e = table.obtain(key)
  if (e === undefined) return msg('Unable to allocate a new entry')
  table.touch(e)
  for (let i = 5; i < args.length; i += 2) {
    const w = args[i]!
    if (!w.startsWith('data.')) return msg('"data.<type>" followed by a value expected')
    const type = w.slice(5) as StickDataType
    if (!(STICK_DATA_TYPES as readonly string[]).includes(type)) return msg('Unknown data type')
    if (!table.spec.store.some(s => s.type === type)) return msg('Data type not stored in this table')
    const v = args[i + 1]
    if (v === undefined || !/^-?\d+$/.test(v)) return msg('Require a valid integer value to store')
    // a rate is a frequency the table measures, and server_key a name: setting them is accepted and leaves them alone
    if (!isRate(type)) e.set(type, Number(v))
  }
  return '\n'
}
