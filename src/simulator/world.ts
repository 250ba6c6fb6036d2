/**
 * The simulated trading world: enterprises (credit level, fraud propensity, goods, partners) and a price and
 * tariff model per China tariff line. Pure and seeded: the same seed and reference data give the same world.
 * Nothing here is customs law; the figures are plausible orders of magnitude, chosen to make the traffic look
 * like a port's (see DOMAIN §3 for credit levels).
 */
import { seededRandom } from '../shared/clock.js'
import { USCC_ALPHABET, withUsccCheck } from '../shared/uscc.js'
import type { Reference } from '../modules/reference/index.js'
import { CREDIT_LEVELS, type CreditLevel } from '../modules/enterprises/index.js'

/** A source of uniform numbers in [0, 1); always {@link seededRandom} in the simulator. */
export type Rng = () => number

// ---------------------------------------------------------------------------------------------------------
// Small seeded helpers

/** FNV-1a 32-bit hash of a string: the deterministic seed of per-code figures. */
export function hash32(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

/** A uniform integer in [lo, hi]. */
export const randInt = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1))
/** A uniform number in [lo, hi). */
export const uniform = (rng: Rng, lo: number, hi: number) => lo + rng() * (hi - lo)
/** A uniformly chosen element of a non-empty array. */
export function pick<T>(rng: Rng, xs: readonly T[]): T {
  if (xs.length === 0) throw new RangeError('pick from an empty list')
  return xs[Math.floor(rng() * xs.length)]!
}
/** A standard normal deviate (Box–Muller). */
export function normal(rng: Rng): number {
  const u = 1 - rng()
  const v = rng()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}
/** A log-normal factor with median 1 and log-sd `sigma`. */
export const logNormal = (rng: Rng, sigma: number) => Math.exp(sigma * normal(rng))

