import type { Queryable, Tx } from '../../db/index.js'
import { yearRange } from '../certificates/index.js'
import type { Archive, ArchiveFilters, ArchiveSnapshot, ArchiveSummary, RetentionRule } from './schema.js'

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null)

// ---- retention rules ---------------------------------------------------------------------------------------

export async function loadRetentionRules(db: Queryable): Promise<RetentionRule[]> {
  return db.query<RetentionRule>(
    'select kind, value, years, basis from archive_retention_rules order by years desc, id',
  )
}

export async function replaceRetentionRules(tx: Tx, rules: RetentionRule[]): Promise<void> {
  await tx.query('delete from archive_retention_rules')
  await tx.query(
    `insert into archive_retention_rules (kind, value, years, basis)
     select kind, value, years, basis from jsonb_to_recordset($1::jsonb) as x(kind text, value text, years int, basis text)`,
    [JSON.stringify(rules)],
  )
}

// ---- archiving (from the outbox: DeclarationCleared, subscriber `archives`) ------------------------------------

/** A cleared declaration to archive: its keys, and the id its archive gets. */
export interface ArchiveKey {
  id: string
  declarationId: string
  submittedAt: string
}

/**
 * A retention rule as the archive statement applies it: `ord`, its place in the table's order (which breaks ties
 * between rules of equal years as `retentionOf` does), and `basis`, what the archive records when it wins.
 */
export interface RankedRule {
  ord: number
  kind: string
  value: string
  years: number
  basis: string
}

// A timestamp as the API writes it (UTC, milliseconds, Z), so snapshots read the same as the declaration did.
const isoSql = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/**
 * Archives cleared declarations by key in one statement, copying each into its archive inside the database (the
 * declaration never travels through the application): the retention class (the longest period of the rules that
 * match the declaration's trade mode, ManualNo prefix, levy nature, or the default: `retentionOf` in SQL) and its
 * end (the China date of clearance plus the years; 29 February becomes 28 February), the snapshot of the content and
 * the parties as registered now. Keys of declarations not cleared are skipped, and so is a declaration archived
 * before. Returns what was inserted.
 */
export async function insertArchives(tx: Tx, xs: ArchiveKey[], rules: RankedRule[], createdAt: string) {
  if (xs.length === 0) return []
  return tx.query<{
    id: string
    declaration_id: string
    entry_id: string
    retention_years: number
    retain_until: string
    retention_basis: string
  }>(
    `insert into archives (id, retain_until, declaration_id, declaration_submitted_at, entry_id, trader_id, ie_flag, trade_mode, customs_district,
       ie_port, declared_at, cleared_at, retention_years, retention_basis, snapshot, created_at)
     select x.id, (((d.cleared_at at time zone 'UTC') + interval '8 hours')::date + make_interval(years => r.years))::date,
       d.id, d.submitted_at, d.entry_id, d.trader_id, d.ie_flag, d.trade_mode, d.customs_district,
       d.ie_port, d.submitted_at, d.cleared_at, r.years, r.basis,
       jsonb_build_object(
         'entryId', d.entry_id, 'content', d.body - 'signature',
         'trader', jsonb_build_object('name', t.name, 'customsCode', t.customs_code, 'uscc', t.uscc),
         'declarant', jsonb_build_object('name', c.name, 'customsCode', c.customs_code),
         'totalValue', (select round(coalesce(sum((i ->> 'totalValue')::numeric), 0), 2)::text from jsonb_array_elements(d.body -> 'items') i),
         'totalValueCny', d.total_value_cny::text,
         'declaredAt', ${isoSql('d.submitted_at')}, 'releasedAt', ${isoSql('d.released_at')}, 'clearedAt', ${isoSql('d.cleared_at')}),
       $2::timestamptz
     from jsonb_to_recordset($1::jsonb) as x(id uuid, declaration_id uuid, submitted_at timestamptz)
     join declarations d on d.id = x.declaration_id and d.submitted_at = x.submitted_at and d.state = 'CLEARED' and d.entry_id is not null
       -- The keys again, as arrays: the planner prunes to their partitions and looks them up by key, where the join
       -- alone let it hash whole partitions (a cost growing with the table, issue 11).
       and d.id = any($3::uuid[]) and d.submitted_at = any($4::timestamptz[])
     join enterprises t on t.id = d.trader_id
     join enterprises c on c.id = d.declarant_id
     cross join lateral (
       select r.years, r.basis from jsonb_to_recordset($5::jsonb) as r(ord int, kind text, value text, years int, basis text)
       where r.kind = 'DEFAULT' or (r.kind = 'TRADE_MODE' and r.value = d.body ->> 'tradeMode')
         or (r.kind = 'MANUAL_PREFIX' and d.body ->> 'manualNo' <> '' and starts_with(d.body ->> 'manualNo', r.value))
         or (r.kind = 'CUT_MODE' and r.value = d.body ->> 'cutMode')
       order by r.years desc, r.ord limit 1) r
     on conflict do nothing
     returning id, declaration_id, entry_id, retention_years, retain_until::text as retain_until, retention_basis`,
    [
      JSON.stringify(xs.map((a) => ({ id: a.id, declaration_id: a.declarationId, submitted_at: a.submittedAt }))),
      createdAt,
      xs.map((a) => a.declarationId),
      [...new Set(xs.map((a) => a.submittedAt))],
      JSON.stringify(rules),
    ],
  )
}

