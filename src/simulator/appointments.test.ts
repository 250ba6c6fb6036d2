import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../../test/app.js'
import { countRows } from '../../test/db.js'
import { seededRandom, systemIds } from '../shared/clock.js'
import { verifyAudit } from '../shared/audit.js'
import { createUser } from '../modules/auth/service.js'
import { loadReference } from '../modules/reference/data.js'
import {
  DEFAULT_APPOINTMENT_RATES,
  type Site,
  NIGHT_HOURS,
  chinaDate,
  leadTimeMs,
  offHours,
  planAppointment,
  slotStartOf,
} from './appointments.js'
import { runSimulation } from './run.js'
import { generateWorld } from './world.js'
import type { DemoCard } from './demo-card.js'

const ref = loadReference()

/** The sites of migration 0018 as GET /appointment-sites serves them (office hours 9–17, the default policies). */
const SITES = new Map<string, Site>(
  [
    '5301',
    '5302',
    '5316',
    '5345',
    '2201',
    '2233',
    '2248',
    '3104',
    '3111',
    '5101',
    '5141',
    '0201',
    '0202',
    '4218',
    '4227',
  ]
    .concat(['3701', '3702'])
    .map((code) => [
      code,
      {
        code,
        name: code,
        officeOpen: 9,
        officeClose: 17,
        slotCapacity: 4,
        dutyPhone: '12360',
        categories: { EMERGENCY_RELIEF: 'AUTO', DANGEROUS_GOODS: 'REVIEW', PERISHABLE: 'AUTO', OTHER_URGENT: 'REVIEW' },
      },
    ]),
)

describe('appointment planning (pure)', () => {
  const world = generateWorld(ref, { seed: 9, enterprises: 60 })
  const now = new Date('2026-05-11T01:00:00Z') // Monday 09:00 China time
  const plans = (seed: number, n: number) => {
    const rng = seededRandom(seed)
    return Array.from({ length: n }, (_, i) => {
      const e = world.enterprises[i % world.enterprises.length]!
      return {
        e,
        p: planAppointment(rng, {
          enterprise: e,
          sites: SITES,
          model: world.model,
          now,
          rates: DEFAULT_APPOINTMENT_RATES,
          clientRef: `P-${i}`,
        }),
      }
    })
  }

  it('converts China dates and hours to UTC (UTC+8, no daylight saving)', () => {
    expect(chinaDate(new Date('2026-05-11T15:59:59Z'))).toBe('2026-05-11')
    expect(chinaDate(new Date('2026-05-11T16:00:00Z'))).toBe('2026-05-12')
    expect(chinaDate(new Date('2026-12-31T20:00:00Z'), 1)).toBe('2027-01-02')
    expect(slotStartOf('2026-05-12', 22).toISOString()).toBe('2026-05-12T14:00:00.000Z')
    expect(slotStartOf('2026-05-12', 0).toISOString()).toBe('2026-05-11T16:00:00.000Z')
    expect(offHours({ officeOpen: 9, officeClose: 17 })).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 17, 18, 19, 20, 21, 22, 23,
    ])
  })

  it('is deterministic per seed', () => {
    expect(JSON.stringify(plans(4, 300))).toBe(JSON.stringify(plans(4, 300)))
    expect(JSON.stringify(plans(5, 300))).not.toBe(JSON.stringify(plans(4, 300)))
  })

  it('books at the enterprise’s own offices, outside office hours, beyond the lead time, with known codes', () => {
    const all = plans(7, 3000)
    for (const { e, p } of all) {
      expect(p).toBeDefined()
      if (!p) continue
      expect(e.offices).toContain(p.site)
      expect(e.offices).toContain(p.iePort)
      expect(p.enterpriseCode).toBe(e.customsCode)
      expect(p.hour < 9 || p.hour >= 17).toBe(true)
      const start = slotStartOf(p.date, p.hour).getTime()
      expect(start - now.getTime()).toBeGreaterThanOrEqual(leadTimeMs(e.creditLevel))
      expect(start - now.getTime()).toBeLessThanOrEqual(5 * 86_400_000)
      for (const g of p.goods) expect(ref.tariffLine(g.hsCode)).toBeDefined()
      expect(ref.transportMode(p.transportMode)).toBeDefined()
      expect(ref.customsOffice(p.iePort)).toBeDefined()
      expect(p.contactMobile).toMatch(/^1[3-9][0-9]{9}$/)
    }
    // AEO enterprises may book for tonight (8 h ahead); nobody else comes within 24 h.
    const soon = all.filter(({ p }) => p && slotStartOf(p.date, p.hour).getTime() - now.getTime() < 24 * 3600_000)
    expect(soon.length).toBeGreaterThan(0)
    expect(soon.every(({ e }) => e.creditLevel === 'ADVANCED_CERTIFIED')).toBe(true)
    // The mix: mostly perishables, most of them at night; fresh goods are of the food chapters.
    const ps = all.flatMap(({ p }) => (p ? [p] : []))
    const perishable = ps.filter((p) => p.category === 'PERISHABLE')
    expect(perishable.length / ps.length).toBeGreaterThan(0.6)
    expect(perishable.length / ps.length).toBeLessThan(0.8)
    expect(perishable.filter((p) => NIGHT_HOURS.includes(p.hour)).length / perishable.length).toBeGreaterThan(0.85)
    expect(new Set(ps.map((p) => p.category)).size).toBe(4)
    for (const p of perishable)
      for (const g of p.goods) expect(['02', '03', '04', '06', '07', '08']).toContain(g.hsCode.slice(0, 2))
  })

  it('books nothing where no office of the enterprise takes bookings, or the category is not taken', () => {
    const e = world.enterprises[0]!
    const rng = seededRandom(1)
    const base = { enterprise: e, model: world.model, now, rates: DEFAULT_APPOINTMENT_RATES, clientRef: 'X' }
    expect(planAppointment(rng, { ...base, sites: new Map() })).toBeUndefined()
    const off = new Map(
      [...SITES].map(([c, s]) => [c, { ...s, categories: { ...s.categories, PERISHABLE: 'OFF' as const } }]),
    )
    expect(planAppointment(rng, { ...base, sites: off, category: 'PERISHABLE' })).toBeUndefined()
  })
})

