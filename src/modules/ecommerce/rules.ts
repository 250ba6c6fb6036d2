import Big from 'big.js'
import { buyerIdProblem } from './buyer-id.js'
import { orderTax, type OrderTax, type TaxRates } from './tax.js'
import type { CebMessageType, Inventory, Order, OrderHead, Payment, Waybill } from './types.js'

/**
 * Three-document matching (三单对碰) of a CBEC retail-import ticket: order CEB311, payment CEB411, waybill
 * CEB511 and inventory CEB621, checked together as DOMAIN §5 states them. Pure: plain data and injected
 * look-ups in, a verdict out; no clock, no I/O, decimals only.
 */

/**
 * Reason codes of a verdict, each with the one-line description the API documents. Stable: never reuse a
 * code for another meaning.
 */
export const REASON_CODES = {
  FORMAT:
    'An element the checks need is missing, empty or malformed (decimal, gnum, 10-digit gcode, appType/appStatus), including the elements a trade mode requires (bonded: emsNo, areaCode, itemRecordNo; direct: trafNo, voyageNo, billNo) and at least one goods line.',
  SIGNATURE: 'A declared document (appStatus 2) carries no verified XML-DSig signature.',
  UNREGISTERED_ENTERPRISE:
    'An enterprise code is not registered and active in its role (ebp, ebc, pay, logistics, agent, assure).',
  LINK_MISMATCH:
    'A document names another order: orderNo, ebpCode or ebcCode differs from the order, or payCode/payTransactionId differ between order and payment.',
  LOGISTICS_MISMATCH: 'The inventory names another waybill: logisticsCode or logisticsNo differs from the waybill.',
  AMOUNT_MISMATCH: 'Payment amountPaid differs from the order acturalPaid.',
  TOTAL_FORMULA: 'acturalPaid ≠ goodsValue + freight + taxTotal − discount, or a line totalPrice ≠ price × qty.',
  PAYER_NOT_BUYER:
    "The payer name or ID number differs from the buyer's, and the buyer is not separately authenticated.",
  CONSIGNEE_MISMATCH:
    'The order consignee name, phone or address differs from the waybill, or the inventory address from the order.',
  ITEM_MISMATCH:
    'Lines do not run gnum 1..n, or inventory and order lines do not match 1:1 by gnum (gname = itemName, same qty and price).',
  BUYER_MISMATCH:
    "An inventory buyer field (buyerIdType, buyerIdNumber, buyerName, buyerTelephone) differs from the order's.",
  INVALID_BUYER_ID:
    'A buyer or payer ID type is not 1 (resident ID), or the ID number fails GB 11643 (length, characters, birth date, check character).',
  CURRENCY: 'A currency is not 142 (CNY).',
  FIXED_VALUE:
    "orderType or ieFlag is not I, packNo is not 1, tradeMode is not 9610/1210/1239, or a bonded inventory's country is not 142.",
  INVALID_ASSURER: "assureCode is none of the inventory's ebpCode, ebcCode, logisticsCode.",
  WEIGHT: 'grossWeight or netWeight is not positive, or netWeight exceeds grossWeight.',
  LINE_VALUES:
    'An inventory line has price ≤ 0, qty1 ≠ qty although unit = unit1, or no positive qty2 although unit2 is set.',
  SINGLE_LIMIT:
    'The transaction value exceeds the single-transaction limit (¥5,000) and is not one indivisible item within the annual limit.',
  ANNUAL_LIMIT:
    "The buyer's released total this calendar year plus this transaction exceeds the annual limit (¥26,000).",
  TAX_MISMATCH: 'The order taxTotal differs from the tax computed on the inventory.',
  DUPLICATE_WAYBILL: 'The logistics firm used this logisticsNo for another order within the last 6 months.',
  DUPLICATE_ORDER:
    'The platform already used this orderNo for another order (checked only when the caller supplies orderSeen).',
} as const satisfies Record<string, string>

/** One of {@link REASON_CODES}. */
export type ReasonCode = keyof typeof REASON_CODES

/** Why a ticket is not accepted, and where. */
export interface Reason {
  code: ReasonCode
  message: string
  /** JSON Pointer to the offending element, e.g. `/CEB411/PaymentHead/amountPaid`; lines by array index from 0, e.g. `/CEB621/InventoryList/0/gname`. */
  pointer: string
  /** The documents the check compared (one for a single-document check, two for a pair), in message order. */
  documents: CebMessageType[]
}

/** The documents of one order, any of them possibly still missing. */
export interface Ticket {
  order?: Order
  payment?: Payment
  waybill?: Waybill
  inventory?: Inventory
}

/** Roles an enterprise code can be registered in. */
export type EnterpriseRole = 'ebp' | 'ebc' | 'pay' | 'logistics' | 'agent' | 'assure'

