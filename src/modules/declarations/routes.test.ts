import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  buildEnterprise,
  buildOperator,
  declarationContent,
  loginUser,
  signed,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'
import { verifyAudit } from '../../shared/audit.js'
import { entryId } from './lifecycle.js'

describe('declarations API', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let op: TestOperator
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    op = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })
  const post = (headers: Headers, payload: unknown, url = '/api/v1/declarations') =>
    t.app.inject({ method: 'POST', url, headers, payload: payload as object })

  it('accepts a signed declaration, numbers it and routes it, with an audit trail', async () => {
    const body = signed(op, declarationContent(op))
    const res = await post(op.headers, body)
    expect(res.statusCode).toBe(201)
    const d = res.json()
    expect(d.entryId).toMatch(/^530120261\d{9}$/)
    expect(d.state).toMatch(/^(CLEARED|INSPECTING)$/)
    expect(d.risk).toBeNull() // traders see the lane, never the targeting behind it
    expect(d.content.items).toHaveLength(2)
    const audit = await t.app.inject({ method: 'GET', url: `/api/v1/declarations/${d.id}/audit`, headers: op.headers })
    expect(
      audit
        .json()
        .items.map((a: { action: string }) => a.action)
        .slice(0, 3),
    ).toEqual(['DECLARATION_SUBMITTED', 'DECLARATION_ACCEPTED', 'DECLARATION_ASSESSED'])
    const byEntry = await t.app.inject({
      method: 'GET',
      url: `/api/v1/declarations/${d.entryId}`,
      headers: officer.headers,
    })
    expect(byEntry.json().id).toBe(d.id)
    expect(byEntry.json().risk.paramsVersion).toBe(1)
  })

  it('returns the original for a repeated client reference and writes nothing more', async () => {
    const body = signed(op, declarationContent(op))
    const first = await post(op.headers, body)
    const before = await countRows(t.db, 'declarations')
    const again = await post(op.headers, body)
    expect(first.statusCode).toBe(201)
    expect(again.statusCode).toBe(200)
    expect(again.json().id).toBe(first.json().id)
    expect(await countRows(t.db, 'declarations')).toBe(before)
  })

  it('refuses a tampered body with SIGNATURE_INVALID and writes nothing', async () => {
    const body = signed(op, declarationContent(op))
    const before = await countRows(t.db, 'declarations')
    const res = await post(op.headers, { ...body, packages: 11 })
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({
      code: 'SIGNATURE_INVALID',
      pointer: '/body/signature/value',
      errors: [{ code: 'SIGNATURE_INVALID' }],
    })
    expect(await countRows(t.db, 'declarations')).toBe(before)
  })

  it('refuses unknown codes with a pointer to each offending field', async () => {
    const c = declarationContent(op)
    c.items[1] = { ...c.items[1]!, hsCode: '9999999999' }
    const res = await post(op.headers, signed(op, { ...c, tradeMode: '0999', tradeCountry: 'XXX' }))
    expect(res.statusCode).toBe(422)
    const pointers = res.json().errors.map((e: { pointer: string }) => e.pointer)
    expect(pointers).toEqual(expect.arrayContaining(['/body/tradeMode', '/body/tradeCountry', '/body/items/1/hsCode']))
  })

  it('refuses wrong types and unknown fields with 400 and a JSON pointer', async () => {
    const c = declarationContent(op)
    const res = await post(op.headers, { ...signed(op, c), packages: '10' })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '/body/packages' })
    const extra = await post(op.headers, { ...signed(op, c), colour: 'red' })
    expect(extra.json()).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '/body/colour' })
    const missing = { ...signed(op, c), items: [{ quantity: '1' }] }
    const r3 = await post(op.headers, missing)
    expect(r3.statusCode).toBe(400)
    expect(r3.json().pointer).toMatch(/^\/body\/items\/0\//)
  })

  it('refuses malformed JSON with MALFORMED_JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/declarations',
      headers: { ...op.headers, 'content-type': 'application/json' },
      payload: '{"clientRef": ',
    })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'MALFORMED_JSON', pointer: '/body' })
  })

  it('refuses a declaration signed by a revoked card with 401 CARD_REVOKED', async () => {
    const op2 = await buildOperator(t, officer, op.enterprise)
    const body = signed(op2, declarationContent(op))
    const rev = await post(officer.headers, { reason: 'LOST' }, `/api/v1/cards/${op2.cardId}/revoke`)
    expect(rev.statusCode).toBe(200)
    const res = await post(op.headers, body)
    expect(res.statusCode).toBe(401)
    expect(res.json().code).toBe('CARD_REVOKED')
    // The revoked card's session fails at once, too.
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: op2.headers })
    expect(me.statusCode).toBe(401)
  })

  it("hides another enterprise's declaration and refuses to declare for it", async () => {
    const other = await buildOperator(t, officer, await buildEnterprise(t, officer))
    const mine = (await post(op.headers, signed(op, declarationContent(op)))).json()
    const peek = await t.app.inject({ method: 'GET', url: `/api/v1/declarations/${mine.id}`, headers: other.headers })
    expect(peek.statusCode).toBe(404)
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/declarations', headers: other.headers })
    expect(list.json().items.every((d: { traderId: string }) => d.traderId === other.enterprise.id)).toBe(true)
    const forOp = await post(other.headers, signed(other, declarationContent(op)))
    expect(forOp.statusCode).toBe(403)
    expect(forOp.json().code).toBe('DECLARATION_NOT_YOUR_ENTERPRISE')
  })

  it('lets the public see nothing but health and docs', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/declarations' })).statusCode).toBe(401)
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/health' })).json()).toEqual({ status: 'ok' })
    const doc = await t.app.inject({ method: 'GET', url: '/api/openapi.json' })
    expect(Object.keys(doc.json().paths)).toContain('/api/v1/declarations')
  })

  it('processes a batch item by item: new, duplicate and refused', async () => {
    const good = signed(op, declarationContent(op))
    const bad = { ...signed(op, declarationContent(op)), netMassKg: '1' }
    const res = await post(op.headers, { declarations: [good, good, bad] }, '/api/v1/declarations/batch')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.results.map((r: { status: number }) => r.status)).toEqual([201, 200, 422])
    expect(body.results[2].errors[0].pointer).toBe('/body/declarations/2/signature/value')
    expect(body.results[1].declaration.id).toBe(body.results[0].declaration.id)
  })

  it('refuses an oversize body with 413 BODY_TOO_LARGE', async () => {
    const res = await post(op.headers, { ...signed(op, declarationContent(op)), filler: 'x'.repeat(9 * 1024 * 1024) })
    expect(res.statusCode).toBe(413)
    expect(res.json()).toMatchObject({ code: 'BODY_TOO_LARGE', pointer: '/body' })
  })

  it('keeps the audit chain verifiable', async () => {
    const v = await verifyAudit(t.db)
    expect(v.problems).toEqual([])
    expect(v.rows).toBeGreaterThan(10)
  })

  it('builds entry numbers from district, year, flag and sequence', () => {
    expect(entryId('0202', 2008, 'E', 525641690)).toBe('020220080525641690')
  })
})
