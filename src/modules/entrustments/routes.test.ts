import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { T0, useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  auditRows,
  buildEnterprise,
  buildOperator,
  entrust,
  entrustmentTerms,
  loginUser,
  signedBody,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'
import { canonicalJson, ed25519, sha256Hex, signPayload } from '../../shared/signing.js'
import { sm2 } from '../../shared/sm2.js'
import { verifyAudit } from '../../shared/audit.js'

describe('entrustments API', () => {
  const t = useTestApp({ sessionTtl: 3 * 86_400 })
  let officer: { headers: Headers }
  let admin: { headers: Headers }
  let trader: TestOperator
  let traderColleague: TestOperator
  let declarant: TestOperator
  let stranger: TestOperator
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    admin = await loginUser(t, 'admin')
    trader = await buildOperator(t, officer, await buildEnterprise(t, officer))
    traderColleague = await buildOperator(t, officer, trader.enterprise)
    declarant = await buildOperator(t, officer, await buildEnterprise(t, officer))
    stranger = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })
  afterEach(() => t.clock.set(T0))

  const create = (headers: Headers, payload: unknown) =>
    t.app.inject({ method: 'POST', url: '/api/v1/entrustments', headers, payload: payload as object })
  const act = (
    headers: Headers | Record<string, never>,
    id: string,
    what: 'accept' | 'decline' | 'revoke',
    payload: object = {},
  ) => t.app.inject({ method: 'POST', url: `/api/v1/entrustments/${id}/${what}`, headers, payload })
  const get = (headers: Headers | Record<string, never>, id: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1/entrustments/${id}`, headers })
  const acceptance = (op: TestOperator, e: { id: string; termsHash: string }) =>
    signedBody(op, { decision: 'ACCEPT' as const, entrustmentId: e.id, termsHash: e.termsHash })
  const propose = async (overrides: Parameters<typeof entrustmentTerms>[2] = {}) => {
    const res = await create(trader.headers, signedBody(trader, entrustmentTerms(trader, declarant, overrides)))
    expect(res.statusCode).toBe(201)
    return res.json() as { id: string; termsHash: string; state: string }
  }
  const counts = async () => ({
    entrustments: await countRows(t.db, 'entrustments'),
    audit: await countRows(t.db, 'audit_log'),
  })

  describe('creation', () => {
    it('stores the signed terms as PROPOSED, with the terms hash and an audit row', async () => {
      const terms = entrustmentTerms(trader, declarant, {
        tradeModes: ['0110', '0615'],
        customsDistricts: ['5300'],
        ieFlag: 'I',
        validTo: '2026-12-31',
      })
      const res = await create(trader.headers, signedBody(trader, terms))
      expect(res.statusCode).toBe(201)
      const e = res.json()
      expect(e).toMatchObject({
        state: 'PROPOSED',
        clientRef: terms.clientRef,
        traderId: trader.enterprise.id,
        traderCode: trader.enterprise.customsCode,
        declarantId: declarant.enterprise.id,
        declarantCode: declarant.enterprise.customsCode,
        validFrom: '2026-01-01',
        validTo: '2026-12-31',
        tradeModes: ['0110', '0615'],
        customsDistricts: ['5300'],
        ieFlag: 'I',
        terms,
        declarantSignature: null,
        acceptedAt: null,
        version: 1,
      })
      expect(e.termsHash).toBe(sha256Hex(canonicalJson(terms)))
      // Anyone holding the record can check the trader's signature over the terms.
      expect(
        ed25519.verify(trader.publicKey, Buffer.from(canonicalJson(e.terms), 'utf8'), e.traderSignature.value),
      ).toBe(true)
      expect(await auditRows(t, 'entrustment', e.id)).toEqual([
        expect.objectContaining({
          action: 'ENTRUSTMENT_PROPOSED',
          actor: `card:${trader.cardNo}`,
          data: expect.objectContaining({ termsHash: e.termsHash, cardNo: trader.cardNo }),
        }),
      ])
    })

    it("may be signed by another card of the trader than the session's", async () => {
      const res = await create(trader.headers, signedBody(traderColleague, entrustmentTerms(trader, declarant)))
      expect(res.statusCode).toBe(201)
    })

    it('a retry with the same client reference returns the original (200) and writes nothing', async () => {
      const body = signedBody(trader, entrustmentTerms(trader, declarant))
      const first = await create(trader.headers, body)
      const before = await counts()
      const again = await create(trader.headers, body)
      expect(first.statusCode).toBe(201)
      expect(again.statusCode).toBe(200)
      expect(again.json().id).toBe(first.json().id)
      // Re-signed by another card of the trader, same terms: still the original.
      const resigned = await create(
        trader.headers,
        signedBody(traderColleague, entrustmentTerms(trader, declarant, { clientRef: body.clientRef })),
      )
      expect(resigned.statusCode).toBe(200)
      expect(resigned.json().id).toBe(first.json().id)
      expect(await counts()).toEqual(before)
    })

    it('refuses a client reference reused with other terms (409) and writes nothing', async () => {
      const terms = entrustmentTerms(trader, declarant)
      await create(trader.headers, signedBody(trader, terms))
      const before = await counts()
      const res = await create(trader.headers, signedBody(trader, { ...terms, validTo: '2026-06-30' }))
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ code: 'ENTRUSTMENT_CLIENT_REF_REUSED', pointer: '/body/clientRef' })
      expect(await counts()).toEqual(before)
    })

    it('two identical requests at once create one entrustment', async () => {
      const body = signedBody(trader, entrustmentTerms(trader, declarant))
      const before = await counts()
      const [a, b] = await Promise.all([create(trader.headers, body), create(trader.headers, body)])
      expect([a.statusCode, b.statusCode].sort()).toEqual([200, 201])
      expect(a.json().id).toBe(b.json().id)
      expect(await counts()).toEqual({ entrustments: before.entrustments + 1, audit: before.audit + 1 })
    })

    it("refuses a signature by a key other than the named card's (SIGNATURE_INVALID) and writes nothing", async () => {
      const terms = entrustmentTerms(trader, declarant)
      const wrongKey = ed25519.generate().privateKey
      const before = await counts()
      const res = await create(trader.headers, signedBody({ cardNo: trader.cardNo, privateKey: wrongKey }, terms))
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({ code: 'SIGNATURE_INVALID', pointer: '/body/signature/value' })
      const tampered = await create(trader.headers, { ...signedBody(trader, terms), validTo: '2027-12-30' })
      expect(tampered.json()).toMatchObject({ code: 'SIGNATURE_INVALID' })
      expect(await counts()).toEqual(before)
    })

    it("refuses a valid signature by another enterprise's card (ENTRUSTMENT_CARD_NOT_TRADER)", async () => {
      const before = await counts()
      const res = await create(trader.headers, signedBody(declarant, entrustmentTerms(trader, declarant)))
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({ code: 'ENTRUSTMENT_CARD_NOT_TRADER', pointer: '/body/signature/cardNo' })
      expect(await counts()).toEqual(before)
    })

    it('refuses an unknown card with 401 CARD_UNKNOWN', async () => {
      const body = signedBody(trader, entrustmentTerms(trader, declarant))
      const res = await create(trader.headers, { ...body, signature: { ...body.signature, cardNo: 'EPNOSUCHCARD' } })
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'CARD_UNKNOWN', pointer: '/body/signature/cardNo' })
    })

    it("an operator entrusts only in its own enterprise's name (403 at /body/traderCode)", async () => {
      // The declarant's operator forges a proposal from the trader to itself, signed with its own card.
      const forged = entrustmentTerms(trader, declarant)
      const before = await counts()
      const res = await create(declarant.headers, signedBody(declarant, forged))
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ code: 'ENTRUSTMENT_NOT_YOUR_ENTERPRISE', pointer: '/body/traderCode' })
      expect(await counts()).toEqual(before)
    })

    it('officers, admins and anonymous callers cannot create', async () => {
      const body = signedBody(trader, entrustmentTerms(trader, declarant))
      expect((await create(officer.headers, body)).statusCode).toBe(403)
      expect((await create(admin.headers, body)).statusCode).toBe(403)
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/entrustments', payload: body })).statusCode).toBe(401)
    })

    it('refuses terms that cannot work, each with a pointer', async () => {
      const bad = async (
        overrides: Parameters<typeof entrustmentTerms>[2],
        code: string,
        pointer: string,
        declarantOp: { enterprise: TestOperator['enterprise'] } = declarant,
      ) => {
        const res = await create(trader.headers, signedBody(trader, entrustmentTerms(trader, declarantOp, overrides)))
        expect(res.statusCode).toBe(422)
        expect(res.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ code, pointer })]))
      }
      const before = await counts()
      await bad({}, 'ENTRUSTMENT_SELF', '/body/declarantCode', trader)
      await bad({ declarantCode: '4403ZZZZZZ' }, 'ENTERPRISE_UNKNOWN', '/body/declarantCode')
      await bad({ validFrom: '2026-06-01', validTo: '2026-05-31' }, 'ENTRUSTMENT_BAD_PERIOD', '/body/validTo')
      await bad({ validFrom: '2026-01-01', validTo: '2026-05-10' }, 'ENTRUSTMENT_BAD_PERIOD', '/body/validTo')
      await bad({ tradeModes: ['0110', '0999'] }, 'REFERENCE_UNKNOWN_TRADE_MODE', '/body/tradeModes/1')
      expect(await counts()).toEqual(before)
    })

    it('refuses malformed scopes with 400 and a pointer', async () => {
      const terms = entrustmentTerms(trader, declarant)
      const res = await create(trader.headers, { ...signedBody(trader, terms), customsDistricts: ['53'] })
      expect(res.statusCode).toBe(400)
      expect(res.json().pointer).toMatch(/^\/body\/customsDistricts/)
      const date = await create(trader.headers, { ...signedBody(trader, terms), validTo: '2026-02-30' })
      expect(date.statusCode).toBe(400)
      expect(date.json().pointer).toBe('/body/validTo')
    })
  })

  describe('acceptance, decline, revocation', () => {
    it('the declarant accepts with a card signature over {decision, entrustmentId, termsHash}: ACTIVE, audited', async () => {
      const e = await propose()
      const body = acceptance(declarant, e)
      const res = await act(declarant.headers, e.id, 'accept', body)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({
        state: 'ACTIVE',
        acceptedAt: T0,
        declarantSignature: body.signature,
        version: 2,
      })
      const audit = await auditRows(t, 'entrustment', e.id)
      expect(audit.map((a) => a.action)).toEqual(['ENTRUSTMENT_PROPOSED', 'ENTRUSTMENT_ACTIVE'])
      expect(audit[1]).toMatchObject({
        actor: `card:${declarant.cardNo}`,
        data: { from: 'PROPOSED', state: 'ACTIVE', cardNo: declarant.cardNo, termsHash: e.termsHash },
      })
      // A retried acceptance returns it as it is and writes nothing.
      const before = await counts()
      const again = await act(declarant.headers, e.id, 'accept', body)
      expect(again.statusCode).toBe(200)
      expect(again.json().version).toBe(2)
      expect(await counts()).toEqual(before)
      expect((await verifyAudit(t.db)).problems).toEqual([])
    })

    it("refuses an acceptance signed by a wrong key, by the trader's card, or over other terms; nothing changes", async () => {
      const e = await propose()
      const before = await counts()
      const wrongKey = await act(
        declarant.headers,
        e.id,
        'accept',
        acceptance({ ...declarant, privateKey: ed25519.generate().privateKey }, e),
      )
      expect(wrongKey.statusCode).toBe(422)
      expect(wrongKey.json()).toMatchObject({ code: 'SIGNATURE_INVALID', pointer: '/body/signature/value' })
      const traderCard = await act(declarant.headers, e.id, 'accept', acceptance(trader, e))
      expect(traderCard.statusCode).toBe(422)
      expect(traderCard.json()).toMatchObject({
        code: 'ENTRUSTMENT_CARD_NOT_DECLARANT',
        pointer: '/body/signature/cardNo',
      })
      const otherTerms = await act(
        declarant.headers,
        e.id,
        'accept',
        acceptance(declarant, { id: e.id, termsHash: '0'.repeat(64) }),
      )
      expect(otherTerms.statusCode).toBe(422)
      expect(otherTerms.json()).toMatchObject({ code: 'ENTRUSTMENT_TERMS_MISMATCH', pointer: '/body/termsHash' })
      const other = await propose()
      const replayed = await act(declarant.headers, e.id, 'accept', acceptance(declarant, other))
      expect(replayed.statusCode).toBe(422)
      expect(replayed.json().errors.map((x: { code: string }) => x.code)).toContain('ENTRUSTMENT_ID_MISMATCH')
      expect((await get(declarant.headers, e.id)).json().state).toBe('PROPOSED')
      expect((await counts()).audit).toBe(before.audit + 1) // the second proposal only
    })

    it('only the declarant accepts or declines (trader 403, stranger 404, officer 403)', async () => {
      const e = await propose()
      const byTrader = await act(trader.headers, e.id, 'accept', acceptance(trader, e))
      expect(byTrader.statusCode).toBe(403)
      expect(byTrader.json().code).toBe('ENTRUSTMENT_NOT_DECLARANT')
      expect((await act(stranger.headers, e.id, 'accept', acceptance(stranger, e))).statusCode).toBe(404)
      expect((await act(officer.headers, e.id, 'accept', acceptance(declarant, e))).statusCode).toBe(403)
      expect((await act(trader.headers, e.id, 'decline')).statusCode).toBe(403)
      expect((await act(stranger.headers, e.id, 'decline')).statusCode).toBe(404)
      expect((await act(admin.headers, e.id, 'decline')).statusCode).toBe(403)
      expect((await get(declarant.headers, e.id)).json().state).toBe('PROPOSED')
    })

    it('the declarant declines, with a reason; a declined proposal cannot be accepted', async () => {
      const e = await propose()
      const res = await act(declarant.headers, e.id, 'decline', { reason: 'no capacity this year' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ state: 'DECLINED', reason: 'no capacity this year', declinedAt: T0 })
      const late = await act(declarant.headers, e.id, 'accept', acceptance(declarant, e))
      expect(late.statusCode).toBe(409)
      expect(late.json().code).toBe('ENTRUSTMENT_ILLEGAL_TRANSITION')
      expect((await auditRows(t, 'entrustment', e.id)).map((a) => a.action)).toEqual([
        'ENTRUSTMENT_PROPOSED',
        'ENTRUSTMENT_DECLINED',
      ])
    })

    it('the trader revokes an active entrustment (the declarant cannot, a stranger gets 404); revoking twice is a 409', async () => {
      const e = await entrust(t, trader, declarant)
      const byDeclarant = await act(declarant.headers, e.id, 'revoke')
      expect(byDeclarant.statusCode).toBe(403)
      expect(byDeclarant.json()).toMatchObject({ code: 'ENTRUSTMENT_NOT_TRADER', pointer: '/params/id' })
      expect((await act(stranger.headers, e.id, 'revoke')).statusCode).toBe(404)
      expect((await act(officer.headers, e.id, 'revoke')).statusCode).toBe(403)
      const res = await act(traderColleague.headers, e.id, 'revoke', { reason: 'contract ended' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ state: 'REVOKED', revokedAt: T0, reason: 'contract ended' })
      expect((await act(trader.headers, e.id, 'revoke')).statusCode).toBe(409)
      const audit = await auditRows(t, 'entrustment', e.id)
      expect(audit.map((a) => a.action)).toEqual(['ENTRUSTMENT_PROPOSED', 'ENTRUSTMENT_ACTIVE', 'ENTRUSTMENT_REVOKED'])
      expect(audit[2]).toMatchObject({
        actor: `card:${traderColleague.cardNo}`,
        data: { from: 'ACTIVE', state: 'REVOKED', reason: 'contract ended' },
      })
    })

    it('the trader may withdraw a proposal before it is accepted', async () => {
      const e = await propose()
      expect((await act(trader.headers, e.id, 'revoke')).json().state).toBe('REVOKED')
      expect((await act(declarant.headers, e.id, 'accept', acceptance(declarant, e))).statusCode).toBe(409)
    })

    it('expiry is computed from the China date: EXPIRED the day after validTo, then nothing moves it', async () => {
      const active = await entrust(t, trader, declarant, { validTo: '2026-05-11' })
      const proposed = await propose({ validTo: '2026-05-11' })
      t.clock.set('2026-05-11T15:59:59.000Z')
      expect((await get(trader.headers, active.id)).json().state).toBe('ACTIVE')
      t.clock.set('2026-05-11T16:00:00.000Z')
      expect((await get(trader.headers, active.id)).json().state).toBe('EXPIRED')
      expect((await get(declarant.headers, proposed.id)).json().state).toBe('EXPIRED')
      const before = await counts()
      expect((await act(declarant.headers, proposed.id, 'accept', acceptance(declarant, proposed))).statusCode).toBe(
        409,
      )
      expect((await act(trader.headers, active.id, 'revoke')).statusCode).toBe(409)
      expect(await counts()).toEqual(before)
      const expired = await t.app.inject({
        method: 'GET',
        url: '/api/v1/entrustments?state=EXPIRED',
        headers: trader.headers,
      })
      expect(expired.json().items.map((x: { id: string }) => x.id)).toEqual(
        expect.arrayContaining([active.id, proposed.id]),
      )
      const stillActive = await t.app.inject({
        method: 'GET',
        url: '/api/v1/entrustments?state=ACTIVE&limit=500',
        headers: trader.headers,
      })
      expect(stillActive.json().items.map((x: { id: string }) => x.id)).not.toContain(active.id)
    })

    it('an unknown id is a 404 for everyone', async () => {
      const id = '01900000-0000-7000-8000-000000000000'
      expect((await get(officer.headers, id)).statusCode).toBe(404)
      expect((await act(declarant.headers, id, 'decline')).statusCode).toBe(404)
    })
  })

  describe('SM2 cards', () => {
    /** An SM2 card of the enterprise, logged in with an SM2 signature over the challenge. */
    async function sm2Operator(enterprise: TestOperator['enterprise']) {
      const keys = sm2.generate()
      const card = (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/cards',
          headers: officer.headers,
          payload: { enterpriseId: enterprise.id, operatorName: '王芳', alg: 'SM2', publicKey: keys.publicKey },
        })
      ).json()
      const ch = (
        await t.app.inject({ method: 'POST', url: '/api/v1/auth/challenge', payload: { cardNo: card.cardNo } })
      ).json()
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/card-login',
        payload: {
          challengeId: ch.challengeId,
          signature: sm2.sign(keys.privateKey, Buffer.from(ch.challenge, 'utf8')),
        },
      })
      return {
        cardNo: card.cardNo as string,
        privateKey: keys.privateKey,
        headers: { authorization: `Bearer ${login.json().token}` },
      }
    }
    const sm2Signed = <T extends object>(op: { cardNo: string; privateKey: string }, body: T) => ({
      ...body,
      signature: { cardNo: op.cardNo, alg: 'SM2', value: signPayload(op.privateKey, body, sm2) },
    })

    it("proposal and acceptance verify by the cards' algorithm (SM2 with SM3); an SM2 re-signature of the same terms is a retry", async () => {
      const smTrader = await sm2Operator(trader.enterprise)
      const smDeclarant = await sm2Operator(declarant.enterprise)
      const terms = entrustmentTerms(trader, declarant)
      const created = await create(smTrader.headers, sm2Signed(smTrader, terms))
      expect(created.statusCode).toBe(201)
      expect(created.json().traderSignature).toMatchObject({ cardNo: smTrader.cardNo, alg: 'SM2' })
      // SM2 signatures are randomised: a retry carries another signature over the same terms.
      const again = await create(smTrader.headers, sm2Signed(smTrader, terms))
      expect(again.statusCode).toBe(200)
      expect(again.json().id).toBe(created.json().id)
      const e = created.json()
      const wrongAlg = await act(smDeclarant.headers, e.id, 'accept', {
        ...sm2Signed(smDeclarant, { decision: 'ACCEPT', entrustmentId: e.id, termsHash: e.termsHash }),
        signature: {
          cardNo: smDeclarant.cardNo,
          alg: 'Ed25519',
          value: signPayload(
            smDeclarant.privateKey,
            { decision: 'ACCEPT', entrustmentId: e.id, termsHash: e.termsHash },
            sm2,
          ),
        },
      })
      expect(wrongAlg.statusCode).toBe(422)
      expect(wrongAlg.json().code).toBe('SIGNATURE_INVALID')
      const accepted = await act(
        smDeclarant.headers,
        e.id,
        'accept',
        sm2Signed(smDeclarant, { decision: 'ACCEPT', entrustmentId: e.id, termsHash: e.termsHash }),
      )
      expect(accepted.statusCode).toBe(200)
      expect(accepted.json()).toMatchObject({
        state: 'ACTIVE',
        declarantSignature: { cardNo: smDeclarant.cardNo, alg: 'SM2' },
      })
    })
  })

  describe('visibility', () => {
    it('each party sees its own; officers and admins see all; anyone else 404 / not listed; anonymous 401', async () => {
      const e = await propose()
      for (const who of [trader, traderColleague, declarant])
        expect((await get(who.headers, e.id)).statusCode).toBe(200)
      for (const who of [officer, admin]) expect((await get(who.headers, e.id)).statusCode).toBe(200)
      const hidden = await get(stranger.headers, e.id)
      expect(hidden.statusCode).toBe(404)
      expect(hidden.json().code).toBe('ENTRUSTMENT_NOT_FOUND')
      expect((await get({}, e.id)).statusCode).toBe(401)

      const list = async (headers: Headers, q = '') =>
        (await t.app.inject({ method: 'GET', url: `/api/v1/entrustments?limit=500${q}`, headers })).json() as {
          items: Array<{ id: string; traderId: string; declarantId: string }>
          total: number
        }
      const mine = await list(trader.headers)
      expect(mine.items.map((x) => x.id)).toContain(e.id)
      expect(
        mine.items.every((x) => x.traderId === trader.enterprise.id || x.declarantId === trader.enterprise.id),
      ).toBe(true)
      expect((await list(declarant.headers)).items.map((x) => x.id)).toContain(e.id)
      expect((await list(stranger.headers)).total).toBe(0)
      expect((await list(officer.headers)).total).toBe(await countRows(t.db, 'entrustments'))
      // The role filter narrows an operator's list to one side.
      expect((await list(declarant.headers, '&role=TRADER')).items.map((x) => x.id)).not.toContain(e.id)
      expect((await list(declarant.headers, '&role=DECLARANT')).items.map((x) => x.id)).toContain(e.id)
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/entrustments' })).statusCode).toBe(401)
    })
  })
})
