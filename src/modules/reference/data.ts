import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'csv-parse/sync'
import currencyCodes from 'currency-codes'

/** A heading of the international HS2022 nomenclature: chapter (2 digits), heading (4) or subheading (6). */
export interface HsHeading {
  code: string
  level: 2 | 4 | 6
  description: string
  /** Code one level up; `null` for chapters. */
  parent: string | null
  /** HS section as a Roman numeral (`I`…`XXI`). */
  section: string
}

/** A line of China's 8-digit tariff (2023), with its legal (statistical) units as JGS-20 codes. */
export interface TariffLine {
  /** 8 digits. */
  code: string
  nameEn: string
  nameZh: string
  /** First legal unit, JGS-20 3-digit code (`035` = 千克). */
  unit1: string
  /** Second legal unit, JGS-20 3-digit code, or `null` when the line has none. */
  unit2: string | null
}

/**
 * A country or region. Rows come from China's old 3-digit customs codes (used by CEB messages) and from ISO 3166-1
 * (used by the 报关单 since 2018). `iso2`/`iso3` are empty strings for China codes with no ISO country ("nes"
 * buckets, 701 unknown, historic entities); `chinaCode` is `null` for ISO countries China's list lacks.
 */
export interface Country {
  iso2: string
  iso3: string
  chinaCode: string | null
  nameEn: string
  nameZh: string | null
}

/** An entry of a customs code table. */
export interface CodeEntry {
  code: string
  /** Display name: the official Chinese name where known, otherwise the English one (empty if neither is known). */
  name: string
  nameEn?: string
}

/** An ISO 4217 currency; `digits` is the number of minor-unit decimals. */
export interface Currency {
  code: string
  name: string
  digits: number
}

/** One result of {@link Reference.searchHs}; `descriptionZh` is only present on 8-digit tariff lines. */
export interface HsSearchHit {
  code: string
  level: 2 | 4 | 6 | 8
  description: string
  descriptionZh?: string
}

/** Item types returned by {@link Reference.list}, by kind. */
export interface ReferenceLists {
  countries: Country
  currencies: Currency
  tradeModes: CodeEntry
  transportModes: CodeEntry
  transactionTerms: CodeEntry
  units: CodeEntry
  customsOffices: CodeEntry
}

/**
 * The reference data in memory, read-only. Lookups are exact and case-sensitive (`CHN`, not `chn`), because they
 * validate codes as declared.
 */
export interface Reference {
  /** A 2-, 4- or 6-digit HS2022 code. */
  hs(code: string): HsHeading | undefined
  /** A China 8-digit 2023 tariff line. */
  tariffLine(code8: string): TariffLine | undefined
  countryByIso3(c: string): Country | undefined
  countryByIso2(c: string): Country | undefined
  /** By China's old 3-digit customs code (`142` = China, `502` = USA); not ISO numeric. */
  countryByChinaCode(c: string): Country | undefined
  /** ISO 4217 alphabetic code. */
  currency(code: string): Currency | undefined
  /** 4-digit 监管方式; the last two digits are the statistical trade-mode code. */
  tradeMode(code: string): CodeEntry | undefined
  /** 运输方式 (1 character), including the bonded-area codes; `A` (all) is a query value and not included. */
  transportMode(code: string): CodeEntry | undefined
  /** 成交方式 (1 digit). */
  transactionTerms(code: string): CodeEntry | undefined
  /** JGS-20 3-digit unit of measure. */
  unit(code: string): CodeEntry | undefined
  /**
   * A customs district or office (关区, 4 digits) of the shipped subset (`kouan/customs-offices.csv`; no open full
   * table exists: add rows there). `name` is the Chinese name, or the English label where it is not verified.
   */
  customsOffice(code: string): CodeEntry | undefined
  /**
   * Searches HS headings and tariff lines, in code order. A query of digits (dots and spaces ignored) is a code
   * prefix; anything else is a list of words that must all occur, case-insensitively, in the code, the English or the
   * Chinese description. Never throws; a blank query gives no results.
   */
  searchHs(q: string, limit: number): HsSearchHit[]
  list<K extends keyof ReferenceLists>(kind: K): ReferenceLists[K][]
  /** Row counts per table, for health checks and tests. `unitFallbacks` counts HS8 units mapped by code, not name. */
  counts: Record<string, number>
}

type Row = Record<string, string>

const cache = new Map<string, Reference>()

/**
 * Loads (once per directory) the reference data from `dir`, by default the `reference-data/` folder found by walking
 * up from this module, so it works from both `src/` and `dist/src/`. Throws if a file is missing or malformed.
 */
export function loadReference(dir?: string): Reference {
  const root = resolve(dir ?? findReferenceDir())
  let ref = cache.get(root)
  if (!ref) {
    ref = buildReference(root)
    cache.set(root, ref)
  }
  return ref
}

function findReferenceDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'reference-data')
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate
    const up = dirname(dir)
    if (up === dir) throw new Error(`reference-data/ not found above ${fileURLToPath(import.meta.url)}`)
    dir = up
  }
}

/** Reads a CSV into records keyed by header name, dropping unnamed columns (the files' empty trailing column). */
function readCsv(file: string, repair: (text: string) => string = (t) => t): Row[] {
  // en-trading-partners.csv has a NUL byte before the name of code 349.
  const text = repair(readFileSync(file, 'utf8').replace(/\0/g, ''))
  return parse(text, {
    bom: true,
    columns: (header: string[]) => header.map((h) => h.trim() || false),
    skip_empty_lines: true,
  }) as Row[]
}

/**
 * en-hs8-2023.csv quotes descriptions but leaves quotes inside them unescaped (`"tyres with "herring-bone", for…"`,
 * `""Bladder" moulds…"`). Every record is `CODE,"DESCRIPTION",YEAR,…`, so the description runs up to the first
 * `",YEAR,` and its inner quotes can be doubled before a strict parser sees them. A no-op on well-formed files.
 */
function escapeHs8Quotes(text: string): string {
  return text.replace(
    /^(\d{8}),"([\s\S]*?)",(\d{4}),/gm,
    (_m, code: string, desc: string, year: string) => `${code},"${desc.replace(/"/g, '""')}",${year},`,
  )
}

