/**
 * Gradient-boosted decision trees for binary classification (logistic loss), histogram-based and
 * grown leaf-wise as LightGBM does. Written in-house because no maintained JavaScript library trains
 * GBDTs; the parameter names follow LightGBM so that its documentation explains them.
 *
 * Training outline (one round):
 * 1. resample rows (bagging) and pick this tree's features, both from a seeded PRNG;
 * 2. gradients/hessians of the logistic loss at the current raw scores;
 * 3. grow one tree best-first: a leaf's gradient histogram (per feature, per bin) yields its best split;
 *    the smaller child's histogram is built from its rows, the larger one's is parent − smaller;
 * 4. add the shrunk leaf values to the training and validation scores; early-stop on the validation metric.
 *
 * Features are discretised once into ≤ maxBins quantile bins (bin 0 holds missing values); a split
 * stores its real-valued threshold and the direction learned for missing values, so prediction works
 * on raw floats without binning.
 *
 * This file is the entry point (types, parameters, `train`, `GbdtModel`); the parts live beside it:
 * `gbdt-binning.ts` (quantile bins), `gbdt-tree.ts` (histograms, split finding, leaf-wise growth) and
 * `gbdt-metrics.ts` (AUC, precision/recall at a fraction, logloss).
 */

import { seededRandom } from '../../shared/clock.js'
import { binDataset, computeBounds, isMissing } from './gbdt-binning.js'
import { auc, meanLogloss, precisionAt, softplus } from './gbdt-metrics.js'
import { TreeLearner, addTreeBinned } from './gbdt-tree.js'
import type { Dataset, GbdtParams, GbdtTreeJson } from './gbdt-types.js'

export type { Dataset, GbdtParams, GbdtTreeJson } from './gbdt-types.js'

export { auc, precisionAt, recallAt } from './gbdt-metrics.js'

/**
 * Builds a column-major Dataset from row-major data (one array of feature values per row). Convenience
 * for callers and tests; values are stored as float32, missing values as NaN.
 */
export function datasetFromRows(
  rows: ArrayLike<number>[],
  labels: ArrayLike<number>,
  featureNames: string[],
  weights?: ArrayLike<number>,
): Dataset {
  const nRows = rows.length
  const nFeatures = featureNames.length
  if (labels.length !== nRows) throw new Error(`${nRows} rows but ${labels.length} labels`)
  const values = new Float32Array(nRows * nFeatures)
  rows.forEach((row, r) => {
    if (row.length !== nFeatures) throw new Error(`row ${r} has ${row.length} values, expected ${nFeatures}`)
    for (let f = 0; f < nFeatures; f++) values[f * nRows + r] = row[f]!
  })
  const d: Dataset = { nRows, nFeatures, values, labels: Float32Array.from(labels), featureNames: [...featureNames] }
  if (weights) d.weights = Float32Array.from(weights)
  return d
}

/**
 * Defaults: LightGBM's, except more rounds at a smaller learning rate (early stopping picks the
 * count), lambdaL2 = 1 and 80 % row and feature sampling, which regularise small, noisy fraud data.
 */
export const DEFAULT_PARAMS: GbdtParams = Object.freeze({
  nRounds: 1000,
  learningRate: 0.05,
  numLeaves: 31,
  maxDepth: -1,
  minDataInLeaf: 20,
  minSumHessianInLeaf: 1e-3,
  lambdaL2: 1,
  lambdaL1: 0,
  minGainToSplit: 0,
  featureFraction: 0.8,
  baggingFraction: 0.8,
  baggingFreq: 1,
  maxBins: 255,
  earlyStoppingRounds: 100,
  metric: 'auc',
  scalePosWeight: 1,
  seed: 1,
})

