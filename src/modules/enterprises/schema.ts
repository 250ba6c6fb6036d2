import { Type, type Static } from 'typebox'
import { CustomsCode, District, Iso3, Uscc, Uuid, UtcTime } from '../../shared/schema.js'

export const CREDIT_LEVELS = ['ADVANCED_CERTIFIED', 'CERTIFIED', 'REGULAR', 'DISHONEST', 'SERIOUSLY_DISHONEST'] as const
export type CreditLevel = (typeof CREDIT_LEVELS)[number]
export const CreditLevelSchema = Type.Enum(CREDIT_LEVELS, {
  description:
    'Order 282 credit tiers: advanced certified and certified are China AEO; dishonest tiers get most checks',
})

export const NAME_MAX = 200

export const CreateEnterpriseSchema = Type.Object(
  {
    uscc: Uscc,
    customsCode: CustomsCode,
    name: Type.String({ minLength: 1, maxLength: NAME_MAX }),
    nameEn: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_MAX })),
    creditLevel: Type.Optional(CreditLevelSchema),
    reachable: Type.Optional(Type.Boolean()),
    registeredDistrict: District,
  },
  { additionalProperties: false },
)
export type CreateEnterprise = Static<typeof CreateEnterpriseSchema>

export const EnterpriseSchema = Type.Object({
  id: Uuid,
  uscc: Type.String(),
  customsCode: Type.String(),
  name: Type.String(),
  nameEn: Type.Union([Type.String(), Type.Null()]),
  creditLevel: CreditLevelSchema,
  reachable: Type.Boolean(),
  registeredDistrict: Type.String(),
  createdAt: UtcTime,
  updatedAt: UtcTime,
})
export type Enterprise = Static<typeof EnterpriseSchema>

export const ChangeCreditSchema = Type.Object(
  {
    creditLevel: CreditLevelSchema,
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
)

export const UpdateEnterpriseSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_MAX })),
    nameEn: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_MAX })),
    reachable: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const ListEnterprisesQuerySchema = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 100 })),
    creditLevel: Type.Optional(CreditLevelSchema),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)

export const CreditHistorySchema = Type.Array(
  Type.Object({
    creditLevel: CreditLevelSchema,
    effectiveFrom: UtcTime,
    reason: Type.String(),
    changedBy: Type.String(),
  }),
)

export const AeoPartnerSchema = Type.Object(
  {
    country: Iso3,
    recognisedFrom: Type.String({ format: 'date' }),
    recognisedTo: Type.Optional(Type.Union([Type.String({ format: 'date' }), Type.Null()])),
  },
  { additionalProperties: false },
)
export type AeoPartner = Static<typeof AeoPartnerSchema>
export const AeoPartnersSchema = Type.Object(
  { items: Type.Array(AeoPartnerSchema, { maxItems: 300 }) },
  { additionalProperties: false },
)
