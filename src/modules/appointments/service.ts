/**
 * Appointment clearance (预约通关): booking rules, slot allocation, decisions and the figures. No HTTP here.
 */
import type { Db, Tx } from '../../db/index.js'
import { conflict, KouanError, notFound, validationFailed, type ErrorItem } from '../../errors.js'
import { appendAudit } from '../../shared/audit.js'
import type { Clock, Ids } from '../../shared/clock.js'
import { canonicalJson, sha256Hex } from '../../shared/signing.js'
import { actorRef, requireRole, type Actor } from '../auth/index.js'
import { releaseFigures } from '../declarations/index.js'
import { enqueueWebhook } from '../ecommerce/index.js'
import { findEnterprise, type Enterprise } from '../enterprises/index.js'
import type { Reference } from '../reference/index.js'
import {
  addDays,
  chinaDateHour,
  inOfficeHours,
  leadHours,
  localSlot,
  officialCalendar,
  slotStart,
  type Calendar,
} from './calendar.js'
import * as repo from './repo.js'
import type { AppointmentRow, SiteRow } from './repo.js'
import {
  ACTIVE_STATUSES,
  EXPLANATION_DAYS,
  type Appointment,
  type AppointmentDetail,
  type AppointmentStatus,
  type Category,
  type CreateAppointment,
  type ListAppointmentsQuery,
  type OfficerOnDuty,
  type PutSite,
  type PutSlots,
  type Reschedule,
  type Site,
  type SlotDay,
  type Stats,
} from './schema.js'

export interface Deps {
  db: Db
  clock: Clock
  ids: Ids
  reference: Reference
  /** The official calendar by default; tests give their own supplement. */
  calendar?: Calendar
}

const HOUR_MS = 3600_000
const DAY_MS = 24 * HOUR_MS
/** Longest period the figures cover. */
export const STATS_MAX_DAYS = 92

/**
 * Sites change rarely and every booking reads its own: each process keeps them for {@link SITE_CACHE_MS} (wall time:
 * freshness of a cache, not domain time), dropped at once when this process changes one; another process's change
 * is seen within that time.
 */
export const SITE_CACHE_MS = 2000
const siteCache = new WeakMap<object, { at: number; sites: Map<string, SiteRow> }>()
async function sitesOf(deps: Pick<Deps, 'db'>): Promise<Map<string, SiteRow>> {
  const hit = siteCache.get(deps.db)
  const now = Date.now()
  if (hit && now - hit.at < SITE_CACHE_MS) return hit.sites
  const sites = new Map((await repo.listSites(deps.db)).map((s) => [s.code, s]))
  siteCache.set(deps.db, { at: now, sites })
  return sites
}

const siteName = (ref: Reference, code: string) => ref.customsOffice(code)?.name ?? code
const calendarOf = (deps: Deps) => deps.calendar ?? officialCalendar()

// ---- views ------------------------------------------------------------------------------------------------------

function view(
  deps: Pick<Deps, 'reference'>,
  a: AppointmentRow,
  site: SiteRow | undefined,
  roster: OfficerOnDuty[],
  now: Date,
): Appointment {
  const start = new Date(a.slotStart)
  const end = new Date(start.getTime() + HOUR_MS)
  const { date, hour } = chinaDateHour(start)
  const name = siteName(deps.reference, a.site)
  return {
    id: a.id,
    number: a.number,
    clientRef: a.clientRef,
    enterpriseId: a.enterpriseId,
    enterpriseCode: a.enterpriseCode,
    enterpriseName: a.enterpriseName,
    status: a.status,
    service: a.service as Appointment['service'],
    category: a.category as Category,
    contactName: a.contactName,
    contactMobile: a.contactMobile,
    site: a.site,
    siteName: name,
    iePort: a.iePort,
    iePortName: siteName(deps.reference, a.iePort),
    ieFlag: a.ieFlag,
    goods: a.goods,
    transportMode: a.transportMode,
    slotStart: start.toISOString(),
    slotEnd: end.toISOString(),
    date,
    hour,
    reason: a.reason,
    declarations: a.declarations,
    manifests: a.manifests,
    receipt:
      a.status === 'ACCEPTED' && a.acceptedAt
        ? {
            appointmentNo: a.number,
            acceptedAt: a.acceptedAt,
            acceptedBy: a.acceptedBy ?? 'auto',
            site: a.site,
            siteName: name,
            slotStart: start.toISOString(),
            slotEnd: end.toISOString(),
            localTime: localSlot(start),
            dutyOfficers: roster,
            dutyPhone: site?.dutyPhone ?? '12360',
          }
        : null,
    lastReason: a.lastReason,
    explanation: a.explanationDue
      ? {
          dueAt: a.explanationDue,
          submittedAt: a.explainedAt,
          text: a.explanation,
          overdue: (a.explainedAt ? new Date(a.explainedAt) : now) > new Date(a.explanationDue),
        }
      : null,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    version: a.version,
  }
}

