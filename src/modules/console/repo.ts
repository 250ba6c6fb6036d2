import type { Queryable } from '../../db/index.js'
import type { DeclarationContent } from '../declarations/index.js'
import type { CreditLevel } from '../enterprises/index.js'

const iso = (d: Date | string) => new Date(d).toISOString()

/** Declarations and risk-targeted red-lane declarations per minute in [from, to). */
export async function declarationsPerMinute(db: Queryable, from: string, to: string) {
  const rows = await db.query<{ minute: Date; n: number; intercepts: number }>(
    `select date_trunc('minute', submitted_at) as minute, count(*)::int as n,
       count(*) filter (where lane = 'RED' and risk ->> 'source' in ('RULE', 'MODEL'))::int as intercepts
     from declarations where submitted_at >= $1 and submitted_at < $2 group by 1 order by 1`,
    [from, to],
  )
  return rows.map((r) => ({ minute: iso(r.minute), declarations: r.n, intercepts: r.intercepts }))
}

/** CEB tickets given a verdict per minute in [from, to). */
export async function cebTicketsPerMinute(db: Queryable, from: string, to: string) {
  const rows = await db.query<{ minute: Date; n: number }>(
    `select date_trunc('minute', verdict_at) as minute, count(*)::int as n
     from ceb_tickets where verdict_at >= $1 and verdict_at < $2 group by 1 order by 1`,
    [from, to],
  )
  return rows.map((r) => ({ minute: iso(r.minute), tickets: r.n }))
}

/** Most frequent reason codes of tickets returned (100) since `from`. */
export async function cebTopRejections(db: Queryable, from: string, limit: number) {
  return db.query<{ code: string; tickets: number }>(
    `select r ->> 'code' as code, count(distinct order_no)::int as tickets
     from ceb_tickets, jsonb_array_elements(reasons) r
     where return_status = 100 and verdict_at >= $1 group by 1 order by 2 desc, 1 limit $2`,
    [from, limit],
  )
}

/** Lane of the declarations submitted since `from` ('HELD' for those waiting for an officer, no lane yet). */
export async function laneMix(db: Queryable, from: string) {
  return db.query<{ lane: string; declarations: number }>(
    `select coalesce(lane, case when state = 'REJECTED' then 'REJECTED' else 'HELD' end) as lane, count(*)::int as declarations
     from declarations where submitted_at >= $1 group by 1 order by 1`,
    [from],
  )
}

export interface Totals {
  declarationsToday: number
  declarationsLastHour: number
  interceptsLastHour: number
  openInspections: number
  inspectedToday: number
  nonCompliantToday: number
  heldForReview: number
}

export async function totals(db: Queryable, dayStart: string, hourAgo: string): Promise<Totals> {
  const [d] = await db.query<{ today: number; hour: number; intercepts: number }>(
    `select count(*) filter (where submitted_at >= $1)::int as today, count(*) filter (where submitted_at >= $2)::int as hour,
       count(*) filter (where submitted_at >= $2 and lane = 'RED' and risk ->> 'source' in ('RULE', 'MODEL'))::int as intercepts
     from declarations where submitted_at >= least($1::timestamptz, $2::timestamptz)`,
    [dayStart, hourAgo],
  )
  const [held] = await db.query<{ n: number }>(`select count(*)::int as n from declarations where state = 'SUBMITTED'`)
  const [i] = await db.query<{ open: number; done: number; nc: number }>(
    `select (select count(*)::int from inspections where state <> 'DONE') as open,
       count(*)::int as done, count(*) filter (where result = 'NON_COMPLIANT')::int as nc
     from inspections where state = 'DONE' and finished_at >= $1`,
    [dayStart],
  )
  return {
    declarationsToday: d!.today,
    declarationsLastHour: d!.hour,
    interceptsLastHour: d!.intercepts,
    heldForReview: held!.n,
    openInspections: i!.open,
    inspectedToday: i!.done,
    nonCompliantToday: i!.nc,
  }
}

