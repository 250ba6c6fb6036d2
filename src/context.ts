/**
 * What the composition root (src/app.ts) hands every module's routes plugin. Kept apart from app.ts so that modules
 * depend on this description of the wiring, not on the wiring itself (which imports every module).
 */
import type { FastifyRequest } from 'fastify'
import type { Config } from './config.js'
import type { Db } from './db/index.js'
import type { Clock, Ids } from './shared/clock.js'
import type { Metrics } from './shared/metrics.js'
import type { Actor } from './modules/auth/index.js'
import type { Reference } from './modules/reference/index.js'
import type { RiskEngine } from './modules/risk/index.js'
import type { PrintoutLookup } from './modules/certificates/index.js'
import type { DeclarationEvents, Publisher } from './modules/declarations/index.js'
import type { InspectionEvents } from './modules/inspections/index.js'

/** Every module's events: one bus carries them all; each publisher sees only its own map through `Publisher`. */
export type AppEvents = DeclarationEvents & InspectionEvents

export type { Metrics } from './shared/metrics.js'
/** Everything a module's routes need; passed as the plugin options. */
export interface AppContext {
  config: Readonly<Config>
  db: Db
  clock: Clock
  ids: Ids
  reference: Reference
  metrics: Metrics
  /** The learned risk model and its history (kept in sync with the database every 2 s). */
  risk: RiskEngine
  secret: string
  /** Publishes the moves modules react to; subscribers are wired in src/app.ts. */
  events: Publisher<AppEvents>
  /** Looks archive printouts up for certificates' verifier (the archives module's `printoutEntry`). */
  printouts: PrintoutLookup
  /** Resolves the request's bearer token to a live actor, or throws 401. */
  auth(req: FastifyRequest): Promise<Actor>
  /** {@link auth}, then 403 unless the actor is an officer or admin. */
  officer(req: FastifyRequest): Promise<Extract<Actor, { kind: 'user' }>>
  /** Checks the token's signature and expiry only (no database); the caller checks the subject's status. */
  session(req: FastifyRequest): { kind: 'user' | 'card'; subject: string }
}

export interface AppDeps {
  db: Db
  clock: Clock
  ids: Ids
  reference?: Reference
}
