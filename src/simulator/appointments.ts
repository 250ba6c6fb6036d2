/**
 * Simulated 24/7 appointment clearance (预约通关, issue 14): the simulator's enterprises book customs service outside
 * office hours through the HTTP API, mostly fresh and frozen goods at night (20:00–06:00 China time) one to three
 * days ahead, some emergency relief, dangerous goods or other urgent cargo; some bookings are cancelled (some after
 * acceptance, and of those some explain in writing later) or rescheduled; the officer accepts or rejects the ones
 * waiting for review after a while and rosters officers on duty for the coming nights' slots. The demo enterprise
 * gets a few bookings of its own, so its portal has something to show.
 *
 * Pure planning ({@link planAppointment}) is separate from the traffic ({@link AppointmentTraffic}); randomness is
 * seeded, and time comes from an injected clock (the server's, for lead times and dates).
 */
import type { Clock } from '../shared/clock.js'
import type { Appointment, Category, CreateAppointment } from '../modules/appointments/index.js'
import type { Session, Res } from './http.js'
import { pause } from './http.js'
import { hash32, pick, randInt, type PriceModel, type Rng, type SimEnterprise } from './world.js'

/** What the simulator reads of a site (GET /appointment-sites): office hours and the policy per goods category. */
export interface Site {
  code: string
  officeOpen: number
  officeClose: number
  categories: Readonly<Record<string, 'AUTO' | 'REVIEW' | 'OFF'>>
}

/** China time is UTC+8 all year (no daylight saving). */
const CHINA_OFFSET_MS = 8 * 3600_000
const HOUR_MS = 3600_000
const DAY_MS = 24 * HOUR_MS

/** The China calendar date (YYYY-MM-DD) `days` after that of `at`. */
export function chinaDate(at: Date, days = 0): string {
  return new Date(at.getTime() + CHINA_OFFSET_MS + days * DAY_MS).toISOString().slice(0, 10)
}

/** The UTC instant the China hour `hour` of `date` starts. */
export function slotStartOf(date: string, hour: number): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) - CHINA_OFFSET_MS + hour * HOUR_MS)
}

/** Night hours, China time: the slots of 20:00–06:00, when fresh goods arrive and offices are closed. */
export const NIGHT_HOURS: readonly number[] = [20, 21, 22, 23, 0, 1, 2, 3, 4, 5]

/** Hours outside a site's office hours (bookable on every day, working or not). */
export const offHours = (s: Pick<Site, 'officeOpen' | 'officeClose'>): number[] =>
  Array.from({ length: 24 }, (_, h) => h).filter((h) => h < s.officeOpen || h >= s.officeClose)

/** Rates of the appointment traffic; every one a share in [0, 1] except `perMinute`. */
export interface AppointmentRates {
  /** Bookings per minute over all enterprises (0: none besides the demo enterprise's). */
  perMinute: number
  /** Mix of goods categories (relative weights). */
  categories: Readonly<Record<Category, number>>
  /** Share of PERISHABLE bookings at night (20:00–06:00); the rest at other hours outside office hours. */
  perishableAtNight: number
  /** Bookings the enterprise cancels later. */
  cancel: number
  /** Of the cancellations after acceptance: how many the enterprise explains in writing (later). */
  explain: number
  /** Bookings moved to another slot. */
  reschedule: number
  /** Bookings that accept a later slot when the wanted one is full (`flexHours` 1–6). */
  flexible: number
  /** Of the bookings waiting for review: how many the officer rejects. */
  reject: number
}

export const DEFAULT_APPOINTMENT_RATES: Readonly<AppointmentRates> = Object.freeze({
  perMinute: 6,
  categories: Object.freeze({ PERISHABLE: 0.7, EMERGENCY_RELIEF: 0.08, DANGEROUS_GOODS: 0.12, OTHER_URGENT: 0.1 }),
  perishableAtNight: 0.85,
  cancel: 0.1,
  explain: 0.6,
  reschedule: 0.08,
  flexible: 0.5,
  reject: 0.2,
})

/** Options of the appointment traffic (`SimulationOptions.appointments`). */
export interface AppointmentOptions extends Partial<AppointmentRates> {
  /** Seconds a booking waits for review before the officer decides (default 20). */
  reviewDelaySec?: number
  /** Seconds after booking that a cancellation or reschedule comes, at most (uniform from a fifth of it; default 60). */
  actionDelaySec?: number
  /** Seconds after a cancellation that its written explanation comes (default 30). */
  explainDelaySec?: number
  /** Bookings the demo enterprise has at least (made at start when it has fewer; default 4). */
  demoBookings?: number
  /** Source of the current time: the server's, for lead times and China dates (default the system clock). */
  clock?: Clock
}