describe('appointment traffic against a live server', () => {
  const t = useTestApp()
  let baseUrl: string
  const officer = { username: 'apt-officer', password: 'apt-officer-secret' }
  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const addr = t.app.server.address()
    if (!addr || typeof addr === 'string') throw new Error('no address')
    baseUrl = `http://127.0.0.1:${addr.port}`
    await createUser(t.db, t.clock, systemIds, { ...officer, role: 'officer' })
  })

  it('books, reviews, cancels, explains and moves appointments; no slot over capacity; the demo enterprise has its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kouan-apt-sim-'))
    const file = join(dir, 'demo-card.json')
    try {
      const stats = await runSimulation({
        baseUrl,
        officer,
        rate: 2,
        durationSec: 4,
        enterprises: 10,
        seed: 14,
        log: () => {},
        reference: ref,
        installRules: false,
        demoCardFile: file,
        appointments: {
          clock: t.clock,
          perMinute: 600,
          categories: { PERISHABLE: 0.5, EMERGENCY_RELIEF: 0.1, DANGEROUS_GOODS: 0.2, OTHER_URGENT: 0.2 },
          cancel: 0.25,
          reschedule: 0.15,
          explain: 0.5,
          reject: 0.4,
          reviewDelaySec: 0.5,
          actionDelaySec: 1,
          explainDelaySec: 0.5,
        },
      })
      const a = stats.appointments
      expect(stats.httpErrors).toBe(0)
      expect(a.refused).toBe(0)
      expect(a.booked).toBeGreaterThanOrEqual(10)
      expect(await countRows(t.db, 'appointments')).toBe(a.booked)
      expect(a.booked).toBe(a.autoAccepted + a.pendingReview)
      expect(a.rostered).toBeGreaterThan(0)

      // Several statuses, as the traffic left them: the wind-down decided every booking waiting for review.
      const byStatus = Object.fromEntries(
        (
          await t.db.query<{ status: string; n: number }>(
            `select status, count(*)::int as n from appointments group by status`,
          )
        ).map((r) => [r.status, r.n]),
      )
      expect(byStatus).toMatchObject({
        ACCEPTED: expect.any(Number),
        CANCELLED: a.cancelled,
        REJECTED: a.rejected,
      })
      expect(byStatus.PENDING ?? 0).toBe(0)
      expect(a.rejected).toBeGreaterThan(0)
      expect(a.accepted).toBeGreaterThan(0)
      expect(a.cancelledAfterAcceptance).toBeGreaterThan(0)
      expect(await countRows(t.db, 'appointments', `explanation_due is not null`)).toBe(a.cancelledAfterAcceptance)
      expect(await countRows(t.db, 'appointments', `explained_at is not null`)).toBe(a.explained)
      expect(await countRows(t.db, 'appointment_history', `action ilike '%reschedul%'`)).toBe(a.rescheduled)

      // No slot over capacity: each slot's count of bookings holding it is its `booked`, within its capacity.
      const off = await t.db.query(
        `select s.site, s.starts_at, s.capacity, s.booked, count(a.id)::int as holding
           from appointment_slots s
           left join appointments a on a.site = s.site and a.slot_start = s.starts_at
             and a.status in ('PENDING', 'ACCEPTED', 'HELD')
          group by s.site, s.starts_at, s.capacity, s.booked
         having count(a.id) <> s.booked or count(a.id) > s.capacity`,
      )
      expect(off).toEqual([])
      expect(
        await countRows(
          t.db,
          'appointments a',
          `a.status in ('PENDING', 'ACCEPTED', 'HELD') and not exists
             (select 1 from appointment_slots s where s.site = a.site and s.starts_at = a.slot_start)`,
        ),
      ).toBe(0)

      // Lead time (24 h; 8 h for AEO enterprises), and fresh goods mostly at night, China time.
      const early = await t.db.query(
        `select a.number from appointments a join enterprises e on e.id = a.enterprise_id
          where a.slot_start < a.created_at + case when e.credit_level = 'ADVANCED_CERTIFIED' then interval '8 hours'
                                                  else interval '24 hours' end`,
      )
      expect(early).toEqual([])
      const [night] = await t.db.query<{ all: number; night: number }>(
        `select count(*)::int as all,
                count(*) filter (where extract(hour from slot_start at time zone 'Asia/Shanghai') in
                  (20, 21, 22, 23, 0, 1, 2, 3, 4, 5))::int as night
           from appointments where category = 'PERISHABLE'`,
      )
      expect(night!.night).toBeGreaterThan(night!.all / 2)
      // Discredited enterprises do not book.
      expect(
        await countRows(
          t.db,
          'appointments a join enterprises e on e.id = a.enterprise_id',
          `e.credit_level in ('DISHONEST', 'SERIOUSLY_DISHONEST')`,
        ),
      ).toBe(0)
      // Rosters: officers on duty at off-hours slots.
      expect(await countRows(t.db, 'appointment_slots', `jsonb_array_length(officers) = 2`)).toBeGreaterThan(0)

      // The demo enterprise: its scripted bookings, one cancelled after acceptance with the explanation still due.
      const demo = JSON.parse(readFileSync(file, 'utf8')) as DemoCard
      const own = await t.db.query<{ status: string; explanation_due: Date | null; explanation: string | null }>(
        `select a.status, a.explanation_due, a.explanation from appointments a
           join enterprises e on e.id = a.enterprise_id where e.customs_code = $1`,
        [demo.enterprise!.customsCode],
      )
      expect(own.length).toBeGreaterThanOrEqual(4)
      expect(own.some((r) => r.status === 'ACCEPTED')).toBe(true)
      expect(own.some((r) => r.status === 'CANCELLED' && r.explanation_due && r.explanation === null)).toBe(true)
      expect((await verifyAudit(t.db)).problems).toEqual([])

      // Started again: the demo enterprise already has its bookings, none are added for it.
      const before = own.length
      await runSimulation({
        baseUrl,
        officer,
        rate: 1,
        durationSec: 1,
        enterprises: 10,
        seed: 14,
        log: () => {},
        reference: ref,
        installRules: false,
        demoCardFile: file,
        appointments: { clock: t.clock, perMinute: 0 },
      })
      expect(
        await countRows(t.db, 'appointments a join enterprises e on e.id = a.enterprise_id', `e.customs_code = $1`, [
          demo.enterprise!.customsCode,
        ]),
      ).toBe(before)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
