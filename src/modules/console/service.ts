import type { Db } from '../../db/index.js'
import type { Clock } from '../../shared/clock.js'
import { validationFailed } from '../../errors.js'
import { factsOf } from '../declarations/index.js'
import { ruleFires } from '../selectivity/index.js'
import { ruleProblems } from '../selectivity/index.js'
import { weeklyHitRates } from '../risk/index.js'
import * as repo from './repo.js'
import {
  HIT_RATE_BUCKETS,
  HIT_RATE_BUCKET_MINUTES,
  LIVE_WINDOW_MINUTES,
  PREVIEW_MAX_SCAN,
  SPIKE_BASELINE_MINUTES,
  SPIKE_RECENT_MINUTES,
  type Alert,
  type Dashboard,
  type Priority,
  type QueueItem,
  type RulePreview,
  type RulePreviewRequest,
} from './schema.js'

export interface Deps {
  db: Db
  clock: Clock
}

const MINUTE = 60_000
const rate = (n: number, k: number) => (n === 0 ? null : Math.round((k / n) * 10_000) / 10_000)

/** 00:00 of the China (Asia/Shanghai, UTC+8, no DST) date of `now`, as a UTC instant: legal days are China days. */
export function chinaDayStart(now: Date): Date {
  const shifted = now.getTime() + 8 * 3600_000
  return new Date(shifted - (shifted % 86_400_000) - 8 * 3600_000)
}

/** One entry per minute of the window ending at `now` (the current minute last), zero where nothing happened. */
export function fillMinutes(
  now: Date,
  minutes: number,
  declarations: Array<{ minute: string; declarations: number; intercepts: number }>,
  tickets: Array<{ minute: string; tickets: number }>,
): Dashboard['perMinute'] {
  const last = Math.floor(now.getTime() / MINUTE) * MINUTE
  const d = new Map(declarations.map((r) => [new Date(r.minute).getTime(), r]))
  const t = new Map(tickets.map((r) => [new Date(r.minute).getTime(), r.tickets]))
  const out: Dashboard['perMinute'] = []
  for (let m = last - (minutes - 1) * MINUTE; m <= last; m += MINUTE) {
    out.push({
      minute: new Date(m).toISOString(),
      declarations: d.get(m)?.declarations ?? 0,
      intercepts: d.get(m)?.intercepts ?? 0,
      cebTickets: t.get(m) ?? 0,
    })
  }
  return out
}

/** Targeted vs random hit rate per bucket (every bucket of the window, empty ones with null rates) and over the whole window. */
export function hitRateSeries(
  now: Date,
  bucketMinutes: number,
  buckets: number,
  rows: Array<{ bucket: string; random: boolean; inspected: number; nonCompliant: number }>,
): Dashboard['hitRate'] {
  const size = bucketMinutes * MINUTE
  const last = Math.floor(now.getTime() / size) * size
  const by = new Map<number, { t: [number, number]; r: [number, number] }>()
  const targeted: [number, number] = [0, 0]
  const random: [number, number] = [0, 0]
  for (const row of rows) {
    const k = new Date(row.bucket).getTime()
    const b = by.get(k) ?? { t: [0, 0], r: [0, 0] }
    const [pair, total] = row.random ? [b.r, random] : [b.t, targeted]
    pair[0] += row.inspected
    pair[1] += row.nonCompliant
    total[0] += row.inspected
    total[1] += row.nonCompliant
    by.set(k, b)
  }
  const series: Dashboard['hitRate']['series'] = []
  for (let k = last - (buckets - 1) * size; k <= last; k += size) {
    const b = by.get(k) ?? { t: [0, 0], r: [0, 0] }
    series.push({
      bucket: new Date(k).toISOString(),
      targetedInspected: b.t[0],
      targetedHitRate: rate(b.t[0], b.t[1]),
      randomInspected: b.r[0],
      randomHitRate: rate(b.r[0], b.r[1]),
    })
  }
  const t = rate(targeted[0], targeted[1])
  const r = rate(random[0], random[1])
  return {
    bucketMinutes,
    series,
    targeted: { inspected: targeted[0], nonCompliant: targeted[1], hitRate: t },
    random: { inspected: random[0], nonCompliant: random[1], hitRate: r },
    liftPp: t === null || r === null ? null : Math.round((t - r) * 10_000) / 100,
  }
}

/**
 * When a count in the recent window is a spike: at least `minCount`, and `factor` times what the baseline
 * predicts; nothing is judged until the baseline holds `minBaseline` occurrences in all (a server that just
 * started has no normal to compare with).
 */
export interface SpikeOptions {
  minCount: number
  factor: number
  minBaseline: number
}
export const SPIKE_DEFAULTS: SpikeOptions = { minCount: 10, factor: 3, minBaseline: 100 }

/**
 * Spikes of one key (an HS6 code, an importer). The expected recent count is the key's share of the baseline
 * times the recent total, so traffic that grows as a whole (a morning rush, a simulator starting) raises no
 * alert; only a key that grows faster than the rest does. Expected counts below 1 count as 1 (a key never
 * seen before spikes at `minCount`). Critical at twice the factor. The five largest ratios, largest first.
 */
