import type { PageDef } from '../registry.js'

/** The lists area's screens (see registry.ts). */
export const PAGES: PageDef[] = []
