import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import postgres from 'postgres'
import type { AuditEvent } from '../shared/audit.js'
import { flushAudit } from '../shared/audit.js'

export type Row = Record<string, unknown>
export type Param = string | number | boolean | null | string[] | number[]

/** What repositories need of a connection: parameterised SQL ($1, $2…) returning rows. */
export interface Queryable {
  query<T = Row>(sql: string, params?: Param[]): Promise<T[]>
}

/**
 * A transaction. State-changing repository functions take a `Tx`, never a `Db`, so they cannot run outside
 * one; audit events they record are written in the same transaction just before it commits.
 */
export interface Tx extends Queryable {
  readonly inTransaction: true
  /** Runs a multi-statement SQL script inside the transaction (migrations). */
  exec(sql: string): Promise<void>
  /** Audit events recorded so far; flushed to the hash chain before commit. */
  readonly pendingAudit: AuditEvent[]
}

/** The narrow database interface Kouan uses; PGlite and PostgreSQL (via `postgres`) both adapt to it. */
export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>
  /** Runs a multi-statement SQL script (migrations). */
  exec(sql: string): Promise<void>
  close(): Promise<void>
  /** PGlite only: the data directory as a tarball (tests load a migrated copy per file). */
  dumpDataDir?(): Promise<Blob>
  /**
   * PGlite only: what autovacuum does on a server, once — vacuums and analyzes the tables whose changes since their
   * last vacuum or analyze passed autovacuum's thresholds. Returns the tables it worked on. (It also runs by itself
   * every {@link PGLITE_MAINTENANCE_MS}.)
   */
  maintain?(): Promise<string[]>
}

// int8 as JS number (counts and minor units stay well below 2^53); numeric stays a decimal string.
const INT8 = 20
const NUMERIC = 1700
const JSON_OID = 114
const JSONB = 3802
const TEXT = 25
const VARCHAR = 1043
const toJsonText = (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x))

async function runInTx<T>(query: Queryable['query'], exec: Tx['exec'], fn: (tx: Tx) => Promise<T>): Promise<T> {
  const tx: Tx = { inTransaction: true, pendingAudit: [], query, exec }
  const result = await fn(tx)
  if (tx.pendingAudit.length > 0) await flushAudit(tx)
  return result
}

/** Embedded PostgreSQL (WASM) with its data in `dataDir` (or in memory when `dataDir` is undefined). */
export async function openPglite(dataDir?: string, loadDataDir?: Blob): Promise<Db> {
  const unlock = dataDir ? lockDataDir(dataDir) : () => {}
  let pg: PGlite
  try {
    pg = await createPglite(dataDir, loadDataDir)
  } catch (err) {
    unlock()
    throw err
  }
  return pgliteDb(pg, unlock)
}

/**
 * PGlite belongs to one process: two processes on one data directory each see only their own writes, and the last
 * to close overwrites the other's. A lock file (`kouan.lock`, the owner's pid) refuses a second opener while the
 * first is alive; a lock left by a process that died is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const path = join(dataDir, 'kouan.lock')
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' })
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10)
      if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) {
        throw new Error(`the embedded database in ${dataDir} is open in process ${owner}${owner === process.pid ? ' (this one)' : ''}: ` +
          'stop it first, or use a PostgreSQL server (DATABASE_URL) for several processes')
      }
      rmSync(path, { force: true })
    }
  }
  let held = true
  return () => {
    if (!held) return
    held = false
    try {
      if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) rmSync(path, { force: true })
    } catch { /* already gone */ }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

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
const PARAMS = { serializers: { [TEXT]: textParam, [VARCHAR]: textParam, [JSON_OID]: jsonParam, [JSONB]: jsonbParam } }

