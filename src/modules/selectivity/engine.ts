import { createHash } from 'node:crypto'
import type { CreditLevel } from '../enterprises/index.js'
import type { Lane } from './schema.js'
import type { Condition, Params, Rule } from './schema.js'

/** Default engine parameters (version 1), after ASYCUDA practice and DOMAIN §3; all configurable. */
export const DEFAULT_PARAMS: Params = {
  minRandomRate: 0.02,
  randomLane: 'RED',
  randomSeed: 20260401,
  thresholds: { yellow: 31, red: 71 },
  credit: {
    ADVANCED_CERTIFIED: { factor: 0.2, add: 0 },
    CERTIFIED: { factor: 0.5, add: 0 },
    REGULAR: { factor: 1, add: 0 },
    DISHONEST: { factor: 1, add: 40, minLane: 'YELLOW' },
    SERIOUSLY_DISHONEST: { factor: 1, add: 60, minLane: 'RED' },
  },
  aeoYellowToBlue: true,
  laneCaps: { RED: 0.15, YELLOW: 0.3 },
  capWindow: 1000,
  reviewCreditLevels: ['SERIOUSLY_DISHONEST'],
  autoClearTradeModes: ['0110', '0130', '9610', '9710', '9810', '1210', '1239'],
  interceptScore: 90,
  explorationRate: 0.01,
}

/** The learned model's view of a declaration, as `decide` takes it. */
export interface ModelInput {
  /** Fraud probability × 100. */
  score: number
  version: number
  /** Human-readable reasons (the features that pushed the score up most). */
  reasons: Reason[]
}

export type Source = 'RULE' | 'MODEL' | 'RANDOM' | 'MANUAL' | 'CREDIT' | 'NONE'
export interface Reason {
  code: string
  message: string
  ruleId?: string
}
export interface Decision {
  score: number
  lane: Lane
  source: Source
  random: boolean
  reasons: Reason[]
  paramsVersion: number
}

/** The facts a rule can test: header values plus one record per item, values in CNY. */
export interface Facts {
  header: Record<string, string | number | undefined>
  items: Array<Record<string, string | number | undefined>>
  traderCredit: CreditLevel
}

const SEVERITY: Record<Lane, number> = { GREEN: 0, BLUE: 1, YELLOW: 2, RED: 3 }
const bySeverity = (a: Lane, b: Lane) => (SEVERITY[a] >= SEVERITY[b] ? a : b)
const ITEM_FIELD_SET = new Set([
  'hsCode',
  'originCountry',
  'unit',
  'quantity',
  'unitValueCny',
  'itemValueCny',
  'description',
])

function test(c: Condition, v: string | number | undefined): boolean {
  if (v === undefined) return c.op === 'ne' || c.op === 'notIn' || c.op === 'notPrefix'
  const list = Array.isArray(c.value) ? c.value : [c.value]
  const s = String(v)
  const n = typeof v === 'number' ? v : Number(v)
  switch (c.op) {
    case 'eq':
      return s === String(c.value)
    case 'ne':
      return s !== String(c.value)
    case 'in':
      return list.some((x) => String(x) === s)
    case 'notIn':
      return !list.some((x) => String(x) === s)
    case 'prefix':
      return list.some((x) => s.startsWith(String(x)))
    case 'notPrefix':
      return !list.some((x) => s.startsWith(String(x)))
    case 'contains':
      return s.toLowerCase().includes(String(c.value).toLowerCase())
    case 'lt':
      return n < Number(c.value)
    case 'lte':
      return n <= Number(c.value)
    case 'gt':
      return n > Number(c.value)
    case 'gte':
      return n >= Number(c.value)
    case 'between':
      return n >= Number(list[0]) && n <= Number(list[1])
  }
}

/** A rule fires when all header conditions hold and one item satisfies all item conditions. */
export function ruleFires(rule: Pick<Rule, 'conditions'>, facts: Facts): boolean {
  const header = rule.conditions.filter((c) => !ITEM_FIELD_SET.has(c.field))
  const item = rule.conditions.filter((c) => ITEM_FIELD_SET.has(c.field))
  if (!header.every((c) => test(c, c.field === 'traderCredit' ? facts.traderCredit : facts.header[c.field])))
    return false
  return item.length === 0 || facts.items.some((it) => item.every((c) => test(c, it[c.field])))
}

/** The active rules that fire on `facts`, in order. */
export const firedRules = (rules: Rule[], facts: Facts): Rule[] => rules.filter((r) => r.active && ruleFires(r, facts))

/** Seeded draw in [0, 1) from the parameters' seed and the declaration id: reproducible, independent of the score. */
export function randomDraw(seed: number, declarationId: string): number {
  return createHash('sha256').update(`${seed}:${declarationId}`).digest().readUInt32BE(0) / 2 ** 32
}

/** Rolling window of recent score-driven lanes, for the per-lane expected-rate caps. */
export class LaneWindow {
  private readonly lanes: Lane[] = []
  private readonly counts: Record<Lane, number> = { GREEN: 0, BLUE: 0, YELLOW: 0, RED: 0 }
  constructor(private size: number) {}
  resize(size: number) {
    this.size = size
  }
  rate(lane: Lane): number {
    return this.lanes.length === 0 ? 0 : this.counts[lane] / this.lanes.length
  }
  push(lane: Lane) {
    this.lanes.push(lane)
    this.counts[lane]++
    while (this.lanes.length > this.size) this.counts[this.lanes.shift()!]--
  }
}

const clamp = (x: number) => Math.max(0, Math.min(100, Math.round(x * 100) / 100))

