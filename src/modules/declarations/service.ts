import Big from 'big.js'
import type { Db, Queryable, Tx } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { appendAudit } from '../../shared/audit.js'
import { canonicalJson, sha256Hex, verifiesWithCard } from '../../shared/signing.js'
import { KouanError, conflict, notFound, type ErrorItem } from '../../errors.js'
import type { Metrics } from '../../shared/metrics.js'
import { actorRef, type Actor } from '../auth/index.js'
import type { Reference } from '../reference/index.js'
import type { Enterprise } from '../enterprises/index.js'
import { findEnterprise, findEnterprisesByCustomsCodes } from '../enterprises/index.js'
import { findCards } from '../cards/index.js'
import { decide, firedRules, type Decision, type Facts, type ModelInput } from '../selectivity/index.js'
import type { RiskScorer } from './scoring.js'
import { selectivityState, type SelectivityState } from '../selectivity/index.js'
import type { Declaration, DeclarationContent, Lane, State, SubmitDeclaration } from './schema.js'
import { canTransition, chinaYear, contentProblems, entryId, totalValue } from './lifecycle.js'
import * as repo from './repo.js'
import { clearedOf, type DeclarationEvents, type InspectionOrder, type Publisher } from './events.js'
import { chinaDate, entrustmentFor, entrustmentsForIntake } from '../entrustments/index.js'

export interface Deps {
  db: Db
  clock: Clock
  ids: Ids
  reference: Reference
  metrics?: Metrics | undefined
  risk?: RiskScorer | undefined
  events: Publisher<DeclarationEvents>
}

/** Outcome of one submitted declaration: 201 new, 200 the original of a repeated client reference, or an error. */
export type SubmitResult = { status: 201 | 200; declaration: Declaration } | { status: number; errors: ErrorItem[] }

/**
 * Hands out entry numbers from blocks reserved in the database (one short statement per block), so
 * concurrent processes never share a number; numbers a process reserved but did not use are gaps.
 */
export class EntryNumbers {
  private readonly blocks = new Map<string, { next: number; end: number }>()
  private readonly pending = new Map<string, Promise<void>>()
  constructor(
    private readonly db: Queryable,
    private readonly blockSize = 100,
  ) {}

  async take(district: string, year: number, ieFlag: 'I' | 'E', n = 1): Promise<string[]> {
    const key = `${district}/${year}/${ieFlag}`
    const out: string[] = []
    while (out.length < n) {
      const b = this.blocks.get(key)
      if (b && b.next < b.end) {
        out.push(entryId(district, year, ieFlag, b.next++))
        continue
      }
      let p = this.pending.get(key)
      if (!p) {
        const size = Math.max(this.blockSize, n - out.length)
        p = repo
          .reserveSequence(this.db, district, year, ieFlag, size)
          .then((first) => {
            this.blocks.set(key, { next: first, end: first + size })
          })
          .finally(() => this.pending.delete(key))
        this.pending.set(key, p)
      }
      await p
    }
    return out
  }
}

// Customs exchange rates, reloaded at most once a minute.
let rates: { at: number; map: Map<string, string> } | undefined
async function cnyRates(db: Queryable, now: Date): Promise<Map<string, string>> {
  if (!rates || now.getTime() - rates.at > 60_000 || now.getTime() < rates.at) {
    const rows = await db.query<{ currency: string; cny_per_unit: string }>(
      'select currency, cny_per_unit from exchange_rates',
    )
    rates = { at: now.getTime(), map: new Map(rows.map((r) => [r.currency, r.cny_per_unit])) }
  }
  return rates.map
}
export function invalidateRates() {
  rates = undefined
}

/** The facts the selectivity rules see: header fields plus per-item values converted to CNY. */
export function factsOf(
  c: DeclarationContent,
  trader: Pick<Enterprise, 'creditLevel'>,
  rate: string,
): { facts: Facts; totalCny: string } {
  const items = c.items.map((it) => {
    const valueCny = new Big(it.totalValue).times(rate)
    return {
      hsCode: it.hsCode,
      originCountry: it.originCountry,
      unit: it.unit,
      quantity: Number(it.quantity),
      description: it.description,
      itemValueCny: Number(valueCny.toFixed(2)),
      unitValueCny: Number(valueCny.div(it.quantity).toFixed(4)),
    }
  })
  const totalCny = new Big(totalValue(c)).times(rate).round(2, Big.roundHalfUp).toFixed(2)
  return {
    totalCny,
    facts: {
      traderCredit: trader.creditLevel,
      header: {
        ieFlag: c.ieFlag,
        tradeMode: c.tradeMode,
        transportMode: c.transportMode,
        tradeCountry: c.tradeCountry,
        departureCountry: c.departureCountry,
        customsDistrict: c.customsDistrict,
        iePort: c.iePort,
        currency: c.currency,
        traderCode: c.traderCode,
        declarantCode: c.declarantCode,
        totalValueCny: Number(totalCny),
        grossMassKg: Number(c.grossMassKg),
        packages: c.packages,
        itemCount: c.items.length,
      },
      items,
    },
  }
}

