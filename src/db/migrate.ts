import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../shared/paths.js'
import type { Db } from './index.js'

export const MIGRATIONS_DIR = join(packageRoot(), 'src', 'db', 'migrations')

/**
 * Applies the forward-only SQL migrations in `src/db/migrations` not yet recorded in `schema_migrations`,
 * each in one transaction with the migration row. An advisory lock makes concurrent starts of several
 * processes on one PostgreSQL safe. Returns the names applied.
 */
export async function migrate(db: Db): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()
  const applied: string[] = []
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(4815162342)')
    // Only when missing: an application role that is not the owner may not create tables, but starts up here too.
    const [bookkept] = await tx.query<{ ok: boolean }>(`select to_regclass('schema_migrations') is not null as ok`)
    if (!bookkept!.ok)
      await tx.query(
        'create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())',
      )
    const done = new Set((await tx.query<{ name: string }>('select name from schema_migrations')).map((r) => r.name))
    for (const file of files) {
      if (done.has(file)) continue
      const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8')
      await tx.exec(sql)
      await tx.query('insert into schema_migrations (name) values ($1)', [file])
      applied.push(file)
    }
    // Tables new in these migrations get the grants of the application roles (`kouan db grant-app-role`, 0010).
    if (applied.length > 0)
      await tx.query(
        `do $$ begin if to_regproc('kouan_regrant_app_roles') is not null then perform kouan_regrant_app_roles(); end if; end $$`,
      )
  })
  return applied
}
