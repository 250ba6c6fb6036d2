/**
 * Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from a 31-symbol alphabet
 * (no I O Z S V), the last a check character over the first 17 with weights 3^(i-1) mod 31.
 */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

/** Check character for the first 17 characters, or undefined if one is outside the alphabet. */
export function usccCheckChar(first17: string): string | undefined {
  if (first17.length !== 17) return undefined
  let sum = 0
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(first17[i] ?? '')
    if (v < 0) return undefined
    sum += v * WEIGHTS[i]!
  }
  const c = (31 - (sum % 31)) % 31
  return USCC_ALPHABET[c]
}

export type UsccProblem = 'LENGTH' | 'CHARACTER' | 'CHECK'

/** Returns what is wrong with a USCC, or undefined when it is valid. Uppercase only, as the standard says. */
export function usccProblem(code: string): UsccProblem | undefined {
  if (code.length !== 18) return 'LENGTH'
  for (const ch of code) if (!USCC_ALPHABET.includes(ch)) return 'CHARACTER'
  return usccCheckChar(code.slice(0, 17)) === code[17] ? undefined : 'CHECK'
}

/** Appends the check character: handy for factories and the simulator. */
export function withUsccCheck(first17: string): string {
  const c = usccCheckChar(first17)
  if (c === undefined) throw new RangeError(`not a USCC body: ${first17}`)
  return first17 + c
}
