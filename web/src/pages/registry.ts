import type { ReactNode } from 'react'
import type { Key } from '../i18n.js'

/** Who a screen is for: officers (admins see officer screens too), admins only, or enterprise operators (card). */
export type Audience = 'officer' | 'admin' | 'card'

/**
 * One screen of an area: its path pattern (`/admin/enterprises/:id`, see router `match`), who may open it, its
 * navigation label (screens without one are reached by links) and row, and what it renders from the path's parameters.
 * Areas list their screens in their own `pages.tsx`; main.tsx routes and Layout's navigation read those lists.
 */
export interface PageDef {
  path: string
  audience: Audience
  nav?: Key
  /** 'admin': the label goes in the second navigation row (administration), for every audience allowed to open it. */
  group?: 'admin'
  render: (params: Record<string, string>) => ReactNode
}

/** Whether a session of `kind`/`role` may open screens for `audience` (admins see officer screens too). */
export function allowed(audience: Audience, kind: 'user' | 'card', role: string): boolean {
  if (audience === 'card') return kind === 'card'
  if (kind !== 'user') return false
  return audience === 'officer' || role === 'admin'
}
