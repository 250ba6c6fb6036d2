import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { buildEnterprise, buildOperator, declarationContent, loginUser, signed, type Headers, type TestOperator } from '../../../test/factories.js'

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
    const before = { declarations: await countRows(t.db, 'declarations'), refs: await countRows(t.db, 'declaration_refs'), archives: await countRows(t.db, 'archives'), audit: await countRows(t.db, 'audit_log') }
    const body = signed(broker, declarationContent(broker, { traderCode: trader.enterprise.customsCode }))
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/declarations', headers: broker.headers, payload: body })
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ code: 'ENTRUSTMENT_REQUIRED', pointer: '/body/traderCode' })
    expect({ declarations: await countRows(t.db, 'declarations'), refs: await countRows(t.db, 'declaration_refs'), archives: await countRows(t.db, 'archives'), audit: await countRows(t.db, 'audit_log') }).toEqual(before)
    // Nothing landed in the trader's records.
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/declarations', headers: trader.headers })
    expect(list.json().total).toBe(0)
  })
})
