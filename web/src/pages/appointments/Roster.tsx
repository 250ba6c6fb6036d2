import { useState } from 'react'
import type { OfficerOnDuty, PutSlots } from '../../../../src/modules/appointments/schema.js'
import { api } from '../../api.js'
import { Layout } from '../../components/Layout.js'
import { CellInput, useRowsEditor } from '../../components/Rows.js'
import { FieldError, invalid } from '../../components/Fields.js'
import { Empty, ErrorBox, Loading, Updated, useFocusOn, usePolled } from '../../components/States.js'
import { useT } from '../../i18n.js'
import { CapacityBar, OfficerTabs, POLL_MS, hourRange, loadSlotDay, useSites, type SlotDay } from './common.js'
import { SiteDayPicker, useSiteDay } from './Board.js'

/**
 * The roster editor: choose hours of a site's day, then set their capacity and/or the officers on duty (name and
 * phone) in one PUT. The day's current capacity, bookings and roster are shown beside each hour.
 */
export function Roster() {
  const { t } = useT()
  const sites = useSites()
  const { site, date, set } = useSiteDay(sites.data)
  const day = usePolled(() => (site ? loadSlotDay(site, date) : Promise.resolve(undefined)), [site, date], POLL_MS)
  return (
    <Layout>
      <OfficerTabs />
      <div className="page-head">
        <h1>{t('appointments.roster.title')}</h1>
        <Updated at={day.updatedAt} error={day.error} everyMs={POLL_MS} />
      </div>
      {sites.error !== undefined && <ErrorBox error={sites.error} onRetry={sites.reload} />}
      <SiteDayPicker sites={sites.data} site={site} date={date} set={set} />
      {day.error !== undefined && !day.data && <ErrorBox error={day.error} onRetry={day.reload} />}
      {day.loading && site && <Loading />}
      {!site && sites.data && <Empty>{t('appointments.board.noSites')}</Empty>}
      {day.data && <RosterForm key={`${site}|${date}`} day={day.data} onSaved={day.reload} />}
    </Layout>
  )
}

