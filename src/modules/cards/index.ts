/**
 * Electronic port cards (电子口岸卡): the keys enterprises sign with.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { findCards } from './repo.js'
