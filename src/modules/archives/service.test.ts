import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { addYears, isDue, printSerial, retainUntil, retentionOf, selfServiceRefusal } from './service.js'
import type { RetentionRule } from './schema.js'

// The default table of migration 0004, abridged to one rule of each kind.
const RULES: RetentionRule[] = [
  { kind: 'TRADE_MODE', value: '0320', years: 11, basis: 'no-price equipment' },
  { kind: 'TRADE_MODE', value: '2025', years: 11, basis: 'investment equipment' },
  { kind: 'MANUAL_PREFIX', value: 'Z', years: 11, basis: 'exemption certificate' },
  { kind: 'CUT_MODE', value: '789', years: 11, basis: 'exempting levy nature' },
  { kind: 'TRADE_MODE', value: '0615', years: 5, basis: 'processing trade' },
  { kind: 'TRADE_MODE', value: '0214', years: 5, basis: 'processing trade' },
  { kind: 'DEFAULT', value: '*', years: 3, basis: 'all others' },
]

describe('retention classes', () => {
  it('11 years for reduction/exemption and no-price equipment, whatever else applies', () => {
    expect(retentionOf(RULES, { tradeMode: '0320' })).toEqual({
      years: 11,
      basis: 'no-price equipment (TRADE_MODE 0320)',
    })
    expect(retentionOf(RULES, { tradeMode: '0110', manualNo: 'Z53012600001' }).years).toBe(11)
    expect(retentionOf(RULES, { tradeMode: '0110', cutMode: '789' }).years).toBe(11)
    // Exempt equipment imported under a processing-trade mode keeps the longer period.
    expect(retentionOf(RULES, { tradeMode: '0615', manualNo: 'Z53012600001' }).years).toBe(11)
  })

  it('5 years for other processing trade, 3 for all others', () => {
    expect(retentionOf(RULES, { tradeMode: '0615', manualNo: 'C53012600001' })).toEqual({
      years: 5,
      basis: 'processing trade (TRADE_MODE 0615)',
    })
    expect(retentionOf(RULES, { tradeMode: '0214' }).years).toBe(5)
    expect(retentionOf(RULES, { tradeMode: '0110', cutMode: '101' })).toEqual({
      years: 3,
      basis: 'all others (default)',
    })
    expect(retentionOf(RULES, { tradeMode: '9610' }).years).toBe(3)
  })

  it('needs a DEFAULT rule', () => {
    expect(() =>
      retentionOf(
        RULES.filter((r) => r.kind !== 'DEFAULT'),
        { tradeMode: '0110' },
      ),
    ).toThrow(/DEFAULT/)
  })
})

describe('retention end', () => {
  it('is the China date of clearance plus the years; 29 February ends on 28 February', () => {
    expect(retainUntil('2026-05-11T01:00:00Z', 3)).toBe('2029-05-11')
    // 23:30 UTC on 10 May is 07:30 on 11 May in China.
    expect(retainUntil('2026-05-10T23:30:00Z', 3)).toBe('2029-05-11')
    expect(retainUntil('2026-05-10T15:59:59Z', 3)).toBe('2029-05-10')
    expect(addYears('2028-02-29', 3)).toBe('2031-02-28')
    expect(addYears('2028-02-29', 4)).toBe('2032-02-29')
    expect(addYears('2027-12-31', 11)).toBe('2038-12-31')
  })

  it('is due from the day after, never on it or before', () => {
    expect(isDue('2029-05-11', '2029-05-10')).toBe(false)
    expect(isDue('2029-05-11', '2029-05-11')).toBe(false)
    expect(isDue('2029-05-11', '2029-05-12')).toBe(true)
  })

  test.prop([
    fc.date({ min: new Date('2000-01-01'), max: new Date('2090-12-31'), noInvalidDate: true }),
    fc.integer({ min: 1, max: 20 }),
  ])('is never less than the years after clearance (China date)', (clearedAt, years) => {
    const end = retainUntil(clearedAt, years)
    const start = new Date(clearedAt.getTime() + 8 * 3600_000).toISOString().slice(0, 10)
    expect(Number(end.slice(0, 4)) - Number(start.slice(0, 4))).toBe(years)
    expect(end.slice(5) <= start.slice(5)).toBe(true)
    expect(isDue(end, start)).toBe(false)
  })
})

describe('self-service eligibility', () => {
  it('refuses dishonest enterprises (both tiers) and unreachable ones, with the reason', () => {
    expect(selfServiceRefusal({ creditLevel: 'REGULAR', reachable: true })).toBeUndefined()
    expect(selfServiceRefusal({ creditLevel: 'ADVANCED_CERTIFIED', reachable: true })).toBeUndefined()
    expect(selfServiceRefusal({ creditLevel: 'DISHONEST', reachable: true })).toMatchObject({
      code: 'ARCHIVE_SELF_SERVICE_DISHONEST',
      message: expect.stringContaining('失信'),
    })
    expect(selfServiceRefusal({ creditLevel: 'SERIOUSLY_DISHONEST', reachable: true })?.code).toBe(
      'ARCHIVE_SELF_SERVICE_DISHONEST',
    )
    expect(selfServiceRefusal({ creditLevel: 'REGULAR', reachable: false })).toMatchObject({
      code: 'ARCHIVE_SELF_SERVICE_UNREACHABLE',
    })
  })

  it('serials printouts by district and China year', () => {
    expect(printSerial('5301', new Date('2029-05-11T00:00:00Z'), 12)).toBe('53012029P000000012')
  })
})