/** Reported after every round. Without a validation set `best` is NaN and `bestRound` the current round. */
export interface TrainProgress {
  /** 1-based round just finished (= number of trees so far). */
  round: number
  /** Weighted mean logistic loss on the training set (the objective); present when a callback is given. */
  trainLoss?: number
  /** Validation metric after this round, when a validation set is given. */
  validMetric?: number
  /** Best validation metric so far. */
  best: number
  /** Round at which `best` was reached. */
  bestRound: number
}

/** The serialised model: plain JSON, versioned. `bins` are the training bin upper bounds per feature (informational). */
export interface GbdtArtifact {
  format: 'kouan-gbdt'
  version: 1
  params: GbdtParams
  featureNames: string[]
  bins?: number[][]
  trees: GbdtTreeJson[]
  baseScore: number
  bestIteration: number
}

// ---------------------------------------------------------------------------------------------
// Parameters

type Metric = { kind: 'auc' } | { kind: 'logloss' } | { kind: 'precisionAt'; fraction: number }

function parseMetric(m: unknown): Metric | undefined {
  if (m === 'auc') return { kind: 'auc' }
  if (m === 'logloss') return { kind: 'logloss' }
  if (typeof m === 'string' && m.startsWith('precisionAt:')) {
    const rest = m.slice('precisionAt:'.length)
    const fraction = Number(rest)
    if (rest.trim() !== '' && fraction > 0 && fraction <= 1) return { kind: 'precisionAt', fraction }
  }
  return undefined
}

/** Merges with the defaults and checks every field; lists all problems in one Error. Unknown keys are rejected, not ignored. */
function resolveParams(p: Partial<GbdtParams> | undefined): GbdtParams {
  const out: GbdtParams = { ...DEFAULT_PARAMS }
  const problems: string[] = []
  for (const [k, v] of Object.entries(p ?? {})) {
    if (!Object.hasOwn(DEFAULT_PARAMS, k)) problems.push(`unknown parameter "${k}"`)
    else if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v
  }
  const int = (k: keyof GbdtParams, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = out[k]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      problems.push(`${k} must be an integer in [${min}, ${max}], got ${String(v)}`)
  }
  const num = (k: keyof GbdtParams, min: number, max: number, minExclusive = false) => {
    const v = out[k]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (minExclusive && v === min)) {
      problems.push(`${k} must be a number in ${minExclusive ? '(' : '['}${min}, ${max}], got ${String(v)}`)
    }
  }
  int('nRounds', 1)
  num('learningRate', 0, Number.MAX_VALUE, true)
  int('numLeaves', 2, 1 << 16)
  if (out.maxDepth !== -1) int('maxDepth', 1, 1 << 16)
  int('minDataInLeaf', 0)
  num('minSumHessianInLeaf', 0, Number.MAX_VALUE)
  num('lambdaL2', 0, Number.MAX_VALUE)
  num('lambdaL1', 0, Number.MAX_VALUE)
  num('minGainToSplit', 0, Number.MAX_VALUE)
  num('featureFraction', 0, 1, true)
  num('baggingFraction', 0, 1, true)
  int('baggingFreq', 0)
  int('maxBins', 2, 255)
  int('earlyStoppingRounds', 0)
  num('scalePosWeight', 0, Number.MAX_VALUE, true)
  int('seed', -0x80000000, 0xffffffff)
  if (out.lambdaL2 === 0 && out.minSumHessianInLeaf === 0)
    problems.push('lambdaL2 and minSumHessianInLeaf cannot both be 0 (leaf values would divide by zero)')
  if (!parseMetric(out.metric))
    problems.push(
      `metric must be 'auc', 'logloss' or 'precisionAt:<fraction in (0, 1]>', got ${JSON.stringify(out.metric)}`,
    )
  if (problems.length) throw new Error(`invalid GBDT parameters: ${problems.join('; ')}`)
  return out
}

