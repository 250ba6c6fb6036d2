/**
 * Seeded generation of declarations with hidden truth (which fraud, if any, each one hides), and of the
 * result an examining officer would record. Pure: all randomness comes from the `rng` argument.
 */
import Big from 'big.js'
import type { DeclarationContent, Item } from '../modules/declarations/index.js'
import type { CreditLevel } from '../modules/enterprises/index.js'
import type { Disposal, FindingCategory, InspectionResult } from '../modules/inspections/index.js'
import {
  COUNTRY_CURRENCY,
  FTA_PARTNERS,
  MEASURE_UNITS,
  NON_FTA_ORIGINS,
  logNormal,
  perUsd,
  pick,
  pickCumulative,
  randInt,
  uniform,
  type Rng,
  type SimEnterprise,
  type SimLine,
  type World,
} from './world.js'

/** The kinds of fraud the simulator hides in declarations. */
export const FRAUD_KINDS = ['UNDERVALUATION', 'MISCLASSIFICATION', 'ORIGIN', 'CONCEALMENT', 'QUANTITY'] as const
/** One kind of fraud. */
export type FraudKind = (typeof FRAUD_KINDS)[number]
/** Probability per declaration of each fraud kind, before the enterprise's propensity multiplies it. */
export type FraudRates = Record<FraudKind, number>

/** Default fraud rates per declaration (mean over traders). */
export const DEFAULT_FRAUD_RATES: Readonly<FraudRates> = {
  UNDERVALUATION: 0.03,
  MISCLASSIFICATION: 0.02,
  ORIGIN: 0.015,
  CONCEALMENT: 0.005,
  QUANTITY: 0.01,
}
/** Cap on the per-declaration probability of one kind, however dishonest the trader. */
const MAX_KIND_PROBABILITY = 0.9
/**
 * Evaded duty and VAT from which a case is critical (opened as a smuggling case): 100,000 CNY, the threshold
 * of "relatively large" evasion for smuggling ordinary goods [M]. Configurable.
 */
export const DEFAULT_CRITICAL_TAX_CNY = 100_000
const VAT = 0.13
const CNY_PER_USD = 7.1

/** The truth about one declared item. */
export interface ItemTruth {
  /** True 8-digit tariff line (differs from the declared one under misclassification). */
  hsCode8: string
  /** True transaction price, USD per unit. */
  unitPriceUsd: number
  /** True quantity, in the line's unit. */
  quantity: number
  /** True origin (ISO alpha-3). */
  originCountry: string
  kinds: FraudKind[]
}

/** Goods hidden in the consignment (concealment); never declared. */
export interface ConcealedGoods {
  hsCode8: string
  description: string
  quantity: number
  unit: string
  valueUsd: number
  category: 'PROHIBITED' | 'RESTRICTED' | 'DUTIABLE'
}

/** What really is in a declaration; the simulator keeps it hidden from the server. */
export interface Truth {
  fraud: boolean
  kinds: FraudKind[]
  /** Serious enough for a case: prohibited goods hidden, or evaded taxes of at least the critical threshold. */
  critical: boolean
  /** Duty and VAT evaded, CNY, in total and per kind. */
  evadedTaxCny: number
  evadedByKind: Partial<Record<FraudKind, number>>
  items: ItemTruth[]
  concealed: ConcealedGoods[]
  enterprise: number
  creditLevel: CreditLevel
}

/** A generated declaration: content to sign and submit, truth to keep. */
export interface GeneratedDeclaration {
  content: DeclarationContent
  truth: Truth
  enterprise: SimEnterprise
}

/** Options of {@link generateDeclaration}. */
export interface GenerateOptions {
  /** Fraud rates per kind (defaults {@link DEFAULT_FRAUD_RATES}). */
  rates?: Partial<FraudRates>
  /** Client reference; a random one when absent (callers that submit must make it unique). */
  clientRef?: string
  /** Force the declaring enterprise (index into `world.enterprises`). */
  enterprise?: number
  /** Most items per declaration (default 20, at most 50). */
  maxItems?: number
  /** Evaded-tax threshold of a critical case, CNY (default {@link DEFAULT_CRITICAL_TAX_CNY}). */
  criticalTaxCny?: number
}

