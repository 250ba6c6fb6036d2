import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { buyerIdCheckChar, buyerIdProblem, withBuyerIdCheck } from './buyer-id.js'

const TODAY = '2025-08-18'
const CHECK_CHARS = [...'0123456789X']

/** Replaces the character at `i` with `ch`. */
const replaceAt = (s: string, i: number, ch: string) => s.slice(0, i) + ch + s.slice(i + 1)
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n })
const pad = (n: number, w: number) => String(n).padStart(w, '0')

/** A birth date from 1900-01-01 up to TODAY, as YYYYMMDD. */
const birthDate = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date(`${TODAY}T00:00:00Z`), noInvalidDate: true })
  .map((d) => `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`)
/** A valid body: address (6 digits, not checked) + a past birth date + sequence (3 digits). */
const body17 = fc.tuple(digits(6), birthDate, digits(3)).map(([a, b, s]) => a + b + s)
const validId = body17.map(withBuyerIdCheck)

describe('buyer ID (GB 11643)', () => {
  it('accepts the DOMAIN example 110105199003071239 (Σ = 190, 190 mod 11 = 3 → 9)', () => {
    expect(buyerIdCheckChar('11010519900307123')).toBe('9')
    expect(buyerIdProblem('110105199003071239', TODAY)).toBeUndefined()
  })

  it('uses the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 and the table "10X98765432"', () => {
    // A body with a single 1 at position i has Σ = w_i, so its check character is table[w_i mod 11].
    const table = '10X98765432'
    const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for (let i = 0; i < 17; i++)
      expect(buyerIdCheckChar(replaceAt('0'.repeat(17), i, '1'))).toBe(table[weights[i]! % 11])
    expect(buyerIdCheckChar('0'.repeat(17))).toBe('1')
  })

  it('accepts an uppercase X check character and refuses a lowercase x', () => {
    // Σ mod 11 = 2 ⇒ X. Search a body near the example whose check is X.
    let body = ''
    for (let seq = 0; seq < 1000 && !body; seq++) {
      const b = `11010519900307${pad(seq, 3)}`
      if (buyerIdCheckChar(b) === 'X') body = b
    }
    expect(body).toHaveLength(17)
    expect(buyerIdProblem(`${body}X`, TODAY)).toBeUndefined()
    expect(buyerIdProblem(`${body}x`, TODAY)).toBe('CHARACTER')
  })

  it('reports the length before anything else', () => {
    expect(buyerIdProblem('', TODAY)).toBe('LENGTH')
    expect(buyerIdProblem('11010519900307123', TODAY)).toBe('LENGTH')
    expect(buyerIdProblem('1101051990030712399', TODAY)).toBe('LENGTH')
    // A 15-digit first-generation ID is not accepted: CEB requires the 18-character form.
    expect(buyerIdProblem('110105900307123', TODAY)).toBe('LENGTH')
  })

  it('refuses letters in the body and non-ASCII digits', () => {
    expect(buyerIdProblem('11010519900307X239', TODAY)).toBe('CHARACTER')
    expect(buyerIdProblem('１１0105199003071239', TODAY)).toBe('CHARACTER')
    expect(buyerIdProblem('11010519900307123 ', TODAY)).toBe('CHARACTER')
  })

  it('refuses impossible and future birth dates, even with a correct check character', () => {
    expect(buyerIdProblem(withBuyerIdCheck('11010519900230123'), TODAY)).toBe('BIRTH_DATE') // 30 February
    expect(buyerIdProblem(withBuyerIdCheck('11010519901301123'), TODAY)).toBe('BIRTH_DATE') // month 13
    expect(buyerIdProblem(withBuyerIdCheck('11010519900100123'), TODAY)).toBe('BIRTH_DATE') // day 0
    expect(buyerIdProblem(withBuyerIdCheck('11010519000229123'), TODAY)).toBe('BIRTH_DATE') // 1900 not leap
    expect(buyerIdProblem(withBuyerIdCheck('11010520000229123'), TODAY)).toBeUndefined() // 2000 leap
    expect(buyerIdProblem(withBuyerIdCheck('11010520250818123'), TODAY)).toBeUndefined() // born today
    expect(buyerIdProblem(withBuyerIdCheck('11010520250819123'), TODAY)).toBe('BIRTH_DATE') // tomorrow
  })

  it('refuses an invalid `today` as a caller bug', () => {
    expect(() => buyerIdProblem('110105199003071239', '2025-02-30')).toThrow(RangeError)
    expect(() => buyerIdProblem('110105199003071239', '20250818')).toThrow(RangeError)
  })

  it('withBuyerIdCheck refuses anything but 17 ASCII digits', () => {
    expect(() => withBuyerIdCheck('1101051990030712')).toThrow(RangeError)
    expect(() => withBuyerIdCheck('1101051990030712X')).toThrow(RangeError)
    expect(buyerIdCheckChar('1101051990030712X')).toBeUndefined()
  })

  test.prop([body17])('a valid body plus its computed check character is valid', (body) => {
    const id = withBuyerIdCheck(body)
    expect(id.startsWith(body)).toBe(true)
    expect(buyerIdProblem(id, TODAY)).toBeUndefined()
  })

  test.prop([validId, fc.constantFrom(...CHECK_CHARS, 'x')])('every change of the check character fails', (id, ch) => {
    fc.pre(ch !== id[17])
    const p = buyerIdProblem(replaceAt(id, 17, ch), TODAY)
    expect(p).toBe(ch === 'x' ? 'CHARACTER' : 'CHECK')
  })

  it('exhaustively: the 10 wrong check characters of the DOMAIN example all fail with CHECK', () => {
    const wrong = CHECK_CHARS.filter((c) => c !== '9').map((c) => buyerIdProblem(`11010519900307123${c}`, TODAY))
    expect(wrong).toEqual(Array(10).fill('CHECK'))
  })

  // Why: 11 is prime and every weight is non-zero mod 11, so changing one digit by d (0 < |d| < 10) changes Σ
  // by d·w ≢ 0 (mod 11), and the table maps residues to characters 1:1. Birth-date digits may fail earlier.
  test.prop([validId, fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 9 })])(
    'changing any single body digit makes the ID invalid',
    (id, i, shift) => {
      const other = String((Number(id[i]) + shift) % 10)
      const p = buyerIdProblem(replaceAt(id, i, other), TODAY)
      expect(p === 'CHECK' || (i >= 6 && i < 14 && p === 'BIRTH_DATE')).toBe(true)
    },
  )

  test.prop([fc.string({ unit: 'binary', maxLength: 40 })])('arbitrary strings never throw and get a verdict', (s) => {
    const p = buyerIdProblem(s, TODAY)
    expect([undefined, 'LENGTH', 'CHARACTER', 'CHECK', 'BIRTH_DATE']).toContain(p)
    expect(buyerIdCheckChar(s) === undefined || CHECK_CHARS.includes(buyerIdCheckChar(s)!)).toBe(true)
  })

  const any18 = fc
    .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 18, maxLength: 18 })
    .map((u) => String.fromCharCode(...u))
  test.prop([any18])('an 18-character string is valid only if its check character matches', (s) => {
    const p = buyerIdProblem(s, TODAY)
    if (p === undefined) expect(buyerIdCheckChar(s.slice(0, 17))).toBe(s[17])
    else expect(p).not.toBe('LENGTH')
  })
})
