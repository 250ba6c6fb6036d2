import { describe, expect, it } from 'vitest'
import {
  addDays,
  buildCalendar,
  chinaDateHour,
  inOfficeHours,
  localSlot,
  officialCalendar,
  slotStart,
} from './calendar.js'
import { candidateSlots } from './service.js'

const cal = officialCalendar()
const site = { officeOpen: 9, officeClose: 17 }

describe('the official calendar', () => {
  it('knows the 2026 notice: National Day off, the adjusted Saturday worked, ordinary weekends off', () => {
    expect(cal.day('2026-10-01')).toMatchObject({ workday: false, adjustedWorkday: false, known: true })
    expect(cal.day('2026-10-01').holiday).toContain('国庆节')
    // 2026-10-10 is a Saturday worked in lieu of the National Day week.
    expect(new Date('2026-10-10T00:00:00Z').getUTCDay()).toBe(6)
    expect(cal.day('2026-10-10')).toMatchObject({ workday: true, adjustedWorkday: true, holiday: null })
    // 2026-10-05 is a Monday inside the holiday.
    expect(cal.day('2026-10-05')).toMatchObject({ workday: false })
    expect(cal.day('2026-05-16')).toMatchObject({ workday: false, holiday: null, adjustedWorkday: false })
    expect(cal.day('2026-05-13')).toMatchObject({ workday: true, holiday: null })
  })

  it('says when a year is not in the data and falls back to Monday–Friday', () => {
    const year = Math.max(...cal.years) + 3
    const monday = [...Array(7).keys()]
      .map((d) => `${year}-03-0${d + 1}`)
      .find((d) => new Date(`${d}T00:00:00Z`).getUTCDay() === 1)!
    expect(cal.day(monday)).toMatchObject({ known: false, workday: true })
    expect(cal.day(addDays(monday, 5))).toMatchObject({ known: false, workday: false })
  })

  it('takes a notice the package lacks from the supplement', () => {
    const year = Math.max(...cal.years) + 1
    const withNotice = buildCalendar([
      { date: `${year}-01-01`, kind: 'holiday', name: '元旦 / New Year', source: 'test notice' },
      { date: `${year}-01-03`, kind: 'workday', name: '元旦 / New Year', source: 'test notice' },
    ])
    expect(withNotice.day(`${year}-01-01`)).toMatchObject({ workday: false, holiday: '元旦 / New Year', known: true })
    expect(withNotice.day(`${year}-01-03`)).toMatchObject({ workday: true, adjustedWorkday: true })
  })
})

describe('slot clock', () => {
  it('China time is UTC+8: a slot of a China date and hour and back', () => {
    expect(slotStart('2026-12-09', 22).toISOString()).toBe('2026-12-09T14:00:00.000Z')
    expect(slotStart('2026-12-09', 3).toISOString()).toBe('2026-12-08T19:00:00.000Z')
    expect(chinaDateHour(new Date('2026-12-08T19:00:00Z'))).toEqual({ date: '2026-12-09', hour: 3 })
    expect(localSlot(slotStart('2026-12-09', 23))).toBe('2026-12-09 23:00–24:00 (Asia/Shanghai)')
  })

  it('office hours apply on working days only, adjusted ones included', () => {
    const hours = { open: 9, close: 17 }
    expect(inOfficeHours(cal.day('2026-10-10'), 10, hours)).toBe(true)
    expect(inOfficeHours(cal.day('2026-10-10'), 17, hours)).toBe(false)
    expect(inOfficeHours(cal.day('2026-10-10'), 8, hours)).toBe(false)
    expect(inOfficeHours(cal.day('2026-10-03'), 10, hours)).toBe(false)
  })
})

describe('lead time and allowed slots', () => {
  const want = { date: '2026-05-12', hour: 20 } // Tuesday 20:00 China = 12:00 UTC
  const codeOf = (f: () => unknown) => {
    try {
      f()
      return 'OK'
    } catch (e) {
      return (e as { code: string }).code
    }
  }

  it('24 h ahead: 24:00:00 is enough, 23:59:59 is not', () => {
    expect(codeOf(() => candidateSlots(cal, site, want, 'REGULAR', new Date('2026-05-11T12:00:00Z')))).toBe('OK')
    expect(codeOf(() => candidateSlots(cal, site, want, 'REGULAR', new Date('2026-05-11T12:00:01Z')))).toBe(
      'LEAD_TIME_TOO_SHORT',
    )
    expect(codeOf(() => candidateSlots(cal, site, want, 'CERTIFIED', new Date('2026-05-11T12:00:01Z')))).toBe(
      'LEAD_TIME_TOO_SHORT',
    )
  })

  it('8 h for advanced-certified (AEO) enterprises: 8:00:00 is enough, 7:59:59 is not', () => {
    const aeo = (now: string) => codeOf(() => candidateSlots(cal, site, want, 'ADVANCED_CERTIFIED', new Date(now)))
    expect(aeo('2026-05-12T04:00:00Z')).toBe('OK')
    expect(aeo('2026-05-12T04:00:01Z')).toBe('LEAD_TIME_TOO_SHORT')
  })

  it('a slot that has begun is in the past', () => {
    expect(codeOf(() => candidateSlots(cal, site, want, 'REGULAR', new Date('2026-05-12T12:00:00Z')))).toBe(
      'SLOT_IN_PAST',
    )
  })

  it('office hours of working days are refused; holidays and weekends take any hour', () => {
    const at = new Date('2026-09-01T00:00:00Z')
    const c = (date: string, hour: number) => codeOf(() => candidateSlots(cal, site, { date, hour }, 'REGULAR', at))
    expect(c('2026-10-10', 10)).toBe('WITHIN_OFFICE_HOURS') // adjusted working Saturday
    expect(c('2026-10-10', 18)).toBe('OK')
    expect(c('2026-10-05', 10)).toBe('OK') // Monday of the National Day holiday
    expect(c('2026-09-19', 10)).toBe('OK') // ordinary Saturday
    expect(c('2026-09-18', 10)).toBe('WITHIN_OFFICE_HOURS') // ordinary Friday
  })

  it('flexible hours skip office hours', () => {
    const slots = candidateSlots(
      cal,
      site,
      { date: '2026-09-18', hour: 6, flexHours: 5 },
      'REGULAR',
      new Date('2026-09-01T00:00:00Z'),
    )
    // 06, 07, 08 China; 09–11 are office hours on a Friday.
    expect(slots.map((s) => chinaDateHour(new Date(s)).hour)).toEqual([6, 7, 8])
  })
})
