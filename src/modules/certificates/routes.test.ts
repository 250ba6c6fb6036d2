import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { PDFDocument } from 'pdf-lib'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  CHICKEN_FEET,
  activeRule,
  auditRows,
  buildEnterprise,
  buildOperator,
  decodePdfQr,
  inspect,
  loginUser,
  noRandomSelection,
  submitDeclaration,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'
import { buildApp } from '../../app.js'
import { loadConfig } from '../../config.js'
import { verifyAudit } from '../../shared/audit.js'
import { systemIds } from '../../shared/clock.js'
import { ed25519, keyId } from '../../shared/signing.js'
import { tokenOfPdf } from '../../shared/pdf.js'
import { contentDigest, parseToken, signToken } from './token.js'
import { issueOnRelease } from './service.js'
import { findDeclaration } from '../declarations/repo.js'
import { QR_PAYLOAD_MAX } from './schema.js'

type User = { id: string; username: string; headers: Headers }
interface Cert {
  id: string
  number: string
  token: string
  verifyUrl: string
  kid: string
  digest: string
  declarationId: string
  content: { validUntil: string; [k: string]: unknown }
  revokedAt: string | null
  [k: string]: unknown
}

const PHONES = {
  hsCode: '8517130000',
  description: 'Smartphones',
  quantity: '10',
  unit: '001',
  unitPrice: '300.5',
  totalValue: '3005.00',
  originCountry: 'CHN',
}

