import Big from 'big.js'

/**
 * Cross-border e-commerce retail import tax (跨境电商零售进口税收政策, 财关税〔2018〕49号; DOMAIN §5 "Tax",
 * "Limits"). Within the limits duty is 0% and VAT and consumption tax (CT) are due at 70%; one indivisible
 * item above the single-transaction limit is taxed in full, duty included. Money is decimal strings in
 * and out and big.js inside: never floats.
 */

/** A private big.js constructor, so no other module's `Big.DP`/`Big.RM` setting changes our results. */
const D = Big()
D.DP = 30
D.RM = Big.roundHalfUp

const DECIMAL = /^[0-9]+(\.[0-9]+)?$/

/** The share of VAT and CT due on a transaction within the limits (DOMAIN §5: "at 70%"). */
export const CBEC_TAX_SHARE = '0.7'

/** The rates of one tariff line, as decimal fractions (`'0.13'` = 13%). */
export interface TaxRate {
  /** Import VAT rate, e.g. `'0.13'`. */
  vat: string
  /** Consumption tax rate (ad valorem), e.g. `'0'` or `'0.15'`; must be < 1. */
  consumption: string
  /**
   * Customs duty rate applied only when a transaction is taxed in full (one indivisible item above the
   * single limit); within the limits duty is 0% whatever this says. Missing = `'0'`.
   */
  duty?: string
}

/** Rate lookup by `gcode` (10-digit commodity code). Must not throw: an unknown code gets the defaults. */
export type TaxRates = (gcode: string) => TaxRate

/** One row of a rate table: codes starting with `prefix` take `rate`. */
export interface TaxRateEntry {
  prefix: string
  rate: string
  /** Why the row is there (goods, legal basis, confidence). */
  note: string
}

/** Per tax, a default rate plus prefix rows; the longest matching prefix wins. */
export interface TaxTable {
  vat: { default: string; entries: TaxRateEntry[] }
  consumption: { default: string; entries: TaxRateEntry[] }
  duty: { default: string; entries: TaxRateEntry[] }
}

/**
 * The bundled default table: **configurable, not authoritative** (DOMAIN tag [L] — verify before relying on
 * it; replace it via `taxRatesFrom(yourTable)`).
 *
 * - VAT 13% by default. 9% for a few agricultural and printed goods China taxes at the lower rate
 *   (增值税暂行条例 art. 2 as amended 2019: 粮食等农产品、食用植物油、图书、报纸、杂志 …): cereals (ch. 10), flours
 *   (1101–1103), fresh vegetables (ch. 07), fruit and nuts (ch. 08), edible vegetable oils (1507–1515),
 *   books and newspapers (4901–4902). Processed food such as infant formula (1901) stays at 13%, as the
 *   DOMAIN fixture shows.
 * - CT 0% by default. 15% for perfume (3303) and make-up / skin care (3304) — 高档化妆品; 10% for jewellery
 *   and precious-stone articles (7113, 7116) — 贵重首饰及珠宝玉石. The legal CT on cosmetics applies only above
 *   a price threshold (≥ ¥10 per ml/g or ¥15 per piece) and high-end watches (9101/9102, 20%) only from
 *   ¥10,000 a piece; a code table cannot express either, so watches are left out and 3303/3304 are charged
 *   as DOMAIN's worked example does.
 * - Duty 0%: MFN rates are not bundled. Only full-rate transactions use duty; configure `duty` rows for the
 *   goods you expect to clear that way, or their tax is understated.
 */
export const DEFAULT_TAX_TABLE: TaxTable = deepFreeze({
  vat: {
    default: '0.13',
    entries: [
      { prefix: '07', rate: '0.09', note: 'edible vegetables (农产品) [L]' },
      { prefix: '08', rate: '0.09', note: 'edible fruit and nuts (农产品) [L]' },
      { prefix: '10', rate: '0.09', note: 'cereals (粮食) [L]' },
      { prefix: '1101', rate: '0.09', note: 'wheat flour (粮食) [L]' },
      { prefix: '1102', rate: '0.09', note: 'other cereal flours (粮食) [L]' },
      { prefix: '1103', rate: '0.09', note: 'cereal groats and meal (粮食) [L]' },
      ...['1507', '1508', '1509', '1510', '1511', '1512', '1513', '1514', '1515'].map((prefix) => ({
        prefix,
        rate: '0.09',
        note: 'edible vegetable oils (食用植物油) [L]',
      })),
      { prefix: '4901', rate: '0.09', note: 'printed books (图书) [L]' },
      { prefix: '4902', rate: '0.09', note: 'newspapers and periodicals (报纸、杂志) [L]' },
    ],
  },
  consumption: {
    default: '0',
    entries: [
      { prefix: '3303', rate: '0.15', note: 'perfumes (高档化妆品; price threshold not modelled) [L]' },
      {
        prefix: '3304',
        rate: '0.15',
        note: 'make-up and skin care (高档化妆品; price threshold not modelled; DOMAIN example) [M]',
      },
      { prefix: '7113', rate: '0.1', note: 'jewellery (贵重首饰及珠宝玉石) [L]' },
      { prefix: '7116', rate: '0.1', note: 'articles of pearls and precious stones (贵重首饰及珠宝玉石) [L]' },
    ],
  },
  duty: { default: '0', entries: [] },
})

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}

