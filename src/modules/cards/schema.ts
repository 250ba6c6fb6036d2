import { Type, type Static } from 'typebox'
import { Uuid, UtcTime } from '../../shared/schema.js'

export const CARD_KINDS = ['LEGAL', 'OPERATOR'] as const
export const CARD_ALGS = ['Ed25519', 'SM2'] as const
export const PublicKey = Type.String({
  pattern: '^(?:[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{87})$',
  description:
    "public key in base64url, of the card's alg: Ed25519 32 bytes (43 characters); SM2 the uncompressed point 04‖x‖y, 65 bytes (87 characters)",
})

export const IssueCardSchema = Type.Object(
  {
    enterpriseId: Uuid,
    kind: Type.Enum(CARD_KINDS, { default: 'OPERATOR' }),
    operatorName: Type.String({ minLength: 1, maxLength: 100 }),
    alg: Type.Enum(CARD_ALGS, {
      default: 'Ed25519',
      description: 'Ed25519, or SM2 (SM2 with SM3, signer ID 1234567812345678, r‖s signatures)',
    }),
    publicKey: PublicKey,
  },
  { additionalProperties: false },
)
export type IssueCard = Static<typeof IssueCardSchema>

export const ReplaceCardSchema = Type.Object(
  {
    alg: Type.Optional(
      Type.Enum(CARD_ALGS, {
        description: "the new card's alg (default: the old card's), e.g. an Ed25519 card replaced by an SM2 card",
      }),
    ),
    publicKey: PublicKey,
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
)

export const REVOKE_REASONS = ['LOST', 'COMPROMISED', 'EMPLOYEE_LEFT', 'ENTERPRISE_CLOSED', 'OTHER'] as const
export const RevokeCardSchema = Type.Object(
  {
    reason: Type.Enum(REVOKE_REASONS),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
)

export const CardSchema = Type.Object({
  id: Uuid,
  cardNo: Type.String(),
  enterpriseId: Uuid,
  kind: Type.String(),
  operatorName: Type.String(),
  alg: Type.String(),
  publicKey: Type.String(),
  keyId: Type.String(),
  status: Type.Union([Type.Literal('ACTIVE'), Type.Literal('REVOKED')]),
  issueType: Type.Union([Type.Literal('NEW'), Type.Literal('REPLACEMENT')]),
  replaces: Type.Union([Uuid, Type.Null()]),
  issuedAt: UtcTime,
  revokedAt: Type.Union([UtcTime, Type.Null()]),
  revokeReason: Type.Union([Type.String(), Type.Null()]),
})
export type Card = Static<typeof CardSchema>

export const CardStatsQuerySchema = Type.Object(
  {
    from: Type.String({ format: 'date' }),
    to: Type.String({ format: 'date' }),
    period: Type.Union([Type.Literal('day'), Type.Literal('month'), Type.Literal('quarter'), Type.Literal('year')], {
      default: 'month',
    }),
  },
  { additionalProperties: false },
)
export const CardStatsSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      period: Type.String(),
      newCards: Type.Integer(),
      replacements: Type.Integer(),
      revocations: Type.Integer(),
    }),
  ),
  total: Type.Object({ newCards: Type.Integer(), replacements: Type.Integer(), revocations: Type.Integer() }),
})
