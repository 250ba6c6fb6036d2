import { seededRandom } from '../../shared/clock.js'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_PARAMS,
  GbdtModel,
  auc,
  datasetFromRows,
  precisionAt,
  recallAt,
  train,
  type Dataset,
  type GbdtParams,
  type TrainProgress,
} from './gbdt.js'

// Seeded data only (STYLE §6): every dataset below is a pure function of its seed.
const rng = seededRandom

function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
}

/** n rows from `gen(rand) → [features, label]`, as a Dataset. */
function make(n: number, seed: number, names: string[], gen: (rand: () => number) => [number[], number]): Dataset {
  const rand = rng(seed)
  const rows: number[][] = []
  const labels: number[] = []
  for (let i = 0; i < n; i++) {
    const [x, y] = gen(rand)
    rows.push(x)
    labels.push(y)
  }
  return datasetFromRows(rows, labels, names)
}

const row = (d: Dataset, r: number) => Array.from({ length: d.nFeatures }, (_, f) => d.values[f * d.nRows + r]!)
const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length

// Small, quick settings for the learning tests; the defaults (1000 rounds) are for real data.
const quick: Partial<GbdtParams> = { nRounds: 150, learningRate: 0.1, minDataInLeaf: 5, earlyStoppingRounds: 30 }

