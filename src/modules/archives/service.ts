import type { Db, Queryable, Tx } from '../../db/index.js'
import type { Clock, Ids } from '../../shared/clock.js'
import type { Metrics } from '../../shared/metrics.js'
import { appendAudit } from '../../shared/audit.js'
import {
  OutboxDispatcher,
  outboxBacklog,
  pendingEventIds,
  takeEvents,
  type AfterCommitSubscription,
} from '../../shared/events.js'
import { KouanError, notFound } from '../../errors.js'
import { actorRef, type Actor } from '../auth/index.js'
import type { Declaration, DeclarationContent } from '../declarations/index.js'
import { chinaYear } from '../declarations/index.js'
import { findEnterprise } from '../enterprises/index.js'
import type { Enterprise } from '../enterprises/index.js'
import { chinaDateOf } from '../certificates/index.js'
import { lockSigningKey, type PrintoutLookup } from '../certificates/index.js'
import { contentDigest, signToken, verifyUrl } from '../certificates/index.js'
import { renderArchivePdf } from './pdf.js'
import { archivePrintFields, type PrintContent } from './fields.js'
import * as repo from './repo.js'
import {
  EXPORT_NOTICE,
  PURGE_LIST_MAX,
  type Archive,
  type ArchiveFilters,
  type PurgeResult,
  type RetentionRule,
} from './schema.js'

export interface Deps {
  db: Db
  clock: Clock
  ids: Ids
  metrics?: Metrics | undefined
}

// ---- rules (pure) -------------------------------------------------------------------------------------------

/**
 * The retention class of a declaration (DOMAIN §7): every rule that matches (trade mode, ManualNo prefix such as
 * `Z` for an exemption certificate, levy nature, and the default) gives a period; the longest wins, so when a
 * declaration is both processing trade and exempt it keeps the 11 years.
 */
export function retentionOf(
  rules: readonly RetentionRule[],
  c: Pick<DeclarationContent, 'tradeMode' | 'manualNo' | 'cutMode'>,
): { years: number; basis: string } {
  const hits = rules.filter(
    (r) =>
      r.kind === 'DEFAULT' ||
      (r.kind === 'TRADE_MODE' && r.value === c.tradeMode) ||
      (r.kind === 'MANUAL_PREFIX' && !!c.manualNo && c.manualNo.startsWith(r.value)) ||
      (r.kind === 'CUT_MODE' && r.value === c.cutMode),
  )
  if (hits.length === 0) throw new Error('the retention table has no DEFAULT rule')
  const best = hits.reduce((a, b) => (b.years > a.years ? b : a))
  return { years: best.years, basis: basisOf(best) }
}

/** What an archive records as the basis of its retention when `r` is the rule that decided it. */
const basisOf = (r: RetentionRule) => `${r.basis} (${r.kind === 'DEFAULT' ? 'default' : `${r.kind} ${r.value}`})`

