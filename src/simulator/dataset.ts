/**
 * Offline export of a labelled dataset of simulated declarations (no server): one CSV row per declaration
 * item, with the header fields repeated, the item fields and the hidden-truth labels.
 */
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { seededRandom } from '../shared/clock.js'
import { loadReference, type Reference } from '../modules/reference/index.js'
import {
  FRAUD_KINDS,
  generateDeclaration,
  type FraudKind,
  type FraudRates,
  type GeneratedDeclaration,
} from './generate.js'
import { CNY_PER_UNIT, generateWorld, hash32 } from './world.js'
import { declarationRecords } from '../modules/risk/index.js'

/** Column order of the exported CSV. Labels come last: `fraud`, `fraud_kinds`, `critical`, then `item_fraud_kinds`. */
export const DATASET_COLUMNS = [
  'decl_index',
  'client_ref',
  'trader_code',
  'trader_credit',
  'ie_flag',
  'customs_district',
  'ie_port',
  'trade_mode',
  'cut_mode',
  'transport_mode',
  'transaction_terms',
  'currency',
  'trade_country',
  'departure_country',
  'bill_no',
  'voyage_no',
  'manual_no',
  'packages',
  'gross_mass_kg',
  'net_mass_kg',
  'freight_mark',
  'freight_amount',
  'freight_currency',
  'insurance_mark',
  'insurance_amount',
  'insurance_currency',
  'item_count',
  'g_no',
  'hs_code',
  'description',
  'model',
  'quantity',
  'unit',
  'unit_price',
  'total_value',
  'origin_country',
  'fraud',
  'fraud_kinds',
  'critical',
  'item_fraud_kinds',
] as const

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a double quote, a line break or edge whitespace,
 * with inner quotes doubled; `undefined`/`null` become empty fields.
 */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === undefined || v === null) return ''
  const s = String(v)
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** One CSV record, CRLF-terminated. */
export const csvRecord = (fields: ReadonlyArray<string | number | boolean | null | undefined>) =>
  fields.map(csvField).join(',') + '\r\n'

/** The CSV records (one per item) of a generated declaration. */
export function datasetRows(index: number, g: GeneratedDeclaration): string[] {
  const c = g.content
  const t = g.truth
  const kinds = (ks: readonly FraudKind[]) => ks.join('|')
  return c.items.map((it, i) =>
    csvRecord([
      index,
      c.clientRef,
      c.traderCode,
      t.creditLevel,
      c.ieFlag,
      c.customsDistrict,
      c.iePort,
      c.tradeMode,
      c.cutMode,
      c.transportMode,
      c.transactionTerms,
      c.currency,
      c.tradeCountry,
      c.departureCountry,
      c.billNo,
      c.voyageNo,
      c.manualNo,
      c.packages,
      c.grossMassKg,
      c.netMassKg,
      c.freight?.mark,
      c.freight?.amount,
      c.freight?.currency,
      c.insurance?.mark,
      c.insurance?.amount,
      c.insurance?.currency,
      c.items.length,
      i + 1,
      it.hsCode,
      it.description,
      it.model,
      it.quantity,
      it.unit,
      it.unitPrice,
      it.totalValue,
      it.originCountry,
      t.fraud ? 1 : 0,
      kinds(t.kinds),
      t.critical ? 1 : 0,
      kinds(t.items[i]?.kinds ?? []),
    ]),
  )
}

/** First day of an exported dataset; declarations are spread evenly over the following year. */
const DATASET_START_DAY = Date.UTC(2025, 0, 1) / 86_400_000

/**
 * JSON lines (one per item) in the risk engine's record form, with item-level labels: `kouan risk backtest
 * --format jsonl` reads them. An item is fraudulent when the truth names a fraud on it, or goods were
 * concealed in its declaration.
 */
