import { PAGES as ADMIN } from './admin/pages.js'
import { PAGES as APPOINTMENTS } from './appointments/pages.js'
import { PAGES as LISTS } from './lists/pages.js'
import { PAGES as SYSTEM } from './system/pages.js'
import type { PageDef } from './registry.js'

/** Every area's screens, in navigation order. */
export const AREA_PAGES: PageDef[] = [...LISTS, ...APPOINTMENTS, ...ADMIN, ...SYSTEM]
export { allowed } from './registry.js'
