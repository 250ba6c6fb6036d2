import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  auditRows,
  buildEnterprise,
  buildOperator,
  loginUser,
  noRandomSelection,
  submitDeclaration,
  type Headers,
  type TestOperator,
  TSHIRTS,
} from '../../../test/factories.js'
import type { AppEvents } from '../../context.js'
import { openPostgres, type Db } from '../../db/index.js'
import { MIGRATIONS_DIR } from '../../db/migrate.js'
import { verifyAudit } from '../../shared/audit.js'
import { systemIds } from '../../shared/clock.js'
import { OutboxDispatcher, type EventBus } from '../../shared/events.js'
import { totalValue } from '../declarations/lifecycle.js'
import { loadRetentionRules } from './repo.js'
import { archivePending, queueState, retainUntil, retentionOf, sweepArchives, type Deps } from './service.js'

/**
 * Archiving off the clearance transaction (issues 11 and 12): clearance publishes DeclarationCleared, which writes an
 * outbox row for the after-commit subscriber `archives` in its transaction; the outbox dispatcher (or `sweepArchives`,
 * one round of it for that subscriber) archives them in batches (durable, resumable, shared by processes), and reads
 * archive what they read.
 */
describe('archiving from the outbox', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let op: TestOperator
  let other: TestOperator
  const deps = (): Deps => t.app.kouan

  const get = (headers: Headers, url: string) => t.app.inject({ method: 'GET', url, headers })
  /** The declaration's DeclarationCleared events pending for archiving. */
  const queued = (declarationId: string) =>
    countRows(t.db, 'outbox', `subscriber = 'archives' and type = 'DeclarationCleared' and payload ->> 'id' = $1`, [
      declarationId,
    ])
  const pendingForArchives = () => countRows(t.db, 'outbox', `subscriber = 'archives'`)
  const archives = (declarationId: string) => countRows(t.db, 'archives', 'declaration_id = $1', [declarationId])
  /** A general-trade declaration, green: released and cleared (结关) at intake. */
  const clearedAtIntake = async (who: TestOperator) => {
    const d = await submitDeclaration(t, who, { items: [TSHIRTS] })
    expect(d).toMatchObject({ state: 'CLEARED', lane: 'GREEN' })
    return { id: d.id, entryId: d.entryId! }
  }

  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    await noRandomSelection(t, await loginUser(t, 'admin'))
    op = await buildOperator(t, officer, await buildEnterprise(t, officer))
    other = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })

  it('intake publishes what it clears to the outbox and archives nothing in its transaction; the sweep archives it once, audited', async () => {
    const d = await clearedAtIntake(op)
    expect(await queued(d.id)).toBe(1)
    expect(await queueState(t.db)).toEqual({ pending: 1, failing: 0, oldestClearedAt: t.clock.now().toISOString() })
    expect(await archives(d.id)).toBe(0)
    expect(await auditRows(t, 'archive', d.entryId)).toEqual([])
    // The declaration's own trail is complete in the intake transaction.
    expect((await auditRows(t, 'declaration', d.id)).map((a) => a.action)).toEqual([
      'DECLARATION_SUBMITTED',
      'DECLARATION_ACCEPTED',
      'DECLARATION_ASSESSED',
      'DECLARATION_RELEASED',
      'DECLARATION_CLEARED',
    ])

    expect(await sweepArchives(deps())).toBeGreaterThanOrEqual(1)
    expect(await queued(d.id)).toBe(0)
    expect(await queueState(t.db)).toEqual({ pending: 0, failing: 0, oldestClearedAt: null })
    expect(await archives(d.id)).toBe(1)
    expect(await auditRows(t, 'archive', d.entryId)).toEqual([
      expect.objectContaining({
        action: 'ARCHIVE_CREATED',
        actor: 'system:archives',
        data: expect.objectContaining({ declarationId: d.id, retentionYears: 3, retainUntil: '2029-05-11' }),
      }),
    ])
    // A second sweep finds nothing to do.
    expect(await sweepArchives(deps())).toBe(0)
    expect(await archives(d.id)).toBe(1)
    expect(await auditRows(t, 'archive', d.entryId)).toHaveLength(1)
  })

  it("publishes an officer's closure (结关) to the outbox in the transition's transaction", async () => {
    const d = await submitDeclaration(t, op, { items: [TSHIRTS], tradeMode: '0615', manualNo: 'C53012600001' })
    expect(d.state).toBe('RELEASED')
    expect(await queued(d.id)).toBe(0)
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/declarations/${d.id}/clear`,
      headers: officer.headers,
      payload: {},
    })
    expect(res.json()).toMatchObject({ state: 'CLEARED' })
    expect(await queued(d.id)).toBe(1)
    await sweepArchives(deps())
    expect(
      await t.db.query('select retention_years, retain_until::text as until from archives where declaration_id = $1', [
        d.id,
      ]),
    ).toEqual([{ retention_years: 5, until: '2031-05-11' }])
  })

  it('loses nothing when a sweep dies half-way: its transaction rolls back, the events stay in the outbox, a later sweep archives them once', async () => {
    const ds = [await clearedAtIntake(op), await clearedAtIntake(op), await clearedAtIntake(other)]
    const audit = await countRows(t.db, 'audit_log')
    // The sweep fails after claiming the outbox rows (the id source of the archives throws), as a process would
    // stop mid-transaction.
    const dying: Deps = {
      ...deps(),
      ids: {
        ...systemIds,
        uuid: () => {
          throw new Error('process stopped')
        },
      },
    }
    await expect(sweepArchives(dying)).rejects.toThrow('process stopped')
    for (const d of ds) {
      expect(await queued(d.id)).toBe(1)
      expect(await archives(d.id)).toBe(0)
    }
    expect(await countRows(t.db, 'audit_log')).toBe(audit)
    // The dispatcher counted the attempt and made the rows due again after its backoff (1 s).
    expect(
      await countRows(t.db, 'outbox', `subscriber = 'archives' and attempts = 1 and last_error = 'process stopped'`),
    ).toBe(3)
    expect(await sweepArchives(deps())).toBe(0)
    t.clock.advance(1000)
    // Batches of one: the sweep goes on until nothing is due.
    expect(await sweepArchives(deps(), { batch: 1 })).toBe(3)
    for (const d of ds) {
      expect(await queued(d.id)).toBe(0)
      expect(await archives(d.id)).toBe(1)
      expect((await auditRows(t, 'archive', d.entryId)).map((a) => a.action)).toEqual(['ARCHIVE_CREATED'])
    }
  })

  it('is shared by two processes on one database: each declaration archived once', async () => {
    const ds = []
    for (let i = 0; i < 12; i++) ds.push(await clearedAtIntake(i % 2 ? op : other))
    // On PostgreSQL the second process has its own connections, so the two sweeps overlap and skip each other's
    // locked rows; PGlite runs one transaction at a time (and belongs to one process).
    const second: Db = t.url ? openPostgres(t.url, 3) : t.db
    try {
      const [a, b] = await Promise.all([
        sweepArchives(deps(), { batch: 2 }),
        sweepArchives({ ...deps(), db: second }, { batch: 2 }),
      ])
      expect(a + b).toBe(12)
    } finally {
      if (second !== t.db) await second.close()
    }
    const ids = ds.map((d) => d.id)
    expect(await countRows(t.db, 'archives', 'declaration_id = any($1::uuid[])', [ids])).toBe(12)
    expect(await pendingForArchives()).toBe(0)
    expect(
      await countRows(t.db, 'audit_log', `action = 'ARCHIVE_CREATED' and entity_id = any($1::text[])`, [
        ds.map((d) => d.entryId),
      ]),
    ).toBe(12)
  })

  it('copies the declaration into the archive as the API shows it: content, parties as registered, totals, times', async () => {
    // Item values without and with decimals; exemption certificate and levy nature: 11 years.
    const items = [
      TSHIRTS,
      { ...TSHIRTS, hsCode: '6109909000', quantity: '3', unitPrice: '0.1', totalValue: '0.3' },
      { ...TSHIRTS, quantity: '7', unitPrice: '12.345', totalValue: '86.42' },
    ]
    const submitted = await submitDeclaration(t, op, {
      items: items.map((it) => ({ ...it, totalValue: it.totalValue === '500.00' ? '500' : it.totalValue })),
      manualNo: 'Z53012600009',
      cutMode: '789',
      tradeMode: '0615',
    })
    expect(submitted.state).toBe('RELEASED')
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/api/v1/declarations/${submitted.id}/clear`,
          headers: officer.headers,
          payload: {},
        })
      ).statusCode,
    ).toBe(200)
    const d = (await get(officer.headers, `/api/v1/declarations/${submitted.id}`)).json()
    const trader = (await get(officer.headers, `/api/v1/enterprises/${op.enterprise.id}`)).json()
    await sweepArchives(deps())
    const a = (await get(op.headers, `/api/v1/archives/${d.entryId}`)).json()
    expect(a).toEqual({
      id: expect.any(String),
      entryId: d.entryId,
      declarationId: d.id,
      traderId: op.enterprise.id,
      traderName: trader.name,
      traderCode: trader.customsCode,
      ieFlag: 'I',
      tradeMode: '0615',
      customsDistrict: d.content.customsDistrict,
      iePort: d.content.iePort,
      declaredAt: d.submittedAt,
      clearedAt: d.clearedAt,
      retentionYears: 11,
      retentionBasis: retentionOf(await loadRetentionRules(t.db), d.content).basis,
      retainUntil: retainUntil(d.clearedAt, 11),
      snapshot: {
        entryId: d.entryId,
        content: d.content,
        trader: { name: trader.name, customsCode: trader.customsCode, uscc: trader.uscc },
        declarant: { name: trader.name, customsCode: trader.customsCode },
        totalValue: totalValue(d.content),
        totalValueCny: d.totalValueCny,
        declaredAt: d.submittedAt,
        releasedAt: d.releasedAt,
        clearedAt: d.clearedAt,
      },
    })
    expect(a.snapshot.totalValue).toBe('586.72')
  })

  it('counts retention from the China date of clearance in SQL: 29 February ends on 28 February, 16:00 UTC is the next China day', async () => {
    const leap = await clearedAtIntake(op)
    const late = await clearedAtIntake(op)
    // Clearance times moved as if cleared then (the statement reads them from the declaration).
    await t.db.query(`update declarations set cleared_at = $2 where id = $1`, [leap.id, '2028-02-29T10:00:00.000Z'])
    await t.db.query(`update declarations set cleared_at = $2 where id = $1`, [late.id, '2026-05-10T16:00:00.000Z'])
    await sweepArchives(deps())
    const until = async (id: string) =>
      (
        await t.db.query<{ u: string }>('select retain_until::text as u from archives where declaration_id = $1', [id])
      )[0]!.u
    expect(await until(leap.id)).toBe(retainUntil('2028-02-29T10:00:00.000Z', 3))
    expect(await until(leap.id)).toBe('2031-02-28')
    expect(await until(late.id)).toBe(retainUntil('2026-05-10T16:00:00.000Z', 3))
    expect(await until(late.id)).toBe('2029-05-11')
  })

  describe('reads archive what they read (taking it off the outbox), so a cleared declaration never reads as unarchived', () => {
    it('one archive: the owner and officers get it at once; another enterprise gets a 404 and archives nothing', async () => {
      const d = await clearedAtIntake(op)
      expect((await get(other.headers, `/api/v1/archives/${d.entryId}`)).json()).toMatchObject({
        statusCode: 404,
        code: 'ARCHIVE_NOT_FOUND',
      })
      expect(await queued(d.id)).toBe(1)
      const res = await get(op.headers, `/api/v1/archives/${d.entryId}`)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ entryId: d.entryId, declarationId: d.id, retentionYears: 3 })
      expect(await queued(d.id)).toBe(0)
      const e = await clearedAtIntake(op)
      expect((await get(officer.headers, `/api/v1/archives/${e.entryId}`)).json()).toMatchObject({ entryId: e.entryId })
      expect(await auditRows(t, 'archive', e.entryId)).toEqual([expect.objectContaining({ action: 'ARCHIVE_CREATED' })])
    })

    it('printing right after clearance works', async () => {
      const d = await clearedAtIntake(op)
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/archives/${d.entryId}/print`,
        headers: op.headers,
      })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('application/pdf')
    })

    it("lists and exports: the enterprise's own pending declarations, not another's", async () => {
      const mine = await clearedAtIntake(op)
      const theirs = await clearedAtIntake(other)
      const list = (await get(op.headers, `/api/v1/archives?limit=100`)).json()
      expect(list.items.map((a: { entryId: string }) => a.entryId)).toContain(mine.entryId)
      expect(await queued(mine.id)).toBe(0)
      expect(await queued(theirs.id)).toBe(1)
      const again = await clearedAtIntake(op)
      const csv = (await get(op.headers, '/api/v1/archives/export')).body
      expect(csv).toContain(again.entryId)
      expect(csv).not.toContain(theirs.entryId)
      // An officer's list of all archives archives everything pending.
      const all = (await get(officer.headers, '/api/v1/archives?limit=200')).json()
      expect(all.items.map((a: { entryId: string }) => a.entryId)).toContain(theirs.entryId)
      expect(await pendingForArchives()).toBe(0)
    })
  })

  it('archivePending takes what a read covers even when nothing else is due, and nothing twice', async () => {
    const d = await clearedAtIntake(other)
    const e = await clearedAtIntake(other)
    expect(await archivePending(deps(), { entryId: d.entryId })).toBe(1)
    expect(await archivePending(deps(), { entryId: d.entryId })).toBe(0)
    expect(await archives(d.id)).toBe(1)
    expect(await queued(d.id)).toBe(0)
    expect(await queued(e.id)).toBe(1)
    expect(await archivePending(deps(), { traderId: other.enterprise.id })).toBe(1)
    expect(await archives(e.id)).toBe(1)
  })

  it("the server's outbox dispatcher archives on its own (the subscription buildApp wires) and stops cleanly, letting a running batch finish", async () => {
    const bus = t.app.kouan.events as EventBus<AppEvents>
    expect(bus.subscriptions()).toContainEqual({
      type: 'DeclarationCleared',
      subscriber: 'archives',
      mode: 'afterCommit',
    })
    const ds = [await clearedAtIntake(op), await clearedAtIntake(other)]
    const before = (await t.app.kouan.metrics.archives.get()).values[0]?.value ?? 0
    const dispatcher = new OutboxDispatcher(
      { db: t.db, clock: t.clock, bus },
      {
        intervalMs: 1,
        log: (_msg, err) => {
          throw err
        },
      },
    ).start()
    try {
      await vi.waitFor(
        async () => {
          for (const d of ds) expect(await archives(d.id)).toBe(1)
        },
        { timeout: 20_000, interval: 5 },
      )
    } finally {
      await dispatcher.stop()
    }
    expect(await pendingForArchives()).toBe(0)
    expect((await t.app.kouan.metrics.archives.get()).values[0]!.value).toBe(before + 2)
  })

  it('migration 0015 moves what the archive queue held into the outbox, and the sweep archives it', async () => {
    const d = await clearedAtIntake(op)
    const migration = (name: string) => readFileSync(join(MIGRATIONS_DIR, name), 'utf8')
    // The database as 0014 left it: the declaration in archive_queue (0011), no outbox row for it.
    await t.db.transaction(async (tx) => {
      await tx.exec(migration('0011_archive_queue.sql'))
      await tx.query(`delete from outbox where subscriber = 'archives' and payload ->> 'id' = $1`, [d.id])
      await tx.query(
        `insert into archive_queue (declaration_id, submitted_at, trader_id, entry_id, cleared_at, trade_mode, manual_no, cut_mode)
         select id, submitted_at, trader_id, entry_id, cleared_at, trade_mode, body ->> 'manualNo', body ->> 'cutMode' from declarations where id = $1`,
        [d.id],
      )
      await tx.exec(migration('0015_archives_outbox.sql'))
    })
    expect(await t.db.query(`select to_regclass('archive_queue') is null as gone`)).toEqual([{ gone: true }])
    const [row] = await t.db.query<{
      event_id: string
      type: string
      payload: Record<string, unknown>
      attempts: number
    }>(`select event_id::text, type, payload, attempts from outbox where subscriber = 'archives'`)
    const decl = (await get(officer.headers, `/api/v1/declarations/${d.id}`)).json()
    expect(row).toEqual({
      event_id: d.id,
      type: 'DeclarationCleared',
      attempts: 0,
      payload: {
        id: d.id,
        submittedAt: decl.submittedAt.replace('Z', '000Z'),
        state: 'CLEARED',
        traderId: op.enterprise.id,
        entryId: d.entryId,
        clearedAt: decl.clearedAt.replace('Z', '000Z'),
      },
    })
    expect(await sweepArchives(deps())).toBe(1)
    expect(await archives(d.id)).toBe(1)
    expect(await pendingForArchives()).toBe(0)
  })

  it('leaves a verifiable audit chain', async () => {
    expect((await verifyAudit(t.db)).problems).toEqual([])
  })
})