const content = (s: SubmitDeclaration): DeclarationContent => {
  const { signature: _s, ...c } = s
  return c
}

interface Checked {
  index: number
  input: SubmitDeclaration
  content: DeclarationContent
  cardId: string
  declarant: Enterprise
  trader: Enterprise
  payload: string
  who: string
  entrustmentId?: string | undefined
}

/** One declaration as submitted in an operator's session (identified by the session's port card). */
export interface Submission {
  sessionCardId: string
  input: SubmitDeclaration
}

/**
 * Stage 1, no writes: schema-valid inputs are checked against code tables, the port card (known, active, of
 * the declarant enterprise, held by the calling operator's enterprise) and the signature.
 */
async function check(
  deps: Deps,
  submissions: Submission[],
): Promise<{ ok: Checked[]; failed: Map<number, SubmitResult> }> {
  const failed = new Map<number, SubmitResult>()
  const ok: Checked[] = []
  const inputs = submissions.map((s) => s.input)
  const today = chinaDate(deps.clock.now())
  // Entrustments of every declaration whose declarant is not its trader: one statement for the batch (none if all declare for themselves).
  const [cards, enterprises, entrustments] = await Promise.all([
    findCards(
      deps.db,
      [...new Set(inputs.map((i) => i.signature.cardNo))],
      [...new Set(submissions.map((s) => s.sessionCardId))],
    ),
    findEnterprisesByCustomsCodes(deps.db, [
      ...new Set(inputs.flatMap((i) => [i.declarantCode, i.traderCode, ...(i.ownerCode ? [i.ownerCode] : [])])),
    ]),
    entrustmentsForIntake(deps.db, inputs, today),
  ])
  submissions.forEach(({ input, sessionCardId }, index) => {
    const fail = (status: number, errors: ErrorItem[]) => failed.set(index, { status, errors })
    // The session's own card is checked here, in the batch's one card query, rather than per request.
    const session = cards.byId.get(sessionCardId)
    if (!session || session.status !== 'ACTIVE')
      return fail(401, [
        {
          code: 'CARD_REVOKED',
          message: 'the port card of this session is revoked',
          pointer: '/headers/authorization',
        },
      ])
    const card = cards.byNo.get(input.signature.cardNo)
    if (!card)
      return fail(401, [
        { code: 'CARD_UNKNOWN', message: `no port card ${input.signature.cardNo}`, pointer: '/body/signature/cardNo' },
      ])
    if (card.status !== 'ACTIVE')
      return fail(401, [
        { code: 'CARD_REVOKED', message: `port card ${card.cardNo} is revoked`, pointer: '/body/signature/cardNo' },
      ])
    const declarant = enterprises.get(input.declarantCode)
    if (!declarant || declarant.id !== session.enterpriseId) {
      return fail(403, [
        {
          code: 'DECLARATION_NOT_YOUR_ENTERPRISE',
          message: 'operators declare only for their own enterprise',
          pointer: '/body/declarantCode',
        },
      ])
    }
    const c = content(input)
    const payload = canonicalJson(c)
    if (!verifiesWithCard(card, input.signature, payload)) {
      return fail(422, [
        {
          code: 'SIGNATURE_INVALID',
          message: 'the signature does not verify over the canonical declaration with the card key',
          pointer: '/body/signature/value',
        },
      ])
    }
    // Declaring in another trader's name needs that trader's entrustment covering this declaration (报关委托).
    let entrustmentId: string | undefined
    if (input.traderCode !== input.declarantCode && enterprises.has(input.traderCode)) {
      const e = entrustmentFor(entrustments, input.traderCode, input.declarantCode, {
        date: today,
        tradeMode: input.tradeMode,
        customsDistrict: input.customsDistrict,
        ieFlag: input.ieFlag,
      })
      if ('error' in e) return fail(403, [e.error])
      entrustmentId = e.id
    }
    const problems = contentProblems(c, deps.reference)
    if (!declarant)
      problems.push({
        code: 'ENTERPRISE_UNKNOWN',
        message: `no enterprise with customs code ${input.declarantCode}`,
        pointer: '/body/declarantCode',
      })
    else if (card.enterpriseId !== declarant.id)
      problems.push({
        code: 'SIGNATURE_CARD_NOT_DECLARANT',
        message: 'the signing card belongs to another enterprise than the declarant',
        pointer: '/body/signature/cardNo',
      })
    const trader = enterprises.get(input.traderCode)
    if (!trader)
      problems.push({
        code: 'ENTERPRISE_UNKNOWN',
        message: `no enterprise with customs code ${input.traderCode}`,
        pointer: '/body/traderCode',
      })
    if (input.ownerCode && !enterprises.has(input.ownerCode))
      problems.push({
        code: 'ENTERPRISE_UNKNOWN',
        message: `no enterprise with customs code ${input.ownerCode}`,
        pointer: '/body/ownerCode',
      })
    if (problems.length) return fail(422, problems)
    ok.push({
      index,
      input,
      content: c,
      cardId: card.id,
      declarant: declarant!,
      trader: trader!,
      payload,
      who: `card:${session.cardNo}`,
      entrustmentId,
    })
  })
  return { ok, failed }
}

