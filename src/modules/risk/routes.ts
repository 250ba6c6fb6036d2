import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { UtcTime, errors, security } from '../../shared/schema.js'
import { actorRef } from '../auth/index.js'
import { listModels, promoteModel, rollbackModel, trainModel, weeklyHitRates } from './service.js'

const ModelSchema = Type.Object({
  version: Type.Integer(),
  status: Type.Enum(['CANDIDATE', 'ACTIVE', 'RETIRED']),
  createdAt: UtcTime,
  createdBy: Type.String(),
  trainedRows: Type.Integer(),
  metrics: Type.Record(Type.String(), Type.Number()),
  promotedAt: Type.Union([UtcTime, Type.Null()]),
  promotedBy: Type.Union([Type.String(), Type.Null()]),
})
const VersionParams = Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false })
const Rate = Type.Union([Type.Number(), Type.Null()])

export default async function riskRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // A promotion or rollback takes effect in this process at once, in the others at their next sync.
  const refresh = async <T>(x: T) => {
    await ctx.risk.sync(ctx.db)
    return x
  }

  app.get(
    '/models',
    {
      schema: {
        tags: ['risk'],
        summary: 'Risk model versions',
        security,
        response: { 200: Type.Object({ items: Type.Array(ModelSchema) }), ...errors(401, 403) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return { items: await listModels(ctx.db) }
    },
  )

  app.post(
    '/models/train',
    {
      schema: {
        tags: ['risk'],
        summary: 'Train a candidate model on the inspection results in the database',
        security,
        response: { 201: ModelSchema, ...errors(401, 403, 422) },
      },
    },
    async (req, reply) => {
      const actor = await ctx.officer(req)
      const m = await trainModel(ctx, actorRef(actor), (msg) => req.log.info(msg))
      reply.status(201)
      return m
    },
  )

  app.post(
    '/models/:version/promote',
    {
      schema: {
        tags: ['risk'],
        summary: 'Make a model version the active one',
        security,
        params: VersionParams,
        response: { 200: ModelSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => refresh(await promoteModel(ctx, actorRef(await ctx.officer(req)), req.params.version)),
  )

  app.post(
    '/models/rollback',
    {
      schema: {
        tags: ['risk'],
        summary: 'Re-activate the previously active model',
        security,
        response: { 200: ModelSchema, ...errors(401, 403, 409) },
      },
    },
    async (req) => refresh(await rollbackModel(ctx, actorRef(await ctx.officer(req)))),
  )

  app.get(
    '/status',
    {
      schema: {
        tags: ['risk'],
        summary: 'Active model and the size of the scoring history in this process',
        security,
        response: {
          200: Type.Object({
            activeVersion: Type.Union([Type.Integer(), Type.Null()]),
            historyKeys: Type.Integer(),
            labelled: Type.Integer(),
            frauds: Type.Integer(),
          }),
          ...errors(401, 403),
        },
      },
    },
    async (req) => {
      await ctx.officer(req)
      const h = ctx.risk.history
      return {
        activeVersion: ctx.risk.modelVersion || null,
        historyKeys: h.size,
        labelled: h.labelled,
        frauds: h.frauds,
      }
    },
  )

  app.get(
    '/hit-rates/weekly',
    {
      schema: {
        tags: ['risk'],
        summary: 'Weekly hit rate of targeted vs random selection, trend and drift',
        security,
        querystring: Type.Object(
          { weeks: Type.Integer({ minimum: 1, maximum: 104, default: 12 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                week: Type.String(),
                targetedInspected: Type.Integer(),
                targetedHitRate: Rate,
                randomInspected: Type.Integer(),
                randomHitRate: Rate,
                liftPp: Rate,
              }),
            ),
            liftTrendPpPerWeek: Rate,
            drift: Type.Boolean(),
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return weeklyHitRates(ctx.db, ctx.clock.now(), req.query.weeks)
    },
  )
}