async function views(deps: Deps, rows: AppointmentRow[]): Promise<Appointment[]> {
  const sites = await sitesOf(deps)
  const accepted = rows.filter((r) => r.status === 'ACCEPTED').map((r) => ({ site: r.site, start: r.slotStart }))
  const roster = await repo.rosters(deps.db, accepted)
  const now = deps.clock.now()
  return rows.map((r) => view(deps, r, sites.get(r.site), roster.get(`${r.site}|${r.slotStart}`) ?? [], now))
}

const oneView = async (deps: Deps, row: AppointmentRow) => (await views(deps, [row]))[0]!

// ---- checks -----------------------------------------------------------------------------------------------------

function operator(actor: Actor): Extract<Actor, { kind: 'card' }> {
  requireRole(actor, 'operator')
  return actor as Extract<Actor, { kind: 'card' }>
}

/** An appointment the actor may see: officers and admins all, operators their enterprise's; otherwise 404. */
async function visible(deps: Deps, actor: Actor, id: string): Promise<AppointmentRow> {
  const a = await repo.findAppointment(deps.db, id)
  if (!a || (actor.kind === 'card' && actor.enterpriseId !== a.enterpriseId))
    throw notFound('APPOINTMENT_NOT_FOUND', `appointment ${id}`, '/params/id')
  return a
}

async function siteOrThrow(deps: Deps, code: string, pointer: string): Promise<SiteRow> {
  const site = (await sitesOf(deps)).get(code)
  if (!site) {
    const office = deps.reference.customsOffice(code)
    throw validationFailed([
      {
        code: 'UNKNOWN_SITE',
        message: office
          ? `customs office ${code} (${office.name}) takes no appointments`
          : `no customs office ${code} takes appointments`,
        pointer,
      },
    ])
  }
  return site
}

/**
 * The slots a booking for (date, hour) may take, in order: the wanted one, then up to `flex` later hours outside
 * office hours. Throws when the wanted slot is in the past, too soon for the enterprise's lead time, or in office
 * hours. Pure apart from the calendar.
 */
export function candidateSlots(
  cal: Calendar,
  site: Pick<SiteRow, 'officeOpen' | 'officeClose'>,
  want: { date: string; hour: number; flexHours?: number | undefined },
  creditLevel: string,
  now: Date,
): string[] {
  const start = slotStart(want.date, want.hour)
  const hours = { open: site.officeOpen, close: site.officeClose }
  if (start.getTime() <= now.getTime())
    throw validationFailed([
      {
        code: 'SLOT_IN_PAST',
        message: `${localSlot(start)} has already begun or passed`,
        pointer: '/body/date',
      },
    ])
  const lead = leadHours(creditLevel)
  if (start.getTime() - now.getTime() < lead * HOUR_MS)
    throw validationFailed([
      {
        code: 'LEAD_TIME_TOO_SHORT',
        message: `bookings arrive at least ${lead} h before the appointed time${lead === 8 ? ' (advanced-certified enterprise)' : ' (8 h for advanced-certified enterprises)'}: the earliest slot now is ${localSlot(new Date(Math.ceil((now.getTime() + lead * HOUR_MS) / HOUR_MS) * HOUR_MS))}`,
        pointer: '/body/hour',
      },
    ])
  const day = cal.day(want.date)
  if (inOfficeHours(day, want.hour, hours))
    throw validationFailed([
      {
        code: 'WITHIN_OFFICE_HOURS',
        message: `${want.date} is a working day with office hours ${site.officeOpen}:00–${site.officeClose}:00 China time: no appointment is needed then`,
        pointer: '/body/hour',
      },
    ])
  const out = [start.toISOString()]
  for (let k = 1; k <= (want.flexHours ?? 0); k++) {
    const s = new Date(start.getTime() + k * HOUR_MS)
    const local = chinaDateHour(s)
    if (!inOfficeHours(cal.day(local.date), local.hour, hours)) out.push(s.toISOString())
  }
  return out
}

