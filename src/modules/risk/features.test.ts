import { describe, expect, it } from 'vitest'
import { FEATURE_NAMES, RiskHistory, extractFeatures, type RiskRecord } from './features.js'
import { featurize } from './backtest.js'
import type { Labelled } from './kcs.js'

const record = (i: number, over: Partial<RiskRecord> = {}): RiskRecord => ({
  id: `D${i}`,
  day: 18_000 + Math.floor(i / 3),
  office: '30',
  processType: 'B',
  importType: '11',
  importUse: '21',
  paymentType: '11',
  transport: '10',
  declarant: `DE${i % 4}`,
  importer: `IM${i % 7}`,
  seller: i % 5 ? `SE${i % 6}` : '',
  courier: '',
  hs: ['440890', '690722', '851713'][i % 3]!,
  departure: ['CN', 'US'][i % 2]!,
  origin: ['CN', 'US', 'DE'][i % 3]!,
  originIndicator: 'G',
  taxRate: 8,
  taxType: 'A',
  netMassKg: 100 + i,
  value: 1000 + 37 * i,
  quantity: NaN,
  credit: NaN,
  rulesFired: [],
  ...over,
})
const labelled = (n: number, fraudOf: (i: number) => 0 | 1): Labelled[] =>
  Array.from({ length: n }, (_, i) => ({ record: record(i), label: { fraud: fraudOf(i), critical: 0 } }))

describe('risk features', () => {
  it('has more than 100 named dimensions', () => {
    expect(FEATURE_NAMES.length).toBeGreaterThanOrEqual(100)
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_NAMES.length)
  })

  it('never lets a record see its own label or any later one', () => {
    const items = labelled(90, (i) => (i % 4 === 0 ? 1 : 0))
    const flipped = items.map((it, i) =>
      i >= 45 ? { ...it, label: { fraud: (1 - it.label.fraud) as 0 | 1, critical: 0 as const } } : it,
    )
    const a = featurize(items, new RiskHistory(), true)
    const b = featurize(flipped, new RiskHistory(), true)
    const firstFlippedDay = items[45]!.record.day
    // Rows of days up to the first changed label's day are identical: no row sees its own or a later label.
    for (let r = 0; r < a.data.nRows; r++) {
      if (items[a.order[r]!]!.record.day > firstFlippedDay) continue
      for (let f = 0; f < a.data.nFeatures; f++) {
        const x = a.data.values[f * a.data.nRows + r]!
        const y = b.data.values[f * b.data.nRows + r]!
        expect(Number.isNaN(x) ? Number.isNaN(y) : x === y).toBe(true)
      }
    }
    // And later rows do see the earlier labels: the features differ once the flipped labels are history.
    let differs = false
    for (let r = 0; r < a.data.nRows && !differs; r++) {
      if (items[a.order[r]!]!.record.day <= firstFlippedDay) continue
      for (let f = 0; f < a.data.nFeatures; f++)
        if (a.data.values[f * a.data.nRows + r] !== b.data.values[f * b.data.nRows + r]) differs = true
    }
    expect(differs).toBe(true)
  })

  it('computes a row from the history of earlier days only, as the live engine does one by one', () => {
    const items = labelled(60, (i) => (i % 5 === 0 ? 1 : 0))
    const { data, order } = featurize(items, new RiskHistory(), true)
    const r = 40
    const target = items[order[r]!]!
    const h = new RiskHistory()
    for (const it of items)
      if (it.record.day < target.record.day) {
        h.observe(it.record)
        h.learn(it.record, it.label)
      }
    const live = extractFeatures(target.record, h)
    for (let f = 0; f < FEATURE_NAMES.length; f++) {
      const x = data.values[f * data.nRows + r]!
      expect(Number.isNaN(x) ? Number.isNaN(live[f]!) : x === live[f]).toBe(true)
    }
  })

  it('turns exact repeats of a fraudulent combination into a high rate', () => {
    const h = new RiskHistory()
    const fraudulent = record(1, { hs: '123456', origin: 'XX', departure: 'YY' })
    for (let i = 0; i < 3; i++) {
      h.observe(fraudulent)
      h.learn(fraudulent, { fraud: 1, critical: 0 })
    }
    const clean = record(2)
    h.observe(clean)
    h.learn(clean, { fraud: 0, critical: 0 })
    const f = extractFeatures(record(3, { hs: '123456', origin: 'XX', departure: 'YY' }), h)
    const at = (name: string) => f[FEATURE_NAMES.indexOf(name)]!
    expect(at('hs6×origin×departure.n')).toBe(3)
    expect(at('hs6×origin×departure.pos')).toBe(3)
    expect(at('hs6×origin×departure.rate')).toBeGreaterThan(0.75)
  })

  it('round-trips the history through JSON', () => {
    const items = labelled(30, (i) => (i % 3 === 0 ? 1 : 0))
    const h = new RiskHistory()
    featurize(items, h, true)
    const copy = RiskHistory.fromJSON(JSON.parse(JSON.stringify(h)))
    const probe = record(99)
    expect(Array.from(extractFeatures(probe, copy))).toEqual(Array.from(extractFeatures(probe, h)))
    expect(() => RiskHistory.fromJSON({ format: 'other' } as never)).toThrow(/kouan-risk-history/)
  })
})
