import type { Db, Queryable } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { appendAudit } from '../../shared/audit.js'
import { canonicalJson, sha256Hex, verifiesWithCard } from '../../shared/signing.js'
import {
  KouanError,
  conflict,
  forbidden,
  notFound,
  unauthorized,
  validationFailed,
  type ErrorItem,
} from '../../errors.js'
import { actorRef, type Actor } from '../auth/index.js'
import type { Reference } from '../reference/index.js'
import { findCards } from '../cards/index.js'
import { findEnterprisesByCustomsCodes } from '../enterprises/index.js'
import type {
  AcceptEntrustment,
  CreateEntrustment,
  Entrustment,
  EntrustmentState,
  EntrustmentTerms,
  ListEntrustmentsQuery,
  Signature,
  StoredState,
} from './schema.js'
import * as repo from './repo.js'

export interface Deps {
  db: Db
  clock: Clock
  ids: Ids
  reference: Reference
}

// ---- pure rules ---------------------------------------------------------------------------------------------

/** The China calendar date (Asia/Shanghai, UTC+8, no DST) of an instant, `YYYY-MM-DD`: entrustment periods are China dates. */
export function chinaDate(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10)
}

/** What an entrustment allows: a period of China dates (both ends included) and a scope; `null` lists mean "all". */
export interface Scope {
  validFrom: string
  validTo: string
  tradeModes: readonly string[] | null
  customsDistricts: readonly string[] | null
  ieFlag: 'I' | 'E' | null
}

/** The facts of a declaration an entrustment must cover: its China submission date, trade mode, district and flag. */
export interface DeclarationFacts {
  date: string
  tradeMode: string
  customsDistrict: string
  ieFlag: 'I' | 'E'
}

export type ScopeMiss = 'NOT_YET_VALID' | 'EXPIRED' | 'TRADE_MODE' | 'CUSTOMS_DISTRICT' | 'IE_FLAG'

/**
 * Whether a scoped district covers a declaration's district (关区代码: digits 1–2 the district, 3–4 the office,
 * `00` the district itself): the same code, or a district code `NN00` for any office `NNxx` under it.
 */
export function districtCovers(scoped: string, district: string): boolean {
  return scoped === district || (scoped.endsWith('00') && scoped.slice(0, 2) === district.slice(0, 2))
}

/** The first reason an entrustment's scope does not cover a declaration, or `null` when it does. Dates compare as `YYYY-MM-DD` text. */
export function scopeMiss(s: Scope, f: DeclarationFacts): ScopeMiss | null {
  if (f.date < s.validFrom) return 'NOT_YET_VALID'
  if (f.date > s.validTo) return 'EXPIRED'
  if (s.tradeModes && !s.tradeModes.includes(f.tradeMode)) return 'TRADE_MODE'
  if (s.customsDistricts && !s.customsDistricts.some((d) => districtCovers(d, f.customsDistrict)))
    return 'CUSTOMS_DISTRICT'
  if (s.ieFlag && s.ieFlag !== f.ieFlag) return 'IE_FLAG'
  return null
}

/** The state as served: PROPOSED and ACTIVE entrustments whose period ended before `today` are EXPIRED. */
export function effectiveState(stored: StoredState, validTo: string, today: string): EntrustmentState {
  return (stored === 'PROPOSED' || stored === 'ACTIVE') && validTo < today ? 'EXPIRED' : stored
}

/** Problems of signed terms beyond the schema: the period (from ≤ to, not ended before `today`) and known trade modes. */
export function termsProblems(t: EntrustmentTerms, ref: Reference, today: string): ErrorItem[] {
  const out: ErrorItem[] = []
  if (t.validFrom > t.validTo)
    out.push({
      code: 'ENTRUSTMENT_BAD_PERIOD',
      message: `validTo ${t.validTo} is before validFrom ${t.validFrom}`,
      pointer: '/body/validTo',
    })
  else if (t.validTo < today)
    out.push({
      code: 'ENTRUSTMENT_BAD_PERIOD',
      message: `the period ended on ${t.validTo}, before today (${today}, China date)`,
      pointer: '/body/validTo',
    })
  if (t.tradeModes !== 'ALL') {
    t.tradeModes.forEach((m, i) => {
      if (!ref.tradeMode(m))
        out.push({
          code: 'REFERENCE_UNKNOWN_TRADE_MODE',
          message: `unknown trade mode ${m}`,
          pointer: `/body/tradeModes/${i}`,
        })
    })
  }
  return out
}

