import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { notFound } from '../../errors.js'
import { errors, IdParams, security } from '../../shared/schema.js'
import * as repo from './repo.js'
import { InspectionSchema, ListInspectionsQuerySchema, ResultSchema } from './schema.js'
import { recordResult, startInspection } from './service.js'

export default async function inspectionRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/',
    {
      schema: {
        tags: ['inspections'],
        summary: 'Inspection tasks (officers)',
        security,
        querystring: ListInspectionsQuerySchema,
        response: {
          200: Type.Object({ items: Type.Array(InspectionSchema), total: Type.Integer() }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return repo.listInspections(ctx.db, req.query)
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags: ['inspections'],
        security,
        params: IdParams,
        response: { 200: InspectionSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      const i = await repo.findInspection(ctx.db, req.params.id)
      if (!i) throw notFound('INSPECTION_NOT_FOUND', `inspection ${req.params.id}`, '/params/id')
      return i
    },
  )

  app.post(
    '/:id/start',
    {
      schema: {
        tags: ['inspections'],
        summary: 'Officer starts the inspection',
        security,
        params: IdParams,
        response: { 200: InspectionSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => startInspection(ctx, await ctx.officer(req), req.params.id),
  )

  app.post(
    '/:id/result',
    {
      schema: {
        tags: ['inspections'],
        summary: 'Record the result and disposal; moves the declaration',
        security,
        params: IdParams,
        body: ResultSchema,
        response: { 200: InspectionSchema, ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    async (req) => recordResult(ctx, await ctx.officer(req), req.params.id, req.body),
  )
}
