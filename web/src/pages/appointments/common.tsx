import { useEffect, useRef } from 'react'
import type {
  Appointment,
  AppointmentStatus,
  Site,
  SlotDay,
  StreamEvent,
} from '../../../../src/modules/appointments/schema.js'
import { api, followStream } from '../../api.js'
import { useAsync } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { Link, useLocation } from '../../router.js'

export type { Appointment, AppointmentStatus, Site, SlotDay, StreamEvent }

// The schema's enumerations, repeated here as values: importing them would bring TypeBox into the console's bundle.
export const STATUSES: readonly AppointmentStatus[] = [
  'PENDING',
  'ACCEPTED',
  'HELD',
  'REJECTED',
  'CANCELLED',
  'REMOVED',
]
export const CATEGORIES = ['EMERGENCY_RELIEF', 'DANGEROUS_GOODS', 'PERISHABLE', 'OTHER_URGENT'] as const
export const SERVICES = ['CLEARANCE', 'INSPECTION'] as const
export const MAX_FLEX_HOURS = 12
export const REASON_MAX = 500
export const EXPLANATION_MAX = 4000
/** How often the appointment screens poll (the live stream makes them reload at once on a change as well). */
export const POLL_MS = 10_000

const DAY_MS = 86_400_000
/** Today's China date (Asia/Shanghai, UTC+8 without DST), `days` later. */
export const chinaDate = (days = 0) => new Date(Date.now() + 8 * 3600_000 + days * DAY_MS).toISOString().slice(0, 10)
/** A China date `days` after `day` (YYYY-MM-DD). */
export const addDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
export const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`))
const pad = (n: number) => String(n).padStart(2, '0')
/** The China hour `h` as a slot, e.g. "22:00–23:00". */
export const hourRange = (h: number) => `${pad(h)}:00–${pad(h + 1)}:00`
/** A booking's slot in China time, e.g. "2026-12-09 22:00–23:00". */
export const slotText = (a: { date: string; hour: number }) => `${a.date} ${hourRange(a.hour)}`

/** The sites taking bookings, with their names (loaded once per screen). */
export function useSites() {
  return useAsync(() => api<{ items: Site[] }>('GET', '/api/v1/appointment-sites').then((r) => r.items), [])
}

/** A code table of /api/v1/reference (customs offices, transport modes). */
export function useCodes(table: 'customs-offices' | 'transport-modes') {
  return useAsync(
    () =>
      api<{ items: Array<{ code: string; name: string; nameEn?: string }> }>('GET', `/api/v1/reference/${table}`).then(
        (r) => r.items,
      ),
    [table],
  )
}

/** One slot day of a site (24 slots with capacity, booked and roster; officers also get the bookings). */
export const loadSlotDay = (site: string, date: string) =>
  api<SlotDay>('GET', `/api/v1/appointment-slots?site=${encodeURIComponent(site)}&date=${encodeURIComponent(date)}`)

/**
 * Follows the appointments' live stream (operators: their own; officers: all) and calls `onEvent` for each change,
 * so the screen reloads at once rather than at its next poll. A burst of changes makes one call (after 300 ms).
 */
export function useAppointmentStream(onEvent: (e: StreamEvent) => void) {
  const latest = useRef(onEvent)
  latest.current = onEvent
  useEffect(() => {
    const ctl = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    void followStream(
      '/api/v1/appointments/stream',
      (event, data) => {
        if (event !== 'appointment') return
        let e: StreamEvent
        try {
          e = JSON.parse(data) as StreamEvent
        } catch {
          return
        }
        clearTimeout(timer)
        timer = setTimeout(() => latest.current(e), 300)
      },
      () => undefined,
      ctl.signal,
    )
    return () => {
      clearTimeout(timer)
      ctl.abort()
    }
  }, [])
}

export function StatusBadge({ status }: { status: string }) {
  const { t } = useT()
  return (
    <span className={`badge appt-status appt-${status.toLowerCase()}`} data-status={status}>
      {t(`appointments.status.${status}`)}
    </span>
  )
}

/** A site's name in the user's language where the code table has it: "5301 皇岗海关". */
export const siteLabel = (s: { code: string; name: string }) => `${s.code} ${s.name}`

/** The officers' appointment screens as a second row of links (the current one marked). */
export function OfficerTabs() {
  const { t } = useT()
  const { path } = useLocation()
  const { query } = useLocation()
  // Site and day travel between the screens (a roster is edited for the day the board shows).
  const keep = new URLSearchParams()
  for (const k of ['site', 'date']) {
    const v = query.get(k)
    if (v) keep.set(k, v)
  }
  const qs = keep.toString() ? `?${keep}` : ''
  const tabs: Array<[string, string]> = [
    ['/officer/appointments', 'appointments.tab.board'],
    ['/officer/appointments/review', 'appointments.tab.review'],
    ['/officer/appointments/roster', 'appointments.tab.roster'],
    ['/officer/appointments/stats', 'appointments.tab.stats'],
  ]
  return (
    <nav className="appt-subnav" aria-label={t('appointments.tab.label')}>
      <ul>
        {tabs.map(([to, key]) => (
          <li key={to}>
            <Link to={to + (to.endsWith('stats') ? '' : qs)} aria-current={path === to ? 'page' : undefined}>
              {t(key)}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  )
}

/** A booked/capacity bar: the numbers are the text (read by screen readers), the bar is decoration. */
export function CapacityBar({ booked, capacity }: { booked: number; capacity: number }) {
  const { t } = useT()
  const pct = capacity > 0 ? Math.min(100, Math.round((booked / capacity) * 100)) : 100
  const tone = capacity === 0 || booked >= capacity ? ' full' : booked / capacity >= 0.75 ? ' high' : ''
  return (
    <span className={`appt-cap${tone}`}>
      <span className="appt-bar" aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </span>
      <span className="appt-cap-text">{t('appointments.slot.use', { booked, capacity })}</span>
    </span>
  )
}
