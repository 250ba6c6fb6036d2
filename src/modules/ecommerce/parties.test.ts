import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { cardLogin, cebExample, deterministicCebSetup, loginUser, randomUscc, sendCeb, type CebParty, type Headers } from '../../../test/factories.js'
import { ed25519 } from '../../shared/signing.js'
import { verifyAudit } from '../../shared/audit.js'

const ORDER = 'SO202508180001'

/** An enterprise outside the ticket, with a port card: the attacker of finding 1. */
async function outsider(t: ReturnType<typeof useTestApp>, code: string): Promise<CebParty> {
  const admin = await loginUser(t, 'admin')
  const ent = await t.app.inject({ method: 'POST', url: '/api/v1/enterprises', headers: admin.headers, payload: { uscc: randomUscc(), customsCode: code, name: `Outsider ${code}`, registeredDistrict: '6400' } })
  if (ent.statusCode !== 201) throw new Error(ent.body)
  const keys = ed25519.generate()
  const card = (await t.app.inject({ method: 'POST', url: '/api/v1/cards', headers: admin.headers, payload: { enterpriseId: ent.json().id, operatorName: code, publicKey: keys.publicKey } })).json()
  return { code, enterpriseId: ent.json().id, cardNo: card.cardNo, privateKey: keys.privateKey, headers: await cardLogin(t, card.cardNo, keys.privateKey) }
}

/** The example payment as another payment enterprise would send it for the same order. */
const foreignPayment = (code: string, amount = '1.00') => cebExample(411)
  .replaceAll('4601000PAY', code)
  .replace('PAY20250818000000001', 'ATK20250818000000001')
  .replace('<ceb:amountPaid>445.13</ceb:amountPaid>', `<ceb:amountPaid>${amount}</ceb:amountPaid>`)

// Finding 1 of issue 10: a card holder of enterprise A sent a CEB411 naming itself as payment enterprise and B's order
// number; it was accepted, A could read B's receipts, and B's released ticket was re-matched 800 → 100 while its tax
// bill and the buyer's annual total stayed.
describe('CEB documents join a ticket only from the parties its order names', () => {
  const t = useTestApp({ cebMatching: true })
  let parties: Record<string, CebParty> = {}
  let officer: { headers: Headers }
  let attacker: CebParty

  beforeAll(async () => {
    ;({ parties, officer } = await deterministicCebSetup(t))
    attacker = await outsider(t, '4601000ATK')
    for (const [code, n] of [['4601000EBC', 311], ['4601000PAY', 411], ['4601000LOG', 511], ['4601000AGT', 621]] as const) {
      expect((await sendCeb(t, parties[code]!, cebExample(n))).statusCode).toBe(200)
    }
  })

  const ticket = async (orderNo = ORDER) =>
    (await t.db.query<{ return_status: number; present: number; tax_total: string | null }>('select return_status, present, tax_total from ceb_tickets where order_no = $1', [orderNo]))[0]
  const bill = async () => (await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${ORDER}/tax-bill`, headers: officer.headers })).json()
  const buyerTotal = async () => (await t.app.inject({ method: 'GET', url: '/api/v1/ceb/buyers/110105199003071239/total?year=2026', headers: officer.headers })).json().total
  const receiptsAs = async (h: Headers, orderNo = ORDER) =>
    (await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${orderNo}/receipts`, headers: h })).json().items as Array<{ type: string; docKey: string; returnStatus: number; reasons: Array<{ code: string; pointer: string }> }>

  it('refuses a payment from an enterprise the released order does not name, and the ticket, tax bill and annual total stay', async () => {
    expect(await ticket()).toMatchObject({ return_status: 800, present: 15, tax_total: '37.13' })
    const billBefore = await bill()
    expect(await buyerTotal()).toBe('408.00')

    const res = await sendCeb(t, attacker, foreignPayment(attacker.code))
    expect(res.statusCode).toBe(200)
    expect(res.json().receipts).toEqual([expect.objectContaining({
      type: 'CEB411', returnStatus: 100, reasons: [expect.objectContaining({ code: 'CEB_PARTY_NOT_NAMED', pointer: '/CEB411/PaymentHead/payCode' })],
    })])
    // Nothing of the attacker's is stored or counted; the verdict, the tax bill and the annual total agree as before.
    expect(await countRows(t.db, 'ceb_documents', 'sender = $1', [attacker.code])).toBe(0)
    expect(await ticket()).toMatchObject({ return_status: 800, present: 15, tax_total: '37.13' })
    expect(await bill()).toEqual(billBefore)
    expect(await buyerTotal()).toBe('408.00')
    expect(await countRows(t.db, 'audit_log', "action = 'CEB_TICKET_VERDICT' and entity_id = $1", [ORDER])).toBe(1)
  })

  it('shows the outsider its own refusal only, none of the ticket\'s receipts', async () => {
    const seen = await receiptsAs(attacker.headers)
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((r) => r.type === 'CEB411' && r.docKey.startsWith(`${attacker.code}|`))).toBe(true)
  })

  it('refuses the same payment before the order is released, without touching the ticket', async () => {
    // A second order: the attacker's payment arrives after the order, before the ticket is complete.
    const other = (xml: string) => xml.replaceAll(ORDER, 'SO202508180002').replace('<ceb:logisticsNo>', '<ceb:logisticsNo>2')
      .replace('<ceb:payTransactionId>', '<ceb:payTransactionId>2').replace('<ceb:copNo>', '<ceb:copNo>2')
    expect((await sendCeb(t, parties['4601000EBC']!, other(cebExample(311)))).statusCode).toBe(200)
    const res = await sendCeb(t, attacker, other(foreignPayment(attacker.code, '445.13')))
    expect(res.json().receipts).toEqual([expect.objectContaining({ returnStatus: 100, reasons: [expect.objectContaining({ code: 'CEB_PARTY_NOT_NAMED' })] })])
    expect(await ticket('SO202508180002')).toMatchObject({ return_status: 2, present: 1 })
    for (const [code, n] of [['4601000PAY', 411], ['4601000LOG', 511], ['4601000AGT', 621]] as const) {
      expect((await sendCeb(t, parties[code]!, other(cebExample(n)))).statusCode).toBe(200)
    }
    expect(await ticket('SO202508180002')).toMatchObject({ return_status: 800, present: 15 })
    expect((await verifyAudit(t.db)).problems).toEqual([])
  })
})
