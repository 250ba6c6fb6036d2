import { beforeAll, describe, expect, it, vi } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { auditRows, buildEnterprise, buildOperator, loginUser, noRandomSelection, submitDeclaration, type Headers, type TestOperator } from '../../../test/factories.js'
import { openPostgres, type Db } from '../../db/index.js'
import { verifyAudit } from '../../shared/audit.js'
import { systemIds } from '../../shared/clock.js'
import { totalValue } from '../declarations/lifecycle.js'
import { loadRetentionRules } from './repo.js'
import { archiveQueued, retainUntil, retentionOf, sweepArchives, type Deps } from './service.js'
import { ArchiveSweeper } from './sweep.js'

const TSHIRTS = { hsCode: '6109100000', description: 'Cotton T-shirts', quantity: '100', unit: '011', unitPrice: '5', totalValue: '500.00', originCountry: 'CHN' }

/**
 * Archiving off the clearance transaction (issue 11): clearance queues the declaration in its transaction, a sweep
 * archives the queue in batches (durable, resumable, shared by processes), and reads archive what they read.
 */
describe('the archive sweep', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let op: TestOperator
  let other: TestOperator
  const deps = (): Deps => t.app.kouan

  const get = (headers: Headers, url: string) => t.app.inject({ method: 'GET', url, headers })
  const queued = (declarationId: string) => countRows(t.db, 'archive_queue', 'declaration_id = $1', [declarationId])
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

  it('intake queues what it clears and archives nothing in its transaction; the sweep archives it once, audited', async () => {
    const d = await clearedAtIntake(op)
    expect(await queued(d.id)).toBe(1)
    expect(await archives(d.id)).toBe(0)
    expect(await auditRows(t, 'archive', d.entryId)).toEqual([])
    // The declaration's own trail is complete in the intake transaction.
    expect((await auditRows(t, 'declaration', d.id)).map((a) => a.action)).toEqual(['DECLARATION_SUBMITTED', 'DECLARATION_ACCEPTED', 'DECLARATION_ASSESSED', 'DECLARATION_RELEASED', 'DECLARATION_CLEARED'])

    expect(await sweepArchives(deps())).toBeGreaterThanOrEqual(1)
    expect(await queued(d.id)).toBe(0)
    expect(await archives(d.id)).toBe(1)
    expect(await auditRows(t, 'archive', d.entryId)).toEqual([expect.objectContaining({ action: 'ARCHIVE_CREATED', actor: 'system:archives', data: expect.objectContaining({ declarationId: d.id, retentionYears: 3, retainUntil: '2029-05-11' }) })])
    // A second sweep finds nothing to do.
    expect(await sweepArchives(deps())).toBe(0)
    expect(await archives(d.id)).toBe(1)
    expect(await auditRows(t, 'archive', d.entryId)).toHaveLength(1)
  })

  it('queues an officer\'s closure (结关) in the transition\'s transaction', async () => {
    const d = await submitDeclaration(t, op, { items: [TSHIRTS], tradeMode: '0615', manualNo: 'C53012600001' })
    expect(d.state).toBe('RELEASED')
    expect(await queued(d.id)).toBe(0)
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/declarations/${d.id}/clear`, headers: officer.headers, payload: {} })
    expect(res.json()).toMatchObject({ state: 'CLEARED' })
    expect(await queued(d.id)).toBe(1)
    await sweepArchives(deps())
    expect(await t.db.query('select retention_years, retain_until::text as until from archives where declaration_id = $1', [d.id])).toEqual([{ retention_years: 5, until: '2031-05-11' }])
  })

  it('loses nothing when a sweep dies half-way: its transaction rolls back, the declarations stay queued, a later sweep archives them once', async () => {
    const ds = [await clearedAtIntake(op), await clearedAtIntake(op), await clearedAtIntake(other)]
    const audit = await countRows(t.db, 'audit_log')
    // The sweep fails after taking the rows off the queue and loading the declarations (the id source of the
    // archives throws), as a process would stop mid-transaction.
    const dying: Deps = { ...deps(), ids: { ...systemIds, uuid: () => { throw new Error('process stopped') } } }
    await expect(sweepArchives(dying)).rejects.toThrow('process stopped')
    for (const d of ds) {
      expect(await queued(d.id)).toBe(1)
      expect(await archives(d.id)).toBe(0)
    }
    expect(await countRows(t.db, 'audit_log')).toBe(audit)
    // Batches of one: the sweep goes on until the queue is empty.
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
      const [a, b] = await Promise.all([sweepArchives(deps(), { batch: 2 }), sweepArchives({ ...deps(), db: second }, { batch: 2 })])
      expect(a + b).toBe(12)
    } finally {
      if (second !== t.db) await second.close()
    }
    const ids = ds.map((d) => d.id)
    expect(await countRows(t.db, 'archives', 'declaration_id = any($1::uuid[])', [ids])).toBe(12)
    expect(await countRows(t.db, 'archive_queue')).toBe(0)
    expect(await countRows(t.db, 'audit_log', `action = 'ARCHIVE_CREATED' and entity_id = any($1::text[])`, [ds.map((d) => d.entryId)])).toBe(12)
  })

  it('copies the declaration into the archive as the API shows it: content, parties as registered, totals, times', async () => {
    // Item values without and with decimals; exemption certificate and levy nature: 11 years.
    const items = [TSHIRTS, { ...TSHIRTS, hsCode: '6109909000', quantity: '3', unitPrice: '0.1', totalValue: '0.3' }, { ...TSHIRTS, quantity: '7', unitPrice: '12.345', totalValue: '86.42' }]
    const submitted = await submitDeclaration(t, op, { items: items.map((it) => ({ ...it, totalValue: it.totalValue === '500.00' ? '500' : it.totalValue })), manualNo: 'Z53012600009', cutMode: '789', tradeMode: '0615' })
    expect(submitted.state).toBe('RELEASED')
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/declarations/${submitted.id}/clear`, headers: officer.headers, payload: {} })).statusCode).toBe(200)
    const d = (await get(officer.headers, `/api/v1/declarations/${submitted.id}`)).json()
    const trader = (await get(officer.headers, `/api/v1/enterprises/${op.enterprise.id}`)).json()
    await sweepArchives(deps())
    const a = (await get(op.headers, `/api/v1/archives/${d.entryId}`)).json()
    expect(a).toEqual({
      id: expect.any(String), entryId: d.entryId, declarationId: d.id, traderId: op.enterprise.id, traderName: trader.name, traderCode: trader.customsCode,
      ieFlag: 'I', tradeMode: '0615', customsDistrict: d.content.customsDistrict, iePort: d.content.iePort, declaredAt: d.submittedAt, clearedAt: d.clearedAt,
      retentionYears: 11, retentionBasis: retentionOf(await loadRetentionRules(t.db), d.content).basis, retainUntil: retainUntil(d.clearedAt, 11),
      snapshot: {
        entryId: d.entryId, content: d.content, trader: { name: trader.name, customsCode: trader.customsCode, uscc: trader.uscc },
        declarant: { name: trader.name, customsCode: trader.customsCode }, totalValue: totalValue(d.content), totalValueCny: d.totalValueCny,
        declaredAt: d.submittedAt, releasedAt: d.releasedAt, clearedAt: d.clearedAt,
      },
    })
    expect(a.snapshot.totalValue).toBe('586.72')
  })

  describe('reads archive what they read, so a cleared declaration never reads as unarchived', () => {
    it('one archive: the owner and officers get it at once; another enterprise gets a 404 and archives nothing', async () => {
      const d = await clearedAtIntake(op)
      expect((await get(other.headers, `/api/v1/archives/${d.entryId}`)).json()).toMatchObject({ statusCode: 404, code: 'ARCHIVE_NOT_FOUND' })
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
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/archives/${d.entryId}/print`, headers: op.headers })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('application/pdf')
    })

    it('lists and exports: the enterprise\'s own queued declarations, not another\'s', async () => {
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
      // An officer's list of all archives archives everything queued.
      const all = (await get(officer.headers, '/api/v1/archives?limit=200')).json()
      expect(all.items.map((a: { entryId: string }) => a.entryId)).toContain(theirs.entryId)
      expect(await countRows(t.db, 'archive_queue')).toBe(0)
    })
  })

  it('archiveQueued takes named declarations even when nothing else is due, and nothing twice', async () => {
    const d = await clearedAtIntake(other)
    expect(await archiveQueued(deps(), { ids: [d.id] })).toBe(1)
    expect(await archiveQueued(deps(), { ids: [d.id] })).toBe(0)
    expect(await archives(d.id)).toBe(1)
  })

  it('the server\'s sweep runs on its own and stops cleanly, letting a running batch finish', async () => {
    const ds = [await clearedAtIntake(op), await clearedAtIntake(other)]
    const before = (await t.app.kouan.metrics.archives.get()).values[0]?.value ?? 0
    const sweeper = new ArchiveSweeper(deps(), 1, (err) => { throw err }).start()
    try {
      await vi.waitFor(async () => { for (const d of ds) expect(await archives(d.id)).toBe(1) }, { timeout: 20_000, interval: 5 })
    } finally {
      await sweeper.stop()
    }
    expect(await countRows(t.db, 'archive_queue')).toBe(0)
    expect((await t.app.kouan.metrics.archives.get()).values[0]!.value).toBe(before + 2)
  })

  it('leaves a verifiable audit chain', async () => {
    expect((await verifyAudit(t.db)).problems).toEqual([])
  })
})
