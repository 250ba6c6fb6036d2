import { useState } from 'react'
import { Layout } from '../../components/Layout.js'
import { Pager } from '../../components/Pager.js'
import { Empty, ErrorBox, Loading, Updated, useFocusOn, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { useQuery } from '../../router.js'
import { OfficerTabs, POLL_MS, siteLabel, useAppointmentStream, useSites, type Appointment } from './common.js'
import { ActionDialog, actionsFor, type Action } from './Detail.js'
import { AppointmentTable, listAppointments } from './Lists.js'

const PAGE = 20

/**
 * The officers' review queue: bookings waiting for a decision (PENDING, oldest slot first), those on hold (HELD),
 * and cancellations whose written explanation is overdue. Each row has its actions, with a confirmation that asks
 * for the reason where the API requires one. Site filter and page in the URL; live.
 */
export function ReviewQueue() {
  const { t } = useT()
  const { get, int, set } = useQuery()
  const site = get('site')
  const offset = int('offset')
  const sites = useSites()
  const lists = usePolled(
    () =>
      Promise.all([
        listAppointments({ site, status: 'PENDING', limit: PAGE, offset }),
        listAppointments({ site, status: 'HELD', limit: 100 }),
        listAppointments({ site, explanation: 'OVERDUE', limit: 100 }),
      ]),
    [site, offset],
    POLL_MS,
  )
  useAppointmentStream(() => lists.reload())
  const [dialog, setDialog] = useState<{ a: Appointment; action: Action }>()
  const [done, setDone] = useState('')
  const notice = useFocusOn<HTMLParagraphElement>(done)
  const rowActions = (a: Appointment) => (
    <div className="appt-row-actions">
      {actionsFor(a, true).map((x) => (
        <button
          key={x}
          type="button"
          className={x === 'accept' ? 'primary' : 'danger'}
          aria-label={`${t(`appointments.action.${x}`)} ${a.number}`}
          onClick={() => setDialog({ a, action: x })}>
          {t(`appointments.action.${x}`)}
        </button>
      ))}
    </div>
  )
  const to = (a: Appointment) => `/officer/appointments/${a.id}`
  return (
    <Layout wide>
      <OfficerTabs />
      <div className="page-head">
        <h1>{t('appointments.review.title')}</h1>
        <Updated at={lists.updatedAt} error={lists.error} everyMs={POLL_MS} />
      </div>
      <form
        className="card-panel row"
        role="search"
        aria-label={t('appointments.filters')}
        onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('appointments.field.site')}
          <select value={site} onChange={(e) => set({ site: e.target.value })}>
            <option value="">{t('portal.all')}</option>
            {sites.data?.map((s) => (
              <option key={s.code} value={s.code}>
                {siteLabel(s)}
              </option>
            ))}
            {site && !sites.data && <option value={site}>{site}</option>}
          </select>
        </label>
      </form>
      {done && (
        <p className="notice" role="status" tabIndex={-1} ref={notice}>
          {done}
        </p>
      )}
      {lists.error !== undefined && !lists.data && <ErrorBox error={lists.error} onRetry={lists.reload} />}
      {lists.loading && <Loading />}
      {lists.data && (
        <>
          <section className="card-panel" aria-labelledby="pending-h" data-testid="pending">
            <h2 id="pending-h">
              {t('appointments.review.pending')}{' '}
              <span className="badge" aria-live="polite">
                {lists.data[0].total}
              </span>
            </h2>
            {lists.data[0].items.length === 0 ? (
              <Empty>{t('appointments.review.nonePending')}</Empty>
            ) : (
              <>
                <AppointmentTable
                  items={lists.data[0].items}
                  caption={t('appointments.review.pending')}
                  to={to}
                  officer
                  actions={rowActions}
                />
                <Pager
                  offset={offset}
                  total={lists.data[0].total}
                  page={PAGE}
                  onChange={(o) => set({ site, offset: o })}
                />
              </>
            )}
          </section>
          <section className="card-panel" aria-labelledby="held-h" data-testid="held">
            <h2 id="held-h">
              {t('appointments.review.held')}{' '}
              <span className="badge" aria-live="polite">
                {lists.data[1].total}
              </span>
            </h2>
            {lists.data[1].items.length === 0 ? (
              <Empty>{t('appointments.review.noneHeld')}</Empty>
            ) : (
              <AppointmentTable
                items={lists.data[1].items}
                caption={t('appointments.review.held')}
                to={to}
                officer
                actions={rowActions}
              />
            )}
          </section>
          <section className="card-panel" aria-labelledby="overdue-h" data-testid="overdue">
            <h2 id="overdue-h">
              {t('appointments.review.overdue')}{' '}
              <span className="badge" aria-live="polite">
                {lists.data[2].total}
              </span>
            </h2>
            <p className="hint">{t('appointments.review.overdueHint')}</p>
            {lists.data[2].items.length === 0 ? (
              <Empty>{t('appointments.review.noneOverdue')}</Empty>
            ) : (
              <AppointmentTable
                items={lists.data[2].items}
                caption={t('appointments.review.overdue')}
                to={to}
                officer
              />
            )}
          </section>
        </>
      )}
      {dialog && (
        <ActionDialog
          a={dialog.a}
          action={dialog.action}
          onClose={() => setDialog(undefined)}
          onDone={(a) => {
            setDialog(undefined)
            setDone(
              t(`appointments.done.${dialog.action}`, {
                number: a.number,
                status: t(`appointments.status.${a.status}`),
              }),
            )
            lists.reload()
          }}
        />
      )}
    </Layout>
  )
}
