/**
 * The moves of a declaration other modules react to, published inside the transaction that makes them
 * (docs/ARCHITECTURE.md "Domain events and the outbox"). Subscribers are wired at composition time (src/app.ts):
 * this module knows none of them. Payloads are the declaration as read after the move (plain JSON data).
 */
import type { Declaration } from './schema.js'

/** An inspection the selectivity decision ordered (yellow: documents, red: physical). */
export interface InspectionOrder {
  id: string
  declarationId: string
  declarationSubmittedAt: string
  kind: 'DOCUMENT' | 'PHYSICAL'
  source: string
  orderedAt: string
}

export interface DeclarationEvents {
  /** Released (放行): goods may leave customs control. */
  DeclarationReleased: Declaration
  /** Closed (结关): the declaration's file is complete; archives keep it from here. */
  DeclarationCleared: Declaration
  /** Sent to inspection by the lane decision; the inspection module opens the task. */
  InspectionOrdered: InspectionOrder
  /** Detained (扣留) after a non-compliant inspection. */
  DeclarationDetained: Declaration
}

/** What a module needs to publish: the event bus's publishing side. */
export type { Publisher } from '../../shared/events.js'
