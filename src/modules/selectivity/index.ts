/**
 * The selectivity engine (布控): rules, parameters and the lane decision.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { decide, firedRules, ruleFires } from './engine.js'
export type { Decision, Facts, ModelInput } from './engine.js'
export { ActionSchema, ConditionSchema, LANES } from './schema.js'
export type { CreateRule, Lane, Rule } from './schema.js'
export { ensureDefaultParams, ruleProblems, selectivityState } from './service.js'
export type { SelectivityState } from './service.js'
