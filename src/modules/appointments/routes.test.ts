import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { T0, useTestApp } from '../../../test/app.js'
import { countRows } from '../../../test/db.js'
import {
  auditRows,
  buildEnterprise,
  buildOperator,
  cardLogin,
  loginUser,
  type Headers,
  type TestOperator,
} from '../../../test/factories.js'

const HOUR = 3600_000
/** China date `days` after T0's (T0 = Monday 2026-05-11 09:00 China). */
const day = (days: number) => new Date(Date.parse('2026-05-11T00:00:00Z') + days * 24 * HOUR).toISOString().slice(0, 10)

let n = 0
const booking = (op: TestOperator, overrides: Record<string, unknown> = {}) => ({
  clientRef: `APPT-${Date.now()}-${++n}`,
  enterpriseCode: op.enterprise.customsCode,
  contactName: '王芳',
  contactMobile: '13800138000',
  service: 'CLEARANCE',
  category: 'PERISHABLE',
  site: '5301',
  iePort: '5301',
  ieFlag: 'I',
  goods: [{ name: '鲜苹果 fresh apples', hsCode: '08081000' }],
  transportMode: '4',
  date: day(2),
  hour: 22,
  reason: 'refrigerated truck arrives at night',
  ...overrides,
})

describe('appointments API', () => {
  const t = useTestApp()
  let admin: { headers: Headers }
  let officer: { headers: Headers }
  let op: TestOperator
  let other: TestOperator
  let aeo: TestOperator

  beforeAll(async () => {
    admin = await loginUser(t, 'admin')
    officer = await loginUser(t, 'officer')
    op = await buildOperator(t, officer, await buildEnterprise(t, admin))
    other = await buildOperator(t, officer, await buildEnterprise(t, admin))
    aeo = await buildOperator(t, officer, await buildEnterprise(t, admin, { creditLevel: 'ADVANCED_CERTIFIED' }))
  })

  beforeEach(() => t.clock.set(T0))

  const post = (headers: Headers, url: string, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) })
  const get = (headers: Headers, url: string) => t.app.inject({ method: 'GET', url, headers })
  const book = (who: TestOperator, overrides: Record<string, unknown> = {}) =>
    post(who.headers, '/api/v1/appointments', booking(who, overrides))
  const slotOf = async (site: string, date: string, hour: number) => {
    const res = await get(officer.headers, `/api/v1/appointment-slots?site=${site}&date=${date}`)
    expect(res.statusCode).toBe(200)
    return res.json().slots[hour] as { capacity: number; booked: number; officers: unknown[]; bookings: unknown[] }
  }
  const written = async () => ({
    appointments: await countRows(t.db, 'appointments'),
    history: await countRows(t.db, 'appointment_history'),
    slots: await countRows(t.db, 'appointment_slots'),
    audit: await countRows(t.db, 'audit_log'),
  })

  it('a perishable booking is accepted at once: receipt with number, China time and the duty contact', async () => {
    t.clock.set(T0)
    const roster = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/appointment-slots',
      headers: officer.headers,
      payload: { site: '5301', date: day(2), hours: [22, 23], officers: [{ name: '李警官', phone: '0755-83960000' }] },
    })
    expect(roster.statusCode, roster.body).toBe(200)
    const res = await book(op)
    expect(res.statusCode, res.body).toBe(201)
    const a = res.json()
    expect(a).toMatchObject({ status: 'ACCEPTED', site: '5301', siteName: '皇岗海关', date: day(2), hour: 22 })
    expect(a.number).toMatch(new RegExp(`^5301${day(2).replaceAll('-', '')}\\d{4}$`))
    expect(a.slotStart).toBe(new Date(Date.parse(`${day(2)}T22:00:00+08:00`)).toISOString())
    expect(a.receipt).toMatchObject({
      appointmentNo: a.number,
      acceptedBy: 'auto',
      localTime: `${day(2)} 22:00–23:00 (Asia/Shanghai)`,
      dutyOfficers: [{ name: '李警官', phone: '0755-83960000' }],
      dutyPhone: '12360',
    })
    const detail = (await get(op.headers, `/api/v1/appointments/${a.id}`)).json()
    expect(detail.timeline.map((e: { action: string }) => e.action)).toEqual(['BOOKED', 'ACCEPTED'])
    expect(detail.timeline[1].actor).toBe('system:auto-review')
    expect((await slotOf('5301', day(2), 22)).booked).toBe(1)
    const audit = await auditRows(t, 'appointment', a.id)
    expect(audit.map((r) => r.action)).toEqual(['APPOINTMENT_BOOKED', 'APPOINTMENT_ACCEPTED'])
  })

  it('resending the same request returns the original; the same reference for another request is a 409', async () => {
    const body = booking(op, { hour: 23 })
    const first = await post(op.headers, '/api/v1/appointments', body)
    expect(first.statusCode).toBe(201)
    const before = await written()
    const again = await post(op.headers, '/api/v1/appointments', body)
    expect(again.statusCode).toBe(200)
    expect(again.json().id).toBe(first.json().id)
    const changed = await post(op.headers, '/api/v1/appointments', { ...body, hour: 21 })
    expect(changed.statusCode).toBe(409)
    expect(changed.json()).toMatchObject({ code: 'CLIENT_REF_REUSED', pointer: '/body/clientRef' })
    expect(await written()).toEqual(before)
  })

  it('other urgent goods wait for an officer, who accepts: the enterprise then sees the receipt', async () => {
    const res = await book(op, { category: 'OTHER_URGENT', hour: 20 })
    expect(res.statusCode).toBe(201)
    const a = res.json()
    expect(a).toMatchObject({ status: 'PENDING', receipt: null })
    const queue = (await get(officer.headers, '/api/v1/appointments?status=PENDING')).json()
    expect(queue.items.map((i: { id: string }) => i.id)).toContain(a.id)
    const accepted = await post(officer.headers, `/api/v1/appointments/${a.id}/accept`, {})
    expect(accepted.statusCode).toBe(200)
    expect(accepted.json()).toMatchObject({
      status: 'ACCEPTED',
      receipt: { acceptedBy: expect.stringMatching(/^user:officer-/) },
    })
    const seen = (await get(op.headers, `/api/v1/appointments/${a.id}`)).json()
    expect(seen.receipt.appointmentNo).toBe(a.number)
    expect(seen.timeline.map((e: { action: string }) => e.action)).toEqual(['BOOKED', 'ACCEPTED'])
  })

  it('rescheduling frees the old place and takes the new; the audit chain records it', async () => {
    const a = (await book(op, { date: day(3), hour: 1 })).json()
    expect((await slotOf('5301', day(3), 1)).booked).toBe(1)
    const res = await post(op.headers, `/api/v1/appointments/${a.id}/reschedule`, {
      date: day(3),
      hour: 3,
      reason: 'ship delayed two hours',
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'ACCEPTED', hour: 3, lastReason: 'ship delayed two hours' })
    expect((await slotOf('5301', day(3), 1)).booked).toBe(0)
    expect((await slotOf('5301', day(3), 3)).booked).toBe(1)
    const audit = await auditRows(t, 'appointment', a.id)
    expect(audit.at(-1)).toMatchObject({ action: 'APPOINTMENT_RESCHEDULED' })
    const verify = await post(admin.headers, '/api/v1/audit/verify', {})
    expect(verify.json()).toMatchObject({ ok: true })
  })

  it('a cancellation after acceptance owes a written explanation in 5 days, flagged when overdue', async () => {
    t.clock.set(T0)
    const a = (await book(op, { date: day(4), hour: 2 })).json()
    const missing = await post(op.headers, `/api/v1/appointments/${a.id}/cancel`, {})
    expect(missing.statusCode).toBe(400)
    expect(missing.json().pointer).toBe('/body/reason')
    const res = await post(op.headers, `/api/v1/appointments/${a.id}/cancel`, { reason: 'consignment withdrawn' })
    expect(res.statusCode).toBe(200)
    const cancelled = res.json()
    expect(cancelled.status).toBe('CANCELLED')
    expect(cancelled.explanation).toMatchObject({ submittedAt: null, overdue: false })
    expect(Date.parse(cancelled.explanation.dueAt) - Date.parse(T0)).toBe(5 * 24 * HOUR)
    expect((await slotOf('5301', day(4), 2)).booked).toBe(0)

    t.clock.set(new Date(Date.parse(T0) + 5 * 24 * HOUR + 1000))
    // Sessions of five days ago have expired: log in again.
    const later = { officer: await loginUser(t, 'officer'), op: await cardLogin(t, op.cardNo, op.privateKey) }
    const due = (await get(later.officer.headers, '/api/v1/appointments?explanation=DUE')).json()
    expect(due.items.map((i: { id: string }) => i.id)).not.toContain(a.id)
    const overdue = (await get(later.officer.headers, '/api/v1/appointments?explanation=OVERDUE')).json()
    expect(overdue.items.find((i: { id: string }) => i.id === a.id)?.explanation.overdue).toBe(true)
    const explained = await post(later.op, `/api/v1/appointments/${a.id}/explanation`, {
      text: 'The buyer cancelled the order; we informed the site at once.',
    })
    expect(explained.statusCode).toBe(200)
    expect(explained.json().explanation).toMatchObject({ overdue: true })
    const twice = await post(later.op, `/api/v1/appointments/${a.id}/explanation`, { text: 'again' })
    expect(twice.json()).toMatchObject({ code: 'EXPLANATION_NOT_DUE' })
    const submitted = (await get(later.officer.headers, '/api/v1/appointments?explanation=SUBMITTED')).json()
    expect(submitted.items.map((i: { id: string }) => i.id)).toContain(a.id)
    t.clock.set(T0)

    // A booking cancelled before acceptance owes nothing.
    const pending = (await book(op, { date: day(4), hour: 3, category: 'OTHER_URGENT' })).json()
    const c2 = (await post(op.headers, `/api/v1/appointments/${pending.id}/cancel`, { reason: 'not needed' })).json()
    expect(c2.explanation).toBeNull()
  })

  it('officers hold and remove only with a recorded reason; states are enforced', async () => {
    const a = (await book(op, { date: day(5), hour: 4 })).json()
    const noReason = await post(officer.headers, `/api/v1/appointments/${a.id}/hold`, {})
    expect(noReason.statusCode).toBe(400)
    expect(noReason.json().pointer).toBe('/body/reason')
    const held = await post(officer.headers, `/api/v1/appointments/${a.id}/hold`, { reason: 'permit under check' })
    expect(held.json()).toMatchObject({ status: 'HELD', lastReason: 'permit under check', receipt: null })
    expect((await slotOf('5301', day(5), 4)).booked).toBe(1)
    const resched = await post(op.headers, `/api/v1/appointments/${a.id}/reschedule`, {
      date: day(5),
      hour: 5,
      reason: 'x',
    })
    expect(resched.json()).toMatchObject({ code: 'INVALID_STATE' })
    const removed = await post(officer.headers, `/api/v1/appointments/${a.id}/remove`, { reason: 'permit refused' })
    expect(removed.json()).toMatchObject({ status: 'REMOVED' })
    expect((await slotOf('5301', day(5), 4)).booked).toBe(0)
    const again = await post(officer.headers, `/api/v1/appointments/${a.id}/accept`, {})
    expect(again.statusCode).toBe(409)
    const timeline = (await get(op.headers, `/api/v1/appointments/${a.id}`)).json().timeline
    expect(timeline.map((e: { action: string; reason: string | null }) => [e.action, e.reason])).toEqual([
      ['BOOKED', 'refrigerated truck arrives at night'],
      ['ACCEPTED', 'automatic review: PERISHABLE at 5301'],
      ['HELD', 'permit under check'],
      ['REMOVED', 'permit refused'],
    ])
  })

  it('a full slot answers 409 unless flexible hours find room later', async () => {
    const put = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/appointment-slots',
      headers: officer.headers,
      payload: { site: '5302', date: day(2), hours: [20], capacity: 1 },
    })
    expect(put.json().slots[20]).toMatchObject({ capacity: 1, booked: 0 })
    expect((await book(op, { site: '5302', hour: 20 })).statusCode).toBe(201)
    const before = await written()
    const full = await book(other, { site: '5302', hour: 20 })
    expect(full.statusCode).toBe(409)
    expect(full.json()).toMatchObject({ code: 'SLOT_FULL', pointer: '/body/hour' })
    expect(await written()).toEqual(before)
    const flex = await book(other, { site: '5302', hour: 20, flexHours: 2 })
    expect(flex.statusCode).toBe(201)
    expect(flex.json().hour).toBe(21)
    const shrink = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/appointment-slots',
      headers: officer.headers,
      payload: { site: '5302', date: day(2), hours: [20, 21], capacity: 0 },
    })
    expect(shrink.statusCode).toBe(409)
    expect(shrink.json()).toMatchObject({ code: 'CAPACITY_BELOW_BOOKED', pointer: '/body/capacity' })
  })

  it('bad input: a clear error with a pointer, and nothing written', async () => {
    t.clock.set('2026-05-11T12:00:01Z') // 23:59:59 before day(1) 20:00 China
    const me = { ...op, headers: await cardLogin(t, op.cardNo, op.privateKey) }
    const aeoNow = await cardLogin(t, aeo.cardNo, aeo.privateKey)
    const cases: Array<[Record<string, unknown>, number, string, string]> = [
      [{ date: day(1), hour: 20 }, 422, 'LEAD_TIME_TOO_SHORT', '/body/hour'],
      [{ date: day(0), hour: 19 }, 422, 'SLOT_IN_PAST', '/body/date'],
      [{ date: day(3), hour: 10 }, 422, 'WITHIN_OFFICE_HOURS', '/body/hour'],
      [{ site: '9999' }, 422, 'UNKNOWN_SITE', '/body/site'],
      [{ iePort: '9998' }, 422, 'UNKNOWN_PORT', '/body/iePort'],
      [
        {
          goods: [
            { name: 'a', hsCode: '08081000' },
            { name: 'b', hsCode: '99999999' },
          ],
        },
        422,
        'UNKNOWN_HS_CODE',
        '/body/goods/1/hsCode',
      ],
      [{ transportMode: 'Q' }, 422, 'UNKNOWN_TRANSPORT_MODE', '/body/transportMode'],
      [{ reason: '' }, 400, 'VALIDATION_FAILED', '/body/reason'],
      [{ contactMobile: '12345' }, 400, 'VALIDATION_FAILED', '/body/contactMobile'],
      [{ date: '2026-02-30' }, 400, 'VALIDATION_FAILED', '/body/date'],
      [{ enterpriseCode: other.enterprise.customsCode }, 403, 'FORBIDDEN', '/body/enterpriseCode'],
    ]
    const before = await written()
    for (const [overrides, status, code, pointer] of cases) {
      const res = await book(me, overrides)
      expect(res.statusCode, `${JSON.stringify(overrides)}: ${res.body}`).toBe(status)
      expect(res.json(), JSON.stringify(overrides)).toMatchObject({ code, pointer })
    }
    // The AEO enterprise needs only 8 h.
    const aeoBody = booking(aeo, { date: day(1), hour: 20 })
    expect(await written()).toEqual(before)
    const shortForAeo = await post(aeoNow, '/api/v1/appointments', aeoBody)
    expect(shortForAeo.statusCode, shortForAeo.body).toBe(201)
  })

  it('discredited enterprises are refused with a reason code; officers cannot book', async () => {
    const bad = await buildOperator(t, officer, await buildEnterprise(t, admin, { creditLevel: 'DISHONEST' }))
    const before = await written()
    const res = await book(bad)
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({ code: 'ENTERPRISE_DISCREDITED' })
    const byOfficer = await post(officer.headers, '/api/v1/appointments', booking(op))
    expect(byOfficer.statusCode).toBe(403)
    expect(await written()).toEqual(before)
  })

  it("an enterprise sees only its own bookings; another's are 404 everywhere", async () => {
    const a = (await book(op, { date: day(6), hour: 22 })).json()
    const mine = (await get(other.headers, '/api/v1/appointments?limit=500')).json()
    expect(mine.items.every((i: { enterpriseId: string }) => i.enterpriseId === other.enterprise.id)).toBe(true)
    expect((await get(other.headers, `/api/v1/appointments/${a.id}`)).statusCode).toBe(404)
    for (const [path, body] of [
      ['cancel', { reason: 'x' }],
      ['reschedule', { date: day(6), hour: 23, reason: 'x' }],
      ['explanation', { text: 'x' }],
    ] as const) {
      const res = await post(other.headers, `/api/v1/appointments/${a.id}/${path}`, body)
      expect(res.statusCode, path).toBe(404)
      expect(res.json()).toMatchObject({ code: 'APPOINTMENT_NOT_FOUND', pointer: '/params/id' })
    }
    // Operators see slot figures but not other enterprises' bookings in them.
    const slots = (await get(other.headers, `/api/v1/appointment-slots?site=5301&date=${day(6)}`)).json()
    expect(slots.slots[22].booked).toBe(1)
    expect(slots.slots[22].bookings).toBeUndefined()
    const officers = (await get(officer.headers, `/api/v1/appointment-slots?site=5301&date=${day(6)}`)).json()
    expect(officers.slots[22].bookings.map((b: { id: string }) => b.id)).toEqual([a.id])
  })

  it('slots of a day follow the site calendar: office hours on working days only', async () => {
    const workday = (await get(op.headers, `/api/v1/appointment-slots?site=5301&date=2026-10-10`)).json()
    expect(workday.calendar).toMatchObject({ workday: true, adjustedWorkday: true, known: true })
    expect(workday.officeHours).toEqual({ open: 9, close: 17 })
    expect(
      workday.slots.filter((s: { bookable: boolean }) => !s.bookable).map((s: { hour: number }) => s.hour),
    ).toEqual([9, 10, 11, 12, 13, 14, 15, 16])
    const holiday = (await get(op.headers, `/api/v1/appointment-slots?site=5301&date=2026-10-01`)).json()
    expect(holiday.officeHours).toBeNull()
    expect(holiday.slots.every((s: { bookable: boolean }) => s.bookable)).toBe(true)
  })

  it('admins set a site; a category set OFF is not taken', async () => {
    const body = {
      officeOpen: 8,
      officeClose: 18,
      slotCapacity: 2,
      dutyPhone: '0755-12345678',
      categories: { EMERGENCY_RELIEF: 'AUTO', DANGEROUS_GOODS: 'OFF', PERISHABLE: 'REVIEW', OTHER_URGENT: 'REVIEW' },
    }
    expect(
      (
        await t.app.inject({
          method: 'PUT',
          url: '/api/v1/appointment-sites/5345',
          headers: officer.headers,
          payload: body,
        })
      ).statusCode,
    ).toBe(403)
    const res = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/appointment-sites/5345',
      headers: admin.headers,
      payload: body,
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ code: '5345', name: '深圳湾海关', officeOpen: 8 })
    const before = await written()
    const inverted = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/appointment-sites/5345',
      headers: admin.headers,
      payload: { ...body, officeOpen: 18, officeClose: 8 },
    })
    expect(inverted.json()).toMatchObject({ code: 'OFFICE_HOURS_INVALID', pointer: '/body/officeClose' })
    const unknown = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/appointment-sites/9999',
      headers: admin.headers,
      payload: body,
    })
    expect(unknown.json()).toMatchObject({ code: 'UNKNOWN_PORT', pointer: '/params/code' })
    expect(await written()).toEqual(before)
    const dg = await book(op, { site: '5345', category: 'DANGEROUS_GOODS' })
    expect(dg.json()).toMatchObject({ code: 'CATEGORY_NOT_TAKEN', pointer: '/body/category' })
    const perishable = await book(op, { site: '5345' })
    expect(perishable.json()).toMatchObject({ status: 'PENDING' })
    const sites = (await get(op.headers, '/api/v1/appointment-sites')).json().items
    expect(sites.find((s: { code: string }) => s.code === '5345')).toMatchObject({ slotCapacity: 2 })
  })

  it('figures: bookings by China hour and by status', async () => {
    const res = await get(officer.headers, `/api/v1/appointments/stats?site=5301&from=${day(2)}&to=${day(2)}`)
    expect(res.statusCode, res.body).toBe(200)
    const s = res.json()
    const listed = (await get(officer.headers, `/api/v1/appointments?site=5301&date=${day(2)}&limit=500`)).json()
    expect(s.bookingsByHour.reduce((a: number, b: number) => a + b, 0)).toBe(listed.total)
    for (const hour of [20, 22, 23])
      expect(s.bookingsByHour[hour]).toBe(listed.items.filter((i: { hour: number }) => i.hour === hour).length)
    expect(Object.values(s.byStatus).reduce((a, b) => (a as number) + (b as number), 0)).toBe(listed.total)
    const bad = await get(officer.headers, `/api/v1/appointments/stats?from=${day(3)}&to=${day(2)}`)
    expect(bad.json()).toMatchObject({ code: 'PERIOD_INVALID', pointer: '/query/to' })
    expect((await get(op.headers, `/api/v1/appointments/stats?from=${day(2)}&to=${day(2)}`)).statusCode).toBe(403)
  })

  it('the live stream carries each change to the enterprise it names and to officers', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = t.app.server.address() as AddressInfo
    const open = (headers: Headers) =>
      new Promise<{ chunks: string[]; close: () => void }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/api/v1/appointments/stream', headers }, (res) => {
          const chunks: string[] = []
          res.setEncoding('utf8')
          res.on('data', (c: string) => chunks.push(c))
          resolve({ chunks, close: () => req.destroy() })
        })
        req.on('error', reject)
        req.end()
      })
    const mine = await open(op.headers)
    const theirs = await open(other.headers)
    const officers = await open(officer.headers)
    // Let the feed note where it starts before the change.
    await new Promise((r) => setTimeout(r, 50))
    const a = (await book(op, { date: day(7), hour: 21 })).json()
    const until = async (s: { chunks: string[] }) => {
      for (let i = 0; i < 200 && !s.chunks.join('').includes(a.id); i++) await new Promise((r) => setTimeout(r, 50))
      return s.chunks.join('')
    }
    expect(await until(mine)).toContain(`"number":"${a.number}"`)
    expect(await until(officers)).toContain('event: appointment')
    expect(theirs.chunks.join('')).not.toContain(a.id)
    for (const s of [mine, theirs, officers]) s.close()
  })
})
