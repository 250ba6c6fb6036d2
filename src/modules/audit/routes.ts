import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppContext } from '../../context.js'
import { errors, security } from '../../shared/schema.js'
import { requireRole } from '../auth/index.js'
import {
  AuditReportSchema,
  CheckpointKeysSchema,
  CheckpointPageSchema,
  CheckpointsQuerySchema,
  VerifyRequestSchema,
} from './schema.js'
import { checkpointKeys, checkpointPage, verifyLog } from './service.js'

/**
 * `/api/v1/audit`: the signed checkpoints of the audit chains and their keys, for a collector that copies them out
 * of the database's reach (admins only; `kouan audit checkpoints export` does the same from the command line).
 */
export default async function auditRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/checkpoints',
    {
      schema: {
        tags: ['audit'],
        summary: 'Signed checkpoints of the audit chain heads, oldest first, paged by cursor (admins)',
        security,
        querystring: CheckpointsQuerySchema,
        response: { 200: CheckpointPageSchema, ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      requireRole(await ctx.officer(req), 'admin')
      return checkpointPage(ctx.db, req.query)
    },
  )

  app.get(
    '/checkpoint-keys',
    {
      schema: {
        tags: ['audit'],
        summary: 'Public halves of the checkpoint keys with their windows, to pin (admins)',
        security,
        response: { 200: CheckpointKeysSchema, ...errors(401, 403) },
      },
    },
    async (req) => {
      requireRole(await ctx.officer(req), 'admin')
      return { items: await checkpointKeys(ctx.db) }
    },
  )

  app.post(
    '/verify',
    {
      schema: {
        tags: ['audit'],
        summary:
          'Re-walk every hash chain and check the append-only triggers, optionally against exported checkpoints (admins; as `kouan audit verify`, may take a while)',
        security,
        body: VerifyRequestSchema,
        response: { 200: AuditReportSchema, ...errors(400, 401, 403) },
      },
      preValidation: async (req) => {
        req.body ??= {}
      },
    },
    async (req) => {
      requireRole(await ctx.officer(req), 'admin')
      const { checkpoints, trust } = req.body ?? {}
      return verifyLog(ctx.db, {
        ...(checkpoints === undefined ? {} : { checkpointsText: checkpoints }),
        ...(trust ? { trust: { kids: trust } } : {}),
      })
    },
  )
}
