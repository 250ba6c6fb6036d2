import type { Db, Queryable } from '../../db/index.js'
import type { Clock } from '../../shared/clock.js'
import { appendAudit } from '../../shared/audit.js'
import { KouanError, conflict, notFound } from '../../errors.js'
import type { DeclarationContent } from '../declarations/index.js'
import type { CreditLevel } from '../enterprises/index.js'
import { FEATURE_NAMES, RiskHistory, extractFeatures, type RiskLabel, type RiskRecord } from './features.js'
import { auc, precisionAt, type Dataset } from './gbdt.js'
import { labelOf } from './live.js'
import { fitFixed, fitWithValidation, paramsForSize, type FitInput } from './model.js'
import { declarationRecords } from './records.js'

export interface Deps {
  db: Db
  clock: Clock
}

/** Fewest labelled items (and frauds among them) a model is trained on. */
export const MIN_LABELLED = 50
export const MIN_FRAUDS = 5

interface TrainingRow {
  id: string
  submitted_at: Date
  body: DeclarationContent
  credit_level: CreditLevel
  rate: string | null
  finished_at: Date | null
  result: string | null
  findings: Array<{ category: string }> | null
}

type Event =
  | { t: number; order: number; kind: 'declare'; records: RiskRecord[]; label: RiskLabel | null }
  | { t: number; order: number; kind: 'learn'; records: RiskRecord[]; label: RiskLabel }

/**
 * The labelled training matrix of the database, built as live scoring sees it: events in time order,
 * a declaration's features from the history before its submission, its label learnt when the inspection
 * finished. Unlabelled declarations count in the history but are not training rows.
 */
export async function trainingSet(db: Queryable): Promise<FitInput & { days: Float64Array }> {
  const rows = await db.query<TrainingRow>(
    `select d.id, d.submitted_at, d.body, e.credit_level, x.cny_per_unit as rate, i.finished_at, i.result, i.findings
     from declarations d join enterprises e on e.id = d.trader_id left join exchange_rates x on x.currency = d.body ->> 'currency'
     left join lateral (select finished_at, result, findings from inspections
       where declaration_id = d.id and declaration_submitted_at = d.submitted_at and state = 'DONE' order by finished_at desc limit 1) i on true
     where d.state <> 'REJECTED' order by d.submitted_at, d.id`,
  )
  const events: Event[] = []
  rows.forEach((r, i) => {
    const records = declarationRecords({
      id: r.id,
      submittedAt: new Date(r.submitted_at),
      content: r.body,
      traderCredit: r.credit_level,
      cnyPerUnit: Number(r.rate ?? 1),
    })
    const label = r.result ? labelOf({ result: r.result, findings: r.findings }) : null
    events.push({ t: new Date(r.submitted_at).getTime(), order: 2 * i, kind: 'declare', records, label })
    if (label && r.finished_at)
      events.push({ t: new Date(r.finished_at).getTime(), order: 2 * i + 1, kind: 'learn', records, label })
  })
  events.sort((a, b) => a.t - b.t || a.order - b.order)
  const history = new RiskHistory()
  const feats: Float32Array[] = []
  const labels: number[] = []
  const critical: number[] = []
  const days: number[] = []
  for (const e of events) {
    for (const r of e.records) {
      if (e.kind === 'declare') {
        if (e.label) {
          feats.push(extractFeatures(r, history))
          labels.push(e.label.fraud)
          critical.push(e.label.critical)
          days.push(r.day)
        }
        history.observe(r)
      } else history.learn(r, e.label)
    }
  }
  const nRows = feats.length
  const nFeatures = FEATURE_NAMES.length
  const values = new Float32Array(nRows * nFeatures)
  feats.forEach((row, r) => {
    for (let f = 0; f < nFeatures; f++) values[f * nRows + r] = row[f]!
  })
  return {
    data: { nRows, nFeatures, values, labels: Float32Array.from(labels), featureNames: [...FEATURE_NAMES] },
    critical: Float32Array.from(critical),
    days: Float64Array.from(days),
  }
}

/** Rows [from, to) of a column-major matrix. */
function slice(x: FitInput, from: number, to: number): FitInput {
  const n = to - from
  const { nRows, nFeatures } = x.data
  const values = new Float32Array(n * nFeatures)
  for (let f = 0; f < nFeatures; f++) values.set(x.data.values.subarray(f * nRows + from, f * nRows + to), f * n)
  const data: Dataset = {
    nRows: n,
    nFeatures,
    values,
    labels: x.data.labels.slice(from, to),
    featureNames: x.data.featureNames,
  }
  return { data, critical: x.critical.slice(from, to) }
}