describe('learning', () => {
  const xor = (rand: () => number): [number[], number] => {
    const a = rand() * 2 - 1
    const b = rand() * 2 - 1
    return [[a, b], a > 0 !== b > 0 ? 1 : 0]
  }

  it('learns XOR, which an additive model of stumps cannot', () => {
    const tr = make(3000, 1, ['a', 'b'], xor)
    const va = make(1000, 2, ['a', 'b'], xor)
    const te = make(2000, 3, ['a', 'b'], xor)
    const model = train(tr, quick, va)
    expect(auc(model.predictDataset(te), te.labels)).toBeGreaterThan(0.99)
    const stumps = train(tr, { ...quick, maxDepth: 1, earlyStoppingRounds: 0 })
    expect(auc(stumps.predictDataset(te), te.labels)).toBeLessThan(0.7)
    expect(stumps.toJSON().trees.every((t) => t.splitFeature.length === 1)).toBe(true) // maxDepth 1 = stumps
    // both inputs matter
    const gain = model.featureImportance('gain')
    expect(gain[0]).toBeGreaterThan(0)
    expect(gain[1]).toBeGreaterThan(0)
  })

  it('learns a step at 0.3 and puts the first split there', () => {
    const step = (rand: () => number): [number[], number] => {
      const x = rand()
      return [[x, rand()], x > 0.3 ? 1 : 0]
    }
    const tr = make(4000, 4, ['x', 'noise'], step)
    const te = make(2000, 5, ['x', 'noise'], step)
    const model = train(tr, { ...quick, earlyStoppingRounds: 0, nRounds: 50 })
    expect(auc(model.predictDataset(te), te.labels)).toBeGreaterThan(0.999)
    const first = model.toJSON().trees[0]!
    expect(first.splitFeature[0]).toBe(0)
    expect(Math.abs(first.threshold[0]! - 0.3)).toBeLessThan(0.005)
    expect(model.predict([0.29, 0.5])).toBeLessThan(0.1)
    expect(model.predict([0.31, 0.5])).toBeGreaterThan(0.9)
  })

  it('handles 2% positives: ranks well and predicts the base rate on average', () => {
    const gen = (seed: number) => {
      const normal = gaussian(rng(seed + 1000))
      return (rand: () => number): [number[], number] => {
        const x = normal()
        const z = normal()
        const p = 1 / (1 + Math.exp(-(-4.6 + 1.4 * x)))
        return [[x, z, rand()], rand() < p ? 1 : 0]
      }
    }
    const names = ['signal', 'noise1', 'noise2']
    const tr = make(20000, 6, names, gen(6))
    const te = make(20000, 8, names, gen(8))
    const rate = mean(tr.labels)
    expect(rate).toBeGreaterThan(0.015)
    expect(rate).toBeLessThan(0.035)
    // no early stopping: 100 rounds move the model well away from the base score
    const model = train(tr, { nRounds: 100, learningRate: 0.05, minDataInLeaf: 50 })
    const p = model.predictDataset(te)
    // the generating model itself scores 0.825 on this test set
    expect(auc(p, te.labels)).toBeGreaterThan(0.75)
    expect(Math.max(...p)).toBeGreaterThan(10 * rate) // really ranks, not a constant
    expect(mean(model.predictDataset(tr)) / rate).toBeCloseTo(1, 1)
    expect(mean(p)).toBeGreaterThan(rate * 0.85)
    expect(mean(p)).toBeLessThan(rate * 1.15)
    // the initial score is the log-odds of the positive rate
    expect(1 / (1 + Math.exp(-model.baseScore))).toBeCloseTo(rate, 12)
  })

  it('learns from missingness itself (label = x is missing)', () => {
    const gen = (rand: () => number): [number[], number] => {
      const missing = rand() < 0.3
      return [[missing ? NaN : rand() * 10, rand()], missing ? 1 : 0]
    }
    const tr = make(3000, 9, ['x', 'noise'], gen)
    const te = make(2000, 10, ['x', 'noise'], gen)
    const model = train(tr, { ...quick, earlyStoppingRounds: 0, nRounds: 50 })
    expect(auc(model.predictDataset(te), te.labels)).toBeGreaterThan(0.999)
    expect(model.predict([NaN, 0.5])).toBeGreaterThan(0.9)
    expect(model.predict([Infinity, 0.5])).toBeGreaterThan(0.9) // ±Infinity counts as missing too
    for (const x of [-100, 0, 5, 10, 1e6]) expect(model.predict([x, 0.5])).toBeLessThan(0.1)
  })

  it.each([
    { missingLabel: 1, defaultLeft: 0, side: 'right (high x, positive)' },
    { missingLabel: 0, defaultLeft: 1, side: 'left (low x, negative)' },
  ])('learns where missing values go: label $missingLabel sends them $side', ({ missingLabel, defaultLeft }) => {
    const gen = (rand: () => number): [number[], number] => {
      if (rand() < 0.2) return [[NaN], missingLabel]
      const x = rand()
      return [[x], x > 0.5 ? 1 : 0]
    }
    const tr = make(3000, 11, ['x'], gen)
    const model = train(tr, { ...quick, earlyStoppingRounds: 0, nRounds: 50 })
    const root = model.toJSON().trees[0]!
    expect(root.splitFeature[0]).toBe(0)
    expect(Math.abs(root.threshold[0]! - 0.5)).toBeLessThan(0.01)
    expect(root.defaultLeft[0]).toBe(defaultLeft)
    expect(model.predict([NaN]) > 0.5 ? 1 : 0).toBe(missingLabel)
    expect(model.predict([0.2])).toBeLessThan(0.1)
    expect(model.predict([0.8])).toBeGreaterThan(0.9)
  })

  it('applies row weights and scalePosWeight to the initial score', () => {
    const d = datasetFromRows([[0], [1], [2], [3]], [1, 0, 0, 0], ['x'], [3, 1, 1, 1])
    const weighted = train(d, { nRounds: 1, minDataInLeaf: 1 })
    expect(weighted.baseScore).toBeCloseTo(0, 12) // 3 of 6 weight units positive
    const scaled = train(datasetFromRows([[0], [1], [2], [3]], [1, 0, 0, 0], ['x']), {
      nRounds: 1,
      minDataInLeaf: 1,
      scalePosWeight: 3,
    })
    expect(scaled.baseScore).toBeCloseTo(0, 12)
  })
})

