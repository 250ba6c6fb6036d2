import { beforeAll, describe, expect, it } from 'vitest'
import { T0, useTestApp, type TestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  auditRows,
  buildEnterprise,
  buildOperator,
  cardLogin,
  loginUser,
  type Headers,
  type TestEnterprise,
} from '../../../test/factories.js'
import { ed25519, keyId } from '../../shared/signing.js'
import { sweepAuth } from '../auth/service.js'

const UNKNOWN_ID = '00000000-0000-7000-8000-000000000000'

/** 32 bytes that are no Ed25519 point: y = 2 has no x on the curve (checked in src/shared/signing.test.ts). */
function offCurveKey(): string {
  const P = 2n ** 255n - 19n
  const pow = (b: bigint, e: bigint) => {
    let r = 1n
    for (b %= P; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P
    return r
  }
  const d = (((-121665n * pow(121666n, P - 2n)) % P) + P) % P
  for (let y = 2n; ; y++) {
    const x2 = ((y * y - 1n) * pow(d * y * y + 1n, P - 2n)) % P
    if (x2 !== 0n && pow(x2, (P - 1n) / 2n) === P - 1n) {
      const out = Buffer.alloc(32)
      for (let i = 0; i < 32; i++) out[i] = Number((y >> BigInt(8 * i)) & 0xffn)
      return out.toString('base64url')
    }
  }
}

const issue = (t: TestApp, headers: Headers, payload: object) =>
  t.app.inject({ method: 'POST', url: '/api/v1/cards', headers, payload })
const challenge = (t: TestApp, cardNo: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/challenge', payload: { cardNo } })
const answer = (t: TestApp, challengeId: string, signature: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/card-login', payload: { challengeId, signature } })
const signChallenge = (privateKey: string, text: string) => ed25519.sign(privateKey, Buffer.from(text, 'utf8'))

describe('port cards API', () => {
  const t = useTestApp()
  let officer: { username: string; headers: Headers }
  let ent: TestEnterprise
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    ent = await buildEnterprise(t, officer)
  })
  const newCard = async (name = 'Wang Fang') => {
    const keys = ed25519.generate()
    const res = await issue(t, officer.headers, { enterpriseId: ent.id, operatorName: name, publicKey: keys.publicKey })
    expect(res.statusCode).toBe(201)
    return { card: res.json() as { id: string; cardNo: string }, ...keys }
  }
  const cardsOf = (enterpriseId: string) => countRows(t.db, 'port_cards', 'enterprise_id = $1', [enterpriseId])

  describe('issuing', () => {
    it('issues a card: 201, stored ACTIVE and NEW, audited', async () => {
      const keys = ed25519.generate()
      const res = await issue(t, officer.headers, {
        enterpriseId: ent.id,
        operatorName: 'Li Lei',
        publicKey: keys.publicKey,
      })
      expect(res.statusCode).toBe(201)
      const card = res.json()
      expect(card).toMatchObject({
        enterpriseId: ent.id,
        kind: 'OPERATOR',
        operatorName: 'Li Lei',
        alg: 'Ed25519',
        publicKey: keys.publicKey,
        keyId: keyId(keys.publicKey),
        status: 'ACTIVE',
        issueType: 'NEW',
        replaces: null,
        issuedAt: T0,
        revokedAt: null,
        revokeReason: null,
      })
      expect(card.cardNo).toMatch(new RegExp(`^EP${ent.customsCode}[0-9A-Z]{6}$`))
      const [row] = await t.db.query('select card_no, status, issue_type, public_key from port_cards where id = $1', [
        card.id,
      ])
      expect(row).toEqual({ card_no: card.cardNo, status: 'ACTIVE', issue_type: 'NEW', public_key: keys.publicKey })
      const audit = await auditRows(t, 'card', card.id)
      expect(audit).toEqual([
        expect.objectContaining({
          action: 'CARD_ISSUED',
          actor: `user:${officer.username}`,
          data: { cardNo: card.cardNo, enterpriseId: ent.id, alg: 'Ed25519', keyId: card.keyId, kind: 'OPERATOR' },
        }),
      ])
    })

    it('refuses a public key that is not 43 base64url characters: 400 at /body/publicKey, nothing written', async () => {
      const before = await cardsOf(ent.id)
      const res = await issue(t, officer.headers, {
        enterpriseId: ent.id,
        operatorName: 'Li Lei',
        publicKey: ed25519.generate().publicKey.slice(1),
      })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '/body/publicKey' })
      expect(await cardsOf(ent.id)).toBe(before)
    })

    it('refuses a 32-byte key that is no Ed25519 point: 422 CARD_BAD_PUBLIC_KEY at /body/publicKey, nothing written', async () => {
      const before = await cardsOf(ent.id)
      const res = await issue(t, officer.headers, {
        enterpriseId: ent.id,
        operatorName: 'Li Lei',
        publicKey: offCurveKey(),
      })
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({ code: 'CARD_BAD_PUBLIC_KEY', pointer: '/body/publicKey' })
      expect(await cardsOf(ent.id)).toBe(before)
    })

    it('refuses an unknown enterprise: 404 at /body/enterpriseId', async () => {
      const res = await issue(t, officer.headers, {
        enterpriseId: UNKNOWN_ID,
        operatorName: 'Li Lei',
        publicKey: ed25519.generate().publicKey,
      })
      expect(res.statusCode).toBe(404)
      expect(res.json()).toMatchObject({ code: 'ENTERPRISE_NOT_FOUND', pointer: '/body/enterpriseId' })
      expect(await cardsOf(UNKNOWN_ID)).toBe(0)
    })

    it('lets no operator issue cards, not even for its own enterprise', async () => {
      const op = await buildOperator(t, officer, ent)
      const before = await cardsOf(ent.id)
      const res = await issue(t, op.headers, {
        enterpriseId: ent.id,
        operatorName: 'Self Service',
        publicKey: ed25519.generate().publicKey,
      })
      expect(res.statusCode).toBe(403)
      expect(await cardsOf(ent.id)).toBe(before)
    })
  })

  describe('challenge–response login', () => {
    it('logs in with a signed challenge and spends the challenge', async () => {
      const { card, privateKey } = await newCard()
      const ch = await challenge(t, card.cardNo)
      expect(ch.statusCode).toBe(200)
      const { challengeId, challenge: text, expiresAt } = ch.json()
      expect(text).toMatch(new RegExp(`^kouan-login:${card.cardNo}:[A-Za-z0-9_-]{43}$`))
      expect(expiresAt).toBe(new Date(t.clock.now().getTime() + 120_000).toISOString())
      const res = await answer(t, challengeId, signChallenge(privateKey, text))
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ role: 'operator' })
      const me = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: `Bearer ${res.json().token}` },
      })
      expect(me.json()).toMatchObject({
        kind: 'card',
        id: card.id,
        cardNo: card.cardNo,
        enterpriseId: ent.id,
        role: 'operator',
      })
      const [row] = await t.db.query<{ used_at: Date | null }>('select used_at from auth_challenges where id = $1', [
        challengeId,
      ])
      expect(row!.used_at).not.toBeNull()
    })

    it('refuses a signature made with another key: 401 AUTH_BAD_SIGNATURE at /body/signature', async () => {
      const { card } = await newCard()
      const { challengeId, challenge: text } = (await challenge(t, card.cardNo)).json()
      const res = await answer(t, challengeId, signChallenge(ed25519.generate().privateKey, text))
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'AUTH_BAD_SIGNATURE', pointer: '/body/signature' })
    })

    it('refuses a signature over other text than the challenge', async () => {
      const { card, privateKey } = await newCard()
      const { challengeId, challenge: text } = (await challenge(t, card.cardNo)).json()
      const res = await answer(t, challengeId, signChallenge(privateKey, text + '.'))
      expect(res.statusCode).toBe(401)
      expect(res.json().code).toBe('AUTH_BAD_SIGNATURE')
    })

    it('refuses a challenge used a second time: 401 AUTH_CHALLENGE_INVALID', async () => {
      const { card, privateKey } = await newCard()
      const { challengeId, challenge: text } = (await challenge(t, card.cardNo)).json()
      const signature = signChallenge(privateKey, text)
      expect((await answer(t, challengeId, signature)).statusCode).toBe(200)
      const again = await answer(t, challengeId, signature)
      expect(again.statusCode).toBe(401)
      expect(again.json()).toMatchObject({ code: 'AUTH_CHALLENGE_INVALID', pointer: '/body/challengeId' })
    })

    it('spends a challenge answered with a wrong signature', async () => {
      const { card, privateKey } = await newCard()
      const { challengeId, challenge: text } = (await challenge(t, card.cardNo)).json()
      expect((await answer(t, challengeId, signChallenge(ed25519.generate().privateKey, text))).statusCode).toBe(401)
      const retry = await answer(t, challengeId, signChallenge(privateKey, text))
      expect(retry.statusCode).toBe(401)
      expect(retry.json().code).toBe('AUTH_CHALLENGE_INVALID')
    })

    it('refuses a challenge answered after its 2 minutes: 401 AUTH_CHALLENGE_EXPIRED', async () => {
      const { card, privateKey } = await newCard()
      const { challengeId, challenge: text } = (await challenge(t, card.cardNo)).json()
      t.clock.advance(3 * 60_000)
      const res = await answer(t, challengeId, signChallenge(privateKey, text))
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'AUTH_CHALLENGE_EXPIRED', pointer: '/body/challengeId' })
    })

    it('refuses an unknown challenge id: 401 AUTH_CHALLENGE_INVALID', async () => {
      const res = await answer(t, UNKNOWN_ID, 'AAAA')
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'AUTH_CHALLENGE_INVALID', pointer: '/body/challengeId' })
    })

    it('answers an unknown card number like a known one: a challenge of the same shape, whose answer fails as a wrong signature does', async () => {
      const { card } = await newCard()
      const unknownNo = `EP${ent.customsCode}ZZZZZZ`
      const known = await challenge(t, card.cardNo)
      const unknown = await challenge(t, unknownNo)
      expect(unknown.statusCode).toBe(200)
      const shape = (body: { challengeId: string; challenge: string; expiresAt: string }, cardNo: string) => ({
        ...body,
        challengeId: /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(body.challengeId),
        challenge: body.challenge.replace(cardNo, 'CARD').replace(/[A-Za-z0-9_-]{43}$/, 'NONCE'),
      })
      expect(shape(unknown.json(), unknownNo)).toEqual(shape(known.json(), card.cardNo))
      const someKey = ed25519.generate().privateKey
      const a = await answer(t, known.json().challengeId, signChallenge(someKey, known.json().challenge))
      const b = await answer(t, unknown.json().challengeId, signChallenge(someKey, unknown.json().challenge))
      expect(b.statusCode).toBe(401)
      expect({ ...b.json(), requestId: '' }).toEqual({ ...a.json(), requestId: '' })
      expect(a.json()).toMatchObject({ code: 'AUTH_BAD_SIGNATURE', pointer: '/body/signature' })
      // Spent alike: a second answer is refused the same way for both.
      const a2 = await answer(t, known.json().challengeId, signChallenge(someKey, known.json().challenge))
      const b2 = await answer(t, unknown.json().challengeId, signChallenge(someKey, unknown.json().challenge))
      expect({ ...b2.json(), requestId: '' }).toEqual({ ...a2.json(), requestId: '' })
      expect(a2.json().code).toBe('AUTH_CHALLENGE_INVALID')
    })

    it('purges expired challenges when new ones are issued: rows stay bounded', async () => {
      const { card } = await newCard()
      for (let i = 0; i < 5; i++)
        expect((await challenge(t, i % 2 ? card.cardNo : `EP${ent.customsCode}Q${i}Q${i}Q${i}`)).statusCode).toBe(200)
      const stale = () =>
        countRows(t.db, 'auth_challenges', 'expires_at < $1', [
          new Date(t.clock.now().getTime() - 5 * 60_000).toISOString(),
        ])
      t.clock.advance(8 * 60_000)
      expect(await stale()).toBeGreaterThanOrEqual(5)
      expect((await challenge(t, card.cardNo)).statusCode).toBe(200)
      expect(await stale()).toBe(0)
      expect(await countRows(t.db, 'auth_challenges')).toBe(1)
    })

    it('sweeps expired challenges periodically too (sweepAuth)', async () => {
      const { card } = await newCard()
      await challenge(t, card.cardNo)
      t.clock.advance(8 * 60_000)
      await sweepAuth({ db: t.db, clock: t.clock })
      expect(await countRows(t.db, 'auth_challenges')).toBe(0)
    })
  })

  describe('reading a card', () => {
    it("shows an operator its own enterprise's card; another enterprise's answers exactly like a card that does not exist (404)", async () => {
      const op = await buildOperator(t, officer, ent)
      const foreign = await buildOperator(t, officer, await buildEnterprise(t, officer))
      const get = (headers: Headers, id: string) => t.app.inject({ method: 'GET', url: `/api/v1/cards/${id}`, headers })
      expect((await get(op.headers, op.cardId)).json()).toMatchObject({ id: op.cardId, enterpriseId: ent.id })
      const other = await get(foreign.headers, op.cardId)
      const missing = await get(foreign.headers, UNKNOWN_ID)
      expect(other.statusCode).toBe(404)
      expect(missing.statusCode).toBe(404)
      const same = (r: typeof other, id: string) => ({ ...JSON.parse(r.body.replaceAll(id, 'ID')), requestId: '' })
      expect(same(other, op.cardId)).toEqual(same(missing, UNKNOWN_ID))
      expect(other.json()).toMatchObject({ code: 'CARD_NOT_FOUND', pointer: '/params/id' })
      expect((await get(officer.headers, op.cardId)).statusCode).toBe(200)
    })
  })

  describe('replacement and revocation', () => {
    const replace = (id: string, publicKey: string, reason = 'UKey lost on site') =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/cards/${id}/replace`,
        headers: officer.headers,
        payload: { publicKey, reason },
      })
    const revoke = (headers: Headers, id: string, reason = 'LOST') =>
      t.app.inject({ method: 'POST', url: `/api/v1/cards/${id}/revoke`, headers, payload: { reason } })
    const getCard = async (id: string) =>
      (await t.app.inject({ method: 'GET', url: `/api/v1/cards/${id}`, headers: officer.headers })).json()

    it('replaces a card: the old one REVOKED as SUPERSEDED, the new one a REPLACEMENT pointing back, both audited', async () => {
      const op = await buildOperator(t, officer, ent)
      const keys = ed25519.generate()
      t.clock.advance(60_000)
      const at = t.clock.now().toISOString()
      const res = await replace(op.cardId, keys.publicKey)
      expect(res.statusCode).toBe(201)
      const fresh = res.json()
      expect(fresh).toMatchObject({
        status: 'ACTIVE',
        issueType: 'REPLACEMENT',
        replaces: op.cardId,
        enterpriseId: ent.id,
        operatorName: 'Li Lei',
        publicKey: keys.publicKey,
        issuedAt: at,
      })
      expect(fresh.cardNo).not.toBe(op.cardNo)
      expect(await getCard(op.cardId)).toMatchObject({ status: 'REVOKED', revokeReason: 'SUPERSEDED', revokedAt: at })

      expect((await auditRows(t, 'card', op.cardId)).map((a) => [a.action, a.data.reason])).toEqual([
        ['CARD_ISSUED', undefined],
        ['CARD_REVOKED', 'SUPERSEDED'],
      ])
      expect((await auditRows(t, 'card', op.cardId))[1]!.data).toMatchObject({ replacedBy: fresh.id })
      expect(await auditRows(t, 'card', fresh.id)).toEqual([
        expect.objectContaining({ action: 'CARD_ISSUED', data: expect.objectContaining({ replaces: op.cardId }) }),
      ])
    })

    it("ends the old card's session and logins at once; the new card logs in", async () => {
      const op = await buildOperator(t, officer, ent)
      const keys = ed25519.generate()
      const fresh = (await replace(op.cardId, keys.publicKey)).json()
      const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: op.headers })
      expect(me.statusCode).toBe(401)
      expect(me.json().code).toBe('CARD_REVOKED')
      // The challenge does not say the card is revoked (nor that it exists); only its key holder learns it.
      const ch = await challenge(t, op.cardNo)
      expect(ch.statusCode).toBe(200)
      const stranger = await answer(
        t,
        ch.json().challengeId,
        signChallenge(ed25519.generate().privateKey, ch.json().challenge),
      )
      expect(stranger.json()).toMatchObject({ code: 'AUTH_BAD_SIGNATURE', pointer: '/body/signature' })
      const again = (await challenge(t, op.cardNo)).json()
      const holder = await answer(t, again.challengeId, signChallenge(op.privateKey, again.challenge))
      expect(holder.statusCode).toBe(401)
      expect(holder.json()).toMatchObject({ code: 'CARD_REVOKED', pointer: '/body/challengeId' })
      const headers = await cardLogin(t, fresh.cardNo, keys.privateKey)
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers })).json()).toMatchObject({
        id: fresh.id,
        cardNo: fresh.cardNo,
      })
    })

    it('refuses to replace a revoked card: 409 CARD_NOT_ACTIVE, no new card', async () => {
      const { card } = await newCard()
      expect((await revoke(officer.headers, card.id)).statusCode).toBe(200)
      const before = await cardsOf(ent.id)
      const res = await replace(card.id, ed25519.generate().publicKey)
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ code: 'CARD_NOT_ACTIVE', pointer: '/params/id' })
      expect(await cardsOf(ent.id)).toBe(before)
      expect(await getCard(card.id)).toMatchObject({ revokeReason: 'LOST' })
    })

    it('revokes once; a second revocation is 409 CARD_NOT_ACTIVE and changes nothing', async () => {
      const { card } = await newCard()
      const first = await revoke(officer.headers, card.id, 'COMPROMISED')
      expect(first.statusCode).toBe(200)
      expect(first.json()).toMatchObject({ status: 'REVOKED', revokeReason: 'COMPROMISED' })
      const revokedAt = first.json().revokedAt
      t.clock.advance(60_000)
      const second = await revoke(officer.headers, card.id, 'LOST')
      expect(second.statusCode).toBe(409)
      expect(second.json().code).toBe('CARD_NOT_ACTIVE')
      expect(await getCard(card.id)).toMatchObject({ revokeReason: 'COMPROMISED', revokedAt })
      expect((await auditRows(t, 'card', card.id)).map((a) => a.action)).toEqual(['CARD_ISSUED', 'CARD_REVOKED'])
    })

    it("lets an operator report the loss of its own enterprise's card, not another's", async () => {
      const op = await buildOperator(t, officer, ent)
      const { card } = await newCard()
      const foreign = await buildOperator(t, officer, await buildEnterprise(t, officer))
      const refused = await revoke(foreign.headers, card.id)
      const missing = await revoke(foreign.headers, UNKNOWN_ID)
      expect(refused.statusCode).toBe(404)
      expect(missing.statusCode).toBe(404)
      const same = (r: typeof refused, id: string) => ({ ...JSON.parse(r.body.replaceAll(id, 'ID')), requestId: '' })
      expect(same(refused, card.id)).toEqual(same(missing, UNKNOWN_ID))
      expect(refused.json()).toMatchObject({ code: 'CARD_NOT_FOUND', pointer: '/params/id' })
      expect(await getCard(card.id)).toMatchObject({ status: 'ACTIVE' })
      const own = await revoke(op.headers, card.id)
      expect(own.statusCode).toBe(200)
      expect((await auditRows(t, 'card', card.id)).at(-1)).toMatchObject({
        action: 'CARD_REVOKED',
        actor: `card:${op.cardNo}`,
      })
    })
  })
})

describe('port card statistics', () => {
  // A database of its own, so the counts are exactly the cards made here.
  const t = useTestApp()
  let ent: TestEnterprise

  /** Moves the clock and logs an officer in (sessions last 8 hours, the clock jumps weeks). */
  const at = async (iso: string) => {
    t.clock.set(iso)
    return (await loginUser(t, 'officer')).headers
  }
  const newCard = async (headers: Headers) =>
    (
      await issue(t, headers, {
        enterpriseId: ent.id,
        operatorName: 'Zhang Wei',
        publicKey: ed25519.generate().publicKey,
      })
    ).json() as { id: string }
  const stats = (headers: Headers, query: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1/cards/stats?${query}`, headers })

  beforeAll(async () => {
    let h = await at('2026-05-11T01:00:00.000Z')
    ent = await buildEnterprise(t, { headers: h })
    const a = await newCard(h)
    const b = await newCard(h)
    await newCard(h)
    // 2026-05-31 17:30 UTC is 2026-06-01 01:30 in China: a June event.
    h = await at('2026-05-31T17:30:00.000Z')
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/cards/${a.id}/replace`,
      headers: h,
      payload: { publicKey: ed25519.generate().publicKey, reason: 'damaged' },
    })
    h = await at('2026-06-15T03:00:00.000Z')
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/cards/${b.id}/revoke`,
      headers: h,
      payload: { reason: 'EMPLOYEE_LEFT' },
    })
    await newCard(h)
    // 2026-06-30 16:30 UTC is already 1 July in China: outside a range ending 30 June.
    h = await at('2026-06-30T16:30:00.000Z')
    await newCard(h)
  })

  it('counts new cards, replacements and revocations per China month (a replacement revokes the old card)', async () => {
    const h = await at('2026-07-10T02:00:00.000Z')
    const res = await stats(h, 'from=2026-05-01&to=2026-06-30&period=month')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      items: [
        { period: '2026-05', newCards: 3, replacements: 0, revocations: 0 },
        { period: '2026-06', newCards: 1, replacements: 1, revocations: 2 },
      ],
      total: { newCards: 4, replacements: 1, revocations: 2 },
    })
  })

  it('buckets by China day and quarter too', async () => {
    const h = await at('2026-07-10T02:00:00.000Z')
    const days = (await stats(h, 'from=2026-05-31&to=2026-07-01&period=day')).json()
    expect(days.items).toEqual([
      { period: '2026-06-01', newCards: 0, replacements: 1, revocations: 1 },
      { period: '2026-06-15', newCards: 1, replacements: 0, revocations: 1 },
      { period: '2026-07-01', newCards: 1, replacements: 0, revocations: 0 },
    ])
    const quarters = (await stats(h, 'from=2026-01-01&to=2026-12-31&period=quarter')).json()
    expect(quarters.items).toEqual([
      { period: '2026-Q2', newCards: 4, replacements: 1, revocations: 2 },
      { period: '2026-Q3', newCards: 1, replacements: 0, revocations: 0 },
    ])
  })

  it('answers an empty range with no rows and zero totals', async () => {
    const h = await at('2026-07-10T02:00:00.000Z')
    expect((await stats(h, 'from=2025-01-01&to=2025-12-31&period=month')).json()).toEqual({
      items: [],
      total: { newCards: 0, replacements: 0, revocations: 0 },
    })
  })

  it('is for officers: an operator gets 403', async () => {
    const h = await at('2026-07-10T02:00:00.000Z')
    const op = await buildOperator(t, { headers: h }, ent)
    expect((await stats(op.headers, 'from=2026-05-01&to=2026-06-30&period=month')).statusCode).toBe(403)
  })
})