/** Finished inspections per time bucket, split into the random control group and targeted picks (manual ones excluded). */
export async function hitRateBuckets(db: Queryable, from: string, bucketMinutes: number) {
  const rows = await db.query<{ bucket: Date; random: boolean; inspected: number; non_compliant: number }>(
    `select to_timestamp(floor(extract(epoch from i.finished_at) / ($2::int * 60)) * ($2::int * 60)) as bucket,
       (coalesce((d.risk ->> 'random')::boolean, false) or i.source = 'RANDOM') as random,
       count(*)::int as inspected, count(*) filter (where i.result = 'NON_COMPLIANT')::int as non_compliant
     from inspections i join declarations d on d.id = i.declaration_id and d.submitted_at = i.declaration_submitted_at
     where i.state = 'DONE' and i.source <> 'MANUAL' and i.finished_at >= $1
     group by 1, 2 order by 1`,
    [from, bucketMinutes],
  )
  return rows.map((r) => ({
    bucket: iso(r.bucket),
    random: r.random,
    inspected: r.inspected,
    nonCompliant: r.non_compliant,
  }))
}

/** Inspections the model selected (source MODEL), finished in [from, to): how many and how many found something. */
export async function modelHits(db: Queryable, from: string, to: string) {
  const [r] = await db.query<{ inspected: number; nc: number }>(
    `select count(*)::int as inspected, count(*) filter (where result = 'NON_COMPLIANT')::int as nc
     from inspections where state = 'DONE' and source = 'MODEL' and finished_at >= $1 and finished_at < $2`,
    [from, to],
  )
  return { inspected: r!.inspected, nonCompliant: r!.nc }
}

/** Submission → release per port, median and p90 seconds, released since `from`. */
export async function clearanceByPort(db: Queryable, from: string) {
  return db.query<{ port: string; released: number; medianSeconds: number; p90Seconds: number }>(
    `select ie_port as port, count(*)::int as released,
       percentile_cont(0.5) within group (order by extract(epoch from released_at - submitted_at))::float8 as "medianSeconds",
       percentile_cont(0.9) within group (order by extract(epoch from released_at - submitted_at))::float8 as "p90Seconds"
     from declarations where released_at >= $1 group by 1 order by 2 desc, 1 limit 12`,
    [from],
  )
}

/** Latest finished inspections, newest first. */
export async function recentResults(db: Queryable, limit: number) {
  const rows = await db.query<{
    id: string
    declaration_id: string
    entry_id: string | null
    source: string
    result: 'COMPLIANT' | 'NON_COMPLIANT'
    findings: Array<{ category: string }> | null
    finished_at: Date
  }>(
    `select i.id, i.declaration_id, d.entry_id, i.source, i.result, i.findings, i.finished_at
     from inspections i join declarations d on d.id = i.declaration_id and d.submitted_at = i.declaration_submitted_at
     where i.state = 'DONE' order by i.finished_at desc, i.id desc limit $1`,
    [limit],
  )
  return rows.map((r) => ({
    inspectionId: r.id,
    declarationId: r.declaration_id,
    entryId: r.entry_id,
    source: r.source,
    result: r.result,
    categories: [...new Set((r.findings ?? []).map((f) => f.category))],
    finishedAt: iso(r.finished_at),
  }))
}

/** Item counts per HS6 in the recent window [split, to) and in the baseline [from, split). */
export async function hsCounts(db: Queryable, from: string, split: string, to: string) {
  return db.query<{ key: string; recent: number; before: number }>(
    `select left(hs_code, 6) as key, count(*) filter (where submitted_at >= $2)::int as recent, count(*) filter (where submitted_at < $2)::int as before
     from declaration_items where submitted_at >= $1 and submitted_at < $3 group by 1`,
    [from, split, to],
  )
}