// ---------------------------------------------------------------------------------------------------------
// Formatting decimals as the API wants them: plain notation, no trailing zeros.

/** `x` rounded to `dp` decimals as a plain decimal string without trailing zeros. */
export function decimal(x: number, dp: number): string {
  const s = x.toFixed(dp)
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
}

/** A positive quantity in a unit: whole pieces for count units, sensible precision for measures. */
function roundQuantity(q: number, unit: string): number {
  if (!MEASURE_UNITS.has(unit)) return Math.max(1, Math.round(q))
  const dp = q >= 100 ? 0 : q >= 1 ? 2 : 3
  return Math.max(10 ** -dp, Number(q.toFixed(dp)))
}

const ALNUM = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ'
const chars = (rng: Rng, alphabet: string, n: number) => {
  let s = ''
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng() * alphabet.length)]
  return s
}
const digits = (rng: Rng, n: number) => chars(rng, '0123456789', n)

const ITEM_COUNT_CUM = [45, 65, 77, 85, 90, 92, 94, 95.5, 96.5, 97.5, 98, 98.5, 99, 99.3, 99.6, 100] // P(1..16 items), in %
const CARRIERS = ['COSU', 'MAEU', 'MSCU', 'ONEY', 'EGLV', 'CMDU', 'HLCU', 'OOLU']
const AIRLINES = ['CA', 'MU', 'CZ', 'CX', 'LH', 'KE', 'NH', 'SQ']
const BRANDS = ['无品牌', 'Aurora', 'Nordwind', 'Kestrel', 'Meridian', 'Solano', 'Tessaro', 'Vantor', 'Halcyon']
const LAND_NEIGHBOURS = new Set(['RUS', 'KAZ', 'VNM', 'MNG', 'HKG', 'LAO', 'MMR'])

/** Goods found hidden in consignments, by category (prohibited → case; restricted → return; dutiable → back-tax). */
const CONCEALED_GOODS: Readonly<Record<ConcealedGoods['category'], readonly string[]>> = {
  PROHIBITED: ['93020000', '05071000', '39151000', '63090000'],
  RESTRICTED: ['30049090', '90189099', '29339900'],
  DUTIABLE: ['24022000', '91021100', '42022100', '85171300'],
}

interface Draft {
  trueLine: SimLine
  declLine: SimLine
  truePriceUsd: number
  declPriceUsd: number
  trueQty: number
  declQty: number
  trueOrigin: string
  declOrigin: string
  kinds: FraudKind[]
}

function draftItem(rng: Rng, line: SimLine, origin: string): Draft {
  // Honest prices spread ±(at most 30-40)% around the reference; shipment values are log-normal around 15k USD.
  const truePriceUsd = line.priceUsd * Math.min(1.4, Math.max(0.7, logNormal(rng, 0.15)))
  const targetValue = Math.min(5_000_000, Math.max(200, 15_000 * logNormal(rng, 1.1)))
  const qty = roundQuantity(targetValue / truePriceUsd, line.unit)
  return {
    trueLine: line,
    declLine: line,
    truePriceUsd,
    declPriceUsd: truePriceUsd,
    trueQty: qty,
    declQty: qty,
    trueOrigin: origin,
    declOrigin: origin,
    kinds: [],
  }
}

function pickLine(rng: Rng, world: World, e: SimEnterprise): SimLine {
  if (rng() < 0.9 && e.catalogue.length) {
    const l = world.model.line(pick(rng, e.catalogue))
    if (l) return l
  }
  const lines = world.model.byChapter.get(pick(rng, e.chapters))
  return lines && lines.length ? pick(rng, lines) : pick(rng, world.model.lines)
}

/** Some of `n` indices, each with probability `p`, at least one. */
function someIndices(rng: Rng, n: number, p: number): number[] {
  const out: number[] = []
  for (let i = 0; i < n; i++) if (rng() < p) out.push(i)
  return out.length ? out : [Math.floor(rng() * n)]
}