export interface ModelSummary {
  version: number
  status: 'CANDIDATE' | 'ACTIVE' | 'RETIRED'
  createdAt: string
  createdBy: string
  trainedRows: number
  metrics: Record<string, number>
  promotedAt: string | null
  promotedBy: string | null
}

/**
 * Trains a model on the inspection results in the database (`kouan risk train`): early stopping on the
 * latest 20 % of labelled items, then a refit on all of them; stored as a CANDIDATE for an officer to promote.
 */
export async function trainModel(
  deps: Deps,
  actor: string,
  log: (m: string) => void = () => {},
): Promise<ModelSummary> {
  const all = await trainingSet(deps.db)
  const n = all.data.nRows
  const frauds = all.data.labels.reduce((a, b) => a + b, 0)
  if (n < MIN_LABELLED || frauds < MIN_FRAUDS) {
    throw new KouanError(
      'RISK_NOT_ENOUGH_LABELS',
      422,
      `training needs at least ${MIN_LABELLED} inspected items and ${MIN_FRAUDS} frauds; the database has ${n} and ${frauds}`,
    )
  }
  log(`training on ${n} labelled items (${frauds} frauds), ${FEATURE_NAMES.length} features`)
  const cut = Math.floor(n * 0.8)
  const tr = slice(all, 0, cut)
  const va = slice(all, cut, n)
  const params = paramsForSize(n)
  const fitted = fitWithValidation(tr, va, { log, params })
  const scores = fitted.model.scoreDataset(va.data)
  const metrics = {
    validRows: va.data.nRows,
    validFraudRate: va.data.labels.reduce((a, b) => a + b, 0) / Math.max(1, va.data.nRows),
    validAuc: auc(scores, va.data.labels),
    validPrecisionAt5: precisionAt(scores, va.data.labels, 0.05),
    validPrecisionAt10: precisionAt(scores, va.data.labels, 0.1),
    rounds: Math.round(fitted.rounds * (n / cut)),
  }
  const model = fitFixed(all, metrics.rounds, { log, params })
  const now = deps.clock.now().toISOString()
  return deps.db.transaction(async (tx) => {
    const [row] = await tx.query<{ version: number }>(
      `insert into risk_models (version, status, created_at, created_by, trained_rows, metrics, artifact)
       select coalesce(max(version), 0) + 1, 'CANDIDATE', $1, $2, $3, $4::jsonb, $5::jsonb from risk_models returning version`,
      [now, actor, n, JSON.stringify(metrics), JSON.stringify(model.toJSON())],
    )
    appendAudit(tx, {
      at: new Date(now),
      actor,
      action: 'RISK_MODEL_TRAINED',
      entityType: 'risk_model',
      entityId: String(row!.version),
      data: { trainedRows: n, metrics },
    })
    return (await listModels(tx)).find((m) => m.version === row!.version)!
  })
}

export async function listModels(db: Queryable): Promise<ModelSummary[]> {
  const rows = await db.query<{
    version: number
    status: ModelSummary['status']
    created_at: Date
    created_by: string
    trained_rows: number
    metrics: Record<string, number>
    promoted_at: Date | null
    promoted_by: string | null
  }>(
    'select version, status, created_at, created_by, trained_rows, metrics, promoted_at, promoted_by from risk_models order by version desc',
  )
  return rows.map((r) => ({
    version: r.version,
    status: r.status,
    createdAt: new Date(r.created_at).toISOString(),
    createdBy: r.created_by,
    trainedRows: r.trained_rows,
    metrics: r.metrics,
    promotedAt: r.promoted_at ? new Date(r.promoted_at).toISOString() : null,
    promotedBy: r.promoted_by,
  }))
}