const scopeOf = (
  t: EntrustmentTerms,
): { tradeModes: string[] | null; customsDistricts: string[] | null; ieFlag: 'I' | 'E' | null } => ({
  tradeModes: t.tradeModes === 'ALL' ? null : t.tradeModes,
  customsDistricts: t.customsDistricts === 'ALL' ? null : t.customsDistricts,
  ieFlag: t.ieFlag ?? null,
})

const termsOf = (body: CreateEntrustment): EntrustmentTerms => {
  const { signature: _s, ...terms } = body
  return terms
}

function view(e: repo.StoredEntrustment, today: string): Entrustment {
  return {
    id: e.id,
    clientRef: e.clientRef,
    state: effectiveState(e.state, e.validTo, today),
    traderId: e.traderId,
    traderCode: e.traderCode,
    traderName: e.traderName,
    declarantId: e.declarantId,
    declarantCode: e.declarantCode,
    declarantName: e.declarantName,
    validFrom: e.validFrom,
    validTo: e.validTo,
    tradeModes: e.tradeModes ?? 'ALL',
    customsDistricts: e.customsDistricts ?? 'ALL',
    ieFlag: e.ieFlag,
    terms: e.terms,
    termsHash: e.termsHash,
    traderSignature: e.traderSignature,
    declarantSignature: e.declarantSignature,
    createdAt: e.createdAt,
    acceptedAt: e.acceptedAt,
    declinedAt: e.declinedAt,
    revokedAt: e.revokedAt,
    reason: e.reason,
    version: e.version,
  }
}

// ---- use cases ----------------------------------------------------------------------------------------------

function operator(actor: Actor): Extract<Actor, { kind: 'card' }> {
  if (actor.kind !== 'card') throw forbidden('requires role operator')
  return actor
}

/**
 * Verifies a signed body: the card is known and active, the signature verifies over the canonical JSON of the
 * body without `signature` by the card's algorithm, and the card belongs to `enterpriseId`.
 */
async function verifySigned(
  db: Queryable,
  signature: Signature,
  payload: unknown,
  enterpriseId: string,
  notPartyCode: string,
  notPartyMessage: string,
) {
  const card = (await findCards(db, [signature.cardNo], [])).byNo.get(signature.cardNo)
  if (!card) throw unauthorized('CARD_UNKNOWN', `no port card ${signature.cardNo}`, '/body/signature/cardNo')
  if (card.status !== 'ACTIVE')
    throw unauthorized('CARD_REVOKED', `port card ${card.cardNo} is revoked`, '/body/signature/cardNo')
  if (!verifiesWithCard(card, signature, canonicalJson(payload))) {
    throw validationFailed([
      {
        code: 'SIGNATURE_INVALID',
        message: 'the signature does not verify over the canonical body (without "signature") with the card key',
        pointer: '/body/signature/value',
      },
    ])
  }
  if (card.enterpriseId !== enterpriseId)
    throw validationFailed([{ code: notPartyCode, message: notPartyMessage, pointer: '/body/signature/cardNo' }])
  return card
}

/**
 * The trader's operator proposes an entrustment signed with a card of the trader enterprise. A repeated client
 * reference with the same terms returns the original (200) and writes nothing; with other terms it is a 409.
 */
