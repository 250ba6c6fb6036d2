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

// ---- user accounts (admins) ----------------------------------------------------------------------------------

/** Passwords an admin sets: at least 8 characters (the login form accepts up to 256). */
export const PASSWORD_MIN = 8
export const NewPassword = Type.String({
  minLength: PASSWORD_MIN,
  maxLength: 256,
  description: `at least ${PASSWORD_MIN} characters`,
})

export const UserSchema = Type.Object(
  {
    id: Uuid,
    username: Type.String(),
    displayName: Type.String(),
    role: Type.Union([Type.Literal('admin'), Type.Literal('officer')]),
    createdAt: UtcTime,
    disabledAt: Type.Union([UtcTime, Type.Null()]),
  },
  { additionalProperties: false },
)
export type User = Static<typeof UserSchema>

export const ListUsersQuerySchema = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 64, description: 'part of the username or display name' })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
)
export const UserPageSchema = Type.Object({ items: Type.Array(UserSchema), total: Type.Integer() })

export const CreateUserSchema = Type.Object(
  {
    username: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
      description: 'letters, digits, dot, underscore, hyphen; starts with a letter or digit',
    }),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })),
    role: Type.Union([Type.Literal('admin'), Type.Literal('officer')]),
    password: Type.Optional(NewPassword),
  },
  { additionalProperties: false },
)
export type CreateUser = Static<typeof CreateUserSchema>
export const CreatedUserSchema = Type.Object({
  user: UserSchema,
  password: Type.Optional(
    Type.String({ description: 'the generated password when none was given: shown once, never stored in clear' }),
  ),
})

export const SetPasswordSchema = Type.Object({ password: NewPassword }, { additionalProperties: false })
