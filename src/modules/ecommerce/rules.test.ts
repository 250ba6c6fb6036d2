import { readFileSync } from 'node:fs'
import { fc, test } from '@fast-check/vitest'
import Big from 'big.js'
import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { withBuyerIdCheck } from './buyer-id.js'
import { REASON_CODES, verifyTicket, type ReasonCode, type Ticket, type VerifyContext, type Verdict } from './rules.js'
import { partyRegistry, type RegistryRow } from './parties.js'
import { DEFAULT_TAX_RATES, orderTax } from './tax.js'
import type { CebMessageType, Inventory, Order, Payment, Waybill } from './types.js'

// ---- The example set (reference-data/ceb/examples), read as the element texts ------------------------------

const xml = new XMLParser({ removeNSPrefix: true, parseTagValue: false, ignoreAttributes: true })
const read = (type: CebMessageType) =>
  xml.parse(readFileSync(new URL(`../../../reference-data/ceb/examples/${type}Message.xml`, import.meta.url), 'utf8'))[
    `${type}Message`
  ]
const asList = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x])
const EXAMPLE: Required<Ticket> = {
  order: { head: read('CEB311').Order.OrderHead, lines: asList(read('CEB311').Order.OrderList) },
  payment: { head: read('CEB411').Payment.PaymentHead },
  waybill: { head: read('CEB511').Logistics.LogisticsHead },
  inventory: { head: read('CEB621').Inventory.InventoryHead, lines: asList(read('CEB621').Inventory.InventoryList) },
}
/** A fresh, deep copy of the example set. */
const example = (): Required<Ticket> => structuredClone(EXAMPLE)

const TODAY = '2025-08-18'
/**
 * The example's parties as registry rows, looked up with the function matching uses (partyRegistry: registered, and
 * in the named role where CEB roles are recorded) — not a stub that answers what a case wants. The database side of
 * the same look-up is tested through the app in parties.test.ts.
 */
const PARTIES: RegistryRow[] = ['4601000EBP', '4601000EBC', '4601000PAY', '4601000LOG', '4601000AGT'].map(
  (customs_code) => ({ customs_code, roles: null }),
)
const registry = (patch: (rows: RegistryRow[]) => RegistryRow[] = (r) => r) =>
  partyRegistry(patch(structuredClone(PARTIES)))
const baseCtx: VerifyContext = {
  today: TODAY,
  enterprises: registry(),
  waybillSeen: () => [],
  buyerYearTotal: () => '0',
  rates: DEFAULT_TAX_RATES,
}
const ctxWith = (patch: Partial<VerifyContext> = {}): VerifyContext => ({ ...baseCtx, ...patch })
const brief = (v: Verdict) => v.reasons.map((r) => ({ code: r.code, pointer: r.pointer }))

/**
 * Makes a ticket consistent again after its lines changed: order line totals, goodsValue, the tax on the
 * inventory, acturalPaid and amountPaid; the inventory lines mirror the order lines.
 */
function settle(
  t: Required<Ticket>,
  opts: { fullRate?: boolean; rates?: VerifyContext['rates'] } = {},
): Required<Ticket> {
  for (const l of t.order.lines) l.totalPrice = new Big(l.price).times(l.qty).toFixed(2)
  t.inventory.lines = t.order.lines.map((l, i) => ({
    ...(t.inventory.lines[i] ?? t.inventory.lines[0]!),
    gnum: l.gnum,
    gname: l.itemName,
    qty: l.qty,
    qty1: l.qty,
    unit1: l.unit,
    price: l.price,
    totalPrice: l.totalPrice,
  }))
  const o = t.order.head
  o.goodsValue = t.order.lines.reduce((a, l) => a.plus(l.totalPrice), new Big(0)).toFixed(2)
  const tax = orderTax(
    t.inventory.lines.map((l) => ({ gcode: l.gcode, value: l.totalPrice })),
    t.inventory.head.freight,
    t.inventory.head.insuredFee,
    opts.rates ?? DEFAULT_TAX_RATES,
    { fullRate: opts.fullRate ?? false },
  )
  o.taxTotal = tax.total
  o.acturalPaid = new Big(o.goodsValue).plus(o.freight).plus(o.taxTotal).minus(o.discount).toFixed(2)
  t.payment.head.amountPaid = o.acturalPaid
  return t
}

describe('verifyTicket: the example set', () => {
  it('passes with 120, no reasons and the DOMAIN tax: (398 + 10) × 9.1% → 37.13, acturalPaid 445.13', () => {
    const t = example()
    expect(t.order.head.acturalPaid).toBe('445.13')
    const v = verifyTicket(t, baseCtx)
    expect(v).toMatchObject({ complete: true, returnStatus: 120, reasons: [] })
    expect(v.tax).toMatchObject({
      total: '37.13',
      vat: '37.13',
      consumption: '0.00',
      duty: '0.00',
      dutiableValue: '408',
      fullRate: false,
    })
  })

  it('does not change its input', () => {
    const t = example()
    verifyTicket(t, baseCtx)
    expect(t).toEqual(EXAMPLE)
  })

  it('also passes signed (ctx.signed) and with the documents given in any key order', () => {
    const t = example()
    expect(
      verifyTicket(
        { inventory: t.inventory, waybill: t.waybill, payment: t.payment, order: t.order },
        ctxWith({ signed: () => true }),
      ),
    ).toEqual(verifyTicket(t, baseCtx))
  })

  it('refuses a bad context as a caller bug (RangeError), not as a reason', () => {
    expect(() => verifyTicket(example(), ctxWith({ today: '18/08/2025' }))).toThrow(RangeError)
    expect(() => verifyTicket(example(), ctxWith({ limits: { single: '5k', annual: '26000' } }))).toThrow(RangeError)
    expect(() => verifyTicket(example(), ctxWith({ buyerYearTotal: () => 'n/a' }))).toThrow(RangeError)
    expect(() =>
      verifyTicket(example(), ctxWith({ waybillSeen: () => [{ orderNo: 'X', at: '2025-08-01T10:00:00' }] })),
    ).toThrow(RangeError)
  })
})