/** A China date plus whole years; 29 February becomes 28 February in a year that has none. */
export function addYears(date: string, years: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const ny = y + years
  const leap = (ny % 4 === 0 && ny % 100 !== 0) || ny % 400 === 0
  const day = m === 2 && d === 29 && !leap ? 28 : d
  return `${ny}-${String(m).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

/**
 * The last China date an archive is kept: the clearance (结关) date in China plus the class's years. The period
 * runs from the day after clearance and ends on the anniversary, so the archive is due for disposal from the
 * day after `retainUntil` and never earlier.
 */
export function retainUntil(clearedAt: string | Date, years: number): string {
  return addYears(chinaDateOf(clearedAt), years)
}

/** Whether an archive kept until `retainUntil` is due for disposal on China date `today`. */
export const isDue = (retainUntilDate: string, today: string) => retainUntilDate < today

/**
 * Why an enterprise may not use self-service query and printing (DOMAIN §7), or undefined: dishonest enterprises
 * (both Order 282 tiers) and those not found at their registered address and unreachable. Checked at each use.
 */
export function selfServiceRefusal(
  e: Pick<Enterprise, 'creditLevel' | 'reachable'>,
): { code: string; message: string } | undefined {
  if (e.creditLevel === 'DISHONEST' || e.creditLevel === 'SERIOUSLY_DISHONEST') {
    return {
      code: 'ARCHIVE_SELF_SERVICE_DISHONEST',
      message: `self-service archive query and printing is not available to enterprises with ${e.creditLevel === 'DISHONEST' ? 'dishonest' : 'seriously dishonest'} credit (失信企业); apply at the customs archive office`,
    }
  }
  if (!e.reachable) {
    return {
      code: 'ARCHIVE_SELF_SERVICE_UNREACHABLE',
      message:
        'self-service archive query and printing is not available to an enterprise marked unreachable at its registered address and contacts (查无下落); update the registration or apply at the customs archive office',
    }
  }
  return undefined
}

/** One CSV field (RFC 4180). */
const csv = (v: string | number) => {
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

// ---- creation at clearance (an after-commit subscriber of DeclarationCleared) ------------------------------

// Retention rules, reloaded at most every 5 s (of the injected clock) and at once after a local change.
let rulesCache: { at: number; rules: RetentionRule[] } | undefined
async function retentionRules(q: Queryable, now: Date): Promise<RetentionRule[]> {
  if (!rulesCache || now.getTime() - rulesCache.at > 5000 || now.getTime() < rulesCache.at)
    rulesCache = { at: now.getTime(), rules: await repo.loadRetentionRules(q) }
  return rulesCache.rules
}
export function invalidateRetentionCache() {
  rulesCache = undefined
}

/** The rules as the archive statement applies them (`retentionOf` in SQL: rules in table order, basis as recorded). */
function rankedRules(rules: readonly RetentionRule[]): repo.RankedRule[] {
  // Without a DEFAULT rule a declaration could match none and would silently get no archive.
  if (!rules.some((r) => r.kind === 'DEFAULT')) throw new Error('the retention table has no DEFAULT rule')
  return rules.map((r, ord) => ({ ord, kind: r.kind, value: r.value, years: r.years, basis: basisOf(r) }))
}

/** The subscriber name of archiving in the outbox (stored in its rows: keep it). */
export const ARCHIVES_SUBSCRIBER = 'archives'
const CLEARED = 'DeclarationCleared'

/** What archiving needs of a DeclarationCleared event: the declaration's keys (the statement reads the rest). */
export type ClearedKeys = Pick<Declaration, 'id' | 'submittedAt'>

/**
 * Archives cleared declarations (结关) by key in the caller's transaction: one statement copies each into its archive
 * with its retention class and end (the rules above, applied in SQL) and a snapshot of the content and the parties
 * (as registered when archived), then one audit event per archive. A declaration archived before (by a read, or an
 * event published twice) is skipped, and so is one not cleared. Returns the number archived.
 */
export async function archiveCleared(
  tx: Tx,
  deps: Pick<Deps, 'clock' | 'ids'>,
  ds: readonly ClearedKeys[],
): Promise<number> {
  if (ds.length === 0) return 0
  const now = deps.clock.now()
  const rules = rankedRules(await retentionRules(tx, now))
  const inserted = await repo.insertArchives(
    tx,
    ds.map((d) => ({ id: deps.ids.uuid(), declarationId: d.id, submittedAt: d.submittedAt })),
    rules,
    now.toISOString(),
  )
  for (const a of inserted) {
    appendAudit(tx, {
      at: now,
      actor: 'system:archives',
      action: 'ARCHIVE_CREATED',
      entityType: 'archive',
      entityId: a.entry_id,
      data: {
        declarationId: a.declaration_id,
        retentionYears: a.retention_years,
        retainUntil: a.retain_until,
        basis: a.retention_basis,
      },
    })
  }
  return inserted.length
}

/**
 * The after-commit handler of DeclarationCleared (wired in src/app.ts with `{ batch: sweepBatch(db) }`): archives a
 * batch of events in the outbox dispatcher's transaction, which deletes their outbox rows before it commits; a
 * failure rolls both back and the dispatcher retries. Reads only `id` and `submittedAt` of the payloads (rows
 * migrated from the archive queue, 0015, carry little more).
 */
export function onDeclarationsCleared(deps: Pick<Deps, 'clock' | 'ids' | 'metrics'>) {
  return async (tx: Tx, events: ReadonlyArray<{ payload: ClearedKeys }>): Promise<number> => {
    const n = await archiveCleared(
      tx,
      deps,
      events.map((e) => e.payload),
    )
    // Counted as the batch's statement returns, so a commit failing after it (rare) would count it anyway.
    deps.metrics?.archives.inc(n)
    return n
  }
}

/**
 * Declarations archived per dispatcher transaction. PGlite runs one transaction at a time, so a transaction that
 * archives delays every request behind it: smaller there (15–20 ms each on a busy 2-core machine), larger on
 * PostgreSQL, where it runs beside them.
 */
export const sweepBatch = (db: Pick<Db, 'kind'>) => (db.kind === 'pglite' ? 100 : 500)

/**
 * Archives everything due in the outbox for the archives subscriber: one round of an {@link OutboxDispatcher} that
 * runs only that subscription (batches of `batch`, default {@link sweepBatch}, each in a transaction that also
 * deletes its rows; SKIP LOCKED beside other processes' dispatchers). The CLI (`kouan archive sweep`), the purge
 * and tests call it to archive deterministically. Returns how many events were handled. A failed batch is rolled
 * back and rescheduled as the dispatcher does (backoff), the rest goes on, and the first error is thrown at the end.
 */
export async function sweepArchives(deps: Deps, o: { batch?: number } = {}): Promise<number> {
  const subscription: AfterCommitSubscription = {
    type: CLEARED,
    subscriber: ARCHIVES_SUBSCRIBER,
    batch: o.batch ?? sweepBatch(deps.db),
    handle: onDeclarationsCleared(deps) as unknown as AfterCommitSubscription['handle'],
  }
  const errors: unknown[] = []
  const handled = await new OutboxDispatcher(
    { db: deps.db, clock: deps.clock, bus: { afterCommitSubscriptions: () => [subscription] } },
    { log: (_msg, err) => errors.push(err) },
  ).runOnce()
  if (errors.length) throw errors[0]
  return handled
}

/** How much waits for archiving: the archives subscriber's DeclarationCleared events in the outbox (failing ones too), and the oldest publish (clearance) time. */
export async function queueState(
  db: Db,
): Promise<{ pending: number; failing: number; oldestClearedAt: string | null }> {
  const b = (await outboxBacklog(db)).find((x) => x.subscriber === ARCHIVES_SUBSCRIBER && x.type === CLEARED)
  return { pending: b?.pending ?? 0, failing: b?.failing ?? 0, oldestClearedAt: b?.oldestPublishedAt ?? null }
}

/** Pending declarations a read archives before it reads, at most (the oldest first; the dispatcher does the rest). */
export const READ_ARCHIVES_MAX = 5000

/**
 * Before a read of archives: archives what is still pending in the outbox of what the read covers (one entry number,
 * one enterprise, or all), taking those events off the outbox in the same transactions, so a declaration reads as
 * archived from the moment it is cleared, dispatcher or not. Costs one query when nothing is pending. Returns how
 * many it archived.
 */
export async function archivePending(
  deps: Deps,
  scope: { entryId?: string | undefined; traderId?: string | undefined },
): Promise<number> {
  const match = {
    ...(scope.entryId !== undefined ? { entryId: scope.entryId } : {}),
    ...(scope.traderId !== undefined ? { traderId: scope.traderId } : {}),
  }
  const ids = await pendingEventIds(deps.db, ARCHIVES_SUBSCRIBER, CLEARED, match, READ_ARCHIVES_MAX)
  const batch = sweepBatch(deps.db)
  const archive = onDeclarationsCleared(deps) // as the dispatcher would, on the events taken off the outbox
  let archived = 0
  for (let i = 0; i < ids.length; i += batch) {
    archived += await deps.db.transaction(async (tx) =>
      archive(tx, await takeEvents<ClearedKeys>(tx, ARCHIVES_SUBSCRIBER, CLEARED, ids.slice(i, i + batch))),
    )
  }
  return archived
}

// ---- self-service ------------------------------------------------------------------------------------------

/** The enterprise whose archives an operator may use, after the eligibility check (403 with the reason). */
async function eligibleEnterprise(db: Queryable, actor: Actor): Promise<string | undefined> {
  if (actor.kind !== 'card') return undefined
  const e = await findEnterprise(db, actor.enterpriseId)
  const refusal = e ? selfServiceRefusal(e) : { code: 'ARCHIVE_SELF_SERVICE_REFUSED', message: 'enterprise not found' }
  if (refusal) throw new KouanError(refusal.code, 403, refusal.message, { pointer: '/headers/authorization' })
  return actor.enterpriseId
}

/** Archives within retention: operators see their enterprise's (as consignee/consignor), officers all or one enterprise's. */
export async function listArchives(deps: Deps, actor: Actor, q: ArchiveFilters) {
  const own = await eligibleEnterprise(deps.db, actor)
  await archivePending(deps, { traderId: own ?? q.enterpriseId, entryId: q.entryId })
  return repo.listArchives(deps.db, { ...q, traderId: own ?? q.enterpriseId, today: chinaDateOf(deps.clock.now()) })
}

/** One archive within retention; another enterprise's, or one past retention, is a 404. */
export async function getArchive(deps: Deps, actor: Actor, entryId: string): Promise<Archive> {
  const own = await eligibleEnterprise(deps.db, actor)
  await archivePending(deps, { entryId, traderId: own })
  const a = await repo.findArchive(deps.db, entryId)
  if (!a || (own && a.traderId !== own) || isDue(a.retainUntil, chinaDateOf(deps.clock.now())))
    throw notFound('ARCHIVE_NOT_FOUND', `archive of declaration ${entryId}`, '/params/entryId')
  return a
}

/** The serial of a printout: the archive's customs district, China year, `P`, 9-digit sequence. */
export function printSerial(district: string, at: Date, seq: number): string {
  return `${district}${chinaYear(at)}P${String(seq % 1_000_000_000).padStart(9, '0')}`
}

/**
 * Prints an archived declaration: a serial, a signed token over the printed content (the same QR verification as
 * certificates, so the printout has the effect of a copy from the archive office), the log entry and an audit
 * event, then the PDF.
 */
export async function printArchive(
  deps: Deps,
  actor: Actor,
  entryId: string,
  publicUrl: string,
): Promise<{ serial: string; pdf: Uint8Array }> {
  const a = await getArchive(deps, actor, entryId)
  const who = actorRef(actor)
  const { content, token } = await deps.db.transaction(async (tx) => {
    const key = await lockSigningKey(tx, deps.clock)
    const at = deps.clock.now()
    const serial = printSerial(a.customsDistrict, at, await repo.nextPrintSeq(tx))
    const content: PrintContent = {
      serial,
      printedAt: at.toISOString(),
      retainUntil: a.retainUntil,
      archive: a.snapshot,
    }
    const digest = contentDigest(content)
    const token = signToken({ kind: 'ARCHIVE_PRINT', number: serial, digest, kid: key.kid }, key)
    await repo.insertPrint(tx, {
      id: deps.ids.uuid(),
      printedAt: content.printedAt,
      kind: 'PRINT',
      serial,
      archiveId: a.id,
      entryId: a.entryId,
      enterpriseId: a.traderId,
      actor: who,
      query: null,
      rowCount: 1,
      digest,
      kid: key.kid,
      validUntil: a.retainUntil,
    })
    appendAudit(tx, {
      at,
      actor: who,
      action: 'ARCHIVE_PRINTED',
      entityType: 'archive',
      entityId: a.entryId,
      data: { serial, digest, kid: key.kid },
    })
    return { content, token }
  })
  return { serial: content.serial, pdf: await renderArchivePdf(content, token, verifyUrl(publicUrl, token)) }
}

const EXPORT_COLUMNS = [
  'entry_id',
  'ie_flag',
  'trade_mode',
  'customs_district',
  'ie_port',
  'trader_code',
  'trader_name',
  'declared_at',
  'cleared_at',
  'items',
  'total_value',
  'currency',
  'retention_years',
  'retain_until',
]

/**
 * Exports archives as CSV (UTF-8 with BOM, for spreadsheets). The first line is the notice that exported data is
 * for internal management only and has no evidential effect; the export is logged and audited.
 */
export async function exportArchives(
  deps: Deps,
  actor: Actor,
  q: Omit<ArchiveFilters, 'offset'>,
): Promise<{ csv: string; rows: number }> {
  const own = await eligibleEnterprise(deps.db, actor)
  await archivePending(deps, { traderId: own ?? q.enterpriseId, entryId: q.entryId })
  const r = await repo.listArchives(deps.db, {
    ...q,
    offset: 0,
    traderId: own ?? q.enterpriseId,
    today: chinaDateOf(deps.clock.now()),
  })
  const lines = [
    csv(EXPORT_NOTICE),
    EXPORT_COLUMNS.join(','),
    ...r.items.map((a) =>
      [
        a.entryId,
        a.ieFlag,
        a.tradeMode,
        a.customsDistrict,
        a.iePort,
        a.traderCode,
        a.traderName,
        a.declaredAt,
        a.clearedAt,
        a.itemCount,
        a.totalValue,
        a.currency,
        a.retentionYears,
        a.retainUntil,
      ]
        .map(csv)
        .join(','),
    ),
  ]
  const who = actorRef(actor)
  const at = deps.clock.now()
  const { limit: _l, ...filters } = q
  await deps.db.transaction(async (tx) => {
    const id = deps.ids.uuid()
    await repo.insertPrint(tx, {
      id,
      printedAt: at.toISOString(),
      kind: 'EXPORT',
      serial: null,
      archiveId: null,
      entryId: null,
      enterpriseId: own ?? q.enterpriseId ?? null,
      actor: who,
      query: filters,
      rowCount: r.items.length,
      digest: null,
      kid: null,
      validUntil: null,
    })
    appendAudit(tx, {
      at,
      actor: who,
      action: 'ARCHIVES_EXPORTED',
      entityType: 'archive_export',
      entityId: id,
      data: { query: filters, rows: r.items.length },
    })
  })
  return { csv: '\ufeff' + lines.join('\r\n') + '\r\n', rows: r.items.length }
}

/** The print and export log: operators see their enterprise's, officers all. */
export async function listPrints(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Actor,
  q: {
    kind?: 'PRINT' | 'EXPORT' | undefined
    from?: string | undefined
    to?: string | undefined
    limit: number
    offset: number
  },
) {
  return repo.listPrints(deps.db, { ...q, ...(actor.kind === 'card' ? { enterpriseId: actor.enterpriseId } : {}) })
}

// ---- retention enforcement -------------------------------------------------------------------------------

const PURGE_CHUNK = 500

/**
 * Removes archives past retention as of the injected clock's China date (never one still within it): in chunks of
 * 500 per transaction, each removal audited; then drops the yearly partitions that lie wholly in the past and are
 * empty, so old years leave no table behind. With `dryRun` it only lists what would go. Print log rows stay, so
 * a printout scanned later reads "past retention". Queued declarations are archived first (on a dry run too: that
 * removes nothing), so what is due is complete.
 *
 * Every run is recorded in `archive_purge_runs` (the history, {@link listPurgeRuns}), audited as
 * ARCHIVE_PURGE_RUN when it ends. A dry run's row is written in one transaction at the end. A real run's row is
 * written in the transaction of its first deletion or partition drop and advanced in each later one, so it always
 * says exactly what committed; a last transaction marks it finished (or, when there was nothing to remove, writes it
 * then). Hence a run that fails before removing anything leaves no row (nothing to show: it changed nothing), and one
 * that stops midway leaves its row with what it removed and `finishedAt` null.
 */
export async function purgeArchives(deps: Deps, who: string, o: { dryRun: boolean }): Promise<PurgeResult> {
  await sweepArchives(deps)
  const runId = deps.ids.uuid()
  const startedAt = deps.clock.now().toISOString()
  const today = chinaDateOf(deps.clock.now())
  const first = await repo.dueArchives(deps.db, today, PURGE_LIST_MAX)
  const items = first.items.map(({ id: _id, ...x }) => x)
  let recorded = false
  /** Writes the run's row in `tx` the first time (with `count` so far), else adds what `tx` did to it. */
  const record = async (tx: Tx, step: { removed?: number; dropped?: string; finishedAt?: string }) => {
    if (recorded) return repo.advancePurgeRun(tx, runId, step)
    await repo.insertPurgeRun(tx, {
      id: runId,
      startedAt,
      finishedAt: step.finishedAt ?? null,
      actor: who,
      asOf: today,
      dryRun: o.dryRun,
      count: o.dryRun ? first.total : (step.removed ?? 0),
      droppedPartitions: step.dropped ? [step.dropped] : [],
    })
    recorded = true
  }
  const finish = async (result: Omit<PurgeResult, 'runId'>) => {
    await deps.db.transaction(async (tx) => {
      const at = deps.clock.now()
      await record(tx, { finishedAt: at.toISOString() })
      appendAudit(tx, {
        at,
        actor: who,
        action: 'ARCHIVE_PURGE_RUN',
        entityType: 'archive_purge_run',
        entityId: runId,
        data: {
          dryRun: result.dryRun,
          asOf: today,
          count: result.count,
          droppedPartitions: result.droppedPartitions,
        },
      })
    })
    return { ...result, runId }
  }
  if (o.dryRun) return finish({ asOf: today, dryRun: true, count: first.total, items, droppedPartitions: [] })
  let count = 0
  for (;;) {
    const due = await repo.dueArchives(deps.db, today, PURGE_CHUNK)
    if (due.items.length === 0) break
    const at = deps.clock.now()
    count += await deps.db.transaction(async (tx) => {
      const gone = await repo.deleteArchives(tx, due.items, today)
      for (const g of gone)
        appendAudit(tx, {
          at,
          actor: who,
          action: 'ARCHIVE_PURGED',
          entityType: 'archive',
          entityId: g.entry_id,
          data: { retainUntil: g.retain_until, traderId: g.trader_id, asOf: today, runId },
        })
      if (gone.length > 0) await record(tx, { removed: gone.length })
      return gone.length
    })
  }
  const droppedPartitions: string[] = []
  for (const p of await repo.archivePartitions(deps.db)) {
    if (p.upper > today) continue
    const dropped = await deps.db.transaction(async (tx) => {
      if (!(await repo.dropEmptyPartition(tx, p.name))) return false
      appendAudit(tx, {
        at: deps.clock.now(),
        actor: who,
        action: 'ARCHIVE_PARTITION_DROPPED',
        entityType: 'archive_partition',
        entityId: p.name,
        data: { before: p.upper, asOf: today, runId },
      })
      await record(tx, { dropped: p.name })
      return true
    })
    if (dropped) droppedPartitions.push(p.name)
  }
  return finish({ asOf: today, dryRun: false, count, items, droppedPartitions })
}

/** The purge history: runs newest first (admins). */
export const listPurgeRuns = (deps: Pick<Deps, 'db'>, q: Parameters<typeof repo.listPurgeRuns>[1]) =>
  repo.listPurgeRuns(deps.db, q)

/** Admins replace the retention table (audited); it must keep a DEFAULT rule. Applies to archives created from now on. */
export async function replaceRetentionRules(deps: Deps, actor: Actor, rules: RetentionRule[]) {
  if (!rules.some((r) => r.kind === 'DEFAULT'))
    throw new KouanError(
      'ARCHIVE_RETENTION_DEFAULT_REQUIRED',
      422,
      'the retention table needs a DEFAULT rule for all other trade modes',
      { pointer: '/body/items' },
    )
  const bad = rules.findIndex(
    (r) =>
      (r.kind === 'TRADE_MODE' && !/^[0-9]{4}$/.test(r.value)) ||
      (r.kind === 'CUT_MODE' && !/^[0-9]{3}$/.test(r.value)),
  )
  if (bad >= 0)
    throw new KouanError(
      'ARCHIVE_RETENTION_BAD_VALUE',
      422,
      `rule ${bad}: a TRADE_MODE value has 4 digits, a CUT_MODE value 3`,
      { pointer: `/body/items/${bad}/value` },
    )
  await deps.db.transaction(async (tx) => {
    await repo.replaceRetentionRules(tx, rules)
    appendAudit(tx, {
      at: deps.clock.now(),
      actor: actorRef(actor),
      action: 'ARCHIVE_RETENTION_RULES_REPLACED',
      entityType: 'archive_retention_rules',
      entityId: 'table',
      data: { items: rules },
    })
  })
  invalidateRetentionCache()
  return { items: await repo.loadRetentionRules(deps.db) }
}

/** Creates the yearly partitions archives may need: from this year to 12 years ahead (retention is at most 11). */
export async function ensureArchivePartitions(db: Queryable, now: Date): Promise<void> {
  const y = chinaYear(now)
  await db.query(`select ensure_year_partitions('archives', $1, $1 + 12)`, [y])
  await db.query(`select ensure_year_partitions('archive_prints', $1, $1 + 1)`, [y])
  await db.query(`select ensure_year_partitions('certificates', $1, $1 + 1)`, [y])
}

/**
 * A printout's registry entry for certificates' verifier ({@link PrintoutLookup}, wired in src/app.ts). Its row holds
 * its digest; the archive it reproduces may have been purged since (then no fields).
 */
export const printoutEntry: PrintoutLookup = async (db, serial) => {
  const p = await repo.findPrint(db, serial)
  if (!p) return null
  return {
    storedDigest: p.digest,
    contentDigest: p.digest,
    kid: p.kid,
    issuedAt: p.printedAt,
    validFrom: p.printedAt,
    validUntil: repo.dayEnd(p.validUntil), // the end of the last China date of retention
    retention: true,
    revokedAt: null,
    revocationReason: null,
    replacedBy: null,
    fields: p.snapshot
      ? archivePrintFields(p.snapshot, { serial: p.serial, printedAt: p.printedAt, retainUntil: p.validUntil })
      : [],
  }
}
