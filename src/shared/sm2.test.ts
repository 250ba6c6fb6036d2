import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  SM2_DEFAULT_ID,
  SM2_N,
  fromBase64url,
  sm2,
  sm2Digest,
  sm2PublicKeyOf,
  sm2SignWithNonce,
  sm2SignatureFromDer,
  sm2WithId,
  sm2Z,
  sm3,
  toBase64url,
} from './sm2.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const b64 = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex').toString('base64url')
const utf8 = (s: string) => Buffer.from(s, 'utf8')
const big32 = (x: bigint) => x.toString(16).padStart(64, '0')

describe('SM3 (GB/T 32905-2016 = GM/T 0004-2012, Annex A)', () => {
  it('hashes "abc" to the example A.1 value', () => {
    expect(hex(sm3('abc'))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0')
    expect(hex(sm3(utf8('abc')))).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0')
  })

  it('hashes the 64-byte "abcd"×16 to the example A.2 value', () => {
    expect(hex(sm3('abcd'.repeat(16)))).toBe('debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732')
  })
})

// GM/T 0003.5-2012 (= GB/T 32918.5-2017) Annex A.2: the signature example on the recommended curve.
const A2 = {
  d: '3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8',
  x: '09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020',
  y: 'CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13',
  message: 'message digest',
  za: 'B2E14C5C 79C6DF5B 85F4FE7E D8DB7A26 2B9DA7E0 7CCB0EA9 F4747B8C CDA8A4F3',
  e: 'F0B43E94 BA45ACCA ACE692ED 534382EB 17E6AB5A 19CE7B31 F4486FDF C0D28640',
  k: '59276E27 D506861A 16680F3A D9C02DCC EF3CC1FA 3CDBE4CE 6D54B80D EAC1BC21',
  r: 'F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3',
  s: 'B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA',
}
const A2_PUBLIC = b64('04' + A2.x + A2.y)
const A2_PRIVATE = b64(A2.d)
const A2_SIGNATURE = b64(A2.r + A2.s)

describe('SM2 with SM3: the GM/T 0003.5 Annex A.2 example (signer ID 1234567812345678)', () => {
  it('derives the published public key from the private key', () => {
    expect(sm2PublicKeyOf(A2_PRIVATE)).toBe(A2_PUBLIC)
  })

  it('computes the published Z_A and e = SM3(Z_A ‖ M)', () => {
    expect(SM2_DEFAULT_ID).toBe('1234567812345678')
    expect(hex(sm2Z(A2_PUBLIC))).toBe(A2.za.replace(/ /g, '').toLowerCase())
    expect(hex(sm2Digest(A2_PUBLIC, utf8(A2.message)))).toBe(A2.e.replace(/ /g, '').toLowerCase())
  })

  it('signs to the published (r, s) with the published k', () => {
    expect(sm2SignWithNonce(A2_PRIVATE, utf8(A2.message), BigInt('0x' + A2.k.replace(/ /g, '')))).toBe(A2_SIGNATURE)
  })

  it('verifies the published signature, and nothing else', () => {
    expect(sm2.verify(A2_PUBLIC, utf8(A2.message), A2_SIGNATURE)).toBe(true)
    expect(sm2.verify(A2_PUBLIC, utf8('message digesT'), A2_SIGNATURE)).toBe(false)
    expect(sm2.verify(sm2.generate().publicKey, utf8(A2.message), A2_SIGNATURE)).toBe(false)
    // The signer ID is part of the algorithm: another ID gives another Z_A.
    expect(sm2WithId('ALICE123@YAHOO.COM').verify(A2_PUBLIC, utf8(A2.message), A2_SIGNATURE)).toBe(false)
  })

  it('refuses the same signature in DER form (one spelling per signature) and converts it on request', () => {
    const der = Buffer.from('3046022100' + A2.r.replace(/ /g, '') + '022100' + A2.s.replace(/ /g, ''), 'hex')
    expect(sm2.verify(A2_PUBLIC, utf8(A2.message), der.toString('base64url'))).toBe(false)
    expect(sm2SignatureFromDer(der)).toBe(A2_SIGNATURE)
  })
})

describe('SM2 encodings', () => {
  const keys = sm2.generate()
  const other = sm2.generate()

  it('generates a 65-byte uncompressed public key and a 32-byte private key in base64url', () => {
    expect(keys.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/)
    expect(keys.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(keys.publicKey, 'base64url')[0]).toBe(4)
    expect(sm2PublicKeyOf(keys.privateKey)).toBe(keys.publicKey)
    expect(keys.publicKey).not.toBe(other.publicKey)
  })

  it('signs r ‖ s as 64 bytes (86 characters), with a fresh k each time', () => {
    const data = utf8('kouan')
    const a = sm2.sign(keys.privateKey, data)
    const b = sm2.sign(keys.privateKey, data)
    expect(a).toMatch(/^[A-Za-z0-9_-]{86}$/)
    expect(a).not.toBe(b)
    expect(sm2.verify(keys.publicKey, data, a)).toBe(true)
    expect(sm2.verify(keys.publicKey, data, b)).toBe(true)
  })

  test.prop([fc.uint8Array({ maxLength: 300 })], { numRuns: 60 })(
    'verifies what it signs, and not under another key',
    (data) => {
      const sig = sm2.sign(keys.privateKey, data)
      expect(sm2.verify(keys.publicKey, data, sig)).toBe(true)
      expect(sm2.verify(other.publicKey, data, sig)).toBe(false)
    },
  )

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat()], { numRuns: 60 })(
    'fails after a one-bit change in the data',
    (data, n) => {
      const sig = sm2.sign(keys.privateKey, data)
      const changed = Buffer.from(data)
      changed[(n >> 3) % changed.length]! ^= 1 << (n & 7)
      expect(sm2.verify(keys.publicKey, changed, sig)).toBe(false)
    },
  )

  test.prop([fc.integer({ min: 0, max: 511 })], { numRuns: 60 })(
    'fails after a one-bit change in the signature',
    (bit) => {
      const data = utf8('one bit')
      const sig = Buffer.from(sm2.sign(keys.privateKey, data), 'base64url')
      sig[bit >> 3]! ^= 1 << (bit & 7)
      expect(sm2.verify(keys.publicKey, data, sig.toString('base64url'))).toBe(false)
    },
  )

  it('refuses r or s outside [1, n − 1], a non-canonical spelling and wrong lengths', () => {
    const data = utf8(A2.message)
    const [r, s] = [BigInt('0x' + A2.r.replace(/ /g, '')), BigInt('0x' + A2.s.replace(/ /g, ''))]
    expect(sm2.verify(A2_PUBLIC, data, b64(big32(r) + big32(s)))).toBe(true)
    for (const [rr, ss] of [
      [0n, s],
      [r, 0n],
      [SM2_N, s],
      [r, SM2_N],
      [r, 2n ** 256n - 1n],
    ]) {
      expect(sm2.verify(A2_PUBLIC, data, b64(big32(rr!) + big32(ss!))), `${rr} ${ss}`).toBe(false)
    }
    // 64 bytes leave 4 unused bits in the last character: setting one spells the same bytes differently.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const alias = A2_SIGNATURE.slice(0, -1) + alphabet[alphabet.indexOf(A2_SIGNATURE.at(-1)!) | 1]
    expect(Buffer.from(alias, 'base64url').equals(Buffer.from(A2_SIGNATURE, 'base64url'))).toBe(true)
    expect(sm2.verify(A2_PUBLIC, data, alias)).toBe(false)
    expect(sm2.verify(A2_PUBLIC, data, A2_SIGNATURE + 'A')).toBe(false)
    expect(sm2.verify(A2_PUBLIC, data, A2_SIGNATURE.slice(0, -2))).toBe(false)
    expect(sm2.verify(A2_PUBLIC, data, Buffer.from(A2_SIGNATURE, 'base64url').toString('base64'))).toBe(false)
    expect(sm2.verify(A2_PUBLIC, data, '')).toBe(false)
  })

  test.prop([fc.string({ maxLength: 100 }), fc.string({ maxLength: 100 })])(
    'answers false, never throws, for any key and signature text',
    (key, sig) => {
      expect(sm2.verify(key, utf8('x'), sig)).toBe(false)
    },
  )

  it('refuses private keys outside [1, n − 2]', () => {
    for (const d of [0n, SM2_N - 1n, SM2_N, 2n ** 256n - 1n])
      expect(() => sm2.sign(b64(big32(d)), utf8('x'))).toThrow(/private key/)
    expect(() => sm2.sign(b64(big32(SM2_N - 2n)), utf8('x'))).not.toThrow()
    expect(() => sm2.sign('short', utf8('x'))).toThrow()
  })

  it('round-trips base64url in its canonical spelling only', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff)
      const s = toBase64url(bytes)
      expect(s).toBe(Buffer.from(bytes).toString('base64url'))
      expect(fromBase64url(s, n)).toEqual(bytes)
    }
    expect(fromBase64url('AR', 1)).toBeUndefined() // unused bits set
    expect(fromBase64url('AQ==', 1)).toBeUndefined()
    expect(fromBase64url('A+', 1)).toBeUndefined()
  })
})

