import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { notFound } from '../../errors.js'
import { UtcTime, errors, IdParams, security } from '../../shared/schema.js'
import { requireRole } from '../auth/index.js'
import * as repo from './repo.js'
import {
  CreateRuleSchema,
  HitRatesQuerySchema,
  HitRatesSchema,
  ParamsSchema,
  ParamsVersionSchema,
  RuleSchema,
} from './schema.js'
import { createRule, hitRates, publishParams, setRuleActive } from './service.js'

export default async function selectivityRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/rules',
    {
      schema: {
        tags: ['selectivity'],
        security,
        response: { 200: Type.Object({ items: Type.Array(RuleSchema) }), ...errors(401, 403) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return { items: await repo.listRules(ctx.db) }
    },
  )

  app.post(
    '/rules',
    {
      schema: {
        tags: ['selectivity'],
        summary: 'Author a targeting rule (created inactive)',
        security,
        body: CreateRuleSchema,
        response: { 201: RuleSchema, ...errors(400, 401, 403, 409, 422) },
      },
    },
    async (req, reply) => {
      const actor = await ctx.officer(req)
      reply.status(201)
      return createRule(ctx, actor, req.body)
    },
  )

  app.get(
    '/rules/:id',
    {
      schema: {
        tags: ['selectivity'],
        security,
        params: IdParams,
        response: { 200: RuleSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      const r = await repo.findRule(ctx.db, req.params.id)
      if (!r) throw notFound('RULE_NOT_FOUND', `rule ${req.params.id}`, '/params/id')
      return r
    },
  )

  app.post(
    '/rules/:id/activate',
    {
      schema: {
        tags: ['selectivity'],
        summary: 'Activate a rule (by an officer other than its author)',
        security,
        params: IdParams,
        response: { 200: RuleSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => setRuleActive(ctx, await ctx.officer(req), req.params.id, true),
  )

  app.post(
    '/rules/:id/deactivate',
    {
      schema: {
        tags: ['selectivity'],
        security,
        params: IdParams,
        response: { 200: RuleSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => setRuleActive(ctx, await ctx.officer(req), req.params.id, false),
  )

  app.get(
    '/params',
    {
      schema: {
        tags: ['selectivity'],
        summary: 'Parameters in force',
        security,
        response: { 200: ParamsVersionSchema, ...errors(401, 403) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return (await repo.currentParams(ctx.db, ctx.clock.now().toISOString()))!
    },
  )

  app.put(
    '/params',
    {
      schema: {
        tags: ['selectivity'],
        summary: 'Publish a new parameter version (admin)',
        security,
        body: Type.Object(
          { params: ParamsSchema, effectiveFrom: Type.Optional(UtcTime) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ version: Type.Integer() }), ...errors(400, 401, 403, 422) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      requireRole(actor, 'admin')
      return { version: await publishParams(ctx, actor, req.body.params, req.body.effectiveFrom) }
    },
  )

  app.get(
    '/hit-rates',
    {
      schema: {
        tags: ['selectivity'],
        summary: 'Hit rate of targeted vs random selection, from inspection results',
        security,
        querystring: HitRatesQuerySchema,
        response: { 200: HitRatesSchema, ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return hitRates(ctx.db, req.query.from, req.query.to)
    },
  )
}
