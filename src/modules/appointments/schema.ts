import { Type, type Static } from 'typebox'
import { CustomsCode, District, Uuid, UtcTime } from '../../shared/schema.js'

/** Limits shared by the API and the service. */
export const CLIENT_REF_MAX = 64
export const REASON_MAX = 500
export const EXPLANATION_MAX = 4000
export const MAX_GOODS = 50
export const MAX_REFS = 50
/** How many hours after the wanted one the allocation may move a booking to (`flexHours`). */
export const MAX_FLEX_HOURS = 12
/** Days an enterprise has to explain in writing a cancellation after acceptance (Announcement 2018 No. 109). */
export const EXPLANATION_DAYS = 5

/**
 * States. PENDING waits for an officer; ACCEPTED has its receipt; HELD is stopped by an officer (keeps its slot);
 * REJECTED, CANCELLED (by the enterprise) and REMOVED (by an officer) are final and free the slot.
 */
export const APPOINTMENT_STATUSES = ['PENDING', 'ACCEPTED', 'HELD', 'REJECTED', 'CANCELLED', 'REMOVED'] as const
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number]
/** States that hold a place in their slot. */
export const ACTIVE_STATUSES: readonly AppointmentStatus[] = ['PENDING', 'ACCEPTED', 'HELD']

/** Goods categories eligible for booking (Announcement 2018 No. 109). */
export const CATEGORIES = ['EMERGENCY_RELIEF', 'DANGEROUS_GOODS', 'PERISHABLE', 'OTHER_URGENT'] as const
export type Category = (typeof CATEGORIES)[number]
/** Per site and category: accepted automatically, reviewed by an officer, or not taken. */
export const CATEGORY_POLICIES = ['AUTO', 'REVIEW', 'OFF'] as const
export type CategoryPolicy = (typeof CATEGORY_POLICIES)[number]

export const SERVICES = ['CLEARANCE', 'INSPECTION'] as const
export type Service = (typeof SERVICES)[number]

export const ChinaDate = Type.String({ format: 'date', description: 'China calendar date (Asia/Shanghai), YYYY-MM-DD' })
const Hour = Type.Integer({ minimum: 0, maximum: 23, description: 'hour of the China day the slot starts (0–23)' })
const Reason = Type.String({ minLength: 1, maxLength: REASON_MAX, pattern: '\\S' })
const CategorySchema = Type.Enum(CATEGORIES, {
  description: 'EMERGENCY_RELIEF, DANGEROUS_GOODS, PERISHABLE (fresh/frozen), OTHER_URGENT (an officer decides)',
})
const StatusSchema = Type.Enum(APPOINTMENT_STATUSES)
const ServiceSchema = Type.Enum(SERVICES, { description: 'CLEARANCE (审单放行) or INSPECTION (查验)' })
const PolicySchema = Type.Enum(CATEGORY_POLICIES)

const GoodsLine = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    hsCode: Type.String({ pattern: '^[0-9]{8}$', description: 'China tariff line, 8 digits (the 2023 tariff)' }),
  },
  { additionalProperties: false },
)

export const CreateAppointmentSchema = Type.Object(
  {
    clientRef: Type.String({
      minLength: 1,
      maxLength: CLIENT_REF_MAX,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'unique per enterprise; resending the same request returns the original booking',
    }),
    enterpriseCode: { ...CustomsCode, description: "the booking enterprise: the calling operator's own" },
    contactName: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    contactMobile: Type.String({ pattern: '^1[3-9][0-9]{9}$', description: 'mainland mobile number, 11 digits' }),
    service: ServiceSchema,
    category: CategorySchema,
    site: { ...District, description: 'declaring port (申报口岸): the customs office that serves the booking' },
    iePort: { ...District, description: 'entry/exit port (进出境口岸), 4-digit customs code' },
    ieFlag: Type.Enum(['I', 'E'], { description: 'I import, E export' }),
    goods: Type.Array(GoodsLine, { minItems: 1, maxItems: MAX_GOODS }),
    transportMode: Type.String({ pattern: '^[0-9A-Z]$', description: '运输方式 code (reference transport-modes)' }),
    date: ChinaDate,
    hour: Hour,
    flexHours: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_FLEX_HOURS,
        default: 0,
        description: 'when the wanted slot is full, the first slot with room up to this many hours later is taken',
      }),
    ),
    reason: Reason,
    declarations: Type.Optional(
      Type.Array(Type.String({ pattern: '^[0-9]{18}$', description: 'entry id (海关编号)' }), {
        maxItems: MAX_REFS,
        uniqueItems: true,
      }),
    ),
    manifests: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 50, pattern: '^[\\x21-\\x7E]+$', description: 'bill no.' }), {
        maxItems: MAX_REFS,
        uniqueItems: true,
      }),
    ),
  },
  { additionalProperties: false, $id: 'CreateAppointment' },
)
export type CreateAppointment = Static<typeof CreateAppointmentSchema>

