// The parse pool's worker entry when Kouan runs from its TypeScript sources (tsx, vitest): registers tsx in the
// worker thread, then loads the real entry. Built code (dist/) uses parse-worker.js directly.
import { register } from 'tsx/esm/api'

register()
const worker = await import('./parse-worker.ts')
export default worker.default
