import { useRef, useState } from 'react'
import type { AppointmentDetail as Detail } from '../../../../src/modules/appointments/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { ConfirmDialog } from '../../components/Dialog.js'
import { FieldError, fieldErrors, invalid } from '../../components/Fields.js'
import { ErrorBox, Loading, Updated, useFocusOn, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { chinaTime } from '../../lib/format.js'
import { Link, useQuery } from '../../router.js'
import {
  EXPLANATION_MAX,
  MAX_FLEX_HOURS,
  POLL_MS,
  REASON_MAX,
  StatusBadge,
  chinaDate,
  hourRange,
  loadSlotDay,
  slotText,
  useAppointmentStream,
  useCodes,
  type Appointment,
} from './common.js'
import { OfficerTabs } from './common.js'

type OperatorAction = 'reschedule' | 'cancel'
type OfficerAction = 'accept' | 'reject' | 'hold' | 'remove'
export type Action = OperatorAction | OfficerAction

/** Which actions a booking in `status` allows (the server decides; the screen offers only these). */
export function actionsFor(a: Appointment, officer: boolean): Action[] {
  const s = a.status
  if (officer)
    return (
      [
        ['accept', s === 'PENDING' || s === 'HELD'],
        ['reject', s === 'PENDING' || s === 'HELD'],
        ['hold', s === 'PENDING' || s === 'ACCEPTED'],
        ['remove', s === 'PENDING' || s === 'ACCEPTED' || s === 'HELD'],
      ] as Array<[Action, boolean]>
    )
      .filter(([, ok]) => ok)
      .map(([x]) => x)
  return (
    [
      ['reschedule', s === 'PENDING' || s === 'ACCEPTED'],
      ['cancel', s === 'PENDING' || s === 'ACCEPTED' || s === 'HELD'],
    ] as Array<[Action, boolean]>
  )
    .filter(([, ok]) => ok)
    .map(([x]) => x)
}

/**
 * The dialog of one action on a booking: a reason where the API requires one (reject, hold, remove, cancel,
 * reschedule), a note for accept, and for a reschedule the new date, hour and flexible hours. It stays open on a
 * refusal and shows the problem at its field; `onDone` gets the booking as it now is.
 */
export function ActionDialog({
  a,
  action,
  onClose,
  onDone,
}: {
  a: Appointment
  action: Action
  onClose: () => void
  onDone: (fresh: Appointment) => void
}) {
  const { t } = useT()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const [date, setDate] = useState(a.date)
  const [hour, setHour] = useState(a.hour)
  const errors = fieldErrors(error, t)
  const day = usePolled(
    () => (action === 'reschedule' ? loadSlotDay(a.site, date) : Promise.resolve(undefined)),
    [date],
  )
  const danger = action !== 'accept' && action !== 'reschedule'
  const confirm = (f: FormData) => {
    const str = (k: string) => String(f.get(k) ?? '').trim()
    const body =
      action === 'accept'
        ? str('note')
          ? { note: str('note') }
          : {}
        : action === 'reschedule'
          ? { date, hour, flexHours: Number(str('flexHours')) || 0, reason: str('reason') }
          : { reason: str('reason') }
    setBusy(true)
    setError(undefined)
    api<Appointment>('POST', `/api/v1/appointments/${a.id}/${action}`, body).then(
      (fresh) => {
        setBusy(false)
        onDone(fresh)
      },
      (e: unknown) => {
        setBusy(false)
        setError(e)
      },
    )
  }
  return (
    <ConfirmDialog
      title={t(`appointments.confirm.${action}`, { number: a.number })}
      confirmLabel={t(`appointments.action.${action}`)}
      busy={busy}
      danger={danger}
      onConfirm={confirm}
      onClose={onClose}>
      <p className="hint">
        {a.number} · {a.enterpriseName} · {a.siteName} · {slotText(a)}
      </p>
      {error !== undefined && <ErrorBox error={error} />}
      {action === 'reschedule' && (
        <div className="row">
          <label>
            {t('appointments.field.date')}
            <input
              type="date"
              name="date"
              required
              min={chinaDate()}
              value={date}
              onChange={(e) => setDate(e.target.value)}
              {...invalid('rs-date-err', errors.date)}
            />
            <FieldError id="rs-date-err" text={errors.date} />
          </label>
          <label>
            {t('appointments.book.hour')}
            <select
              name="hour"
              value={hour}
              onChange={(e) => setHour(Number(e.target.value))}
              {...invalid('rs-hour-err', errors.hour)}>
              {Array.from({ length: 24 }, (_, h) => {
                const s = day.data?.slots[h]
                return (
                  <option key={h} value={h} disabled={s ? !s.bookable : false}>
                    {hourRange(h)}
                    {s
                      ? s.bookable
                        ? ` · ${t('appointments.slot.use', { booked: s.booked, capacity: s.capacity })}`
                        : ` · ${t('appointments.slot.office')}`
                      : ''}
                  </option>
                )
              })}
            </select>
            <FieldError id="rs-hour-err" text={errors.hour} />
          </label>
          <label>
            {t('appointments.field.flexHours')}
            <input
              type="number"
              name="flexHours"
              min={0}
              max={MAX_FLEX_HOURS}
              defaultValue={0}
              {...invalid('rs-flex-err', errors.flexHours)}
            />
            <FieldError id="rs-flex-err" text={errors.flexHours} />
          </label>
        </div>
      )}
      {action === 'accept' ? (
        <label>
          {t('common.note')}
          <textarea name="note" rows={2} maxLength={REASON_MAX} />
        </label>
      ) : (
        <label>
          {t('appointments.field.actionReason')}
          <textarea
            name="reason"
            rows={3}
            maxLength={REASON_MAX}
            required
            {...invalid(`${action}-reason-err`, errors.reason)}
          />
          <FieldError id={`${action}-reason-err`} text={errors.reason} />
        </label>
      )}
      {action === 'cancel' && a.status === 'ACCEPTED' && <p className="notice">{t('appointments.cancel.explain')}</p>}
    </ConfirmDialog>
  )
}

/**
 * One booking: status, slot, goods, the acceptance receipt (预约回执), the timeline, the written-explanation task, and
 * the actions of the person looking (the enterprise's operator or an officer). Reloads at once on the live stream's
 * change for it, and every few seconds.
 */
export function AppointmentView({ id, officer }: { id: string; officer: boolean }) {
  const { t } = useT()
  const { get } = useQuery()
  const view = usePolled(() => api<Detail>('GET', `/api/v1/appointments/${encodeURIComponent(id)}`), [id], POLL_MS)
  useAppointmentStream((e) => {
    if (e.id === id) view.reload()
  })
  const [dialog, setDialog] = useState<Action>()
  const [done, setDone] = useState('')
  const notice = useFocusOn<HTMLParagraphElement>(done)
  const back = officer ? '/officer/appointments' : '/portal/appointments'
  const fresh = get('new') === '1' && !done
  return (
    <Layout>
      {officer && <OfficerTabs />}
      <p>
        <Link to={back}>← {t(officer ? 'appointments.board.title' : 'appointments.mine.title')}</Link>
      </p>
      {done && (
        <p className="notice" role="status" tabIndex={-1} ref={notice}>
          {done}
        </p>
      )}
      {view.error !== undefined && !view.data && <ErrorBox error={view.error} onRetry={view.reload} />}
      {!view.data && view.error === undefined && <Loading />}
      {view.data && (
        <DetailBody
          a={view.data}
          officer={officer}
          fresh={fresh}
          updated={<Updated at={view.updatedAt} error={view.error} everyMs={POLL_MS} />}
          onAction={setDialog}
          onExplained={() => {
            setDone(t('appointments.explanation.done'))
            view.reload()
          }}
        />
      )}
      {dialog && view.data && (
        <ActionDialog
          a={view.data}
          action={dialog}
          onClose={() => setDialog(undefined)}
          onDone={(a) => {
            setDialog(undefined)
            setDone(
              t(`appointments.done.${dialog}`, { number: a.number, status: t(`appointments.status.${a.status}`) }),
            )
            view.reload()
          }}
        />
      )}
    </Layout>
  )
}

function DetailBody({
  a,
  officer,
  fresh,
  updated,
  onAction,
  onExplained,
}: {
  a: Detail
  officer: boolean
  fresh: boolean
  updated: React.ReactNode
  onAction: (x: Action) => void
  onExplained: () => void
}) {
  const { t, lang } = useT()
  const modes = useCodes('transport-modes')
  const modeName = (code: string) => {
    const m = modes.data?.find((x) => x.code === code)
    return m ? (lang === 'en' ? m.nameEn || m.name : m.name) : ''
  }
  const offices = useCodes('customs-offices')
  const officeName = (code: string) => {
    const o = offices.data?.find((x) => x.code === code)
    const zh = o?.name ?? (code === a.site ? a.siteName : '')
    return lang === 'en' ? o?.nameEn || zh : zh
  }
  // The automatic review's reason comes as English text ("automatic review: PERISHABLE at 5301"): in the user's words.
  const reasonText = (e: Detail['timeline'][number]) => {
    const m = e.actor === 'system:auto-review' ? /^automatic review: ([A-Z_]+) at (\d{4})$/.exec(e.reason ?? '') : null
    if (!m) return e.reason ?? '—'
    const k = `appointments.category.${m[1]}`
    const category = t(k) === k ? m[1]! : t(k)
    return t('appointments.timeline.autoReview', { category, site: `${m[2]} ${officeName(m[2]!)}`.trim() })
  }
  const actions = actionsFor(a, officer)
  const r = a.receipt
  // The server's action names in the user's words where the console has them, else as they are.
  const actText = (x: string) => {
    const k = `appointments.act.${x}`
    const s = t(k)
    return s === k ? x : s
  }
  return (
    <>
      <div className="page-head">
        <h1>
          {t('appointments.detail.title')} {a.number}
        </h1>
        <span aria-live="polite" data-testid="status">
          <StatusBadge status={a.status} />
        </span>
        {updated}
      </div>
      {fresh && (
        <p className="notice" role="status">
          {t(a.status === 'ACCEPTED' ? 'appointments.book.doneAccepted' : 'appointments.book.donePending', {
            number: a.number,
          })}
        </p>
      )}
      {actions.length > 0 && (
        <div className="row appt-actions">
          {actions.map((x) => (
            <button
              key={x}
              type="button"
              className={x === 'accept' ? 'primary' : x === 'reschedule' ? '' : 'danger'}
              onClick={() => onAction(x)}>
              {t(`appointments.action.${x}`)}
            </button>
          ))}
        </div>
      )}
      {r && a.status === 'ACCEPTED' && (
        <section className="card-panel appt-receipt" aria-labelledby="receipt-h" data-testid="receipt">
          <h2 id="receipt-h">{t('appointments.receipt.title')}</h2>
          <dl className="facts">
            <div>
              <dt>{t('appointments.receipt.number')}</dt>
              <dd data-testid="receipt-number">{r.appointmentNo}</dd>
            </div>
            <div>
              <dt>{t('appointments.receipt.time')}</dt>
              <dd>{r.localTime}</dd>
            </div>
            <div>
              <dt>{t('appointments.field.site')}</dt>
              <dd>
                {r.site} {r.siteName}
              </dd>
            </div>
            <div>
              <dt>{t('appointments.receipt.dutyPhone')}</dt>
              <dd data-testid="duty-phone">
                <a href={`tel:${r.dutyPhone}`}>{r.dutyPhone}</a>
              </dd>
            </div>
            <div>
              <dt>{t('appointments.receipt.officers')}</dt>
              <dd data-testid="duty-officers">
                {r.dutyOfficers.length === 0
                  ? t('appointments.receipt.noOfficers')
                  : r.dutyOfficers.map((o, i) => (
                      <span key={i} className="appt-officer">
                        {o.name}
                        {o.phone && (
                          <>
                            {' '}
                            <a href={`tel:${o.phone}`}>{o.phone}</a>
                          </>
                        )}
                      </span>
                    ))}
              </dd>
            </div>
            <div>
              <dt>{t('appointments.receipt.accepted')}</dt>
              <dd>
                {chinaTime(r.acceptedAt)} ·{' '}
                {r.acceptedBy === 'auto' ? t('appointments.receipt.auto') : r.acceptedBy.replace(/^user:/, '')}
              </dd>
            </div>
          </dl>
        </section>
      )}
      {a.explanation && <ExplanationPanel a={a} officer={officer} onDone={onExplained} />}
      <section className="card-panel" aria-labelledby="facts-h">
        <h2 id="facts-h">{t('appointments.detail.booking')}</h2>
        <dl className="facts">
          <div>
            <dt>{t('appointments.field.slot')}</dt>
            <dd data-testid="slot">{slotText(a)}</dd>
          </div>
          <div>
            <dt>{t('appointments.field.site')}</dt>
            <dd>
              {a.site} {a.siteName}
            </dd>
          </div>
          <div>
            <dt>{t('appointments.field.enterprise')}</dt>
            <dd>
              {a.enterpriseName} ({a.enterpriseCode})
            </dd>
          </div>
          <div>
            <dt>{t('appointments.field.contact')}</dt>
            <dd>
              {a.contactName} · <a href={`tel:${a.contactMobile}`}>{a.contactMobile}</a>
            </dd>
          </div>
          <div>
            <dt>{t('appointments.field.service')}</dt>
            <dd>{t(`appointments.service.${a.service}`)}</dd>
          </div>
          <div>
            <dt>{t('appointments.field.category')}</dt>
            <dd>{t(`appointments.category.${a.category}`)}</dd>
          </div>
          <div>
            <dt>{t('appointments.field.iePort')}</dt>
            <dd>
              {a.iePort} {a.iePortName} · {t(`decl.${a.ieFlag}`)}
            </dd>
          </div>
          <div>
            <dt>{t('decl.transport')}</dt>
            <dd>
              {a.transportMode} {modeName(a.transportMode)}
            </dd>
          </div>
          <div>
            <dt>{t('appointments.field.reason')}</dt>
            <dd>{a.reason}</dd>
          </div>
          {a.lastReason && (
            <div>
              <dt>{t('appointments.field.lastReason')}</dt>
              <dd data-testid="last-reason">{a.lastReason}</dd>
            </div>
          )}
          <div>
            <dt>{t('appointments.field.declarations')}</dt>
            <dd>{a.declarations.join(', ') || t('common.none')}</dd>
          </div>
          <div>
            <dt>{t('appointments.field.manifests')}</dt>
            <dd>{a.manifests.join(', ') || t('common.none')}</dd>
          </div>
          <div>
            <dt>{t('appointments.field.clientRef')}</dt>
            <dd>{a.clientRef}</dd>
          </div>
          <div>
            <dt>{t('common.createdAt')}</dt>
            <dd>{chinaTime(a.createdAt)}</dd>
          </div>
        </dl>
        <table className="grid appt-goods">
          <caption className="sys-caption">{t('appointments.field.goods')}</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t('appointments.field.goodsName')}</th>
              <th scope="col">{t('appointments.field.hsCode')}</th>
            </tr>
          </thead>
          <tbody>
            {a.goods.map((g, i) => (
              <tr key={i}>
                <td>{i + 1}</td>
                <td>{g.name}</td>
                <td>{g.hsCode}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card-panel" aria-labelledby="timeline-h">
        <h2 id="timeline-h">{t('appointments.timeline.title')}</h2>
        <table className="grid appt-timeline">
          <caption className="sr-only">{t('appointments.timeline.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('appointments.timeline.at')}</th>
              <th scope="col">{t('appointments.timeline.actor')}</th>
              <th scope="col">{t('appointments.timeline.action')}</th>
              <th scope="col">{t('common.status')}</th>
              <th scope="col">{t('appointments.field.slot')}</th>
              <th scope="col">{t('appointments.field.actionReason')}</th>
            </tr>
          </thead>
          <tbody>
            {a.timeline.map((e, i) => (
              <tr key={i} data-action={e.action}>
                <td className="lists-nowrap">{chinaTime(e.at)}</td>
                <td>{e.actor}</td>
                <td>{actText(e.action)}</td>
                <td>
                  {e.fromStatus ? `${t(`appointments.status.${e.fromStatus}`)} → ` : ''}
                  {t(`appointments.status.${e.toStatus}`)}
                </td>
                <td className="lists-nowrap">{chinaTime(e.slotStart).slice(0, 16)}</td>
                <td>{reasonText(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  )
}

/** The written-explanation task of a cancellation after acceptance: due date, overdue flag, and (owner) the form. */
function ExplanationPanel({ a, officer, onDone }: { a: Appointment; officer: boolean; onDone: () => void }) {
  const { t } = useT()
  const x = a.explanation!
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>()
  const errors = fieldErrors(error, t)
  const text = useRef<HTMLTextAreaElement>(null)
  const submit = (e: React.FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(undefined)
    api('POST', `/api/v1/appointments/${a.id}/explanation`, { text: text.current?.value.trim() ?? '' }).then(
      () => {
        setBusy(false)
        onDone()
      },
      (err: unknown) => {
        setBusy(false)
        setError(err)
      },
    )
  }
  return (
    <section
      className={`card-panel appt-explanation${x.overdue && !x.submittedAt ? ' appt-overdue' : ''}`}
      aria-labelledby="expl-h"
      data-testid="explanation">
      <h2 id="expl-h">{t('appointments.explanation.title')}</h2>
      <p>
        {t('appointments.explanation.due', { at: chinaTime(x.dueAt) })}{' '}
        {x.submittedAt ? (
          <span className="badge appt-accepted">{t('appointments.explanation.submitted')}</span>
        ) : x.overdue ? (
          <span className="badge appt-rejected">{t('appointments.explanation.overdue')}</span>
        ) : (
          <span className="badge appt-pending">{t('appointments.explanation.open')}</span>
        )}
      </p>
      {x.submittedAt ? (
        <blockquote className="appt-quote">
          <p>{x.text}</p>
          <footer className="hint">{chinaTime(x.submittedAt)}</footer>
        </blockquote>
      ) : officer ? (
        <p className="hint">{t('appointments.explanation.waiting')}</p>
      ) : (
        <form onSubmit={submit}>
          {error !== undefined && !errors.text && <ErrorBox error={error} />}
          <label className="appt-wide">
            {t('appointments.explanation.text')}
            <textarea
              ref={text}
              name="text"
              rows={4}
              maxLength={EXPLANATION_MAX}
              required
              {...invalid('expl-err', errors.text)}
            />
            <FieldError id="expl-err" text={errors.text} />
          </label>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? t('common.working') : t('appointments.explanation.submit')}
          </button>
        </form>
      )}
    </section>
  )
}
