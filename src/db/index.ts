import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { PGlite } from '@electric-sql/pglite'
import postgres from 'postgres'
import type { Db, Param, Queryable, Tx } from './types.js'
import { flushAudit } from '../shared/audit.js'
import type { ErrorFields, Reply, Request, ThreadData } from './pglite-thread.js'
import { createPglite, INT8, JSON_OID, JSONB, NUMERIC, PARAMS, PGLITE_MAINTENANCE_MS, pgliteUpkeep } from './pglite.js'

export { PGLITE_MAINTENANCE_MS, tablesDue } from './pglite.js'

export type { AuditEvent, Db, Param, Queryable, Row, Tx } from './types.js'

const toJsonText = (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x))

async function runInTx<T>(query: Queryable['query'], exec: Tx['exec'], fn: (tx: Tx) => Promise<T>): Promise<T> {
  const tx: Tx = { inTransaction: true, pendingAudit: [], query, exec }
  const result = await fn(tx)
  if (tx.pendingAudit.length > 0) await flushAudit(tx)
  return result
}

/**
 * Embedded PostgreSQL (WASM) with its data in `dataDir` (or in memory when `dataDir` is undefined). By default it runs
 * on a worker thread of its own ({@link pgliteOnThread}); `thread: false` runs it on the calling thread.
 */
export async function openPglite(dataDir?: string, loadDataDir?: Blob, opts: { thread?: boolean } = {}): Promise<Db> {
  const unlock = dataDir ? lockDataDir(dataDir) : () => {}
  try {
    if (opts.thread ?? false) return await pgliteOnThread(dataDir, loadDataDir, unlock)
    return pgliteDb(await createPglite(dataDir, loadDataDir), unlock)
  } catch (err) {
    unlock()
    throw err
  }
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
        throw new Error(
          `the embedded database in ${dataDir} is open in process ${owner}${owner === process.pid ? ' (this one)' : ''}: ` +
            'stop it first, or use a PostgreSQL server (DATABASE_URL) for several processes',
        )
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
    } catch {
      /* already gone */
    }
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

function pgliteDb(pg: PGlite, unlock: () => void): Db {
  const query = async <T>(sql: string, params?: Param[]) => (await pg.query<T>(sql, params as unknown[], PARAMS)).rows
  // PGlite runs one statement or transaction at a time, first come first served. Transactions are handed to it
  // one at a time here, so a single query (a receipts poll, a page's GET) waits for the transaction running now,
  // not for every transaction queued behind it: reads stay fast while intake keeps the database busy.
  let lastTx: Promise<unknown> = Promise.resolve()
  const upkeep = pgliteUpkeep(pg, PGLITE_MAINTENANCE_MS)
  return {
    kind: 'pglite',
    maintain: () => upkeep.now(),
    query,
    transaction: <T>(fn: (tx: Tx) => Promise<T>) => {
      const run = lastTx.then(() =>
        pg.transaction(async (t) =>
          runInTx(
            async <R>(sql: string, params?: Param[]) => (await t.query<R>(sql, params as unknown[], PARAMS)).rows,
            async (sq) => {
              await t.exec(sq)
            },
            fn,
          ),
        ),
      )
      lastTx = run.catch(() => {})
      return run
    },
    exec: async (sql) => {
      await pg.exec(sql)
    },
    close: async () => {
      try {
        await upkeep.stop()
        await pg.close()
      } finally {
        unlock()
      }
    },
    dumpDataDir: () => pg.dumpDataDir('none'),
  }
}

type Sent = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never

/**
 * PGlite on a worker thread (pglite-thread.ts): the database's work (WASM, PGlite's protocol code, file writes) runs
 * beside the main thread's HTTP, parsing and rules instead of in turn with them. Statements go as messages and rows
 * come back by structured clone, parsed already. As on the main thread, transactions are handed to the database one
 * at a time, and a statement outside a transaction waits only for the transaction running now. The worker keeps the
 * process alive only while a request is outstanding.
 */
