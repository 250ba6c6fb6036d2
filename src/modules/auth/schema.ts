import { Type, type Static } from 'typebox'
import { Uuid, UtcTime } from '../../shared/schema.js'

export const PasswordLoginSchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
)
export type PasswordLogin = Static<typeof PasswordLoginSchema>

export const ChallengeRequestSchema = Type.Object(
  { cardNo: Type.String({ minLength: 1, maxLength: 32 }) },
  { additionalProperties: false },
)
export const ChallengeSchema = Type.Object({
  challengeId: Uuid,
  challenge: Type.String({ description: 'sign these UTF-8 bytes with the card key' }),
  expiresAt: UtcTime,
})
export const CardLoginSchema = Type.Object(
  {
    challengeId: Uuid,
    signature: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'base64url signature over the challenge text',
    }),
  },
  { additionalProperties: false },
)
export const SessionSchema = Type.Object({ token: Type.String(), expiresAt: UtcTime, role: Type.String() })
export const MeSchema = Type.Object({
  kind: Type.Union([Type.Literal('user'), Type.Literal('card')]),
  id: Uuid,
  role: Type.String(),
  name: Type.String(),
  enterpriseId: Type.Optional(Uuid),
  cardNo: Type.Optional(Type.String()),
})
