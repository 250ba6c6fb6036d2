import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { cebExample, deterministicCebSetup, sendCeb, type CebParty, type Headers } from '../../../test/factories.js'
import { verifyAudit } from '../../shared/audit.js'
import { matchQueued } from './service.js'

const ORDER = 'SO202508180001'
const example = cebExample

describe('CEB intake, matching and receipts', () => {
  const t = useTestApp()
  let parties: Record<string, CebParty> = {}
  let officer: { headers: Headers }

  beforeAll(async () => {
    ;({ parties, officer } = await deterministicCebSetup(t))
  })

  const send = (p: CebParty, xml: string) => sendCeb(t, p, xml)
  const receipts = async () =>
    (
      await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${ORDER}/receipts`, headers: officer.headers })
    ).json().items as Array<{ type: string; returnStatus: number; reasons: Array<{ code: string }> }>

  it('stores each document with a "received" receipt and no verdict until all four are present', async () => {
    // Out of order: inventory first, order last.
    for (const [code, n] of [
      ['4601000AGT', 621],
      ['4601000LOG', 511],
      ['4601000PAY', 411],
    ] as const) {
      const res = await send(parties[code]!, example(n))
      expect(res.statusCode).toBe(200)
      expect(res.json().receipts).toEqual([expect.objectContaining({ orderNo: ORDER, returnStatus: 2 })])
    }
    await matchQueued(t.app.kouan)
    expect((await receipts()).every((r) => r.returnStatus === 2)).toBe(true)
    expect(await countRows(t.db, 'ceb_documents')).toBe(3)
  })

  it('verifies the complete ticket and releases it (120 → 399 → 800), with the buyer total counted', async () => {
    expect((await send(parties['4601000EBC']!, example(311))).statusCode).toBe(200)
    await matchQueued(t.app.kouan)
    const all = await receipts()
    expect(
      all
        .filter((r) => r.returnStatus === 120)
        .map((r) => r.type)
        .sort(),
    ).toEqual(['CEB311', 'CEB411', 'CEB511', 'CEB621'])
    expect(all.filter((r) => r.type === 'CEB621').map((r) => r.returnStatus)).toEqual([2, 120, 399, 800])
    const [total] = await t.db.query<{ total: string }>(
      `select total from ceb_buyer_totals where buyer_id_number = '110105199003071239'`,
    )
    expect(total!.total).toBe('408.00')
    expect((await verifyAudit(t.db)).problems).toEqual([])
    const bill = (
      await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${ORDER}/tax-bill`, headers: officer.headers })
    ).json()
    // DOMAIN §5: (398 + 10) × 9.1 % = 37.13, as VAT 13 % × 0.7 on the infant formula line.
    expect(bill).toMatchObject({
      orderNo: ORDER,
      valueAddedTax: '37.13',
      consumptionTax: '0.00',
      customsTax: '0.00',
      total: '37.13',
      invtNo: expect.stringMatching(/^6409\d{14}$/),
    })
    expect(bill.lines).toEqual([
      expect.objectContaining({ gnum: '1', gcode: '1901101000', taxPrice: '408.00', valueAddedTax: '37.13' }),
    ])
    const running = await t.app.inject({
      method: 'GET',
      url: '/api/v1/ceb/buyers/110105199003071239/total?year=2026',
      headers: officer.headers,
    })
    expect(running.json()).toEqual({ buyerIdNumber: '110105199003071239', year: 2026, total: '408.00' })
  })

  it('re-verifies on a modification: a returned ticket whose payment is corrected is matched again and released', async () => {
    const OTHER = 'SO202508180003'
    const other = (xml: string) =>
      xml
        .replaceAll(ORDER, OTHER)
        .replace('<ceb:logisticsNo>', '<ceb:logisticsNo>3')
        .replace('<ceb:payTransactionId>', '<ceb:payTransactionId>3')
        .replace('<ceb:copNo>', '<ceb:copNo>3')
    const short = other(example(411)).replace(
      '<ceb:amountPaid>445.13</ceb:amountPaid>',
      '<ceb:amountPaid>400.00</ceb:amountPaid>',
    )
    for (const [code, xml] of [
      ['4601000EBC', other(example(311))],
      ['4601000PAY', short],
      ['4601000LOG', other(example(511))],
      ['4601000AGT', other(example(621))],
    ] as const) {
      expect((await send(parties[code]!, xml)).statusCode).toBe(200)
    }
    await matchQueued(t.app.kouan)
    const status = async () =>
      (
        await t.db.query<{ return_status: number; reasons: Array<{ code: string }> }>(
          'select return_status, reasons from ceb_tickets where order_no = $1',
          [OTHER],
        )
      )[0]!
    expect(await status()).toMatchObject({
      return_status: 100,
      reasons: [expect.objectContaining({ code: 'AMOUNT_MISMATCH' })],
    })
    expect(await countRows(t.db, 'ceb_tax_bills', 'order_no = $1', [OTHER])).toBe(0)

    // The payment enterprise corrects the amount (appType 2): the ticket is matched again, with the new version.
    const corrected = other(example(411)).replace('<ceb:appType>1</ceb:appType>', '<ceb:appType>2</ceb:appType>')
    const res = await send(parties['4601000PAY']!, corrected)
    expect(res.json().receipts).toEqual([expect.objectContaining({ returnStatus: 2 })])
    expect(
      await countRows(
        t.db,
        'ceb_documents',
        "type = 'CEB411' and order_no = $1 and version = 2 and body -> 'head' ->> 'amountPaid' = '445.13'",
        [OTHER],
      ),
    ).toBe(1)
    await matchQueued(t.app.kouan)
    expect(await status()).toMatchObject({ return_status: 800, reasons: [] })
    const all = (
      await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${OTHER}/receipts`, headers: officer.headers })
    ).json().items as Array<{ type: string; returnStatus: number }>
    expect(all.filter((r) => r.type === 'CEB411').map((r) => r.returnStatus)).toEqual([2, 100, 2, 120])
    expect(all.filter((r) => r.type === 'CEB621').map((r) => r.returnStatus)).toEqual([2, 100, 120, 399, 800])
    const bill = (
      await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${OTHER}/tax-bill`, headers: officer.headers })
    ).json()
    expect(bill).toMatchObject({ orderNo: OTHER, total: '37.13' })
    // The same buyer: 408.00 + 408.00.
    const running = await t.app.inject({
      method: 'GET',
      url: '/api/v1/ceb/buyers/110105199003071239/total?year=2026',
      headers: officer.headers,
    })
    expect(running.json().total).toBe('816.00')
  })

  it('refuses a change to a released ticket; verdict, tax bill and annual total stay as they were', async () => {
    const billBefore = (
      await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${ORDER}/tax-bill`, headers: officer.headers })
    ).json()
    const modified = example(411)
      .replace('<ceb:appType>1</ceb:appType>', '<ceb:appType>2</ceb:appType>')
      .replace('<ceb:amountPaid>445.13</ceb:amountPaid>', '<ceb:amountPaid>400.00</ceb:amountPaid>')
    const res = await send(parties['4601000PAY']!, modified)
    expect(res.json().receipts).toEqual([
      expect.objectContaining({
        returnStatus: 100,
        reasons: [expect.objectContaining({ code: 'CEB_TICKET_SETTLED', pointer: '/CEB411/PaymentHead/orderNo' })],
      }),
    ])
    // A new document of a named party after release is refused the same way.
    const second = example(411).replace('PAY20250818000000001', 'PAY20250818000000009')
    expect((await send(parties['4601000PAY']!, second)).json().receipts).toEqual([
      expect.objectContaining({
        returnStatus: 100,
        reasons: [expect.objectContaining({ code: 'CEB_TICKET_SETTLED' })],
      }),
    ])
    await matchQueued(t.app.kouan)
    const [tk] = await t.db.query<{ return_status: number; tax_total: string; dutiable_value: string }>(
      'select return_status, tax_total, dutiable_value from ceb_tickets where order_no = $1',
      [ORDER],
    )
    const bill = (
      await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${ORDER}/tax-bill`, headers: officer.headers })
    ).json()
    expect(bill).toEqual(billBefore)
    // Verdict, tax bill and annual total agree: 800 with the bill's tax, and both released tickets counted once.
    expect(tk).toEqual({ return_status: 800, tax_total: bill.total, dutiable_value: '408.00' })
    const running = await t.app.inject({
      method: 'GET',
      url: '/api/v1/ceb/buyers/110105199003071239/total?year=2026',
      headers: officer.headers,
    })
    expect(running.json().total).toBe('816.00')
  })

  it('bills cosmetics at the rate worked out by hand from DOMAIN §5, not by the code under test', async () => {
    const O = 'SO202508180004'
    const o = (xml: string) =>
      xml
        .replaceAll(ORDER, O)
        .replace('<ceb:logisticsNo>', '<ceb:logisticsNo>4')
        .replace('<ceb:payTransactionId>', '<ceb:payTransactionId>4')
        .replace('<ceb:copNo>', '<ceb:copNo>4')
    // Face cream (gcode 3304990000: CT 15 %, VAT 13 %), 2 × 199.00 + 10.00 freight = 408.00 dutiable:
    //   CT  = 408 × 0.15 / (1 − 0.15) = 72.00 → × 0.7 = 50.40
    //   VAT = (408 + 72.00) × 0.13 = 62.40 → × 0.7 = 43.68
    //   tax 94.08; acturalPaid = 398 + 10 + 94.08 − 0 = 502.08
    const order = o(example(311))
      .replace('<ceb:taxTotal>37.13</ceb:taxTotal>', '<ceb:taxTotal>94.08</ceb:taxTotal>')
      .replace('<ceb:acturalPaid>445.13</ceb:acturalPaid>', '<ceb:acturalPaid>502.08</ceb:acturalPaid>')
    const payment = o(example(411)).replace(
      '<ceb:amountPaid>445.13</ceb:amountPaid>',
      '<ceb:amountPaid>502.08</ceb:amountPaid>',
    )
    const inventory = o(example(621)).replace('<ceb:gcode>1901101000</ceb:gcode>', '<ceb:gcode>3304990000</ceb:gcode>')
    for (const [code, xml] of [
      ['4601000EBC', order],
      ['4601000PAY', payment],
      ['4601000LOG', o(example(511))],
      ['4601000AGT', inventory],
    ] as const) {
      expect((await send(parties[code]!, xml)).statusCode).toBe(200)
    }
    await matchQueued(t.app.kouan)
    const bill = (
      await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${O}/tax-bill`, headers: officer.headers })
    ).json()
    expect(bill).toMatchObject({
      customsTax: '0.00',
      consumptionTax: '50.40',
      valueAddedTax: '43.68',
      total: '94.08',
      fullRate: false,
    })
    expect(bill.lines).toEqual([
      expect.objectContaining({
        gcode: '3304990000',
        taxPrice: '408.00',
        customsTax: '0.00',
        consumptionTax: '50.40',
        valueAddedTax: '43.68',
      }),
    ])
    const [tk] = await t.db.query<{ return_status: number; tax_total: string }>(
      'select return_status, tax_total from ceb_tickets where order_no = $1',
      [O],
    )
    expect(tk).toEqual({ return_status: 800, tax_total: '94.08' })
    // 408.00 for each of the buyer's three released tickets.
    const running = await t.app.inject({
      method: 'GET',
      url: '/api/v1/ceb/buyers/110105199003071239/total?year=2026',
      headers: officer.headers,
    })
    expect(running.json().total).toBe('1224.00')
  })

  it('serves the receipts as CEB622 XML that parses back', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/ceb/orders/${ORDER}/receipts.xml?kind=CEB622`,
      headers: officer.headers,
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/application\/xml/)
    expect(res.body).toMatch(/<ceb:CEB622Message[^>]*xmlns:ceb="http:\/\/www.chinaport.gov.cn\/ceb"/)
    expect([...res.body.matchAll(/<ceb:returnStatus>(\d+)<\/ceb:returnStatus>/g)].map((m) => m[1])).toEqual([
      '2',
      '120',
      '399',
      '800',
    ])
    expect(res.body).toMatch(/<ceb:copNo>INV20250818000001<\/ceb:copNo>/)
    expect(res.body).toMatch(/<ceb:invtNo>6409\d{14}<\/ceb:invtNo>/)
  })

  it('answers a resend of the same document idempotently', async () => {
    const before = await countRows(t.db, 'ceb_receipts')
    const res = await send(parties['4601000PAY']!, example(411))
    expect(res.json().receipts).toEqual([expect.objectContaining({ returnStatus: 120 })])
    expect(await countRows(t.db, 'ceb_receipts')).toBe(before)
  })

  it('refuses XXE, a wrong namespace and a bad signature with a CEB900-style error and stores nothing', async () => {
    const before = await countRows(t.db, 'ceb_documents')
    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${example(411).replace(/^<\?xml[^>]*>/, '')}`
    const r1 = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ceb/messages',
      headers: {
        ...parties['4601000PAY']!.headers,
        'content-type': 'application/xml',
        'x-kouan-signature': `${parties['4601000PAY']!.cardNo};Ed25519;x`,
      },
      payload: xxe,
    })
    expect(r1.statusCode).toBe(400)
    // An XML sender gets a CEB900 message back.
    expect(r1.headers['content-type']).toMatch(/application\/xml/)
    expect(r1.body).toMatch(
      /<ceb:CEB900Message[\s\S]*<ceb:returnStatus>-1<\/ceb:returnStatus>[\s\S]*<ceb:returnInfo>FORMAT \/[^<]*DTD/,
    )
    const wrongNs = example(411).replace('http://www.chinaport.gov.cn/ceb', 'http://example.com/ceb')
    const r2 = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ceb/messages',
      headers: {
        ...parties['4601000PAY']!.headers,
        'content-type': 'application/xml',
        'x-kouan-signature': `${parties['4601000PAY']!.cardNo};Ed25519;x`,
      },
      payload: wrongNs,
    })
    expect(r2.statusCode).toBe(400)
    expect(r2.body).toMatch(/<ceb:returnInfo>FORMAT /)
    const forged = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ceb/messages',
      headers: {
        ...parties['4601000PAY']!.headers,
        'content-type': 'application/xml',
        'x-kouan-signature': `${parties['4601000PAY']!.cardNo};Ed25519;${'A'.repeat(86)}`,
      },
      payload: example(411),
    })
    expect(forged.statusCode).toBe(422)
    expect(forged.body).toMatch(/<ceb:returnInfo>SIGNATURE \/signature\/value: /)
    expect(forged.body).toMatch(/<ceb:oriMessageType>CEB411<\/ceb:oriMessageType>/)
    expect(await countRows(t.db, 'ceb_documents')).toBe(before)
  })

  it('refuses NUL and lone surrogates in XML and JSON content with 400 and the element, never a 500, storing nothing', async () => {
    const before = await countRows(t.db, 'ceb_documents')
    const pay = parties['4601000PAY']!
    const headers = {
      ...pay.headers,
      'content-type': 'application/xml',
      'x-kouan-signature': `${pay.cardNo};Ed25519;${'A'.repeat(86)}`,
    }
    for (const [bad, what] of [
      ['&#xD800;', /malformed character entity &#xD800;/],
      ['&#0;', /malformed character entity &#0;/],
      ['\u0000', /U\+0000/],
    ] as const) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ceb/messages',
        headers,
        payload: example(411).replace('<ceb:payerName>', `<ceb:payerName>${bad}`),
      })
      expect(res.statusCode).toBe(400)
      const info = /<ceb:returnInfo>([^<]*)<\/ceb:returnInfo>/.exec(res.body)![1]!.replaceAll('&amp;', '&')
      expect(info).toMatch(/^FORMAT \/CEB411Message\/Payment\/0\/PaymentHead\/payerName: /)
      expect(info).toMatch(what)
    }
    // The UTF-8 bytes of a surrogate (ED A0 80) are not UTF-8.
    const bytes = Buffer.from(example(411).replace('<ceb:payerName>', '<ceb:payerName>@@@'), 'utf8')
    bytes.set([0xed, 0xa0, 0x80], bytes.indexOf('@@@'))
    const raw = await t.app.inject({ method: 'POST', url: '/api/v1/ceb/messages', headers, payload: bytes })
    expect(raw.statusCode).toBe(400)
    expect(raw.body).toMatch(
      /<ceb:returnInfo>FORMAT \/CEB411Message\/Payment\/0\/PaymentHead\/payerName: message is not valid UTF-8 at byte \d+/,
    )
    // JSON: the escapes decode to the characters themselves.
    const { parseCebXml } = await import('./xml.js')
    const message = (
      parseCebXml(example(411)) as unknown as { message: { documents: Array<{ head: Record<string, string> }> } }
    ).message
    for (const bad of ['\u0000', '\ud800']) {
      const body = JSON.stringify({
        type: 'CEB411',
        message: { ...message, documents: [{ head: { ...message.documents[0]!.head, payerName: `张${bad}三` } }] },
        signature: { cardNo: pay.cardNo, alg: 'Ed25519', value: 'A'.repeat(86) },
      })
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ceb/messages',
        headers: { ...pay.headers, 'content-type': 'application/json' },
        payload: body,
      })
      expect(res.statusCode).toBe(400)
      expect(res.json().pointer).toMatch(/\/documents\/0\/head\/payerName$/)
    }
    expect(await countRows(t.db, 'ceb_documents')).toBe(before)
    expect(await countRows(t.db, 'ceb_documents', `body::text like '%\\ufffd%' or body::text like '%\uFFFD%'`)).toBe(0)
  })

  it('refuses a JSON message without a signature with FORMAT, not a server error', async () => {
    const before = await countRows(t.db, 'ceb_documents')
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ceb/messages',
      headers: parties['4601000PAY']!.headers,
      payload: { type: 'CEB411', message: {} },
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'FORMAT', pointer: expect.stringMatching(/^\/body/) })
    expect(res.json().message).toMatch(/signature/)
    expect(await countRows(t.db, 'ceb_documents')).toBe(before)
  })

  it('refuses a document sent by an enterprise that is not its party', async () => {
    const res = await send(
      parties['4601000LOG']!,
      example(411).replace('<ceb:copCode>4601000PAY</ceb:copCode>', '<ceb:copCode>4601000LOG</ceb:copCode>'),
    )
    expect(res.statusCode).toBe(403)
    expect(res.body).toMatch(/<ceb:returnInfo>SIGNATURE /)
  })

  it('reports operations: tickets per status and reasons', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/ceb/stats', headers: officer.headers })
    expect(res.json().byStatus).toEqual([{ returnStatus: 800, tickets: 3 }])
  })
})
