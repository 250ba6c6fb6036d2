import { describe, expect, it } from 'vitest'
import { loadReference } from '../reference/data.js'
import {
  chinaDate,
  districtCovers,
  effectiveState,
  entrustmentFor,
  scopeMiss,
  termsProblems,
  type DeclarationFacts,
  type Scope,
} from './service.js'

const scope = (s: Partial<Scope> = {}): Scope => ({
  validFrom: '2026-05-01',
  validTo: '2026-05-31',
  tradeModes: null,
  customsDistricts: null,
  ieFlag: null,
  ...s,
})
const facts = (f: Partial<DeclarationFacts> = {}): DeclarationFacts => ({
  date: '2026-05-11',
  tradeMode: '0110',
  customsDistrict: '5301',
  ieFlag: 'I',
  ...f,
})

describe('chinaDate', () => {
  it('turns over at 16:00 UTC (midnight in China, UTC+8, no DST)', () => {
    expect(chinaDate(new Date('2026-05-10T15:59:59.999Z'))).toBe('2026-05-10')
    expect(chinaDate(new Date('2026-05-10T16:00:00.000Z'))).toBe('2026-05-11')
    expect(chinaDate(new Date('2026-12-31T16:00:00.000Z'))).toBe('2027-01-01')
  })
})

describe('districtCovers', () => {
  it('covers the same code', () => {
    expect(districtCovers('5301', '5301')).toBe(true)
  })
  it('a district code (NN00) covers every office under it and itself', () => {
    expect(districtCovers('5300', '5301')).toBe(true)
    expect(districtCovers('5300', '5345')).toBe(true)
    expect(districtCovers('5300', '5300')).toBe(true)
  })
  it('an office covers neither its district nor a sibling office; a district covers no other district', () => {
    expect(districtCovers('5301', '5300')).toBe(false)
    expect(districtCovers('5301', '5302')).toBe(false)
    expect(districtCovers('5300', '5400')).toBe(false)
    expect(districtCovers('5300', '3104')).toBe(false)
    // 5310 ends in 0 but not 00: an office, exact only.
    expect(districtCovers('5310', '5311')).toBe(false)
  })
})

describe('scopeMiss', () => {
  it('covers both ends of the period and refuses the day outside each end', () => {
    expect(scopeMiss(scope(), facts({ date: '2026-05-01' }))).toBeNull()
    expect(scopeMiss(scope(), facts({ date: '2026-05-31' }))).toBeNull()
    expect(scopeMiss(scope(), facts({ date: '2026-04-30' }))).toBe('NOT_YET_VALID')
    expect(scopeMiss(scope(), facts({ date: '2026-06-01' }))).toBe('EXPIRED')
  })
  it('a one-day period covers that day only', () => {
    const s = scope({ validFrom: '2026-05-11', validTo: '2026-05-11' })
    expect(scopeMiss(s, facts())).toBeNull()
    expect(scopeMiss(s, facts({ date: '2026-05-10' }))).toBe('NOT_YET_VALID')
    expect(scopeMiss(s, facts({ date: '2026-05-12' }))).toBe('EXPIRED')
  })
  it('matches listed trade modes exactly; null (ALL) covers any', () => {
    expect(scopeMiss(scope({ tradeModes: ['0110', '0615'] }), facts({ tradeMode: '0615' }))).toBeNull()
    expect(scopeMiss(scope({ tradeModes: ['0110', '0615'] }), facts({ tradeMode: '0715' }))).toBe('TRADE_MODE')
    expect(scopeMiss(scope({ tradeModes: null }), facts({ tradeMode: '9610' }))).toBeNull()
  })
  it('matches districts by districtCovers; null (ALL) covers any', () => {
    expect(scopeMiss(scope({ customsDistricts: ['2200', '5300'] }), facts({ customsDistrict: '5345' }))).toBeNull()
    expect(scopeMiss(scope({ customsDistricts: ['2200', '5302'] }), facts({ customsDistrict: '5301' }))).toBe(
      'CUSTOMS_DISTRICT',
    )
    expect(scopeMiss(scope({ customsDistricts: null }), facts({ customsDistrict: '0101' }))).toBeNull()
  })
  it('matches the I/E flag when scoped; null covers both', () => {
    expect(scopeMiss(scope({ ieFlag: 'E' }), facts({ ieFlag: 'I' }))).toBe('IE_FLAG')
    expect(scopeMiss(scope({ ieFlag: 'E' }), facts({ ieFlag: 'E' }))).toBeNull()
    expect(scopeMiss(scope({ ieFlag: null }), facts({ ieFlag: 'E' }))).toBeNull()
  })
  it('reports the date before the scope', () => {
    expect(scopeMiss(scope({ tradeModes: ['0615'] }), facts({ date: '2026-04-01' }))).toBe('NOT_YET_VALID')
  })
})

