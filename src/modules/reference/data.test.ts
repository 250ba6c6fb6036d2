import { fc, test } from '@fast-check/vitest'
import countries from 'i18n-iso-countries'
import { describe, expect, it } from 'vitest'
import { loadReference, type HsSearchHit } from './data.js'

const ref = loadReference()
const everything = (): HsSearchHit[] => [...'0123456789'].flatMap((d) => ref.searchHs(d, Infinity))

describe('loadReference', () => {
  it('loads every table', () => {
    expect(ref.counts).toEqual({
      // The source's 97 / 1,229 / 5,613 include UN Comtrade's pseudo-codes 99, 9999 and 999999, which are no HS.
      hsChapters: 96,
      hsHeadings: 1228,
      hsSubheadings: 5612,
      tariffLines: 8957,
      unitFallbacks: 0,
      countries: 270,
      countriesWithChinaCode: 243,
      countriesWithIso: 249,
      currencies: 179,
      tradeModes: 59,
      transportModes: 18,
      transactionTerms: 7,
      units: 126,
      customsOffices: 25,
    })
  })

  it('is cached and immutable', () => {
    expect(loadReference()).toBe(ref)
    expect(Object.isFrozen(ref)).toBe(true)
    expect(Object.isFrozen(ref.hs('0101'))).toBe(true)
    expect(Object.isFrozen(ref.list('countries'))).toBe(true)
  })
})

describe('HS headings and tariff lines', () => {
  it('links headings to their parent and section', () => {
    expect(ref.hs('01')).toEqual({ code: '01', level: 2, description: 'Animals; live', parent: null, section: 'I' })
    expect(ref.hs('0101')).toMatchObject({ level: 4, parent: '01', section: 'I' })
    expect(ref.hs('847130')).toMatchObject({ level: 6, parent: '8471', section: 'XVI' })
    expect(ref.hs('TOTAL')).toBeUndefined()
    expect(ref.hs('99')).toBeUndefined()
    expect(ref.hs('9999')).toBeUndefined()
    expect(ref.hs('999999')).toBeUndefined()
  })

  it('joins quoted line breaks in names', () => {
    expect(ref.tariffLine('30069300')?.nameEn).toBe(
      'Placebos and blinded (or double-blinded) clinical trial kits for a recognised clinical trial, put up in measured doses',
    )
    expect(ref.tariffLine('40159010')?.nameZh).toBe('硫化橡胶制医疗、外科、牙科或兽医用衣着用品及附件(不包括手套)')
  })

  it('keeps the unescaped quotes of the English file inside the name', () => {
    expect(ref.tariffLine('40117010')?.nameEn).toBe(
      'New rubber pneumatic tyres with "herring-bone", for agricultural/forestry vehicles and machines',
    )
    expect(ref.tariffLine('84807110')).toMatchObject({
      nameEn: '"Bladder" moulds for vulcanising tyres',
      nameZh: '硫化轮胎用囊式型模',
    })
  })

  it('maps statistical units to JGS-20 by Chinese name, not by code', () => {
    expect(ref.tariffLine('01012100')).toMatchObject({ unit1: '035', unit2: '009' }) // 千克, 头
    expect(ref.tariffLine('84021110')).toMatchObject({ unit1: '001', unit2: '035' }) // 台 (statistical 01)
    expect(ref.tariffLine('86011011')).toMatchObject({ unit1: '003' }) // 辆 (statistical 01)
    expect(ref.tariffLine('50071010')).toMatchObject({ unit1: '030' }) // 米
    expect(ref.tariffLine('22011010')).toMatchObject({ unit1: '095' }) // 升
    expect(ref.tariffLine('84807110')).toMatchObject({ unit1: '006', unit2: '035' }) // 套, 千克
    expect(ref.tariffLine('30069300')?.unit2).toBeNull()
  })

  it('uses only JGS-20 codes the unit table knows', () => {
    const lines = everything()
      .filter((h) => h.level === 8)
      .map((h) => ref.tariffLine(h.code)!)
    expect(lines).toHaveLength(8957)
    const unknown = lines.flatMap((l) => [l.unit1, l.unit2]).filter((u) => u !== null && !ref.unit(u))
    expect(unknown).toEqual([])
  })

  it('finds an HS6 heading for every tariff line except China national chapters 98 and 99', () => {
    const orphans = everything()
      .filter((h) => h.level === 8 && !ref.hs(h.code.slice(0, 6)))
      .map((h) => h.code)
    expect(orphans).toEqual([
      '98010010',
      '98010090',
      '98020010',
      '98020090',
      '98030040',
      '98030050',
      '98040000',
      '98050000',
      '99000000',
    ])
  })
})

