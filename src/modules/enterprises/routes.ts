import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { forbidden } from '../../errors.js'
import { errors, IdParams, security } from '../../shared/schema.js'
import { requireRole } from '../auth/index.js'
import * as repo from './repo.js'
import {
  AeoPartnersSchema,
  ChangeCreditSchema,
  CreateEnterpriseSchema,
  CreditHistorySchema,
  EnterpriseSchema,
  ListEnterprisesQuerySchema,
  UpdateEnterpriseSchema,
} from './schema.js'
import { changeCredit, getEnterprise, registerEnterprise, setAeoPartners, updateEnterprise } from './service.js'

export default async function enterpriseRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    '/enterprises',
    {
      schema: {
        tags: ['enterprises'],
        summary: 'Register an enterprise',
        security,
        body: CreateEnterpriseSchema,
        response: { 201: EnterpriseSchema, ...errors(400, 401, 403, 409, 422) },
      },
    },
    async (req, reply) => {
      const actor = await ctx.officer(req)
      reply.status(201)
      return registerEnterprise(ctx, actor, req.body)
    },
  )

  app.get(
    '/enterprises',
    {
      schema: {
        tags: ['enterprises'],
        summary: 'List enterprises (operators see only their own)',
        security,
        querystring: ListEnterprisesQuerySchema,
        response: {
          200: Type.Object({ items: Type.Array(EnterpriseSchema), total: Type.Integer() }),
          ...errors(400, 401),
        },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      return repo.listEnterprises(ctx.db, {
        ...req.query,
        ...(actor.kind === 'card' ? { id: actor.enterpriseId } : {}),
      })
    },
  )

  app.get(
    '/enterprises/:id',
    {
      schema: {
        tags: ['enterprises'],
        security,
        params: IdParams,
        response: { 200: EnterpriseSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      if (actor.kind === 'card' && actor.enterpriseId !== req.params.id)
        throw forbidden('operators see only their own enterprise')
      return getEnterprise(ctx, req.params.id)
    },
  )

  app.patch(
    '/enterprises/:id',
    {
      schema: {
        tags: ['enterprises'],
        summary: 'Update name or reachability',
        security,
        params: IdParams,
        body: UpdateEnterpriseSchema,
        response: { 200: EnterpriseSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const actor = await ctx.officer(req)
      return updateEnterprise(ctx, actor, req.params.id, req.body)
    },
  )

  app.post(
    '/enterprises/:id/credit',
    {
      schema: {
        tags: ['enterprises'],
        summary: 'Change the credit level (audited)',
        security,
        params: IdParams,
        body: ChangeCreditSchema,
        response: { 200: EnterpriseSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const actor = await ctx.officer(req)
      return changeCredit(ctx, actor, req.params.id, req.body.creditLevel, req.body.reason)
    },
  )

  app.get(
    '/enterprises/:id/credit-history',
    {
      schema: {
        tags: ['enterprises'],
        security,
        params: IdParams,
        response: { 200: CreditHistorySchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      if (actor.kind === 'card' && actor.enterpriseId !== req.params.id)
        throw forbidden('operators see only their own enterprise')
      await getEnterprise(ctx, req.params.id)
      return repo.creditHistory(ctx.db, req.params.id)
    },
  )

  app.get(
    '/aeo-partners',
    {
      schema: {
        tags: ['enterprises'],
        summary: 'AEO mutual-recognition partners',
        security,
        response: { 200: AeoPartnersSchema, ...errors(401) },
      },
    },
    async (req) => {
      await ctx.auth(req)
      return { items: await repo.listAeoPartners(ctx.db) }
    },
  )

  app.put(
    '/aeo-partners',
    {
      schema: {
        tags: ['enterprises'],
        summary: 'Replace the AEO partner list (admin)',
        security,
        body: AeoPartnersSchema,
        response: { 200: AeoPartnersSchema, ...errors(400, 401, 403, 422) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      requireRole(actor, 'admin')
      return { items: await setAeoPartners(ctx, actor, req.body.items) }
    },
  )
}