function createProblems(deps: Deps, body: CreateAppointment, site: SiteRow): ErrorItem[] {
  const problems: ErrorItem[] = []
  if (!deps.reference.customsOffice(body.iePort))
    problems.push({ code: 'UNKNOWN_PORT', message: `no customs office ${body.iePort}`, pointer: '/body/iePort' })
  body.goods.forEach((g, i) => {
    if (!deps.reference.tariffLine(g.hsCode))
      problems.push({
        code: 'UNKNOWN_HS_CODE',
        message: `${g.hsCode} is not a line of China's tariff`,
        pointer: `/body/goods/${i}/hsCode`,
      })
  })
  if (!deps.reference.transportMode(body.transportMode))
    problems.push({
      code: 'UNKNOWN_TRANSPORT_MODE',
      message: `no transport mode ${body.transportMode}`,
      pointer: '/body/transportMode',
    })
  if ((site.categories[body.category] ?? 'OFF') === 'OFF')
    problems.push({
      code: 'CATEGORY_NOT_TAKEN',
      message: `site ${site.code} takes no appointments for ${body.category}`,
      pointer: '/body/category',
    })
  return problems
}

// ---- changes ----------------------------------------------------------------------------------------------------

interface Change {
  action: string
  from: AppointmentStatus | null
  to: AppointmentStatus
  reason: string | null
  /** Who made it (default: the caller). */
  actor?: string
  data?: Record<string, unknown>
}

/**
 * Records changes of one appointment in the transaction, in order: timeline rows, audit events (hash chain), webhook
 * calls to the enterprise — one statement each for all of them.
 */
async function record(tx: Tx, a: AppointmentRow, changes: Change[], actor: string, at: Date, slot: string) {
  const iso = at.toISOString()
  await repo.insertHistory(
    tx,
    changes.map((c) => ({
      appointmentId: a.id,
      at: iso,
      actor: c.actor ?? actor,
      action: c.action,
      fromStatus: c.from,
      toStatus: c.to,
      slotStart: slot,
      reason: c.reason,
    })),
  )
  for (const c of changes)
    appendAudit(tx, {
      at,
      actor: c.actor ?? actor,
      action: `APPOINTMENT_${c.action}`,
      entityType: 'appointment',
      entityId: a.id,
      data: { number: a.number, from: c.from, to: c.to, slotStart: slot, reason: c.reason, ...c.data },
    })
  await enqueueWebhook(
    tx,
    a.enterpriseId,
    changes.map((c) => ({
      event: `appointment.${c.action.toLowerCase()}`,
      appointment: { id: a.id, number: a.number, clientRef: a.clientRef, status: c.to, site: a.site, slotStart: slot },
      reason: c.reason,
      at: iso,
    })),
    iso,
  )
}

/** Signals a rolled-back insert that met an existing booking under the same client reference. */
class Replay extends Error {}

/**
 * An operator books for its own enterprise. The same client reference with the same request returns the original
 * (200, nothing written) — also when the request would now be refused (its slot full or too near) — and with another
 * request it is a 409. The original is looked for only when the booking cannot go ahead, so a new booking costs no
 * extra read: two statements before its transaction (the card's session, the enterprise), five in it.
 */
export async function createAppointment(
  deps: Deps,
  actor: Actor,
  body: CreateAppointment,
): Promise<{ status: 200 | 201; appointment: Appointment }> {
  const op = operator(actor)
  const enterprise = await findEnterprise(deps.db, op.enterpriseId)
  if (!enterprise || enterprise.customsCode !== body.enterpriseCode)
    throw new KouanError('FORBIDDEN', 403, 'operators book only for their own enterprise', {
      pointer: '/body/enterpriseCode',
    })
  const requestHash = sha256Hex(canonicalJson({ ...body, flexHours: body.flexHours ?? 0 }))
  const replay = async () => {
    const prior = await repo.findByClientRef(deps.db, enterprise.id, body.clientRef)
    if (!prior) return undefined
    if (prior.requestHash !== requestHash)
      throw conflict(
        'CLIENT_REF_REUSED',
        `client reference ${body.clientRef} already names another booking (${prior.number})`,
        '/body/clientRef',
      )
    return { status: 200 as const, appointment: await oneView(deps, prior) }
  }
  try {
    return { status: 201, appointment: await book(deps, op, enterprise, body, requestHash) }
  } catch (e) {
    const earlier = await replay()
    if (earlier) return earlier
    throw e
  }
}

