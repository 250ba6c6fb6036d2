import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { ed25519, keyId } from '../../shared/signing.js'
import { certificateNumber, inspectionsPassed, judge, quarantineRangeOf, type RegistryEntry } from './service.js'
import { contentDigest, parseToken, signToken, tokenFromInput, verifyUrl, type ParseResult } from './token.js'
import { QR_PAYLOAD_MAX, type QuarantineRange } from './schema.js'

const pair = ed25519.generate()
const key = { kid: keyId(pair.publicKey), alg: 'Ed25519', privateKey: pair.privateKey }
const published = {
  alg: 'Ed25519',
  publicKey: pair.publicKey,
  activatedAt: '2026-01-01T00:00:00.000Z',
  retiredAt: null as string | null,
}
const content = { number: '53012026Q000000042', goods: ['chicken feet'] }
const digest = contentDigest(content)
const token = signToken({ kind: 'CERTIFICATE', number: '53012026Q000000042', digest, kid: key.kid }, key)
const parsed = parseToken(token)
const entry: RegistryEntry = {
  storedDigest: digest,
  contentDigest: digest,
  kid: key.kid,
  issuedAt: '2026-05-11T01:00:00.000Z',
  validFrom: '2026-05-11T01:00:00.000Z',
  validUntil: '2027-05-11T01:00:00.000Z',
  retention: false,
  revokedAt: null,
  revocationReason: null,
  replacedBy: null,
  fields: [{ labelZh: '证明编号', labelEn: 'Certificate No.', value: '53012026Q000000042' }],
}
const now = new Date('2026-06-01T00:00:00Z')

describe('tokens', () => {
  it('round-trip: signed claims parse back, and the verify URL stays under 300 bytes', () => {
    expect(parsed).toMatchObject({
      ok: true,
      token: { kind: 'CERTIFICATE', number: '53012026Q000000042', digest, kid: key.kid },
    })
    expect(token).toMatch(/^K1\.C\.53012026Q000000042\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{86}$/)
    expect(Buffer.byteLength(verifyUrl('https://verify.customs.example.cn', token))).toBeLessThan(QR_PAYLOAD_MAX)
  })

  it('reads the token out of a scanned URL (query string and fragment ignored) or takes it as is', () => {
    expect(tokenFromInput(` https://kouan.example/verify/${token}?utm=x#top `)).toBe(token)
    expect(tokenFromInput(token)).toBe(token)
  })

  it('refuses non-canonical base64url, wrong kinds and numbers, extra parts, and unknown versions', () => {
    const p = token.split('.')
    // The digest's last character carries 2 unused bits: setting one spells the same bytes another way.
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const flip = (s: string) => s.slice(0, -1) + B64[B64.indexOf(s.at(-1)!) | 1]
    expect(parseToken(p.slice(0, 3).concat(flip(p[3]!), p[4]!, p[5]!).join('.'))).toEqual({
      ok: false,
      reason: 'MALFORMED',
    })
    expect(parseToken(['K1', 'X', ...p.slice(2)].join('.'))).toEqual({ ok: false, reason: 'MALFORMED' })
    expect(parseToken(['K1', 'P', ...p.slice(2)].join('.'))).toEqual({ ok: false, reason: 'MALFORMED' })
    expect(parseToken(`${token}.x`)).toEqual({ ok: false, reason: 'MALFORMED' })
    expect(parseToken(['K7', ...p.slice(1)].join('.'))).toEqual({ ok: false, reason: 'UNSUPPORTED_VERSION' })
  })

  test.prop([fc.string({ maxLength: 500 })])('never throws on arbitrary text', (s) => {
    const r = parseToken(s)
    expect(r.ok).toBe(false)
  })

  test.prop([fc.integer({ min: 0, max: token.length - 1 })])('a token cut anywhere is MALFORMED', (n) => {
    expect(parseToken(token.slice(0, n))).toMatchObject({ ok: false })
  })
})

