import type { SlotDay } from './common.js'
import { CapacityBar, hourRange } from './common.js'
import { useT } from '../../i18n.js'
import { Empty, ErrorBox, Loading, Updated } from '../../components/States.js'
import { FieldError, invalid } from '../../components/Fields.js'

/**
 * The 24 slots of a site's day as radio buttons: office hours are shown greyed and cannot be chosen (bookings are only
 * for hours outside them); a full slot can be chosen (with flexible hours the booking moves to the next one with room).
 */
export function SlotPicker({
  day,
  hour,
  onHour,
  error,
  state,
  name = 'hour',
}: {
  day: SlotDay | undefined
  hour: number | undefined
  onHour: (h: number) => void
  error?: string | undefined
  state: { error?: unknown; loading: boolean; updatedAt?: string | undefined; reload: () => void }
  name?: string
}) {
  const { t } = useT()
  const errId = `${name}-err`
  return (
    <fieldset className="appt-picker" {...invalid(errId, error)}>
      <legend>{t('appointments.book.hour')}</legend>
      {day && (
        <p className="hint" data-testid="day-kind">
          {day.officeHours
            ? t('appointments.slot.officeHours', { open: day.officeHours.open, close: day.officeHours.close })
            : t('appointments.slot.noOfficeHours', {
                kind: day.calendar.holiday ?? t('appointments.slot.restDay'),
              })}
          {!day.calendar.known && ` ${t('appointments.slot.unknownYear')}`}
        </p>
      )}
      {state.error !== undefined && !day && <ErrorBox error={state.error} onRetry={state.reload} />}
      {!day &&
        state.error === undefined &&
        (state.loading ? <Loading /> : <Empty>{t('appointments.slot.choose')}</Empty>)}
      {day && (
        <>
          <ul className="appt-slots" role="list">
            {day.slots.map((s) => {
              const full = s.booked >= s.capacity
              return (
                <li
                  key={s.hour}
                  className={`${s.bookable ? '' : 'appt-off'}${full && s.bookable ? ' appt-slot-full' : ''}`}
                  data-hour={s.hour}>
                  <label>
                    <input
                      type="radio"
                      name={name}
                      value={s.hour}
                      checked={hour === s.hour}
                      disabled={!s.bookable}
                      onChange={() => onHour(s.hour)}
                    />
                    <span className="appt-slot-time">{hourRange(s.hour)}</span>
                    {s.bookable ? (
                      <CapacityBar booked={s.booked} capacity={s.capacity} />
                    ) : (
                      <span className="appt-cap-text">{t('appointments.slot.office')}</span>
                    )}
                  </label>
                </li>
              )
            })}
          </ul>
          <Updated at={state.updatedAt} error={state.error} />
        </>
      )}
      <FieldError id={errId} text={error} />
    </fieldset>
  )
}