const SEVERE: Lane[] = ['RED', 'YELLOW']

const fmt = (x: number) =>
  Number.isNaN(x) ? 'n/a' : Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(3)).toString()

/**
 * Scores a declaration with the active model (if any) and runs the selectivity engine on the result. The
 * model's reasons are the features that pushed the score up most (tree path attribution).
 */
export function assess(
  deps: Pick<Deps, 'risk'>,
  sel: SelectivityState,
  d: {
    id: string
    submittedAt: Date
    content: DeclarationContent
    trader: Enterprise
    facts: Facts
    cnyPerUnit: string
  },
): Decision {
  // Evaluated once: the model sees which rules fired, and decide applies the same list.
  const fired = firedRules(sel.rules, d.facts)
  const ms = deps.risk?.score({
    id: d.id,
    submittedAt: d.submittedAt,
    content: d.content,
    traderCredit: d.trader.creditLevel,
    rulesFired: fired.map((r) => r.name),
    cnyPerUnit: Number(d.cnyPerUnit),
  })
  const model: ModelInput | undefined = ms && {
    score: ms.score,
    version: ms.modelVersion,
    reasons: [
      {
        code: 'MODEL',
        message: `risk model v${ms.modelVersion}: fraud probability ${(ms.probability * 100).toFixed(1)}%`,
      },
      ...ms.top.map((t) => ({
        code: 'MODEL_FEATURE',
        message: `${t.feature} = ${fmt(t.value)} (+${t.contribution} log-odds)`,
      })),
    ],
  }
  return decide({
    facts: d.facts,
    rules: sel.rules,
    params: sel.params,
    paramsVersion: sel.paramsVersion,
    declarationId: d.id,
    window: sel.window,
    model,
    fired,
  })
}

/** Builds the row for a declaration that passes intake: accepted, numbered and routed, or held for review. */
function route(
  c: Checked,
  id: string,
  now: string,
  number: string | null,
  decision: Decision | null,
  totalCny: string,
  autoClear: boolean,
  inspectionId: string,
): { row: repo.NewDeclaration; inspection?: InspectionOrder } {
  const row: repo.NewDeclaration = {
    id,
    submittedAt: now,
    entryId: number,
    clientRef: c.input.clientRef,
    ieFlag: c.input.ieFlag,
    state: 'SUBMITTED',
    lane: null,
    declarantId: c.declarant.id,
    traderId: c.trader.id,
    cardId: c.cardId,
    content: c.content,
    signature: c.input.signature,
    payloadHash: sha256Hex(c.payload),
    totalValueCny: totalCny,
    risk: decision,
    times: {},
  }
  if (!decision) return { row }
  row.lane = decision.lane
  row.times = { acceptedAt: now, assessedAt: now }
  if (SEVERE.includes(decision.lane)) {
    row.state = 'INSPECTING'
    row.times.inspectionOrderedAt = now
    const source = decision.source === 'NONE' ? 'RULE' : decision.source
    return {
      row,
      inspection: {
        id: inspectionId,
        declarationId: id,
        declarationSubmittedAt: now,
        kind: decision.lane === 'RED' ? 'PHYSICAL' : 'DOCUMENT',
        source,
        orderedAt: now,
      },
    }
  }
  row.state = autoClear ? 'CLEARED' : 'RELEASED'
  row.times.releasedAt = now
  if (autoClear) row.times.clearedAt = now
  return { row }
}

