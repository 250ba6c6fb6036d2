import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import {
  buildEnterprise,
  buildOperator,
  cebExample,
  deterministicCebSetup,
  loginUser,
  sendCeb,
  type CebParty,
  type Headers,
} from '../../../test/factories.js'
import { matchQueued } from './service.js'

const ORDER = 'SO202508180001'

/** The example documents of another order (their business keys changed so they are new documents). */
const renumbered = (xml: string, orderNo: string, n: string) =>
  xml
    .replaceAll(ORDER, orderNo)
    .replace('<ceb:logisticsNo>', `<ceb:logisticsNo>${n}`)
    .replace('<ceb:payTransactionId>', `<ceb:payTransactionId>${n}`)
    .replace('<ceb:copNo>', `<ceb:copNo>${n}`)

interface Summary {
  orderNo: string
  returnStatus: number
  complete: boolean
  present: string[]
  reasons: Array<{ code: string }>
}
interface Detail extends Summary {
  documents: Array<{
    type: string
    docKey: string
    standing: string
    sender: string | null
    fields: Record<string, string> | null
    lines: Array<Record<string, string>> | null
  }>
}

describe('CEB tickets: list and documents (GET /ceb/orders, GET /ceb/orders/{orderNo})', () => {
  const t = useTestApp()
  let parties: Record<string, CebParty> = {}
  let outsider: { headers: Headers }
  let officer: { headers: Headers }
  const RELEASED = ORDER
  const RETURNED = 'SO202508180002'
  const HELD = 'SO202508180003'

  beforeAll(async () => {
    ;({ parties, officer } = await deterministicCebSetup(t))
    // A released ticket, then (a minute later) a returned one (payment short), then one with only its inventory.
    for (const [code, n] of [
      ['4601000EBC', 311],
      ['4601000PAY', 411],
      ['4601000LOG', 511],
      ['4601000AGT', 621],
    ] as const)
      expect((await sendCeb(t, parties[code]!, cebExample(n))).statusCode).toBe(200)
    await matchQueued(t.app.kouan)
    t.clock.advance(60_000)
    for (const [code, n] of [
      ['4601000EBC', 311],
      ['4601000PAY', 411],
      ['4601000LOG', 511],
      ['4601000AGT', 621],
    ] as const) {
      let xml = renumbered(cebExample(n), RETURNED, '2')
      if (n === 411)
        xml = xml.replace('<ceb:amountPaid>445.13</ceb:amountPaid>', '<ceb:amountPaid>400.00</ceb:amountPaid>')
      expect((await sendCeb(t, parties[code]!, xml)).statusCode).toBe(200)
    }
    await matchQueued(t.app.kouan)
    t.clock.advance(60_000)
    expect((await sendCeb(t, parties['4601000AGT']!, renumbered(cebExample(621), HELD, '3'))).statusCode).toBe(200)
    await matchQueued(t.app.kouan)
    // An enterprise with a card that is no party of any of these tickets.
    const admin = await loginUser(t, 'admin')
    outsider = await buildOperator(t, admin, await buildEnterprise(t, admin))
  })

  const get = (url: string, headers: Headers) => t.app.inject({ method: 'GET', url, headers })
  const list = async (query: string, headers: Headers) => {
    const res = await get(`/api/v1/ceb/orders${query}`, headers)
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as { items: Summary[]; total: number }
  }

  it('lists every ticket to officers, newest first, with status, presence and reasons', async () => {
    const all = await list('', officer.headers)
    expect(all.total).toBe(3)
    expect(all.items.map((i) => i.orderNo)).toEqual([HELD, RETURNED, RELEASED])
    expect(all.items[0]).toMatchObject({ returnStatus: 2, complete: false, present: [] })
    expect(all.items[1]).toMatchObject({
      returnStatus: 100,
      complete: true,
      present: ['CEB311', 'CEB411', 'CEB511', 'CEB621'],
      reasons: [expect.objectContaining({ code: 'AMOUNT_MISMATCH' })],
    })
    expect(all.items[2]).toMatchObject({ returnStatus: 800, complete: true, reasons: [] })
  })

  it('filters by status, completeness and creation time, and pages with the total of the filter', async () => {
    expect((await list('?returnStatus=100', officer.headers)).items.map((i) => i.orderNo)).toEqual([RETURNED])
    expect((await list('?complete=false', officer.headers)).items.map((i) => i.orderNo)).toEqual([HELD])
    const start = new Date(t.clock.now().getTime() - 120_000)
    const since = new Date(start.getTime() + 30_000).toISOString()
    const until = new Date(start.getTime() + 90_000).toISOString()
    expect((await list(`?since=${since}&until=${until}`, officer.headers)).items.map((i) => i.orderNo)).toEqual([
      RETURNED,
    ])
    const page2 = await list('?limit=2&offset=2', officer.headers)
    expect(page2).toMatchObject({ total: 3, items: [expect.objectContaining({ orderNo: RELEASED })] })
    const bad = await get('/api/v1/ceb/orders?limit=0', officer.headers)
    expect(bad.statusCode).toBe(400)
  })

  it("shows a ticket's four documents with their key fields and goods lines to officers", async () => {
    const res = await get(`/api/v1/ceb/orders/${RELEASED}`, officer.headers)
    expect(res.statusCode).toBe(200)
    const ticket = res.json() as Detail & { taxTotal: string; dutiableValue: string }
    expect(ticket).toMatchObject({ orderNo: RELEASED, returnStatus: 800, dutiableValue: '408.00' })
    const byType = Object.fromEntries(ticket.documents.map((d) => [d.type, d]))
    expect(Object.keys(byType).sort()).toEqual(['CEB311', 'CEB411', 'CEB511', 'CEB621'])
    expect(byType.CEB311).toMatchObject({
      standing: 'joined',
      sender: '4601000EBC',
      fields: expect.objectContaining({ orderNo: RELEASED, ebpCode: '4601000EBP', acturalPaid: '445.13' }),
      lines: [expect.objectContaining({ gnum: '1', totalPrice: expect.any(String) })],
    })
    expect(byType.CEB411!.fields).toMatchObject({ payCode: '4601000PAY', amountPaid: '445.13' })
    expect(byType.CEB511!.fields).toMatchObject({ logisticsCode: '4601000LOG', orderNo: RELEASED })
    expect(byType.CEB621!.fields).toMatchObject({ agentCode: '4601000AGT', customsCode: '6409' })
    expect(byType.CEB621!.lines).toEqual([expect.objectContaining({ gcode: '1901101000' })])
    // A document waiting for the order that names its sender is held.
    const held = (await get(`/api/v1/ceb/orders/${HELD}`, officer.headers)).json() as Detail
    expect(held.documents).toEqual([expect.objectContaining({ type: 'CEB621', standing: 'held' })])
  })

  it('shows an enterprise only the tickets it is a party of, and the fields of the documents it is a party of', async () => {
    // The logistics enterprise is named by the inventories and sent the waybills: both complete tickets, not the held one
    // (its inventory names it, so that one too).
    const log = await list('', parties['4601000LOG']!.headers)
    expect(log.items.map((i) => i.orderNo)).toEqual([HELD, RETURNED, RELEASED])
    // The payment enterprise: named by the orders and payments it sent; not the held ticket (an inventory only).
    const pay = await list('', parties['4601000PAY']!.headers)
    expect(pay).toMatchObject({ total: 2 })
    expect(pay.items.map((i) => i.orderNo)).toEqual([RETURNED, RELEASED])

    const ofPay = (await get(`/api/v1/ceb/orders/${RELEASED}`, parties['4601000PAY']!.headers)).json() as Detail
    const byType = Object.fromEntries(ofPay.documents.map((d) => [d.type, d]))
    // Its payment and the order naming it: fields; the waybill and inventory do not name it: present, no fields.
    expect(byType.CEB411!.fields).toMatchObject({ payTransactionId: expect.any(String) })
    expect(byType.CEB311!.fields).toMatchObject({ payCode: '4601000PAY' })
    expect(byType.CEB511).toMatchObject({ fields: null, lines: null, sender: null, standing: 'joined' })
    expect(byType.CEB621).toMatchObject({ fields: null, lines: null, sender: null })

    // The platform sees every document of its ticket.
    const ofEbp = (await get(`/api/v1/ceb/orders/${RELEASED}`, parties['4601000EBP']!.headers)).json() as Detail
    expect(ofEbp.documents.every((d) => d.fields !== null)).toBe(true)
  })

  it('answers 404 CEB_TICKET_NOT_FOUND for a ticket of others and an unknown order alike; their lists are empty', async () => {
    expect(await list('', outsider.headers)).toEqual({ items: [], total: 0 })
    const pay = parties['4601000PAY']!.headers
    for (const [orderNo, headers] of [
      [RELEASED, outsider.headers],
      [HELD, pay],
      ['SO000000000000', officer.headers],
    ] as const) {
      const res = await get(`/api/v1/ceb/orders/${orderNo}`, headers)
      expect(res.statusCode, orderNo).toBe(404)
      expect(res.json()).toMatchObject({ code: 'CEB_TICKET_NOT_FOUND', pointer: '/params/orderNo' })
      expect(res.body).not.toContain('4601000')
    }
  })
})