function checkDataset(d: Dataset, what: string): void {
  const problems: string[] = []
  if (!Number.isInteger(d.nRows) || d.nRows < 1) problems.push(`nRows must be a positive integer, got ${d.nRows}`)
  if (!Number.isInteger(d.nFeatures) || d.nFeatures < 1)
    problems.push(`nFeatures must be a positive integer, got ${d.nFeatures}`)
  if (!(d.values instanceof Float32Array) || d.values.length !== d.nRows * d.nFeatures)
    problems.push(`values must be a Float32Array of nRows·nFeatures = ${d.nRows * d.nFeatures}`)
  if (!(d.labels instanceof Float32Array) || d.labels.length !== d.nRows)
    problems.push(`labels must be a Float32Array of nRows = ${d.nRows}`)
  else if (d.labels.some((y) => y !== 0 && y !== 1)) problems.push('labels must be 0 or 1')
  if (d.weights !== undefined) {
    if (!(d.weights instanceof Float32Array) || d.weights.length !== d.nRows)
      problems.push(`weights must be a Float32Array of nRows = ${d.nRows}`)
    else if (d.weights.some((w) => !(w >= 0 && w < Infinity))) problems.push('weights must be finite and ≥ 0')
  }
  if (!Array.isArray(d.featureNames) || d.featureNames.length !== d.nFeatures)
    problems.push(`featureNames must list nFeatures = ${d.nFeatures} names`)
  if (problems.length) throw new Error(`invalid ${what}: ${problems.join('; ')}`)
}

// ---------------------------------------------------------------------------------------------
// Small numeric helpers

/** Independent stream per purpose, so adding a random draw in one place does not shift the other. */
function substream(seed: number, purpose: number): () => number {
  // splitmix32-style mixing of (seed, purpose)
  let z = (seed ^ Math.imul(purpose, 0x9e3779b9)) >>> 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return seededRandom((z ^ (z >>> 16)) >>> 0)
}

const sigmoid = (s: number) => 1 / (1 + Math.exp(-s))

// ---------------------------------------------------------------------------------------------
// Training

/**
 * Trains a binary classifier. With `valid`, training stops once `params.metric` has not improved for
 * `earlyStoppingRounds` rounds and the model predicts with the trees up to the best round. Training also
 * stops when a tree cannot split at all. Deterministic: same data and params (seed included) give
 * the same model, byte for byte in JSON. Validation metrics ignore `valid.weights`.
 */