export function detectSpikes(
  kind: 'HS_SPIKE' | 'IMPORTER_SPIKE',
  rows: Array<{ key: string; label?: string; recent: number; before: number }>,
  o: SpikeOptions = SPIKE_DEFAULTS,
): Alert[] {
  const recentTotal = rows.reduce((a, r) => a + r.recent, 0)
  const beforeTotal = rows.reduce((a, r) => a + r.before, 0)
  if (beforeTotal < o.minBaseline) return []
  const out: Array<Alert & { ratio: number }> = []
  for (const r of rows) {
    const expected = (r.before / beforeTotal) * recentTotal
    const ratio = r.recent / Math.max(expected, 1)
    if (r.recent < o.minCount || ratio < o.factor) continue
    out.push({
      kind,
      severity: ratio >= 2 * o.factor ? 'CRITICAL' : 'WARNING',
      key: r.key,
      ...(r.label ? { label: r.label } : {}),
      recent: r.recent,
      baseline: Math.round(expected * 100) / 100,
      ratio,
    })
  }
  return out
    .sort((a, b) => b.ratio - a.ratio || a.key.localeCompare(b.key))
    .slice(0, 5)
    .map(({ ratio: _r, ...a }) => a)
}

/**
 * The model's hit rate (share of its selections found non-compliant) dropped: the recent rate is at least
 * `dropPp` points below the baseline's, both over at least `minInspected` inspections. Critical at twice the drop.
 */
export function modelDropAlert(
  recent: { inspected: number; nonCompliant: number },
  baseline: { inspected: number; nonCompliant: number },
  modelVersion: number,
  o = { minInspected: 20, dropPp: 15 },
): Alert | undefined {
  if (recent.inspected < o.minInspected || baseline.inspected < o.minInspected) return undefined
  const r = recent.nonCompliant / recent.inspected
  const b = baseline.nonCompliant / baseline.inspected
  const drop = (b - r) * 100
  if (drop < o.dropPp) return undefined
  return {
    kind: 'MODEL_HIT_RATE_DROP',
    severity: drop >= 2 * o.dropPp ? 'CRITICAL' : 'WARNING',
    key: `v${modelVersion}`,
    recent: Math.round(r * 10_000) / 10_000,
    baseline: Math.round(b * 10_000) / 10_000,
  }
}

/** Queue priority: targeted physical inspections and high scores first; documentary checks of low scores last. */
export function priorityOf(kind: 'DOCUMENT' | 'PHYSICAL', source: string, score: number): Priority {
  if ((kind === 'PHYSICAL' && (source === 'MODEL' || source === 'RULE')) || score >= 71) return 'HIGH'
  if (kind === 'PHYSICAL' || score >= 31) return 'MEDIUM'
  return 'LOW'
}

/** The command dashboard's figures at `now` (one snapshot, what the stream pushes). */
export async function buildDashboard(
  deps: Deps & { modelVersion?: number },
  now = deps.clock.now(),
): Promise<Dashboard> {
  const db = deps.db
  const to = new Date(now.getTime() + MINUTE).toISOString()
  const hourAgo = new Date(now.getTime() - LIVE_WINDOW_MINUTES * MINUTE).toISOString()
  const windowStart = new Date((Math.floor(now.getTime() / MINUTE) - (LIVE_WINDOW_MINUTES - 1)) * MINUTE).toISOString()
  const dayStart = chinaDayStart(now).toISOString()
  const hitFrom = new Date(
    (Math.floor(now.getTime() / (HIT_RATE_BUCKET_MINUTES * MINUTE)) - (HIT_RATE_BUCKETS - 1)) *
      HIT_RATE_BUCKET_MINUTES *
      MINUTE,
  ).toISOString()
  const spikeSplit = new Date(now.getTime() - SPIKE_RECENT_MINUTES * MINUTE).toISOString()
  const spikeFrom = new Date(now.getTime() - (SPIKE_RECENT_MINUTES + SPIKE_BASELINE_MINUTES) * MINUTE).toISOString()
  const dayAgo = new Date(now.getTime() - 24 * 60 * MINUTE).toISOString()

  // Sequential on purpose: PGlite has one connection, and on PostgreSQL this stays one connection per snapshot.
  const totals = await repo.totals(db, dayStart, hourAgo)
  const perMinute = fillMinutes(
    now,
    LIVE_WINDOW_MINUTES,
    await repo.declarationsPerMinute(db, windowStart, to),
    await repo.cebTicketsPerMinute(db, windowStart, to),
  )
  const laneMix = await repo.laneMix(db, hourAgo)
  const hitRate = hitRateSeries(
    now,
    HIT_RATE_BUCKET_MINUTES,
    HIT_RATE_BUCKETS,
    await repo.hitRateBuckets(db, hitFrom, HIT_RATE_BUCKET_MINUTES),
  )
  const clearance = await repo.clearanceByPort(db, dayAgo)
  const topRejections = await repo.cebTopRejections(db, dayAgo, 5)
  const lastMinute = await repo.cebTicketsPerMinute(db, new Date(now.getTime() - MINUTE).toISOString(), to)
  const certificates = await repo.certificateCounts(db, dayStart)
  const recentResults = await repo.recentResults(db, 8)

  const alerts: Alert[] = [
    ...detectSpikes('HS_SPIKE', await repo.hsCounts(db, spikeFrom, spikeSplit, to)),
    ...detectSpikes('IMPORTER_SPIKE', await repo.importerCounts(db, spikeFrom, spikeSplit, to)),
  ]
  const drop = modelDropAlert(
    await repo.modelHits(db, hourAgo, to),
    await repo.modelHits(db, dayAgo, hourAgo),
    deps.modelVersion ?? 0,
  )
  if (drop) alerts.push(drop)
  const weekly = await weeklyHitRates(db, now, 12)
  if (weekly.drift) {
    const last = weekly.items.at(-1)
    alerts.push({
      kind: 'HIT_RATE_DRIFT',
      severity: 'WARNING',
      key: last?.week ?? '',
      recent: last?.liftPp ?? 0,
      baseline: weekly.liftTrendPpPerWeek ?? 0,
    })
  }
  return {
    at: now.toISOString(),
    totals,
    perMinute,
    laneMix,
    hitRate,
    clearance,
    ecommerce: {
      ticketsLastMinute: lastMinute.reduce((a, r) => a + r.tickets, 0),
      ticketsLastHour: perMinute.reduce((a, r) => a + r.cebTickets, 0),
      topRejections,
    },
    certificates,
    recentResults,
    alerts,
  }
}

