/**
 * The audit log's verification, checkpoints and the database roles that keep it append-only.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { parseTrustedKeys } from './checkpoints.js'
export {
  allCheckpoints,
  checkpointKeys,
  checkpointTimer,
  grantAppRole,
  rotateCheckpointKey,
  takeCheckpoints,
  verifyLog,
} from './service.js'
