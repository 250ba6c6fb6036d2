import { FEATURE_NAMES, RiskHistory, extractFeatures } from './features.js'
import type { Labelled } from './kcs.js'
import { precisionAt, recallAt } from './gbdt.js'
import { fitFixed, fitWithValidation, type FitInput, type RiskModel } from './model.js'

/** Fractions of declarations inspected at which rankings are judged. */
export const FRACTIONS = [0.01, 0.02, 0.05, 0.1] as const

/**
 * Turns records into a feature matrix in time order: each day's records get their features from the
 * history as it stood before that day, then are observed, and their labels learnt when `learn` is set.
 * The history is updated in place. Rows of the result follow the sorted order, returned as `order`.
 */
export function featurize(items: Labelled[], history: RiskHistory, learn: boolean): FitInput & { order: number[] } {
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.record.day - items[b]!.record.day || a - b)
  const nRows = items.length
  const nFeatures = FEATURE_NAMES.length
  const values = new Float32Array(nRows * nFeatures)
  const labels = new Float32Array(nRows)
  const critical = new Float32Array(nRows)
  const row = new Float32Array(nFeatures)
  let start = 0
  while (start < nRows) {
    const day = items[order[start]!]!.record.day
    let end = start
    while (end < nRows && items[order[end]!]!.record.day === day) end++
    for (let i = start; i < end; i++) {
      const it = items[order[i]!]!
      extractFeatures(it.record, history, row)
      for (let f = 0; f < nFeatures; f++) values[f * nRows + i] = row[f]!
      labels[i] = it.label.fraud
      critical[i] = it.label.critical
    }
    for (let i = start; i < end; i++) {
      const it = items[order[i]!]!
      history.observe(it.record)
      if (learn) history.learn(it.record, it.label)
    }
    start = end
  }
  return { data: { nRows, nFeatures, values, labels, featureNames: [...FEATURE_NAMES] }, critical, order }
}

export interface RankingMetrics {
  rows: number
  fraudRate: number
  precisionAt: Record<string, number>
  recallAt: Record<string, number>
  criticalRecallAt: Record<string, number>
  randomPrecision: number
}

/** Precision, recall and critical-fraud recall at each inspected fraction, for scores of labelled rows. */
export function rankingMetrics(scores: ArrayLike<number>, items: Labelled[]): RankingMetrics {
  const fraud = Float64Array.from(items, (i) => i.label.fraud)
  const crit = Float64Array.from(items, (i) => i.label.critical)
  const fraudRate = fraud.reduce((a, b) => a + b, 0) / Math.max(1, items.length)
  const round4 = (x: number) => Math.round(x * 10_000) / 10_000
  const at = (fn: (f: number) => number) => Object.fromEntries(FRACTIONS.map((f) => [String(f), round4(fn(f))]))
  return {
    rows: items.length,
    fraudRate: round4(fraudRate),
    precisionAt: at((f) => precisionAt(scores, fraud, f)),
    recallAt: at((f) => recallAt(scores, fraud, f)),
    criticalRecallAt: at((f) => (crit.some((c) => c > 0) ? recallAt(scores, crit, f) : NaN)),
    randomPrecision: round4(fraudRate),
  }
}

/**
 * Declaration-level view of item scores: records whose ids share the part before '/' (declaration/item)
 * form one declaration, scored by its riskiest item and fraudulent if any item is.
 */
export function byDeclaration(
  scores: ArrayLike<number>,
  items: Labelled[],
): { scores: Float64Array; items: Labelled[] } | undefined {
  if (!items.every((i) => i.record.id.includes('/'))) return undefined
  const groups = new Map<string, { score: number; item: Labelled }>()
  items.forEach((it, i) => {
    const key = it.record.id.slice(0, it.record.id.lastIndexOf('/'))
    const g = groups.get(key)
    const s = scores[i]!
    if (!g) groups.set(key, { score: s, item: { record: it.record, label: { ...it.label } } })
    else {
      g.score = Math.max(g.score, s)
      g.item.label.fraud = (g.item.label.fraud | it.label.fraud) as 0 | 1
      g.item.label.critical = (g.item.label.critical | it.label.critical) as 0 | 1
    }
  })
  const gs = [...groups.values()]
  return { scores: Float64Array.from(gs, (g) => g.score), items: gs.map((g) => g.item) }
}

