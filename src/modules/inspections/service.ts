import type { Db, Tx } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { appendAudit } from '../../shared/audit.js'
import { conflict, notFound, validationFailed, type ErrorItem } from '../../errors.js'
import type { Metrics } from '../../shared/metrics.js'
import { actorRef, type Actor } from '../auth/index.js'
import { lockDeclaration } from '../declarations/index.js'
import {
  releaseInTx,
  transition,
  type DeclarationEvents,
  type InspectionOrder,
  type Publisher,
} from '../declarations/index.js'
import { selectivityState } from '../selectivity/index.js'
import type { Disposal, InspectionResult } from './schema.js'
import type { InspectionEvents } from './events.js'
import * as repo from './repo.js'

export interface Deps {
  db: Db
  clock: Clock
  ids: Ids
  metrics?: Metrics | undefined
  events: Publisher<DeclarationEvents & InspectionEvents>
}

/** A result must be coherent: compliant has no findings and releases; non-compliant names findings and a disposal. */
export function resultProblems(r: InspectionResult): ErrorItem[] {
  if (r.result === 'COMPLIANT') {
    const out: ErrorItem[] = []
    if (r.findings.length)
      out.push({
        code: 'INSPECTION_FINDINGS_ON_COMPLIANT',
        message: 'a compliant result has no findings',
        pointer: '/body/findings',
      })
    if (r.disposal && r.disposal !== 'RELEASE')
      out.push({
        code: 'INSPECTION_DISPOSAL_ON_COMPLIANT',
        message: 'compliant goods are released',
        pointer: '/body/disposal',
      })
    return out
  }
  const out: ErrorItem[] = []
  if (r.findings.length === 0)
    out.push({
      code: 'INSPECTION_FINDINGS_REQUIRED',
      message: 'a non-compliant result names at least one finding',
      pointer: '/body/findings',
    })
  if (!r.disposal)
    out.push({
      code: 'INSPECTION_DISPOSAL_REQUIRED',
      message: 'a non-compliant result needs a disposal',
      pointer: '/body/disposal',
    })
  return out
}

/** Where the declaration goes after a disposal (DOMAIN §4): released, returned, or detained pending destruction, treatment or a case. */
export const DISPOSAL_STATE: Record<Disposal, 'RELEASED' | 'RETURNED' | 'DETAINED'> = {
  RELEASE: 'RELEASED',
  RETURN: 'RETURNED',
  DESTROY: 'DETAINED',
  TECHNICAL_TREATMENT: 'DETAINED',
  CASE_OPENED: 'DETAINED',
}

export async function startInspection(deps: Deps, actor: Actor, id: string) {
  const now = deps.clock.now()
  await deps.db.transaction(async (tx) => {
    const insp = await repo.findInspection(tx, id, true)
    if (!insp) throw notFound('INSPECTION_NOT_FOUND', `inspection ${id}`, '/params/id')
    if (!(await repo.startInspection(tx, id, actor.id, now.toISOString())))
      throw conflict('INSPECTION_NOT_OPEN', `inspection is ${insp.state}`, '/params/id')
    appendAudit(tx, {
      at: now,
      actor: actorRef(actor),
      action: 'INSPECTION_STARTED',
      entityType: 'inspection',
      entityId: id,
      data: { declarationId: insp.declarationId },
    })
  })
  return (await repo.findInspection(deps.db, id))!
}

/**
 * Records an officer's result; it closes the task, becomes a label for risk, and moves the declaration:
 * compliant or RELEASE → released, RETURN → returned, otherwise detained.
 */
export async function recordResult(deps: Deps, actor: Actor, id: string, result: InspectionResult) {
  const problems = resultProblems(result)
  if (problems.length) throw validationFailed(problems)
  const now = deps.clock.now()
  const sel = await selectivityState(deps.db, now)
  const who = actorRef(actor)
  const insp = await deps.db.transaction(async (tx) => {
    const insp = await repo.findInspection(tx, id, true)
    if (!insp) throw notFound('INSPECTION_NOT_FOUND', `inspection ${id}`, '/params/id')
    if (!(await repo.finishInspection(tx, id, actor.id, now.toISOString(), result)))
      throw conflict('INSPECTION_ALREADY_DONE', 'the result of this inspection is already recorded', '/params/id')
    appendAudit(tx, {
      at: now,
      actor: who,
      action: 'INSPECTION_RESULT',
      entityType: 'inspection',
      entityId: id,
      data: { declarationId: insp.declarationId, ...result },
    })
    await deps.events.publish(tx, 'InspectionResultRecorded', [
      {
        inspectionId: id,
        declarationId: insp.declarationId,
        declarationSubmittedAt: insp.declarationSubmittedAt,
        source: insp.source,
        finishedAt: now.toISOString(),
        result,
      },
    ])
    const d = await lockDeclaration(tx, insp.declarationId)
    if (!d) throw notFound('DECLARATION_NOT_FOUND', `declaration ${insp.declarationId}`, '/params/id')
    const to = result.result === 'COMPLIANT' ? 'RELEASED' : DISPOSAL_STATE[result.disposal!]
    const data = { inspectionId: id, result: result.result, disposal: result.disposal ?? 'RELEASE' }
    if (to === 'RELEASED') await releaseInTx(tx, deps, d, who, sel.params.autoClearTradeModes, data)
    else await transition(tx, deps, d, to, who, { data })
    return insp
  })
  deps.metrics?.inspections.inc({ source: insp.source, result: result.result })
  return (await repo.findInspection(deps.db, id))!
}

/** Opens the inspection tasks the lane decision ordered, in the transaction that ordered them (`InspectionOrdered`). */
export async function openInspections(tx: Tx, orders: InspectionOrder[]): Promise<void> {
  await repo.insertInspections(tx, orders)
}