// ---- One case per reason code, each a mutation of the example ---------------------------------------------

interface Case {
  name: string
  mutate?: (t: Required<Ticket>) => void
  ctx?: Partial<VerifyContext>
  expected: Array<{ code: ReasonCode; pointer: string }>
}
const R = (code: ReasonCode, pointer: string) => ({ code, pointer })

const CASES: Case[] = [
  {
    name: 'amountPaid not a decimal',
    mutate: (t) => {
      t.payment.head.amountPaid = '445,13'
    },
    expected: [R('FORMAT', '/CEB411/PaymentHead/amountPaid')],
  },
  {
    name: 'bonded inventory without emsNo',
    mutate: (t) => {
      t.inventory.head.emsNo = ''
    },
    expected: [R('FORMAT', '/CEB621/InventoryHead/emsNo')],
  },
  {
    name: 'bonded line without itemRecordNo',
    mutate: (t) => {
      delete t.inventory.lines[0]!.itemRecordNo
    },
    expected: [R('FORMAT', '/CEB621/InventoryList/0/itemRecordNo')],
  },
  {
    name: 'direct (9610) inventory without trafNo, voyageNo, billNo',
    mutate: (t) => {
      t.inventory.head.tradeMode = '9610'
      t.inventory.head.country = '609'
    },
    expected: [
      R('FORMAT', '/CEB621/InventoryHead/trafNo'),
      R('FORMAT', '/CEB621/InventoryHead/voyageNo'),
      R('FORMAT', '/CEB621/InventoryHead/billNo'),
    ],
  },
  {
    name: 'gcode of 8 digits',
    mutate: (t) => {
      t.inventory.lines[0]!.gcode = '19011010'
    },
    expected: [R('FORMAT', '/CEB621/InventoryList/0/gcode')],
  },
  {
    name: 'an order without lines',
    mutate: (t) => {
      t.order.lines = []
    },
    expected: [R('FORMAT', '/CEB311/OrderList'), R('ITEM_MISMATCH', '/CEB621/InventoryList/0/gnum')],
  },
  {
    name: 'declared payment not signed',
    ctx: { signed: (m) => m !== 'CEB411' },
    expected: [R('SIGNATURE', '/CEB411/Signature')],
  },
  {
    name: 'agent not registered',
    ctx: { enterprises: registry((rows) => rows.filter((r) => r.customs_code !== '4601000AGT')) },
    expected: [R('UNREGISTERED_ENTERPRISE', '/CEB621/InventoryHead/agentCode')],
  },
  {
    name: 'payment company registered, but not as pay',
    ctx: {
      enterprises: registry((rows) =>
        rows.map((r) => (r.customs_code === '4601000PAY' ? { ...r, roles: ['logistics'] } : r)),
      ),
    },
    expected: [
      R('UNREGISTERED_ENTERPRISE', '/CEB311/OrderHead/payCode'),
      R('UNREGISTERED_ENTERPRISE', '/CEB411/PaymentHead/payCode'),
    ],
  },
  {
    name: 'payment for another order',
    mutate: (t) => {
      t.payment.head.orderNo = 'SO202508180002'
    },
    expected: [R('LINK_MISMATCH', '/CEB411/PaymentHead/orderNo')],
  },
  {
    name: 'payTransactionId disagrees',
    mutate: (t) => {
      t.payment.head.payTransactionId = 'PAY2'
    },
    expected: [R('LINK_MISMATCH', '/CEB411/PaymentHead/payTransactionId')],
  },
  {
    name: 'waybill for another order',
    mutate: (t) => {
      t.waybill.head.orderNo = 'SO2'
    },
    expected: [R('LINK_MISMATCH', '/CEB511/LogisticsHead/orderNo')],
  },
  {
    name: 'inventory for another (registered) platform',
    mutate: (t) => {
      t.inventory.head.ebpCode = '4601000EB2'
    },
    ctx: { enterprises: registry((rows) => [...rows, { customs_code: '4601000EB2', roles: null }]) },
    expected: [R('LINK_MISMATCH', '/CEB621/InventoryHead/ebpCode')],
  },
  {
    name: 'inventory names another waybill',
    mutate: (t) => {
      t.inventory.head.logisticsNo = 'YT0000000000002'
    },
    expected: [R('LOGISTICS_MISMATCH', '/CEB621/InventoryHead/logisticsNo')],
  },
  {
    name: 'amountPaid one fen short',
    mutate: (t) => {
      t.payment.head.amountPaid = '445.12'
    },
    expected: [R('AMOUNT_MISMATCH', '/CEB411/PaymentHead/amountPaid')],
  },
  {
    name: 'a discount acturalPaid ignores',
    mutate: (t) => {
      t.order.head.discount = '5.00'
    },
    expected: [R('TOTAL_FORMULA', '/CEB311/OrderHead/acturalPaid')],
  },
  {
    name: 'order line totalPrice ≠ price × qty',
    mutate: (t) => {
      t.order.lines[0]!.totalPrice = '397.00'
    },
    expected: [R('TOTAL_FORMULA', '/CEB311/OrderList/0/totalPrice')],
  },
  {
    name: 'payer is not the buyer',
    mutate: (t) => {
      t.payment.head.payerName = '李四'
    },
    expected: [R('PAYER_NOT_BUYER', '/CEB411/PaymentHead/payerName')],
  },
  {
    name: 'payer ID is another valid ID',
    mutate: (t) => {
      t.payment.head.payerIdNumber = withBuyerIdCheck('11010519900307127')
    },
    expected: [R('PAYER_NOT_BUYER', '/CEB411/PaymentHead/payerIdNumber')],
  },
  {
    name: 'waybill phone differs',
    mutate: (t) => {
      t.waybill.head.consigneeTelephone = '13900000000'
    },
    expected: [R('CONSIGNEE_MISMATCH', '/CEB511/LogisticsHead/consigneeTelephone')],
  },
  {
    name: 'inventory address differs',
    mutate: (t) => {
      t.inventory.head.consigneeAddress = '北京市朝阳区示例路2号'
    },
    expected: [R('CONSIGNEE_MISMATCH', '/CEB621/InventoryHead/consigneeAddress')],
  },
  {
    name: 'gname ≠ itemName',
    mutate: (t) => {
      t.inventory.lines[0]!.gname = '奶粉'
    },
    expected: [R('ITEM_MISMATCH', '/CEB621/InventoryList/0/gname')],
  },
  {
    name: 'inventory line numbered 2',
    mutate: (t) => {
      t.inventory.lines[0]!.gnum = '2'
    },
    expected: [
      R('ITEM_MISMATCH', '/CEB621/InventoryList/0/gnum'),
      R('ITEM_MISMATCH', '/CEB621/InventoryList/0/gnum'),
      R('ITEM_MISMATCH', '/CEB621/InventoryList'),
    ],
  },
  {
    name: 'inventory buyer phone differs',
    mutate: (t) => {
      t.inventory.head.buyerTelephone = '13800000001'
    },
    expected: [R('BUYER_MISMATCH', '/CEB621/InventoryHead/buyerTelephone')],
  },
  {
    name: 'buyer ID with a wrong check character, everywhere',
    mutate: (t) => {
      t.order.head.buyerIdNumber = t.payment.head.payerIdNumber = t.inventory.head.buyerIdNumber = '110105199003071238'
    },
    expected: [
      R('INVALID_BUYER_ID', '/CEB311/OrderHead/buyerIdNumber'),
      R('INVALID_BUYER_ID', '/CEB411/PaymentHead/payerIdNumber'),
      R('INVALID_BUYER_ID', '/CEB621/InventoryHead/buyerIdNumber'),
    ],
  },
  {
    name: 'payer ID type 2',
    mutate: (t) => {
      t.payment.head.payerIdType = '2'
    },
    expected: [R('INVALID_BUYER_ID', '/CEB411/PaymentHead/payerIdType')],
  },
  {
    name: 'payment in USD',
    mutate: (t) => {
      t.payment.head.currency = '502'
    },
    expected: [R('CURRENCY', '/CEB411/PaymentHead/currency')],
  },
  {
    name: 'an order line in HKD',
    mutate: (t) => {
      t.order.lines[0]!.currency = '110'
    },
    expected: [R('CURRENCY', '/CEB311/OrderList/0/currency')],
  },
  {
    name: 'two packages',
    mutate: (t) => {
      t.inventory.head.packNo = '2'
    },
    expected: [R('FIXED_VALUE', '/CEB621/InventoryHead/packNo')],
  },
  {
    name: 'general trade',
    mutate: (t) => {
      t.inventory.head.tradeMode = '0110'
    },
    expected: [R('FIXED_VALUE', '/CEB621/InventoryHead/tradeMode')],
  },
  {
    name: 'bonded from New Zealand',
    mutate: (t) => {
      t.inventory.head.country = '609'
    },
    expected: [R('FIXED_VALUE', '/CEB621/InventoryHead/country')],
  },
  {
    name: 'an export order',
    mutate: (t) => {
      t.order.head.orderType = 'E'
    },
    expected: [R('FIXED_VALUE', '/CEB311/OrderHead/orderType')],
  },
  {
    name: 'the agent as assurer',
    mutate: (t) => {
      t.inventory.head.assureCode = '4601000AGT'
    },
    expected: [R('INVALID_ASSURER', '/CEB621/InventoryHead/assureCode')],
  },
  {
    name: 'net above gross',
    mutate: (t) => {
      t.inventory.head.netWeight = '1.95'
    },
    expected: [R('WEIGHT', '/CEB621/InventoryHead/netWeight')],
  },
  {
    name: 'zero gross weight',
    mutate: (t) => {
      t.inventory.head.grossWeight = '0'
    },
    expected: [R('WEIGHT', '/CEB621/InventoryHead/grossWeight'), R('WEIGHT', '/CEB621/InventoryHead/netWeight')],
  },
  {
    name: 'unit = unit1 but qty1 ≠ qty',
    mutate: (t) => {
      t.inventory.lines[0]!.unit1 = '122'
    },
    expected: [R('LINE_VALUES', '/CEB621/InventoryList/0/qty1')],
  },
  {
    name: 'unit2 without qty2',
    mutate: (t) => {
      t.inventory.lines[0]!.unit2 = '035'
    },
    expected: [R('LINE_VALUES', '/CEB621/InventoryList/0/qty2')],
  },
  {
    name: 'two tins at ¥2,600: above ¥5,000 and divisible',
    mutate: (t) => {
      t.order.lines[0]!.price = '2600.00'
      settle(t)
    },
    expected: [R('SINGLE_LIMIT', '/CEB621/InventoryList')],
  },
  {
    name: 'the year would exceed ¥26,000',
    ctx: { buyerYearTotal: () => '25600.00' },
    expected: [R('ANNUAL_LIMIT', '/CEB621/InventoryHead/buyerIdNumber')],
  },
  {
    name: 'tax withheld one fen short',
    mutate: (t) => {
      t.order.head.taxTotal = '37.12'
      t.order.head.acturalPaid = t.payment.head.amountPaid = '445.12'
    },
    expected: [R('TAX_MISMATCH', '/CEB311/OrderHead/taxTotal')],
  },
  {
    name: 'waybill number used for another order 3 months ago',
    ctx: { waybillSeen: () => [{ orderNo: 'SO202505180009', at: '2025-05-18' }] },
    expected: [R('DUPLICATE_WAYBILL', '/CEB511/LogisticsHead/logisticsNo')],
  },
  {
    name: 'orderNo already used on the platform',
    ctx: { orderSeen: () => true },
    expected: [R('DUPLICATE_ORDER', '/CEB311/OrderHead/orderNo')],
  },
]