export interface BacktestResult extends RankingMetrics {
  trainSeconds: number
  scoreP99Ms: number
  rounds: number
  refit: boolean
  features: number
  valid: RankingMetrics
  /** When records are items of declarations (ids `declaration/item`): the same metrics per declaration. */
  declarations?: RankingMetrics
}

export interface BacktestOptions {
  train: Labelled[]
  valid: Labelled[]
  test: Labelled[]
  seed?: number
  /** Refit on train + valid with the early-stopped number of rounds before ranking test (default true). */
  refit?: boolean
  log?: (msg: string) => void
  now?: () => number
}

/**
 * The benchmark protocol: features in time order from history only; train on `train` with early stopping
 * on `valid` (whose labels the history does not learn, as the test quarter's); then, by default, refit on
 * train + valid and rank `test` with a history that knows both quarters' labels but none of the test's.
 */
export function backtest(o: BacktestOptions): BacktestResult & { model: RiskModel } {
  const log = o.log ?? (() => {})
  const now = o.now ?? (() => performance.now())
  const t0 = now()
  const h1 = new RiskHistory()
  const tr = featurize(o.train, h1, true)
  const va = featurize(o.valid, h1, false)
  log(`features: ${FEATURE_NAMES.length} dimensions, ${o.train.length} train rows, ${o.valid.length} valid rows`)
  const fitted = fitWithValidation(tr, va, { seed: o.seed ?? 1, log })
  let model = fitted.model
  const valid = rankingMetrics(
    model.scoreDataset(va.data),
    va.order.map((i) => o.valid[i]!),
  )
  log(
    `valid: P@5% ${valid.precisionAt['0.05']} P@10% ${valid.precisionAt['0.1']} critical recall@10% ${valid.criticalRecallAt['0.1']} (${fitted.rounds} rounds)`,
  )

  let history = h1
  let rounds = fitted.rounds
  const refit = o.refit ?? true
  if (refit) {
    const both = [...o.train, ...o.valid]
    history = new RiskHistory()
    const all = featurize(both, history, true)
    // More data supports proportionally more rounds at the same learning rate.
    const scale = both.length / o.train.length
    rounds = Math.round(fitted.rounds * scale)
    model = fitFixed(all, rounds, { seed: o.seed ?? 1, log })
  } else {
    for (const it of o.valid) history.learn(it.record, it.label)
  }
  const trainSeconds = (now() - t0) / 1000

  const te = featurize(o.test, history, false)
  const scores = model.scoreDataset(te.data)
  // Live scoring cost: features from the history plus both heads, one record at a time.
  const times: number[] = []
  const row = new Float32Array(FEATURE_NAMES.length)
  for (const it of o.test.slice(0, 2000)) {
    const s = now()
    extractFeatures(it.record, history, row)
    model.score(row)
    times.push(now() - s)
  }
  times.sort((a, b) => a - b)
  const ordered = te.order.map((i) => o.test[i]!)
  const metrics = rankingMetrics(scores, ordered)
  const decl = byDeclaration(scores, ordered)
  return {
    ...metrics,
    ...(decl ? { declarations: rankingMetrics(decl.scores, decl.items) } : {}),
    trainSeconds: Math.round(trainSeconds * 10) / 10,
    scoreP99Ms: Math.round((times[Math.floor(0.99 * (times.length - 1))] ?? 0) * 1000) / 1000,
    rounds,
    refit,
    features: FEATURE_NAMES.length,
    valid,
    model,
  }
}
