import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { T0, useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  auditRows,
  buildEnterprise,
  buildOperator,
  declarationContent,
  entrust,
  entrustmentTerms,
  loginUser,
  signed,
  signedBody,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'
import type { Db } from '../../db/index.js'
import { systemIds } from '../../shared/clock.js'
import { EntryNumbers, submitDeclarations } from '../declarations/service.js'

describe('declaration intake: trader ≠ declarant (reproduction of finding 3)', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let broker: TestOperator
  let trader: TestOperator
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    broker = await buildOperator(t, officer, await buildEnterprise(t, officer))
    trader = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })

  it('refuses a declaration naming an unrelated trader with 403 ENTRUSTMENT_REQUIRED at /body/traderCode and writes nothing', async () => {
    const before = {
      declarations: await countRows(t.db, 'declarations'),
      refs: await countRows(t.db, 'declaration_refs'),
      archives: await countRows(t.db, 'archives'),
      audit: await countRows(t.db, 'audit_log'),
    }
    const body = signed(broker, declarationContent(broker, { traderCode: trader.enterprise.customsCode }))
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/declarations',
      headers: broker.headers,
      payload: body,
    })
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ code: 'ENTRUSTMENT_REQUIRED', pointer: '/body/traderCode' })
    expect({
      declarations: await countRows(t.db, 'declarations'),
      refs: await countRows(t.db, 'declaration_refs'),
      archives: await countRows(t.db, 'archives'),
      audit: await countRows(t.db, 'audit_log'),
    }).toEqual(before)
    // Nothing landed in the trader's records.
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/declarations', headers: trader.headers })
    expect(list.json().total).toBe(0)
  })
})

