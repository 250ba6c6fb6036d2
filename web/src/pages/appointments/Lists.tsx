import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { QueryFilters } from '../../components/Filters.js'
import { Pager } from '../../components/Pager.js'
import { Empty, ErrorBox, Loading, Updated, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { Link, useQuery } from '../../router.js'
import {
  POLL_MS,
  STATUSES,
  StatusBadge,
  isDate,
  siteLabel,
  slotText,
  useAppointmentStream,
  useSites,
  type Appointment,
} from './common.js'

const PAGE = 20

/** Lists bookings with the API's filters; `null` filters are left out. */
export const listAppointments = (q: Record<string, string | number | undefined>) => {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v))
  return api<{ items: Appointment[]; total: number }>('GET', `/api/v1/appointments?${p}`)
}

/** A table of bookings; `to` makes each number a link to its detail page. */
export function AppointmentTable({
  items,
  caption,
  to,
  officer,
  actions,
}: {
  items: Appointment[]
  caption: string
  to: (a: Appointment) => string
  officer?: boolean
  actions?: (a: Appointment) => React.ReactNode
}) {
  const { t } = useT()
  return (
    <table className="grid appt-list">
      <caption className="sr-only">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t('appointments.field.number')}</th>
          <th scope="col">{t('appointments.field.slot')}</th>
          <th scope="col">{t('appointments.field.site')}</th>
          {officer && <th scope="col">{t('appointments.field.enterprise')}</th>}
          <th scope="col">{t('appointments.field.category')}</th>
          <th scope="col">{t('appointments.field.goods')}</th>
          <th scope="col">{t('common.status')}</th>
          {actions && <th scope="col">{t('common.actions')}</th>}
        </tr>
      </thead>
      <tbody>
        {items.map((a) => (
          <tr key={a.id} data-appointment={a.number} data-status={a.status}>
            <td>
              <Link to={to(a)}>{a.number}</Link>
            </td>
            <td className="lists-nowrap">{slotText(a)}</td>
            <td>
              {a.site} {a.siteName}
            </td>
            {officer && (
              <td>
                {a.enterpriseName}
                <br />
                <small>
                  {a.enterpriseCode} · {a.contactName} {a.contactMobile}
                </small>
              </td>
            )}
            <td>
              {t(`appointments.category.${a.category}`)}
              <br />
              <small>{t(`appointments.service.${a.service}`)}</small>
            </td>
            <td>{a.goods.map((g) => `${g.name} (${g.hsCode})`).join('; ')}</td>
            <td>
              <StatusBadge status={a.status} />
              {a.explanation && !a.explanation.submittedAt && (
                <>
                  {' '}
                  <span className={`badge ${a.explanation.overdue ? 'appt-rejected' : 'appt-pending'}`}>
                    {t(a.explanation.overdue ? 'appointments.explanation.overdue' : 'appointments.explanation.open')}
                  </span>
                </>
              )}
              {a.lastReason && a.status !== 'ACCEPTED' && (
                <>
                  <br />
                  <small>{a.lastReason}</small>
                </>
              )}
            </td>
            {actions && <td className="actions">{actions(a)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The enterprise's bookings (status, site and date in the URL), live. */
export function MyAppointments() {
  const { t } = useT()
  const { get, int, set } = useQuery()
  const status = get('status')
  const site = get('site')
  const date = isDate(get('date')) ? get('date') : ''
  const offset = int('offset')
  const sites = useSites()
  const list = usePolled(
    () => listAppointments({ status, site, date, limit: PAGE, offset }),
    [status, site, date, offset],
    POLL_MS,
  )
  useAppointmentStream(() => list.reload())
  return (
    <Layout>
      <div className="page-head">
        <h1>{t('appointments.mine.title')}</h1>
        <Link to="/portal/appointments/new" className="button primary">
          {t('appointments.nav.book')}
        </Link>
        <Updated at={list.updatedAt} error={list.error} everyMs={POLL_MS} />
      </div>
      <QueryFilters names={['status', 'site', 'date']} label={t('appointments.filters')}>
        <label>
          {t('common.status')}
          <select name="status" defaultValue={status}>
            <option value="">{t('portal.all')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`appointments.status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('appointments.field.site')}
          {/* Keyed by the list's arrival: the URL's site is selected once its option is there. */}
          <select name="site" defaultValue={site} key={sites.data ? 'sites' : 'loading'}>
            <option value="">{t('portal.all')}</option>
            {sites.data?.map((s) => (
              <option key={s.code} value={s.code}>
                {siteLabel(s)}
              </option>
            ))}
            {site && !sites.data && <option value={site}>{site}</option>}
          </select>
        </label>
        <label>
          {t('appointments.field.date')}
          <input type="date" name="date" defaultValue={date} />
        </label>
        <button type="submit" className="primary">
          {t('common.search')}
        </button>
      </QueryFilters>
      {list.error !== undefined && !list.data && <ErrorBox error={list.error} onRetry={list.reload} />}
      {list.loading && <Loading />}
      {list.data &&
        (list.data.items.length === 0 ? (
          <Empty>{t(status || site || date ? 'appointments.mine.noneMatch' : 'appointments.mine.none')}</Empty>
        ) : (
          <>
            <p className="hint" aria-live="polite" data-testid="total">
              {t('appointments.mine.total', { n: list.data.total })}
            </p>
            <AppointmentTable
              items={list.data.items}
              caption={t('appointments.mine.title')}
              to={(a) => `/portal/appointments/${a.id}`}
            />
            <Pager offset={offset} total={list.data.total} page={PAGE} onChange={(o) => set({ offset: o })} />
          </>
        ))}
    </Layout>
  )
}