const taxFactor = (ratePct: number) => ratePct / 100 + VAT * (1 + ratePct / 100)

/**
 * Generates one import declaration of a trader drawn by activity (or `opts.enterprise`), honest or hiding
 * fraud with probability rate × the trader's propensity per kind. The declared content is always internally
 * consistent (codes from the reference data, totalValue = quantity × unitPrice to 2 dp, gross ≥ net > 0):
 * fraud is in what it hides, not in its arithmetic.
 *
 * - UNDERVALUATION: some items declare 30–60% of the true price;
 * - MISCLASSIFICATION: one item declares a sibling line of the same HS4 with a lower duty rate;
 * - ORIGIN: some items declare a free-trade partner instead of their true (non-preferential) origin;
 * - QUANTITY: one item declares 50–85% of the true quantity;
 * - CONCEALMENT: undeclared goods travel with the consignment (truth only).
 */
export function generateDeclaration(world: World, rng: Rng, opts: GenerateOptions = {}): GeneratedDeclaration {
  const rates = { ...DEFAULT_FRAUD_RATES, ...(opts.rates ?? {}) }
  const e =
    opts.enterprise !== undefined
      ? world.enterprises[opts.enterprise]
      : world.enterprises[pickCumulative(rng, world.cumActivity)]
  if (!e) throw new RangeError(`no enterprise ${opts.enterprise}`)
  const kinds = FRAUD_KINDS.filter((k) => rng() < Math.min(MAX_KIND_PROBABILITY, rates[k] * e.propensity))

  const tradeCountry = pick(rng, e.partners)
  const maxItems = Math.max(1, Math.min(50, opts.maxItems ?? 20))
  const nItems = Math.min(maxItems, pickCumulative(rng, ITEM_COUNT_CUM) + 1)
  const items: Draft[] = []
  const used = new Set<string>()
  for (let i = 0; i < nItems; i++) {
    let line = pickLine(rng, world, e)
    for (let tries = 0; used.has(line.code) && tries < 3; tries++) line = pickLine(rng, world, e)
    used.add(line.code)
    const origin = rng() < 0.8 ? tradeCountry : pick(rng, e.partners)
    items.push(draftItem(rng, line, origin))
  }

  const evadedByKind: Partial<Record<FraudKind, number>> = {}
  const addEvaded = (k: FraudKind, cny: number) => {
    evadedByKind[k] = (evadedByKind[k] ?? 0) + Math.max(0, cny)
  }

  if (kinds.includes('MISCLASSIFICATION')) {
    let i = items.findIndex((d) => world.model.lowerRateSibling(d.trueLine.code))
    if (i < 0) {
      // None of the goods has a cheaper sibling: the trader brings goods that do.
      const own = world.model.misclassifiable.filter((l) => e.chapters.includes(l.chapter))
      const line = pick(rng, own.length ? own : world.model.misclassifiable)
      i = Math.floor(rng() * items.length)
      items[i] = draftItem(rng, line, items[i]!.trueOrigin)
    }
    const d = items[i]!
    d.declLine = world.model.lowerRateSibling(d.trueLine.code)!
    d.kinds.push('MISCLASSIFICATION')
    addEvaded(
      'MISCLASSIFICATION',
      d.truePriceUsd * d.trueQty * CNY_PER_USD * ((d.trueLine.rate - d.declLine.rate) / 100) * (1 + VAT),
    )
  }
  if (kinds.includes('QUANTITY')) {
    const d = items[Math.floor(rng() * items.length)]!
    if (d.trueQty < 2 && !MEASURE_UNITS.has(d.trueLine.unit)) d.trueQty = randInt(rng, 2, 6)
    let declared = roundQuantity(d.trueQty * uniform(rng, 0.5, 0.85), d.trueLine.unit)
    if (declared >= d.trueQty)
      declared = MEASURE_UNITS.has(d.trueLine.unit) ? roundQuantity(d.trueQty / 2, d.trueLine.unit) : d.trueQty - 1
    d.declQty = declared
    d.kinds.push('QUANTITY')
    addEvaded('QUANTITY', (d.trueQty - d.declQty) * d.truePriceUsd * CNY_PER_USD * taxFactor(d.trueLine.rate))
  }
  if (kinds.includes('UNDERVALUATION')) {
    for (const i of someIndices(rng, items.length, 0.6)) {
      const d = items[i]!
      d.declPriceUsd = d.truePriceUsd * uniform(rng, 0.3, 0.6)
      d.kinds.push('UNDERVALUATION')
      addEvaded(
        'UNDERVALUATION',
        (d.truePriceUsd - d.declPriceUsd) * d.declQty * CNY_PER_USD * taxFactor(d.trueLine.rate),
      )
    }
  }
  let transshipVia: string | undefined
  if (kinds.includes('ORIGIN')) {
    const fta = FTA_PARTNERS.filter((c) => c !== tradeCountry)
    const preferred = e.partners.filter((c) => FTA_PARTNERS.includes(c))
    for (const i of someIndices(rng, items.length, 0.7)) {
      const d = items[i]!
      if (FTA_PARTNERS.includes(d.trueOrigin)) d.trueOrigin = pick(rng, NON_FTA_ORIGINS)
      d.declOrigin = preferred.length && rng() < 0.6 ? pick(rng, preferred) : pick(rng, fta)
      if (d.declOrigin === d.trueOrigin) d.declOrigin = FTA_PARTNERS.find((c) => c !== d.trueOrigin)!
      transshipVia ??= d.declOrigin
      d.kinds.push('ORIGIN')
      // The preferential rate claimed is taken as zero.
      addEvaded('ORIGIN', d.truePriceUsd * d.trueQty * CNY_PER_USD * (d.trueLine.rate / 100) * (1 + VAT))
    }
  }
  const concealed: ConcealedGoods[] = []
  if (kinds.includes('CONCEALMENT')) {
    const r = rng()
    const category: ConcealedGoods['category'] = r < 0.3 ? 'PROHIBITED' : r < 0.55 ? 'RESTRICTED' : 'DUTIABLE'
    const candidates = CONCEALED_GOODS[category].map((c) => world.model.line(c)).filter((l): l is SimLine => !!l)
    const line = candidates.length ? pick(rng, candidates) : pick(rng, world.model.lines)
    const quantity = roundQuantity(Math.min(1e6, Math.max(1, (8000 * logNormal(rng, 1)) / line.priceUsd)), line.unit)
    const valueUsd = Math.round(quantity * line.priceUsd * 100) / 100
    concealed.push({ hsCode8: line.code, description: line.description, quantity, unit: line.unit, valueUsd, category })
    addEvaded('CONCEALMENT', valueUsd * CNY_PER_USD * taxFactor(line.rate))
  }

  // Header.
  const r = rng()
  const currency = r < 0.62 ? 'USD' : r < 0.92 ? (COUNTRY_CURRENCY[tradeCountry] ?? 'USD') : 'CNY'
  const fx = perUsd(currency)
  const processing = e.manualNo !== null && rng() < 0.6
  const tradeMode = processing ? (e.manualNo!.startsWith('C') ? '0615' : '0214') : '0110'
  const cutMode = processing ? (tradeMode === '0615' ? '503' : '502') : '101'

  const declItems: Item[] = items.map((d) => {
    const unitPrice = Math.max(0.0001, Number((d.declPriceUsd * fx).toFixed(4)))
    const quantity = decimal(d.declQty, 5)
    const price = decimal(unitPrice, 4)
    return {
      hsCode: `${d.declLine.code}00`,
      description: d.declLine.description,
      model: `品牌:${pick(rng, BRANDS)}|型号:${chars(rng, ALNUM, 2)}-${digits(rng, 4)}`,
      quantity,
      unit: d.declLine.unit,
      unitPrice: price,
      totalValue: new Big(quantity).times(price).round(2, Big.roundHalfUp).toFixed(2),
      originCountry: d.declOrigin,
    }
  })
  const netKg = Math.max(0.01, Number(items.reduce((s, d) => s + d.declQty * d.declLine.kgPerUnit, 0).toFixed(3)))
  const grossKg = Math.ceil(netKg * uniform(rng, 1.03, 1.15) * 1000 + 1) / 1000
  const valueUsd = items.reduce((s, d) => s + d.declQty * d.declPriceUsd, 0)

  const density = valueUsd / netKg
  const land = LAND_NEIGHBOURS.has(tradeCountry) && rng() < 0.4
  const transportMode = land
    ? tradeCountry === 'HKG' || rng() < 0.6
      ? '4'
      : '3'
    : density > 80 && rng() < 0.75
      ? '5'
      : '2'
  const billNo =
    transportMode === '2'
      ? `${pick(rng, CARRIERS)}${digits(rng, 10)}`
      : transportMode === '5'
        ? `${digits(rng, 3)}-${digits(rng, 8)}`
        : `${transportMode === '3' ? 'RW' : 'RD'}${digits(rng, 10)}`
  const voyageNo =
    transportMode === '2'
      ? `${digits(rng, 3)}${pick(rng, ['E', 'W', 'N', 'S'])}`
      : transportMode === '5'
        ? `${pick(rng, AIRLINES)}${digits(rng, 4)}`
        : undefined

  const t = rng()
  const transactionTerms = t < 0.55 ? '1' : t < 0.85 ? '3' : '2'
  const totalDeclared = declItems.reduce((s, it) => s + Number(it.totalValue), 0)
  const freight =
    transactionTerms === '3'
      ? { mark: 3 as const, amount: decimal(Math.max(1, totalDeclared * uniform(rng, 0.02, 0.08)), 2), currency }
      : undefined
  const insurance = transactionTerms !== '1' ? { mark: 1 as const, amount: '0.3', currency } : undefined

  const office = pick(rng, e.offices)
  const content: DeclarationContent = {
    clientRef: opts.clientRef ?? `SIM-${chars(rng, ALNUM, 12)}`,
    ieFlag: 'I',
    customsDistrict: office,
    iePort: rng() < 0.7 ? office : pick(rng, e.offices),
    tradeMode,
    cutMode,
    transportMode,
    transactionTerms,
    currency,
    traderCode: e.customsCode,
    declarantCode: e.customsCode,
    tradeCountry,
    departureCountry: transshipVia ?? tradeCountry,
    billNo,
    ...(voyageNo ? { voyageNo } : {}),
    ...(processing ? { manualNo: e.manualNo! } : {}),
    packages: Math.min(99_999_999, Math.max(1, Math.round(netKg / uniform(rng, 20, 800)))),
    grossMassKg: decimal(grossKg, 3),
    netMassKg: decimal(netKg, 3),
    ...(freight ? { freight } : {}),
    ...(insurance ? { insurance } : {}),
    items: declItems,
  }

  const evadedTaxCny = Math.round(Object.values(evadedByKind).reduce((s, x) => s + x, 0) * 100) / 100
  for (const k of Object.keys(evadedByKind) as FraudKind[]) evadedByKind[k] = Math.round(evadedByKind[k]! * 100) / 100
  const critical =
    concealed.some((c) => c.category === 'PROHIBITED') ||
    evadedTaxCny >= (opts.criticalTaxCny ?? DEFAULT_CRITICAL_TAX_CNY)
  return {
    content,
    truth: {
      fraud: kinds.length > 0,
      kinds,
      critical,
      evadedTaxCny,
      evadedByKind,
      items: items.map((d) => ({
        hsCode8: d.trueLine.code,
        unitPriceUsd: d.truePriceUsd,
        quantity: d.trueQty,
        originCountry: d.trueOrigin,
        kinds: d.kinds,
      })),
      concealed,
      enterprise: e.index,
      creditLevel: e.creditLevel,
    },
    enterprise: e,
  }
}

