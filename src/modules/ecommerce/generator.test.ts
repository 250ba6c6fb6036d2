import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../shared/clock.js'
import { buyerIdProblem } from './buyer-id.js'
import {
  DEFECT_REASONS,
  SUPPORTED_DEFECTS,
  baseTransferFor,
  generateTicket,
  ticketDocuments,
  toMessageXml,
  type GeneratedTicket,
  type Parties,
} from './generator.js'
import { REASON_CODES, verifyTicket, type ReasonCode, type VerifyContext } from './rules.js'
import { DEFAULT_TAX_RATES } from './tax.js'
import type { CebMessageType } from './types.js'
import { parseCebJson, parseCebXml } from './xml.js'

const PARTIES: Parties = {
  ebp: '4601000EBP',
  ebc: '4601000EBC',
  pay: '4601000PAY',
  logistics: '4601000LOG',
  agent: '4601000AGT',
  area: '4601000WHS',
}
const CTX: VerifyContext = {
  today: '2025-08-18',
  enterprises: () => true,
  waybillSeen: () => [],
  buyerYearTotal: () => '0',
  rates: DEFAULT_TAX_RATES,
}
const TYPES: CebMessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621']
const codes = (t: GeneratedTicket) => [...new Set(verifyTicket(t, CTX).reasons.map((r) => r.code))].sort()

function batch(seed: number, n: number, mode?: '1210' | '9610'): GeneratedTicket[] {
  const rng = seededRandom(seed)
  return Array.from({ length: n }, (_, index) =>
    generateTicket(rng, { index, parties: PARTIES, mode: mode ?? (index % 3 === 0 ? '9610' : '1210') }),
  )
}

