/**
 * Declarations (报关单): intake, numbering, lanes and the lifecycle to release and closure.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { chinaYear } from './lifecycle.js'
export { findDeclaration, lockDeclaration, releaseFigures } from './repo.js'
export { DeclarationContentSchema } from './schema.js'
export type { Declaration, DeclarationContent, Item, Lane, SubmitDeclaration } from './schema.js'
export type { Contribution, ModelScore, RiskScorer, ScoringInput } from './scoring.js'
export { factsOf, releaseInTx, transition } from './service.js'
export type { ClearedDeclaration, DeclarationEvents, InspectionOrder, Publisher } from './events.js'