describe('effectiveState', () => {
  it('PROPOSED and ACTIVE expire the day after validTo; DECLINED and REVOKED stay', () => {
    expect(effectiveState('ACTIVE', '2026-05-11', '2026-05-11')).toBe('ACTIVE')
    expect(effectiveState('ACTIVE', '2026-05-11', '2026-05-12')).toBe('EXPIRED')
    expect(effectiveState('PROPOSED', '2026-05-11', '2026-05-12')).toBe('EXPIRED')
    expect(effectiveState('REVOKED', '2026-05-11', '2026-05-12')).toBe('REVOKED')
    expect(effectiveState('DECLINED', '2026-05-11', '2026-05-12')).toBe('DECLINED')
  })
})

describe('entrustmentFor', () => {
  const e = (id: string, s: Partial<Scope>) => ({
    id,
    traderCode: 'T000000001',
    declarantCode: 'D000000001',
    ...scope(s),
  })
  it("picks an entrustment that covers, whichever of the pair's entrustments it is", () => {
    const index = new Map([
      ['T000000001/D000000001', [e('a', { tradeModes: ['0615'] }), e('b', { tradeModes: ['0110'] })]],
    ])
    expect(entrustmentFor(index, 'T000000001', 'D000000001', facts())).toEqual({ id: 'b' })
  })
  it('refuses with ENTRUSTMENT_REQUIRED at /body/traderCode, saying why', () => {
    const index = new Map([['T000000001/D000000001', [e('a', { tradeModes: ['0615'] })]]])
    const r = entrustmentFor(index, 'T000000001', 'D000000001', facts())
    expect(r).toEqual({
      error: {
        code: 'ENTRUSTMENT_REQUIRED',
        pointer: '/body/traderCode',
        message: expect.stringMatching(/does not cover trade mode 0110/),
      },
    })
    const none = entrustmentFor(index, 'T000000002', 'D000000001', facts())
    expect(none).toEqual({
      error: expect.objectContaining({
        code: 'ENTRUSTMENT_REQUIRED',
        message: expect.stringMatching(/no active entrustment/),
      }),
    })
  })
  it('is directional: the trader entrusts the declarant, not the other way round', () => {
    const index = new Map([['T000000001/D000000001', [e('a', {})]]])
    expect(entrustmentFor(index, 'D000000001', 'T000000001', facts())).toHaveProperty('error')
  })
})

describe('termsProblems', () => {
  const ref = loadReference()
  const terms = {
    clientRef: 'E1',
    traderCode: 'T000000001',
    declarantCode: 'D000000001',
    validFrom: '2026-05-11',
    validTo: '2026-05-11',
    tradeModes: 'ALL' as const,
    customsDistricts: 'ALL' as const,
  }
  it('accepts a period ending today and refuses one that ended yesterday', () => {
    expect(termsProblems(terms, ref, '2026-05-11')).toEqual([])
    expect(termsProblems(terms, ref, '2026-05-12')).toEqual([
      expect.objectContaining({ code: 'ENTRUSTMENT_BAD_PERIOD', pointer: '/body/validTo' }),
    ])
  })
  it('refuses validTo before validFrom', () => {
    expect(termsProblems({ ...terms, validFrom: '2026-05-12' }, ref, '2026-05-01')).toEqual([
      expect.objectContaining({ code: 'ENTRUSTMENT_BAD_PERIOD', pointer: '/body/validTo' }),
    ])
  })
  it('points at each unknown trade mode', () => {
    expect(termsProblems({ ...terms, tradeModes: ['0110', '0999'] }, ref, '2026-05-11')).toEqual([
      expect.objectContaining({ code: 'REFERENCE_UNKNOWN_TRADE_MODE', pointer: '/body/tradeModes/1' }),
    ])
  })
})
