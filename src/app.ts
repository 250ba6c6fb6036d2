import { isUtf8 } from 'node:buffer'
import { createHash, timingSafeEqual } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance, type FastifyReply } from 'fastify'
import swagger from '@fastify/swagger'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { prettyLogs, type Config } from './config.js'
import type { AppContext, AppDeps, AppEvents } from './context.js'
import { createMetrics } from './shared/metrics.js'
import { EventBus, OutboxDispatcher } from './shared/events.js'
import { installErrorHandlers, invalidText, KouanError, toErrorBody } from './errors.js'
import { jsonMayHoldBadText, textProblem } from './shared/text.js'
import { ErrorSchema } from './shared/schema.js'
import { authenticate, readSession, requireRole, sessionSecret } from './modules/auth/index.js'
import { loadReference } from './modules/reference/index.js'
import authRoutes, { userRoutes } from './modules/auth/routes.js'
import referenceRoutes from './modules/reference/routes.js'
import enterpriseRoutes from './modules/enterprises/routes.js'
import cardRoutes from './modules/cards/routes.js'
import declarationRoutes from './modules/declarations/routes.js'
import statsRoutes from './modules/declarations/stats-routes.js'
import selectivityRoutes from './modules/selectivity/routes.js'
import inspectionRoutes from './modules/inspections/routes.js'
import { ensureDefaultParams } from './modules/selectivity/index.js'
import { RiskEngine } from './modules/risk/index.js'
import riskRoutes from './modules/risk/routes.js'
import cebRoutes from './modules/ecommerce/routes.js'
import { deliverWebhooks, matchQueued } from './modules/ecommerce/index.js'
import consoleRoutes from './modules/console/routes.js'
import certificateRoutes, { publicVerifyRoutes } from './modules/certificates/routes.js'
import archiveRoutes from './modules/archives/routes.js'
import { ARCHIVES_SUBSCRIBER, onDeclarationsCleared, printoutEntry, sweepBatch } from './modules/archives/index.js'
import { issueOnRelease } from './modules/certificates/index.js'
import { openInspections } from './modules/inspections/index.js'
import auditRoutes from './modules/audit/routes.js'
import { checkpointTimer } from './modules/audit/index.js'
import entrustmentRoutes from './modules/entrustments/routes.js'
import appointmentRoutes from './modules/appointments/routes.js'
import { registerWeb } from './modules/console/web.js'

const RISK_SYNC_MS = 2000
const CEB_SWEEP_MS = 1000

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

// Bodies are validated strictly (no coercion, unknown fields rejected); query strings and params are
// coerced from text, which is all they can carry.
function validatorCompiler() {
  const opts = { allErrors: false, removeAdditional: false as const, useDefaults: true, strict: false }
  const body = addFormats(new Ajv({ ...opts, coerceTypes: false }))
  const text = addFormats(new Ajv({ ...opts, coerceTypes: 'array' }))
  body.addSchema(ErrorSchema)
  text.addSchema(ErrorSchema)
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? body : text).compile(schema)
}

/**
 * Text the database cannot store is refused here, once for every route: JSON bodies must be UTF-8, and no string
 * or key of a JSON body, query string or path parameter may hold NUL or an unpaired surrogate (400 INVALID_TEXT
 * with the pointer, before validation and before any handler). XML bodies (CEB) arrive as buffers and are checked
 * by their parser.
 */
function installTextChecks(app: FastifyInstance) {
  // Fastify's own JSON parser (prototype-poisoning checks), fed text checked to be UTF-8 first: decoding would turn
  // other bytes into U+FFFD silently. A body is walked only if its text has an escape that could make bad text.
  const json = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const bytes = body as Buffer
    if (!isUtf8(bytes)) return done(invalidText('/body', 'bytes that are not UTF-8'), undefined)
    const text = bytes.toString('utf8')
    // Fastify's default JSON parser answers through `done` and returns nothing (its type also allows a promise).
    void json(req, text, (err, value) => {
      if (err) return done(err, undefined)
      const problem = jsonMayHoldBadText(text) ? textProblem(value, '/body') : undefined
      done(problem ? invalidText(problem.pointer, problem.what) : null, value)
    })
  })
  app.addHook('preValidation', async (req) => {
    const problem =
      textProblem(req.params, '/params') ??
      textProblem(req.query, '/query') ??
      (typeof req.body === 'string' ? textProblem(req.body, '/body') : undefined)
    if (problem) throw invalidText(problem.pointer, problem.what)
  })
}

