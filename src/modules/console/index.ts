/**
 * The web console's server side: dashboard and queue read models, and the static app.
 * The module's public face: other modules and the composition root import only this file (and routes.ts, the root).
 */
// Nothing here is used by other modules; the composition root mounts its routes (routes.ts).
export {}