describe('declaration intake under an entrustment', () => {
  // Sessions outlive the clock moves of the date cases (China midnight is 15 h after T0).
  const t = useTestApp({ sessionTtl: 2 * 86_400 })
  let officer: { headers: Headers }
  let broker: TestOperator
  // A fresh trader per case, so one case's entrustment never covers another's declaration.
  const newTrader = async () => buildOperator(t, officer, await buildEnterprise(t, officer))
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    broker = await newTrader()
  })
  afterEach(() => t.clock.set(T0))

  const declare = (tr: TestOperator, overrides: Parameters<typeof declarationContent>[1] = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/declarations',
      headers: broker.headers,
      payload: signed(broker, declarationContent(broker, { traderCode: tr.enterprise.customsCode, ...overrides })),
    })

  async function expectRefused(
    tr: TestOperator,
    overrides: Parameters<typeof declarationContent>[1] = {},
    message?: RegExp,
  ) {
    const before = await countRows(t.db, 'declarations')
    const res = await declare(tr, overrides)
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ code: 'ENTRUSTMENT_REQUIRED', pointer: '/body/traderCode' })
    if (message) expect(res.json().message).toMatch(message)
    expect(await countRows(t.db, 'declarations')).toBe(before)
  }

  it("accepts a declaration covered by an ACTIVE entrustment: it lands in the trader's records, the audit names the entrustment", async () => {
    const tr = await newTrader()
    const e = await entrust(t, tr, broker)
    expect(e.state).toBe('ACTIVE')
    const res = await declare(tr)
    expect(res.statusCode).toBe(201)
    const d = res.json()
    expect(d.traderId).toBe(tr.enterprise.id)
    expect(d.declarantId).toBe(broker.enterprise.id)
    const mine = await t.app.inject({ method: 'GET', url: `/api/v1/declarations/${d.id}`, headers: tr.headers })
    expect(mine.statusCode).toBe(200)
    const submitted = (await auditRows(t, 'declaration', d.id)).find((r) => r.action === 'DECLARATION_SUBMITTED')
    expect(submitted?.data).toMatchObject({ entrustmentId: e.id, cardNo: broker.cardNo })
  })

  it('a trader declaring for itself needs no entrustment (and its audit names none)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/declarations',
      headers: broker.headers,
      payload: signed(broker, declarationContent(broker)),
    })
    expect(res.statusCode).toBe(201)
    const submitted = (await auditRows(t, 'declaration', res.json().id)).find(
      (r) => r.action === 'DECLARATION_SUBMITTED',
    )
    expect(submitted?.data).not.toHaveProperty('entrustmentId')
  })

  it('refuses a trade mode outside the scope, and accepts one inside it', async () => {
    const tr = await newTrader()
    await entrust(t, tr, broker, { tradeModes: ['0615', '0110'] })
    await expectRefused(tr, { tradeMode: '0214', manualNo: 'C12345678901' }, /trade mode 0214/)
    expect((await declare(tr, { tradeMode: '0110' })).statusCode).toBe(201)
  })

  it('refuses a customs district outside the scope; a district code NN00 covers its offices', async () => {
    const tr = await newTrader()
    await entrust(t, tr, broker, { customsDistricts: ['2200'] })
    await expectRefused(tr, { customsDistrict: '5301' }, /customs district 5301/)
    const tr2 = await newTrader()
    await entrust(t, tr2, broker, { customsDistricts: ['5300'] })
    expect((await declare(tr2, { customsDistrict: '5301' })).statusCode).toBe(201)
  })

  it('refuses exports under an imports-only entrustment', async () => {
    const tr = await newTrader()
    await entrust(t, tr, broker, { ieFlag: 'I' })
    await expectRefused(tr, { ieFlag: 'E' }, /exports/)
    expect((await declare(tr, { ieFlag: 'I' })).statusCode).toBe(201)
  })

  it('refuses before validFrom (China date) and accepts from that day on', async () => {
    const tr = await newTrader()
    await entrust(t, tr, broker, { validFrom: '2026-05-12', validTo: '2026-06-30' })
    await expectRefused(tr, {}, /starts on 2026-05-12/)
    // 2026-05-11T16:00Z is midnight of 12 May in China.
    t.clock.set('2026-05-11T16:00:00.000Z')
    expect((await declare(tr)).statusCode).toBe(201)
  })

  it('refuses after the period (expired): validTo is the last day covered', async () => {
    const tr = await newTrader()
    await entrust(t, tr, broker, { validFrom: '2026-05-01', validTo: '2026-05-11' })
    t.clock.set('2026-05-11T15:59:59.000Z') // 23:59:59 on 11 May, China time
    expect((await declare(tr)).statusCode).toBe(201)
    t.clock.set('2026-05-11T16:00:00.000Z')
    await expectRefused(tr)
  })

  it('refuses under a revoked entrustment', async () => {
    const tr = await newTrader()
    const e = await entrust(t, tr, broker)
    expect((await declare(tr)).statusCode).toBe(201)
    const revoked = await t.app.inject({
      method: 'POST',
      url: `/api/v1/entrustments/${e.id}/revoke`,
      headers: tr.headers,
      payload: { reason: 'contract ended' },
    })
    expect(revoked.json().state).toBe('REVOKED')
    await expectRefused(tr)
  })

  it('refuses under a proposal not yet accepted, and under a declined one', async () => {
    const tr = await newTrader()
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/entrustments',
      headers: tr.headers,
      payload: signedBody(tr, entrustmentTerms(tr, broker)),
    })
    expect(created.json().state).toBe('PROPOSED')
    await expectRefused(tr)
    const declined = await t.app.inject({
      method: 'POST',
      url: `/api/v1/entrustments/${created.json().id}/decline`,
      headers: broker.headers,
      payload: {},
    })
    expect(declined.json().state).toBe('DECLINED')
    await expectRefused(tr)
  })

  it('an entrustment binds the pair it names: another declarant of the same trader is refused', async () => {
    const tr = await newTrader()
    await entrust(t, tr, broker)
    const other = await newTrader()
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/declarations',
      headers: other.headers,
      payload: signed(other, declarationContent(other, { traderCode: tr.enterprise.customsCode })),
    })
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('ENTRUSTMENT_REQUIRED')
  })

  it('judges each declaration of a batch on its own, with pointers into the batch', async () => {
    const covered = await newTrader()
    const uncovered = await newTrader()
    await entrust(t, covered, broker)
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/declarations/batch',
      headers: broker.headers,
      payload: {
        declarations: [
          signed(broker, declarationContent(broker, { traderCode: covered.enterprise.customsCode })),
          signed(broker, declarationContent(broker, { traderCode: uncovered.enterprise.customsCode })),
          signed(broker, declarationContent(broker)),
        ],
      },
    })
    expect(res.statusCode).toBe(200)
    expect(res.json().results.map((r: { status: number }) => r.status)).toEqual([201, 403, 201])
    expect(res.json().results[1].errors).toEqual([
      expect.objectContaining({ code: 'ENTRUSTMENT_REQUIRED', pointer: '/body/declarations/1/traderCode' }),
    ])
  })

  it('loads the entrustments of a whole batch in one statement, and none when everyone declares for itself', async () => {
    const traders = [await newTrader(), await newTrader(), await newTrader()]
    for (const tr of traders.slice(0, 2)) await entrust(t, tr, broker)
    const seen: string[] = []
    const db: Db = {
      ...t.db,
      query: (sql, params) => {
        seen.push(sql)
        return t.db.query(sql, params)
      },
    }
    const deps = {
      db,
      clock: t.clock,
      ids: systemIds,
      reference: t.app.kouan.reference,
      events: t.app.kouan.events,
      numbers: new EntryNumbers(db),
    }
    const session = broker.cardId
    const batch = Array.from({ length: 12 }, (_, i) => ({
      sessionCardId: session,
      input: signed(broker, declarationContent(broker, { traderCode: traders[i % 3]!.enterprise.customsCode })),
    }))
    const results = await submitDeclarations(deps, batch)
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 3 === 2 ? 403 : 201)))
    expect(seen.filter((s) => /\bentrustments\b/.test(s))).toHaveLength(1)
    seen.length = 0
    const own = await submitDeclarations(deps, [
      { sessionCardId: session, input: signed(broker, declarationContent(broker)) },
    ])
    expect(own[0]!.status).toBe(201)
    expect(seen.filter((s) => /\bentrustments\b/.test(s))).toHaveLength(0)
  })
})
