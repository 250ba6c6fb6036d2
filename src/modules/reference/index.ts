/**
 * Code tables (HS, countries, currencies, units, districts…) loaded from reference-data/.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { loadReference } from './data.js'
export type { Reference } from './data.js'
