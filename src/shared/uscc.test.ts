import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { USCC_ALPHABET, usccCheckChar, usccProblem, withUsccCheck } from './uscc.js'

const ALPHABET = [...USCC_ALPHABET]
const usccChar = fc.constantFrom(...ALPHABET)
/** Any 17 characters of the GB 32100 alphabet: the body of a USCC. */
const body17 = fc.string({ unit: usccChar, minLength: 17, maxLength: 17 })
/** A valid USCC: a random body plus its computed check character. */
const validUscc = body17.map(withUsccCheck)

/** Replaces the character at `i` with `ch`. */
const replaceAt = (s: string, i: number, ch: string) => s.slice(0, i) + ch + s.slice(i + 1)

describe('USCC check character (GB 32100-2015)', () => {
  it('accepts the DOMAIN example 91350100M000100Y43 (Σ = 1640, mod 31 = 28, check 3)', () => {
    expect(usccCheckChar('91350100M000100Y4')).toBe('3')
    expect(usccProblem('91350100M000100Y43')).toBeUndefined()
  })

  it('uses weights 3^(i-1) mod 31 and the 31-symbol alphabet without I O Z S V', () => {
    expect(USCC_ALPHABET).toHaveLength(31)
    expect(USCC_ALPHABET).not.toMatch(/[IOZSV]/)
    // A body with a single 1 at position i has Σ = w_i, so its check value is (31 − w_i) mod 31.
    const weights = Array.from({ length: 17 }, (_, i) => {
      const c = usccCheckChar(replaceAt('0'.repeat(17), i, '1'))!
      return (31 - USCC_ALPHABET.indexOf(c)) % 31
    })
    expect(weights).toEqual(Array.from({ length: 17 }, (_, i) => 3 ** i % 31))
    expect(weights).toEqual([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
  })

  it('maps a sum divisible by 31 to check character 0 (31 → 0)', () => {
    expect(usccCheckChar('0'.repeat(17))).toBe('0')
    expect(usccProblem('0'.repeat(18))).toBeUndefined()
  })

  it('refuses lowercase, as the standard allows uppercase only', () => {
    expect(usccProblem('91350100m000100y43')).toBe('CHARACTER')
    expect(usccCheckChar('91350100m000100y4')).toBeUndefined()
  })

  it('reports the length before anything else', () => {
    expect(usccProblem('')).toBe('LENGTH')
    expect(usccProblem('91350100M000100Y4')).toBe('LENGTH')
    expect(usccProblem('91350100M000100Y433')).toBe('LENGTH')
  })

  it('refuses the five letters the alphabet leaves out', () => {
    for (const ch of 'IOZSV') expect(usccProblem(replaceAt('91350100M000100Y43', 8, ch))).toBe('CHARACTER')
  })

  it('detects every single substitution of the DOMAIN example (exhaustive: 18 positions × 30 characters)', () => {
    const code = '91350100M000100Y43'
    const missed: string[] = []
    for (let i = 0; i < 18; i++) {
      for (const ch of ALPHABET) {
        if (ch === code[i]) continue
        const changed = replaceAt(code, i, ch)
        if (usccProblem(changed) !== 'CHECK') missed.push(changed)
      }
    }
    expect(missed).toEqual([])
  })

  test.prop([body17])('any 17 alphabet characters plus the computed check character are valid', (body) => {
    const code = withUsccCheck(body)
    expect(code).toHaveLength(18)
    expect(code.startsWith(body)).toBe(true)
    expect(usccProblem(code)).toBeUndefined()
  })

  // Why every substitution is caught: 31 is prime and each weight 3^(i-1) mod 31 is non-zero, so changing one
  // value by d (0 < |d| < 31) changes Σ by d·w ≢ 0 (mod 31); the check position maps values 1:1 to characters.
  test.prop([validUscc, fc.integer({ min: 0, max: 17 }), fc.integer({ min: 1, max: 30 })])(
    'changing any single character to another alphabet character makes the code invalid',
    (code, i, shift) => {
      const other = USCC_ALPHABET[(USCC_ALPHABET.indexOf(code[i]!) + shift) % 31]!
      expect(other).not.toBe(code[i])
      expect(usccProblem(replaceAt(code, i, other))).toBe('CHECK')
    },
  )

  // Also true, for the same reason (the 17 weights are pairwise distinct mod 31): swapping two different
  // characters of the body is caught. A swap with the check character itself is not covered by the weights.
  test.prop([validUscc, fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 16 })])(
    'swapping two different characters among the first 17 makes the code invalid',
    (code, i, j) => {
      fc.pre(code[i] !== code[j])
      const swapped = replaceAt(replaceAt(code, i, code[j]!), j, code[i]!)
      expect(usccProblem(swapped)).toBe('CHECK')
    },
  )

  test.prop([validUscc, fc.integer({ min: 0, max: 17 })])(
    'lowercasing any letter of a valid code is refused as CHARACTER',
    (code, i) => {
      fc.pre(/[A-Z]/.test(code[i]!))
      expect(usccProblem(replaceAt(code, i, code[i]!.toLowerCase()))).toBe('CHARACTER')
    },
  )

  test.prop([fc.string({ unit: 'binary', maxLength: 40 })])('arbitrary strings never throw and get a verdict', (s) => {
    const p = usccProblem(s)
    expect(p === undefined || p === 'LENGTH' || p === 'CHARACTER' || p === 'CHECK').toBe(true)
    const c = usccCheckChar(s)
    expect(c === undefined || USCC_ALPHABET.includes(c)).toBe(true)
  })

  // 18 UTF-16 code units, lone surrogates included.
  const any18 = fc
    .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 18, maxLength: 18 })
    .map((units) => String.fromCharCode(...units))
  test.prop([any18])('an 18-character string is valid only if its check character matches', (s) => {
    const p = usccProblem(s)
    if (p === undefined) expect(usccCheckChar(s.slice(0, 17))).toBe(s[17])
    else expect(p).not.toBe('LENGTH')
  })

  it('withUsccCheck refuses a body outside the alphabet with a RangeError', () => {
    expect(() => withUsccCheck('91350100m000100y4')).toThrow(RangeError)
    expect(() => withUsccCheck('91350100M000100I4')).toThrow(RangeError)
  })

  it('usccCheckChar and withUsccCheck refuse a body shorter than 17 characters', () => {
    expect(usccCheckChar('9135')).toBeUndefined()
    expect(() => withUsccCheck('9135')).toThrow(RangeError)
  })
})