/** What the appointment traffic did. */
export interface AppointmentStats {
  /** Bookings created (201). */
  booked: number
  /** Of those: accepted at once (site policy AUTO), or waiting for review. */
  autoAccepted: number
  pendingReview: number
  /** Refused with 409 SLOT_FULL (the wanted slot, and the flexible hours after it, full). */
  full: number
  /** Refused otherwise (4xx): the simulator asked for something the rules forbid; 0 in a healthy run. */
  refused: number
  cancelled: number
  cancelledAfterAcceptance: number
  explained: number
  rescheduled: number
  /** Decisions of the officer on bookings waiting for review. */
  accepted: number
  rejected: number
  /** Site-days whose off-hours slots got a duty roster. */
  rostered: number
}

export const emptyAppointmentStats = (): AppointmentStats => ({
  booked: 0,
  autoAccepted: 0,
  pendingReview: 0,
  full: 0,
  refused: 0,
  cancelled: 0,
  cancelledAfterAcceptance: 0,
  explained: 0,
  rescheduled: 0,
  accepted: 0,
  rejected: 0,
  rostered: 0,
})

/** HS chapters of the goods each category ships (the enterprise's own lines first where they fit). */
const CATEGORY_CHAPTERS: Readonly<Record<Category, readonly string[]>> = {
  PERISHABLE: ['02', '03', '04', '06', '07', '08'],
  EMERGENCY_RELIEF: ['30', '63', '90', '19'],
  DANGEROUS_GOODS: ['27', '28', '29', '36', '38'],
  OTHER_URGENT: [],
}

const REASONS: Readonly<Record<Category, readonly string[]>> = {
  PERISHABLE: [
    '冷链生鲜夜间到港，需当晚通关以保鲜',
    'Chilled seafood arriving on the night truck; shelf life 48 h',
    '进口水果夜间抵达口岸，申请预约通关',
    'Frozen meat container landed after office hours',
  ],
  EMERGENCY_RELIEF: ['抗灾救援物资，需连夜通关', 'Medical supplies for flood relief, urgent'],
  DANGEROUS_GOODS: [
    '危险品需在夜间低峰时段查验',
    'Dangerous goods: inspection scheduled off-peak at the port authority’s request',
  ],
  OTHER_URGENT: ['生产线停线待料，急需通关', 'Spare parts for a stopped production line', '展会样品急用'],
}

const CONTACT_SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'] as const
const CONTACT_GIVEN = ['伟', '芳', '敏', '静', '磊', '军', '燕', '慧', '强', '平'] as const
const DUTY_NAMES = ['周立', '郑华', '孙洁', '马骏', '朱宁', '胡斌', '郭敏', '何涛', '林峰', '高雅'] as const

/** A booking the simulator can make: what the enterprise needs, given where and when it wants it. */
export interface PlanInput {
  enterprise: Pick<SimEnterprise, 'customsCode' | 'creditLevel' | 'offices' | 'catalogue'>
  /** Sites taking bookings, by code. */
  sites: ReadonlyMap<string, Site>
  model: PriceModel
  now: Date
  rates: AppointmentRates
  clientRef: string
  /** The category to book (else drawn from the mix). */
  category?: Category
}

const LEAD_MS = { regular: 24 * HOUR_MS, advanced: 8 * HOUR_MS }
/** Booked this much beyond the lead time, so a request that takes a while to arrive is still in time. */
const LEAD_MARGIN_MS = 15 * 60_000

/** Lead time an enterprise's bookings need: 24 h, 8 h for advanced-certified (AEO) enterprises. */
export const leadTimeMs = (creditLevel: string) =>
  creditLevel === 'ADVANCED_CERTIFIED' ? LEAD_MS.advanced : LEAD_MS.regular

function drawCategory(rng: Rng, weights: Readonly<Record<Category, number>>): Category {
  const entries = Object.entries(weights).filter(([, w]) => w > 0) as Array<[Category, number]>
  const total = entries.reduce((s, [, w]) => s + w, 0)
  let x = rng() * total
  for (const [c, w] of entries) if ((x -= w) < 0) return c
  return entries.at(-1)?.[0] ?? 'PERISHABLE'
}