export async function createEntrustment(
  deps: Deps,
  actor: Actor,
  body: CreateEntrustment,
): Promise<{ status: 201 | 200; entrustment: Entrustment }> {
  const op = operator(actor)
  const now = deps.clock.now()
  const today = chinaDate(now)
  const enterprises = await findEnterprisesByCustomsCodes(deps.db, [body.traderCode, body.declarantCode])
  const trader = enterprises.get(body.traderCode)
  if (!trader || trader.id !== op.enterpriseId) {
    throw new KouanError(
      'ENTRUSTMENT_NOT_YOUR_ENTERPRISE',
      403,
      'operators entrust only in the name of their own enterprise',
      { pointer: '/body/traderCode' },
    )
  }
  const terms = termsOf(body)
  const card = await verifySigned(
    deps.db,
    body.signature,
    terms,
    trader.id,
    'ENTRUSTMENT_CARD_NOT_TRADER',
    'the signing card belongs to another enterprise than the trader',
  )
  const problems: ErrorItem[] = []
  const declarant = enterprises.get(body.declarantCode)
  if (!declarant)
    problems.push({
      code: 'ENTERPRISE_UNKNOWN',
      message: `no enterprise with customs code ${body.declarantCode}`,
      pointer: '/body/declarantCode',
    })
  else if (declarant.id === trader.id)
    problems.push({
      code: 'ENTRUSTMENT_SELF',
      message: 'a trader declaring for itself needs no entrustment',
      pointer: '/body/declarantCode',
    })
  problems.push(...termsProblems(terms, deps.reference, today))
  if (problems.length) throw validationFailed(problems)

  const termsHash = sha256Hex(canonicalJson(terms))
  const id = deps.ids.uuid()
  const created = await deps.db.transaction(async (tx) => {
    const fresh = await repo.insertEntrustment(tx, {
      id,
      traderId: trader.id,
      declarantId: declarant!.id,
      clientRef: terms.clientRef,
      validFrom: terms.validFrom,
      validTo: terms.validTo,
      ...scopeOf(terms),
      terms,
      termsHash,
      traderCardId: card.id,
      traderSignature: body.signature,
      createdAt: now.toISOString(),
    })
    if (fresh) {
      appendAudit(tx, {
        at: now,
        actor: actorRef(op),
        action: 'ENTRUSTMENT_PROPOSED',
        entityType: 'entrustment',
        entityId: id,
        data: {
          state: 'PROPOSED',
          clientRef: terms.clientRef,
          traderId: trader.id,
          declarantId: declarant!.id,
          termsHash,
          cardNo: card.cardNo,
          validFrom: terms.validFrom,
          validTo: terms.validTo,
          tradeModes: terms.tradeModes,
          customsDistricts: terms.customsDistricts,
          ieFlag: terms.ieFlag ?? null,
        },
      })
    }
    return fresh
  })
  const stored = created
    ? await repo.findEntrustment(deps.db, id)
    : await repo.findByClientRef(deps.db, trader.id, terms.clientRef)
  if (!stored) throw new Error(`entrustment ${terms.clientRef} vanished`)
  if (!created && stored.termsHash !== termsHash) {
    throw conflict(
      'ENTRUSTMENT_CLIENT_REF_REUSED',
      `client reference ${terms.clientRef} already names an entrustment with other terms`,
      '/body/clientRef',
    )
  }
  return { status: created ? 201 : 200, entrustment: view(stored, today) }
}

/** Loads an entrustment the actor may see: officers and admins all, operators those naming their enterprise; else 404. */
export async function getEntrustment(deps: Pick<Deps, 'db' | 'clock'>, actor: Actor, id: string): Promise<Entrustment> {
  const e = await repo.findEntrustment(deps.db, id)
  if (!e || (actor.kind === 'card' && actor.enterpriseId !== e.traderId && actor.enterpriseId !== e.declarantId)) {
    throw notFound('ENTRUSTMENT_NOT_FOUND', `entrustment ${id}`, '/params/id')
  }
  return view(e, chinaDate(deps.clock.now()))
}

export async function listEntrustments(deps: Pick<Deps, 'db' | 'clock'>, actor: Actor, q: ListEntrustmentsQuery) {
  const today = chinaDate(deps.clock.now())
  const r = await repo.listEntrustments(deps.db, {
    ...q,
    today,
    ...(actor.kind === 'card' ? { enterpriseId: actor.enterpriseId } : { role: undefined }),
  })
  return { items: r.items.map((e) => view(e, today)), total: r.total }
}