describe('verifyTicket: one reason per mutation of the example', () => {
  it('covers every reason code', () => {
    expect(new Set(CASES.flatMap((c) => c.expected.map((e) => e.code)))).toEqual(new Set(Object.keys(REASON_CODES)))
  })

  it.each(CASES)('$name', (c) => {
    const t = example()
    c.mutate?.(t)
    const v = verifyTicket(t, ctxWith(c.ctx))
    expect(brief(v)).toEqual(c.expected)
    expect(v.returnStatus).toBe(100)
    for (const r of v.reasons) {
      expect(r.message.length).toBeGreaterThan(0)
      expect(r.documents.length).toBeGreaterThan(0)
      expect(r.documents.some((d) => r.pointer.startsWith(`/${d}/`))).toBe(true)
    }
  })

  it('REASON_CODES: a one-line description each', () => {
    for (const [code, text] of Object.entries(REASON_CODES)) {
      expect(code).toMatch(/^[A-Z_]+$/)
      expect(text).not.toMatch(/\n/)
      expect(text.length).toBeGreaterThan(20)
    }
  })
})

describe('verifyTicket: limits and full tax', () => {
  const dutyTen: VerifyContext['rates'] = () => ({ vat: '0.13', consumption: '0', duty: '0.1' })
  /** One indivisible item of ¥5,990 + ¥10 freight = ¥6,000 dutiable. */
  const indivisible = (fullRate: boolean) => {
    const t = example()
    t.order.lines[0]!.qty = '1'
    t.order.lines[0]!.price = '5990.00'
    return settle(t, { fullRate, rates: dutyTen })
  }

  it('one indivisible ¥6,000 item, year within ¥26,000: accepted and taxed in full (duty 600, VAT 858 → 1,458)', () => {
    const v = verifyTicket(indivisible(true), ctxWith({ rates: dutyTen, buyerYearTotal: () => '20000' }))
    expect(v).toMatchObject({ returnStatus: 120, reasons: [] })
    expect(v.tax).toMatchObject({
      fullRate: true,
      dutiableValue: '6000',
      duty: '600.00',
      vat: '858.00',
      total: '1458.00',
    })
  })

  it('the same item when the year would pass ¥26,000: single and annual limits; the tax is then not the full one', () => {
    const v = verifyTicket(indivisible(true), ctxWith({ rates: dutyTen, buyerYearTotal: () => '20000.01' }))
    expect(brief(v)).toEqual([
      R('SINGLE_LIMIT', '/CEB621/InventoryList'),
      R('ANNUAL_LIMIT', '/CEB621/InventoryHead/buyerIdNumber'),
      R('TAX_MISMATCH', '/CEB311/OrderHead/taxTotal'),
    ])
    expect(v.tax?.fullRate).toBe(false)
  })

  it('an item priced at 70% when it must be taxed in full is a TAX_MISMATCH', () => {
    expect(brief(verifyTicket(indivisible(false), ctxWith({ rates: dutyTen })))).toEqual([
      R('TAX_MISMATCH', '/CEB311/OrderHead/taxTotal'),
    ])
  })

  it('exactly ¥5,000 and exactly ¥26,000 are within the limits', () => {
    const t = example()
    t.order.lines[0]!.price = '2495.00'
    settle(t) // 2 × 2,495 + 10 freight = 5,000
    expect(verifyTicket(t, ctxWith({ buyerYearTotal: () => '21000' }))).toMatchObject({
      returnStatus: 120,
      tax: { dutiableValue: '5000' },
    })
    expect(verifyTicket(example(), ctxWith({ buyerYearTotal: () => '25592' })).reasons).toEqual([]) // + 408 = 26,000
  })

  it('two units of one line are not "one indivisible item"', () => {
    const t = example()
    t.order.lines[0]!.price = '3000.00'
    settle(t)
    expect(brief(verifyTicket(t, baseCtx))).toEqual([R('SINGLE_LIMIT', '/CEB621/InventoryList')])
  })

  it('counts insurance in the dutiable value', () => {
    const t = example()
    t.order.lines[0]!.price = '2495.00'
    t.inventory.head.insuredFee = '0.01'
    settle(t)
    expect(brief(verifyTicket(t, baseCtx))).toEqual([R('SINGLE_LIMIT', '/CEB621/InventoryList')])
  })

  it('basis "paid" counts acturalPaid (with the order) instead of the dutiable value', () => {
    // 25,555 + 408 = 25,963 (dutiable, within); 25,555 + 445.13 = 26,000.13 (paid, above).
    const ctx = ctxWith({ buyerYearTotal: () => '25555' })
    expect(verifyTicket(example(), ctx).reasons).toEqual([])
    const v = verifyTicket(example(), { ...ctx, limits: { single: '5000', annual: '26000', basis: 'paid' } })
    expect(v.reasons).toEqual([expect.objectContaining({ code: 'ANNUAL_LIMIT', documents: ['CEB311', 'CEB621'] })])
  })

  it('configurable limits', () => {
    expect(brief(verifyTicket(example(), ctxWith({ limits: { single: '400', annual: '26000' } })))).toEqual([
      R('SINGLE_LIMIT', '/CEB621/InventoryList'),
    ])
  })
})

