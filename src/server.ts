import cluster from 'node:cluster'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import type { Config } from './config.js'
import { openDb, type Db } from './db/index.js'
import { migrate } from './db/migrate.js'
import { systemClock, systemIds } from './shared/clock.js'
import { ensureArchivePartitions } from './modules/archives/index.js'

export interface Running {
  app: FastifyInstance
  db: Db
  url: string
  close(): Promise<void>
}

/** Migrations, then partitions for this year and the next, before any row needs them. */
async function prepare(db: Db): Promise<string[]> {
  const applied = await migrate(db)
  for (const table of ['declarations', 'declaration_items', 'audit_log']) {
    await db.query(`select ensure_year_partitions($1, $2, $2 + 1)`, [table, new Date().getUTCFullYear()])
  }
  await ensureArchivePartitions(db, new Date())
  return applied
}

/** Opens the database, migrates it, builds the app and listens; closes everything on SIGINT/SIGTERM. */
export async function startServer(config: Readonly<Config>): Promise<Running> {
  const db = await openDb(config)
  const applied = await prepare(db)
  const app = await buildApp(config, { db, clock: systemClock, ids: systemIds })
  if (applied.length) app.log.info({ applied }, 'migrations applied')
  const address = await app.listen({ port: config.port, host: config.host })
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      await app.close()
      await db.close()
    })())
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void close().then(() => process.exit(0))
    })
  }
  return { app, db, url: address.replace('[::1]', 'localhost'), close }
}

/**
 * `kouan serve --workers N`: N API processes share the port (node:cluster), all on one PostgreSQL — the API is
 * stateless and every background job (CEB matching queue, webhooks, risk sync) is safe across processes. The
 * primary migrates once, forks the workers, replaces one that dies, and stops them all on SIGINT/SIGTERM.
 * Returns the URL in the primary; in a worker it runs {@link startServer} and returns nothing.
 */
export async function startCluster(config: Readonly<Config>): Promise<string | undefined> {
  if (!cluster.isPrimary) {
    await startServer(config)
    return undefined
  }
  if (!config.databaseUrl)
    throw new Error(
      '--workers above 1 needs PostgreSQL (DATABASE_URL): the embedded PGlite database belongs to one process',
    )
  const db = await openDb({ ...config, dbPoolSize: 1 })
  await prepare(db)
  await db.close()
  let stopping = false
  const fork = () => cluster.fork()
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    console.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`)
    fork()
  })
  const ready = new Promise<void>((resolve) => {
    let listening = 0
    cluster.on('listening', () => {
      if (++listening === config.workers) resolve()
    })
  })
  for (let i = 0; i < config.workers; i++) fork()
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      stopping = true
      const workers = Object.values(cluster.workers ?? {})
      let left = workers.length
      if (left === 0) process.exit(0)
      for (const w of workers) {
        w?.once('exit', () => {
          if (--left === 0) process.exit(0)
        })
        w?.process.kill('SIGTERM')
      }
    })
  }
  await ready
  return `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${config.port}`
}
