/**
 * Inspection and quarantine certificates, their signing keys and public verification.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { chinaDateOf, chinaDateTime, countryLabel, quantityLabel, reference, tradeModeLabel } from './fields.js'
export type { PrintedField } from './fields.js'
export { lockSigningKey, publicKeys, rotateKey, verifyToken } from './service.js'
export { contentDigest, parseToken, signToken, tokenFromInput, verifyUrl } from './token.js'
export { issueOnRelease } from './service.js'
export type { PrintoutLookup, RegistryEntry } from './service.js'
export { yearRange } from './repo.js'