/** The states a freshly routed declaration passed through, for the audit log. */
function walk(row: repo.NewDeclaration): State[] {
  if (row.state === 'SUBMITTED') return ['SUBMITTED']
  const s: State[] = ['SUBMITTED', 'ACCEPTED', 'ASSESSED']
  if (row.state === 'INSPECTING') return [...s, 'INSPECTING']
  return row.state === 'CLEARED' ? [...s, 'RELEASED', 'CLEARED'] : [...s, 'RELEASED']
}

function auditWalk(tx: Tx, row: repo.NewDeclaration, actor: string, at: Date, entrustmentId?: string) {
  for (const state of walk(row)) {
    const data: Record<string, unknown> = { state }
    if (state === 'SUBMITTED')
      Object.assign(data, {
        clientRef: row.clientRef,
        payloadHash: row.payloadHash,
        cardNo: row.signature.cardNo,
        ...(entrustmentId ? { entrustmentId } : {}),
      })
    if (state === 'ACCEPTED') data.entryId = row.entryId
    if (state === 'ASSESSED' && row.risk)
      Object.assign(data, {
        lane: row.risk.lane,
        score: row.risk.score,
        source: row.risk.source,
        reasons: row.risk.reasons.map((r) => r.code),
        paramsVersion: row.risk.paramsVersion,
      })
    appendAudit(tx, {
      at,
      actor: state === 'SUBMITTED' ? actor : 'system:selectivity',
      action: `DECLARATION_${state}`,
      entityType: 'declaration',
      entityId: row.id,
      data,
    })
  }
}

function fromRow(row: repo.NewDeclaration): Declaration {
  const t = (k: keyof repo.NewDeclaration['times']) => row.times[k] ?? null
  return {
    id: row.id,
    entryId: row.entryId,
    clientRef: row.clientRef,
    ieFlag: row.ieFlag,
    state: row.state,
    lane: row.lane,
    traderId: row.traderId,
    declarantId: row.declarantId,
    cardNo: row.signature.cardNo,
    totalValueCny: row.totalValueCny,
    content: row.content,
    signature: row.signature,
    risk: row.risk,
    errors: null,
    submittedAt: row.submittedAt,
    acceptedAt: t('acceptedAt'),
    rejectedAt: null,
    assessedAt: t('assessedAt'),
    inspectionOrderedAt: t('inspectionOrderedAt'),
    releasedAt: t('releasedAt'),
    detainedAt: null,
    returnedAt: null,
    clearedAt: t('clearedAt'),
    version: 1,
  }
}

/**
 * Submits a batch of signed declarations in one transaction: each is checked, numbered, scored and routed
 * (green/blue released, yellow/red sent to inspection, review-level traders held as SUBMITTED). A client
 * reference seen before returns its original declaration (200) and writes nothing. Results keep input order.
 */
