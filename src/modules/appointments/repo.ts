import type { Queryable, Tx } from '../../db/index.js'
import type { AppointmentStatus, CategoryPolicy, OfficerOnDuty, TimelineEntry } from './schema.js'

/** An appointment as stored (times as ISO strings). */
export interface AppointmentRow {
  id: string
  number: string
  enterpriseId: string
  enterpriseCode: string
  enterpriseName: string
  clientRef: string
  cardNo: string
  status: AppointmentStatus
  service: string
  category: string
  site: string
  slotStart: string
  iePort: string
  ieFlag: string
  transportMode: string
  contactName: string
  contactMobile: string
  goods: Array<{ name: string; hsCode: string }>
  reason: string
  declarations: string[]
  manifests: string[]
  requestHash: string
  acceptedAt: string | null
  acceptedBy: string | null
  lastReason: string | null
  explanationDue: string | null
  explanation: string | null
  explainedAt: string | null
  createdAt: string
  updatedAt: string
  version: number
}

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString()
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v))

const COLS = `id, number, enterprise_id, enterprise_code, enterprise_name, client_ref, card_no, status, service, category,
  site, slot_start, ie_port, ie_flag, transport_mode, contact_name, contact_mobile, goods, reason, declarations, manifests,
  request_hash, accepted_at, accepted_by, last_reason, explanation_due, explanation, explained_at, created_at,
  updated_at, version`