describe('verifyTicket: tax against figures computed by hand (DOMAIN §5 "Tax"), not by tax.ts', () => {
  /** The example with its one line changed (order and inventory alike) and the money fields set as given: no tax.ts. */
  const ticket = (
    line: { gcode: string; qty: string; price: string; totalPrice: string },
    money: { taxTotal: string; acturalPaid: string },
  ) => {
    const t = example()
    for (const l of [t.order.lines[0]!, t.inventory.lines[0]!])
      Object.assign(l, { qty: line.qty, price: line.price, totalPrice: line.totalPrice })
    t.inventory.lines[0]!.gcode = line.gcode
    t.order.head.goodsValue = line.totalPrice
    t.order.head.taxTotal = money.taxTotal
    t.order.head.acturalPaid = t.payment.head.amountPaid = money.acturalPaid
    return t
  }
  const cream = { gcode: '3304990000', qty: '2', price: '199.00', totalPrice: '398.00' } // CT 15 %, VAT 13 %

  it('cosmetics on 398 + 10 freight: CT 50.40, VAT 43.68, tax 94.08', () => {
    // CT  = 408 × 0.15 / (1 − 0.15) = 72.00 → × 0.7 = 50.40
    // VAT = (408 + 72.00) × 0.13 = 62.40 → × 0.7 = 43.68
    // taxTotal 94.08; acturalPaid = 398 + 10 + 94.08 − 0 = 502.08
    const v = verifyTicket(ticket(cream, { taxTotal: '94.08', acturalPaid: '502.08' }), baseCtx)
    expect(v).toMatchObject({
      returnStatus: 120,
      reasons: [],
      tax: { dutiableValue: '408', duty: '0.00', consumption: '50.40', vat: '43.68', total: '94.08', fullRate: false },
    })
  })

  it('refuses the wrong formula (VAT + CT) × 70 % = 408 × 0.28 × 0.7 = 79.968 → 79.97', () => {
    expect(brief(verifyTicket(ticket(cream, { taxTotal: '79.97', acturalPaid: '487.97' }), baseCtx))).toEqual([
      R('TAX_MISMATCH', '/CEB311/OrderHead/taxTotal'),
    ])
  })

  it('refuses cosmetics taxed as ordinary goods (408 × 9.1 % = 37.13)', () => {
    expect(brief(verifyTicket(ticket(cream, { taxTotal: '37.13', acturalPaid: '445.13' }), baseCtx))).toEqual([
      R('TAX_MISMATCH', '/CEB311/OrderHead/taxTotal'),
    ])
  })

  it('one indivisible item of 5,990 + 10 freight, in full with duty 10 %: 1,458.00', () => {
    // duty = 6000 × 0.10 = 600.00; VAT = (6000 + 600) × 0.13 = 858.00 (no 70 %: taxed in full); total 1458.00
    // acturalPaid = 5990 + 10 + 1458 − 0 = 7458.00
    const dutyTen: VerifyContext['rates'] = () => ({ vat: '0.13', consumption: '0', duty: '0.1' })
    const t = ticket(
      { gcode: '8471300000', qty: '1', price: '5990.00', totalPrice: '5990.00' },
      { taxTotal: '1458.00', acturalPaid: '7458.00' },
    )
    expect(verifyTicket(t, ctxWith({ rates: dutyTen }))).toMatchObject({
      returnStatus: 120,
      reasons: [],
      tax: { duty: '600.00', vat: '858.00', total: '1458.00', fullRate: true },
    })
    // At 70 % instead (within-limit figures, duty 0): VAT = 6000 × 0.13 × 0.7 = 546.00 — not what is due.
    const t70 = ticket(
      { gcode: '8471300000', qty: '1', price: '5990.00', totalPrice: '5990.00' },
      { taxTotal: '546.00', acturalPaid: '6546.00' },
    )
    expect(brief(verifyTicket(t70, ctxWith({ rates: dutyTen })))).toEqual([
      R('TAX_MISMATCH', '/CEB311/OrderHead/taxTotal'),
    ])
  })
})