export function train(
  trainSet: Dataset,
  params?: Partial<GbdtParams>,
  valid?: Dataset,
  onProgress?: (p: TrainProgress) => void,
): GbdtModel {
  const p = resolveParams(params)
  checkDataset(trainSet, 'training set')
  if (valid) {
    checkDataset(valid, 'validation set')
    if (valid.nFeatures !== trainSet.nFeatures)
      throw new Error(`validation set has ${valid.nFeatures} features, training set ${trainSet.nFeatures}`)
    const pos = valid.labels.reduce((a, y) => a + y, 0)
    if (p.metric === 'auc' && (pos === 0 || pos === valid.nRows))
      throw new Error('validation set needs both classes for AUC')
  }
  const metric = parseMetric(p.metric)!
  const n = trainSet.nRows
  const nF = trainSet.nFeatures
  const labels = trainSet.labels

  const bounds = computeBounds(trainSet, p.maxBins)
  const bins = binDataset(trainSet, bounds)
  const learner = new TreeLearner(n, nF, bins, bounds, p)

  // row weights, scalePosWeight folded in; the initial score is the optimum of this weighted loss
  const w = new Float64Array(n)
  let sumW = 0
  let sumWY = 0
  for (let r = 0; r < n; r++) {
    const wr = (trainSet.weights ? trainSet.weights[r]! : 1) * (labels[r] === 1 ? p.scalePosWeight : 1)
    w[r] = wr
    sumW += wr
    sumWY += wr * labels[r]!
  }
  if (!(sumW > 0)) throw new Error('invalid training set: total weight is 0')
  const rate = Math.min(Math.max(sumWY / sumW, 1e-15), 1 - 1e-15)
  const baseScore = Math.log(rate / (1 - rate))

  const scores = new Float64Array(n).fill(baseScore)
  const validBins = valid ? binDataset(valid, bounds) : undefined
  const validScores = valid ? new Float64Array(valid.nRows).fill(baseScore) : undefined

  const bagRng = substream(p.seed, 1)
  const featRng = substream(p.seed, 2)
  const bagging = p.baggingFreq > 0 && p.baggingFraction < 1
  const usable = learner.splittableFeatures()
  const nTreeFeatures = Math.max(1, Math.round(p.featureFraction * usable.length))
  const featPool = Int32Array.from(usable)
  learner.inBag.fill(1)

  const higherIsBetter = metric.kind !== 'logloss'
  const trees: GbdtTreeJson[] = []
  let best = NaN
  let bestRound = 0

  for (let round = 1; round <= p.nRounds; round++) {
    if (bagging && (round - 1) % p.baggingFreq === 0) {
      // selection sampling (Knuth's algorithm S): exactly k rows
      const k = Math.max(1, Math.round(p.baggingFraction * n))
      let chosen = 0
      for (let r = 0; r < n; r++) {
        const pick = chosen < k && bagRng() * (n - r) < k - chosen
        learner.inBag[r] = pick ? 1 : 0
        if (pick) chosen++
      }
    }
    // rows in ascending order every round (the last tree's partitions shuffled idx): sequential access
    let nBag = 0
    for (let r = 0; r < n; r++) if (learner.inBag[r]) learner.idx[nBag++] = r
    learner.nBag = nBag
    // gradients of the logistic loss, only where the tree will look
    const { idx, grad, hess } = learner
    for (let i = 0; i < learner.nBag; i++) {
      const r = idx[i]!
      const pr = sigmoid(scores[r]!)
      const wr = w[r]!
      grad[r] = wr * (pr - labels[r]!)
      hess[r] = wr * pr * (1 - pr)
    }
    // per-tree feature sample: partial Fisher–Yates, then sorted so the scan order does not depend on the draw
    if (nTreeFeatures < featPool.length) {
      for (let i = 0; i < nTreeFeatures; i++) {
        const j = i + Math.floor(featRng() * (featPool.length - i))
        const t = featPool[i]!
        featPool[i] = featPool[j]!
        featPool[j] = t
      }
      learner.setFeatures(featPool.slice(0, nTreeFeatures).sort())
    } else {
      learner.setFeatures(featPool)
    }

    const tree = usable.length ? learner.grow() : undefined
    if (!tree) break // no leaf can split: more rounds would add nothing
    trees.push(tree.json)
    learner.addToTrainingScores(tree, scores)

    let trainLoss: number | undefined
    if (onProgress) {
      let loss = 0
      for (let r = 0; r < n; r++) loss += w[r]! * (softplus(scores[r]!) - labels[r]! * scores[r]!)
      trainLoss = loss / sumW
    }
    let validMetric: number | undefined
    if (valid && validBins && validScores) {
      addTreeBinned(tree, validBins, valid.nRows, validScores)
      validMetric =
        metric.kind === 'auc'
          ? auc(validScores, valid.labels)
          : metric.kind === 'logloss'
            ? meanLogloss(validScores, valid.labels)
            : precisionAt(validScores, valid.labels, metric.fraction)
      if (Number.isNaN(best) || (higherIsBetter ? validMetric > best : validMetric < best)) {
        best = validMetric
        bestRound = round
      }
    } else {
      bestRound = round
    }
    onProgress?.({ round, trainLoss, validMetric, best, bestRound })
    if (valid && p.earlyStoppingRounds > 0 && round - bestRound >= p.earlyStoppingRounds) break
  }

  return new GbdtModel({
    format: 'kouan-gbdt',
    version: 1,
    params: p,
    featureNames: [...trainSet.featureNames],
    bins: bounds.map((b) => Array.from(b)),
    trees,
    baseScore,
    bestIteration: valid ? bestRound : trees.length,
  })
}

