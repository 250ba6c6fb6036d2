import type { PageDef } from '../registry.js'

/** The system area's screens (see registry.ts). */
export const PAGES: PageDef[] = []