describe('determinism and serialisation', () => {
  const gen = (rand: () => number): [number[], number] => {
    const x = [rand(), rand() < 0.1 ? NaN : rand() * 5, Math.floor(rand() * 4), rand()]
    const z = 3 * x[0]! - (Number.isNaN(x[1]!) ? 2 : x[1]! / 2) + (x[2] === 1 ? 1 : 0) + (rand() - 0.5) * 2
    return [x, rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0]
  }
  const names = ['a', 'b', 'c', 'd']
  const tr = make(3000, 20, names, gen)
  const va = make(1000, 21, names, gen)
  const params: Partial<GbdtParams> = {
    nRounds: 60,
    learningRate: 0.1,
    numLeaves: 15,
    minDataInLeaf: 10,
    featureFraction: 0.75,
    baggingFraction: 0.7,
    baggingFreq: 1,
    earlyStoppingRounds: 0,
  }
  const model = train(tr, params, va)

  it('respects numLeaves, maxDepth and minDataInLeaf, and grows leaf-wise', () => {
    const trees = model.toJSON().trees
    expect(Math.max(...trees.map((t) => t.leafValue.length))).toBe(15)
    const depth = (t: (typeof trees)[number], c: number): number =>
      c < 0 ? 0 : 1 + Math.max(depth(t, t.left[c]!), depth(t, t.right[c]!))
    // a balanced 15-leaf tree has depth 4; best-first growth goes deeper where the gain is
    expect(Math.max(...trees.map((t) => depth(t, 0)))).toBeGreaterThan(4)
    const shallow = train(tr, { ...params, nRounds: 10, numLeaves: 31, maxDepth: 3 }).toJSON().trees
    expect(Math.max(...shallow.map((t) => depth(t, 0)))).toBe(3)
    // minDataInLeaf counts (bagged) rows exactly
    expect(Math.min(...trees.flatMap((t) => t.leafCount))).toBeGreaterThanOrEqual(10)
  })

  it('gives the same JSON for the same data and seed, a different one for another seed', () => {
    const again = JSON.stringify(train(tr, params, va).toJSON())
    expect(again === JSON.stringify(model.toJSON())).toBe(true)
    expect(JSON.stringify(train(tr, { ...params, seed: 2 }, va).toJSON()) === again).toBe(false)
  })

  it('scores bit for bit the same after a JSON round trip, and predictDataset matches predict', () => {
    const back = GbdtModel.fromJSON(JSON.parse(JSON.stringify(model.toJSON())))
    expect(back.bestIteration).toBe(model.bestIteration)
    expect(back.featureNames).toEqual(names)
    const rand = rng(22)
    const rows: number[][] = []
    for (let i = 0; i < 1000; i++) rows.push(names.map(() => (rand() < 0.1 ? NaN : rand() * 6 - 1)))
    const d = datasetFromRows(
      rows,
      rows.map(() => 0),
      names,
    )
    const batch = back.predictDataset(d)
    rows.forEach((r, i) => {
      const raw = model.predictRaw(r)
      expect(Object.is(back.predictRaw(r), raw)).toBe(true)
      // datasetFromRows stores float32; predict on the same float32 values
      expect(batch[i]).toBe(back.predict(row(d, i)))
    })
    expect(JSON.stringify(back.toJSON()) === JSON.stringify(model.toJSON())).toBe(true) // (a boolean: a diff would be megabytes)
  })

  it('rejects artifacts that are not ours, of another version, or malformed, saying why', () => {
    const good = model.toJSON()
    expect(() => GbdtModel.fromJSON(null)).toThrow(/expected an object/)
    expect(() => GbdtModel.fromJSON({ ...good, format: 'lightgbm' })).toThrow(
      /format must be "kouan-gbdt", got "lightgbm"/,
    )
    expect(() => GbdtModel.fromJSON({ ...good, version: 2 })).toThrow(/unsupported version 2/)
    expect(() => GbdtModel.fromJSON({ ...good, bestIteration: good.trees.length + 1 })).toThrow(/bestIteration/)
    const cyclic = structuredClone(good)
    cyclic.trees[0]!.left[1] = 0 // points back up the tree
    expect(() => GbdtModel.fromJSON(cyclic)).toThrow(/trees\[0\]: node 1 has an invalid child 0/)
    const short = structuredClone(good)
    short.trees[3]!.threshold.pop()
    expect(() => GbdtModel.fromJSON(short)).toThrow(/trees\[3\]\.threshold has/)
    expect(() => GbdtModel.fromJSON({ ...good, params: { ...good.params, numLeaves: 1 } })).toThrow(
      /params: .*numLeaves/,
    )
  })

  it('contributions plus bias add up to the raw score', () => {
    const rand = rng(23)
    for (let i = 0; i < 200; i++) {
      const r = names.map(() => (rand() < 0.15 ? NaN : rand() * 6 - 1))
      const { bias, values } = model.contributions(r)
      expect(values).toHaveLength(names.length)
      expect(Math.abs(bias + values.reduce((a, b) => a + b, 0) - model.predictRaw(r))).toBeLessThan(1e-9)
    }
    // the pure-noise feature d contributes less than the main signal a on average
    const imp = model.featureImportance('gain')
    expect(imp[0]).toBeGreaterThan(imp[3]!)
    expect(model.featureImportance('split').reduce((a, b) => a + b, 0)).toBe(
      model
        .toJSON()
        .trees.slice(0, model.bestIteration)
        .reduce((a, t) => a + t.splitFeature.length, 0),
    )
  })

  test.prop([
    fc.array(fc.oneof(fc.double(), fc.constant(NaN), fc.constant(Infinity), fc.constant(-Infinity)), {
      minLength: 4,
      maxLength: 4,
    }),
  ])('predictions are finite probabilities for any finite, NaN or infinite input', (r) => {
    const p = model.predict(r)
    expect(Number.isFinite(model.predictRaw(r))).toBe(true)
    expect(p).toBeGreaterThan(0)
    expect(p).toBeLessThan(1)
  })
})

