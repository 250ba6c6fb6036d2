import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'

/** Environment variables Kouan reads, all in one place; nothing else touches `process.env`. */
export const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  host: Type.String({ default: '127.0.0.1' }),
  /** PGlite data directory; ignored when `databaseUrl` is set. */
  dataDir: Type.String({ default: './data' }),
  /** postgres://… switches from embedded PGlite to a PostgreSQL server. */
  databaseUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  logLevel: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  /** Log lines: JSON for machines, or readable for a person; `auto` is readable when standard output is a terminal. */
  logFormat: Type.Enum(['auto', 'json', 'pretty'], { default: 'auto' }),
  /** Max request body in bytes (batches of declarations are the largest bodies). */
  bodyLimit: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024 }),
  /** Session token lifetime in seconds. */
  sessionTtl: Type.Integer({ minimum: 60, default: 8 * 3600 }),
  /** `npm start` feeds the server with simulated traffic unless this is false. */
  simulate: Type.Boolean({ default: true }),
  /** Declarations per second the built-in simulator submits. */
  simulateRate: Type.Number({ minimum: 0.1, maximum: 5000, default: 2 }),
  /** E-commerce tickets per second the built-in simulator sends (0: none). */
  simulateCebRate: Type.Number({ minimum: 0, maximum: 5000, default: 1 }),
  /** Appointment clearance bookings per minute the built-in simulator makes (0: only the demo enterprise's few). */
  simulateAppointmentRate: Type.Number({ minimum: 0, maximum: 6000, default: 6 }),
  /** Whether this process matches CEB tickets (false: intake only, e.g. behind dedicated matcher processes). */
  cebMatching: Type.Boolean({ default: true }),
  /** Worker threads parsing CEB XML messages off the main thread (0: parse on the main thread). */
  cebParseThreads: Type.Integer({ minimum: 0, maximum: 32, default: 1 }),
  /** CEB receipt webhooks may use http:// (tests, internal deployments); default https:// only. */
  webhookAllowHttp: Type.Boolean({ default: false }),
  /** Hosts or CIDRs webhooks may reach although private, loopback etc. (comma-separated, e.g. `127.0.0.1/32,hooks.internal`). */
  webhookAllow: Type.String({ maxLength: 4000, default: '' }),
  /** API processes `kouan serve` runs on one port (node:cluster); more than 1 needs PostgreSQL. */
  workers: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  /** PGlite (the embedded database) on a worker thread of its own instead of the main thread. */
  pgliteThread: Type.Boolean({ default: false }),
  /** Postgres pool size per process (PostgreSQL only). */
  dbPoolSize: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  /** Public base URL printed in certificate and printout QR codes (`…/verify/<token>`); default http://HOST:PORT. */
  publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  /** Public verification requests allowed per minute and client address. */
  verifyRateLimit: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 120 }),
  /** Bearer token a scraper must send for `/metrics`; unset: `/metrics` is not served (404). */
  metricsToken: Type.Optional(Type.String({ minLength: 16 })),
  /** Seconds between signed checkpoints of the audit chain heads (taken only when a head moved; 0: none). */
  auditCheckpointSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 300 }),
  /** Key file (`{alg, publicKey, privateKey}`) signing audit checkpoints, kept out of the database; unset: a generated key in the database. */
  auditCheckpointKeyFile: Type.Optional(Type.String({ minLength: 1 })),
  /** Algorithm (a name in `algorithms`) of generated audit checkpoint keys. */
  auditCheckpointAlg: Type.String({ minLength: 1, default: 'Ed25519' }),
  /** Milliseconds between rounds of the outbox dispatcher (after-commit event subscribers: archives); 0: none in the background (archive reads still archive what they read). */
  outboxDispatchMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000 }),
})
export type Config = Static<typeof ConfigSchema>

const ENV: Record<keyof Config, string> = {
  port: 'PORT',
  host: 'HOST',
  dataDir: 'KOUAN_DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  logLevel: 'KOUAN_LOG_LEVEL',
  logFormat: 'KOUAN_LOG_FORMAT',
  bodyLimit: 'KOUAN_BODY_LIMIT',
  sessionTtl: 'KOUAN_SESSION_TTL',
  simulate: 'KOUAN_SIMULATE',
  simulateRate: 'KOUAN_SIMULATE_RATE',
  simulateCebRate: 'KOUAN_SIMULATE_CEB_RATE',
  simulateAppointmentRate: 'KOUAN_SIMULATE_APPOINTMENT_RATE',
  dbPoolSize: 'KOUAN_DB_POOL',
  pgliteThread: 'KOUAN_PGLITE_THREAD',
  workers: 'KOUAN_WORKERS',
  cebParseThreads: 'KOUAN_CEB_PARSE_THREADS',
  webhookAllowHttp: 'KOUAN_WEBHOOK_ALLOW_HTTP',
  webhookAllow: 'KOUAN_WEBHOOK_ALLOW',
  cebMatching: 'KOUAN_CEB_MATCHING',
  publicUrl: 'KOUAN_PUBLIC_URL',
  verifyRateLimit: 'KOUAN_VERIFY_RATE_LIMIT',
  metricsToken: 'KOUAN_METRICS_TOKEN',
  auditCheckpointSeconds: 'KOUAN_AUDIT_CHECKPOINT_SECONDS',
  auditCheckpointKeyFile: 'KOUAN_AUDIT_CHECKPOINT_KEY_FILE',
  auditCheckpointAlg: 'KOUAN_AUDIT_CHECKPOINT_ALG',
  outboxDispatchMs: 'KOUAN_OUTBOX_DISPATCH_MS',
}

/** Thrown by {@link loadConfig} with every problem listed, so an operator fixes them in one go. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
  }
}

/**
 * Reads the environment once, converts and validates it against {@link ConfigSchema}, and returns a frozen
 * Config. `overrides` (tests, CLI flags) win over the environment.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Readonly<Config> {
  const raw: Record<string, unknown> = {}
  for (const [key, name] of Object.entries(ENV)) {
    const v = env[name]
    if (v !== undefined && v !== '') raw[key] = v
  }
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, { ...raw, ...overrides }))
  const problems = [...Value.Errors(ConfigSchema, converted)].map((e) => {
    const key = e.instancePath.replace(/^\//, '') as keyof Config
    return `${ENV[key] ?? key}: ${e.message}`
  })
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(converted as Config)
}

/** The base of public links (certificate and printout QR codes): `publicUrl`, else this server's own address. */
export const publicUrlOf = (c: Pick<Config, 'publicUrl' | 'host' | 'port'>) =>
  c.publicUrl ?? `http://${c.host}:${c.port}`

/** Whether log lines are for a person: `pretty`, or `auto` on a terminal. */
export const prettyLogs = (c: Pick<Config, 'logFormat'>, isTerminal = Boolean(process.stdout.isTTY)) =>
  c.logFormat === 'pretty' || (c.logFormat === 'auto' && isTerminal)
