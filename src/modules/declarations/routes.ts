import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { KouanError, forbidden } from '../../errors.js'
import { UtcTime, errors, security } from '../../shared/schema.js'
import { auditTrail } from '../../shared/audit.js'
import * as repo from './repo.js'
import {
  BatchResultSchema,
  BatchSubmitSchema,
  DeclarationSchema,
  ListDeclarationsQuerySchema,
  NoteSchema,
  RejectSchema,
  SubmitDeclarationSchema,
} from './schema.js'
import {
  EntryNumbers,
  Submitter,
  acceptDeclaration,
  getDeclaration,
  officerTransition,
  rejectDeclaration,
  submitDeclarations,
} from './service.js'

const IdParams = Type.Object(
  {
    id: Type.String({
      pattern: '^([0-9a-fA-F-]{36}|[0-9]{18})$',
      description: 'declaration id or 18-digit entry number',
    }),
  },
  { additionalProperties: false },
)
/**
 * Traders see their lane, never the targeting behind it: the risk score, its source and reasons (rule ids, model
 * contributions) would teach a fraudster what is watched. Operators (card sessions) get `risk: null` everywhere a
 * declaration is returned, and the audit trail without the scoring fields.
 */
const TARGETING_FIELDS = ['score', 'source', 'reasons', 'paramsVersion', 'random'] as const
function forTrader<T extends { risk: unknown }>(d: T): T {
  return { ...d, risk: null }
}
function auditDataForTrader(data: unknown): unknown {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return data
  const out: Record<string, unknown> = { ...(data as Record<string, unknown>) }
  for (const k of TARGETING_FIELDS) delete out[k]
  return out
}

const AuditEntrySchema = Type.Object({
  chain: Type.Integer(),
  seq: Type.Integer(),
  at: UtcTime,
  actor: Type.String(),
  action: Type.String(),
  data: Type.Any(),
  hash: Type.String(),
})

export default async function declarationRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const numbers = new EntryNumbers(ctx.db, ctx.db.kind === 'pglite' ? 1000 : 100)
  const deps = { ...ctx, numbers }
  const submitter = new Submitter(
    deps,
    ctx.db.kind === 'postgres' ? Math.max(1, Math.floor(ctx.config.dbPoolSize / 2)) : 1,
  )
  // Submissions check the token's signature here and the session card's status in the batch's card query.
  const operatorSession = (req: Parameters<AppContext['session']>[0]) => {
    const s = ctx.session(req)
    if (s.kind !== 'card') throw forbidden('requires role operator')
    return s.subject
  }

  app.post(
    '/',
    {
      schema: {
        tags: ['declarations'],
        summary: 'Submit a signed declaration (operators)',
        security,
        body: SubmitDeclarationSchema,
        response: { 201: DeclarationSchema, 200: DeclarationSchema, ...errors(400, 401, 403, 413, 422) },
      },
    },
    async (req, reply) => {
      const r = await submitter.submit({ sessionCardId: operatorSession(req), input: req.body })
      if ('errors' in r) throw new KouanError(r.errors[0]!.code, r.status, r.errors[0]!.message, { errors: r.errors })
      reply.status(r.status)
      return forTrader(r.declaration)
    },
  )

  app.post(
    '/batch',
    {
      schema: {
        tags: ['declarations'],
        summary: 'Submit up to 500 signed declarations in one transaction',
        security,
        body: BatchSubmitSchema,
        response: { 200: BatchResultSchema, ...errors(400, 401, 403, 413) },
      },
    },
    async (req) => {
      const sessionCardId = operatorSession(req)
      const results = await submitDeclarations(
        deps,
        req.body.declarations.map((input) => ({ sessionCardId, input })),
      )
      const prefix = (p: string, i: number) => p.replace(/^\/body/, `/body/declarations/${i}`)
      return {
        results: results.map((r, index) =>
          'errors' in r
            ? { index, status: r.status, errors: r.errors.map((e) => ({ ...e, pointer: prefix(e.pointer, index) })) }
            : { index, status: r.status, declaration: forTrader(r.declaration) },
        ),
        accepted: results.filter((r) => r.status === 201).length,
        duplicates: results.filter((r) => r.status === 200).length,
        failed: results.filter((r) => r.status >= 400).length,
      }
    },
  )

  app.get(
    '/',
    {
      schema: {
        tags: ['declarations'],
        summary: "List declarations (operators: their enterprise's)",
        security,
        querystring: ListDeclarationsQuerySchema,
        response: {
          200: Type.Object({ items: Type.Array(DeclarationSchema), total: Type.Integer() }),
          ...errors(400, 401),
        },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      if (actor.kind !== 'card') return repo.listDeclarations(ctx.db, req.query)
      const page = await repo.listDeclarations(ctx.db, { ...req.query, enterpriseId: actor.enterpriseId })
      return { ...page, items: page.items.map(forTrader) }
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags: ['declarations'],
        security,
        params: IdParams,
        response: { 200: DeclarationSchema, ...errors(400, 401, 404) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      const { submittedAtRaw: _s, cardId: _c, ...d } = await getDeclaration(ctx.db, actor, req.params.id)
      return actor.kind === 'card' ? forTrader(d) : d
    },
  )

  app.get(
    '/:id/audit',
    {
      schema: {
        tags: ['declarations'],
        summary: 'Audit trail of a declaration',
        security,
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(AuditEntrySchema) }), ...errors(400, 401, 404) },
      },
    },
    async (req) => {
      const actor = await ctx.auth(req)
      const d = await getDeclaration(ctx.db, actor, req.params.id)
      const rows = await auditTrail(ctx.db, 'declaration', d.id)
      const trader = actor.kind === 'card'
      return {
        items: rows.map((r) => ({
          chain: r.chain,
          seq: r.seq,
          at: r.at.toISOString(),
          actor: r.actor,
          action: r.action,
          data: trader ? auditDataForTrader(r.data) : r.data,
          hash: r.hash,
        })),
      }
    },
  )

  const officerMove = (path: string, summary: string, to: 'RELEASED' | 'RETURNED' | 'CLEARED') =>
    app.post(
      path,
      {
        schema: {
          tags: ['declarations'],
          summary,
          security,
          params: IdParams,
          body: NoteSchema,
          response: { 200: DeclarationSchema, ...errors(400, 401, 403, 404, 409) },
        },
        // The note is optional, and so is the body that carries it.
        preValidation: async (req) => {
          req.body ??= {}
        },
      },
      async (req) => {
        const actor = await ctx.officer(req)
        return officerTransition(ctx, actor, req.params.id, to, req.body?.note)
      },
    )
  officerMove('/:id/release', 'Release detained goods after disposal (officers)', 'RELEASED')
  officerMove('/:id/return', 'Return detained goods (officers)', 'RETURNED')
  officerMove('/:id/clear', 'Close a released or returned declaration (结关, officers)', 'CLEARED')

  app.post(
    '/:id/accept',
    {
      schema: {
        tags: ['declarations'],
        summary: 'Accept a declaration held for review (officers)',
        security,
        params: IdParams,
        response: { 200: DeclarationSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      return acceptDeclaration(deps, await ctx.officer(req), req.params.id)
    },
  )

  app.post(
    '/:id/reject',
    {
      schema: {
        tags: ['declarations'],
        summary: 'Reject a declaration held for review, with field errors (officers)',
        security,
        params: IdParams,
        body: RejectSchema,
        response: { 200: DeclarationSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      return rejectDeclaration(ctx, await ctx.officer(req), req.params.id, req.body.errors)
    },
  )
}
