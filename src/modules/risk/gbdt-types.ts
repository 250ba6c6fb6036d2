/** The data shapes of the GBDT (gbdt.ts), shared by its tree learner and binning without importing the trainer. */

/** Column-major feature matrix: values[f * nRows + r]; NaN means missing. */
export interface Dataset {
  nRows: number
  nFeatures: number
  /** values[f * nRows + r]; NaN (and ±Infinity) mean missing. */
  values: Float32Array
  /** 0 or 1 per row. */
  labels: Float32Array
  /** Optional non-negative row weights (default 1). */
  weights?: Float32Array
  featureNames: string[]
}

/** Training parameters; names and defaults follow LightGBM where it has the same knob. */
export interface GbdtParams {
  /** Maximum boosting rounds (trees). */
  nRounds: number
  /** Shrinkage applied to every leaf value. */
  learningRate: number
  /** Maximum leaves per tree; trees grow leaf-wise (best-first), as LightGBM. */
  numLeaves: number
  /** Maximum depth of a leaf; -1 = unlimited. */
  maxDepth: number
  /** Minimum (bagged) rows in a leaf. */
  minDataInLeaf: number
  /** Minimum sum of hessians in a leaf. */
  minSumHessianInLeaf: number
  /** L2 regularisation of leaf values. */
  lambdaL2: number
  /** L1 regularisation of leaf values (soft-thresholding of the gradient sum). */
  lambdaL1: number
  /** Minimum loss reduction for a split. */
  minGainToSplit: number
  /** Fraction of features each tree may use (sampled per tree). */
  featureFraction: number
  /** Fraction of rows each tree is trained on. */
  baggingFraction: number
  /** Resample the rows every k rounds; 0 = no bagging. */
  baggingFreq: number
  /** Histogram bins per feature for non-missing values (2..255); missing values get a bin of their own. */
  maxBins: number
  /** Stop when the validation metric has not improved for this many rounds; 0 = never stop early. */
  earlyStoppingRounds: number
  /** Validation metric for early stopping; `precisionAt:0.05` = precision in the top 5 % by score. */
  metric: 'auc' | 'logloss' | `precisionAt:${number}`
  /** Weight multiplier of positive rows (also shifts the initial score). */
  scalePosWeight: number
  /** Seed of everything random (bagging, feature sampling). */
  seed: number
}

/**
 * One tree as plain arrays, nodes in creation order (node 0 is the root; children always have higher
 * indices than their parent). A child reference `c >= 0` is an internal node, `c < 0` is leaf `~c`
 * (that is `-c - 1`), the LightGBM convention. A row goes left when its value is `<= threshold`;
 * missing values (NaN, ±Infinity) go left when `defaultLeft` is 1. `internalValue` is the shrunk value
 * the node would have as a leaf (used for contributions); counts are training (bagged) rows.
 */
export interface GbdtTreeJson {
  splitFeature: number[]
  threshold: number[]
  defaultLeft: number[]
  left: number[]
  right: number[]
  splitGain: number[]
  internalValue: number[]
  internalCount: number[]
  leafValue: number[]
  leafCount: number[]
}