/**
 * Selectivity (DOMAIN §3 engine contract): (1) hard rules and lists; (2) seeded random draw at the
 * minimum rate, independent of score; (3) score thresholds; (4) credit factor; (5) rolling-window capacity
 * caps that demote score-driven lanes only, never rule or random picks. `modelScore` is the learned
 * model's contribution (0 until the risk model is plugged in).
 */
export function decide(input: {
  facts: Facts
  rules: Rule[]
  params: Params
  paramsVersion: number
  declarationId: string
  window: LaneWindow
  model?: ModelInput | undefined
  /** The rules that fire, when the caller already evaluated them (see {@link firedRules}). */
  fired?: Rule[] | undefined
}): Decision {
  const { facts, rules, params, model } = input
  const reasons: Reason[] = []
  let ruleLane: Lane | undefined
  let score = model?.score ?? 0
  if (model) reasons.push(...model.reasons)
  let scoredByRule = false
  for (const rule of input.fired ?? firedRules(rules, facts)) {
    const msg = rule.action.reason ?? rule.description ?? rule.name
    if (rule.action.lane) {
      ruleLane = ruleLane ? bySeverity(ruleLane, rule.action.lane) : rule.action.lane
      reasons.push({
        code: 'RULE_LANE',
        message: `${rule.name}: ${msg || 'lane ' + rule.action.lane}`,
        ruleId: rule.id,
      })
    }
    if (rule.action.score) {
      score += rule.action.score
      scoredByRule = true
      reasons.push({
        code: 'RULE_SCORE',
        message: `${rule.name}: ${rule.action.score > 0 ? '+' : ''}${rule.action.score} ${msg}`.trim(),
        ruleId: rule.id,
      })
    }
  }

  const random = randomDraw(params.randomSeed, input.declarationId) < params.minRandomRate
  if (random) reasons.push({ code: 'RANDOM', message: `random control selection (rate ${params.minRandomRate})` })

  const credit = params.credit[facts.traderCredit]
  const rawScore = score
  score = clamp(score * credit.factor + credit.add)
  if (credit.factor !== 1 || credit.add !== 0) {
    reasons.push({
      code: 'CREDIT',
      message: `credit ${facts.traderCredit}: score ${clamp(rawScore)} × ${credit.factor} + ${credit.add} = ${score}`,
    })
  }

  let scoreLane: Lane = score >= params.thresholds.red ? 'RED' : score >= params.thresholds.yellow ? 'YELLOW' : 'GREEN'
  const aeo = facts.traderCredit === 'ADVANCED_CERTIFIED' || facts.traderCredit === 'CERTIFIED'
  if (scoreLane === 'YELLOW' && aeo && params.aeoYellowToBlue) {
    scoreLane = 'BLUE'
    reasons.push({ code: 'AEO_BLUE', message: 'AEO trader: release now, post-clearance audit' })
  }
  let creditLane = false
  if (credit.minLane && SEVERITY[credit.minLane] > SEVERITY[scoreLane]) {
    scoreLane = credit.minLane
    creditLane = true
    reasons.push({ code: 'CREDIT_MIN_LANE', message: `credit ${facts.traderCredit}: at least ${credit.minLane}` })
  }

  // Caps apply only to lanes the score chose; demote one step while the lane is over its expected rate.
  if (!creditLane) {
    for (const lane of ['RED', 'YELLOW'] as const) {
      if (scoreLane === lane && input.window.rate(lane) >= params.laneCaps[lane]) {
        const to: Lane = lane === 'RED' ? 'YELLOW' : aeo ? 'BLUE' : 'GREEN'
        reasons.push({
          code: 'CAPACITY',
          message: `${lane} lane at its cap (${params.laneCaps[lane]}): ${lane} → ${to}`,
        })
        scoreLane = to
      }
    }
  }
  input.window.push(scoreLane)

  let lane = scoreLane
  let source: Source = creditLane
    ? 'CREDIT'
    : scoreLane === 'GREEN' || scoreLane === 'BLUE'
      ? 'NONE'
      : scoredByRule
        ? 'RULE'
        : model
          ? 'MODEL'
          : 'CREDIT'
  // Interception: a declaration the model scores (after the credit effect) at or above the threshold is
  // held for physical inspection; caps never demote it.
  if (model && params.interceptScore !== undefined && score >= params.interceptScore) {
    if (SEVERITY.RED > SEVERITY[lane] || source !== 'RULE') {
      lane = 'RED'
      source = 'MODEL'
    }
    reasons.push({
      code: 'MODEL_INTERCEPT',
      message: `score ${score} ≥ ${params.interceptScore}: intercepted, held for inspection before release`,
    })
  }
  const unsure = model && model.score >= 20 && model.score <= 80
  if (
    unsure &&
    lane !== 'RED' &&
    lane !== 'YELLOW' &&
    randomDraw(params.randomSeed + 1, input.declarationId) < (params.explorationRate ?? 0)
  ) {
    lane = 'YELLOW'
    source = 'MODEL'
    reasons.push({
      code: 'MODEL_EXPLORE',
      message: `exploration: the model is unsure (score ${model.score}), documents checked to learn`,
    })
  }
  if (random && SEVERITY[params.randomLane] >= SEVERITY[lane]) {
    lane = params.randomLane
    source = 'RANDOM'
  }
  if (ruleLane && SEVERITY[ruleLane] >= SEVERITY[lane]) {
    lane = ruleLane
    source = 'RULE'
  }
  if (reasons.length === 0) reasons.push({ code: 'NO_RISK', message: 'no rule fired, score below thresholds' })
  return { score, lane, source, random, reasons, paramsVersion: input.paramsVersion }
}