describe('verifyTicket: tolerances (configurable, default 0)', () => {
  const short = () => {
    const t = example()
    t.payment.head.amountPaid = '445.10'
    return t
  }
  it('exact by default', () => {
    expect(brief(verifyTicket(short(), baseCtx))).toEqual([R('AMOUNT_MISMATCH', '/CEB411/PaymentHead/amountPaid')])
  })
  it('an absolute tolerance', () => {
    expect(
      verifyTicket(short(), ctxWith({ limits: { single: '5000', annual: '26000', tolerance: '0.03' } })).reasons,
    ).toEqual([])
    expect(
      verifyTicket(short(), ctxWith({ limits: { single: '5000', annual: '26000', tolerance: '0.02' } })).reasons,
    ).toHaveLength(1)
  })
  it('a relative tolerance of the reference amount', () => {
    const t = example()
    t.payment.head.amountPaid = '422.88' // 445.13 × 95% = 422.8735
    expect(verifyTicket(t, ctxWith({ limits: { single: '5000', annual: '26000', tolerance: '5%' } })).reasons).toEqual(
      [],
    )
    t.payment.head.amountPaid = '422.87'
    expect(
      verifyTicket(t, ctxWith({ limits: { single: '5000', annual: '26000', tolerance: '5%' } })).reasons,
    ).toHaveLength(1)
  })
})

