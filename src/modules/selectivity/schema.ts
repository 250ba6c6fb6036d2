import { Type, type Static } from 'typebox'
import { Uuid, UtcTime } from '../../shared/schema.js'
import { CREDIT_LEVELS } from '../enterprises/index.js'
import { FIELDS, OPS } from './fields.js'

/** Lanes a declaration is routed to: green/blue release, yellow document check, red physical inspection. */
export const LANES = ['GREEN', 'YELLOW', 'RED', 'BLUE'] as const
export type Lane = (typeof LANES)[number]

// The field and operator lists live in fields.ts (importable by the web console).
export { FIELDS, HEADER_FIELDS, ITEM_FIELDS, OPS, type Field, type Op } from './fields.js'

export const ConditionSchema = Type.Object(
  {
    field: Type.Enum(FIELDS),
    op: Type.Enum(OPS),
    value: Type.Union(
      [
        Type.String({ maxLength: 200 }),
        Type.Number(),
        Type.Array(Type.Union([Type.String({ maxLength: 200 }), Type.Number()]), { minItems: 1, maxItems: 10_000 }),
      ],
      { description: 'a string or number; a list for in/notIn/prefix/notPrefix; [low, high] for between' },
    ),
  },
  { additionalProperties: false },
)
export type Condition = Static<typeof ConditionSchema>

export const ActionSchema = Type.Object(
  {
    lane: Type.Optional(Type.Enum(LANES, { description: 'hard rule: route to this lane (RED/YELLOW)' })),
    score: Type.Optional(Type.Number({ minimum: -100, maximum: 100, description: 'add to the risk score' })),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type Action = Static<typeof ActionSchema>

export const CreateRuleSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    conditions: Type.Array(ConditionSchema, { minItems: 1, maxItems: 20 }),
    action: ActionSchema,
  },
  { additionalProperties: false },
)
export type CreateRule = Static<typeof CreateRuleSchema>

export const RuleSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.String(),
  conditions: Type.Array(ConditionSchema),
  action: ActionSchema,
  active: Type.Boolean(),
  createdBy: Type.String(),
  activatedBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: UtcTime,
  updatedAt: UtcTime,
})
export type Rule = Static<typeof RuleSchema>

const CreditEffect = Type.Object(
  {
    factor: Type.Number({ minimum: 0, maximum: 10, description: 'multiplies the score' }),
    add: Type.Number({ minimum: -100, maximum: 100, description: 'then added to it' }),
    minLane: Type.Optional(Type.Enum(LANES)),
  },
  { additionalProperties: false },
)

export const ParamsSchema = Type.Object(
  {
    minRandomRate: Type.Number({ minimum: 0, maximum: 1, description: 'share drawn at random as the control group' }),
    randomLane: Type.Enum(['RED', 'YELLOW']),
    randomSeed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }),
    thresholds: Type.Object(
      { yellow: Type.Number({ minimum: 0, maximum: 100 }), red: Type.Number({ minimum: 0, maximum: 100 }) },
      { additionalProperties: false },
    ),
    credit: Type.Object(
      Object.fromEntries(CREDIT_LEVELS.map((l) => [l, CreditEffect])) as Record<
        (typeof CREDIT_LEVELS)[number],
        typeof CreditEffect
      >,
      { additionalProperties: false },
    ),
    aeoYellowToBlue: Type.Boolean({
      description: 'AEO traders whose score says yellow are released with post-clearance audit (blue)',
    }),
    laneCaps: Type.Object(
      { RED: Type.Number({ minimum: 0, maximum: 1 }), YELLOW: Type.Number({ minimum: 0, maximum: 1 }) },
      { additionalProperties: false, description: 'expected-rate caps over the rolling window' },
    ),
    capWindow: Type.Integer({ minimum: 10, maximum: 100_000 }),
    reviewCreditLevels: Type.Array(Type.Enum(CREDIT_LEVELS), {
      description: 'traders at these levels wait for an officer to accept',
    }),
    autoClearTradeModes: Type.Array(Type.String({ pattern: '^[0-9]{4}$' }), {
      description: 'release = closure (结关) for these trade modes',
    }),
    interceptScore: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 100,
        description: 'model score at or above which a declaration is intercepted (RED, never demoted by caps)',
      }),
    ),
    explorationRate: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'share of declarations the model is unsure about sent to a document check, so it keeps learning',
      }),
    ),
  },
  { additionalProperties: false },
)
export type Params = Static<typeof ParamsSchema>

export const ParamsVersionSchema = Type.Object({
  version: Type.Integer(),
  effectiveFrom: UtcTime,
  params: ParamsSchema,
  createdBy: Type.String(),
})

export const HitRatesQuerySchema = Type.Object(
  { from: Type.Optional(UtcTime), to: Type.Optional(UtcTime) },
  { additionalProperties: false },
)
export const HitRatesSchema = Type.Object({
  bySource: Type.Array(
    Type.Object({
      source: Type.String(),
      inspected: Type.Integer(),
      nonCompliant: Type.Integer(),
      hitRate: Type.Union([Type.Number(), Type.Null()]),
    }),
  ),
  targeted: Type.Object({
    inspected: Type.Integer(),
    nonCompliant: Type.Integer(),
    hitRate: Type.Union([Type.Number(), Type.Null()]),
  }),
  random: Type.Object({
    inspected: Type.Integer(),
    nonCompliant: Type.Integer(),
    hitRate: Type.Union([Type.Number(), Type.Null()]),
  }),
  liftPp: Type.Union([Type.Number(), Type.Null()], {
    description: 'targeted minus random hit rate, percentage points',
  }),
})
