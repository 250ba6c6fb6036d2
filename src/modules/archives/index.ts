/**
 * Archives (报关单档案): cleared declarations kept 11/5/3 years, printouts, purge.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { archivePrintFields } from './fields.js'
export { ensureArchivePartitions, purgeArchives, queueState, sweepArchives } from './service.js'
export { ARCHIVES_SUBSCRIBER, onDeclarationsCleared, printoutEntry, sweepBatch } from './service.js'