/** Makes `version` the active model (the active one retires); every process picks it up at its next sync. */
export async function promoteModel(deps: Deps, actor: string, version: number): Promise<ModelSummary> {
  const now = deps.clock.now().toISOString()
  return deps.db.transaction(async (tx) => {
    const [m] = await tx.query<{ status: string }>('select status from risk_models where version = $1 for update', [
      version,
    ])
    if (!m) throw notFound('RISK_MODEL_NOT_FOUND', `risk model ${version}`, '/params/version')
    if (m.status === 'ACTIVE')
      throw conflict('RISK_MODEL_ALREADY_ACTIVE', `model ${version} is already active`, '/params/version')
    const [prev] = await tx.query<{ version: number }>(
      `update risk_models set status = 'RETIRED' where status = 'ACTIVE' returning version`,
    )
    await tx.query(`update risk_models set status = 'ACTIVE', promoted_at = $2, promoted_by = $3 where version = $1`, [
      version,
      now,
      actor,
    ])
    appendAudit(tx, {
      at: new Date(now),
      actor,
      action: 'RISK_MODEL_PROMOTED',
      entityType: 'risk_model',
      entityId: String(version),
      data: { replaced: prev?.version ?? null },
    })
    return (await listModels(tx)).find((x) => x.version === version)!
  })
}

/** Re-activates the model that was active before the current one. */
export async function rollbackModel(deps: Deps, actor: string): Promise<ModelSummary> {
  const [current] = await deps.db.query<{ version: number }>(`select version from risk_models where status = 'ACTIVE'`)
  if (!current) throw conflict('RISK_NO_ACTIVE_MODEL', 'no model is active', '')
  const [previous] = await deps.db.query<{ version: number }>(
    `select version from risk_models where status = 'RETIRED' and promoted_at is not null and version <> $1 order by promoted_at desc limit 1`,
    [current.version],
  )
  if (!previous) throw conflict('RISK_NOTHING_TO_ROLL_BACK_TO', 'no earlier active model to roll back to', '')
  return promoteModel(deps, actor, previous.version)
}

/**
 * Hit rate of targeted versus random selection per week (China weeks, Monday first) over the last
 * `weeks`, from finished inspections, with the trend of the lift (percentage points per week, least
 * squares) and a drift flag when the last four weeks' lift fell 10 points below the four before.
 */
export async function weeklyHitRates(db: Queryable, now: Date, weeks: number) {
  const from = new Date(now.getTime() - weeks * 7 * 86_400_000).toISOString()
  const rows = await db.query<{ week: string; random: boolean; inspected: number; non_compliant: number }>(
    `select to_char(date_trunc('week', i.finished_at at time zone 'Asia/Shanghai'), 'YYYY-MM-DD') as week,
       (coalesce((d.risk ->> 'random')::boolean, false) or i.source = 'RANDOM') as random,
       count(*)::int as inspected, count(*) filter (where i.result = 'NON_COMPLIANT')::int as non_compliant
     from inspections i join declarations d on d.id = i.declaration_id and d.submitted_at = i.declaration_submitted_at
     where i.state = 'DONE' and i.source <> 'MANUAL' and i.finished_at >= $1
     group by 1, 2 order by 1`,
    [from],
  )
  const byWeek = new Map<string, { targeted: [number, number]; random: [number, number] }>()
  for (const r of rows) {
    const w = byWeek.get(r.week) ?? { targeted: [0, 0], random: [0, 0] }
    const g = r.random ? w.random : w.targeted
    g[0] += r.inspected
    g[1] += r.non_compliant
    byWeek.set(r.week, w)
  }
  const rate = ([n, k]: [number, number]) => (n === 0 ? null : Math.round((k / n) * 10_000) / 10_000)
  const items = [...byWeek].map(([week, w]) => {
    const t = rate(w.targeted)
    const r = rate(w.random)
    return {
      week,
      targetedInspected: w.targeted[0],
      targetedHitRate: t,
      randomInspected: w.random[0],
      randomHitRate: r,
      liftPp: t === null || r === null ? null : Math.round((t - r) * 10_000) / 100,
    }
  })
  const lifts = items.map((x, i) => [i, x.liftPp] as const).filter((x): x is readonly [number, number] => x[1] !== null)
  let slope: number | null = null
  if (lifts.length >= 2) {
    const mx = lifts.reduce((a, [x]) => a + x, 0) / lifts.length
    const my = lifts.reduce((a, [, y]) => a + y, 0) / lifts.length
    const sxx = lifts.reduce((a, [x]) => a + (x - mx) ** 2, 0)
    slope = sxx === 0 ? null : Math.round((lifts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx) * 100) / 100
  }
  const mean = (xs: Array<number | null>) => {
    const v = xs.filter((x): x is number => x !== null)
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null
  }
  const last4 = mean(items.slice(-4).map((x) => x.liftPp))
  const prev4 = mean(items.slice(-8, -4).map((x) => x.liftPp))
  return { items, liftTrendPpPerWeek: slope, drift: last4 !== null && prev4 !== null && last4 < prev4 - 10 }
}
