import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  cardLogin,
  cebExample,
  deterministicCebSetup,
  loginUser,
  randomUscc,
  sendCeb,
  type CebParty,
  type Headers,
} from '../../../test/factories.js'
import { ed25519 } from '../../shared/signing.js'
import { verifyAudit } from '../../shared/audit.js'
import { notNamed, partyRegistry, ticketStanding, type PartyHead } from './parties.js'

const ORDER = 'SO202508180001'

/** An enterprise outside the ticket, with a port card: the attacker of finding 1. */
async function outsider(t: ReturnType<typeof useTestApp>, code: string): Promise<CebParty> {
  const admin = await loginUser(t, 'admin')
  const ent = await t.app.inject({
    method: 'POST',
    url: '/api/v1/enterprises',
    headers: admin.headers,
    payload: { uscc: randomUscc(), customsCode: code, name: `Outsider ${code}`, registeredDistrict: '6400' },
  })
  if (ent.statusCode !== 201) throw new Error(ent.body)
  const keys = ed25519.generate()
  const card = (
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/cards',
      headers: admin.headers,
      payload: { enterpriseId: ent.json().id, operatorName: code, publicKey: keys.publicKey },
    })
  ).json()
  return {
    code,
    enterpriseId: ent.json().id,
    cardNo: card.cardNo,
    privateKey: keys.privateKey,
    headers: await cardLogin(t, card.cardNo, keys.privateKey),
  }
}