// ---------------------------------------------------------------------------------------------------------
// Officer

/** How examining officers behave in {@link officerResult}. */
export interface OfficerOptions {
  /** Probability a physical examination finds a given fraud (default 0.9). */
  physicalDetection?: number
  /** Probability a document check finds a given fraud (default 0.6; hidden goods half as often). */
  documentDetection?: number
  /** Share of physical examinations finding a quality or safety defect, fraud or not (default 0.02). */
  qualityIssueRate?: number
  /** Evaded-tax threshold of a case, CNY (default {@link DEFAULT_CRITICAL_TAX_CNY}). */
  criticalTaxCny?: number
}

const FINDING_OF: Readonly<Record<Exclude<FraudKind, 'CONCEALMENT'>, FindingCategory>> = {
  UNDERVALUATION: 'UNDERVALUATION',
  MISCLASSIFICATION: 'MISCLASSIFICATION',
  ORIGIN: 'ORIGIN',
  QUANTITY: 'QUANTITY',
}

/**
 * The result an examining officer records for a declaration with this truth (DOMAIN §4): each fraud is found
 * with the detection probability of the check (physical ≈ 0.9, documents ≈ 0.6), with findings of the
 * matching categories (concealment: PROHIBITED for prohibited goods, OTHER otherwise) and item numbers.
 * Disposal: CASE_OPENED when what was found is critical (prohibited goods, or evaded tax at the threshold);
 * RETURN for restricted goods or a safety defect; TECHNICAL_TREATMENT for a labelling/quality defect;
 * otherwise RELEASE after back-tax. Nothing found: COMPLIANT.
 */