// ---------------------------------------------------------------------------------------------
// Model

/** A trained model; obtain one from `train` or `GbdtModel.fromJSON`. */
export class GbdtModel {
  /** Feature names in the order `predict` expects the row's values. */
  readonly featureNames: string[]
  /**
   * Number of trees used for prediction, a count: trees[0, bestIteration) (the best validation round,
   * else all). A refit that should match it uses `nRounds: bestIteration`.
   */
  readonly bestIteration: number
  /** Number of trees trained (≥ bestIteration; the extra ones are kept in JSON for inspection). */
  readonly numTrees: number
  /** Raw score before any tree: log-odds of the weighted positive rate. */
  readonly baseScore: number
  readonly params: GbdtParams
  private readonly artifact: GbdtArtifact
  // all trees flattened; node children: ≥ 0 global node index, < 0 global leaf ~index
  private readonly root: Int32Array
  private readonly feature: Int32Array
  private readonly threshold: Float64Array
  private readonly defaultLeft: Uint8Array
  private readonly left: Int32Array
  private readonly right: Int32Array
  private readonly value: Float64Array
  private readonly leafValue: Float64Array

  /** Same as `GbdtModel.fromJSON`: the artifact is validated and copied. */
  constructor(artifact: GbdtArtifact) {
    const a = validateArtifact(artifact)
    this.artifact = a
    this.featureNames = [...a.featureNames]
    this.bestIteration = a.bestIteration
    this.numTrees = a.trees.length
    this.baseScore = a.baseScore
    this.params = { ...a.params }
    let nodes = 0
    let leaves = 0
    for (const t of a.trees) {
      nodes += t.splitFeature.length
      leaves += t.leafValue.length
    }
    this.root = new Int32Array(a.trees.length)
    this.feature = new Int32Array(nodes)
    this.threshold = new Float64Array(nodes)
    this.defaultLeft = new Uint8Array(nodes)
    this.left = new Int32Array(nodes)
    this.right = new Int32Array(nodes)
    this.value = new Float64Array(nodes)
    this.leafValue = new Float64Array(leaves)
    let no = 0
    let lo = 0
    a.trees.forEach((t, ti) => {
      const m = t.splitFeature.length
      this.root[ti] = m > 0 ? no : ~lo
      const relocate = (c: number) => (c >= 0 ? c + no : ~(~c + lo))
      for (let i = 0; i < m; i++) {
        this.feature[no + i] = t.splitFeature[i]!
        this.threshold[no + i] = t.threshold[i]!
        this.defaultLeft[no + i] = t.defaultLeft[i]!
        this.left[no + i] = relocate(t.left[i]!)
        this.right[no + i] = relocate(t.right[i]!)
        this.value[no + i] = t.internalValue[i]!
      }
      this.leafValue.set(t.leafValue, lo)
      no += m
      lo += t.leafValue.length
    })
  }

  private checkRow(row: ArrayLike<number>): void {
    if (row.length !== this.featureNames.length)
      throw new Error(`row has ${row.length} values, the model expects ${this.featureNames.length} features`)
  }

  /** Raw score (log-odds) of one row, features in training order; NaN/±Infinity = missing. */
  predictRaw(row: ArrayLike<number>): number {
    this.checkRow(row)
    const { root, feature, threshold, defaultLeft, left, right, leafValue } = this
    let s = this.baseScore
    for (let t = 0; t < this.bestIteration; t++) {
      let node = root[t]!
      while (node >= 0) {
        const x = row[feature[node]!]!
        node = (isMissing(x) ? defaultLeft[node] === 1 : x <= threshold[node]!) ? left[node]! : right[node]!
      }
      s += leafValue[~node]!
    }
    return s
  }

  /** Probability of the positive class for one row. */
  predict(row: ArrayLike<number>): number {
    return sigmoid(this.predictRaw(row))
  }

