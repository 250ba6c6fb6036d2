import { fc, test } from '@fast-check/vitest'
import Big from 'big.js'
import { describe, expect, it } from 'vitest'
import {
  apportion,
  DEFAULT_TAX_RATES,
  DEFAULT_TAX_TABLE,
  lineTax,
  orderTax,
  taxRatesFrom,
  type TaxRate,
  type TaxTable,
} from './tax.js'

const GENERAL: TaxRate = { vat: '0.13', consumption: '0' }
const COSMETICS: TaxRate = { vat: '0.13', consumption: '0.15' }
const within = { fullRate: false }
const full = { fullRate: true }

/** A money amount in fen, as a decimal string with 0–2 decimals (so '1', '1.5' and '1.50' all occur). */
const money = fc
  .integer({ min: 0, max: 10_000_000 })
  .chain((f) => fc.constantFrom(new Big(f).div(100).toFixed(2), new Big(f).div(100).toString()))
const rate = fc.record({
  vat: fc.constantFrom('0', '0.06', '0.09', '0.13'),
  consumption: fc.constantFrom('0', '0.05', '0.1', '0.15', '0.2', '0.3'),
  duty: fc.constantFrom('0', '0.05', '0.1', '0.2'),
})
const fenOf = (s: string) => new Big(s).times(100)

describe('lineTax: the DOMAIN §5 "Tax" table', () => {
  it('VAT 13%, no CT: (398 + 10) × 9.1% = 37.128 → 37.13', () => {
    expect(lineTax('408', GENERAL, within)).toEqual({
      value: '408',
      duty: '0.00',
      consumption: '0.00',
      vat: '37.13',
      total: '37.13',
    })
    // and so acturalPaid = 398 + 10 + 37.13 = 445.13 (the fixture)
    expect(
      new Big('398.00')
        .plus('10.00')
        .plus(lineTax('408.00', GENERAL, within).total)
        .toFixed(2),
    ).toBe('445.13')
  })

  it('VAT 9%: 6.3%', () => {
    expect(lineTax('1000', { vat: '0.09', consumption: '0' }, within).total).toBe('63.00')
  })

  it('cosmetics, CT 15%, VAT 13%, on ¥1,000: CT 123.53, VAT 107.06, total 230.59 (23.06%)', () => {
    expect(lineTax('1000', COSMETICS, within)).toEqual({
      value: '1000',
      duty: '0.00',
      consumption: '123.53',
      vat: '107.06',
      total: '230.59',
    })
  })

  it('one indivisible item of ¥6,000, full tax, illustrative duty 10%: duty 600, VAT 858, total 1,458', () => {
    expect(lineTax('6000', { ...GENERAL, duty: '0.1' }, full)).toEqual({
      value: '6000',
      duty: '600.00',
      consumption: '0.00',
      vat: '858.00',
      total: '1458.00',
    })
  })

  it('the same cosmetics in full: CT 176.47, VAT 152.94', () => {
    expect(lineTax('1000', COSMETICS, full)).toMatchObject({ consumption: '176.47', vat: '152.94', total: '329.41' })
  })

  it('ignores the duty rate within the limits (duty 0%)', () => {
    expect(lineTax('408', { ...GENERAL, duty: '0.2' }, within).duty).toBe('0.00')
  })

  it('rounds half-up to the fen', () => {
    // 0.5 × 0.13 = 0.065 → 0.07 full; × 0.7 = 0.049 → 0.05.
    expect(lineTax('0.5', GENERAL, full).vat).toBe('0.07')
    expect(lineTax('0.5', GENERAL, within).vat).toBe('0.05')
    // 50 × 0.13 × 0.7 = 4.55 exactly: half-up gives 4.55, no float drift (4.55 is 4.549999… as a double).
    expect(lineTax('50', GENERAL, within).vat).toBe('4.55')
  })

  it('refuses malformed amounts and a CT rate of 100% or more', () => {
    expect(() => lineTax('1e3', GENERAL, within)).toThrow(RangeError)
    expect(() => lineTax('-1', GENERAL, within)).toThrow(RangeError)
    expect(() => lineTax('1', { vat: '0.13', consumption: '1' }, within)).toThrow(RangeError)
    expect(() => lineTax('1', { vat: '13%', consumption: '0' }, within)).toThrow(RangeError)
  })

  test.prop([money, rate])(
    'within the limits each tax is the rounded 70% of the rounded full tax, and duty is 0',
    (v, r) => {
      const f = lineTax(v, r, full)
      const w = lineTax(v, r, within)
      expect(w.duty).toBe('0.00')
      // Within the limits duty is 0, so compare with the full computation without duty.
      const f0 = lineTax(v, { ...r, duty: '0' }, full)
      expect(w.consumption).toBe(new Big(f0.consumption).times('0.7').round(2, Big.roundHalfUp).toFixed(2))
      expect(w.vat).toBe(new Big(f0.vat).times('0.7').round(2, Big.roundHalfUp).toFixed(2))
      expect(new Big(f.total).gte(w.total)).toBe(true)
      expect(new Big(w.total).eq(new Big(w.duty).plus(w.consumption).plus(w.vat))).toBe(true)
      for (const x of [f.duty, f.consumption, f.vat, w.consumption, w.vat]) expect(x).toMatch(/^\d+\.\d{2}$/)
    },
  )

  test.prop([money, rate])('each full-rate tax is within half a fen of the exact formula', (v, r) => {
    const t = lineTax(v, r, full)
    const V = new Big(v)
    const duty = V.times(r.duty)
    expect(duty.minus(t.duty).abs().lte('0.005')).toBe(true)
    const ct = V.plus(t.duty).times(r.consumption).div(new Big(1).minus(r.consumption))
    expect(ct.minus(t.consumption).abs().lte('0.005')).toBe(true)
    const vat = V.plus(t.duty).plus(t.consumption).times(r.vat)
    expect(vat.minus(t.vat).abs().lte('0.005')).toBe(true)
  })
})

