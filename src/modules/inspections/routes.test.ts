import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  auditRows,
  buildEnterprise,
  buildOperator,
  declarationContent,
  loginUser,
  signed,
  type Headers,
  type TestOperator,
  TSHIRTS,
} from '../../../test/factories.js'
import { verifyAudit } from '../../shared/audit.js'
import { EventBus, OutboxDispatcher } from '../../shared/events.js'
import type { AppEvents } from '../../context.js'
import type { DeclarationContent, Item } from '../declarations/schema.js'
import { DEFAULT_PARAMS } from '../selectivity/engine.js'
import type { Condition, Action } from '../selectivity/schema.js'

type User = { id: string; username: string; headers: Headers }
interface Decl {
  id: string
  entryId: string | null
  state: string
  lane: string | null
  version: number
  risk: { source: string; reasons: Array<{ code: string; ruleId?: string }> } | null
  errors: unknown
  [k: string]: unknown
}
interface Insp {
  id: string
  declarationId: string
  state: string
  kind: string
  source: string
  [k: string]: unknown
}

const PHONES: Item = {
  hsCode: '8517130000',
  description: 'Smartphones',
  quantity: '10',
  unit: '001',
  unitPrice: '300.5',
  totalValue: '3005.00',
  originCountry: 'CHN',
}
describe('inspection lifecycle over HTTP', () => {
  const t = useTestApp()
  let officerA: User
  let officerB: User
  let op: TestOperator
  let applesRule: { id: string }

  const post = (headers: Headers, url: string, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) })
  const get = (headers: Headers, url: string) => t.app.inject({ method: 'GET', url, headers })

  /** A rule authored by officer A and activated by officer B (four eyes). */
  async function activeRule(name: string, conditions: Condition[], action: Action) {
    const created = await post(officerA.headers, '/api/v1/selectivity/rules', { name, conditions, action })
    if (created.statusCode !== 201) throw new Error(`rule: ${created.body}`)
    const activated = await post(officerB.headers, `/api/v1/selectivity/rules/${created.json().id}/activate`)
    if (activated.statusCode !== 200) throw new Error(`activate: ${activated.body}`)
    return activated.json() as { id: string }
  }

  /** Submits a signed declaration for `who`; returns it after checking it was created. */
  async function submit(who: TestOperator, over: Partial<DeclarationContent> = {}): Promise<Decl> {
    const res = await post(who.headers, '/api/v1/declarations', signed(who, declarationContent(who, over)))
    if (res.statusCode !== 201) throw new Error(`declaration: ${res.body}`)
    // The trader's answer carries no targeting (risk: null); the officer's view of the same declaration does.
    expect(res.json().risk).toBeNull()
    return declaration(res.json().id)
  }
  const submitApples = () => submit(op)
  const submitPhones = (over: Partial<DeclarationContent> = {}) => submit(op, { items: [PHONES], ...over })

  const declaration = async (id: string): Promise<Decl> =>
    (await get(officerA.headers, `/api/v1/declarations/${id}`)).json()
  const inspectionsOf = async (declarationId: string): Promise<Insp[]> =>
    (await get(officerA.headers, `/api/v1/inspections?declarationId=${declarationId}`)).json().items
  const inspectionOf = async (declarationId: string): Promise<Insp> => {
    const items = await inspectionsOf(declarationId)
    expect(items).toHaveLength(1)
    return items[0]!
  }
  const start = (headers: Headers, id: string) => post(headers, `/api/v1/inspections/${id}/start`)
  const result = (headers: Headers, id: string, payload: object) =>
    post(headers, `/api/v1/inspections/${id}/result`, payload)
  const nonCompliant = (disposal: string) => ({
    result: 'NON_COMPLIANT',
    findings: [{ category: 'UNDERVALUATION', itemNo: 1, note: 'invoice shows 2.10 USD/kg' }],
    disposal,
  })
  const actions = async (entityType: string, id: string) => (await auditRows(t, entityType, id)).map((a) => a.action)

  /** A RED apples declaration taken through NON_COMPLIANT + TECHNICAL_TREATMENT: DETAINED. */
  // The clock moves a second between transactions: audit trails are ordered by time, and events written by
  // different transactions at the same instant may sit on different hash chains.
  async function detained(): Promise<Decl> {
    const d = await submitApples()
    const insp = await inspectionOf(d.id)
    t.clock.advance(1000)
    expect((await result(officerA.headers, insp.id, nonCompliant('TECHNICAL_TREATMENT'))).statusCode).toBe(200)
    t.clock.advance(1000)
    return declaration(d.id)
  }

  beforeAll(async () => {
    officerA = await loginUser(t, 'officer')
    officerB = await loginUser(t, 'officer')
    const admin = await loginUser(t, 'admin')
    // No random control draw in this file: a 2% random RED would make the YELLOW and CREDIT cases flaky.
    const published = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/selectivity/params',
      headers: admin.headers,
      payload: { params: { ...DEFAULT_PARAMS, minRandomRate: 0 } },
    })
    if (published.statusCode !== 200) throw new Error(`params: ${published.body}`)
    op = await buildOperator(t, officerA, await buildEnterprise(t, officerA))
    applesRule = await activeRule('apples-red', [{ field: 'hsCode', op: 'prefix', value: '0808' }], {
      lane: 'RED',
      reason: 'apples under control order',
    })
    await activeRule('phones-yellow', [{ field: 'hsCode', op: 'prefix', value: '8517' }], { lane: 'YELLOW' })
  })

  describe('selectivity rules', () => {
    it('are created inactive and activated only by a second officer: 409 RULE_FOUR_EYES for the author', async () => {
      const created = await post(officerA.headers, '/api/v1/selectivity/rules', {
        name: 'horses-red',
        conditions: [{ field: 'hsCode', op: 'prefix', value: '0101' }],
        action: { lane: 'RED' },
      })
      expect(created.statusCode).toBe(201)
      const rule = created.json()
      expect(rule).toMatchObject({ active: false, createdBy: `user:${officerA.username}`, activatedBy: null })

      const self = await post(officerA.headers, `/api/v1/selectivity/rules/${rule.id}/activate`)
      expect(self.statusCode).toBe(409)
      expect(self.json()).toMatchObject({ code: 'RULE_FOUR_EYES', pointer: '/params/id' })
      expect((await get(officerA.headers, `/api/v1/selectivity/rules/${rule.id}`)).json()).toMatchObject({
        active: false,
        activatedBy: null,
      })
      expect(await actions('rule', rule.id)).toEqual(['RULE_CREATED'])

      const other = await post(officerB.headers, `/api/v1/selectivity/rules/${rule.id}/activate`)
      expect(other.statusCode).toBe(200)
      expect(other.json()).toMatchObject({ active: true, activatedBy: `user:${officerB.username}` })
      expect(await actions('rule', rule.id)).toEqual(['RULE_CREATED', 'RULE_ACTIVATED'])
    })

    it('refuse an operator', async () => {
      const res = await post(op.headers, '/api/v1/selectivity/rules', {
        name: 'self-service',
        conditions: [{ field: 'hsCode', op: 'prefix', value: '01' }],
        action: { lane: 'RED' },
      })
      expect(res.statusCode).toBe(403)
      expect(await countRows(t.db, 'selectivity_rules', `name = 'self-service'`)).toBe(0)
    })
  })

  describe('a RED physical inspection', () => {
    it('routes apples to RED under the rule: INSPECTING, with one OPEN PHYSICAL inspection from source RULE', async () => {
      const d = await submitApples()
      expect(d).toMatchObject({ state: 'INSPECTING', lane: 'RED', risk: { source: 'RULE', paramsVersion: 2 } })
      expect(d.entryId).toMatch(/^530120261\d{9}$/)
      expect(d.risk!.reasons).toEqual(
        expect.arrayContaining([expect.objectContaining({ code: 'RULE_LANE', ruleId: applesRule.id })]),
      )
      expect(d.inspectionOrderedAt).not.toBeNull()
      expect(await inspectionOf(d.id)).toMatchObject({
        declarationId: d.id,
        entryId: d.entryId,
        state: 'OPEN',
        kind: 'PHYSICAL',
        source: 'RULE',
        officerId: null,
        result: null,
      })
      expect(await actions('declaration', d.id)).toEqual([
        'DECLARATION_SUBMITTED',
        'DECLARATION_ACCEPTED',
        'DECLARATION_ASSESSED',
        'DECLARATION_INSPECTING',
      ])
    })

    it('records who started the inspection and when; a second start is 409 INSPECTION_NOT_OPEN', async () => {
      const d = await submitApples()
      const insp = await inspectionOf(d.id)
      const res = await start(officerB.headers, insp.id)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({
        state: 'IN_PROGRESS',
        officerId: officerB.id,
        startedAt: t.clock.now().toISOString(),
      })
      expect(await auditRows(t, 'inspection', insp.id)).toEqual([
        expect.objectContaining({
          action: 'INSPECTION_STARTED',
          actor: `user:${officerB.username}`,
          data: { declarationId: d.id },
        }),
      ])
      const again = await start(officerA.headers, insp.id)
      expect(again.statusCode).toBe(409)
      expect(again.json().code).toBe('INSPECTION_NOT_OPEN')
      expect(await inspectionOf(d.id)).toMatchObject({ state: 'IN_PROGRESS', officerId: officerB.id })
    })

    it('detains the goods on NON_COMPLIANT [UNDERVALUATION] with TECHNICAL_TREATMENT', async () => {
      const d = await submitApples()
      const insp = await inspectionOf(d.id)
      t.clock.advance(1000)
      expect((await start(officerA.headers, insp.id)).statusCode).toBe(200)
      t.clock.advance(1000)
      const res = await result(officerA.headers, insp.id, nonCompliant('TECHNICAL_TREATMENT'))
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({
        state: 'DONE',
        result: 'NON_COMPLIANT',
        disposal: 'TECHNICAL_TREATMENT',
        officerId: officerA.id,
        findings: [{ category: 'UNDERVALUATION', itemNo: 1, note: 'invoice shows 2.10 USD/kg' }],
        finishedAt: t.clock.now().toISOString(),
      })
      const after = await declaration(d.id)
      expect(after).toMatchObject({
        state: 'DETAINED',
        lane: 'RED',
        detainedAt: t.clock.now().toISOString(),
        releasedAt: null,
      })
      expect(await actions('inspection', insp.id)).toEqual(['INSPECTION_STARTED', 'INSPECTION_RESULT'])
      expect((await auditRows(t, 'declaration', d.id)).at(-1)).toMatchObject({
        action: 'DECLARATION_DETAINED',
        actor: `user:${officerA.username}`,
        data: {
          from: 'INSPECTING',
          state: 'DETAINED',
          inspectionId: insp.id,
          result: 'NON_COMPLIANT',
          disposal: 'TECHNICAL_TREATMENT',
        },
      })
    })

    it('publishes the result and the detention as events: an after-commit subscriber gets each once, after commit', async () => {
      const bus = t.app.kouan.events as EventBus<AppEvents>
      const seen: Array<{ type: string; payload: Record<string, unknown> }> = []
      const probe = async (_tx: unknown, evs: Array<{ type: string; payload: object }>) => {
        for (const e of evs) seen.push({ type: e.type, payload: e.payload as Record<string, unknown> })
      }
      bus.afterCommit('InspectionResultRecorded', 'test-probe', probe)
      bus.afterCommit('DeclarationDetained', 'test-probe', probe)
      const d = await submitApples()
      const insp = await inspectionOf(d.id)
      expect((await result(officerA.headers, insp.id, nonCompliant('DESTROY'))).statusCode).toBe(200)
      expect(seen).toEqual([]) // after commit, from the outbox: nothing ran in the request
      const outbox = new OutboxDispatcher({ db: t.db, clock: t.clock, bus })
      expect(await outbox.runOnce()).toBeGreaterThanOrEqual(2) // other subscribers' events (archives) may be due too
      expect(await outbox.runOnce()).toBe(0)
      expect(seen).toEqual([
        {
          type: 'InspectionResultRecorded',
          payload: expect.objectContaining({
            inspectionId: insp.id,
            declarationId: d.id,
            source: 'RULE',
            result: expect.objectContaining({ result: 'NON_COMPLIANT', disposal: 'DESTROY' }),
          }),
        },
        { type: 'DeclarationDetained', payload: expect.objectContaining({ id: d.id, state: 'DETAINED' }) },
      ])
    })

    it('lets an officer release detained goods; general trade (0110) then closes at once', async () => {
      const d = await detained()
      const res = await post(officerB.headers, `/api/v1/declarations/${d.id}/release`, {})
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({
        state: 'CLEARED',
        releasedAt: t.clock.now().toISOString(),
        clearedAt: t.clock.now().toISOString(),
      })
      expect((await declaration(d.id)).state).toBe('CLEARED')
      const trail = await auditRows(t, 'declaration', d.id)
      expect(trail.slice(-3).map((a) => [a.action, a.actor])).toEqual([
        ['DECLARATION_DETAINED', `user:${officerA.username}`],
        ['DECLARATION_RELEASED', `user:${officerB.username}`],
        ['DECLARATION_CLEARED', 'system:kouan'],
      ])
    })

    it('lets an officer release detained goods without a body (the note is optional)', async () => {
      const d = await detained()
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/declarations/${d.id}/release`,
        headers: officerB.headers,
      })
      expect(res.statusCode).toBe(200)
      expect((await declaration(d.id)).state).toBe('CLEARED')
    })

    it('lets an officer return detained goods instead: RETURNED', async () => {
      const d = await detained()
      const res = await post(officerB.headers, `/api/v1/declarations/${d.id}/return`, {
        note: 'importer chose re-export',
      })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ state: 'RETURNED', returnedAt: t.clock.now().toISOString(), releasedAt: null })
      expect((await auditRows(t, 'declaration', d.id)).at(-1)).toMatchObject({
        action: 'DECLARATION_RETURNED',
        data: { note: 'importer chose re-export' },
      })
    })

    it('returns the goods on a RETURN disposal: RETURNED, then an officer closes it', async () => {
      const d = await submitApples()
      const insp = await inspectionOf(d.id)
      const res = await result(officerA.headers, insp.id, nonCompliant('RETURN'))
      expect(res.statusCode).toBe(200)
      expect(await declaration(d.id)).toMatchObject({
        state: 'RETURNED',
        returnedAt: t.clock.now().toISOString(),
        releasedAt: null,
      })
      const closed = await post(officerA.headers, `/api/v1/declarations/${d.id}/clear`, {})
      expect(closed.statusCode).toBe(200)
      expect(closed.json()).toMatchObject({ state: 'CLEARED', clearedAt: t.clock.now().toISOString() })
    })
  })

  describe('refused moves change nothing', () => {
    /** Runs `act`, expects the refusal, and checks the declaration, its inspection and the audit log are untouched. */
    async function unchanged(declarationId: string, act: () => ReturnType<typeof post>, status: number, code: string) {
      const before = {
        d: await declaration(declarationId),
        i: await inspectionsOf(declarationId),
        audit: await countRows(t.db, 'audit_log'),
      }
      const res = await act()
      expect(res.statusCode).toBe(status)
      expect(res.json().code).toBe(code)
      expect(await declaration(declarationId)).toEqual(before.d)
      expect(await inspectionsOf(declarationId)).toEqual(before.i)
      expect(await countRows(t.db, 'audit_log')).toBe(before.audit)
      return res
    }

    it('refuses to release a CLEARED declaration: 409 DECLARATION_ILLEGAL_TRANSITION', async () => {
      const d = await detained()
      expect((await post(officerA.headers, `/api/v1/declarations/${d.id}/release`, {})).json().state).toBe('CLEARED')
      await unchanged(
        d.id,
        () => post(officerA.headers, `/api/v1/declarations/${d.id}/release`, {}),
        409,
        'DECLARATION_ILLEGAL_TRANSITION',
      )
    })

    it('refuses to release an INSPECTING declaration by hand (its inspection decides)', async () => {
      const d = await submitApples()
      await unchanged(
        d.id,
        () => post(officerA.headers, `/api/v1/declarations/${d.id}/release`, {}),
        409,
        'DECLARATION_ILLEGAL_TRANSITION',
      )
    })

    it('refuses to return an INSPECTING declaration by hand (its inspection decides)', async () => {
      const d = await submitApples()
      await unchanged(
        d.id,
        () => post(officerA.headers, `/api/v1/declarations/${d.id}/return`, {}),
        409,
        'DECLARATION_ILLEGAL_TRANSITION',
      )
    })

    it('refuses to close a declaration still under inspection', async () => {
      const d = await submitApples()
      await unchanged(
        d.id,
        () => post(officerA.headers, `/api/v1/declarations/${d.id}/clear`, {}),
        409,
        'DECLARATION_ILLEGAL_TRANSITION',
      )
    })

    it('refuses a second result for the same inspection: 409 INSPECTION_ALREADY_DONE, first result kept', async () => {
      const d = await detained()
      const insp = await inspectionOf(d.id)
      await unchanged(
        d.id,
        () => result(officerB.headers, insp.id, { result: 'COMPLIANT' }),
        409,
        'INSPECTION_ALREADY_DONE',
      )
      expect(await inspectionOf(d.id)).toMatchObject({
        result: 'NON_COMPLIANT',
        disposal: 'TECHNICAL_TREATMENT',
        officerId: officerA.id,
      })
    })

    it('refuses COMPLIANT with findings: 422 INSPECTION_FINDINGS_ON_COMPLIANT at /body/findings', async () => {
      const d = await submitApples()
      const insp = await inspectionOf(d.id)
      const res = await unchanged(
        d.id,
        () => result(officerA.headers, insp.id, { result: 'COMPLIANT', findings: [{ category: 'QUANTITY' }] }),
        422,
        'INSPECTION_FINDINGS_ON_COMPLIANT',
      )
      expect(res.json()).toMatchObject({ pointer: '/body/findings' })
    })

    it('refuses COMPLIANT with a disposal other than RELEASE: 422 at /body/disposal', async () => {
      const d = await submitApples()
      const insp = await inspectionOf(d.id)
      const res = await unchanged(
        d.id,
        () => result(officerA.headers, insp.id, { result: 'COMPLIANT', disposal: 'DESTROY' }),
        422,
        'INSPECTION_DISPOSAL_ON_COMPLIANT',
      )
      expect(res.json()).toMatchObject({ pointer: '/body/disposal' })
    })

    it('refuses NON_COMPLIANT without a disposal: 422 INSPECTION_DISPOSAL_REQUIRED at /body/disposal', async () => {
      const d = await submitApples()
      const insp = await inspectionOf(d.id)
      const res = await unchanged(
        d.id,
        () => result(officerA.headers, insp.id, { result: 'NON_COMPLIANT', findings: [{ category: 'ORIGIN' }] }),
        422,
        'INSPECTION_DISPOSAL_REQUIRED',
      )
      expect(res.json()).toMatchObject({ pointer: '/body/disposal' })
    })

    it('refuses NON_COMPLIANT without findings or disposal, pointing at both', async () => {
      const d = await submitApples()
      const insp = await inspectionOf(d.id)
      const res = await unchanged(
        d.id,
        () => result(officerA.headers, insp.id, { result: 'NON_COMPLIANT' }),
        422,
        'INSPECTION_FINDINGS_REQUIRED',
      )
      expect(res.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/body/findings', '/body/disposal'])
    })

    it('refuses an unknown finding category at the schema: 400', async () => {
      const d = await submitApples()
      const insp = await inspectionOf(d.id)
      const res = await unchanged(
        d.id,
        () =>
          result(officerA.headers, insp.id, {
            result: 'NON_COMPLIANT',
            findings: [{ category: 'BAD_VIBES' }],
            disposal: 'RETURN',
          }),
        400,
        'VALIDATION_FAILED',
      )
      expect(res.json().pointer).toBe('/body/findings/0/category')
    })

    it('lets no operator see, start or record inspections: 403', async () => {
      const d = await submitApples()
      const insp = await inspectionOf(d.id)
      expect((await get(op.headers, `/api/v1/inspections?declarationId=${d.id}`)).statusCode).toBe(403)
      await unchanged(d.id, () => start(op.headers, insp.id), 403, 'FORBIDDEN')
      await unchanged(d.id, () => result(op.headers, insp.id, { result: 'COMPLIANT' }), 403, 'FORBIDDEN')
    })
  })

  describe('what the trader sees of targeting', () => {
    it('shows the trader its lane but never the score, source or reasons: submission, batch, read, list and audit trail', async () => {
      const d = await submitApples()
      expect(d.risk!.reasons.map((r) => r.ruleId)).toContain(applesRule.id) // the officer's view has the reasons
      const own = (await get(op.headers, `/api/v1/declarations/${d.id}`)).json()
      expect(own).toMatchObject({ id: d.id, lane: 'RED', state: 'INSPECTING', risk: null })
      const list = (await get(op.headers, `/api/v1/declarations?state=INSPECTING`)).json().items as Decl[]
      expect(list.length).toBeGreaterThan(0)
      expect(list.every((x) => x.risk === null)).toBe(true)
      const batch = (
        await post(op.headers, '/api/v1/declarations/batch', { declarations: [signed(op, declarationContent(op))] })
      ).json()
      expect(batch.results[0].declaration).toMatchObject({ lane: 'RED', risk: null })
      const trail = (await get(op.headers, `/api/v1/declarations/${d.id}/audit`)).json().items as Array<{
        action: string
        data: Record<string, unknown>
      }>
      const assessed = trail.find((a) => a.action === 'DECLARATION_ASSESSED')!
      expect(assessed.data).toMatchObject({ lane: 'RED' })
      for (const k of ['score', 'source', 'reasons', 'paramsVersion']) expect(assessed.data).not.toHaveProperty(k)
      expect(JSON.stringify(own) + JSON.stringify(trail)).not.toContain(applesRule.id)
      const officerTrail = (await get(officerA.headers, `/api/v1/declarations/${d.id}/audit`)).json().items as Array<{
        action: string
        data: Record<string, unknown>
      }>
      expect(officerTrail.find((a) => a.action === 'DECLARATION_ASSESSED')!.data).toHaveProperty('reasons')
    })
  })

  describe('a YELLOW document check', () => {
    it('routes phones to YELLOW with a DOCUMENT check; COMPLIANT releases and, for 0110, closes', async () => {
      const d = await submitPhones()
      expect(d).toMatchObject({ state: 'INSPECTING', lane: 'YELLOW', risk: { source: 'RULE' } })
      const insp = await inspectionOf(d.id)
      expect(insp).toMatchObject({ kind: 'DOCUMENT', state: 'OPEN', source: 'RULE' })
      t.clock.advance(1000)
      const res = await result(officerA.headers, insp.id, { result: 'COMPLIANT' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ state: 'DONE', result: 'COMPLIANT', findings: [], disposal: 'RELEASE' })
      expect(await declaration(d.id)).toMatchObject({ state: 'CLEARED', releasedAt: t.clock.now().toISOString() })
      expect((await actions('declaration', d.id)).slice(-2)).toEqual(['DECLARATION_RELEASED', 'DECLARATION_CLEARED'])
    })

    it('releases without closing when the trade mode closes later (0214 processing trade); an officer closes it', async () => {
      const d = await submitPhones({ tradeMode: '0214' })
      const insp = await inspectionOf(d.id)
      expect((await result(officerA.headers, insp.id, { result: 'COMPLIANT' })).statusCode).toBe(200)
      expect(await declaration(d.id)).toMatchObject({ state: 'RELEASED', clearedAt: null })
      const closed = await post(officerA.headers, `/api/v1/declarations/${d.id}/clear`, {})
      expect(closed.statusCode).toBe(200)
      expect(closed.json()).toMatchObject({ state: 'CLEARED', clearedAt: t.clock.now().toISOString() })
    })
  })

  describe('reports', () => {
    const qs = (from: string, to: string) => `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`

    it('counts hit rates per source from finished inspections: RULE inspected 4, non-compliant 2', async () => {
      t.clock.advance(3600_000)
      const from = t.clock.now().toISOString()
      const outcomes = [nonCompliant('RETURN'), nonCompliant('TECHNICAL_TREATMENT'), { result: 'COMPLIANT' }]
      for (const o of outcomes) {
        const d = await submitApples()
        expect((await result(officerA.headers, (await inspectionOf(d.id)).id, o)).statusCode).toBe(200)
      }
      const phones = await submitPhones()
      expect(
        (await result(officerA.headers, (await inspectionOf(phones.id)).id, { result: 'COMPLIANT' })).statusCode,
      ).toBe(200)
      // An inspection still open is no label yet.
      await submitApples()

      t.clock.advance(1000)
      const res = await get(officerA.headers, `/api/v1/selectivity/hit-rates?${qs(from, t.clock.now().toISOString())}`)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({
        bySource: [{ source: 'RULE', inspected: 4, nonCompliant: 2, hitRate: 0.5 }],
        targeted: { inspected: 4, nonCompliant: 2, hitRate: 0.5 },
        random: { inspected: 0, nonCompliant: 0, hitRate: null },
        liftPp: null,
      })
    })

    it('reports clearance time (submission → release) per port and lane: median and p90', async () => {
      t.clock.advance(3600_000)
      const from = t.clock.now().toISOString()
      const a = await submitApples()
      const b = await submitApples()
      t.clock.advance(30 * 60_000)
      expect((await result(officerA.headers, (await inspectionOf(a.id)).id, { result: 'COMPLIANT' })).statusCode).toBe(
        200,
      )
      t.clock.advance(60 * 60_000)
      expect((await result(officerA.headers, (await inspectionOf(b.id)).id, { result: 'COMPLIANT' })).statusCode).toBe(
        200,
      )

      const res = await get(
        officerA.headers,
        `/api/v1/stats/clearance?${qs(from, new Date(t.clock.now().getTime() + 1000).toISOString())}`,
      )
      expect(res.statusCode).toBe(200)
      // 1,800 s and 5,400 s: median 3,600 s; p90 interpolates to 1,800 + 0.9 × 3,600 = 5,040 s.
      expect(res.json().items).toEqual([
        { port: '5302', lane: 'RED', released: 2, medianSeconds: 3600, p90Seconds: 5040 },
      ])
      const all = (await get(officerA.headers, '/api/v1/stats/clearance')).json().items
      expect(all).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ port: '5302', lane: 'YELLOW' }),
          expect.objectContaining({ port: '5302', lane: 'RED' }),
        ]),
      )
    })

    it('are for officers: an operator gets 403', async () => {
      expect((await get(op.headers, '/api/v1/selectivity/hit-rates')).statusCode).toBe(403)
      expect((await get(op.headers, '/api/v1/stats/clearance')).statusCode).toBe(403)
    })
  })

  describe('review of a seriously dishonest trader', () => {
    let shady: TestOperator
    beforeAll(async () => {
      shady = await buildOperator(
        t,
        officerA,
        await buildEnterprise(t, officerA, { creditLevel: 'SERIOUSLY_DISHONEST' }),
      )
    })
    const reject = (headers: Headers, id: string) =>
      post(headers, `/api/v1/declarations/${id}/reject`, {
        errors: [{ code: 'HS_MISCLASSIFIED', message: 'these are pears, not apples', pointer: '/items/0/hsCode' }],
      })

    it('holds the declaration for review: SUBMITTED, no entry number, no lane, no inspection', async () => {
      const d = await submit(shady, { items: [TSHIRTS] })
      expect(d).toMatchObject({ state: 'SUBMITTED', entryId: null, lane: null, risk: null, acceptedAt: null })
      expect(await countRows(t.db, 'inspections', 'declaration_id = $1', [d.id])).toBe(0)
      expect(await actions('declaration', d.id)).toEqual(['DECLARATION_SUBMITTED'])
    })

    it('lets an officer reject it with field errors: REJECTED, errors stored and audited', async () => {
      const d = await submit(shady)
      const res = await reject(officerA.headers, d.id)
      expect(res.statusCode).toBe(200)
      const errors = [{ code: 'HS_MISCLASSIFIED', message: 'these are pears, not apples', pointer: '/items/0/hsCode' }]
      expect(res.json()).toMatchObject({
        state: 'REJECTED',
        errors,
        rejectedAt: t.clock.now().toISOString(),
        entryId: null,
      })
      expect(await declaration(d.id)).toMatchObject({ state: 'REJECTED', errors })
      expect((await get(shady.headers, `/api/v1/declarations/${d.id}`)).json()).toMatchObject({
        state: 'REJECTED',
        errors,
      })
      expect((await auditRows(t, 'declaration', d.id)).at(-1)).toMatchObject({
        action: 'DECLARATION_REJECTED',
        actor: `user:${officerA.username}`,
        data: { from: 'SUBMITTED', errors },
      })
    })

    it('refuses to close, accept or reject again a REJECTED declaration: 409, nothing changed', async () => {
      const d = await submit(shady)
      expect((await reject(officerA.headers, d.id)).statusCode).toBe(200)
      const before = await declaration(d.id)
      const audit = await countRows(t.db, 'audit_log')
      for (const res of [
        await post(officerA.headers, `/api/v1/declarations/${d.id}/clear`, {}),
        await post(officerA.headers, `/api/v1/declarations/${d.id}/accept`),
        await reject(officerB.headers, d.id),
      ]) {
        expect(res.statusCode).toBe(409)
        expect(res.json().code).toBe('DECLARATION_ILLEGAL_TRANSITION')
      }
      expect(await declaration(d.id)).toEqual(before)
      expect(await countRows(t.db, 'audit_log')).toBe(audit)
    })

    it('lets an officer accept another: numbered, routed RED by the credit minimum lane, with a PHYSICAL inspection', async () => {
      const d = await submit(shady, { items: [TSHIRTS] })
      const res = await post(officerB.headers, `/api/v1/declarations/${d.id}/accept`)
      expect(res.statusCode).toBe(200)
      const after = res.json()
      expect(after).toMatchObject({
        state: 'INSPECTING',
        lane: 'RED',
        risk: { source: 'CREDIT', paramsVersion: 2 },
        acceptedAt: t.clock.now().toISOString(),
      })
      expect(after.entryId).toMatch(/^530120261\d{9}$/)
      expect(after.risk.reasons.map((r: { code: string }) => r.code)).toContain('CREDIT_MIN_LANE')
      expect(await inspectionOf(d.id)).toMatchObject({
        state: 'OPEN',
        kind: 'PHYSICAL',
        source: 'CREDIT',
        entryId: after.entryId,
      })
      const trail = await auditRows(t, 'declaration', d.id)
      expect(trail.map((a) => a.action)).toEqual([
        'DECLARATION_SUBMITTED',
        'DECLARATION_ACCEPTED',
        'DECLARATION_ASSESSED',
        'DECLARATION_INSPECTING',
      ])
      expect(trail[1]).toMatchObject({ actor: `user:${officerB.username}`, data: { entryId: after.entryId } })
    })

    it('lets no operator accept or reject, not even its own declaration: 403', async () => {
      const d = await submit(shady)
      expect((await post(shady.headers, `/api/v1/declarations/${d.id}/accept`)).statusCode).toBe(403)
      expect((await reject(shady.headers, d.id)).statusCode).toBe(403)
      expect(await declaration(d.id)).toMatchObject({ state: 'SUBMITTED', entryId: null })
    })
  })

  it('leaves a verifiable audit chain', async () => {
    const v = await verifyAudit(t.db)
    expect(v.problems).toEqual([])
    expect(v.rows).toBeGreaterThan(50)
  })
})
