import { seededRandom } from '../../shared/clock.js'
import Big from 'big.js'
import { withBuyerIdCheck } from './buyer-id.js'
import { BASE_TRANSFER_MESSAGE, CEB_STRUCTURE, fieldsFor } from './fields.js'
import type { ReasonCode } from './rules.js'
import { DEFAULT_TAX_RATES, orderTax } from './tax.js'
import type {
  BaseTransfer,
  CebDocuments,
  CebMessageType,
  Inventory,
  InventoryHead,
  InventoryList,
  LogisticsHead,
  Order,
  OrderHead,
  OrderList,
  Payment,
  PaymentHead,
  Waybill,
} from './types.js'
import { CEB_NAMESPACE } from './xml.js'

/**
 * Synthetic CEB retail-import tickets (order CEB311, payment CEB411, waybill CEB511, inventory CEB621) for tests,
 * benchmarks and demos. Pure: every random choice comes from the injected `rng` (use `seededRandom` from
 * shared/clock.ts), so the same seed and the same calls give the same documents; no clock, no I/O.
 *
 * A ticket without a defect passes {@link verifyTicket} with 120 when every party is registered and the buyer has no
 * earlier purchases this year; with `defect`, exactly the reasons of {@link DEFECT_REASONS} are reported.
 * Commodity codes are real 8-digit tariff numbers; their last two (supplementary) digits are illustrative, as are
 * customs, port and account-book codes.
 */

/** The enterprise codes of a ticket. `area` is the bonded-zone warehouse operator (1210 only; default: logistics). */
export interface Parties {
  ebp: string
  ebc: string
  pay: string
  logistics: string
  agent: string
  area?: string
}

export interface TicketOptions {
  /** Ticket number: orderNo, payTransactionId, logisticsNo and copNo are unique per index (and prefix). */
  index: number
  parties: Parties
  /** Bonded (网购保税, default) or direct purchase (直购). */
  mode?: '1210' | '9610'
  /** One deliberate inconsistency, one of {@link SUPPORTED_DEFECTS}; `null`/absent: a consistent ticket. */
  defect?: ReasonCode | null
  /**
   * Size of the buyer pool: the buyer is drawn from persons 0..buyers−1, each always the same name, ID, phone and
   * address (so annual totals add up across tickets). Absent: every index has its own buyer.
   */
  buyers?: number
  /** Up to 6 characters [0-9A-Z] put into every document number, to keep runs apart in one database. Default ''. */
  prefix?: string
  /** China date of the documents, `YYYY-MM-DD` (default `2025-08-18`). Buyers are born 1965–2003. */
  date?: string
}

export interface GeneratedTicket {
  order: Order
  payment: Payment
  waybill: Waybill
  inventory: Inventory
}

/**
 * The defects {@link generateTicket} can plant: every reason code a ticket's own documents can cause. Not here:
 * SIGNATURE, UNREGISTERED_ENTERPRISE, DUPLICATE_WAYBILL and DUPLICATE_ORDER depend on the verification context
 * (signatures, registrations, earlier waybills and orders), not on the documents.
 */
export const SUPPORTED_DEFECTS = [
  'FORMAT',
  'LINK_MISMATCH',
  'LOGISTICS_MISMATCH',
  'AMOUNT_MISMATCH',
  'TOTAL_FORMULA',
  'PAYER_NOT_BUYER',
  'CONSIGNEE_MISMATCH',
  'ITEM_MISMATCH',
  'BUYER_MISMATCH',
  'INVALID_BUYER_ID',
  'CURRENCY',
  'FIXED_VALUE',
  'INVALID_ASSURER',
  'WEIGHT',
  'LINE_VALUES',
  'SINGLE_LIMIT',
  'ANNUAL_LIMIT',
  'TAX_MISMATCH',
] as const satisfies readonly ReasonCode[]
export type SupportedDefect = (typeof SUPPORTED_DEFECTS)[number]

/**
 * The reason codes `verifyTicket` reports for each planted defect (with all parties registered and no earlier
 * purchases): the defect's own code, except ANNUAL_LIMIT, which takes one item above ¥26,000 and so also exceeds the
 * single limit.
 */