describe('searchHs', () => {
  it('searches English words, all of which must match, case-insensitively', () => {
    const hits = ref.searchHs('HORSES live', 50)
    expect(hits[0]).toEqual({ code: '0101', level: 4, description: 'Horses, asses, mules and hinnies; live' })
    expect(hits.map((h) => h.code)).toContain('01012100')
    for (const h of hits)
      expect(`${h.description} ${h.descriptionZh ?? ''}`.toLowerCase()).toMatch(/horse[\s\S]*live|live[\s\S]*horse/)
  })

  it('searches Chinese names of tariff lines', () => {
    expect(ref.searchHs('改良种用马', 5)).toEqual([
      { code: '01012100', level: 8, description: 'Live pure-bred breeding horses', descriptionZh: '改良种用马' },
    ])
    const hits = ref.searchHs('种用 马', 20).map((h) => h.code)
    expect(hits).toEqual(expect.arrayContaining(['01012100', '01012900', '07011000']))
  })

  it('treats digits as a code prefix, ignoring dots and spaces, in tree order', () => {
    expect(ref.searchHs('0101.21', 10).map((h) => h.code)).toEqual(['010121', '01012100'])
    expect(ref.searchHs('01 01', 4).map((h) => [h.code, h.level])).toEqual([
      ['0101', 4],
      ['010121', 6],
      ['01012100', 8],
      ['010129', 6],
    ])
    const computers = ref.searchHs('8471', 100)
    expect(computers.length).toBeGreaterThan(10)
    for (const h of computers) expect(h.code.startsWith('8471')).toBe(true)
  })

  it('finds the tariff line of a 10-digit declaration code', () => {
    expect(ref.searchHs('0101210000', 5).map((h) => h.code)).toEqual(['01012100'])
  })

  it('honours the limit and returns nothing for blank queries', () => {
    expect(ref.searchHs('01', 3)).toHaveLength(3)
    expect(ref.searchHs('live', 0)).toEqual([])
    expect(ref.searchHs('   ', 10)).toEqual([])
    expect(ref.searchHs('zzzqqq', 10)).toEqual([])
  })

  test.prop([fc.string(), fc.integer({ min: -5, max: 200 })])('never throws and respects the limit', (q, limit) => {
    const hits = ref.searchHs(q, limit)
    expect(hits.length).toBeLessThanOrEqual(Math.max(0, limit))
  })

  test.prop([fc.string({ unit: 'binary' })])('never throws on arbitrary code points, lone surrogates included', (q) => {
    expect(Array.isArray(ref.searchHs(q, 20))).toBe(true)
  })

  test.prop([fc.stringMatching(/^\d{1,8}$/)])('returns only codes starting with a digit prefix', (prefix) => {
    for (const h of ref.searchHs(prefix, 100)) expect(h.code.startsWith(prefix)).toBe(true)
  })
})