/**
 * `GET /metrics` for the bearer of `KOUAN_METRICS_TOKEN` (Prometheus `authorization: {credentials: …}`); without the
 * token configured it is not served at all (404, as any unknown path). Lane decisions and clearance times per port
 * are not public.
 */
function registerMetrics(app: FastifyInstance, ctx: AppContext) {
  const token = ctx.config.metricsToken
  if (!token) return
  // Compared as digests: equal lengths for timingSafeEqual, and no early exit on the first differing character.
  const digest = (s: string) => createHash('sha256').update(s).digest()
  const expected = digest(`Bearer ${token}`)
  const challenge = { 'www-authenticate': 'Bearer realm="metrics"' }
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    const header = req.headers.authorization
    if (!header)
      throw new KouanError('AUTH_REQUIRED', 401, 'the metrics token is required', {
        pointer: '/headers/authorization',
        headers: challenge,
      })
    if (!timingSafeEqual(digest(header), expected)) {
      throw new KouanError('AUTH_INVALID_TOKEN', 401, 'not the metrics token', {
        pointer: '/headers/authorization',
        headers: challenge,
      })
    }
    reply.type(ctx.metrics.registry.contentType)
    return ctx.metrics.registry.metrics()
  })
}

/**
 * Who reacts to which move, wired here so that no publisher knows its subscribers (docs/ARCHITECTURE.md, "Modules").
 * The inspection task and the certificate are atomic with the move (in its transaction); the archive is written
 * after commit from the outbox, in batches, by the dispatcher (archived within about KOUAN_OUTBOX_DISPATCH_MS).
 */
function subscribe(bus: EventBus<AppEvents>, ctx: AppContext) {
  bus.inTx('InspectionOrdered', 'inspections', (tx, evs) =>
    openInspections(
      tx,
      evs.map((e) => e.payload),
    ),
  )
  bus.inTx('DeclarationReleased', 'certificates', async (tx, evs) => {
    for (const e of evs) await issueOnRelease(tx, ctx, e.payload)
  })
  bus.afterCommit('DeclarationCleared', ARCHIVES_SUBSCRIBER, onDeclarationsCleared(ctx), { batch: sweepBatch(ctx.db) })
}

/** Readable log lines on a terminal: local time, no pid or host, colours when the terminal has them (JSON stays for machines). */
const PRETTY = { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true }

