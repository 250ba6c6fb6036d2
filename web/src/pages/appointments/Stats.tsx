import { useEffect, useMemo } from 'react'
import type { Stats } from '../../../../src/modules/appointments/schema.js'
import { api } from '../../api.js'
import { Chart, loadCharts, type ChartOption } from '../../components/Chart.js'
import { QueryFilters } from '../../components/Filters.js'
import { Layout } from '../../components/Layout.js'
import { ErrorBox, Loading, Updated, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { int } from '../../lib/format.js'
import { useQuery } from '../../router.js'
import { OfficerTabs, STATUSES, addDays, chinaDate, hourRange, isDate, siteLabel, useSites } from './common.js'

const STATS_POLL_MS = 30_000

/**
 * The appointments' figures for officers: bookings per China hour of their slot (bar chart, and the same numbers as a
 * table), bookings per status, declarations released outside office hours, and the mean minutes from lodging to
 * release for declarations an accepted booking names vs the others. Site and period in the URL.
 */
export function AppointmentStats() {
  const { t } = useT()
  const { get } = useQuery()
  const sites = useSites()
  const site = get('site')
  const from = isDate(get('from')) ? get('from') : addDays(chinaDate(), -7)
  const to = isDate(get('to')) ? get('to') : addDays(chinaDate(), 7)
  useEffect(() => void loadCharts(), [])
  const stats = usePolled(
    () => {
      const q = new URLSearchParams({ from, to })
      if (site) q.set('site', site)
      return api<Stats>('GET', `/api/v1/appointments/stats?${q}`)
    },
    [site, from, to],
    STATS_POLL_MS,
  )
  const s = stats.data
  const total = s ? s.bookingsByHour.reduce((a, b) => a + b, 0) : 0
  const option = useMemo<ChartOption | undefined>(
    () =>
      s && {
        tooltip: { trigger: 'axis' },
        grid: { left: 36, right: 12, top: 16, bottom: 28 },
        xAxis: { type: 'category', data: s.bookingsByHour.map((_, h) => String(h).padStart(2, '0')) },
        yAxis: { type: 'value', minInterval: 1 },
        series: [
          {
            type: 'bar',
            name: t('appointments.stats.bookings'),
            data: s.bookingsByHour,
            itemStyle: { color: '#0b5cad' },
          },
        ],
      },
    [s, t],
  )
  const minutes = (m: number | null) => (m === null ? '—' : t('appointments.stats.minutes', { m: m.toFixed(1) }))
  return (
    <Layout>
      <OfficerTabs />
      <div className="page-head">
        <h1>{t('appointments.stats.title')}</h1>
        <Updated at={stats.updatedAt} error={stats.error} everyMs={STATS_POLL_MS} />
      </div>
      <QueryFilters names={['site', 'from', 'to']} label={t('appointments.filters')}>
        <label>
          {t('appointments.field.site')}
          {/* Keyed by the list's arrival: the URL's site is selected once its option is there. */}
          <select name="site" defaultValue={site} key={sites.data ? 'sites' : 'loading'}>
            <option value="">{t('portal.all')}</option>
            {sites.data?.map((x) => (
              <option key={x.code} value={x.code}>
                {siteLabel(x)}
              </option>
            ))}
            {site && !sites.data && <option value={site}>{site}</option>}
          </select>
        </label>
        <label>
          {t('appointments.stats.from')}
          <input type="date" name="from" defaultValue={from} required />
        </label>
        <label>
          {t('appointments.stats.to')}
          <input type="date" name="to" defaultValue={to} required />
        </label>
        <button type="submit" className="primary">
          {t('common.search')}
        </button>
      </QueryFilters>
      {stats.error !== undefined && !s && <ErrorBox error={stats.error} onRetry={stats.reload} />}
      {stats.loading && <Loading />}
      {s && (
        <>
          <p className="hint" data-testid="period">
            {t('appointments.stats.period', { from: s.from, to: s.to, site: s.site ?? t('portal.all') })}
          </p>
          <div className="lists-kpis" aria-live="polite">
            <div className="card-panel" data-kpi="bookings">
              <div className="lists-big">{int(total)}</div>
              <div className="hint">{t('appointments.stats.bookings')}</div>
            </div>
            <div className="card-panel" data-kpi="after-hours">
              <div className="lists-big">{int(s.afterHoursReleases)}</div>
              <div className="hint">{t('appointments.stats.afterHours')}</div>
            </div>
            <div className="card-panel" data-kpi="booked-minutes">
              <div className="lists-big">{minutes(s.release.booked.meanMinutes)}</div>
              <div className="hint">{t('appointments.stats.booked', { n: s.release.booked.count })}</div>
            </div>
            <div className="card-panel" data-kpi="unbooked-minutes">
              <div className="lists-big">{minutes(s.release.unbooked.meanMinutes)}</div>
              <div className="hint">{t('appointments.stats.unbooked', { n: s.release.unbooked.count })}</div>
            </div>
          </div>
          <section className="card-panel" aria-labelledby="byhour-h">
            <h2 id="byhour-h">{t('appointments.stats.byHour')}</h2>
            {option && <Chart option={option} label={t('appointments.stats.byHourLabel', { n: total })} height={240} />}
            <details>
              <summary>{t('appointments.stats.asTable')}</summary>
              <table className="grid appt-byhour" data-testid="by-hour">
                <caption className="sr-only">{t('appointments.stats.byHour')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('appointments.field.slot')}</th>
                    <th scope="col">{t('appointments.stats.bookings')}</th>
                  </tr>
                </thead>
                <tbody>
                  {s.bookingsByHour.map((n, h) => (
                    <tr key={h} data-hour={h}>
                      <th scope="row">{hourRange(h)}</th>
                      <td>{n}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          </section>
          <section className="card-panel" aria-labelledby="bystatus-h">
            <h2 id="bystatus-h">{t('appointments.stats.byStatus')}</h2>
            <ul className="lists-status" data-testid="by-status">
              {STATUSES.map((x) => (
                <li key={x} data-status={x}>
                  <span className={`badge appt-status appt-${x.toLowerCase()}`}>
                    {t(`appointments.status.${x}`)} <strong>{s.byStatus[x] ?? 0}</strong>
                  </span>
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
      {sites.error !== undefined && <ErrorBox error={sites.error} />}
    </Layout>
  )
}