function checkRate(rate: string, what: string, below1 = false): void {
  if (!DECIMAL.test(rate) || (below1 && new D(rate).gte(1))) {
    throw new RangeError(`${what} must be a decimal fraction${below1 ? ' below 1' : ''}: ${rate}`)
  }
}

/**
 * Builds a rate lookup from a table: for each tax the longest matching prefix wins, else the default.
 * @throws RangeError when a rate is not a non-negative decimal string, or a CT rate is ≥ 1.
 */
export function taxRatesFrom(table: TaxTable): TaxRates {
  const kinds = ['vat', 'consumption', 'duty'] as const
  const sorted = {} as Record<(typeof kinds)[number], { default: string; entries: TaxRateEntry[] }>
  for (const k of kinds) {
    checkRate(table[k].default, `${k} default`, k === 'consumption')
    for (const e of table[k].entries) checkRate(e.rate, `${k} rate for ${e.prefix}`, k === 'consumption')
    // Longest first, so the first match is the most specific.
    sorted[k] = {
      default: table[k].default,
      entries: [...table[k].entries].sort((a, b) => b.prefix.length - a.prefix.length),
    }
  }
  const pick = (k: (typeof kinds)[number], gcode: string) =>
    sorted[k].entries.find((e) => gcode.startsWith(e.prefix))?.rate ?? sorted[k].default
  return (gcode) => ({ vat: pick('vat', gcode), consumption: pick('consumption', gcode), duty: pick('duty', gcode) })
}

/** Lookup over {@link DEFAULT_TAX_TABLE}. */
export const DEFAULT_TAX_RATES: TaxRates = taxRatesFrom(DEFAULT_TAX_TABLE)

/** The taxes of one line, CNY to the fen. */
export interface LineTax {
  /** Dutiable value (完税价格) the taxes were computed on, as given. */
  value: string
  duty: string
  consumption: string
  vat: string
  /** duty + consumption + vat. */
  total: string
}

function decimal(s: string, what: string): Big {
  if (typeof s !== 'string' || !DECIMAL.test(s))
    throw new RangeError(`${what} must be a non-negative decimal string: ${String(s)}`)
  return new D(s)
}

const fen = (b: Big) => b.round(2, Big.roundHalfUp)

/**
 * Tax on one line of dutiable value `value` (DOMAIN §5 "Tax"):
 * - duty = value × duty rate, only when `fullRate` (0% within the limits);
 * - CT = (value + duty) / (1 − ct) × ct — the price is CT-exclusive, so CT is grossed up;
 * - VAT = (value + duty + CT) × vat;
 * - within the limits (`fullRate` false) each of CT and VAT is then × 0.7.
 *
 * Rounding (half-up to the fen, DOMAIN [L]): each tax is first computed at the full rate and rounded to the
 * fen, as customs computes tax amounts; VAT's base uses that rounded full-rate CT; the 70% share is then
 * taken of the rounded amount and rounded again. This is DOMAIN's worked example read literally
 * ("176.47 → × 0.7 = 123.53; 1176.47 × 0.13 = 152.94 → × 0.7 = 107.06"). Note that the combined rate
 * `(CT + VAT)/(1 − CT) × 70%` is what this amounts to; `(VAT + CT) × 70%` would be wrong.
 *
 * @throws RangeError when `value` or a rate is not a non-negative decimal string, or CT ≥ 1.
 */
export function lineTax(value: string, rate: TaxRate, opts: { fullRate: boolean }): LineTax {
  const v = decimal(value, 'value')
  const vatRate = decimal(rate.vat, 'vat rate')
  const ctRate = decimal(rate.consumption, 'consumption rate')
  if (ctRate.gte(1)) throw new RangeError(`consumption rate must be below 1: ${rate.consumption}`)
  const dutyRate = decimal(rate.duty ?? '0', 'duty rate')

  const duty = opts.fullRate ? fen(v.times(dutyRate)) : new D(0)
  const base = v.plus(duty)
  const ctFull = ctRate.eq(0) ? new D(0) : fen(base.times(ctRate).div(new D(1).minus(ctRate)))
  const vatFull = fen(base.plus(ctFull).times(vatRate))
  const share = new D(CBEC_TAX_SHARE)
  const ct = opts.fullRate ? ctFull : fen(ctFull.times(share))
  const vat = opts.fullRate ? vatFull : fen(vatFull.times(share))
  return {
    value,
    duty: duty.toFixed(2),
    consumption: ct.toFixed(2),
    vat: vat.toFixed(2),
    total: duty.plus(ct).plus(vat).toFixed(2),
  }
}

