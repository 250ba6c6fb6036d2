/**
 * Quantile binning for the GBDT trainer (`gbdt.ts`): each feature is discretised once into ≤ maxBins
 * value bins, bin 0 holding missing values, and a dataset becomes a column-major matrix of bin indices.
 */

import type { Dataset } from './gbdt-types.js'

/** Missing = NaN or ±Infinity: `x - x` is NaN exactly for those, and comparing it is cheap in hot loops. */
export const isMissing = (x: number) => x - x !== 0

/**
 * Upper bounds of the value bins of one feature: value bin b (1-based) holds t[b-2] < x ≤ t[b-1].
 * Distinct values each get a bin when there are at most maxBins of them; otherwise bins are filled
 * greedily to ~equal row counts, re-targeting after each bin so that a heavy value (say half the rows
 * at 0) takes one bin without starving the rest. Bounds are midpoints between neighbouring distinct
 * values, so a split generalises halfway into the gap.
 */
function featureBounds(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length
  if (n === 0) return new Float64Array(0)
  const distinct: number[] = []
  const counts: number[] = []
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!
    if (distinct.length && distinct[distinct.length - 1] === v) counts[counts.length - 1]!++
    else {
      distinct.push(v)
      counts.push(1)
    }
  }
  const k = distinct.length
  const mid = (i: number) => {
    const m = (distinct[i]! + distinct[i + 1]!) / 2
    // the midpoint of two distinct float32 values is strictly between them in float64, but guard anyway
    return m > distinct[i]! ? m : distinct[i]!
  }
  const bounds: number[] = []
  if (k <= maxBins) {
    for (let i = 0; i + 1 < k; i++) bounds.push(mid(i))
  } else {
    let binsLeft = maxBins
    let rowsLeft = n
    let acc = 0
    for (let i = 0; i + 1 < k && binsLeft > 1; i++) {
      acc += counts[i]!
      const target = rowsLeft / binsLeft
      const next = counts[i + 1]!
      // close the bin once full, or now if taking the next value would overshoot more than we fall short
      if (acc >= target || acc + next - target > target - acc) {
        bounds.push(mid(i))
        rowsLeft -= acc
        binsLeft--
        acc = 0
      }
    }
  }
  return Float64Array.from(bounds)
}

/** Bin index of a value: 0 = missing, else 1 + #(bounds < x). */
function binOf(bounds: Float64Array, x: number): number {
  if (isMissing(x)) return 0
  let lo = 0
  let hi = bounds.length
  while (lo < hi) {
    const m = (lo + hi) >>> 1
    if (bounds[m]! < x) lo = m + 1
    else hi = m
  }
  return lo + 1
}

export function computeBounds(d: Dataset, maxBins: number): Float64Array[] {
  const scratch = new Float64Array(d.nRows)
  const out: Float64Array[] = []
  for (let f = 0; f < d.nFeatures; f++) {
    let m = 0
    const off = f * d.nRows
    for (let r = 0; r < d.nRows; r++) {
      const x = d.values[off + r]!
      if (!isMissing(x)) scratch[m++] = x
    }
    const col = scratch.subarray(0, m).sort()
    out.push(featureBounds(col, maxBins))
  }
  return out
}

/** Column-major bin indices of a dataset under the given bounds. */
export function binDataset(d: Dataset, bounds: Float64Array[]): Uint8Array {
  const bins = new Uint8Array(d.nRows * d.nFeatures)
  for (let f = 0; f < d.nFeatures; f++) {
    const b = bounds[f]!
    const off = f * d.nRows
    for (let r = 0; r < d.nRows; r++) bins[off + r] = binOf(b, d.values[off + r]!)
  }
  return bins
}