describe('generateTicket', () => {
  it('makes 500 consistent tickets that verify with 120 and no reasons', () => {
    const tickets = batch(42, 500)
    for (const t of tickets) {
      const v = verifyTicket(t, CTX)
      expect(v.reasons, t.order.head.orderNo).toEqual([])
      expect(v.returnStatus).toBe(120)
      expect(t.order.head.taxTotal).toBe(v.tax!.total)
    }
    // Unique business keys and guids.
    for (const key of [
      (t: GeneratedTicket) => t.order.head.orderNo,
      (t: GeneratedTicket) => t.payment.head.payTransactionId,
      (t: GeneratedTicket) => t.waybill.head.logisticsNo,
      (t: GeneratedTicket) => t.inventory.head.copNo,
    ]) {
      expect(new Set(tickets.map(key)).size).toBe(500)
    }
    const guids = tickets.flatMap((t) => [t.order, t.payment, t.waybill, t.inventory].map((d) => d.head.guid))
    expect(new Set(guids).size).toBe(2000)
    expect(guids.every((g) => /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/.test(g))).toBe(
      true,
    )
  })

  it('varies the tickets realistically: 1–3 lines, real 10-digit codes, discounts, freight, both trade modes', () => {
    const tickets = batch(3, 500)
    const lineCounts = new Set(tickets.map((t) => t.order.lines.length))
    expect([...lineCounts].sort()).toEqual([1, 2, 3])
    const gcodes = new Set(tickets.flatMap((t) => t.inventory.lines.map((l) => l.gcode)))
    expect(gcodes.size).toBeGreaterThanOrEqual(6)
    expect([...gcodes].every((c) => /^\d{10}$/.test(c))).toBe(true)
    expect(tickets.some((t) => t.order.head.discount !== '0.00')).toBe(true)
    expect(tickets.some((t) => t.order.head.freight === '0.00')).toBe(true)
    expect(tickets.some((t) => t.order.head.consignee !== t.order.head.buyerName)).toBe(true)
    // Cosmetics carry consumption tax: 23.06% on the line, more than the 9.1% of VAT alone.
    const cream = tickets.find(
      (t) =>
        t.inventory.lines.length === 1 &&
        t.inventory.lines[0]!.gcode === '3304990099' &&
        t.order.head.freight === '0.00',
    )!
    expect(Number(cream.order.head.taxTotal) / Number(cream.order.head.goodsValue)).toBeCloseTo(0.2306, 3)
    for (const t of tickets) {
      expect(buyerIdProblem(t.order.head.buyerIdNumber, '2025-08-18')).toBeUndefined()
      expect(t.payment.head.payerIdNumber).toBe(t.order.head.buyerIdNumber)
      expect(t.payment.head.amountPaid).toBe(t.order.head.acturalPaid)
    }
  })

  it('sets the fixed codes of bonded 1210 and direct 9610 (DOMAIN rule 6)', () => {
    for (const t of batch(5, 50, '1210')) {
      const h = t.inventory.head
      expect([
        h.tradeMode,
        h.country,
        h.currency,
        h.ieFlag,
        h.packNo,
        t.order.head.orderType,
        t.order.head.currency,
      ]).toEqual(['1210', '142', '142', 'I', '1', 'I', '142'])
      expect(h.emsNo).toMatch(/^T\d{4}W\d{6}$/)
      expect(h.areaCode).toBe('4601000WHS')
      expect(t.inventory.lines.every((l) => l.itemRecordNo)).toBe(true)
      expect(h.trafNo ?? h.voyageNo ?? h.billNo).toBeUndefined()
    }
    for (const t of batch(6, 50, '9610')) {
      const h = t.inventory.head
      expect(h.tradeMode).toBe('9610')
      expect(h.trafNo && h.voyageNo && h.billNo).toBeTruthy()
      expect(t.waybill.head.billNo).toBe(h.billNo)
      expect(h.country).toBe(t.inventory.lines[0]!.country)
      expect(h.emsNo ?? h.areaCode).toBeUndefined()
    }
  })

  it('keeps a pooled buyer the same person across tickets', () => {
    const rng = seededRandom(9)
    const tickets = Array.from({ length: 200 }, (_, index) =>
      generateTicket(rng, { index, parties: PARTIES, buyers: 5 }),
    )
    const byId = new Map<string, string>()
    for (const t of tickets) {
      expect(verifyTicket(t, CTX).returnStatus).toBe(120)
      const h = t.order.head
      expect(byId.get(h.buyerIdNumber) ?? `${h.buyerName}|${h.buyerTelephone}`).toBe(
        `${h.buyerName}|${h.buyerTelephone}`,
      )
      byId.set(h.buyerIdNumber, `${h.buyerName}|${h.buyerTelephone}`)
    }
    expect(byId.size).toBeLessThanOrEqual(5)
  })

  it('verifies with 120 for any seed, index and mode (property)', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.nat({ max: 1e9 }),
        fc.constantFrom('1210' as const, '9610' as const),
        (seed, index, mode) => {
          const t = generateTicket(seededRandom(seed), { index, parties: PARTIES, mode, prefix: 'P1' })
          const v = verifyTicket(t, CTX)
          return v.returnStatus === 120 && v.reasons.length === 0
        },
      ),
      { numRuns: 300 },
    )
  })

  it.each(SUPPORTED_DEFECTS)('plants %s so that verifyTicket reports exactly that reason', (defect) => {
    for (const mode of ['1210', '9610'] as const) {
      const rng = seededRandom(100 + SUPPORTED_DEFECTS.indexOf(defect))
      for (let index = 0; index < 25; index++) {
        const t = generateTicket(rng, { index, parties: PARTIES, mode, defect })
        const v = verifyTicket(t, CTX)
        expect(v.returnStatus, `${defect} ${mode} #${index}`).toBe(100)
        expect(codes(t), `${defect} ${mode} #${index}`).toEqual([...DEFECT_REASONS[defect]].sort())
        // Still well-formed messages: a defect is a content problem, never a format error at intake.
        for (const type of TYPES) {
          const parsed = parseCebXml(toMessageXml(type, [ticketDocuments(t)[type]], baseTransferFor('4601000AGT')))
          expect(parsed.ok, `${defect} ${type}`).toBe(true)
        }
      }
    }
  })

  it('covers every reason code that does not depend on the verification context', () => {
    const contextual: ReasonCode[] = ['SIGNATURE', 'UNREGISTERED_ENTERPRISE', 'DUPLICATE_WAYBILL', 'DUPLICATE_ORDER']
    expect([...SUPPORTED_DEFECTS, ...contextual].sort()).toEqual(Object.keys(REASON_CODES).sort())
  })

  it('refuses unsupported defects and bad options', () => {
    const rng = seededRandom(1)
    expect(() => generateTicket(rng, { index: 0, parties: PARTIES, defect: 'SIGNATURE' })).toThrow(RangeError)
    expect(() => generateTicket(rng, { index: -1, parties: PARTIES })).toThrow(RangeError)
    expect(() => generateTicket(rng, { index: 0, parties: PARTIES, prefix: 'ab' })).toThrow(RangeError)
    expect(() => generateTicket(rng, { index: 0, parties: PARTIES, date: '2025-02-30' })).toThrow(RangeError)
    expect(() => generateTicket(rng, { index: 0, parties: PARTIES, buyers: 0 })).toThrow(RangeError)
  })

  it('gives the same output for the same seed, and another for another seed', () => {
    const a = batch(77, 50)
    const b = batch(77, 50)
    expect(b).toEqual(a)
    expect(
      toMessageXml(
        'CEB621',
        b.map((t) => t.inventory),
        baseTransferFor('4601000AGT'),
      ),
    ).toBe(
      toMessageXml(
        'CEB621',
        a.map((t) => t.inventory),
        baseTransferFor('4601000AGT'),
      ),
    )
    expect(batch(78, 50)).not.toEqual(a)
  })
})

