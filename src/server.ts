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
  await db.query(`select ensure_year_partitions('declarations', $1, $1 + 1)`, [new Date().getUTCFullYear()])
  await db.query(`select ensure_year_partitions('declaration_items', $1, $1 + 1)`, [new Date().getUTCFullYear()])
  await db.query(`select ensure_year_partitions('audit_log', $1, $1 + 1)`, [new Date().getUTCFullYear()])
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
