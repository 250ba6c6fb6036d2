import { Type, type Static } from 'typebox'
import { Uuid, UtcTime } from '../../shared/schema.js'
import { ConditionSchema, ActionSchema } from '../selectivity/index.js'

/** Live figures of the command dashboard look back this far (per-minute series, lane mix). */
export const LIVE_WINDOW_MINUTES = 60
/** Hit-rate series: buckets of this many minutes over {@link HIT_RATE_BUCKETS} buckets. */
export const HIT_RATE_BUCKET_MINUTES = 10
export const HIT_RATE_BUCKETS = 24
/** Spike alerts compare the last {@link SPIKE_RECENT_MINUTES} with the {@link SPIKE_BASELINE_MINUTES} before. */
export const SPIKE_RECENT_MINUTES = 10
export const SPIKE_BASELINE_MINUTES = 60
/** How often the server pushes a snapshot to dashboard streams. */
export const STREAM_INTERVAL_MS = 2000
/** Rule preview: most past declarations scanned, default look-back. */
export const PREVIEW_MAX_SCAN = 20_000
export const PREVIEW_DEFAULT_DAYS = 30

const Rate = Type.Union([Type.Number(), Type.Null()])
const HitCount = Type.Object({ inspected: Type.Integer(), nonCompliant: Type.Integer(), hitRate: Rate })

export const ALERT_KINDS = ['HS_SPIKE', 'IMPORTER_SPIKE', 'MODEL_HIT_RATE_DROP', 'HIT_RATE_DRIFT'] as const
export type AlertKind = (typeof ALERT_KINDS)[number]

export const AlertSchema = Type.Object({
  kind: Type.Enum(ALERT_KINDS),
  severity: Type.Enum(['WARNING', 'CRITICAL']),
  /** HS6 code, importer customs code or model version the alert is about. */
  key: Type.String(),
  /** Importer name for importer spikes. */
  label: Type.Optional(Type.String()),
  /** Count (spikes) or hit rate (model) in the recent window. */
  recent: Type.Number(),
  /** Expected count per recent window (spikes) or the earlier hit rate (model), from the baseline. */
  baseline: Type.Number(),
})
export type Alert = Static<typeof AlertSchema>

export const DashboardSchema = Type.Object({
  at: UtcTime,
  totals: Type.Object({
    declarationsToday: Type.Integer({ description: 'since 00:00 China time' }),
    declarationsLastHour: Type.Integer(),
    interceptsLastHour: Type.Integer({ description: 'risk-targeted (rule or model) red-lane declarations' }),
    openInspections: Type.Integer(),
    inspectedToday: Type.Integer(),
    nonCompliantToday: Type.Integer(),
    heldForReview: Type.Integer(),
  }),
  perMinute: Type.Array(
    Type.Object({
      minute: UtcTime,
      declarations: Type.Integer(),
      intercepts: Type.Integer(),
      cebTickets: Type.Integer(),
    }),
  ),
  laneMix: Type.Array(Type.Object({ lane: Type.String(), declarations: Type.Integer() })),
  hitRate: Type.Object({
    bucketMinutes: Type.Integer(),
    series: Type.Array(
      Type.Object({
        bucket: UtcTime,
        targetedInspected: Type.Integer(),
        targetedHitRate: Rate,
        randomInspected: Type.Integer(),
        randomHitRate: Rate,
      }),
    ),
    targeted: HitCount,
    random: HitCount,
    liftPp: Rate,
  }),
  clearance: Type.Array(
    Type.Object({
      port: Type.String(),
      released: Type.Integer(),
      medianSeconds: Type.Number(),
      p90Seconds: Type.Number(),
    }),
  ),
  ecommerce: Type.Object({
    ticketsLastMinute: Type.Integer(),
    ticketsLastHour: Type.Integer(),
    topRejections: Type.Array(Type.Object({ code: Type.String(), tickets: Type.Integer() })),
  }),
  certificates: Type.Object({
    available: Type.Boolean({ description: 'false until the certificates module is installed' }),
    issuedToday: Type.Integer(),
    issuedTotal: Type.Integer(),
  }),
  recentResults: Type.Array(
    Type.Object({
      inspectionId: Uuid,
      declarationId: Uuid,
      entryId: Type.Union([Type.String(), Type.Null()]),
      source: Type.String(),
      result: Type.Enum(['COMPLIANT', 'NON_COMPLIANT']),
      categories: Type.Array(Type.String()),
      finishedAt: UtcTime,
    }),
  ),
  alerts: Type.Array(AlertSchema),
})
export type Dashboard = Static<typeof DashboardSchema>

export const PRIORITIES = ['HIGH', 'MEDIUM', 'LOW'] as const
export type Priority = (typeof PRIORITIES)[number]

export const QueueQuerySchema = Type.Object(
  {
    state: Type.Optional(Type.Enum(['OPEN', 'IN_PROGRESS'])),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)

export const QueueItemSchema = Type.Object({
  inspectionId: Uuid,
  declarationId: Uuid,
  entryId: Type.Union([Type.String(), Type.Null()]),
  kind: Type.Enum(['DOCUMENT', 'PHYSICAL']),
  source: Type.String(),
  state: Type.Enum(['OPEN', 'IN_PROGRESS']),
  priority: Type.Enum(PRIORITIES),
  lane: Type.Union([Type.String(), Type.Null()]),
  score: Type.Number(),
  orderedAt: UtcTime,
  traderName: Type.String(),
  traderCode: Type.String(),
  creditLevel: Type.String(),
  totalValueCny: Type.String(),
  items: Type.Integer(),
  topReason: Type.Union([Type.String(), Type.Null()]),
})
export type QueueItem = Static<typeof QueueItemSchema>

export const RulePreviewRequestSchema = Type.Object(
  {
    conditions: Type.Array(ConditionSchema, { minItems: 1, maxItems: 20 }),
    action: Type.Optional(ActionSchema),
    days: Type.Integer({
      minimum: 1,
      maximum: 366,
      default: PREVIEW_DEFAULT_DAYS,
      description: 'look back this many days',
    }),
  },
  { additionalProperties: false },
)
export type RulePreviewRequest = Static<typeof RulePreviewRequestSchema>

export const RulePreviewSchema = Type.Object({
  from: UtcTime,
  to: UtcTime,
  scanned: Type.Integer({ description: 'past declarations evaluated (most recent first, at most 20 000)' }),
  truncated: Type.Boolean({ description: 'true when the window held more declarations than were scanned' }),
  selected: Type.Integer(),
  selectedShare: Rate,
  selectedInspected: HitCount,
  baseline: HitCount,
  examples: Type.Array(
    Type.Object({
      id: Uuid,
      entryId: Type.Union([Type.String(), Type.Null()]),
      submittedAt: UtcTime,
      lane: Type.Union([Type.String(), Type.Null()]),
      result: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
})
export type RulePreview = Static<typeof RulePreviewSchema>