export function datasetJsonl(index: number, count: number, g: GeneratedDeclaration): string[] {
  const day = DATASET_START_DAY + Math.floor(((index - 1) * 365) / Math.max(1, count))
  const records = declarationRecords({
    id: g.content.clientRef,
    submittedAt: new Date(day * 86_400_000),
    content: g.content,
    traderCredit: g.truth.creditLevel,
    cnyPerUnit: CNY_PER_UNIT[g.content.currency] ?? 1,
  })
  const concealed = g.truth.kinds.includes('CONCEALMENT')
  return records.map((r, i) => {
    const fraud = concealed || (g.truth.items[i]?.kinds.length ?? 0) > 0 ? 1 : 0
    return (
      JSON.stringify({
        ...r,
        taxRate: null,
        quantity: r.quantity,
        credit: r.credit,
        fraud,
        critical: fraud && g.truth.critical ? 1 : 0,
      }) + '\n'
    )
  })
}

/** Options of {@link exportDataset}. */
export interface DatasetOptions {
  /** Declarations to generate. */
  count: number
  seed: number
  /** Output file (overwritten): `*.jsonl` for risk-engine records, anything else for CSV. */
  out: string
  /** Enterprises in the world (default 200). */
  enterprises?: number
  rates?: Partial<FraudRates>
  reference?: Reference
}

/** Counts of an export: declarations, CSV rows (items), fraudulent and critical declarations, per-kind counts. */
export interface DatasetSummary {
  out: string
  declarations: number
  rows: number
  fraud: number
  critical: number
  byKind: Record<FraudKind, number>
  seconds: number
}

/**
 * Writes a labelled CSV of `count` simulated declarations (deterministic for a seed) and returns counts.
 * Streams with back-pressure, so memory stays flat for any count.
 */
export async function exportDataset(opts: DatasetOptions): Promise<DatasetSummary> {
  const started = performance.now()
  const ref = opts.reference ?? loadReference()
  const world = generateWorld(ref, { seed: opts.seed, enterprises: opts.enterprises ?? 200 })
  const rng = seededRandom(hash32(`dataset:${opts.seed}`))
  const summary: DatasetSummary = {
    out: opts.out,
    declarations: 0,
    rows: 0,
    fraud: 0,
    critical: 0,
    byKind: Object.fromEntries(FRAUD_KINDS.map((k) => [k, 0])) as Record<FraudKind, number>,
    seconds: 0,
  }
  const ws = createWriteStream(opts.out, { encoding: 'utf8' })
  // A stream error (bad path, full disk) is kept and rethrown at the next write; `once` also rejects on it.
  let failure: Error | undefined
  ws.on('error', (e) => {
    failure ??= e
  })
  const write = async (chunk: string) => {
    if (failure) throw failure
    if (!ws.write(chunk)) await once(ws, 'drain')
  }
  try {
    const jsonl = opts.out.endsWith('.jsonl')
    if (!jsonl) await write(csvRecord(DATASET_COLUMNS))
    let buf = ''
    for (let i = 0; i < opts.count; i++) {
      const g = generateDeclaration(world, rng, {
        clientRef: `DS${opts.seed}-${i + 1}`,
        ...(opts.rates ? { rates: opts.rates } : {}),
      })
      const rows = jsonl ? datasetJsonl(i + 1, opts.count, g) : datasetRows(i + 1, g)
      buf += rows.join('')
      summary.declarations++
      summary.rows += rows.length
      if (g.truth.fraud) summary.fraud++
      if (g.truth.critical) summary.critical++
      for (const k of g.truth.kinds) summary.byKind[k]++
      if (buf.length > 1 << 16) {
        await write(buf)
        buf = ''
      }
    }
    if (buf) await write(buf)
    if (failure) throw failure
    const finished = once(ws, 'finish')
    ws.end()
    await finished
  } catch (e) {
    ws.destroy()
    throw e
  }
  summary.seconds = Math.round((performance.now() - started) / 10) / 100
  return summary
}
