import { beforeAll, describe, expect, it } from 'vitest'
import { T0, useTestApp } from '../../../test/app.js'
import {
  buildEnterprise,
  buildOperator,
  cardLogin,
  loginUser,
  noRandomSelection,
  submitDeclaration,
  type Headers,
  type TestOperator,
  TSHIRTS,
} from '../../../test/factories.js'

/** The figures of the appointments dashboard, from the declarations released and the bookings naming them. */
describe('appointment figures', () => {
  const t = useTestApp()
  let officer: { headers: Headers }
  let op: TestOperator

  beforeAll(async () => {
    const admin = await loginUser(t, 'admin')
    officer = await loginUser(t, 'officer')
    await noRandomSelection(t, admin)
    op = await buildOperator(t, officer, await buildEnterprise(t, admin))
  })

  it('counts releases outside office hours and compares booked with unbooked goods', async () => {
    // T0 is Monday 09:00 China: office hours. A green-lane declaration is released at intake.
    t.clock.set(T0)
    const inHours = await submitDeclaration(t, op, { items: [TSHIRTS] })
    expect(inHours.state).toMatch(/RELEASED|CLEARED/)
    // 21:00 China the same day: after hours. Sessions from 12 h ago have expired: log in again.
    t.clock.set('2026-05-11T13:00:00Z')
    const late = { ...op, headers: await cardLogin(t, op.cardNo, op.privateKey) }
    const lateOfficer = await loginUser(t, 'officer')
    const afterHours = await submitDeclaration(t, late, { items: [TSHIRTS] })
    expect(afterHours.state).toMatch(/RELEASED|CLEARED/)

    // An accepted booking names the after-hours declaration.
    const booked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/appointments',
      headers: late.headers,
      payload: {
        clientRef: 'STATS-1',
        enterpriseCode: op.enterprise.customsCode,
        contactName: 'Liu Yang',
        contactMobile: '13600000000',
        service: 'CLEARANCE',
        category: 'PERISHABLE',
        site: '5301',
        iePort: '5302',
        ieFlag: 'I',
        goods: [{ name: 'fresh apples', hsCode: '08081000' }],
        transportMode: '4',
        date: '2026-05-12',
        hour: 22,
        reason: 'night arrival',
        declarations: [afterHours.entryId],
      },
    })
    expect(booked.statusCode, booked.body).toBe(201)

    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/appointments/stats?from=2026-05-11&to=2026-05-12',
      headers: lateOfficer.headers,
    })
    expect(res.statusCode, res.body).toBe(200)
    const s = res.json()
    expect(s.afterHoursReleases).toBe(1)
    expect(s.release.booked).toEqual({ count: 1, meanMinutes: 0 })
    expect(s.release.unbooked).toEqual({ count: 1, meanMinutes: 0 })
    expect(s.bookingsByHour[22]).toBe(1)
    expect(s.byStatus).toEqual({ ACCEPTED: 1 })
    // Another site's figures do not count this site's releases.
    const other = await t.app.inject({
      method: 'GET',
      url: '/api/v1/appointments/stats?site=5345&from=2026-05-11&to=2026-05-12',
      headers: lateOfficer.headers,
    })
    expect(other.json()).toMatchObject({
      afterHoursReleases: 0,
      release: { booked: { count: 0 }, unbooked: { count: 0 } },
    })
  })
})
