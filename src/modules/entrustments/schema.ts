import { Type, type Static } from 'typebox'
import { CustomsCode, District, SignatureSchema, Uuid, UtcTime } from '../../shared/schema.js'

/** Limits shared by the API and the service. */
export const CLIENT_REF_MAX = 64
export const MAX_SCOPE_CODES = 100
export const REASON_MAX = 500

/**
 * States as served. PROPOSED, ACTIVE, DECLINED and REVOKED are stored; EXPIRED is computed: a PROPOSED or
 * ACTIVE entrustment whose `validTo` lies before today's China date.
 */
export const ENTRUSTMENT_STATES = ['PROPOSED', 'ACTIVE', 'DECLINED', 'REVOKED', 'EXPIRED'] as const
export type EntrustmentState = (typeof ENTRUSTMENT_STATES)[number]
export type StoredState = Exclude<EntrustmentState, 'EXPIRED'>

/** A port card's signature `{cardNo, alg, value}`, as on declarations (the algorithms the cards support). */
export type Signature = Static<typeof SignatureSchema>

const ChinaDate = Type.String({
  format: 'date',
  description: 'China calendar date (Asia/Shanghai), YYYY-MM-DD; the period includes both ends',
})
const TradeMode = Type.String({ pattern: '^[0-9]{4}$', description: '监管方式 (4 digits)' })
const allOr = <T extends ReturnType<typeof Type.String>>(item: T, what: string) =>
  Type.Union([
    Type.Literal('ALL', { description: `every ${what}` }),
    Type.Array(item, { minItems: 1, maxItems: MAX_SCOPE_CODES, uniqueItems: true }),
  ])

const termsFields = {
  clientRef: Type.String({
    minLength: 1,
    maxLength: CLIENT_REF_MAX,
    pattern: '^[\\x21-\\x7E]+$',
    description: 'unique per trader enterprise; resending it returns the original',
  }),
  /** The entrusting trader (境内收发货人): the enterprise of the calling operator. */
  traderCode: CustomsCode,
  /** The entrusted declarant enterprise (申报单位). */
  declarantCode: CustomsCode,
  validFrom: ChinaDate,
  validTo: ChinaDate,
  tradeModes: allOr(TradeMode, 'trade mode'),
  customsDistricts: allOr(District, 'customs district; a code ending in 00 (the district itself) covers its offices'),
  ieFlag: Type.Optional(Type.Enum(['I', 'E'], { description: 'I imports only, E exports only; absent: both' })),
}

/** What the trader signs: the creation body without `signature` (RFC 8785 canonical JSON, UTF-8). */
export const EntrustmentTermsSchema = Type.Object(termsFields, { additionalProperties: false })
export type EntrustmentTerms = Static<typeof EntrustmentTermsSchema>

export const CreateEntrustmentSchema = Type.Object(
  { ...termsFields, signature: SignatureSchema },
  { additionalProperties: false, $id: 'CreateEntrustment' },
)
export type CreateEntrustment = Static<typeof CreateEntrustmentSchema>

const acceptanceFields = {
  decision: Type.Literal('ACCEPT'),
  entrustmentId: Uuid,
  termsHash: Type.String({
    pattern: '^[0-9a-f]{64}$',
    description: 'SHA-256 (hex) of the canonical terms the trader signed, as served in `termsHash`',
  }),
}
/** What the declarant signs to accept: the acceptance body without `signature`. */
export const AcceptanceSchema = Type.Object(acceptanceFields, { additionalProperties: false })
export type Acceptance = Static<typeof AcceptanceSchema>
export const AcceptEntrustmentSchema = Type.Object(
  { ...acceptanceFields, signature: SignatureSchema },
  { additionalProperties: false },
)
export type AcceptEntrustment = Static<typeof AcceptEntrustmentSchema>

export const ReasonBodySchema = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: REASON_MAX })) },
  { additionalProperties: false },
)

export const EntrustmentSchema = Type.Object({
  id: Uuid,
  clientRef: Type.String(),
  state: Type.Enum(ENTRUSTMENT_STATES),
  traderId: Uuid,
  traderCode: Type.String(),
  traderName: Type.String(),
  declarantId: Uuid,
  declarantCode: Type.String(),
  declarantName: Type.String(),
  validFrom: Type.String({ format: 'date' }),
  validTo: Type.String({ format: 'date' }),
  tradeModes: Type.Union([Type.Literal('ALL'), Type.Array(Type.String())]),
  customsDistricts: Type.Union([Type.Literal('ALL'), Type.Array(Type.String())]),
  ieFlag: Type.Union([Type.Enum(['I', 'E']), Type.Null()]),
  terms: EntrustmentTermsSchema,
  termsHash: Type.String({ description: 'SHA-256 (hex) of the canonical terms; the declarant signs it to accept' }),
  traderSignature: SignatureSchema,
  declarantSignature: Type.Union([SignatureSchema, Type.Null()]),
  createdAt: UtcTime,
  acceptedAt: Type.Union([UtcTime, Type.Null()]),
  declinedAt: Type.Union([UtcTime, Type.Null()]),
  revokedAt: Type.Union([UtcTime, Type.Null()]),
  reason: Type.Union([Type.String({ description: 'why it was declined or revoked' }), Type.Null()]),
  version: Type.Integer(),
})
export type Entrustment = Static<typeof EntrustmentSchema>

export const ListEntrustmentsQuerySchema = Type.Object(
  {
    state: Type.Optional(Type.Enum(ENTRUSTMENT_STATES)),
    role: Type.Optional(
      Type.Enum(['TRADER', 'DECLARANT'], {
        description: 'operators: only those where their enterprise is the trader, or the declarant',
      }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)
export type ListEntrustmentsQuery = Static<typeof ListEntrustmentsQuerySchema>
