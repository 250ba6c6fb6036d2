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

// ---- verification (POST /audit/verify, what `kouan audit verify` runs) ----------------------------------------

export const VerifyRequestSchema = Type.Object(
  {
    checkpoints: Type.Optional(
      Type.String({
        maxLength: 50_000_000,
        description:
          'checkpoints exported earlier (`kouan audit checkpoints export`, JSON lines) to compare every chain with',
      }),
    ),
    trust: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 100,
        description: 'pinned checkpoint key ids: checkpoints signed by any other key are refused',
      }),
    ),
  },
  { additionalProperties: false },
)

const ChainProblemSchema = Type.Object({
  chain: Type.Integer({ description: 'the chain (0–15)' }),
  seq: Type.Integer({ description: "the row's number in its chain: with chain, where the problem is" }),
  problem: Type.Enum([
    'HASH_MISMATCH',
    'PREV_HASH_MISMATCH',
    'MISSING_ROW',
    'HEAD_MISMATCH',
    'CHECKPOINT_MISMATCH',
    'CHECKPOINT_ROW_MISSING',
  ]),
  firstDifferenceBetween: Type.Optional(
    Type.Array(Type.Integer(), {
      minItems: 2,
      maxItems: 2,
      description: 'checkpoint problems: the seq range the first rewritten or removed row lies in',
    }),
  ),
})

export const AuditReportSchema = Type.Object({
  ok: Type.Boolean(),
  chains: Type.Integer({ description: 'hash chains walked' }),
  rows: Type.Integer({ description: 'rows checked' }),
  problems: Type.Array(ChainProblemSchema),
  triggers: Type.Array(
    Type.Object({
      table: Type.String(),
      trigger: Type.String(),
      state: Type.Enum(['MISSING', 'DISABLED']),
    }),
    { description: 'append-only triggers missing or disabled' },
  ),
  checkpoints: Type.Optional(
    Type.Object({
      lines: Type.Integer(),
      used: Type.Integer({ description: 'checkpoints whose signature verified, compared with the chains' }),
      keys: Type.Array(
        Type.Object({ kid: Type.String(), alg: Type.String(), pinned: Type.Boolean(), checkpoints: Type.Integer() }),
      ),
      problems: Type.Array(Type.Object({ line: Type.Integer(), problem: Type.String(), message: Type.String() })),
    }),
  ),
})