export const RescheduleSchema = Type.Object(
  {
    date: ChinaDate,
    hour: Hour,
    flexHours: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_FLEX_HOURS, default: 0 })),
    reason: Reason,
  },
  { additionalProperties: false },
)
export type Reschedule = Static<typeof RescheduleSchema>
export const ReasonBodySchema = Type.Object({ reason: Reason }, { additionalProperties: false })
export const AcceptBodySchema = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: REASON_MAX })) },
  { additionalProperties: false },
)
export const ExplanationBodySchema = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: EXPLANATION_MAX, pattern: '\\S' }) },
  { additionalProperties: false },
)

export const OfficerOnDutySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    phone: Type.Optional(Type.String({ minLength: 3, maxLength: 30, pattern: '^[0-9+ ()-]+$' })),
  },
  { additionalProperties: false },
)
export type OfficerOnDuty = Static<typeof OfficerOnDutySchema>

export const ReceiptSchema = Type.Object(
  {
    appointmentNo: Type.String(),
    acceptedAt: UtcTime,
    acceptedBy: Type.String({ description: '"auto" or the officer (user:<name>)' }),
    site: Type.String(),
    siteName: Type.String(),
    slotStart: UtcTime,
    slotEnd: UtcTime,
    localTime: Type.String({ description: 'the slot in China time, e.g. "2026-12-09 22:00–23:00 (Asia/Shanghai)"' }),
    dutyOfficers: Type.Array(OfficerOnDutySchema),
    dutyPhone: Type.String(),
  },
  { description: 'acceptance receipt (预约回执)' },
)
export type Receipt = Static<typeof ReceiptSchema>

export const AppointmentSchema = Type.Object({
  id: Uuid,
  number: Type.String({ description: 'appointment number: site + China date + sequence' }),
  clientRef: Type.String(),
  enterpriseId: Uuid,
  enterpriseCode: Type.String(),
  enterpriseName: Type.String(),
  status: StatusSchema,
  service: ServiceSchema,
  category: CategorySchema,
  contactName: Type.String(),
  contactMobile: Type.String(),
  site: Type.String(),
  siteName: Type.String(),
  iePort: Type.String(),
  iePortName: Type.String(),
  ieFlag: Type.String(),
  goods: Type.Array(GoodsLine),
  transportMode: Type.String(),
  slotStart: UtcTime,
  slotEnd: UtcTime,
  date: Type.String({ description: 'China date of the slot' }),
  hour: Type.Integer({ description: 'China hour the slot starts' }),
  reason: Type.String(),
  declarations: Type.Array(Type.String()),
  manifests: Type.Array(Type.String()),
  receipt: Type.Union([ReceiptSchema, Type.Null()]),
  lastReason: Type.Union([Type.String(), Type.Null()], { description: "the latest officer's or enterprise's reason" }),
  explanation: Type.Union([
    Type.Object({
      dueAt: UtcTime,
      submittedAt: Type.Union([UtcTime, Type.Null()]),
      text: Type.Union([Type.String(), Type.Null()]),
      overdue: Type.Boolean(),
    }),
    Type.Null(),
  ]),
  createdAt: UtcTime,
  updatedAt: UtcTime,
  version: Type.Integer(),
})
export type Appointment = Static<typeof AppointmentSchema>

export const TimelineEntrySchema = Type.Object({
  at: UtcTime,
  actor: Type.String(),
  action: Type.String(),
  fromStatus: Type.Union([StatusSchema, Type.Null()]),
  toStatus: StatusSchema,
  slotStart: UtcTime,
  reason: Type.Union([Type.String(), Type.Null()]),
})
export type TimelineEntry = Static<typeof TimelineEntrySchema>
export const AppointmentDetailSchema = Type.Intersect([
  AppointmentSchema,
  Type.Object({ timeline: Type.Array(TimelineEntrySchema) }),
])
export type AppointmentDetail = Static<typeof AppointmentDetailSchema>

