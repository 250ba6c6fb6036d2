/**
 * The learned risk model: training, evaluation, the live engine and its history.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { backtest } from './backtest.js'
export { readJsonl, readKcs } from './kcs.js'
export { RiskEngine } from './live.js'
export { declarationRecords } from './records.js'
export { listModels, promoteModel, rollbackModel, trainModel, weeklyHitRates } from './service.js'