describe('early stopping', () => {
  it('stops on noise, keeps the best round and reports every round', () => {
    const noise = (rand: () => number): [number[], number] => [[rand(), rand(), rand()], rand() < 0.3 ? 1 : 0]
    const tr = make(2000, 30, ['a', 'b', 'c'], noise)
    const va = make(2000, 31, ['a', 'b', 'c'], noise)
    const seen: TrainProgress[] = []
    const model = train(tr, { nRounds: 500, learningRate: 0.1, earlyStoppingRounds: 20, metric: 'logloss' }, va, (p) =>
      seen.push(p),
    )
    expect(model.numTrees).toBeLessThan(500)
    expect(model.bestIteration).toBeLessThan(model.numTrees)
    expect(model.numTrees - model.bestIteration).toBe(20)
    expect(seen.map((p) => p.round)).toEqual(Array.from({ length: model.numTrees }, (_, i) => i + 1))
    const last = seen[seen.length - 1]!
    expect(last.bestRound).toBe(model.bestIteration)
    expect(last.best).toBe(Math.min(...seen.map((p) => p.validMetric!)))
    expect(seen.every((p) => Number.isFinite(p.trainLoss))).toBe(true)
    // trees after the best round are kept but not used
    const json = model.toJSON()
    expect(json.trees).toHaveLength(model.numTrees)
    const r = row(va, 0)
    const all = GbdtModel.fromJSON({ ...json, bestIteration: json.trees.length })
    expect(all.predictRaw(r)).not.toBe(model.predictRaw(r))
  })

  it('reports the validation metric that the final model reproduces on raw values', () => {
    // training scores validation rows through bins, prediction through real thresholds: they must agree
    const gen = (rand: () => number): [number[], number] => {
      const x = [rand() < 0.1 ? NaN : rand(), Math.floor(rand() * 5), rand()]
      return [x, rand() < (Number.isNaN(x[0]!) ? 0.6 : x[0]! * 0.5 + x[1]! * 0.1) ? 1 : 0]
    }
    const tr = make(2000, 34, ['a', 'b', 'c'], gen)
    const va = make(1000, 35, ['a', 'b', 'c'], gen)
    let last: TrainProgress | undefined
    const model = train(tr, { nRounds: 80, learningRate: 0.1, earlyStoppingRounds: 10 }, va, (p) => {
      last = p
    })
    const raw = Array.from({ length: va.nRows }, (_, r) => model.predictRaw(row(va, r)))
    expect(last!.best).toBe(auc(raw, va.labels))
  })

  it('supports precisionAt as the stopping metric', () => {
    const gen = (rand: () => number): [number[], number] => {
      const x = rand()
      return [[x, rand()], rand() < x * x ? 1 : 0]
    }
    const tr = make(2000, 32, ['x', 'n'], gen)
    const va = make(2000, 33, ['x', 'n'], gen)
    const seen: number[] = []
    train(tr, { ...quick, nRounds: 20, metric: 'precisionAt:0.1' }, va, (p) => seen.push(p.validMetric!))
    expect(seen).toHaveLength(20)
    expect(Math.max(...seen)).toBeGreaterThan(0.8) // top 10% by x are mostly positive
  })
})

