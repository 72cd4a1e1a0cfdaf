// `;json` and `;typed` (management.txt §9.2, §9.3 "show stat json|typed"): every field an object
// has, with its position, tags and type; absent fields are left out rather than left empty.

import { type FieldValue, type ObjType, type RowContext, type StatField, STAT_FIELDS, fieldValue } from './fields.js'
import type { StatsModel } from './model.js'
import { type RowFilter, walkRows } from './rows.js'

const OBJ_TYPES: Record<ObjType, string> = { F: 'Frontend', B: 'Backend', S: 'Server', L: 'Listener' }
export const ORIGINS: Record<string, string> = { M: 'Metric', S: 'Status', K: 'Key', C: 'Config', P: 'Product' }
export const NATURES: Record<string, string> = {
  A: 'Age', a: 'Avg', C: 'Counter', D: 'Duration', G: 'Gauge', L: 'Limit', M: 'Max', N: 'Name', O: 'Output', R: 'Rate', T: 'Time'
}
export const SCOPES: Record<string, string> = { C: 'Cluster', P: 'Process', S: 'Service', s: 'System' }

export interface JsonField {
  objType: string
  proxyId: number
  id: number
  field: { pos: number, name: string }
  processNum: number
  tags: { origin: string, nature: string, scope: string }
  value: { type: string, value: string | number }
}

/** Each field's JSON tags object, built once per (field, type). */
const JSON_TAGS: ReadonlyArray<Partial<Record<ObjType, JsonField['tags']>>> = STAT_FIELDS.map(f => {
  const out: Partial<Record<ObjType, JsonField['tags']>> = {}
  for (const t of ['F', 'B', 'S', 'L'] as const) {
    const tag = f.tags[t]
    if (tag !== undefined) out[t] = { origin: ORIGINS[tag[0]], nature: NATURES[tag[1]], scope: SCOPES[tag[2]] }
  }
  return out
})

function present (f: StatField, t: ObjType, c: RowContext): FieldValue {
  return f.tags[t] === undefined ? undefined : fieldValue(f, t, c)
}

function objectId (t: ObjType, c: RowContext): number {
  return t === 'S' && c.sv !== null ? c.sv.id : t === 'L' && c.li !== null ? c.li.sid : 0
}

/** The `;json` body: an array with one array of fields per object. */
export function statsJson (model: StatsModel, filter: RowFilter = {}, now: number = Date.now()): JsonField[][] {
  const out: JsonField[][] = []
  walkRows(model, filter, now, {
    row (t, c) {
      const fields: JsonField[] = []
      const id = objectId(t, c)
      for (const f of STAT_FIELDS) {
        const v = present(f, t, c)
        if (v === undefined) continue
        fields.push({
          objType: OBJ_TYPES[t],
          proxyId: c.proxy.id,
          id,
          field: { pos: f.pos, name: f.name },
          processNum: 1,
          tags: JSON_TAGS[f.pos][t] as JsonField['tags'],
          value: { type: f.type, value: v }
        })
      }
      out.push(fields)
    }
  })
  return out
}

export function renderJson (model: StatsModel, filter: RowFilter = {}, now: number = Date.now()): string {
  return JSON.stringify(statsJson(model, filter, now))
}

/** `;typed`: `F.<iid>.<sid>.<pos>.<name>.<process>:<tags>:<type>:<value>`, one line per field. */
export function renderTyped (model: StatsModel, filter: RowFilter = {}, now: number = Date.now()): string {
  let out = ''
  walkRows(model, filter, now, {
    row (t, c) {
      const prefix = t + '.' + c.proxy.id + '.' + objectId(t, c) + '.'
      for (const f of STAT_FIELDS) {
        const v = present(f, t, c)
        if (v === undefined) continue
        out += prefix + f.pos + '.' + f.name + '.1:' + (f.tags[t] as string) + ':' + f.type + ':' + v + '\n'
      }
    }
  })
  return out
}
