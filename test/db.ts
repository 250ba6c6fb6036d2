import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { inject } from 'vitest'
import { openPglite, openPostgres, type Db } from '../src/db/index.js'

let counter = 0

/** A fresh, migrated database for one test file: a PGlite copy of the migrated dump, or a PostgreSQL clone of the template. */
export async function freshDb(): Promise<{ db: Db; url?: string; drop(): Promise<void> }> {
  const cfg = inject('db')
  if (cfg.kind === 'pglite') {
    // KOUAN_PGLITE_THREAD=true runs the suites against PGlite on its own thread, as `kouan serve` can.
    const db = await openPglite(undefined, new Blob([readFileSync(cfg.dump)]), {
      thread: process.env.KOUAN_PGLITE_THREAD === 'true',
    })
    return { db, drop: async () => db.close() }
  }
  const name = `kouan_t_${process.pid}_${Date.now() % 1e9}_${++counter}`
  const admin = postgres(cfg.url, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name} template ${cfg.template}`)
  const u = new URL(cfg.url)
  u.pathname = `/${name}`
  const db = openPostgres(u.toString(), 5)
  return {
    db,
    url: u.toString(),
    drop: async () => {
      await db.close()
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}

export async function countRows(db: Db, table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const [r] = await db.query<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`, params as never[])
  return r!.n
}

/**
 * PostgreSQL only: resolves once some session of the current database waits on a lock, e.g. a request queued behind a
 * transaction a test holds open. A barrier for race tests, in place of a timed sleep.
 */
export async function untilSomeoneWaitsOnALock(db: Db, what = 'a lock wait'): Promise<void> {
  for (let i = 0; ; i++) {
    const [w] = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    )
    if (w!.n > 0) return
    if (i > 2000) throw new Error(`${what} never happened`)
    await new Promise((r) => setImmediate(r))
  }
}