  /** Probabilities for every row of a dataset; tree by tree, so each tree stays in cache. Same numbers as `predict`. */
  predictDataset(d: Dataset): Float64Array {
    if (d.nFeatures !== this.featureNames.length)
      throw new Error(`dataset has ${d.nFeatures} features, the model expects ${this.featureNames.length}`)
    if (d.values.length !== d.nRows * d.nFeatures) throw new Error('dataset values must have nRows·nFeatures entries')
    const n = d.nRows
    const vals = d.values
    const out = new Float64Array(n).fill(this.baseScore)
    const { root, feature, threshold, defaultLeft, left, right, leafValue } = this
    for (let t = 0; t < this.bestIteration; t++) {
      const r0 = root[t]!
      for (let r = 0; r < n; r++) {
        let node = r0
        while (node >= 0) {
          const x = vals[feature[node]! * n + r]!
          node = (isMissing(x) ? defaultLeft[node] === 1 : x <= threshold[node]!) ? left[node]! : right[node]!
        }
        out[r]! += leafValue[~node]!
      }
    }
    for (let r = 0; r < n; r++) out[r] = sigmoid(out[r]!)
    return out
  }

  /**
   * Per-feature contributions to the raw score by tree-path attribution (Saabas): along each path, the
   * change of node value is credited to the split feature. `bias + Σ values = predictRaw(row)` up to
   * rounding. Not SHAP: cheaper, but biased towards features split near the leaves.
   */
  contributions(row: ArrayLike<number>): { bias: number; values: Float64Array } {
    this.checkRow(row)
    const { root, feature, threshold, defaultLeft, left, right, value, leafValue } = this
    const values = new Float64Array(this.featureNames.length)
    let bias = this.baseScore
    for (let t = 0; t < this.bestIteration; t++) {
      let node = root[t]!
      if (node < 0) {
        bias += leafValue[~node]!
        continue
      }
      let cur = value[node]!
      bias += cur
      while (node >= 0) {
        const f = feature[node]!
        const x = row[f]!
        node = (isMissing(x) ? defaultLeft[node] === 1 : x <= threshold[node]!) ? left[node]! : right[node]!
        const next = node >= 0 ? value[node]! : leafValue[~node]!
        values[f]! += next - cur
        cur = next
      }
    }
    return { bias, values }
  }

  /** Total split gain or number of splits per feature, over the trees used for prediction. */
  featureImportance(kind: 'gain' | 'split'): Float64Array {
    const out = new Float64Array(this.featureNames.length)
    for (let t = 0; t < this.bestIteration; t++) {
      const tree = this.artifact.trees[t]!
      tree.splitFeature.forEach((f, i) => {
        out[f]! += kind === 'gain' ? tree.splitGain[i]! : 1
      })
    }
    return out
  }

  /** Plain, versioned JSON; `fromJSON(JSON.parse(JSON.stringify(m.toJSON())))` scores bit for bit like `m`. */
  toJSON(): GbdtArtifact {
    return structuredClone(this.artifact)
  }

  /** Reads a `toJSON` artifact; checks format, version and every array, and throws an Error naming the problem. */
  static fromJSON(a: unknown): GbdtModel {
    return new GbdtModel(a as GbdtArtifact)
  }
}