describe('judge', () => {
  const at = (p: ParseResult, over: Partial<Parameters<typeof judge>[0]> = {}) =>
    judge({ now, parsed: p, key: published, entry, ...over })

  it('AUTHENTIC with OK and the printed fields when every check passes', () => {
    expect(at(parsed)).toMatchObject({
      verdict: 'AUTHENTIC',
      reasons: ['OK'],
      statusChecked: true,
      fields: entry.fields,
      validUntil: entry.validUntil,
    })
  })

  it('MALFORMED and UNSUPPORTED_ALGORITHM before anything else', () => {
    expect(at({ ok: false, reason: 'MALFORMED' })).toMatchObject({
      verdict: 'MALFORMED',
      reasons: ['MALFORMED'],
      kind: null,
      statusChecked: false,
      fields: [],
    })
    // RSA-SHA1 signed port-card messages before 2022 (DOMAIN §8); no issuing key of this installation uses it.
    expect(at(parsed, { key: { ...published, alg: 'RSA-SHA1' } })).toMatchObject({
      verdict: 'MALFORMED',
      reasons: ['UNSUPPORTED_ALGORITHM'],
    })
  })

  it("UNKNOWN_ISSUER for an unknown key, and for a certificate dated outside its key's window", () => {
    expect(at(parsed, { key: undefined })).toMatchObject({
      verdict: 'UNKNOWN_ISSUER',
      reasons: ['KEY_UNKNOWN'],
      statusChecked: false,
    })
    expect(at(parsed, { key: { ...published, retiredAt: '2026-05-01T00:00:00.000Z' } })).toMatchObject({
      verdict: 'UNKNOWN_ISSUER',
      reasons: ['KEY_NOT_VALID_AT_SIGNING'],
      fields: [],
    })
    expect(at(parsed, { key: { ...published, activatedAt: '2026-05-12T00:00:00.000Z' } }).reasons).toEqual([
      'KEY_NOT_VALID_AT_SIGNING',
    ])
    // Retired at the very instant of issue: issued before the rotation committed, still valid.
    expect(at(parsed, { key: { ...published, retiredAt: entry.issuedAt } }).verdict).toBe('AUTHENTIC')
  })

  it('TAMPERED for a signature from another key, a registry digest that differs, or a number the registry lacks', () => {
    const other = ed25519.generate()
    expect(at(parsed, { key: { ...published, publicKey: other.publicKey } })).toMatchObject({
      verdict: 'TAMPERED',
      reasons: ['SIGNATURE_INVALID'],
      statusChecked: false,
    })
    expect(at(parsed, { entry: { ...entry, storedDigest: contentDigest({ other: 1 }) } })).toMatchObject({
      verdict: 'TAMPERED',
      reasons: ['CONTENT_MISMATCH'],
    })
    expect(at(parsed, { entry: { ...entry, contentDigest: contentDigest({ edited: 1 }) } }).reasons).toEqual([
      'CONTENT_MISMATCH',
    ])
    expect(at(parsed, { entry: null })).toMatchObject({
      verdict: 'TAMPERED',
      reasons: ['NOT_FOUND'],
      statusChecked: true,
    })
  })

  it('REVOKED with date, reason and replacement; EXPIRED and NOT_YET_VALID at the window edges', () => {
    const revoked = {
      ...entry,
      revokedAt: '2026-05-20T00:00:00.000Z',
      revocationReason: 'SUPERSEDED' as const,
      replacedBy: '53012026Q000000043',
    }
    expect(at(parsed, { entry: revoked })).toMatchObject({
      verdict: 'REVOKED',
      reasons: ['REVOKED'],
      revokedAt: revoked.revokedAt,
      revocationReason: 'SUPERSEDED',
      replacedBy: revoked.replacedBy,
      fields: entry.fields,
    })
    expect(at(parsed, { now: new Date(entry.validUntil) })).toMatchObject({ verdict: 'EXPIRED', reasons: ['EXPIRED'] })
    expect(at(parsed, { now: new Date(Date.parse(entry.validUntil) - 1) }).verdict).toBe('AUTHENTIC')
    expect(at(parsed, { now: new Date('2026-05-11T00:59:59.999Z') })).toMatchObject({
      verdict: 'EXPIRED',
      reasons: ['NOT_YET_VALID'],
    })
    expect(at(parsed, { now: new Date(entry.validUntil), entry: { ...entry, retention: true } }).reasons).toEqual([
      'RETENTION_ENDED',
    ])
  })

  it('lists every failed check and takes the verdict by precedence', () => {
    const r = at(parsed, {
      now: new Date('2028-01-01T00:00:00Z'),
      entry: { ...entry, revokedAt: '2026-06-01T00:00:00.000Z', revocationReason: 'WITHDRAWN', storedDigest: 'x' },
    })
    expect(r.reasons).toEqual(['CONTENT_MISMATCH', 'REVOKED', 'EXPIRED'])
    expect(r).toMatchObject({ verdict: 'TAMPERED', fields: [], revokedAt: null })
    expect(
      at(parsed, {
        now: new Date('2028-01-01T00:00:00Z'),
        entry: { ...entry, revokedAt: '2026-06-01T00:00:00.000Z', revocationReason: 'WITHDRAWN' },
      }),
    ).toMatchObject({ verdict: 'REVOKED', reasons: ['REVOKED', 'EXPIRED'] })
  })

  it('refuses to judge a well-signed token without asking the registry (never AUTHENTIC unchecked)', () => {
    expect(() => judge({ now, parsed, key: published })).toThrow(/registry/)
  })
})

