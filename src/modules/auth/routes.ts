import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppContext } from '../../context.js'
import { IdParams, errors, security } from '../../shared/schema.js'
import {
  CardLoginSchema,
  ChallengeRequestSchema,
  ChallengeSchema,
  CreateUserSchema,
  CreatedUserSchema,
  ListUsersQuerySchema,
  MeSchema,
  PasswordLoginSchema,
  SessionSchema,
  SetPasswordSchema,
  UserPageSchema,
  UserSchema,
} from './schema.js'
import {
  addUser,
  cardLogin,
  createChallenge,
  listUsers,
  passwordLogin,
  requireRole,
  setUserDisabled,
  setUserPassword,
  sweepAuth,
} from './service.js'

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

/** `/api/v1/users`: customs user accounts, for admins (the console's administration, as `kouan user add`). */
export async function userRoutes(fastify: FastifyInstance, ctx: AppContext) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const admin = async (req: Parameters<AppContext['officer']>[0]) => {
    const a = await ctx.officer(req)
    requireRole(a, 'admin')
    return a
  }

  app.get(
    '/',
    {
      schema: {
        tags: ['users'],
        summary: 'User accounts by username, without password hashes (admins)',
        security,
        querystring: ListUsersQuerySchema,
        response: { 200: UserPageSchema, ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      await admin(req)
      return listUsers(ctx.db, req.query)
    },
  )

  app.post(
    '/',
    {
      schema: {
        tags: ['users'],
        summary: 'Create an officer or admin account (admins; without a password, one is generated and returned once)',
        security,
        body: CreateUserSchema,
        response: { 201: CreatedUserSchema, ...errors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const r = await addUser(ctx, await admin(req), req.body)
      reply.status(201)
      return r
    },
  )

  app.post(
    '/:id/disable',
    {
      schema: {
        tags: ['users'],
        summary: "Disable an account, ending its sessions (admins; not one's own)",
        security,
        params: IdParams,
        response: { 200: UserSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => setUserDisabled(ctx, await admin(req), req.params.id, true),
  )

  app.post(
    '/:id/enable',
    {
      schema: {
        tags: ['users'],
        summary: 'Enable a disabled account (admins; its earlier sessions stay ended)',
        security,
        params: IdParams,
        response: { 200: UserSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => setUserDisabled(ctx, await admin(req), req.params.id, false),
  )

  app.post(
    '/:id/password',
    {
      schema: {
        tags: ['users'],
        summary: "Set an account's password (admins): its sessions end and a login lock is lifted",
        security,
        params: IdParams,
        body: SetPasswordSchema,
        response: { 200: UserSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => setUserPassword(ctx, await admin(req), req.params.id, req.body.password),
  )
}
