import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { PdfBody, errors, security } from '../../shared/schema.js'
import { actorRef, requireRole } from '../auth/index.js'
import { publicUrlOf } from '../../config.js'
import * as repo from './repo.js'
import {
  ArchiveSchema,
  ArchiveSummarySchema,
  EXPORT_NOTICE,
  EntryParams,
  ExportArchivesQuerySchema,
  ListArchivesQuerySchema,
  ListPrintsQuerySchema,
  ListPurgeRunsQuerySchema,
  PrintLogSchema,
  PurgeRequestSchema,
  PurgeResultSchema,
  PurgeRunPageSchema,
  RetentionRulesSchema,
} from './schema.js'
import {
  exportArchives,
  getArchive,
  listArchives,
  listPrints,
  listPurgeRuns,
  printArchive,
  purgeArchives,
  replaceRetentionRules,
} from './service.js'

/**
 * `/api/v1/archives`: self-service query, printing and export of archived declarations for their consignee or
 * consignor enterprise (officers see all), the print log, retention rules and the purge.
 */
export default async function archiveRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const base = publicUrlOf(ctx.config)

  app.get(
    '/',
    {
      schema: {
        tags: ['archives'],
        summary:
          "Archived declarations within retention (operators: their enterprise's; dishonest or unreachable enterprises are refused)",
        security,
        querystring: ListArchivesQuerySchema,
        response: {
          200: Type.Object({ items: Type.Array(ArchiveSummarySchema), total: Type.Integer() }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => listArchives(ctx, await ctx.auth(req), req.query),
  )

  app.get(
    '/export',
    {
      schema: {
        tags: ['archives'],
        summary: `CSV export of the archives a query finds (logged; first line: ${EXPORT_NOTICE})`,
        security,
        querystring: ExportArchivesQuerySchema,
        response: { 200: Type.String({ description: 'text/csv' }), ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const r = await exportArchives(ctx, await ctx.auth(req), req.query)
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="archives.csv"')
        .header('x-kouan-notice', 'for internal management use only')
        .header('x-kouan-rows', String(r.rows))
      return r.csv
    },
  )

  app.get(
    '/prints',
    {
      schema: {
        tags: ['archives'],
        summary: "Log of printouts and exports: who, what, when (operators: their enterprise's)",
        security,
        querystring: ListPrintsQuerySchema,
        response: {
          200: Type.Object({ items: Type.Array(PrintLogSchema), total: Type.Integer() }),
          ...errors(400, 401),
        },
      },
    },
    async (req) => listPrints(ctx, await ctx.auth(req), req.query),
  )

  app.get(
    '/retention-rules',
    {
      schema: {
        tags: ['archives'],
        summary: 'Retention classes: rules giving years kept after clearance; the longest matching rule wins',
        security,
        response: { 200: RetentionRulesSchema, ...errors(401) },
      },
    },
    async (req) => {
      await ctx.auth(req)
      return { items: await repo.loadRetentionRules(ctx.db) }
    },
  )

  app.put(
    '/retention-rules',
    {
      schema: {
        tags: ['archives'],
        summary: 'Replace the retention classes (admins; applies to archives created afterwards)',
        security,
        body: RetentionRulesSchema,
        response: { 200: RetentionRulesSchema, ...errors(400, 401, 403, 422) },
      },
    },
    async (req) => {
      const actor = await ctx.officer(req)
      requireRole(actor, 'admin')
      return replaceRetentionRules(ctx, actor, req.body.items)
    },
  )

  app.post(
    '/purge',
    {
      schema: {
        tags: ['archives'],
        summary: 'Remove archives past retention (admins); dryRun (the default) lists what would go',
        security,
        body: PurgeRequestSchema,
        response: { 200: PurgeResultSchema, ...errors(400, 401, 403) },
      },
      preValidation: async (req) => {
        req.body ??= { dryRun: true }
      },
    },
    async (req) => {
      const actor = await ctx.officer(req)
      requireRole(actor, 'admin')
      return purgeArchives(ctx, actorRef(actor), { dryRun: req.body?.dryRun ?? true })
    },
  )

  app.get(
    '/purge-runs',
    {
      schema: {
        tags: ['archives'],
        summary: 'The purge history: every run, dry or real, newest first (admins)',
        security,
        querystring: ListPurgeRunsQuerySchema,
        response: { 200: PurgeRunPageSchema, ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      requireRole(await ctx.officer(req), 'admin')
      return listPurgeRuns(ctx, req.query)
    },
  )

  app.get(
    '/:entryId',
    {
      schema: {
        tags: ['archives'],
        summary: "One archived declaration (another enterprise's: 404)",
        security,
        params: EntryParams,
        response: { 200: ArchiveSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => getArchive(ctx, await ctx.auth(req), req.params.entryId),
  )

  app.post(
    '/:entryId/print',
    {
      schema: {
        tags: ['archives'],
        summary: 'Print an archived declaration: PDF with serial and verification QR code (logged)',
        security,
        params: EntryParams,
        response: { 200: PdfBody, ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const r = await printArchive(ctx, await ctx.auth(req), req.params.entryId, base)
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="${req.params.entryId}-${r.serial}.pdf"`)
        .header('x-kouan-serial', r.serial)
        .send(Buffer.from(r.pdf))
    },
  )
}