/** Parses a non-negative decimal string into an integer and its number of decimals. */
function scaled(s: string): { n: bigint; dp: number } {
  const [i, f = ''] = s.split('.')
  return { n: BigInt(`${i}${f}`), dp: f.length }
}

/**
 * Splits `amount` (rounded half-up to the fen first) into fen shares proportional to `weights`, so that
 * the shares add up to the amount exactly (largest-remainder method): each share is first floored to the
 * fen; the fen left over go one each to the lines with the largest remainders, ties to the earlier line.
 * All-zero weights (e.g. only gifts) split the amount equally by the same method.
 *
 * @throws RangeError when the amount or a weight is not a non-negative decimal string.
 */
export function apportion(amount: string, weights: string[]): string[] {
  const totalFen = BigInt(fen(decimal(amount, 'amount')).times(100).toFixed(0))
  if (weights.length === 0) return []
  const parsed = weights.map((w, i) => scaled(decimal(w, `weight ${i}`).toFixed()))
  const dp = Math.max(...parsed.map((p) => p.dp))
  let ws = parsed.map((p) => p.n * 10n ** BigInt(dp - p.dp))
  let sum = ws.reduce((a, b) => a + b, 0n)
  if (sum === 0n) {
    ws = ws.map(() => 1n)
    sum = BigInt(ws.length)
  }
  // Exact integer arithmetic: floor and remainder of totalFen × w / Σw, no rounding anywhere.
  const shares = ws.map((w) => (totalFen * w) / sum)
  const rems = ws.map((w, i) => ({ i, r: (totalFen * w) % sum }))
  let left = totalFen - shares.reduce((a, b) => a + b, 0n)
  rems.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1))
  for (const { i } of rems) {
    if (left === 0n) break
    shares[i] = shares[i]! + 1n
    left -= 1n
  }
  return shares.map((s) => new D(s.toString()).div(100).toFixed(2))
}

/** A line to tax: its commodity code and goods value (e.g. InventoryList `gcode`, `totalPrice`). */
export interface TaxLineInput {
  /** Line number, passed through (InventoryList `gnum`). */
  gnum?: string
  gcode: string
  /** Goods value of the line, CNY. */
  value: string
}

/** One taxed line: goods value, its share of freight and insurance, and the taxes on their sum. */
export interface OrderTaxLine extends LineTax {
  gnum?: string
  gcode: string
  rate: TaxRate
  goodsValue: string
  /** Freight + insurance apportioned to this line, to the fen. */
  share: string
}

/** Tax of a whole transaction: the sum of its lines, each taxed and rounded on its own. */
export interface OrderTax {
  lines: OrderTaxLine[]
  /** Σ goods + freight + insurance (the basis of the limits, DOMAIN §5 "Limits"). */
  dutiableValue: string
  duty: string
  consumption: string
  vat: string
  /** What `taxTotal` of the order must equal. */
  total: string
  fullRate: boolean
}

/**
 * Tax of a transaction. The dutiable value of each line is its goods value plus a share of
 * `freight + insuredFee` proportional to the goods value ({@link apportion}: shares are whole fen and add up
 * to freight + insurance exactly, so Σ dutiable values = goods + freight + insurance to the fen). Each line
 * is taxed with its own rates ({@link lineTax}) and the order totals are the sums of the rounded line
 * amounts, as on the customs tax bill (CEB816 TaxListRd per `gnum`, TaxHeadRd the totals).
 *
 * @throws RangeError when an amount or rate is not a non-negative decimal string.
 */
export function orderTax(
  lines: TaxLineInput[],
  freight: string,
  insuredFee: string,
  rates: TaxRates,
  opts: { fullRate: boolean },
): OrderTax {
  const extra = decimal(freight, 'freight').plus(decimal(insuredFee, 'insuredFee'))
  const shares = apportion(
    extra.toFixed(),
    lines.map((l) => l.value),
  )
  let dutiable = new D(0)
  let duty = new D(0)
  let ct = new D(0)
  let vat = new D(0)
  const out = lines.map((l, i): OrderTaxLine => {
    const share = shares[i]!
    const value = decimal(l.value, `line ${i} value`).plus(share)
    const rate = rates(l.gcode)
    const t = lineTax(value.toFixed(), rate, opts)
    dutiable = dutiable.plus(value)
    duty = duty.plus(t.duty)
    ct = ct.plus(t.consumption)
    vat = vat.plus(t.vat)
    return { ...(l.gnum === undefined ? {} : { gnum: l.gnum }), gcode: l.gcode, rate, goodsValue: l.value, share, ...t }
  })
  return {
    lines: out,
    dutiableValue: dutiable.toFixed(),
    duty: duty.toFixed(2),
    consumption: ct.toFixed(2),
    vat: vat.toFixed(2),
    total: duty.plus(ct).plus(vat).toFixed(2),
    fullRate: opts.fullRate,
  }
}