describe('countries', () => {
  // DOMAIN.md §2: China's old customs codes are not ISO numeric (China is 156 there), and some tables get them wrong.
  const pinned: Array<[string, string, string]> = [
    ['142', 'CN', 'CHN'],
    ['110', 'HK', 'HKG'],
    ['116', 'JP', 'JPN'],
    ['133', 'KR', 'KOR'],
    ['303', 'GB', 'GBR'],
    ['304', 'DE', 'DEU'],
    ['305', 'FR', 'FRA'],
    ['344', 'RU', 'RUS'],
    ['502', 'US', 'USA'],
    ['601', 'AU', 'AUS'],
    ['609', 'NZ', 'NZL'],
  ]

  it.each(pinned)('maps China code %s to %s/%s and back', (chinaCode, iso2, iso3) => {
    expect(ref.countryByChinaCode(chinaCode)).toMatchObject({ iso2, iso3, chinaCode })
    expect(ref.countryByIso3(iso3)?.chinaCode).toBe(chinaCode)
    expect(ref.countryByIso2(iso2)?.chinaCode).toBe(chinaCode)
  })

  it('keeps China codes with no ISO country, with blank ISO codes', () => {
    expect(ref.countryByChinaCode('701')).toEqual({
      iso2: '',
      iso3: '',
      chinaCode: '701',
      nameEn: 'Countries (regions) unknown',
      nameZh: '国（地）别不详',
    })
    expect(ref.countryByChinaCode('199')?.iso3).toBe('')
    expect(ref.countryByIso3('')).toBeUndefined()
  })

  it('does not confuse China codes with ISO numeric codes', () => {
    expect(ref.countryByChinaCode('156')).toBeUndefined()
    expect(ref.countryByIso3('CHN')?.nameZh).toBe('中国')
  })

  it('strips the NUL byte before the name of code 349', () => {
    expect(ref.countryByChinaCode('349')?.nameEn).toBe('Serbia and Montenegro')
    expect(ref.list('countries').filter((c) => `${c.nameEn}${c.nameZh ?? ''}`.includes('\0'))).toEqual([])
  })

  it('validates every ISO 3166-1 alpha-3 code, including countries without a China code', () => {
    // Kosovo (XK/XKK) is a user-assigned code, not ISO 3166-1.
    const iso3 = Object.entries(countries.getAlpha3Codes())
      .filter(([, iso2]) => iso2 !== 'XK')
      .map(([code]) => code)
    expect(iso3).toHaveLength(249)
    expect(iso3.filter((c) => !ref.countryByIso3(c))).toEqual([])
    expect(ref.countryByIso3('GUM')).toMatchObject({ iso2: 'GU', chinaCode: null })
  })

  it('maps each ISO code to at most one China code', () => {
    const withIso = ref.list('countries').filter((c) => c.iso3)
    expect(new Set(withIso.map((c) => c.iso3)).size).toBe(withIso.length)
  })

  it('is case-sensitive, as declared codes must be', () => {
    expect(ref.countryByIso3('chn')).toBeUndefined()
  })
})

describe('code tables', () => {
  it('knows ISO 4217 currencies with their decimals', () => {
    expect(ref.currency('CNY')).toEqual({ code: 'CNY', name: 'Yuan Renminbi', digits: 2 })
    expect(ref.currency('JPY')?.digits).toBe(0)
    expect(ref.currency('142')).toBeUndefined()
  })

  it('knows trade modes, with Chinese names only where the source has them', () => {
    expect(ref.tradeMode('0110')).toEqual({ code: '0110', name: '一般贸易', nameEn: 'General trade' })
    expect(ref.tradeMode('1210')?.name).toBe('保税跨境贸易电子商务（网购保税进口）')
    expect(ref.tradeMode('1523')).toEqual({ code: '1523', name: 'Goods on Lease', nameEn: 'Goods on Lease' })
    expect(ref.tradeMode('0200')).toEqual({ code: '0200', name: '' })
    expect(ref.tradeMode('110')).toBeUndefined()
  })

  it('knows transport modes but not the query-only A', () => {
    expect(ref.transportMode('5')).toEqual({ code: '5', name: '航空运输', nameEn: 'Air' })
    expect(ref.transportMode('Y')?.name).toBe('保税港区')
    expect(ref.transportMode('A')).toBeUndefined()
  })

  it('knows transaction terms and JGS-20 units', () => {
    expect(ref.transactionTerms('1')).toEqual({ code: '1', name: 'CIF' })
    expect(ref.transactionTerms('8')).toBeUndefined()
    expect(ref.unit('035')).toEqual({ code: '035', name: '千克' })
    expect(ref.unit('122')?.name).toBe('罐')
    expect(ref.unit('35')).toBeUndefined()
  })

  it('lists every table', () => {
    expect(ref.list('tradeModes')).toHaveLength(59)
    expect(ref.list('transportModes').map((m) => m.code)).not.toContain('A')
    expect(ref.list('transactionTerms').map((t) => t.code)).toEqual(['1', '2', '3', '4', '5', '6', '7'])
    expect(ref.list('units')[0]).toEqual({ code: '001', name: '台' })
    expect(ref.list('currencies').find((c) => c.code === 'USD')).toEqual({ code: 'USD', name: 'US Dollar', digits: 2 })
  })
})
