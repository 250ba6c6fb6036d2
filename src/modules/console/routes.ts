import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { errors, security } from '../../shared/schema.js'
import { DashboardFeed } from './feed.js'
import {
  DashboardSchema,
  QueueItemSchema,
  QueueQuerySchema,
  RulePreviewRequestSchema,
  RulePreviewSchema,
  STREAM_INTERVAL_MS,
} from './schema.js'
import { buildDashboard, inspectionQueue, previewRule } from './service.js'

/** Console APIs (officers): the dashboard snapshot and its server-sent event stream, the prioritised queue, rule previews. */
export default async function consoleRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const snapshot = () => buildDashboard({ db: ctx.db, clock: ctx.clock, modelVersion: ctx.risk.modelVersion })
  const feed = new DashboardFeed(
    snapshot,
    STREAM_INTERVAL_MS,
    () => ctx.clock.now().getTime(),
    (err) => fastify.log.error({ err }, 'dashboard snapshot failed'),
  )
  fastify.addHook('preClose', async () => feed.close())

  app.get(
    '/dashboard',
    {
      schema: {
        tags: ['console'],
        summary:
          'Command dashboard figures: live declarations, lanes, intercepts, hit rates, clearance, e-commerce, certificates, alerts',
        security,
        response: { 200: DashboardSchema, ...errors(401, 403) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return snapshot()
    },
  )

  app.get(
    '/stream',
    {
      schema: {
        tags: ['console'],
        summary: `Server-sent events: a "snapshot" event (the dashboard JSON) every ${STREAM_INTERVAL_MS / 1000} s`,
        security,
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'text/event-stream' }), ...errors(401, 403) },
      },
    },
    async (req, reply) => {
      await ctx.officer(req)
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      // The retry hint tells EventSource-style clients how soon to reconnect after a drop.
      res.write(`retry: ${STREAM_INTERVAL_MS}\n\n`)
      const unsubscribe = feed.subscribe({
        send: (json) => {
          res.write(`event: snapshot\ndata: ${json}\n\n`)
        },
        end: () => {
          res.end()
        },
      })
      req.raw.on('close', unsubscribe)
    },
  )

  app.get(
    '/queue',
    {
      schema: {
        tags: ['console'],
        summary: 'Inspection queue by priority (physical first, then risk score, then waiting time)',
        security,
        querystring: QueueQuerySchema,
        response: {
          200: Type.Object({ items: Type.Array(QueueItemSchema), total: Type.Integer() }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return inspectionQueue(ctx.db, req.query)
    },
  )

  app.post(
    '/rules/preview',
    {
      schema: {
        tags: ['console'],
        summary: 'How many past declarations a draft targeting rule would select, and its past hit rate',
        security,
        body: RulePreviewRequestSchema,
        response: { 200: RulePreviewSchema, ...errors(400, 401, 403, 422) },
      },
    },
    async (req) => {
      await ctx.officer(req)
      return previewRule(ctx, req.body)
    },
  )
}
