/**
 * The inspection moves other modules react to (risk labels, statistics, alerts to partner administrations), published
 * in the transaction that records them; subscribers are wired in src/app.ts.
 */
import type { InspectionResult } from './schema.js'

export interface InspectionEvents {
  /** An officer recorded the result of an inspection (查验结果); the declaration's move follows in the same transaction. */
  InspectionResultRecorded: {
    inspectionId: string
    declarationId: string
    declarationSubmittedAt: string
    /** Who ordered it: a rule, the model, or the random control group. */
    source: string
    finishedAt: string
    result: InspectionResult
  }
}