async function book(
  deps: Deps,
  op: Extract<Actor, { kind: 'card' }>,
  enterprise: Enterprise,
  body: CreateAppointment,
  requestHash: string,
): Promise<Appointment> {
  if (enterprise.creditLevel === 'DISHONEST' || enterprise.creditLevel === 'SERIOUSLY_DISHONEST')
    throw new KouanError(
      'ENTERPRISE_DISCREDITED',
      403,
      `discredited (失信) enterprises cannot book appointment clearance (credit level ${enterprise.creditLevel})`,
    )
  const site = await siteOrThrow(deps, body.site, '/body/site')
  const problems = createProblems(deps, body, site)
  if (problems.length) throw validationFailed(problems)
  const now = deps.clock.now()
  const candidates = candidateSlots(calendarOf(deps), site, body, enterprise.creditLevel, now)
  const policy = site.categories[body.category]
  const status: AppointmentStatus = policy === 'AUTO' ? 'ACCEPTED' : 'PENDING'
  const at = now.toISOString()
  const row = await deps.db.transaction(async (tx) => {
    const taken = await repo.takeFirstPlace(tx, site.code, candidates, site.slotCapacity, at)
    if (!taken)
      throw conflict(
        'SLOT_FULL',
        candidates.length > 1
          ? `no slot from ${localSlot(new Date(candidates[0]!))} within ${body.flexHours} h has room at ${site.code}`
          : `${localSlot(new Date(candidates[0]!))} at ${site.code} is fully booked (set flexHours to take a later slot)`,
        '/body/hour',
      )
    const seq = await repo.nextNumber(tx, site.code, body.date)
    const fresh: repo.NewAppointment = {
      id: deps.ids.uuid(),
      number: `${site.code}${body.date.replaceAll('-', '')}${String(seq).padStart(4, '0')}`,
      enterpriseId: enterprise.id,
      enterpriseCode: enterprise.customsCode,
      enterpriseName: enterprise.name,
      clientRef: body.clientRef,
      cardNo: op.cardNo,
      status,
      service: body.service,
      category: body.category,
      site: site.code,
      slotStart: taken.startsAt,
      iePort: body.iePort,
      ieFlag: body.ieFlag,
      transportMode: body.transportMode,
      contactName: body.contactName,
      contactMobile: body.contactMobile,
      goods: body.goods,
      reason: body.reason,
      declarations: body.declarations ?? [],
      manifests: body.manifests ?? [],
      requestHash,
      acceptedAt: status === 'ACCEPTED' ? at : null,
      acceptedBy: status === 'ACCEPTED' ? 'auto' : null,
      createdAt: at,
    }
    if (!(await repo.insertAppointment(tx, fresh))) throw new Replay()
    const stored: AppointmentRow = {
      ...fresh,
      lastReason: null,
      explanationDue: null,
      explanation: null,
      explainedAt: null,
      updatedAt: at,
      version: 1,
    }
    const changes: Change[] = [
      {
        action: 'BOOKED',
        from: null,
        to: 'PENDING',
        reason: body.reason,
        data: { category: body.category, wanted: candidates[0] },
      },
    ]
    if (status === 'ACCEPTED')
      changes.push({
        action: 'ACCEPTED',
        from: 'PENDING',
        to: 'ACCEPTED',
        reason: `automatic review: ${body.category} at ${site.code}`,
        actor: 'system:auto-review',
      })
    await record(tx, stored, changes, actorRef(op), now, taken.startsAt)
    return { stored, officers: taken.officers }
  })
  return view(deps, row.stored, site, row.officers, now)
}

export async function getAppointment(deps: Deps, actor: Actor, id: string): Promise<AppointmentDetail> {
  const a = await visible(deps, actor, id)
  return { ...(await oneView(deps, a)), timeline: await repo.timeline(deps.db, id) }
}

