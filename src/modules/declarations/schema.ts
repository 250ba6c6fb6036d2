import { Type, type Static } from 'typebox'
import { CustomsCode, Decimal, District, Iso3, SignatureSchema, Uuid, UtcTime } from '../../shared/schema.js'
import { LANES, type Lane } from '../selectivity/index.js'
import { CLIENT_REF_MAX, MAX_BATCH, MAX_ITEMS } from './limits.js'

/** Limits shared by the API, the service and the console (limits.ts, importable by the web console). */
export { CLIENT_REF_MAX, MAX_BATCH, MAX_ITEMS }
/** Lanes are the selectivity engine's (re-exported for the declaration's readers). */
export { LANES, type Lane, SignatureSchema }

export const STATES = [
  'SUBMITTED',
  'ACCEPTED',
  'REJECTED',
  'ASSESSED',
  'INSPECTING',
  'RELEASED',
  'DETAINED',
  'RETURNED',
  'CLEARED',
] as const
export type State = (typeof STATES)[number]

const Charge = Type.Object(
  {
    mark: Type.Enum([1, 2, 3], { description: '1 rate (%), 2 per unit, 3 total amount' }),
    amount: Decimal(4),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  },
  { additionalProperties: false },
)

export const ItemSchema = Type.Object(
  {
    hsCode: Type.String({
      pattern: '^[0-9]{10}$',
      description: 'CodeTS: 10-digit commodity code; digits 1-8 must be a China tariff line',
    }),
    ciqCode: Type.Optional(Type.String({ pattern: '^[0-9]{3}$' })),
    description: Type.String({ minLength: 1, maxLength: 255 }),
    model: Type.Optional(Type.String({ maxLength: 255, description: 'GModel: |-separated declaration elements' })),
    quantity: Decimal(5),
    unit: Type.String({ pattern: '^[0-9]{3}$', description: 'JGS-20 unit code (035 = kg)' }),
    unitPrice: Decimal(4),
    totalValue: Decimal(2),
    originCountry: Iso3,
    destinationCountry: Type.Optional(Iso3),
  },
  { additionalProperties: false },
)
export type Item = Static<typeof ItemSchema>

const declarationFields = {
  clientRef: Type.String({
    minLength: 1,
    maxLength: CLIENT_REF_MAX,
    pattern: '^[\\x21-\\x7E]+$',
    description: 'unique per declarant enterprise; resubmitting it returns the original',
  }),
  ieFlag: Type.Enum(['I', 'E'], { description: 'I import, E export' }),
  customsDistrict: District,
  iePort: District,
  tradeMode: Type.String({ pattern: '^[0-9]{4}$', description: '监管方式' }),
  cutMode: Type.Optional(Type.String({ pattern: '^[0-9]{3}$', description: '征免性质' })),
  transportMode: Type.String({ pattern: '^[0-9A-Z]$', description: '运输方式' }),
  transactionTerms: Type.String({ pattern: '^[1-7]$', description: '成交方式: 1 CIF … 7 EXW' }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  traderCode: CustomsCode,
  ownerCode: Type.Optional(CustomsCode),
  declarantCode: CustomsCode,
  tradeCountry: Iso3,
  departureCountry: Type.Optional(Iso3),
  billNo: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  voyageNo: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  manualNo: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{12}$', description: '备案号' })),
  packages: Type.Integer({ minimum: 1, maximum: 99_999_999 }),
  grossMassKg: Decimal(5),
  netMassKg: Decimal(5),
  freight: Type.Optional(Charge),
  insurance: Type.Optional(Charge),
  items: Type.Array(ItemSchema, { minItems: 1, maxItems: MAX_ITEMS }),
}

/** What the declarant signs: everything except `signature`. */
export const DeclarationContentSchema = Type.Object(declarationFields, { additionalProperties: false })
export type DeclarationContent = Static<typeof DeclarationContentSchema>

export const SubmitDeclarationSchema = Type.Object(
  { ...declarationFields, signature: SignatureSchema },
  { additionalProperties: false, $id: 'SubmitDeclaration' },
)
export type SubmitDeclaration = Static<typeof SubmitDeclarationSchema>

export const BatchSubmitSchema = Type.Object(
  {
    declarations: Type.Array(SubmitDeclarationSchema, { minItems: 1, maxItems: MAX_BATCH }),
  },
  { additionalProperties: false },
)

export const ReasonSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  ruleId: Type.Optional(Type.String()),
})
export const RiskSchema = Type.Object({
  score: Type.Number({ minimum: 0, maximum: 100 }),
  lane: Type.Enum(LANES),
  source: Type.Enum(['RULE', 'MODEL', 'RANDOM', 'MANUAL', 'CREDIT', 'NONE']),
  random: Type.Boolean({ description: 'picked by the random control draw' }),
  reasons: Type.Array(ReasonSchema),
  paramsVersion: Type.Integer(),
})

