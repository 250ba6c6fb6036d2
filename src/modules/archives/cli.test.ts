import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { T0, type TestApp } from '../../../test/app.js'
import { countRows, freshDb } from '../../../test/db.js'
import {
  buildEnterprise,
  buildOperator,
  loginUser,
  noRandomSelection,
  submitDeclaration,
} from '../../../test/factories.js'
import { buildApp } from '../../app.js'
import { loadConfig } from '../../config.js'
import { openPglite, type Db } from '../../db/index.js'
import { fixedClock, systemIds } from '../../shared/clock.js'
import { loadReference } from '../reference/data.js'
import { cli } from '../../../test/cli.js'

describe('kouan archive sweep', () => {
  it('archives what a stopped server left queued, in its own process', async () => {
    const cfg = inject('db')
    let env: Record<string, string>
    let use: <T>(fn: (db: Db) => Promise<T>) => Promise<T>
    let drop: () => Promise<void>
    if (cfg.kind === 'postgres') {
      const fresh = await freshDb()
      env = { DATABASE_URL: fresh.url! }
      use = (fn) => fn(fresh.db)
      drop = fresh.drop
    } else {
      // PGlite belongs to one process: the server's database is closed before the CLI opens it.
      const dir = mkdtempSync(join(tmpdir(), 'kouan-archive-cli-'))
      let loaded = false
      env = { KOUAN_DATA_DIR: join(dir, 'data') }
      use = async (fn) => {
        const db = await openPglite(env.KOUAN_DATA_DIR, loaded ? undefined : new Blob([readFileSync(cfg.dump)]))
        loaded = true
        try {
          return await fn(db)
        } finally {
          await db.close()
        }
      }
      drop = async () => rmSync(dir, { recursive: true, force: true })
    }
    try {
      // A server without its outbox dispatcher clears two declarations at intake, then stops.
      const ids = await use(async (db) => {
        const t: TestApp = { db, clock: fixedClock(T0), app: undefined as never }
        t.app = await buildApp(loadConfig({}, { logLevel: 'silent', cebMatching: false, outboxDispatchMs: 0 }), {
          db,
          clock: t.clock,
          ids: systemIds,
          reference: loadReference(),
        })
        try {
          const officer = await loginUser(t, 'officer')
          await noRandomSelection(t, await loginUser(t, 'admin'))
          const op = await buildOperator(t, officer, await buildEnterprise(t, officer))
          return [(await submitDeclaration(t, op)).id, (await submitDeclaration(t, op)).id]
        } finally {
          await t.app.close()
        }
      })
      const r = await cli(env, 'archive', 'sweep')
      expect(r.err).toBe('')
      expect(r.code).toBe(0)
      expect(JSON.parse(r.out)).toMatchObject({ queued: 2, taken: 2, left: 0 })
      await use(async (db) => {
        expect(await countRows(db, 'archives', 'declaration_id = any($1::uuid[])', [ids])).toBe(2)
        expect(await countRows(db, 'outbox', `subscriber = 'archives'`)).toBe(0)
      })
    } finally {
      await drop()
    }
  }, 120_000) // a CLI process of its own: slow to start when the machine is busy
})
