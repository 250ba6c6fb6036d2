// The database thread's entry when Kouan runs from its TypeScript sources (tsx, vitest): registers tsx in the worker
// thread, then loads the real entry. Built code (dist/) uses pglite-thread.js directly.
import { register } from 'tsx/esm/api'

register()
await import('./pglite-thread.ts')