function field(row: Row, name: string, file: string): string {
  const value = row[name]
  if (value === undefined) throw new Error(`${file}: missing column ${name}`)
  return value
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim()
// Line breaks inside Chinese text are wrapping, not word separators.
const oneLineZh = (s: string) => s.replace(/\s*[\r\n]+\s*/g, '').trim()
const normalise = (s: string) => s.normalize('NFKC').toLowerCase()

/**
 * The HS8 files carry the statistics platform's 2-digit unit codes, where `01` means any count unit (台, 辆, 个…), so
 * units map to JGS-20 by Chinese name. Only if a future file brings a name the JGS-20 table lacks does this map by
 * the statistical code, to the JGS-20 unit that code measures in (`01` → 个, the generic count); those cases are
 * counted in `counts.unitFallbacks`. The 2023 files need none.
 */
const STAT_UNIT_FALLBACK: Readonly<Record<string, string>> = {
  '01': '007', // any count → 个
  '02': '025', // pair → 双
  '04': '030', // metre → 米
  '05': '032', // m² → 平方米
  '06': '033', // m³ → 立方米
  '07': '095', // litre → 升
  '09': '035', // kilogram → 千克
  '21': '043', // hundreds → 百个
  '31': '054', // thousands → 千个
  '37': '063', // kilolitre → 千升
  '49': '084', // carat → 克拉
  '58': '062', // kWh → 千瓦时
  '59': '036', // gram → 克
  '63': '149', // million Bq → 百万贝可
}

/** English names of the 运输方式 codes, as DOMAIN.md §2 words them. */
const TRANSPORT_EN: Readonly<Record<string, string>> = {
  '0': 'Non-bonded',
  '1': 'Supervised warehouse',
  '2': 'Water',
  '3': 'Rail',
  '4': 'Road',
  '5': 'Air',
  '6': 'Post',
  '7': 'Bonded zone',
  '8': 'Bonded warehouse',
  '9': 'Other',
  H: 'Border zone',
  W: 'Logistics centre',
  X: 'Logistics park',
  Y: 'Bonded port',
  Z: 'Export processing zone',
  T: 'Pilot zone',
  L: 'Passenger',
  G: 'Fixed installation',
}

/** English for the 成交方式 names that are not already English (DOMAIN.md §2; 垫仓 has none). */
const TRANSACTION_EN: Readonly<Record<string, string>> = { '5': 'Market price' }

function buildReference(root: string): Reference {
  const path = (...parts: string[]) => join(root, ...parts)

  const headings = new Map<string, HsHeading>()
  const hsFile = path('hs', 'harmonized-system.csv')
  for (const row of readCsv(hsFile)) {
    const level = Number(field(row, 'level', hsFile))
    // UN Comtrade's pseudo-codes (section `TOTAL`: TOTAL, 99, 9999, 999999 "not specified according to kind") are no HS.
    if (field(row, 'section', hsFile) === 'TOTAL' || (level !== 2 && level !== 4 && level !== 6)) continue
    const code = field(row, 'hscode', hsFile)
    headings.set(
      code,
      Object.freeze({
        code,
        level,
        description: oneLine(field(row, 'description', hsFile)),
        parent: level === 2 ? null : field(row, 'parent', hsFile),
        section: field(row, 'section', hsFile),
      }),
    )
  }

  const codeTables = readCsv(path('ceb', 'code_tables.csv'))
  const units = codeTable(codeTables, 'unit_JGS20_计量单位')
  const unitByName = new Map([...units.values()].map((u) => [u.name, u.code]))
  let unitFallbacks = 0
  const toJgs20 = (statCode: string, name: string, line: string): string | null => {
    if (statCode === '?') return null
    const byName = unitByName.get(name.trim())
    if (byName) return byName
    const byCode = STAT_UNIT_FALLBACK[statCode]
    if (!byCode) throw new Error(`HS8 ${line}: unit ${statCode} ${name} has no JGS-20 equivalent`)
    unitFallbacks++
    return byCode
  }

  const zhFile = path('china', 'zh-hs8-2023.csv')
  const enFile = path('china', 'en-hs8-2023.csv')
  const zhRows = readCsv(zhFile, escapeHs8Quotes)
  const enByCode = new Map(readCsv(enFile, escapeHs8Quotes).map((r) => [field(r, 'CODES', enFile), r]))
  const lines = new Map<string, TariffLine>()
  for (const row of zhRows) {
    // The Chinese file is the reference for units: the English one labels some kilogram (09) lines "Metre".
    const [code, name, unit1Code, unit1Name, unit2Code, unit2Name] = [
      '商品编码',
      '商品名称',
      '第一计量单位编码',
      '第一计量单位名称',
      '第二计量单位编码',
      '第二计量单位名称',
    ].map((c) => field(row, c, zhFile)) as [string, string, string, string, string, string]
    const en = enByCode.get(code)
    if (!en) throw new Error(`${enFile}: no line ${code}`)
    const unit1 = toJgs20(unit1Code, unit1Name, code)
    if (unit1 === null) throw new Error(`${zhFile}: line ${code} has no first unit`)
    lines.set(
      code,
      Object.freeze({
        code,
        nameEn: oneLine(field(en, 'DESCRIPTION', enFile)),
        nameZh: oneLineZh(name),
        unit1,
        unit2: toJgs20(unit2Code, unit2Name, code),
      }),
    )
  }
  if (enByCode.size !== lines.size) throw new Error(`${enFile}: ${enByCode.size} lines, ${zhFile}: ${lines.size}`)

  const countries: Country[] = []
  const byIso2 = new Map<string, Country>()
  const byIso3 = new Map<string, Country>()
  const byChina = new Map<string, Country>()
  const countryFile = path('kouan', 'countries.csv')
  for (const row of readCsv(countryFile)) {
    const country: Country = Object.freeze({
      iso2: field(row, 'iso2', countryFile),
      iso3: field(row, 'iso3', countryFile),
      chinaCode: field(row, 'china_code', countryFile) || null,
      nameEn: field(row, 'name_en', countryFile),
      nameZh: field(row, 'name_zh', countryFile) || null,
    })
    countries.push(country)
    if (country.iso2) byIso2.set(country.iso2, country)
    if (country.iso3) byIso3.set(country.iso3, country)
    if (country.chinaCode) byChina.set(country.chinaCode, country)
  }

  const currencies = new Map(
    currencyCodes.data.map((c) => [c.code, Object.freeze({ code: c.code, name: c.currency, digits: c.digits })]),
  )

  const tradeModes = new Map<string, CodeEntry>()
  const tradeModeFile = path('kouan', 'trade-modes.csv')
  for (const row of readCsv(tradeModeFile)) {
    const code = field(row, 'code', tradeModeFile)
    const nameZh = field(row, 'name_zh', tradeModeFile)
    const nameEn = field(row, 'name_en', tradeModeFile)
    tradeModes.set(code, Object.freeze({ code, name: nameZh || nameEn, ...(nameEn ? { nameEn } : {}) }))
  }
  const customsOffices = new Map<string, CodeEntry>()
  const officeFile = path('kouan', 'customs-offices.csv')
  for (const row of readCsv(officeFile)) {
    const code = field(row, 'code', officeFile)
    if (!/^[0-9]{4}$/.test(code)) throw new Error(`${officeFile}: bad customs code ${code}`)
    const nameZh = field(row, 'name_zh', officeFile)
    const nameEn = field(row, 'name_en', officeFile)
    customsOffices.set(code, Object.freeze({ code, name: nameZh || nameEn, ...(nameEn ? { nameEn } : {}) }))
  }
  const transportModes = codeTable(codeTables, 'traf_mode_运输方式', TRANSPORT_EN)
  transportModes.delete('A')
  const transactionTerms = codeTable(codeTables, 'trans_mode_成交方式', TRANSACTION_EN)

  const searchIndex = buildSearchIndex(headings, lines)
  const lists: { [K in keyof ReferenceLists]: ReferenceLists[K][] } = {
    countries: Object.freeze(countries) as Country[],
    currencies: Object.freeze([...currencies.values()]) as Currency[],
    tradeModes: Object.freeze([...tradeModes.values()]) as CodeEntry[],
    transportModes: Object.freeze([...transportModes.values()]) as CodeEntry[],
    transactionTerms: Object.freeze([...transactionTerms.values()]) as CodeEntry[],
    units: Object.freeze([...units.values()]) as CodeEntry[],
    customsOffices: Object.freeze([...customsOffices.values()]) as CodeEntry[],
  }
  const levelCount = (level: number) => [...headings.values()].filter((h) => h.level === level).length

  return Object.freeze({
    hs: (code: string) => headings.get(code),
    tariffLine: (code8: string) => lines.get(code8),
    countryByIso3: (c: string) => byIso3.get(c),
    countryByIso2: (c: string) => byIso2.get(c),
    countryByChinaCode: (c: string) => byChina.get(c),
    currency: (code: string) => currencies.get(code),
    tradeMode: (code: string) => tradeModes.get(code),
    transportMode: (code: string) => transportModes.get(code),
    transactionTerms: (code: string) => transactionTerms.get(code),
    unit: (code: string) => units.get(code),
    customsOffice: (code: string) => customsOffices.get(code),
    searchHs: (q: string, limit: number) => searchIndex(q, limit),
    list: <K extends keyof ReferenceLists>(kind: K) => lists[kind],
    counts: Object.freeze({
      hsChapters: levelCount(2),
      hsHeadings: levelCount(4),
      hsSubheadings: levelCount(6),
      tariffLines: lines.size,
      unitFallbacks,
      countries: countries.length,
      countriesWithChinaCode: byChina.size,
      countriesWithIso: byIso3.size,
      currencies: currencies.size,
      tradeModes: tradeModes.size,
      transportModes: transportModes.size,
      transactionTerms: transactionTerms.size,
      units: units.size,
      customsOffices: customsOffices.size,
    }),
  })
}

/** One table (`table` column) of ceb/code_tables.csv, keyed by code. */
function codeTable(rows: Row[], table: string, english: Readonly<Record<string, string>> = {}): Map<string, CodeEntry> {
  const file = 'ceb/code_tables.csv'
  const entries = new Map<string, CodeEntry>()
  for (const row of rows) {
    if (field(row, 'table', file) !== table) continue
    const code = field(row, 'code', file)
    const nameEn = english[code]
    entries.set(code, Object.freeze({ code, name: field(row, 'name', file), ...(nameEn ? { nameEn } : {}) }))
  }
  if (entries.size === 0) throw new Error(`${file}: no rows for table ${table}`)
  return entries
}

interface SearchEntry {
  hit: HsSearchHit
  haystack: string
}

function buildSearchIndex(headings: Map<string, HsHeading>, lines: Map<string, TariffLine>) {
  const entries: SearchEntry[] = []
  for (const h of headings.values()) {
    const hit: HsSearchHit = Object.freeze({ code: h.code, level: h.level, description: h.description })
    entries.push({ hit, haystack: normalise(`${h.code} ${h.description}`) })
  }
  for (const l of lines.values()) {
    const hit: HsSearchHit = Object.freeze({ code: l.code, level: 8, description: l.nameEn, descriptionZh: l.nameZh })
    entries.push({ hit, haystack: normalise(`${l.code} ${l.nameEn} ${l.nameZh}`) })
  }
  // Plain string order puts every code right before its children (01, 0101, 010121, 01012100, 010129…).
  entries.sort((a, b) => (a.hit.code < b.hit.code ? -1 : a.hit.code > b.hit.code ? 1 : 0))
  const codes = entries.map((e) => e.hit.code)

  return (q: string, limit: number): HsSearchHit[] => {
    const max = Math.max(0, Math.floor(limit) || 0)
    const query = normalise(q).trim()
    if (max === 0 || query === '') return []
    const hits: HsSearchHit[] = []

    const digits = query.replace(/[.\s]/g, '')
    if (/^\d+$/.test(digits)) {
      // A 10-digit CodeTS (or 13 with the CIQ code) should still find its 8-digit line; digits 9+ are not in our data.
      const prefix = digits.slice(0, 8)
      for (let i = lowerBound(codes, prefix); i < entries.length && hits.length < max; i++) {
        const entry = entries[i]!
        if (!entry.hit.code.startsWith(prefix)) break
        hits.push(entry.hit)
      }
      return hits
    }

    const words = query.split(/\s+/)
    for (const entry of entries) {
      if (words.every((w) => entry.haystack.includes(w))) {
        hits.push(entry.hit)
        if (hits.length >= max) break
      }
    }
    return hits
  }
}

/** First index whose value is >= `target` in a sorted array. */
function lowerBound(sorted: readonly string[], target: string): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < target) lo = mid + 1
    else hi = mid
  }
  return lo
}
