import type { Db } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { appendAudit } from '../../shared/audit.js'
import { usccProblem } from '../../shared/uscc.js'
import { KouanError, conflict, notFound, validationFailed, type ErrorItem } from '../../errors.js'
import { actorRef, type Actor } from '../auth/index.js'
import type { Reference } from '../reference/index.js'
import type { AeoPartner, CreateEnterprise, CreditLevel, Enterprise } from './schema.js'
import * as repo from './repo.js'

export interface Deps {
  db: Db
  clock: Clock
  ids: Ids
}

const USCC_MESSAGES = {
  LENGTH: 'must be 18 characters',
  CHARACTER: 'has a character outside the GB 32100 alphabet (0-9 and A-Y without I O Z S V, uppercase)',
  CHECK: 'check character does not match (GB 32100-2015)',
} as const

/** Field checks beyond the schema: the USCC check character (GB 32100-2015). */
export function enterpriseProblems(input: Pick<CreateEnterprise, 'uscc'>): ErrorItem[] {
  const p = usccProblem(input.uscc)
  return p ? [{ code: `ENTERPRISE_USCC_${p}`, message: `uscc ${USCC_MESSAGES[p]}`, pointer: '/body/uscc' }] : []
}

/** Registers an enterprise (customs registration); its initial credit level opens the credit history. */
export async function registerEnterprise(deps: Deps, actor: Actor, input: CreateEnterprise): Promise<Enterprise> {
  const problems = enterpriseProblems(input)
  if (problems.length) throw validationFailed(problems)
  const now = deps.clock.now().toISOString()
  const e: Enterprise = {
    id: deps.ids.uuid(),
    uscc: input.uscc,
    customsCode: input.customsCode,
    name: input.name,
    nameEn: input.nameEn ?? null,
    creditLevel: input.creditLevel ?? 'REGULAR',
    reachable: input.reachable ?? true,
    registeredDistrict: input.registeredDistrict,
    createdAt: now,
    updatedAt: now,
  }
  return deps.db.transaction(async (tx) => {
    const row = await repo.insertEnterprise(tx, e)
    if (!row) {
      const existing = await repo.findEnterpriseByCode(tx, input)
      const field = existing?.uscc === input.uscc ? 'uscc' : 'customsCode'
      throw conflict('ENTERPRISE_EXISTS', `an enterprise with this ${field} is already registered`, `/body/${field}`)
    }
    await repo.insertCreditHistory(tx, {
      enterpriseId: e.id,
      creditLevel: e.creditLevel,
      effectiveFrom: now,
      reason: 'registration',
      changedBy: actorRef(actor),
    })
    appendAudit(tx, {
      at: new Date(now),
      actor: actorRef(actor),
      action: 'ENTERPRISE_REGISTERED',
      entityType: 'enterprise',
      entityId: e.id,
      data: { ...e },
    })
    return row
  })
}

export async function getEnterprise(deps: Pick<Deps, 'db'>, id: string): Promise<Enterprise> {
  const e = await repo.findEnterprise(deps.db, id)
  if (!e) throw notFound('ENTERPRISE_NOT_FOUND', `enterprise ${id}`, '/params/id')
  return e
}

/** Changes the credit level; the change is audited and kept in the history (levels apply by date). */
export async function changeCredit(
  deps: Deps,
  actor: Actor,
  id: string,
  creditLevel: CreditLevel,
  reason: string,
): Promise<Enterprise> {
  const now = deps.clock.now().toISOString()
  return deps.db.transaction(async (tx) => {
    const before = await repo.findEnterprise(tx, id)
    if (!before) throw notFound('ENTERPRISE_NOT_FOUND', `enterprise ${id}`, '/params/id')
    if (before.creditLevel === creditLevel)
      throw new KouanError('ENTERPRISE_CREDIT_UNCHANGED', 409, `credit level is already ${creditLevel}`, {
        pointer: '/body/creditLevel',
      })
    const after = (await repo.updateEnterprise(tx, id, { creditLevel }, now))!
    await repo.insertCreditHistory(tx, {
      enterpriseId: id,
      creditLevel,
      effectiveFrom: now,
      reason,
      changedBy: actorRef(actor),
    })
    appendAudit(tx, {
      at: new Date(now),
      actor: actorRef(actor),
      action: 'ENTERPRISE_CREDIT_CHANGED',
      entityType: 'enterprise',
      entityId: id,
      data: { from: before.creditLevel, to: creditLevel, reason },
    })
    return after
  })
}

export async function updateEnterprise(
  deps: Deps,
  actor: Actor,
  id: string,
  patch: { name?: string; nameEn?: string; reachable?: boolean },
) {
  const now = deps.clock.now().toISOString()
  return deps.db.transaction(async (tx) => {
    const after = await repo.updateEnterprise(tx, id, patch, now)
    if (!after) throw notFound('ENTERPRISE_NOT_FOUND', `enterprise ${id}`, '/params/id')
    appendAudit(tx, {
      at: new Date(now),
      actor: actorRef(actor),
      action: 'ENTERPRISE_UPDATED',
      entityType: 'enterprise',
      entityId: id,
      data: patch,
    })
    return after
  })
}

/** Replaces the list of AEO mutual-recognition partners; every country must be a known ISO alpha-3 code. */
export async function setAeoPartners(deps: Deps & { reference: Reference }, actor: Actor, items: AeoPartner[]) {
  const problems: ErrorItem[] = []
  items.forEach((p, i) => {
    if (!deps.reference.countryByIso3(p.country))
      problems.push({
        code: 'REFERENCE_UNKNOWN_COUNTRY',
        message: `unknown country ${p.country}`,
        pointer: `/body/items/${i}/country`,
      })
    if (p.recognisedTo && p.recognisedTo < p.recognisedFrom)
      problems.push({
        code: 'AEO_PERIOD_INVALID',
        message: 'recognisedTo is before recognisedFrom',
        pointer: `/body/items/${i}/recognisedTo`,
      })
  })
  const seen = new Set<string>()
  items.forEach((p, i) => {
    if (seen.has(p.country))
      problems.push({
        code: 'AEO_DUPLICATE_COUNTRY',
        message: `${p.country} listed twice`,
        pointer: `/body/items/${i}/country`,
      })
    seen.add(p.country)
  })
  if (problems.length) throw validationFailed(problems)
  const now = deps.clock.now()
  await deps.db.transaction(async (tx) => {
    await repo.replaceAeoPartners(tx, items)
    appendAudit(tx, {
      at: now,
      actor: actorRef(actor),
      action: 'AEO_PARTNERS_SET',
      entityType: 'aeo_partners',
      entityId: 'all',
      data: { items },
    })
  })
  return repo.listAeoPartners(deps.db)
}