describe('verifyTicket: waybill reuse within 6 months', () => {
  const seen = (at: string, orderNo = 'SO-OLD') => ctxWith({ waybillSeen: () => [{ orderNo, at }] })
  const dup = (ctx: VerifyContext) => verifyTicket(example(), ctx).reasons.map((r) => r.code)
  it('counts calendar months in China dates, the boundary day free again', () => {
    expect(dup(seen('2025-02-19'))).toEqual(['DUPLICATE_WAYBILL'])
    expect(dup(seen('2025-02-18'))).toEqual([])
    expect(dup(seen('20250219000000'))).toEqual(['DUPLICATE_WAYBILL'])
    // 2025-02-18T16:30Z is 2025-02-19 00:30 in Shanghai.
    expect(dup(seen('2025-02-18T16:30:00Z'))).toEqual(['DUPLICATE_WAYBILL'])
    expect(dup(seen('2025-02-18T15:30:00Z'))).toEqual([])
  })
  it('a resend for the same order is no reuse', () => {
    expect(dup(seen('2025-08-01', 'SO202508180001'))).toEqual([])
  })
  it('a month-end use is free on the last day six months on', () => {
    const at = (today: string) => verifyTicket(example(), { ...seen('2024-08-31'), today }).reasons.map((r) => r.code)
    expect(at('2025-02-27')).toEqual(['DUPLICATE_WAYBILL'])
    expect(at('2025-02-28')).toEqual([])
  })
})

describe('verifyTicket: incomplete tickets', () => {
  it('any missing document → returnStatus 2, complete false', () => {
    const t = example()
    for (const missing of ['order', 'payment', 'waybill', 'inventory'] as const) {
      const partial: Ticket = { ...t }
      delete partial[missing]
      expect(verifyTicket(partial, baseCtx)).toMatchObject({ complete: false, returnStatus: 2, reasons: [] })
    }
    expect(verifyTicket({}, baseCtx)).toEqual({ complete: false, returnStatus: 2, reasons: [] })
  })

  it('reports what the present documents show, and waits', () => {
    const t = example()
    t.payment.head.amountPaid = '445.00'
    const v = verifyTicket({ order: t.order, payment: t.payment }, baseCtx)
    expect(v).toMatchObject({ complete: false, returnStatus: 2 })
    expect(brief(v)).toEqual([R('AMOUNT_MISMATCH', '/CEB411/PaymentHead/amountPaid')])
  })

  it('computes the tax from the inventory alone', () => {
    expect(verifyTicket({ inventory: example().inventory }, baseCtx).tax?.total).toBe('37.13')
    expect(verifyTicket({ order: example().order }, baseCtx).tax).toBeUndefined()
  })
})

// ---- Properties ---------------------------------------------------------------------------------------------

