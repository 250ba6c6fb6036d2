/**
 * Entrustments (报关委托): a trader lets a customs broker declare in its name.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
export { chinaDate, entrustmentFor, entrustmentsForIntake } from './service.js'