export function officerResult(
  truth: Truth,
  rng: Rng,
  kind: 'PHYSICAL' | 'DOCUMENT' = 'PHYSICAL',
  opts: OfficerOptions = {},
): InspectionResult {
  const pPhysical = opts.physicalDetection ?? 0.9
  const pDocument = opts.documentDetection ?? 0.6
  const findings: InspectionResult['findings'] = []
  const notes: string[] = []
  let disposal = 'RELEASE' as Disposal
  const escalate = (d: Disposal) => {
    const order: Disposal[] = ['RELEASE', 'TECHNICAL_TREATMENT', 'DESTROY', 'RETURN', 'CASE_OPENED']
    if (order.indexOf(d) > order.indexOf(disposal)) disposal = d
  }
  let foundTax = 0
  for (const k of truth.kinds) {
    const p = kind === 'PHYSICAL' ? pPhysical : k === 'CONCEALMENT' ? pDocument / 2 : pDocument
    if (rng() >= p) continue
    foundTax += truth.evadedByKind[k] ?? 0
    if (k === 'CONCEALMENT') {
      for (const c of truth.concealed) {
        findings.push({
          category: c.category === 'PROHIBITED' ? 'PROHIBITED' : 'OTHER',
          note: `undeclared ${c.hsCode8} ${c.description}`.slice(0, 1000),
          affectedQuantity: decimal(c.quantity, 5),
        })
        if (c.category === 'PROHIBITED') escalate('CASE_OPENED')
        else if (c.category === 'RESTRICTED') escalate('RETURN')
      }
      continue
    }
    truth.items.forEach((it, i) => {
      if (it.kinds.includes(k))
        findings.push({ category: FINDING_OF[k], itemNo: i + 1, note: `false declaration: ${k.toLowerCase()}` })
    })
  }
  if (foundTax > 0) notes.push(`back-tax assessed on about ${Math.round(foundTax)} CNY of evaded duty and VAT`)
  if (foundTax >= (opts.criticalTaxCny ?? DEFAULT_CRITICAL_TAX_CNY)) escalate('CASE_OPENED')

  if (kind === 'PHYSICAL' && rng() < (opts.qualityIssueRate ?? 0.02)) {
    const safety = rng() < 1 / 3
    findings.push({
      category: 'QUALITY_SAFETY',
      itemNo: 1 + Math.floor(rng() * truth.items.length),
      note: safety ? 'safety test failed' : 'Chinese labelling missing',
    })
    escalate(safety ? 'RETURN' : 'TECHNICAL_TREATMENT')
  }
  if (findings.length === 0) return { result: 'COMPLIANT', findings: [], disposal: 'RELEASE' }
  if (disposal === 'CASE_OPENED') notes.push('transferred to anti-smuggling')
  return {
    result: 'NON_COMPLIANT',
    findings: findings.slice(0, 50),
    disposal,
    ...(notes.length ? { notes: notes.join('; ') } : {}),
  }
}
