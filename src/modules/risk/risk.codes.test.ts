import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  activeRule,
  buildEnterprise,
  buildOperator,
  declarationContent,
  loginUser,
  signed,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'
import { MIN_FRAUDS, MIN_LABELLED } from './service.js'

/** The risk-model error codes that no other test asserted (issue 10): too few labels, and no model to roll back to. */
describe('risk model error codes', () => {
  const t = useTestApp()
  let officerA: { headers: Headers }
  let officerB: { headers: Headers }
  let op: TestOperator
  const inject = (method: 'GET' | 'POST', url: string, headers: Headers, payload?: object) =>
    t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
  beforeAll(async () => {
    officerA = await loginUser(t, 'officer')
    officerB = await loginUser(t, 'officer')
    op = await buildOperator(t, officerA, await buildEnterprise(t, officerA))
  })

  /** A declaration of five items (five training rows), inspected with the given result. */
  const labelled = async (fraud: boolean) => {
    const c = declarationContent(op)
    const hs = ['0808100000', '6109100000', '3304990000', '8517130000', '0207142200']
    c.items = hs.map((hsCode, j) => ({
      hsCode,
      description: `Goods ${j}`,
      quantity: '10',
      unit: '035',
      unitPrice: String(2 + j),
      totalValue: `${10 * (2 + j)}.00`,
      originCountry: fraud ? 'VNM' : 'USA',
    }))
    c.grossMassKg = '60'
    c.netMassKg = '50'
    const d = await inject('POST', '/api/v1/declarations', op.headers, signed(op, c))
    expect(d.statusCode, d.body).toBe(201)
    t.clock.advance(60_000)
    const [task] = (await inject('GET', `/api/v1/inspections?declarationId=${d.json().id}`, officerA.headers)).json()
      .items
    const result = fraud
      ? { result: 'NON_COMPLIANT', findings: [{ category: 'UNDERVALUATION' }], disposal: 'RELEASE' }
      : { result: 'COMPLIANT', findings: [] }
    expect((await inject('POST', `/api/v1/inspections/${task.id}/result`, officerB.headers, result)).statusCode).toBe(
      200,
    )
    t.clock.advance(60_000)
  }

  it('RISK_NOT_ENOUGH_LABELS: training without enough inspected items, 422, nothing stored', async () => {
    const res = await inject('POST', '/api/v1/risk/models/train', officerA.headers)
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({ code: 'RISK_NOT_ENOUGH_LABELS', pointer: '' })
    expect(res.json().message).toContain(
      `at least ${MIN_LABELLED} inspected items and ${MIN_FRAUDS} frauds; the database has 0 and 0`,
    )
    expect(await countRows(t.db, 'risk_models')).toBe(0)
  })

  it('RISK_NOTHING_TO_ROLL_BACK_TO: rolling back the first model ever promoted, 409, it stays active', async () => {
    // Every declaration gets a document check, so every one becomes a label.
    await activeRule(t, officerA, officerB, 'check-all', [{ field: 'packages', op: 'gte', value: 1 }], {
      lane: 'YELLOW',
      reason: 'label collection',
    })
    // 12 declarations × 5 items = 60 rows (≥ 50), frauds every third one, the last ones mixed for validation.
    for (let i = 0; i < 12; i++) await labelled(i % 3 === 0)
    const trained = await inject('POST', '/api/v1/risk/models/train', officerA.headers)
    expect(trained.statusCode, trained.body).toBe(201)
    expect(
      (await inject('POST', `/api/v1/risk/models/${trained.json().version}/promote`, officerB.headers)).json().status,
    ).toBe('ACTIVE')
    const audit = await countRows(t.db, 'audit_log', "entity_type = 'risk_model'")
    const res = await inject('POST', '/api/v1/risk/models/rollback', officerB.headers)
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'RISK_NOTHING_TO_ROLL_BACK_TO', pointer: '' })
    expect(
      (await inject('GET', '/api/v1/risk/models', officerA.headers))
        .json()
        .items.map((m: { version: number; status: string }) => [m.version, m.status]),
    ).toEqual([[1, 'ACTIVE']])
    expect(await countRows(t.db, 'audit_log', "entity_type = 'risk_model'")).toBe(audit)
  }, 120_000)
})
