import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppContext } from '../../context.js'
import { errors } from '../../shared/schema.js'
import {
  CardLoginSchema,
  ChallengeRequestSchema,
  ChallengeSchema,
  MeSchema,
  PasswordLoginSchema,
  SessionSchema,
} from './schema.js'
import { cardLogin, createChallenge, passwordLogin, sweepAuth } from './service.js'

/** How often each process purges expired challenges and quiet throttle counters. */
const SWEEP_MS = 60_000

export default async function authRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const deps = () => ({
    db: ctx.db,
    clock: ctx.clock,
    ids: ctx.ids,
    secret: ctx.secret,
    sessionTtl: ctx.config.sessionTtl,
  })
  const sweep = setInterval(() => {
    sweepAuth(ctx).catch((err: unknown) => fastify.log.error({ err }, 'auth sweep failed'))
  }, SWEEP_MS)
  sweep.unref()
  fastify.addHook('onClose', async () => clearInterval(sweep))

  app.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Officer/admin password login',
        body: PasswordLoginSchema,
        response: { 200: SessionSchema, ...errors(400, 401, 429) },
      },
    },
    async (req) => passwordLogin(deps(), req.body.username, req.body.password, req.ip),
  )

  app.post(
    '/challenge',
    {
      schema: {
        tags: ['auth'],
        summary: 'Port card login, step 1: get a challenge to sign',
        body: ChallengeRequestSchema,
        response: { 200: ChallengeSchema, ...errors(400, 429) },
      },
    },
    async (req) => createChallenge(deps(), req.body.cardNo, req.ip),
  )

  app.post(
    '/card-login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Port card login, step 2: signed challenge → session token',
        body: CardLoginSchema,
        response: { 200: SessionSchema, ...errors(400, 401, 429) },
      },
    },
    async (req) => cardLogin(deps(), req.body.challengeId, req.body.signature, req.ip),
  )

  app.get(
    '/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Who the token belongs to',
        security: [{ bearer: [] }],
        response: { 200: MeSchema, ...errors(401) },
      },
    },
    async (req) => {
      const a = await ctx.auth(req)
      return a.kind === 'card'
        ? { kind: a.kind, id: a.id, role: a.role, name: a.name, enterpriseId: a.enterpriseId, cardNo: a.cardNo }
        : { kind: a.kind, id: a.id, role: a.role, name: a.name }
    },
  )
}
