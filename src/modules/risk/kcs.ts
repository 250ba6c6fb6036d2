import { readFileSync } from 'node:fs'
import { parse } from 'csv-parse/sync'
import { dayOf, type RiskLabel, type RiskRecord } from './features.js'

/** A labelled record, as backtests read them. */
export interface Labelled {
  record: RiskRecord
  label: RiskLabel
}

/** Input that cannot be read, with where: the file, the 1-based data row (header = row 1) and the column. */
export class DatasetError extends Error {
  constructor(
    readonly file: string,
    readonly row: number | null,
    readonly column: string | null,
    message: string,
  ) {
    super(`${file}${row !== null ? `: row ${row}` : ''}${column ? `, column "${column}"` : ''}: ${message}`)
  }
}

/** Columns of the Korea Customs Service synthetic import declarations (DOMAIN §9). */
export const KCS_COLUMNS = [
  'Declaration ID',
  'Date',
  'Office ID',
  'Process Type',
  'Import Type',
  'Import Use',
  'Payment Type',
  'Mode of Transport',
  'Declarant ID',
  'Importer ID',
  'Seller ID',
  'Courier ID',
  'HS6 Code',
  'Country of Departure',
  'Country of Origin',
  'Tax Rate',
  'Tax Type',
  'Country of Origin Indicator',
  'Net Mass',
  'Item Price',
  'Fraud',
  'Critical Fraud',
] as const

const num = (file: string, row: number, column: string, v: string, opts: { allowEmpty?: boolean } = {}): number => {
  if (v === '' && opts.allowEmpty) return NaN
  const n = Number(v)
  if (v === '' || !Number.isFinite(n)) throw new DatasetError(file, row, column, `not a number: "${v}"`)
  return n
}

/**
 * Reads a KCS CSV (train, valid or test quarter) into labelled records. Labels are never features: they go
 * to `label`, and the feature extractor only sees them through the history of earlier records.
 */
export function readKcs(file: string, text = readFileSync(file, 'utf8')): Labelled[] {
  let rows: string[][]
  try {
    rows = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][]
  } catch (e) {
    const err = e as { lines?: number; message: string }
    throw new DatasetError(file, err.lines ?? null, null, `unparseable CSV: ${err.message}`)
  }
  const header = rows[0]
  if (!header) throw new DatasetError(file, null, null, 'empty file')
  const col = new Map(header.map((h, i) => [h.trim(), i]))
  const missing = KCS_COLUMNS.filter((c) => !col.has(c))
  if (missing.length)
    throw new DatasetError(
      file,
      1,
      missing[0]!,
      `missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`,
    )
  const out: Labelled[] = []
  for (let i = 1; i < rows.length; i++) {
    const r = rows[i]!
    const row = i + 1
    if (r.length !== header.length)
      throw new DatasetError(file, row, null, `${r.length} fields, the header has ${header.length}`)
    const get = (c: (typeof KCS_COLUMNS)[number]) => (r[col.get(c)!] ?? '').trim()
    const date = get('Date')
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date)))
      throw new DatasetError(file, row, 'Date', `not a date (YYYY-MM-DD): "${date}"`)
    const hs = get('HS6 Code')
    if (!/^\d{1,10}$/.test(hs)) throw new DatasetError(file, row, 'HS6 Code', `not an HS code: "${hs}"`)
    const fraud = get('Fraud')
    const critical = get('Critical Fraud')
    if (fraud !== '0' && fraud !== '1') throw new DatasetError(file, row, 'Fraud', `must be 0 or 1: "${fraud}"`)
    if (!['0', '1', '2'].includes(critical))
      throw new DatasetError(file, row, 'Critical Fraud', `must be 0, 1 or 2: "${critical}"`)
    out.push({
      record: {
        id: get('Declaration ID'),
        day: dayOf(date),
        office: get('Office ID'),
        processType: get('Process Type'),
        importType: get('Import Type'),
        importUse: get('Import Use'),
        paymentType: get('Payment Type'),
        transport: get('Mode of Transport'),
        declarant: get('Declarant ID'),
        importer: get('Importer ID'),
        seller: get('Seller ID'),
        courier: get('Courier ID'),
        // KCS codes lost leading zeros in some exports: HS6 is six digits.
        hs: hs.padStart(6, '0'),
        departure: get('Country of Departure'),
        origin: get('Country of Origin'),
        originIndicator: get('Country of Origin Indicator'),
        taxRate: num(file, row, 'Tax Rate', get('Tax Rate'), { allowEmpty: true }),
        taxType: get('Tax Type'),
        netMassKg: num(file, row, 'Net Mass', get('Net Mass')),
        value: num(file, row, 'Item Price', get('Item Price')),
        quantity: NaN,
        credit: NaN,
        rulesFired: [],
      },
      label: { fraud: fraud === '1' ? 1 : 0, critical: critical === '2' ? 1 : 0 },
    })
  }
  return out
}

/**
 * Reads a JSON-lines dataset: one object per line with the {@link RiskRecord} fields (`date` may replace
 * `day`) and `fraud` / `critical` labels, as `kouan simulate --export file.jsonl` writes.
 */
export function readJsonl(file: string, text = readFileSync(file, 'utf8')): Labelled[] {
  const out: Labelled[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (!line) continue
    let o: Record<string, unknown>
    try {
      o = JSON.parse(line) as Record<string, unknown>
    } catch (e) {
      throw new DatasetError(file, i + 1, null, `not JSON: ${(e as Error).message}`)
    }
    const s = (k: string) => (o[k] === undefined || o[k] === null ? '' : String(o[k]))
    const n = (k: string) => (o[k] === undefined || o[k] === null || o[k] === '' ? NaN : Number(o[k]))
    const day = typeof o.day === 'number' ? o.day : typeof o.date === 'string' ? dayOf(o.date) : NaN
    if (!Number.isFinite(day))
      throw new DatasetError(file, i + 1, 'date', 'a date (YYYY-MM-DD) or day number is required')
    if (!/^\d{6,10}$/.test(s('hs'))) throw new DatasetError(file, i + 1, 'hs', `not an HS code: "${s('hs')}"`)
    if (o.fraud !== 0 && o.fraud !== 1) throw new DatasetError(file, i + 1, 'fraud', 'must be 0 or 1')
    out.push({
      record: {
        id: s('id'),
        day,
        office: s('office'),
        processType: s('processType'),
        importType: s('importType'),
        importUse: s('importUse'),
        paymentType: s('paymentType'),
        transport: s('transport'),
        declarant: s('declarant'),
        importer: s('importer'),
        seller: s('seller'),
        courier: s('courier'),
        hs: s('hs'),
        departure: s('departure'),
        origin: s('origin'),
        originIndicator: s('originIndicator'),
        taxRate: n('taxRate'),
        taxType: s('taxType'),
        netMassKg: n('netMassKg'),
        value: n('value'),
        quantity: n('quantity'),
        credit: n('credit'),
        rulesFired: Array.isArray(o.rulesFired) ? o.rulesFired.map(String) : [],
      },
      label: { fraud: o.fraud, critical: o.critical === 1 ? 1 : 0 },
    })
  }
  return out
}
