/**
 * The authorization matrix: every operation of the OpenAPI document × {anonymous, operator of A, operator of B,
 * officer, admin}, on A's resources, against the checked-in table (matrix.ts). Plus the routes the document leaves
 * out, no identifier of one enterprise in the other's answers, and the gaps issue 10 named.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../app.js'
import { countRows } from '../db.js'
import { signedBody } from '../factories.js'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { systemIds } from '../../src/shared/clock.js'
import { loadReference } from '../../src/modules/reference/data.js'
import { baseTransferFor, toMessageXml } from '../../src/modules/ecommerce/generator.js'
import { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from '../../src/modules/ecommerce/xml.js'
import { EXPECTED, HIDDEN, type Row } from './matrix.js'
import { operations, registeredRoutes, type Operation } from './openapi.js'
import { REQUESTS, needsEntry, requestFor } from './requests.js'
import { resetTransport, send } from './send.js'
import { ROLES, buildWorld, uniq, type Role, type World } from './world.js'

interface Observation {
  key: string
  role: Role
  status: number
  leaked: string[]
}

const rowLine = (key: string, r: Partial<Record<Role, unknown>>) =>
  `'${key}': { ${ROLES.map((role) => `${role}: ${JSON.stringify(r[role])}`).join(', ')} },`

describe('authorization matrix', () => {
  const t = useTestApp()
  let w: World
  let ops: Operation[]
  const observed: Observation[] = []

  beforeAll(async () => {
    w = await buildWorld(t)
    ops = await operations(t.app)
  })
  afterAll(() => resetTransport())

  it('has a row and a request for every operation of the OpenAPI document, and no row for a route that is gone', async () => {
    const documented = ops.map((o) => o.key)
    const noRow = documented.filter((k) => !EXPECTED[k])
    const noRequest = ops.filter(needsEntry).map((o) => o.key)
    const stale = Object.keys(EXPECTED).filter((k) => !documented.includes(k))
    expect(
      { noRow, noRequest, stale },
      [
        noRow.length
          ? `operations without a row in test/authz/matrix.ts (add one per operation: which roles may call it, and what B gets on A's resource):\n  ${noRow.join('\n  ')}`
          : '',
        noRequest.length
          ? `operations without a request in test/authz/requests.ts (path parameters or a body):\n  ${noRequest.join('\n  ')}`
          : '',
        stale.length
          ? `rows in test/authz/matrix.ts for operations no longer in the document:\n  ${stale.join('\n  ')}`
          : '',
      ]
        .filter(Boolean)
        .join('\n'),
    ).toEqual({ noRow: [], noRequest: [], stale: [] })
  })

  it('leaves out of the OpenAPI document only the hidden routes listed in matrix.ts', () => {
    const documented = new Set(ops.map((o) => o.key))
    const undocumented = registeredRoutes(t.app).filter((k) => !documented.has(k) && !HIDDEN[k])
    expect(
      undocumented,
      `routes neither in the OpenAPI document nor in HIDDEN (test/authz/matrix.ts):\n  ${undocumented.join('\n  ')}`,
    ).toEqual([])
  })

  it('answers every operation × role with the status of the table', async () => {
    // Reads first, then the calls that change state (each on fresh resources), so no row sees another's writes.
    const ordered = [...ops.filter((o) => o.method === 'GET'), ...ops.filter((o) => o.method !== 'GET')].filter(
      (o) => EXPECTED[o.key] && !needsEntry(o),
    )
    for (const op of ordered) {
      for (const role of ROLES) {
        const call = await requestFor(op, w, role)
        if (!call) continue
        const a = await send(w, op.method, role, call)
        // An operator's successful answer names none of the other enterprise's resources (unless the request did).
        const leaked: string[] = []
        if (op.secured && (role === 'opA' || role === 'opB') && a.status >= 200 && a.status < 300) {
          const asked = `${call.url} ${JSON.stringify(call.body ?? '')} ${call.raw?.payload ?? ''}`
          for (const m of w.markers[role === 'opA' ? 'B' : 'A'])
            if (a.body.includes(m) && !asked.includes(m)) leaked.push(m)
        }
        observed.push({ key: op.key, role, status: a.status, leaked })
      }
    }
    expect(observed.length).toBe(ordered.length * ROLES.length)
    const mismatches: string[] = []
    for (const key of new Set(observed.map((o) => o.key))) {
      const got = Object.fromEntries(observed.filter((o) => o.key === key).map((o) => [o.role, o.status])) as Row
      const want = EXPECTED[key]!
      const wrong = ROLES.filter((r) => got[r] !== want[r])
      if (wrong.length)
        mismatches.push(`${rowLine(key, got)}  // expected ${wrong.map((r) => `${r} ${want[r]}`).join(', ')}`)
    }
    expect(
      mismatches,
      `operations × roles answered otherwise than test/authz/matrix.ts says (observed rows):\n${mismatches.join('\n')}`,
    ).toEqual([])
  }, 120_000)

  it("never shows an operator the other enterprise's resources", () => {
    expect(observed.length, 'runs after the matrix').toBeGreaterThan(0)
    const leaks = observed.filter((o) => o.leaked.length).map((o) => `${o.role} ${o.key}: ${o.leaked.join(', ')}`)
    expect(leaks).toEqual([])
  })

  it('documents the audit checkpoint routes, admins only, whether checkpoints are taken or not', async () => {
    // Registered unconditionally (src/app.ts); the timer's setting (0: no checkpoints) must not take them out of
    // the document, or the matrix would stop checking who reads them.
    const keys = ['GET /api/v1/audit/checkpoints', 'GET /api/v1/audit/checkpoint-keys']
    const off = await buildApp(loadConfig({}, { logLevel: 'silent', cebMatching: false, auditCheckpointSeconds: 0 }), {
      db: t.db,
      clock: t.clock,
      ids: systemIds,
      reference: loadReference(),
    })
    try {
      for (const documented of [ops, await operations(off)]) {
        expect(documented.filter((o) => keys.includes(o.key)).map((o) => ({ key: o.key, secured: o.secured }))).toEqual(
          keys.map((key) => ({ key, secured: true })),
        )
      }
    } finally {
      await off.close()
    }
    for (const key of keys)
      expect(EXPECTED[key], key).toEqual({ anon: 401, opA: 403, opB: 403, officer: 403, admin: 200 })
  })

  it('reaches the hidden routes as documented (public API description and console; metrics not for enterprise sessions)', async () => {
    const wrong: string[] = []
    for (const [key, row] of Object.entries(HIDDEN)) {
      const [method, path] = key.split(' ') as [string, string]
      const call = REQUESTS[key] ? await REQUESTS[key]!(w, 'anon') : { url: path }
      const got: Partial<Record<Role, number>> = {}
      for (const role of ROLES) {
        got[role] = (await send(w, method, role, call)).status
        const want = row[role]
        if (want === null) continue
        if (Array.isArray(want) ? !want.includes(got[role]!) : got[role] !== want)
          wrong.push(`${key} ${role}: ${got[role]}, expected ${JSON.stringify(want)}`)
      }
    }
    expect(wrong).toEqual([])
  })

  describe('entrustments between A and its declarant D', () => {
    const act = (
      headers: Record<string, string>,
      id: string,
      what: 'accept' | 'decline' | 'revoke',
      payload: object = {},
    ) => t.app.inject({ method: 'POST', url: `/api/v1/entrustments/${id}/${what}`, headers, payload })
    const answer = (res: { statusCode: number; json(): { code?: string } }) => ({
      status: res.statusCode,
      code: res.json().code,
    })

    it("D's operator accepts A's proposal (200, ACTIVE); B gets it as an unknown one (404) and can move it nowhere", async () => {
      const e = await w.fresh.entrustment()
      const unknown = randomUUID()
      const rows = { entrustments: await countRows(t.db, 'entrustments'), audit: await countRows(t.db, 'audit_log') }
      // B, with a valid acceptance signed by B's own card, and with D's: the same answer as for an entrustment that does not exist.
      for (const body of [
        signedBody(w.B, { decision: 'ACCEPT', entrustmentId: e.id, termsHash: e.termsHash }),
        w.fresh.acceptance(e),
      ]) {
        const b = await act(w.B.headers, e.id, 'accept', body)
        const u = await act(w.B.headers, unknown, 'accept', { ...body, entrustmentId: unknown })
        expect(answer(b)).toEqual({ status: 404, code: 'ENTRUSTMENT_NOT_FOUND' })
        expect(answer(b)).toEqual(answer(u))
      }
      for (const what of ['decline', 'revoke'] as const) {
        expect(answer(await act(w.B.headers, e.id, what)), what).toEqual(answer(await act(w.B.headers, unknown, what)))
      }
      const seen = await t.app.inject({ method: 'GET', url: `/api/v1/entrustments/${e.id}`, headers: w.B.headers })
      expect(answer(seen)).toEqual({ status: 404, code: 'ENTRUSTMENT_NOT_FOUND' })
      expect(seen.body).not.toContain(e.clientRef)
      expect({
        entrustments: await countRows(t.db, 'entrustments'),
        audit: await countRows(t.db, 'audit_log'),
      }).toEqual(rows)

      const accepted = await act(w.D.headers, e.id, 'accept', w.fresh.acceptance(e))
      expect(accepted.statusCode, accepted.body).toBe(200)
      expect(accepted.json()).toMatchObject({
        id: e.id,
        state: 'ACTIVE',
        traderId: w.A.enterprise.id,
        declarantId: w.D.enterprise.id,
        declarantSignature: { cardNo: w.D.cardNo },
      })
      const ofA = await t.app.inject({ method: 'GET', url: `/api/v1/entrustments/${e.id}`, headers: w.A.headers })
      expect(ofA.json().state).toBe('ACTIVE')
      // Still nothing for B once it is active.
      expect(
        answer(await t.app.inject({ method: 'GET', url: `/api/v1/entrustments/${e.id}`, headers: w.B.headers })),
      ).toEqual({ status: 404, code: 'ENTRUSTMENT_NOT_FOUND' })
      expect(answer(await act(w.B.headers, e.id, 'revoke'))).toEqual({ status: 404, code: 'ENTRUSTMENT_NOT_FOUND' })
    })

    it("lists to B's operator none of A's entrustments, whatever the filter; D sees both as declarant", async () => {
      const ofA = [w.res.entrustment.id, w.res.entrustment.clientRef]
      for (const query of ['', '?role=TRADER', '?role=DECLARANT', '?state=ACTIVE', '?state=PROPOSED', '?limit=500']) {
        const res = await t.app.inject({ method: 'GET', url: `/api/v1/entrustments${query}`, headers: w.B.headers })
        expect(res.statusCode, query).toBe(200)
        const items = res.json().items as Array<{ id: string; traderId: string; declarantId: string }>
        expect(
          items.filter((e) => e.traderId !== w.B.enterprise.id && e.declarantId !== w.B.enterprise.id),
          query,
        ).toEqual([])
        for (const m of ofA) expect(res.body, query).not.toContain(m)
        expect(res.json().total, query).toBe(items.length)
      }
      const own = (
        await t.app.inject({ method: 'GET', url: '/api/v1/entrustments?limit=500', headers: w.B.headers })
      ).json().items as Array<{ id: string }>
      expect(own.map((e) => e.id)).toContain(w.res.entrustmentB.id)
      const ofD = (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/entrustments?role=DECLARANT&limit=500',
          headers: w.D.headers,
        })
      ).json().items as Array<{ id: string }>
      expect(ofD.map((e) => e.id)).toEqual(expect.arrayContaining([w.res.entrustment.id, w.res.entrustmentB.id]))
    })
  })

  describe('the gaps issue 10 named', () => {
    it('PUT /selectivity/params (it can switch random control off) refuses non-admins and publishes nothing', async () => {
      const before = (
        await t.app.inject({ method: 'GET', url: '/api/v1/selectivity/params', headers: w.officer.headers })
      ).json()
      const audit = await countRows(t.db, 'audit_log')
      const off = {
        params: { ...before.params, minRandomRate: 0, explorationRate: 0, thresholds: { yellow: 100, red: 100 } },
      }
      for (const role of ['anon', 'opA', 'opB', 'officer'] as const) {
        const res = await t.app.inject({
          method: 'PUT',
          url: '/api/v1/selectivity/params',
          headers: w.headers[role],
          payload: off,
        })
        expect(res.statusCode, role).toBe(role === 'anon' ? 401 : 403)
      }
      const after = (
        await t.app.inject({ method: 'GET', url: '/api/v1/selectivity/params', headers: w.officer.headers })
      ).json()
      expect(after.version).toBe(before.version)
      expect(await countRows(t.db, 'audit_log')).toBe(audit)
    })

    it("scopes the card list and GET /cards/:id: B sees none of A's cards, and A's card answers B as an unknown one does", async () => {
      const list = await t.app.inject({ method: 'GET', url: '/api/v1/cards?limit=500', headers: w.B.headers })
      expect(list.statusCode).toBe(200)
      const items = list.json().items as Array<{ id: string; enterpriseId: string }>
      expect(items.map((c) => c.enterpriseId).filter((e) => e !== w.B.enterprise.id)).toEqual([])
      expect(items.map((c) => c.id)).toContain(w.B.cardId)
      // Filtering by A's enterprise does not widen B's view.
      const filtered = await t.app.inject({
        method: 'GET',
        url: `/api/v1/cards?enterpriseId=${w.A.enterprise.id}`,
        headers: w.B.headers,
      })
      expect(
        filtered.json().items.filter((c: { enterpriseId: string }) => c.enterpriseId === w.A.enterprise.id),
      ).toEqual([])
      const ofA = await t.app.inject({ method: 'GET', url: `/api/v1/cards/${w.res.cardA2.id}`, headers: w.B.headers })
      const unknown = await t.app.inject({ method: 'GET', url: `/api/v1/cards/${randomUUID()}`, headers: w.B.headers })
      expect({ status: ofA.statusCode, code: ofA.json().code }).toEqual({
        status: unknown.statusCode,
        code: unknown.json().code,
      })
      expect(ofA.body).not.toContain(w.res.cardA2.cardNo)
    })

    it("scopes the audit endpoints: B gets A's declaration and certificate trails as unknown ones, A gets its own", async () => {
      const { declaration, certified } = w.res
      for (const [own, unknown] of [
        [`/api/v1/declarations/${declaration.id}/audit`, `/api/v1/declarations/${randomUUID()}/audit`],
        [
          `/api/v1/certificates/${certified.certificate.number}/audit`,
          `/api/v1/certificates/${certified.certificate.number.slice(0, -3)}999/audit`,
        ],
      ] as const) {
        const b = await t.app.inject({ method: 'GET', url: own, headers: w.B.headers })
        const u = await t.app.inject({ method: 'GET', url: unknown, headers: w.B.headers })
        expect({ status: b.statusCode, code: b.json().code }, own).toEqual({
          status: u.statusCode,
          code: u.json().code,
        })
        expect(b.statusCode).toBe(404)
        const a = await t.app.inject({ method: 'GET', url: own, headers: w.A.headers })
        expect(a.statusCode, own).toBe(200)
        expect(a.json().items.length).toBeGreaterThan(0)
      }
    })

    it("scopes CEB receipts: B's payment naming itself for A's order joins nothing, changes nothing and shows B nothing of A's", async () => {
      const { orderNo } = w.res.order
      const ticketBefore = await t.db.query('select return_status, present from ceb_tickets where order_no = $1', [
        orderNo,
      ])
      const billBefore = (
        await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${orderNo}/tax-bill`, headers: w.officer.headers })
      ).json()
      const totalBefore = await t.db.query('select * from ceb_buyer_totals order by 1')
      // The payment document of A's ticket, re-issued by B as payment enterprise for 1.00 (issue 10, finding 1).
      const payment = structuredClone(w.res.order.ticket.payment)
      const payTransactionId = `PAYB${uniq()}`
      Object.assign(payment.head, {
        guid: randomUUID().toUpperCase(),
        payCode: w.ceb.B.code,
        payName: 'Enterprise B Pay',
        payTransactionId,
        amountPaid: '1.00',
      })
      const xml = toMessageXml('CEB411', [payment], baseTransferFor(w.ceb.B.code))
      const parsed = parseCebXml(xml)
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems))
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ceb/messages',
        payload: xml,
        headers: {
          ...w.B.headers,
          'content-type': 'application/xml',
          [SIGNATURE_HEADER]: xmlSignatureHeader(w.ceb.B.cardNo, w.ceb.B.privateKey, parsed.message),
        },
      })
      expect(res.statusCode).toBeLessThan(500)
      if (res.statusCode === 200) {
        // Refused with a reason code, never received (2) or judged (120…800).
        for (const r of res.json().receipts as Array<{ returnStatus: number; reasons: unknown[] }>) {
          expect(r.returnStatus).toBe(100)
          expect(r.reasons.length).toBeGreaterThan(0)
        }
      }
      expect(await t.db.query('select return_status, present from ceb_tickets where order_no = $1', [orderNo])).toEqual(
        ticketBefore,
      )
      expect(
        (
          await t.app.inject({
            method: 'GET',
            url: `/api/v1/ceb/orders/${orderNo}/tax-bill`,
            headers: w.officer.headers,
          })
        ).json(),
      ).toEqual(billBefore)
      expect(await t.db.query('select * from ceb_buyer_totals order by 1')).toEqual(totalBefore)
      // B sees at most the receipts of the document it sent itself.
      const seen = (
        await t.app.inject({ method: 'GET', url: `/api/v1/ceb/orders/${orderNo}/receipts`, headers: w.B.headers })
      ).json().items as Array<{ type: string; docKey: string }>
      expect(seen.filter((r) => !(r.type === 'CEB411' && r.docKey.includes(payTransactionId)))).toEqual([])
    })
  })
})
