import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { seededRandom } from './clock.js'
import canonicalize from 'canonicalize'
import {
  ALGORITHM_NAMES,
  algorithms,
  canonicalJson,
  ed25519,
  keyId,
  parseKeyFile,
  sha256Hex,
  signPayload,
} from './signing.js'
import { sm2 } from './sm2.js'

/** Rebuilds `v` with every object's keys inserted in a shuffled order (deeply). */
function shuffleKeys(v: unknown, rnd: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, rnd))
  if (v === null || typeof v !== 'object') return v
  const entries = Object.entries(v)
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[entries[i], entries[j]] = [entries[j]!, entries[i]!]
  }
  return Object.fromEntries(entries.map(([k, x]) => [k, shuffleKeys(x, rnd)]))
}

const flipBit = (bytes: Uint8Array, bit: number) => {
  const out = Buffer.from(bytes)
  out[bit >> 3]! ^= 1 << (bit & 7)
  return out
}

/** An IEEE 754 double from its 16 hex digits, as RFC 8785 Appendix B lists them. */
const double = (hex: string) => Buffer.from(hex, 'hex').readDoubleBE(0)

describe('canonicalJson (RFC 8785, JCS)', () => {
  // Our walk is a faster path; the canonicalize package is the reference implementation.
  test.prop([fc.jsonValue({ maxDepth: 6, stringUnit: 'binary' })], { numRuns: 500 })(
    'gives what the reference implementation gives',
    (v) => {
      let expected: string | undefined
      try {
        expected = canonicalize(v)
      } catch {
        expect(() => canonicalJson(v)).toThrow()
        return
      }
      expect(canonicalJson(v)).toBe(expected)
    },
  )

  it('refuses lone surrogates in values and keys, accepts pairs, and hands deep nesting to the reference', () => {
    expect(() => canonicalJson({ a: 'x\ud800' })).toThrow(/Lone surrogate/)
    expect(() => canonicalJson({ ['\udc00']: 1 })).toThrow(/Lone surrogate/)
    expect(() => canonicalJson(['\ude00\ud83d'])).toThrow(/Lone surrogate/)
    expect(canonicalJson(['\ud83d\ude00'])).toBe('["\ud83d\ude00"]')
    let deep: unknown = 'x'
    for (let i = 0; i < 200; i++) deep = { k: [deep] }
    expect(canonicalJson(deep)).toBe(canonicalize(deep))
    const cyclic: Record<string, unknown> = {}
    let at = cyclic
    for (let i = 0; i < 100; i++) at = (at.next = {}) as Record<string, unknown>
    at.next = cyclic
    expect(() => canonicalJson(cyclic)).toThrow(/Circular/)
  })

  it('produces the RFC 8785 §3.2.4 example output', () => {
    // The input exactly as printed in the RFC, escapes and all.
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`
    expect(canonicalJson(JSON.parse(input))).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    )
  })

  it('sorts keys by UTF-16 code units, as in RFC 8785 §3.2.3', () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"
    }`
    const out = canonicalJson(JSON.parse(input))
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33: code units, not code points.
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    )
  })

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'], // minus zero
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('serialises the RFC 8785 Appendix B number %s as %s', (hex, expected) => {
    expect(canonicalJson(double(hex))).toBe(expected)
    expect(canonicalJson([double(hex)])).toBe(`[${expected}]`)
  })

  it('writes the §3.2.2.3 sample numbers 1e21, 1e-7 and 0.000001 in ECMAScript form', () => {
    expect(canonicalJson({ a: 1e21, b: 1e-7, c: 0.000001, d: -0, e: 1e20 })).toBe(
      '{"a":1e+21,"b":1e-7,"c":0.000001,"d":0,"e":100000000000000000000}',
    )
  })

  it('refuses NaN and Infinity (RFC 8785 Appendix B: error)', () => {
    expect(() => canonicalJson(double('7fffffffffffffff'))).toThrow()
    expect(() => canonicalJson(double('7ff0000000000000'))).toThrow()
    expect(() => canonicalJson({ x: -Infinity })).toThrow()
  })

  it('escapes only what JSON requires and keeps other characters as they are', () => {
    expect(canonicalJson('\u0000\u001f\b\t\n\f\r"\\/\u007f\u00e9\u4e2d')).toBe(
      '"\\u0000\\u001f\\b\\t\\n\\f\\r\\"\\\\/\u007f\u00e9\u4e2d"',
    )
  })

  it('refuses a lone surrogate (I-JSON strings must be valid Unicode)', () => {
    expect(() => canonicalJson('\ud800')).toThrow()
    expect(() => canonicalJson({ ['\udc00']: 1 })).toThrow()
  })

  it('refuses a value that is not JSON at all', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError)
    expect(() => canonicalJson(() => 1)).toThrow(TypeError)
  })

  test.prop([fc.jsonValue(), fc.integer()])(
    'gives identical output whatever the order keys were inserted in',
    (value, seed) => {
      const shuffled = shuffleKeys(value, seededRandom(seed))
      expect(canonicalJson(shuffled)).toBe(canonicalJson(value))
    },
  )

  test.prop([fc.jsonValue()])('parses back to the same value and is a fixed point', (value) => {
    const once = canonicalJson(value)
    expect(JSON.parse(once)).toEqual(JSON.parse(JSON.stringify(value)))
    expect(canonicalJson(JSON.parse(once))).toBe(once)
  })
})

