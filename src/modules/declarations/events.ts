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

/** What a closure notice carries. */
export interface ClearedDeclaration {
  id: string
  submittedAt: string
  entryId: string | null
  traderId: string
  declarantId: string
  tradeMode: string
  clearedAt: string | null
}

/** The closure notice of a declaration read after its closure. */
export const clearedOf = (d: Declaration): ClearedDeclaration => ({
  id: d.id,
  submittedAt: d.submittedAt,
  entryId: d.entryId,
  traderId: d.traderId,
  declarantId: d.declarantId,
  tradeMode: d.content.tradeMode,
  clearedAt: d.clearedAt,
})

export interface DeclarationEvents {
  /** Released (放行): goods may leave customs control. */
  DeclarationReleased: Declaration
  /**
   * Closed (结关): the declaration's file is complete; archives keep it from here. A notice of keys and facts, not the
   * document: after-commit subscribers store it in the outbox with every clearance (read the rest through this module).
   */
  DeclarationCleared: ClearedDeclaration
  /** Sent to inspection by the lane decision; the inspection module opens the task. */
  InspectionOrdered: InspectionOrder
  /** Detained (扣留) after a non-compliant inspection. */
  DeclarationDetained: Declaration
}

/** What a module needs to publish: the event bus's publishing side. */
export type { Publisher } from '../../shared/events.js'