export const DEFECT_REASONS: Readonly<Record<SupportedDefect, readonly ReasonCode[]>> = Object.freeze(
  Object.fromEntries(
    SUPPORTED_DEFECTS.map((d) => [d, d === 'ANNUAL_LIMIT' ? ['SINGLE_LIMIT', 'ANNUAL_LIMIT'] : [d]]),
  ) as Record<SupportedDefect, ReasonCode[]>,
)

// ---------------------------------------------------------------------------------------------------------------
// Reference lists

interface Product {
  gcode: string
  name: string
  /** gmodel without the brand. */
  model: string
  brands: readonly string[]
  /** Declared unit and first legal unit (JGS-20): 035 kg, 025 pair, 007 piece, 122 can, 140 box, 142 bottle. */
  unit: string
  unit1: string
  /** Net kg per unit (the legal quantity when unit1 is kg). */
  netKg: string
  /** Price range in CNY and the most a buyer takes in one order. */
  price: [number, number]
  maxQty: number
  /** Origin countries, old numeric codes: 116 JP, 133 KR, 303 GB, 304 DE, 305 FR, 307 IT, 502 US, 601 AU, 609 NZ. */
  countries: readonly string[]
}

const PRODUCTS: readonly Product[] = [
  {
    gcode: '1901101000',
    name: '婴幼儿配方奶粉800克',
    model: '800g/罐|1段',
    brands: ['Kiwi & Co', 'Alpen Milch', '澳贝乐'],
    unit: '122',
    unit1: '035',
    netKg: '0.8',
    price: [158, 328],
    maxQty: 6,
    countries: ['609', '601', '304'],
  },
  {
    gcode: '3304990099',
    name: '保湿修护面霜50毫升',
    model: '50ml/瓶|面霜|保湿',
    brands: ['Maison Lumière', '雪之花', "Dr. Hana's"],
    unit: '142',
    unit1: '035',
    netKg: '0.05',
    price: [89, 680],
    maxQty: 3,
    countries: ['305', '116', '133'],
  },
  {
    gcode: '2106909090',
    name: '复合维生素片',
    model: '120片/瓶|成人',
    brands: ['NutriPlus', 'Green <Leaf> Labs', '维康'],
    unit: '142',
    unit1: '035',
    netKg: '0.12',
    price: [69, 259],
    maxQty: 4,
    countries: ['601', '502', '609'],
  },
  {
    gcode: '6403990090',
    name: '真皮休闲鞋',
    model: '牛皮面|橡胶底|42码',
    brands: ['Pellerossa', 'Oakridge'],
    unit: '025',
    unit1: '025',
    netKg: '0.9',
    price: [299, 1299],
    maxQty: 2,
    countries: ['307', '502', '303'],
  },
  {
    gcode: '0409000000',
    name: '麦卢卡蜂蜜500克',
    model: '500g/罐|UMF10+',
    brands: ['Kiwi & Co', 'Manuka "Gold"'],
    unit: '122',
    unit1: '035',
    netKg: '0.5',
    price: [129, 499],
    maxQty: 3,
    countries: ['609'],
  },
  {
    gcode: '3305100090',
    name: '氨基酸洗发水400毫升',
    model: '400ml/瓶|无硅油',
    brands: ['Sakura Bath', '韩方'],
    unit: '142',
    unit1: '035',
    netKg: '0.42',
    price: [49, 159],
    maxQty: 4,
    countries: ['116', '133'],
  },
  {
    gcode: '4202210090',
    name: '女式真皮手提包',
    model: '牛皮|中号|黑色',
    brands: ['Atelier Nord', 'Pellerossa'],
    unit: '007',
    unit1: '007',
    netKg: '0.85',
    price: [800, 2400],
    maxQty: 1,
    countries: ['307', '305'],
  },
]
const LUXURY: Product = { ...PRODUCTS[6]!, name: '鳄鱼皮手提包（限量款）', model: '鳄鱼皮|大号|限量编号' }

