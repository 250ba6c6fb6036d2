/**
 * PGlite as Kouan opens it, on whichever thread runs it (the main thread, or its own: pglite-thread.ts): the type
 * parsers, the parameter serialisers and the upkeep that single-user PostgreSQL lacks.
 */
import { PGlite } from '@electric-sql/pglite'

// int8 as JS number (counts and minor units stay well below 2^53); numeric stays a decimal string.
export const INT8 = 20
export const NUMERIC = 1700
export const JSON_OID = 114
export const JSONB = 3802
const TEXT = 25
const VARCHAR = 1043

/**
 * Long text and JSON parameters (a CEB message's documents, a batch of declarations) go to PGlite as UTF-8 bytes in the
 * binary format rather than as JS strings: PGlite sizes a string parameter with a character loop in JS, twice, which
 * for a 300 KB batch costs more than the statement. Binary text and json are the UTF-8 bytes; binary jsonb is a
 * version byte (1) and the text. Passed per query, so they apply to parameters only, not to elements of arrays (whose
 * serialisers PGlite builds from its global ones).
 */
const LONG_PARAM = 2048
const asText = (x: unknown) => (typeof x === 'string' ? x : x instanceof Date ? x.toISOString() : String(x))
const asJson = (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x))
const textParam = (x: unknown): string => {
  const s = asText(x)
  return (s.length > LONG_PARAM ? Buffer.from(s) : s) as string
}
const jsonParam = (x: unknown): string => {
  const s = asJson(x)
  return (s.length > LONG_PARAM ? Buffer.from(s) : s) as string
}
const jsonbParam = (x: unknown): string => {
  const s = asJson(x)
  if (s.length <= LONG_PARAM) return s
  const b = Buffer.allocUnsafe(Buffer.byteLength(s) + 1)
  b[0] = 1
  b.write(s, 1)
  return b as unknown as string
}
export const PARAMS = {
  serializers: { [TEXT]: textParam, [VARCHAR]: textParam, [JSON_OID]: jsonParam, [JSONB]: jsonbParam },
}

export function createPglite(dataDir?: string, loadDataDir?: Blob): Promise<PGlite> {
  return PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    ...(loadDataDir ? { loadDataDir } : {}),
    parsers: { [INT8]: (x: string) => Number(x), [NUMERIC]: (x: string) => x },
    relaxedDurability: true,
  })
}

/**
 * PGlite runs PostgreSQL in single-user mode, without the autovacuum launcher: left alone, its tables are never
 * analyzed, so the planner keeps estimating a table as it was when it was created (a sequential scan of every ticket
 * for each CEB message, growing with the table) and dead row versions are never reclaimed. This interval runs
 * autovacuum's rule instead ({@link tablesDue}).
 */
export const PGLITE_MAINTENANCE_MS = 2000

/**
 * Tables due for autovacuum's work, by its default rule: vacuum when dead rows exceed 50 + 20 % of the live ones,
 * analyze when changes since the last analyze exceed 50 + 10 %. (Not autovacuum's vacuum after many inserts: here it
 * would pause the database, and it only keeps the visibility map current for index-only scans.)
 */
export function tablesDue(
  stats: ReadonlyArray<{ name: string; live: number; dead: number; changed: number }>,
): Array<{ name: string; vacuum: boolean; analyze: boolean }> {
  return stats
    .map((t) => ({ name: t.name, vacuum: t.dead > 50 + 0.2 * t.live, analyze: t.changed > 50 + 0.1 * t.live }))
    .filter((t) => t.vacuum || t.analyze)
}

/** One round of autovacuum's work on `pg` ({@link tablesDue}); returns the tables it worked on. */
export async function maintainPglite(pg: PGlite, closing: () => boolean): Promise<string[]> {
  // Changes are counted in the statistics once flushed (at most every second otherwise): flush them first.
  await pg.query('select pg_stat_force_next_flush()')
  const stats = (
    await pg.query<{ name: string; live: number; dead: number; changed: number }>(
      `select quote_ident(schemaname) || '.' || quote_ident(relname) as name, n_live_tup as live, n_dead_tup as dead,
       n_mod_since_analyze as changed from pg_stat_user_tables`,
    )
  ).rows
  const due = tablesDue(stats)
  // One table at a time (VACUUM runs outside a transaction), each its own turn on the database; statistics from a
  // sample of 3,000 rows (a tenth of the server's default), as each pass holds the one database thread.
  for (const t of due) {
    if (closing()) break
    await pg.exec(
      `set default_statistics_target = 10; ${t.vacuum ? `vacuum (analyze ${t.analyze})` : 'analyze'} ${t.name}; reset default_statistics_target`,
    )
  }
  return due.map((t) => t.name)
}

/**
 * The upkeep of one PGlite: {@link maintainPglite} every `everyMs`, one round at a time. `now()` runs a round after
 * those queued; `stop()` ends the timer and waits for the round running (which stops between tables).
 */
export function pgliteUpkeep(pg: PGlite, everyMs: number): { now(): Promise<string[]>; stop(): Promise<void> } {
  let stopping = false
  const round = () => maintainPglite(pg, () => stopping)
  let last: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    last = last.then(round).catch(() => {
      /* next round; a failure here loses nothing */
    })
  }, everyMs)
  timer.unref()
  return {
    now: () => (last = last.then(round)) as Promise<string[]>,
    stop: async () => {
      stopping = true
      clearInterval(timer)
      await last.catch(() => {})
    },
  }
}
