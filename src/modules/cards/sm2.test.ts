import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  auditRows,
  buildEnterprise,
  cebExample,
  declarationContent,
  deterministicCebSetup,
  loginUser,
  type CebParty,
  type Headers,
  type TestEnterprise,
  type TestOperator,
} from '../../../test/factories.js'
import { ed25519, signPayload } from '../../shared/signing.js'
import { sm2 } from '../../shared/sm2.js'
import { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from '../ecommerce/xml.js'

/**
 * SM2 port cards through the real app: issuance, login, declarations and CEB messages verify by the card's
 * algorithm (SM2 with SM3, signer ID 1234567812345678, r‖s signatures).
 */
describe('SM2 port cards', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let admin: { headers: Headers }
  let ent: TestEnterprise

  const issue = (payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/cards', headers: officer.headers, payload })
  const challenge = async (cardNo: string) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/challenge', payload: { cardNo } })
    expect(res.statusCode).toBe(200)
    return res.json() as { challengeId: string; challenge: string }
  }
  const cardLogin = (challengeId: string, signature: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/card-login', payload: { challengeId, signature } })

  /** An SM2 card of `enterpriseId`, logged in with an SM2 signature over the challenge. */
  async function sm2Operator(enterprise: TestEnterprise): Promise<TestOperator> {
    const keys = sm2.generate()
    const res = await issue({
      enterpriseId: enterprise.id,
      operatorName: '王芳',
      alg: 'SM2',
      publicKey: keys.publicKey,
    })
    expect(res.statusCode).toBe(201)
    const card = res.json()
    const ch = await challenge(card.cardNo)
    const login = await cardLogin(ch.challengeId, sm2.sign(keys.privateKey, Buffer.from(ch.challenge, 'utf8')))
    expect(login.statusCode).toBe(200)
    return {
      cardId: card.id,
      cardNo: card.cardNo,
      ...keys,
      headers: { authorization: `Bearer ${login.json().token}` },
      enterprise,
    }
  }

  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    admin = await loginUser(t, 'admin')
    ent = await buildEnterprise(t, admin)
  })

  describe('issuance', () => {
    it('issues an SM2 card for a public key on the curve, with alg SM2 in the card and the audit event', async () => {
      const keys = sm2.generate()
      const res = await issue({
        enterpriseId: ent.id,
        operatorName: 'Zhang Wei',
        alg: 'SM2',
        publicKey: keys.publicKey,
      })
      expect(res.statusCode).toBe(201)
      const card = res.json()
      expect(card).toMatchObject({ alg: 'SM2', publicKey: keys.publicKey, status: 'ACTIVE' })
      expect(
        (await t.app.inject({ method: 'GET', url: `/api/v1/cards/${card.id}`, headers: officer.headers })).json(),
      ).toMatchObject({ alg: 'SM2', publicKey: keys.publicKey })
      expect(await auditRows(t, 'card', card.id)).toEqual([
        expect.objectContaining({
          action: 'CARD_ISSUED',
          data: expect.objectContaining({ alg: 'SM2', keyId: card.keyId }),
        }),
      ])
    })

    it.each([
      [
        'a point off the curve',
        (() => {
          const b = Buffer.from(sm2.generate().publicKey, 'base64url')
          b[64]! ^= 1
          return b.toString('base64url')
        })(),
        'SM2',
        422,
      ],
      ['an Ed25519 key under SM2', ed25519.generate().publicKey, 'SM2', 422],
      ['an SM2 key under Ed25519', sm2.generate().publicKey, 'Ed25519', 422],
      ['an SM2 key without alg (Ed25519 is the default)', sm2.generate().publicKey, undefined, 422],
      ['an unknown alg', sm2.generate().publicKey, 'SM9', 400],
      [
        'a compressed SM2 point',
        Buffer.concat([Buffer.from([2]), Buffer.from(sm2.generate().publicKey, 'base64url').subarray(1, 33)]).toString(
          'base64url',
        ),
        'SM2',
        400,
      ],
    ])('refuses %s, writing nothing', async (_what, publicKey, alg, status) => {
      const before = await countRows(t.db, 'port_cards')
      const res = await issue({ enterpriseId: ent.id, operatorName: 'X', publicKey, ...(alg ? { alg } : {}) })
      expect(res.statusCode).toBe(status)
      if (status === 422) expect(res.json()).toMatchObject({ code: 'CARD_BAD_PUBLIC_KEY', pointer: '/body/publicKey' })
      expect(await countRows(t.db, 'port_cards')).toBe(before)
    })
  })

  describe('login', () => {
    it('logs in by challenge–response with the SM2 signature; another key, another text or an Ed25519 signature are refused', async () => {
      const keys = sm2.generate()
      const card = (
        await issue({ enterpriseId: ent.id, operatorName: 'Li Na', alg: 'SM2', publicKey: keys.publicKey })
      ).json()
      const refused = async (sign: (challenge: string) => string) => {
        const ch = await challenge(card.cardNo)
        const res = await cardLogin(ch.challengeId, sign(ch.challenge))
        expect(res.statusCode).toBe(401)
        expect(res.json()).toMatchObject({ code: 'AUTH_BAD_SIGNATURE' })
      }
      await refused((c) => sm2.sign(sm2.generate().privateKey, Buffer.from(c, 'utf8')))
      await refused((c) => sm2.sign(keys.privateKey, Buffer.from(c + ' ', 'utf8')))
      await refused((c) => ed25519.sign(ed25519.generate().privateKey, Buffer.from(c, 'utf8')))
      // The same signature in DER form (what OpenSSL would give) is not the documented spelling.
      await refused((c) => {
        const raw = Buffer.from(sm2.sign(keys.privateKey, Buffer.from(c, 'utf8')), 'base64url')
        const int = (b: Buffer) =>
          b[0]! >= 0x80 ? Buffer.concat([Buffer.from([2, 33, 0]), b]) : Buffer.concat([Buffer.from([2, 32]), b])
        const seq = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))])
        return Buffer.concat([Buffer.from([0x30, seq.length]), seq]).toString('base64url')
      })
      const ch = await challenge(card.cardNo)
      const ok = await cardLogin(ch.challengeId, sm2.sign(keys.privateKey, Buffer.from(ch.challenge, 'utf8')))
      expect(ok.statusCode).toBe(200)
      const me = await t.app.inject({
        method: 'GET',
        url: `/api/v1/cards/${card.id}`,
        headers: { authorization: `Bearer ${ok.json().token}` },
      })
      expect(me.statusCode).toBe(200)
    })

    it('replaces an Ed25519 card by an SM2 card (补办): the old key no longer logs in, the new one does', async () => {
      const oldKeys = ed25519.generate()
      const old = (await issue({ enterpriseId: ent.id, operatorName: 'Zhao Lei', publicKey: oldKeys.publicKey })).json()
      expect(old.alg).toBe('Ed25519')
      const keys = sm2.generate()
      const bad = await t.app.inject({
        method: 'POST',
        url: `/api/v1/cards/${old.id}/replace`,
        headers: officer.headers,
        payload: { publicKey: keys.publicKey, reason: 'SM2 UKey' },
      })
      expect(bad.statusCode).toBe(422) // without alg the new card keeps Ed25519, and this is no Ed25519 key
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/cards/${old.id}/replace`,
        headers: officer.headers,
        payload: { alg: 'SM2', publicKey: keys.publicKey, reason: 'SM2 UKey' },
      })
      expect(res.statusCode).toBe(201)
      const card = res.json()
      expect(card).toMatchObject({ alg: 'SM2', replaces: old.id, issueType: 'REPLACEMENT' })
      const stale = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/challenge',
        payload: { cardNo: old.cardNo },
      })
      if (stale.statusCode === 200) {
        const r = await cardLogin(
          stale.json().challengeId,
          ed25519.sign(oldKeys.privateKey, Buffer.from(stale.json().challenge, 'utf8')),
        )
        expect(r.statusCode).toBe(401)
      } else expect(stale.statusCode).toBe(401)
      const ch = await challenge(card.cardNo)
      expect(
        (await cardLogin(ch.challengeId, sm2.sign(keys.privateKey, Buffer.from(ch.challenge, 'utf8')))).statusCode,
      ).toBe(200)
    })
  })

  describe('declarations', () => {
    let op: TestOperator
    beforeAll(async () => {
      op = await sm2Operator(ent)
    })

    const post = (headers: Headers, payload: object) =>
      t.app.inject({ method: 'POST', url: '/api/v1/declarations', headers, payload })
    const signedSm2 = (o: Pick<TestOperator, 'cardNo' | 'privateKey'>, content: object) => ({
      ...content,
      signature: { cardNo: o.cardNo, alg: 'SM2', value: signPayload(o.privateKey, content, sm2) },
    })

    it('accepts a declaration signed with the SM2 card (201)', async () => {
      const content = declarationContent(op)
      const res = await post(op.headers, signedSm2(op, content))
      expect(res.statusCode).toBe(201)
      expect(res.json()).toMatchObject({ clientRef: content.clientRef })
    })

    it.each([
      [
        'claims Ed25519 for the SM2 card',
        (o: TestOperator, c: object) => ({
          ...signedSm2(o, c),
          signature: { cardNo: o.cardNo, alg: 'Ed25519', value: signPayload(o.privateKey, c, sm2) },
        }),
      ],
      [
        'is signed by another SM2 key',
        (o: TestOperator, c: object) => signedSm2({ cardNo: o.cardNo, privateKey: sm2.generate().privateKey }, c),
      ],
      [
        'is an Ed25519 signature under the SM2 card',
        (o: TestOperator, c: object) => ({
          ...c,
          signature: { cardNo: o.cardNo, alg: 'Ed25519', value: signPayload(ed25519.generate().privateKey, c) },
        }),
      ],
      ['was changed after signing', (o: TestOperator, c: object) => ({ ...signedSm2(o, c), packages: 11 })],
    ])('refuses a declaration that %s (422 SIGNATURE_INVALID, nothing stored)', async (_what, make) => {
      const before = await countRows(t.db, 'declarations')
      const res = await post(op.headers, make(op, declarationContent(op)))
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({ code: 'SIGNATURE_INVALID', pointer: '/body/signature/value' })
      expect(await countRows(t.db, 'declarations')).toBe(before)
    })

    it('signs with `kouan card keygen --alg sm2` and `kouan card sign`, and the body is accepted', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kouan-sm2-'))
      try {
        const cli = (...args: string[]) =>
          new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
            const child = spawn(
              process.execPath,
              ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'cli.ts'), ...args],
              { env: { ...process.env, KOUAN_LOG_LEVEL: 'silent' } },
            )
            let out = ''
            let err = ''
            child.stdout.on('data', (b) => {
              out += b
            })
            child.stderr.on('data', (b) => {
              err += b
            })
            child.on('close', (code) => resolve({ code, out, err }))
          })
        const keyFile = join(dir, 'card.json')
        const gen = await cli('card', 'keygen', '--alg', 'sm2', '-o', keyFile)
        expect(gen.code).toBe(0)
        const file = JSON.parse(readFileSync(keyFile, 'utf8'))
        expect(Object.keys(file)).toEqual(['alg', 'publicKey', 'privateKey'])
        expect(file.alg).toBe('SM2')
        expect(statSync(keyFile).mode & 0o777).toBe(0o600)
        expect(JSON.parse(gen.out)).toEqual({ alg: 'SM2', publicKey: file.publicKey, keyFile })
        expect(() => sm2.parsePublicKey(file.publicKey)).not.toThrow()

        const issued = await issue({ enterpriseId: ent.id, operatorName: 'CLI', alg: 'SM2', publicKey: file.publicKey })
        expect(issued.statusCode).toBe(201)
        const content = declarationContent(op)
        writeFileSync(join(dir, 'declaration.json'), JSON.stringify(content))
        const signed = await cli(
          'card',
          'sign',
          '-k',
          keyFile,
          '-c',
          issued.json().cardNo,
          join(dir, 'declaration.json'),
        )
        expect(signed.code).toBe(0)
        const body = JSON.parse(signed.out)
        expect(body.signature).toMatchObject({ cardNo: issued.json().cardNo, alg: 'SM2' })
        // The CLI card is of the same enterprise as the session's card, so it may sign the session's declarations.
        expect((await post(op.headers, body)).statusCode).toBe(201)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }, 180_000) // two CLI processes, each loading the whole program through tsx
  })

  describe('CEB messages', () => {
    let parties: Record<string, CebParty>
    const sm2Parties: Record<string, TestOperator> = {}

    beforeAll(async () => {
      ;({ parties } = await deterministicCebSetup(t))
      for (const code of ['4601000PAY', '4601000EBC']) {
        sm2Parties[code] = await sm2Operator({
          id: parties[code]!.enterpriseId,
          customsCode: code,
          uscc: '',
          creditLevel: 'REGULAR',
        })
      }
    })

    const sendXml = (p: TestOperator, xml: string, header: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/ceb/messages',
        headers: { ...p.headers, 'content-type': 'application/xml', [SIGNATURE_HEADER]: header },
        payload: xml,
      })
    const parsed = (xml: string) => {
      const r = parseCebXml(xml)
      if (!r.ok) throw new Error(JSON.stringify(r.problems))
      return r.message
    }

    it('accepts an XML message signed with the SM2 card (header cardNo;SM2;signature)', async () => {
      const p = sm2Parties['4601000PAY']!
      const xml = cebExample(411)
      const header = xmlSignatureHeader(p.cardNo, p.privateKey, parsed(xml), sm2)
      expect(header.split(';').slice(0, 2)).toEqual([p.cardNo, 'SM2'])
      const res = await sendXml(p, xml, header)
      expect(res.statusCode).toBe(200)
      expect(res.json().receipts).toEqual([expect.objectContaining({ type: 'CEB411', returnStatus: 2 })])
    })

    it('accepts a JSON message signed with the SM2 card', async () => {
      const p = sm2Parties['4601000EBC']!
      const { type, ...message } = parsed(cebExample(311))
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ceb/messages',
        headers: p.headers,
        payload: {
          type,
          message,
          signature: { cardNo: p.cardNo, alg: 'SM2', value: signPayload(p.privateKey, { type, ...message }, sm2) },
        },
      })
      expect(res.statusCode).toBe(200)
      expect(res.json().receipts).toEqual([expect.objectContaining({ type: 'CEB311', returnStatus: 2 })])
    })

    const tamper = (xml: string) =>
      xml.replace('<ceb:amountPaid>445.13</ceb:amountPaid>', '<ceb:amountPaid>1.00</ceb:amountPaid>')
    it.each([
      [
        'claims Ed25519 for the SM2 card',
        (p: TestOperator, xml: string) => [
          xmlSignatureHeader(p.cardNo, p.privateKey, parsed(xml), sm2).replace(';SM2;', ';Ed25519;'),
          xml,
        ],
      ],
      [
        'is signed by another SM2 key',
        (p: TestOperator, xml: string) => [
          xmlSignatureHeader(p.cardNo, sm2.generate().privateKey, parsed(xml), sm2),
          xml,
        ],
      ],
      [
        'is an Ed25519 signature under the SM2 card',
        (p: TestOperator, xml: string) => [
          xmlSignatureHeader(p.cardNo, ed25519.generate().privateKey, parsed(xml)),
          xml,
        ],
      ],
      [
        'was changed after signing',
        (p: TestOperator, xml: string) => [
          xmlSignatureHeader(p.cardNo, p.privateKey, parsed(xml), sm2),
          xml.replace('<ceb:amountPaid>1.00<', '<ceb:amountPaid>2.00<'),
        ],
      ],
    ])('refuses a message that %s (422, nothing stored)', async (_what, make) => {
      const p = sm2Parties['4601000PAY']!
      // A modification of the stored payment (appType 2, amount changed) would change the document; a refusal leaves it.
      const xml = tamper(cebExample(411).replace('<ceb:appType>1</ceb:appType>', '<ceb:appType>2</ceb:appType>'))
      expect(xml).not.toContain('445.13')
      const before = await t.db.query<{ content_hash: string; version: number }>(
        `select content_hash, version from ceb_documents where type = 'CEB411'`,
      )
      expect(before).toHaveLength(1)
      const [header, body] = make(p, xml)
      const res = await sendXml(p, body!, header!)
      expect(res.statusCode).toBe(422)
      expect(res.body).toContain('SIGNATURE')
      expect(await t.db.query(`select content_hash, version from ceb_documents where type = 'CEB411'`)).toEqual(before)
    })
  })
})
