import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import {
  auditRows,
  buildEnterprise,
  buildOperator,
  declarationContent,
  loginUser,
  signed,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'

/** The learning loop over HTTP: inspection results → training → promotion → live scores with reasons. */
describe('risk model lifecycle', () => {
  const t = useTestApp()
  let officerA: { headers: Headers; username: string }
  let officerB: { headers: Headers; username: string }
  let ops: TestOperator[]
  const inject = (method: 'GET' | 'POST' | 'PUT', url: string, headers: Headers, payload?: object) =>
    t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) })
  // Smartphones from Viet Nam are the fraud pattern; everything else is clean.
  const content = (op: TestOperator, i: number, fraud: boolean) => {
    const c = declarationContent(op)
    const hs = ['0808100000', '6109100000', '3304990000'][i % 3]!
    c.items = [
      fraud
        ? {
            hsCode: '8517130000',
            description: 'Smartphones',
            quantity: '10',
            unit: '001',
            unitPrice: '300',
            totalValue: '3000.00',
            originCountry: 'VNM',
          }
        : {
            hsCode: hs,
            description: 'Goods',
            quantity: '100',
            unit: '035',
            unitPrice: '2',
            totalValue: '200.00',
            originCountry: 'USA',
          },
    ]
    return c
  }
  const submit = async (op: TestOperator, i: number, fraud: boolean) => {
    const res = await inject('POST', '/api/v1/declarations', op.headers, signed(op, content(op, i, fraud)))
    expect(res.statusCode).toBe(201)
    expect(res.json().risk).toBeNull() // traders never see the score; read it as an officer
    return (await inject('GET', `/api/v1/declarations/${res.json().id}`, officerA.headers)).json()
  }

  beforeAll(async () => {
    officerA = await loginUser(t, 'officer')
    officerB = await loginUser(t, 'officer')
    ops = []
    for (let e = 0; e < 4; e++) ops.push(await buildOperator(t, officerA, await buildEnterprise(t, officerA)))
    // Every declaration gets a document check, so every one becomes a label.
    const rule = await inject('POST', '/api/v1/selectivity/rules', officerA.headers, {
      name: 'check-all',
      conditions: [{ field: 'packages', op: 'gte', value: 1 }],
      action: { lane: 'YELLOW', reason: 'label collection' },
    })
    expect(
      (await inject('POST', `/api/v1/selectivity/rules/${rule.json().id}/activate`, officerB.headers)).statusCode,
    ).toBe(200)
    for (let i = 0; i < 90; i++) {
      const fraud = i % 6 === 0
      const d = await submit(ops[i % 4]!, i, fraud)
      t.clock.advance(60_000)
      const tasks = (await inject('GET', `/api/v1/inspections?declarationId=${d.id}`, officerA.headers)).json().items
      const result = fraud
        ? { result: 'NON_COMPLIANT', findings: [{ category: 'UNDERVALUATION' }], disposal: 'RELEASE' }
        : { result: 'COMPLIANT', findings: [] }
      expect(
        (await inject('POST', `/api/v1/inspections/${tasks[0].id}/result`, officerB.headers, result)).statusCode,
      ).toBe(200)
      t.clock.advance(60_000)
    }
  }, 120_000)

  it('refuses to roll back or score without a model, and scores nothing before promotion', async () => {
    expect((await inject('POST', '/api/v1/risk/models/rollback', officerA.headers)).json().code).toBe(
      'RISK_NO_ACTIVE_MODEL',
    )
    const d = await submit(ops[0]!, 1, true)
    expect(d.risk.reasons.map((r: { code: string }) => r.code)).not.toContain('MODEL')
  })

  it('trains a candidate on the inspection results, promotes it, and scores new declarations with reasons', async () => {
    const trained = await inject('POST', '/api/v1/risk/models/train', officerA.headers)
    expect(trained.statusCode).toBe(201)
    const m = trained.json()
    expect(m).toMatchObject({ version: 1, status: 'CANDIDATE', trainedRows: 90 })
    expect(m.metrics.validAuc).toBeGreaterThan(0.9)
    const promoted = await inject('POST', `/api/v1/risk/models/${m.version}/promote`, officerB.headers)
    expect(promoted.json()).toMatchObject({ version: 1, status: 'ACTIVE', promotedBy: `user:${officerB.username}` })
    expect((await inject('GET', '/api/v1/risk/status', officerA.headers)).json().activeVersion).toBe(1)
    expect((await auditRows(t, 'risk_model', '1')).map((a) => a.action)).toEqual([
      'RISK_MODEL_TRAINED',
      'RISK_MODEL_PROMOTED',
    ])

    const fraud = await submit(ops[1]!, 2, true)
    const clean = await submit(ops[1]!, 2, false)
    expect(fraud.risk.score).toBeGreaterThan(clean.risk.score + 30)
    const codes = fraud.risk.reasons.map((r: { code: string }) => r.code)
    expect(codes).toContain('MODEL')
    expect(codes).toContain('MODEL_FEATURE')
    expect(fraud.risk.reasons.find((r: { code: string }) => r.code === 'MODEL').message).toMatch(
      /risk model v1: fraud probability/,
    )
  })

  it('rolls back to the previously active model', async () => {
    const v2 = (await inject('POST', '/api/v1/risk/models/train', officerA.headers)).json()
    expect(v2.version).toBe(2)
    expect((await inject('POST', '/api/v1/risk/models/2/promote', officerA.headers)).json().status).toBe('ACTIVE')
    expect((await inject('POST', '/api/v1/risk/models/2/promote', officerA.headers)).json().code).toBe(
      'RISK_MODEL_ALREADY_ACTIVE',
    )
    const back = await inject('POST', '/api/v1/risk/models/rollback', officerB.headers)
    expect(back.json()).toMatchObject({ version: 1, status: 'ACTIVE' })
    const list = (await inject('GET', '/api/v1/risk/models', officerA.headers)).json().items
    expect(list.map((x: { version: number; status: string }) => [x.version, x.status])).toEqual([
      [2, 'RETIRED'],
      [1, 'ACTIVE'],
    ])
  })

  it('reports weekly hit rates of targeted and random selection', async () => {
    const res = await inject('GET', '/api/v1/risk/hit-rates/weekly?weeks=4', officerA.headers)
    expect(res.statusCode).toBe(200)
    const body = res.json()
    const inspected = body.items.reduce(
      (s: number, w: { targetedInspected: number; randomInspected: number }) =>
        s + w.targetedInspected + w.randomInspected,
      0,
    )
    expect(inspected).toBe(90)
    expect(body.items.every((w: { week: string }) => /^\d{4}-\d{2}-\d{2}$/.test(w.week))).toBe(true)
    expect(typeof body.drift).toBe('boolean')
  })

  it('refuses training to operators and unknown versions', async () => {
    expect((await inject('POST', '/api/v1/risk/models/train', ops[0]!.headers)).statusCode).toBe(403)
    expect((await inject('POST', '/api/v1/risk/models/99/promote', officerA.headers)).json().code).toBe(
      'RISK_MODEL_NOT_FOUND',
    )
  })
})
