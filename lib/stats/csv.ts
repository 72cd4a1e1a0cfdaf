// `;csv` (management.txt §9.1): a `# ` header naming the fields, then one line per object; each
// field is followed by a comma (so lines end with one) and quoted only when it must be.

import { type ObjType, type RowContext, STAT_FIELDS, fieldValue } from './fields.js'
import type { StatsModel } from './model.js'
import { type RowFilter, walkRows } from './rows.js'

export const CSV_HEADER = '# ' + STAT_FIELDS.map(f => f.name).join(',') + ',\n'

const NEEDS_QUOTES = /[",\r\n]/

/** HAProxy's csv_enc(): double quotes around values holding a comma, quote or line break, quotes doubled. */
export function csvValue (v: string | number | undefined): string {
  if (v === undefined) return ''
  if (typeof v === 'number') return String(v)
  return NEEDS_QUOTES.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v
}

export function renderCsv (model: StatsModel, filter: RowFilter = {}, now: number = Date.now()): string {
  let out = CSV_HEADER
  walkRows(model, filter, now, {
    row (type: ObjType, c: RowContext) {
      let line = ''
      for (let i = 0; i < STAT_FIELDS.length; i++) {
        line += csvValue(fieldValue(STAT_FIELDS[i], type, c)) + ','
      }
      out += line + '\n'
    }
  })
  return out
}