describe('default rate table', () => {
  it('infant formula 1901 is VAT 13%, no CT (the fixture)', () => {
    expect(DEFAULT_TAX_RATES('1901101000')).toEqual({ vat: '0.13', consumption: '0', duty: '0' })
  })

  it('cosmetics 3304 and perfume 3303 carry CT 15%; jewellery 7113 10%', () => {
    expect(DEFAULT_TAX_RATES('3304990000')).toMatchObject({ vat: '0.13', consumption: '0.15' })
    expect(DEFAULT_TAX_RATES('3303000000')).toMatchObject({ consumption: '0.15' })
    expect(DEFAULT_TAX_RATES('7113191000')).toMatchObject({ consumption: '0.1' })
  })

  it('cereals, flours, edible vegetable oils and books are VAT 9%', () => {
    for (const g of ['1006309000', '1101000001', '1509201000', '4901990000', '0805100000'])
      expect(DEFAULT_TAX_RATES(g).vat).toBe('0.09')
    // Starch (1108) is not a flour: 13%.
    expect(DEFAULT_TAX_RATES('1108130000').vat).toBe('0.13')
  })

  it('unknown or garbage codes get the defaults without throwing', () => {
    expect(DEFAULT_TAX_RATES('')).toEqual({ vat: '0.13', consumption: '0', duty: '0' })
    expect(DEFAULT_TAX_RATES('not a code')).toEqual({ vat: '0.13', consumption: '0', duty: '0' })
  })

  it('is frozen; a custom table is used longest prefix first', () => {
    expect(Object.isFrozen(DEFAULT_TAX_TABLE.vat.entries)).toBe(true)
    const table: TaxTable = {
      vat: {
        default: '0.13',
        entries: [
          { prefix: '33', rate: '0.09', note: 't' },
          { prefix: '3304', rate: '0.06', note: 't' },
        ],
      },
      consumption: { default: '0', entries: [] },
      duty: { default: '0.05', entries: [{ prefix: '3304', rate: '0.1', note: 't' }] },
    }
    const r = taxRatesFrom(table)
    expect(r('3304990000')).toEqual({ vat: '0.06', consumption: '0', duty: '0.1' })
    expect(r('3303000000')).toEqual({ vat: '0.09', consumption: '0', duty: '0.05' })
  })

  it('refuses a table with a malformed rate or a CT of 100%', () => {
    const bad = (patch: Partial<TaxTable>) => () => taxRatesFrom({ ...DEFAULT_TAX_TABLE, ...patch })
    expect(bad({ vat: { default: '13%', entries: [] } })).toThrow(RangeError)
    expect(bad({ consumption: { default: '0', entries: [{ prefix: '33', rate: '1', note: '' }] } })).toThrow(RangeError)
  })
})

describe('apportion', () => {
  it('splits by value share in whole fen that add up exactly, leftovers to the largest remainders', () => {
    expect(apportion('10', ['1', '1', '1'])).toEqual(['3.34', '3.33', '3.33'])
    expect(apportion('0.01', ['1', '2'])).toEqual(['0.00', '0.01'])
    expect(apportion('10.00', ['398.00'])).toEqual(['10.00'])
    expect(apportion('10', ['0', '0'])).toEqual(['5.00', '5.00'])
    expect(apportion('0', ['1', '2'])).toEqual(['0.00', '0.00'])
    expect(apportion('5', [])).toEqual([])
  })

  test.prop([money, fc.array(money, { minLength: 1, maxLength: 12 })])(
    'shares are whole fen, add up to the amount and are within a fen of the exact share',
    (amount, weights) => {
      const shares = apportion(amount, weights)
      expect(shares).toHaveLength(weights.length)
      const sum = shares.reduce((a, s) => a.plus(s), new Big(0))
      expect(sum.eq(amount)).toBe(true)
      const W = weights.reduce((a, w) => a.plus(w), new Big(0))
      shares.forEach((s, i) => {
        expect(s).toMatch(/^\d+\.\d{2}$/)
        const exact = W.eq(0) ? fenOf(amount).div(weights.length) : fenOf(amount).times(weights[i]!).div(W)
        expect(fenOf(s).minus(exact).abs().lt(1)).toBe(true)
      })
    },
  )
})