describe('input checks', () => {
  const d = datasetFromRows([[0], [1], [2], [3]], [0, 1, 0, 1], ['x'])
  it('rejects unknown or out-of-range parameters, listing each', () => {
    expect(() => train(d, { num_leaves: 8 } as Partial<GbdtParams>)).toThrow(/unknown parameter "num_leaves"/)
    expect(() => train(d, { maxBins: 300, featureFraction: 0 })).toThrow(
      /maxBins must be an integer in \[2, 255\], got 300/,
    )
    expect(() => train(d, { maxBins: 300, featureFraction: 0 })).toThrow(
      /featureFraction must be a number in \(0, 1\], got 0/,
    )
    expect(() => train(d, { metric: 'precisionAt:2' as GbdtParams['metric'] })).toThrow(/metric must be/)
  })
  it('rejects malformed datasets and rows', () => {
    expect(() => train({ ...d, labels: Float32Array.from([0, 1, 2, 1]) })).toThrow(/labels must be 0 or 1/)
    expect(() => train(d, {}, { ...d, nFeatures: 2, values: new Float32Array(8), featureNames: ['x', 'y'] })).toThrow(
      /validation set has 2 features/,
    )
    const m = train(d, { nRounds: 1, minDataInLeaf: 1 })
    expect(() => m.predict([1, 2])).toThrow(/row has 2 values, the model expects 1 features/)
  })
  it('exposes the documented defaults', () => {
    expect(DEFAULT_PARAMS).toMatchObject({
      nRounds: 1000,
      learningRate: 0.05,
      numLeaves: 31,
      maxDepth: -1,
      minDataInLeaf: 20,
      maxBins: 255,
      metric: 'auc',
      seed: 1,
    })
  })
})

describe('metrics', () => {
  it('auc: the textbook example and ties counting one half', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75)
    // pairs (pos, neg): (0.5, 0.2) 1, (0.5, 0.5) ½, (0.9, 0.2) 1, (0.9, 0.5) 1 → 3.5 / 4
    expect(auc([0.2, 0.5, 0.5, 0.9], [0, 1, 0, 1])).toBe(0.875)
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5)
    expect(auc([3, 2, 1], [0, 0, 1])).toBe(0)
    expect(auc([1, 2], [1, 1])).toBeNaN()
    expect(() => auc([1, 2], [0])).toThrow(/differ in length/)
  })

  it('precisionAt / recallAt: top round(f·N) rows, ties by lower row index', () => {
    const scores = [0.9, 0.8, 0.8, 0.1, 0.5]
    const labels = [1, 0, 1, 0, 1]
    // k = 2: row 0 (fraud), then the 0.8 tie goes to row 1 (not fraud) before row 2
    expect(precisionAt(scores, labels, 0.4)).toBe(0.5)
    expect(recallAt(scores, labels, 0.4)).toBe(1 / 3)
    // k = 3: rows 0, 1, 2
    expect(precisionAt(scores, labels, 0.6)).toBe(2 / 3)
    expect(recallAt(scores, labels, 0.6)).toBe(2 / 3)
    // swapping the tied rows' labels changes the answer: the tie-break is by index, not label
    expect(precisionAt(scores, [1, 1, 0, 0, 1], 0.4)).toBe(1)
    // everything: precision = base rate, recall = 1
    expect(precisionAt(scores, labels, 1)).toBe(0.6)
    expect(recallAt(scores, labels, 1)).toBe(1)
    // round(0.5 · 5) = 3 ; a tiny fraction still inspects one row
    expect(precisionAt(scores, labels, 0.5)).toBe(2 / 3)
    expect(precisionAt(scores, labels, 0.01)).toBe(1)
    expect(recallAt(scores, [0, 0, 0, 0, 0], 0.4)).toBeNaN()
    expect(() => precisionAt(scores, labels, 0)).toThrow(/fraction/)
  })
})
