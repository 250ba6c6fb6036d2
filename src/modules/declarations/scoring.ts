/**
 * What intake needs of a risk model, as a port: the risk module's live engine implements it, and the composition root
 * hands it in. Declarations thus never import the risk module (which reads declarations to learn).
 */
import type { CreditLevel } from '../enterprises/index.js'
import type { DeclarationContent } from './schema.js'

/** One reason of a model score: a feature and how much it pushed the log-odds. */
export interface Contribution {
  feature: string
  value: number
  contribution: number
}

export interface ModelScore {
  /** Fraud probability of the riskiest item. */
  probability: number
  /** 0–100, what the selectivity engine adds to the rule score. */
  score: number
  modelVersion: number
  /** Largest positive contributions of the riskiest item's features. */
  top: Contribution[]
}

/** A declaration as the risk engine needs it. */
export interface ScoringInput {
  id: string
  submittedAt: string | Date
  content: DeclarationContent
  traderCredit: CreditLevel
  rulesFired: string[]
  cnyPerUnit: number
}

/** Scores a declaration before it is stored; undefined when no model is active. */
export interface RiskScorer {
  score(d: ScoringInput): ModelScore | undefined
}