// ---- archives ----------------------------------------------------------------------------------------------

interface ArchiveRow {
  id: string
  entry_id: string
  declaration_id: string
  trader_id: string
  ie_flag: string
  trade_mode: string
  customs_district: string
  ie_port: string
  declared_at: Date
  cleared_at: Date
  retention_years: number
  retention_basis: string
  retain_until: string
  snapshot: ArchiveSnapshot
}
const COLS = `id, entry_id, declaration_id, trader_id, ie_flag, trade_mode, customs_district, ie_port, declared_at, cleared_at, retention_years,
  retention_basis, retain_until::text as retain_until, snapshot`
const base = (r: ArchiveRow) => ({
  id: r.id,
  entryId: r.entry_id,
  declarationId: r.declaration_id,
  traderId: r.trader_id,
  traderName: r.snapshot.trader.name,
  traderCode: r.snapshot.trader.customsCode,
  ieFlag: r.ie_flag,
  tradeMode: r.trade_mode,
  customsDistrict: r.customs_district,
  iePort: r.ie_port,
  declaredAt: iso(r.declared_at)!,
  clearedAt: iso(r.cleared_at)!,
  retentionYears: r.retention_years,
  retentionBasis: r.retention_basis,
  retainUntil: r.retain_until,
})
const toArchive = (r: ArchiveRow): Archive => ({ ...base(r), snapshot: r.snapshot })
const toSummary = (r: ArchiveRow): ArchiveSummary => ({
  ...base(r),
  totalValue: r.snapshot.totalValue,
  currency: r.snapshot.content.currency,
  itemCount: r.snapshot.content.items.length,
})

// China dates to UTC bounds: clearedFrom is inclusive from 00:00 UTC+8, clearedTo inclusive to the end of its day
// (dayEnd: the first instant after it, also a printout's validity end).
const dayStart = (d: string) => new Date(`${d}T00:00:00+08:00`).toISOString()
export const dayEnd = (d: string) => new Date(Date.parse(`${d}T00:00:00+08:00`) + 86_400_000).toISOString()

/** Archives matching filters still within retention on `today` (a China date), newest clearance first, with the total. */
export async function listArchives(
  db: Queryable,
  f: Omit<ArchiveFilters, 'limit' | 'offset'> & {
    traderId?: string | undefined
    today: string
    limit: number
    offset: number
  },
) {
  const rows = await db.query<ArchiveRow & { total: number }>(
    `select ${COLS}, count(*) over () as total from archives
     where retain_until >= $1::date and ($2::uuid is null or trader_id = $2)
       and ($3::timestamptz is null or cleared_at >= $3) and ($4::timestamptz is null or cleared_at < $4)
       and ($5::text is null or entry_id = $5) and ($6::text is null or trade_mode = $6) and ($7::text is null or ie_port = $7)
       and ($8::text is null or ie_flag = $8)
     order by cleared_at desc, entry_id limit $9 offset $10`,
    [
      f.today,
      f.traderId ?? null,
      f.clearedFrom ? dayStart(f.clearedFrom) : null,
      f.clearedTo ? dayEnd(f.clearedTo) : null,
      f.entryId ?? null,
      f.tradeMode ?? null,
      f.iePort ?? null,
      f.ieFlag ?? null,
      f.limit,
      f.offset,
    ],
  )
  return { items: rows.map(toSummary), total: rows[0]?.total ?? 0 }
}

/** An archive by entry number (any retention state). */
export async function findArchive(db: Queryable, entryId: string): Promise<Archive | undefined> {
  const [r] = await db.query<ArchiveRow>(`select ${COLS} from archives where entry_id = $1 limit 1`, [entryId])
  return r && toArchive(r)
}

