/**
 * Risk features: one extractor shared by training, backtests and live scoring. A declaration item is first
 * mapped to a {@link RiskRecord} (from KCS rows, simulator datasets or live declarations); its features are
 * computed from a {@link RiskHistory} that holds only what was known before it: counts of past records and
 * the labels (inspection results) learnt so far. Nothing here reads a record's own label.
 */

/** The fields the risk model sees, whatever the source. Strings are codes ('' when absent). */
export interface RiskRecord {
  id: string
  /** Days since 1970-01-01 (UTC date of the declaration). */
  day: number
  office: string
  processType: string
  importType: string
  importUse: string
  paymentType: string
  transport: string
  declarant: string
  importer: string
  seller: string
  courier: string
  /** HS code, 6 to 10 digits. */
  hs: string
  departure: string
  origin: string
  originIndicator: string
  /** Duty rate in percent, NaN if unknown. */
  taxRate: number
  taxType: string
  netMassKg: number
  /** Declared value in one currency (CNY for live declarations, KRW for KCS). */
  value: number
  quantity: number
  /** Enterprise credit level as an ordinal: 0 advanced certified … 4 seriously dishonest, NaN unknown. */
  credit: number
  /** Names of the targeting rules that fired for the declaration. */
  rulesFired: string[]
}

export interface RiskLabel {
  fraud: 0 | 1
  critical: 0 | 1
}

type Field = Exclude<
  keyof RiskRecord,
  'id' | 'day' | 'taxRate' | 'netMassKg' | 'value' | 'quantity' | 'credit' | 'rulesFired'
>
type Part = Field | 'hs2' | 'hs4' | 'hs6' | 'hs8' | 'taxRateCode'

const part = (r: RiskRecord, p: Part): string => {
  switch (p) {
    case 'hs2':
      return r.hs.slice(0, 2)
    case 'hs4':
      return r.hs.slice(0, 4)
    case 'hs6':
      return r.hs.slice(0, 6)
    case 'hs8':
      return r.hs.length >= 8 ? r.hs.slice(0, 8) : ''
    case 'taxRateCode':
      return Number.isNaN(r.taxRate) ? '' : String(r.taxRate)
    default:
      return r[p]
  }
}

/**
 * Keys whose history becomes target statistics. Single fields, then combinations: the fine-grained ones
 * (HS × origin × departure …) carry most of the signal on real data, the coarse ones smooth it.
 */
export const KEYS: readonly (readonly Part[])[] = [
  ['hs2'],
  ['hs4'],
  ['hs6'],
  ['hs8'],
  ['hs'],
  ['office'],
  ['importer'],
  ['declarant'],
  ['seller'],
  ['courier'],
  ['origin'],
  ['departure'],
  ['taxType'],
  ['taxRateCode'],
  ['importType'],
  ['importUse'],
  ['paymentType'],
  ['transport'],
  ['processType'],
  ['originIndicator'],
  ['hs6', 'origin'],
  ['hs6', 'departure'],
  ['hs6', 'taxType'],
  ['hs6', 'office'],
  ['hs6', 'importer'],
  ['hs6', 'declarant'],
  ['importer', 'declarant'],
  ['origin', 'departure'],
  ['hs4', 'origin'],
  ['hs6', 'importType'],
  ['hs6', 'importUse'],
  ['hs6', 'taxRateCode'],
  ['hs6', 'courier'],
  ['hs6', 'paymentType'],
  ['importer', 'seller'],
  ['hs6', 'origin', 'departure'],
  ['hs6', 'origin', 'taxType'],
  ['hs6', 'departure', 'taxType'],
  ['hs6', 'origin', 'importType'],
  ['hs6', 'taxType', 'taxRateCode'],
  ['origin', 'departure', 'taxType'],
  ['hs6', 'origin', 'departure', 'taxType'],
  ['hs6', 'origin', 'departure', 'taxRateCode'],
]
const keyName = (k: readonly Part[]) => k.join('×')

/** Running statistics of one key value. */
interface Stat {
  /** Records seen (labelled or not). */
  seen: number
  /** Labelled records, frauds and critical frauds among them. */
  n: number
  pos: number
  crit: number
  first: number
  last: number
  /** Welford running mean / M2 of log(value per kg) for value keys. */
  lvN: number
  lvMean: number
  lvM2: number
}
const newStat = (day: number): Stat => ({
  seen: 0,
  n: 0,
  pos: 0,
  crit: 0,
  first: day,
  last: day,
  lvN: 0,
  lvMean: 0,
  lvM2: 0,
})

