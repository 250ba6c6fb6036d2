import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { cebExample, deterministicCebSetup, sendCeb, type CebParty, type Headers } from '../../../test/factories.js'

const ORDER = 'SO202508180001'

/** The e-commerce error codes that no other test asserted (issue 10): receipts and tax bills that do not exist. */
describe('e-commerce error codes', () => {
  const t = useTestApp()
  let parties: Record<string, CebParty> = {}
  let officer: { headers: Headers }
  beforeAll(async () => {
    ;({ parties, officer } = await deterministicCebSetup(t))
    // One document of the order: it has a "received" CEB412 receipt and no verdict, so no tax bill.
    expect((await sendCeb(t, parties['4601000PAY']!, cebExample(411))).statusCode).toBe(200)
  })
  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: officer.headers })

  it('CEB_RECEIPTS_NOT_FOUND: receipts of a kind the order has none of, 404 at /query/kind', async () => {
    expect((await get(`/api/v1/ceb/orders/${ORDER}/receipts.xml?kind=CEB412`)).statusCode).toBe(200)
    for (const url of [
      `/api/v1/ceb/orders/${ORDER}/receipts.xml?kind=CEB622`,
      '/api/v1/ceb/orders/SO000000000000/receipts.xml?kind=CEB412',
    ]) {
      const res = await get(url)
      expect(res.statusCode, url).toBe(404)
      expect(res.json()).toMatchObject({ code: 'CEB_RECEIPTS_NOT_FOUND', pointer: '/query/kind' })
    }
  })

  it('CEB_TAX_BILL_NOT_FOUND: the tax bill of an order not released (or unknown), 404 at /params/orderNo', async () => {
    for (const orderNo of [ORDER, 'SO000000000000']) {
      const res = await get(`/api/v1/ceb/orders/${orderNo}/tax-bill`)
      expect(res.statusCode, orderNo).toBe(404)
      expect(res.json()).toMatchObject({ code: 'CEB_TAX_BILL_NOT_FOUND', pointer: '/params/orderNo' })
    }
  })
})
