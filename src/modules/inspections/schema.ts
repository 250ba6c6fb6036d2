import { Type, type Static } from 'typebox'
import { Decimal, Uuid, UtcTime } from '../../shared/schema.js'

export const FINDING_CATEGORIES = [
  'UNDERVALUATION',
  'MISCLASSIFICATION',
  'ORIGIN',
  'QUANTITY',
  'PROHIBITED',
  'DANGEROUS_GOODS',
  'QUALITY_SAFETY',
  'IP_INFRINGEMENT',
  'OTHER',
] as const
export type FindingCategory = (typeof FINDING_CATEGORIES)[number]
export const DISPOSALS = ['RELEASE', 'RETURN', 'DESTROY', 'TECHNICAL_TREATMENT', 'CASE_OPENED'] as const
export type Disposal = (typeof DISPOSALS)[number]

export const FindingSchema = Type.Object(
  {
    category: Type.Enum(FINDING_CATEGORIES),
    itemNo: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: 'declaration item (GNo) concerned' })),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
    affectedQuantity: Type.Optional(Decimal(5)),
  },
  { additionalProperties: false },
)

export const ResultSchema = Type.Object(
  {
    result: Type.Enum(['COMPLIANT', 'NON_COMPLIANT']),
    findings: Type.Array(FindingSchema, { maxItems: 50, default: [] }),
    disposal: Type.Optional(Type.Enum(DISPOSALS)),
    notes: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
)
export type InspectionResult = Static<typeof ResultSchema>

export const InspectionSchema = Type.Object({
  id: Uuid,
  declarationId: Uuid,
  entryId: Type.Union([Type.String(), Type.Null()]),
  kind: Type.Enum(['DOCUMENT', 'PHYSICAL']),
  source: Type.String(),
  state: Type.Enum(['OPEN', 'IN_PROGRESS', 'DONE']),
  officerId: Type.Union([Uuid, Type.Null()]),
  orderedAt: UtcTime,
  startedAt: Type.Union([UtcTime, Type.Null()]),
  finishedAt: Type.Union([UtcTime, Type.Null()]),
  result: Type.Union([Type.Enum(['COMPLIANT', 'NON_COMPLIANT']), Type.Null()]),
  findings: Type.Union([Type.Array(FindingSchema), Type.Null()]),
  disposal: Type.Union([Type.Enum(DISPOSALS), Type.Null()]),
  notes: Type.Union([Type.String(), Type.Null()]),
})
export type Inspection = Static<typeof InspectionSchema>

export const ListInspectionsQuerySchema = Type.Object(
  {
    state: Type.Optional(Type.Enum(['OPEN', 'IN_PROGRESS', 'DONE'])),
    declarationId: Type.Optional(Uuid),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)