function validateArtifact(a: unknown): GbdtArtifact {
  const fail = (msg: string): never => {
    throw new Error(`invalid kouan-gbdt model: ${msg}`)
  }
  if (typeof a !== 'object' || a === null || Array.isArray(a)) fail('expected an object')
  const o = a as Record<string, unknown>
  if (o.format !== 'kouan-gbdt') fail(`format must be "kouan-gbdt", got ${JSON.stringify(o.format) ?? 'nothing'}`)
  if (o.version !== 1)
    fail(`unsupported version ${JSON.stringify(o.version) ?? 'nothing'} (this build reads version 1)`)
  const isNumArray = (v: unknown): v is number[] =>
    Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x))
  const names = o.featureNames
  if (!Array.isArray(names) || names.length === 0 || !names.every((x) => typeof x === 'string'))
    fail('featureNames must be a non-empty array of strings')
  const nF = (names as string[]).length
  let params: GbdtParams
  try {
    const raw = o.params
    if (typeof raw !== 'object' || raw === null) throw new Error('missing')
    params = resolveParams(raw as Partial<GbdtParams>)
  } catch (e) {
    return fail(`params: ${(e as Error).message}`)
  }
  if (typeof o.baseScore !== 'number' || !Number.isFinite(o.baseScore)) fail('baseScore must be a finite number')
  if (o.bins !== undefined && (!Array.isArray(o.bins) || o.bins.length !== nF || !o.bins.every(isNumArray)))
    fail(`bins must hold ${nF} arrays of finite numbers`)
  if (!Array.isArray(o.trees)) fail('trees must be an array')
  const trees = o.trees as unknown[]
  trees.forEach((t, ti) => {
    const at = `trees[${ti}]`
    if (typeof t !== 'object' || t === null) fail(`${at} must be an object`)
    const tr = t as Record<string, unknown>
    const keys = [
      'splitFeature',
      'threshold',
      'defaultLeft',
      'left',
      'right',
      'splitGain',
      'internalValue',
      'internalCount',
      'leafValue',
      'leafCount',
    ] as const
    for (const k of keys) if (!isNumArray(tr[k])) fail(`${at}.${k} must be an array of finite numbers`)
    const x = tr as unknown as GbdtTreeJson
    const m = x.splitFeature.length
    const nl = x.leafValue.length
    for (const k of keys) {
      const want = k.startsWith('leaf') ? nl : m
      if (x[k].length !== want) fail(`${at}.${k} has ${x[k].length} entries, expected ${want}`)
    }
    if (nl !== m + 1) fail(`${at} has ${m} splits and ${nl} leaves; a binary tree has one leaf more than splits`)
    const seen = new Uint8Array(m + nl)
    for (let i = 0; i < m; i++) {
      const f = x.splitFeature[i]!
      if (!Number.isInteger(f) || f < 0 || f >= nF) fail(`${at}.splitFeature[${i}] = ${f} is not a feature index`)
      const dl = x.defaultLeft[i]!
      if (dl !== 0 && dl !== 1) fail(`${at}.defaultLeft[${i}] must be 0 or 1`)
      for (const c of [x.left[i]!, x.right[i]!]) {
        // children after their parent guarantees every walk ends at a leaf
        if (!Number.isInteger(c) || (c >= 0 ? c <= i || c >= m : ~c >= nl))
          fail(`${at}: node ${i} has an invalid child ${c}`)
        const slot = c >= 0 ? c : m + ~c
        if (seen[slot]) fail(`${at}: node ${c >= 0 ? c : `leaf ${~c}`} has two parents`)
        seen[slot] = 1
      }
    }
  })
  const bi = o.bestIteration
  if (typeof bi !== 'number' || !Number.isInteger(bi) || bi < 0 || bi > trees.length)
    fail(`bestIteration must be an integer in [0, ${trees.length}]`)
  // rebuilt field by field (same key order as `train`), so unknown extra fields are dropped and a
  // round trip reproduces the JSON text exactly
  return {
    format: 'kouan-gbdt',
    version: 1,
    params,
    featureNames: [...(names as string[])],
    ...(o.bins !== undefined ? { bins: (o.bins as number[][]).map((b) => [...b]) } : {}),
    trees: (trees as GbdtTreeJson[]).map((t) => ({
      splitFeature: [...t.splitFeature],
      threshold: [...t.threshold],
      defaultLeft: [...t.defaultLeft],
      left: [...t.left],
      right: [...t.right],
      splitGain: [...t.splitGain],
      internalValue: [...t.internalValue],
      internalCount: [...t.internalCount],
      leafValue: [...t.leafValue],
      leafCount: [...t.leafCount],
    })),
    baseScore: o.baseScore as number,
    bestIteration: bi as number,
  }
}