/** Limits (DOMAIN §5 "Limits") and the amount tolerance; all CNY decimal strings. */
export interface Limits {
  /** Single-transaction limit, default `'5000'`. */
  single: string
  /** Annual limit per buyer and calendar year, default `'26000'`. */
  annual: string
  /**
   * Tolerance of money comparisons (amountPaid, acturalPaid formula, line totals, line prices, taxTotal):
   * an absolute amount (`'0.01'`) or a percentage of the expected amount (`'5%'`). Default `'0'`: DOMAIN's
   * "5% tolerance" is [L], and the ±1-yuan tolerance is not in the spec. Not applied to the limits themselves.
   */
  tolerance?: string
  /**
   * What the limits count: `'dutiable'` (default) = goods + freight + insurance of the inventory, the
   * [H] reading; `'paid'` = the order's acturalPaid, the reading of one secondary list [M].
   */
  basis?: 'dutiable' | 'paid'
}

/** The defaults of {@link Limits}: 财关税〔2018〕49号, from 2019-01-01. */
export const DEFAULT_LIMITS: Readonly<Required<Limits>> = Object.freeze({
  single: '5000',
  annual: '26000',
  tolerance: '0',
  basis: 'dutiable',
})

/** What `verifyTicket` needs to know besides the documents. */
export interface VerifyContext {
  /** The China date (`Asia/Shanghai`) of the check, `YYYY-MM-DD`: birth dates, the 6-month waybill window, the quota year. */
  today: string
  /** True when `code` is registered and active in `role`. */
  enterprises: (code: string, role: EnterpriseRole) => boolean
  /**
   * Earlier uses of a waybill number by a logistics firm: the order it was used for and when, as a China date
   * `YYYY-MM-DD`, a CEB time `YYYYMMDDhhmmss` (China time) or an ISO date-time with offset.
   */
  waybillSeen: (logisticsCode: string, logisticsNo: string) => Array<{ orderNo: string; at: string }>
  /** CNY value released for this buyer so far in calendar `year`, not counting this ticket. */
  buyerYearTotal: (buyerIdNumber: string, year: number) => string
  /** Tax rates by gcode. */
  rates: TaxRates
  /** Defaults: {@link DEFAULT_LIMITS}. */
  limits?: Limits
  /**
   * Whether the XML-DSig signature of a document was verified. When given, a declared document (appStatus 2)
   * without one gets SIGNATURE; leave it out only where the transport already refuses unsigned messages.
   */
  signed?: (type: CebMessageType) => boolean
  /**
   * True when the buyer's identity was authenticated separately, which lifts "payer = buyer"
   * (DOMAIN §5 rule 8, 财关税〔2016〕18号). Default: never.
   */
  buyerAuthenticated?: (order: OrderHead) => boolean
  /**
   * True when the platform `ebpCode` already used `orderNo` for another order (rule 7). Optional because the
   * store, which keys tickets by orderNo, normally enforces it.
   */
  orderSeen?: (ebpCode: string, orderNo: string) => boolean
}

/** The outcome of matching one ticket. */
export interface Verdict {
  /** All four documents are present. */
  complete: boolean
  /** 120 accepted (logic checks passed), 100 rejected, 2 still declaring (a document is missing). */
  returnStatus: 120 | 100 | 2
  /** Every problem found, in a fixed order: single-document checks by message, then pairs. */
  reasons: Reason[]
  /** The tax computed on the inventory, when its lines, freight and insurance could be read. */
  tax?: OrderTax
}

type Doc = 'order' | 'payment' | 'waybill' | 'inventory'
type Rec = Record<string, unknown>
const DOCS: Doc[] = ['order', 'payment', 'waybill', 'inventory']
const MSG: Record<Doc, CebMessageType> = { order: 'CEB311', payment: 'CEB411', waybill: 'CEB511', inventory: 'CEB621' }
const HEAD: Record<Doc, string> = {
  order: 'OrderHead',
  payment: 'PaymentHead',
  waybill: 'LogisticsHead',
  inventory: 'InventoryHead',
}
const LIST = { order: 'OrderList', inventory: 'InventoryList' } as const
const TRADE_MODES = ['9610', '1210', '1239']
const BONDED = ['1210', '1239']
const CNY = '142'

/** A private big.js constructor, isolated from other modules' settings. */
const D = Big()
D.DP = 30
D.RM = Big.roundHalfUp
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/
const GNUM = /^[0-9]{1,9}$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v)
/** A field as a string; anything else (missing, a number from a sloppy parser) reads as empty. */
const str = (r: Rec, k: string): string => (typeof r[k] === 'string' ? (r[k] as string) : '')
const has = (s: string) => s.trim() !== ''
const dec = (s: string): Big | undefined => (DECIMAL.test(s) ? new D(s) : undefined)

