import { FEATURE_NAMES } from './features.js'
import { GbdtModel, train, type Dataset, type GbdtParams, type TrainProgress } from './gbdt.js'

/**
 * The risk model: a gradient-boosted fraud classifier over {@link FEATURE_NAMES}, trained with critical
 * frauds (threats to safety, about 5 % of frauds) weighted up, so they rank among the first. The artifact
 * records the feature list it was trained on; a Kouan whose features differ refuses to load it.
 */
export class RiskModel {
  constructor(
    readonly gbdt: GbdtModel,
    readonly meta: Record<string, unknown> = {},
  ) {}

  get featureNames(): string[] {
    return this.gbdt.featureNames
  }

  /** Fraud probability of one feature row. */
  score(row: ArrayLike<number>): number {
    return this.gbdt.predict(row)
  }

  scoreDataset(d: Dataset): Float64Array {
    return this.gbdt.predictDataset(d)
  }

  toJSON(): RiskModelArtifact {
    return {
      format: 'kouan-risk-model',
      version: 1,
      features: [...this.featureNames],
      gbdt: this.gbdt.toJSON(),
      meta: this.meta,
    }
  }

  static fromJSON(a: unknown): RiskModel {
    const o = a as Partial<RiskModelArtifact> | null
    if (!o || o.format !== 'kouan-risk-model') throw new Error('not a kouan-risk-model artifact')
    if (o.version !== 1) throw new Error(`unsupported kouan-risk-model version ${String(o.version)}`)
    const gbdt = GbdtModel.fromJSON(o.gbdt)
    if (gbdt.featureNames.join('\n') !== FEATURE_NAMES.join('\n')) {
      throw new Error('the model was trained on other features than this version of Kouan extracts; retrain it')
    }
    return new RiskModel(gbdt, o.meta ?? {})
  }
}

export interface RiskModelArtifact {
  format: 'kouan-risk-model'
  version: 1
  features: string[]
  gbdt: unknown
  meta: Record<string, unknown>
}

/**
 * Training parameters, chosen on a validation quarter of the KCS data (train 2020-01..09, validate 2020 Q4;
 * docs/BENCHMARKS.md): slow learning rate with early stopping on precision at 5 %.
 */
export const FRAUD_PARAMS: Partial<GbdtParams> = {
  nRounds: 2000,
  learningRate: 0.03,
  numLeaves: 31,
  minDataInLeaf: 20,
  featureFraction: 0.7,
  baggingFraction: 0.8,
  baggingFreq: 1,
  lambdaL2: 1,
  earlyStoppingRounds: 150,
  metric: 'precisionAt:0.05',
  seed: 1,
}
/**
 * Weight of a critical fraud in training. At 1 the model finds critical frauds no better than other frauds
 * (critical recall@10 % 0.39 on the validation quarter); at 10, 0.51, for 0.02 of precision@10 %.
 */
export const CRITICAL_ROW_WEIGHT = 10

/**
 * Parameters for a database that has few labels yet: leaves may be small, and early stopping follows the
 * log loss, which a handful of validation rows can still measure (precision at 5 % of a few dozen cannot,
 * and AUC saturates before the scores are confident).
 */
export function paramsForSize(rows: number): Partial<GbdtParams> {
  if (rows >= 5000) return {}
  return { minDataInLeaf: Math.max(2, Math.floor(rows / 50)), metric: 'logloss', learningRate: 0.1, numLeaves: 15 }
}

/** Labels of a feature matrix: fraud in `data.labels`, critical fraud here. */
export interface FitInput {
  data: Dataset
  critical: Float32Array
}

const weighted = (x: FitInput): Dataset => ({
  ...x.data,
  weights: x.critical.map((c) => (c > 0 ? CRITICAL_ROW_WEIGHT : 1)),
})

const logProgress = (log: (m: string) => void, stage: string) => (p: TrainProgress) => {
  if (p.round % 100 === 0) {
    log(
      `${stage} round ${p.round}: ${p.validMetric !== undefined ? `valid ${FRAUD_PARAMS.metric} ${p.validMetric.toFixed(4)} (best ${p.best.toFixed(4)} at ${p.bestRound})` : `train loss ${p.trainLoss?.toFixed(4) ?? '-'}`}`,
    )
  }
}

/** Trains with early stopping on `valid`; returns the model and the number of trees it kept (for a refit on more data). */
export function fitWithValidation(
  tr: FitInput,
  va: FitInput,
  o: { seed?: number; log?: (m: string) => void; params?: Partial<GbdtParams> } = {},
) {
  const gbdt = train(
    weighted(tr),
    { ...FRAUD_PARAMS, ...o.params, seed: o.seed ?? 1 },
    va.data,
    logProgress(o.log ?? (() => {}), 'train'),
  )
  return { model: new RiskModel(gbdt, { rows: tr.data.nRows }), rounds: gbdt.bestIteration }
}

/** Trains for a fixed number of rounds, without validation data (a refit on train + valid). */
export function fitFixed(
  all: FitInput,
  rounds: number,
  o: { seed?: number; log?: (m: string) => void; params?: Partial<GbdtParams> } = {},
) {
  const gbdt = train(
    weighted(all),
    { ...FRAUD_PARAMS, ...o.params, seed: o.seed ?? 1, nRounds: Math.max(1, rounds), earlyStoppingRounds: 0 },
    undefined,
    logProgress(o.log ?? (() => {}), 'refit'),
  )
  return new RiskModel(gbdt, { rows: all.data.nRows })
}
