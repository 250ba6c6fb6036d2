import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { IdParams, errors, security } from '../../shared/schema.js'
import {
  AcceptEntrustmentSchema,
  CreateEntrustmentSchema,
  EntrustmentSchema,
  ListEntrustmentsQuerySchema,
  ReasonBodySchema,
} from './schema.js'
import {
  acceptEntrustment,
  createEntrustment,
  declineEntrustment,
  getEntrustment,
  listEntrustments,
  revokeEntrustment,
} from './service.js'

/** Electronic entrustments (报关委托) between a trader and a declarant enterprise. */
export default async function entrustmentRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    '/',
    {
      schema: {
        tags: ['entrustments'],
        summary: "Entrust a declarant enterprise (trader's operators; signed by a card of the trader)",
        security,
        body: CreateEntrustmentSchema,
        response: { 201: EntrustmentSchema, 200: EntrustmentSchema, ...errors(400, 401, 403, 409, 422) },
      },
    },
    async (req, reply) => {
      const r = await createEntrustment(ctx, await ctx.auth(req), req.body)
      reply.status(r.status)
      return r.entrustment
    },
  )

  app.get(
    '/',
    {
      schema: {
        tags: ['entrustments'],
        summary: 'List entrustments (operators: those naming their enterprise; officers and admins: all)',
        security,
        querystring: ListEntrustmentsQuerySchema,
        response: {
          200: Type.Object({ items: Type.Array(EntrustmentSchema), total: Type.Integer() }),
          ...errors(400, 401),
        },
      },
    },
    async (req) => listEntrustments(ctx, await ctx.auth(req), req.query),
  )

  app.get(
    '/:id',
    {
      schema: {
        tags: ['entrustments'],
        summary: 'One entrustment (its two parties, officers and admins; anyone else 404)',
        security,
        params: IdParams,
        response: { 200: EntrustmentSchema, ...errors(400, 401, 404) },
      },
    },
    async (req) => getEntrustment(ctx, await ctx.auth(req), req.params.id),
  )

  app.post(
    '/:id/accept',
    {
      schema: {
        tags: ['entrustments'],
        summary: "Accept a proposed entrustment (declarant's operators; signed by a card of the declarant)",
        security,
        params: IdParams,
        body: AcceptEntrustmentSchema,
        response: { 200: EntrustmentSchema, ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    async (req) => acceptEntrustment(ctx, await ctx.auth(req), req.params.id, req.body),
  )

  const partyMove = (path: string, summary: string, fn: typeof declineEntrustment) =>
    app.post(
      path,
      {
        schema: {
          tags: ['entrustments'],
          summary,
          security,
          params: IdParams,
          body: ReasonBodySchema,
          response: { 200: EntrustmentSchema, ...errors(400, 401, 403, 404, 409) },
        },
        // The reason is optional, and so is the body that carries it.
        preValidation: async (req) => {
          req.body ??= {}
        },
      },
      async (req) => fn(ctx, await ctx.auth(req), req.params.id, req.body?.reason),
    )
  partyMove('/:id/decline', "Decline a proposed entrustment (declarant's operators)", declineEntrustment)
  partyMove('/:id/revoke', "Revoke a proposed or active entrustment (trader's operators)", revokeEntrustment)
}
