import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppContext } from '../../context.js'
import { UtcTime, errors, security } from '../../shared/schema.js'
import { clearanceStats } from './repo.js'

export default async function statsRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/clearance',
    {
      schema: {
        tags: ['stats'],
        summary: 'Clearance time (submission → release) per port and lane: median and p90 seconds',
        security,
        querystring: Type.Object(
          { from: Type.Optional(UtcTime), to: Type.Optional(UtcTime) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                port: Type.String(),
                lane: Type.Union([Type.String(), Type.Null()]),
                released: Type.Integer(),
                medianSeconds: Type.Number(),
                p90Seconds: Type.Number(),
              }),
            ),
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => {
      await ctx.officer(req)
      const rows = await clearanceStats(ctx.db, req.query.from ?? null, req.query.to ?? null)
      return {
        items: rows.map((r) => ({
          port: r.port,
          lane: r.lane,
          released: r.released,
          medianSeconds: r.median_s,
          p90Seconds: r.p90_s,
        })),
      }
    },
  )
}
