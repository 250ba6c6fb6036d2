import Big from 'big.js'
import type { DeclarationContent, State } from './schema.js'
import type { ErrorItem } from '../../errors.js'
import type { Reference } from '../reference/index.js'

/**
 * The declaration state machine. Green/blue lanes release at assessment; yellow (documents) and red
 * (physical) go through INSPECTING; detained goods are released or returned after disposal; released and
 * returned declarations close (结关).
 */
export const TRANSITIONS: Readonly<Record<State, readonly State[]>> = {
  SUBMITTED: ['ACCEPTED', 'REJECTED'],
  ACCEPTED: ['ASSESSED'],
  REJECTED: [],
  ASSESSED: ['RELEASED', 'INSPECTING'],
  INSPECTING: ['RELEASED', 'DETAINED', 'RETURNED'],
  DETAINED: ['RELEASED', 'RETURNED'],
  RELEASED: ['CLEARED'],
  RETURNED: ['CLEARED'],
  CLEARED: [],
}

export const canTransition = (from: State, to: State) => TRANSITIONS[from].includes(to)

/** Timestamp column set when a declaration enters a state. */
export const STATE_TIME_COLUMN: Partial<Record<State, string>> = {
  ACCEPTED: 'accepted_at',
  REJECTED: 'rejected_at',
  ASSESSED: 'assessed_at',
  INSPECTING: 'inspection_ordered_at',
  RELEASED: 'released_at',
  DETAINED: 'detained_at',
  RETURNED: 'returned_at',
  CLEARED: 'cleared_at',
}

/**
 * Entry number (报关单号, EntryId): 4-digit accepting district, 4-digit year, 1 import / 0 export,
 * 9-digit sequence.
 */
export function entryId(district: string, year: number, ieFlag: 'I' | 'E', seq: number): string {
  if (seq < 1 || seq > 999_999_999) throw new RangeError(`sequence ${seq} out of range`)
  return `${district}${year}${ieFlag === 'I' ? '1' : '0'}${String(seq).padStart(9, '0')}`
}

/** The year in China (Asia/Shanghai, UTC+8, no DST) of a UTC instant: legal dates are China dates. */
export function chinaYear(at: Date): number {
  return new Date(at.getTime() + 8 * 3600_000).getUTCFullYear()
}

const pointer = (path: string) => `/body${path}`

/**
 * Checks of a declaration's content against the code tables and its own arithmetic, beyond what the schema
 * says. Returns every problem with a JSON Pointer; an empty list means the content is acceptable.
 */
export function contentProblems(d: DeclarationContent, ref: Reference): ErrorItem[] {
  const out: ErrorItem[] = []
  const bad = (code: string, message: string, path: string) => out.push({ code, message, pointer: pointer(path) })
  if (!ref.tradeMode(d.tradeMode))
    bad('REFERENCE_UNKNOWN_TRADE_MODE', `unknown trade mode ${d.tradeMode}`, '/tradeMode')
  if (!ref.transportMode(d.transportMode))
    bad('REFERENCE_UNKNOWN_TRANSPORT_MODE', `unknown transport mode ${d.transportMode}`, '/transportMode')
  if (!ref.transactionTerms(d.transactionTerms))
    bad('REFERENCE_UNKNOWN_TRANSACTION_TERMS', `unknown transaction terms ${d.transactionTerms}`, '/transactionTerms')
  if (!ref.currency(d.currency)) bad('REFERENCE_UNKNOWN_CURRENCY', `unknown currency ${d.currency}`, '/currency')
  if (!ref.countryByIso3(d.tradeCountry))
    bad('REFERENCE_UNKNOWN_COUNTRY', `unknown country ${d.tradeCountry}`, '/tradeCountry')
  if (d.departureCountry && !ref.countryByIso3(d.departureCountry))
    bad('REFERENCE_UNKNOWN_COUNTRY', `unknown country ${d.departureCountry}`, '/departureCountry')
  for (const [name, c] of [
    ['freight', d.freight],
    ['insurance', d.insurance],
  ] as const) {
    if (c && !ref.currency(c.currency))
      bad('REFERENCE_UNKNOWN_CURRENCY', `unknown currency ${c.currency}`, `/${name}/currency`)
  }
  const gross = new Big(d.grossMassKg)
  const net = new Big(d.netMassKg)
  if (net.lte(0)) bad('DECLARATION_NET_MASS_NOT_POSITIVE', 'net mass must be greater than 0', '/netMassKg')
  if (gross.lt(net)) bad('DECLARATION_GROSS_BELOW_NET', 'gross mass must be at least the net mass', '/grossMassKg')
  d.items.forEach((it, i) => {
    const p = `/items/${i}`
    const line = ref.tariffLine(it.hsCode.slice(0, 8))
    if (!ref.hs(it.hsCode.slice(0, 6)))
      bad('REFERENCE_UNKNOWN_HS', `${it.hsCode.slice(0, 6)} is not an HS2022 subheading`, `${p}/hsCode`)
    else if (!line)
      bad('REFERENCE_UNKNOWN_TARIFF_LINE', `${it.hsCode.slice(0, 8)} is not a China tariff line`, `${p}/hsCode`)
    if (!ref.unit(it.unit)) bad('REFERENCE_UNKNOWN_UNIT', `unknown unit ${it.unit}`, `${p}/unit`)
    if (!ref.countryByIso3(it.originCountry))
      bad('REFERENCE_UNKNOWN_COUNTRY', `unknown country ${it.originCountry}`, `${p}/originCountry`)
    if (it.destinationCountry && !ref.countryByIso3(it.destinationCountry))
      bad('REFERENCE_UNKNOWN_COUNTRY', `unknown country ${it.destinationCountry}`, `${p}/destinationCountry`)
    const qty = new Big(it.quantity)
    if (qty.lte(0)) bad('DECLARATION_QUANTITY_NOT_POSITIVE', 'quantity must be greater than 0', `${p}/quantity`)
    if (new Big(it.unitPrice).lte(0))
      bad('DECLARATION_PRICE_NOT_POSITIVE', 'unit price must be greater than 0', `${p}/unitPrice`)
    // DeclTotal = GQty × DeclPrice, rounded to fen; allow one fen either way for the declarant's rounding.
    const expected = qty.times(it.unitPrice).round(2, Big.roundHalfUp)
    if (expected.minus(it.totalValue).abs().gt('0.01')) {
      bad(
        'DECLARATION_TOTAL_MISMATCH',
        `total value ${it.totalValue} is not quantity × unit price (${expected.toFixed(2)})`,
        `${p}/totalValue`,
      )
    }
  })
  return out
}

/** Sum of item values in the declaration currency, as a decimal string with 2 places. */
export function totalValue(d: DeclarationContent): string {
  return d.items.reduce((s, it) => s.plus(it.totalValue), new Big(0)).toFixed(2)
}
