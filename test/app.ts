import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll } from 'vitest'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import type { Db } from '../src/db/index.js'
import { fixedClock, systemIds } from '../src/shared/clock.js'
import { loadReference } from '../src/modules/reference/data.js'
import { invalidateSelectivityCache } from '../src/modules/selectivity/service.js'
import { freshDb } from './db.js'

export const T0 = '2026-05-11T01:00:00.000Z'

export interface TestApp {
  app: FastifyInstance
  db: Db
  clock: ReturnType<typeof fixedClock>
  url?: string | undefined
}

/**
 * A fresh database and a real app (same `buildApp` as production) for the test file; closed after it. Config
 * overrides (e.g. `{ cebMatching: true }`) apply on top of the test defaults (no background CEB matching nor outbox
 * dispatcher: tests call `matchQueued` / `sweepArchives`, and archive reads archive what they read).
 */
export function useTestApp(overrides: Partial<Parameters<typeof loadConfig>[1]> = {}): TestApp {
  const t = {} as TestApp
  let drop: () => Promise<void> = async () => {}
  beforeAll(async () => {
    invalidateSelectivityCache()
    const fresh = await freshDb()
    drop = fresh.drop
    t.db = fresh.db
    t.url = fresh.url
    t.clock = fixedClock(T0)
    t.app = await buildApp(
      loadConfig({}, { logLevel: 'silent', cebMatching: false, outboxDispatchMs: 0, ...overrides }),
      { db: t.db, clock: t.clock, ids: systemIds, reference: loadReference() },
    )
  })
  afterAll(async () => {
    await t.app?.close()
    await drop()
  })
  return t
}