export const DeclarationSchema = Type.Object({
  id: Uuid,
  entryId: Type.Union([Type.String(), Type.Null()], {
    description: '18-digit customs number: district, year, I/E flag (1/0), sequence',
  }),
  clientRef: Type.String(),
  ieFlag: Type.String(),
  state: Type.Enum(STATES),
  lane: Type.Union([Type.Enum(LANES), Type.Null()]),
  traderId: Uuid,
  declarantId: Uuid,
  cardNo: Type.String(),
  totalValueCny: Type.String(),
  content: DeclarationContentSchema,
  signature: SignatureSchema,
  risk: Type.Union([RiskSchema, Type.Null()]),
  errors: Type.Union([
    Type.Array(Type.Object({ code: Type.String(), message: Type.String(), pointer: Type.String() })),
    Type.Null(),
  ]),
  submittedAt: UtcTime,
  acceptedAt: Type.Union([UtcTime, Type.Null()]),
  rejectedAt: Type.Union([UtcTime, Type.Null()]),
  assessedAt: Type.Union([UtcTime, Type.Null()]),
  inspectionOrderedAt: Type.Union([UtcTime, Type.Null()]),
  releasedAt: Type.Union([UtcTime, Type.Null()]),
  detainedAt: Type.Union([UtcTime, Type.Null()]),
  returnedAt: Type.Union([UtcTime, Type.Null()]),
  clearedAt: Type.Union([UtcTime, Type.Null()]),
  version: Type.Integer(),
})
export type Declaration = Static<typeof DeclarationSchema>

export const BatchResultSchema = Type.Object({
  results: Type.Array(
    Type.Object({
      index: Type.Integer(),
      status: Type.Integer({
        description: 'HTTP status this item would have had alone: 201 new, 200 duplicate, 4xx error',
      }),
      declaration: Type.Optional(DeclarationSchema),
      errors: Type.Optional(
        Type.Array(Type.Object({ code: Type.String(), message: Type.String(), pointer: Type.String() })),
      ),
    }),
  ),
  accepted: Type.Integer(),
  duplicates: Type.Integer(),
  failed: Type.Integer(),
})

export const ListDeclarationsQuerySchema = Type.Object(
  {
    state: Type.Optional(Type.Enum(STATES)),
    lane: Type.Optional(Type.Enum(LANES)),
    from: Type.Optional(UtcTime),
    to: Type.Optional(UtcTime),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)

export const RejectSchema = Type.Object(
  {
    errors: Type.Array(
      Type.Object(
        {
          code: Type.String({ pattern: '^[A-Z][A-Z0-9_]{2,63}$' }),
          message: Type.String({ minLength: 1, maxLength: 500 }),
          pointer: Type.String({
            pattern: '^(/[^/]*)*$',
            maxLength: 200,
            description: 'JSON Pointer into the declaration content, e.g. /items/0/hsCode',
          }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 50 },
    ),
  },
  { additionalProperties: false },
)

export const NoteSchema = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
)
