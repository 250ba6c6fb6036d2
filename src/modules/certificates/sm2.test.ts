import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import {
  CHICKEN_FEET,
  activeRule,
  auditRows,
  buildEnterprise,
  buildOperator,
  inspect,
  loginUser,
  noRandomSelection,
  submitDeclaration,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'
import { sm2 } from '../../shared/sm2.js'
import { keyId } from '../../shared/signing.js'
import { parseToken } from './token.js'

interface Cert {
  number: string
  token: string
  kid: string
  declarationId: string
}
interface Jwk {
  kty: string
  crv: string
  alg: string
  kid: string
  x: string
  y?: string
  status: string
  retiredAt: string | null
}

/** Certificates issued under an SM2 issuing key: rotation Ed25519 → SM2 → Ed25519, and every token keeps verifying. */
describe('certificates under SM2 issuing keys', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let admin: { headers: Headers }
  let op: TestOperator

  const verify = async (token: string) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/certificates/verify', payload: { token } })
    expect(res.statusCode).toBe(200)
    return res.json() as { verdict: string; reasons: string[]; keyId: string | null }
  }
  const rotate = (query = '') =>
    t.app.inject({ method: 'POST', url: `/api/v1/certificates/keys/rotate${query}`, headers: admin.headers })
  async function certified(): Promise<Cert> {
    const d = await submitDeclaration(t, op, { items: [CHICKEN_FEET], tradeCountry: 'RUS' })
    expect(d).toMatchObject({ state: 'INSPECTING', lane: 'RED' })
    t.clock.advance(60_000)
    await inspect(t, officer, d.id)
    const [c] = (
      await t.app.inject({ method: 'GET', url: `/api/v1/certificates?declarationId=${d.id}`, headers: officer.headers })
    ).json().items as Cert[]
    return c!
  }

  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    const officer2 = await loginUser(t, 'officer')
    admin = await loginUser(t, 'admin')
    await noRandomSelection(t, admin)
    await activeRule(t, officer, officer2, 'poultry-red', [{ field: 'hsCode', op: 'prefix', value: '0207' }], {
      lane: 'RED',
      reason: 'poultry under inspection order',
    })
    op = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })

  it('rotates Ed25519 → SM2 → Ed25519: each certificate verifies (JSON API, page, JWKS offline), tampering is caught', async () => {
    const first = await certified()
    t.clock.advance(1000)
    expect((await rotate('?alg=RSA')).statusCode).toBe(400)
    const toSm2 = await rotate('?alg=SM2')
    expect(toSm2.statusCode).toBe(200)
    expect(toSm2.json()).toMatchObject({ retired: first.kid })
    const sm2Kid: string = toSm2.json().activated
    const second = await certified()
    expect(second.kid).toBe(sm2Kid)
    t.clock.advance(1000)
    const back = await rotate()
    expect(back.json()).toMatchObject({ retired: sm2Kid })
    const third = await certified()

    for (const c of [first, second, third])
      expect(await verify(c.token)).toMatchObject({ verdict: 'AUTHENTIC', keyId: c.kid, reasons: ['OK'] })
    const page = await t.app.inject({ method: 'GET', url: `/verify/${second.token}` })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain(second.number)
    expect(page.body).toContain('真实有效')

    // The token format is unchanged: a 64-byte r‖s signature in the last part.
    const parsed = parseToken(second.token)
    if (!parsed.ok) throw new Error('SM2 token does not parse')
    expect(Buffer.from(parsed.token.signature, 'base64url')).toHaveLength(64)
    // One character of the digest changed: the SM2 signature no longer covers it.
    const parts = second.token.split('.')
    parts[3] = parts[3]!.slice(0, 5) + (parts[3]![5] === 'A' ? 'B' : 'A') + parts[3]!.slice(6)
    expect(await verify(parts.join('.'))).toMatchObject({ verdict: 'TAMPERED', reasons: ['SIGNATURE_INVALID'] })

    // The JWKS publishes the SM2 key as kty EC, crv SM2, with x and y; an offline verifier rebuilds 04‖x‖y.
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: Jwk[] }
    const jwk = jwks.keys.find((k) => k.kid === sm2Kid)!
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'SM2', alg: 'SM2', use: 'sig', status: 'RETIRED' })
    expect(jwks.keys.find((k) => k.kid === first.kid)).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      alg: 'EdDSA',
      status: 'RETIRED',
    })
    expect(jwks.keys.find((k) => k.kid === third.kid)).toMatchObject({ kty: 'OKP', crv: 'Ed25519', status: 'ACTIVE' })
    const publicKey = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x, 'base64url'),
      Buffer.from(jwk.y!, 'base64url'),
    ]).toString('base64url')
    expect(keyId(publicKey)).toBe(sm2Kid)
    expect(sm2.verify(publicKey, Buffer.from(parsed.token.signed, 'utf8'), parsed.token.signature)).toBe(true)
    expect(jwks.keys.every((k) => !('d' in k))).toBe(true)
    expect(await auditRows(t, 'certificate_key', sm2Kid)).toEqual([
      expect.objectContaining({ action: 'CERTIFICATE_KEY_ACTIVATED', data: { alg: 'SM2', publicKey } }),
      expect.objectContaining({ action: 'CERTIFICATE_KEY_RETIRED' }),
    ])

    // `kouan cert verify` (here against the running server) says AUTHENTIC for the SM2 certificate.
    const url = await t.app.listen({ port: 0, host: '127.0.0.1' })
    const out = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(import.meta.dirname, '..', '..', 'cli.ts'),
          'cert',
          'verify',
          second.token,
          '--url',
          url,
        ],
        { env: { ...process.env, KOUAN_LOG_LEVEL: 'silent' } },
      )
      let s = ''
      child.stdout.on('data', (b) => {
        s += b
      })
      child.on('close', (code) => resolve({ code, out: s }))
    })
    expect(out.code).toBe(0)
    expect(JSON.parse(out.out)).toMatchObject({ verdict: 'AUTHENTIC', number: second.number, keyId: sm2Kid })
  }, 180_000)
})
