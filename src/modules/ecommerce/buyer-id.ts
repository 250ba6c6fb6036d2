/**
 * Resident identity card number (居民身份证号码), GB 11643-1999, as checked on CEB `buyerIdNumber` /
 * `payerIdNumber` (DOMAIN §5 "Buyer ID"): 18 characters = address code (6) + birth date `YYYYMMDD` (8) +
 * sequence (3, odd = male) + check character over the first 17 digits (ISO 7064 MOD 11-2).
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
/** Check character indexed by Σ dᵢwᵢ mod 11 (DOMAIN §5). */
const CHECK_CHARS = '10X98765432'
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** What is wrong with a buyer ID, in the order it is tested. */
export type BuyerIdProblem = 'LENGTH' | 'CHARACTER' | 'CHECK' | 'BIRTH_DATE'

/** Check character for 17 digits, or undefined if `first17` is not exactly 17 ASCII digits. */
export function buyerIdCheckChar(first17: string): string | undefined {
  if (!/^[0-9]{17}$/.test(first17)) return undefined
  let sum = 0
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i]!
  return CHECK_CHARS[sum % 11]
}

/** True when `yyyymmdd` (8 digits) is a real Gregorian date. */
function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!
  return d <= days
}

/**
 * Returns what is wrong with an 18-character resident ID, or undefined when it is valid:
 * - `LENGTH`: not 18 characters;
 * - `CHARACTER`: the first 17 are not all ASCII digits, or the last is not a digit or uppercase `X`
 *   (DOMAIN: "uppercase X" — a lowercase `x` is refused, as in the USCC check);
 * - `BIRTH_DATE`: characters 7–14 are not a real date, or the date is after `today`;
 * - `CHECK`: the check character does not match.
 * The address code is not checked (DOMAIN: "a soft check only"); nor is a lower bound on the birth year.
 *
 * @param today the China date (`Asia/Shanghai`) of the check, `YYYY-MM-DD`; injected, never read from a clock.
 * @throws RangeError when `today` is not a real `YYYY-MM-DD` date (a caller bug, not a document problem).
 */
export function buyerIdProblem(id: string, today: string): BuyerIdProblem | undefined {
  const t = DATE.exec(today)
  if (!t || !isRealDate(Number(t[1]), Number(t[2]), Number(t[3])))
    throw new RangeError(`today must be YYYY-MM-DD: ${today}`)
  if (id.length !== 18) return 'LENGTH'
  if (!/^[0-9]{17}[0-9X]$/.test(id)) return 'CHARACTER'
  // Birth date before the check: an impossible date points at the faulty characters more precisely.
  const y = Number(id.slice(6, 10))
  const m = Number(id.slice(10, 12))
  const d = Number(id.slice(12, 14))
  if (!isRealDate(y, m, d)) return 'BIRTH_DATE'
  // Same-width `YYYYMMDD` strings compare like dates.
  if (id.slice(6, 14) > `${t[1]}${t[2]}${t[3]}`) return 'BIRTH_DATE'
  return buyerIdCheckChar(id.slice(0, 17)) === id[17] ? undefined : 'CHECK'
}

/**
 * Appends the GB 11643 check character to 17 digits: for factories and the simulator.
 * @throws RangeError when `first17` is not exactly 17 ASCII digits.
 */
export function withBuyerIdCheck(first17: string): string {
  const c = buyerIdCheckChar(first17)
  if (c === undefined) throw new RangeError(`not a resident ID body (17 digits): ${first17}`)
  return first17 + c
}