/**
 * One party's move on an entrustment: 404 unless the operator's enterprise is a party, 403 unless it is the
 * party `side` allows, 409 unless the served state is one of `from`. Locks, updates and audits in one transaction.
 */
async function move(
  deps: Deps,
  actor: Actor,
  id: string,
  side: 'TRADER' | 'DECLARANT',
  from: EntrustmentState[],
  to: 'ACTIVE' | 'DECLINED' | 'REVOKED',
  extra: {
    reason?: string | undefined
    verify?: (e: repo.StoredEntrustment) => Promise<{ cardId: string; cardNo: string; signature: Signature }>
  } = {},
): Promise<Entrustment> {
  const op = operator(actor)
  const stored = await repo.findEntrustment(deps.db, id)
  // Checked twice: the role above, then the party: a non-party learns nothing (404), the other party gets 403.
  if (!stored || (op.enterpriseId !== stored.traderId && op.enterpriseId !== stored.declarantId))
    throw notFound('ENTRUSTMENT_NOT_FOUND', `entrustment ${id}`, '/params/id')
  if ((side === 'TRADER' ? stored.traderId : stored.declarantId) !== op.enterpriseId) {
    throw new KouanError(
      side === 'TRADER' ? 'ENTRUSTMENT_NOT_TRADER' : 'ENTRUSTMENT_NOT_DECLARANT',
      403,
      side === 'TRADER' ? 'only the entrusting trader may do this' : 'only the entrusted declarant may do this',
      { pointer: '/params/id' },
    )
  }
  const signed = extra.verify ? await extra.verify(stored) : undefined
  const now = deps.clock.now()
  const today = chinaDate(now)
  return deps.db.transaction(async (tx) => {
    const e = await repo.lockEntrustment(tx, id)
    if (!e) throw notFound('ENTRUSTMENT_NOT_FOUND', `entrustment ${id}`, '/params/id')
    const state = effectiveState(e.state, e.validTo, today)
    // A repeated acceptance (a client retrying) returns the entrustment as it is: nothing is written twice.
    if (to === 'ACTIVE' && state === 'ACTIVE') return view(e, today)
    if (!from.includes(state)) {
      throw new KouanError('ENTRUSTMENT_ILLEGAL_TRANSITION', 409, `a ${state} entrustment cannot become ${to}`, {
        pointer: '/params/id',
        details: { from: state, to },
      })
    }
    const ok = await repo.updateState(tx, id, e.state, to, now.toISOString(), {
      reason: extra.reason ?? null,
      ...(signed ? { declarantCardId: signed.cardId, declarantSignature: signed.signature } : {}),
    })
    // The row is locked and its state checked above, so the conditional update cannot miss.
    if (!ok) throw new Error(`entrustment ${id} left ${e.state} under its lock`)
    appendAudit(tx, {
      at: now,
      actor: actorRef(op),
      action: `ENTRUSTMENT_${to}`,
      entityType: 'entrustment',
      entityId: id,
      data: {
        from: state,
        state: to,
        ...(extra.reason ? { reason: extra.reason } : {}),
        ...(signed ? { cardNo: signed.cardNo, termsHash: e.termsHash } : {}),
      },
    })
    return view((await repo.findEntrustment(tx, id))!, today)
  })
}

/**
 * The declarant accepts, signing `{decision: "ACCEPT", entrustmentId, termsHash}` (the body without `signature`)
 * with a card of the declarant enterprise; the entrustment becomes ACTIVE.
 */
