import type { PageDef } from '../registry.js'

/** The admin area's screens (see registry.ts). */
export const PAGES: PageDef[] = []
