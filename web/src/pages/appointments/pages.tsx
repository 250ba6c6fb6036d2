import type { PageDef } from '../registry.js'
import { BookAppointment } from './Book.js'
import { Board } from './Board.js'
import { AppointmentView } from './Detail.js'
import { MyAppointments } from './Lists.js'
import { ReviewQueue } from './Review.js'
import { Roster } from './Roster.js'
import { AppointmentSites } from './Sites.js'
import { AppointmentStats } from './Stats.js'

/**
 * The appointments area's screens (24/7 appointment clearance, 预约通关; see registry.ts). Portal: book, my bookings
 * and one booking. Officers: the day's board per site, the review queue, the roster and the figures, and one booking.
 * Admins: the sites taking bookings (office hours, capacity, duty phone, category policies), in the administration
 * row. Fixed paths come before `:id` (the first match wins).
 */
export const PAGES: PageDef[] = [
  {
    path: '/portal/appointments/new',
    audience: 'card',
    nav: 'appointments.nav.book',
    render: () => <BookAppointment />,
  },
  { path: '/portal/appointments', audience: 'card', nav: 'appointments.nav.mine', render: () => <MyAppointments /> },
  {
    path: '/portal/appointments/:id',
    audience: 'card',
    render: (p) => <AppointmentView key={p.id} id={p.id!} officer={false} />,
  },
  { path: '/officer/appointments', audience: 'officer', nav: 'appointments.nav.board', render: () => <Board /> },
  // The review queue, roster and figures are reached from the board's second row of links (OfficerTabs).
  { path: '/officer/appointments/review', audience: 'officer', render: () => <ReviewQueue /> },
  { path: '/officer/appointments/roster', audience: 'officer', render: () => <Roster /> },
  { path: '/officer/appointments/stats', audience: 'officer', render: () => <AppointmentStats /> },
  {
    path: '/admin/appointment-sites',
    audience: 'admin',
    group: 'admin',
    nav: 'appointments.nav.sites',
    render: () => <AppointmentSites />,
  },
  {
    path: '/officer/appointments/:id',
    audience: 'officer',
    render: (p) => <AppointmentView key={p.id} id={p.id!} officer />,
  },
]