/** GB/T 2260 districts: code, and the address text that goes with it. */
const DISTRICTS: ReadonlyArray<[string, string]> = [
  ['110105', '北京市朝阳区'],
  ['310115', '上海市浦东新区'],
  ['440305', '广东省深圳市南山区'],
  ['330106', '浙江省杭州市西湖区'],
  ['320102', '江苏省南京市玄武区'],
  ['510107', '四川省成都市武侯区'],
  ['420106', '湖北省武汉市武昌区'],
  ['440106', '广东省广州市天河区'],
  ['370202', '山东省青岛市市南区'],
  ['610113', '陕西省西安市雁塔区'],
  ['460106', '海南省海口市龙华区'],
  ['350203', '福建省厦门市思明区'],
]
const STREETS = [
  '建国路',
  '世纪大道',
  '科技园路',
  '文三路',
  '中山路',
  '人民南路',
  '中北路',
  '天河路',
  '香港中路',
  '小寨东路',
  '滨海大道',
  '湖滨南路',
]
const SURNAMES =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'
const GIVEN =
  '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉晨宇浩然子涵欣怡梓轩思雨俊熙一诺雨桐'
const NAMES = {
  ebp: '优选跨境电子商务平台有限公司',
  ebc: '海淘优品电子商务有限公司',
  pay: '通汇支付科技有限公司',
  logistics: '速达国际物流有限公司',
  agent: '关通报关服务有限公司',
  area: '保税港区仓储有限公司',
}
const FLIGHTS = ['NZ289', 'CA174', 'QF129', 'LH720', 'MU588', 'AF116', 'KE893']

const CUSTOMS = '6409'
const PRICE_CAP = 5000
const ANNUAL_CAP = 26000

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const D = Big()
D.DP = 20
D.RM = Big.roundHalfUp
const money = (x: Big | number | string) => new D(x).toFixed(2)
/** Plain decimal text without trailing zeros (big.js toFixed() never uses exponents). */
const plain = (x: Big) =>
  x
    .toFixed()
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '')

const pick = <T>(rng: () => number, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!
const int = (rng: () => number, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1))
const digits = (rng: () => number, n: number) =>
  Array.from({ length: n }, () => String(Math.floor(rng() * 10))).join('')
const pad = (n: number, w: number) => String(n).padStart(w, '0')

/** An uppercase UUID-shaped guid (C36, 英文字母大写) from the rng. */
function guidOf(rng: () => number): string {
  const hex = Array.from({ length: 32 }, () => '0123456789ABCDEF'[Math.floor(rng() * 16)]!)
  hex[12] = '4'
  hex[16] = '89AB'[Math.floor(rng() * 4)]!
  const s = hex.join('')
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
}

/** `YYYYMMDDhhmmss` of an epoch millisecond in China time (UTC+8, no daylight saving). */
const cebTime = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)