describe('orderTax', () => {
  it('the fixture order: one line 398.00 + freight 10.00 → 37.13', () => {
    const t = orderTax([{ gnum: '1', gcode: '1901101000', value: '398.00' }], '10.00', '0', DEFAULT_TAX_RATES, within)
    expect(t).toMatchObject({
      dutiableValue: '408',
      total: '37.13',
      vat: '37.13',
      consumption: '0.00',
      duty: '0.00',
      fullRate: false,
    })
    expect(t.lines).toEqual([
      expect.objectContaining({ gnum: '1', goodsValue: '398.00', share: '10.00', vat: '37.13' }),
    ])
  })

  it('mixed lines: each line is taxed with its own rates and rounded, the total is the sum', () => {
    const t = orderTax(
      [
        { gcode: '3304990000', value: '600' },
        { gcode: '1901101000', value: '400' },
      ],
      '10',
      '0',
      DEFAULT_TAX_RATES,
      within,
    )
    expect(t.lines.map((l) => l.share)).toEqual(['6.00', '4.00'])
    // By hand (DOMAIN §5: each tax at the full rate, rounded to the fen, then × 0.7 and rounded again; VAT's base
    // includes the rounded full CT). Freight 10 split by value: 6.00 and 4.00, so dutiable 606 and 404.
    //   cosmetics 606: CT = 606 × 0.15 / (1 − 0.15) = 106.941… → 106.94; × 0.7 = 74.858 → 74.86
    //                  VAT = (606 + 106.94) × 0.13 = 92.6822 → 92.68; × 0.7 = 64.876 → 64.88;   line 139.74
    //   formula 404:   VAT = 404 × 0.13 = 52.52; × 0.7 = 36.764 → 36.76;                      line 36.76
    //   total 139.74 + 36.76 = 176.50
    expect(t.lines[0]).toMatchObject({ duty: '0.00', consumption: '74.86', vat: '64.88', total: '139.74' })
    expect(t.lines[1]).toMatchObject({ duty: '0.00', consumption: '0.00', vat: '36.76', total: '36.76' })
    expect(t).toMatchObject({
      dutiableValue: '1010',
      duty: '0.00',
      consumption: '74.86',
      vat: '101.64',
      total: '176.50',
    })
  })

  it('cosmetics on the fixture order, by hand: 408 × (0.15 + 0.13) / (1 − 0.15) × 0.7 = 94.08', () => {
    // CT = 408 × 0.15 / 0.85 = 72.00; × 0.7 = 50.40.  VAT = (408 + 72) × 0.13 = 62.40; × 0.7 = 43.68.  Total 94.08,
    // the 23.06 % of DOMAIN's table on 408 (408 × 0.230588… = 94.08).
    expect(
      orderTax([{ gnum: '1', gcode: '3304990000', value: '398.00' }], '10.00', '0', DEFAULT_TAX_RATES, within),
    ).toMatchObject({ dutiableValue: '408', duty: '0.00', consumption: '50.40', vat: '43.68', total: '94.08' })
  })

  it('the indivisible ¥6,000 item in full with the duty from the rates', () => {
    const rates = () => ({ vat: '0.13', consumption: '0', duty: '0.1' })
    expect(orderTax([{ gcode: '8471300000', value: '5990' }], '10', '0', rates, full)).toMatchObject({
      dutiableValue: '6000',
      duty: '600.00',
      vat: '858.00',
      total: '1458.00',
      fullRate: true,
    })
  })

  test.prop([
    fc.array(fc.tuple(money, fc.constantFrom('1901101000', '3304990000', '1509201000')), {
      minLength: 1,
      maxLength: 8,
    }),
    money,
    money,
    fc.boolean(),
  ])(
    'Σ dutiable values = goods + freight + insurance and the totals are the sums of the lines, to the fen',
    (lines, freight, insured, fullRate) => {
      const t = orderTax(
        lines.map(([value, gcode]) => ({ gcode, value })),
        freight,
        insured,
        DEFAULT_TAX_RATES,
        { fullRate },
      )
      const goods = lines.reduce((a, [v]) => a.plus(v), new Big(0))
      expect(new Big(t.dutiableValue).eq(goods.plus(freight).plus(insured))).toBe(true)
      const sum = (k: 'duty' | 'consumption' | 'vat' | 'total') => t.lines.reduce((a, l) => a.plus(l[k]), new Big(0))
      for (const k of ['duty', 'consumption', 'vat', 'total'] as const) expect(sum(k).eq(t[k])).toBe(true)
      expect(new Big(t.total).eq(new Big(t.duty).plus(t.consumption).plus(t.vat))).toBe(true)
    },
  )
})