describe('sm2.parsePublicKey', () => {
  const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn
  const point = Buffer.from(A2_PUBLIC, 'base64url')
  const withY = (y: bigint) => b64('04' + A2.x + big32(y))

  it('accepts a generated key and the standard example key', () => {
    expect(() => sm2.parsePublicKey(sm2.generate().publicKey)).not.toThrow()
    expect(sm2.parsePublicKey(A2_PUBLIC)).toEqual({
      x: BigInt('0x' + A2.x.replace(/ /g, '')),
      y: BigInt('0x' + A2.y.replace(/ /g, '')),
    })
  })

  it.each([
    ['empty', ''],
    ['the point at infinity (one zero byte)', b64('00')],
    ['all-zero coordinates', b64('04' + '00'.repeat(64))],
    ['compressed form (33 bytes)', b64('02' + A2.x)],
    ['a wrong prefix with valid coordinates', b64('05' + A2.x + A2.y)],
    ['64 bytes without the prefix', b64(A2.x + A2.y)],
    ['66 bytes', b64('04' + A2.x + A2.y + '00')],
    ['off the curve (y + 1)', withY(BigInt('0x' + A2.y.replace(/ /g, '')) + 1n)],
    ['y ≥ p (y + p, not reduced)', b64('04' + A2.x + big32(BigInt('0x' + A2.y.replace(/ /g, '')) + P).slice(-64))],
    ['hex instead of base64url', point.toString('hex')],
    ['standard base64 with padding', point.toString('base64')],
    [
      'a non-canonical spelling (an unused trailing bit set)',
      A2_PUBLIC.slice(0, -1) +
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[
          'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(A2_PUBLIC.at(-1)!) | 1
        ],
    ],
  ])('rejects %s', (_what, key) => {
    expect(() => sm2.parsePublicKey(key)).toThrow()
    expect(sm2.verify(key, utf8(A2.message), A2_SIGNATURE)).toBe(false)
  })

  it('rejects x ≥ p even when x − p gives a point (non-reduced coordinate)', () => {
    // The smallest x with a point on the curve: y = (x³ + ax + b)^((p+1)/4) since p ≡ 3 (mod 4).
    const A = P - 3n
    const Bc = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n
    const pow = (b: bigint, e: bigint) => {
      let r = 1n
      for (b %= P; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P
      return r
    }
    for (let x = 0n; ; x++) {
      const rhs = (x * x * x + A * x + Bc) % P
      const y = pow(rhs, (P + 1n) / 4n)
      if ((y * y) % P !== rhs) continue
      expect(() => sm2.parsePublicKey(b64('04' + big32(x) + big32(y)))).not.toThrow()
      expect(() => sm2.parsePublicKey(b64('04' + big32(x + P) + big32(y)))).toThrow()
      expect(() => sm2.parsePublicKey(b64('04' + big32(x) + big32(P - y)))).not.toThrow()
      return
    }
  })
})

describe('SM2 against OpenSSL (sm2 key with distid)', () => {
  let openssl = false
  try {
    openssl = /SM2/.test(execFileSync('openssl', ['list', '-public-key-algorithms'], { encoding: 'utf8' }))
  } catch {
    /* no openssl CLI */
  }

  const der = (sig: string) => {
    const int = (b: Buffer) => {
      let i = 0
      while (i < b.length - 1 && b[i] === 0) i++
      const v = b.subarray(i)
      const body = v[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v
      return Buffer.concat([Buffer.from([2, body.length]), body])
    }
    const raw = Buffer.from(sig, 'base64url')
    const seq = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))])
    return Buffer.concat([Buffer.from([0x30, seq.length]), seq])
  }

  it.skipIf(!openssl)("each verifies the other's signatures, with the default and with another signer ID", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kouan-sm2-'))
    try {
      const k = sm2.generate()
      const d = Buffer.from(k.privateKey, 'base64url')
      const pub = Buffer.from(k.publicKey, 'base64url')
      // PKCS#8 and SubjectPublicKeyInfo of an EC key on the SM2 curve (OID 1.2.156.10197.1.301).
      writeFileSync(
        join(dir, 'key.der'),
        Buffer.concat([
          Buffer.from('308187020100301306072a8648ce3d020106082a811ccf5501822d046d306b0201010420', 'hex'),
          d,
          Buffer.from('a144034200', 'hex'),
          pub,
        ]),
      )
      writeFileSync(
        join(dir, 'pub.der'),
        Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a811ccf5501822d034200', 'hex'), pub]),
      )
      const message = utf8('{"declaration":"口岸","n":1}')
      writeFileSync(join(dir, 'msg'), message)
      for (const id of [SM2_DEFAULT_ID, 'ALICE123@YAHOO.COM']) {
        const alg = sm2WithId(id)
        execFileSync('openssl', [
          'pkeyutl',
          '-sign',
          '-rawin',
          '-digest',
          'sm3',
          '-keyform',
          'DER',
          '-inkey',
          join(dir, 'key.der'),
          '-in',
          join(dir, 'msg'),
          '-out',
          join(dir, 'sig'),
          '-pkeyopt',
          `distid:${id}`,
        ])
        const theirs = sm2SignatureFromDer(readFileSync(join(dir, 'sig')))
        expect(alg.verify(k.publicKey, message, theirs)).toBe(true)
        expect(sm2WithId(id === SM2_DEFAULT_ID ? 'other' : SM2_DEFAULT_ID).verify(k.publicKey, message, theirs)).toBe(
          false,
        )

        writeFileSync(join(dir, 'ours'), der(alg.sign(k.privateKey, message)))
        const out = execFileSync(
          'openssl',
          [
            'pkeyutl',
            '-verify',
            '-rawin',
            '-digest',
            'sm3',
            '-pubin',
            '-keyform',
            'DER',
            '-inkey',
            join(dir, 'pub.der'),
            '-in',
            join(dir, 'msg'),
            '-sigfile',
            join(dir, 'ours'),
            '-pkeyopt',
            `distid:${id}`,
          ],
          { encoding: 'utf8' },
        )
        expect(out).toMatch(/Signature Verified Successfully/)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('sm2SignatureFromDer', () => {
  it.each([
    ['trailing bytes', '3046022100' + 'ab'.repeat(32) + '022100' + 'cd'.repeat(32) + '00'],
    ['a non-minimal integer (needless leading zero)', '30450220' + '00' + '7b'.repeat(31) + '022100' + 'cd'.repeat(32)],
    ['a negative integer', '30440220' + 'ab'.repeat(32) + '0220' + '7d'.repeat(32)],
    ['a wrong outer length', '3047022100' + 'ab'.repeat(32) + '022100' + 'cd'.repeat(32)],
    ['an integer longer than 32 bytes', '30460222' + '01' + 'ab'.repeat(32) + '0220' + '7d'.repeat(32)],
    ['not a SEQUENCE', '3146022100' + 'ab'.repeat(32) + '022100' + 'cd'.repeat(32)],
  ])('refuses %s', (_what, h) => {
    expect(() => sm2SignatureFromDer(Buffer.from(h, 'hex'))).toThrow()
  })

  it('left-pads short integers to 32 bytes', () => {
    const raw = Buffer.from(
      sm2SignatureFromDer(Buffer.from('3026020101022100' + 'ff' + 'ee'.repeat(31), 'hex')),
      'base64url',
    )
    expect(raw.subarray(0, 32).toString('hex')).toBe('00'.repeat(31) + '01')
    expect(raw.subarray(32).toString('hex')).toBe('ff' + 'ee'.repeat(31))
  })
})
