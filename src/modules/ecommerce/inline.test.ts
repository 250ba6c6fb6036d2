import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  cardLogin,
  cebExample,
  deterministicCebSetup,
  loginUser,
  sendCeb,
  type CebParty,
  type Headers,
} from '../../../test/factories.js'
import { verifyAudit } from '../../shared/audit.js'

const ORDER = 'SO202508180001'

// With matching on (as `kouan serve` runs), intake matches a ticket in the transaction of the message that
// completes it: the verdict exists when that message is acknowledged, and nothing waits in the queue.
describe('CEB matching inline with intake', () => {
  const t = useTestApp({ cebMatching: true })
  let parties: Record<string, CebParty> = {}
  let officer: { headers: Headers }

  beforeAll(async () => {
    ;({ parties, officer } = await deterministicCebSetup(t))
  })

  const receipts = async () =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${ORDER}/receipts`, headers: officer.headers })
    ).json().items as Array<{ type: string; returnStatus: number; reasons: Array<{ code: string }> }>
  const ticket = async () =>
    (
      await t.db.query<{ return_status: number; present: number; complete: boolean }>(
        'select return_status, present, complete from ceb_tickets where order_no = $1',
        [ORDER],
      )
    )[0]

  it('holds documents that arrive before their order: received, but no presence bit and no match', async () => {
    for (const [code, n] of [
      ['4601000LOG', 511],
      ['4601000AGT', 621],
      ['4601000PAY', 411],
    ] as const) {
      const res = await sendCeb(t, parties[code]!, cebExample(n))
      expect(res.statusCode).toBe(200)
      expect(res.json().receipts).toEqual([
        expect.objectContaining({
          returnStatus: 2,
          returnInfo: expect.stringMatching(/^received, held: waiting for order SO202508180001/),
        }),
      ])
      expect(await ticket()).toEqual({ return_status: 2, present: 0, complete: false })
    }
    expect(await countRows(t.db, 'ceb_documents', 'not deleted')).toBe(3)
    expect(await countRows(t.db, 'ceb_match_queue')).toBe(0)
    expect((await receipts()).map((r) => r.returnStatus)).toEqual([2, 2, 2])
  })

  it('has the verdict when the message completing the ticket is acknowledged', async () => {
    const res = await sendCeb(t, parties['4601000EBC']!, cebExample(311))
    expect(res.statusCode).toBe(200)
    expect(res.json().receipts).toEqual([expect.objectContaining({ type: 'CEB311', returnStatus: 2 })])
    // The order names the held documents' senders: they join in its transaction, which completes the ticket.
    expect(await ticket()).toEqual({ return_status: 800, present: 15, complete: true })
    expect(await countRows(t.db, 'ceb_documents', "not deleted and standing = 'joined'")).toBe(4)
    const all = await receipts()
    // The order's own "received" comes before the verdict it triggered.
    expect(all.filter((r) => r.type === 'CEB311').map((r) => r.returnStatus)).toEqual([2, 120])
    expect(all.filter((r) => r.type === 'CEB621').map((r) => r.returnStatus)).toEqual([2, 120, 399, 800])
    // The verdict's six receipts are one stored row; the API shows each with its own id, in issue order.
    expect(await countRows(t.db, 'ceb_receipts', 'order_no = $1', [ORDER])).toBe(5)
    const ids = all.map((r) => (r as unknown as { id: number }).id)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort((a, b) => a - b)).toEqual(ids)
    expect(all.slice(-6).map((r) => [r.type, r.returnStatus])).toEqual([
      ['CEB311', 120],
      ['CEB411', 120],
      ['CEB511', 120],
      ['CEB621', 120],
      ['CEB621', 399],
      ['CEB621', 800],
    ])
    expect(await countRows(t.db, 'ceb_match_queue')).toBe(0)
    expect(await countRows(t.db, 'ceb_tax_bills')).toBe(1)
    expect((await verifyAudit(t.db)).problems).toEqual([])
  })

  it('answers an identical resend with the latest receipt and matches nothing again', async () => {
    const before = await countRows(t.db, 'ceb_receipts')
    const res = await sendCeb(t, parties['4601000AGT']!, cebExample(621))
    expect(res.json().receipts).toEqual([expect.objectContaining({ type: 'CEB621', returnStatus: 800 })])
    expect(await countRows(t.db, 'ceb_receipts')).toBe(before)
    expect(await countRows(t.db, 'ceb_tax_bills')).toBe(1)
  })

  it('clears the presence bit of a deleted document of an unreleased order and re-matches on its return', async () => {
    const other = (xml: string) =>
      xml
        .replaceAll(ORDER, 'SO202508180002')
        .replace('<ceb:logisticsNo>', '<ceb:logisticsNo>2')
        .replace('<ceb:payTransactionId>', '<ceb:payTransactionId>2')
        .replace('<ceb:copNo>', '<ceb:copNo>2')
    for (const [code, n] of [
      ['4601000EBC', 311],
      ['4601000PAY', 411],
      ['4601000LOG', 511],
    ] as const) {
      expect((await sendCeb(t, parties[code]!, other(cebExample(n)))).statusCode).toBe(200)
    }
    const present = async () =>
      (await t.db.query<{ present: number }>(`select present from ceb_tickets where order_no = 'SO202508180002'`))[0]!
        .present
    // Order and payment count; the waybill waits for the inventory, which names the logistics enterprise.
    expect(await present()).toBe(3)
    const deleted = await sendCeb(
      t,
      parties['4601000PAY']!,
      other(cebExample(411)).replace('<ceb:appType>1</ceb:appType>', '<ceb:appType>3</ceb:appType>'),
    )
    expect(deleted.json().receipts).toEqual([expect.objectContaining({ returnStatus: 2, returnInfo: 'deleted' })])
    expect(await present()).toBe(1)
    expect((await sendCeb(t, parties['4601000PAY']!, other(cebExample(411)))).json().receipts).toEqual([
      expect.objectContaining({ returnStatus: 2 }),
    ])
    expect(await present()).toBe(3)
    expect((await sendCeb(t, parties['4601000AGT']!, other(cebExample(621)))).statusCode).toBe(200)
    expect(
      (
        await t.db.query<{ return_status: number; present: number }>(
          `select return_status, present from ceb_tickets where order_no = 'SO202508180002'`,
        )
      )[0],
    ).toEqual({ return_status: 800, present: 15 })
  })

  it('refuses a waybill number for another order within 6 months and takes it after, keeping the first order whole', async () => {
    const reuse = cebExample(511).replaceAll(ORDER, 'SO202508180003')
    const refused = await sendCeb(t, parties['4601000LOG']!, reuse)
    expect(refused.json().receipts).toEqual([
      expect.objectContaining({
        returnStatus: 100,
        reasons: [expect.objectContaining({ code: 'DUPLICATE_WAYBILL', pointer: '/CEB511/LogisticsHead/logisticsNo' })],
      }),
    ])
    const before = (await receipts()).filter((r) => r.type === 'CEB511').map((r) => r.returnStatus)
    // Six months and a day later (China dates) the logistics firm may use the number again.
    t.clock.advance((184 + 1) * 86_400_000)
    // Sessions do not last six months: log in again.
    const log = parties['4601000LOG']!
    log.headers = await cardLogin(t, log.cardNo, log.privateKey)
    officer = await loginUser(t, 'officer')
    const taken = await sendCeb(t, log, reuse)
    expect(taken.json().receipts).toEqual([expect.objectContaining({ orderNo: 'SO202508180003', returnStatus: 2 })])
    const rows = await t.db.query<{ doc_key: string; order_no: string }>(
      `select doc_key, order_no from ceb_documents where type = 'CEB511' and order_no in ($1, 'SO202508180003') order by order_no`,
      [ORDER],
    )
    expect(rows).toEqual([
      { doc_key: expect.stringMatching(new RegExp(`#${ORDER}$`)), order_no: ORDER },
      { doc_key: rows[0]!.doc_key.split('#')[0], order_no: 'SO202508180003' },
    ])
    // The first order keeps its waybill receipts and its receipt message.
    expect((await receipts()).filter((r) => r.type === 'CEB511').map((r) => r.returnStatus)).toEqual(before)
    // Its receipts name the waybill under its retired key, the verdict's (one stored row) included.
    expect(
      (await receipts()).filter((r) => r.type === 'CEB511').map((r) => (r as unknown as { docKey: string }).docKey),
    ).toEqual(before.map(() => rows[0]!.doc_key))
    const xml = await t.app.inject({
      method: 'GET',
      url: `/api/v1/ceb/orders/${ORDER}/receipts.xml?kind=CEB512`,
      headers: officer.headers,
    })
    expect(xml.statusCode).toBe(200)
    expect(xml.body).toContain(`<ceb:logisticsNo>${rows[1]!.doc_key.split('|')[1]}</ceb:logisticsNo>`)
    expect((await verifyAudit(t.db)).problems).toEqual([])
  })

  it('refuses an order number another platform already uses, since tickets are keyed by order number', async () => {
    const fromPlatform = cebExample(311).replaceAll('4601000EBC', '4601000EBP')
    const ebp = parties['4601000EBP']!
    ebp.headers = await cardLogin(t, ebp.cardNo, ebp.privateKey) // the clock moved six months on above
    const res = await sendCeb(
      t,
      ebp,
      fromPlatform.replace('<ceb:ebpCode>4601000EBP</ceb:ebpCode>', '<ceb:ebpCode>4601000EBC</ceb:ebpCode>'),
    )
    expect(res.statusCode).toBe(200)
    expect(res.json().receipts).toEqual([
      expect.objectContaining({
        returnStatus: 100,
        reasons: [expect.objectContaining({ code: 'DUPLICATE_ORDER', pointer: '/CEB311/OrderHead/orderNo' })],
      }),
    ])
    expect(await countRows(t.db, 'ceb_documents', "type = 'CEB311' and order_no = 'SO202508180001'")).toBe(1)
  })
})