/** Date and hour of a slot `daysAhead` China days on, at least the lead time from `now` (pushed a day on if not). */
export function planSlot(
  rng: Rng,
  o: { now: Date; leadMs: number; hours: readonly number[]; daysAhead: number },
): { date: string; hour: number } {
  const hour = pick(rng, o.hours)
  let days = o.daysAhead
  while (slotStartOf(chinaDate(o.now, days), hour).getTime() < o.now.getTime() + o.leadMs + LEAD_MARGIN_MS) days++
  return { date: chinaDate(o.now, days), hour }
}

/**
 * A booking for `enterprise` at one of its offices that takes bookings, or undefined when none does: the category
 * from the mix, goods of that category (its own catalogue first), a night hour for fresh goods, 1–3 days ahead
 * (0–3 for AEO enterprises, 8 h lead time) and always outside the site's office hours.
 */
export function planAppointment(rng: Rng, p: PlanInput): CreateAppointment | undefined {
  const offices = p.enterprise.offices.filter((o) => p.sites.has(o))
  if (!offices.length) return undefined
  const site = p.sites.get(pick(rng, offices))!
  const category = p.category ?? drawCategory(rng, p.rates.categories)
  if (site.categories[category] === 'OFF') return undefined
  const off = offHours(site)
  const night = NIGHT_HOURS.filter((h) => off.includes(h))
  const hours = category === 'PERISHABLE' && night.length && rng() < p.rates.perishableAtNight ? night : off
  if (!hours.length) return undefined
  const aeo = p.enterprise.creditLevel === 'ADVANCED_CERTIFIED'
  const { date, hour } = planSlot(rng, {
    now: p.now,
    leadMs: leadTimeMs(p.enterprise.creditLevel),
    hours,
    daysAhead: aeo ? randInt(rng, 0, 3) : randInt(rng, 1, 3),
  })
  const chapters = CATEGORY_CHAPTERS[category]
  const own = p.enterprise.catalogue.filter((c) => !chapters.length || chapters.includes(c.slice(0, 2)))
  const pool = own.length
    ? own.map((c) => p.model.line(c)).filter((l) => l !== undefined)
    : chapters.flatMap((ch) => p.model.byChapter.get(ch) ?? [])
  if (!pool.length) return undefined
  const goods = new Map<string, string>()
  for (let i = randInt(rng, 1, 3); i > 0; i--) {
    const line = pick(rng, pool)
    goods.set(line.code, line.description.slice(0, 200).trim() || line.code)
  }
  const ieFlag = category === 'PERISHABLE' || rng() < 0.7 ? 'I' : 'E'
  const transportMode = site.code.startsWith('53') && rng() < 0.7 ? '4' : rng() < 0.25 ? '5' : '2'
  return {
    clientRef: p.clientRef,
    enterpriseCode: p.enterprise.customsCode,
    contactName: `${pick(rng, CONTACT_SURNAMES)}${pick(rng, CONTACT_GIVEN)}${rng() < 0.5 ? pick(rng, CONTACT_GIVEN) : ''}`,
    contactMobile: `1${pick(rng, ['3', '5', '8', '9'])}${String(randInt(rng, 0, 999_999_999)).padStart(9, '0')}`,
    service: category === 'DANGEROUS_GOODS' || rng() < 0.15 ? 'INSPECTION' : 'CLEARANCE',
    category,
    site: site.code,
    iePort: pick(rng, offices),
    ieFlag,
    goods: [...goods].map(([hsCode, name]) => ({ name, hsCode })),
    transportMode,
    date,
    hour,
    ...(rng() < p.rates.flexible ? { flexHours: randInt(rng, 1, 6) } : {}),
    reason: pick(rng, REASONS[category]),
  }
}

/** An enterprise of the simulation that can book. */
export interface AppointmentParty {
  sim: SimEnterprise
  session: Session
  demo?: boolean
}

interface Action {
  at: number
  kind: 'cancel' | 'reschedule' | 'explain'
  id: string
  party: AppointmentParty
}

/** Deps the traffic needs from the simulation run. */
export interface TrafficDeps {
  officer: Session
  parties: readonly AppointmentParty[]
  model: PriceModel
  rng: Rng
  /** Prefix of client references (seed and run id: never reused across runs). */
  refPrefix: string
  stats: AppointmentStats
  /** Counts a failed call as an HTTP error and reports it once (409: a race, not an error). */
  fail: (what: string, r: Res<unknown>) => void
  /** Reports a refusal once per kind (without counting it as an HTTP error). */
  note: (what: string, r: Res<unknown>) => void
  log: (msg: string) => void
}