export async function listAppointments(
  deps: Deps,
  actor: Actor,
  q: ListAppointmentsQuery,
): Promise<{ items: Appointment[]; total: number }> {
  const from = q.date ? slotStart(q.date, 0).toISOString() : undefined
  const to = q.date ? slotStart(addDays(q.date, 1), 0).toISOString() : undefined
  const { rows, total } = await repo.listAppointments(
    deps.db,
    {
      enterpriseId: actor.kind === 'card' ? actor.enterpriseId : undefined,
      site: q.site,
      from,
      to,
      status: q.status,
      explanation: q.explanation,
      now: deps.clock.now().toISOString(),
    },
    q.limit,
    q.offset,
  )
  return { items: await views(deps, rows), total }
}

/**
 * Runs a change of one appointment: locks it, checks who may and from which states, applies `fn` (which may move
 * places in slots) and records the change. Returns the appointment after it.
 */
async function change(
  deps: Deps,
  actor: Actor,
  id: string,
  allowed: readonly AppointmentStatus[],
  fn: (tx: Tx, a: AppointmentRow, at: Date) => Promise<{ change: Change; update: repo.AppointmentChange }>,
): Promise<Appointment> {
  const now = deps.clock.now()
  await deps.db.transaction(async (tx) => {
    const a = await repo.lockAppointment(tx, id)
    if (!a || (actor.kind === 'card' && actor.enterpriseId !== a.enterpriseId))
      throw notFound('APPOINTMENT_NOT_FOUND', `appointment ${id}`, '/params/id')
    if (!allowed.includes(a.status))
      throw conflict('INVALID_STATE', `appointment ${a.number} is ${a.status}; this needs ${allowed.join(' or ')}`)
    const { change: c, update } = await fn(tx, a, now)
    await repo.updateAppointment(tx, id, update, now.toISOString())
    await record(tx, a, [c], actorRef(actor), now, update.slotStart ?? a.slotStart)
  })
  return oneView(deps, (await repo.findAppointment(deps.db, id))!)
}

/** The enterprise moves its booking to another slot (the old place is freed); the site's policy decides again. */
export async function rescheduleAppointment(deps: Deps, actor: Actor, id: string, body: Reschedule) {
  const op = operator(actor)
  const enterprise = await findEnterprise(deps.db, op.enterpriseId)
  const current = await visible(deps, actor, id)
  const site = await siteOrThrow(deps, current.site, '/params/id')
  const candidates = candidateSlots(
    calendarOf(deps),
    site,
    body,
    enterprise?.creditLevel ?? 'REGULAR',
    deps.clock.now(),
  )
  return change(deps, actor, id, ['PENDING', 'ACCEPTED'], async (tx, a, at) => {
    const iso = at.toISOString()
    await repo.lockSlots(tx, a.site, [...new Set([a.slotStart, ...candidates])].sort(), site.slotCapacity, iso)
    await repo.freePlace(tx, a.site, a.slotStart, iso)
    const taken = await repo.takePlace(tx, a.site, candidates, iso)
    if (!taken)
      throw conflict('SLOT_FULL', `${localSlot(new Date(candidates[0]!))} at ${a.site} is fully booked`, '/body/hour')
    const auto = site.categories[a.category] === 'AUTO'
    const to: AppointmentStatus = auto ? 'ACCEPTED' : 'PENDING'
    return {
      change: { action: 'RESCHEDULED', from: a.status, to, reason: body.reason, data: { fromSlot: a.slotStart } },
      update: {
        status: to,
        slotStart: taken,
        acceptedAt: auto ? iso : null,
        acceptedBy: auto ? 'auto' : null,
        lastReason: body.reason,
      },
    }
  })
}

/** The enterprise cancels; after acceptance it owes a written explanation within 5 days. */
export async function cancelAppointment(deps: Deps, actor: Actor, id: string, reason: string) {
  operator(actor)
  return change(deps, actor, id, ACTIVE_STATUSES, async (tx, a, at) => {
    await repo.freePlace(tx, a.site, a.slotStart, at.toISOString())
    const owes = a.status === 'ACCEPTED'
    return {
      change: { action: 'CANCELLED', from: a.status, to: 'CANCELLED', reason },
      update: {
        status: 'CANCELLED',
        lastReason: reason,
        ...(owes ? { explanationDue: new Date(at.getTime() + EXPLANATION_DAYS * DAY_MS).toISOString() } : {}),
      },
    }
  })
}

