/**
 * Users, sessions and actors: who is calling, and with which role.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { actorRef, authenticate, createUser, readSession, requireRole, sessionSecret } from './service.js'
export type { Actor } from './service.js'
