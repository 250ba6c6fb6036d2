import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppContext } from '../../app.js'
import { errors } from '../../shared/schema.js'
import { CardLoginSchema, ChallengeRequestSchema, ChallengeSchema, MeSchema, PasswordLoginSchema, SessionSchema } from './schema.js'
import { cardLogin, createChallenge, passwordLogin } from './service.js'

export default async function authRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const deps = () => ({ db: ctx.db, clock: ctx.clock, ids: ctx.ids, secret: ctx.secret, sessionTtl: ctx.config.sessionTtl })

  app.post('/login', {
    schema: { tags: ['auth'], summary: 'Officer/admin password login', body: PasswordLoginSchema, response: { 200: SessionSchema, ...errors(400, 401) } },
  }, async (req) => passwordLogin(deps(), req.body.username, req.body.password))

  app.post('/challenge', {
    schema: { tags: ['auth'], summary: 'Port card login, step 1: get a challenge to sign', body: ChallengeRequestSchema, response: { 200: ChallengeSchema, ...errors(400, 401) } },
  }, async (req) => createChallenge(deps(), req.body.cardNo))

  app.post('/card-login', {
    schema: { tags: ['auth'], summary: 'Port card login, step 2: signed challenge → session token', body: CardLoginSchema, response: { 200: SessionSchema, ...errors(400, 401) } },
  }, async (req) => cardLogin(deps(), req.body.challengeId, req.body.signature))

  app.get('/me', {
    schema: { tags: ['auth'], summary: 'Who the token belongs to', security: [{ bearer: [] }], response: { 200: MeSchema, ...errors(401) } },
  }, async (req) => {
    const a = await ctx.auth(req)
    return a.kind === 'card'
      ? { kind: a.kind, id: a.id, role: a.role, name: a.name, enterpriseId: a.enterpriseId, cardNo: a.cardNo }
      : { kind: a.kind, id: a.id, role: a.role, name: a.name }
  })
}