describe('certificates', () => {
  const t = useTestApp()
  let officer: User
  let officer2: User
  let admin: User
  let op: TestOperator
  let other: TestOperator

  const get = (headers: Headers | undefined, url: string) =>
    t.app.inject({ method: 'GET', url, ...(headers ? { headers } : {}) })
  const post = (headers: Headers | undefined, url: string, payload?: object) =>
    t.app.inject({ method: 'POST', url, ...(headers ? { headers } : {}), ...(payload ? { payload } : {}) })
  const verify = async (token: string) => {
    const res = await post(undefined, '/api/v1/certificates/verify', { token })
    expect(res.statusCode).toBe(200)
    return res.json()
  }
  const certificatesOf = async (declarationId: string): Promise<Cert[]> =>
    (await get(officer.headers, `/api/v1/certificates?declarationId=${declarationId}`)).json().items

  /** Chicken feet routed RED by rule, inspected and found compliant: released (and, as general trade, cleared). */
  async function certified(
    who = op,
  ): Promise<{ declaration: { id: string; entryId: string; state: string }; certificate: Cert }> {
    const d = await submitDeclaration(t, who, { items: [CHICKEN_FEET, PHONES], tradeCountry: 'RUS' })
    expect(d).toMatchObject({ state: 'INSPECTING', lane: 'RED' })
    t.clock.advance(60_000)
    const after = await inspect(t, officer, d.id)
    const [certificate] = await certificatesOf(d.id)
    return { declaration: after as never, certificate: certificate! }
  }

  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    officer2 = await loginUser(t, 'officer')
    admin = await loginUser(t, 'admin')
    await noRandomSelection(t, admin)
    await activeRule(t, officer, officer2, 'poultry-red', [{ field: 'hsCode', op: 'prefix', value: '0207' }], {
      lane: 'RED',
      reason: 'poultry under inspection order',
    })
    await activeRule(t, officer, officer2, 'apples-yellow', [{ field: 'hsCode', op: 'prefix', value: '0808' }], {
      lane: 'YELLOW',
    })
    await activeRule(
      t,
      officer,
      officer2,
      'phones-doc',
      [
        { field: 'hsCode', op: 'prefix', value: '851713' },
        { field: 'originCountry', op: 'eq', value: 'KOR' },
      ],
      { lane: 'YELLOW' },
    )
    op = await buildOperator(t, officer, await buildEnterprise(t, officer, { name: '深圳市口岸冻品贸易有限公司' }))
    other = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })

  describe('automatic issuance on release', () => {
    it('issues a signed certificate when quarantine goods are released after a compliant inspection, in the release transaction', async () => {
      const { declaration, certificate: c } = await certified()
      expect(declaration.state).toBe('CLEARED')
      expect(c.number).toMatch(/^53012026Q\d{9}$/)
      expect(c).toMatchObject({
        declarationId: declaration.id,
        entryId: declaration.entryId,
        issuedBy: 'system:certificates',
        revokedAt: null,
        issuedAt: t.clock.now().toISOString(),
      })
      // Only the line that needs quarantine is certified; the phones are not.
      expect(c.content.goods).toEqual([
        {
          gNo: 1,
          hsCode: '0207142200',
          description: '冷冻鸡爪 Frozen chicken feet',
          quantity: '12000',
          unit: '035',
          originCountry: 'RUS',
          category: 'ANIMAL',
        },
      ])
      expect(c.content).toMatchObject({
        type: 'ENTRY_IQ',
        number: c.number,
        entryId: declaration.entryId,
        consignee: {
          name: '深圳市口岸冻品贸易有限公司',
          customsCode: op.enterprise.customsCode,
          uscc: op.enterprise.uscc,
        },
        tradeCountry: 'RUS',
        iePort: '5302',
        inspection: { result: 'COMPLIANT', finishedAt: t.clock.now().toISOString() },
        issuingOffice: { code: '5301' },
      })
      expect(c.digest).toBe(contentDigest(c.content))
      const parsed = parseToken(c.token)
      expect(parsed).toMatchObject({
        ok: true,
        token: { kind: 'CERTIFICATE', number: c.number, digest: c.digest, kid: c.kid },
      })
      expect(Buffer.byteLength(c.verifyUrl)).toBeLessThan(QR_PAYLOAD_MAX)
      expect(c.verifyUrl).toBe(`http://127.0.0.1:3000/verify/${c.token}`)
      const trail = await auditRows(t, 'certificate', c.number)
      expect(trail).toEqual([
        expect.objectContaining({
          action: 'CERTIFICATE_ISSUED',
          actor: 'system:certificates',
          data: expect.objectContaining({ declarationId: declaration.id, digest: c.digest, kid: c.kid }),
        }),
      ])
      expect(await verify(c.token)).toMatchObject({
        verdict: 'AUTHENTIC',
        reasons: ['OK'],
        kind: 'CERTIFICATE',
        number: c.number,
        statusChecked: true,
      })
    })

    it('issues nothing for goods that need no quarantine, for a release without inspection, or after a non-compliant result', async () => {
      const phones = await submitDeclaration(t, op, { items: [{ ...PHONES, originCountry: 'KOR' }] })
      expect(phones.lane).toBe('YELLOW')
      await inspect(t, officer, phones.id)
      const green = await submitDeclaration(t, op, {
        items: [{ ...CHICKEN_FEET, hsCode: '0201100000', description: 'Beef carcasses' }],
      })
      expect(green).toMatchObject({ lane: 'GREEN', state: 'CLEARED' })
      const failed = await submitDeclaration(t, op, { items: [CHICKEN_FEET] })
      await inspect(t, officer, failed.id, {
        result: 'NON_COMPLIANT',
        findings: [{ category: 'QUALITY_SAFETY', itemNo: 1 }],
        disposal: 'TECHNICAL_TREATMENT',
      })
      expect((await post(officer.headers, `/api/v1/declarations/${failed.id}/release`, {})).statusCode).toBe(200)
      for (const d of [phones, green, failed]) expect(await certificatesOf(d.id)).toEqual([])
      expect(
        await countRows(t.db, 'certificates', 'declaration_id = any($1::uuid[])', [[phones.id, green.id, failed.id]]),
      ).toBe(0)
    })

    it('issues once per declaration: running the release hook again (a retry) adds nothing', async () => {
      const { declaration, certificate: c } = await certified()
      const d = (await findDeclaration(t.db, declaration.id))!
      await t.db.transaction((tx) => issueOnRelease(tx, { clock: t.clock, ids: systemIds }, d))
      expect(await countRows(t.db, 'certificates', 'declaration_id = $1', [declaration.id])).toBe(1)
      expect((await certificatesOf(declaration.id)).map((x) => x.number)).toEqual([c.number])
    })

    it('lets an officer certify a released declaration of quarantine goods, once: 201, then 200 with the same certificate', async () => {
      const d = await submitDeclaration(t, op, { items: [CHICKEN_FEET] })
      await inspect(t, officer, d.id, {
        result: 'NON_COMPLIANT',
        findings: [{ category: 'QUALITY_SAFETY', itemNo: 1 }],
        disposal: 'TECHNICAL_TREATMENT',
      })
      expect((await post(officer.headers, `/api/v1/certificates`, { declarationId: d.id })).statusCode).toBe(409)
      expect((await post(officer.headers, `/api/v1/declarations/${d.id}/release`, {})).statusCode).toBe(200)
      const first = await post(officer.headers, '/api/v1/certificates', {
        declarationId: d.id,
        note: 'treated under supervision',
      })
      expect(first.statusCode).toBe(201)
      expect(first.json()).toMatchObject({
        issuedBy: `user:${officer.username}`,
        content: { inspection: { result: 'OFFICER_DECISION' }, remarks: 'treated under supervision' },
      })
      const again = await post(officer.headers, '/api/v1/certificates', { declarationId: d.id })
      expect(again.statusCode).toBe(200)
      expect(again.json().number).toBe(first.json().number)
      expect(await countRows(t.db, 'certificates', 'declaration_id = $1', [d.id])).toBe(1)
      expect((await post(op.headers, '/api/v1/certificates', { declarationId: d.id })).statusCode).toBe(403)
    })

    it('refuses to certify goods that need no quarantine: 422 CERTIFICATE_NOT_REQUIRED', async () => {
      const d = await submitDeclaration(t, op, { items: [PHONES] })
      const res = await post(officer.headers, '/api/v1/certificates', { declarationId: d.id })
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({ code: 'CERTIFICATE_NOT_REQUIRED', pointer: '/body/declarationId' })
    })
  })

  describe('the PDF', () => {
    it('is an A4 document whose QR code decodes to the verify URL, with the token and the signed content inside', async () => {
      const { certificate: c } = await certified()
      const res = await get(op.headers, `/api/v1/certificates/${c.number}/pdf`)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('application/pdf')
      const bytes = res.rawPayload
      const doc = await PDFDocument.load(bytes)
      expect(doc.getPageCount()).toBe(1)
      expect(doc.getPage(0).getSize()).toEqual({ width: 595.28, height: 841.89 })
      expect(doc.getTitle()).toBe(`入境货物检验检疫证明 ${c.number}`)
      expect(await decodePdfQr(bytes)).toBe(c.verifyUrl)
      const inside = await tokenOfPdf(bytes)
      expect(inside.token).toBe(c.token)
      expect(contentDigest(JSON.parse(Buffer.from(inside.attachment!).toString('utf8')))).toBe(c.digest)
      // Deterministic: the same certificate renders to the same bytes.
      const { renderCertificatePdf } = await import('./pdf.js')
      const { findCertificate } = await import('./repo.js')
      const again = await renderCertificatePdf((await findCertificate(t.db, c.number))!, c.verifyUrl)
      expect(Buffer.from(again).equals(bytes)).toBe(true)
    })

    it('is for officers and the consignee only: another enterprise gets 404', async () => {
      const { certificate: c } = await certified()
      expect((await get(other.headers, `/api/v1/certificates/${c.number}/pdf`)).statusCode).toBe(404)
      expect((await get(other.headers, `/api/v1/certificates/${c.number}`)).json()).toMatchObject({
        code: 'CERTIFICATE_NOT_FOUND',
      })
      expect((await get(officer.headers, `/api/v1/certificates/${c.number}`)).statusCode).toBe(200)
      expect((await get(other.headers, '/api/v1/certificates')).json()).toMatchObject({ total: 0 })
    })
  })

  describe('verification', () => {
    let c: Cert
    beforeAll(async () => {
      c = (await certified()).certificate
    })

    it('accepts the whole scanned URL as well as the token', async () => {
      expect(await verify(c.verifyUrl)).toMatchObject({ verdict: 'AUTHENTIC', number: c.number, keyId: c.kid })
    })

    it('shows the printed fields of an authentic certificate on a phone-readable page, in Chinese and English', async () => {
      const res = await get(undefined, `/verify/${c.token}`)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toContain('text/html')
      expect(res.headers['x-kouan-verdict']).toBe('AUTHENTIC')
      expect(res.body).toContain('<meta name="viewport"')
      expect(res.body).toContain('真实有效')
      expect(res.body).toContain('Authentic')
      expect(res.body).toContain('深圳市口岸冻品贸易有限公司')
      expect(res.body).not.toContain('<script')
    })

    it('says TAMPERED / SIGNATURE_INVALID when the signature or the signed part is altered', async () => {
      const p = parseToken(c.token)
      if (!p.ok) throw new Error('unparsable')
      const sig = Buffer.from(p.token.signature, 'base64url')
      sig[5] = sig[5]! ^ 1
      expect(await verify(`${p.token.signed}.${sig.toString('base64url')}`)).toMatchObject({
        verdict: 'TAMPERED',
        reasons: ['SIGNATURE_INVALID'],
        statusChecked: false,
        fields: [],
      })
      const otherDigest = contentDigest({ forged: true })
      expect((await verify(c.token.replace(c.digest, otherDigest))).verdict).toBe('TAMPERED')
    })

    it('says TAMPERED / CONTENT_MISMATCH when the registry record no longer matches what was signed', async () => {
      const { certificate: x } = await certified()
      await t.db.query(
        `update certificates set content = jsonb_set(content, '{goods,0,quantity}', '"99999"') where number = $1`,
        [x.number],
      )
      expect(await verify(x.token)).toMatchObject({
        verdict: 'TAMPERED',
        reasons: ['CONTENT_MISMATCH'],
        statusChecked: true,
        fields: [],
      })
    })

    it('says TAMPERED / NOT_FOUND for a well-signed token of a number the registry does not have', async () => {
      const keys = await t.db.query<{ kid: string; alg: string; private_key: string }>(
        `select kid, alg, private_key from certificate_keys where status = 'ACTIVE'`,
      )
      const k = keys[0]!
      const token = signToken(
        { kind: 'CERTIFICATE', number: '53012026Q999999999', digest: c.digest, kid: k.kid },
        { kid: k.kid, alg: k.alg, privateKey: k.private_key },
      )
      expect(await verify(token)).toMatchObject({ verdict: 'TAMPERED', reasons: ['NOT_FOUND'] })
    })

    it('says UNKNOWN_ISSUER / KEY_UNKNOWN for a token signed with a key that was never published', async () => {
      const forger = ed25519.generate()
      const kid = keyId(forger.publicKey)
      const token = signToken(
        { kind: 'CERTIFICATE', number: c.number, digest: c.digest, kid },
        { kid, alg: 'Ed25519', privateKey: forger.privateKey },
      )
      expect(await verify(token)).toMatchObject({
        verdict: 'UNKNOWN_ISSUER',
        reasons: ['KEY_UNKNOWN'],
        keyId: kid,
        fields: [],
      })
    })

    it('says MALFORMED for garbage, truncation and unknown versions, never failing', async () => {
      expect(await verify('hello')).toMatchObject({ verdict: 'MALFORMED', reasons: ['MALFORMED'], kind: null })
      expect(await verify(c.token.slice(0, -10))).toMatchObject({ verdict: 'MALFORMED', reasons: ['MALFORMED'] })
      expect(await verify(c.token.slice(0, 40))).toMatchObject({ verdict: 'MALFORMED' })
      expect(await verify(c.token.replace(/^K1/, 'K2'))).toMatchObject({
        verdict: 'MALFORMED',
        reasons: ['UNSUPPORTED_VERSION'],
      })
      const page = await get(undefined, '/verify/%E4%BD%A0%E5%A5%BD%3Cscript%3E')
      expect(page.statusCode).toBe(200)
      expect(page.headers['x-kouan-verdict']).toBe('MALFORMED')
      expect(page.body).not.toContain('<script>')
    })

    test.prop([fc.string({ maxLength: 400 })], { numRuns: 60 })(
      'answers any text with a verdict, never an error',
      async (s) => {
        const res = await post(undefined, '/api/v1/certificates/verify', { token: s.length ? s : ' ' })
        expect(res.statusCode).toBe(200)
        expect(['MALFORMED', 'TAMPERED', 'UNKNOWN_ISSUER']).toContain(res.json().verdict)
      },
    )

    it('writes nothing to the database', async () => {
      const counts = async () =>
        Promise.all(['audit_log', 'certificates', 'certificate_keys', 'archive_prints'].map((x) => countRows(t.db, x)))
      const before = await counts()
      await verify(c.token)
      await verify('K1.C.garbage')
      await get(undefined, `/verify/${c.token}`)
      expect(await counts()).toEqual(before)
    })

    it('says EXPIRED after the validity window (365 days) and AUTHENTIC the moment before', async () => {
      const { certificate: x } = await certified()
      const saved = t.clock.now()
      t.clock.set(new Date(Date.parse(x.content.validUntil) - 1))
      expect((await verify(x.token)).verdict).toBe('AUTHENTIC')
      t.clock.set(x.content.validUntil)
      expect(await verify(x.token)).toMatchObject({
        verdict: 'EXPIRED',
        reasons: ['EXPIRED'],
        validUntil: x.content.validUntil,
      })
      t.clock.set(saved)
    })
  })

  describe('revocation and re-issue', () => {
    it('revokes with a reason (audited); verification then says REVOKED with date and reason; a second revocation is 409', async () => {
      const { certificate: c } = await certified()
      t.clock.advance(1000)
      const res = await post(officer.headers, `/api/v1/certificates/${c.number}/revoke`, {
        reason: 'GOODS_NONCOMPLIANT',
        note: 'residues found by the lab',
      })
      expect(res.statusCode).toBe(200)
      const at = t.clock.now().toISOString()
      expect(res.json()).toMatchObject({
        revokedAt: at,
        revocationReason: 'GOODS_NONCOMPLIANT',
        revocationNote: 'residues found by the lab',
        revokedBy: `user:${officer.username}`,
      })
      expect(await verify(c.token)).toMatchObject({
        verdict: 'REVOKED',
        reasons: ['REVOKED'],
        revokedAt: at,
        revocationReason: 'GOODS_NONCOMPLIANT',
      })
      expect((await get(undefined, `/verify/${c.token}`)).body).toContain('已撤销')
      expect((await auditRows(t, 'certificate', c.number)).map((a) => a.action)).toEqual([
        'CERTIFICATE_ISSUED',
        'CERTIFICATE_REVOKED',
      ])
      const again = await post(officer.headers, `/api/v1/certificates/${c.number}/revoke`, { reason: 'WITHDRAWN' })
      expect(again.statusCode).toBe(409)
      expect(again.json().code).toBe('CERTIFICATE_REVOKED')
      expect(
        (await post(op.headers, `/api/v1/certificates/${c.number}/revoke`, { reason: 'WITHDRAWN' })).statusCode,
      ).toBe(403)
    })

    it('re-issues under a new number; the old one reads REVOKED / SUPERSEDED with replacedBy, the new one AUTHENTIC', async () => {
      const { certificate: c } = await certified()
      t.clock.advance(1000)
      const res = await post(officer.headers, `/api/v1/certificates/${c.number}/reissue`, {
        note: 'consignee name corrected',
      })
      expect(res.statusCode).toBe(201)
      const fresh: Cert = res.json()
      expect(fresh.number).not.toBe(c.number)
      expect(fresh.content).toMatchObject({
        replaces: c.number,
        remarks: 'consignee name corrected',
        goods: c.content.goods,
        inspection: c.content.inspection,
      })
      expect(await verify(c.token)).toMatchObject({
        verdict: 'REVOKED',
        revocationReason: 'SUPERSEDED',
        replacedBy: fresh.number,
      })
      expect(await verify(fresh.token)).toMatchObject({ verdict: 'AUTHENTIC' })
      expect(await certificatesOf(c.declarationId)).toHaveLength(2)
      expect((await auditRows(t, 'certificate', fresh.number)).map((a) => a.action)).toEqual(['CERTIFICATE_ISSUED'])
      expect((await auditRows(t, 'certificate', c.number)).at(-1)).toMatchObject({
        action: 'CERTIFICATE_REVOKED',
        data: { reason: 'SUPERSEDED', replacedBy: fresh.number },
      })
    })
  })

  describe('issuing keys', () => {
    it('rotate: certificates signed by the retired key still verify, new ones use the new key, both are published', async () => {
      const { certificate: before } = await certified()
      t.clock.advance(1000)
      expect((await post(officer.headers, '/api/v1/certificates/keys/rotate')).statusCode).toBe(403)
      const rot = await post(admin.headers, '/api/v1/certificates/keys/rotate')
      expect(rot.statusCode).toBe(200)
      expect(rot.json()).toMatchObject({ retired: before.kid })
      const rotatedAt = t.clock.now().toISOString()
      const { certificate: after } = await certified()
      expect(after.kid).toBe(rot.json().activated)
      expect(after.kid).not.toBe(before.kid)
      expect((await verify(before.token)).verdict).toBe('AUTHENTIC')
      expect((await verify(after.token)).verdict).toBe('AUTHENTIC')
      const jwks = (await get(undefined, '/.well-known/jwks.json')).json()
      expect(jwks.keys).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            kid: before.kid,
            kty: 'OKP',
            crv: 'Ed25519',
            status: 'RETIRED',
            retiredAt: rotatedAt,
          }),
          expect.objectContaining({ kid: after.kid, status: 'ACTIVE', retiredAt: null }),
        ]),
      )
      expect((await get(undefined, '/api/v1/certificates/keys')).json()).toEqual(jwks)
      expect(jwks.keys.every((k: { d?: string }) => k.d === undefined)).toBe(true)
      expect((await auditRows(t, 'certificate_key', before.kid)).map((a) => a.action)).toEqual([
        'CERTIFICATE_KEY_ACTIVATED',
        'CERTIFICATE_KEY_RETIRED',
      ])
    })
  })

  describe('the quarantine table', () => {
    it('is data: an admin replaces it (audited) and issuance follows it', async () => {
      const current = (await get(officer.headers, '/api/v1/certificates/quarantine-ranges')).json().items
      expect(current).toEqual(
        expect.arrayContaining([expect.objectContaining({ hsFrom: '01', hsTo: '05', category: 'ANIMAL' })]),
      )
      expect(
        (
          await t.app.inject({
            method: 'PUT',
            url: '/api/v1/certificates/quarantine-ranges',
            headers: officer.headers,
            payload: { items: current },
          })
        ).statusCode,
      ).toBe(403)
      const bad = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/certificates/quarantine-ranges',
        headers: admin.headers,
        payload: { items: [{ hsFrom: '08', hsTo: '0810', category: 'PLANT', description: 'x' }] },
      })
      expect(bad.statusCode).toBe(422)
      const res = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/certificates/quarantine-ranges',
        headers: admin.headers,
        payload: {
          items: [
            ...current,
            { hsFrom: '851713', hsTo: '851713', ciqCode: null, category: 'OTHER', description: 'test: phones' },
          ],
        },
      })
      expect(res.statusCode).toBe(200)
      const phones = await submitDeclaration(t, op, { items: [{ ...PHONES, originCountry: 'KOR' }] })
      await inspect(t, officer, phones.id)
      expect(await certificatesOf(phones.id)).toHaveLength(1)
      expect((await auditRows(t, 'quarantine_ranges', 'table')).map((a) => a.action)).toEqual([
        'QUARANTINE_RANGES_REPLACED',
      ])
      expect(
        (
          await t.app.inject({
            method: 'PUT',
            url: '/api/v1/certificates/quarantine-ranges',
            headers: admin.headers,
            payload: { items: current },
          })
        ).statusCode,
      ).toBe(200)
    })
  })

  it('rate-limits public verification per client address: 429 RATE_LIMITED in the common error shape', async () => {
    const limited = await buildApp(loadConfig({}, { logLevel: 'silent', cebMatching: false, verifyRateLimit: 3 }), {
      db: t.db,
      clock: t.clock,
      ids: systemIds,
    })
    try {
      const codes = []
      for (let i = 0; i < 4; i++)
        codes.push(
          (await limited.inject({ method: 'POST', url: '/api/v1/certificates/verify', payload: { token: 'x' } }))
            .statusCode,
        )
      expect(codes).toEqual([200, 200, 200, 429])
      const res = await limited.inject({ method: 'GET', url: '/verify/x' })
      expect(res.statusCode).toBe(200)
      const pages = []
      for (let i = 0; i < 3; i++) pages.push((await limited.inject({ method: 'GET', url: '/verify/x' })).statusCode)
      expect(pages).toEqual([200, 200, 429])
      const over = await limited.inject({ method: 'POST', url: '/api/v1/certificates/verify', payload: { token: 'x' } })
      expect(over.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' })
    } finally {
      await limited.close()
    }
  })

  it('kouan cert verify checks a PDF file (token, attached content) and a bare token against a server', async () => {
    const { certificate: c } = await certified()
    const pdf = (await get(op.headers, `/api/v1/certificates/${c.number}/pdf`)).rawPayload
    const dir = mkdtempSync(join(tmpdir(), 'kouan-cert-'))
    writeFileSync(join(dir, 'cert.pdf'), pdf)
    const url = await t.app.listen({ port: 0, host: '127.0.0.1' })
    const cli = (...args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'cli.ts'), 'cert', 'verify', ...args, '--url', url],
          { env: { ...process.env, KOUAN_LOG_LEVEL: 'silent' } },
        )
        let out = ''
        child.stdout.on('data', (b) => {
          out += b
        })
        child.on('close', (code) => resolve({ code, out }))
      })
    const file = await cli(join(dir, 'cert.pdf'))
    expect(file.code).toBe(0)
    expect(JSON.parse(file.out)).toMatchObject({
      verdict: 'AUTHENTIC',
      number: c.number,
      file: { attachedContentMatchesToken: true },
    })
    const forged = await cli(c.token.slice(0, -3) + 'AAA')
    expect(forged.code).toBe(1)
    expect(JSON.parse(forged.out).verdict).toMatch(/TAMPERED|MALFORMED/)
  }, 60_000)

  it('leaves a verifiable audit chain', async () => {
    expect((await verifyAudit(t.db)).problems).toEqual([])
  })
})
