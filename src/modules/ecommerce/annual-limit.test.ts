import { beforeAll, describe, expect, it } from 'vitest'
import Big from 'big.js'
import { useTestApp } from '../../../test/app.js'
import { deterministicCebSetup, type CebParty } from '../../../test/factories.js'
import { seededRandom } from '../../shared/clock.js'
import { baseTransferFor, generateTicket, toMessageXml } from './generator.js'
import { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from './xml.js'
import { checkFiles } from './tools.js'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'

const P = { ebp: '4601000EBP', ebc: '4601000EBC', pay: '4601000PAY', logistics: '4601000LOG', agent: '4601000AGT' }
// DOMAIN §5: a buyer's released dutiable value per calendar year stays within ¥26,000. Two tickets of one buyer completed
// by one message are judged one after the other, each on the total with the ones released before it (matching used to
// read the totals once per batch, and released both).
describe('the annual limit within one batch of matching', () => {
  const t = useTestApp({ cebMatching: true })
  let parties: Record<string, CebParty> = {}
  beforeAll(async () => {
    ;({ parties } = await deterministicCebSetup(t))
  })
  it('refuses the second of two tickets of one buyer that together cross the limit, as the offline check does', async () => {
    const rng = seededRandom(5)
    const [a, b] = [0, 1].map((index) => generateTicket(rng, { index, parties: P, buyers: 1, date: '2026-05-11' }))
    const dut = (x: typeof a) =>
      x!.inventory.lines.reduce(
        (s, l) => s.plus(l.totalPrice),
        new Big(x!.inventory.head.freight).plus(x!.inventory.head.insuredFee),
      )
    const buyer = a!.order.head.buyerIdNumber
    const seed = new Big(26000).minus(dut(a).gt(dut(b)) ? dut(a) : dut(b)).toFixed(2)
    await t.db.query('insert into ceb_buyer_totals (buyer_id_number, year, total) values ($1, 2026, $2)', [buyer, seed])
    const send = async (type: 'CEB311' | 'CEB411' | 'CEB511' | 'CEB621', docs: unknown[], code: string) => {
      const xml = toMessageXml(type, docs as never, baseTransferFor(code))
      const p = parties[code]!
      const parsed = parseCebXml(xml)
      if (!parsed.ok) throw new Error('x')
      const r = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ceb/messages',
        headers: {
          ...p.headers,
          'content-type': 'application/xml',
          [SIGNATURE_HEADER]: xmlSignatureHeader(p.cardNo, p.privateKey, parsed.message),
        },
        payload: xml,
      })
      expect(r.statusCode).toBe(200)
      return xml
    }
    const dir = mkdtempSync(join(tmpdir(), 'kouan-annual-'))
    const files: string[] = []
    for (const [type, slot, code] of [
      ['CEB311', 'order', P.ebc],
      ['CEB411', 'payment', P.pay],
      ['CEB511', 'waybill', P.logistics],
      ['CEB621', 'inventory', P.agent],
    ] as const) {
      const docs = [a, b].map((x) => {
        const d = x![slot]
        d.head.appTime = '20260511090000'
        return d
      })
      const xml = await send(type, docs, code)
      const f = join(dir, `${type}.xml`)
      writeFileSync(f, xml)
      files.push(f)
    }
    const rows = await t.db.query<{ order_no: string; return_status: number; reasons: Array<{ code: string }> }>(
      'select order_no, return_status, reasons from ceb_tickets order by order_no',
    )
    const [total] = await t.db.query<{ total: string }>(
      'select total from ceb_buyer_totals where buyer_id_number = $1',
      [buyer],
    )
    // Each alone fits on the earlier total; together they do not: the first (in order-number order) goes, the second not.
    expect(
      new Big(seed).plus(dut(a)).lte(26000) &&
        new Big(seed).plus(dut(b)).lte(26000) &&
        new Big(seed).plus(dut(a)).plus(dut(b)).gt(26000),
    ).toBe(true)
    expect(rows.map((r) => [r.return_status, r.reasons.map((x) => x.code)])).toEqual([
      [800, []],
      [100, ['ANNUAL_LIMIT']],
    ])
    const first = rows[0]!.order_no === a!.order.head.orderNo ? a : b
    expect(total!.total).toBe(new Big(seed).plus(dut(first)).toFixed(2))
    const tool = checkFiles(files, {
      today: '2026-05-11',
      annualTotals: [{ buyerIdNumber: buyer, year: 2026, amount: seed }],
    })
    expect(
      tool.map((r) => [r.orderNo, r.returnStatus === 120 ? 800 : r.returnStatus, r.reasons.map((x) => x.code)]),
    ).toEqual(rows.map((r) => [r.order_no, r.return_status, r.reasons.map((x) => x.code)]))
  })
})
