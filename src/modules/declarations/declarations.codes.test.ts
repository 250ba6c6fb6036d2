import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  buildEnterprise,
  buildOperator,
  declarationContent,
  loginUser,
  signed,
  submitDeclaration,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'
import { KouanError } from '../../errors.js'
import { systemIds } from '../../shared/clock.js'
import { signPayload } from '../../shared/signing.js'
import { loadReference } from '../reference/data.js'
import { contentProblems } from './lifecycle.js'
import * as repo from './repo.js'
import type { DeclarationContent } from './schema.js'
import { transition } from './service.js'

/** One test per error code of intake and the state machine that no other test asserted (issue 10). */
describe('declaration error codes', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let op: TestOperator
  let other: TestOperator
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    op = await buildOperator(t, officer, await buildEnterprise(t, officer))
    other = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })
  const post = (headers: Headers, payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/declarations', headers, payload })

  /** Content the schema accepts but the code tables or the arithmetic refuse: each case changes one thing. */
  const withItem0 = (
    c: DeclarationContent,
    item: Partial<DeclarationContent['items'][number]>,
  ): Partial<DeclarationContent> => ({ items: [{ ...c.items[0]!, ...item }, c.items[1]!] })
  it.each([
    ['REFERENCE_UNKNOWN_TRADE_MODE', '/body/tradeMode', () => ({ tradeMode: '0999' })],
    ['REFERENCE_UNKNOWN_TRANSPORT_MODE', '/body/transportMode', () => ({ transportMode: 'A' })],
    ['REFERENCE_UNKNOWN_CURRENCY', '/body/currency', () => ({ currency: 'QQQ' })],
    ['DECLARATION_NET_MASS_NOT_POSITIVE', '/body/netMassKg', () => ({ netMassKg: '0' })],
    ['DECLARATION_GROSS_BELOW_NET', '/body/grossMassKg', () => ({ grossMassKg: '1000', netMassKg: '1200' })],
    ['REFERENCE_UNKNOWN_HS', '/body/items/0/hsCode', (c: DeclarationContent) => withItem0(c, { hsCode: '9999999999' })],
    // 080810 (apples) is an HS2022 subheading; 08081099 is no China tariff line under it.
    [
      'REFERENCE_UNKNOWN_TARIFF_LINE',
      '/body/items/0/hsCode',
      (c: DeclarationContent) => withItem0(c, { hsCode: '0808109900' }),
    ],
    ['REFERENCE_UNKNOWN_UNIT', '/body/items/0/unit', (c: DeclarationContent) => withItem0(c, { unit: '999' })],
    [
      'DECLARATION_QUANTITY_NOT_POSITIVE',
      '/body/items/0/quantity',
      (c: DeclarationContent) => withItem0(c, { quantity: '0', totalValue: '0.00' }),
    ],
    [
      'DECLARATION_PRICE_NOT_POSITIVE',
      '/body/items/0/unitPrice',
      (c: DeclarationContent) => withItem0(c, { unitPrice: '0', totalValue: '0.00' }),
    ],
    // 1200 × 1.25 = 1500.00; the declarant's rounding may be off by one fen, not two.
    [
      'DECLARATION_TOTAL_MISMATCH',
      '/body/items/0/totalValue',
      (c: DeclarationContent) => withItem0(c, { totalValue: '1500.02' }),
    ],
  ] as const)('refuses %s with 422, the pointer %s, and writes nothing', async (code, pointer, change) => {
    const base = declarationContent(op)
    const before = await countRows(t.db, 'declarations')
    const res = await post(op.headers, signed(op, { ...base, ...change(base) }))
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({ statusCode: 422, code, pointer, errors: [{ code, pointer }] })
    expect(await countRows(t.db, 'declarations')).toBe(before)
    expect(await countRows(t.db, 'declaration_refs', 'client_ref = $1', [base.clientRef])).toBe(0)
  })

  it('REFERENCE_UNKNOWN_TRANSACTION_TERMS: contentProblems refuses terms outside the code table', () => {
    // Over HTTP the schema already limits transactionTerms to 1–7, all in the table: this guards the function's
    // other callers and a table that loses a code.
    const problems = contentProblems({ ...declarationContent(op), transactionTerms: '8' }, loadReference())
    expect(problems).toEqual([
      {
        code: 'REFERENCE_UNKNOWN_TRANSACTION_TERMS',
        message: 'unknown transaction terms 8',
        pointer: '/body/transactionTerms',
      },
    ])
  })

  it('ENTERPRISE_UNKNOWN: an owner enterprise that is not registered, 422 at /body/ownerCode', async () => {
    const c = declarationContent(op, { ownerCode: 'ZZ99999999' })
    const before = await countRows(t.db, 'declarations')
    const res = await post(op.headers, signed(op, c))
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({
      code: 'ENTERPRISE_UNKNOWN',
      pointer: '/body/ownerCode',
      message: 'no enterprise with customs code ZZ99999999',
    })
    expect(await countRows(t.db, 'declarations')).toBe(before)
  })

  it("SIGNATURE_CARD_NOT_DECLARANT: a declaration of A signed with (a valid signature of) B's card, 422 at the card number", async () => {
    const c = declarationContent(op)
    const body = {
      ...c,
      signature: { cardNo: other.cardNo, alg: 'Ed25519' as const, value: signPayload(other.privateKey, c) },
    }
    const before = await countRows(t.db, 'declarations')
    const res = await post(op.headers, body)
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({ code: 'SIGNATURE_CARD_NOT_DECLARANT', pointer: '/body/signature/cardNo' })
    expect(await countRows(t.db, 'declarations')).toBe(before)
  })

  it('DECLARATION_NO_EXCHANGE_RATE: a currency of the code table without a customs rate, 422 at /body/currency', async () => {
    // BRL is an ISO 4217 currency; the sample rate table has none for it.
    const [rate] = await t.db.query(`select 1 from exchange_rates where currency = 'BRL'`)
    expect(rate).toBeUndefined()
    const c = declarationContent(op, { currency: 'BRL' })
    const before = await countRows(t.db, 'declarations')
    const res = await post(op.headers, signed(op, c))
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({
      code: 'DECLARATION_NO_EXCHANGE_RATE',
      pointer: '/body/currency',
      message: 'no exchange rate for BRL',
    })
    expect(await countRows(t.db, 'declarations')).toBe(before)
    expect(await countRows(t.db, 'declaration_refs', 'client_ref = $1', [c.clientRef])).toBe(0)
  })

  it('DECLARATION_NOT_FOUND: an id or entry number nobody declared, 404 at /params/id', async () => {
    for (const id of [randomUUID(), '530120261999999999']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/declarations/${id}`, headers: officer.headers })
      expect(res.statusCode).toBe(404)
      expect(res.json()).toMatchObject({ code: 'DECLARATION_NOT_FOUND', pointer: '/params/id' })
    }
    const accept = await t.app.inject({
      method: 'POST',
      url: `/api/v1/declarations/${randomUUID()}/accept`,
      headers: officer.headers,
    })
    expect(accept.statusCode).toBe(404)
    expect(accept.json()).toMatchObject({ code: 'DECLARATION_NOT_FOUND', pointer: '/params/id' })
  })

  it('DECLARATION_CONCURRENT_CHANGE: a transition from a stale copy is refused with 409 and changes nothing', async () => {
    // A trader under review keeps its declaration SUBMITTED for an officer.
    const held = await buildOperator(
      t,
      officer,
      await buildEnterprise(t, officer, { creditLevel: 'SERIOUSLY_DISHONEST' }),
    )
    const d = await submitDeclaration(t, held)
    expect(d.state).toBe('SUBMITTED')
    const stale = (await repo.findDeclaration(t.db, d.id))!
    const rejected = await t.app.inject({
      method: 'POST',
      url: `/api/v1/declarations/${d.id}/reject`,
      headers: officer.headers,
      payload: { errors: [{ code: 'DOCS_MISSING', message: 'invoice missing', pointer: '/items/0' }] },
    })
    expect(rejected.json().state).toBe('REJECTED')
    const auditBefore = await countRows(t.db, 'audit_log', "entity_type = 'declaration' and entity_id = $1", [d.id])
    // Every route locks the row before it moves it; the guard is for a caller holding an old copy.
    const err = await t.db
      .transaction((tx) =>
        transition(tx, { clock: t.clock, ids: systemIds, events: t.app.kouan.events }, stale, 'ACCEPTED', 'user:test'),
      )
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KouanError)
    expect(err).toMatchObject({ code: 'DECLARATION_CONCURRENT_CHANGE', statusCode: 409, pointer: '/params/id' })
    expect((await repo.findDeclaration(t.db, d.id))!.state).toBe('REJECTED')
    expect(await countRows(t.db, 'audit_log', "entity_type = 'declaration' and entity_id = $1", [d.id])).toBe(
      auditBefore,
    )
  })
})