export async function submitDeclarations(
  deps: Deps & { numbers: EntryNumbers },
  submissions: Submission[],
): Promise<SubmitResult[]> {
  const now = deps.clock.now()
  const nowIso = now.toISOString()
  const { ok, failed } = await check(deps, submissions)
  const results: SubmitResult[] = new Array(submissions.length)
  for (const [i, r] of failed) results[i] = r

  // Repeats of one reference inside the batch resolve to the first occurrence.
  const firstByRef = new Map<string, Checked>()
  const repeats: Array<[Checked, Checked]> = []
  const unique: Checked[] = []
  for (const c of ok) {
    const key = `${c.declarant.id}/${c.input.clientRef}`
    const first = firstByRef.get(key)
    if (first) repeats.push([c, first])
    else {
      firstByRef.set(key, c)
      unique.push(c)
    }
  }

  const [sel, rateMap] = await Promise.all([selectivityState(deps.db, now), cnyRates(deps.db, now)])
  const year = chinaYear(now)
  const prepared: Array<{ c: Checked; row: repo.NewDeclaration; inspection?: InspectionOrder | undefined }> = []
  for (const c of unique) {
    const id = deps.ids.uuid()
    const rate = rateMap.get(c.content.currency)
    if (!rate) {
      results[c.index] = {
        status: 422,
        errors: [
          {
            code: 'DECLARATION_NO_EXCHANGE_RATE',
            message: `no exchange rate for ${c.content.currency}`,
            pointer: '/body/currency',
          },
        ],
      }
      continue
    }
    const { facts, totalCny } = factsOf(c.content, c.trader, rate)
    const review = sel.params.reviewCreditLevels.includes(c.trader.creditLevel)
    const decision = review
      ? null
      : assess(deps, sel, { id, submittedAt: now, content: c.content, trader: c.trader, facts, cnyPerUnit: rate })
    const number = review ? null : (await deps.numbers.take(c.content.customsDistrict, year, c.content.ieFlag))[0]!
    prepared.push({
      c,
      ...route(
        c,
        id,
        nowIso,
        number,
        decision,
        totalCny,
        sel.params.autoClearTradeModes.includes(c.content.tradeMode),
        deps.ids.uuid(),
      ),
    })
  }

  const created = await deps.db.transaction(async (tx) => {
    // One statement claims the client references and writes what it claimed (the declarations and their items);
    // the moves are then published (archiving of those closed at once happens after commit, from the outbox).
    const claimed = await repo.insertDeclarations(
      tx,
      prepared.map((p) => p.row),
    )
    const fresh = prepared.filter((p) => claimed.has(p.row.id)).map((p) => ({ ...p, declaration: fromRow(p.row) }))
    for (const p of fresh) auditWalk(tx, p.row, p.c.who, now, p.c.entrustmentId)
    await publishIntake(tx, deps.events, fresh)
    return fresh
  })

  for (const p of created) {
    results[p.c.index] = { status: 201, declaration: p.declaration }
    deps.metrics?.declarations.inc({ outcome: p.row.state === 'SUBMITTED' ? 'held_for_review' : 'accepted' })
    if (p.row.risk) deps.metrics?.lanes.inc({ lane: p.row.risk.lane, source: p.row.risk.source })
    if (p.row.times.releasedAt) deps.metrics?.clearance.observe({ port: p.c.content.iePort, lane: p.row.lane ?? '' }, 0)
  }
  const createdIds = new Set(created.map((p) => p.row.id))
  const dupes = [...prepared.filter((p) => !createdIds.has(p.row.id)).map((p) => p.c), ...repeats.map(([c]) => c)]
  if (dupes.length) {
    const originals = await repo.findByRefs(
      deps.db,
      dupes.map((c) => ({ enterpriseId: c.declarant.id, clientRef: c.input.clientRef })),
    )
    for (const c of dupes) {
      const d = originals.get(`${c.declarant.id}/${c.input.clientRef}`)
      results[c.index] = d
        ? { status: 200, declaration: d }
        : { status: 500, errors: [{ code: 'INTERNAL', message: 'original declaration not found', pointer: '' }] }
      deps.metrics?.declarations.inc({ outcome: 'duplicate' })
    }
  }
  for (const r of failed.values()) if (r.status >= 400) deps.metrics?.declarations.inc({ outcome: 'refused' })
  return results
}

/** The moves intake made, as events: inspections ordered, declarations released and (general trade) closed at once. */
async function publishIntake(
  tx: Tx,
  events: Publisher<DeclarationEvents>,
  fresh: Array<{ declaration: Declaration; inspection?: InspectionOrder | undefined }>,
) {
  const orders = fresh.flatMap((p) => (p.inspection ? [p.inspection] : []))
  if (orders.length) await events.publish(tx, 'InspectionOrdered', orders)
  const released = fresh.filter((p) => p.declaration.releasedAt).map((p) => p.declaration)
  if (released.length) await events.publish(tx, 'DeclarationReleased', released)
  const cleared = released.filter((d) => d.state === 'CLEARED')
  if (cleared.length) await events.publish(tx, 'DeclarationCleared', cleared.map(clearedOf))
}

/**
 * Group commit: single submissions arriving together are processed as one batch (one transaction), which
 * is what lets one process sustain thousands of declarations a second. Each caller gets its own result.
 */