async function pgliteOnThread(
  dataDir: string | undefined,
  loadDataDir: Blob | undefined,
  unlock: () => void,
): Promise<Db> {
  const load = loadDataDir ? await loadDataDir.arrayBuffer() : undefined
  const data: ThreadData = {
    ...(dataDir ? { dataDir } : {}),
    ...(load ? { load } : {}),
    maintainMs: PGLITE_MAINTENANCE_MS,
  }
  const fromSource = import.meta.url.endsWith('.ts')
  const worker = new Worker(new URL(fromSource ? './pglite-thread.dev.mjs' : './pglite-thread.js', import.meta.url), {
    workerData: data,
    transferList: load ? [load] : [],
  })
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let nextId = 1
  let failed: Error | undefined
  const toError = (f: ErrorFields) => Object.assign(new Error(f.message), f)
  const fail = (err: Error) => {
    failed ??= err
    for (const w of waiting.values()) w.reject(err)
    waiting.clear()
    worker.unref()
  }
  const ready = new Promise<void>((resolve, reject) => waiting.set(0, { resolve: () => resolve(), reject }))
  worker.on('message', (m: Reply) => {
    const w = waiting.get(m.id)
    if (!w) return
    waiting.delete(m.id)
    if (waiting.size === 0) worker.unref()
    if (m.ok) w.resolve(m.value)
    else w.reject(toError(m.error))
  })
  worker.on('error', (err) => fail(err))
  worker.on('exit', (code) => fail(new Error(`the database thread stopped (exit code ${code})`)))
  try {
    await ready
  } catch (err) {
    await worker.terminate()
    throw err
  }

  const call = <T>(msg: Sent): Promise<T> => {
    if (failed) return Promise.reject(failed)
    const id = nextId++
    if (waiting.size === 0) worker.ref()
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      worker.postMessage({ ...msg, id })
    })
  }
  const query = <T>(sql: string, params?: Param[], tx?: number) =>
    call<T[]>({ op: 'query', sql, ...(params ? { params } : {}), ...(tx !== undefined ? { tx } : {}) })

  let lastTx: Promise<unknown> = Promise.resolve()
  const transaction = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    const run = lastTx.then(async () => {
      const tx = await call<number>({ op: 'begin' })
      let result: T
      try {
        result = await runInTx(
          <R>(sql: string, params?: Param[]) => query<R>(sql, params, tx),
          async (sql) => {
            await call({ op: 'exec', sql, tx })
          },
          fn,
        )
      } catch (err) {
        await call({ op: 'end', tx, commit: false }).catch(() => {
          /* the thread is gone: so is the transaction */
        })
        throw err
      }
      await call({ op: 'end', tx, commit: true })
      return result
    })
    lastTx = run.catch(() => {})
    return run
  }
  let closed: Promise<void> | undefined
  return {
    kind: 'pglite',
    query: (sql, params) => query(sql, params),
    transaction,
    exec: async (sql) => {
      await call({ op: 'exec', sql })
    },
    maintain: () => call<string[]>({ op: 'maintain' }),
    dumpDataDir: async () => new Blob([await call<ArrayBuffer>({ op: 'dump' })]),
    close: () =>
      (closed ??= (async () => {
        try {
          await lastTx
          await call({ op: 'close' })
        } finally {
          await worker.terminate()
          unlock()
        }
      })()),
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
  const queryWith =
    (s: postgres.Sql | postgres.TransactionSql) =>
    async <T>(text: string, params?: Param[]) =>
      (await s.unsafe(text, (params ?? []) as postgres.ParameterOrJSON<never>[])) as unknown as T[]
  return {
    kind: 'postgres',
    query: queryWith(sql),
    transaction: (fn) =>
      sql.begin((t) =>
        runInTx(
          queryWith(t),
          async (s) => {
            await t.unsafe(s).simple()
          },
          fn,
        ),
      ) as Promise<never>,
    exec: async (text) => {
      await sql.unsafe(text).simple()
    },
    close: () => sql.end({ timeout: 5 }),
  }
}

/** Opens the database the configuration names: PostgreSQL if `databaseUrl` is set, else PGlite in `dataDir`. */
export async function openDb(cfg: {
  databaseUrl?: string | undefined
  dataDir: string
  dbPoolSize?: number
  pgliteThread?: boolean
}): Promise<Db> {
  return cfg.databaseUrl
    ? openPostgres(cfg.databaseUrl, cfg.dbPoolSize)
    : openPglite(cfg.dataDir, undefined, { thread: cfg.pgliteThread ?? false })
}