/** A stable 32-bit mix of a number, so person `n` is the same person whatever the ticket. */
function mix(n: number): number {
  let h = (n ^ 0x9e3779b9) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

/** Persons get their own stream (seededRandom is mulberry32), so they do not consume the caller's. */
const personRng = (seed: number) => seededRandom(seed)

interface Person {
  name: string
  idNumber: string
  phone: string
  address: string
  district: string
  regNo: string
}

const nameOf = (r: () => number) =>
  pick(r, [...SURNAMES]) + pick(r, [...GIVEN]) + (r() < 0.6 ? pick(r, [...GIVEN]) : '')
const phoneOf = (r: () => number) => `1${pick(r, ['3', '5', '7', '8', '9'])}${digits(r, 9)}`

function idFor(r: () => number, district: string): string {
  const y = int(r, 1965, 2003)
  const m = int(r, 1, 12)
  const d = int(r, 1, [31, y % 4 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!)
  return withBuyerIdCheck(`${district}${y}${pad(m, 2)}${pad(d, 2)}${digits(r, 3)}`)
}

/** Person `n` of the buyer pool: always the same. */
function person(n: number): Person {
  const r = personRng(mix(n))
  const [district, area] = pick(r, DISTRICTS)
  return {
    name: nameOf(r),
    idNumber: idFor(r, district),
    phone: phoneOf(r),
    address: `${area}${pick(r, STREETS)}${int(r, 1, 999)}号${int(r, 1, 30)}栋${int(r, 1, 32)}0${int(r, 1, 8)}室`,
    district,
    regNo: `u${pad(mix(n + 7) % 1e9, 9)}`,
  }
}

interface Line {
  product: Product
  qty: number
  price: string
  country: string
  brand: string
}

function linesOf(rng: () => number): Line[] {
  const n = rng() < 0.6 ? 1 : rng() < 0.75 ? 2 : 3
  const chosen: Product[] = []
  while (chosen.length < n) {
    const p = pick(rng, PRODUCTS)
    if (!chosen.includes(p)) chosen.push(p)
  }
  return chosen.map((product) => ({
    product,
    qty: int(rng, 1, product.maxQty),
    price: money(
      new D(int(rng, product.price[0], product.price[1] - 1)).plus(pick(rng, ['0', '0.9', '0.5', '0.99', '0.8'])),
    ),
    country: pick(rng, product.countries),
    brand: pick(rng, product.brands),
  }))
}

const lineTotal = (l: Line) => new D(l.price).times(l.qty)
const goodsOf = (ls: Line[]) => ls.reduce((s, l) => s.plus(lineTotal(l)), new D(0))

// ---------------------------------------------------------------------------------------------------------------

/**
 * Generates one mutually consistent ticket, or, with `defect`, one with a single deliberate inconsistency.
 * Amounts: line totals = price × qty, goodsValue = Σ totals, taxTotal = {@link orderTax} with the default rates
 * (70% within the limits, in full for one indivisible item above ¥5,000), acturalPaid = goodsValue + freight +
 * taxTotal − discount = amountPaid. Buyer = payer; buyer IDs pass GB 11643. Bonded (1210): country 142, emsNo,
 * areaCode and itemRecordNo; direct (9610): trafNo, voyageNo, billNo (also on the waybill).
 *
 * @throws RangeError on a bad index, prefix, date, buyers or an unsupported defect.
 */
export function generateTicket(rng: () => number, opts: TicketOptions): GeneratedTicket {
  const { index, parties } = opts
  const mode = opts.mode ?? '1210'
  const prefix = opts.prefix ?? ''
  const defect = opts.defect ?? null
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`index must be a non-negative integer: ${index}`)
  if (!/^[0-9A-Z]{0,6}$/.test(prefix)) throw new RangeError(`prefix must be up to 6 characters 0-9A-Z: ${prefix}`)
  if (defect !== null && !(SUPPORTED_DEFECTS as readonly string[]).includes(defect))
    throw new RangeError(`unsupported defect ${defect}; supported: ${SUPPORTED_DEFECTS.join(', ')}`)
  if (opts.buyers !== undefined && !(Number.isSafeInteger(opts.buyers) && opts.buyers > 0))
    throw new RangeError(`buyers must be a positive integer: ${opts.buyers}`)
  const date = opts.date ?? '2025-08-18'
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  const dayMs = day ? Date.parse(`${date}T00:00:00+08:00`) : NaN
  if (!day || Number.isNaN(dayMs) || new Date(dayMs + 8 * 3600_000).toISOString().slice(0, 10) !== date)
    throw new RangeError(`date must be YYYY-MM-DD: ${date}`)
  const ymd = date.replace(/-/g, '')

  // Who, what, how much.
  const buyer = person(opts.buyers === undefined ? index : Math.floor(rng() * opts.buyers))
  const consignee: Pick<Person, 'name' | 'phone'> = rng() < 0.85 ? buyer : { name: nameOf(rng), phone: phoneOf(rng) }
  let lines = linesOf(rng)
  const freight = rng() < 0.4 ? new D(0) : new D(pick(rng, [6, 8, 10, 12, 15, 20]))
  const valueOf = (ls: Line[]) => goodsOf(ls).plus(freight)
  for (let tries = 0; valueOf(lines).gt(PRICE_CAP - 100) && tries < 20; tries++) lines = linesOf(rng)
  if (valueOf(lines).gt(PRICE_CAP - 100)) lines = [{ ...lines[0]!, qty: 1, price: money(lines[0]!.product.price[0]) }]
  if (defect === 'SINGLE_LIMIT') {
    // Several units: above the single limit, not one indivisible item, well within the year.
    const l = lines[0]!
    lines[0] = { ...l, qty: Math.max(2, Math.ceil((PRICE_CAP + 200) / Number(l.price))) }
  } else if (defect === 'ANNUAL_LIMIT') {
    lines = [
      {
        product: LUXURY,
        qty: 1,
        price: money(int(rng, 265, 299) * 100 + 88),
        country: pick(rng, LUXURY.countries),
        brand: pick(rng, LUXURY.brands),
      },
    ]
  } else if (defect === null && rng() < 0.01) {
    // Now and then one indivisible item above the single limit: allowed, taxed in full.
    lines = [
      {
        product: LUXURY,
        qty: 1,
        price: money(int(rng, 52, 98) * 100 + 88),
        country: pick(rng, LUXURY.countries),
        brand: pick(rng, LUXURY.brands),
      },
    ]
  }
  const goods = goodsOf(lines)
  const value = goods.plus(freight)
  const indivisible = lines.length === 1 && lines[0]!.qty === 1
  const fullRate = value.gt(PRICE_CAP) && indivisible && value.lte(ANNUAL_CAP)
  const gcodes = lines.map((l) => l.product.gcode)
  const tax = orderTax(
    lines.map((l, i) => ({ gnum: String(i + 1), gcode: gcodes[i]!, value: money(lineTotal(l)) })),
    money(freight),
    '0',
    DEFAULT_TAX_RATES,
    { fullRate },
  )
  const discountChoice = rng() < 0.25 ? pick(rng, [5, 10, 20, 30]) : 0
  const discount = new D(discountChoice < Number(goods) ? discountChoice : 0)
  const actural = goods.plus(freight).plus(tax.total).minus(discount)

  const net = lines.reduce((s, l) => s.plus(new D(l.product.netKg).times(l.qty)), new D(0))
  const gross = net.plus(new D(int(rng, 5, 40)).div(100))

  // When: paid, ordered, shipped, declared — in that order, on `date`.
  const paidMs = dayMs + (8 * 3600 + ((index * 7) % 36_000) + int(rng, 0, 59)) * 1000
  const orderMs = paidMs + int(rng, 5, 90) * 1000
  const payMs = orderMs + int(rng, 5, 120) * 1000
  const shipMs = orderMs + int(rng, 300, 1800) * 1000
  const invMs = shipMs + int(rng, 60, 600) * 1000

  const orderNo = `SO${ymd}${prefix}${pad(index, 8)}`
  const payTransactionId = `PAY${ymd}${prefix}${pad(index, 10)}`
  const logisticsNo = `YT${prefix}${pad(index, 13)}`
  const copNo = `INV${prefix}${pad(index, 9)}`
  const area = parties.area ?? parties.logistics
  const group = Math.floor(index / 200)
  const flight = FLIGHTS[group % FLIGHTS.length]!
  // Master air waybill of the flight: airline prefix, 7-digit serial and its mod-7 check digit.
  const serial = (mix(group) % 9_000_000) + 1_000_000
  const awb = `${pad(100 + (group % 800), 3)}-${serial}${serial % 7}`
  const address = buyer.address

  const orderLines: OrderList[] = lines.map((l, i) => ({
    gnum: String(i + 1),
    // The platform's SKU: one per product and brand.
    itemNo: `SKU${pad(PRODUCTS.indexOf(l.product) + 1 + (l.product === LUXURY ? 90 : 0), 3)}-${pad(l.product.brands.indexOf(l.brand) + 1, 2)}`,
    itemName: l.product.name,
    gmodel: `${l.product.model}|${l.brand}`,
    barCode: ean13(
      `69${pad(mix(1000 + PRODUCTS.indexOf(l.product) * 10 + l.product.brands.indexOf(l.brand)) % 1e10, 10)}`,
    ),
    unit: l.product.unit,
    qty: String(l.qty),
    price: l.price,
    totalPrice: money(lineTotal(l)),
    currency: '142',
    country: l.country,
  }))
  const orderHead: OrderHead = {
    guid: guidOf(rng),
    appType: '1',
    appTime: cebTime(orderMs),
    appStatus: '2',
    orderType: 'I',
    orderNo,
    ebpCode: parties.ebp,
    ebpName: NAMES.ebp,
    ebcCode: parties.ebc,
    ebcName: NAMES.ebc,
    goodsValue: money(goods),
    freight: money(freight),
    discount: money(discount),
    taxTotal: tax.total,
    acturalPaid: money(actural),
    currency: '142',
    buyerRegNo: buyer.regNo,
    buyerName: buyer.name,
    buyerTelephone: buyer.phone,
    buyerIdType: '1',
    buyerIdNumber: buyer.idNumber,
    payCode: parties.pay,
    payName: NAMES.pay,
    payTransactionId,
    consignee: consignee.name,
    consigneeTelephone: consignee.phone,
    consigneeAddress: address,
    consigneeDistrict: buyer.district,
  }
  const paymentHead: PaymentHead = {
    guid: guidOf(rng),
    appType: '1',
    appTime: cebTime(payMs),
    appStatus: '2',
    payCode: parties.pay,
    payName: NAMES.pay,
    payTransactionId,
    orderNo,
    ebpCode: parties.ebp,
    ebpName: NAMES.ebp,
    payerIdType: '1',
    payerIdNumber: buyer.idNumber,
    payerName: buyer.name,
    telephone: buyer.phone,
    amountPaid: money(actural),
    currency: '142',
    payTime: cebTime(paidMs),
  }
  const waybillHead: LogisticsHead = {
    guid: guidOf(rng),
    appType: '1',
    appTime: cebTime(shipMs),
    appStatus: '2',
    logisticsCode: parties.logistics,
    logisticsName: NAMES.logistics,
    logisticsNo,
    ...(mode === '9610' ? { billNo: awb } : {}),
    orderNo,
    freight: money(freight),
    insuredFee: '0',
    currency: '142',
    weight: plain(gross),
    packNo: '1',
    goodsInfo: lines
      .map((l) => `${l.product.name}*${l.qty}`)
      .join(';')
      .slice(0, 200),
    consignee: consignee.name,
    consigneeAddress: address,
    consigneeTelephone: consignee.phone,
  }
  const inventoryHead: InventoryHead = {
    guid: guidOf(rng),
    appType: '1',
    appTime: cebTime(invMs),
    appStatus: '2',
    orderNo,
    ebpCode: parties.ebp,
    ebpName: NAMES.ebp,
    ebcCode: parties.ebc,
    ebcName: NAMES.ebc,
    logisticsNo,
    logisticsCode: parties.logistics,
    logisticsName: NAMES.logistics,
    copNo,
    assureCode: parties.ebc,
    ...(mode === '1210' ? { emsNo: `T${CUSTOMS}W${pad(mix(area.length * 131 + area.charCodeAt(0)) % 1e6, 6)}` } : {}),
    ieFlag: 'I',
    declTime: cebTime(invMs).slice(0, 8),
    customsCode: CUSTOMS,
    portCode: CUSTOMS,
    ...(mode === '9610' ? { ieDate: ymd } : {}),
    buyerIdType: '1',
    buyerIdNumber: buyer.idNumber,
    buyerName: buyer.name,
    buyerTelephone: buyer.phone,
    consigneeAddress: address,
    agentCode: parties.agent,
    agentName: NAMES.agent,
    ...(mode === '1210' ? { areaCode: area, areaName: NAMES.area } : {}),
    tradeMode: mode,
    trafMode: mode === '1210' ? '4' : '5',
    ...(mode === '9610' ? { trafNo: flight, voyageNo: ymd, billNo: awb } : {}),
    country: mode === '1210' ? '142' : lines[0]!.country,
    freight: money(freight),
    insuredFee: '0',
    currency: '142',
    wrapType: '2',
    packNo: '1',
    grossWeight: plain(gross),
    netWeight: plain(net),
  }
  const inventoryLines: InventoryList[] = lines.map((l, i) => ({
    gnum: String(i + 1),
    ...(mode === '1210'
      ? { itemRecordNo: String(100001 + PRODUCTS.indexOf(l.product) + (l.product === LUXURY ? 100 : 0)) }
      : {}),
    itemNo: orderLines[i]!.itemNo!,
    itemName: l.product.name,
    gcode: l.product.gcode,
    gname: l.product.name,
    gmodel: orderLines[i]!.gmodel,
    barCode: orderLines[i]!.barCode!,
    country: l.country,
    tradeCountry: l.country,
    currency: '142',
    qty: String(l.qty),
    unit: l.product.unit,
    qty1: l.product.unit1 === l.product.unit ? String(l.qty) : plain(new D(l.product.netKg).times(l.qty)),
    unit1: l.product.unit1,
    price: l.price,
    totalPrice: money(lineTotal(l)),
  }))

  const t: GeneratedTicket = {
    order: { head: orderHead, lines: orderLines },
    payment: { head: paymentHead },
    waybill: { head: waybillHead },
    inventory: { head: inventoryHead, lines: inventoryLines },
  }
  if (defect) plant(rng, t, defect as SupportedDefect, mode)
  return t
}

const bump = (amount: string, by: string) => money(new D(amount).plus(by))

/** Changes a consistent ticket so that verifyTicket reports exactly DEFECT_REASONS[defect]. */
function plant(rng: () => number, t: GeneratedTicket, defect: SupportedDefect, mode: '1210' | '9610'): void {
  const o = t.order.head
  const p = t.payment.head
  const w = t.waybill.head
  const v = t.inventory.head
  const l0 = t.inventory.lines[0]!
  switch (defect) {
    case 'FORMAT':
      // An element the trade mode requires, left out (optional in the field list, so the message still parses).
      if (mode === '1210') {
        if (rng() < 0.5) delete v.emsNo
        else delete l0.itemRecordNo
      } else delete v.voyageNo
      break
    case 'LINK_MISMATCH':
      o.payTransactionId = `${o.payTransactionId}A`
      break
    case 'LOGISTICS_MISMATCH':
      v.logisticsNo = `${v.logisticsNo}0`
      break
    case 'AMOUNT_MISMATCH':
      p.amountPaid = money(new D(p.amountPaid).minus(1))
      break
    case 'TOTAL_FORMULA':
      o.acturalPaid = bump(o.acturalPaid, '1')
      p.amountPaid = o.acturalPaid
      break
    case 'PAYER_NOT_BUYER': {
      // Someone else pays: a real, different person.
      let other = person(mix(Number(o.buyerIdNumber.slice(10, 17))) + 1)
      if (other.name === o.buyerName || other.idNumber === o.buyerIdNumber) other = person(mix(7))
      p.payerName = other.name === o.buyerName ? `${other.name}明` : other.name
      p.payerIdNumber = other.idNumber
      p.telephone = other.phone
      break
    }
    case 'CONSIGNEE_MISMATCH':
      w.consigneeTelephone = otherPhone(rng, w.consigneeTelephone)
      break
    case 'ITEM_MISMATCH':
      l0.gname = `${l0.gname}（赠品装）`
      break
    case 'BUYER_MISMATCH':
      v.buyerTelephone = otherPhone(rng, v.buyerTelephone)
      break
    case 'INVALID_BUYER_ID': {
      const good = o.buyerIdNumber
      const bad = good.slice(0, 17) + ('10X98765432'.split('').find((c) => c !== good[17]) ?? '0')
      o.buyerIdNumber = bad
      p.payerIdNumber = bad
      v.buyerIdNumber = bad
      break
    }
    case 'CURRENCY':
      p.currency = '502'
      break
    case 'FIXED_VALUE':
      v.packNo = '2'
      break
    case 'INVALID_ASSURER':
      v.assureCode = v.agentCode
      break
    case 'WEIGHT':
      v.netWeight = plain(new D(v.grossWeight).plus('0.5'))
      break
    case 'LINE_VALUES':
      l0.unit2 = '035'
      break
    case 'SINGLE_LIMIT':
    case 'ANNUAL_LIMIT':
      break // planted in the lines
    case 'TAX_MISMATCH':
      o.taxTotal = bump(o.taxTotal, '0.01')
      o.acturalPaid = bump(o.acturalPaid, '0.01')
      p.amountPaid = o.acturalPaid
      break
  }
}

/** EAN-13: 12 digits and their check digit. */
function ean13(twelve: string): string {
  let sum = 0
  for (let i = 0; i < 12; i++) sum += Number(twelve[i]) * (i % 2 === 0 ? 1 : 3)
  return `${twelve}${(10 - (sum % 10)) % 10}`
}

function otherPhone(rng: () => number, phone: string): string {
  let x = phoneOf(rng)
  while (x === phone) x = phoneOf(rng)
  return x
}

// ---------------------------------------------------------------------------------------------------------------
// XML

/** Characters XML 1.0 can carry (tab, LF, CR and the Unicode ranges minus surrogates, U+FFFE, U+FFFF). */
const NON_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

/** Escapes element text and attribute values (`"` included); refuses characters XML cannot carry at all. */
function esc(s: string, where: string): string {
  if (NON_XML.test(s)) throw new RangeError(`${where}: character not allowed in XML`)
  // \t \n \r as references, so attribute normalisation and line-end handling keep them.
  return s.replace(/[&<>"\t\n\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : `&#${c.charCodeAt(0)};`,
  )
}

function leaves(
  out: string[],
  indent: string,
  node: string,
  fields: ReadonlyArray<{ element: string }>,
  rec: Record<string, unknown>,
  where: string,
) {
  const known = new Set(fields.map((f) => f.element))
  for (const k of Object.keys(rec)) {
    if (!known.has(k) && rec[k] !== undefined) throw new TypeError(`${where}: ${k} is not an element of ${node}`)
  }
  out.push(`${indent}<ceb:${node}>`)
  for (const f of fields) {
    const v = rec[f.element]
    if (v === undefined) continue
    if (typeof v !== 'string') throw new TypeError(`${where}/${f.element} must be a string`)
    if (v !== v.trim())
      throw new RangeError(`${where}/${f.element}: leading or trailing white space does not survive XML parsing`)
    out.push(`${indent}  <ceb:${f.element}>${esc(v, `${where}/${f.element}`)}</ceb:${f.element}>`)
  }
  out.push(`${indent}</ceb:${node}>`)
}

/**
 * Serialises one or many documents of `type` into a `CEB311Message` / `CEB411Message` / `CEB511Message` /
 * `CEB621Message` in the CEB namespace (prefix `ceb:`), elements in the field list's order, text escaped. The
 * message guid is `opts.guid` or the first document's head guid; version `opts.version` or `1.0`. What it writes
 * parses back with `parseCebXml` to the same documents, provided they are well-formed CEB documents.
 *
 * @throws TypeError on an unknown element or a non-string value; RangeError on a value XML cannot carry (a control
 * character) or with leading/trailing white space (the parser trims), or no documents.
 */
export function toMessageXml<T extends CebMessageType>(
  type: T,
  docs: ReadonlyArray<CebDocuments[T]>,
  baseTransfer: BaseTransfer,
  opts: { guid?: string; version?: string } = {},
): string {
  const s = CEB_STRUCTURE[type]
  if (!s) throw new TypeError(`unknown message type ${String(type)}`)
  if (docs.length === 0) throw new RangeError(`${type} needs at least one document`)
  const headFields = fieldsFor(s.root, `${s.document}/${s.head}`)
  const lineFields = s.line ? fieldsFor(s.root, `${s.document}/${s.line}`) : undefined
  const guid = opts.guid ?? docs[0]!.head.guid
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<ceb:${s.root} guid="${esc(guid, '@guid')}" version="${esc(opts.version ?? '1.0', '@version')}" xmlns:ceb="${CEB_NAMESPACE}">`,
  ]
  docs.forEach((d, i) => {
    const where = `/${s.root}/${s.document}/${i}`
    out.push(`  <ceb:${s.document}>`)
    leaves(out, '    ', s.head, headFields, d.head as unknown as Record<string, unknown>, `${where}/${s.head}`)
    if (s.line && lineFields) {
      const ls = (d as Order | Inventory).lines
      ls.forEach((l, j) =>
        leaves(out, '    ', s.line!, lineFields, l as unknown as Record<string, unknown>, `${where}/${s.line}/${j}`),
      )
    }
    out.push(`  </ceb:${s.document}>`)
  })
  leaves(
    out,
    '  ',
    'BaseTransfer',
    fieldsFor(BASE_TRANSFER_MESSAGE, 'BaseTransfer'),
    baseTransfer as unknown as Record<string, unknown>,
    `/${s.root}/BaseTransfer`,
  )
  out.push(`</ceb:${s.root}>`, '')
  return out.join('\n')
}

/** The documents of a ticket by message type, e.g. to batch many tickets into messages. */
export function ticketDocuments(t: GeneratedTicket): { [K in CebMessageType]: CebDocuments[K] } {
  return { CEB311: t.order, CEB411: t.payment, CEB511: t.waybill, CEB621: t.inventory }
}

/** A BaseTransfer for sender `copCode`. */
export function baseTransferFor(
  copCode: string,
  copName = copCode,
  dxpId = `DXPENT${pad(mix(copCode.length * 97 + copCode.charCodeAt(copCode.length - 1)) % 1e10, 10)}`,
): BaseTransfer {
  return { copCode, copName, dxpMode: 'DXP', dxpId }
}