export class Submitter {
  private queue: Array<{ s: Submission; resolve: (r: SubmitResult) => void; reject: (e: unknown) => void }> = []
  private inFlight = 0
  /**
   * @param maxInFlight batches processed at once: 1 for PGlite (one connection), a few for PostgreSQL so
   *   that one batch's round trips overlap with the next one's work.
   */
  constructor(
    private readonly deps: Deps & { numbers: EntryNumbers },
    private readonly maxInFlight = 1,
    private readonly maxBatch = 250,
  ) {}

  submit(s: Submission): Promise<SubmitResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ s, resolve, reject })
      if (this.inFlight < this.maxInFlight) void this.drain()
    })
  }

  private async drain() {
    this.inFlight++
    try {
      while (this.queue.length) {
        // Let requests that arrived in the same tick join the batch.
        await new Promise((r) => setImmediate(r))
        const batch = this.queue.splice(0, this.maxBatch)
        if (batch.length === 0) break
        try {
          const results = await submitDeclarations(
            this.deps,
            batch.map((b) => b.s),
          )
          batch.forEach((b, i) => b.resolve(results[i]!))
        } catch (e) {
          if (batch.length === 1) {
            batch[0]!.reject(e)
            continue
          }
          // One bad apple must not fail the others: retry each on its own.
          for (const b of batch) {
            try {
              b.resolve((await submitDeclarations(this.deps, [b.s]))[0]!)
            } catch (err) {
              b.reject(err)
            }
          }
        }
      }
    } finally {
      this.inFlight--
    }
  }
}

/** Loads a declaration an actor may see: officers all, operators those of their enterprise (as trader or declarant). */
export async function getDeclaration(db: Queryable, actor: Actor, idOrEntry: string) {
  const d = await repo.findDeclaration(db, idOrEntry)
  if (!d) throw notFound('DECLARATION_NOT_FOUND', `declaration ${idOrEntry}`, '/params/id')
  if (actor.kind === 'card' && d.traderId !== actor.enterpriseId && d.declarantId !== actor.enterpriseId) {
    throw notFound('DECLARATION_NOT_FOUND', `declaration ${idOrEntry}`, '/params/id')
  }
  return d
}

/** Moves a locked declaration from its state to `to`, or refuses with 409; audited, with the release metric. */
export async function transition(
  tx: Tx,
  deps: Pick<Deps, 'clock' | 'ids' | 'metrics' | 'events'>,
  d: Declaration,
  to: State,
  actor: string,
  extra: { lane?: Lane; risk?: Decision; errors?: ErrorItem[]; entryId?: string; data?: Record<string, unknown> } = {},
): Promise<Declaration> {
  if (!canTransition(d.state, to)) {
    throw new KouanError('DECLARATION_ILLEGAL_TRANSITION', 409, `a ${d.state} declaration cannot become ${to}`, {
      pointer: '/params/id',
      details: { from: d.state, to },
    })
  }
  const at = deps.clock.now()
  const after = await repo.updateState(tx, d, d.state, to, at.toISOString(), extra)
  if (!after)
    throw conflict('DECLARATION_CONCURRENT_CHANGE', 'the declaration changed meanwhile; reload and retry', '/params/id')
  appendAudit(tx, {
    at,
    actor,
    action: `DECLARATION_${to}`,
    entityType: 'declaration',
    entityId: d.id,
    data: { from: d.state, state: to, ...(extra.data ?? {}), ...(extra.errors ? { errors: extra.errors } : {}) },
  })
  if (to === 'RELEASED')
    deps.metrics?.clearance.observe(
      { port: d.content.iePort, lane: d.lane ?? '' },
      (at.getTime() - new Date(d.submittedAt).getTime()) / 1000,
    )
  // Subscribers act in this transaction (a certificate on release) or after commit from the outbox (the archive on
  // closure); src/app.ts wires them.
  if (to === 'RELEASED') await deps.events.publish(tx, 'DeclarationReleased', [after])
  else if (to === 'DETAINED') await deps.events.publish(tx, 'DeclarationDetained', [after])
  else if (to === 'CLEARED') await deps.events.publish(tx, 'DeclarationCleared', [clearedOf(after)])
  return after
}

async function locked(tx: Tx, id: string) {
  const d = await repo.lockDeclaration(tx, id)
  if (!d) throw notFound('DECLARATION_NOT_FOUND', `declaration ${id}`, '/params/id')
  return d
}