/** Index into a cumulative weight array (last element = total) for a uniform draw. */
export function pickCumulative(rng: Rng, cum: readonly number[]): number {
  const x = rng() * cum[cum.length - 1]!
  let lo = 0
  let hi = cum.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (cum[mid]! <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

const cumulative = (ws: readonly number[]) => {
  let s = 0
  return ws.map((w) => (s += w))
}

/** `k` distinct elements drawn with probability proportional to `weight` (fewer if the list is shorter). */
export function weightedSample<T>(rng: Rng, xs: readonly T[], weight: (x: T) => number, k: number): T[] {
  const pool = [...xs]
  const out: T[] = []
  while (out.length < k && pool.length) {
    const i = pickCumulative(rng, cumulative(pool.map(weight)))
    out.push(pool.splice(i, 1)[0]!)
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------
// Money: the simulator's view of the server's exchange rates (migration 0001), CNY per unit.

/** CNY per unit of each currency the server has a customs exchange rate for. */
export const CNY_PER_UNIT: Readonly<Record<string, number>> = {
  CNY: 1,
  USD: 7.1,
  EUR: 7.8,
  JPY: 0.048,
  HKD: 0.91,
  GBP: 9.1,
  KRW: 0.0052,
  AUD: 4.7,
  NZD: 4.3,
  SGD: 5.4,
  RUB: 0.09,
  CHF: 8.1,
  CAD: 5.2,
  THB: 0.2,
  MYR: 1.6,
  VND: 0.00029,
}
/** Units of `currency` per US dollar. */
export const perUsd = (currency: string) => CNY_PER_UNIT.USD! / (CNY_PER_UNIT[currency] ?? CNY_PER_UNIT.USD!)

/** Invoice currency usual for goods from a country; everything else is invoiced in USD. */
export const COUNTRY_CURRENCY: Readonly<Record<string, string>> = {
  USA: 'USD',
  JPN: 'JPY',
  KOR: 'KRW',
  DEU: 'EUR',
  FRA: 'EUR',
  ITA: 'EUR',
  ESP: 'EUR',
  NLD: 'EUR',
  BEL: 'EUR',
  AUT: 'EUR',
  IRL: 'EUR',
  FIN: 'EUR',
  GBR: 'GBP',
  AUS: 'AUD',
  NZL: 'NZD',
  SGP: 'SGD',
  RUS: 'RUB',
  CHE: 'CHF',
  CAN: 'CAD',
  THA: 'THB',
  MYS: 'MYR',
  VNM: 'VND',
  HKG: 'HKD',
}

// ---------------------------------------------------------------------------------------------------------
// Price and tariff model

/**
 * Base value density per chapter, USD per kilogram of goods (orders of magnitude of China's import unit values).
 * Per-piece prices of count units derive from {@link COUNT_UNIT_USD}.
 */
const CHAPTER_USD_PER_KG: Readonly<Record<string, number>> = {
  '01': 3,
  '02': 4,
  '03': 6,
  '04': 4,
  '05': 5,
  '06': 4,
  '07': 1.2,
  '08': 2,
  '09': 6,
  '10': 0.3,
  '11': 0.6,
  '12': 0.6,
  '13': 8,
  '14': 2,
  '15': 1.2,
  '16': 5,
  '17': 0.6,
  '18': 4,
  '19': 3,
  '20': 2,
  '21': 5,
  '22': 2,
  '23': 0.5,
  '24': 8,
  '25': 0.1,
  '26': 0.15,
  '27': 0.6,
  '28': 1.5,
  '29': 3,
  '30': 80,
  '31': 0.4,
  '32': 5,
  '33': 25,
  '34': 3,
  '35': 6,
  '36': 4,
  '37': 20,
  '38': 4,
  '39': 2,
  '40': 3,
  '41': 4,
  '42': 60,
  '43': 100,
  '44': 0.5,
  '45': 5,
  '46': 5,
  '47': 0.7,
  '48': 1.2,
  '49': 8,
  '50': 40,
  '51': 10,
  '52': 3,
  '53': 3,
  '54': 4,
  '55': 3,
  '56': 4,
  '57': 8,
  '58': 12,
  '59': 6,
  '60': 7,
  '61': 25,
  '62': 30,
  '63': 6,
  '64': 25,
  '65': 20,
  '66': 10,
  '67': 30,
  '68': 1,
  '69': 1.5,
  '70': 2,
  '71': 20000,
  '72': 0.8,
  '73': 3,
  '74': 9,
  '75': 18,
  '76': 3,
  '78': 2.2,
  '79': 3,
  '80': 25,
  '81': 30,
  '82': 15,
  '83': 10,
  '84': 25,
  '85': 40,
  '86': 8,
  '87': 12,
  '88': 300,
  '89': 5,
  '90': 150,
  '91': 200,
  '92': 30,
  '93': 50,
  '94': 5,
  '95': 8,
  '96': 8,
  '97': 500,
}

/** Typical USD per piece of JGS-20 count units; chapter and heading overrides below. */
const COUNT_UNIT_USD: Readonly<Record<string, number>> = {
  '001': 1500,
  '002': 100_000,
  '003': 20_000,
  '004': 2_000_000,
  '005': 20_000_000,
  '006': 200,
  '007': 10,
  '008': 8,
  '010': 5,
  '011': 15,
  '012': 5,
  '014': 5,
  '015': 10,
  '016': 10,
  '017': 20,
  '019': 10,
  '020': 1,
  '023': 50,
  '025': 15,
  '028': 2,
  '031': 20,
  '043': 10,
}
/** USD per piece overrides for a unit within a chapter (`ch/unit`) or heading (`hs4/unit`). */
const COUNT_OVERRIDES: Readonly<Record<string, number>> = {
  '84/001': 4000,
  '85/001': 300,
  '90/001': 2500,
  '84/007': 40,
  '85/007': 3,
  '90/007': 30,
  '91/008': 150,
  '64/025': 20,
  '61/011': 8,
  '62/011': 15,
  '97/023': 2000,
  '93/012': 600,
  '8712/003': 200,
  '8711/003': 2000,
  '8703/003': 30_000,
  '8701/003': 40_000,
  '8702/003': 80_000,
  '8704/003': 40_000,
  '8716/003': 6000,
  '8806/005': 1500,
  '8901/004': 20_000_000,
  '8903/004': 80_000,
}

/** Base MFN duty rate per chapter, percent (China's 2023 schedule, rounded; a stand-in, not the tariff). */
const CHAPTER_RATE: Readonly<Record<string, number>> = {
  '01': 5,
  '02': 15,
  '03': 8,
  '04': 12,
  '05': 5,
  '06': 8,
  '07': 10,
  '08': 15,
  '09': 12,
  '10': 3,
  '11': 15,
  '12': 6,
  '13': 10,
  '14': 8,
  '15': 10,
  '16': 15,
  '17': 15,
  '18': 10,
  '19': 15,
  '20': 15,
  '21': 15,
  '22': 20,
  '23': 5,
  '24': 25,
  '25': 3,
  '26': 1,
  '27': 3,
  '28': 5.5,
  '29': 5.5,
  '30': 4,
  '31': 4,
  '32': 6.5,
  '33': 5,
  '34': 6.5,
  '35': 8,
  '36': 8,
  '37': 6,
  '38': 6.5,
  '39': 6.5,
  '40': 7.5,
  '41': 6,
  '42': 10,
  '43': 15,
  '44': 2,
  '45': 8,
  '46': 10,
  '47': 1,
  '48': 5,
  '49': 3,
  '50': 8,
  '51': 5,
  '52': 5,
  '53': 6,
  '54': 7,
  '55': 7,
  '56': 8,
  '57': 10,
  '58': 10,
  '59': 8,
  '60': 10,
  '61': 8,
  '62': 8,
  '63': 10,
  '64': 10,
  '65': 8,
  '66': 10,
  '67': 10,
  '68': 8,
  '69': 10,
  '70': 8,
  '71': 5,
  '72': 3,
  '73': 8,
  '74': 4,
  '75': 3,
  '76': 6,
  '78': 4,
  '79': 4,
  '80': 5,
  '81': 4,
  '82': 8,
  '83': 8,
  '84': 5,
  '85': 6,
  '86': 4,
  '87': 15,
  '88': 3,
  '89': 6,
  '90': 5,
  '91': 10,
  '92': 12,
  '93': 13,
  '94': 5,
  '95': 5,
  '96': 10,
  '97': 6,
}
const RATE_GRID = [0, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 6.5, 7, 8, 9, 10, 11, 12, 14, 15, 17, 20, 25, 30, 35, 50, 65]
const snapRate = (x: number) => RATE_GRID.reduce((best, r) => (Math.abs(r - x) < Math.abs(best - x) ? r : best), 0)

/** Continuous (measured) units; everything else is counted in whole pieces. */
export const MEASURE_UNITS: ReadonlySet<string> = new Set(['035', '036', '030', '032', '033', '063', '084', '095'])
/** Kilograms per unit of a measured unit (for gross/net mass); count units derive it from value density. */
const KG_PER_MEASURE_UNIT: Readonly<Record<string, number>> = {
  '035': 1,
  '036': 0.001,
  '084': 0.0002,
  '095': 1,
  '063': 1000,
  '030': 0.3,
  '032': 0.5,
  '033': 600,
}

/** One tariff line as the simulator sees it. */
export interface SimLine {
  /** 8 digits. */
  code: string
  chapter: string
  hs4: string
  /** JGS-20 unit of quantity (the line's first legal unit). */
  unit: string
  description: string
  /** Reference (world market) unit price, USD per `unit`. */
  priceUsd: number
  /** Synthetic MFN duty rate, percent. */
  rate: number
  /** Net kilograms per `unit`. */
  kgPerUnit: number
}

/** The price and tariff model over all usable tariff lines; deterministic from the codes alone. */
export interface PriceModel {
  lines: readonly SimLine[]
  line(code8: string): SimLine | undefined
  /** Lines by 2-digit chapter. */
  byChapter: ReadonlyMap<string, readonly SimLine[]>
  /** Reference unit price in USD per unit of the line's first legal unit. */
  priceUsd(code8: string): number
  /** Synthetic duty rate, percent. */
  tariffRate(code8: string): number
  /** A sibling line under the same HS4, with the same unit and a strictly lower rate (the lowest such), if any. */
  lowerRateSibling(code8: string): SimLine | undefined
  /** Lines that have a {@link lowerRateSibling}. */
  misclassifiable: readonly SimLine[]
}

function referencePrice(code: string, unit: string): number {
  const r = seededRandom(hash32(`price:${code}`))
  const ch = code.slice(0, 2)
  const perKg = CHAPTER_USD_PER_KG[ch] ?? 5
  let base: number
  switch (unit) {
    case '035':
      base = perKg
      break
    case '036':
      base = perKg / 1000
      break
    case '084':
      base = 500
      break
    case '095':
      base = perKg
      break
    case '063':
      base = perKg * 1000
      break
    case '030':
      base = 4
      break
    case '032':
      base = 12
      break
    case '033':
      base = 300
      break
    default:
      base =
        COUNT_OVERRIDES[`${code.slice(0, 4)}/${unit}`] ?? COUNT_OVERRIDES[`${ch}/${unit}`] ?? COUNT_UNIT_USD[unit] ?? 20
  }
  // Lines of a chapter spread log-normally around its base; keep at least 5 US cents a unit.
  const p = base * Math.min(20, Math.max(0.05, logNormal(r, 0.6)))
  return Math.max(0.05, Number(p.toPrecision(4)))
}

function syntheticRate(code: string): number {
  const r = seededRandom(hash32(`rate:${code}`))
  const base = CHAPTER_RATE[code.slice(0, 2)] ?? 6
  if (r() < 0.12) return 0
  return snapRate(base * Math.exp(0.45 * normal(r)))
}

const modelCache = new WeakMap<Reference, PriceModel>()

/**
 * The price and tariff model of the reference data's tariff lines (cached per reference). Lines without an
 * HS2022 subheading (chapters 98–99) and electricity (kWh) are left out: they are never shipped.
 */
export function priceModel(ref: Reference): PriceModel {
  const cached = modelCache.get(ref)
  if (cached) return cached
  const lines: SimLine[] = []
  for (let d = 0; d <= 9; d++) {
    for (const h of ref.searchHs(String(d), 1_000_000)) {
      if (h.level !== 8 || !ref.hs(h.code.slice(0, 6))) continue
      const t = ref.tariffLine(h.code)
      if (!t || t.unit1 === '062' || !ref.unit(t.unit1)) continue
      const chapter = h.code.slice(0, 2)
      const priceUsd = referencePrice(h.code, t.unit1)
      const kgPerUnit =
        KG_PER_MEASURE_UNIT[t.unit1] ??
        Math.min(500_000, Math.max(0.01, priceUsd / (CHAPTER_USD_PER_KG[chapter] ?? 5) / 2))
      const description = (t.nameZh || t.nameEn || h.code).slice(0, 255)
      lines.push(
        Object.freeze({
          code: h.code,
          chapter,
          hs4: h.code.slice(0, 4),
          unit: t.unit1,
          description,
          priceUsd,
          rate: syntheticRate(h.code),
          kgPerUnit,
        }),
      )
    }
  }
  const byCode = new Map(lines.map((l) => [l.code, l]))
  const byChapter = new Map<string, SimLine[]>()
  const byHs4 = new Map<string, SimLine[]>()
  for (const l of lines) {
    byChapter.set(l.chapter, [...(byChapter.get(l.chapter) ?? []), l])
    byHs4.set(l.hs4, [...(byHs4.get(l.hs4) ?? []), l])
  }
  const lower = new Map<string, SimLine>()
  for (const l of lines) {
    let best: SimLine | undefined
    for (const s of byHs4.get(l.hs4)!) {
      if (s.code !== l.code && s.unit === l.unit && s.rate < l.rate && (!best || s.rate < best.rate)) best = s
    }
    if (best) lower.set(l.code, best)
  }
  const model: PriceModel = Object.freeze({
    lines: Object.freeze(lines),
    line: (c: string) => byCode.get(c),
    byChapter,
    priceUsd: (c: string) => byCode.get(c)?.priceUsd ?? NaN,
    tariffRate: (c: string) => byCode.get(c)?.rate ?? NaN,
    lowerRateSibling: (c: string) => lower.get(c),
    misclassifiable: Object.freeze(lines.filter((l) => lower.has(l.code))),
  })
  modelCache.set(ref, model)
  return model
}

// ---------------------------------------------------------------------------------------------------------
// Enterprises

/** Share of enterprises per credit level (Order 282 tiers); the default is 5/15/70/8/2 %. */
export const DEFAULT_CREDIT_SHARES: Readonly<Record<CreditLevel, number>> = {
  ADVANCED_CERTIFIED: 0.05,
  CERTIFIED: 0.15,
  REGULAR: 0.7,
  DISHONEST: 0.08,
  SERIOUSLY_DISHONEST: 0.02,
}
/**
 * Relative fraud propensity per credit level before normalisation: dishonest traders are far more likely to
 * commit fraud than AEOs, which is what the credit-based lanes bet on.
 */
export const CREDIT_PROPENSITY: Readonly<Record<CreditLevel, number>> = {
  ADVANCED_CERTIFIED: 0.1,
  CERTIFIED: 0.3,
  REGULAR: 0.8,
  DISHONEST: 4,
  SERIOUSLY_DISHONEST: 8,
}
/** Relative declaration volume per credit level (AEOs are large traders). */
const CREDIT_ACTIVITY: Readonly<Record<CreditLevel, number>> = {
  ADVANCED_CERTIFIED: 4,
  CERTIFIED: 2,
  REGULAR: 1,
  DISHONEST: 0.7,
  SERIOUSLY_DISHONEST: 0.5,
}

/** A trading hub: customs codes of its enterprises start with `admin4`, they lodge at `offices`. */
interface Region {
  name: string
  admin6: string
  admin4: string
  district: string
  offices: string[]
}
/** Ports, customs districts and administrative codes [L]: plausible, not a reference table. */
const REGIONS: readonly Region[] = [
  { name: 'Shenzhen', admin6: '440300', admin4: '4403', district: '5300', offices: ['5301', '5302', '5316', '5345'] },
  { name: 'Shanghai', admin6: '310115', admin4: '3122', district: '2200', offices: ['2201', '2233', '2248'] },
  { name: 'Ningbo', admin6: '330206', admin4: '3302', district: '3100', offices: ['3104', '3111'] },
  { name: 'Guangzhou', admin6: '440104', admin4: '4401', district: '5100', offices: ['5101', '5141'] },
  { name: 'Tianjin', admin6: '120116', admin4: '1207', district: '0200', offices: ['0201', '0202'] },
  { name: 'Qingdao', admin6: '370211', admin4: '3702', district: '4200', offices: ['4218', '4227'] },
  { name: 'Xiamen', admin6: '350206', admin4: '3502', district: '3700', offices: ['3701', '3702'] },
]
const REGION_WEIGHTS = [6, 7, 4, 4, 3, 2, 2]

/** Import weight of each chapter when choosing an enterprise's home chapters (China's import mix, roughly). */
const CHAPTER_WEIGHT: Readonly<Record<string, number>> = {
  '85': 20,
  '84': 12,
  '27': 12,
  '26': 8,
  '90': 5,
  '29': 4,
  '39': 4,
  '87': 4,
  '12': 3,
  '30': 3,
  '71': 3,
  '38': 2,
  '74': 2,
  '28': 1.5,
  '02': 1.5,
  '03': 1.5,
  '08': 1.5,
  '40': 1.2,
  '72': 1.2,
  '44': 1,
  '47': 1,
  '33': 1,
  '73': 1,
  '76': 1,
  '48': 0.8,
  '22': 0.8,
  '04': 0.8,
  '15': 0.8,
  '10': 0.8,
  '61': 0.6,
  '62': 0.6,
  '64': 0.5,
  '42': 0.5,
  '95': 0.5,
  '94': 0.5,
  '88': 0.3,
  '89': 0.1,
}
const chapterWeight = (ch: string) => CHAPTER_WEIGHT[ch] ?? 0.2

/** Supplier countries by import weight. */
const PARTNER_WEIGHT: Readonly<Record<string, number>> = {
  KOR: 8,
  JPN: 8,
  TWN: 8,
  USA: 7,
  AUS: 6,
  DEU: 5,
  BRA: 5,
  RUS: 5,
  MYS: 4,
  VNM: 4,
  SAU: 3,
  IDN: 3,
  THA: 2.5,
  SGP: 2,
  CHL: 2,
  FRA: 1.5,
  CHE: 1.5,
  CAN: 1.2,
  ITA: 1,
  GBR: 1,
  NZL: 1,
  ZAF: 1,
  PER: 1,
  IRQ: 1,
  ARE: 1,
  PHL: 1,
  IND: 0.8,
  NLD: 0.8,
  ESP: 0.6,
  MEX: 0.6,
  KAZ: 0.6,
  HKG: 1,
}
/** Where a chapter's goods usually come from (natural resources, farm goods). */
const CHAPTER_ORIGINS: Readonly<Record<string, readonly string[]>> = {
  '26': ['AUS', 'BRA', 'ZAF', 'PER', 'CHL'],
  '27': ['SAU', 'RUS', 'IRQ', 'ARE', 'AUS', 'IDN'],
  '12': ['BRA', 'USA', 'CAN'],
  '74': ['CHL', 'PER'],
  '47': ['BRA', 'CAN', 'IDN'],
  '10': ['AUS', 'CAN', 'USA'],
  '02': ['NZL', 'AUS', 'BRA'],
  '04': ['NZL', 'AUS', 'FRA'],
  '22': ['FRA', 'AUS', 'CHL'],
  '33': ['FRA', 'JPN', 'KOR'],
  '08': ['CHL', 'THA', 'VNM', 'NZL'],
  '03': ['RUS', 'NZL', 'CAN'],
  '44': ['NZL', 'RUS', 'CAN'],
  '15': ['IDN', 'MYS'],
  '71': ['CHE', 'ZAF', 'AUS'],
}

/**
 * Partners with a free-trade or RCEP arrangement with China: declaring them as origin claims a preferential
 * rate, which makes them the usual false origin.
 */
export const FTA_PARTNERS: readonly string[] = [
  'KOR',
  'AUS',
  'NZL',
  'CHL',
  'PER',
  'CRI',
  'CHE',
  'ISL',
  'SGP',
  'PAK',
  'GEO',
  'MUS',
  'KHM',
  'THA',
  'VNM',
  'MYS',
  'IDN',
  'PHL',
  'BRN',
  'LAO',
  'MMR',
  'JPN',
  'NIC',
  'SRB',
  'ECU',
]
/** Origins without a preferential arrangement (true origins in origin fraud). */
export const NON_FTA_ORIGINS: readonly string[] = [
  'USA',
  'DEU',
  'FRA',
  'ITA',
  'GBR',
  'CAN',
  'BRA',
  'IND',
  'RUS',
  'MEX',
  'TUR',
  'ESP',
  'NLD',
  'ZAF',
  'SAU',
  'ARE',
]

const NAME_STEMS = [
  'Huaxin',
  'Zhongtai',
  'Hengyuan',
  'Jinlong',
  'Tianhe',
  'Ruifeng',
  'Haida',
  'Xinghua',
  'Dongfang',
  'Baosheng',
  'Yongan',
  'Kaida',
  'Minghui',
  'Shengtai',
  'Huamei',
  'Jiahe',
  'Fuxing',
  'Longteng',
  'Hongli',
  'Anxin',
  'Zhengda',
  'Guangyu',
  'Boyuan',
  'Weilai',
]
const NAME_KINDS = [
  'Trading',
  'Import & Export',
  'Supply Chain',
  'Industrial',
  'Electronics',
  'International Trade',
  'Logistics',
  'Technology',
]

/** One simulated enterprise: what the server gets (codes, name, credit) plus the hidden behaviour. */
export interface SimEnterprise {
  index: number
  uscc: string
  /** 10-character customs code; the declarant and trader code of its declarations. */
  customsCode: string
  name: string
  creditLevel: CreditLevel
  /** 4-digit district of registration (直属海关). */
  registeredDistrict: string
  region: string
  /** Customs offices (关区) where it lodges and clears goods. */
  offices: readonly string[]
  /** Fraud propensity: multiplies the per-kind fraud rates; mean 1 over declarations. */
  propensity: number
  /** Relative declaration volume. */
  activity: number
  /** Home HS chapters (2 digits). */
  chapters: readonly string[]
  /** Tariff lines it imports regularly (8 digits), within its home chapters. */
  catalogue: readonly string[]
  /** Supplier countries (ISO alpha-3). */
  partners: readonly string[]
  /** Processing-trade manual (备案号) if the enterprise does processing trade, else null. */
  manualNo: string | null
}

/** The generated world. `model` is shared per reference data and not part of the seeded state. */
export interface World {
  seed: number
  enterprises: readonly SimEnterprise[]
  /** Cumulative activity weights, for picking the enterprise of the next declaration. */
  cumActivity: readonly number[]
  /** Chapters with the highest expected fraud per declaration in this world (targeting-rule material). */
  riskyChapters: readonly string[]
  /** Regularly imported lines with the most expected declarations (value-band rule material). */
  topLines: readonly string[]
  model: PriceModel
}

/** Options of {@link generateWorld}. */
export interface WorldOptions {
  seed: number
  /** Number of enterprises (default 40). */
  enterprises?: number
  creditShares?: Partial<Record<CreditLevel, number>>
  /** With at least 5 enterprises, give every credit level at least one (default true). */
  everyLevel?: boolean
}

/** Counts per level by largest remainder, so shares are met as closely as integers allow. */
export function allocateLevels(
  n: number,
  shares: Readonly<Record<CreditLevel, number>>,
  everyLevel: boolean,
): Record<CreditLevel, number> {
  const total = CREDIT_LEVELS.reduce((s, l) => s + Math.max(0, shares[l]), 0) || 1
  const exact = CREDIT_LEVELS.map((l) => (n * Math.max(0, shares[l])) / total)
  const counts = exact.map(Math.floor)
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
  for (let k = 0, left = n - counts.reduce((a, b) => a + b, 0); left > 0; k++, left--)
    counts[order[k % order.length]![1]]!++
  if (everyLevel && n >= CREDIT_LEVELS.length) {
    for (let i = 0; i < counts.length; i++) {
      if (counts[i]! > 0) continue
      const donor = counts.indexOf(Math.max(...counts))
      counts[donor]!--
      counts[i] = 1
    }
  }
  return Object.fromEntries(CREDIT_LEVELS.map((l, i) => [l, counts[i]!])) as Record<CreditLevel, number>
}

const ALNUM = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ'
const randomChars = (rng: Rng, alphabet: string, n: number) => {
  let s = ''
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng() * alphabet.length)]
  return s
}

/**
 * Generates the world for a seed: enterprises with credit levels in the configured shares (shuffled), codes
 * (valid USCC check character, unique customs codes), home chapters, a catalogue of lines, partner countries
 * and a fraud propensity correlated with credit, normalised so that its mean over declarations is 1.
 */
export function generateWorld(ref: Reference, opts: WorldOptions): World {
  const model = priceModel(ref)
  const rng = seededRandom(hash32(`world:${opts.seed}`))
  const n = Math.max(1, Math.floor(opts.enterprises ?? 40))
  const shares = { ...DEFAULT_CREDIT_SHARES, ...(opts.creditShares ?? {}) }
  const counts = allocateLevels(n, shares, opts.everyLevel ?? true)
  const levels: CreditLevel[] = CREDIT_LEVELS.flatMap((l) => Array<CreditLevel>(counts[l]).fill(l))
  for (let i = levels.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[levels[i], levels[j]] = [levels[j]!, levels[i]!]
  }

  const chapters = [...model.byChapter.keys()]
  const countries = Object.keys(PARTNER_WEIGHT).filter((c) => ref.countryByIso3(c))
  const usedCodes = new Set<string>()
  const enterprises: SimEnterprise[] = levels.map((creditLevel, index) => {
    const region = REGIONS[pickCumulative(rng, cumulative(REGION_WEIGHTS))]!
    const uscc = withUsccCheck(`91${region.admin6}${randomChars(rng, USCC_ALPHABET, 9)}`)
    let customsCode: string
    do customsCode = `${region.admin4}${pick(rng, ['9', '6', '3'])}${randomChars(rng, ALNUM, 5)}`
    while (usedCodes.has(customsCode))
    usedCodes.add(customsCode)
    const stem = pick(rng, NAME_STEMS)
    const name = `${region.name} ${stem} ${pick(rng, NAME_KINDS)} Co., Ltd. (${customsCode.slice(-5)})`
    const home = weightedSample(rng, chapters, chapterWeight, randInt(rng, 1, 3))
    const catalogue = home.flatMap((ch) =>
      weightedSample(rng, model.byChapter.get(ch)!, () => 1, randInt(rng, 2, 6)).map((l) => l.code),
    )
    const affine = home.flatMap((ch) => CHAPTER_ORIGINS[ch] ?? []).filter((c) => ref.countryByIso3(c))
    const partners = [
      ...new Set([
        ...weightedSample(rng, affine, () => 1, Math.min(affine.length, randInt(rng, 1, 2))),
        ...weightedSample(rng, countries, (c) => PARTNER_WEIGHT[c]!, randInt(rng, 1, 3)),
      ]),
    ]
    const processing = rng() < 0.15
    const manualNo = processing ? `${pick(rng, ['C', 'B'])}${region.district}${randomChars(rng, ALNUM, 7)}` : null
    return {
      index,
      uscc,
      customsCode,
      name,
      creditLevel,
      registeredDistrict: region.district,
      region: region.name,
      offices: region.offices,
      propensity: CREDIT_PROPENSITY[creditLevel] * logNormal(rng, 0.5),
      activity: CREDIT_ACTIVITY[creditLevel] * logNormal(rng, 0.8),
      chapters: home,
      catalogue,
      partners,
      manualNo,
    }
  })
  // Normalise propensity so the activity-weighted mean is 1: configured fraud rates are then the observed ones.
  const totalActivity = enterprises.reduce((s, e) => s + e.activity, 0)
  const meanPropensity = enterprises.reduce((s, e) => s + e.activity * e.propensity, 0) / totalActivity
  for (const e of enterprises) e.propensity = Math.round((e.propensity / meanPropensity) * 1e6) / 1e6

  // Expected fraud weight and volume per chapter and per catalogue line, for targeting rules.
  const chapterFraud = new Map<string, { fraud: number; volume: number }>()
  const lineVolume = new Map<string, number>()
  for (const e of enterprises) {
    for (const ch of e.chapters) {
      const s = chapterFraud.get(ch) ?? { fraud: 0, volume: 0 }
      s.volume += e.activity / e.chapters.length
      s.fraud += (e.activity * e.propensity) / e.chapters.length
      chapterFraud.set(ch, s)
    }
    for (const c of e.catalogue) lineVolume.set(c, (lineVolume.get(c) ?? 0) + e.activity / e.catalogue.length)
  }
  const minVolume = totalActivity * 0.02
  const riskyChapters = [...chapterFraud]
    .filter(([, s]) => s.volume >= minVolume && s.fraud / s.volume > 1.3)
    .sort((a, b) => b[1].fraud / b[1].volume - a[1].fraud / a[1].volume || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([ch]) => ch)
  const topLines = [...lineVolume]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 5)
    .map(([c]) => c)

  return {
    seed: opts.seed,
    enterprises,
    cumActivity: cumulative(enterprises.map((e) => e.activity)),
    riskyChapters,
    topLines,
    model,
  }
}

/**
 * The same world limited to some of its enterprises, possibly with codes replaced (e.g. by the codes the
 * server already had for them): what a live run declares for once enterprises are set up.
 */
export function restrictWorld(world: World, enterprises: readonly SimEnterprise[]): World {
  return { ...world, enterprises, cumActivity: cumulative(enterprises.map((e) => e.activity)) }
}