/** Runs `fn` over `xs`, at most `limit` at a time. */
async function each<T>(xs: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, xs.length) }, async () => {
      while (next < xs.length) await fn(xs[next++]!)
    }),
  )
}

/**
 * Appointment traffic of one simulation run: {@link start} (the sites), then {@link run} until stopped (rosters, the
 * demo enterprise's bookings, then bookings at the rate and what follows them), then {@link windDown}.
 */
export class AppointmentTraffic {
  private readonly rates: AppointmentRates
  private readonly clock: Clock
  private readonly sites = new Map<string, Site>()
  private readonly actions: Action[] = []
  /** Bookings waiting for review, with when the officer first saw them (performance.now()). */
  private readonly seen = new Map<string, number>()
  /** Bookings an officer accepts whatever the reject rate (the demo enterprise's). */
  private readonly alwaysAccept = new Set<string>()
  private readonly rostered = new Set<string>()
  private readonly eligible: AppointmentParty[]
  private seq = 0
  private busy = 0

  constructor(
    private readonly d: TrafficDeps,
    private readonly o: AppointmentOptions = {},
  ) {
    this.rates = { ...DEFAULT_APPOINTMENT_RATES, ...o }
    this.clock = o.clock ?? { now: () => new Date() }
    // Discredited (失信) enterprises are refused; the simulated ones know it and do not ask.
    this.eligible = d.parties.filter(
      (p) => p.sim.creditLevel !== 'DISHONEST' && p.sim.creditLevel !== 'SERIOUSLY_DISHONEST',
    )
  }

  private now = () => this.clock.now()
  private ref = () => `${this.d.refPrefix}-A${++this.seq}`

  /** Loads the sites that take bookings; false: none (or the server does not know appointments). */
  async start(): Promise<boolean> {
    const r = await this.d.officer.call<{ items: Site[] }>('GET', '/api/v1/appointment-sites')
    if (r.status !== 200 || !r.body) {
      this.d.fail('appointment sites', r)
      return false
    }
    for (const s of r.body.items) this.sites.set(s.code, s)
    return this.sites.size > 0
  }

  /** Books at the rate, works due actions and reviews until `signal` aborts or `until` (performance.now()) passes. */
  async run(signal: AbortSignal, until: number): Promise<void> {
    // Rosters for the coming nights and the demo enterprise's bookings, beside the traffic.
    const setUp = Promise.all([this.roster(), this.demoBookings()])
    const start = performance.now()
    let scheduled = 0
    let lastReview = 0
    let lastRoster = performance.now()
    while (!signal.aborted && performance.now() < until) {
      const now = performance.now()
      let due = Math.floor(((now - start) / 60_000) * this.rates.perMinute) - scheduled
      if (due > 10) {
        scheduled += due - 10 // never a backlog: what the server could not take is skipped
        due = 10
      }
      const batch: Array<Promise<void>> = []
      for (; due > 0 && this.busy < 16; due--, scheduled++) batch.push(this.bookOne())
      await Promise.all([...batch, this.doActions(false)])
      if (now - lastReview >= 1000) {
        lastReview = now
        await this.review(false)
      }
      if (now - lastRoster >= 600_000) {
        lastRoster = now
        await this.roster()
      }
      await pause(Math.min(250, until - performance.now()), signal)
    }
    await setUp
  }

  /** After the run: the actions still due (cancellations, explanations) and a review of everything waiting. */
  async windDown(): Promise<void> {
    await this.doActions(true)
    await this.review(true)
  }

  private party(): AppointmentParty | undefined {
    return this.eligible.length ? pick(this.d.rng, this.eligible) : undefined
  }

  private async bookOne(): Promise<void> {
    const party = this.party()
    if (!party) return
    this.busy++
    try {
      const body = this.plan(party)
      if (!body) return
      const a = await this.create(party, body)
      if (!a) return
      this.follow(party, a)
    } finally {
      this.busy--
    }
  }

  private plan(party: AppointmentParty, category?: Category): CreateAppointment | undefined {
    return planAppointment(this.d.rng, {
      enterprise: party.sim,
      sites: this.sites,
      model: this.d.model,
      now: this.now(),
      rates: this.rates,
      clientRef: this.ref(),
      ...(category ? { category } : {}),
    })
  }

