import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, describe, expect, it } from 'vitest'
import { seededRandom } from '../../shared/clock.js'
import { canonicalJson, ed25519 } from '../../shared/signing.js'
import { sm2 } from '../../shared/sm2.js'
import Big from 'big.js'
import {
  baseTransferFor,
  generateTicket,
  ticketDocuments,
  toMessageXml,
  type GeneratedTicket,
  type Parties,
} from './generator.js'
import { AnnualTotalsError, CebFileError, cebCommand, checkFiles, readAnnualTotals, signFile } from './tools.js'
import { parseCebJson, parseCebXml } from './xml.js'

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'reference-data', 'ceb', 'examples')
const EXAMPLE_FILES = [311, 411, 511, 621].map((n) => join(EXAMPLES, `CEB${n}Message.xml`))
const dir = mkdtempSync(join(tmpdir(), 'kouan-ceb-tools-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const TODAY = '2025-08-18'

let n = 0
function write(name: string, content: string): string {
  const p = join(dir, `${++n}-${name}`)
  writeFileSync(p, content)
  return p
}

/** Runs `ceb …` on a fresh program; captures stdout lines, stderr lines and the exit code. */
async function run(...args: string[]) {
  const out: string[] = []
  const err: string[] = []
  let code = 0
  const program = new Command('kouan')
    .exitOverride()
    .configureOutput({ writeErr: (s) => err.push(s.trimEnd()), writeOut: (s) => out.push(s.trimEnd()) })
  cebCommand(program, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    exit: (c) => {
      code = c
    },
  })
  await program.parseAsync(['ceb', ...args], { from: 'user' })
  return {
    out,
    err,
    code,
    get json() {
      return out.map(
        (l) =>
          JSON.parse(l) as {
            orderNo: string
            returnStatus: number
            reasons: Array<{ code: string; pointer: string }>
            file?: string
          },
      )
    },
  }
}

describe('checkFiles / kouan ceb check', () => {
  it('checks the four example files as one accepted order', async () => {
    expect(checkFiles(EXAMPLE_FILES, { today: TODAY })).toEqual([
      { orderNo: 'SO202508180001', returnStatus: 120, reasons: [] },
    ])
    const r = await run('check', ...EXAMPLE_FILES, '--json')
    expect(r.out).toEqual(['{"orderNo":"SO202508180001","returnStatus":120,"reasons":[]}'])
    expect(r.code).toBe(0)
    expect(r.err).toEqual([])
  })

  it('rejects a copy with a wrong amountPaid with 100 and AMOUNT_MISMATCH, and still exits 0', async () => {
    const bad = write(
      'CEB411.xml',
      readFileSync(EXAMPLE_FILES[1]!, 'utf8').replace(
        '<ceb:amountPaid>445.13</ceb:amountPaid>',
        '<ceb:amountPaid>445.31</ceb:amountPaid>',
      ),
    )
    const r = await run('check', EXAMPLE_FILES[0]!, bad, EXAMPLE_FILES[2]!, EXAMPLE_FILES[3]!, '--today', TODAY)
    expect(r.code).toBe(0)
    expect(r.json).toHaveLength(1)
    expect(r.json[0]).toMatchObject({ orderNo: 'SO202508180001', returnStatus: 100 })
    expect(r.json[0]!.reasons.map((x) => x.code)).toEqual(['AMOUNT_MISMATCH'])
    expect(r.json[0]!.reasons[0]!.pointer).toBe('/CEB411/PaymentHead/amountPaid')
  })

  it('reports an incomplete order with 2, and the registration check when --registered is given', async () => {
    expect(checkFiles(EXAMPLE_FILES.slice(0, 3), { today: TODAY })).toEqual([
      { orderNo: 'SO202508180001', returnStatus: 2, reasons: [] },
    ])
    const r = await run(
      'check',
      ...EXAMPLE_FILES,
      '--today',
      TODAY,
      '--registered',
      '4601000EBP,4601000EBC,4601000LOG,4601000AGT',
    )
    expect(r.json[0]!.returnStatus).toBe(100)
    expect(new Set(r.json[0]!.reasons.map((x) => x.code))).toEqual(new Set(['UNREGISTERED_ENTERPRISE']))
  })

  it('groups many documents per file by orderNo across XML and JSON files', () => {
    const parties: Parties = {
      ebp: '4601000EBP',
      ebc: '4601000EBC',
      pay: '4601000PAY',
      logistics: '4601000LOG',
      agent: '4601000AGT',
    }
    const rng = seededRandom(5)
    const tickets: GeneratedTicket[] = Array.from({ length: 30 }, (_, index) =>
      generateTicket(rng, {
        index,
        parties,
        mode: index % 2 ? '9610' : '1210',
        defect: index === 7 ? 'WEIGHT' : index === 19 ? 'CONSIGNEE_MISMATCH' : null,
      }),
    )
    const files = [
      write(
        'orders.xml',
        toMessageXml(
          'CEB311',
          tickets.map((t) => t.order),
          baseTransferFor(parties.ebc),
        ),
      ),
      // Payments as the API's JSON body, waybills as a serialised message, in two halves.
      write(
        'payments.json',
        JSON.stringify({
          type: 'CEB411',
          message: {
            guid: tickets[0]!.payment.head.guid,
            documents: tickets.map((t) => t.payment),
            baseTransfer: baseTransferFor(parties.pay),
          },
        }),
      ),
      write(
        'waybills.json',
        JSON.stringify([
          {
            type: 'CEB511',
            guid: tickets[0]!.waybill.head.guid,
            documents: tickets.slice(0, 15).map((t) => t.waybill),
            baseTransfer: baseTransferFor(parties.logistics),
          },
          {
            type: 'CEB511',
            guid: tickets[15]!.waybill.head.guid,
            documents: tickets.slice(15).map((t) => t.waybill),
            baseTransfer: baseTransferFor(parties.logistics),
          },
        ]),
      ),
      write(
        'inventories.xml',
        toMessageXml(
          'CEB621',
          [...tickets].reverse().map((t) => t.inventory),
          baseTransferFor(parties.agent),
        ),
      ),
    ]
    const results = checkFiles(files, { today: TODAY })
    expect(results.map((r) => r.orderNo)).toEqual(tickets.map((t) => t.order.head.orderNo))
    results.forEach((r, i) => {
      if (i === 7) expect(r.reasons.map((x) => x.code)).toEqual(['WEIGHT'])
      else if (i === 19) expect(r.reasons.map((x) => x.code)).toEqual(['CONSIGNEE_MISMATCH'])
      else expect(r).toEqual({ orderNo: tickets[i]!.order.head.orderNo, returnStatus: 120, reasons: [] })
    })
  })

  it('applies appType: a later change replaces the document, a delete removes it', () => {
    const pay = readFileSync(EXAMPLE_FILES[1]!, 'utf8')
    const wrong = write('pay-wrong.xml', pay.replace('>445.13<', '>1.00<'))
    const fixed = write('pay-fixed.xml', pay.replace('<ceb:appType>1</ceb:appType>', '<ceb:appType>2</ceb:appType>'))
    const deleted = write(
      'pay-deleted.xml',
      pay.replace('<ceb:appType>1</ceb:appType>', '<ceb:appType>3</ceb:appType>'),
    )
    const others = [EXAMPLE_FILES[0]!, EXAMPLE_FILES[2]!, EXAMPLE_FILES[3]!]
    expect(checkFiles([...others, wrong, fixed], { today: TODAY })[0]!.returnStatus).toBe(120)
    expect(checkFiles([...others, fixed, wrong], { today: TODAY })[0]!.returnStatus).toBe(100)
    expect(checkFiles([...others, wrong, deleted], { today: TODAY })[0]!.returnStatus).toBe(2)
  })

  it('flags a waybill number an earlier order used, and two payments for one order', () => {
    const xml = (n: number) => readFileSync(EXAMPLE_FILES[[311, 411, 511, 621].indexOf(n)]!, 'utf8')
    const other = (s: string) =>
      s
        .replaceAll('SO202508180001', 'SO202508180002')
        .replace('PAY20250818000000001', 'PAY20250818000000002')
        .replace('INV20250818000001', 'INV20250818000002')
    const files = [...EXAMPLE_FILES, ...[311, 411, 511, 621].map((m) => write(`second-${m}.xml`, other(xml(m))))]
    const [first, second] = checkFiles(files, { today: TODAY })
    expect(first).toMatchObject({ orderNo: 'SO202508180001', returnStatus: 120 })
    expect(second!.reasons.map((x) => x.code)).toEqual(['DUPLICATE_WAYBILL'])
    const twoPayments = write(
      'pay2.xml',
      xml(411).replace('PAY20250818000000001</ceb:payTransactionId>', 'PAY20250818000000009</ceb:payTransactionId>'),
    )
    const [r] = checkFiles([...EXAMPLE_FILES, twoPayments], { today: TODAY })
    expect(r!.returnStatus).toBe(100)
    // Intake keeps the payment already on the ticket and refuses the second one.
    expect(r!.reasons[0]).toMatchObject({
      code: 'CEB_TICKET_HAS_DOCUMENT',
      pointer: '/CEB411/PaymentHead/payTransactionId',
      documents: ['CEB411'],
    })

    // An order with the same number from another platform: refused at intake as DUPLICATE_ORDER, and so here.
    const otherPlatform = write(
      'order-other-platform.xml',
      xml(311).replace('<ceb:ebpCode>4601000EBP</ceb:ebpCode>', '<ceb:ebpCode>4601000EBX</ceb:ebpCode>'),
    )
    const [dup] = checkFiles([...EXAMPLE_FILES, otherPlatform], { today: TODAY })
    expect(dup!.reasons[0]).toMatchObject({ code: 'DUPLICATE_ORDER', pointer: '/CEB311/OrderHead/orderNo' })
  })

  it('answers as intake does for resends, settled tickets, parties the order does not name and senders that are no party', () => {
    const xml = (n: number) => readFileSync(EXAMPLE_FILES[[311, 411, 511, 621].indexOf(n)]!, 'utf8')
    const later = (s: string) =>
      s.replace(/<ceb:appTime>20250818(\d{6})<\/ceb:appTime>/, '<ceb:appTime>20250819$1</ceb:appTime>')
    // An identical resend changes nothing; a change after release is refused, the ticket keeps its verdict.
    const resend = write('resend.xml', xml(621))
    const change = write(
      'change.xml',
      later(xml(411))
        .replace('<ceb:appType>1</ceb:appType>', '<ceb:appType>2</ceb:appType>')
        .replace('<ceb:note>', '<ceb:note>x'),
    )
    expect(checkFiles([...EXAMPLE_FILES, resend], { today: TODAY })).toEqual([
      { orderNo: 'SO202508180001', returnStatus: 120, reasons: [] },
    ])
    const [settled] = checkFiles([...EXAMPLE_FILES, change], { today: '2025-08-19' })
    expect(settled).toMatchObject({
      returnStatus: 100,
      reasons: [{ code: 'CEB_TICKET_SETTLED', pointer: '/CEB411/PaymentHead/orderNo' }],
    })
    // A payment from an enterprise the order does not name waits, then is refused when the order comes.
    const otherPay = write('other-pay.xml', xml(411).replaceAll('4601000PAY', '4601000PXX'))
    const [notNamed] = checkFiles([otherPay, ...EXAMPLE_FILES.filter((_, i) => i !== 1)], { today: TODAY })
    expect(notNamed).toMatchObject({
      returnStatus: 100,
      reasons: [{ code: 'CEB_PARTY_NOT_NAMED', pointer: '/CEB411/PaymentHead/payCode' }],
    })
    // A message whose sender (BaseTransfer copCode) is no party of its document is refused as a whole.
    const wrongSender = write(
      'wrong-sender.xml',
      xml(411).replace('<ceb:copCode>4601000PAY</ceb:copCode>', '<ceb:copCode>4601000EBP</ceb:copCode>'),
    )
    const [signature] = checkFiles([...EXAMPLE_FILES.filter((_, i) => i !== 1), wrongSender], { today: TODAY })
    expect(signature).toMatchObject({
      returnStatus: 100,
      reasons: [{ code: 'SIGNATURE', pointer: '/CEB411Message/PaymentHead/0' }],
    })
  })

  it('exits 2 on unusable files, naming the file and the line/column or pointer, and checks the rest', async () => {
    const broken = write(
      'broken.xml',
      '<?xml version="1.0"?>\n<ceb:CEB411Message xmlns:ceb="http://www.chinaport.gov.cn/ceb">\n  <ceb:Payment>\n</ceb:CEB411Message>\n',
    )
    const badJson = write('bad.json', '{\n  "type": "CEB411",\n  "message": {"guid": "x",}\n}\n')
    const badJson2 = write('bad2.json', '[1,]')
    const noOrderNo = write(
      'no-order-no.xml',
      readFileSync(EXAMPLE_FILES[0]!, 'utf8').replace('<ceb:orderNo>SO202508180001</ceb:orderNo>', ''),
    )
    const absent = join(dir, 'does-not-exist.xml')
    const r = await run('check', broken, badJson, badJson2, noOrderNo, absent, ...EXAMPLE_FILES.slice(1))
    expect(r.code).toBe(2)
    expect(r.err.find((l) => l.startsWith(`${broken}: `))).toMatch(/line \d+, column \d+/)
    expect(r.err.find((l) => l.startsWith(`${badJson}: `))).toMatch(/JSON is not well-formed at line 3, column 27/)
    expect(r.err.find((l) => l.startsWith(`${badJson2}: `))).toMatch(/line 1, column 4/)
    expect(r.err.find((l) => l.startsWith(`${noOrderNo}: `))).toContain(
      '/CEB311Message/Order/0/OrderHead/orderNo: orderNo is required',
    )
    expect(r.err.find((l) => l.startsWith(`${absent}: `))).toContain('no such file')
    const unusable = r.json.filter((x) => x.returnStatus === -1)
    expect(unusable.map((x) => x.file)).toEqual([broken, badJson, badJson2, noOrderNo, absent])
    expect(unusable.every((x) => x.reasons.every((y) => y.code === 'FORMAT' && y.pointer.startsWith('/')))).toBe(true)
    // The three good files still make one (incomplete) order: the order the unusable file meant to send never arrives.
    expect(r.json.filter((x) => x.returnStatus !== -1)).toEqual([
      { orderNo: 'SO202508180001', returnStatus: 2, reasons: [] },
    ])
  })

  it("reports a document that fails field checks on its order's line: 100, FORMAT and the pointer", async () => {
    const missing = write(
      'missing.xml',
      readFileSync(EXAMPLE_FILES[0]!, 'utf8').replace('<ceb:orderType>I</ceb:orderType>', ''),
    )
    const tooLong = write(
      'long.xml',
      readFileSync(EXAMPLE_FILES[1]!, 'utf8').replace('<ceb:payerName>', `<ceb:payerName>${'长'.repeat(130)}`),
    )
    const r = await run('check', missing, ...EXAMPLE_FILES.slice(1), '--today', TODAY)
    expect(r.code).toBe(2) // intake refuses the message: the file cannot be sent as it is
    expect(r.err).toEqual([`${missing}: /CEB311Message/Order/0/OrderHead/orderType: orderType is required`])
    expect(r.json).toEqual([
      {
        orderNo: 'SO202508180001',
        returnStatus: 100,
        reasons: [
          expect.objectContaining({
            code: 'FORMAT',
            pointer: '/CEB311Message/Order/0/OrderHead/orderType',
            documents: ['CEB311'],
          }),
        ],
      },
    ])
    // Several documents per file: each problem goes to its own order; the other orders of the message are refused
    // with it (intake refuses a message as a whole), pointing at the document that failed.
    const parties: Parties = {
      ebp: '4601000EBP',
      ebc: '4601000EBC',
      pay: '4601000PAY',
      logistics: '4601000LOG',
      agent: '4601000AGT',
    }
    const rng = seededRandom(11)
    const tickets = Array.from({ length: 3 }, (_, index) => generateTicket(rng, { index, parties }))
    const payments = toMessageXml(
      'CEB411',
      tickets.map((t) => t.payment),
      baseTransferFor(parties.pay),
    ).replace(
      `<ceb:payTransactionId>${tickets[1]!.payment.head.payTransactionId}</ceb:payTransactionId>`,
      `<ceb:payTransactionId>${'9'.repeat(200)}</ceb:payTransactionId>`,
    )
    const files = [
      write(
        'orders.xml',
        toMessageXml(
          'CEB311',
          tickets.map((t) => t.order),
          baseTransferFor(parties.ebc),
        ),
      ),
      write('payments.xml', payments),
      write(
        'waybills.xml',
        toMessageXml(
          'CEB511',
          tickets.map((t) => t.waybill),
          baseTransferFor(parties.logistics),
        ),
      ),
      write(
        'inventories.xml',
        toMessageXml(
          'CEB621',
          tickets.map((t) => t.inventory),
          baseTransferFor(parties.agent),
        ),
      ),
      tooLong,
    ]
    const results = checkFiles(files, { today: TODAY })
    expect(results.map((x) => [x.orderNo, x.returnStatus])).toEqual([
      ...tickets.map((t) => [t.order.head.orderNo, 100]),
      ['SO202508180001', 100],
    ])
    expect(results[1]!.reasons).toEqual([
      expect.objectContaining({ code: 'FORMAT', pointer: '/CEB411Message/Payment/1/PaymentHead/payTransactionId' }),
    ])
    for (const i of [0, 2]) {
      expect(results[i]!.reasons).toEqual([
        expect.objectContaining({
          code: 'FORMAT',
          pointer: '/CEB411Message/Payment/1/PaymentHead/payTransactionId',
          message: expect.stringMatching(/refused as a whole/),
        }),
      ])
    }
    expect(results[3]!.reasons).toEqual([
      expect.objectContaining({ code: 'FORMAT', pointer: '/CEB411Message/Payment/0/PaymentHead/payerName' }),
    ])
  })

  it("reports a JSON document that fails field checks on its order's line, one message of an array at a time", () => {
    const parsed = [311, 411, 511, 621].map((n, i) => {
      const p = parseCebXml(readFileSync(EXAMPLE_FILES[i]!))
      if (!p.ok) throw new Error(`${n}`)
      return p.message
    })
    const [order, ...rest] = parsed
    const { type, ...message } = order!
    const badHead = { ...message.documents[0]!.head, orderType: undefined }
    const file = write(
      'orders.json',
      JSON.stringify([{ type, message: { ...message, documents: [{ ...message.documents[0], head: badHead }] } }]),
    )
    const others = rest.map((m) => write(`${m.type}.json`, JSON.stringify(m)))
    expect(checkFiles([file, ...others], { today: TODAY })).toEqual([
      {
        orderNo: 'SO202508180001',
        returnStatus: 100,
        reasons: [expect.objectContaining({ code: 'FORMAT', pointer: '/0/message/documents/0/head/orderType' })],
      },
    ])
  })

  it('refuses a bad --today', async () => {
    await expect(run('check', EXAMPLE_FILES[0]!, '--today', '2025-13-01')).rejects.toThrow(/YYYY-MM-DD/)
    expect(() => checkFiles(EXAMPLE_FILES, { today: '18.08.2025' })).toThrow(RangeError)
  })
})

describe('checkFiles: annual limit and waybill window as intake counts them', () => {
  const parties: Parties = {
    ebp: '4601000EBP',
    ebc: '4601000EBC',
    pay: '4601000PAY',
    logistics: '4601000LOG',
    agent: '4601000AGT',
  }
  const SENDER = { CEB311: parties.ebc, CEB411: parties.pay, CEB511: parties.logistics, CEB621: parties.agent } as const
  /** CEB time of a China date and time. */
  const at = (date: string, time = '10:00:00') => `${date.replaceAll('-', '')}${time.replaceAll(':', '')}`
  /** The ticket's four documents sent at `when` (one minute apart, order first), one file each. */
  function files(t: GeneratedTicket, date: string, time = '10:00:00'): string[] {
    const docs = ticketDocuments(t)
    return (['CEB311', 'CEB411', 'CEB621', 'CEB511'] as const).map((type, i) => {
      docs[type].head.appTime = at(
        date,
        time.replace(/:(\d\d):/, (_, m: string) => `:${String(Number(m) + i).padStart(2, '0')}:`),
      )
      return write(
        `${t.order.head.orderNo}-${type}.xml`,
        toMessageXml(type, [docs[type]] as never, baseTransferFor(SENDER[type])),
      )
    })
  }
  /** Dutiable value of a ticket: goods + freight + insurance of its inventory. */
  const dutiable = (t: GeneratedTicket) =>
    t.inventory.lines.reduce(
      (s, l) => s.plus(l.totalPrice),
      new Big(t.inventory.head.freight).plus(t.inventory.head.insuredFee),
    )
  const codes = (r: { reasons: Array<{ code: string }> }) => r.reasons.map((x) => x.code)

  it('accumulates the released orders of one buyer in order of their dates and refuses the crossing one with ANNUAL_LIMIT', async () => {
    const rng = seededRandom(21)
    // One buyer (pool of 1), three orders; the earlier totals leave room for exactly the first by date.
    const [a, b, c] = [0, 1, 2].map((index) =>
      generateTicket(rng, { index, parties, buyers: 1, date: '2025-03-01' }),
    ) as [GeneratedTicket, GeneratedTicket, GeneratedTicket]
    const buyer = a.order.head.buyerIdNumber
    expect([b, c].map((t) => t.order.head.buyerIdNumber)).toEqual([buyer, buyer])
    const seed = new Big('26000').minus(dutiable(a)).toFixed(2)
    const totals = write('totals.csv', `buyerIdNumber,year,amount\n${buyer},2025,${seed}\n`)
    // Files in another order than their dates: b (2025-05) is given first, a (2025-04) counts first.
    const input = [...files(b, '2025-05-02'), ...files(a, '2025-04-02'), ...files(c, '2026-01-05')]
    const r = await run('check', ...input, '--annual-totals', totals, '--today', '2026-02-01')
    expect(r.code).toBe(0)
    const by = new Map(r.json.map((x) => [x.orderNo, x]))
    expect(by.get(a.order.head.orderNo)).toEqual({ orderNo: a.order.head.orderNo, returnStatus: 120, reasons: [] }) // reaches 26,000 exactly
    expect(by.get(b.order.head.orderNo)!.returnStatus).toBe(100)
    expect(codes(by.get(b.order.head.orderNo)!)).toEqual(['ANNUAL_LIMIT'])
    expect(by.get(b.order.head.orderNo)!.reasons[0]!.pointer).toBe('/CEB621/InventoryHead/buyerIdNumber')
    expect(by.get(c.order.head.orderNo)!.returnStatus).toBe(120) // a new calendar year
    // Without the earlier totals all three fit; dated the other way round, b passes and a crosses.
    expect(checkFiles(input, { today: '2026-02-01' }).map((x) => x.returnStatus)).toEqual([120, 120, 120])
    const seedB = new Big('26000').minus(dutiable(b)).toFixed(2)
    const swapped = checkFiles([...files(b, '2025-04-02'), ...files(a, '2025-05-02')], {
      today: '2026-02-01',
      annualTotals: [{ buyerIdNumber: buyer, year: 2025, amount: seedB }],
    })
    expect(swapped.map((x) => [x.orderNo, x.returnStatus, codes(x)])).toEqual([
      [b.order.head.orderNo, 120, []],
      [a.order.head.orderNo, 100, ['ANNUAL_LIMIT']],
    ])
  })

  it('counts only orders that would be released, in the China calendar year of their last document', () => {
    const rng = seededRandom(22)
    const [bad, good] = [0, 1].map((index) =>
      generateTicket(rng, { index, parties, buyers: 1, defect: index === 0 ? 'WEIGHT' : null }),
    ) as [GeneratedTicket, GeneratedTicket]
    const buyer = good.order.head.buyerIdNumber
    const seed = new Big('26000').minus(dutiable(good)).toFixed(2)
    // The rejected order does not count; the good one completes at 00:13 on 1 January 2026 China time (still 2025 in UTC).
    const input = [...files(bad, '2026-01-01', '00:01:00'), ...files(good, '2026-01-01', '00:10:00')]
    const results = checkFiles(input, {
      today: '2026-01-31',
      annualTotals: [
        { buyerIdNumber: buyer, year: 2026, amount: seed },
        { buyerIdNumber: buyer, year: 2025, amount: '25999.99' },
      ],
    })
    expect(results.map((x) => x.returnStatus)).toEqual([100, 120])
    expect(codes(results[0]!)).toContain('WEIGHT')
  })

  it('refuses a waybill number another order used less than 6 months before (China dates), and takes it from the boundary day on', () => {
    const rng = seededRandom(23)
    const reuse = (first: string, second: string, time = '10:00:00') => {
      const [a, b] = [0, 1].map((index) => generateTicket(rng, { index, parties })) as [
        GeneratedTicket,
        GeneratedTicket,
      ]
      b.waybill.head.logisticsNo = a.waybill.head.logisticsNo
      b.inventory.head.logisticsNo = a.waybill.head.logisticsNo
      return checkFiles([...files(a, first), ...files(b, second, time)], { today: '2027-01-01' }).map((x) => [
        x.returnStatus,
        codes(x),
      ])
    }
    expect(reuse('2025-03-10', '2025-09-09')).toEqual([
      [120, []],
      [100, ['DUPLICATE_WAYBILL']],
    ])
    expect(reuse('2025-03-10', '2025-09-10')).toEqual([
      [120, []],
      [120, []],
    ])
    // The boundary is a China date: 00:05 on 10 September in China is still 9 September in UTC.
    expect(reuse('2025-03-10', '2025-09-10', '00:05:00')).toEqual([
      [120, []],
      [120, []],
    ])
    // Month ends clamp as intake does: 31 August + 6 months is 28 February.
    expect(reuse('2025-08-31', '2026-02-27')).toEqual([
      [120, []],
      [100, ['DUPLICATE_WAYBILL']],
    ])
    expect(reuse('2025-08-31', '2026-02-28')).toEqual([
      [120, []],
      [120, []],
    ])
  })

  it('reads earlier totals from CSV or JSON and names the line or field of a bad file', async () => {
    const ok = readAnnualTotals(
      write(
        't.csv',
        '\uFEFFbuyerIdNumber,year,amount\r\n110105199003071239,2025,"1234.50"\r\n110105199003071239,2024,0\r\n',
      ),
    )
    expect(ok).toEqual([
      { buyerIdNumber: '110105199003071239', year: 2025, amount: '1234.50' },
      { buyerIdNumber: '110105199003071239', year: 2024, amount: '0' },
    ])
    expect(readAnnualTotals(write('t.csv', '110105199003071239,2025,1.00\n'))).toEqual([
      { buyerIdNumber: '110105199003071239', year: 2025, amount: '1.00' },
    ])
    expect(
      readAnnualTotals(write('t.json', '[{"buyerIdNumber":"110105199003071239","year":2025,"amount":"26000"}]')),
    ).toEqual([{ buyerIdNumber: '110105199003071239', year: 2025, amount: '26000' }])
    const bad = (name: string, content: string) => {
      try {
        readAnnualTotals(write(name, content))
      } catch (e) {
        expect(e).toBeInstanceOf(AnnualTotalsError)
        return (e as Error).message
      }
      throw new Error('accepted')
    }
    expect(bad('a.csv', 'buyerIdNumber,year,amount\nX1,2025,12.5.0\n')).toMatch(/line 2, amount: .*decimal/)
    expect(bad('a.csv', 'X1,25,1\n')).toMatch(/line 1, year: /)
    expect(bad('a.csv', 'X1,2025,-3\n')).toMatch(/line 1, amount: /)
    expect(bad('a.csv', 'X1,2025\n')).toMatch(/line 1: 3 fields expected \(buyerIdNumber,year,amount\), found 2/)
    expect(bad('a.csv', ',2025,1\n')).toMatch(/line 1, buyerIdNumber: /)
    expect(bad('a.csv', 'X1,2025,1\nX2,2025,1\nX1,2025,2\n')).toMatch(
      /line 3: buyer X1, year 2025 is already on line 1/,
    )
    expect(bad('a.json', '[{"buyerIdNumber":"X1","year":2025,"amount":1234.5}]')).toMatch(
      /\/0\/amount: .*decimal string/,
    )
    expect(
      bad(
        'a.json',
        '[{"buyerIdNumber":"X1","year":"2025","amount":"1"},{"buyerIdNumber":"X2","year":2025.5,"amount":"1"}]',
      ),
    ).toMatch(/\/1\/year: /)
    expect(bad('a.json', '[{"buyerIdNumber":"X1","year":2025,"amount":"1","note":"x"}]')).toMatch(/\/0\/note: /)
    expect(bad('a.json', '{"X1": "1"}')).toMatch(/array/)
    expect(bad('a.json', '[{"buyerIdNumber":"X1",}]')).toMatch(/line 1, column 24/)
    const missing = join(dir, 'no-totals.csv')
    // The command refuses a bad file before checking anything, naming it.
    const r = await run('check', ...EXAMPLE_FILES, '--annual-totals', write('c.csv', 'X1,2025,abc\n'))
    expect(r.code).toBe(2)
    expect(r.out).toEqual([])
    expect(r.err.join('\n')).toMatch(/c\.csv: line 1, amount: /)
    const none = await run('check', ...EXAMPLE_FILES, '--annual-totals', missing)
    expect(none.code).toBe(2)
    expect(none.err.join('\n')).toMatch(/no-totals\.csv: cannot read/)
  })
})

describe('signFile / kouan ceb sign', () => {
  const keys = ed25519.generate()
  const keyFile = write('key.json', JSON.stringify({ alg: 'Ed25519', ...keys }))

  it('signs an XML file: the header value verifies over the parsed message', async () => {
    const header = signFile(EXAMPLE_FILES[1]!, keyFile, 'CARD0001')
    const [cardNo, alg, sig] = header.split(';')
    expect([cardNo, alg]).toEqual(['CARD0001', 'Ed25519'])
    const parsed = parseCebXml(readFileSync(EXAMPLE_FILES[1]!))
    if (!parsed.ok) throw new Error('example does not parse')
    expect(ed25519.verify(keys.publicKey, Buffer.from(canonicalJson(parsed.message)), sig!)).toBe(true)
    expect(ed25519.verify(ed25519.generate().publicKey, Buffer.from(canonicalJson(parsed.message)), sig!)).toBe(false)
    const r = await run('sign', EXAMPLE_FILES[1]!, '-k', keyFile, '-c', 'CARD0001')
    expect(r.out).toEqual([header]) // Ed25519 is deterministic
    expect(r.code).toBe(0)
  })

  it('signs a JSON message: prints the body with a signature that verifies', async () => {
    const parsed = parseCebXml(readFileSync(EXAMPLE_FILES[0]!))
    if (!parsed.ok) throw new Error('example does not parse')
    const { type, ...message } = parsed.message
    for (const content of [
      { type, message },
      { type, ...message },
      { type, message, signature: { cardNo: 'OLD', alg: 'Ed25519', value: 'x' } },
    ]) {
      const file = write('order.json', JSON.stringify(content))
      const r = await run('sign', file, '--key', keyFile, '--card', 'CARD0002')
      const body = JSON.parse(r.out.join('\n')) as {
        type: 'CEB311'
        message: unknown
        signature: { cardNo: string; alg: string; value: string }
      }
      expect(Object.keys(body)).toEqual(['type', 'message', 'signature'])
      expect(body.signature).toMatchObject({ cardNo: 'CARD0002', alg: 'Ed25519' })
      const again = parseCebJson(body.type, body.message)
      if (!again.ok) throw new Error(JSON.stringify(again.problems))
      expect(ed25519.verify(keys.publicKey, Buffer.from(canonicalJson(again.message)), body.signature.value)).toBe(true)
    }
  })

  it("signs with the key file's alg: an SM2 file gives cardNo;SM2;signature (XML) and alg SM2 (JSON), verifying over the parsed message", async () => {
    const k = sm2.generate()
    const smFile = write('sm2.json', JSON.stringify({ alg: 'SM2', ...k }))
    const parsed = parseCebXml(readFileSync(EXAMPLE_FILES[1]!))
    if (!parsed.ok) throw new Error('example does not parse')
    const data = Buffer.from(canonicalJson(parsed.message))
    const xml = await run('sign', EXAMPLE_FILES[1]!, '-k', smFile, '-c', 'CARD0003')
    expect(xml.code).toBe(0)
    const [cardNo, alg, sig] = xml.out[0]!.split(';')
    expect([cardNo, alg]).toEqual(['CARD0003', 'SM2'])
    expect(sm2.verify(k.publicKey, data, sig!)).toBe(true)
    expect(sm2.verify(sm2.generate().publicKey, data, sig!)).toBe(false)
    const { type, ...message } = parsed.message
    const json = await run(
      'sign',
      write('payment.json', JSON.stringify({ type, message })),
      '-k',
      smFile,
      '-c',
      'CARD0003',
    )
    const body = JSON.parse(json.out.join('\n')) as { signature: { cardNo: string; alg: string; value: string } }
    expect(body.signature).toMatchObject({ cardNo: 'CARD0003', alg: 'SM2' })
    expect(sm2.verify(k.publicKey, data, body.signature.value)).toBe(true)
    // A key file whose keys are not a pair of its alg is refused before anything is signed.
    const wrong = await run(
      'sign',
      EXAMPLE_FILES[1]!,
      '-k',
      write('mixed.json', JSON.stringify({ alg: 'SM2', ...keys })),
      '-c',
      'CARD0003',
    )
    expect(wrong.code).toBe(2)
    expect(wrong.err.join('\n')).toMatch(/not an SM2 key pair/)
  })

  it('refuses invalid messages and key files with exit 2 and the problem on stderr', async () => {
    const bad = write(
      'bad.xml',
      readFileSync(EXAMPLE_FILES[1]!, 'utf8').replace(
        '<ceb:amountPaid>445.13</ceb:amountPaid>',
        '<ceb:amountPaid>abc</ceb:amountPaid>',
      ),
    )
    expect(() => signFile(bad, keyFile, 'CARD0001')).toThrow(CebFileError)
    const r = await run('sign', bad, '-k', keyFile, '-c', 'CARD0001')
    expect(r.code).toBe(2)
    expect(r.out).toEqual([])
    expect(r.err.join('\n')).toContain(`${bad}: /CEB411Message/Payment/0/PaymentHead/amountPaid`)
    const noKey = await run('sign', EXAMPLE_FILES[1]!, '-k', join(dir, 'nope.json'), '-c', 'CARD0001')
    expect(noKey.code).toBe(2)
    expect(noKey.err.join('\n')).toContain('cannot read the key file')
    expect(() => signFile(EXAMPLE_FILES[1]!, keyFile, 'a;b')).toThrow(/card number/)
  })
})
