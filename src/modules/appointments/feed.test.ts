import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../../test/app.js'
import { buildEnterprise, buildOperator, loginUser, type TestOperator } from '../../../test/factories.js'
import { AppointmentFeed } from './feed.js'
import type { StreamEvent } from './schema.js'

/** The live feed reads what any process recorded, including a change that commits after a newer one. */
describe('appointment feed', () => {
  const t = useTestApp()
  let op: TestOperator

  beforeAll(async () => {
    const admin = await loginUser(t, 'admin')
    op = await buildOperator(t, await loginUser(t, 'officer'), await buildEnterprise(t, admin))
  })

  const book = async (hour: number) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/appointments',
      headers: op.headers,
      payload: {
        clientRef: `FEED-${hour}`,
        enterpriseCode: op.enterprise.customsCode,
        contactName: 'Zhou Min',
        contactMobile: '13500000000',
        service: 'CLEARANCE',
        category: 'OTHER_URGENT',
        site: '5301',
        iePort: '5301',
        ieFlag: 'E',
        goods: [{ name: 'fresh apples', hsCode: '08081000' }],
        transportMode: '4',
        date: '2026-05-13',
        hour,
        reason: 'urgent export',
      },
    })
    expect(res.statusCode, res.body).toBe(201)
    return res.json() as { id: string; number: string }
  }

  it('sends each change once, in order, only to the subscribers allowed to see it; late commits included', async () => {
    await book(1) // before the feed starts: not news
    const feed = new AppointmentFeed(t.db, 60_000, (e) => {
      throw e
    })
    const mine: StreamEvent[] = []
    const others: StreamEvent[] = []
    const all: StreamEvent[] = []
    await feed.start()
    feed.subscribe({ enterpriseId: op.enterprise.id, send: (e) => mine.push(e) })
    feed.subscribe({ enterpriseId: '00000000-0000-4000-8000-000000000000', send: (e) => others.push(e) })
    const unsubscribe = feed.subscribe({ enterpriseId: null, send: (e) => all.push(e) })
    const a = await book(2)
    await feed.tick()
    expect(mine.map((e) => [e.number, e.action, e.status])).toEqual([[a.number, 'BOOKED', 'PENDING']])
    expect(all).toEqual(mine)
    expect(others).toEqual([])
    await feed.tick()
    expect(mine).toHaveLength(1)

    // Two changes where the one with the lower id becomes visible last (it committed later, as on a busy PostgreSQL).
    const [top] = await t.db.query<{ max: number }>('select max(id)::int as max from appointment_history')
    const late = (id: number, action: string) =>
      t.db.query(
        `insert into appointment_history (id, appointment_id, at, actor, action, from_status, to_status, slot_start)
         overriding system value
         select $1, id, now(), 'user:late', $3, 'PENDING', 'HELD', slot_start from appointments where id = $2`,
        [id, a.id, action],
      )
    await late(top!.max + 10, 'HELD')
    await feed.tick()
    expect(mine.map((e) => e.action)).toEqual(['BOOKED', 'HELD'])
    await late(top!.max + 5, 'REMOVED')
    await feed.tick()
    expect(mine.map((e) => e.action)).toEqual(['BOOKED', 'HELD', 'REMOVED'])
    await feed.tick()
    expect(all.map((e) => e.action)).toEqual(['BOOKED', 'HELD', 'REMOVED'])
    unsubscribe()
    feed.close()
  })
})