const KEYS = ['order', 'payment', 'waybill', 'inventory'] as const
const MSG = { order: 'CEB311', payment: 'CEB411', waybill: 'CEB511', inventory: 'CEB621' } as const
/** Mutations with their own context, from the cases above, plus some that break several rules at once. */
const MUTATIONS: Case[] = [
  ...CASES,
  {
    name: 'no inventory lines',
    mutate: (t) => {
      t.inventory.lines = []
    },
    expected: [],
  },
  {
    name: 'gross weight garbage',
    mutate: (t) => {
      t.inventory.head.grossWeight = 'heavy'
    },
    expected: [],
  },
  {
    name: 'everything on the waybill differs',
    mutate: (t) => {
      Object.assign(t.waybill.head, {
        orderNo: 'X',
        consignee: 'Y',
        consigneeAddress: 'Z',
        currency: '000',
        packNo: '3',
      })
    },
    expected: [],
  },
  {
    name: 'order says two tins of 2,600',
    mutate: (t) => {
      t.order.lines[0]!.price = '2600.00'
      t.order.lines[0]!.totalPrice = '5200.00'
    },
    expected: [],
  },
  {
    name: 'second order line',
    mutate: (t) => {
      t.order.lines.push({ ...t.order.lines[0]!, gnum: '2', itemName: '辅食' })
    },
    expected: [],
  },
  { name: 'year almost full', ctx: { buyerYearTotal: () => '25999' }, expected: [] },
]