/** Days in month `m` (1–12) of year `y`. */
function monthDays(y: number, m: number): number {
  return (
    [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0
  )
}
const pad = (n: number, w = 2) => String(n).padStart(w, '0')

/** `YYYY-MM-DD` plus `n` calendar months, the day clamped to the month's end (08-31 + 6 months = 02-28/29). */
function addMonths(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const idx = y * 12 + (m - 1) + n
  const ny = Math.floor(idx / 12)
  const nm = (idx % 12) + 1
  return `${pad(ny, 4)}-${pad(nm)}-${pad(Math.min(d, monthDays(ny, nm)))}`
}

function isDate(s: string): boolean {
  const m = DATE.exec(s)
  return !!m && Number(m[2]) >= 1 && Number(m[3]) >= 1 && Number(m[3]) <= monthDays(Number(m[1]), Number(m[2]))
}

/** The China date of a waybill use (see {@link VerifyContext.waybillSeen}); DOMAIN: legal dates are Asia/Shanghai dates. */
function chinaDate(at: string): string {
  if (isDate(at)) return at
  const ceb = /^(\d{4})(\d{2})(\d{2})\d{6}$/.exec(at)
  if (ceb && isDate(`${ceb[1]}-${ceb[2]}-${ceb[3]}`)) return `${ceb[1]}-${ceb[2]}-${ceb[3]}`
  // A date-time must carry its offset: without one Date.parse would use the host's zone.
  const ms = /^\d{4}-\d{2}-\d{2}T.*([zZ]|[+-]\d{2}:?\d{2})$/.test(at) ? Date.parse(at) : NaN
  if (Number.isNaN(ms)) throw new RangeError(`waybillSeen: unreadable date ${at}`)
  // China has kept UTC+8 without daylight saving since 1991.
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 10)
}

/**
 * Whether a logistics firm may use a waybill number again for another order: 6 months (China dates) after its
 * earlier use `at` (DOMAIN §5 rule 7). `today` is the China date.
 */
export function waybillReusable(at: string, today: string): boolean {
  return today >= addMonths(chinaDate(at), 6)
}

function checkDecimal(s: string, what: string): Big {
  const b = typeof s === 'string' ? dec(s) : undefined
  if (!b) throw new RangeError(`${what} must be a non-negative decimal string: ${String(s)}`)
  return b
}

/**
 * Verifies a ticket: every rule DOMAIN §5 tags [H] (linking keys; the three-document rules 1–8; the limits;
 * the tax) and the secondary checks it lists (registration, weights, prices, legal quantities). Only the
 * checks the present documents allow are run, each from the documents it names in `Reason.documents` and
 * nothing else, so the result on a subset of documents is the full result restricted to that subset.
 * A value that cannot be read is reported once as FORMAT and the checks that need it are skipped.
 *
 * Not implemented, as DOMAIN says they are not in the spec: a ±1-yuan tolerance, a 24-hour window, codes
 * T001–T010.
 *
 * @throws RangeError on a bad context (today not a date, a limit or tolerance not a decimal, an unreadable
 * date or amount returned by a look-up) — never because of the documents' content.
 */