// ---- print and export log -------------------------------------------------------------------------------

export interface NewPrint {
  id: string
  printedAt: string
  kind: 'PRINT' | 'EXPORT'
  serial: string | null
  archiveId: string | null
  entryId: string | null
  enterpriseId: string | null
  actor: string
  query: Record<string, unknown> | null
  rowCount: number
  digest: string | null
  kid: string | null
  validUntil: string | null
}

export async function insertPrint(tx: Tx, p: NewPrint): Promise<void> {
  await tx.query(
    `insert into archive_prints (id, printed_at, kind, serial, archive_id, entry_id, enterprise_id, actor, query, row_count, digest, kid, valid_until)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13)`,
    [
      p.id,
      p.printedAt,
      p.kind,
      p.serial,
      p.archiveId,
      p.entryId,
      p.enterpriseId,
      p.actor,
      p.query ? JSON.stringify(p.query) : null,
      p.rowCount,
      p.digest,
      p.kid,
      p.validUntil,
    ],
  )
}

export async function nextPrintSeq(tx: Tx): Promise<number> {
  const [r] = await tx.query<{ seq: number }>(`select nextval('archive_print_serial_seq') as seq`)
  return r!.seq
}

export async function listPrints(
  db: Queryable,
  f: {
    enterpriseId?: string | undefined
    kind?: string | undefined
    from?: string | undefined
    to?: string | undefined
    limit: number
    offset: number
  },
) {
  const rows = await db.query<{
    id: string
    kind: 'PRINT' | 'EXPORT'
    printed_at: Date
    actor: string
    enterprise_id: string | null
    serial: string | null
    entry_id: string | null
    query: Record<string, unknown> | null
    row_count: number
    total: number
  }>(
    `select id, kind, printed_at, actor, enterprise_id, serial, entry_id, query, row_count, count(*) over () as total from archive_prints
     where ($1::uuid is null or enterprise_id = $1) and ($2::text is null or kind = $2)
       and ($3::timestamptz is null or printed_at >= $3) and ($4::timestamptz is null or printed_at < $4)
     order by printed_at desc, id limit $5 offset $6`,
    [f.enterpriseId ?? null, f.kind ?? null, f.from ?? null, f.to ?? null, f.limit, f.offset],
  )
  return {
    items: rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      printedAt: iso(r.printed_at)!,
      actor: r.actor,
      enterpriseId: r.enterprise_id,
      serial: r.serial,
      entryId: r.entry_id,
      query: r.query,
      rowCount: r.row_count,
    })),
    total: rows[0]?.total ?? 0,
  }
}

// ---- retention enforcement -------------------------------------------------------------------------------

/** Archives kept until before `today` (a China date): due for disposal. Partitions past `today` are pruned. */
export async function dueArchives(db: Queryable, today: string, limit: number) {
  const rows = await db.query<{
    id: string
    entry_id: string
    retain_until: string
    retention_years: number
    total: number
  }>(
    `select id, entry_id, retain_until::text as retain_until, retention_years, count(*) over () as total from archives
     where retain_until < $1::date order by retain_until, entry_id limit $2`,
    [today, limit],
  )
  return {
    items: rows.map((r) => ({
      id: r.id,
      entryId: r.entry_id,
      retainUntil: r.retain_until,
      retentionYears: r.retention_years,
    })),
    total: rows[0]?.total ?? 0,
  }
}

/** Deletes the given archives if still due on `today`; returns what was deleted. */
export async function deleteArchives(tx: Tx, xs: Array<{ id: string; retainUntil: string }>, today: string) {
  return tx.query<{ id: string; entry_id: string; retain_until: string; trader_id: string }>(
    `delete from archives a using jsonb_to_recordset($1::jsonb) as x(id uuid, retain_until date)
     where a.id = x.id and a.retain_until = x.retain_until and a.retain_until < $2::date
     returning a.id, a.entry_id, a.retain_until::text as retain_until, a.trader_id`,
    [JSON.stringify(xs.map((x) => ({ id: x.id, retain_until: x.retainUntil }))), today],
  )
}