/** The enterprise's written explanation of a cancellation after acceptance (late ones are kept, and flagged). */
export async function explainCancellation(deps: Deps, actor: Actor, id: string, text: string) {
  operator(actor)
  return change(deps, actor, id, ['CANCELLED'], async (_tx, a, at) => {
    if (!a.explanationDue || a.explainedAt)
      throw conflict(
        'EXPLANATION_NOT_DUE',
        a.explainedAt
          ? `appointment ${a.number}'s explanation was given already`
          : `appointment ${a.number} owes no explanation`,
      )
    return {
      change: {
        action: 'EXPLAINED',
        from: 'CANCELLED',
        to: 'CANCELLED',
        reason: null,
        data: { late: at > new Date(a.explanationDue) },
      },
      update: { status: 'CANCELLED', explanation: text, explainedAt: at.toISOString() },
    }
  })
}

export type OfficerAction = 'accept' | 'reject' | 'hold' | 'remove'
const OFFICER_ACTIONS: Record<
  OfficerAction,
  { from: readonly AppointmentStatus[]; to: AppointmentStatus; frees: boolean; action: string }
> = {
  accept: { from: ['PENDING', 'HELD'], to: 'ACCEPTED', frees: false, action: 'ACCEPTED' },
  reject: { from: ['PENDING', 'HELD'], to: 'REJECTED', frees: true, action: 'REJECTED' },
  hold: { from: ['PENDING', 'ACCEPTED'], to: 'HELD', frees: false, action: 'HELD' },
  remove: { from: ['PENDING', 'ACCEPTED', 'HELD'], to: 'REMOVED', frees: true, action: 'REMOVED' },
}

/** An officer decides: accept, reject, hold or remove (every one but accept with a recorded reason). */
export async function officerAction(deps: Deps, actor: Actor, id: string, what: OfficerAction, reason: string | null) {
  const rule = OFFICER_ACTIONS[what]
  return change(deps, actor, id, rule.from, async (tx, a, at) => {
    const iso = at.toISOString()
    if (rule.frees) await repo.freePlace(tx, a.site, a.slotStart, iso)
    return {
      change: { action: rule.action, from: a.status, to: rule.to, reason },
      update: {
        status: rule.to,
        lastReason: reason,
        ...(what === 'accept' ? { acceptedAt: iso, acceptedBy: actorRef(actor) } : {}),
      },
    }
  })
}

// ---- sites and slots --------------------------------------------------------------------------------------------

const siteView = (ref: Reference, s: SiteRow): Site => ({ ...s, name: siteName(ref, s.code) })

export async function listSites(deps: Deps): Promise<Site[]> {
  return [...(await sitesOf(deps)).values()].map((s) => siteView(deps.reference, s))
}

/** An admin sets a site's office hours, default capacity, duty phone and category policies (creating the site). */
export async function putSite(deps: Deps, actor: Actor, code: string, body: PutSite): Promise<Site> {
  if (!deps.reference.customsOffice(code))
    throw validationFailed([{ code: 'UNKNOWN_PORT', message: `no customs office ${code}`, pointer: '/params/code' }])
  if (body.officeOpen >= body.officeClose)
    throw validationFailed([
      {
        code: 'OFFICE_HOURS_INVALID',
        message: 'office hours must open before they close',
        pointer: '/body/officeClose',
      },
    ])
  const now = deps.clock.now()
  const row: SiteRow = { code, ...body }
  await deps.db.transaction(async (tx) => {
    await repo.upsertSite(tx, row, now.toISOString())
    appendAudit(tx, {
      at: now,
      actor: actorRef(actor),
      action: 'APPOINTMENT_SITE_SET',
      entityType: 'appointment_site',
      entityId: code,
      data: { ...body },
    })
  })
  siteCache.delete(deps.db)
  return siteView(deps.reference, row)
}

