/**
 * Registered enterprises and their credit levels.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { findEnterprise, findEnterprisesByCustomsCodes } from './repo.js'
export { CREDIT_LEVELS } from './schema.js'
export type { CreditLevel, Enterprise } from './schema.js'