function createPglite(dataDir?: string, loadDataDir?: Blob): Promise<PGlite> {
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
export function tablesDue(stats: ReadonlyArray<{ name: string; live: number; dead: number; changed: number }>): Array<{ name: string; vacuum: boolean; analyze: boolean }> {
  return stats
    .map((t) => ({ name: t.name, vacuum: t.dead > 50 + 0.2 * t.live, analyze: t.changed > 50 + 0.1 * t.live }))
    .filter((t) => t.vacuum || t.analyze)
}

function pgliteDb(pg: PGlite, unlock: () => void): Db {
  const query = async <T>(sql: string, params?: Param[]) => (await pg.query<T>(sql, params as unknown[], PARAMS)).rows
  // PGlite runs one statement or transaction at a time, first come first served. Transactions are handed to it
  // one at a time here, so a single query (a receipts poll, a page's GET) waits for the transaction running now,
  // not for every transaction queued behind it: reads stay fast while intake keeps the database busy.
  let lastTx: Promise<unknown> = Promise.resolve()
  let closing = false
  const maintain = async (): Promise<string[]> => {
    // Changes are counted in the statistics once flushed (at most every second otherwise): flush them first.
    await pg.query('select pg_stat_force_next_flush()')
    const stats = (await pg.query<{ name: string; live: number; dead: number; changed: number }>(
      `select quote_ident(schemaname) || '.' || quote_ident(relname) as name, n_live_tup as live, n_dead_tup as dead,
         n_mod_since_analyze as changed from pg_stat_user_tables`)).rows
    const due = tablesDue(stats)
    // One table at a time (VACUUM runs outside a transaction), each its own turn on the database; statistics from a
    // sample of 3,000 rows (a tenth of the server's default), as each pass holds the one database thread.
    for (const t of due) {
      if (closing) break
      await pg.exec(`set default_statistics_target = 10; ${t.vacuum ? `vacuum (analyze ${t.analyze})` : 'analyze'} ${t.name}; reset default_statistics_target`)
    }
    return due.map((t) => t.name)
  }
  let maintaining: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    maintaining = maintaining.then(maintain).catch(() => { /* next round; a failure here loses nothing */ })
  }, PGLITE_MAINTENANCE_MS)
  timer.unref()
  return {
    kind: 'pglite',
    maintain: () => (maintaining = maintaining.then(maintain)) as Promise<string[]>,
    query,
    transaction: <T>(fn: (tx: Tx) => Promise<T>) => {
      const run = lastTx.then(() =>
        pg.transaction(async (t) =>
          runInTx(async <R>(sql: string, params?: Param[]) => (await t.query<R>(sql, params as unknown[], PARAMS)).rows, async (sq) => { await t.exec(sq) }, fn)))
      lastTx = run.catch(() => {})
      return run
    },
    exec: async (sql) => { await pg.exec(sql) },
    close: async () => {
      closing = true
      clearInterval(timer)
      try {
        await maintaining.catch(() => {})
        await pg.close()
      } finally { unlock() }
    },
    dumpDataDir: () => pg.dumpDataDir('none'),
  }
}

/**
 * A server on this machine is best reached by its Unix socket, as libpq spells it: `postgres://user@/db?host=/run/postgresql`
 * (or `host=` naming the socket's directory with any host part). Over loopback TCP, the kernel's TCP work for every
 * CEB batch sent counts against the API process (measured in issue 11: a tenth of its CPU at 20,000 tickets).
 */
export function socketOf(url: string): { url: string; host?: string } {
  const m = /([?&])host=([^&]*)(&?)/.exec(url)
  const host = m ? decodeURIComponent(m[2]!) : ''
  if (!m || !host.startsWith('/')) return { url }
  // Without the parameter (the driver would send it to the server as a setting); a URL without a host part gets one.
  const rest = url.slice(0, m.index) + (m[3] ? m[1] : '') + url.slice(m.index + m[0].length)
  return { url: rest.replace(/^(postgres(?:ql)?:\/\/(?:[^@/]*@)?)(?=[/?]|$)/, '$1localhost'), host }
}

/** A PostgreSQL server through the `postgres` driver, with a pool of `max` connections. */
export function openPostgres(url: string, max = 10): Db {
  const target = socketOf(url)
  const sql = postgres(target.url, {
    ...(target.host ? { host: target.host } : {}),
    max,
    onnotice: () => {},
    prepare: true,
    types: {
      int8: { to: INT8, from: [INT8], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
      numeric: { to: NUMERIC, from: [NUMERIC], serialize: (x: string) => x, parse: (x: string) => x },
      // Repositories pass JSON already serialised (as PGlite takes it); objects are serialised here.
      json: { to: JSON_OID, from: [JSON_OID, JSONB], serialize: toJsonText, parse: (x: string) => JSON.parse(x) },
      jsonb: { to: JSONB, from: [], serialize: toJsonText, parse: (x: string) => JSON.parse(x) },
    },
  })
  const queryWith = (s: postgres.Sql | postgres.TransactionSql) =>
    async <T>(text: string, params?: Param[]) => (await s.unsafe(text, (params ?? []) as postgres.ParameterOrJSON<never>[])) as unknown as T[]
  return {
    kind: 'postgres',
    query: queryWith(sql),
    transaction: (fn) => sql.begin((t) => runInTx(queryWith(t), async (s) => { await t.unsafe(s).simple() }, fn)) as Promise<never>,
    exec: async (text) => { await sql.unsafe(text).simple() },
    close: () => sql.end({ timeout: 5 }),
  }
}

/** Opens the database the configuration names: PostgreSQL if `databaseUrl` is set, else PGlite in `dataDir`. */
export async function openDb(cfg: { databaseUrl?: string | undefined; dataDir: string; dbPoolSize?: number }): Promise<Db> {
  return cfg.databaseUrl ? openPostgres(cfg.databaseUrl, cfg.dbPoolSize) : openPglite(cfg.dataDir)
}