describe('rules', () => {
  const ranges: QuarantineRange[] = [
    { hsFrom: '01', hsTo: '05', category: 'ANIMAL', description: 'animals' },
    { hsFrom: '4401', hsTo: '4404', category: 'PLANT', description: 'wood' },
    {
      hsFrom: '0901210000',
      hsTo: '0901210000',
      ciqCode: '101',
      category: 'PLANT',
      description: 'roasted coffee, CIQ 101 only',
    },
  ]
  it('matches HS prefixes within a range, inclusive at both ends, and the CIQ code when the range names one', () => {
    expect(quarantineRangeOf(ranges, { hsCode: '0101210000' })?.category).toBe('ANIMAL')
    expect(quarantineRangeOf(ranges, { hsCode: '0511999000' })?.category).toBe('ANIMAL')
    expect(quarantineRangeOf(ranges, { hsCode: '0601100000' })).toBeUndefined()
    expect(quarantineRangeOf(ranges, { hsCode: '4401110000' })?.category).toBe('PLANT')
    expect(quarantineRangeOf(ranges, { hsCode: '4404100000' })?.category).toBe('PLANT')
    expect(quarantineRangeOf(ranges, { hsCode: '4405000000' })).toBeUndefined()
    expect(quarantineRangeOf(ranges, { hsCode: '0901210000', ciqCode: '101' })?.description).toContain('coffee')
    expect(quarantineRangeOf(ranges, { hsCode: '0901210000', ciqCode: '999' })).toBeUndefined()
  })

  it('auto-issues only when every inspection finished compliant', () => {
    expect(inspectionsPassed([])).toBe(false)
    expect(inspectionsPassed([{ state: 'DONE', result: 'COMPLIANT' }])).toBe(true)
    expect(
      inspectionsPassed([
        { state: 'DONE', result: 'COMPLIANT' },
        { state: 'OPEN', result: null },
      ]),
    ).toBe(false)
    expect(inspectionsPassed([{ state: 'DONE', result: 'NON_COMPLIANT' }])).toBe(false)
  })

  it('numbers certificates by district and China year (the year turns at 16:00 UTC on 31 December)', () => {
    expect(certificateNumber('5301', new Date('2026-12-31T15:59:59Z'), 7)).toBe('53012026Q000000007')
    expect(certificateNumber('5301', new Date('2026-12-31T16:00:00Z'), 7)).toBe('53012027Q000000007')
  })
})
