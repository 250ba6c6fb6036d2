/**
 * Inspections ordered by the lane decision, their results and the disposal of goods.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export type { Disposal, FindingCategory, Inspection, InspectionResult } from './schema.js'
export { openInspections } from './service.js'
export type { InspectionEvents } from './events.js'