/** Declaration counts per importer (trader) in the recent window and in the baseline. */
export async function importerCounts(db: Queryable, from: string, split: string, to: string) {
  return db.query<{ key: string; label: string; recent: number; before: number }>(
    `select e.customs_code as key, e.name as label, c.recent, c.before
     from (select trader_id, count(*) filter (where submitted_at >= $2)::int as recent, count(*) filter (where submitted_at < $2)::int as before
           from declarations where submitted_at >= $1 and submitted_at < $3 group by 1) c
     join enterprises e on e.id = c.trader_id`,
    [from, split, to],
  )
}

/** Certificates issued, when the certificates module's table exists (it arrives with issue 5). */
export async function certificateCounts(
  db: Queryable,
  dayStart: string,
): Promise<{ available: boolean; issuedToday: number; issuedTotal: number }> {
  const [t] = await db.query<{ ok: boolean }>(
    `select exists (select 1 from information_schema.columns where table_name = 'certificates' and column_name = 'issued_at') as ok`,
  )
  if (!t?.ok) return { available: false, issuedToday: 0, issuedTotal: 0 }
  const [r] = await db.query<{ today: number; total: number }>(
    `select count(*) filter (where issued_at >= $1)::int as today, count(*)::int as total from certificates`,
    [dayStart],
  )
  return { available: true, issuedToday: r!.today, issuedTotal: r!.total }
}

export interface QueueRow {
  id: string
  declaration_id: string
  entry_id: string | null
  kind: 'DOCUMENT' | 'PHYSICAL'
  source: string
  state: 'OPEN' | 'IN_PROGRESS'
  lane: string | null
  score: number | null
  ordered_at: Date
  trader_name: string
  trader_code: string
  credit_level: string
  total_value_cny: string
  items: number
  reasons: Array<{ code: string; message: string }> | null
  total: number
}

/**
 * Open and in-progress inspections, most urgent first: physical before documentary, then by risk score,
 * then the longest waiting.
 */
export async function queue(db: Queryable, f: { state?: string | undefined; limit: number; offset: number }) {
  return db.query<QueueRow>(
    `select i.id, i.declaration_id, d.entry_id, i.kind, i.source, i.state, d.lane, (d.risk ->> 'score')::float8 as score, i.ordered_at,
       e.name as trader_name, e.customs_code as trader_code, e.credit_level, d.total_value_cny::text as total_value_cny,
       jsonb_array_length(d.body -> 'items') as items, d.risk -> 'reasons' as reasons, count(*) over () as total
     from inspections i
     join declarations d on d.id = i.declaration_id and d.submitted_at = i.declaration_submitted_at
     join enterprises e on e.id = d.trader_id
     where i.state <> 'DONE' and ($1::text is null or i.state = $1)
     order by (i.kind = 'PHYSICAL') desc, coalesce((d.risk ->> 'score')::float8, 0) desc, i.ordered_at, i.id
     limit $2 offset $3`,
    [f.state ?? null, f.limit, f.offset],
  )
}

export interface PreviewRow {
  id: string
  entry_id: string | null
  submitted_at: Date
  lane: string | null
  body: DeclarationContent
  credit_level: CreditLevel
  rate: string | null
  result: 'COMPLIANT' | 'NON_COMPLIANT' | null
}

/** Past declarations in [from, to), newest first, with the trader's credit level, the CNY rate and the last inspection result. */
export async function previewRows(db: Queryable, from: string, to: string, limit: number): Promise<PreviewRow[]> {
  return db.query<PreviewRow>(
    `select d.id, d.entry_id, d.submitted_at, d.lane, d.body, e.credit_level, x.cny_per_unit::text as rate, i.result
     from declarations d join enterprises e on e.id = d.trader_id
     left join exchange_rates x on x.currency = d.body ->> 'currency'
     left join lateral (select result from inspections where declaration_id = d.id and declaration_submitted_at = d.submitted_at and state = 'DONE'
       order by finished_at desc limit 1) i on true
     where d.submitted_at >= $1 and d.submitted_at < $2 and d.state <> 'REJECTED'
     order by d.submitted_at desc, d.id limit $3`,
    [from, to, limit],
  )
}
