import { Type, type Static } from 'typebox'
import { Uuid, UtcTime } from '../../shared/schema.js'
import { DeclarationContentSchema } from '../declarations/index.js'

/** Limits shared by the API, the service and the console. */
export const EXPORT_MAX_ROWS = 10_000
export const PURGE_LIST_MAX = 1000
/** What every data export says (DOMAIN §7): exported data is for internal management only, not evidence. */
export const EXPORT_NOTICE = '仅供企业内部管理使用 / for internal management use only'

const ChinaDate = Type.String({ format: 'date', description: 'China date (Asia/Shanghai), YYYY-MM-DD' })
const EntryId = Type.String({ pattern: '^[0-9]{18}$', description: '18-digit entry number' })

export const RETENTION_RULE_KINDS = ['TRADE_MODE', 'MANUAL_PREFIX', 'CUT_MODE', 'DEFAULT'] as const
export const RetentionRuleSchema = Type.Object(
  {
    kind: Type.Enum(RETENTION_RULE_KINDS, {
      description:
        'TRADE_MODE: 4-digit 监管方式; MANUAL_PREFIX: start of ManualNo (备案号); CUT_MODE: 3-digit 征免性质; DEFAULT: everything',
    }),
    value: Type.String({ minLength: 1, maxLength: 12 }),
    years: Type.Integer({ minimum: 1, maximum: 100 }),
    basis: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
)
export type RetentionRule = Static<typeof RetentionRuleSchema>
export const RetentionRulesSchema = Type.Object(
  { items: Type.Array(RetentionRuleSchema, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
)

/** The archived declaration as frozen at clearance: the content as declared and the parties as registered then. */
export const ArchiveSnapshotSchema = Type.Object({
  entryId: Type.String(),
  content: DeclarationContentSchema,
  trader: Type.Object({ name: Type.String(), customsCode: Type.String(), uscc: Type.String() }),
  declarant: Type.Object({ name: Type.String(), customsCode: Type.String() }),
  totalValue: Type.String({ description: 'sum of item values in the declaration currency' }),
  totalValueCny: Type.String(),
  declaredAt: UtcTime,
  releasedAt: Type.Union([UtcTime, Type.Null()]),
  clearedAt: UtcTime,
})
export type ArchiveSnapshot = Static<typeof ArchiveSnapshotSchema>

const archiveFields = {
  id: Uuid,
  entryId: Type.String(),
  declarationId: Uuid,
  traderId: Uuid,
  traderName: Type.String(),
  traderCode: Type.String(),
  ieFlag: Type.String(),
  tradeMode: Type.String(),
  customsDistrict: Type.String(),
  iePort: Type.String(),
  declaredAt: UtcTime,
  clearedAt: UtcTime,
  retentionYears: Type.Integer(),
  retentionBasis: Type.String(),
  retainUntil: Type.String({
    format: 'date',
    description: 'last China date the archive is kept; eligible for disposal from the day after',
  }),
}
export const ArchiveSummarySchema = Type.Object({
  ...archiveFields,
  totalValue: Type.String(),
  currency: Type.String(),
  itemCount: Type.Integer(),
})
export type ArchiveSummary = Static<typeof ArchiveSummarySchema>
export const ArchiveSchema = Type.Object({ ...archiveFields, snapshot: ArchiveSnapshotSchema })
export type Archive = Static<typeof ArchiveSchema>

export const EntryParams = Type.Object({ entryId: EntryId }, { additionalProperties: false })

const filters = {
  clearedFrom: Type.Optional(ChinaDate),
  clearedTo: Type.Optional(Type.String({ format: 'date', description: 'China date, inclusive' })),
  entryId: Type.Optional(EntryId),
  tradeMode: Type.Optional(Type.String({ pattern: '^[0-9]{4}$' })),
  iePort: Type.Optional(Type.String({ pattern: '^[0-9]{4}$' })),
  ieFlag: Type.Optional(Type.Enum(['I', 'E'])),
  enterpriseId: Type.Optional(
    Type.String({ format: 'uuid', description: 'officers only: one enterprise (as consignee/consignor)' }),
  ),
}
export const ListArchivesQuerySchema = Type.Object(
  {
    ...filters,
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)
export type ArchiveFilters = Static<typeof ListArchivesQuerySchema>

export const ExportArchivesQuerySchema = Type.Object(
  {
    ...filters,
    limit: Type.Integer({ minimum: 1, maximum: EXPORT_MAX_ROWS, default: EXPORT_MAX_ROWS }),
  },
  { additionalProperties: false },
)

export const PrintLogSchema = Type.Object({
  id: Uuid,
  kind: Type.Enum(['PRINT', 'EXPORT']),
  printedAt: UtcTime,
  actor: Type.String({ description: 'who: card:<cardNo> or user:<username>' }),
  enterpriseId: Type.Union([Uuid, Type.Null()]),
  serial: Type.Union([Type.String(), Type.Null()]),
  entryId: Type.Union([Type.String(), Type.Null()]),
  query: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  rowCount: Type.Integer(),
})
export const ListPrintsQuerySchema = Type.Object(
  {
    kind: Type.Optional(Type.Enum(['PRINT', 'EXPORT'])),
    from: Type.Optional(UtcTime),
    to: Type.Optional(UtcTime),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)

export const PurgeRequestSchema = Type.Object(
  {
    dryRun: Type.Boolean({ default: true, description: 'list what would be removed, remove nothing' }),
  },
  { additionalProperties: false },
)
export const PurgeResultSchema = Type.Object({
  asOf: Type.String({ format: 'date', description: 'China date of the run: archives kept until before it are due' }),
  dryRun: Type.Boolean(),
  count: Type.Integer({ description: 'archives due (dry run) or removed' }),
  items: Type.Array(
    Type.Object({ entryId: Type.String(), retainUntil: Type.String(), retentionYears: Type.Integer() }),
    { description: `first ${PURGE_LIST_MAX}` },
  ),
  droppedPartitions: Type.Array(Type.String()),
  runId: Type.String({ format: 'uuid', description: 'the run in the purge history (GET /archives/purge-runs)' }),
})
export type PurgeResult = Static<typeof PurgeResultSchema>

/** One run of the purge, dry or real (GET /archives/purge-runs). */
export const PurgeRunSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  startedAt: UtcTime,
  finishedAt: Type.Union([UtcTime, Type.Null()], {
    description: 'null: the run stopped after deleting `count` archives (what it did committed)',
  }),
  actor: Type.String({ description: 'user:<username> or system:<name>' }),
  asOf: Type.String({ format: 'date', description: 'China date of the run' }),
  dryRun: Type.Boolean(),
  count: Type.Integer({ description: 'archives due (dry run) or removed' }),
  droppedPartitions: Type.Array(Type.String()),
})
export type PurgeRun = Static<typeof PurgeRunSchema>
export const ListPurgeRunsQuerySchema = Type.Object(
  {
    dryRun: Type.Optional(Type.Boolean({ description: 'only dry runs (true) or only real ones (false)' })),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)
export const PurgeRunPageSchema = Type.Object({ items: Type.Array(PurgeRunSchema), total: Type.Integer() })
