import { Type, type Static } from 'typebox'
import { UtcTime } from '../../shared/schema.js'

/**
 * One signed checkpoint, as exported (`kouan audit checkpoints export`, one JSON object per line) and served: chain
 * `chain` held `seq` rows ending in `hash` at `at`. The signature covers the canonical JSON of the other fields but
 * `publicKey` (see {@link checkpointPayload}); `kid` is the key id of `publicKey`.
 */
export const CheckpointSchema = Type.Object(
  {
    chain: Type.Integer({ minimum: 0, maximum: 32767, description: 'audit chain (0–15)' }),
    seq: Type.Integer({ minimum: 1, description: 'rows in the chain at the checkpoint' }),
    hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: "hash of the chain's row number seq (its head then)" }),
    at: UtcTime,
    kid: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'checkpoint key id: base64url of the first 16 bytes of SHA-256 over the public key',
    }),
    alg: Type.String({ minLength: 1, maxLength: 32, description: 'signature algorithm (Ed25519, SM2)' }),
    publicKey: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: "the key's public half, base64url (pin its kid)" }),
    ),
    signature: Type.String({ minLength: 1, maxLength: 512, description: 'base64url' }),
  },
  { additionalProperties: false },
)
export type Checkpoint = Static<typeof CheckpointSchema>

export const CheckpointKeySchema = Type.Object(
  {
    kid: Type.String(),
    alg: Type.String(),
    publicKey: Type.String({ description: 'base64url' }),
    status: Type.Union([Type.Literal('ACTIVE'), Type.Literal('RETIRED')]),
    activatedAt: UtcTime,
    retiredAt: Type.Union([UtcTime, Type.Null()]),
  },
  { additionalProperties: false },
)
export type CheckpointKey = Static<typeof CheckpointKeySchema>

export const CheckpointsQuerySchema = Type.Object(
  {
    after: Type.Optional(Type.String({ maxLength: 100, description: 'cursor: `next` of the previous page' })),
    limit: Type.Integer({ minimum: 1, maximum: 5000, default: 1000 }),
  },
  { additionalProperties: false },
)

export const CheckpointPageSchema = Type.Object({
  items: Type.Array(CheckpointSchema),
  next: Type.Union([Type.String(), Type.Null()], {
    description: 'cursor of the next page; null when this one is the last',
  }),
})

export const CheckpointKeysSchema = Type.Object({ items: Type.Array(CheckpointKeySchema) })
