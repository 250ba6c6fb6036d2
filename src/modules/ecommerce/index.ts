/**
 * Cross-border e-commerce (CEB): orders, payments, waybills and inventories matched into verdicts.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { SUPPORTED_DEFECTS, baseTransferFor, generateTicket, ticketDocuments, toMessageXml } from './generator.js'
export type { Parties } from './generator.js'
export { matchQueued } from './service.js'
export { cebCommand } from './tools.js'
export type { CebMessageType } from './types.js'
export { deliverWebhooks, enqueueWebhook } from './webhooks.js'
export { SIGNATURE_HEADER, parseCebXml, xmlSignatureHeader } from './xml.js'