/** The example payment as another payment enterprise would send it for the same order. */
const foreignPayment = (code: string, amount = '1.00') =>
  cebExample(411)
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
    for (const [code, n] of [
      ['4601000EBC', 311],
      ['4601000PAY', 411],
      ['4601000LOG', 511],
      ['4601000AGT', 621],
    ] as const) {
      expect((await sendCeb(t, parties[code]!, cebExample(n))).statusCode).toBe(200)
    }
  })

  const ticket = async (orderNo = ORDER) =>
    (
      await t.db.query<{ return_status: number; present: number; tax_total: string | null }>(
        'select return_status, present, tax_total from ceb_tickets where order_no = $1',
        [orderNo],
      )
    )[0]
  const bill = async () =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${ORDER}/tax-bill`, headers: officer.headers })
    ).json()
  const buyerTotal = async () =>
    (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/ceb/buyers/110105199003071239/total?year=2026',
        headers: officer.headers,
      })
    ).json().total
  const receiptsAs = async (h: Headers, orderNo = ORDER) =>
    (await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${orderNo}/receipts`, headers: h })).json()
      .items as Array<{
      type: string
      docKey: string
      returnStatus: number
      reasons: Array<{ code: string; pointer: string }>
    }>

  it('refuses a payment from an enterprise the released order does not name, and the ticket, tax bill and annual total stay', async () => {
    expect(await ticket()).toMatchObject({ return_status: 800, present: 15, tax_total: '37.13' })
    const billBefore = await bill()
    expect(await buyerTotal()).toBe('408.00')

    const res = await sendCeb(t, attacker, foreignPayment(attacker.code))
    expect(res.statusCode).toBe(200)
    expect(res.json().receipts).toEqual([
      expect.objectContaining({
        type: 'CEB411',
        returnStatus: 100,
        reasons: [expect.objectContaining({ code: 'CEB_PARTY_NOT_NAMED', pointer: '/CEB411/PaymentHead/payCode' })],
      }),
    ])
    // Nothing of the attacker's is stored or counted; the verdict, the tax bill and the annual total agree as before.
    expect(await countRows(t.db, 'ceb_documents', 'sender = $1', [attacker.code])).toBe(0)
    expect(await ticket()).toMatchObject({ return_status: 800, present: 15, tax_total: '37.13' })
    expect(await bill()).toEqual(billBefore)
    expect(await buyerTotal()).toBe('408.00')
    expect(await countRows(t.db, 'audit_log', "action = 'CEB_TICKET_VERDICT' and entity_id = $1", [ORDER])).toBe(1)
  })

  it("shows the outsider its own refusal only, none of the ticket's receipts", async () => {
    const seen = await receiptsAs(attacker.headers)
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every((r) => r.type === 'CEB411' && r.docKey.startsWith(`${attacker.code}|`))).toBe(true)
  })

  it('refuses the same payment before the order is released, without touching the ticket', async () => {
    // A second order: the attacker's payment arrives after the order, before the ticket is complete.
    const other = (xml: string) =>
      xml
        .replaceAll(ORDER, 'SO202508180002')
        .replace('<ceb:logisticsNo>', '<ceb:logisticsNo>2')
        .replace('<ceb:payTransactionId>', '<ceb:payTransactionId>2')
        .replace('<ceb:copNo>', '<ceb:copNo>2')
    expect((await sendCeb(t, parties['4601000EBC']!, other(cebExample(311)))).statusCode).toBe(200)
    const res = await sendCeb(t, attacker, other(foreignPayment(attacker.code, '445.13')))
    expect(res.json().receipts).toEqual([
      expect.objectContaining({
        returnStatus: 100,
        reasons: [expect.objectContaining({ code: 'CEB_PARTY_NOT_NAMED' })],
      }),
    ])
    expect(await ticket('SO202508180002')).toMatchObject({ return_status: 2, present: 1 })
    for (const [code, n] of [
      ['4601000PAY', 411],
      ['4601000LOG', 511],
      ['4601000AGT', 621],
    ] as const) {
      expect((await sendCeb(t, parties[code]!, other(cebExample(n)))).statusCode).toBe(200)
    }
    expect(await ticket('SO202508180002')).toMatchObject({ return_status: 800, present: 15 })
    expect((await verifyAudit(t.db)).problems).toEqual([])
  })

  /** The example documents for order `n` (SO20250818000n), with their own waybill, payment and inventory numbers. */
  const nth = (n: number) => (xml: string) =>
    xml
      .replaceAll(ORDER, `SO20250818000${n}`)
      .replace('<ceb:logisticsNo>', `<ceb:logisticsNo>${n}`)
      .replace('<ceb:payTransactionId>', `<ceb:payTransactionId>${n}`)
      .replace('<ceb:copNo>', `<ceb:copNo>${n}`)

  it('holds documents that come before the order, and refuses the ones it does not name when it arrives', async () => {
    const o = nth(3)
    const early = await sendCeb(t, attacker, o(foreignPayment(attacker.code, '445.13')))
    expect(early.json().receipts).toEqual([
      expect.objectContaining({
        returnStatus: 2,
        returnInfo: expect.stringMatching(/held: waiting for order SO202508180003/),
      }),
    ])
    expect((await sendCeb(t, parties['4601000PAY']!, o(cebExample(411)))).statusCode).toBe(200)
    expect(await ticket('SO202508180003')).toMatchObject({ return_status: 2, present: 0 })
    // The order names 4601000PAY: its payment joins, the outsider's is refused — in the order's transaction.
    expect((await sendCeb(t, parties['4601000EBC']!, o(cebExample(311)))).statusCode).toBe(200)
    expect(await ticket('SO202508180003')).toMatchObject({ return_status: 2, present: 3 })
    const rows = await t.db.query<{ sender: string; standing: string; deleted: boolean }>(
      `select sender, standing, deleted from ceb_documents where type = 'CEB411' and order_no = 'SO202508180003' order by sender`,
    )
    expect(rows).toEqual([
      { sender: attacker.code, standing: 'refused', deleted: true },
      { sender: '4601000PAY', standing: 'joined', deleted: false },
    ])
    // The outsider finds its refusal; nothing else of the ticket.
    const seen = await receiptsAs(attacker.headers, 'SO202508180003')
    expect(seen.map((r) => [r.type, r.returnStatus, r.reasons[0]?.code])).toEqual([
      ['CEB411', 2, undefined],
      ['CEB411', 100, 'CEB_PARTY_NOT_NAMED'],
    ])
    expect(seen[1]!.reasons[0]!.pointer).toBe('/CEB411/PaymentHead/payCode')
    for (const [code, n] of [
      ['4601000LOG', 511],
      ['4601000AGT', 621],
    ] as const)
      expect((await sendCeb(t, parties[code]!, o(cebExample(n)))).statusCode).toBe(200)
    expect(await ticket('SO202508180003')).toMatchObject({ return_status: 800, present: 15 })
    // The refusal is audited with the documents whose standing changed.
    expect(
      await countRows(
        t.db,
        'audit_log',
        "action = 'CEB_DOCUMENTS_STANDING' and data -> 'refused' -> 0 ->> 'key' like $1",
        [`${attacker.code}|%`],
      ),
    ).toBe(1)
  })

  it('keeps one document of each type on a ticket: a second inventory is refused, the first keeps its place', async () => {
    const o = nth(4)
    for (const [code, n] of [
      ['4601000EBC', 311],
      ['4601000AGT', 621],
    ] as const)
      expect((await sendCeb(t, parties[code]!, o(cebExample(n)))).statusCode).toBe(200)
    // The outsider declares the same order as agent, naming the order's platform and e-commerce enterprise.
    const second = o(cebExample(621)).replaceAll('4601000AGT', attacker.code).replace('<ceb:copNo>4', '<ceb:copNo>X4')
    const res = await sendCeb(t, attacker, second)
    expect(res.json().receipts).toEqual([
      expect.objectContaining({
        returnStatus: 100,
        reasons: [expect.objectContaining({ code: 'CEB_TICKET_HAS_DOCUMENT', pointer: '/CEB621/InventoryHead/copNo' })],
      }),
    ])
    expect(await countRows(t.db, 'ceb_documents', "type = 'CEB621' and order_no = 'SO202508180004'")).toBe(1)
    // An inventory naming another platform is not this order's.
    const foreign = o(cebExample(621))
      .replaceAll('4601000AGT', attacker.code)
      .replace('<ceb:copNo>4', '<ceb:copNo>Y4')
      .replace(/<ceb:ebpCode>4601000EBP</, '<ceb:ebpCode>4601000EBX<')
    expect((await sendCeb(t, attacker, foreign)).json().receipts).toEqual([
      expect.objectContaining({
        reasons: [expect.objectContaining({ code: 'CEB_PARTY_NOT_NAMED', pointer: '/CEB621/InventoryHead/ebpCode' })],
      }),
    ])
    // A waybill from a logistics enterprise the inventory does not name.
    const waybill = o(cebExample(511)).replaceAll('4601000LOG', attacker.code)
    expect((await sendCeb(t, attacker, waybill)).json().receipts).toEqual([
      expect.objectContaining({
        reasons: [
          expect.objectContaining({ code: 'CEB_PARTY_NOT_NAMED', pointer: '/CEB511/LogisticsHead/logisticsCode' }),
        ],
      }),
    ])
    expect(await ticket('SO202508180004')).toMatchObject({ return_status: 2, present: 9 })
  })

  it('lets only the parties of a stored document change it, whatever the change names', async () => {
    // The outsider modifies the order of SO202508180004 naming itself as e-commerce enterprise.
    const takeover = nth(4)(cebExample(311))
      .replace('<ceb:appType>1</ceb:appType>', '<ceb:appType>2</ceb:appType>')
      .replaceAll('4601000EBC', attacker.code)
    const res = await sendCeb(t, attacker, takeover)
    expect(res.json().receipts).toEqual([
      expect.objectContaining({
        returnStatus: 100,
        reasons: [expect.objectContaining({ code: 'CEB_PARTY_NOT_NAMED', pointer: '/CEB311/OrderHead/ebcCode' })],
      }),
    ])
    const [order] = await t.db.query<{ ebc: string; version: number }>(
      `select body -> 'head' ->> 'ebcCode' as ebc, version from ceb_documents where type = 'CEB311' and order_no = 'SO202508180004'`,
    )
    expect(order).toEqual({ ebc: '4601000EBC', version: 1 })
  })

  it('shows each party the receipts of its own documents; the platform and the agent see the whole ticket', async () => {
    const types = async (code: string) =>
      [...new Set((await receiptsAs(parties[code]!.headers)).map((r) => r.type))].sort()
    expect(await types('4601000EBP')).toEqual(['CEB311', 'CEB411', 'CEB511', 'CEB621'])
    expect(await types('4601000AGT')).toEqual(['CEB311', 'CEB411', 'CEB511', 'CEB621'])
    expect(await types('4601000EBC')).toEqual(['CEB311', 'CEB621']) // named in the order and the inventory (also as assurer)
    expect(await types('4601000PAY')).toEqual(['CEB311', 'CEB411']) // the order names it as payment enterprise
    expect(await types('4601000LOG')).toEqual(['CEB511', 'CEB621']) // the inventory names it as logistics enterprise
    // The whole ticket is the documents on it: the outsider's refused attempt is not the platform's to read.
    expect((await receiptsAs(parties['4601000EBP']!.headers)).some((r) => r.docKey.startsWith(attacker.code))).toBe(
      false,
    )
    expect(await receiptsAs(parties['4601000PAY']!.headers, 'SO-NOBODY')).toEqual([])
  })

  it('checks CEB roles where the registry records them: the sender at intake, every named party at matching', async () => {
    const admin = await loginUser(t, 'admin')
    const put = (code: string, roles: string[], headers = admin.headers) =>
      t.app.inject({ method: 'PUT', url: `/api/v1/ceb/parties/${code}`, headers, payload: { roles } })
    expect((await put(attacker.code, ['pay'], attacker.headers)).statusCode).toBe(403)
    expect((await put('4601000NON', ['pay'])).json()).toMatchObject({
      code: 'CEB_PARTY_NOT_FOUND',
      pointer: '/params/customsCode',
    })
    const set = await put(attacker.code, ['logistics'])
    expect(set.statusCode).toBe(200)
    expect(set.json()).toMatchObject({ customsCode: attacker.code, roles: ['logistics'] })
    expect(
      (
        await t.app.inject({ method: 'GET', url: `/api/v1/ceb/parties/${attacker.code}`, headers: attacker.headers })
      ).json().roles,
    ).toEqual(['logistics'])
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/ceb/parties/4601000EBC', headers: attacker.headers }))
        .statusCode,
    ).toBe(404)
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/ceb/parties/4601000EBC', headers: officer.headers })).json(),
    ).toMatchObject({ roles: null })
    // Registered as logistics only: a payment from it is refused before anything else is looked at.
    const res = await sendCeb(t, attacker, nth(5)(foreignPayment(attacker.code)))
    expect(res.json().receipts).toEqual([
      expect.objectContaining({
        returnStatus: 100,
        reasons: [expect.objectContaining({ code: 'CEB_SENDER_ROLE', pointer: '/CEB411/PaymentHead/payCode' })],
      }),
    ])
    expect(await countRows(t.db, 'ceb_tickets', "order_no = 'SO202508180005'")).toBe(0)

    // The e-commerce enterprise recorded as ebc only: the inventory names it as assurer, which matching refuses
    // (UNREGISTERED_ENTERPRISE through the registry, not a stub).
    expect((await put('4601000EBC', ['ebc'])).statusCode).toBe(200)
    const o = nth(6)
    for (const [code, n] of [
      ['4601000EBC', 311],
      ['4601000PAY', 411],
      ['4601000LOG', 511],
      ['4601000AGT', 621],
    ] as const)
      expect((await sendCeb(t, parties[code]!, o(cebExample(n)))).statusCode).toBe(200)
    const [tk] = await t.db.query<{ return_status: number; reasons: Array<{ code: string; pointer: string }> }>(
      `select return_status, reasons from ceb_tickets where order_no = 'SO202508180006'`,
    )
    expect(tk).toEqual({
      return_status: 100,
      reasons: [
        expect.objectContaining({ code: 'UNREGISTERED_ENTERPRISE', pointer: '/CEB621/InventoryHead/assureCode' }),
      ],
    })
    expect(await countRows(t.db, 'audit_log', "action = 'CEB_PARTY_ROLES_SET'")).toBe(2)
  })
})