  private async create(party: AppointmentParty, body: CreateAppointment): Promise<Appointment | undefined> {
    const r = await party.session.call<Appointment>('POST', '/api/v1/appointments', body)
    const s = this.d.stats
    if (r.status === 201 && r.body) {
      s.booked++
      if (r.body.status === 'ACCEPTED') s.autoAccepted++
      else s.pendingReview++
      return r.body
    }
    if (r.status === 409 && r.code === 'SLOT_FULL') s.full++
    else if (r.status >= 400 && r.status < 500) {
      s.refused++
      this.d.note('appointment', r)
    } else this.d.fail('appointment', r)
    return undefined
  }

  /** Schedules what the enterprise does later with a new booking: cancel it, or move it. */
  private follow(party: AppointmentParty, a: Appointment): void {
    const rng = this.d.rng
    const max = (this.o.actionDelaySec ?? 60) * 1000
    const at = performance.now() + max * (0.2 + 0.8 * rng())
    const x = rng()
    if (x < this.rates.cancel) this.actions.push({ at, kind: 'cancel', id: a.id, party })
    else if (x < this.rates.cancel + this.rates.reschedule)
      this.actions.push({ at, kind: 'reschedule', id: a.id, party })
  }

  private async doActions(all: boolean): Promise<void> {
    const now = performance.now()
    const due: Action[] = []
    for (let i = this.actions.length - 1; i >= 0; i--) {
      if (all || this.actions[i]!.at <= now) due.push(...this.actions.splice(i, 1))
    }
    await each(due, 4, (x) => this.act(x, all))
  }

  private async act(x: Action, final: boolean): Promise<void> {
    const s = this.d.stats
    const rng = this.d.rng
    const path = `/api/v1/appointments/${x.id}`
    if (x.kind === 'cancel') {
      const r = await x.party.session.call<Appointment>('POST', `${path}/cancel`, {
        reason: pick(rng, [
          '货物延误，改期另约',
          'Shipment delayed by the carrier',
          '客户取消订单',
          'Goods cleared at the border post instead',
        ]),
      })
      if (r.status !== 200 || !r.body) return r.status === 409 ? undefined : this.d.fail('appointment cancellation', r)
      s.cancelled++
      if (r.body.explanation) {
        s.cancelledAfterAcceptance++
        // Some explain in writing later, some leave the task open (due, then overdue) for the officers to chase.
        if (!x.party.demo && rng() < this.rates.explain) {
          const at = performance.now() + (this.o.explainDelaySec ?? 30) * 1000 * (final ? 0 : 0.5 + rng())
          if (final) await this.act({ ...x, kind: 'explain', at }, true)
          else this.actions.push({ ...x, kind: 'explain', at })
        }
      }
    } else if (x.kind === 'explain') {
      const r = await x.party.session.call<Appointment>('POST', `${path}/explanation`, {
        text: pick(rng, [
          '因承运船舶延误靠港，原预约时段无法到货，特此说明。',
          'The carrier postponed the arrival by two days; the goods will be booked again once the new ETA is confirmed.',
        ]),
      })
      if (r.status === 200) s.explained++
      else if (r.status !== 409) this.d.fail('appointment explanation', r)
    } else {
      const cur = await x.party.session.call<Appointment>('GET', path)
      if (cur.status !== 200 || !cur.body) return this.d.fail('appointment look-up', cur)
      if (!['PENDING', 'ACCEPTED', 'HELD'].includes(cur.body.status)) return
      const plan = this.plan(x.party, cur.body.category)
      if (!plan || (plan.date === cur.body.date && plan.hour === cur.body.hour)) return
      const r = await x.party.session.call<Appointment>('POST', `${path}/reschedule`, {
        date: plan.date,
        hour: plan.hour,
        ...(plan.flexHours !== undefined ? { flexHours: plan.flexHours } : {}),
        reason: pick(rng, ['船期调整', 'Vessel arrival moved', '卡车排班变更']),
      })
      if (r.status === 200) s.rescheduled++
      else if (r.status === 409) {
        if (r.code === 'SLOT_FULL') s.full++
      } else if (r.status >= 400 && r.status < 500) {
        s.refused++
        this.d.note('appointment reschedule', r)
      } else this.d.fail('appointment reschedule', r)
    }
  }