export async function acceptEntrustment(
  deps: Deps,
  actor: Actor,
  id: string,
  body: AcceptEntrustment,
): Promise<Entrustment> {
  return move(deps, actor, id, 'DECLARANT', ['PROPOSED'], 'ACTIVE', {
    verify: async (e) => {
      const problems: ErrorItem[] = []
      if (body.entrustmentId !== e.id)
        problems.push({
          code: 'ENTRUSTMENT_ID_MISMATCH',
          message: 'the signed entrustmentId is not this entrustment',
          pointer: '/body/entrustmentId',
        })
      if (body.termsHash !== e.termsHash)
        problems.push({
          code: 'ENTRUSTMENT_TERMS_MISMATCH',
          message: "the signed termsHash is not the hash of this entrustment's terms",
          pointer: '/body/termsHash',
        })
      if (problems.length) throw validationFailed(problems)
      const { signature, ...acceptance } = body
      const card = await verifySigned(
        deps.db,
        signature,
        acceptance,
        e.declarantId,
        'ENTRUSTMENT_CARD_NOT_DECLARANT',
        'the signing card belongs to another enterprise than the declarant',
      )
      return { cardId: card.id, cardNo: card.cardNo, signature }
    },
  })
}

/** The declarant declines a proposal (optionally saying why). */
export async function declineEntrustment(deps: Deps, actor: Actor, id: string, reason?: string): Promise<Entrustment> {
  return move(deps, actor, id, 'DECLARANT', ['PROPOSED'], 'DECLINED', { reason })
}

/** The trader revokes a proposal or an active entrustment; declarations checked after the revocation commits need another one. */
export async function revokeEntrustment(deps: Deps, actor: Actor, id: string, reason?: string): Promise<Entrustment> {
  return move(deps, actor, id, 'TRADER', ['PROPOSED', 'ACTIVE'], 'REVOKED', { reason })
}

// ---- declaration intake -------------------------------------------------------------------------------------

/** The entrustments intake needs, keyed by `traderCode/declarantCode`. */
export type EntrustmentIndex = Map<string, Array<Scope & { id: string }>>

/**
 * Loads, in one statement, the ACTIVE entrustments in force today or later for every declaration of a batch
 * whose declarant is not its trader (no statement at all when there is none).
 */
export async function entrustmentsForIntake(
  db: Queryable,
  declarations: ReadonlyArray<{ traderCode: string; declarantCode: string }>,
  today: string,
): Promise<EntrustmentIndex> {
  const pairs = declarations.filter((d) => d.traderCode !== d.declarantCode)
  const index: EntrustmentIndex = new Map()
  for (const e of await repo.activeEntrustments(db, pairs, today)) {
    const key = `${e.traderCode}/${e.declarantCode}`
    index.set(key, [...(index.get(key) ?? []), e])
  }
  return index
}

const MISS_TEXT: Record<ScopeMiss, (f: DeclarationFacts, s: Scope) => string> = {
  NOT_YET_VALID: (_f, s) => `starts on ${s.validFrom}`,
  EXPIRED: (_f, s) => `ended on ${s.validTo}`,
  TRADE_MODE: (f) => `does not cover trade mode ${f.tradeMode}`,
  CUSTOMS_DISTRICT: (f) => `does not cover customs district ${f.customsDistrict}`,
  IE_FLAG: (f) => `does not cover ${f.ieFlag === 'I' ? 'imports' : 'exports'}`,
}

/**
 * The entrustment under which `declarantCode` may declare for `traderCode`, or the 403 item saying why not
 * (pointer `/body/traderCode`).
 */
export function entrustmentFor(
  index: EntrustmentIndex,
  traderCode: string,
  declarantCode: string,
  f: DeclarationFacts,
): { id: string } | { error: ErrorItem } {
  const list = index.get(`${traderCode}/${declarantCode}`) ?? []
  let why = `trader ${traderCode} has no active entrustment of declarant ${declarantCode} in force`
  for (const e of list) {
    const miss = scopeMiss(e, f)
    if (!miss) return { id: e.id }
    why = `the entrustment of ${declarantCode} by trader ${traderCode} (${e.id}) ${MISS_TEXT[miss](f, e)}`
  }
  return {
    error: {
      code: 'ENTRUSTMENT_REQUIRED',
      message: `declaring for another trader needs its entrustment: ${why}`,
      pointer: '/body/traderCode',
    },
  }
}
