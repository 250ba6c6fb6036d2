import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import type { Config } from './config.js'
import { openDb, type Db } from './db/index.js'
import { migrate } from './db/migrate.js'
import { systemClock, systemIds } from './shared/clock.js'

export interface Running { app: FastifyInstance; db: Db; url: string; close(): Promise<void> }

/** Opens the database, migrates it, builds the app and listens; closes everything on SIGINT/SIGTERM. */
export async function startServer(config: Readonly<Config>): Promise<Running> {
  const db = await openDb(config)
  const applied = await migrate(db)
  // Partitions for this year and the next exist before any row needs them.
  for (const table of ['declarations', 'declaration_items', 'audit_log']) {
    await db.query(`select ensure_year_partitions($1, $2, $2 + 1)`, [table, new Date().getUTCFullYear()])
  }
  const app = await buildApp(config, { db, clock: systemClock, ids: systemIds })
  if (applied.length) app.log.info({ applied }, 'migrations applied')
  const address = await app.listen({ port: config.port, host: config.host })
  let closing: Promise<void> | undefined
  const close = () => (closing ??= (async () => {
    await app.close()
    await db.close()
  })())
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => { void close().then(() => process.exit(0)) })
  }
  return { app, db, url: address.replace('[::1]', 'localhost'), close }
}