describe('verifyTicket: properties', () => {
  const subset = fc.subarray([...KEYS])
  const mutations = fc.subarray(MUTATIONS, { maxLength: 4 })

  /** The 16 subsets of the four documents. */
  const SUBSETS = Array.from({ length: 16 }, (_, m) => KEYS.filter((_k, i) => m & (1 << i)))
  /** The reasons of `keys` ⊆ the ticket: those of the full ticket whose documents are all present. */
  const restricted = (full: Verdict, keys: readonly string[]) =>
    full.reasons.filter((r) => r.documents.every((d) => keys.some((k) => MSG[k as keyof typeof MSG] === d)))

  it('exhaustively, for every single mutation and every subset, the reasons are the full ones restricted to the subset', () => {
    for (const m of MUTATIONS) {
      for (const basis of ['dutiable', 'paid'] as const) {
        const t = example()
        m.mutate?.(t)
        const ctx = ctxWith({ ...m.ctx, limits: { single: '5000', annual: '26000', basis } })
        const full = verifyTicket(t, ctx)
        for (const keys of SUBSETS) {
          const part = verifyTicket(Object.fromEntries(keys.map((k) => [k, t[k]])), ctx)
          expect({ m: m.name, keys, reasons: part.reasons }).toEqual({
            m: m.name,
            keys,
            reasons: restricted(full, keys),
          })
        }
      }
    }
  })

  test.prop([mutations, subset, fc.boolean()], { numRuns: 300 })(
    'on any subset of the documents, the reasons are exactly those of the full ticket whose documents are all present',
    (ms, keys, paid) => {
      const t = example()
      let ctx = ctxWith(paid ? { limits: { single: '5000', annual: '26000', basis: 'paid' } } : {})
      for (const m of ms) {
        // A mutation of a line an earlier one removed no longer applies: what it changed so far stays.
        try {
          m.mutate?.(t)
        } catch {
          /* not applicable */
        }
        ctx = { ...ctx, ...m.ctx }
      }
      const full = verifyTicket(t, ctx)
      const part = verifyTicket(Object.fromEntries(keys.map((k) => [k, t[k]])), ctx)
      expect(part.reasons).toEqual(restricted(full, keys))
      expect(part.complete).toBe(keys.length === 4)
      if (keys.length < 4) expect(part.returnStatus).toBe(2)
      if (keys.includes('inventory') && !paid) expect(part.tax).toEqual(full.tax)
    },
  )

  test.prop([mutations, fc.shuffledSubarray([...KEYS], { minLength: 0, maxLength: 4 })])(
    'the order in which the documents are given does not matter',
    (ms, order) => {
      const t = example()
      let ctx = baseCtx
      for (const m of ms) {
        // A mutation of a line an earlier one removed no longer applies: what it changed so far stays.
        try {
          m.mutate?.(t)
        } catch {
          /* not applicable */
        }
        ctx = { ...ctx, ...m.ctx }
      }
      const canonical = Object.fromEntries(KEYS.filter((k) => order.includes(k)).map((k) => [k, t[k]]))
      const permuted = Object.fromEntries(order.map((k) => [k, t[k]]))
      expect(verifyTicket(permuted, ctx)).toEqual(verifyTicket(canonical, ctx))
    },
  )

  /** Other spellings of the same decimal: trailing zeros, leading zeros. */
  const respell = (amount: Big) =>
    fc.constantFrom(amount.toFixed(), amount.toFixed(2), `${amount.toFixed(2)}0`, `00${amount.toFixed(3)}`)
  const fen = fc.integer({ min: 0, max: 100_000_000 }).map((f) => new Big(f).div(100))

  const amount = fen.chain((x) => respell(x).map((s) => ({ x, s })))

  test.prop([amount, amount, amount, amount])(
    'amounts are compared as decimals: any spelling of the exact total passes, one fen off fails',
    (goods, freight, tax, discount) => {
      const paid = goods.x.plus(freight.x).plus(tax.x).minus(discount.x)
      fc.pre(paid.gte('0.01'))
      const t = example()
      Object.assign(t.order.head, {
        goodsValue: goods.s,
        freight: freight.s,
        taxTotal: tax.s,
        discount: discount.s,
        acturalPaid: paid.toFixed(2),
      })
      t.payment.head.amountPaid = `${paid.toFixed(2)}000`
      const codes = (tk: Ticket) =>
        verifyTicket({ order: tk.order, payment: tk.payment }, baseCtx).reasons.map((r) => r.code)
      expect(codes(t)).toEqual([])
      t.order.head.acturalPaid = paid.minus('0.01').toFixed(2)
      expect(codes(t)).toEqual(['TOTAL_FORMULA', 'AMOUNT_MISMATCH'])
    },
  )

  it('445.13 and 445.130 are the same amount; 0.1 + 0.2 is 0.3', () => {
    const t = example()
    t.payment.head.amountPaid = '445.130'
    expect(verifyTicket(t, baseCtx).reasons).toEqual([])
    Object.assign(t.order.head, { goodsValue: '0.1', freight: '0.2', taxTotal: '0', discount: '0', acturalPaid: '0.3' })
    t.payment.head.amountPaid = '0.30'
    Object.assign(t.order.lines[0]!, { qty: '3', price: '0.1', totalPrice: '0.3' })
    expect(verifyTicket({ order: t.order, payment: t.payment }, baseCtx).reasons).toEqual([])
  })

  test.prop([fc.integer({ min: 1, max: 999 }), fc.integer({ min: 1, max: 50 })])(
    'line totals: price × qty in decimals (0.1 × 3 = 0.3, not 0.30000000000000004)',
    (priceFen, qty) => {
      const t = example()
      const price = new Big(priceFen).div(10).toFixed() // 0.1, 0.2, …
      Object.assign(t.order.lines[0]!, { price, qty: String(qty), totalPrice: new Big(price).times(qty).toFixed() })
      expect(verifyTicket({ order: t.order }, baseCtx).reasons.map((r) => r.code)).not.toContain('TOTAL_FORMULA')
      t.order.lines[0]!.totalPrice = new Big(price).times(qty).plus('0.01').toFixed()
      expect(verifyTicket({ order: t.order }, baseCtx).reasons.map((r) => r.code)).toContain('TOTAL_FORMULA')
    },
  )

  // Fields: either the example's value, or an arbitrary string, a decimal-looking one, or missing altogether.
  const field = (value: unknown) =>
    fc.oneof(
      fc.constant(value),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom('', ' ', '0', '-1', '1e3', '5000.01', '1.000', 'NaN', '142', 'I', '1'),
      fc.constant(undefined),
    )
  const recordLike = (o: Record<string, unknown>) =>
    fc.record(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, field(v)])))
  const arbitraryTicket = fc.record({
    order: fc.option(
      fc.record({
        head: recordLike(EXAMPLE.order.head as never),
        lines: fc.array(recordLike(EXAMPLE.order.lines[0] as never), { maxLength: 3 }),
      }),
      { nil: undefined },
    ),
    payment: fc.option(fc.record({ head: recordLike(EXAMPLE.payment.head as never) }), { nil: undefined }),
    waybill: fc.option(fc.record({ head: recordLike(EXAMPLE.waybill.head as never) }), { nil: undefined }),
    inventory: fc.option(
      fc.record({
        head: recordLike(EXAMPLE.inventory.head as never),
        lines: fc.array(recordLike(EXAMPLE.inventory.lines[0] as never), { maxLength: 3 }),
      }),
      { nil: undefined },
    ),
  }) as unknown as fc.Arbitrary<Ticket>
  const fullCtx = ctxWith({
    signed: () => false,
    buyerAuthenticated: () => false,
    orderSeen: () => false,
    waybillSeen: () => [{ orderNo: 'X', at: '2025-08-01' }],
  })

  test.prop([arbitraryTicket], { numRuns: 500 })(
    'never throws on arbitrary field values, and every reason is well formed',
    (t) => {
      const v = verifyTicket(t, fullCtx)
      expect([120, 100, 2]).toContain(v.returnStatus)
      expect(v.complete).toBe(KEYS.every((k) => t[k] !== undefined))
      if (v.returnStatus === 120) expect(v.reasons).toEqual([])
      for (const r of v.reasons) {
        expect(Object.keys(REASON_CODES)).toContain(r.code)
        expect(r.pointer).toMatch(/^\/CEB(311|411|511|621)\//)
        expect(r.documents.map((d) => `/${d}/`).some((p) => r.pointer.startsWith(p))).toBe(true)
      }
    },
  )

  it('never throws on documents that are not even shaped like documents', () => {
    const odd = [
      { order: {} as Order },
      { inventory: { head: null, lines: 'x' } as unknown as Inventory },
      {
        payment: { head: { amountPaid: 445.13 } } as unknown as Payment,
        order: { head: { acturalPaid: 445.13 }, lines: [null] } as unknown as Order,
      },
      { waybill: { head: [] } as unknown as Waybill },
    ]
    for (const t of odd) expect(() => verifyTicket(t, fullCtx)).not.toThrow()
    // Numbers where strings belong are read as missing, not coerced.
    expect(brief(verifyTicket(odd[2]!, baseCtx))).toContainEqual(R('FORMAT', '/CEB411/PaymentHead/amountPaid'))
  })
})