describe('toMessageXml', () => {
  const tickets = batch(11, 60)

  it.each(TYPES)('round-trips %s messages of one and of many documents through parseCebXml', (type) => {
    const docs = tickets.map((t) => ticketDocuments(t)[type])
    const bt = baseTransferFor(PARTIES.agent, '关通报关服务有限公司')
    for (const list of [docs.slice(0, 1), docs]) {
      const xml = toMessageXml(type, list, bt)
      expect(xml).toContain('xmlns:ceb="http://www.chinaport.gov.cn/ceb"')
      const parsed = parseCebXml(xml)
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems.slice(0, 3)))
      expect(parsed.message).toEqual({
        type,
        guid: list[0]!.head.guid,
        version: '1.0',
        documents: list,
        baseTransfer: bt,
      })
      // The same documents pass the JSON form too.
      expect(parseCebJson(type, { guid: list[0]!.head.guid, documents: list, baseTransfer: bt }).ok).toBe(true)
    }
  })

  it('escapes text: ampersands, angle brackets, quotes, line breaks and tabs survive', () => {
    const t = tickets[0]!
    const tricky = `A & B <b>"quoted"</b> 'x' ]]> \n second\tline &amp; 中文`
    const order = {
      ...t.order,
      head: { ...t.order.head, note: tricky, buyerName: "O'Brien & Söhne" },
      lines: t.order.lines.map((l) => ({ ...l, gmodel: '<50ml>|"Gold"&Co' })),
    }
    const xml = toMessageXml('CEB311', [order], baseTransferFor(PARTIES.ebc), {
      guid: 'ABCDEF00-0000-4000-8000-000000000001',
    })
    expect(xml).not.toContain('<b>')
    const parsed = parseCebXml(xml)
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
    expect(parsed.message.guid).toBe('ABCDEF00-0000-4000-8000-000000000001')
    expect(parsed.message.documents).toEqual([order])
  })

  it('refuses what XML cannot carry or would not give back', () => {
    const t = tickets[0]!
    expect(() =>
      toMessageXml('CEB411', [{ head: { ...t.payment.head, note: 'bell \u0007' } }], baseTransferFor(PARTIES.pay)),
    ).toThrow(RangeError)
    expect(() =>
      toMessageXml('CEB411', [{ head: { ...t.payment.head, note: ' padded ' } }], baseTransferFor(PARTIES.pay)),
    ).toThrow(RangeError)
    expect(() =>
      toMessageXml('CEB411', [{ head: { ...t.payment.head, bogus: 'x' } as never }], baseTransferFor(PARTIES.pay)),
    ).toThrow(TypeError)
    expect(() => toMessageXml('CEB411', [], baseTransferFor(PARTIES.pay))).toThrow(RangeError)
  })
})