function toRow(r: Record<string, unknown>): AppointmentRow {
  return {
    id: r.id as string,
    number: r.number as string,
    enterpriseId: r.enterprise_id as string,
    enterpriseCode: r.enterprise_code as string,
    enterpriseName: r.enterprise_name as string,
    clientRef: r.client_ref as string,
    cardNo: r.card_no as string,
    status: r.status as AppointmentStatus,
    service: r.service as string,
    category: r.category as string,
    site: r.site as string,
    slotStart: iso(r.slot_start),
    iePort: r.ie_port as string,
    ieFlag: r.ie_flag as string,
    transportMode: r.transport_mode as string,
    contactName: r.contact_name as string,
    contactMobile: r.contact_mobile as string,
    goods: r.goods as AppointmentRow['goods'],
    reason: r.reason as string,
    declarations: (r.declarations as string[]) ?? [],
    manifests: (r.manifests as string[]) ?? [],
    requestHash: r.request_hash as string,
    acceptedAt: isoOrNull(r.accepted_at),
    acceptedBy: (r.accepted_by as string | null) ?? null,
    lastReason: (r.last_reason as string | null) ?? null,
    explanationDue: isoOrNull(r.explanation_due),
    explanation: (r.explanation as string | null) ?? null,
    explainedAt: isoOrNull(r.explained_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    version: Number(r.version),
  }
}

export async function findAppointment(db: Queryable, id: string): Promise<AppointmentRow | undefined> {
  const [r] = await db.query(`select ${COLS} from appointments where id = $1`, [id])
  return r && toRow(r)
}

/** The appointment, locked for the rest of the transaction. */
export async function lockAppointment(tx: Tx, id: string): Promise<AppointmentRow | undefined> {
  const [r] = await tx.query(`select ${COLS} from appointments where id = $1 for update`, [id])
  return r && toRow(r)
}

export async function findByClientRef(
  db: Queryable,
  enterpriseId: string,
  clientRef: string,
): Promise<AppointmentRow | undefined> {
  const [r] = await db.query(`select ${COLS} from appointments where enterprise_id = $1 and client_ref = $2`, [
    enterpriseId,
    clientRef,
  ])
  return r && toRow(r)
}

export interface ListFilter {
  enterpriseId?: string | undefined
  site?: string | undefined
  /** Slot start in [from, to). */
  from?: string | undefined
  to?: string | undefined
  status?: AppointmentStatus | undefined
  explanation?: 'DUE' | 'OVERDUE' | 'SUBMITTED' | undefined
  now: string
}

export async function listAppointments(
  db: Queryable,
  f: ListFilter,
  limit: number,
  offset: number,
): Promise<{ rows: AppointmentRow[]; total: number }> {
  const where: string[] = []
  const params: Array<string | number> = []
  const add = (sql: string, v: string) => {
    params.push(v)
    where.push(sql.replace('?', `$${params.length}`))
  }
  if (f.enterpriseId) add('enterprise_id = ?', f.enterpriseId)
  if (f.site) add('site = ?', f.site)
  if (f.from) add('slot_start >= ?', f.from)
  if (f.to) add('slot_start < ?', f.to)
  if (f.status) add('status = ?', f.status)
  if (f.explanation === 'SUBMITTED') where.push('explained_at is not null')
  else if (f.explanation === 'DUE')
    add('explanation_due is not null and explained_at is null and explanation_due >= ?', f.now)
  else if (f.explanation === 'OVERDUE')
    add('explanation_due is not null and explained_at is null and explanation_due < ?', f.now)
  const cond = where.length ? `where ${where.join(' and ')}` : ''
  const [count] = await db.query<{ n: number }>(`select count(*)::int as n from appointments ${cond}`, params)
  const rows = await db.query(
    `select ${COLS} from appointments ${cond} order by slot_start, created_at, id limit ${limit} offset ${offset}`,
    params,
  )
  return { rows: rows.map(toRow), total: count?.n ?? 0 }
}

export type NewAppointment = Omit<
  AppointmentRow,
  'lastReason' | 'explanationDue' | 'explanation' | 'explainedAt' | 'updatedAt' | 'version'
>

/** Inserts a booking; `false` when the enterprise already has one under that client reference (nothing written). */
export async function insertAppointment(tx: Tx, a: NewAppointment): Promise<boolean> {
  const rows = await tx.query(
    `insert into appointments (id, number, enterprise_id, enterprise_code, enterprise_name, client_ref, card_no, status,
       service, category, site, slot_start, ie_port, ie_flag, transport_mode, contact_name, contact_mobile, goods, reason,
       declarations, manifests, request_hash, accepted_at, accepted_by, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18::jsonb, $19, $20, $21, $22,
       $23, $24, $25, $25)
     on conflict (enterprise_id, client_ref) do nothing
     returning id`,
    [
      a.id,
      a.number,
      a.enterpriseId,
      a.enterpriseCode,
      a.enterpriseName,
      a.clientRef,
      a.cardNo,
      a.status,
      a.service,
      a.category,
      a.site,
      a.slotStart,
      a.iePort,
      a.ieFlag,
      a.transportMode,
      a.contactName,
      a.contactMobile,
      JSON.stringify(a.goods),
      a.reason,
      a.declarations,
      a.manifests,
      a.requestHash,
      a.acceptedAt,
      a.acceptedBy,
      a.createdAt,
    ],
  )
  return rows.length === 1
}

export interface AppointmentChange {
  status: AppointmentStatus
  slotStart?: string
  acceptedAt?: string | null
  acceptedBy?: string | null
  lastReason?: string | null
  explanationDue?: string | null
  explanation?: string
  explainedAt?: string
}

export async function updateAppointment(tx: Tx, id: string, c: AppointmentChange, at: string): Promise<void> {
  const sets = ['status = $2', 'updated_at = $3', 'version = version + 1']
  const params: Array<string | null> = [id, c.status, at]
  const set = (col: string, v: string | null | undefined) => {
    if (v === undefined) return
    params.push(v)
    sets.push(`${col} = $${params.length}`)
  }
  set('slot_start', c.slotStart)
  set('accepted_at', c.acceptedAt)
  set('accepted_by', c.acceptedBy)
  set('last_reason', c.lastReason)
  set('explanation_due', c.explanationDue)
  set('explanation', c.explanation)
  set('explained_at', c.explainedAt)
  await tx.query(`update appointments set ${sets.join(', ')} where id = $1`, params)
}

export interface HistoryRow {
  appointmentId: string
  at: string
  actor: string
  action: string
  fromStatus: AppointmentStatus | null
  toStatus: AppointmentStatus
  slotStart: string
  reason: string | null
}

/** Appends timeline rows, in the order given, in one statement. */
export async function insertHistory(tx: Tx, rows: HistoryRow[]): Promise<void> {
  await tx.query(
    `insert into appointment_history (appointment_id, at, actor, action, from_status, to_status, slot_start, reason)
     select appointment_id, at, actor, action, from_status, to_status, slot_start, reason
     from jsonb_to_recordset($1::jsonb) as h(n int, appointment_id uuid, at timestamptz, actor text, action text,
       from_status text, to_status text, slot_start timestamptz, reason text)
     order by n`,
    [
      JSON.stringify(
        rows.map((h, n) => ({
          n,
          appointment_id: h.appointmentId,
          at: h.at,
          actor: h.actor,
          action: h.action,
          from_status: h.fromStatus,
          to_status: h.toStatus,
          slot_start: h.slotStart,
          reason: h.reason,
        })),
      ),
    ],
  )
}

export async function timeline(db: Queryable, id: string): Promise<TimelineEntry[]> {
  const rows = await db.query<Record<string, unknown>>(
    `select at, actor, action, from_status, to_status, slot_start, reason from appointment_history
     where appointment_id = $1 order by id`,
    [id],
  )
  return rows.map((r) => ({
    at: iso(r.at),
    actor: r.actor as string,
    action: r.action as string,
    fromStatus: (r.from_status as AppointmentStatus | null) ?? null,
    toStatus: r.to_status as AppointmentStatus,
    slotStart: iso(r.slot_start),
    reason: (r.reason as string | null) ?? null,
  }))
}

// ---- slots ------------------------------------------------------------------------------------------------------

export interface SlotRow {
  startsAt: string
  capacity: number
  booked: number
  officers: OfficerOnDuty[]
}

const toSlot = (r: Record<string, unknown>): SlotRow => ({
  startsAt: iso(r.starts_at),
  capacity: Number(r.capacity),
  booked: Number(r.booked),
  officers: (r.officers as OfficerOnDuty[]) ?? [],
})

/** Creates the slots that do not exist yet with the site's default capacity, then locks them all, in time order. */
export async function lockSlots(
  tx: Tx,
  site: string,
  starts: string[],
  defaultCapacity: number,
  at: string,
): Promise<SlotRow[]> {
  await tx.query(
    `insert into appointment_slots (site, starts_at, capacity, updated_at)
     select $1, s, $3, $4 from unnest($2::timestamptz[]) as s
     on conflict (site, starts_at) do nothing`,
    [site, starts, defaultCapacity, at],
  )
  const rows = await tx.query(
    `select starts_at, capacity, booked, officers from appointment_slots
     where site = $1 and starts_at = any($2::timestamptz[]) order by starts_at for update`,
    [site, starts],
  )
  return rows.map(toSlot)
}

/**
 * Takes a place in the first of `starts` (in order) with room; returns its start, or undefined when all are full.
 * The condition is evaluated on the row under its lock, so parallel bookings never take more places than there are.
 */
export async function takePlace(tx: Tx, site: string, starts: string[], at: string): Promise<string | undefined> {
  for (const s of starts) {
    const [r] = await tx.query<{ starts_at: unknown }>(
      `update appointment_slots set booked = booked + 1, updated_at = $3
       where site = $1 and starts_at = $2 and booked < capacity returning starts_at`,
      [site, s, at],
    )
    if (r) return iso(r.starts_at)
  }
  return undefined
}

/**
 * Takes a place in the first of `starts` (in order) with room, creating a slot on first use with the site's default
 * capacity, one statement per slot tried: the insert's conflict update re-evaluates `booked < capacity` on the
 * locked row, so parallel bookings never take more places than there are. Returns the slot taken (with its roster),
 * or undefined when all are full. Slots are tried, and so locked, in time order.
 */
export async function takeFirstPlace(
  tx: Tx,
  site: string,
  starts: string[],
  defaultCapacity: number,
  at: string,
): Promise<{ startsAt: string; officers: OfficerOnDuty[] } | undefined> {
  for (const s of starts) {
    const [r] = await tx.query<{ starts_at: unknown; officers: OfficerOnDuty[] }>(
      defaultCapacity > 0
        ? `insert into appointment_slots as sl (site, starts_at, capacity, booked, updated_at) values ($1, $2, $3, 1, $4)
           on conflict (site, starts_at) do update set booked = sl.booked + 1, updated_at = excluded.updated_at
           where sl.booked < sl.capacity
           returning starts_at, officers`
        : // A site whose slots take nothing unless set: only a slot an officer opened has room.
          `update appointment_slots set booked = booked + 1, updated_at = $4
           where site = $1 and starts_at = $2 and booked < capacity and $3::int = 0 returning starts_at, officers`,
      [site, s, defaultCapacity, at],
    )
    if (r) return { startsAt: iso(r.starts_at), officers: r.officers ?? [] }
  }
  return undefined
}

export async function freePlace(tx: Tx, site: string, start: string, at: string): Promise<void> {
  await tx.query(
    `update appointment_slots set booked = booked - 1, updated_at = $3 where site = $1 and starts_at = $2 and booked > 0`,
    [site, start, at],
  )
}

export async function slotsBetween(db: Queryable, site: string, from: string, to: string): Promise<SlotRow[]> {
  const rows = await db.query(
    `select starts_at, capacity, booked, officers from appointment_slots
     where site = $1 and starts_at >= $2 and starts_at < $3 order by starts_at`,
    [site, from, to],
  )
  return rows.map(toSlot)
}

/**
 * Sets capacity and/or roster of slots (created if missing). Returns the starts whose bookings exceed the new
 * capacity (then nothing is written: the caller rolls back).
 */
export async function setSlots(
  tx: Tx,
  site: string,
  starts: string[],
  change: { capacity?: number | undefined; officers?: OfficerOnDuty[] | undefined },
  defaultCapacity: number,
  at: string,
): Promise<string[]> {
  await lockSlots(tx, site, starts, defaultCapacity, at)
  if (change.capacity !== undefined) {
    const over = await tx.query<{ starts_at: unknown }>(
      `select starts_at from appointment_slots where site = $1 and starts_at = any($2::timestamptz[]) and booked > $3
       order by starts_at`,
      [site, starts, change.capacity],
    )
    if (over.length) return over.map((r) => iso(r.starts_at))
  }
  await tx.query(
    `update appointment_slots set capacity = coalesce($3::int, capacity), officers = coalesce($4::jsonb, officers),
       updated_at = $5
     where site = $1 and starts_at = any($2::timestamptz[])`,
    [site, starts, change.capacity ?? null, change.officers === undefined ? null : JSON.stringify(change.officers), at],
  )
  return []
}

/** Bookings holding or having held a place in the slots of [from, to) at a site (for the officers' board). */
export async function bookingsBetween(db: Queryable, site: string, from: string, to: string) {
  const rows = await db.query<Record<string, unknown>>(
    `select id, number, enterprise_name, status, category, service, slot_start from appointments
     where site = $1 and slot_start >= $2 and slot_start < $3 order by slot_start, created_at`,
    [site, from, to],
  )
  return rows.map((r) => ({
    id: r.id as string,
    number: r.number as string,
    enterpriseName: r.enterprise_name as string,
    status: r.status as AppointmentStatus,
    category: r.category as 'PERISHABLE',
    service: r.service as 'CLEARANCE',
    slotStart: iso(r.slot_start),
  }))
}

/** The next appointment number's sequence for a site and China date. */
export async function nextNumber(tx: Tx, site: string, day: string): Promise<number> {
  const [r] = await tx.query<{ last: number }>(
    `insert into appointment_numbers (site, day, last) values ($1, $2, 1)
     on conflict (site, day) do update set last = appointment_numbers.last + 1 returning last`,
    [site, day],
  )
  return Number(r!.last)
}

// ---- sites ------------------------------------------------------------------------------------------------------

export interface SiteRow {
  code: string
  officeOpen: number
  officeClose: number
  slotCapacity: number
  dutyPhone: string
  categories: Record<string, CategoryPolicy>
}

const toSite = (r: Record<string, unknown>): SiteRow => ({
  code: r.code as string,
  officeOpen: Number(r.office_open),
  officeClose: Number(r.office_close),
  slotCapacity: Number(r.slot_capacity),
  dutyPhone: r.duty_phone as string,
  categories: r.categories as Record<string, CategoryPolicy>,
})
const SITE_COLS = 'code, office_open, office_close, slot_capacity, duty_phone, categories'

export async function listSites(db: Queryable): Promise<SiteRow[]> {
  return (await db.query(`select ${SITE_COLS} from appointment_sites order by code`)).map(toSite)
}

export async function upsertSite(tx: Tx, s: SiteRow, at: string): Promise<void> {
  await tx.query(
    `insert into appointment_sites (${SITE_COLS}, updated_at) values ($1, $2, $3, $4, $5, $6::jsonb, $7)
     on conflict (code) do update set office_open = excluded.office_open, office_close = excluded.office_close,
       slot_capacity = excluded.slot_capacity, duty_phone = excluded.duty_phone, categories = excluded.categories,
       updated_at = excluded.updated_at`,
    [s.code, s.officeOpen, s.officeClose, s.slotCapacity, s.dutyPhone, JSON.stringify(s.categories), at],
  )
}

// ---- figures and the live feed ----------------------------------------------------------------------------------

/** Bookings by the China hour of their slot, and by status, for slots in [from, to). */
export async function bookingFigures(db: Queryable, from: string, to: string, site: string | null) {
  const params = [from, to, ...(site ? [site] : [])]
  const cond = `slot_start >= $1 and slot_start < $2${site ? ' and site = $3' : ''}`
  const byHour = await db.query<{ hour: number; n: number }>(
    `select extract(hour from (slot_start at time zone 'UTC') + interval '8 hours')::int as hour, count(*)::int as n
     from appointments where ${cond} group by 1`,
    params,
  )
  const byStatus = await db.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from appointments where ${cond} group by 1`,
    params,
  )
  const booked = await db.query<{ entry: string }>(
    `select distinct unnest(declarations) as entry from appointments where ${cond} and status = 'ACCEPTED'`,
    params,
  )
  return { byHour, byStatus, bookedEntries: booked.map((r) => r.entry) }
}

export interface ChangeRow {
  seq: number
  id: string
  number: string
  enterpriseId: string
  site: string
  action: string
  status: AppointmentStatus
  slotStart: string
  at: string
}

export async function lastChange(db: Queryable): Promise<number> {
  const [r] = await db.query<{ n: number | null }>('select max(id)::int as n from appointment_history')
  return Number(r?.n ?? 0)
}

export async function changesSince(db: Queryable, after: number, limit: number): Promise<ChangeRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    `select h.id as seq, a.id, a.number, a.enterprise_id, a.site, h.action, h.to_status, h.slot_start, h.at
     from appointment_history h join appointments a on a.id = h.appointment_id
     where h.id > $1 order by h.id limit $2`,
    [after, limit],
  )
  return rows.map((r) => ({
    seq: Number(r.seq),
    id: r.id as string,
    number: r.number as string,
    enterpriseId: r.enterprise_id as string,
    site: r.site as string,
    action: r.action as string,
    status: r.to_status as AppointmentStatus,
    slotStart: iso(r.slot_start),
    at: iso(r.at),
  }))
}

/** The rosters of the given (site, start) slots, keyed `site|start ISO`. */
export async function rosters(
  db: Queryable,
  slots: Array<{ site: string; start: string }>,
): Promise<Map<string, OfficerOnDuty[]>> {
  if (!slots.length) return new Map()
  const rows = await db.query<Record<string, unknown>>(
    `select s.site, s.starts_at, s.officers from appointment_slots s
     join unnest($1::text[], $2::timestamptz[]) as k (site, starts_at) on s.site = k.site and s.starts_at = k.starts_at`,
    [slots.map((s) => s.site), slots.map((s) => s.start)],
  )
  return new Map(rows.map((r) => [`${r.site as string}|${iso(r.starts_at)}`, (r.officers as OfficerOnDuty[]) ?? []]))
}
