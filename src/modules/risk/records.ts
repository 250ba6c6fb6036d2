import type { DeclarationContent } from '../declarations/index.js'
import type { CreditLevel } from '../enterprises/index.js'
import { dayOf, type RiskRecord } from './features.js'

/** Credit level as the ordinal feature the model sees (higher = less trusted). */
export const CREDIT_ORDINAL: Record<CreditLevel, number> = {
  ADVANCED_CERTIFIED: 0,
  CERTIFIED: 1,
  REGULAR: 2,
  DISHONEST: 3,
  SERIOUSLY_DISHONEST: 4,
}

/** Finding categories that make a fraud critical (a threat to public safety), as KCS's `Critical Fraud = 2`. */
export const CRITICAL_CATEGORIES = new Set(['PROHIBITED', 'DANGEROUS_GOODS', 'IP_INFRINGEMENT', 'QUALITY_SAFETY'])

/**
 * The risk records of a declaration, one per item: the declaration's header with the item's code, origin,
 * value (converted to CNY with `cnyPerUnit`) and its share of the net mass.
 */
export function declarationRecords(d: {
  id: string
  submittedAt: string | Date
  content: DeclarationContent
  traderCredit?: CreditLevel | undefined
  rulesFired?: string[] | undefined
  cnyPerUnit?: number | undefined
}): RiskRecord[] {
  const c = d.content
  const rate = d.cnyPerUnit ?? 1
  const total = c.items.reduce((s, it) => s + Number(it.totalValue), 0)
  const net = Number(c.netMassKg)
  return c.items.map((it, i) => {
    const value = Number(it.totalValue)
    return {
      id: `${d.id}/${i + 1}`,
      day: dayOf(typeof d.submittedAt === 'string' ? new Date(d.submittedAt) : d.submittedAt),
      office: c.customsDistrict,
      processType: c.ieFlag,
      importType: c.tradeMode,
      importUse: c.transactionTerms,
      paymentType: c.currency,
      transport: c.transportMode,
      declarant: c.declarantCode,
      importer: c.traderCode,
      seller: c.ownerCode ?? '',
      courier: c.iePort,
      hs: it.hsCode,
      departure: c.departureCountry ?? c.tradeCountry,
      origin: it.originCountry,
      originIndicator: it.originCountry === (c.departureCountry ?? c.tradeCountry) ? 'Y' : 'N',
      taxRate: NaN,
      taxType: c.cutMode ?? '',
      netMassKg: total > 0 ? (net * value) / total : net / c.items.length,
      value: value * rate,
      quantity: Number(it.quantity),
      credit: d.traderCredit ? CREDIT_ORDINAL[d.traderCredit] : NaN,
      rulesFired: d.rulesFired ?? [],
    }
  })
}