/** Officer accepts a declaration held for review: it is numbered, scored and routed like any other. */
export async function acceptDeclaration(
  deps: Deps & { numbers: EntryNumbers },
  actor: Actor,
  id: string,
): Promise<Declaration> {
  const current = await getDeclaration(deps.db, actor, id)
  if (current.state !== 'SUBMITTED')
    throw new KouanError(
      'DECLARATION_ILLEGAL_TRANSITION',
      409,
      `a ${current.state} declaration cannot become ACCEPTED`,
      { pointer: '/params/id' },
    )
  const now = deps.clock.now()
  const [number] = await deps.numbers.take(
    current.content.customsDistrict,
    chinaYear(now),
    current.content.ieFlag as 'I' | 'E',
  )
  const sel = await selectivityState(deps.db, now)
  const trader = (await findEnterprise(deps.db, current.traderId))!
  const rate = (await cnyRates(deps.db, now)).get(current.content.currency) ?? '1'
  const decision = assess(deps, sel, {
    id: current.id,
    submittedAt: new Date(current.submittedAt),
    content: current.content,
    trader,
    facts: factsOf(current.content, trader, rate).facts,
    cnyPerUnit: rate,
  })
  const who = actorRef(actor)
  return deps.db.transaction(async (tx) => {
    let d = await locked(tx, current.id)
    d = await transition(tx, deps, d, 'ACCEPTED', who, { entryId: number!, data: { entryId: number } })
    d = await transition(tx, deps, d, 'ASSESSED', 'system:selectivity', {
      lane: decision.lane,
      risk: decision,
      data: { lane: decision.lane, score: decision.score, source: decision.source },
    })
    if (SEVERE.includes(decision.lane)) {
      await deps.events.publish(tx, 'InspectionOrdered', [
        {
          id: deps.ids.uuid(),
          declarationId: d.id,
          declarationSubmittedAt: d.submittedAt,
          kind: decision.lane === 'RED' ? 'PHYSICAL' : 'DOCUMENT',
          source: decision.source === 'NONE' ? 'RULE' : decision.source,
          orderedAt: now.toISOString(),
        },
      ])
      return transition(tx, deps, d, 'INSPECTING', 'system:selectivity')
    }
    return releaseInTx(tx, deps, d, 'system:selectivity', sel.params.autoClearTradeModes)
  })
}

/** Releases, and closes at once when the trade mode's release is its closure (general trade). */
export async function releaseInTx(
  tx: Tx,
  deps: Pick<Deps, 'clock' | 'ids' | 'metrics' | 'events'>,
  d: Declaration,
  actor: string,
  autoClear: string[],
  data?: Record<string, unknown>,
) {
  const released = await transition(tx, deps, d, 'RELEASED', actor, data ? { data } : {})
  return autoClear.includes(d.content.tradeMode) ? transition(tx, deps, released, 'CLEARED', 'system:kouan') : released
}

export async function rejectDeclaration(deps: Deps, actor: Actor, id: string, errors: ErrorItem[]) {
  const current = await getDeclaration(deps.db, actor, id)
  return deps.db.transaction(async (tx) =>
    transition(tx, deps, await locked(tx, current.id), 'REJECTED', actorRef(actor), { errors }),
  )
}

/** Officer moves: release or return detained goods after disposal; close (结关) released or returned ones. */
export async function officerTransition(
  deps: Deps,
  actor: Actor,
  id: string,
  to: 'RELEASED' | 'RETURNED' | 'CLEARED',
  note?: string,
) {
  const current = await getDeclaration(deps.db, actor, id)
  if (to !== 'CLEARED' && current.state !== 'DETAINED') {
    throw new KouanError(
      'DECLARATION_ILLEGAL_TRANSITION',
      409,
      `${to === 'RELEASED' ? 'release' : 'return'} by an officer is for DETAINED declarations; this one is ${current.state} (record an inspection result instead)`,
      { pointer: '/params/id' },
    )
  }
  const sel = await selectivityState(deps.db, deps.clock.now())
  return deps.db.transaction(async (tx) => {
    const d = await locked(tx, current.id)
    const data = note ? { note } : undefined
    if (to === 'RELEASED') return releaseInTx(tx, deps, d, actorRef(actor), sel.params.autoClearTradeModes, data)
    return transition(tx, deps, d, to, actorRef(actor), data ? { data } : {})
  })
}
