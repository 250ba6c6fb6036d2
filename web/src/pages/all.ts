import { PAGES as ADMIN } from './admin/pages.js'
import { PAGES as LISTS } from './lists/pages.js'
import { PAGES as SYSTEM } from './system/pages.js'
import type { Audience, PageDef } from './registry.js'

/** Every area's screens, in navigation order. */
export const AREA_PAGES: PageDef[] = [...LISTS, ...ADMIN, ...SYSTEM]

/** Whether a session of `kind`/`role` may open screens for `audience` (admins see officer screens too). */
export function allowed(audience: Audience, kind: 'user' | 'card', role: string): boolean {
  if (audience === 'card') return kind === 'card'
  if (kind !== 'user') return false
  return audience === 'officer' || role === 'admin'
}