/** The 24 slots of a China date at a site: capacity, places taken, roster; officers also see the bookings. */
export async function slotDay(deps: Deps, actor: Actor, code: string, date: string): Promise<SlotDay> {
  const site = await siteOrThrow(deps, code, '/query/site')
  const day = calendarOf(deps).day(date)
  const from = slotStart(date, 0).toISOString()
  const to = slotStart(addDays(date, 1), 0).toISOString()
  const stored = new Map((await repo.slotsBetween(deps.db, code, from, to)).map((s) => [s.startsAt, s]))
  const bookings = actor.kind === 'user' ? await repo.bookingsBetween(deps.db, code, from, to) : []
  const hours = { open: site.officeOpen, close: site.officeClose }
  return {
    site: code,
    siteName: siteName(deps.reference, code),
    date,
    calendar: day,
    officeHours: day.workday ? hours : null,
    slots: Array.from({ length: 24 }, (_, hour) => {
      const start = slotStart(date, hour).toISOString()
      const s = stored.get(start)
      return {
        hour,
        startsAt: start,
        endsAt: slotStart(date, hour + 1).toISOString(),
        bookable: !inOfficeHours(day, hour, hours),
        capacity: s?.capacity ?? site.slotCapacity,
        booked: s?.booked ?? 0,
        officers: s?.officers ?? [],
        ...(actor.kind === 'user'
          ? {
              bookings: bookings.filter((b) => b.slotStart === start).map(({ slotStart: _s, ...b }) => b),
            }
          : {}),
      }
    }),
  }
}

/** Officers set the capacity and/or the roster of some hours of a day; never below the places already taken. */
export async function putSlots(deps: Deps, actor: Actor, body: PutSlots): Promise<SlotDay> {
  const site = await siteOrThrow(deps, body.site, '/body/site')
  const now = deps.clock.now()
  const starts = [...body.hours].sort((a, b) => a - b).map((h) => slotStart(body.date, h).toISOString())
  await deps.db.transaction(async (tx) => {
    const over = await repo.setSlots(
      tx,
      site.code,
      starts,
      { capacity: body.capacity, officers: body.officers },
      site.slotCapacity,
      now.toISOString(),
    )
    if (over.length)
      throw conflict(
        'CAPACITY_BELOW_BOOKED',
        `${over.map((s) => localSlot(new Date(s))).join(', ')} already hold more bookings than ${body.capacity}`,
        '/body/capacity',
      )
    appendAudit(tx, {
      at: now,
      actor: actorRef(actor),
      action: 'APPOINTMENT_SLOTS_SET',
      entityType: 'appointment_site',
      entityId: site.code,
      data: { date: body.date, hours: body.hours, capacity: body.capacity ?? null, officers: body.officers ?? null },
    })
  })
  return slotDay(deps, actor, site.code, body.date)
}

// ---- figures ----------------------------------------------------------------------------------------------------

/**
 * Bookings per hour and status, releases outside office hours, and mean lodging→release minutes for the
 * declarations accepted bookings name versus the others, over China dates [from, to] (both included).
 */
export async function appointmentStats(
  deps: Deps,
  q: { site?: string | undefined; from: string; to: string },
): Promise<Stats> {
  const fromAt = slotStart(q.from, 0)
  const toAt = slotStart(addDays(q.to, 1), 0)
  const days = (toAt.getTime() - fromAt.getTime()) / DAY_MS
  if (days < 1 || days > STATS_MAX_DAYS)
    throw validationFailed([
      {
        code: 'PERIOD_INVALID',
        message: `the period runs from a date to the same or a later one, ${STATS_MAX_DAYS} days at most`,
        pointer: '/query/to',
      },
    ])
  const site = q.site ?? null
  const figures = await repo.bookingFigures(deps.db, fromAt.toISOString(), toAt.toISOString(), site)
  const releases = await releaseFigures(deps.db, {
    from: fromAt.toISOString(),
    to: toAt.toISOString(),
    district: site,
    booked: figures.bookedEntries,
  })
  const sites = await sitesOf(deps)
  const cal = calendarOf(deps)
  let afterHours = 0
  for (const r of releases.byHour) {
    const s = sites.get(r.district)
    const hours = s ? { open: s.officeOpen, close: s.officeClose } : { open: 9, close: 17 }
    if (!inOfficeHours(cal.day(r.date), r.hour, hours)) afterHours += r.n
  }
  const byHour = Array.from({ length: 24 }, () => 0)
  for (const r of figures.byHour) byHour[r.hour] = r.n
  const byStatus: Record<string, number> = {}
  for (const r of figures.byStatus) byStatus[r.status] = r.n
  return {
    site,
    from: q.from,
    to: q.to,
    bookingsByHour: byHour,
    byStatus,
    afterHoursReleases: afterHours,
    release: { booked: releases.booked, unbooked: releases.unbooked },
  }
}
