import { beforeAll, describe, expect, it } from 'vitest'
import { T0, useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  auditRows,
  buildEnterprise,
  buildOperator,
  loginUser,
  randomCustomsCode,
  randomUscc,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'
import { USCC_ALPHABET } from '../../shared/uscc.js'
import { verifyAudit } from '../../shared/audit.js'

/** A valid USCC with its check character swapped for another one. */
const withWrongCheck = (uscc: string) => uscc.slice(0, 17) + USCC_ALPHABET[(USCC_ALPHABET.indexOf(uscc[17]!) + 1) % 31]

describe('enterprises API', () => {
  const t = useTestApp()
  let officer: { username: string; headers: Headers }
  let admin: { username: string; headers: Headers }
  let op: TestOperator
  beforeAll(async () => {
    officer = await loginUser(t, 'officer')
    admin = await loginUser(t, 'admin')
    op = await buildOperator(t, officer, await buildEnterprise(t, officer))
  })
  const body = (over: Record<string, unknown> = {}) => ({
    uscc: randomUscc(),
    customsCode: randomCustomsCode(),
    name: 'Shenzhen Kouan Trading Co.',
    registeredDistrict: '5300',
    ...over,
  })
  const post = (headers: Headers | undefined, payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/enterprises', ...(headers ? { headers } : {}), payload })
  const get = (headers: Headers, url: string) => t.app.inject({ method: 'GET', url, headers })
  const byCustomsCode = (code: string) => countRows(t.db, 'enterprises', 'customs_code = $1', [code])

  describe('registration', () => {
    it('registers an enterprise: 201, row stored, audited, credit history opened', async () => {
      const input = body({ nameEn: 'Kouan Trading', creditLevel: 'CERTIFIED' })
      const res = await post(officer.headers, input)
      expect(res.statusCode).toBe(201)
      const e = res.json()
      expect(e).toMatchObject({
        uscc: input.uscc,
        customsCode: input.customsCode,
        name: input.name,
        nameEn: 'Kouan Trading',
        creditLevel: 'CERTIFIED',
        reachable: true,
        registeredDistrict: '5300',
        createdAt: T0,
      })

      const [row] = await t.db.query<Record<string, unknown>>(
        'select uscc, customs_code, credit_level, reachable from enterprises where id = $1',
        [e.id],
      )
      expect(row).toEqual({
        uscc: input.uscc,
        customs_code: input.customsCode,
        credit_level: 'CERTIFIED',
        reachable: true,
      })
      expect((await get(officer.headers, `/api/v1/enterprises/${e.id}`)).json()).toEqual(e)

      const audit = await auditRows(t, 'enterprise', e.id)
      expect(audit).toHaveLength(1)
      expect(audit[0]).toMatchObject({
        action: 'ENTERPRISE_REGISTERED',
        actor: `user:${officer.username}`,
        data: { id: e.id, uscc: input.uscc, customsCode: input.customsCode, creditLevel: 'CERTIFIED' },
      })

      const history = await get(officer.headers, `/api/v1/enterprises/${e.id}/credit-history`)
      expect(history.json()).toEqual([
        { creditLevel: 'CERTIFIED', effectiveFrom: T0, reason: 'registration', changedBy: `user:${officer.username}` },
      ])
    })

    it('defaults to REGULAR credit, reachable, no English name', async () => {
      const res = await post(officer.headers, body())
      expect(res.statusCode).toBe(201)
      expect(res.json()).toMatchObject({ creditLevel: 'REGULAR', reachable: true, nameEn: null })
    })

    it('refuses a USCC with a wrong check character: 422 ENTERPRISE_USCC_CHECK at /body/uscc, nothing written', async () => {
      const input = body({ uscc: withWrongCheck(randomUscc()) })
      const auditBefore = await countRows(t.db, 'audit_log')
      const res = await post(officer.headers, input)
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({
        code: 'ENTERPRISE_USCC_CHECK',
        pointer: '/body/uscc',
        errors: [{ code: 'ENTERPRISE_USCC_CHECK', pointer: '/body/uscc' }],
      })
      expect(await byCustomsCode(input.customsCode)).toBe(0)
      expect(await countRows(t.db, 'audit_log')).toBe(auditBefore)
    })

    it('refuses a lowercase USCC with ENTERPRISE_USCC_CHARACTER', async () => {
      const input = body({ uscc: '91350100m000100y43' })
      const res = await post(officer.headers, input)
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({ code: 'ENTERPRISE_USCC_CHARACTER', pointer: '/body/uscc' })
      expect(await byCustomsCode(input.customsCode)).toBe(0)
    })

    it('refuses a USCC of the wrong length at the schema: 400 at /body/uscc', async () => {
      const input = body({ uscc: randomUscc().slice(0, 17) })
      const res = await post(officer.headers, input)
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '/body/uscc' })
      expect(await byCustomsCode(input.customsCode)).toBe(0)
    })

    it('refuses a second enterprise with the same USCC: 409 ENTERPRISE_EXISTS at /body/uscc', async () => {
      const first = (await post(officer.headers, body())).json()
      const before = await countRows(t.db, 'enterprises')
      const dup = body({ uscc: first.uscc })
      const res = await post(officer.headers, dup)
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ code: 'ENTERPRISE_EXISTS', pointer: '/body/uscc' })
      expect(await countRows(t.db, 'enterprises')).toBe(before)
      expect(await byCustomsCode(dup.customsCode)).toBe(0)
      expect(await auditRows(t, 'enterprise', first.id)).toHaveLength(1)
    })

    it('refuses a second enterprise with the same customs code: 409 ENTERPRISE_EXISTS at /body/customsCode', async () => {
      const first = (await post(officer.headers, body())).json()
      const before = await countRows(t.db, 'enterprises')
      const dup = body({ customsCode: first.customsCode })
      const res = await post(officer.headers, dup)
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ code: 'ENTERPRISE_EXISTS', pointer: '/body/customsCode' })
      expect(await countRows(t.db, 'enterprises')).toBe(before)
      expect(await countRows(t.db, 'enterprises', 'uscc = $1', [dup.uscc])).toBe(0)
    })

    it('lets no operator register an enterprise: 403, nothing written', async () => {
      const input = body()
      const res = await post(op.headers, input)
      expect(res.statusCode).toBe(403)
      expect(res.json().code).toBe('FORBIDDEN')
      expect(await byCustomsCode(input.customsCode)).toBe(0)
    })

    it('requires a session: 401 without a token', async () => {
      const input = body()
      const res = await post(undefined, input)
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'AUTH_REQUIRED', pointer: '/headers/authorization' })
      expect(await byCustomsCode(input.customsCode)).toBe(0)
    })
  })

  describe('what an operator sees', () => {
    it("lists only the operator's own enterprise", async () => {
      const other = await buildEnterprise(t, officer)
      const all = (await get(officer.headers, '/api/v1/enterprises?limit=500')).json()
      expect(all.items.map((e: { id: string }) => e.id)).toEqual(expect.arrayContaining([op.enterprise.id, other.id]))
      const mine = (await get(op.headers, '/api/v1/enterprises?limit=500')).json()
      expect(mine).toMatchObject({ total: 1, items: [{ id: op.enterprise.id }] })
      const search = (await get(op.headers, `/api/v1/enterprises?q=${other.customsCode}`)).json()
      expect(search).toEqual({ items: [], total: 0 })
    })

    it('gets its own enterprise and is refused others with 403', async () => {
      const other = await buildEnterprise(t, officer)
      expect((await get(op.headers, `/api/v1/enterprises/${op.enterprise.id}`)).json().id).toBe(op.enterprise.id)
      const res = await get(op.headers, `/api/v1/enterprises/${other.id}`)
      expect(res.statusCode).toBe(403)
      expect(res.json().code).toBe('FORBIDDEN')
      const history = await get(op.headers, `/api/v1/enterprises/${other.id}/credit-history`)
      expect(history.statusCode).toBe(403)
    })

    it('answers 404 ENTERPRISE_NOT_FOUND to an officer asking for an unknown id', async () => {
      const res = await get(officer.headers, '/api/v1/enterprises/00000000-0000-7000-8000-000000000000')
      expect(res.statusCode).toBe(404)
      expect(res.json()).toMatchObject({ code: 'ENTERPRISE_NOT_FOUND', pointer: '/params/id' })
    })
  })

  describe('credit level', () => {
    const change = (headers: Headers, id: string, payload: object) =>
      t.app.inject({ method: 'POST', url: `/api/v1/enterprises/${id}/credit`, headers, payload })

    it('changes the level with an audit entry from → to, and the history grows', async () => {
      const e = await buildEnterprise(t, officer)
      t.clock.advance(60_000)
      const at = t.clock.now().toISOString()
      const res = await change(officer.headers, e.id, { creditLevel: 'DISHONEST', reason: 'smuggling case 2026-17' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ id: e.id, creditLevel: 'DISHONEST', updatedAt: at })
      const [row] = await t.db.query<{ credit_level: string }>('select credit_level from enterprises where id = $1', [
        e.id,
      ])
      expect(row!.credit_level).toBe('DISHONEST')
      const audit = await auditRows(t, 'enterprise', e.id)
      expect(audit.map((a) => a.action)).toEqual(['ENTERPRISE_REGISTERED', 'ENTERPRISE_CREDIT_CHANGED'])
      expect(audit[1]).toMatchObject({
        actor: `user:${officer.username}`,
        at,
        data: { from: 'REGULAR', to: 'DISHONEST', reason: 'smuggling case 2026-17' },
      })
      const history = (await get(officer.headers, `/api/v1/enterprises/${e.id}/credit-history`)).json()
      expect(history).toEqual([
        { creditLevel: 'REGULAR', effectiveFrom: T0, reason: 'registration', changedBy: `user:${officer.username}` },
        {
          creditLevel: 'DISHONEST',
          effectiveFrom: at,
          reason: 'smuggling case 2026-17',
          changedBy: `user:${officer.username}`,
        },
      ])
    })

    it('refuses a change to the level already held: 409 ENTERPRISE_CREDIT_UNCHANGED, nothing written', async () => {
      const e = await buildEnterprise(t, officer)
      t.clock.advance(60_000)
      const res = await change(officer.headers, e.id, { creditLevel: 'REGULAR', reason: 'no-op' })
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ code: 'ENTERPRISE_CREDIT_UNCHANGED', pointer: '/body/creditLevel' })
      expect(await countRows(t.db, 'enterprise_credit_history', 'enterprise_id = $1', [e.id])).toBe(1)
      expect(await auditRows(t, 'enterprise', e.id)).toHaveLength(1)
    })

    it('lets no operator change a credit level, not even its own', async () => {
      t.clock.advance(60_000)
      const res = await change(op.headers, op.enterprise.id, {
        creditLevel: 'ADVANCED_CERTIFIED',
        reason: 'self-service',
      })
      expect(res.statusCode).toBe(403)
      const [row] = await t.db.query<{ credit_level: string }>('select credit_level from enterprises where id = $1', [
        op.enterprise.id,
      ])
      expect(row!.credit_level).toBe('REGULAR')
    })

    it('answers 404 for an unknown enterprise', async () => {
      const res = await change(officer.headers, '00000000-0000-7000-8000-000000000000', {
        creditLevel: 'DISHONEST',
        reason: 'x',
      })
      expect(res.statusCode).toBe(404)
      expect(res.json().code).toBe('ENTERPRISE_NOT_FOUND')
    })

    it('records a credit change made in the same millisecond as the registration', async () => {
      const e = await buildEnterprise(t, officer)
      const res = await change(officer.headers, e.id, { creditLevel: 'CERTIFIED', reason: 'AEO certificate' })
      expect(res.statusCode).toBe(200)
      expect(await countRows(t.db, 'enterprise_credit_history', 'enterprise_id = $1', [e.id])).toBe(2)
    })
  })

  describe('AEO mutual-recognition partners', () => {
    const put = (headers: Headers, items: object[]) =>
      t.app.inject({ method: 'PUT', url: '/api/v1/aeo-partners', headers, payload: { items } })
    const list = async () => (await get(officer.headers, '/api/v1/aeo-partners')).json().items
    const partners = [
      { country: 'SGP', recognisedFrom: '2012-06-01' },
      { country: 'NZL', recognisedFrom: '2017-07-01', recognisedTo: '2030-12-31' },
    ]

    it('lets an admin replace the list, audited', async () => {
      const res = await put(admin.headers, partners)
      expect(res.statusCode).toBe(200)
      const expected = [
        { country: 'NZL', recognisedFrom: '2017-07-01', recognisedTo: '2030-12-31' },
        { country: 'SGP', recognisedFrom: '2012-06-01', recognisedTo: null },
      ]
      expect(res.json().items).toEqual(expected)
      expect(await list()).toEqual(expected)
      const audit = await auditRows(t, 'aeo_partners', 'all')
      expect(audit.at(-1)).toMatchObject({
        action: 'AEO_PARTNERS_SET',
        actor: `user:${admin.username}`,
        data: { items: partners },
      })
    })

    it('refuses an officer with 403 and keeps the list', async () => {
      const before = await list()
      const res = await put(officer.headers, [{ country: 'KOR', recognisedFrom: '2010-06-01' }])
      expect(res.statusCode).toBe(403)
      expect(await list()).toEqual(before)
    })

    it('refuses an unknown country with 422 at /body/items/1/country and keeps the list', async () => {
      const before = await list()
      const audits = await countRows(t.db, 'audit_log', `entity_type = 'aeo_partners'`)
      const res = await put(admin.headers, [
        { country: 'KOR', recognisedFrom: '2010-06-01' },
        { country: 'XXX', recognisedFrom: '2020-01-01' },
      ])
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({ code: 'REFERENCE_UNKNOWN_COUNTRY', pointer: '/body/items/1/country' })
      expect(await list()).toEqual(before)
      expect(await countRows(t.db, 'audit_log', `entity_type = 'aeo_partners'`)).toBe(audits)
    })

    it('refuses a country listed twice and a period that ends before it starts, each with its pointer', async () => {
      const before = await list()
      const res = await put(admin.headers, [
        { country: 'KOR', recognisedFrom: '2020-01-01', recognisedTo: '2019-01-01' },
        { country: 'KOR', recognisedFrom: '2021-01-01' },
      ])
      expect(res.statusCode).toBe(422)
      expect(res.json().errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ code: 'AEO_PERIOD_INVALID', pointer: '/body/items/0/recognisedTo' }),
          expect.objectContaining({ code: 'AEO_DUPLICATE_COUNTRY', pointer: '/body/items/1/country' }),
        ]),
      )
      expect(await list()).toEqual(before)
    })

    it('refuses a lowercase country code at the schema with 400', async () => {
      const res = await put(admin.headers, [{ country: 'sgp', recognisedFrom: '2012-06-01' }])
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', pointer: '/body/items/0/country' })
    })
  })

  it('leaves a verifiable audit chain', async () => {
    const v = await verifyAudit(t.db)
    expect(v.problems).toEqual([])
    expect(v.rows).toBeGreaterThan(10)
  })
})