/** Smoothing weight of the prior in rates: small, because exact repeats of a combination are telling. */
const PRIOR_WEIGHT = 1

const logValuePerKg = (r: RiskRecord) => (r.value > 0 && r.netMassKg > 0 ? Math.log(r.value / r.netMassKg) : NaN)

/** Keys whose value-per-kg distribution is tracked, for price-anomaly features. */
const VALUE_KEYS: readonly (readonly Part[])[] = [['hs6'], ['hs6', 'origin'], ['hs4']]
/** Keys whose value-per-unit distribution is tracked (the unit of quantity is fixed per tariff line). */
const UNIT_KEYS: readonly (readonly Part[])[] = [['hs'], ['hs6'], ['hs', 'origin']]

const logValuePerUnit = (r: RiskRecord) => (r.value > 0 && r.quantity > 0 ? Math.log(r.value / r.quantity) : NaN)

function welford(s: Stat, x: number) {
  s.lvN++
  const d = x - s.lvMean
  s.lvMean += d / s.lvN
  s.lvM2 += d * (x - s.lvMean)
}

function zScore(s: Stat | undefined, x: number): number {
  if (!s || s.lvN < 3 || Number.isNaN(x)) return NaN
  const sd = Math.sqrt(s.lvM2 / (s.lvN - 1))
  return sd > 1e-9 ? (x - s.lvMean) / sd : 0
}

/** Keys whose critical-fraud counts (threats to safety) are features of their own. */
const CRIT_KEYS = [
  'hs2',
  'hs4',
  'hs6',
  'origin',
  'departure',
  'importer',
  'declarant',
  'seller',
  'hs6×origin',
  'hs6×departure',
  'origin×departure',
  'hs6×origin×departure',
] as const

/** Names of the features, in order; length ≥ 100. */
export const FEATURE_NAMES: readonly string[] = [
  ...KEYS.flatMap((k) => [`${keyName(k)}.n`, `${keyName(k)}.pos`, `${keyName(k)}.rate`]),
  ...VALUE_KEYS.map((k) => `${keyName(k)}.valuePerKgZ`),
  ...UNIT_KEYS.map((k) => `${keyName(k)}.valuePerUnitZ`),
  'importer.seen',
  'importer.daysSinceFirst',
  'importer.daysSinceLast',
  'hs6×importer.isNew',
  'importer×seller.isNew',
  'seller.isNew',
  ...CRIT_KEYS.map((k) => `${k}.crit`),
  'logValue',
  'logNetMass',
  'logValuePerKg',
  'logValuePerUnit',
  'taxRate',
  'credit',
  'aeo',
  'rulesFired',
  'dayOfWeek',
  'month',
]

/**
 * History of past records and learnt labels. In-memory; `toJSON`/`fromJSON` persist it, and live scoring
 * rebuilds it from the database at start.
 */
export class RiskHistory {
  private readonly stats = new Map<string, Stat>()
  labelled = 0
  frauds = 0
  criticals = 0

  /** Overall fraud rate so far (the prior of every smoothed rate). */
  prior(): number {
    return this.labelled === 0 ? 0.2 : this.frauds / this.labelled
  }

  get(key: string): Stat | undefined {
    return this.stats.get(key)
  }

  private upsert(key: string, day: number): Stat {
    let s = this.stats.get(key)
    if (!s) {
      s = newStat(day)
      this.stats.set(key, s)
    }
    return s
  }

  /** Counts a record as seen (no label): recency, novelty and value statistics. */
  observe(r: RiskRecord): void {
    const lv = logValuePerKg(r)
    for (const k of KEYS) {
      const s = this.upsert(keyOf(r, k), r.day)
      s.seen++
      if (r.day < s.first) s.first = r.day
      if (r.day > s.last) s.last = r.day
    }
    if (!Number.isNaN(lv)) for (const k of VALUE_KEYS) welford(this.upsert(`value:${keyOf(r, k)}`, r.day), lv)
    const lu = logValuePerUnit(r)
    if (!Number.isNaN(lu)) for (const k of UNIT_KEYS) welford(this.upsert(`unit:${keyOf(r, k)}`, r.day), lu)
  }

  /** Learns the inspection result of a record already observed. */
  learn(r: RiskRecord, label: RiskLabel): void {
    this.labelled++
    this.frauds += label.fraud
    this.criticals += label.critical
    for (const k of KEYS) {
      const s = this.upsert(keyOf(r, k), r.day)
      s.n++
      s.pos += label.fraud
      s.crit += label.critical
    }
  }

  get size(): number {
    return this.stats.size
  }