function RosterForm({ day, onSaved }: { day: SlotDay; onSaved: () => void }) {
  const { t } = useT()
  const [hours, setHours] = useState<number[]>([])
  const [capacity, setCapacity] = useState('')
  const [setOfficers, setSetOfficers] = useState(true)
  const [savedNote, setSavedNote] = useState('')
  const notice = useFocusOn<HTMLParagraphElement>(savedNote)
  const ed = useRowsEditor<OfficerOnDuty>([{ name: '', phone: '' }], async (rows) => {
    const officers = rows.map((r) => ({ name: r.name.trim(), ...(r.phone?.trim() ? { phone: r.phone.trim() } : {}) }))
    const body: PutSlots = {
      site: day.site,
      date: day.date,
      hours: [...hours].sort((a, b) => a - b),
      ...(capacity.trim() !== '' ? { capacity: Number(capacity) } : {}),
      ...(setOfficers ? { officers } : {}),
    }
    await api<SlotDay>('PUT', '/api/v1/appointment-slots', body)
    setSavedNote(t('appointments.roster.saved', { n: body.hours.length, date: day.date }))
    onSaved()
    return rows
  })
  const toggle = (h: number) => {
    setSavedNote('')
    setHours((x) => (x.includes(h) ? x.filter((y) => y !== h) : [...x, h]))
  }
  const bookable = day.slots.filter((s) => s.bookable).map((s) => s.hour)
  const err = ed.errors
  return (
    <form className="card-panel appt-roster" onSubmit={ed.submit} aria-label={t('appointments.roster.title')}>
      <h2>{t('appointments.board.day', { site: `${day.site} ${day.siteName}`, date: day.date })}</h2>
      {savedNote && ed.saved > 0 && (
        <p className="notice" role="status" tabIndex={-1} ref={notice}>
          {savedNote}
        </p>
      )}
      {ed.error !== undefined && <ErrorBox error={ed.error} />}
      <fieldset {...invalid('hours-err', err.hours)}>
        <legend>{t('appointments.roster.hours')}</legend>
        <div className="row">
          <button type="button" onClick={() => setHours(bookable)}>
            {t('appointments.roster.allBookable')}
          </button>
          <button type="button" onClick={() => setHours([])}>
            {t('appointments.roster.none')}
          </button>
          <span className="hint" aria-live="polite">
            {t('appointments.roster.chosen', { n: hours.length })}
          </span>
        </div>
        <table className="grid appt-board">
          <caption className="sr-only">{t('appointments.roster.hours')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('appointments.roster.choose')}</th>
              <th scope="col">{t('appointments.board.capacity')}</th>
              <th scope="col">{t('appointments.board.officers')}</th>
            </tr>
          </thead>
          <tbody>
            {day.slots.map((s) => (
              <tr key={s.hour} data-hour={s.hour} className={s.bookable ? undefined : 'appt-off'}>
                <td>
                  <label className="inline">
                    <input type="checkbox" checked={hours.includes(s.hour)} onChange={() => toggle(s.hour)} />
                    {hourRange(s.hour)}
                    {!s.bookable && <span className="hint"> {t('appointments.slot.office')}</span>}
                  </label>
                </td>
                <td>
                  <CapacityBar booked={s.booked} capacity={s.capacity} />
                </td>
                <td data-testid="slot-officers">
                  {s.officers.map((o, i) => (
                    <span key={i} className="appt-officer">
                      {o.name}
                      {o.phone ? ` ${o.phone}` : ''}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <FieldError id="hours-err" text={err.hours ?? Object.entries(err).find(([k]) => k.startsWith('hours/'))?.[1]} />
      </fieldset>
      <fieldset>
        <legend>{t('appointments.roster.set')}</legend>
        <label>
          {t('appointments.roster.capacity')}
          <input
            type="number"
            name="capacity"
            min={0}
            max={1000}
            value={capacity}
            onChange={(e) => setCapacity(e.target.value)}
            {...invalid('capacity-err', err.capacity)}
          />
          <span className="hint">{t('appointments.roster.capacityHint')}</span>
          <FieldError id="capacity-err" text={err.capacity} />
        </label>
        <label className="inline">
          <input type="checkbox" checked={setOfficers} onChange={(e) => setSetOfficers(e.target.checked)} />
          {t('appointments.roster.setOfficers')}
        </label>
        {setOfficers && (
          <table className="grid">
            <caption className="sys-caption">{t('appointments.board.officers')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('appointments.roster.officerName')}</th>
                <th scope="col">{t('appointments.roster.officerPhone')}</th>
                <th scope="col">
                  <span className="sr-only">{t('common.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {ed.rows.map((r, i) => (
                <tr key={i}>
                  <td>
                    <CellInput
                      id={`officer-${i}-name`}
                      label={`${t('appointments.roster.officerName')} ${i + 1}`}
                      value={r.name}
                      maxLength={100}
                      error={err[`officers/${i}/name`]}
                      onChange={(e) => ed.set(i, { name: e.target.value })}
                    />
                  </td>
                  <td>
                    <CellInput
                      id={`officer-${i}-phone`}
                      label={`${t('appointments.roster.officerPhone')} ${i + 1}`}
                      value={r.phone ?? ''}
                      inputMode="tel"
                      maxLength={30}
                      error={err[`officers/${i}/phone`]}
                      onChange={(e) => ed.set(i, { phone: e.target.value })}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      aria-label={t('appointments.roster.removeOfficer', { n: i + 1 })}
                      onClick={() => ed.remove(i)}>
                      {t('appointments.book.remove')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {setOfficers && (
          <>
            <p className="hint">{t('appointments.roster.officersHint')}</p>
            <button
              type="button"
              onClick={() => {
                ed.add({ name: '', phone: '' })
                const n = ed.rows.length
                requestAnimationFrame(() => document.getElementById(`officer-${n}-name`)?.focus())
              }}>
              {t('appointments.roster.addOfficer')}
            </button>
          </>
        )}
      </fieldset>
      <div className="row actions">
        <button type="submit" className="primary" disabled={ed.busy || hours.length === 0}>
          {ed.busy ? t('common.working') : t('appointments.roster.save', { n: hours.length })}
        </button>
      </div>
    </form>
  )
}
