import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { notFound } from '../../errors.js'
import { Uuid, errors, IdParams, security } from '../../shared/schema.js'
import * as repo from './repo.js'
import {
  CardSchema,
  CardStatsQuerySchema,
  CardStatsSchema,
  IssueCardSchema,
  ReplaceCardSchema,
  RevokeCardSchema,
} from './schema.js'
import { issueCard, replaceCard, revokeCard } from './service.js'

export default async function cardRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    '/',
    {
      schema: {
        tags: ['cards'],
        summary: 'Issue an electronic port card',
        security,
        body: IssueCardSchema,
        response: { 201: CardSchema, ...errors(400, 401, 403, 404, 422) },
      },
    },
    async (req, reply) => {
      const actor = await ctx.officer(req)
      reply.status(201)
      return issueCard(ctx, actor, req.body)
    },
  )

  app.get(
    '/',
    {
      schema: {
        tags: ['cards'],
        security,
        querystring: Type.Object(
          {
            enterpriseId: Type.Optional(Uuid),
            status: Type.Optional(Type.Union([Type.Literal('ACTIVE'), Type.Literal('REVOKED')])),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
            offset: Type.Integer({ minimum: 0, default: 0 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(CardSchema), total: Type.Integer() }), ...errors(400, 401) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      return repo.listCards(ctx.db, {
        ...req.query,
        ...(actor.kind === 'card' ? { enterpriseId: actor.enterpriseId } : {}),
      })
    },
  )

  app.get(
    '/stats',
    {
      schema: {
        tags: ['cards'],
        summary: 'New vs replacement issuance per period',
        security,
        querystring: CardStatsQuerySchema,
        response: { 200: CardStatsSchema, ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return repo.cardStats(ctx.db, req.query.from, req.query.to, req.query.period)
    },
  )

  app.get(
    '/:id',
    {
      schema: { tags: ['cards'], security, params: IdParams, response: { 200: CardSchema, ...errors(400, 401, 404) } },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      const card = await repo.findCard(ctx.db, req.params.id)
      // Another enterprise's card answers exactly as a card that does not exist: an operator learns nothing of it.
      if (!card || (actor.kind === 'card' && actor.enterpriseId !== card.enterpriseId))
        throw notFound('CARD_NOT_FOUND', `card ${req.params.id}`, '/params/id')
      return card
    },
  )

  app.post(
    '/:id/replace',
    {
      schema: {
        tags: ['cards'],
        summary: 'Replace a card (old one revoked)',
        security,
        params: IdParams,
        body: ReplaceCardSchema,
        response: { 201: CardSchema, ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const actor = await ctx.officer(req)
      reply.status(201)
      return replaceCard(ctx, actor, req.params.id, req.body.publicKey, req.body.reason, req.body.alg)
    },
  )

  app.post(
    '/:id/revoke',
    {
      schema: {
        tags: ['cards'],
        summary: 'Revoke a card (officers; operators for their own enterprise)',
        security,
        params: IdParams,
        body: RevokeCardSchema,
        response: { 200: CardSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      return revokeCard(ctx, actor, req.params.id, req.body.reason, req.body.note)
    },
  )
}
