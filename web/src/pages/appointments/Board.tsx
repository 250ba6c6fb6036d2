import { Layout } from '../../components/Layout.js'
import { Empty, ErrorBox, Loading, Updated, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { Link, useQuery } from '../../router.js'
import {
  CapacityBar,
  OfficerTabs,
  POLL_MS,
  StatusBadge,
  addDays,
  chinaDate,
  hourRange,
  isDate,
  loadSlotDay,
  siteLabel,
  useAppointmentStream,
  useSites,
  type Site,
} from './common.js'

/**
 * Site and day of the officers' screens, from the URL (`site`, `date`): the first site and today unless set. The
 * picker sets them in the URL (deep links: a shared board shows the same site and day).
 */
export function useSiteDay(sites: Site[] | undefined) {
  const { get, set } = useQuery()
  const site = get('site') || sites?.[0]?.code || ''
  const date = isDate(get('date')) ? get('date') : chinaDate()
  return { site, date, set }
}

export function SiteDayPicker({
  sites,
  site,
  date,
  set,
}: {
  sites: Site[] | undefined
  site: string
  date: string
  set: (patch: Record<string, string | undefined>) => void
}) {
  const { t } = useT()
  const today = chinaDate()
  const tomorrow = addDays(today, 1)
  return (
    <div className="card-panel row appt-picker-bar" role="group" aria-label={t('appointments.board.pick')}>
      <label>
        {t('appointments.field.site')}
        <select value={site} onChange={(e) => set({ site: e.target.value, date: date === today ? undefined : date })}>
          {!sites && <option value={site}>{site || t('common.loading')}</option>}
          {sites?.map((s) => (
            <option key={s.code} value={s.code}>
              {siteLabel(s)}
            </option>
          ))}
        </select>
      </label>
      <div className="appt-days" role="group" aria-label={t('appointments.board.quickDay')}>
        <button type="button" aria-pressed={date === today} onClick={() => set({ site, date: undefined })}>
          {t('appointments.board.today')}
        </button>
        <button type="button" aria-pressed={date === tomorrow} onClick={() => set({ site, date: tomorrow })}>
          {t('appointments.board.tomorrow')}
        </button>
      </div>
      <label>
        {t('appointments.field.date')}
        <input
          type="date"
          value={date}
          onChange={(e) =>
            isDate(e.target.value) && set({ site, date: e.target.value === today ? undefined : e.target.value })
          }
        />
      </label>
    </div>
  )
}

/** The officers' board: a site's 24 slots of a day with capacity use, the roster and the bookings in each. */
export function Board() {
  const { t } = useT()
  const sites = useSites()
  const { site, date, set } = useSiteDay(sites.data)
  const day = usePolled(() => (site ? loadSlotDay(site, date) : Promise.resolve(undefined)), [site, date], POLL_MS)
  useAppointmentStream((e) => {
    if (e.site === site) day.reload()
  })
  const d = day.data
  const totals = d?.slots.reduce(
    (x, s) => ({ booked: x.booked + s.booked, capacity: x.capacity + (s.bookable ? s.capacity : 0) }),
    {
      booked: 0,
      capacity: 0,
    },
  )
  return (
    <Layout>
      <OfficerTabs />
      <div className="page-head">
        <h1>{t('appointments.board.title')}</h1>
        <Updated at={day.updatedAt} error={day.error} everyMs={POLL_MS} />
      </div>
      {sites.error !== undefined && <ErrorBox error={sites.error} onRetry={sites.reload} />}
      <SiteDayPicker sites={sites.data} site={site} date={date} set={set} />
      {day.error !== undefined && !d && <ErrorBox error={day.error} onRetry={day.reload} />}
      {day.loading && site && <Loading />}
      {!site && sites.data && <Empty>{t('appointments.board.noSites')}</Empty>}
      {d && totals && (
        <section className="card-panel" aria-labelledby="board-h">
          <h2 id="board-h">{t('appointments.board.day', { site: `${d.site} ${d.siteName}`, date: d.date })}</h2>
          <p className="hint" data-testid="day-kind">
            {d.officeHours
              ? t('appointments.slot.officeHours', { open: d.officeHours.open, close: d.officeHours.close })
              : t('appointments.slot.noOfficeHours', { kind: d.calendar.holiday ?? t('appointments.slot.restDay') })}
          </p>
          <p aria-live="polite" data-testid="day-total">
            {t('appointments.board.total', { booked: totals.booked, capacity: totals.capacity })}
          </p>
          <table className="grid appt-board">
            <caption className="sr-only">
              {t('appointments.board.day', { site: `${d.site} ${d.siteName}`, date: d.date })}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('appointments.field.slot')}</th>
                <th scope="col">{t('appointments.board.capacity')}</th>
                <th scope="col">{t('appointments.board.officers')}</th>
                <th scope="col">{t('appointments.board.bookings')}</th>
              </tr>
            </thead>
            <tbody>
              {d.slots.map((s) => (
                <tr key={s.hour} data-hour={s.hour} className={s.bookable ? undefined : 'appt-off'}>
                  <th scope="row" className="lists-nowrap">
                    {hourRange(s.hour)}
                  </th>
                  <td>
                    {s.bookable ? (
                      <CapacityBar booked={s.booked} capacity={s.capacity} />
                    ) : (
                      <span className="hint">{t('appointments.slot.office')}</span>
                    )}
                  </td>
                  <td>
                    {s.officers.length
                      ? s.officers.map((o, i) => (
                          <span key={i} className="appt-officer">
                            {o.name}
                            {o.phone ? ` ${o.phone}` : ''}
                          </span>
                        ))
                      : s.bookable
                        ? '—'
                        : ''}
                  </td>
                  <td>
                    {s.bookings?.length ? (
                      <ul className="appt-bookings">
                        {s.bookings.map((b) => (
                          <li key={b.id} data-appointment={b.number}>
                            <Link to={`/officer/appointments/${b.id}`}>{b.number}</Link> {b.enterpriseName} ·{' '}
                            {t(`appointments.category.${b.category}`)} <StatusBadge status={b.status} />
                          </li>
                        ))}
                      </ul>
                    ) : (
                      ''
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            <Link to={`/officer/appointments/roster?site=${d.site}&date=${d.date}`}>
              {t('appointments.board.editRoster')}
            </Link>
          </p>
        </section>
      )}
    </Layout>
  )
}