/** The one way to build a Kouan Fastify instance: server, CLI and tests all call it. */
export async function buildApp(config: Readonly<Config>, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      config.logLevel === 'silent'
        ? false
        : prettyLogs(config)
          ? { level: config.logLevel, stream: (await import('pino-pretty')).default(PRETTY) }
          : { level: config.logLevel },
    bodyLimit: config.bodyLimit,
    // One line per request drowns the log at clearance rates; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => deps.ids.token(9),
    routerOptions: { ignoreTrailingSlash: true },
    // Errors raised before routing (a malformed percent-encoding in the URL) get the common error body too.
    frameworkErrors: (error, req, reply) => {
      const body = toErrorBody(error, req.id)
      void (reply as FastifyReply).status(body.statusCode).send(body)
    },
  })
  app.setValidatorCompiler(validatorCompiler())
  installErrorHandlers(app)
  installTextChecks(app)

  const secret = await sessionSecret(deps.db, deps.ids)
  await ensureDefaultParams(deps.db, deps.clock)
  const events = new EventBus<AppEvents>({ clock: deps.clock, ids: deps.ids })
  const ctx: AppContext = {
    events,
    printouts: printoutEntry,
    config,
    db: deps.db,
    clock: deps.clock,
    ids: deps.ids,
    reference: deps.reference ?? loadReference(),
    metrics: createMetrics(),
    risk: await RiskEngine.load(deps.db),
    secret,
    auth: (req) => authenticate(deps.db, secret, req.headers.authorization, deps.clock.now()),
    session: (req) => readSession(secret, req.headers.authorization, deps.clock.now()),
    officer: async (req) => {
      const actor = await ctx.auth(req)
      requireRole(actor, 'officer', 'admin')
      return actor
    },
  }
  app.decorate('kouan', ctx)
  subscribe(events, ctx)
  // After-commit subscribers (archives) run from the outbox; every process may run a dispatcher (SKIP LOCKED), and
  // what one left pending when it stopped is handled by the next round of any.
  const outbox = new OutboxDispatcher(
    { db: deps.db, clock: deps.clock, bus: events },
    { intervalMs: config.outboxDispatchMs, log: (msg, err) => app.log.error({ err }, msg) },
  )
  if (config.outboxDispatchMs > 0) outbox.start()
  const riskSync = setInterval(() => {
    ctx.risk.sync(deps.db).catch((err: unknown) => app.log.error({ err }, 'risk history sync failed'))
  }, RISK_SYNC_MS)
  riskSync.unref()
  // CEB matching resumes on start and sweeps what other processes or crashed runs left in the queue.
  const cebSweep = setInterval(() => {
    if (!config.cebMatching) return
    matchQueued(ctx).catch((err: unknown) => app.log.error({ err }, 'CEB matching sweep failed'))
    deliverWebhooks(ctx).catch((err: unknown) => app.log.error({ err }, 'CEB webhook delivery failed'))
  }, CEB_SWEEP_MS)
  cebSweep.unref()
  // Signed checkpoints of the audit chain heads (only of chains that moved), for export out of the database's reach.
  const checkpoint = checkpointTimer(ctx, (err) => app.log.error({ err }, 'audit checkpoint failed'))
  const auditCheckpoints =
    config.auditCheckpointSeconds > 0 ? setInterval(checkpoint, config.auditCheckpointSeconds * 1000) : undefined
  auditCheckpoints?.unref()
  app.addHook('onClose', async () => {
    clearInterval(riskSync)
    clearInterval(cebSweep)
    clearInterval(auditCheckpoints)
    await outbox.stop()
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kouan API',
        version: '0.1.0',
        description: 'Smart customs: single window clearance, risk control, audit.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  })
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  app.get(
    '/api/v1/health',
    {
      schema: {
        tags: ['ops'],
        response: { 200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } },
      },
    },
    async () => ({ status: 'ok' }),
  )
  registerMetrics(app, ctx)

  await app.register(authRoutes, { prefix: '/api/v1/auth', ...ctx })
  await app.register(userRoutes, { prefix: '/api/v1/users', ...ctx })
  await app.register(referenceRoutes, { prefix: '/api/v1/reference', reference: ctx.reference })
  await app.register(enterpriseRoutes, { prefix: '/api/v1', ...ctx })
  await app.register(cardRoutes, { prefix: '/api/v1/cards', ...ctx })
  await app.register(declarationRoutes, { prefix: '/api/v1/declarations', ...ctx })
  await app.register(selectivityRoutes, { prefix: '/api/v1/selectivity', ...ctx })
  await app.register(inspectionRoutes, { prefix: '/api/v1/inspections', ...ctx })
  await app.register(statsRoutes, { prefix: '/api/v1/stats', ...ctx })
  await app.register(riskRoutes, { prefix: '/api/v1/risk', ...ctx })
  await app.register(cebRoutes, { prefix: '/api/v1/ceb', ...ctx })
  await app.register(consoleRoutes, { prefix: '/api/v1/console', ...ctx })
  await app.register(certificateRoutes, { prefix: '/api/v1/certificates', ...ctx })
  await app.register(archiveRoutes, { prefix: '/api/v1/archives', ...ctx })
  await app.register(auditRoutes, { prefix: '/api/v1/audit', ...ctx })
  await app.register(entrustmentRoutes, { prefix: '/api/v1/entrustments', ...ctx })
  await app.register(appointmentRoutes, { prefix: '/api/v1', ...ctx })
  // Public, at the root: the verify page printed QR codes point to, and the issuing keys at their well-known address.
  await app.register(publicVerifyRoutes, { ...ctx })
  // The web console at / (built by `npm run build` into dist/web); /api, /metrics and /verify stay the server's.
  await registerWeb(app)
  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    kouan: AppContext
  }
}