/** The inspection queue, most urgent first, with the facts an officer triages by. */
export async function inspectionQueue(
  db: Db,
  f: { state?: 'OPEN' | 'IN_PROGRESS' | undefined; limit: number; offset: number },
): Promise<{ items: QueueItem[]; total: number }> {
  const rows = await repo.queue(db, f)
  return {
    total: rows[0]?.total ?? 0,
    items: rows.map((r) => {
      const score = r.score ?? 0
      const top = (r.reasons ?? []).find((x) => x.code !== 'CREDIT' && x.code !== 'MODEL') ?? r.reasons?.[0]
      return {
        inspectionId: r.id,
        declarationId: r.declaration_id,
        entryId: r.entry_id,
        kind: r.kind,
        source: r.source,
        state: r.state,
        priority: priorityOf(r.kind, r.source, score),
        lane: r.lane,
        score,
        orderedAt: new Date(r.ordered_at).toISOString(),
        traderName: r.trader_name,
        traderCode: r.trader_code,
        creditLevel: r.credit_level,
        totalValueCny: r.total_value_cny,
        items: r.items,
        topReason: top ? top.message : null,
      }
    }),
  }
}

/**
 * How a draft targeting rule would have done: evaluated with the live engine's `ruleFires` on the facts of
 * past declarations (newest first, at most {@link PREVIEW_MAX_SCAN}), how many it selects and, among those
 * an officer inspected, how many were non-compliant, against the hit rate of all inspected declarations.
 */
export async function previewRule(deps: Deps, input: RulePreviewRequest): Promise<RulePreview> {
  const problems = ruleProblems({ name: 'preview', conditions: input.conditions, action: input.action ?? { score: 1 } })
  if (problems.length) throw validationFailed(problems)
  const now = deps.clock.now()
  const from = new Date(now.getTime() - input.days * 86_400_000).toISOString()
  const to = new Date(now.getTime() + 1).toISOString()
  const rows = await repo.previewRows(deps.db, from, to, PREVIEW_MAX_SCAN + 1)
  const truncated = rows.length > PREVIEW_MAX_SCAN
  const scan = truncated ? rows.slice(0, PREVIEW_MAX_SCAN) : rows
  const rule = { conditions: input.conditions }
  let selected = 0
  const sel = { inspected: 0, nonCompliant: 0 }
  const base = { inspected: 0, nonCompliant: 0 }
  const examples: RulePreview['examples'] = []
  for (const r of scan) {
    const nc = r.result === 'NON_COMPLIANT' ? 1 : 0
    if (r.result) {
      base.inspected++
      base.nonCompliant += nc
    }
    const { facts } = factsOf(r.body, { creditLevel: r.credit_level }, r.rate ?? '1')
    if (!ruleFires(rule, facts)) continue
    selected++
    if (r.result) {
      sel.inspected++
      sel.nonCompliant += nc
    }
    if (examples.length < 10)
      examples.push({
        id: r.id,
        entryId: r.entry_id,
        submittedAt: new Date(r.submitted_at).toISOString(),
        lane: r.lane,
        result: r.result,
      })
  }
  return {
    from,
    to: now.toISOString(),
    scanned: scan.length,
    truncated,
    selected,
    selectedShare: rate(scan.length, selected),
    selectedInspected: { ...sel, hitRate: rate(sel.inspected, sel.nonCompliant) },
    baseline: { ...base, hitRate: rate(base.inspected, base.nonCompliant) },
    examples,
  }
}