export const ListAppointmentsQuerySchema = Type.Object(
  {
    site: Type.Optional(District),
    date: Type.Optional(ChinaDate),
    status: Type.Optional(StatusSchema),
    explanation: Type.Optional(
      Type.Enum(['DUE', 'OVERDUE', 'SUBMITTED'], { description: 'cancellations after acceptance, by explanation' }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)
export type ListAppointmentsQuery = Static<typeof ListAppointmentsQuerySchema>

// ---- sites and slots --------------------------------------------------------------------------------------------

export const SiteSchema = Type.Object({
  code: Type.String(),
  name: Type.String(),
  officeOpen: Type.Integer({ description: 'China hour office hours start on working days' }),
  officeClose: Type.Integer({ description: 'China hour office hours end (exclusive)' }),
  slotCapacity: Type.Integer({ description: 'bookings a slot takes unless set otherwise' }),
  dutyPhone: Type.String(),
  categories: Type.Record(Type.String(), PolicySchema),
})
export type Site = Static<typeof SiteSchema>

export const PutSiteSchema = Type.Object(
  {
    officeOpen: Type.Integer({ minimum: 0, maximum: 23 }),
    officeClose: Type.Integer({ minimum: 1, maximum: 24 }),
    slotCapacity: Type.Integer({ minimum: 0, maximum: 1000 }),
    dutyPhone: Type.String({ minLength: 3, maxLength: 30, pattern: '^[0-9+ ()-]+$' }),
    categories: Type.Object(
      {
        EMERGENCY_RELIEF: PolicySchema,
        DANGEROUS_GOODS: PolicySchema,
        PERISHABLE: PolicySchema,
        OTHER_URGENT: PolicySchema,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)
export type PutSite = Static<typeof PutSiteSchema>
export const SiteParams = Type.Object({ code: District }, { additionalProperties: false })

export const CalendarDaySchema = Type.Object({
  date: Type.String(),
  workday: Type.Boolean({ description: 'a working day of the official calendar (office hours apply)' }),
  holiday: Type.Union([Type.String(), Type.Null()], { description: 'public holiday name' }),
  adjustedWorkday: Type.Boolean({ description: 'a weekend day worked in lieu (调休上班)' }),
  known: Type.Boolean({ description: 'false: the year is not in the calendar data; Monday–Friday are assumed' }),
})
export type CalendarDay = Static<typeof CalendarDaySchema>

export const SlotBookingSchema = Type.Object({
  id: Uuid,
  number: Type.String(),
  enterpriseName: Type.String(),
  status: StatusSchema,
  category: CategorySchema,
  service: ServiceSchema,
})
export const SlotSchema = Type.Object({
  hour: Type.Integer(),
  startsAt: UtcTime,
  endsAt: UtcTime,
  bookable: Type.Boolean({ description: 'outside office hours (bookings are only for those)' }),
  capacity: Type.Integer(),
  booked: Type.Integer(),
  officers: Type.Array(OfficerOnDutySchema),
  bookings: Type.Optional(Type.Array(SlotBookingSchema, { description: "officers only: the slot's bookings" })),
})
export type Slot = Static<typeof SlotSchema>
export const SlotDaySchema = Type.Object({
  site: Type.String(),
  siteName: Type.String(),
  date: Type.String(),
  calendar: CalendarDaySchema,
  officeHours: Type.Union([Type.Object({ open: Type.Integer(), close: Type.Integer() }), Type.Null()], {
    description: 'null on days without office hours (weekends, holidays): every hour is bookable',
  }),
  slots: Type.Array(SlotSchema),
})
export type SlotDay = Static<typeof SlotDaySchema>
export const SlotQuerySchema = Type.Object({ site: District, date: ChinaDate }, { additionalProperties: false })

export const PutSlotsSchema = Type.Object(
  {
    site: District,
    date: ChinaDate,
    hours: Type.Array(Hour, { minItems: 1, maxItems: 24, uniqueItems: true }),
    capacity: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    officers: Type.Optional(Type.Array(OfficerOnDutySchema, { maxItems: 20 })),
  },
  { additionalProperties: false, minProperties: 4 },
)
export type PutSlots = Static<typeof PutSlotsSchema>

// ---- figures ----------------------------------------------------------------------------------------------------

export const StatsQuerySchema = Type.Object(
  { site: Type.Optional(District), from: ChinaDate, to: ChinaDate },
  { additionalProperties: false },
)
export const StatsSchema = Type.Object({
  site: Type.Union([Type.String(), Type.Null()]),
  from: Type.String(),
  to: Type.String(),
  bookingsByHour: Type.Array(Type.Integer(), { description: 'bookings (any status) by the China hour of their slot' }),
  byStatus: Type.Record(Type.String(), Type.Integer()),
  afterHoursReleases: Type.Integer({
    description: 'declarations released outside their site’s office hours (weekends and holidays count)',
  }),
  release: Type.Object(
    {
      booked: Type.Object({ count: Type.Integer(), meanMinutes: Type.Union([Type.Number(), Type.Null()]) }),
      unbooked: Type.Object({ count: Type.Integer(), meanMinutes: Type.Union([Type.Number(), Type.Null()]) }),
    },
    {
      description:
        'mean minutes from lodging (arrival) to release, for declarations an accepted booking names vs others',
    },
  ),
})
export type Stats = Static<typeof StatsSchema>

/** One event of the live stream (`GET /appointments/stream`, event `appointment`). */
export const StreamEventSchema = Type.Object({
  id: Uuid,
  number: Type.String(),
  enterpriseId: Uuid,
  site: Type.String(),
  action: Type.String(),
  status: StatusSchema,
  slotStart: UtcTime,
  at: UtcTime,
})
export type StreamEvent = Static<typeof StreamEventSchema>