describe('Ed25519 signatures over canonical JSON', () => {
  const keys = ed25519.generate()
  const other = ed25519.generate()
  const bytes = (v: unknown) => Buffer.from(canonicalJson(v), 'utf8')

  it('generates 32-byte keys in base64url', () => {
    expect(keys.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(keys.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(keys.publicKey, 'base64url')).toHaveLength(32)
    expect(keys.publicKey).not.toBe(other.publicKey)
  })

  it('signs deterministically: signPayload is the signature over the canonical bytes', () => {
    const payload = { b: 1, a: [true, null, 'x'] }
    const sig = signPayload(keys.privateKey, payload)
    expect(Buffer.from(sig, 'base64url')).toHaveLength(64)
    expect(signPayload(keys.privateKey, { a: [true, null, 'x'], b: 1 })).toBe(sig)
    expect(ed25519.sign(keys.privateKey, bytes(payload))).toBe(sig)
  })

  test.prop([fc.jsonValue()])('verifies what it signs, for any JSON value', (value) => {
    const sig = signPayload(keys.privateKey, value)
    expect(ed25519.verify(keys.publicKey, bytes(value), sig)).toBe(true)
  })

  test.prop([fc.jsonValue()])('refuses a signature checked against another key', (value) => {
    const sig = signPayload(keys.privateKey, value)
    expect(ed25519.verify(other.publicKey, bytes(value), sig)).toBe(false)
  })

  test.prop([fc.jsonValue(), fc.nat()])('fails verification after a one-bit change in the payload', (value, n) => {
    const data = bytes(value)
    const sig = ed25519.sign(keys.privateKey, data)
    expect(ed25519.verify(keys.publicKey, flipBit(data, n % (data.length * 8)), sig)).toBe(false)
  })

  test.prop([fc.jsonValue(), fc.integer({ min: 0, max: 511 })])(
    'fails verification after a one-bit change in the signature',
    (value, bit) => {
      const data = bytes(value)
      const sig = Buffer.from(ed25519.sign(keys.privateKey, data), 'base64url')
      expect(ed25519.verify(keys.publicKey, data, flipBit(sig, bit).toString('base64url'))).toBe(false)
    },
  )

  it('answers false, never throws, for a malformed signature or key', () => {
    const data = bytes({ a: 1 })
    expect(ed25519.verify(keys.publicKey, data, '')).toBe(false)
    expect(ed25519.verify(keys.publicKey, data, 'not base64 !')).toBe(false)
    expect(ed25519.verify(keys.publicKey, data, Buffer.alloc(63).toString('base64url'))).toBe(false)
    expect(ed25519.verify('short', data, ed25519.sign(keys.privateKey, data))).toBe(false)
  })

  it('accepts a signature in its one canonical base64url spelling only', () => {
    const data = bytes({ a: 1 })
    const sig = ed25519.sign(keys.privateKey, data)
    expect(ed25519.verify(keys.publicKey, data, sig)).toBe(true)
    // 64 bytes leave 4 unused bits in the last character; a stray character is skipped by a lenient decoder.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const alias = sig.slice(0, -1) + alphabet[alphabet.indexOf(sig.at(-1)!) | 1]
    expect(Buffer.from(alias, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true)
    expect(ed25519.verify(keys.publicKey, data, alias)).toBe(false)
    expect(ed25519.verify(keys.publicKey, data, sig.slice(0, 10) + '!' + sig.slice(10))).toBe(false)
    expect(ed25519.verify(keys.publicKey, data, Buffer.from(sig, 'base64url').toString('base64'))).toBe(false)
  })

  it('derives key ids from the public key: 16 bytes of SHA-256, base64url', () => {
    expect(keyId(keys.publicKey)).toBe(
      Buffer.from(sha256Hex(Buffer.from(keys.publicKey, 'base64url')), 'hex')
        .subarray(0, 16)
        .toString('base64url'),
    )
    expect(keyId(keys.publicKey)).toHaveLength(22)
    expect(keyId(other.publicKey)).not.toBe(keyId(keys.publicKey))
  })
})

describe('Ed25519 known answers (RFC 8032 §7.1)', () => {
  const hex = (h: string) => Buffer.from(h, 'hex')
  const b64 = (h: string) => hex(h).toString('base64url')
  it.each([
    [
      'TEST 1 (empty message)',
      '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      '',
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    ],
    [
      'TEST 2 (one byte)',
      '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      '72',
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    ],
    [
      'TEST 3 (two bytes)',
      'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
      'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
      'af82',
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
    ],
  ])('%s: signs to the published signature and verifies it', (_name, secret, publicKey, message, signature) => {
    expect(ed25519.sign(b64(secret), hex(message))).toBe(b64(signature))
    expect(ed25519.verify(b64(publicKey), hex(message), b64(signature))).toBe(true)
    expect(() => ed25519.parsePublicKey(b64(publicKey))).not.toThrow()
    // The key file check derives nothing else: the published pair is a pair.
    expect(
      parseKeyFile(JSON.stringify({ alg: 'Ed25519', publicKey: b64(publicKey), privateKey: b64(secret) })).publicKey,
    ).toBe(b64(publicKey))
    expect(ed25519.verify(b64(publicKey), Buffer.concat([hex(message), Buffer.from([0])]), b64(signature))).toBe(false)
  })
})

describe('the algorithm registry and key files', () => {
  it('registers Ed25519 and SM2 under their names', () => {
    expect(ALGORITHM_NAMES).toEqual(['Ed25519', 'SM2'])
    for (const name of ALGORITHM_NAMES) expect(algorithms[name]!.alg).toBe(name)
  })

  it.each(ALGORITHM_NAMES)('reads a %s key file as keygen writes it and signs with its algorithm', (name) => {
    const alg = algorithms[name]!
    const k = alg.generate()
    const file = parseKeyFile(JSON.stringify({ alg: name, ...k }, null, 2))
    expect(file.alg).toBe(alg)
    const sig = signPayload(file.privateKey, { a: 1 }, file.alg)
    expect(alg.verify(k.publicKey, Buffer.from('{"a":1}', 'utf8'), sig)).toBe(true)
  })

  it('refuses a key file that is not JSON, names an unknown alg, or holds keys of another algorithm or pair', () => {
    const e = ed25519.generate()
    const s = sm2.generate()
    expect(() => parseKeyFile('not json')).toThrow(/not JSON/)
    expect(() => parseKeyFile(JSON.stringify({ alg: 'RSA', ...e }))).toThrow(/RSA.*not supported/)
    expect(() => parseKeyFile(JSON.stringify({ alg: 'toString', ...e }))).toThrow(/not supported/)
    expect(() => parseKeyFile(JSON.stringify({ alg: 'SM2', ...e }))).toThrow(/not an SM2 key pair/)
    expect(() => parseKeyFile(JSON.stringify({ alg: 'Ed25519', ...s }))).toThrow(/not an Ed25519 key pair/)
    expect(() =>
      parseKeyFile(JSON.stringify({ alg: 'SM2', publicKey: sm2.generate().publicKey, privateKey: s.privateKey })),
    ).toThrow(/not an SM2 key pair/)
    expect(() => parseKeyFile(JSON.stringify({ alg: 'SM2', privateKey: s.privateKey }))).toThrow(
      /publicKey and privateKey/,
    )
    // Files of older versions without `alg` are Ed25519 files.
    expect(parseKeyFile(JSON.stringify(e)).alg).toBe(ed25519)
  })
})

// Ed25519 point decoding (RFC 8032 §5.1.3), to build keys that are 32 bytes yet no curve point.
const P = 2n ** 255n - 19n
const modpow = (b: bigint, e: bigint): bigint => {
  let r = 1n
  b %= P
  for (; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P
  return r
}
const D = (((-121665n * modpow(121666n, P - 2n)) % P) + P) % P
const encodeY = (y: bigint) => {
  const out = Buffer.alloc(32)
  for (let i = 0; i < 32; i++) out[i] = Number((y >> BigInt(8 * i)) & 0xffn)
  return out.toString('base64url')
}
/** The smallest y ≥ 2 for which x² = (y² − 1)/(d·y² + 1) has no square root mod p: no point has that y. */
function offCurveY(): bigint {
  for (let y = 2n; ; y++) {
    const x2 = ((y * y - 1n) * modpow(D * y * y + 1n, P - 2n)) % P
    if (x2 !== 0n && modpow(x2, (P - 1n) / 2n) === P - 1n) return y
  }
}

describe('ed25519.parsePublicKey', () => {
  it('accepts a generated key', () => {
    expect(() => ed25519.parsePublicKey(ed25519.generate().publicKey)).not.toThrow()
  })

  it.each([
    ['empty', ''],
    ['42 characters (too short)', 'A'.repeat(42)],
    ['44 characters (too long)', 'A'.repeat(44)],
    ['standard base64 with + and /', '+'.repeat(21) + '/'.repeat(22)],
    ['padded base64', 'A'.repeat(42) + '='],
    ['hex of 32 bytes', 'ab'.repeat(32)],
    ['whitespace inside', 'A'.repeat(21) + ' ' + 'A'.repeat(21)],
  ])('rejects a key that is %s', (_what, key) => {
    expect(() => ed25519.parsePublicKey(key)).toThrow()
  })

  test.prop([fc.string({ maxLength: 60 })])('rejects or accepts any string without crashing the process', (s) => {
    let threw = false
    try {
      ed25519.parsePublicKey(s)
    } catch {
      threw = true
    }
    expect(threw || /^[A-Za-z0-9_-]{43}$/.test(s)).toBe(true)
  })

  it('rejects 32 bytes whose y has no x on the curve (RFC 8032 §5.1.3 step 3)', () => {
    const key = encodeY(offCurveY())
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(() => ed25519.parsePublicKey(key)).toThrow()
  })

  it('rejects a non-canonical encoding with y ≥ p', () => {
    expect(() => ed25519.parsePublicKey(encodeY(P + 1n))).toThrow()
  })

  it('finds no signature valid under an off-curve key', () => {
    const data = Buffer.from('kouan', 'utf8')
    const k = ed25519.generate()
    expect(ed25519.verify(encodeY(offCurveY()), data, ed25519.sign(k.privateKey, data))).toBe(false)
  })
})