  /** The officer decides the bookings waiting for review that have waited long enough (all of them when `final`). */
  private async review(final: boolean): Promise<void> {
    const list = await this.d.officer.call<{ items: Appointment[] }>(
      'GET',
      '/api/v1/appointments?status=PENDING&limit=200',
    )
    if (list.status !== 200 || !list.body) return this.d.fail('appointment review queue', list)
    const now = performance.now()
    const wait = (this.o.reviewDelaySec ?? 20) * 1000
    const due: Appointment[] = []
    for (const a of list.body.items) {
      if (!this.seen.has(a.id)) this.seen.set(a.id, now)
      if (final || now - this.seen.get(a.id)! >= wait) due.push(a)
    }
    const rng = this.d.rng
    await each(due, 4, async (a) => {
      const reject = !this.alwaysAccept.has(a.id) && rng() < this.rates.reject
      const r = reject
        ? await this.d.officer.call<Appointment>('POST', `/api/v1/appointments/${a.id}/reject`, {
            reason: pick(rng, [
              '不属于紧急通关范围，请在工作时间办理',
              'Not urgent: please clear during office hours',
              '单证不齐',
            ]),
          })
        : await this.d.officer.call<Appointment>('POST', `/api/v1/appointments/${a.id}/accept`, {
            note: '已安排值班关员',
          })
      this.seen.delete(a.id)
      if (r.status === 200) {
        if (reject) this.d.stats.rejected++
        else this.d.stats.accepted++
      } else if (r.status !== 409 && r.status !== 404)
        this.d.fail(`appointment ${reject ? 'rejection' : 'acceptance'}`, r)
    })
  }

  /**
   * Duty rosters: two officers on duty at each off-hours slot of the coming three China days, at the sites of the
   * simulated enterprises (each site-day once per run; today only for the hours still ahead).
   */
  private async roster(): Promise<void> {
    const used = new Set(this.eligible.flatMap((p) => p.sim.offices).filter((o) => this.sites.has(o)))
    const now = this.now()
    const jobs: Array<{ site: Site; date: string; hours: number[] }> = []
    for (const code of [...used].sort()) {
      const site = this.sites.get(code)!
      for (let d = 0; d <= 3; d++) {
        const date = chinaDate(now, d)
        const key = `${code}/${date}`
        if (this.rostered.has(key)) continue
        const hours = offHours(site).filter((h) => slotStartOf(date, h).getTime() > now.getTime())
        if (hours.length) jobs.push({ site, date, hours })
        this.rostered.add(key)
      }
    }
    await each(jobs, 4, async (j) => {
      const first = hash32(`${j.site.code}/${j.date}`) % DUTY_NAMES.length
      const officers = [0, 1].map((i) => ({
        name: DUTY_NAMES[(first + i * 3) % DUTY_NAMES.length]!,
        phone: `0755-8${String(1000000 + ((first * 7919 + i * 104729) % 9000000)).slice(0, 7)}`,
      }))
      const r = await this.d.officer.call('PUT', '/api/v1/appointment-slots', {
        site: j.site.code,
        date: j.date,
        hours: j.hours,
        officers,
      })
      if (r.status === 200) this.d.stats.rostered++
      else this.d.fail('appointment roster', r)
    })
  }

  /**
   * The demo enterprise's own bookings, made when it has fewer than `demoBookings`: fresh goods accepted at once,
   * an urgent one for the officer to accept, one cancelled after acceptance (its explanation left due for the
   * person at the portal to write) and one moved to another night.
   */
  private async demoBookings(): Promise<void> {
    const demo = this.eligible.find((p) => p.demo)
    const want = this.o.demoBookings ?? 4
    if (!demo || want <= 0) return
    const have = await demo.session.call<{ total: number }>('GET', '/api/v1/appointments?limit=1')
    if (have.status !== 200 || !have.body) return this.d.fail('demo appointments', have)
    const script: Array<{ category: Category; then?: Action['kind'] }> = [
      { category: 'PERISHABLE' },
      { category: 'OTHER_URGENT' },
      { category: 'PERISHABLE', then: 'cancel' },
      { category: 'DANGEROUS_GOODS', then: 'reschedule' },
    ]
    for (let i = have.body.total; i < want; i++) {
      const step = script[i % script.length]!
      const body = this.plan(demo, step.category)
      if (!body) continue
      const a = await this.create(demo, body)
      if (!a) continue
      if (a.status === 'PENDING') this.alwaysAccept.add(a.id)
      if (step.then) this.actions.push({ at: performance.now() + 1000, kind: step.then, id: a.id, party: demo })
    }
  }
}