/** Partitions of `archives` with their upper bound (exclusive, a date). */
export async function archivePartitions(db: Queryable): Promise<Array<{ name: string; upper: string }>> {
  const rows = await db.query<{ name: string; bound: string }>(
    `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
     from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
     where p.relname = 'archives' order by 1`,
  )
  return rows.flatMap((r) => {
    const m = /TO \('(\d{4}-\d{2}-\d{2})/.exec(r.bound)
    return m ? [{ name: r.name, upper: m[1]! }] : []
  })
}

/** Drops a partition if it holds no row (in the caller's transaction); false when it is not empty. */
export async function dropEmptyPartition(tx: Tx, name: string): Promise<boolean> {
  if (!/^archives_\d{4}$/.test(name)) throw new Error(`not an archive partition: ${name}`)
  // The owner's function (migration 0010) checks and drops, so an application role that is not the owner can purge.
  const [r] = await tx.query<{ dropped: boolean }>('select drop_empty_archive_partition($1) as dropped', [name])
  return r!.dropped
}

// ---- printouts, for verification (certificates' verifier asks through archives' printoutEntry) ----------------------------------------------------------------

/** A printout's registry entry and, unless the archive was purged since, its archived declaration. */
export async function findPrint(db: Queryable, serial: string) {
  // A serial embeds its China year as certificates' numbers do.
  const [from, to] = yearRange(serial)
  const [r] = await db.query<{
    serial: string
    printed_at: Date
    digest: string
    kid: string
    valid_until: string
    entry_id: string
    snapshot: Record<string, unknown> | null
  }>(
    `select p.serial, p.printed_at, p.digest, p.kid, p.valid_until::text as valid_until, p.entry_id, a.snapshot
     from archive_prints p
     left join archives a on a.id = p.archive_id and a.retain_until = p.valid_until
     where p.kind = 'PRINT' and p.serial = $1 and p.printed_at >= $2 and p.printed_at < $3`,
    [serial, from, to],
  )
  return (
    r && {
      serial: r.serial,
      printedAt: iso(r.printed_at)!,
      digest: r.digest,
      kid: r.kid,
      validUntil: r.valid_until,
      entryId: r.entry_id,
      snapshot: r.snapshot,
    }
  )
}

// ---- purge runs -----------------------------------------------------------------------------------------------

interface PurgeRunDbRow {
  id: string
  started_at: Date
  finished_at: Date | null
  actor: string
  as_of: string
  dry_run: boolean
  count: number
  dropped_partitions: string[]
}
const PURGE_RUN_COLUMNS = 'id, started_at, finished_at, actor, as_of::text as as_of, dry_run, count, dropped_partitions'
const toPurgeRun = (r: PurgeRunDbRow) => ({
  id: r.id,
  startedAt: new Date(r.started_at).toISOString(),
  finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
  actor: r.actor,
  asOf: r.as_of,
  dryRun: r.dry_run,
  count: r.count,
  droppedPartitions: r.dropped_partitions,
})

/** Records a purge run (in the caller's transaction). */
export async function insertPurgeRun(
  tx: Tx,
  r: {
    id: string
    startedAt: string
    finishedAt: string | null
    actor: string
    asOf: string
    dryRun: boolean
    count: number
    droppedPartitions: string[]
  },
): Promise<void> {
  await tx.query(
    `insert into archive_purge_runs (id, started_at, finished_at, actor, as_of, dry_run, count, dropped_partitions)
     values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
    [r.id, r.startedAt, r.finishedAt, r.actor, r.asOf, r.dryRun, r.count, JSON.stringify(r.droppedPartitions)],
  )
}

/** Adds what a later transaction of the run did: archives removed, a partition dropped, the end. */
export async function advancePurgeRun(
  tx: Tx,
  id: string,
  o: { removed?: number; dropped?: string; finishedAt?: string },
): Promise<void> {
  await tx.query(
    `update archive_purge_runs set count = count + $2,
       dropped_partitions = case when $3::text is null then dropped_partitions else dropped_partitions || jsonb_build_array($3::text) end,
       finished_at = coalesce($4::timestamptz, finished_at)
     where id = $1`,
    [id, o.removed ?? 0, o.dropped ?? null, o.finishedAt ?? null],
  )
}

/** Purge runs, newest first, with their total. */
export async function listPurgeRuns(db: Queryable, q: { dryRun?: boolean | undefined; limit: number; offset: number }) {
  const rows = await db.query<PurgeRunDbRow & { total: number }>(
    `select ${PURGE_RUN_COLUMNS}, count(*) over () as total from archive_purge_runs
     where ($1::boolean is null or dry_run = $1) order by started_at desc, id desc limit $2 offset $3`,
    [q.dryRun ?? null, q.limit, q.offset],
  )
  return { items: rows.map(toPurgeRun), total: rows[0]?.total ?? 0 }
}
