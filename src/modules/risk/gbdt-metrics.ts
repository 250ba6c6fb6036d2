/**
 * Metrics for binary classifiers, used for early stopping in `gbdt.ts` and re-exported from there:
 * AUC, precision and recall in the top fraction by score, mean logistic loss.
 */

/** log(1 + e^s) without overflow. */
export const softplus = (s: number) => (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s)))

/** Mean logistic loss of raw scores (unweighted). */
export function meanLogloss(raw: Float64Array, labels: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < raw.length; i++) s += softplus(raw[i]!) - labels[i]! * raw[i]!
  return s / raw.length
}

function checkMetricInput(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length)
    throw new Error(`scores (${scores.length}) and labels (${labels.length}) differ in length`)
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`scores[${i}] is NaN`)
    const y = labels[i]
    if (y !== 0 && y !== 1) throw new Error(`labels[${i}] must be 0 or 1, got ${y}`)
  }
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative,
 * ties counting one half. NaN when either class is absent.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkMetricInput(scores, labels)
  let nPos = 0
  for (let i = 0; i < labels.length; i++) nPos += labels[i]!
  const nNeg = labels.length - nPos
  if (nPos === 0 || nNeg === 0) return NaN
  const pos = new Float64Array(nPos)
  const neg = new Float64Array(nNeg)
  let pi = 0
  let ni = 0
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) pos[pi++] = scores[i]!
    else neg[ni++] = scores[i]!
  }
  // two native sorts and a merge: much faster than sorting indices with a comparator
  pos.sort()
  neg.sort()
  let below = 0 // negatives < current positive score
  let upTo = 0 // negatives ≤ current positive score
  let wins = 0
  for (let i = 0; i < nPos; i++) {
    const s = pos[i]!
    while (below < nNeg && neg[below]! < s) below++
    if (upTo < below) upTo = below
    while (upTo < nNeg && neg[upTo]! <= s) upTo++
    wins += below + 0.5 * (upTo - below)
  }
  return wins / (nPos * nNeg)
}

/** Positives among the top k = max(1, round(fraction·N)) rows by score, ties broken by lower row index first. */
function positivesInTop(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  fraction: number,
): { hits: number; k: number } {
  checkMetricInput(scores, labels)
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`fraction must be in (0, 1], got ${fraction}`)
  const n = scores.length
  if (n === 0) return { hits: 0, k: 0 }
  const k = Math.min(n, Math.max(1, Math.round(fraction * n)))
  const sorted = Float64Array.from(scores).sort()
  const cut = sorted[n - k]! // k-th largest score
  let above = 0
  for (let i = 0; i < n; i++) if (scores[i]! > cut) above++
  let tiesTaken = k - above
  let hits = 0
  for (let i = 0; i < n; i++) {
    const s = scores[i]!
    if (s > cut) hits += labels[i]!
    else if (s === cut && tiesTaken > 0) {
      hits += labels[i]!
      tiesTaken--
    }
  }
  return { hits, k }
}

/**
 * Precision in the top round(fraction·N) rows by score (at least one row): frauds found ÷ rows
 * inspected. Ties at the cut are broken by row index, lower first. NaN for empty input.
 */
export function precisionAt(scores: ArrayLike<number>, labels: ArrayLike<number>, fraction: number): number {
  const { hits, k } = positivesInTop(scores, labels, fraction)
  return k === 0 ? NaN : hits / k
}

/** Recall in the top round(fraction·N) rows by score (same cut as `precisionAt`): frauds found ÷ all frauds; NaN without frauds. */
export function recallAt(scores: ArrayLike<number>, labels: ArrayLike<number>, fraction: number): number {
  const { hits } = positivesInTop(scores, labels, fraction)
  let total = 0
  for (let i = 0; i < labels.length; i++) total += labels[i]!
  return total === 0 ? NaN : hits / total
}