  toJSON(): {
    format: 'kouan-risk-history'
    version: 1
    labelled: number
    frauds: number
    criticals: number
    stats: Array<[string, number[]]>
  } {
    return {
      format: 'kouan-risk-history',
      version: 1,
      labelled: this.labelled,
      frauds: this.frauds,
      criticals: this.criticals,
      stats: [...this.stats].map(([k, s]) => [
        k,
        [s.seen, s.n, s.pos, s.crit, s.first, s.last, s.lvN, s.lvMean, s.lvM2],
      ]),
    }
  }

  static fromJSON(j: ReturnType<RiskHistory['toJSON']>): RiskHistory {
    if (j?.format !== 'kouan-risk-history' || j.version !== 1) throw new Error('not a kouan-risk-history v1 document')
    const h = new RiskHistory()
    h.labelled = j.labelled
    h.frauds = j.frauds
    h.criticals = j.criticals
    for (const [k, v] of j.stats) {
      const [seen, n, pos, crit, first, last, lvN, lvMean, lvM2] = v as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ]
      h.stats.set(k, { seen, n, pos, crit, first, last, lvN, lvMean, lvM2 })
    }
    return h
  }
}

/** Map key of a record under a key definition: a tag naming the definition, then the parts' values. */
function keyOf(r: RiskRecord, k: readonly Part[]): string {
  let s = `${keyName(k)}|`
  for (let j = 0; j < k.length; j++) s += (j ? '\u0001' : '') + part(r, k[j]!)
  return s
}
const named = (name: string) => {
  const k = KEYS.find((x) => keyName(x) === name)
  if (!k) throw new Error(`no key ${name}`)
  return k
}
const IMPORTER = named('importer')
const SELLER = named('seller')
const CRIT_BY = CRIT_KEYS.map(named)
const HS6_IMPORTER = named('hs6×importer')
const IMPORTER_SELLER = named('importer×seller')

/**
 * Features of `r` from `h` as it stands (the record itself must not have been observed or learnt yet).
 * Writes into `out` (length {@link FEATURE_NAMES}.length) and returns it.
 */
export function extractFeatures(
  r: RiskRecord,
  h: RiskHistory,
  out = new Float32Array(FEATURE_NAMES.length),
): Float32Array {
  const prior = h.prior()
  let f = 0
  for (const k of KEYS) {
    // A key with an empty fine-grained part (e.g. no HS8 for 6-digit data) carries no information.
    const s = h.get(keyOf(r, k))
    const n = s?.n ?? 0
    const pos = s?.pos ?? 0
    out[f++] = n
    out[f++] = pos
    out[f++] = (pos + PRIOR_WEIGHT * prior) / (n + PRIOR_WEIGHT)
  }
  const lv = logValuePerKg(r)
  for (const k of VALUE_KEYS) out[f++] = zScore(h.get(`value:${keyOf(r, k)}`), lv)
  const lu = logValuePerUnit(r)
  for (const k of UNIT_KEYS) out[f++] = zScore(h.get(`unit:${keyOf(r, k)}`), lu)
  const imp = h.get(keyOf(r, IMPORTER))
  out[f++] = imp?.seen ?? 0
  out[f++] = imp ? r.day - imp.first : NaN
  out[f++] = imp ? r.day - imp.last : NaN
  out[f++] = h.get(keyOf(r, HS6_IMPORTER)) ? 0 : 1
  out[f++] = h.get(keyOf(r, IMPORTER_SELLER)) ? 0 : 1
  out[f++] = h.get(keyOf(r, SELLER)) ? 0 : 1
  for (const k of CRIT_BY) {
    const s = h.get(keyOf(r, k))
    out[f++] = s?.crit ?? 0
  }
  out[f++] = r.value > 0 ? Math.log(r.value) : NaN
  out[f++] = r.netMassKg > 0 ? Math.log(r.netMassKg) : NaN
  out[f++] = lv
  out[f++] = lu
  out[f++] = r.taxRate
  out[f++] = r.credit
  out[f++] = Number.isNaN(r.credit) ? NaN : r.credit <= 1 ? 1 : 0
  out[f++] = r.rulesFired.length
  out[f++] = (r.day + 4) % 7 // 1970-01-01 was a Thursday; 0 = Sunday
  out[f++] = new Date(r.day * 86_400_000).getUTCMonth() + 1
  return out
}

/** Date string (YYYY-MM-DD) or Date → day number. */
export function dayOf(d: string | Date): number {
  const t = typeof d === 'string' ? Date.parse(`${d.slice(0, 10)}T00:00:00Z`) : d.getTime()
  return Math.floor(t / 86_400_000)
}