describe('ticketStanding (pure)', () => {
  const order = {
    type: 'CEB311' as const,
    key: 'EBP|O1',
    head: { ebpCode: 'EBP', ebcCode: 'EBC', payCode: 'PAY' },
    joined: true,
  }
  const doc = (type: 'CEB411' | 'CEB511' | 'CEB621', key: string, head: PartyHead, joined = false) => ({
    type,
    key,
    head,
    joined,
  })
  const payment = (payCode: string, ebpCode = 'EBP', joined = false) =>
    doc('CEB411', `${payCode}|T`, { payCode, ebpCode }, joined)
  const inventory = (ebpCode = 'EBP', ebcCode = 'EBC', logisticsCode = 'LOG') =>
    doc('CEB621', 'AGT|C', { ebpCode, ebcCode, logisticsCode, agentCode: 'AGT' })
  const of = (docs: Parameters<typeof ticketStanding>[1]) =>
    ticketStanding('O1', docs).map((s) => (s.standing === 'refused' ? `${s.code} ${s.pointer}` : s.standing))

  it('holds everything but the order until the order is there, and the waybill until the inventory is', () => {
    expect(of([payment('PAY'), doc('CEB511', 'LOG|W', { logisticsCode: 'LOG' }), inventory()])).toEqual([
      'held',
      'held',
      'held',
    ])
    expect(of([order, payment('PAY'), doc('CEB511', 'LOG|W', { logisticsCode: 'LOG' })])).toEqual([
      'joined',
      'joined',
      'held',
    ])
    expect(of([order, doc('CEB511', 'LOG|W', { logisticsCode: 'LOG' }), inventory()])).toEqual([
      'joined',
      'joined',
      'joined',
    ])
  })

  it('refuses what the order (or its inventory) does not name, with the field at fault', () => {
    expect(of([order, payment('ATK')])).toEqual(['joined', 'CEB_PARTY_NOT_NAMED /CEB411/PaymentHead/payCode'])
    expect(of([order, payment('PAY', 'EBX')])).toEqual(['joined', 'CEB_PARTY_NOT_NAMED /CEB411/PaymentHead/ebpCode'])
    expect(of([{ ...order, head: { ebpCode: 'EBP', ebcCode: 'EBC' } }, payment('PAY')])).toEqual([
      'joined',
      'CEB_PARTY_NOT_NAMED /CEB411/PaymentHead/payCode',
    ])
    expect(of([order, inventory('EBP', 'EBX')])).toEqual([
      'joined',
      'CEB_PARTY_NOT_NAMED /CEB621/InventoryHead/ebcCode',
    ])
    expect(of([order, inventory(), doc('CEB511', 'ATK|W', { logisticsCode: 'ATK' })])).toEqual([
      'joined',
      'joined',
      'CEB_PARTY_NOT_NAMED /CEB511/LogisticsHead/logisticsCode',
    ])
  })

  it('keeps the document already on the ticket against a newcomer of its type, whatever the order of the list', () => {
    expect(of([order, payment('PAY'), { ...payment('PAY', 'EBP', true), key: 'PAY|T0' }])).toEqual([
      'joined',
      'CEB_TICKET_HAS_DOCUMENT /CEB411/PaymentHead/payTransactionId',
      'joined',
    ])
    expect(of([order, payment('PAY'), { ...payment('PAY'), key: 'PAY|T2' }])).toEqual([
      'joined',
      'joined',
      'CEB_TICKET_HAS_DOCUMENT /CEB411/PaymentHead/payTransactionId',
    ])
  })

  it('notNamed: refuses an outsider only once the naming document is there', () => {
    expect(notNamed('O1', 'CEB411', { payCode: 'ATK', ebpCode: 'EBP' }, undefined, undefined)).toBeUndefined()
    expect(notNamed('O1', 'CEB411', { payCode: 'ATK', ebpCode: 'EBP' }, order.head, undefined)).toMatchObject({
      code: 'CEB_PARTY_NOT_NAMED',
    })
    expect(notNamed('O1', 'CEB511', { logisticsCode: 'ATK' }, order.head, undefined)).toBeUndefined()
    expect(notNamed('O1', 'CEB511', { logisticsCode: 'ATK' }, order.head, inventory().head)).toMatchObject({
      code: 'CEB_PARTY_NOT_NAMED',
    })
  })

  it('partyRegistry: registered, and in the role where roles are recorded (an empty record: no role)', () => {
    const has = partyRegistry([
      { customs_code: 'A', roles: null },
      { customs_code: 'B', roles: ['pay'] },
      { customs_code: 'C', roles: [] },
    ])
    expect([has('A', 'agent'), has('B', 'pay'), has('B', 'ebc'), has('C', 'pay'), has('Z', 'pay')]).toEqual([
      true,
      true,
      false,
      false,
      false,
    ])
  })
})
