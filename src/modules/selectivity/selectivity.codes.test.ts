import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import { loginUser, type Headers } from '../../../test/factories.js'

/** One test per selectivity error code that no other test asserted (issue 10). */
describe('selectivity error codes', () => {
  const t = useTestApp()
  let author: { headers: Headers }
  let admin: { headers: Headers }
  beforeAll(async () => {
    author = await loginUser(t, 'officer')
    admin = await loginUser(t, 'admin')
  })
  const inject = (method: 'GET' | 'POST' | 'PUT', url: string, headers: Headers, payload?: object) =>
    t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
  const rule = (name: string, action: object = { lane: 'YELLOW', reason: 'check' }) => ({
    name,
    conditions: [{ field: 'packages', op: 'gte', value: 100 }],
    action,
  })

  it('RULE_BAD_LANE: a targeting rule may not lower a lane, 422 at /body/action/lane, nothing stored', async () => {
    for (const lane of ['GREEN', 'BLUE']) {
      const before = await countRows(t.db, 'selectivity_rules')
      const res = await inject('POST', '/api/v1/selectivity/rules', author.headers, rule(`lower-to-${lane}`, { lane }))
      expect(res.statusCode).toBe(422)
      expect(res.json()).toMatchObject({ code: 'RULE_BAD_LANE', pointer: '/body/action/lane' })
      expect(await countRows(t.db, 'selectivity_rules')).toBe(before)
    }
  })

  it('RULE_EXISTS: a second rule with a taken name, 409 at /body/name, nothing stored', async () => {
    expect((await inject('POST', '/api/v1/selectivity/rules', author.headers, rule('big-shipments'))).statusCode).toBe(
      201,
    )
    const before = await countRows(t.db, 'selectivity_rules')
    const res = await inject(
      'POST',
      '/api/v1/selectivity/rules',
      author.headers,
      rule('big-shipments', { lane: 'RED' }),
    )
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'RULE_EXISTS', pointer: '/body/name' })
    expect(await countRows(t.db, 'selectivity_rules')).toBe(before)
  })

  it('RULE_NOT_FOUND: reading, activating or deactivating an unknown rule, 404 at /params/id', async () => {
    const id = randomUUID()
    for (const [method, url] of [
      ['GET', `/api/v1/selectivity/rules/${id}`],
      ['POST', `/api/v1/selectivity/rules/${id}/activate`],
      ['POST', `/api/v1/selectivity/rules/${id}/deactivate`],
    ] as const) {
      const res = await inject(method, url, author.headers)
      expect(res.statusCode, url).toBe(404)
      expect(res.json()).toMatchObject({ code: 'RULE_NOT_FOUND', pointer: '/params/id' })
    }
  })

  it('RULE_STATE_UNCHANGED: deactivating an inactive rule, 409 at /params/id, no audit event', async () => {
    const created = await inject('POST', '/api/v1/selectivity/rules', author.headers, rule('never-activated'))
    const id = created.json().id as string
    const audit = () => countRows(t.db, 'audit_log', "entity_type = 'rule' and entity_id = $1", [id])
    const before = await audit()
    const res = await inject('POST', `/api/v1/selectivity/rules/${id}/deactivate`, author.headers)
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'RULE_STATE_UNCHANGED', pointer: '/params/id' })
    expect(await audit()).toBe(before)
  })

  it('PARAMS_THRESHOLDS: a yellow threshold above red, 422 at /body/params/thresholds/yellow, no new version', async () => {
    const current = (await inject('GET', '/api/v1/selectivity/params', admin.headers)).json()
    const params = { ...current.params, thresholds: { yellow: 80, red: 60 } }
    const before = await countRows(t.db, 'selectivity_params')
    const res = await inject('PUT', '/api/v1/selectivity/params', admin.headers, { params })
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({ code: 'PARAMS_THRESHOLDS', pointer: '/body/params/thresholds/yellow' })
    expect(await countRows(t.db, 'selectivity_params')).toBe(before)
    expect((await inject('GET', '/api/v1/selectivity/params', admin.headers)).json().version).toBe(current.version)
  })
})
