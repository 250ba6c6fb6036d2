import { beforeAll, describe, expect, it } from 'vitest'
import { PDFDocument } from 'pdf-lib'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  auditRows,
  buildEnterprise,
  buildOperator,
  cardLogin,
  decodePdfQr,
  loginUser,
  noRandomSelection,
  submitDeclaration,
  type Headers,
  type TestOperator,
  TSHIRTS,
} from '../../../test/factories.js'
import { verifyAudit } from '../../shared/audit.js'
import { tokenOfPdf } from '../../shared/pdf.js'
import { contentDigest, parseToken } from '../certificates/token.js'
import { EXPORT_NOTICE } from './schema.js'
import { sweepArchives } from './service.js'
import { findDeclaration } from '../declarations/repo.js'
import { clearedOf } from '../declarations/events.js'
import { systemIds } from '../../shared/clock.js'

type User = { id: string; username: string; headers: Headers }
describe('archives', () => {
  const t = useTestApp()
  let officer: User
  let admin: User
  let op: TestOperator
  let other: TestOperator

  const get = (headers: Headers | undefined, url: string) =>
    t.app.inject({ method: 'GET', url, ...(headers ? { headers } : {}) })
  const post = (headers: Headers | undefined, url: string, payload?: object) =>
    t.app.inject({ method: 'POST', url, ...(headers ? { headers } : {}), ...(payload ? { payload } : {}) })

  /** A green-lane declaration, cleared at once (general trade) or by an officer (other trade modes). */
  async function cleared(
    who: TestOperator,
    over: Record<string, unknown> = {},
  ): Promise<{ id: string; entryId: string }> {
    const d = await submitDeclaration(t, who, { items: [TSHIRTS], ...over })
    expect(d.lane).toBe('GREEN')
    if (d.state !== 'CLEARED') {
      const res = await post(officer.headers, `/api/v1/declarations/${d.id}/clear`, {})
      expect(res.json()).toMatchObject({ state: 'CLEARED' })
    }
    return { id: d.id, entryId: d.entryId! }
  }

  let general: { id: string; entryId: string }
  let processing: { id: string; entryId: string }
  let equipment: { id: string; entryId: string }
  let exempt: { id: string; entryId: string }
  let printedToken = ''

  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    admin = await loginUser(t, 'admin')
    await noRandomSelection(t, admin)
    op = await buildOperator(t, officer, await buildEnterprise(t, officer, { name: '厦门档案测试贸易有限公司' }))
    other = await buildOperator(t, officer, await buildEnterprise(t, officer))
    general = await cleared(op)
    processing = await cleared(op, { tradeMode: '0615', manualNo: 'C53012600001', iePort: '5345' })
    equipment = await cleared(op, { tradeMode: '0320' })
    exempt = await cleared(op, { manualNo: 'Z53012600009', cutMode: '789' })
  })

  describe('creation at clearance', () => {
    it('archives a cleared declaration with its retention class, counted from the China date of clearance, audited', async () => {
      const res = await get(op.headers, `/api/v1/archives/${general.entryId}`)
      expect(res.statusCode).toBe(200)
      const a = res.json()
      expect(a).toMatchObject({
        entryId: general.entryId,
        declarationId: general.id,
        traderId: op.enterprise.id,
        traderName: '厦门档案测试贸易有限公司',
        tradeMode: '0110',
        retentionYears: 3,
        retainUntil: '2029-05-11',
        retentionBasis: 'all other trade modes (default)',
        snapshot: {
          entryId: general.entryId,
          content: { tradeMode: '0110', items: [TSHIRTS] },
          trader: { customsCode: op.enterprise.customsCode },
          totalValue: '500.00',
        },
      })
      expect(await auditRows(t, 'archive', general.entryId)).toEqual([
        expect.objectContaining({
          action: 'ARCHIVE_CREATED',
          actor: 'system:archives',
          data: expect.objectContaining({ retentionYears: 3, retainUntil: '2029-05-11' }),
        }),
      ])
    })

    it('archives a declaration once: its DeclarationCleared published again (a retry) adds nothing', async () => {
      const d = (await findDeclaration(t.db, general.id))!
      await t.db.transaction((tx) => t.app.kouan.events.publish(tx, 'DeclarationCleared', [clearedOf(d)]))
      expect(await countRows(t.db, 'outbox', `subscriber = 'archives' and payload ->> 'id' = $1`, [general.id])).toBe(1)
      expect(await sweepArchives({ ...t.app.kouan, clock: t.clock, ids: systemIds })).toBeGreaterThanOrEqual(1)
      expect(await countRows(t.db, 'outbox', `subscriber = 'archives'`)).toBe(0)
      expect(await countRows(t.db, 'archives', 'declaration_id = $1', [general.id])).toBe(1)
      expect((await auditRows(t, 'archive', general.entryId)).map((a) => a.action)).toEqual(['ARCHIVE_CREATED'])
    })

    it('keeps processing trade 5 years, no-price equipment and exempt goods 11 years (the table is data)', async () => {
      const years = async (entryId: string) => (await get(officer.headers, `/api/v1/archives/${entryId}`)).json()
      expect(await years(processing.entryId)).toMatchObject({ retentionYears: 5, retainUntil: '2031-05-11' })
      expect(await years(equipment.entryId)).toMatchObject({ retentionYears: 11, retainUntil: '2037-05-11' })
      expect(await years(exempt.entryId)).toMatchObject({ retentionYears: 11, retainUntil: '2037-05-11' })
      const rules = (await get(op.headers, '/api/v1/archives/retention-rules')).json().items
      expect(rules).toEqual(
        expect.arrayContaining([
          { kind: 'TRADE_MODE', value: '0320', years: 11, basis: expect.any(String) },
          { kind: 'DEFAULT', value: '*', years: 3, basis: 'all other trade modes' },
        ]),
      )
    })

    it('lets only admins replace the retention table, which must keep a default', async () => {
      const rules = (await get(admin.headers, '/api/v1/archives/retention-rules')).json().items
      expect(
        (
          await t.app.inject({
            method: 'PUT',
            url: '/api/v1/archives/retention-rules',
            headers: officer.headers,
            payload: { items: rules },
          })
        ).statusCode,
      ).toBe(403)
      const noDefault = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/archives/retention-rules',
        headers: admin.headers,
        payload: { items: rules.filter((r: { kind: string }) => r.kind !== 'DEFAULT') },
      })
      expect(noDefault.json()).toMatchObject({ statusCode: 422, code: 'ARCHIVE_RETENTION_DEFAULT_REQUIRED' })
      const res = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/archives/retention-rules',
        headers: admin.headers,
        payload: { items: rules },
      })
      expect(res.statusCode).toBe(200)
      expect(res.json().items).toHaveLength(rules.length)
      expect((await auditRows(t, 'archive_retention_rules', 'table')).map((a) => a.action)).toEqual([
        'ARCHIVE_RETENTION_RULES_REPLACED',
      ])
    })
  })

  describe('self-service query', () => {
    it("lists the enterprise's archives, filtered by date, number, trade mode and port, paginated with the total", async () => {
      const all = (await get(op.headers, '/api/v1/archives')).json()
      expect(all.total).toBe(4)
      expect(all.items.map((a: { entryId: string }) => a.entryId).sort()).toEqual(
        [general, processing, equipment, exempt].map((d) => d.entryId).sort(),
      )
      expect((await get(op.headers, `/api/v1/archives?entryId=${processing.entryId}`)).json()).toMatchObject({
        total: 1,
        items: [{ entryId: processing.entryId, retentionYears: 5, itemCount: 1, currency: 'USD' }],
      })
      expect(
        (await get(op.headers, '/api/v1/archives?tradeMode=0320'))
          .json()
          .items.map((a: { entryId: string }) => a.entryId),
      ).toEqual([equipment.entryId])
      expect((await get(op.headers, '/api/v1/archives?iePort=5345')).json().total).toBe(1)
      expect((await get(op.headers, '/api/v1/archives?clearedFrom=2026-05-11&clearedTo=2026-05-11')).json().total).toBe(
        4,
      )
      expect((await get(op.headers, '/api/v1/archives?clearedFrom=2026-05-12')).json().total).toBe(0)
      expect((await get(op.headers, '/api/v1/archives?clearedTo=2026-05-10')).json().total).toBe(0)
      const page = (await get(op.headers, '/api/v1/archives?limit=3&offset=3')).json()
      expect(page).toMatchObject({ total: 4 })
      expect(page.items).toHaveLength(1)
      expect((await get(op.headers, '/api/v1/archives?limit=0')).statusCode).toBe(400)
    })

    it('gives another enterprise a 404 for the archive and nothing in its list; officers see all', async () => {
      expect((await get(other.headers, `/api/v1/archives/${general.entryId}`)).json()).toMatchObject({
        statusCode: 404,
        code: 'ARCHIVE_NOT_FOUND',
      })
      expect((await post(other.headers, `/api/v1/archives/${general.entryId}/print`)).statusCode).toBe(404)
      expect((await get(other.headers, '/api/v1/archives')).json()).toMatchObject({ total: 0, items: [] })
      expect((await get(officer.headers, `/api/v1/archives?enterpriseId=${op.enterprise.id}`)).json().total).toBe(4)
      expect((await get(officer.headers, `/api/v1/archives/${general.entryId}`)).statusCode).toBe(200)
    })

    it('refuses dishonest and unreachable enterprises with the reason, and logs nothing', async () => {
      const shady = await buildOperator(t, officer, await buildEnterprise(t, officer))
      const gone = await buildOperator(t, officer, await buildEnterprise(t, officer))
      const s = await cleared(shady)
      const g = await cleared(gone)
      expect(
        (
          await post(officer.headers, `/api/v1/enterprises/${shady.enterprise.id}/credit`, {
            creditLevel: 'DISHONEST',
            reason: 'administrative penalty',
          })
        ).statusCode,
      ).toBe(200)
      expect(
        (
          await t.app.inject({
            method: 'PATCH',
            url: `/api/v1/enterprises/${gone.enterprise.id}`,
            headers: officer.headers,
            payload: { reachable: false },
          })
        ).statusCode,
      ).toBe(200)
      const prints = await countRows(t.db, 'archive_prints')
      for (const [who, entryId, code] of [
        [shady, s.entryId, 'ARCHIVE_SELF_SERVICE_DISHONEST'],
        [gone, g.entryId, 'ARCHIVE_SELF_SERVICE_UNREACHABLE'],
      ] as const) {
        for (const res of [
          await get(who.headers, '/api/v1/archives'),
          await get(who.headers, `/api/v1/archives/${entryId}`),
          await post(who.headers, `/api/v1/archives/${entryId}/print`),
          await get(who.headers, '/api/v1/archives/export'),
        ]) {
          expect(res.statusCode).toBe(403)
          expect(res.json()).toMatchObject({ code, message: expect.stringContaining('archive office') })
        }
      }
      expect(await countRows(t.db, 'archive_prints')).toBe(prints)
    })
  })

  describe('printing and export', () => {
    it('prints a PDF whose QR code verifies as an authentic archive printout; the print is logged and audited', async () => {
      t.clock.advance(60_000)
      const res = await post(op.headers, `/api/v1/archives/${general.entryId}/print`)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('application/pdf')
      const serial = res.headers['x-kouan-serial'] as string
      expect(serial).toMatch(/^53012026P\d{9}$/)
      const pdf = res.rawPayload
      const doc = await PDFDocument.load(pdf)
      expect(doc.getTitle()).toContain(general.entryId)
      const url = await decodePdfQr(pdf)
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:3000\/verify\/K1\.P\./)
      const { token, attachment } = await tokenOfPdf(pdf)
      expect(url!.endsWith(token!)).toBe(true)
      const printed = JSON.parse(Buffer.from(attachment!).toString('utf8'))
      expect(printed).toMatchObject({
        serial,
        printedAt: t.clock.now().toISOString(),
        retainUntil: '2029-05-11',
        archive: { entryId: general.entryId },
      })
      printedToken = token!
      const p = parseToken(token!)
      expect(p.ok && p.token.digest).toBe(contentDigest(printed))

      const v = (await post(undefined, '/api/v1/certificates/verify', { token: url })).json()
      expect(v).toMatchObject({
        verdict: 'AUTHENTIC',
        reasons: ['OK'],
        kind: 'ARCHIVE_PRINT',
        number: serial,
        validUntil: '2029-05-11T16:00:00.000Z',
      })
      expect(v.fields).toEqual(
        expect.arrayContaining([{ labelZh: '报关单号', labelEn: 'Entry No.', value: general.entryId }]),
      )
      expect((await get(undefined, `/verify/${token}`)).body).toContain('报关单档案打印件')

      const log = (await get(op.headers, '/api/v1/archives/prints?kind=PRINT')).json()
      expect(log.items[0]).toMatchObject({
        kind: 'PRINT',
        serial,
        entryId: general.entryId,
        actor: `card:${op.cardNo}`,
        enterpriseId: op.enterprise.id,
        printedAt: t.clock.now().toISOString(),
        rowCount: 1,
      })
      expect((await auditRows(t, 'archive', general.entryId)).at(-1)).toMatchObject({
        action: 'ARCHIVE_PRINTED',
        actor: `card:${op.cardNo}`,
        data: { serial },
      })
      expect((await get(other.headers, '/api/v1/archives/prints')).json().total).toBe(0)
    })

    it('exports CSV that opens with the internal-use notice; the export is logged with its query', async () => {
      const res = await get(op.headers, '/api/v1/archives/export?tradeMode=0110')
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toContain('text/csv')
      expect(res.headers['x-kouan-notice']).toBe('for internal management use only')
      const lines = res.body
        .replace(/^\ufeff/, '')
        .trimEnd()
        .split('\r\n')
      expect(lines[0]).toBe(EXPORT_NOTICE)
      expect(lines[1]).toBe(
        'entry_id,ie_flag,trade_mode,customs_district,ie_port,trader_code,trader_name,declared_at,cleared_at,items,total_value,currency,retention_years,retain_until',
      )
      expect(
        lines
          .slice(2)
          .map((l) => l.split(',')[0])
          .sort(),
      ).toEqual([general.entryId, exempt.entryId].sort())
      expect(lines[2]).toContain(op.enterprise.customsCode)
      const log = (await get(op.headers, '/api/v1/archives/prints?kind=EXPORT')).json()
      expect(log.items[0]).toMatchObject({
        kind: 'EXPORT',
        actor: `card:${op.cardNo}`,
        query: { tradeMode: '0110' },
        rowCount: 2,
        serial: null,
      })
      expect(await auditRows(t, 'archive_export', log.items[0].id)).toEqual([
        expect.objectContaining({ action: 'ARCHIVES_EXPORTED', data: { query: { tradeMode: '0110' }, rows: 2 } }),
      ])
    })
  })

  describe('retention enforcement', () => {
    const purge = (headers: Headers, dryRun?: boolean) =>
      post(headers, '/api/v1/archives/purge', dryRun === undefined ? undefined : { dryRun })
    const due = async () =>
      (await purge(admin.headers)).json() as { asOf: string; count: number; items: Array<{ entryId: string }> }
    // Sessions last hours: after moving the clock years ahead, log in again.
    const at = async (time: string) => {
      t.clock.set(time)
      admin = await loginUser(t, 'admin')
      op.headers = await cardLogin(t, op.cardNo, op.privateKey)
    }

    it('is for admins; dry run is the default and removes nothing', async () => {
      expect((await purge(officer.headers)).statusCode).toBe(403)
      expect((await purge(op.headers, false)).statusCode).toBe(403)
      expect(await due()).toMatchObject({ asOf: '2026-05-11', count: 0, items: [] })
    })

    it('removes nothing on the last day of retention, everything due the day after, audited; empty partitions of past years go', async () => {
      const before = await countRows(t.db, 'archives')
      // 23:59:59 on 11 May 2029, China time: the 3-year archives are still within retention.
      await at('2029-05-11T15:59:59Z')
      expect(await due()).toMatchObject({ asOf: '2029-05-11', count: 0 })
      // Past years' partitions are empty (nothing is kept less than 3 years): dropped, not scanned again.
      expect((await purge(admin.headers, false)).json()).toMatchObject({
        dryRun: false,
        count: 0,
        droppedPartitions: ['archives_2024', 'archives_2025', 'archives_2026', 'archives_2027', 'archives_2028'],
      })
      expect(await countRows(t.db, 'archives')).toBe(before)
      expect((await get(op.headers, `/api/v1/archives/${general.entryId}`)).statusCode).toBe(200)

      // One second later it is 12 May in China.
      await at('2029-05-11T16:00:00Z')
      const listed = await due()
      expect(listed.asOf).toBe('2029-05-12')
      const listedIds = listed.items.map((i) => i.entryId)
      expect(listedIds).toContain(general.entryId)
      for (const kept of [processing, equipment, exempt]) expect(listedIds).not.toContain(kept.entryId)
      expect(await countRows(t.db, 'archives')).toBe(before)
      // Past retention, self-service no longer shows it even before the purge runs.
      expect((await get(op.headers, `/api/v1/archives/${general.entryId}`)).statusCode).toBe(404)

      const res = await purge(admin.headers, false)
      expect(res.statusCode).toBe(200)
      const r = res.json()
      expect(r).toMatchObject({ dryRun: false, count: listed.count })
      expect(r.droppedPartitions).toEqual([])
      expect((await auditRows(t, 'archive_partition', 'archives_2024')).map((a) => a.action)).toEqual([
        'ARCHIVE_PARTITION_DROPPED',
      ])
      expect(await countRows(t.db, 'archives')).toBe(before - listed.count)
      expect(
        await countRows(t.db, 'archives', 'entry_id = any($1::text[])', [
          [processing.entryId, equipment.entryId, exempt.entryId],
        ]),
      ).toBe(3)
      expect((await auditRows(t, 'archive', general.entryId)).at(-1)).toMatchObject({
        action: 'ARCHIVE_PURGED',
        actor: `user:${admin.username}`,
        data: { retainUntil: '2029-05-11', asOf: '2029-05-12' },
      })
      expect(await due()).toMatchObject({ count: 0 })
    })

    it('keeps the print log, so a printout of a purged archive reads EXPIRED / RETENTION_ENDED', async () => {
      const v = (await post(undefined, '/api/v1/certificates/verify', { token: printedToken })).json()
      expect(v).toMatchObject({
        verdict: 'EXPIRED',
        reasons: ['RETENTION_ENDED'],
        kind: 'ARCHIVE_PRINT',
        statusChecked: true,
        fields: [],
      })
      const log = (await get(admin.headers, '/api/v1/archives/prints?kind=PRINT')).json()
      expect(log.items.map((i: { entryId: string }) => i.entryId)).toContain(general.entryId)
    })

    it('records every run in the purge history, newest first, for admins; each run audited', async () => {
      const runs = (q = '') => get(admin.headers, `/api/v1/archives/purge-runs${q}`)
      officer = await loginUser(t, 'officer')
      expect((await get(officer.headers, '/api/v1/archives/purge-runs')).statusCode).toBe(403)
      const real = (await runs('?dryRun=false')).json()
      expect(real.total).toBe(2)
      expect(real.items).toEqual([
        {
          id: expect.any(String),
          startedAt: '2029-05-11T16:00:00.000Z',
          finishedAt: '2029-05-11T16:00:00.000Z',
          actor: `user:${admin.username}`,
          asOf: '2029-05-12',
          dryRun: false,
          count: expect.any(Number),
          droppedPartitions: [],
        },
        expect.objectContaining({
          asOf: '2029-05-11',
          dryRun: false,
          count: 0,
          droppedPartitions: ['archives_2024', 'archives_2025', 'archives_2026', 'archives_2027', 'archives_2028'],
        }),
      ])
      expect(real.items[0].count).toBeGreaterThan(0)
      expect(await auditRows(t, 'archive_purge_run', real.items[0].id)).toEqual([
        expect.objectContaining({
          action: 'ARCHIVE_PURGE_RUN',
          data: { dryRun: false, asOf: '2029-05-12', count: real.items[0].count, droppedPartitions: [] },
        }),
      ])
      expect((await auditRows(t, 'archive', general.entryId)).at(-1)?.data).toMatchObject({ runId: real.items[0].id })
      const all = (await runs()).json()
      expect(all.total).toBeGreaterThan(2)
      expect(all.items.map((r: { startedAt: string }) => r.startedAt)).toEqual(
        [...all.items.map((r: { startedAt: string }) => r.startedAt)].sort().reverse(),
      )
      const dry = (await purge(admin.headers, true)).json()
      const newest = (await runs('?limit=1')).json()
      expect(newest).toEqual({
        items: [
          expect.objectContaining({ id: dry.runId, dryRun: true, count: dry.count, finishedAt: expect.any(String) }),
        ],
        total: all.total + 1,
      })
    })

    it('leaves no run for a purge that fails before removing anything, and a run without finishedAt for one stopped midway', async () => {
      // 12 May 2031 in China: the 5-year archives (processing trade) are due.
      await at('2031-05-11T16:00:00Z')
      const listed = await due()
      expect(listed, JSON.stringify(listed)).toMatchObject({ asOf: '2031-05-12' })
      expect(listed.count).toBeGreaterThan(0)
      const realRuns = async () => (await get(admin.headers, '/api/v1/archives/purge-runs?dryRun=false')).json()
      const before = await realRuns()
      const archives = await countRows(t.db, 'archives')
      // The database refuses the deletions: the run fails before removing anything.
      await t.db.exec(`create function refuse_purge() returns trigger language plpgsql as $$
        begin raise exception 'refused for the test'; end $$;
        create trigger refuse_archive_delete before delete on archives for each row execute function refuse_purge()`)
      expect((await purge(admin.headers, false)).statusCode).toBe(500)
      await t.db.exec('drop trigger refuse_archive_delete on archives')
      expect(await countRows(t.db, 'archives')).toBe(archives)
      expect(await realRuns()).toEqual(before)

      // The run removes what is due, then cannot mark itself finished: its row says what it did.
      await t.db.exec(`create trigger refuse_run_finish before update on archive_purge_runs for each row
        when (new.finished_at is not null) execute function refuse_purge()`)
      expect((await purge(admin.headers, false)).statusCode).toBe(500)
      await t.db.exec('drop trigger refuse_run_finish on archive_purge_runs; drop function refuse_purge()')
      expect(await countRows(t.db, 'archives')).toBe(archives - listed.count)
      const after = await realRuns()
      expect(after.total).toBe(before.total + 1)
      expect(after.items[0]).toMatchObject({ asOf: '2031-05-12', count: listed.count, finishedAt: null })
      expect(await auditRows(t, 'archive_purge_run', after.items[0].id)).toEqual([])
    })

    it('leaves a verifiable audit chain', async () => {
      expect((await verifyAudit(t.db)).problems).toEqual([])
    })
  })
})