export function verifyTicket(t: Ticket, ctx: VerifyContext): Verdict {
  if (!isDate(ctx.today)) throw new RangeError(`today must be YYYY-MM-DD: ${ctx.today}`)
  // Field by field, so an explicit `undefined` in ctx.limits still gets the default.
  const limits: Required<Limits> = {
    single: ctx.limits?.single ?? DEFAULT_LIMITS.single,
    annual: ctx.limits?.annual ?? DEFAULT_LIMITS.annual,
    tolerance: ctx.limits?.tolerance ?? DEFAULT_LIMITS.tolerance,
    basis: ctx.limits?.basis ?? DEFAULT_LIMITS.basis,
  }
  const single = checkDecimal(limits.single, 'limits.single')
  const annual = checkDecimal(limits.annual, 'limits.annual')
  const pct = limits.tolerance.endsWith('%')
  const tol = pct
    ? checkDecimal(limits.tolerance.slice(0, -1), 'limits.tolerance').div(100)
    : checkDecimal(limits.tolerance, 'limits.tolerance')
  /** Money equality within the tolerance (exact by default); a percentage is of `expected`, the reference side. */
  const sameMoney = (actual: Big, expected: Big) =>
    actual
      .minus(expected)
      .abs()
      .lte(pct ? expected.abs().times(tol) : tol)

  const present = (d: Doc) => t[d] !== undefined && t[d] !== null
  const head = (d: Doc): Rec => {
    const doc: unknown = t[d]
    return isRec(doc) && isRec(doc.head) ? doc.head : {}
  }
  const lines = (d: 'order' | 'inventory'): Rec[] => {
    const doc: unknown = t[d]
    return isRec(doc) && Array.isArray(doc.lines) ? doc.lines.map((l: unknown) => (isRec(l) ? l : {})) : []
  }
  const ptr = (d: Doc, field?: string) => `/${MSG[d]}/${HEAD[d]}${field === undefined ? '' : `/${field}`}`
  const lptr = (d: 'order' | 'inventory', i?: number, field?: string) =>
    `/${MSG[d]}/${LIST[d]}${i === undefined ? '' : `/${i}`}${field === undefined ? '' : `/${field}`}`

  const reasons: Reason[] = []
  const add = (code: ReasonCode, message: string, pointer: string, docs: Doc[]) =>
    reasons.push({ code, message, pointer, documents: DOCS.filter((d) => docs.includes(d)).map((d) => MSG[d]) })

  // ---- Single-document checks -------------------------------------------------------------------------

  const required: Record<Doc, { text: string[]; decimal: string[]; optionalDecimal?: string[] }> = {
    order: {
      text: [
        'appType',
        'appStatus',
        'orderType',
        'orderNo',
        'ebpCode',
        'ebcCode',
        'currency',
        'buyerName',
        'buyerTelephone',
        'buyerIdType',
        'buyerIdNumber',
        'consignee',
        'consigneeTelephone',
        'consigneeAddress',
      ],
      decimal: ['goodsValue', 'freight', 'discount', 'taxTotal', 'acturalPaid'],
    },
    payment: {
      text: [
        'appType',
        'appStatus',
        'payCode',
        'payTransactionId',
        'orderNo',
        'ebpCode',
        'payerIdType',
        'payerIdNumber',
        'payerName',
        'currency',
      ],
      decimal: ['amountPaid'],
    },
    waybill: {
      text: [
        'appType',
        'appStatus',
        'logisticsCode',
        'logisticsNo',
        'orderNo',
        'consignee',
        'consigneeAddress',
        'consigneeTelephone',
        'currency',
      ],
      decimal: ['weight'],
      optionalDecimal: ['freight', 'insuredFee', 'packNo'],
    },
    inventory: {
      text: [
        'appType',
        'appStatus',
        'orderNo',
        'ebpCode',
        'ebcCode',
        'logisticsNo',
        'logisticsCode',
        'assureCode',
        'ieFlag',
        'buyerIdType',
        'buyerIdNumber',
        'buyerName',
        'buyerTelephone',
        'consigneeAddress',
        'agentCode',
        'tradeMode',
        'country',
        'currency',
      ],
      decimal: ['freight', 'insuredFee', 'packNo', 'grossWeight', 'netWeight'],
    },
  }
  const requiredLine = {
    order: {
      text: ['gnum', 'itemName', 'currency'],
      decimal: ['qty', 'price', 'totalPrice'],
      optionalDecimal: [] as string[],
    },
    inventory: {
      text: ['gnum', 'gcode', 'gname', 'unit', 'unit1', 'currency'],
      decimal: ['qty', 'qty1', 'price', 'totalPrice'],
      optionalDecimal: ['qty2'],
    },
  }
  const formatOf = (
    d: Doc,
    r: Rec,
    p: (f: string) => string,
    spec: { text: string[]; decimal: string[]; optionalDecimal?: string[] },
  ) => {
    for (const f of spec.text) if (!has(str(r, f))) add('FORMAT', `${f} is missing or empty`, p(f), [d])
    for (const f of spec.decimal) {
      const v = str(r, f)
      if (!has(v)) add('FORMAT', `${f} is missing or empty`, p(f), [d])
      else if (!dec(v)) add('FORMAT', `${f} is not a non-negative decimal: ${v}`, p(f), [d])
    }
    for (const f of spec.optionalDecimal ?? []) {
      const v = str(r, f)
      if (has(v) && !dec(v)) add('FORMAT', `${f} is not a non-negative decimal: ${v}`, p(f), [d])
    }
  }

  for (const d of DOCS) {
    if (!present(d)) continue
    const h = head(d)
    const s = (f: string) => str(h, f)

    // Format of what the rules read (the field-level spec is fields.ts's job).
    formatOf(d, h, (f) => ptr(d, f), required[d])
    if (has(s('appType')) && !['1', '2', '3'].includes(s('appType')))
      add('FORMAT', `appType must be 1, 2 or 3: ${s('appType')}`, ptr(d, 'appType'), [d])
    if (has(s('appStatus')) && !['1', '2'].includes(s('appStatus')))
      add('FORMAT', `appStatus must be 1 or 2: ${s('appStatus')}`, ptr(d, 'appStatus'), [d])
    if (d === 'order' || d === 'inventory') {
      const ls = lines(d)
      if (ls.length === 0) add('FORMAT', `no ${LIST[d]}: at least one line is required`, lptr(d), [d])
      ls.forEach((l, i) => {
        formatOf(d, l, (f) => lptr(d, i, f), requiredLine[d])
        const g = str(l, 'gnum')
        if (has(g) && !GNUM.test(g)) add('FORMAT', `gnum is not a positive integer: ${g}`, lptr(d, i, 'gnum'), [d])
        const c = str(l, 'gcode')
        if (d === 'inventory' && has(c) && !/^[0-9]{10}$/.test(c))
          add('FORMAT', `gcode must be 10 digits: ${c}`, lptr(d, i, 'gcode'), [d])
      })
    }

    // Declared documents are signed (envelope: appStatus 2 = declare, XML-DSig required).
    if (ctx.signed && s('appStatus') === '2' && !ctx.signed(MSG[d])) {
      add('SIGNATURE', `${MSG[d]} is declared (appStatus 2) without a verified signature`, `/${MSG[d]}/Signature`, [d])
    }

    // Rule 6: CNY only, on heads and lines.
    if (has(s('currency')) && s('currency') !== CNY)
      add('CURRENCY', `currency must be ${CNY}: ${s('currency')}`, ptr(d, 'currency'), [d])
    if (d === 'order' || d === 'inventory') {
      lines(d).forEach((l, i) => {
        const c = str(l, 'currency')
        if (has(c) && c !== CNY) add('CURRENCY', `currency must be ${CNY}: ${c}`, lptr(d, i, 'currency'), [d])
      })
    }

    // [M] Registration of every party in its role.
    const roles: Array<[string, EnterpriseRole]> = {
      order: [
        ['ebpCode', 'ebp'],
        ['ebcCode', 'ebc'],
        ['payCode', 'pay'],
      ],
      payment: [
        ['payCode', 'pay'],
        ['ebpCode', 'ebp'],
      ],
      waybill: [['logisticsCode', 'logistics']],
      inventory: [
        ['ebpCode', 'ebp'],
        ['ebcCode', 'ebc'],
        ['logisticsCode', 'logistics'],
        ['agentCode', 'agent'],
        ['assureCode', 'assure'],
      ],
    }[d] as Array<[string, EnterpriseRole]>
    for (const [f, role] of roles) {
      if (has(s(f)) && !ctx.enterprises(s(f), role))
        add('UNREGISTERED_ENTERPRISE', `${f} ${s(f)} is not registered and active as ${role}`, ptr(d, f), [d])
    }

    // Rule 5 (first half) and the GB 11643 check: resident IDs only.
    const idFields =
      d === 'payment'
        ? ['payerIdType', 'payerIdNumber']
        : d === 'waybill'
          ? undefined
          : ['buyerIdType', 'buyerIdNumber']
    if (idFields) {
      const [typeField, numberField] = idFields as [string, string]
      if (has(s(typeField)) && s(typeField) !== '1')
        add('INVALID_BUYER_ID', `${typeField} must be 1 (resident ID): ${s(typeField)}`, ptr(d, typeField), [d])
      else if (has(s(numberField))) {
        const p = buyerIdProblem(s(numberField), ctx.today)
        if (p) add('INVALID_BUYER_ID', `${numberField} fails GB 11643: ${p}`, ptr(d, numberField), [d])
      }
    }

    if (d === 'order') {
      // Rule 6: orderType I.
      if (has(s('orderType')) && s('orderType') !== 'I')
        add('FIXED_VALUE', `orderType must be I: ${s('orderType')}`, ptr(d, 'orderType'), [d])
      // Rule 1: acturalPaid = goodsValue + freight + taxTotal − discount.
      const [gv, fr, tx, di, ap] = ['goodsValue', 'freight', 'taxTotal', 'discount', 'acturalPaid'].map((f) =>
        dec(s(f)),
      )
      if (gv && fr && tx && di && ap) {
        const expected = gv.plus(fr).plus(tx).minus(di)
        if (!sameMoney(ap, expected))
          add(
            'TOTAL_FORMULA',
            `acturalPaid ${s('acturalPaid')} ≠ goodsValue + freight + taxTotal − discount = ${expected.toFixed()}`,
            ptr(d, 'acturalPaid'),
            [d],
          )
      }
      // Rule 7: orderNo unique per platform, when the caller can tell.
      if (ctx.orderSeen && has(s('ebpCode')) && has(s('orderNo')) && ctx.orderSeen(s('ebpCode'), s('orderNo'))) {
        add('DUPLICATE_ORDER', `platform ${s('ebpCode')} already used orderNo ${s('orderNo')}`, ptr(d, 'orderNo'), [d])
      }
    }

    if (d === 'waybill') {
      if (has(s('packNo')) && dec(s('packNo')) && !dec(s('packNo'))!.eq(1))
        add('FIXED_VALUE', `packNo must be 1: ${s('packNo')}`, ptr(d, 'packNo'), [d])
      // Rule 7: a logistics firm does not reuse a waybill number for another order within 6 months.
      if (has(s('logisticsCode')) && has(s('logisticsNo'))) {
        const clash = ctx
          .waybillSeen(s('logisticsCode'), s('logisticsNo'))
          .filter((u) => u.orderNo !== s('orderNo') && ctx.today < addMonths(chinaDate(u.at), 6))
        const first = clash[0]
        if (first)
          add(
            'DUPLICATE_WAYBILL',
            `${s('logisticsCode')} used logisticsNo ${s('logisticsNo')} for order ${first.orderNo} on ${chinaDate(first.at)}, less than 6 months ago`,
            ptr(d, 'logisticsNo'),
            [d],
          )
      }
    }

    if (d === 'inventory') {
      const mode = s('tradeMode')
      // Rule 6: fixed values and the trade mode's own elements.
      if (has(s('ieFlag')) && s('ieFlag') !== 'I')
        add('FIXED_VALUE', `ieFlag must be I: ${s('ieFlag')}`, ptr(d, 'ieFlag'), [d])
      const packNo = dec(s('packNo'))
      if (packNo && !packNo.eq(1)) add('FIXED_VALUE', `packNo must be 1: ${s('packNo')}`, ptr(d, 'packNo'), [d])
      if (has(mode) && !TRADE_MODES.includes(mode))
        add('FIXED_VALUE', `tradeMode must be one of ${TRADE_MODES.join(', ')}: ${mode}`, ptr(d, 'tradeMode'), [d])
      if (BONDED.includes(mode)) {
        if (has(s('country')) && s('country') !== CNY)
          add('FIXED_VALUE', `a bonded (${mode}) inventory has country ${CNY}: ${s('country')}`, ptr(d, 'country'), [d])
        for (const f of ['emsNo', 'areaCode'])
          if (!has(s(f))) add('FORMAT', `${f} is required for bonded (${mode}) inventories`, ptr(d, f), [d])
        lines(d).forEach((l, i) => {
          if (!has(str(l, 'itemRecordNo')))
            add('FORMAT', `itemRecordNo is required for bonded (${mode}) inventories`, lptr(d, i, 'itemRecordNo'), [d])
        })
      }
      if (mode === '9610') {
        for (const f of ['trafNo', 'voyageNo', 'billNo'])
          if (!has(s(f))) add('FORMAT', `${f} is required for direct (9610) inventories`, ptr(d, f), [d])
      }
      // assureCode names one of the inventory's ebp, ebc or logistics firm (field spec: 只限…).
      const assure = s('assureCode')
      if (has(assure) && ![s('ebpCode'), s('ebcCode'), s('logisticsCode')].includes(assure)) {
        add(
          'INVALID_ASSURER',
          `assureCode ${assure} is none of ebpCode, ebcCode, logisticsCode`,
          ptr(d, 'assureCode'),
          [d],
        )
      }
      // [M] gross > 0, net > 0, net ≤ gross.
      const gross = dec(s('grossWeight'))
      const net = dec(s('netWeight'))
      if (gross && !gross.gt(0))
        add('WEIGHT', `grossWeight must be positive: ${s('grossWeight')}`, ptr(d, 'grossWeight'), [d])
      if (net && !net.gt(0)) add('WEIGHT', `netWeight must be positive: ${s('netWeight')}`, ptr(d, 'netWeight'), [d])
      if (gross && net && net.gt(gross))
        add('WEIGHT', `netWeight ${s('netWeight')} exceeds grossWeight ${s('grossWeight')}`, ptr(d, 'netWeight'), [d])
      // [M] price > 0; unit = unit1 ⇒ qty = qty1; unit2 set ⇒ qty2 > 0.
      lines(d).forEach((l, i) => {
        const price = dec(str(l, 'price'))
        if (price && !price.gt(0))
          add('LINE_VALUES', `price must be positive: ${str(l, 'price')}`, lptr(d, i, 'price'), [d])
        const qty = dec(str(l, 'qty'))
        const qty1 = dec(str(l, 'qty1'))
        if (has(str(l, 'unit')) && str(l, 'unit') === str(l, 'unit1') && qty && qty1 && !qty.eq(qty1)) {
          add(
            'LINE_VALUES',
            `qty1 ${str(l, 'qty1')} ≠ qty ${str(l, 'qty')} although unit = unit1`,
            lptr(d, i, 'qty1'),
            [d],
          )
        }
        if (has(str(l, 'unit2'))) {
          const qty2 = dec(str(l, 'qty2'))
          if (!has(str(l, 'qty2')) || (qty2 && !qty2.gt(0)))
            add('LINE_VALUES', `qty2 must be positive when unit2 is set: ${str(l, 'qty2')}`, lptr(d, i, 'qty2'), [d])
        }
      })
    }

    if (d === 'order' || d === 'inventory') {
      // Rule 4: totalPrice = price × qty. Totals are declared to the fen, so a product with more decimals
      // also matches its half-up rounding to the fen.
      lines(d).forEach((l, i) => {
        const [price, qty, total] = ['price', 'qty', 'totalPrice'].map((f) => dec(str(l, f)))
        if (price && qty && total) {
          const product = price.times(qty)
          if (!sameMoney(total, product) && !total.eq(product.round(2, Big.roundHalfUp))) {
            add(
              'TOTAL_FORMULA',
              `totalPrice ${str(l, 'totalPrice')} ≠ price × qty = ${product.toFixed()}`,
              lptr(d, i, 'totalPrice'),
              [d],
            )
          }
        }
      })
      // Rule 4: gnum runs 1..n, each once (in any order of the lines).
      const ls = lines(d)
      const seen = new Set<number>()
      ls.forEach((l, i) => {
        const g = str(l, 'gnum')
        if (!GNUM.test(g)) return
        const n = Number(g)
        if (n < 1 || n > ls.length)
          add('ITEM_MISMATCH', `gnum ${g} is outside 1..${ls.length}`, lptr(d, i, 'gnum'), [d])
        else if (seen.has(n)) add('ITEM_MISMATCH', `gnum ${g} appears twice`, lptr(d, i, 'gnum'), [d])
        seen.add(n)
      })
    }
  }

  // ---- Pairs --------------------------------------------------------------------------------------------

  /** Equality of two required texts; an empty side was already reported as FORMAT. */
  const sameText = (a: string, b: string) => !has(a) || !has(b) || a === b
  const o = head('order')

  if (present('order') && present('payment')) {
    const p = head('payment')
    // Linking: payment → order by orderNo + ebpCode; payCode + payTransactionId agree when the order names them (optional there).
    for (const f of ['orderNo', 'ebpCode', 'payCode', 'payTransactionId']) {
      if (!sameText(str(p, f), str(o, f)))
        add('LINK_MISMATCH', `${f} ${str(p, f)} ≠ order's ${str(o, f)}`, ptr('payment', f), ['order', 'payment'])
    }
    // Rule 2: amountPaid = acturalPaid, as decimals.
    const paid = dec(str(p, 'amountPaid'))
    const actural = dec(str(o, 'acturalPaid'))
    if (paid && actural && !sameMoney(paid, actural))
      add(
        'AMOUNT_MISMATCH',
        `amountPaid ${str(p, 'amountPaid')} ≠ order acturalPaid ${str(o, 'acturalPaid')}`,
        ptr('payment', 'amountPaid'),
        ['order', 'payment'],
      )
    // Rule 8: payer = buyer (name and ID) unless the buyer is authenticated separately.
    if (!ctx.buyerAuthenticated?.(o as unknown as OrderHead)) {
      for (const [pf, of] of [
        ['payerName', 'buyerName'],
        ['payerIdNumber', 'buyerIdNumber'],
      ] as const) {
        if (!sameText(str(p, pf), str(o, of)))
          add('PAYER_NOT_BUYER', `${pf} ${str(p, pf)} ≠ order ${of} ${str(o, of)}`, ptr('payment', pf), [
            'order',
            'payment',
          ])
      }
    }
  }

  if (present('order') && present('waybill')) {
    const w = head('waybill')
    if (!sameText(str(w, 'orderNo'), str(o, 'orderNo')))
      add('LINK_MISMATCH', `orderNo ${str(w, 'orderNo')} ≠ order's ${str(o, 'orderNo')}`, ptr('waybill', 'orderNo'), [
        'order',
        'waybill',
      ])
    // Rule 3: consignee name, phone, address = the waybill's.
    for (const f of ['consignee', 'consigneeTelephone', 'consigneeAddress']) {
      if (!sameText(str(w, f), str(o, f)))
        add('CONSIGNEE_MISMATCH', `${f} ${str(w, f)} ≠ order's ${str(o, f)}`, ptr('waybill', f), ['order', 'waybill'])
    }
  }

  if (present('order') && present('inventory')) {
    const v = head('inventory')
    // Linking: inventory → order by orderNo + ebpCode + ebcCode.
    for (const f of ['orderNo', 'ebpCode', 'ebcCode']) {
      if (!sameText(str(v, f), str(o, f)))
        add('LINK_MISMATCH', `${f} ${str(v, f)} ≠ order's ${str(o, f)}`, ptr('inventory', f), ['order', 'inventory'])
    }
    // Rule 5: the inventory's buyer fields are the order's.
    for (const f of ['buyerIdType', 'buyerIdNumber', 'buyerName', 'buyerTelephone']) {
      if (!sameText(str(v, f), str(o, f)))
        add('BUYER_MISMATCH', `${f} ${str(v, f)} ≠ order's ${str(o, f)}`, ptr('inventory', f), ['order', 'inventory'])
    }
    // Field spec (CEB621 consigneeAddress 与订单/运单收货地址一致): compared with the order, the inventory's link.
    if (!sameText(str(v, 'consigneeAddress'), str(o, 'consigneeAddress'))) {
      add(
        'CONSIGNEE_MISMATCH',
        `consigneeAddress ${str(v, 'consigneeAddress')} ≠ order's ${str(o, 'consigneeAddress')}`,
        ptr('inventory', 'consigneeAddress'),
        ['order', 'inventory'],
      )
    }
    // Rule 4: lines 1:1 by gnum, gname = itemName, same qty and price.
    const orderLines = new Map<number, Rec>()
    for (const l of lines('order')) {
      const g = str(l, 'gnum')
      if (GNUM.test(g) && !orderLines.has(Number(g))) orderLines.set(Number(g), l)
    }
    const matched = new Set<number>()
    lines('inventory').forEach((l, i) => {
      const g = str(l, 'gnum')
      if (!GNUM.test(g)) return
      const ol = orderLines.get(Number(g))
      if (!ol) {
        add('ITEM_MISMATCH', `the order has no line gnum ${g}`, lptr('inventory', i, 'gnum'), ['order', 'inventory'])
        return
      }
      matched.add(Number(g))
      if (!sameText(str(l, 'gname'), str(ol, 'itemName')))
        add(
          'ITEM_MISMATCH',
          `gname ${str(l, 'gname')} ≠ order itemName ${str(ol, 'itemName')}`,
          lptr('inventory', i, 'gname'),
          ['order', 'inventory'],
        )
      const [iq, oq] = [dec(str(l, 'qty')), dec(str(ol, 'qty'))]
      if (iq && oq && !iq.eq(oq))
        add('ITEM_MISMATCH', `qty ${str(l, 'qty')} ≠ order qty ${str(ol, 'qty')}`, lptr('inventory', i, 'qty'), [
          'order',
          'inventory',
        ])
      const [ip, op] = [dec(str(l, 'price')), dec(str(ol, 'price'))]
      if (ip && op && !sameMoney(ip, op))
        add(
          'ITEM_MISMATCH',
          `price ${str(l, 'price')} ≠ order price ${str(ol, 'price')}`,
          lptr('inventory', i, 'price'),
          ['order', 'inventory'],
        )
    })
    for (const g of orderLines.keys()) {
      if (!matched.has(g))
        add('ITEM_MISMATCH', `order line gnum ${g} has no inventory line`, lptr('inventory'), ['order', 'inventory'])
    }
  }

  if (present('inventory') && present('waybill')) {
    const v = head('inventory')
    const w = head('waybill')
    // Linking: inventory → waybill by logisticsCode + logisticsNo.
    for (const f of ['logisticsCode', 'logisticsNo']) {
      if (!sameText(str(v, f), str(w, f)))
        add('LOGISTICS_MISMATCH', `${f} ${str(v, f)} ≠ waybill's ${str(w, f)}`, ptr('inventory', f), [
          'inventory',
          'waybill',
        ])
    }
  }

  // ---- Limits and tax (inventory; the order too when the limits count acturalPaid, and for taxTotal) ------

  let tax: OrderTax | undefined
  if (present('inventory')) {
    const v = head('inventory')
    const ls = lines('inventory')
    const totals = ls.map((l) => dec(str(l, 'totalPrice')))
    const freight = dec(str(v, 'freight'))
    const insured = dec(str(v, 'insuredFee'))
    const readable =
      ls.length > 0 &&
      freight &&
      insured &&
      totals.every((x) => x) &&
      ls.every((l) => /^[0-9]{10}$/.test(str(l, 'gcode')))
    const paidBasis = limits.basis === 'paid'
    const value = !readable
      ? undefined
      : paidBasis
        ? present('order')
          ? dec(str(o, 'acturalPaid'))
          : undefined
        : totals
            .reduce<Big>((a, x) => a.plus(x!), new D(0))
            .plus(freight)
            .plus(insured)
    if (value) {
      const limitDocs: Doc[] = paidBasis ? ['order', 'inventory'] : ['inventory']
      const basisPtr = paidBasis ? ptr('order', 'acturalPaid') : lptr('inventory')
      const year = Number(ctx.today.slice(0, 4))
      const buyer = str(v, 'buyerIdNumber')
      const soFar = checkDecimal(ctx.buyerYearTotal(buyer, year), 'buyerYearTotal')
      const withinYear = soFar.plus(value).lte(annual)
      const qty = dec(str(ls[0]!, 'qty'))
      // Limits: one indivisible item (one line, quantity 1) may exceed the single limit if the year still
      // fits; it is then taxed in full. Anything else above the single limit belongs to general trade.
      const indivisible = ls.length === 1 && !!qty && qty.eq(1)
      const aboveSingle = value.gt(single)
      if (aboveSingle && !(indivisible && withinYear)) {
        add(
          'SINGLE_LIMIT',
          `value ${value.toFixed(2)} exceeds the single-transaction limit ${limits.single}${indivisible ? ' and the annual limit would be exceeded' : ' and is not one indivisible item'}`,
          basisPtr,
          limitDocs,
        )
      }
      if (!withinYear) {
        add(
          'ANNUAL_LIMIT',
          `${soFar.toFixed(2)} released in ${year} + ${value.toFixed(2)} exceeds the annual limit ${limits.annual}`,
          ptr('inventory', 'buyerIdNumber'),
          limitDocs,
        )
      }
      const fullRate = aboveSingle && indivisible && withinYear
      tax = orderTax(
        ls.map((l) => ({ gnum: str(l, 'gnum'), gcode: str(l, 'gcode'), value: str(l, 'totalPrice') })),
        str(v, 'freight'),
        str(v, 'insuredFee'),
        ctx.rates,
        { fullRate },
      )
      // The tax withheld on the order is the tax due on the inventory.
      const declared = present('order') ? dec(str(o, 'taxTotal')) : undefined
      if (declared && !sameMoney(declared, new D(tax.total))) {
        add(
          'TAX_MISMATCH',
          `taxTotal ${str(o, 'taxTotal')} ≠ computed tax ${tax.total}${fullRate ? ' (in full: one indivisible item above the single limit)' : ''}`,
          ptr('order', 'taxTotal'),
          ['order', 'inventory'],
        )
      }
    }
  }

  const complete = DOCS.every(present)
  return {
    complete,
    // An incomplete ticket is still being declared: what was found is reported, the verdict waits.
    returnStatus: !complete ? 2 : reasons.length > 0 ? 100 : 120,
    reasons,
    ...(tax ? { tax } : {}),
  }
}
